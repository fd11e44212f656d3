"""Single-source capacitated p-median: knapsack Lagrangian bound, Lagrangian heuristic, HiGHS.

1. **Bound.** Relaxing "each row is served once" with multipliers ``lam`` leaves one 0-1
   knapsack per column (:mod:`layout.optimize._knapsack`): ``L(lam) = sum(lam)`` plus the
   ``p`` smallest knapsack values (fixed columns always in). Subgradient steps with Polyak's
   step size raise ``L``. Every ``L(lam)`` is a lower bound over *all* reachable pairs.
2. **Lagrangian heuristic.** The open sets of the subproblems met on the way are repaired
   into answers by an exact single-source assignment to them (HiGHS); the best is kept.
   Then HiGHS on a pool of the columns most often open or, on instances whose answers use
   only each row's nearest pairs, the region search (:mod:`layout.optimize._regions`).
3. **Reduced-cost fixing.** At the best ``lam``, forcing a pair ``(i, j)`` costs at least
   ``c_ij - lam_i`` plus what it takes from ``j``'s knapsack (its table at the capacity left)
   plus the price of opening ``j``; pairs and columns whose forced cost lifts ``L`` over the
   incumbent cannot be in a better answer and are dropped.
4. **HiGHS** solves the model on what is left, started from the incumbent: when nothing else
   was dropped its answer is the optimum and its bound a bound of the whole problem. Small
   instances with integer demands and capacities (:func:`~layout.optimize._branch_price.suits`)
   go instead to the **branch and price** of :mod:`layout.optimize._branch_price`, started
   from the incumbent and the best multipliers: its bound is the Dantzig-Wolfe one, raised
   by branching.

Examples
--------
>>> import numpy as np
>>> from layout.optimize._problem import build_problem
>>> cost = np.array([[0.0, 2.0, 5.0], [2.0, 0.0, 3.0], [5.0, 3.0, 0.0]])
>>> problem = build_problem(cost, weights=None, fixed=None, candidates=None)
>>> out = solve(problem, 2, np.ones(3), np.array([1.0, 1.0, 2.0]), deadline=np.inf)
>>> out.value, out.lower
(3.0, 3.0)
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from ..errors import ValidationError
from ._answers import (
    Answer,
    CapacitatedInstance,
    answer_of,
    capacitated_instance,
    relocate,
    repair,
)
from ._branch_price import branch_and_price, suits
from ._highs import MilpOutcome, capacitated_model
from ._knapsack import Knapsacks, knapsack_bounds, solve_knapsacks
from ._median import BoolArray, median_instance
from ._problem import FloatArray, IntArray, Problem, SortedCosts, show_ids
from ._regions import improve
from ._search import search

logger = logging.getLogger(__name__)

MILP_ARCS = 50_000
"""Largest reduced model given to HiGHS whole; a larger one keeps each row's cheapest pairs."""

MEDIAN_SHARE = 0.1
"""Share of the time limit for the uncapacitated p-median that gives the first answer."""

DUAL_SHARE = 0.3
"""Share of the time limit for the subgradient, and again for the pool model, before the
reduced model takes the rest."""

POOL_ABOVE = 10_000
"""Instances of at most this many pairs skip the pool model: HiGHS on the reduced model is
then both the search and the proof, with all the time left (measured on OR-Library pmedcap1:
more instances proven in 60 s)."""

POOL_SIZE = 3
"""The pool model offers HiGHS this many times ``p`` columns, those most often open."""

POOL_ARCS_PER_ROW = 8
"""Nearest pool columns of each row in the pool model."""

REGION_SHARE = 0.95
"""On instances whose answers use only each row's nearest pairs (more than
:data:`~layout.optimize._answers.PRIMAL_ARCS`), the region search replaces the pool model and
runs until this share of the time limit has passed (measured on p3038_600: the answers are the
weak part at that size, and the reduced model is then a restriction, not a proof)."""

TREE_SHARE = 0.8
"""Share of the time left that the branch and price may take; when it stops short of a proof,
HiGHS on the reduced model takes the rest (measured on pmedcap1 cpmp20: its answers are
better than the tree's)."""

MAX_ITERATIONS = 1000
PATIENCE = 15
"""Subgradient iterations without a better bound before the step factor is halved."""
HEURISTIC_EVERY = 5
"""The subproblem's open set is repaired into an answer every this many iterations..."""
REPAIR_SHARE = 0.5
"""...while the repairs have taken at most this share of the subgradient's time."""


@dataclass(frozen=True)
class CapacitatedOutcome:
    """Open columns, the column of each kept row, the cost and a proven lower bound."""

    open_mask: BoolArray
    assign: IntArray
    value: float
    lower: float


