"""The phased plan of one county as one mixed-integer model, solved by HiGHS.

Over the plan years ``t``, for facilities ``f`` (open schools that may expand or close,
candidate sites that may be built once in one of their standard sizes, idle campuses that may
be reused once) and demand groups ``g`` (children of an area and a band of grades, each year):

- ``open[f, t]`` (0/1): a school stays closed once closed; a site or campus stays open once
  built; ``build[f, k, t]`` (0/1) builds size ``k`` of a site or campus in year ``t``;
- ``added[f, t]`` (integer): classes a school has added by year ``t`` (never taken back);
- ``flow[a, t]`` (>= 0): children of a group seated on arc ``a``: a facility the group reaches
  within its norm, on foot, by school bus or as boarders (the arcs say which, and cost each);
- ``staff[f, t]`` and ``funds[f, t]``: posts and public funding of a facility, at least the
  staffing ratio and the per-pupil rate; a rural small school (``small``) needs at least
  ``teachers_per_class`` posts per class in use (``used[f, t]``, integer) and gets at least the
  funding of ``floor_pupils`` pupils while open.

Every child is seated (``sum flow = demand``), within the class cap of the facility's classes,
only at open facilities; a site within reach of a campus that is (or becomes) idle is not built
unless that campus is open at the end and seats at least a class of pupils (``near``: the
idle-campus rule: an open campus with fewer pupils is idle too); the capital spent each
year is at most the budget, if given. The objective is the present value (at
``discount_rate``) of the capital spent plus the yearly running cost (staff, funding,
boarding supplements, bus seats, travel time) over the years. HiGHS
(:func:`scipy.optimize.milp`) returns the answer with its proven bound and gap.

Examples
--------
One group of 90 children, a school of 1 class (45 places) that may add 1 class at 100,
or a site built with 2 classes at 150; the school is nearer (arc cost 1 a child a year):

>>> import numpy as np
>>> from layout.phases import Arcs, Facilities, Rates
>>> facilities = Facilities(ids=("S", "P"), kind=("school", "site"), classes=np.array([1, 0]),
...     max_added=np.array([1, 0]), class_cost=np.array([100.0, 0.0]),
...     sizes=((), (2,)), size_costs=((), (150.0,)), small=np.array([False, False]),
...     cap=np.array([45, 45]), pupils_per_staff=np.array([19.0, 19.0]),
...     funding_per_pupil=np.array([0.0, 0.0]))
>>> arcs = Arcs(group=np.array([0, 0]), facility=np.array([0, 1]),
...     mode=np.array(["walk", "walk"]), cost=np.array([1.0, 2.0]), minutes=np.array([5.0, 9.0]))
>>> rates = Rates(teacher_cost=0.0, teachers_per_class=0.0, floor_pupils=0)
>>> problem = PhaseProblem(years=(2025,), demand=np.array([[90.0]]), facilities=facilities,
...     arcs=arcs, rates=rates)
>>> plan = solve_phases(problem)
>>> plan.objective, plan.classes[:, 0].tolist(), plan.gap  # expanding: 100 + 90 x 1
(190.0, [2, 0], 0.0)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import optimize, sparse

from ..errors import ValidationError
from .problem import KINDS, FloatArray, IntArray, PhaseProblem, PhaseSolution

TIME_LIMIT = 300.0
"""Default time limit of :func:`solve_phases`, seconds."""

_TIME_LIMIT_REACHED = 1
"""Status of :func:`scipy.optimize.milp` when it stops at its time (or iteration) limit."""

_TINY = 1e-6
"""Children below which a count is nil (solver tolerance)."""


class _Columns:
    """Variables of the model: blocks of columns with bounds, integrality and costs."""

    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []
        self.cost: list[float] = []

    def block(
        self, n: int, *, upper: float | npt.ArrayLike, integer: bool, cost: object = 0.0
    ) -> IntArray:
        start = len(self.lower)
        self.lower += [0.0] * n
        self.upper += list(np.broadcast_to(np.asarray(upper, dtype=float), (n,)))
        self.integer += [int(integer)] * n
        self.cost += list(np.broadcast_to(np.asarray(cost, dtype=float), (n,)))
        return np.arange(start, start + n, dtype=np.int64)


class _Rows:
    """Constraints ``lower <= A x <= upper`` gathered row by row."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, cols: npt.ArrayLike, vals: npt.ArrayLike, lower: float, upper: float) -> int:
        c = np.atleast_1d(np.asarray(cols, dtype=np.int64))
        v = np.broadcast_to(np.asarray(vals, dtype=float), c.shape)
        row = len(self.lower)
        self.rows += [row] * len(c)
        self.cols += c.tolist()
        self.vals += v.tolist()
        self.lower.append(lower)
        self.upper.append(upper)
        return row

    def matrix(self, n: int) -> sparse.csr_array:
        shape = (len(self.lower), n)
        return sparse.csr_array((self.vals, (self.rows, self.cols)), shape=shape)


