"""The transportation LP of the assignment, with pricing and a certificate of optimality.

Solves min cost flow of children from cells to schools within capacity, unserved children at
a penalty: only the cells that compete for places enter the LP; the others are certified at
their nearest school by the LP's school prices, and arcs join while their reduced cost is
negative. Used by :func:`layout.access.assign`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from typing import NamedTuple, cast

import highspy
import numpy as np

from .._arrays import expand_ranges, row_of_entries
from ..errors import SolverError

log = logging.getLogger(__name__)

_INF = highspy.kHighsInf
_KEEP = 0.8
"""Share of an over-full school's places first kept by its surest cells (see _first_lp_cells)."""
_FIRST_ARCS = 3
"""Cheapest arcs a cell brings into the LP; the others join when their reduced cost is < 0."""
_NO_ENTRY = (np.zeros(0, np.int32), np.zeros(0))


class TransportProblem(NamedTuple):
    """The usable arcs (to schools with capacity) in CSR form, with demand and capacity."""

    ptr: np.ndarray
    school: np.ndarray
    cost: np.ndarray
    position: np.ndarray
    """Index of each usable arc in the data arrays of the costs matrices."""
    demand: np.ndarray
    capacity: np.ndarray
    penalty: float


def cheapest_arcs(problem: TransportProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank each cell's usable arcs by cost.

    Returns each cell's cheapest arc (-1 if none), the extra cost of its next arc (inf if
    none) and the rank of every arc within its cell (0 for the cheapest).
    """
    rows = row_of_entries(problem.ptr)
    order = np.lexsort((problem.cost, rows))
    lengths = np.diff(problem.ptr)
    cheapest = np.full(len(lengths), -1, dtype=np.int64)
    cheapest[lengths > 0] = order[problem.ptr[:-1][lengths > 0]]
    margin = np.full(len(lengths), np.inf)
    two = lengths > 1
    margin[two] = problem.cost[order[problem.ptr[:-1][two] + 1]] - problem.cost[cheapest[two]]
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - problem.ptr[rows]
    return cheapest, margin, rank


def _first_lp_cells(
    problem: TransportProblem, nearest: np.ndarray, margin: np.ndarray, active: np.ndarray
) -> np.ndarray:
    """Pick the cells that start in the LP: those likely to leave their nearest school.

    At each school over capacity when every cell goes to its nearest school, the cells with
    the largest margins (extra cost of their next school) stay fixed up to :data:`_KEEP` of
    its places; the others start in the LP. The price test corrects any wrong guess.
    """
    load = np.bincount(nearest[active], problem.demand[active], len(problem.capacity))
    cells = np.flatnonzero(active)
    cells = cells[(load > problem.capacity)[nearest[cells]]]
    cells = cells[np.lexsort((-margin[cells], nearest[cells]))]
    school = nearest[cells]
    total = np.cumsum(problem.demand[cells])
    before = np.concatenate(([0.0], total))[np.searchsorted(school, school)]
    start = np.zeros(len(active), dtype=bool)
    start[cells[total - before > _KEEP * problem.capacity[school]]] = True
    return start


def quiet_highs() -> highspy.Highs:
    """Return a silent HiGHS instance.

    HiGHS prints a banner on the process's standard output when its first instance is built,
    before any option can silence it (HiGHS issue #2749); the file descriptor is pointed at
    /dev/null for that moment so a command's output stays clean.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highs = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    highs.setOptionValue("output_flag", False)
    return highs


class _TransportLP:
    """The transportation LP over growing sets of cells and arcs, re-solved from its basis.

    School rows start at the capacity left when every cell sits at its nearest school (which
    may be negative); adding a cell frees its place there. A cell enters with its
    :data:`_FIRST_ARCS` cheapest arcs and its unserved sink; other arcs enter when priced out.
    """

    def __init__(self, problem: TransportProblem, residual: np.ndarray) -> None:
        self.problem = problem
        self.highs = quiet_highs()
        m = len(residual)
        self.highs.addRows(m, np.full(m, -_INF), residual, 0, np.zeros(m, np.int32), *_NO_ENTRY)
        self.upper = residual.copy()
        self.cell_of_arc = row_of_entries(problem.ptr)
        self.row = np.full(len(problem.demand), -1, dtype=np.int64)
        self.in_model = np.zeros(len(problem.cost), dtype=bool)
        self.columns: list[tuple[np.ndarray, np.ndarray]] = []
        self.iterations = 0

    def add_cells(self, cells: np.ndarray, cheapest: np.ndarray, rank: np.ndarray) -> None:
        """Add ``cells``: one equality row each, their cheapest arcs and unserved sinks."""
        p, highs = self.problem, self.highs
        demand = p.demand[cells]
        self.row[cells] = highs.getNumRow() + np.arange(len(cells))
        highs.addRows(len(cells), demand, demand, 0, np.zeros(len(cells), np.int32), *_NO_ENTRY)
        arcs = expand_ranges(p.ptr[cells], p.ptr[cells + 1] - p.ptr[cells])
        self._add_columns(arcs[rank[arcs] < _FIRST_ARCS], cells)
        freed = np.bincount(p.school[cheapest[cells]], weights=demand, minlength=len(self.upper))
        touched = np.flatnonzero(freed).astype(np.int32)
        self.upper[touched] += freed[touched]
        highs.changeRowsBounds(  # type: ignore[attr-defined]  # missing from highspy's stubs
            len(touched), touched, np.full(len(touched), -_INF), self.upper[touched]
        )

    def set_demand(self, problem: TransportProblem, residual: np.ndarray) -> None:
        """Give the LP's cells the demand of ``problem`` and its schools the ``residual`` places.

        ``residual``: each school's places minus the demand of the cells fixed there (not in
        the LP).
        """
        self.problem = problem
        cells = np.flatnonzero(self.row >= 0)
        demand = problem.demand[cells]
        rows = self.row[cells].astype(np.int32)
        # changeRowsBounds is missing from highspy's stubs
        self.highs.changeRowsBounds(len(cells), rows, demand, demand)  # type: ignore[attr-defined]
        self.upper = residual.copy()
        m = len(residual)
        self.highs.changeRowsBounds(  # type: ignore[attr-defined]
            m, np.arange(m, dtype=np.int32), np.full(m, -_INF), self.upper
        )

    def add_arcs(self, arcs: np.ndarray) -> None:
        """Add arcs of cells already in the LP."""
        self._add_columns(arcs, np.zeros(0, dtype=np.int64))

    def _add_columns(self, arcs: np.ndarray, sinks: np.ndarray) -> None:
        """Add a column per arc (school row, cell row) and per unserved sink (cell row)."""
        p, a = self.problem, len(arcs)
        index = np.empty(2 * a + len(sinks), np.int32)
        index[0 : 2 * a : 2] = p.school[arcs]
        index[1 : 2 * a : 2] = self.row[self.cell_of_arc[arcs]]
        index[2 * a :] = self.row[sinks]
        starts = np.concatenate((np.arange(0, 2 * a, 2), 2 * a + np.arange(len(sinks))))
        n_cols = a + len(sinks)
        self.highs.addCols(
            n_cols,
            np.concatenate((p.cost[arcs], np.full(len(sinks), p.penalty))),
            np.zeros(n_cols),
            np.full(n_cols, _INF),
            len(index),
            starts.astype(np.int32),
            index,
            np.ones(len(index)),
        )
        self.in_model[arcs] = True
        self.columns.append((arcs, sinks))

    def solve(self) -> tuple[np.ndarray, np.ndarray]:
        """Solve; return every school's capacity price (minus its row dual, >= 0) and all duals.

        An LP with no cells yet prices every school at 0.
        """
        if not self.columns:
            return np.zeros(len(self.upper)), np.zeros(self.highs.getNumRow())
        self.highs.run()
        status = self.highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverError(
                f"HiGHS did not solve the assignment LP: {self.highs.modelStatusToString(status)}"
            )
        self.iterations += self.highs.getInfo().simplex_iteration_count
        duals = np.asarray(self.highs.getSolution().row_dual)
        return np.maximum(-duals[: len(self.upper)], 0.0), duals

    def priced_out(self, cells: np.ndarray, prices: np.ndarray, duals: np.ndarray) -> np.ndarray:
        """Return the arcs of LP ``cells`` left out of the model with negative reduced cost."""
        p = self.problem
        arcs = expand_ranges(p.ptr[cells], p.ptr[cells + 1] - p.ptr[cells])
        arcs = arcs[~self.in_model[arcs]]
        reduced = p.cost[arcs] + prices[p.school[arcs]] - duals[self.row[self.cell_of_arc[arcs]]]
        return cast(np.ndarray, arcs[reduced < -_tolerance(p)])

    def solution(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return (arcs, their flows, cells, their unserved children) of the LP."""
        values = np.asarray(self.highs.getSolution().col_value) if self.columns else np.zeros(0)
        arcs, cells = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        flows, unserved = [np.zeros(0)], [np.zeros(0)]
        start = 0
        for block_arcs, block_cells in self.columns:
            arcs.append(block_arcs)
            flows.append(values[start : start + len(block_arcs)])
            start += len(block_arcs)
            cells.append(block_cells)
            unserved.append(values[start : start + len(block_cells)])
            start += len(block_cells)
        return (
            np.concatenate(arcs),
            np.concatenate(flows),
            np.concatenate(cells),
            np.concatenate(unserved),
        )


def _tolerance(problem: TransportProblem) -> float:
    """Reduced costs above minus this count as >= 0 (HiGHS works to about 1e-7)."""
    return 1e-7 * (1 + float(problem.cost.max(initial=0.0)))


def _unstable(
    problem: TransportProblem, cheapest: np.ndarray, fixed: np.ndarray, prices: np.ndarray
) -> np.ndarray:
    """Return the fixed cells whose nearest school is not optimal at these school prices."""
    cells = np.flatnonzero(fixed)
    unstable = np.zeros(len(fixed), dtype=bool)
    if not len(cells):
        return unstable
    lengths = problem.ptr[cells + 1] - problem.ptr[cells]
    arcs = expand_ranges(problem.ptr[cells], lengths)
    reduced = problem.cost[arcs] + prices[problem.school[arcs]]
    best = np.minimum.reduceat(reduced, np.cumsum(lengths) - lengths)
    current = problem.cost[cheapest[cells]] + prices[problem.school[cheapest[cells]]]
    tolerance = _tolerance(problem)
    unstable[cells] = (best < current - tolerance) | (current > problem.penalty + tolerance)
    return unstable


def solve_transport(
    problem: TransportProblem, *, decompose: bool, demands: Sequence[np.ndarray] = ()
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return the optimal flow on every usable arc and the unserved children of every cell.

    One (flow, unserved) pair for ``problem.demand``, then one for each of ``demands``: each
    later demand is solved by changing the demand of the same LP and re-solving it from the
    last basis (the cells and arcs of the LP are kept; the price test adds what the new
    demand needs), which is much faster than a new LP when the demands are alike.
    """
    cheapest, margin, rank = cheapest_arcs(problem)
    nearest = np.append(problem.school, 0)[cheapest]  # cheapest -1 (no arc) reads the 0
    active = (problem.demand > 0) & (cheapest >= 0)
    in_lp = _first_lp_cells(problem, nearest, margin, active) if decompose else active.copy()
    lp = _TransportLP(problem, _residual(problem, nearest, active))
    solved: list[tuple[np.ndarray, np.ndarray]] = []
    for demand in [problem.demand, *demands]:
        problem = problem._replace(demand=demand)
        active = (demand > 0) & (cheapest >= 0)
        if solved:
            fixed = active & ~in_lp
            in_lp |= _first_lp_cells(problem, nearest, margin, fixed) if decompose else fixed
            lp.set_demand(problem, _residual(problem, nearest, active & (lp.row < 0)))
        solved.append(_solve_lp(lp, problem, cheapest, rank, active=active, in_lp=in_lp))
    return solved


def _residual(problem: TransportProblem, nearest: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Places each school has left when the ``fixed`` cells sit at their nearest school."""
    load = np.bincount(nearest[fixed], problem.demand[fixed], len(problem.capacity))
    return problem.capacity - load


def _solve_lp(
    lp: _TransportLP,
    problem: TransportProblem,
    cheapest: np.ndarray,
    rank: np.ndarray,
    *,
    active: np.ndarray,
    in_lp: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Add cells and arcs to the LP until the price test passes; return flow and unserved.

    ``in_lp`` (updated in place) holds the cells meant to be in the LP; those not yet in it
    are added first.
    """
    new_cells, new_arcs, rounds = in_lp & (lp.row < 0), np.zeros(0, dtype=np.int64), 0
    while new_cells.any() or len(new_arcs) or not rounds:
        rounds += 1
        if new_cells.any():
            lp.add_cells(np.flatnonzero(new_cells), cheapest, rank)
        if len(new_arcs):
            lp.add_arcs(new_arcs)
        prices, duals = lp.solve()
        new_arcs = lp.priced_out(np.flatnonzero(in_lp), prices, duals)
        new_cells = _unstable(problem, cheapest, active & ~in_lp, prices)
        in_lp |= new_cells
        log.debug(
            "round %d: %d simplex iterations in all; %d arcs and %d cells join the LP",
            rounds,
            lp.iterations,
            len(new_arcs),
            int(new_cells.sum()),
        )
    log.info(
        "assignment LP: %d of %d cells with demand in the LP after %d rounds",
        int((in_lp & active).sum()),
        int((problem.demand > 0).sum()),
        rounds,
    )
    flow = np.zeros(len(problem.cost))
    fixed = active & ~in_lp
    flow[cheapest[fixed]] = problem.demand[fixed]
    unserved = np.where(active, 0.0, problem.demand)
    arcs, arc_flow, cells, cell_unserved = lp.solution()
    flow[arcs] = arc_flow
    unserved[cells] = cell_unserved
    return np.maximum(flow, 0.0), np.maximum(unserved, 0.0)
