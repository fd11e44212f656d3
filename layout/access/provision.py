"""Where provision falls short: per-cell flags, per-school load, 2SFCA, under-provided areas.

The norms (service radius, travel-time limit, class-size cap) are arguments: callers take them
from the standards profile of the level being analysed, never from constants here.

Examples
--------
>>> import pandas as pd
>>> from scipy import sparse
>>> from layout.access import assign
>>> from layout.access import TravelCosts
>>> m = sparse.csr_array([[500.0], [2500.0]])
>>> costs = TravelCosts(m, m / 75, pd.Index(["a", "b"]), pd.Index(["s"]), "table")
>>> cells = pd.DataFrame({"cell_id": ["a", "b"], "children": [10, 5]})
>>> schools = pd.DataFrame({"school_id": ["s"], "capacity": [15], "classes": [1]})
>>> result = assign(cells, schools, costs)
>>> table = school_provision(result, schools, classes_column="classes", class_cap=45)
>>> flags = cell_flags(result, cells, table, radius_m=1000)
>>> flags["flag_radius"].tolist()
[False, True]
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .._arrays import row_of_entries
from .._validate import ids_text, require_amounts, require_columns, require_ids
from ..errors import ValidationError
from .allocate import Assignment
from .costs import CELL_ID, SCHOOL_ID, TravelCosts

log = logging.getLogger(__name__)

FLAGS: tuple[str, ...] = (
    "flag_radius",
    "flag_time",
    "flag_unserved",
    "flag_capacity",
    "flag_class_size",
)
"""Boolean columns of :func:`cell_flags`; ``flagged`` is their union."""


def _norm(value: float | None, name: str) -> None:
    if value is not None and not (np.isfinite(value) and value > 0):
        raise ValidationError(f"{name} must be a finite number > 0 or None, got {value!r}")


def school_provision(
    assignment: Assignment,
    schools: pd.DataFrame,
    *,
    classes_column: str | None = None,
    class_cap: float | None = None,
) -> pd.DataFrame:
    """Per-school load, utilisation and projected class size.

    Parameters
    ----------
    assignment
        From :func:`layout.access.assign` or :func:`~layout.access.assign_nearest`.
    schools
        Schools with ``school_id`` (and ``classes_column`` when given).
    classes_column
        Column with the school's number of classes for the level analysed (e.g. the sum of
        ``classes_g1`` ... ``classes_g6`` for primary); ``None`` skips class size.
    class_cap
        Largest allowed class (the profile's cap for the level, e.g. 45 for primary).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``school_id`` like ``assignment.schools``: ``capacity``, ``load``,
        ``utilisation``, ``spare`` (capacity - load), ``over_capacity``, ``classes``,
        ``class_size`` (load / classes; ``inf`` with children but no class, NaN without
        ``classes_column``) and ``over_class_cap``.

    Examples
    --------
    >>> import pandas as pd
    >>> from scipy import sparse
    >>> from layout.access import assign
    >>> from layout.access import TravelCosts
    >>> m = sparse.csr_array([[1.0]])
    >>> costs = TravelCosts(m, m, pd.Index(["a"]), pd.Index(["s"]), "table")
    >>> schools = pd.DataFrame({"school_id": ["s"], "capacity": [100], "classes": [2]})
    >>> result = assign(pd.DataFrame({"cell_id": ["a"], "children": [96]}), schools, costs)
    >>> school_provision(result, schools, classes_column="classes", class_cap=45)[
    ...     ["class_size", "over_class_cap"]].values.tolist()
    [[48.0, True]]
    """
    _norm(class_cap, "class_cap")
    table = assignment.schools.copy()
    table["spare"] = table["capacity"] - table["load"]
    table["classes"] = np.nan
    if classes_column is not None:
        ids = require_ids(schools, SCHOOL_ID, name="schools")
        classes = require_amounts(schools, classes_column, name="schools", ids=ids)
        table["classes"] = pd.Series(classes, index=ids).reindex(table.index).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        table["class_size"] = np.where(
            table["load"] > 0, table["load"] / table["classes"], 0.0 * table["classes"]
        )
    table["over_class_cap"] = table["class_size"] > class_cap if class_cap is not None else False
    return table


def cell_flags(
    assignment: Assignment,
    cells: pd.DataFrame,
    school_table: pd.DataFrame,
    *,
    radius_m: float | None = None,
    max_minutes: float | None = None,
    urban: ArrayLike | None = None,
) -> pd.DataFrame:
    """Flag the cells whose children are badly provided for, and count the children.

    A cell is flagged when any of its children travel beyond ``radius_m`` (``flag_radius``) or
    ``max_minutes`` (``flag_time``), are unserved (``flag_unserved``), attend a school over
    capacity (``flag_capacity``, possible with :func:`~layout.access.assign_nearest`) or one
    whose projected classes exceed the cap (``flag_class_size``).

    Parameters
    ----------
    assignment
        The assignment to judge.
    cells
        Cells with ``cell_id``; the result is aligned to their index.
    school_table
        From :func:`school_provision` on the same assignment.
    radius_m, max_minutes
        The service radius and travel-time norms of the level; ``None`` skips the test.
    urban
        One boolean per cell (aligned to ``cells``): when given, urban cells are judged by
        ``radius_m`` only and the others by ``max_minutes`` only (the policy's norms by
        setting); by default every cell is judged by both.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``cells.index``: ``cell_id``, ``children``, ``unserved``, the children
        counted by each flag (``beyond_radius``, ``beyond_time``, ``at_over_capacity``,
        ``at_over_class_cap``), the boolean :data:`FLAGS` and ``flagged`` (any of them).

    Examples
    --------
    >>> import pandas as pd
    >>> from scipy import sparse
    >>> from layout.access import assign
    >>> from layout.access import TravelCosts
    >>> m = sparse.csr_array([[10.0], [40.0]])
    >>> costs = TravelCosts(m * 75, m, pd.Index(["a", "b"]), pd.Index(["s"]), "table")
    >>> cells = pd.DataFrame({"cell_id": ["a", "b"], "children": [3, 4]})
    >>> schools = pd.DataFrame({"school_id": ["s"], "capacity": [5]})
    >>> result = assign(cells, schools, costs)
    >>> flags = cell_flags(result, cells, school_provision(result, schools), max_minutes=30)
    >>> flags[["beyond_time", "unserved", "flagged"]].values.tolist()
    [[0.0, 0.0, False], [2.0, 2.0, True]]
    """
    _norm(radius_m, "radius_m")
    _norm(max_minutes, "max_minutes")
    ids = require_ids(cells, CELL_ID, name="cells")
    require_columns(school_table, ["over_capacity", "over_class_cap"], name="school_table")
    flows = assignment.flows
    cell = pd.Index(ids).get_indexer(flows[CELL_ID])  # -1: a cell not asked about
    asked = cell >= 0
    cell = cell[asked]
    if urban is None:
        by_radius = by_time = np.ones(len(cell), dtype=bool)
    else:
        by_radius = np.asarray(urban, dtype=bool)[cell]
        by_time = ~by_radius
    school = school_table.index.get_indexer(flows[SCHOOL_ID])[asked]
    never = np.zeros(len(cell), dtype=bool)
    tests = {
        "beyond_radius": by_radius & (flows["metres"].to_numpy()[asked] > radius_m)
        if radius_m is not None
        else never,
        "beyond_time": by_time & (flows["minutes"].to_numpy()[asked] > max_minutes)
        if max_minutes is not None
        else never,
        "at_over_capacity": school_table["over_capacity"].to_numpy(dtype=bool)[school],
        "at_over_class_cap": school_table["over_class_cap"].to_numpy(dtype=bool)[school],
    }
    children = flows["children"].to_numpy(dtype=float)[asked]
    own = assignment.cells.index.get_indexer(ids)
    found = own >= 0
    columns: dict[str, np.ndarray] = {CELL_ID: ids.to_numpy()}
    for name in ("children", "unserved"):
        values = np.zeros(len(ids))
        values[found] = assignment.cells[name].to_numpy(dtype=float)[own[found]]
        columns[name] = values
    for name, test in tests.items():
        columns[name] = np.bincount(cell, children * test, minlength=len(ids))
    counts = ("beyond_radius", "beyond_time", "unserved", "at_over_capacity", "at_over_class_cap")
    for flag, count in zip(FLAGS, counts, strict=True):
        columns[flag] = columns[count] > 0
    columns["flagged"] = np.any([columns[flag] for flag in FLAGS], axis=0)
    return pd.DataFrame(columns, index=cells.index)


def area_balance(
    demand: pd.DataFrame,
    schools: pd.DataFrame,
    *,
    by: str = "township_code",
    demand_column: str = "children",
    capacity_column: str = "capacity",
) -> pd.DataFrame:
    """Children minus school places per area (positive: more children than places).

    Parameters
    ----------
    demand
        Cells with ``by`` and ``demand_column``.
    schools
        Schools with ``by`` and ``capacity_column``.
    by
        The area column both layers share, e.g. ``township_code`` or ``county_code``.
    demand_column, capacity_column
        Columns holding children and places.

    Returns
    -------
    pandas.DataFrame
        One row per area found in either layer: ``children``, ``capacity``, ``shortfall``
        (children - capacity).

    Examples
    --------
    >>> import pandas as pd
    >>> demand = pd.DataFrame({"township_code": ["A", "A", "B"], "children": [30, 20, 5]})
    >>> schools = pd.DataFrame({"township_code": ["A", "C"], "capacity": [40, 10]})
    >>> area_balance(demand, schools)["shortfall"].to_dict()
    {'A': 10.0, 'B': 5.0, 'C': -10.0}
    """
    pieces = np.zeros(len(demand), dtype=np.int64)
    table = area_balances(
        demand,
        schools,
        pieces=pieces,
        by=by,
        demand_column=demand_column,
        capacity_column=capacity_column,
    )
    return table.drop(columns="piece").set_index(by)


def area_balances(
    demand: pd.DataFrame,
    schools: pd.DataFrame,
    *,
    pieces: ArrayLike,
    n_pieces: int | None = None,
    by: str = "township_code",
    demand_column: str = "children",
    capacity_column: str = "capacity",
) -> pd.DataFrame:
    """:func:`area_balance` of several demands against the same schools, in one pass.

    Parameters
    ----------
    demand
        The rows of every demand, with ``by`` and ``demand_column``.
    schools
        Schools with ``by`` and ``capacity_column``.
    pieces
        The demand each row of ``demand`` belongs to: integers 0, 1, ... (as many as rows).
    n_pieces
        How many demands there are (some may have no rows); by default the largest of
        ``pieces`` plus one, and at least one.
    by, demand_column, capacity_column
        As for :func:`area_balance`.

    Returns
    -------
    pandas.DataFrame
        ``piece``, ``by``, ``children``, ``capacity``, ``shortfall``: for each piece in turn
        (0 to ``n_pieces`` - 1), the rows of :func:`area_balance` on its
        demand, in its order (the areas with children, sorted, then those with places only).

    Examples
    --------
    Two years of one township's children against a school there and one in another:

    >>> import pandas as pd
    >>> demand = pd.DataFrame({"township_code": ["A", "A", "B"], "children": [30, 20, 5]})
    >>> schools = pd.DataFrame({"township_code": ["A", "C"], "capacity": [40, 10]})
    >>> table = area_balances(demand, schools, pieces=[0, 1, 1])
    >>> table[["piece", "township_code", "shortfall"]].values.tolist()
    [[0, 'A', -10.0], [0, 'C', -10.0], [1, 'A', -20.0], [1, 'B', 5.0], [1, 'C', -10.0]]

    A third piece without children still has the places:

    >>> area_balances(demand, schools, pieces=[0, 1, 1], n_pieces=3).query("piece == 2")[
    ...     "shortfall"].tolist()
    [-40.0, -10.0]
    """
    require_columns(demand, [by, demand_column], name="demand")
    require_columns(schools, [by, capacity_column], name="schools")
    children = require_amounts(demand, demand_column, name="demand", ids=demand.index)
    capacity = require_amounts(schools, capacity_column, name="schools", ids=schools.index)
    piece = np.asarray(pieces, dtype=np.int64)
    if n_pieces is None:
        n_pieces = int(piece.max()) + 1 if len(piece) else 1
    lived, taught = pd.Index(demand[by].to_numpy()), pd.Index(schools[by].to_numpy())
    areas = lived.append(taught).unique().dropna().sort_values().rename(by)
    at = areas.get_indexer(lived)
    known = at >= 0
    cell = piece[known] * len(areas) + at[known]  # a (piece, area) pair, row-major
    size = n_pieces * len(areas)
    sums = np.bincount(cell, np.asarray(children, dtype=float)[known], size)
    present = np.bincount(cell, minlength=size).reshape(n_pieces, len(areas)) > 0
    places = _area_sums(areas, taught, capacity)
    teaches = np.isin(np.arange(len(areas)), areas.get_indexer(taught))
    # Per piece: the areas with children (sorted), then those with places only (sorted).
    rows, cols = np.nonzero(present | teaches)
    order = np.lexsort((cols, ~present[rows, cols], rows))
    rows, cols = rows[order], cols[order]
    table = pd.DataFrame(
        {
            "piece": rows,
            by: areas.take(cols),
            "children": sums.reshape(n_pieces, len(areas))[rows, cols],
            "capacity": places[cols],
        }
    )
    table["shortfall"] = table["children"] - table["capacity"]
    return table


def _area_sums(areas: pd.Index, where: pd.Index, amounts: np.ndarray) -> np.ndarray:
    """Sum ``amounts`` by the area of each row (``where``) over ``areas``; 0 for none."""
    at = areas.get_indexer(where)
    known = at >= 0
    return np.bincount(at[known], np.asarray(amounts, dtype=float)[known], len(areas))


def two_step_fca(
    cells: pd.DataFrame,
    schools: pd.DataFrame,
    costs: TravelCosts,
    *,
    threshold: float,
    demand_column: str = "children",
    capacity_column: str = "capacity",
    cost: str = "minutes",
) -> pd.Series:
    """Two-step floating catchment area accessibility of every cell.

    Step 1, each school's ratio of places to the children within reach:
    ``R_j = S_j / sum(P_k for cells k with d_kj <= threshold)``. Step 2, each cell's
    accessibility: ``A_i = sum(R_j for schools j with d_ij <= threshold)``, in places per
    child. Only the arcs of ``costs`` count, so compute costs that include every pair within
    the threshold (e.g. ``cutoff_m`` >= threshold). A school with no child within reach has
    ``R_j = 0`` (it serves nobody).

    Parameters
    ----------
    cells
        Cells with ``cell_id`` and ``demand_column``; the result is aligned to their index.
    schools
        Schools with ``school_id`` and ``capacity_column``.
    costs
        Travel costs of these cells and schools.
    threshold
        Catchment size ``d0``, in the units of ``cost``.
    demand_column, capacity_column
        Columns holding children (``P``) and places (``S``).
    cost
        ``"minutes"`` or ``"metres"``.

    Returns
    -------
    pandas.Series
        ``A_i`` named ``accessibility``, aligned to ``cells.index``.

    Examples
    --------
    >>> import pandas as pd
    >>> from scipy import sparse
    >>> m = sparse.csr_array([[5.0], [5.0]])
    >>> costs = TravelCosts(m, m, pd.Index(["a", "b"]), pd.Index(["s"]), "table")
    >>> cells = pd.DataFrame({"cell_id": ["a", "b"], "children": [30, 10]})
    >>> schools = pd.DataFrame({"school_id": ["s"], "capacity": [20]})
    >>> two_step_fca(cells, schools, costs, threshold=10).tolist()
    [0.5, 0.5]
    """
    if cost not in ("minutes", "metres"):
        raise ValidationError(f"cost must be 'minutes' or 'metres', got {cost!r}")
    _norm(threshold, "threshold")
    cell_ids = require_ids(cells, CELL_ID, name="cells")
    children = require_amounts(cells, demand_column, name="cells", ids=cell_ids)
    school_ids = require_ids(schools, SCHOOL_ID, name="schools")
    places = require_amounts(schools, capacity_column, name="schools", ids=school_ids)
    rows, cols = costs.cells.get_indexer(cell_ids), costs.schools.get_indexer(school_ids)
    for name, ids, found in (("cells", cell_ids, rows), ("schools", school_ids, cols)):
        if (found < 0).any():
            raise ValidationError(
                f"{name} {ids_text(ids[found < 0])} are not in the travel costs; compute the "
                "costs from the same layers"
            )
    matrix = getattr(costs, cost)
    within = matrix.data <= threshold
    arc_row = row_of_entries(matrix.indptr)[within]
    arc_col = matrix.indices[within]
    population = np.zeros(len(costs.cells))
    population[rows] = children
    supply = np.zeros(len(costs.schools))
    supply[cols] = places
    reach = np.bincount(arc_col, population[arc_row], len(costs.schools))
    ratio = np.divide(supply, reach, out=np.zeros_like(supply), where=reach > 0)
    access = np.bincount(arc_row, ratio[arc_col], len(costs.cells))
    return pd.Series(access[rows], index=cells.index, name="accessibility")


def _nearest_schools(
    groups: np.ndarray, costs: TravelCosts, schools: pd.DataFrame, n_schools: int
) -> pd.DataFrame:
    """Name the ``n_schools`` schools with the quickest arc from any cell of each group."""
    matrix = costs.minutes
    arc_group = groups[row_of_entries(matrix.indptr)]
    chosen = arc_group >= 0
    arcs = pd.DataFrame(
        {
            "group": arc_group[chosen],
            "school": matrix.indices[chosen],
            "minutes": matrix.data[chosen],
        }
    )
    best = arcs.groupby(["group", "school"], as_index=False)["minutes"].min()
    best = best.sort_values(["group", "minutes", "school"]).groupby("group").head(n_schools)
    names = schools.set_index(SCHOOL_ID)["name"] if "name" in schools else None
    best["id"] = costs.schools[best["school"].to_numpy()]
    best["label"] = best["id"].map(names) if names is not None else best["id"].astype(str)
    return best.groupby("group").agg(
        nearest_school_ids=("id", lambda s: "; ".join(map(str, s))),
        nearest_schools=("label", lambda s: "; ".join(map(str, s))),
    )


def under_provisioned_areas(
    flags: pd.DataFrame,
    cells: gpd.GeoDataFrame,
    costs: TravelCosts,
    schools: pd.DataFrame,
    *,
    flag: str = "flagged",
    n_schools: int = 3,
) -> gpd.GeoDataFrame:
    """Group touching flagged cells into contiguous under-provided areas.

    Cells touch when their polygons share any boundary point (queen contiguity: an edge or
    only a corner). Each area lists the ``n_schools`` schools with the shortest travel time
    (by the arcs of ``costs``) from any of its cells.

    Parameters
    ----------
    flags
        From :func:`cell_flags`, aligned to ``cells``.
    cells
        The cell polygons with ``cell_id``.
    costs
        Travel costs of the cells.
    schools
        Schools with ``school_id`` and, when present, ``name`` (used in ``nearest_schools``).
    flag
        Boolean column of ``flags`` selecting cells (``flagged`` or one of :data:`FLAGS`).
    n_schools
        Schools named per area.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per area, largest first, index ``area``: ``geometry``, ``cells``,
        ``children``, ``unserved``, ``nearest_school_ids``, ``nearest_schools``.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from scipy import sparse
    >>> from shapely.geometry import box
    >>> cells = gpd.GeoDataFrame(
    ...     {"cell_id": ["a", "b", "c"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 0, 6, 1)], crs="EPSG:4550")
    >>> flags = pd.DataFrame(
    ...     {"flagged": [True, True, True], "children": [1, 2, 4], "unserved": [0, 0, 0]})
    >>> m = sparse.csr_array([[9.0], [8.0], [1.0]])
    >>> costs = TravelCosts(m, m, pd.Index(["a", "b", "c"]), pd.Index(["s"]), "table")
    >>> schools = pd.DataFrame({"school_id": ["s"], "name": ["No. 1 Primary"]})
    >>> areas = under_provisioned_areas(flags, cells, costs, schools)
    >>> areas["cells"].tolist(), areas["children"].tolist()
    ([1, 2], [4.0, 3.0])
    """
    require_columns(flags, [flag, "children", "unserved"], name="flags")
    if not flags.index.equals(cells.index):
        raise ValidationError("flags must be aligned to cells (same index); use cell_flags(...)")
    if not isinstance(n_schools, int | np.integer) or n_schools < 1:
        raise ValidationError(f"n_schools must be a whole number >= 1, got {n_schools!r}")
    ids = require_ids(cells, CELL_ID, name="cells")
    rows = costs.cells.get_indexer(ids)
    if (rows < 0).any():
        raise ValidationError(
            f"cells {ids_text(ids[rows < 0])} are not in the travel costs; compute the costs "
            "from the same cells"
        )
    chosen = np.flatnonzero(flags[flag].to_numpy(dtype=bool))
    geometry = cells.geometry.to_numpy()[chosen]
    left, right = gpd.GeoSeries(geometry).sindex.query(geometry, predicate="intersects")
    touching = sparse.coo_array(
        (np.ones(len(left)), (left, right)), shape=(len(chosen), len(chosen))
    )
    area = connected_components(touching, directed=False)[1]
    frame = gpd.GeoDataFrame(
        {
            "area": area,
            "cells": 1,
            "children": flags["children"].to_numpy(dtype=float)[chosen],
            "unserved": flags["unserved"].to_numpy(dtype=float)[chosen],
        },
        geometry=geometry,
        crs=cells.crs,
    )
    areas = frame.dissolve(by="area", aggfunc="sum")
    groups = np.full(len(costs.cells), -1)
    groups[rows[chosen]] = area
    areas = areas.join(_nearest_schools(groups, costs, schools, n_schools))
    areas = areas.sort_values(["children", "cells"], ascending=False, kind="stable")
    areas.index = pd.RangeIndex(len(areas), name="area")
    log.info("%d under-provided areas from %d flagged cells", len(areas), len(chosen))
    return areas