@dataclass
class _Vars:
    open: IntArray  # F x T
    added: IntArray  # F x T (schools only used)
    build: list[list[IntArray]]  # per facility: per size, T columns
    flow: IntArray  # A x T
    capital: IntArray  # T
    staff: IntArray  # F x T
    funds: IntArray  # F x T
    used: IntArray  # F x T


def _variables(problem: PhaseProblem, cols: _Columns, budget: float | None) -> _Vars:
    fac, rates = problem.facilities, problem.rates
    n_f, n_t, n_a = len(fac), len(problem.years), len(problem.arcs.group)
    w = problem.weights()
    open_ = cols.block(n_f * n_t, upper=1, integer=True).reshape(n_f, n_t)
    added = cols.block(n_f * n_t, upper=np.repeat(fac.max_added, n_t), integer=True)
    build = [
        [cols.block(n_t, upper=1, integer=True, cost=c * w) for c in fac.size_costs[f]]
        for f in range(n_f)
    ]
    flow = cols.block(
        n_a * n_t, upper=np.inf, integer=False, cost=np.outer(problem.arcs.cost, w).ravel()
    )
    spend = cols.block(n_t, upper=np.inf if budget is None else budget, integer=False)
    staff = cols.block(
        n_f * n_t, upper=np.inf, integer=False, cost=rates.teacher_cost * np.tile(w, n_f)
    )
    funds = cols.block(n_f * n_t, upper=np.inf, integer=False, cost=np.tile(w, n_f))
    used = cols.block(
        n_f * n_t, upper=np.repeat(np.where(fac.small, np.inf, 0.0), n_t), integer=True
    )
    return _Vars(
        open_,
        added.reshape(n_f, n_t),
        build,
        flow.reshape(n_a, n_t),
        spend,
        staff.reshape(n_f, n_t),
        funds.reshape(n_f, n_t),
        used.reshape(n_f, n_t),
    )


def _capacity_terms(
    problem: PhaseProblem, v: _Vars, f: int, t: int
) -> tuple[list[int], list[float]]:
    """Columns and coefficients of facility ``f``'s classes in year ``t`` (minus sign later)."""
    fac = problem.facilities
    if fac.kind[f] == "school":
        return [int(v.open[f, t]), int(v.added[f, t])], [float(fac.classes[f]), 1.0]
    cols = [int(c) for k, size in enumerate(fac.sizes[f]) for c in v.build[f][k][: t + 1]]
    vals = [float(size) for size in fac.sizes[f] for _ in range(t + 1)]
    return cols, vals