@dataclass(frozen=True)
class _Relaxed:
    """The Lagrangian subproblem solved at ``lam``."""

    lam: FloatArray
    value: float
    chosen: BoolArray
    items: IntArray
    knapsacks: Knapsacks

    def served(self, table: SortedCosts) -> IntArray:
        """How many chosen columns take each row."""
        used = self.items[self.knapsacks.take & self.chosen[table.col[self.items]]]
        return np.bincount(table.row[used], minlength=table.n_rows)


def check_amounts(
    problem: Problem, p: int, demand: npt.ArrayLike, capacity: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Check ``demand`` (per row) and ``capacity`` (per column); return them for kept ones."""
    problems: list[str] = []
    d = np.array(demand, dtype=np.float64).ravel()
    q = np.array(capacity, dtype=np.float64).ravel()
    for name, arr, size, what in (
        ("demand", d, problem.n_rows, "rows"),
        ("capacity", q, problem.n_cols, "columns"),
    ):
        if len(arr) != size:
            problems.append(f"{name} has {len(arr)} values but cost has {size} {what}.")
        elif (bad := np.flatnonzero(~np.isfinite(arr) | (arr < 0))).size:
            problems.append(f"{name} must be finite and >= 0; bad {what} {show_ids(bad)}.")
    unreachable = problem.unreachable_rows()
    if len(unreachable):
        problems.append(f"demand rows {show_ids(unreachable)} reach no candidate column.")
    if problems:
        raise ValidationError(problems)
    q_local = q[problem.cols]
    others = np.delete(q_local, problem.fixed)
    best = q_local[problem.fixed].sum() + np.sort(others)[::-1][: p - len(problem.fixed)].sum()
    if best < d.sum():
        raise ValidationError(
            f"the highest possible capacity of p={p} facilities ({best:g}) is smaller than the "
            f"total demand ({d.sum():g}); raise p or the capacities."
        )
    return d[problem.rows], q_local


def solve(
    problem: Problem,
    p: int,
    demand: FloatArray,
    capacity: FloatArray,
    *,
    deadline: float,
) -> CapacitatedOutcome:
    """Solve the single-source capacitated p-median on ``problem``'s reachable pairs."""
    start = time.perf_counter()
    inst = capacitated_instance(problem, p, demand=demand, capacity=capacity)
    best = _median_start(problem, inst, deadline=_share(start, deadline, MEDIAN_SHARE))
    logger.info("capacitated: first answer %.6g from the uncapacitated p-median", best.value)
    top, often, best = _dual(inst, _first_multipliers(inst), best, deadline=_share(start, deadline))
    lower = top.value
    logger.info("capacitated: Lagrangian bound %.6g, incumbent %.6g", lower, best.value)
    large = len(inst.primal) < len(inst.table.cost)
    pool = len(inst.table.cost) > POOL_ABOVE and np.isfinite(best.value) and not large
    if pool and best.value - lower > inst.closing(best.value):
        best = _pool_model(inst, often, best, deadline=_share(start, deadline, 2 * DUAL_SHARE))
        logger.info("capacitated: pool model incumbent %.6g", best.value)
    if large and best.value - lower > inst.closing(best.value):
        best = improve(inst, best, deadline=_share(start, deadline, REGION_SHARE))
        logger.info("capacitated: region search incumbent %.6g", best.value)
    if best.value - lower > inst.closing(best.value) and time.perf_counter() < deadline:
        if suits(inst):
            tree_end = _share(time.perf_counter(), deadline, TREE_SHARE)
            best, proved = branch_and_price(inst, best, deadline=tree_end, lam=top.lam)
            lower = max(lower, proved)
        if best.value - lower > inst.closing(best.value) and time.perf_counter() < deadline:
            best, proved = _reduced_model(inst, top, best, deadline=deadline)
            lower = max(lower, proved)
    if not np.isfinite(best.value):
        raise ValidationError(
            "no single-source assignment within the capacities was found in the time limit; "
            "raise time_limit, p or the capacities."
        )
    if best.value - lower <= inst.closing(best.value):
        lower = best.value
    elif inst.integral:
        lower = float(math.ceil(lower - 1e-9 * max(1.0, abs(lower))))
    assign = np.full(inst.table.n_rows, -1, dtype=np.int64)
    assign[inst.table.row[best.arcs]] = inst.table.col[best.arcs]
    return CapacitatedOutcome(best.open_mask, assign, best.value, min(lower, best.value))


def _median_start(problem: Problem, inst: CapacitatedInstance, *, deadline: float) -> Answer:
    """Open the sites of the uncapacitated p-median weighted by demand, repair and relocate."""
    weighted = median_instance(replace(problem, weights=inst.demand))
    found = search(weighted, inst.p, deadline=deadline, seed=0)
    return _better(inst, found.open_mask[: inst.m], Answer.none(inst.m), deadline=deadline)


def _share(start: float, deadline: float, share: float = DUAL_SHARE) -> float:
    """Return the moment ``share`` of the time from ``start`` to ``deadline`` has passed."""
    return deadline if np.isinf(deadline) else start + share * (deadline - start)


def _first_multipliers(inst: CapacitatedInstance) -> FloatArray:
    """Each row's cost to its ``ceil(n / p)``-th nearest column: rows share out over p columns."""
    t = inst.table
    length = np.diff(t.indptr)
    rank = np.minimum(math.ceil(t.n_rows / inst.p), length) - 1
    return np.asarray(t.cost[t.indptr[:-1] + rank], dtype=np.float64)


def _relax(inst: CapacitatedInstance, lam: FloatArray, *, every: bool = False) -> _Relaxed:
    """Solve the subproblem at ``lam``: the columns' knapsacks, then the p best columns.

    Only the knapsacks that may be among the p best (fractional bound under the p-th best
    greedy value) are solved exactly unless ``every``; the others keep their fractional
    bound, which leaves ``L(lam)`` a valid bound either way.
    """
    t = inst.table
    items = t.below(lam)
    col, row = t.col[items], t.row[items]
    reduced = t.cost[items] - lam[row]
    free = np.flatnonzero(~inst.base)
    k = inst.p - int(inst.base.sum())
    exact = None
    if not every and k > 0:
        lower, upper = knapsack_bounds(
            col=col,
            reduced=reduced,
            weight=inst.units.demand[row],
            capacity=inst.units.capacity,
            n_cols=inst.m,
        )
        exact = inst.base | (lower <= np.partition(upper[free], k - 1)[k - 1] + 1e-9)
    knapsacks = solve_knapsacks(
        col=col, row=row, reduced=reduced, units=inst.units, n_cols=inst.m, exact=exact
    )
    chosen = inst.base.copy()
    if k > 0:
        chosen[free[np.argpartition(knapsacks.value[free], k - 1)[:k]]] = True
    value = float(lam.sum() + knapsacks.value[chosen].sum())
    return _Relaxed(lam=lam, value=value, chosen=chosen, items=items, knapsacks=knapsacks)


def _dual(
    inst: CapacitatedInstance, lam: FloatArray, best: Answer, *, deadline: float
) -> tuple[_Relaxed, FloatArray, Answer]:
    """Raise the Lagrangian bound by subgradient steps, repairing open sets on the way.

    Returns the best subproblem, how often each column was open in the subproblems and the
    best answer found (repaired and relocated open sets).
    """
    current = top = _relax(inst, lam)
    theta, stall = 1.0, 0
    seen: set[bytes] = set()
    often = np.zeros(inst.m)
    began, repairing = time.perf_counter(), 0.0
    for it in range(MAX_ITERATIONS):
        often += current.chosen
        due = it % HEURISTIC_EVERY == 0 and repairing <= REPAIR_SHARE * (
            time.perf_counter() - began
        )
        if due and current.chosen.tobytes() not in seen:
            seen.add(current.chosen.tobytes())
            tic = time.perf_counter()
            best = _better(inst, current.chosen, best, deadline=deadline)
            repairing += time.perf_counter() - tic
        if best.value - top.value <= inst.closing(best.value) or theta < 1e-3:
            break
        if time.perf_counter() > deadline:
            break
        g = 1.0 - current.served(inst.table)
        norm = float(np.sum(g * g))  # not BLAS: its threads spin after a long dot
        if norm == 0.0:
            break
        upper = best.value if np.isfinite(best.value) else top.value + 0.1 * abs(top.value) + 1
        step = theta * max(upper - current.value, 1e-9 * max(1.0, abs(upper))) / norm
        current = _relax(inst, current.lam + step * g)
        if current.value > top.value + 1e-12 * abs(top.value):
            top, stall = current, 0
        else:
            stall += 1
            if stall >= PATIENCE:
                theta, stall = theta / 2.0, 0
    logger.debug("capacitated dual: %d iterations, %d open sets repaired", it + 1, len(seen))
    frequent = inst.base.copy()
    k = inst.p - int(inst.base.sum())
    if k > 0:
        free = np.flatnonzero(~inst.base)
        frequent[free[np.argsort(-often[free], kind="stable")[:k]]] = True
    for chosen in (current.chosen, top.chosen, frequent):
        if chosen.tobytes() not in seen:
            seen.add(chosen.tobytes())
            best = _better(inst, chosen, best, deadline=deadline)
    return top, often, best


def _better(
    inst: CapacitatedInstance, chosen: BoolArray, best: Answer, *, deadline: float
) -> Answer:
    """Return the better of ``best`` and the open set ``chosen`` repaired and relocated."""
    found = repair(inst, chosen)
    found = relocate(inst, found, deadline=deadline)
    return found if found.beats(best) else best


def _solve_model(  # noqa: PLR0913 - the model's data
    inst: CapacitatedInstance,
    arcs: IntArray,
    cols: IntArray,
    time_limit: float | None,
    best: Answer,
) -> tuple[Answer, MilpOutcome]:
    """Solve the single-source model on ``arcs`` (ascending) to ``cols`` from ``best``.

    ``best``'s pairs and columns must be in the model. Returns the better answer.
    """
    t = inst.table
    model = capacitated_model(
        t.row[arcs], t.col[arcs], t.cost[arcs], inst.demand, inst.capacity, cols, inst.base, inst.p
    )
    start = np.r_[np.isin(arcs, best.arcs), best.open_mask[cols]].astype(float)
    out = model.solve(time_limit, start=start)
    if out.x is not None:
        open_mask = np.zeros(inst.m, dtype=bool)
        open_mask[cols[out.x[len(arcs) :] > 0.5]] = True
        found = answer_of(inst, arcs[out.x[: len(arcs)] > 0.5], open_mask)
        best = found if found.beats(best) else best
    return best, out


def _pool_model(
    inst: CapacitatedInstance, often: FloatArray, best: Answer, *, deadline: float
) -> Answer:
    """Improve ``best``: HiGHS on the columns most often open, rows to their nearest ones.

    A restriction of the problem (a matheuristic), started from ``best``.
    """
    t = inst.table
    pool = np.zeros(inst.m, dtype=bool)
    ranked = np.argsort(-often, kind="stable")[: POOL_SIZE * inst.p]
    pool[ranked[often[ranked] > 0]] = True
    pool |= best.open_mask | inst.base
    arcs = inst.primal[pool[t.col[inst.primal]]]
    rows = t.row[arcs]
    rank = np.arange(len(arcs)) - np.searchsorted(rows, rows)
    arcs = np.union1d(arcs[rank < POOL_ARCS_PER_ROW], best.arcs)
    left = None if np.isinf(deadline) else max(deadline - time.perf_counter(), 0.1)
    logger.info("capacitated pool model: %d pairs, %d columns", len(arcs), int(pool.sum()))
    return _solve_model(inst, arcs, np.flatnonzero(pool), left, best)[0]


def _reduced_model(
    inst: CapacitatedInstance, top: _Relaxed, best: Answer, *, deadline: float
) -> tuple[Answer, float]:
    """Solve the model the reduced costs leave with HiGHS; return the answer and the bound."""
    arcs, exact = _reduce(inst, _relax(inst, top.lam, every=True), best)
    cols = np.union1d(np.unique(inst.table.col[arcs]), np.flatnonzero(best.open_mask))
    logger.info(
        "capacitated reduced model: %d pairs, %d columns (%s)",
        len(arcs),
        len(cols),
        "exact" if exact else "restricted",
    )
    left = None if np.isinf(deadline) else deadline - time.perf_counter()
    found, out = _solve_model(inst, arcs, cols, left, best)
    if not exact:
        return found, -np.inf
    return found, (found.value if out.proven else min(found.value, out.bound))


def _reduce(inst: CapacitatedInstance, top: _Relaxed, best: Answer) -> tuple[IntArray, bool]:
    """Pairs that may be in an answer better than the incumbent, and whether that is all of them.

    When more than :data:`MILP_ARCS` pairs are left, each row keeps its cheapest-to-force
    ones (then the model is a heuristic restriction, not exact).
    """
    t, rho, chosen = inst.table, top.knapsacks.value, top.chosen
    slack = best.value - top.value - inst.closing(best.value) + 1e-9 * max(1.0, abs(best.value))
    free_chosen = chosen & ~inst.base
    worst_in = rho[free_chosen].max(initial=-np.inf)
    open_price = np.where(chosen, 0.0, rho - worst_in)
    idx = t.below(top.lam + max(slack, 0.0) + 1e-12)
    row, col = t.row[idx], t.col[idx]
    units = top.knapsacks.units
    room = units.capacity[col] - units.demand[row]
    rest = top.knapsacks.table[col, np.maximum(room, 0)] - rho[col]
    price = t.cost[idx] - top.lam[row] + rest + open_price[col]
    keep = (room >= 0) & (price <= slack)
    arcs, price = idx[keep], price[keep]
    exact = len(arcs) <= MILP_ARCS
    if not exact:
        per_row = max(MILP_ARCS // t.n_rows, 2)
        order = np.lexsort((price, t.row[arcs]))
        ranked = t.row[arcs[order]]
        rank = np.arange(len(order)) - np.searchsorted(ranked, ranked)
        arcs = arcs[order[rank < per_row]]
    return np.union1d(arcs, best.arcs), exact
