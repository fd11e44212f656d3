"""Single-source capacitated p-median: knapsack Lagrangian bound, Lagrangian heuristic, HiGHS.

1. **Bound.** Relaxing "each row is served once" with multipliers ``lam`` leaves one 0-1
   knapsack per column (:mod:`layout.optimize._knapsack`): ``L(lam) = sum(lam)`` plus the
   ``p`` smallest knapsack values (fixed columns always in). Subgradient steps with Polyak's
   step size raise ``L``. Every ``L(lam)`` is a lower bound over *all* reachable pairs.
2. **Lagrangian heuristic.** The open sets of the subproblems met on the way are repaired
   into answers by an exact single-source assignment to them (HiGHS); the best is kept.
3. **Reduced-cost fixing.** At the best ``lam``, forcing a pair ``(i, j)`` costs at least
   ``c_ij - lam_i`` plus what it takes from ``j``'s knapsack (its table at the capacity left)
   plus the price of opening ``j``; pairs and columns whose forced cost lifts ``L`` over the
   incumbent cannot be in a better answer and are dropped.
4. **HiGHS** solves the model on what is left, started from the incumbent: when nothing else
   was dropped its answer is the optimum and its bound a bound of the whole problem.

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
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ..errors import ValidationError
from ._highs import MilpOutcome, capacitated_model
from ._knapsack import Knapsacks, KnapsackUnits, knapsack_units, solve_knapsacks
from ._problem import FloatArray, IntArray, Problem, SortedCosts, show_ids
from ._transport import TransportProblem, solve_transport

logger = logging.getLogger(__name__)

BoolArray = npt.NDArray[np.bool_]

PRIMAL_ARCS = 250_000
"""The answers use every reachable pair up to this many, else the nearest columns of each row."""

MILP_ARCS = 150_000
"""Largest reduced model given to HiGHS whole; a larger one keeps each row's cheapest pairs."""

ASSIGN_ARCS_PER_ROW = 12
"""Nearest open columns of each row offered to the assignment of a heuristic open set."""

DUAL_SHARE = 0.3
"""Share of the time limit for the subgradient, and again for the pool model, before the
reduced model takes the rest."""

POOL_SIZE = 3
"""The pool model offers HiGHS this many times ``p`` columns, those most often open."""

POOL_ARCS_PER_ROW = 8
"""Nearest pool columns of each row in the pool model."""

MAX_ITERATIONS = 1000
PATIENCE = 15
"""Subgradient iterations without a better bound before the step factor is halved."""
HEURISTIC_EVERY = 5
"""The subproblem's open set is repaired into an answer every this many iterations."""


@dataclass(frozen=True)
class CapacitatedOutcome:
    """Open columns, the column of each kept row, the cost and a proven lower bound."""

    open_mask: BoolArray
    assign: IntArray
    value: float
    lower: float


@dataclass(frozen=True)
class _Data:
    """The instance as the solver sees it (local columns, rows of the sorted table)."""

    table: SortedCosts
    demand: FloatArray
    capacity: FloatArray
    base: BoolArray
    p: int
    units: KnapsackUnits
    integral: bool
    primal: IntArray

    @property
    def m(self) -> int:
        return len(self.capacity)

    def closing(self, upper: float) -> float:
        """Gap under which ``upper`` is proven optimal (just under 1 for integer costs)."""
        tol = 1e-9 * max(1.0, abs(upper))
        return 1.0 - tol if self.integral else tol


