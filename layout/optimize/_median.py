"""The p-median instance and its upper-bound heuristics: greedy and fast vertex substitution.

A :class:`MedianInstance` holds the weighted costs ``w_i * c_ij`` sorted within each row, plus
one "unreached" entry per row at the end (column ``m``, always open, never counted in ``p``) so
that a sparse cost matrix whose rows cannot all be reached still has a well-defined cost.
:func:`interchange` is the swap local search of Whitaker (1983) in the vectorised form of
Resende & Werneck (2004): one pass over the entries scores every (insert, remove) pair.

Examples
--------
>>> import numpy as np
>>> from layout.optimize._problem import build_problem
>>> cost = np.array([[0.0, 4.0, 9.0], [4.0, 0.0, 5.0], [9.0, 5.0, 0.0]])
>>> inst = median_instance(build_problem(cost, weights=None, fixed=None, candidates=None))
>>> open_mask = greedy(inst, inst.always_open(), 1)
>>> np.flatnonzero(open_mask[:3]).tolist(), inst.total(open_mask)
([1], 9.0)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from ._problem import FloatArray, IntArray, Problem, SortedCosts

BoolArray = npt.NDArray[np.bool_]

DENSE_CELLS = 250_000
"""Largest (rows x columns) of a full cost matrix that is also kept dense."""

REFRESH_SWAPS = 25
"""Swaps between two recomputations of the swap scores from scratch (bounds rounding drift)."""


@dataclass(frozen=True)
class DenseCosts:
    """Weighted costs of some columns as a dense (rows x ``len(cols)``) matrix.

    Parameters
    ----------
    matrix
        ``matrix[i, s]`` is the cost of row ``i`` from column ``cols[s]``; ``inf`` where the
        pair is not kept. Columns not in ``cols`` reach no row.
    cols
        The columns of the matrix, ascending.
    """

    matrix: FloatArray
    cols: IntArray

    def without(self, closed: BoolArray) -> DenseCosts:
        """Return the costs of the columns not ``closed`` (a mask over every column)."""
        keep = ~closed[self.cols]
        return DenseCosts(matrix=self.matrix[:, keep], cols=self.cols[keep])


@dataclass(frozen=True)
class MedianInstance:
    """Weighted sorted costs of a p-median problem, with the "unreached" column ``m``.

    Parameters
    ----------
    table
        Entries sorted by weighted cost within each row; the last entry of every row is the
        unreached column ``m`` at cost :attr:`penalty`.
    m
        Number of real columns; column ``m`` is the unreached column.
    fixed
        Columns that are always open (fixed sites).
    penalty
        Cost of leaving a row unreached; larger than any total of reachable costs when some row
        cannot reach every column, so that fewer unreached rows always wins.
    integral
        Whether every weighted cost is an integer (then any objective is an integer).
    dense
        The same costs as a (rows x ``m + 1``) matrix when every row reaches every column and
        the matrix is small (:data:`DENSE_CELLS`): whole-matrix numpy steps then beat the
        per-row searches of the sorted table.
    weights
        Weight of every row (its costs in :attr:`table` are already weighted).
    """

    table: SortedCosts
    m: int
    fixed: IntArray
    penalty: float
    integral: bool
    dense: DenseCosts | None
    weights: FloatArray

    def always_open(self) -> BoolArray:
        """Return the open mask holding only the fixed sites and the unreached column."""
        mask = np.zeros(self.m + 1, dtype=bool)
        mask[self.fixed] = True
        mask[self.m] = True
        return mask

    def nearest_two(self, open_mask: BoolArray) -> tuple[FloatArray, IntArray, FloatArray]:
        """Return the nearest and second-nearest open costs of every row, and the nearest column.

        Rows whose nearest open column is the unreached one get ``d2 == d1``.
        """
        d1, phi1, d2, _ = self.nearest_two_at(open_mask, None)
        return d1, phi1, d2

    def nearest_two_at(
        self, open_mask: BoolArray, rows: IntArray | None
    ) -> tuple[FloatArray, IntArray, FloatArray, IntArray]:
        """Return ``d1, phi1, d2, phi2``: the two nearest open costs and columns of ``rows``.

        ``rows`` ascending, or None for every row. Rows whose nearest open column is the
        unreached one get ``d2 == d1`` and ``phi2 == phi1``.
        """
        t = self.table
        if rows is None:
            pos = np.flatnonzero(open_mask[t.col])
        else:
            pos = t.prefix(t.indptr[rows + 1] - t.indptr[rows], rows=rows)
            pos = pos[open_mask[t.col[pos]]]
        r = t.row[pos]
        first = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        nxt = np.minimum(first + 1, len(pos) - 1)
        has_second = (first + 1 < len(pos)) & (r[nxt] == r[first])
        second = np.where(has_second, pos[nxt], pos[first])
        return t.cost[pos[first]], t.col[pos[first]], t.cost[second], t.col[second]

    def restricted(self, positions: IntArray) -> SortedCosts | DenseCosts:
        """Return the costs of the entries at ``positions`` only.

        Dense when the matrix has at most ``4 * DENSE_CELLS`` cells: the reduced models of
        the branch and bound keep few columns, and a dense step is then the cheaper one.
        """
        t = self.table
        cols, slot = np.unique(t.col[positions], return_inverse=True)
        if t.n_rows * len(cols) > 4 * DENSE_CELLS:
            return t.subset(positions)
        matrix = np.full((t.n_rows, len(cols)), np.inf)
        matrix[t.row[positions], slot] = t.cost[positions]
        return DenseCosts(matrix=matrix, cols=cols.astype(np.int64))

    @cached_property
    def by_column(self) -> tuple[IntArray, IntArray]:
        """Entry positions grouped by column, and where each column's group starts (CSC view)."""
        order = np.argsort(self.table.col, kind="stable")
        starts = np.searchsorted(self.table.col[order], np.arange(self.m + 2))
        return order.astype(np.int64), starts.astype(np.int64)

    def total(self, open_mask: BoolArray) -> float:
        """Return the weighted cost of serving every row from its nearest open column."""
        return float(self.nearest_two(open_mask)[0].sum())


