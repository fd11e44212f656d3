"""Travel costs from demand cells to schools, as sparse cells x schools matrices.

Two builders return the same :class:`TravelCosts`:

- :func:`costs_from_distance`: straight-line distance between cell centroids and schools times
  a circuity factor, for the ``k`` nearest schools of each cell plus every school within a
  cut-off (a k-d tree keeps this fast at province scale);
- :func:`costs_from_network`: shortest paths on a road graph built from a line layer, with a
  walking access leg from each cell and school to its nearest network node.

The sparsity pattern is the set of arcs: a cell can only be assigned to a school it has an arc
to. Stored zeros are real arcs of zero cost (a cell whose centroid is the school), so never
call ``eliminate_zeros`` on the matrices.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point, box
>>> cells = gpd.GeoDataFrame(
...     {"cell_id": ["a", "b"]}, geometry=[box(0, 0, 100, 100), box(900, 0, 1000, 100)],
...     crs="EPSG:4550")
>>> schools = gpd.GeoDataFrame({"school_id": ["s"]}, geometry=[Point(50, 50)], crs="EPSG:4550")
>>> costs = costs_from_distance(cells, schools, circuity=1.0, speed_kmh=6.0)
>>> costs.metres.toarray().ravel().tolist()
[0.0, 900.0]
>>> costs.minutes.toarray().ravel().tolist()
[0.0, 9.0]
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from sklearn.neighbors import KDTree

from .. import schema
from .._arrays import expand_ranges, row_of_entries
from .._validate import (
    ids_text,
    require_columns,
    require_geometry,
    require_ids,
    require_metric_crs,
)
from ..errors import ValidationError
from ..network import RoadGraph, RoadNetwork

log = logging.getLogger(__name__)

CELL_ID = schema.LAYERS["population"].id_column
"""Id column of demand cells (``cell_id``)."""
SCHOOL_ID = schema.LAYERS["schools"].id_column
"""Id column of schools (``school_id``)."""

_CELL_GEOMETRY = ("Polygon", "MultiPolygon", "Point")
_UNREACHABLE_COLUMNS = ["layer", "id", "reason"]
_NO_SCHOOL_ON_PART = "no school on the cell's part of the road network"
_NO_CELL_ON_PART = "no cell on the school's part of the road network"
_DIJKSTRA_BLOCK = 4_000_000
"""Distances held at once by the network builder (sources x nodes), about 32 MB."""


def _no_unreachable() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in _UNREACHABLE_COLUMNS})


@dataclass(frozen=True, eq=False)
class TravelCosts:
    """Travel from each cell to the schools it can reach, as two sparse matrices.

    Parameters
    ----------
    metres
        CSR matrix, cells x schools, of travel distance in metres. Its sparsity pattern is the
        arc set; stored zeros are arcs of zero cost.
    minutes
        CSR matrix with the same pattern as ``metres``, of travel time in minutes.
    cells
        Cell ids, one per matrix row (``cell_id``).
    schools
        School ids, one per matrix column (``school_id``).
    method
        How the costs were made: ``"distance"`` or ``"network"`` (free text for others).
    unreachable
        Cells and schools on a part of the road network with nothing to reach, with columns
        ``layer`` (``"cells"`` or ``"schools"``), ``id`` and ``reason``. They keep their row or
        column (with no arcs): nothing is dropped.

    Raises
    ------
    ValidationError
        If the shapes or patterns disagree, ids repeat, or a cost is NaN, infinite or negative
        (the message names the cell ids of the rows).

    Examples
    --------
    >>> import pandas as pd
    >>> from scipy import sparse
    >>> m = sparse.csr_array([[100.0, 0.0], [0.0, 50.0]])
    >>> costs = TravelCosts(m, m / 75, pd.Index(["a", "b"]), pd.Index(["s", "t"]), "table")
    >>> costs.arcs()["metres"].tolist()
    [100.0, 50.0]
    """

    metres: sparse.csr_array
    minutes: sparse.csr_array
    cells: pd.Index
    schools: pd.Index
    method: str
    unreachable: pd.DataFrame = field(default_factory=_no_unreachable)

    def __post_init__(self) -> None:
        problems = []
        shape = (len(self.cells), len(self.schools))
        for name in ("metres", "minutes"):
            matrix = getattr(self, name)
            if not sparse.issparse(matrix) or matrix.format != "csr":
                problems.append(f"TravelCosts.{name} must be a scipy.sparse CSR matrix")
            elif matrix.shape != shape:
                problems.append(
                    f"TravelCosts.{name} has shape {matrix.shape}, but there are {shape[0]} "
                    f"cells and {shape[1]} schools"
                )
        for name, ids in (("cells", self.cells), ("schools", self.schools)):
            if ids.has_duplicates:
                problems.append(f"TravelCosts.{name} repeats ids {ids_text(ids[ids.duplicated()])}")
        if problems:
            raise ValidationError(problems)
        if not (
            np.array_equal(self.metres.indptr, self.minutes.indptr)
            and np.array_equal(self.metres.indices, self.minutes.indices)
        ):
            raise ValidationError(
                "TravelCosts.metres and .minutes must have the same sparsity pattern (arc set)"
            )
        rows = row_of_entries(self.metres.indptr)
        for name in ("metres", "minutes"):
            data = getattr(self, name).data
            bad = ~np.isfinite(data) | (data < 0)
            if bad.any():
                problems.append(
                    f"TravelCosts.{name} holds NaN, infinite or negative costs in the rows of "
                    f"cells {ids_text(self.cells[np.unique(rows[bad])])}; fix the costs"
                )
        if problems:
            raise ValidationError(problems)

    def arcs(self) -> pd.DataFrame:
        """Return the arcs as a long table: ``cell_id``, ``school_id``, ``metres``, ``minutes``.

        Examples
        --------
        >>> import pandas as pd
        >>> from scipy import sparse
        >>> m = sparse.csr_array([[120.0]])
        >>> TravelCosts(m, m / 60, pd.Index(["a"]), pd.Index(["s"]), "table").arcs().shape
        (1, 4)
        """
        return pd.DataFrame(
            {
                CELL_ID: self.cells.to_numpy()[row_of_entries(self.metres.indptr)],
                SCHOOL_ID: self.schools.to_numpy()[self.metres.indices],
                "metres": self.metres.data,
                "minutes": self.minutes.data,
            }
        )

    def where(self, keep: np.ndarray) -> TravelCosts:
        """Return the costs with only the arcs where ``keep`` is true (same cells and schools).

        Parameters
        ----------
        keep
            One boolean per arc, in the order of the matrices' stored entries (and of
            :meth:`arcs`).

        Examples
        --------
        >>> import pandas as pd
        >>> from scipy import sparse
        >>> m = sparse.csr_array([[100.0, 300.0], [0.0, 50.0]])
        >>> costs = TravelCosts(m, m / 75, pd.Index(["a", "b"]), pd.Index(["s", "t"]), "table")
        >>> costs.where(costs.metres.data < 200).arcs()[["cell_id", "school_id"]].values.tolist()
        [['a', 's'], ['b', 't']]
        """
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != self.metres.data.shape:
            raise ValidationError(
                f"keep must hold one boolean per arc ({self.metres.nnz}), got shape {keep.shape}"
            )
        rows = row_of_entries(self.metres.indptr)[keep]
        indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=len(self.cells)))))
        indices = self.metres.indices[keep]
        shape = self.metres.shape
        return dataclasses.replace(
            self,
            metres=sparse.csr_array((self.metres.data[keep], indices, indptr), shape=shape),
            minutes=sparse.csr_array(
                (self.minutes.data[keep], indices.copy(), indptr.copy()), shape=shape
            ),
        )

    @classmethod
    def stacked(cls, parts: Sequence[TravelCosts], *, cells: pd.Index | pd.Series) -> TravelCosts:
        """Join the costs of disjoint sets of cells to the same schools, rows in ``cells`` order.

        Used where cells of one level travel by different modes (by setting).

        Examples
        --------
        >>> import pandas as pd
        >>> from scipy import sparse
        >>> s = pd.Index(["s"])
        >>> a = TravelCosts(sparse.csr_array([[100.0]]), sparse.csr_array([[1.0]]),
        ...                 pd.Index(["a"]), s, "network")
        >>> b = TravelCosts(sparse.csr_array([[900.0]]), sparse.csr_array([[2.0]]),
        ...                 pd.Index(["b"]), s, "network")
        >>> both = TravelCosts.stacked([a, b], cells=pd.Index(["b", "a"]))
        >>> both.metres.toarray().tolist(), both.metres.nnz, both.method
        ([[900.0], [100.0]], 2, 'network')
        """
        schools = parts[0].schools
        if any(not p.schools.equals(schools) for p in parts):
            raise ValidationError("TravelCosts.stacked: every part must cost the same schools")
        joined = pd.Index(np.concatenate([p.cells.to_numpy() for p in parts]), name=CELL_ID)
        order = joined.get_indexer(pd.Index(cells))
        if (order < 0).any() or len(order) != len(joined):
            raise ValidationError("TravelCosts.stacked: cells must be the parts' cells, each once")
        metres = sparse.vstack([p.metres for p in parts], format="csr")[order]
        minutes = sparse.vstack([p.minutes for p in parts], format="csr")[order]
        unreachable = pd.concat([p.unreachable for p in parts], ignore_index=True)
        method = "+".join(dict.fromkeys(p.method for p in parts))
        return cls(
            sparse.csr_array(metres),
            sparse.csr_array(minutes),
            joined[order],
            schools,
            method,
            unreachable,
        )

    @classmethod
    def from_arcs(cls, arcs: pd.DataFrame, *, method: str = "table") -> TravelCosts:
        """Build costs from a long table of arcs, the form :meth:`arcs` returns.

        Cells and schools are the ids that appear in ``arcs``, sorted; a repeated arc keeps
        its first row.

        Examples
        --------
        >>> import pandas as pd
        >>> arcs = pd.DataFrame({"cell_id": ["b", "a"], "school_id": ["s", "s"],
        ...                      "metres": [750.0, 1500.0], "minutes": [10.0, 20.0]})
        >>> costs = TravelCosts.from_arcs(arcs)
        >>> list(costs.cells), costs.minutes.toarray().ravel().tolist()
        (['a', 'b'], [20.0, 10.0])
        """
        require_columns(arcs, [CELL_ID, SCHOOL_ID, "metres", "minutes"], name="arcs")
        cells = pd.Index(np.unique(arcs[CELL_ID].to_numpy()), name=CELL_ID)
        schools = pd.Index(np.unique(arcs[SCHOOL_ID].to_numpy()), name=SCHOOL_ID)
        matrices = _csr_pair(
            cells.get_indexer(arcs[CELL_ID]),
            schools.get_indexer(arcs[SCHOOL_ID]),
            arcs["metres"].to_numpy(dtype=float),
            arcs["minutes"].to_numpy(dtype=float),
            (len(cells), len(schools)),
        )
        return cls(*matrices, cells, schools, method)


class _Points(NamedTuple):
    cells: pd.Index
    schools: pd.Index
    cell_xy: np.ndarray
    school_xy: np.ndarray


def _points(
    cells: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | RoadNetwork | None = None,
) -> _Points:
    """Check the layers and return ids and coordinates of cell centroids and schools."""
    layers = {"cells": cells, "schools": schools}
    if roads is not None:
        layers["roads"] = roads
    require_metric_crs(layers)
    cell_ids = require_ids(cells, CELL_ID, name="cells")
    school_ids = require_ids(schools, SCHOOL_ID, name="schools")
    problems = [
        f"{name} has no rows; {hint}"
        for name, ids, hint in (
            ("cells", cell_ids, "there is no demand to cost"),
            ("schools", school_ids, "there is no school of this level to travel to"),
        )
        if len(ids) == 0
    ]
    if problems:
        raise ValidationError(problems)
    require_geometry(cells, _CELL_GEOMETRY, name="cells", ids=cell_ids)
    require_geometry(schools, ("Point",), name="schools", ids=school_ids)
    cell_xy = shapely.get_coordinates(cells.geometry.centroid.to_numpy())
    school_xy = shapely.get_coordinates(schools.geometry.to_numpy())
    return _Points(cell_ids, school_ids, cell_xy, school_xy)


def _require_positive(**options: float | None) -> None:
    bad = [
        f"{name} must be a finite number > 0, got {value!r}"
        for name, value in options.items()
        if value is not None and not (np.isfinite(value) and value > 0)
    ]
    if bad:
        raise ValidationError(bad)


def _csr_pair(
    rows: np.ndarray,
    cols: np.ndarray,
    metres: np.ndarray,
    minutes: np.ndarray,
    shape: tuple[int, int],
) -> tuple[sparse.csr_array, sparse.csr_array]:
    """Build metres and minutes CSR matrices on one arc set, keeping the first of repeated arcs."""
    keys, first = np.unique(rows.astype(np.int64) * shape[1] + cols, return_index=True)
    indptr = np.concatenate(([0], np.cumsum(np.bincount(keys // shape[1], minlength=shape[0]))))
    indices = (keys % shape[1]).astype(np.int32)
    return (
        sparse.csr_array((metres[first], indices, indptr), shape=shape),
        sparse.csr_array((minutes[first], indices.copy(), indptr.copy()), shape=shape),
    )


def costs_from_distance(
    cells: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    *,
    circuity: float,
    speed_kmh: float,
    cutoff_m: float | None = None,
    k: int | None = None,
) -> TravelCosts:
    """Cost cells to schools by straight-line distance times a circuity factor.

    Each cell gets an arc to every school within ``cutoff_m`` metres of travel (straight
    line x ``circuity``) and to its ``k`` nearest schools; with neither, to every school.
    ``k`` alone is a shortcut, right only where the caller knows that farther schools change
    no answer.

    Parameters
    ----------
    cells
        Demand cells (polygons, or points) with a ``cell_id`` column; centroids are used.
    schools
        School points with a ``school_id`` column, in the same projected metric CRS.
    circuity
        Ratio of travel distance to straight-line distance (>= 1); the profile's
        ``service.circuity``.
    speed_kmh
        Travel speed turning metres into minutes.
    cutoff_m
        Keep every school within this travel distance in metres.
    k
        Keep each cell's ``k`` nearest schools (all schools when there are fewer).

    Returns
    -------
    TravelCosts
        ``method="distance"``; rows follow ``cells``, columns follow ``schools``.

    Raises
    ------
    ValidationError
        On a geographic or mismatched CRS, missing id column, repeated ids, empty layer, wrong
        geometry type or a bad option.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> cells = gpd.GeoDataFrame({"cell_id": ["a"]}, geometry=[Point(0, 0)], crs="EPSG:4550")
    >>> schools = gpd.GeoDataFrame(
    ...     {"school_id": ["s", "t"]}, geometry=[Point(300, 400), Point(0, 1000)],
    ...     crs="EPSG:4550")
    >>> costs = costs_from_distance(cells, schools, circuity=1.2, speed_kmh=3.6, cutoff_m=1000)
    >>> costs.metres.toarray().tolist()
    [[600.0, 0.0]]
    """
    if k is not None and (not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1):
        raise ValidationError(f"k must be a whole number >= 1 or None, got {k!r}")
    _require_positive(cutoff_m=cutoff_m, speed_kmh=speed_kmh)
    if not (np.isfinite(circuity) and circuity >= 1):
        raise ValidationError(f"circuity must be a finite number >= 1, got {circuity!r}")
    points = _points(cells, schools)
    n, m = len(points.cells), len(points.schools)
    tree = KDTree(points.school_xy)
    nearest = m if cutoff_m is None and k is None else min(k or 0, m)
    rows = np.repeat(np.arange(n), nearest)
    if nearest:
        straight, cols = tree.query(points.cell_xy, k=nearest)
        cols, straight = cols.ravel(), straight.ravel()
    else:
        cols, straight = np.zeros(0, dtype=np.int64), np.zeros(0)
    if cutoff_m is not None:
        within, gaps = tree.query_radius(
            points.cell_xy, r=cutoff_m / circuity, return_distance=True
        )
        counts = np.fromiter(map(len, within), dtype=np.int64, count=n)
        rows = np.concatenate((rows, np.repeat(np.arange(n), counts)))
        cols = np.concatenate((cols, *within)).astype(np.int64)
        straight = np.concatenate((straight, *gaps))
    metres = straight * circuity
    matrices = _csr_pair(rows, cols, metres, metres / (speed_kmh * 1000 / 60), (n, m))
    log.info("distance costs: %d cells x %d schools, %d arcs", n, m, matrices[0].nnz)
    return TravelCosts(*matrices, points.cells, points.schools, "distance")


def _members(groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the items sorted by group and the CSR pointer of each group's run."""
    order = np.argsort(groups, kind="stable")
    return order, np.concatenate(([0], np.cumsum(np.bincount(groups, minlength=n_groups))))


