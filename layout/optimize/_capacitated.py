"""Single-source capacitated p-median: LP relaxation, Lagrangian bound, HiGHS on reduced arcs.

1. The LP relaxation is solved by HiGHS on a set of arcs: all reachable pairs when there are
   at most :data:`FULL_ARCS` of them, else the nearest columns of every row.
2. Its assignment duals ``lam`` give a Lagrangian bound over *all* arcs (each column's
   subproblem is a fractional knapsack), valid whatever arcs the LP saw.
3. A first answer opens the ``p`` columns with the largest LP values and solves the
   single-source assignment to them with HiGHS.
4. The MILP over the arcs whose LP reduced cost keeps them under the incumbent (exact when the
   LP saw every arc) improves the answer and, when it saw every arc, proves optimality.

Examples
--------
>>> import numpy as np
>>> from layout.optimize._problem import build_problem
>>> cost = np.array([[0.0, 2.0, 5.0], [2.0, 0.0, 3.0], [5.0, 3.0, 0.0]])
>>> problem = build_problem(cost, weights=None, fixed=None, candidates=None)
>>> out = solve(problem, 2, np.ones(3), np.array([1.0, 1.0, 2.0]), deadline=np.inf, seed=0)
>>> out.value, out.lower
(3.0, 3.0)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linprog

from ..errors import ValidationError
from ._highs import MilpOutcome, capacitated_model
from ._problem import FloatArray, IntArray, Problem, show_ids

FULL_ARCS = 250_000
"""Problems with at most this many reachable pairs are solved on all of them (exactly)."""


@dataclass(frozen=True)
class CapacitatedOutcome:
    """Open columns, the column of each kept row, the cost and a proven lower bound."""

    open_mask: npt.NDArray[np.bool_]
    assign: IntArray
    value: float
    lower: float


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


def solve(  # noqa: PLR0913 - the model's data
    problem: Problem,
    p: int,
    demand: FloatArray,
    capacity: FloatArray,
    *,
    deadline: float,
    seed: int,
) -> CapacitatedOutcome:
    """Solve the single-source capacitated p-median on ``problem``'s reachable pairs."""
    t = problem.table
    n, m = t.n_rows, problem.n_local
    full = len(t.cost) <= FULL_ARCS
    arcs = np.arange(len(t.cost)) if full else _nearest(problem, max(FULL_ARCS // n, 4 * m // p))
    base = np.zeros(m, dtype=bool)
    base[problem.fixed] = True
    lp = _relaxation(problem, arcs, demand, capacity, base, p)
    lower = _lagrangian_bound(problem, lp.lam, demand, capacity, base, p)
    best = _first_answer(problem, arcs, lp, demand, capacity, base, p, seed=seed, deadline=deadline)
    upper = best.value if best is not None else np.inf
    keep = arcs[lp.value + lp.arc_rc <= upper + 1e-6 * max(1.0, abs(upper))]
    cols = np.flatnonzero(base | (lp.value + lp.col_rc <= upper + 1e-6 * max(1.0, abs(upper))))
    out = _assign_milp(problem, keep, cols, demand, capacity, base, p, _left(deadline))
    found = _outcome(problem, keep, cols, out, m)
    if found is not None and (best is None or found.value < best.value):
        best = found
    if best is None:
        raise ValidationError(
            "no single-source assignment within the capacities was found in the time limit; "
            "raise time_limit, p or the capacities."
        )
    if full and out.proven:
        lower = best.value
    elif full:
        lower = max(lower, min(best.value, out.bound))
    return CapacitatedOutcome(best.open_mask, best.assign, best.value, lower)


def _left(deadline: float) -> float | None:
    return None if np.isinf(deadline) else max(deadline - time.perf_counter(), 0.05)


def _nearest(problem: Problem, k: int) -> IntArray:
    """Positions of the ``k`` cheapest entries of every row."""
    t = problem.table
    counts = np.minimum(np.diff(t.indptr), k)
    return t.prefix(counts)


@dataclass(frozen=True)
class _Relaxation:
    value: float
    lam: FloatArray
    y: FloatArray
    arc_rc: FloatArray
    col_rc: FloatArray


def _relaxation(  # noqa: PLR0913 - the model's data
    problem: Problem,
    arcs: IntArray,
    demand: FloatArray,
    capacity: FloatArray,
    base: npt.NDArray[np.bool_],
    p: int,
) -> _Relaxation:
    """Solve the LP relaxation on ``arcs`` with HiGHS; return duals and reduced costs."""
    t = problem.table
    model = capacitated_model(
        t.row[arcs],
        t.col[arcs],
        t.cost[arcs],
        demand,
        capacity,
        np.arange(problem.n_local),
        base,
        p,
    )
    res = linprog(
        model.c,
        A_ub=model.a_ub,
        b_ub=model.b_ub,
        A_eq=model.a_eq,
        b_eq=model.b_eq,
        bounds=np.column_stack([model.lower, np.ones(len(model.c))]),
        method="highs",
    )
    if res.status != 0:
        raise ValidationError(
            "the capacities cannot hold the demand within the reachable pairs (the linear "
            "relaxation is infeasible); add cost entries, candidates or capacity."
        )
    n_arc = len(arcs)
    reduced = res.lower.marginals
    return _Relaxation(
        float(res.fun), res.eqlin.marginals, res.x[n_arc:], reduced[:n_arc], reduced[n_arc:]
    )


def _lagrangian_bound(  # noqa: PLR0913 - the model's data
    problem: Problem,
    lam: FloatArray,
    demand: FloatArray,
    capacity: FloatArray,
    base: npt.NDArray[np.bool_],
    p: int,
) -> float:
    """Bound over all arcs: relax assignment, solve each column as a fractional knapsack."""
    t = problem.table
    idx = t.below(lam)
    profit = lam[t.row[idx]] - t.cost[idx]
    d = demand[t.row[idx]]
    with np.errstate(divide="ignore"):
        ratio = np.where(d > 0, profit / np.where(d > 0, d, 1.0), np.inf)
    order = np.lexsort((-ratio, t.col[idx]))
    col, profit, d = t.col[idx][order], profit[order], d[order]
    cum = np.cumsum(d)
    starts = np.searchsorted(col, col, side="left")
    before = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    used = cum - d - before
    room = capacity[col] - used
    frac = np.where(
        d > 0, np.clip(room / np.where(d > 0, d, 1.0), 0.0, 1.0), (room >= 0).astype(float)
    )
    value = -np.bincount(col, profit * frac, minlength=problem.n_local)
    chosen = base.copy()
    free = np.flatnonzero(~base)
    k = p - int(base.sum())
    if k > 0:
        chosen[free[np.argpartition(value[free], k - 1)[:k]]] = True
    return float(lam.sum() + value[chosen].sum())


def _first_answer(  # noqa: PLR0913 - the model's data
    problem: Problem,
    arcs: IntArray,
    lp: _Relaxation,
    demand: FloatArray,
    capacity: FloatArray,
    base: npt.NDArray[np.bool_],
    p: int,
    *,
    seed: int,
    deadline: float,
) -> CapacitatedOutcome | None:
    """Open the columns with the largest LP values and assign rows to them with HiGHS."""
    rng = np.random.default_rng(seed)
    score = np.where(base, np.inf, lp.y + 1e-9 * rng.random(len(lp.y)))
    cols = np.sort(np.argsort(-score)[:p])
    budget = _left(deadline)
    limit = None if budget is None else budget / 4
    out = _assign_milp(
        problem, arcs, cols, demand, capacity, np.isin(np.arange(len(base)), cols), p, limit
    )
    return _outcome(problem, arcs, cols, out, len(base))


def _assign_milp(  # noqa: PLR0913 - the model's data
    problem: Problem,
    arcs: IntArray,
    cols: IntArray,
    demand: FloatArray,
    capacity: FloatArray,
    base: npt.NDArray[np.bool_],
    p: int,
    time_limit: float | None,
) -> MilpOutcome:
    """Solve the single-source model on ``arcs`` to ``cols`` (``base`` forced open)."""
    t = problem.table
    arcs = arcs[np.isin(t.col[arcs], cols)]
    model = capacitated_model(
        t.row[arcs], t.col[arcs], t.cost[arcs], demand, capacity, cols, base, p
    )
    return model.solve(time_limit)


def _outcome(
    problem: Problem, arcs: IntArray, cols: IntArray, out: MilpOutcome, m: int
) -> CapacitatedOutcome | None:
    """Read the open columns and assignment of a MILP answer."""
    if out.x is None:
        return None
    t = problem.table
    arcs = arcs[np.isin(t.col[arcs], cols)]
    chosen = out.x[: len(arcs)] > 0.5
    assign = np.full(t.n_rows, -1, dtype=np.int64)
    assign[t.row[arcs[chosen]]] = t.col[arcs[chosen]]
    open_mask = np.zeros(m, dtype=bool)
    open_mask[cols[out.x[len(arcs) :] > 0.5]] = True
    value = float(t.cost[arcs[chosen]].sum())
    return CapacitatedOutcome(open_mask, assign, value, -np.inf)