def _facility_rows(problem: PhaseProblem, v: _Vars, rows: _Rows) -> None:
    fac, rates, arcs = problem.facilities, problem.rates, problem.arcs
    n_t = len(problem.years)
    big = float(problem.demand.sum(axis=0).max()) + 1.0
    for f in range(len(fac)):
        mine = v.flow[arcs.facility == f]
        for t in range(n_t):
            seated = mine[:, t]
            cols, vals = _capacity_terms(problem, v, f, t)
            cap = float(fac.cap[f])
            rows.add(
                [*seated, *cols], [*np.ones(len(seated)), *(-cap * np.array(vals))], -np.inf, 0.0
            )
            rows.add([*seated, v.open[f, t]], [*np.ones(len(seated)), -big], -np.inf, 0.0)
            rows.add(
                [*seated, v.staff[f, t]],
                [*np.full(len(seated), 1 / fac.pupils_per_staff[f]), -1.0],
                -np.inf,
                0.0,
            )
            rows.add(
                [*seated, v.funds[f, t]],
                [*np.full(len(seated), fac.funding_per_pupil[f]), -1.0],
                -np.inf,
                0.0,
            )
            if fac.small[f]:
                rows.add([*seated, v.used[f, t]], [*np.ones(len(seated)), -cap], -np.inf, 0)
                rows.add(
                    [v.used[f, t], v.staff[f, t]], [rates.teachers_per_class, -1.0], -np.inf, 0.0
                )
                floor = fac.funding_per_pupil[f] * rates.floor_pupils
                rows.add([v.open[f, t], v.funds[f, t]], [floor, -1.0], -np.inf, 0.0)
            _timeline_rows(problem, v, rows, f, t)


def _timeline_rows(problem: PhaseProblem, v: _Vars, rows: _Rows, f: int, t: int) -> None:
    """Keep a closed school closed, a built site built, and added classes added."""
    fac = problem.facilities
    builds = [b[t] for b in v.build[f]]
    if fac.kind[f] == "school":
        if t:
            rows.add([v.open[f, t], v.open[f, t - 1]], [1.0, -1.0], -np.inf, 0.0)
            rows.add([v.added[f, t], v.added[f, t - 1]], [1.0, -1.0], 0.0, np.inf)
        return
    before = [] if t == 0 else [v.open[f, t - 1]]
    rows.add(
        [v.open[f, t], *before, *builds],
        [1.0, *[-1.0] * len(before), *[-1.0] * len(builds)],
        0.0,
        0.0,
    )


def _demand_rows(problem: PhaseProblem, v: _Vars, rows: _Rows) -> None:
    for g in range(problem.demand.shape[0]):
        mine = v.flow[problem.arcs.group == g]
        for t in range(len(problem.years)):
            need = float(problem.demand[g, t])
            rows.add(mine[:, t], 1.0, need, need)


def _capital_rows(problem: PhaseProblem, v: _Vars, rows: _Rows) -> None:
    """``capital[t]`` is the year's building and added classes (costed in the objective)."""
    fac = problem.facilities
    for t in range(len(problem.years)):
        cols: list[int] = [int(v.capital[t])]
        vals: list[float] = [-1.0]
        for f in range(len(fac)):
            for k, cost in enumerate(fac.size_costs[f]):
                cols.append(int(v.build[f][k][t]))
                vals.append(cost)
            if fac.kind[f] == "school" and fac.class_cost[f]:
                cols.append(int(v.added[f, t]))
                vals.append(float(fac.class_cost[f]))
                if t:
                    cols.append(int(v.added[f, t - 1]))
                    vals.append(-float(fac.class_cost[f]))
        rows.add(cols, vals, 0.0, 0.0)


def _objective(problem: PhaseProblem, v: _Vars, cols: _Columns) -> None:
    """Cost added classes once, in the year they are added, from their cumulative counts.

    ``sum_t w_t (added_t - added_{t-1}) = sum_t added_t (w_t - w_{t+1})`` with ``w_T = 0``.
    """
    fac = problem.facilities
    w = problem.weights()
    step = w - np.r_[w[1:], 0.0]
    for f in range(len(fac)):
        if fac.kind[f] == "school":
            for t in range(len(problem.years)):
                cols.cost[int(v.added[f, t])] += float(fac.class_cost[f] * step[t])


def _near_rows(problem: PhaseProblem, v: _Vars, rows: _Rows) -> None:
    """Build a site only if each campus within reach is open and seats a class at the end."""
    last = len(problem.years) - 1
    caps = problem.facilities.cap
    for site, other in problem.near:
        seated = v.flow[problem.arcs.facility == other, last]
        rows.add(
            [*seated, v.open[site, last]], [*np.ones(len(seated)), -float(caps[other])], 0.0, np.inf
        )