def median_instance(problem: Problem) -> MedianInstance:
    """Weight the costs of ``problem`` and append the unreached column to every row."""
    base = problem.table
    n, m = base.n_rows, problem.n_local
    weighted = base.cost * problem.weights[base.row]
    counts = np.diff(base.indptr)
    row_max = np.where(counts > 0, weighted[np.maximum(base.indptr[1:] - 1, 0)], 0.0)
    penalty = float(row_max.sum() + 1.0) if (counts < m).any() else float(2 * row_max.max() + 1)
    indptr = base.indptr + np.arange(n + 1)
    last = indptr[1:] - 1
    keep = np.ones(len(weighted) + n, dtype=bool)
    keep[last] = False
    col = np.empty(len(keep), dtype=np.int64)
    cost = np.empty(len(keep))
    col[keep], cost[keep] = base.col, weighted
    col[last], cost[last] = m, penalty
    row = np.repeat(np.arange(n, dtype=np.int64), counts + 1)
    integral = bool(np.all(weighted == np.round(weighted)))
    dense = None
    if (counts == m).all() and n * (m + 1) <= DENSE_CELLS:
        matrix = np.empty((n, m + 1))
        matrix[row, col] = cost
        dense = DenseCosts(matrix=matrix, cols=np.arange(m + 1, dtype=np.int64))
    table = SortedCosts(indptr=indptr, col=col, cost=cost, row=row)
    return MedianInstance(
        table=table,
        m=m,
        fixed=problem.fixed,
        penalty=penalty,
        integral=integral,
        dense=dense,
        weights=problem.weights,
    )


def greedy(inst: MedianInstance, open_mask: BoolArray, k: int) -> BoolArray:
    """Open ``k`` more columns one at a time, each time the one that saves the most cost.

    The savings are updated only for the rows each opened column brings nearer.
    """
    t, size = inst.table, inst.m + 1
    mask = open_mask.copy()
    d1 = inst.nearest_two(mask)[0]
    gain = _below_gain(t, d1, np.arange(t.n_rows, dtype=np.int64), size)
    order, starts = inst.by_column
    for _ in range(k):
        j = int(np.argmax(np.where(mask, -1.0, gain)))
        mask[j] = True
        near = order[starts[j] : starts[j + 1]]
        near = near[t.cost[near] < d1[t.row[near]]]  # the rows column j brings nearer
        rows = t.row[near]
        gain -= _below_gain(t, d1[rows], rows, size)
        d1[rows] = t.cost[near]
        gain += _below_gain(t, d1[rows], rows, size)
    return mask


def _below_gain(t: SortedCosts, d1: FloatArray, rows: IntArray, size: int) -> FloatArray:
    """Return, per column, what opening it saves ``rows`` whose nearest open cost is ``d1``."""
    counts = t.count_below(d1, rows=rows)
    idx = t.prefix(counts, rows=rows)
    local = np.repeat(np.arange(len(rows)), counts)
    return np.asarray(np.bincount(t.col[idx], d1[local] - t.cost[idx], minlength=size), float)


