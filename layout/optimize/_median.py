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

import numpy as np
import numpy.typing as npt

from ._problem import FloatArray, IntArray, Problem, SortedCosts

BoolArray = npt.NDArray[np.bool_]

DENSE_CELLS = 250_000
"""Largest (rows x columns) of a full cost matrix that is also kept dense."""


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
    """

    table: SortedCosts
    m: int
    fixed: IntArray
    penalty: float
    integral: bool
    dense: FloatArray | None

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
        t = self.table
        pos = np.flatnonzero(open_mask[t.col])
        r = t.row[pos]
        first = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        nxt = np.minimum(first + 1, len(pos) - 1)
        has_second = (first + 1 < len(pos)) & (r[nxt] == r[first])
        second = np.where(has_second, pos[nxt], pos[first])
        return t.cost[pos[first]], t.col[pos[first]], t.cost[second]

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
        dense = np.empty((n, m + 1))
        dense[row, col] = cost
    table = SortedCosts(indptr=indptr, col=col, cost=cost, row=row)
    return MedianInstance(
        table=table, m=m, fixed=problem.fixed, penalty=penalty, integral=integral, dense=dense
    )


def greedy(inst: MedianInstance, open_mask: BoolArray, k: int) -> BoolArray:
    """Open ``k`` more columns one at a time, each time the one that saves the most cost."""
    t = inst.table
    mask = open_mask.copy()
    d1 = inst.nearest_two(mask)[0]
    for _ in range(k):
        idx = t.below(d1)
        col = t.col[idx]
        gain = np.bincount(col, d1[t.row[idx]] - t.cost[idx], minlength=inst.m + 1)
        gain[mask] = -1.0
        j = int(np.argmax(gain))
        mask[j] = True
        closer = idx[col == j]  # the rows column j brings nearer, at their new cost
        d1[t.row[closer]] = t.cost[closer]
    return mask


def best_swap(inst: MedianInstance, open_mask: BoolArray) -> tuple[float, int, int]:
    """Score every swap (open a closed column, close an open free one); return the best.

    Returns
    -------
    saving, insert, remove
        The cost saved by the best swap and its two columns; ``saving <= 0`` means the open
        set is a local optimum.
    """
    t = inst.table
    d1, phi1, d2 = inst.nearest_two(open_mask)
    idx = t.below(d1)
    gain = np.bincount(t.col[idx], d1[t.row[idx]] - t.cost[idx], minlength=inst.m + 1)
    removable = np.flatnonzero(open_mask & ~inst.always_open())
    if len(removable) == 0:
        return 0.0, -1, -1
    loss = np.bincount(phi1, d2 - d1, minlength=inst.m + 1)[removable]
    slot = np.full(inst.m + 1, -1, dtype=np.int64)
    slot[removable] = np.arange(len(removable))
    idx = t.below(d2)
    rows = t.row[idx]
    s = slot[phi1[rows]]
    keep = s >= 0
    idx, rows, s = idx[keep], rows[keep], s[keep]
    amount = d2[rows] - np.maximum(t.cost[idx], d1[rows])
    q = len(removable)
    extra = np.bincount(t.col[idx] * q + s, amount, minlength=(inst.m + 1) * q)
    profit = gain[:, None] - loss[None, :] + extra.reshape(inst.m + 1, q)
    profit[open_mask] = -np.inf
    best = int(np.argmax(profit))
    j, r = divmod(best, q)
    return float(profit[j, r]), j, int(removable[r])


def interchange(
    inst: MedianInstance, open_mask: BoolArray, *, deadline: float = np.inf
) -> tuple[BoolArray, float]:
    """Apply the best swap until none saves cost (or ``deadline``); return the set and cost."""
    mask = open_mask.copy()
    value = inst.total(mask)
    while time.perf_counter() < deadline:
        saving, j, r = best_swap(inst, mask)
        if saving <= 1e-9 * max(1.0, abs(value)):
            return mask, value
        mask[j], mask[r] = True, False
        value = inst.total(mask)
    return mask, value
