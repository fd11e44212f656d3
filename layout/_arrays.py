"""Vectorised helpers over CSR-style runs (a pointer array delimiting each row's entries).

Examples
--------
>>> import numpy as np
>>> from layout._arrays import expand_ranges
>>> expand_ranges(np.array([0, 5]), np.array([2, 3])).tolist()
[0, 1, 5, 6, 7]
"""

from __future__ import annotations

from typing import cast

import numpy as np


def expand_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(start, start + length)`` for every pair, without a Python loop.

    Examples
    --------
    >>> expand_ranges(np.array([3, 0]), np.array([1, 2])).tolist()
    [3, 0, 1]
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    ends = np.cumsum(lengths)
    offsets = np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - lengths, lengths)
    return cast(np.ndarray, np.repeat(np.asarray(starts, dtype=np.int64), lengths) + offsets)


def row_of_entries(indptr: np.ndarray) -> np.ndarray:
    """Return the row number of every entry of a CSR pointer array.

    Examples
    --------
    >>> row_of_entries(np.array([0, 2, 2, 3])).tolist()
    [0, 0, 2]
    """
    return np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