class _SwapScores:
    """Gain, loss and extra of every swap (Resende & Werneck 2004), kept up to date row by row.

    ``gain[j]``: cost saved by opening ``j``; ``loss[r]``: cost added by closing ``r``;
    ``extra[j, slot[r]]``: what opening ``j`` gives back of the loss of closing ``r``. Swapping
    ``j`` in and ``r`` out saves ``gain[j] - loss[r] + extra[j, slot[r]]``. A swap changes the
    nearest two open columns of few rows, so only those rows' shares are taken out and put back.
    """

    def __init__(self, inst: MedianInstance, open_mask: BoolArray) -> None:
        self.inst = inst
        self.mask = open_mask.copy()
        self.removable = np.flatnonzero(open_mask & ~inst.always_open())
        self.slot = np.full(inst.m + 1, -1, dtype=np.int64)
        self.slot[self.removable] = np.arange(len(self.removable))
        self.refresh()

    def refresh(self) -> None:
        """Recompute every row's nearest two open columns and every score from scratch."""
        inst = self.inst
        self.d1, self.phi1, self.d2, self.phi2 = inst.nearest_two_at(self.mask, None)
        self.gain = np.zeros(inst.m + 1)
        self.loss = np.zeros(inst.m + 1)
        self.extra = np.zeros((inst.m + 1, len(self.removable)))
        self._add(np.arange(inst.table.n_rows, dtype=np.int64), 1.0)

    def _add(self, rows: IntArray, sign: float) -> None:
        """Add (``sign`` 1) or take out (``sign`` -1) the shares of ``rows`` in the scores."""
        t, size, q = self.inst.table, self.inst.m + 1, len(self.removable)
        d1, d2, phi1 = self.d1[rows], self.d2[rows], self.phi1[rows]
        self.gain += sign * _below_gain(t, d1, rows, size)
        self.loss += sign * np.bincount(phi1, d2 - d1, minlength=size)
        counts = t.count_below(d2, rows=rows)
        idx = t.prefix(counts, rows=rows)
        local = np.repeat(np.arange(len(rows)), counts)
        s = self.slot[phi1[local]]
        keep = s >= 0
        idx, local, s = idx[keep], local[keep], s[keep]
        amount = d2[local] - np.maximum(t.cost[idx], d1[local])
        pair = np.bincount(t.col[idx] * q + s, amount, minlength=size * q)
        self.extra += sign * pair.reshape(size, q)

    def best(self) -> tuple[float, int, int]:
        """Return the saving of the best swap and its (insert, remove) columns."""
        if len(self.removable) == 0:
            return 0.0, -1, -1
        profit = self.gain[:, None] - self.loss[self.removable][None, :] + self.extra
        profit[self.mask] = -np.inf
        j, s = divmod(int(np.argmax(profit)), len(self.removable))
        return float(profit[j, s]), j, int(self.removable[s])

    def swap(self, j: int, r: int) -> None:
        """Open ``j`` and close ``r``, updating the rows whose nearest two columns change."""
        order, starts = self.inst.by_column
        near_j = order[starts[j] : starts[j + 1]]
        rows_j = self.inst.table.row[near_j]
        rows = np.union1d(
            rows_j[self.inst.table.cost[near_j] < self.d2[rows_j]],
            np.flatnonzero((self.phi1 == r) | (self.phi2 == r)),
        )
        self._add(rows, -1.0)
        self.mask[j], self.mask[r] = True, False
        self.slot[j], self.slot[r] = self.slot[r], -1
        self.removable[self.slot[j]] = j
        d1, phi1, d2, phi2 = self.inst.nearest_two_at(self.mask, rows)
        self.d1[rows], self.phi1[rows], self.d2[rows], self.phi2[rows] = d1, phi1, d2, phi2
        self._add(rows, 1.0)


def interchange(
    inst: MedianInstance, open_mask: BoolArray, *, deadline: float = np.inf
) -> tuple[BoolArray, float]:
    """Apply the best swap until none saves cost (or ``deadline``); return the set and cost.

    The scores are updated row by row after each swap and recomputed from scratch every
    :data:`REFRESH_SWAPS` swaps and before stopping, so rounding never decides the answer.
    """
    scores = _SwapScores(inst, open_mask)
    done = 0
    while time.perf_counter() < deadline:
        saving, j, r = scores.best()
        if saving <= 1e-9 * max(1.0, float(scores.d1.sum())):
            if done % REFRESH_SWAPS == 0:
                break
            scores.refresh()
            done = 0
            continue
        scores.swap(j, r)
        done += 1
        if done % REFRESH_SWAPS == 0:
            scores.refresh()
    return scores.mask, float(scores.d1.sum())