@dataclass
class _Incumbent:
    """The best answer so far: table positions of its pairs, open columns and cost."""

    arcs: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    open_mask: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    value: float = np.inf

    def offer(self, arcs: IntArray, open_mask: BoolArray, value: float) -> bool:
        """Keep the answer if it beats the incumbent; say whether it did."""
        if value < self.value - 1e-9 * max(1.0, abs(value)):
            self.arcs, self.open_mask, self.value = arcs, open_mask, value
            return True
        return False


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
    data = _data(problem, p, demand, capacity)
    best = _Incumbent()
    top, often = _dual(data, best, _first_multipliers(data), deadline=_share(start, deadline))
    lower = top.value
    logger.info("capacitated: Lagrangian bound %.6g, incumbent %.6g", lower, best.value)
    if best.value - lower > data.closing(best.value) and np.isfinite(best.value):
        _pool_milp(data, often, best, deadline=_share(start, deadline, 2 * DUAL_SHARE))
        logger.info("capacitated: pool model incumbent %.6g", best.value)
    if best.value - lower > data.closing(best.value) and time.perf_counter() < deadline:
        lower = max(lower, _reduced_milp(data, top, best, deadline=deadline))
    if not np.isfinite(best.value):
        raise ValidationError(
            "no single-source assignment within the capacities was found in the time limit; "
            "raise time_limit, p or the capacities."
        )
    if best.value - lower <= data.closing(best.value):
        lower = best.value
    elif data.integral:
        lower = float(math.ceil(lower - 1e-9 * max(1.0, abs(lower))))
    assign = np.full(data.table.n_rows, -1, dtype=np.int64)
    assign[data.table.row[best.arcs]] = data.table.col[best.arcs]
    return CapacitatedOutcome(best.open_mask, assign, best.value, min(lower, best.value))


def _share(start: float, deadline: float, share: float = DUAL_SHARE) -> float:
    """The moment ``share`` of the time from ``start`` to ``deadline`` has passed."""
    return deadline if np.isinf(deadline) else start + share * (deadline - start)