def model_of(
    problem: PhaseProblem, *, budget: float | None = None, beyond: float | None = None
) -> tuple[_Vars, optimize.LinearConstraint, _Columns]:
    """Build the model's variables, constraints and costs (see the module text).

    ``beyond`` caps the children seated beyond their norm, summed over the years.
    """
    _check(problem)
    cols, rows = _Columns(), _Rows()
    v = _variables(problem, cols, budget)
    far = v.flow[problem.arcs.mode == "beyond"].ravel()
    if beyond is not None and beyond <= _TINY:
        for c in far:
            cols.upper[int(c)] = 0.0
    elif beyond is not None:
        rows.add(far, 1.0, -np.inf, beyond * (1 + 1e-9) + _TINY)
    _facility_rows(problem, v, rows)
    _demand_rows(problem, v, rows)
    _capital_rows(problem, v, rows)
    _near_rows(problem, v, rows)
    _objective(problem, v, cols)
    matrix = rows.matrix(len(cols.lower))
    return v, optimize.LinearConstraint(matrix, rows.lower, rows.upper), cols


def solve_phases(
    problem: PhaseProblem,
    *,
    budget: float | None = None,
    time_limit: float = TIME_LIMIT,
    beyond: float | None | Literal["fewest"] = "fewest",
) -> PhaseSolution:
    """Solve a phased plan with HiGHS; return the plan with its proven gap.

    Parameters
    ----------
    problem
        The plan to solve.
    budget
        Most capital spent in any one year; ``None`` for no limit.
    time_limit
        Seconds; the best plan found by then is returned with its bound.
    beyond
        Most children seated beyond their norm, summed over the years: ``"fewest"`` (the
        default) asks :func:`fewest_beyond`; ``None`` sets no cap.

    Returns
    -------
    PhaseSolution

    Children seated beyond their norm (arcs of mode ``beyond``) are first made as few as
    any plan can (:func:`fewest_beyond`, without the budget); the cheapest plan with no more
    of them is then solved.

    Raises
    ------
    ValidationError
        When no plan seats every child within the budget (the smallest budget that would is
        named when one exists) or at all (the groups with no arc are named).
    """
    start = time.perf_counter()
    least = fewest_beyond(problem, time_limit=time_limit) if beyond == "fewest" else beyond
    v, constraint, cols = model_of(problem, budget=budget, beyond=least)
    result = _milp(constraint, cols, time_limit)
    if result.x is None and result.status == _TIME_LIMIT_REACHED:
        raise ValidationError(
            f"HiGHS found no plan in {time_limit:g} s; give it more time (--time-limit) or "
            "fewer demand areas (--areas)"
        )
    if result.x is None:
        raise ValidationError(_infeasible(problem, budget, time_limit, least))
    x = np.asarray(result.x)
    running = _running(problem, v, x)
    capital = x[v.capital]
    n_t = len(problem.years)
    classes = np.zeros((len(problem.facilities), n_t), dtype=np.int64)
    for f in range(len(problem.facilities)):
        for t in range(n_t):
            terms, vals = _capacity_terms(problem, v, f, t)
            classes[f, t] = round(float(np.dot(x[terms], vals)))
    objective = float(result.fun)
    bound = float(getattr(result, "mip_dual_bound", objective) or objective)
    return PhaseSolution(
        open=x[v.open] > 0.5,
        classes=classes,
        flow=x[v.flow],
        capital=capital,
        running=running,
        objective=objective,
        lower_bound=min(bound, objective),
        time_seconds=time.perf_counter() - start,
    )


def _milp(
    constraint: optimize.LinearConstraint, cols: _Columns, time_limit: float
) -> optimize.OptimizeResult:
    return optimize.milp(
        np.asarray(cols.cost),
        constraints=constraint,
        integrality=np.asarray(cols.integer),
        bounds=optimize.Bounds(np.asarray(cols.lower), np.asarray(cols.upper)),
        options={"time_limit": time_limit, "mip_rel_gap": 1e-6},
    )


def _running(problem: PhaseProblem, v: _Vars, x: FloatArray) -> FloatArray:
    flows = x[v.flow] * problem.arcs.cost[:, None]
    staff = problem.rates.teacher_cost * x[v.staff].sum(axis=0)
    return np.asarray(flows.sum(axis=0) + staff + x[v.funds].sum(axis=0), dtype=np.float64)


