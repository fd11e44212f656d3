"""Region search: re-solve a few neighbouring clusters of a capacitated answer exactly (HiGHS).

A matheuristic after Stefanello, Araujo & Mueller (2015, "Matheuristics for the capacitated
p-median problem", International Transactions in Operational Research 22(1)): the *region*
of an open column ``j`` is ``j`` and the open columns nearest to ``j``'s rows; its rows are
the rows those columns serve, and its candidates the columns those rows reach most cheaply
(columns open outside the region excluded). The region is a small capacitated p-median (same
number of open columns, same capacities), solved by HiGHS from the present assignment; a
cheaper answer replaces the region's part of the whole. :func:`improve` sweeps over the open
columns until no region improves or the time runs out.

Examples
--------
>>> import numpy as np
>>> from layout.optimize._answers import capacitated_instance, repair
>>> from layout.optimize._problem import build_problem
>>> cost = np.array([[0.0, 4.0, 9.0], [4.0, 0.0, 5.0], [9.0, 5.0, 0.0], [9.0, 5.0, 1.0]])
>>> inst = capacitated_instance(
...     build_problem(cost, weights=None, fixed=None, candidates=None), 2,
...     demand=np.ones(4), capacity=np.full(3, 2.0))
>>> start = repair(inst, np.array([True, True, False]))  # columns 0 and 1 open
>>> start.value, improve(inst, start, deadline=np.inf).value  # columns 0 and 2 instead
(14.0, 5.0)
"""

from __future__ import annotations

import time

import numpy as np

from ._answers import Answer, CapacitatedInstance, answer_of
from ._highs import capacitated_model
from ._problem import IntArray

REGION_COLUMNS = 4
"""Open columns in a region: the column the region is built around and its nearest ones.

With :data:`CANDIDATE_RANK` and :data:`REGION_SECONDS`, the best of four settings tried on
p3038_600 (most improvement in 60 s; benchmarks/RESULTS.md, optimize section 5)."""

CANDIDATE_RANK = 2
"""A region's candidates are the columns among each of its rows' this many nearest."""

REGION_ARCS_PER_ROW = 8
"""Each row of a region keeps its pairs to this many nearest candidates (and its own)."""

REGION_SECONDS = 0.5
"""Time limit of one region's model."""


def improve(inst: CapacitatedInstance, best: Answer, *, deadline: float) -> Answer:
    """Sweep the regions of the open columns of ``best`` while one of them improves."""
    tried: set[bytes] = set()
    while time.perf_counter() < deadline and np.isfinite(best.value):
        before = best.value
        for head in np.flatnonzero(best.open_mask).tolist():
            if time.perf_counter() > deadline:
                break
            if not best.open_mask[head]:
                continue
            group = _region(inst, best, head)
            rows = _rows_of(inst, best, group)
            key = np.r_[group, -1, rows].tobytes()
            if key in tried:
                continue
            found = _solve_region(inst, best, group, rows, deadline=deadline)
            if found.beats(best):
                best = found
            else:
                tried.add(key)
        if best.value >= before:
            break
    return best


def _region(inst: CapacitatedInstance, best: Answer, head: int) -> IntArray:
    """Return ``head`` and the open columns nearest to its rows (sorted)."""
    t = inst.table
    rows = t.row[best.arcs[t.col[best.arcs] == head]]
    mine = np.zeros(t.n_rows, dtype=bool)
    mine[rows] = True
    arcs = inst.primal[mine[t.row[inst.primal]]]
    arcs = arcs[best.open_mask[t.col[arcs]] & (t.col[arcs] != head)]
    nearest = np.full(inst.m, np.inf)
    np.minimum.at(nearest, t.col[arcs], t.cost[arcs])
    others = np.flatnonzero(np.isfinite(nearest))
    others = others[np.argsort(nearest[others], kind="stable")[: REGION_COLUMNS - 1]]
    return np.sort(np.r_[head, others])


def _rows_of(inst: CapacitatedInstance, best: Answer, group: IntArray) -> IntArray:
    """Rows that ``best`` assigns to a column of ``group`` (sorted)."""
    t = inst.table
    return np.sort(t.row[best.arcs[np.isin(t.col[best.arcs], group)]])


def _solve_region(
    inst: CapacitatedInstance, best: Answer, group: IntArray, rows: IntArray, *, deadline: float
) -> Answer:
    """Solve the region of ``group`` and ``rows`` with HiGHS from ``best``; the new whole."""
    t = inst.table
    mine = np.zeros(t.n_rows, dtype=bool)
    mine[rows] = True
    arcs = inst.primal[mine[t.row[inst.primal]]]
    rank = np.arange(len(arcs)) - np.searchsorted(t.row[arcs], t.row[arcs])
    allowed = ~best.open_mask
    allowed[group] = True
    near = arcs[rank < CANDIDATE_RANK]
    cols = np.union1d(group, t.col[near][allowed[t.col[near]]])
    inside = np.zeros(inst.m, dtype=bool)
    inside[cols] = True
    current = best.arcs[mine[t.row[best.arcs]]]
    arcs = arcs[inside[t.col[arcs]]]
    rank = np.arange(len(arcs)) - np.searchsorted(t.row[arcs], t.row[arcs])
    arcs = np.union1d(arcs[rank < REGION_ARCS_PER_ROW], current)
    local = np.searchsorted(rows, t.row[arcs])
    model = capacitated_model(
        local,
        t.col[arcs],
        t.cost[arcs],
        inst.demand[rows],
        inst.capacity,
        cols,
        inst.base,
        len(group),
    )
    start = np.r_[np.isin(arcs, current), np.isin(cols, group)].astype(float)
    left = max(min(REGION_SECONDS, deadline - time.perf_counter()), 0.05)
    out = model.solve(left, start=start)
    if out.x is None or out.value >= float(t.cost[current].sum()) - 1e-9:
        return best
    open_mask = best.open_mask.copy()
    open_mask[group] = False
    open_mask[cols[out.x[len(arcs) :] > 0.5]] = True
    kept = best.arcs[~mine[t.row[best.arcs]]]
    return answer_of(inst, np.r_[kept, arcs[out.x[: len(arcs)] > 0.5]], open_mask)
