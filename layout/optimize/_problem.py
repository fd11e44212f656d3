"""Checked inputs of the siting solvers and the row-sorted cost table they all search.

Every solver of :mod:`layout.optimize` starts here: :func:`check_inputs` collects every problem
with the arguments into one :class:`~layout.errors.ValidationError`, and :func:`build_problem`
turns a dense or sparse cost matrix into a :class:`Problem`: the demand rows that matter, the
columns where a facility may open, and a :class:`SortedCosts` table whose entries are sorted by
cost inside each row (missing entries of a sparse matrix and ``inf`` entries of a dense one are
"not reachable" and are simply absent).

Examples
--------
>>> import numpy as np
>>> problem = build_problem(np.array([[3.0, 1.0], [2.0, 5.0]]), weights=None, fixed=None,
...                         candidates=None)
>>> problem.table.cost.tolist()
[1.0, 3.0, 2.0, 5.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from ..errors import ValidationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
CostMatrix: TypeAlias = npt.ArrayLike | sp.sparray | sp.spmatrix


@dataclass(frozen=True)
class SortedCosts:
    """Reachable (row, column, cost) entries sorted by cost within each row (CSR layout).

    Parameters
    ----------
    indptr
        ``indptr[i]:indptr[i + 1]`` are the entries of row ``i``.
    col
        Local column of each entry (index into :attr:`Problem.cols`).
    cost
        Unweighted cost of each entry, ascending within each row.
    row
        Row of each entry (``np.repeat`` of the row ids by row length).
    """

    indptr: IntArray
    col: IntArray
    cost: FloatArray
    row: IntArray

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.indptr) - 1

    def count_below(self, threshold: FloatArray, *, rows: IntArray | None = None) -> IntArray:
        """Count, per row, the entries whose cost is strictly below ``threshold[row]``.

        A branch-free binary search over all rows at once (the rows are sorted). With ``rows``
        only those rows are searched, ``threshold`` holding one value for each of them.
        """
        start = self.indptr[:-1] if rows is None else self.indptr[rows]
        length = np.diff(self.indptr) if rows is None else self.indptr[rows + 1] - start
        count = np.zeros(len(start), dtype=np.int64)
        step = 1 << int(length.max(initial=0)).bit_length() if len(self.cost) else 0
        while step:
            trial = count + step
            last = start + np.minimum(trial, length) - 1
            ok = (trial <= length) & (self.cost[np.maximum(last, 0)] < threshold)
            count = np.where(ok, trial, count)
            step >>= 1
        return count

    def prefix(self, counts: IntArray, *, rows: IntArray | None = None) -> IntArray:
        """Return the entry positions of the first ``counts[i]`` entries of every row.

        With ``rows``, ``counts`` holds one count for each of those rows, in their order.
        """
        start = self.indptr[:-1] if rows is None else self.indptr[rows]
        shift = start - np.cumsum(counts) + counts  # entry position minus output position
        return np.repeat(shift, counts) + np.arange(int(counts.sum()))

    def below(self, threshold: FloatArray) -> IntArray:
        """Return the positions of the entries with cost strictly below ``threshold[row]``."""
        return self.prefix(self.count_below(threshold))

    def subset(self, positions: IntArray) -> SortedCosts:
        """Return the table of the entries at ``positions`` (ascending), rows kept in place."""
        row = self.row[positions]
        indptr = np.zeros(self.n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=self.n_rows), out=indptr[1:])
        return SortedCosts(
            indptr=indptr, col=self.col[positions], cost=self.cost[positions], row=row
        )


@dataclass(frozen=True)
class Problem:
    """A checked siting problem restricted to the rows and columns that matter.

    Parameters
    ----------
    n_rows, n_cols
        Shape of the caller's cost matrix.
    rows
        Caller's row ids of the rows kept (positive weight), ascending.
    weights
        Weight of each kept row.
    cols
        Caller's column ids where a facility may open (candidates and fixed), ascending.
    fixed
        Local column ids (into ``cols``) of the fixed facilities.
    table
        Sorted reachable entries of the kept rows, with local column ids.
    matrix
        The checked cost matrix (a float array or CSR array; a copy of the caller's).
    """

    n_rows: int
    n_cols: int
    rows: IntArray
    weights: FloatArray
    cols: IntArray
    fixed: IntArray
    table: SortedCosts
    matrix: FloatArray | sp.csr_array

    @property
    def n_local(self) -> int:
        """Number of columns where a facility may open."""
        return len(self.cols)

    def unreachable_rows(self) -> IntArray:
        """Caller's ids of the kept rows that reach no column where a facility may open."""
        return cast(IntArray, self.rows[np.diff(self.table.indptr) == 0])


def check_inputs(  # noqa: PLR0913 - one place for the checks every solver shares
    cost: CostMatrix,
    *,
    p: int | None,
    weights: npt.ArrayLike | None,
    fixed: npt.ArrayLike | None,
    candidates: npt.ArrayLike | None,
    extra: list[str] | None = None,
) -> tuple[FloatArray | sp.csr_array, FloatArray, IntArray, IntArray]:
    """Check the arguments every solver shares; raise one error listing every problem.

    Returns
    -------
    cost, weights, fixed, allowed
        The cost matrix as a float array or CSR array (never the caller's object), the row
        weights (ones when ``weights`` is None), the fixed column ids and the sorted column
        ids where a facility may open.
    """
    problems = list(extra or [])
    matrix = _as_matrix(cost, problems)
    n_rows, n_cols = matrix.shape if matrix is not None else (0, 0)
    w = _as_weights(weights, n_rows, problems) if matrix is not None else np.ones(0)
    fixed_ids = _as_columns(fixed, "fixed", n_cols, problems)
    cand_ids = _as_columns(candidates, "candidates", n_cols, problems)
    if candidates is None:
        allowed = np.arange(n_cols, dtype=np.int64)
    else:
        allowed = np.union1d(cand_ids, fixed_ids).astype(np.int64)
    if p is not None and not problems:
        if p > len(allowed):
            problems.append(
                f"p={p} is larger than the number of columns where a facility may open "
                f"({len(allowed)} candidates and fixed sites); lower p or add candidates."
            )
        if p < len(fixed_ids):
            problems.append(
                f"p={p} is smaller than the number of fixed sites ({len(fixed_ids)}); every "
                "fixed site stays open, so raise p or pass fewer fixed sites."
            )
    if problems:
        raise ValidationError(problems)
    assert matrix is not None  # noqa: S101 - narrowed by the problems check above
    return matrix, w, fixed_ids, allowed


def _as_matrix(cost: CostMatrix, problems: list[str]) -> FloatArray | sp.csr_array | None:
    values: FloatArray
    if sp.issparse(cost):
        matrix: FloatArray | sp.csr_array = sp.csr_array(cost, dtype=np.float64, copy=True)
        values = cast(sp.csr_array, matrix).data
    else:
        try:
            matrix = np.array(cost, dtype=np.float64)
        except (TypeError, ValueError):
            problems.append("cost must be a 2-D numeric array or a scipy.sparse matrix.")
            return None
        values = matrix
    if matrix.ndim != 2 or 0 in matrix.shape:
        problems.append(
            f"cost must be a non-empty 2-D matrix (demand rows x candidate columns), got shape "
            f"{matrix.shape}."
        )
        return None
    nan = np.isnan(values)
    if nan.any():
        problems.append(
            f"cost has NaN entries at (row, column) {_show(_where(matrix, nan))}; use np.inf or "
            "leave the entry out of a sparse matrix to mark a pair as not reachable."
        )
    negative = values < 0
    if negative.any():
        problems.append(
            f"cost has negative entries at (row, column) {_show(_where(matrix, negative))}; "
            "costs are distances or travel times and must be >= 0."
        )
    if sp.issparse(matrix) and np.isinf(values).any():
        problems.append("a sparse cost matrix must not store inf; leave unreachable pairs out.")
    return matrix


def _where(matrix: FloatArray | sp.csr_array, mask: npt.NDArray[np.bool_]) -> IntArray:
    """Return (row, column) pairs of the flagged values of a dense array or of CSR data."""
    if not sp.issparse(matrix):
        return np.argwhere(mask)
    csr = cast(sp.csr_array, matrix)
    rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
    return np.column_stack([rows[mask], csr.indices[mask]])


def _as_weights(weights: npt.ArrayLike | None, n_rows: int, problems: list[str]) -> FloatArray:
    if weights is None:
        return np.ones(n_rows)
    w = np.array(weights, dtype=np.float64).ravel()
    if len(w) != n_rows:
        problems.append(
            f"weights has {len(w)} values but cost has {n_rows} rows; pass one weight per row."
        )
        return np.ones(n_rows)
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if len(bad):
        problems.append(f"weights must be finite and >= 0; bad rows {_show(bad)}.")
    elif not (w > 0).any():
        problems.append("weights are all zero; at least one demand row needs a positive weight.")
    return w


def _as_columns(ids: npt.ArrayLike | None, name: str, n_cols: int, problems: list[str]) -> IntArray:
    if ids is None:
        return np.zeros(0, dtype=np.int64)
    raw = np.array(ids).ravel()
    if raw.size and not np.issubdtype(raw.dtype, np.integer):
        problems.append(f"{name} must hold integer column ids of cost, got dtype {raw.dtype}.")
        return np.zeros(0, dtype=np.int64)
    arr = raw.astype(np.int64)
    out = arr[(arr < 0) | (arr >= n_cols)]
    if len(out):
        problems.append(
            f"{name} holds column ids {_show(out)} outside 0..{n_cols - 1} (cost has {n_cols} "
            "columns)."
        )
    if len(np.unique(arr)) != len(arr):
        problems.append(f"{name} holds repeated column ids; pass each site once.")
    return np.unique(arr[(arr >= 0) & (arr < n_cols)])


def _show(values: npt.ArrayLike, limit: int = 10) -> str:
    items = [tuple(int(v) for v in x) if np.ndim(x) else int(x) for x in np.asarray(values)]
    text = ", ".join(str(x) for x in items[:limit])
    return f"[{text}{', ...' if len(items) > limit else ''}]"


def show_ids(values: npt.ArrayLike) -> str:
    """Format at most ten ids for an error message."""
    return _show(values)


def build_problem(
    cost: CostMatrix,
    *,
    weights: npt.ArrayLike | None,
    fixed: npt.ArrayLike | None,
    candidates: npt.ArrayLike | None,
    p: int | None = None,
    extra: list[str] | None = None,
) -> Problem:
    """Check the inputs and build the sorted table of reachable entries.

    Rows of zero weight and columns that are neither candidates nor fixed are left out.
    """
    matrix, w, fixed_ids, allowed = check_inputs(
        cost, p=p, weights=weights, fixed=fixed, candidates=candidates, extra=extra
    )
    rows = np.flatnonzero(w > 0).astype(np.int64)
    local_of = np.full(matrix.shape[1], -1, dtype=np.int64)
    local_of[allowed] = np.arange(len(allowed))
    if sp.issparse(matrix):
        r, c, v = _sorted_rows(sp.csr_array(matrix[rows][:, allowed]))
    else:
        dense = matrix[np.ix_(rows, allowed)]
        by_cost = np.argsort(dense, axis=1, kind="stable")  # inf sorts last in every row
        v = np.take_along_axis(dense, by_cost, axis=1).ravel()
        c = by_cost.ravel()
        r = np.repeat(np.arange(len(rows)), len(allowed))
        finite = np.isfinite(v)
        r, c, v = r[finite], c[finite], v[finite]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=len(rows)), out=indptr[1:])
    table = SortedCosts(indptr=indptr, col=c.astype(np.int64), cost=v, row=r.astype(np.int64))
    return Problem(
        n_rows=matrix.shape[0],
        n_cols=matrix.shape[1],
        rows=rows,
        weights=w[rows],
        cols=allowed,
        fixed=local_of[fixed_ids],
        table=table,
        matrix=matrix,
    )


