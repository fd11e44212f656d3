"""Exact siting models solved with HiGHS.

The models go through :func:`scipy.optimize.milp`, except the capacitated one, which goes
through highspy so that HiGHS can start from a known answer (``milp`` takes none).

Each builder returns a :class:`MilpOutcome`: the solution (if HiGHS found one), the best bound
HiGHS proved, and whether the solution is proven optimal. Time limits are passed straight to
HiGHS; a model that runs out of time still returns its incumbent and its bound.

Examples
--------
>>> import numpy as np
>>> import scipy.sparse as sp
>>> cover = sp.csr_array(np.array([[1, 0], [1, 1], [0, 1]]))
>>> out = set_cover(cover, base=np.zeros(2, dtype=bool), time_limit=None)
>>> out.x.round().tolist(), out.proven
([1.0, 1.0], True)
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from ._problem import FloatArray, IntArray
from ._transport import quiet_highs


@dataclass(frozen=True)
class MilpOutcome:
    """What HiGHS returned for one model.

    Parameters
    ----------
    x
        Values of the variables, or None when no feasible solution was found.
    value
        Objective of ``x`` (``inf`` without a solution).
    bound
        Best objective bound proved (``-inf`` when none), in the model's own sense
        (a lower bound of a minimisation).
    proven
        Whether ``x`` is proven optimal.
    infeasible
        Whether HiGHS proved that the model has no solution.
    """

    x: FloatArray | None
    value: float
    bound: float
    proven: bool
    infeasible: bool


def _solve(
    c: FloatArray,
    constraints: list[LinearConstraint],
    integrality: IntArray,
    bounds: Bounds,
    time_limit: float | None,
) -> MilpOutcome:
    options: dict[str, float | bool] = {"disp": False, "mip_rel_gap": 0.0}
    if time_limit is not None:
        options["time_limit"] = max(float(time_limit), 0.05)
    res = milp(c, constraints=constraints, integrality=integrality, bounds=bounds, options=options)
    if res.status == 2:  # noqa: PLR2004 - scipy's "infeasible" status
        return MilpOutcome(None, np.inf, np.inf, False, True)
    bound = getattr(res, "mip_dual_bound", None)
    bound = -np.inf if bound is None or not np.isfinite(bound) else float(bound)
    if res.x is None:
        return MilpOutcome(None, np.inf, bound, False, False)
    value = float(c @ res.x)
    proven = res.status == 0
    return MilpOutcome(res.x, value, value if proven else min(bound, value), proven, False)


def median_model(  # noqa: PLR0913 - the reduced model is described by these arrays
    arc_row: IntArray,
    arc_col: IntArray,
    arc_cost: FloatArray,
    free: IntArray,
    n_rows: int,
    k: int,
    time_limit: float | None,
) -> MilpOutcome:
    """Solve the p-median model on the arcs given.

    Arcs whose column is not in ``free`` point to a column already open. At most ``k`` of the
    ``free`` columns open; variables are the arcs, then one per ``free`` column.
    """
    n_arc, n_free = len(arc_row), len(free)
    slot = np.full(int(max(arc_col.max(initial=0), free.max(initial=0))) + 1, -1, dtype=np.int64)
    slot[free] = np.arange(n_free)
    arc_slot = slot[arc_col]
    linked = np.flatnonzero(arc_slot >= 0)
    assign = sp.csr_array(
        (np.ones(n_arc), (arc_row, np.arange(n_arc))), shape=(n_rows, n_arc + n_free)
    )
    link_rows = np.arange(len(linked))
    link = sp.csr_array(
        (
            np.r_[np.ones(len(linked)), -np.ones(len(linked))],
            (np.r_[link_rows, link_rows], np.r_[linked, n_arc + arc_slot[linked]]),
        ),
        shape=(len(linked), n_arc + n_free),
    )
    count = sp.csr_array(np.r_[np.zeros(n_arc), np.ones(n_free)][None, :])
    constraints = [
        LinearConstraint(assign, 1.0, 1.0),
        LinearConstraint(link, -np.inf, 0.0),
        LinearConstraint(count, 0.0, float(k)),
    ]
    integrality = np.r_[np.zeros(n_arc), np.ones(n_free)].astype(np.int64)
    c = np.r_[arc_cost, np.zeros(n_free)]
    return _solve(c, constraints, integrality, Bounds(0.0, 1.0), time_limit)


def max_cover(
    cover: sp.csr_array, weights: FloatArray, p: int, *, base: np.ndarray, time_limit: float | None
) -> MilpOutcome:
    """Maximise the weight of rows covered by ``p`` open columns (``base`` columns forced open).

    Variables are one per column, then one per row (covered or not). ``value`` and ``bound``
    are returned as a minimisation of minus the covered weight.
    """
    n, m = cover.shape
    a = sp.hstack([cover, -sp.identity(n, format="csr")], format="csr")
    count = sp.csr_array(np.r_[np.ones(m), np.zeros(n)][None, :])
    lower = np.r_[base.astype(float), np.zeros(n)]
    constraints = [LinearConstraint(a, 0.0, np.inf), LinearConstraint(count, 0.0, float(p))]
    c = np.r_[np.zeros(m), -weights]
    integrality = np.r_[np.ones(m), np.zeros(n)].astype(np.int64)
    return _solve(c, constraints, integrality, Bounds(lower, 1.0), time_limit)


def set_cover(cover: sp.csr_array, *, base: np.ndarray, time_limit: float | None) -> MilpOutcome:
    """Open the fewest columns so that every row of ``cover`` has an open column."""
    m = cover.shape[1]
    constraints = [LinearConstraint(cover, 1.0, np.inf)]
    lower = base.astype(float)
    return _solve(
        np.ones(m), constraints, np.ones(m, dtype=np.int64), Bounds(lower, 1.0), time_limit
    )


@dataclass(frozen=True)
class CapacitatedModel:
    """Single-source capacitated p-median model in ``linprog`` form (all ``<=`` or ``==``).

    Variables are one per arc, then one per column of ``cols``.
    """

    c: FloatArray
    a_ub: sp.csr_array
    b_ub: FloatArray
    a_eq: sp.csr_array
    b_eq: FloatArray
    lower: FloatArray
    n_arc: int

    def solve(self, time_limit: float | None, *, start: FloatArray | None = None) -> MilpOutcome:
        """Solve with every variable binary, from the feasible answer ``start`` if given.

        Runs HiGHS through highspy (``scipy.optimize.milp`` takes no starting answer).
        """
        a = sp.vstack([self.a_ub, self.a_eq], format="csc")
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
        lp.col_cost_ = self.c
        lp.col_lower_ = self.lower
        lp.col_upper_ = np.ones(len(self.c))
        lp.row_lower_ = np.r_[np.full(len(self.b_ub), -highspy.kHighsInf), self.b_eq]
        lp.row_upper_ = np.r_[self.b_ub, self.b_eq]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data
        lp.integrality_ = [highspy.HighsVarType.kInteger] * len(self.c)
        highs = quiet_highs()
        highs.setOptionValue("mip_rel_gap", 0.0)
        if time_limit is not None:
            highs.setOptionValue("time_limit", max(float(time_limit), 0.05))
        highs.passModel(lp)
        if start is not None:
            solution = highspy.HighsSolution()
            solution.col_value = start
            solution.value_valid = True
            highs.setSolution(solution)
        highs.run()
        return _outcome(highs, self.c)


def _outcome(highs: highspy.Highs, c: FloatArray) -> MilpOutcome:
    """Read a MILP's answer, bound and status from HiGHS."""
    status = highs.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return MilpOutcome(None, np.inf, np.inf, False, True)
    info = highs.getInfo()
    bound = float(info.mip_dual_bound)
    bound = bound if np.isfinite(bound) else -np.inf
    if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        return MilpOutcome(None, np.inf, bound, False, False)
    x = np.asarray(highs.getSolution().col_value)
    value = float(c @ x)
    proven = status == highspy.HighsModelStatus.kOptimal
    return MilpOutcome(x, value, value if proven else min(bound, value), proven, False)


