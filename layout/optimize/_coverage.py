"""Coverage matrices of the covering models (MCLP, LSCP), their reduction and greedy starts.

A row is covered by a column when their cost is at most the radius. Before the MILP, rows
already covered by a fixed site are set aside and rows with the same set of covering columns
are merged (their weights added), which shrinks county-scale grids a lot.

Examples
--------
>>> import numpy as np
>>> from layout.optimize._problem import build_problem
>>> problem = build_problem(np.array([[1.0, 9.0], [2.0, 8.0], [9.0, 1.0]]), weights=None,
...                         fixed=None, candidates=None)
>>> cover = coverage(problem, 5.0)
>>> merged, weights = merge_rows(cover, problem.weights)
>>> merged.toarray().tolist(), weights.tolist()
([[True, False], [False, True]], [2.0, 1.0])
"""

from __future__ import annotations

from typing import cast

import numpy as np
import scipy.sparse as sp

from ._problem import FloatArray, IntArray, Problem


def coverage(problem: Problem, radius: float) -> sp.csr_array:
    """Boolean (kept rows x local columns) matrix of the pairs within ``radius``."""
    t = problem.table
    keep = t.cost <= radius
    data = np.ones(int(keep.sum()), dtype=bool)
    return sp.csr_array((data, (t.row[keep], t.col[keep])), shape=(t.n_rows, problem.n_local))


def merge_rows(cover: sp.csr_array, weights: FloatArray) -> tuple[sp.csr_array, FloatArray]:
    """Merge rows with the same covering columns, adding their weights; drop empty rows."""
    cover = sp.csr_array(cover, dtype=bool)
    cover.sort_indices()
    counts = np.diff(cover.indptr)
    nonempty = np.flatnonzero(counts > 0)
    cover, weights, counts = cover[nonempty], weights[nonempty], counts[nonempty]
    rng = np.random.default_rng(12345)
    keys = rng.integers(0, 2**62, size=(cover.shape[1], 2), dtype=np.int64)
    rows = np.repeat(np.arange(cover.shape[0]), counts)
    signature = np.zeros((cover.shape[0], 3), dtype=np.int64)
    np.add.at(signature[:, 0], rows, keys[cover.indices, 0])
    np.add.at(signature[:, 1], rows, keys[cover.indices, 1])
    signature[:, 2] = counts
    _, first, group = np.unique(signature, axis=0, return_index=True, return_inverse=True)
    group = group.ravel()
    representative = first[group]
    if not np.array_equal(cover.indices, _gather(cover, representative)):
        return cover, weights  # a hash collision (never seen in practice): do not merge
    merged_weights = np.asarray(np.bincount(group, weights, minlength=len(first)), dtype=np.float64)
    return cover[first], merged_weights


def _gather(cover: sp.csr_array, rows: IntArray) -> IntArray:
    """Concatenate the column indices of ``rows`` (each with the same length as row i)."""
    counts = np.diff(cover.indptr)[rows]
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return cast(IntArray, cover.indices[np.repeat(cover.indptr[rows], counts) + offsets])


def greedy_max_cover(
    cover: sp.csr_array, weights: FloatArray, k: int, base: np.ndarray
) -> np.ndarray:
    """Open ``k`` columns besides ``base``, each covering the most uncovered weight."""
    open_mask = base.copy()
    covered = cover @ open_mask.astype(float) > 0
    for _ in range(k):
        gain = cover.T @ np.where(covered, 0.0, weights)
        gain[open_mask] = -1.0
        j = int(np.argmax(gain))
        open_mask[j] = True
        covered |= cover[:, [j]].toarray().ravel()
    return open_mask


def greedy_set_cover(cover: sp.csr_array, base: np.ndarray) -> np.ndarray:
    """Open columns until every row is covered, each time the one covering the most rows."""
    open_mask = base.copy()
    covered = cover @ open_mask.astype(float) > 0
    while not covered.all():
        gain = cover.T @ (~covered).astype(float)
        gain[open_mask] = -1.0
        j = int(np.argmax(gain))
        open_mask[j] = True
        covered |= cover[:, [j]].toarray().ravel()
    return open_mask