def _sorted_rows(csr: sp.csr_array) -> tuple[IntArray, IntArray, FloatArray]:
    """Return the (row, column, cost) entries of ``csr`` sorted by cost within each row.

    The rows are padded with ``inf`` to the longest one and sorted all at once (much faster
    than a lexsort of every entry) when that at most doubles the entries, as with the k
    nearest candidates of every row.
    """
    length = np.diff(csr.indptr).astype(np.int64)
    n, width = len(length), int(length.max(initial=0))
    row = np.repeat(np.arange(n, dtype=np.int64), length)
    if n * width > 2 * len(csr.data):
        order = np.lexsort((csr.data, row))
        return row[order], csr.indices[order].astype(np.int64), csr.data[order]
    slot = np.arange(len(csr.data)) - np.repeat(csr.indptr[:-1], length)
    padded = np.full((n, width), np.inf)
    padded[row, slot] = csr.data
    cols = np.full((n, width), -1, dtype=np.int64)
    cols[row, slot] = csr.indices
    by_cost = np.argsort(padded, axis=1, kind="stable")
    kept = (np.arange(width)[None, :] < length[:, None]).ravel()
    cost = np.take_along_axis(padded, by_cost, axis=1).ravel()[kept]
    return row, np.take_along_axis(cols, by_cost, axis=1).ravel()[kept], cost