def _expand(
    pairs_group: np.ndarray, order: np.ndarray, ptr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Repeat each pair once per member of its group: (pair index, member)."""
    lengths = ptr[pairs_group + 1] - ptr[pairs_group]
    pair = np.repeat(np.arange(len(pairs_group)), lengths)
    return pair, order[expand_ranges(ptr[pairs_group], lengths)]


def _node_paths(
    graph: RoadGraph, sources: np.ndarray, targets: np.ndarray, cutoff_min: float | None
) -> tuple[np.ndarray, ...]:
    """Network minutes and metres from each source node to each target node within reach.

    Minutes are the fastest path, metres the shortest path (they may follow different routes).
    The metre search is limited to ``cutoff_min`` at the top speed, which bounds the length of
    any path within the time limit.
    """
    limit_min = np.inf if cutoff_min is None else cutoff_min
    limit_m = np.inf if cutoff_min is None else cutoff_min * graph.top_speed * (1 + 1e-9)
    block = max(1, _DIJKSTRA_BLOCK // max(1, len(graph.node_xy)))
    none, nothing = np.zeros(0, dtype=np.int64), np.zeros(0)
    found: list[tuple[np.ndarray, ...]] = [(none, none, nothing, nothing)]
    for first in range(0, len(sources), block):
        chunk = sources[first : first + block]
        minutes = dijkstra(graph.minutes, directed=False, indices=chunk, limit=limit_min)
        metres = dijkstra(graph.metres, directed=False, indices=chunk, limit=limit_m)
        minutes, metres = minutes[:, targets], metres[:, targets]
        src, tgt = np.nonzero(np.isfinite(minutes))
        found.append((src + first, tgt, minutes[src, tgt], metres[src, tgt]))
    return tuple(np.concatenate(parts) for parts in zip(*found, strict=True))


def costs_from_network(
    cells: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | RoadNetwork,
    *,
    cutoff_min: float | None = None,
    walk_kmh: float = 4.5,
    speed_cap_kmh: float | None = None,
    snap_m: float = 1.0,
) -> TravelCosts:
    """Cost cells to schools along the road network.

    The graph has a node at every line vertex; vertices closer than ``snap_m`` (also of
    different lines) merge into one node, so roads that meet join. Each segment is an
    undirected edge of its length, travelled at the line's ``speed_kmh`` (capped at
    ``speed_cap_kmh``). Every cell centroid and school joins its nearest node by a straight
    walking leg at ``walk_kmh``. Shortest paths run from every school (multi-source Dijkstra,
    limited to ``cutoff_min``).

    Parameters
    ----------
    cells
        Demand cells with a ``cell_id`` column; centroids are used.
    schools
        School points with a ``school_id`` column.
    roads
        Road lines with ``road_id`` and ``speed_kmh`` columns (schema layer ``roads``), or
        their :class:`RoadNetwork` built beforehand.
    cutoff_min
        Keep arcs of at most this many minutes; ``None`` keeps every reachable school.
    walk_kmh
        Speed of the access legs between a cell or school and its nearest node.
    speed_cap_kmh
        Cap on road speeds, e.g. the walking speed for day pupils who go on foot.
    snap_m
        Distance within which vertices merge into one node (when ``roads`` is a layer).

    Returns
    -------
    TravelCosts
        ``method="network"``. ``minutes`` is the fastest time and ``metres`` the shortest
        distance; the two may come from different routes. Cells on a part of the network with no
        school (and schools with no cell) are listed in ``unreachable`` and keep an empty row
        (column).

    Raises
    ------
    ValidationError
        On a bad CRS, missing columns, repeated ids, wrong geometry, a road speed that is not a
        number > 0, or a bad option.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> crs = "EPSG:4550"
    >>> roads = gpd.GeoDataFrame(
    ...     {"road_id": ["r1", "r2"], "road_class": ["x", "x"], "speed_kmh": [6.0, 30.0]},
    ...     geometry=[LineString([(0, 0), (600, 0)]), LineString([(600, 0), (600, 3000)])],
    ...     crs=crs)
    >>> cells = gpd.GeoDataFrame({"cell_id": ["c"]}, geometry=[Point(0, 0)], crs=crs)
    >>> schools = gpd.GeoDataFrame({"school_id": ["s"]}, geometry=[Point(600, 3000)], crs=crs)
    >>> costs = costs_from_network(cells, schools, roads)
    >>> costs.metres.toarray().tolist(), costs.minutes.toarray().tolist()
    ([[3600.0]], [[12.0]])
    """
    _require_positive(cutoff_min=cutoff_min, walk_kmh=walk_kmh, speed_cap_kmh=speed_cap_kmh)
    points = _points(cells, schools, roads)
    network = (
        roads if isinstance(roads, RoadNetwork) else RoadNetwork.from_roads(roads, snap_m=snap_m)
    )
    graph = network._graph(speed_cap_kmh)
    tree = KDTree(graph.node_xy)
    cell_leg, cell_node = (a.ravel() for a in tree.query(points.cell_xy, k=1))
    school_leg, school_node = (a.ravel() for a in tree.query(points.school_xy, k=1))
    part = connected_components(graph.metres, directed=False)[1]
    cell_ok = np.isin(part[cell_node], part[school_node])
    school_ok = np.isin(part[school_node], part[cell_node])
    sources, school_source = np.unique(school_node[school_ok], return_inverse=True)
    targets, cell_target = np.unique(cell_node[cell_ok], return_inverse=True)
    src, tgt, path_min, path_m = _node_paths(graph, sources, targets, cutoff_min)
    school_order, school_ptr = _members(school_source, len(sources))
    cell_order, cell_ptr = _members(cell_target, len(targets))
    pair, school = _expand(src, np.flatnonzero(school_ok)[school_order], school_ptr)
    pair_cell, cell = _expand(tgt[pair], np.flatnonzero(cell_ok)[cell_order], cell_ptr)
    pair = pair[pair_cell]
    school = school[pair_cell]
    walk = walk_kmh * 1000 / 60
    minutes = (cell_leg[cell] + school_leg[school]) / walk + path_min[pair]
    metres = cell_leg[cell] + school_leg[school] + path_m[pair]
    keep = slice(None) if cutoff_min is None else minutes <= cutoff_min
    shape = (len(points.cells), len(points.schools))
    matrices = _csr_pair(cell[keep], school[keep], metres[keep], minutes[keep], shape)
    unreachable = pd.DataFrame(
        {
            "layer": ["cells"] * int((~cell_ok).sum()) + ["schools"] * int((~school_ok).sum()),
            "id": [*points.cells[~cell_ok], *points.schools[~school_ok]],
            "reason": [_NO_SCHOOL_ON_PART] * int((~cell_ok).sum())
            + [_NO_CELL_ON_PART] * int((~school_ok).sum()),
        },
        columns=_UNREACHABLE_COLUMNS,
    )
    if len(unreachable):
        log.warning("network costs: %d cells/schools unreachable", len(unreachable))
    return TravelCosts(*matrices, points.cells, points.schools, "network", unreachable)