def capacitated_model(  # noqa: PLR0913 - the model's data
    arc_row: IntArray,
    arc_col: IntArray,
    arc_cost: FloatArray,
    demand: FloatArray,
    capacity: FloatArray,
    cols: IntArray,
    base: np.ndarray,
    p: int,
) -> CapacitatedModel:
    """Build: each row on one arc, column load <= capacity * open, arc <= open, at most p open.

    ``demand`` is indexed by row, ``capacity`` and ``base`` (forced open) by column id;
    ``arc_col`` must hold ids from ``cols``.
    """
    n_rows, n_arc, n_col = len(demand), len(arc_row), len(cols)
    slot = np.full(len(capacity), -1, dtype=np.int64)
    slot[cols] = np.arange(n_col)
    arc_slot = slot[arc_col]
    ids = np.arange(n_arc)
    load = sp.csr_array(
        (
            np.r_[demand[arc_row], -capacity[cols]],
            (np.r_[arc_slot, np.arange(n_col)], np.r_[ids, n_arc + np.arange(n_col)]),
        ),
        shape=(n_col, n_arc + n_col),
    )
    link = sp.csr_array(
        (np.r_[np.ones(n_arc), -np.ones(n_arc)], (np.r_[ids, ids], np.r_[ids, n_arc + arc_slot])),
        shape=(n_arc, n_arc + n_col),
    )
    count = sp.csr_array(np.r_[np.zeros(n_arc), np.ones(n_col)][None, :])
    assign = sp.csr_array((np.ones(n_arc), (arc_row, ids)), shape=(n_rows, n_arc + n_col))
    return CapacitatedModel(
        c=np.r_[arc_cost, np.zeros(n_col)],
        a_ub=sp.vstack([load, link, count], format="csr"),
        b_ub=np.r_[np.zeros(n_col + n_arc), float(p)],
        a_eq=assign,
        b_eq=np.ones(n_rows),
        lower=np.r_[np.zeros(n_arc), base[cols].astype(float)],
        n_arc=n_arc,
    )
