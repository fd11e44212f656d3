"""0-1 knapsacks of every column at once: the subproblems of the capacitated Lagrangian bound.

Relaxing the assignment constraints of the capacitated p-median leaves, for each column ``j``,
a 0-1 knapsack: pick rows ``i`` of reduced cost ``c_ij - lam_i < 0`` whose demands fit in the
column's capacity, minimising the sum of their reduced costs. :func:`solve_knapsacks` solves
all of them exactly by dynamic programming over whole capacities, one numpy step per item rank
(the k-th item of every column at once), and keeps each column's table of best values by
capacity, which prices forcing a row into a column (Lagrangian reduced-cost fixing).

Demands and capacities are made integer by :func:`knapsack_units`: exactly when they are
integers already (and small), otherwise by scaling and rounding the demands *down* and the
capacities down, which only enlarges each knapsack's feasible set, so the value stays a valid
lower bound.

Examples
--------
>>> import numpy as np
>>> units = knapsack_units(np.array([3.0, 2.0, 2.0]), np.array([4.0]))
>>> units.demand.tolist(), units.capacity.tolist()
([3, 2, 2], [4])
>>> out = solve_knapsacks(
...     col=np.array([0, 0, 0]), row=np.array([0, 1, 2]), reduced=np.array([-5.0, -3.0, -3.0]),
...     units=units, n_cols=1)
>>> out.value.tolist(), out.take.tolist()  # rows 1 and 2 (-6) beat row 0 alone (-5)
([-6.0], [False, True, True])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._problem import FloatArray, IntArray

MAX_UNITS = 2048
"""Most capacity units of a knapsack table (demands are scaled to fit when larger)."""

TABLE_CELLS = 60_000_000
"""Most (items x capacity units) decision cells kept for one solve; fewer units beyond it."""


@dataclass(frozen=True)
class KnapsackUnits:
    """Integer demands (per row) and capacities (per column) of the knapsacks.

    Parameters
    ----------
    demand
        Units of each row: ``floor(demand * factor)``.
    capacity
        Units of each column: ``floor(capacity * factor)``.
    factor
        Units per unit of demand (1 when the data are small integers: then exact).
    source
        The demands and capacities the units were made from.
    """

    demand: IntArray
    capacity: IntArray
    factor: float
    source: tuple[FloatArray, FloatArray]

    def coarser(self, factor: float) -> KnapsackUnits:
        """Return the units at ``factor`` (never finer than these)."""
        return _floor_units(*self.source, min(factor, self.factor))


def _floor_units(demand: FloatArray, capacity: FloatArray, factor: float) -> KnapsackUnits:
    # rounding errors may only lower a demand or raise a capacity: the relaxation stays valid
    return KnapsackUnits(
        np.floor(demand * factor).astype(np.int64),
        np.floor(capacity * factor * (1 + 1e-12) + 1e-9).astype(np.int64),
        factor,
        (demand, capacity),
    )


def knapsack_units(demand: FloatArray, capacity: FloatArray) -> KnapsackUnits:
    """Integer units for ``demand`` and ``capacity``, exact when they are small integers.

    Any set of rows whose demands fit in a capacity still fits in units
    (``sum floor(d s) <= floor(sum d s) <= floor(Q s)``), so the knapsack on units is a
    relaxation of the true one.
    """
    top = float(capacity.max(initial=0.0))
    whole = bool(np.all(demand == np.round(demand)) and np.all(capacity == np.round(capacity)))
    if whole and top <= MAX_UNITS:
        return _floor_units(demand, capacity, 1.0)
    return _floor_units(demand, capacity, MAX_UNITS / max(top, 1e-12))


@dataclass(frozen=True)
class Knapsacks:
    """Solved knapsacks of every column.

    Parameters
    ----------
    value
        Each column's optimal sum of reduced costs (0 for a column with no item).
    take
        Whether each item is in its column's optimal knapsack.
    table
        ``table[j, u]``: column ``j``'s optimal value within ``u`` capacity units (over the
        same items); non-increasing in ``u``.
    units
        The integer units used (those of the call, or fewer when the table would be too large).
    """

    value: FloatArray
    take: npt.NDArray[np.bool_]
    table: FloatArray
    units: KnapsackUnits


def knapsack_bounds(
    *, col: IntArray, reduced: FloatArray, weight: IntArray, capacity: IntArray, n_cols: int
) -> tuple[FloatArray, FloatArray]:
    """Bounds of every column's knapsack: the fractional one below, a greedy one above.

    Both take items by decreasing ``-reduced / weight``: the fractional knapsack fills the
    capacity with a part of the first item that does not fit (a lower bound of the minimum);
    the greedy one stops before it (a feasible choice, so an upper bound).
    """
    with np.errstate(divide="ignore"):
        ratio = np.where(weight > 0, -reduced / np.maximum(weight, 1), np.inf)
    order = np.lexsort((-ratio, col))
    c, w, v = col[order], weight[order].astype(np.float64), reduced[order]
    cum = np.cumsum(w)
    first = np.searchsorted(c, c, side="left")
    used = cum - np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
    room = capacity[c] - (used - w)
    part = np.where(w > 0, np.clip(room / np.where(w > 0, w, 1.0), 0.0, 1.0), 1.0)
    lower = np.bincount(c, v * part, minlength=n_cols).astype(np.float64)
    upper = np.bincount(c, v * (used <= capacity[c]), minlength=n_cols).astype(np.float64)
    return lower, upper


def solve_knapsacks(  # noqa: PLR0913 - the items and what to solve
    *,
    col: IntArray,
    row: IntArray,
    reduced: FloatArray,
    units: KnapsackUnits,
    n_cols: int,
    exact: npt.NDArray[np.bool_] | None = None,
) -> Knapsacks:
    """Solve the 0-1 knapsack of every column over the items ``(row, col, reduced)``.

    ``reduced`` must be < 0 (items of reduced cost >= 0 never help). Each column ``j`` picks
    items whose row units sum to at most ``units.capacity[j]`` minimising their ``reduced``.
    Only the columns of ``exact`` (default all) are solved; the others get the fractional
    lower bound as ``value``, no item taken and a table row of zeros.
    """
    if exact is not None:
        wanted = exact[col]
        out = solve_knapsacks(
            col=col[wanted], row=row[wanted], reduced=reduced[wanted], units=units, n_cols=n_cols
        )
        lower, _ = knapsack_bounds(
            col=col,
            reduced=reduced,
            weight=out.units.demand[row],
            capacity=out.units.capacity,
            n_cols=n_cols,
        )
        take = np.zeros(len(col), dtype=bool)
        take[np.flatnonzero(wanted)[out.take]] = True
        value = np.where(exact, out.value, lower)
        return Knapsacks(value=value, take=take, table=out.table, units=out.units)
    n_items = len(col)
    width = int(units.capacity.max(initial=0)) + 1
    if n_items * width > TABLE_CELLS:
        units = units.coarser(units.factor * TABLE_CELLS / (n_items * width))
        width = int(units.capacity.max(initial=0)) + 1
    order = np.argsort(col, kind="stable")
    counts = np.bincount(col, minlength=n_cols)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    table = np.zeros((n_cols, width))
    weight = units.demand[row]
    steps: list[tuple[IntArray, npt.NDArray[np.bool_]]] = []
    span = np.arange(width)
    for k in range(int(counts.max(initial=0))):
        cols = np.flatnonzero(counts > k)
        items = order[starts[cols] + k]
        w, v = weight[items], reduced[items]
        current = table[cols]
        source = span[None, :] - w[:, None]
        shifted = np.take_along_axis(current, np.maximum(source, 0), axis=1) + v[:, None]
        better = (source >= 0) & (shifted < current)
        table[cols] = np.where(better, shifted, current)
        steps.append((items, better))
    take = np.zeros(n_items, dtype=bool)
    room = units.capacity.copy()
    for items, better in reversed(steps):
        cols = col[items]
        chosen = better[np.arange(len(items)), room[cols]]
        take[items[chosen]] = True
        room[cols[chosen]] -= weight[items[chosen]]
    value = table[np.arange(n_cols), units.capacity]
    return Knapsacks(value=value, take=take, table=table, units=units)