def nearest_open(
    cost: CostMatrix, open_cols: IntArray, *, radius: float = np.inf
) -> tuple[IntArray, FloatArray]:
    """Return, for every row, the nearest open column within ``radius`` and its cost.

    Rows that reach no open column within ``radius`` get column ``-1`` and cost ``inf``.
    """
    if sp.issparse(cost):
        sub = sp.csr_array(cost, dtype=np.float64)[:, open_cols].tocoo()
        keep = sub.data <= radius
        r, c, v = sub.row[keep], sub.col[keep], sub.data[keep]
        order = np.lexsort((c, v, r))
        r, c, v = r[order], c[order], v[order]
        first = np.r_[True, r[1:] != r[:-1]] if len(r) else np.zeros(0, dtype=bool)
        n_rows = cast(sp.csr_array, cost).shape[0]
        assign = np.full(n_rows, -1, dtype=np.int64)
        dist = np.full(n_rows, np.inf)
        assign[r[first]] = open_cols[c[first]]
        dist[r[first]] = v[first]
        return assign, dist
    sub = np.asarray(cost, dtype=np.float64)[:, open_cols]
    sub = np.where(sub <= radius, sub, np.inf)
    best = np.argmin(sub, axis=1)
    dist = sub[np.arange(sub.shape[0]), best]
    assign = np.where(np.isfinite(dist), open_cols[best], -1)
    return assign.astype(np.int64), dist
