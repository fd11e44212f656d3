"""Location-allocation solvers: p-median, maximal covering, set covering, capacitated p-median.

Every solver takes ``cost``, a (demand rows x candidate columns) matrix of travel costs, as a
dense array (``np.inf`` marks a pair that is not reachable) or a ``scipy.sparse`` matrix
(missing entries are not reachable; a stored zero is a reachable pair of cost 0, but
``scipy.sparse`` drops zeros when it converts a dense array, so add a small offset first).
``fixed`` lists columns (existing schools) that stay open; ``candidates`` restricts the
columns where new facilities may open. Every result says
which columns open, which column serves each row, the objective, a proven bound on the best
possible objective and the relative gap between the two (0 when the answer is proven optimal).

The p-median solver is exact: a greedy + vertex-substitution incumbent (the fast swap scores
of Resende & Werneck), a Lagrangian lower bound by subgradient optimisation (on a core of
columns priced every few steps when there are many), Lagrangian reduced-cost fixing, then
HiGHS or a Lagrangian branch and bound on what is left (it proves the optimum of all 40
OR-Library pmed instances).
The covering models go to HiGHS after merging rows with the same covering columns. The
capacitated model has a knapsack Lagrangian bound, a Lagrangian heuristic and HiGHS on the
model its reduced costs leave, under a default time limit (see
:mod:`layout.optimize._capacitated`).

Examples
--------
>>> import numpy as np
>>> from layout import optimize
>>> cost = np.array([[0.0, 4.0, 9.0], [4.0, 0.0, 5.0], [9.0, 5.0, 0.0], [8.0, 3.0, 1.0]])
>>> result = optimize.p_median(cost, 2, weights=[2, 1, 1, 1])
>>> result.facilities.tolist(), result.assignment.tolist(), result.objective, result.gap
([0, 2], [0, 0, 2, 2], 5.0, 0.0)
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .._validate import count_problems
from ..errors import ValidationError
from . import _capacitated, _coverage, _highs
from ._median import median_instance
from ._problem import (
    CostMatrix,
    IntArray,
    Problem,
    build_problem,
    nearest_open,
    show_ids,
)
from ._search import search
from ._transport import TransportProblem, cheapest_arcs, solve_transport

logger = logging.getLogger(__name__)

CAPACITATED_TIME_LIMIT = 60.0
"""Default time limit (seconds) of :func:`capacitated_p_median`."""

__all__ = [
    "CoverageResult",
    "TransportProblem",
    "cheapest_arcs",
    "solve_transport",
    "SitingResult",
    "capacitated_p_median",
    "lscp",
    "mclp",
    "p_median",
]


@dataclass(frozen=True)
class SitingResult:
    """Answer of a minimising siting model (p-median, set covering, capacitated p-median).

    Parameters
    ----------
    facilities
        Sorted column ids of the open facilities, fixed ones included.
    assignment
        Column id serving each demand row (aligned with the rows of ``cost``); ``-1`` for a row
        that is not served (not reachable, or not within the radius).
    objective
        Value of the answer: weighted cost (p-median), number of facilities (set covering) or
        total cost of the assignment (capacitated).
    lower_bound
        Proven lower bound of the optimum: no answer can do better than this.
    time_seconds
        Wall-clock time of the solve.
    """

    facilities: IntArray
    assignment: IntArray
    objective: float
    lower_bound: float
    time_seconds: float

    @property
    def gap(self) -> float:
        """Relative optimality gap ``(objective - lower_bound) / objective``; 0 when proven."""
        if self.objective <= self.lower_bound:
            return 0.0
        return (self.objective - self.lower_bound) / abs(self.objective)


@dataclass(frozen=True)
class CoverageResult:
    """Answer of the maximal covering model.

    Parameters
    ----------
    facilities
        Sorted column ids of the open facilities, fixed ones included.
    assignment
        Nearest open column within the radius of each demand row; ``-1`` when not covered.
    objective
        Weight of the demand rows covered.
    upper_bound
        Proven upper bound of the coverage: no set of ``p`` facilities covers more.
    time_seconds
        Wall-clock time of the solve.
    """

    facilities: IntArray
    assignment: IntArray
    objective: float
    upper_bound: float
    time_seconds: float

    @property
    def gap(self) -> float:
        """Relative optimality gap ``(upper_bound - objective) / upper_bound``; 0 when proven."""
        if self.objective >= self.upper_bound:
            return 0.0
        return (self.upper_bound - self.objective) / abs(self.upper_bound)


def p_median(  # noqa: PLR0913 - the model's options, all keyword-only
    cost: CostMatrix,
    p: int,
    *,
    weights: npt.ArrayLike | None = None,
    fixed: npt.ArrayLike | None = None,
    candidates: npt.ArrayLike | None = None,
    time_limit: float | None = None,
    seed: int = 0,
) -> SitingResult:
    """Open ``p`` facilities minimising the weighted cost of serving every row from its nearest.

    Parameters
    ----------
    cost
        Demand rows x candidate columns; dense (``np.inf`` = not reachable) or scipy.sparse
        (missing = not reachable). Must be >= 0 and free of NaN.
    p
        Number of facilities open in the answer, fixed ones included.
    weights
        Demand of each row (default 1); rows of weight 0 do not count but are still assigned.
    fixed
        Columns that stay open (existing schools).
    candidates
        Columns where new facilities may open (default: all).
    time_limit
        Seconds; when reached the best answer so far is returned with its proven bound.
        ``None`` runs until the optimum is proven.
    seed
        Seed of the perturbation rounds of the local search.

    Returns
    -------
    SitingResult
        ``objective`` is ``sum(weights[i] * cost[i, assignment[i]])``.

    Raises
    ------
    ValidationError
        Bad ``cost``, ``weights``, ``fixed``, ``candidates`` or ``p``, a row of positive weight
        that reaches no candidate, or (sparse costs) no answer found that reaches every row.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[1.0, 5.0, 6.0], [5.0, 1.0, 6.0], [6.0, 5.0, 1.0]])
    >>> r = p_median(cost, 2, weights=[1, 1, 10], fixed=[1])
    >>> r.facilities.tolist(), r.objective  # 5 (row 0 from column 1) + 1 + 10 * 1
    ([1, 2], 16.0)
    """
    start = time.perf_counter()
    problem = build_problem(
        cost,
        weights=weights,
        fixed=fixed,
        candidates=candidates,
        p=p,
        extra=count_problems(p, "p", minimum=1),
    )
    unreachable = problem.unreachable_rows()
    if len(unreachable):
        raise ValidationError(
            f"demand rows {show_ids(unreachable)} have positive weight but reach no candidate "
            "column; add cost entries for them, add candidates, or give them weight 0."
        )
    inst = median_instance(problem)
    out = search(inst, p, deadline=_deadline(start, time_limit), seed=seed)
    open_cols = problem.cols[np.flatnonzero(out.open_mask[: inst.m])]
    assignment, dist = nearest_open(problem.matrix, open_cols)
    if np.isinf(dist[problem.rows]).any():
        bad = problem.rows[np.isinf(dist[problem.rows])]
        raise ValidationError(
            f"no answer with p={p} facilities was found that reaches demand rows "
            f"{show_ids(bad)}; raise p or add cost entries (a larger k in a k-nearest matrix)."
        )
    objective = float(problem.weights @ dist[problem.rows])
    lower = objective if out.lower >= out.value else out.lower
    if inst.integral and lower < objective:
        lower = float(math.ceil(lower - 1e-7 * max(1.0, abs(lower))))
    logger.info("p_median: objective %.6g, bound %.6g (%s)", objective, lower, out.method)
    return SitingResult(open_cols, assignment, objective, lower, time.perf_counter() - start)


def mclp(  # noqa: PLR0913 - the model's options, all keyword-only
    cost: CostMatrix,
    p: int,
    radius: float,
    *,
    weights: npt.ArrayLike | None = None,
    fixed: npt.ArrayLike | None = None,
    candidates: npt.ArrayLike | None = None,
    time_limit: float | None = None,
    seed: int = 0,
) -> CoverageResult:
    """Open ``p`` facilities maximising the weight of demand within ``radius`` of one of them.

    Parameters
    ----------
    cost, weights, fixed, candidates, time_limit
        As in :func:`p_median`.
    p
        Number of facilities open in the answer, fixed ones included.
    radius
        A row is covered when its cost to an open facility is at most ``radius``.
    seed
        Accepted for a uniform interface; the model is solved exactly by HiGHS (which is
        deterministic), with a greedy answer kept when HiGHS finds nothing better in time.

    Returns
    -------
    CoverageResult
        ``objective`` is the covered weight and ``upper_bound`` a proven upper bound of it.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[1.0, 9.0, 9.0], [2.0, 9.0, 3.0], [9.0, 9.0, 1.0], [9.0, 1.0, 9.0]])
    >>> r = mclp(cost, 1, 3.0, weights=[1, 1, 1, 2])
    >>> r.facilities.tolist(), r.objective, r.assignment.tolist()  # column 2 covers rows 1, 2
    ([0], 2.0, [0, 0, -1, -1])
    """
    del seed  # HiGHS is deterministic; kept for a uniform signature
    start = time.perf_counter()
    problems = count_problems(p, "p", minimum=1) + _check_radius(radius)
    problem = build_problem(
        cost, weights=weights, fixed=fixed, candidates=candidates, p=p, extra=problems
    )
    cover = _coverage.coverage(problem, radius)
    _refuse_empty_cover(problem, cover.nnz, radius)
    base = np.zeros(problem.n_local, dtype=bool)
    base[problem.fixed] = True
    by_fixed = (cover @ base.astype(float)) > 0
    merged, w = _coverage.merge_rows(cover[~by_fixed], problem.weights[~by_fixed])
    greedy = _coverage.greedy_max_cover(merged, w, p - len(problem.fixed), base)
    out = _highs.max_cover(merged, w, p, base=base, time_limit=_remaining(start, time_limit))
    chosen = greedy
    if out.x is not None and -out.value > w @ ((merged @ greedy.astype(float)) > 0):
        found = out.x[: problem.n_local] > 0.5
        chosen = _coverage.greedy_max_cover(merged, w, p - int(found.sum()), found)
    open_cols = problem.cols[np.flatnonzero(chosen)]
    assignment, _ = nearest_open(problem.matrix, open_cols, radius=radius)
    objective = float(problem.weights @ (assignment[problem.rows] >= 0))
    fixed_weight = float(problem.weights[by_fixed].sum())
    upper = objective if out.proven else fixed_weight + min(-out.bound, float(w.sum()))
    return CoverageResult(
        open_cols, assignment, objective, max(upper, objective), time.perf_counter() - start
    )


def lscp(
    cost: CostMatrix,
    radius: float,
    *,
    weights: npt.ArrayLike | None = None,
    fixed: npt.ArrayLike | None = None,
    candidates: npt.ArrayLike | None = None,
    time_limit: float | None = None,
) -> SitingResult:
    """Open the fewest facilities so that every row of positive weight is within ``radius``.

    Parameters
    ----------
    cost, fixed, candidates, time_limit
        As in :func:`p_median`.
    radius
        A row is covered when its cost to an open facility is at most ``radius``.
    weights
        Only whether a weight is positive matters: rows of weight 0 need not be covered.

    Returns
    -------
    SitingResult
        ``objective`` is the number of open facilities, fixed ones included.

    Raises
    ------
    ValidationError
        Besides bad inputs, when a row of positive weight has no candidate within ``radius``
        (the message names the rows).

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[1.0, 9.0, 9.0], [2.0, 9.0, 3.0], [9.0, 9.0, 1.0], [9.0, 1.0, 9.0]])
    >>> r = lscp(cost, 3.0)
    >>> r.facilities.tolist(), r.objective, r.assignment.tolist()  # rows 0, 2, 3 need 0, 2, 1
    ([0, 1, 2], 3.0, [0, 0, 2, 1])
    """
    start = time.perf_counter()
    problem = build_problem(
        cost, weights=weights, fixed=fixed, candidates=candidates, extra=_check_radius(radius)
    )
    cover = _coverage.coverage(problem, radius)
    lonely = problem.rows[np.diff(cover.indptr) == 0]
    if len(lonely):
        raise ValidationError(
            f"demand rows {show_ids(lonely)} have no candidate within radius={radius}; raise "
            "the radius, add candidates near them, or give them weight 0."
        )
    base = np.zeros(problem.n_local, dtype=bool)
    base[problem.fixed] = True
    by_fixed = (cover @ base.astype(float)) > 0
    merged, _ = _coverage.merge_rows(cover[~by_fixed], problem.weights[~by_fixed])
    greedy = _coverage.greedy_set_cover(merged, base)
    out = _highs.set_cover(merged, base=base, time_limit=_remaining(start, time_limit))
    chosen = greedy
    if out.x is not None and out.value < greedy.sum():
        chosen = out.x > 0.5
    open_cols = problem.cols[np.flatnonzero(chosen)]
    assignment, _ = nearest_open(problem.matrix, open_cols, radius=radius)
    objective = float(len(open_cols))
    lower = objective if out.proven else float(math.ceil(max(out.bound, 0.0) - 1e-6))
    return SitingResult(
        open_cols, assignment, objective, min(lower, objective), time.perf_counter() - start
    )


def capacitated_p_median(  # noqa: PLR0913 - the model's options, all keyword-only
    cost: CostMatrix,
    p: int,
    demand: npt.ArrayLike,
    capacity: npt.ArrayLike,
    *,
    fixed: npt.ArrayLike | None = None,
    candidates: npt.ArrayLike | None = None,
    time_limit: float | None = CAPACITATED_TIME_LIMIT,
    seed: int = 0,
) -> SitingResult:
    """Open ``p`` facilities and assign each row to one of them within their capacities.

    Single-source: every row goes whole to one open facility ``j``, and the demand assigned to
    ``j`` is at most ``capacity[j]``. The objective is ``sum(cost[i, assignment[i]])``; pass
    ``cost * demand[:, None]`` to weight the cost by demand.

    The solver (:mod:`layout.optimize._capacitated`): a Lagrangian bound relaxing the
    assignment constraints, whose subproblems are one 0-1 knapsack per column; answers from
    the uncapacitated p-median and from the subproblems' open sets, each assigned by the
    transportation LP and relocated; HiGHS on a pool of the columns most often open, or on
    instances above 250 000 pairs a region search (a few neighbouring clusters re-solved
    exactly by HiGHS, over and over); then HiGHS on the model that Lagrangian reduced-cost
    fixing leaves, which proves optimality when it finishes, or, on small instances with
    integer demands and capacities, a branch and price on the Dantzig-Wolfe bound.

    Parameters
    ----------
    cost, fixed, candidates
        As in :func:`p_median`.
    p
        Number of facilities open in the answer, fixed ones included.
    demand
        Demand of each row, >= 0.
    capacity
        Capacity of each column, >= 0.
    time_limit
        Seconds (default :data:`CAPACITATED_TIME_LIMIT`); the best answer found by then is
        returned with its proven bound. ``None`` runs until the optimum is proven, which
        can take very long on hard instances.
    seed
        Accepted for a uniform interface; the solver is deterministic.

    Returns
    -------
    SitingResult
        With ``lower_bound`` the best of the Lagrangian bound and HiGHS's bound on the
        reduced model; ``gap`` 0 when the answer is proven optimal.

    Raises
    ------
    ValidationError
        Bad inputs, or when the ``p`` largest capacities cannot hold the total demand.

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0.0, 2.0, 5.0], [2.0, 0.0, 3.0], [5.0, 3.0, 0.0]])
    >>> r = capacitated_p_median(cost, 2, demand=[1, 1, 1], capacity=[1, 1, 2])
    >>> r.facilities.tolist(), r.assignment.tolist(), r.objective  # column 1 is full
    ([0, 2], [0, 2, 2], 3.0)
    """
    start = time.perf_counter()
    problem = build_problem(
        cost,
        weights=None,
        fixed=fixed,
        candidates=candidates,
        p=p,
        extra=count_problems(p, "p", minimum=1),
    )
    del seed  # the solver is deterministic; kept for a uniform signature
    d, q = _capacitated.check_amounts(problem, p, demand, capacity)
    out = _capacitated.solve(problem, p, d, q, deadline=_deadline(start, time_limit))
    assignment = np.full(problem.n_rows, -1, dtype=np.int64)
    assignment[problem.rows] = problem.cols[out.assign]
    facilities = problem.cols[np.flatnonzero(out.open_mask)]
    return SitingResult(
        facilities, assignment, out.value, min(out.lower, out.value), time.perf_counter() - start
    )


def _check_radius(radius: object) -> list[str]:
    if isinstance(radius, bool) or not isinstance(radius, int | float | np.number):
        return [f"radius must be a number > 0, got {radius!r}."]
    if not math.isfinite(float(radius)) or radius <= 0:
        return [f"radius must be finite and > 0, got {radius!r}."]
    return []


def _refuse_empty_cover(problem: Problem, nnz: int, radius: float) -> None:
    if nnz == 0:
        nearest = float(problem.table.cost.min()) if len(problem.table.cost) else np.inf
        raise ValidationError(
            f"radius={radius} is met by no candidate: the smallest cost from a demand row of "
            f"positive weight to a candidate is {nearest:g}; raise the radius or add candidates."
        )


def _deadline(start: float, time_limit: float | None) -> float:
    return np.inf if time_limit is None else start + float(time_limit)


def _remaining(start: float, time_limit: float | None) -> float | None:
    return None if time_limit is None else start + float(time_limit) - time.perf_counter()