def _data(problem: Problem, p: int, demand: FloatArray, capacity: FloatArray) -> _Data:
    t = problem.table
    base = np.zeros(problem.n_local, dtype=bool)
    base[problem.fixed] = True
    if len(t.cost) <= PRIMAL_ARCS:
        primal = np.arange(len(t.cost), dtype=np.int64)
    else:
        k = max(PRIMAL_ARCS // t.n_rows, 4 * problem.n_local // p, 1)
        primal = t.prefix(np.minimum(np.diff(t.indptr), k))
    return _Data(
        table=t,
        demand=demand,
        capacity=capacity,
        base=base,
        p=p,
        units=knapsack_units(demand, capacity),
        integral=bool(np.all(t.cost == np.round(t.cost))),
        primal=primal,
    )


def _first_multipliers(data: _Data) -> FloatArray:
    """Each row's cost to its ``ceil(n / p)``-th nearest column: rows share out over p columns."""
    t = data.table
    length = np.diff(t.indptr)
    rank = np.minimum(math.ceil(t.n_rows / data.p), length) - 1
    return t.cost[t.indptr[:-1] + rank].astype(np.float64)


def _relax(data: _Data, lam: FloatArray) -> _Relaxed:
    """Solve the subproblem at ``lam``: every column's knapsack, then the p best columns."""
    t = data.table
    items = t.below(lam)
    knapsacks = solve_knapsacks(
        col=t.col[items],
        row=t.row[items],
        reduced=t.cost[items] - lam[t.row[items]],
        units=data.units,
        n_cols=data.m,
    )
    chosen = data.base.copy()
    free = np.flatnonzero(~data.base)
    k = data.p - int(data.base.sum())
    if k > 0:
        chosen[free[np.argpartition(knapsacks.value[free], k - 1)[:k]]] = True
    value = float(lam.sum() + knapsacks.value[chosen].sum())
    return _Relaxed(lam=lam, value=value, chosen=chosen, items=items, knapsacks=knapsacks)


def _dual(
    data: _Data, best: _Incumbent, lam: FloatArray, *, deadline: float
) -> tuple[_Relaxed, FloatArray]:
    """Raise the Lagrangian bound by subgradient steps, repairing open sets on the way.

    Returns the best subproblem and how often each column was open in the subproblems.
    """
    current = top = _relax(data, lam)
    theta, stall = 1.0, 0
    seen: set[bytes] = set()
    often = np.zeros(data.m)
    for it in range(MAX_ITERATIONS):
        often += current.chosen
        if it % HEURISTIC_EVERY == 0 and current.chosen.tobytes() not in seen:
            seen.add(current.chosen.tobytes())
            _repair(data, current.chosen, best, deadline=deadline)
        if best.value - top.value <= data.closing(best.value) or theta < 1e-3:
            break
        if time.perf_counter() > deadline:
            break
        g = 1.0 - current.served(data.table)
        norm = float(g @ g)
        if norm == 0.0:
            _repair(data, current.chosen, best, deadline=deadline)
            break
        upper = best.value if np.isfinite(best.value) else top.value + 0.1 * abs(top.value) + 1
        step = theta * max(upper - current.value, 1e-9 * max(1.0, abs(upper))) / norm
        current = _relax(data, current.lam + step * g)
        if current.value > top.value + 1e-12 * abs(top.value):
            top, stall = current, 0
        else:
            stall += 1
            if stall >= PATIENCE:
                theta, stall = theta / 2.0, 0
    logger.debug("capacitated dual: %d iterations, %d open sets repaired", it + 1, len(seen))
    if top.chosen.tobytes() not in seen:
        _repair(data, top.chosen, best, deadline=deadline)
    return top, often


def _repair(data: _Data, chosen: BoolArray, best: _Incumbent, *, deadline: float) -> None:
    """Assign every row to the open set ``chosen`` within capacities; offer the answer.

    The transportation LP (HiGHS) splits at most one row per open column in a basic answer;
    the rows it does not split keep their column and the split ones are assigned by a small
    single-source model on the capacity left (the whole assignment model when that fails).
    """
    chosen = _enough_capacity(data, chosen)
    if chosen is None:
        return
    t = data.table
    arcs = data.primal[chosen[t.col[data.primal]]]
    rows = t.row[arcs]
    if len(np.unique(rows)) < t.n_rows:
        return
    flow = _transport(data, arcs)
    whole = flow >= data.demand[rows] - 1e-9 * np.maximum(data.demand[rows], 1.0)
    zero = data.demand[rows] == 0
    first = np.r_[True, rows[1:] != rows[:-1]]
    settled = (whole & ~zero) | (zero & first)
    fixed_arcs = arcs[settled]
    split = np.ones(t.n_rows, dtype=bool)
    split[t.row[fixed_arcs]] = False
    left = deadline - time.perf_counter()
    limit = None if np.isinf(deadline) else max(min(left / 4, 5.0), 0.1)
    if split.any():
        cap = data.capacity - np.bincount(
            t.col[fixed_arcs], data.demand[t.row[fixed_arcs]], minlength=data.m
        )
        rest = arcs[split[rows]]
        out = _assignment(data, rest, cap, chosen, limit)
        if out is None:
            out = _assignment(data, arcs, data.capacity, chosen, limit)
            fixed_arcs = np.zeros(0, dtype=np.int64)
        if out is None:
            return
        fixed_arcs = np.union1d(fixed_arcs, out)
    best.offer(fixed_arcs, chosen, float(t.cost[fixed_arcs].sum()))


def _transport(data: _Data, arcs: IntArray) -> FloatArray:
    """Flow on each of ``arcs`` (table positions, ascending) in the transportation LP."""
    t = data.table
    ptr = np.zeros(t.n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(t.row[arcs], minlength=t.n_rows), out=ptr[1:])
    problem = TransportProblem(
        ptr=ptr,
        school=t.col[arcs],
        cost=t.cost[arcs],
        position=np.arange(len(arcs)),
        demand=data.demand,
        capacity=data.capacity,
        penalty=1.0 + 2.0 * float(t.cost[arcs].max(initial=0.0)) * t.n_rows,
    )
    flow, _ = solve_transport(problem, decompose=False)[0]
    return flow


def _assignment(
    data: _Data, arcs: IntArray, capacity: FloatArray, chosen: BoolArray, limit: float | None
) -> IntArray | None:
    """Single-source assignment of the rows of ``arcs`` within ``capacity`` (HiGHS)."""
    t = data.table
    cols = np.flatnonzero(chosen)
    rows, local = np.unique(t.row[arcs], return_inverse=True)
    model = capacitated_model(
        local, t.col[arcs], t.cost[arcs], data.demand[rows], capacity, cols, chosen, data.p
    )
    out = model.solve(limit)
    if out.x is None:
        return None
    return arcs[out.x[: len(arcs)] > 0.5]


def _enough_capacity(data: _Data, chosen: BoolArray) -> BoolArray | None:
    """Swap the smallest free open columns for the largest closed ones until demand fits."""
    need = float(data.demand.sum())
    if data.capacity[chosen].sum() >= need:
        return chosen
    chosen = chosen.copy()
    shut = np.flatnonzero(~chosen)
    shut = shut[np.argsort(-data.capacity[shut])]
    movable = np.flatnonzero(chosen & ~data.base)
    movable = movable[np.argsort(data.capacity[movable])]
    for out, inn in zip(movable, shut, strict=False):
        if data.capacity[inn] <= data.capacity[out]:
            break
        chosen[out], chosen[inn] = False, True
        if data.capacity[chosen].sum() >= need:
            return chosen
    return None


def _solve_model(  # noqa: PLR0913 - the model's data
    data: _Data,
    arcs: IntArray,
    cols: IntArray,
    forced: BoolArray,
    time_limit: float | None,
    best: _Incumbent,
    *,
    warm: bool,
) -> MilpOutcome:
    """Solve the single-source model on ``arcs`` (table positions, ascending) to ``cols``.

    ``forced`` columns stay open; with ``warm`` HiGHS starts from the incumbent (whose pairs
    and columns must be in the model). An answer better than the incumbent replaces it.
    """
    t = data.table
    model = capacitated_model(
        t.row[arcs], t.col[arcs], t.cost[arcs], data.demand, data.capacity, cols, forced, data.p
    )
    start = None
    if warm and np.isfinite(best.value):
        start = np.r_[np.isin(arcs, best.arcs), best.open_mask[cols]].astype(float)
    out = model.solve(time_limit, start=start)
    if out.x is not None:
        chosen = out.x[: len(arcs)] > 0.5
        open_mask = np.zeros(data.m, dtype=bool)
        open_mask[cols[out.x[len(arcs) :] > 0.5]] = True
        open_mask[t.col[arcs[chosen]]] = True
        best.offer(arcs[chosen], open_mask, float(t.cost[arcs[chosen]].sum()))
    return out


def _pool_milp(data: _Data, often: FloatArray, best: _Incumbent, *, deadline: float) -> None:
    """Improve the incumbent: HiGHS on the columns most often open, rows to their nearest ones.

    A restriction of the problem (a matheuristic), started from the incumbent.
    """
    t = data.table
    pool = np.zeros(data.m, dtype=bool)
    ranked = np.argsort(-often, kind="stable")
    pool[ranked[: POOL_SIZE * data.p][often[ranked[: POOL_SIZE * data.p]] > 0]] = True
    pool |= best.open_mask | data.base
    arcs = data.primal[pool[t.col[data.primal]]]
    rows = t.row[arcs]
    rank = np.arange(len(arcs)) - np.searchsorted(rows, rows)
    arcs = np.union1d(arcs[rank < POOL_ARCS_PER_ROW], best.arcs)
    left = None if np.isinf(deadline) else max(deadline - time.perf_counter(), 0.1)
    logger.info("capacitated pool model: %d pairs, %d columns", len(arcs), int(pool.sum()))
    _solve_model(data, arcs, np.flatnonzero(pool), data.base, left, best, warm=True)


def _reduced_milp(data: _Data, top: _Relaxed, best: _Incumbent, *, deadline: float) -> float:
    """Solve the model the reduced costs leave with HiGHS; return the bound it proves."""
    arcs, exact = _reduce(data, top, best)
    cols = np.union1d(np.unique(data.table.col[arcs]), np.flatnonzero(best.open_mask))
    logger.info(
        "capacitated reduced model: %d pairs, %d columns (%s)",
        len(arcs),
        len(cols),
        "exact" if exact else "restricted",
    )
    left = None if np.isinf(deadline) else deadline - time.perf_counter()
    out = _solve_model(data, arcs, cols, data.base, left, best, warm=True)
    if not exact:
        return -np.inf
    return best.value if out.proven else min(best.value, out.bound)


def _reduce(data: _Data, top: _Relaxed, best: _Incumbent) -> tuple[IntArray, bool]:
    """Pairs that may be in an answer better than the incumbent, and whether that is all of them.

    When more than :data:`MILP_ARCS` pairs are left, each row keeps its cheapest-to-force
    ones (then the model is a heuristic restriction, not exact).
    """
    t, rho, chosen = data.table, top.knapsacks.value, top.chosen
    slack = best.value - top.value - data.closing(best.value) + 1e-9 * max(1.0, abs(best.value))
    free_chosen = chosen & ~data.base
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