def fewest_beyond(problem: PhaseProblem, *, time_limit: float = TIME_LIMIT) -> float | None:
    """Return the fewest children (summed over the years) any plan seats beyond their norm.

    ``None`` when the problem has no arc beyond the norm, or no plan at all. Within the time
    limit the best plan's count is returned (proven fewest when HiGHS finishes).

    Examples
    --------
    See :func:`solve_phases`, which calls it first.
    """
    far = problem.arcs.mode == "beyond"
    if not far.any():
        return None
    v, constraint, cols = model_of(problem)
    cols.cost = [0.0] * len(cols.cost)
    for c in v.flow[far].ravel():
        cols.cost[int(c)] = 1.0
    result = _milp(constraint, cols, time_limit)
    return None if result.x is None else max(float(result.fun), 0.0)


def smallest_budget(
    problem: PhaseProblem, *, time_limit: float = TIME_LIMIT, beyond: float | None = None
) -> float | None:
    """Return the smallest yearly capital budget with which every child can be seated.

    Minimises the largest capital spent in any one year (the plan's costs play no part),
    with at most ``beyond`` children seated beyond their norm; ``None`` when no plan seats
    every child whatever the budget.

    Examples
    --------
    See :func:`solve_phases`; :class:`layout.phases.PhasedPlan` reports it on refusal.
    """
    v, constraint, cols = model_of(problem, beyond=beyond)
    n = len(cols.lower)
    cols.cost = [0.0] * n
    top = cols.block(1, upper=np.inf, integer=False, cost=1.0)
    matrix = sparse.hstack([constraint.A, sparse.csr_array((constraint.A.shape[0], 1))])
    extra = sparse.csr_array(
        (
            np.r_[np.ones(len(v.capital)), -np.ones(len(v.capital))],
            (
                np.r_[np.arange(len(v.capital)), np.arange(len(v.capital))],
                np.r_[v.capital, np.full(len(v.capital), top[0])],
            ),
        ),
        shape=(len(v.capital), n + 1),
    )
    both = optimize.LinearConstraint(
        sparse.vstack([matrix, extra]).tocsr(),
        np.r_[constraint.lb, np.full(len(v.capital), -np.inf)],
        np.r_[constraint.ub, np.zeros(len(v.capital))],
    )
    result = _milp(both, cols, time_limit)
    return None if result.x is None else float(math.ceil(result.fun - 1e-6))


def _infeasible(
    problem: PhaseProblem, budget: float | None, time_limit: float, beyond: float | None
) -> str:
    wanted = np.flatnonzero(problem.demand.sum(axis=1) > 0)
    lonely = np.setdiff1d(wanted, problem.arcs.group).tolist()
    if lonely:
        return (
            f"demand groups {lonely} reach no school or site within their norm (walk, bus "
            "or boarding): add a candidate site near them or a school bus route"
        )
    if budget is None:
        return (
            "no plan seats every child within the norms and class caps: add candidate "
            "sites (reserved parcels) or allow more added classes"
        )
    least = smallest_budget(problem, time_limit=time_limit, beyond=beyond)
    if least is None:
        return "no plan seats every child, whatever the budget: add candidate sites"
    return (
        f"budget {budget:,.0f} yuan a year is too small for any plan that seats every "
        f"child within the norms; the smallest that is feasible is {least:,.0f} yuan a year"
    )


def _check(problem: PhaseProblem) -> None:
    fac, arcs = problem.facilities, problem.arcs
    problems = []
    if problem.demand.shape != (problem.demand.shape[0], len(problem.years)):
        problems.append("demand must have one column per plan year")
    if (problem.demand < 0).any() or not np.isfinite(problem.demand).all():
        problems.append("demand must be finite and >= 0")
    bad = sorted({k for k in fac.kind if k not in KINDS})
    if bad:
        problems.append(f"facility kinds {bad} are not among {KINDS}")
    if len(arcs.facility) and (
        arcs.facility.max() >= len(fac) or arcs.group.max() >= problem.demand.shape[0]
    ):
        problems.append("arcs name a facility or group row that does not exist")
    if problems:
        raise ValidationError("phased plan: " + "; ".join(problems))
