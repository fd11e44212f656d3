"""The roads layer as a graph (:class:`RoadNetwork`), built once per study.

Nodes are the lines' vertices (vertices closer than ``snap_m`` merged), edges the segments
with their lengths and speeds; :func:`layout.access.costs_from_network` runs shortest paths
on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import NamedTuple, cast

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.neighbors import KDTree

from . import schema
from ._validate import (
    ids_text,
    require_amounts,
    require_geometry,
    require_ids,
)
from .errors import ValidationError

log = logging.getLogger(__name__)

ROAD_ID = schema.LAYERS["roads"].id_column
SPEED_COLUMN = "speed_kmh"
"""Road speed column of the roads layer, in km/h."""


class RoadGraph(NamedTuple):
    """A road network as sparse node-to-node metres and minutes, for the path searches."""

    node_xy: np.ndarray
    metres: sparse.csr_array
    minutes: sparse.csr_array
    top_speed: float
    """Fastest edge speed in metres per minute."""


def _snap_vertices(xy: np.ndarray, tolerance: float) -> np.ndarray:
    """Label vertices so that vertices within ``tolerance`` (transitively) share a node."""
    near = KDTree(xy).query_radius(xy, r=tolerance)
    counts = np.fromiter(map(len, near), dtype=np.int64, count=len(xy))
    pairs = sparse.coo_array(
        (np.ones(counts.sum()), (np.repeat(np.arange(len(xy)), counts), np.concatenate(near))),
        shape=(len(xy), len(xy)),
    )
    return cast(np.ndarray, connected_components(pairs, directed=False)[1])


def _lightest_edges(
    lo: np.ndarray, hi: np.ndarray, weight: np.ndarray, n_nodes: int
) -> sparse.csr_array:
    """Upper-triangular adjacency keeping the lightest of parallel edges."""
    keys = lo.astype(np.int64) * n_nodes + hi
    order = np.lexsort((weight, keys))
    first = order[np.r_[True, keys[order][1:] != keys[order][:-1]]]
    return sparse.csr_array((weight[first], (lo[first], hi[first])), shape=(n_nodes, n_nodes))


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A road layer as a graph, built once for any number of cost runs on it.

    Nodes are the lines' vertices, vertices closer than ``snap_m`` (also of different lines)
    merged into one node so that roads that meet join; each segment is an undirected edge.
    Building it (snapping every vertex) is most of the work of a small cost run, so a study
    builds its network once (:attr:`layout.study.Study.road_network`) and passes it to
    :func:`costs_from_network` in place of the road layer.

    Attributes
    ----------
    crs
        CRS of the road layer.
    node_xy
        Coordinates of each node.
    lo, hi
        End nodes of each edge (``lo < hi``).
    metres, speed_kmh
        Length and speed of each edge.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> roads = gpd.GeoDataFrame(
    ...     {"road_id": ["r1", "r2"], "speed_kmh": [6.0, 30.0]},
    ...     geometry=[LineString([(0, 0), (600, 0)]), LineString([(600, 0.4), (600, 3000)])],
    ...     crs="EPSG:4550")
    >>> network = RoadNetwork.from_roads(roads)
    >>> len(network.node_xy), network.metres.round(1).tolist()
    (3, [600.0, 2999.6])
    """

    crs: object
    node_xy: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    metres: np.ndarray
    speed_kmh: np.ndarray

    @classmethod
    def from_roads(cls, roads: gpd.GeoDataFrame, *, snap_m: float = 1.0) -> RoadNetwork:
        """Build the network of a road layer (``road_id``, ``speed_kmh``, lines).

        Raises
        ------
        ValidationError
            On repeated ids, wrong geometry, a speed that is not a number > 0, or a bad
            ``snap_m``.
        """
        if not (np.isfinite(snap_m) and snap_m >= 0):
            raise ValidationError(f"snap_m must be a finite number >= 0, got {snap_m!r}")
        ids = require_ids(roads, ROAD_ID, name="roads")
        speeds = require_amounts(roads, SPEED_COLUMN, name="roads", ids=ids)
        if (speeds == 0).any():
            raise ValidationError(
                f"roads.{SPEED_COLUMN} is 0 in rows {ids_text(ids[speeds == 0])}; give a speed "
                "> 0 or drop roads nobody can travel"
            )
        require_geometry(roads, ("LineString", "MultiLineString"), name="roads", ids=ids)
        parts, part_row = shapely.get_parts(roads.geometry.to_numpy(), return_index=True)
        xy, vertex_part = shapely.get_coordinates(parts, return_index=True)
        start = np.flatnonzero(vertex_part[1:] == vertex_part[:-1])
        label = _snap_vertices(xy, snap_m)
        _, first_vertex = np.unique(label, return_index=True)
        u, v = label[start], label[start + 1]
        keep = u != v
        start, u, v = start[keep], u[keep], v[keep]
        log.info("road network: %d nodes, %d segments", len(first_vertex), len(start))
        return cls(
            crs=roads.crs,
            node_xy=xy[first_vertex],
            lo=np.minimum(u, v),
            hi=np.maximum(u, v),
            metres=np.hypot(*(xy[start + 1] - xy[start]).T),
            speed_kmh=speeds[part_row[vertex_part[start]]],
        )

    def largest_piece_share(self) -> float:
        """Return the share of the road length in the largest connected piece of the network.

        Near 1 for a noded network; low when lines cross without a shared vertex (un-noded
        roads do not join, so a child on one piece reaches no school on another).

        Examples
        --------
        >>> import geopandas as gpd
        >>> from shapely.geometry import LineString
        >>> crossing = gpd.GeoDataFrame(  # an X of two roads sharing no vertex
        ...     {"road_id": ["a", "b"], "speed_kmh": [30.0, 30.0]},
        ...     geometry=[LineString([(0, 0), (300, 300)]), LineString([(0, 300), (300, 0)])],
        ...     crs="EPSG:4550")
        >>> RoadNetwork.from_roads(crossing).largest_piece_share()
        0.5
        """
        n_nodes = len(self.node_xy)
        if not len(self.lo):
            return 1.0
        edges = sparse.coo_array((np.ones(len(self.lo)), (self.lo, self.hi)), (n_nodes, n_nodes))
        count, piece = connected_components(edges, directed=False)
        length = np.bincount(piece[self.lo], weights=self.metres, minlength=count)
        return float(length.max() / length.sum())

    def _graph(self, speed_cap_kmh: float | None) -> RoadGraph:
        """Return the weighted graph, road speeds capped at ``speed_cap_kmh``."""
        speeds = (
            self.speed_kmh if speed_cap_kmh is None else np.minimum(self.speed_kmh, speed_cap_kmh)
        )
        speed = speeds * 1000 / 60
        n_nodes = len(self.node_xy)
        return RoadGraph(
            node_xy=self.node_xy,
            metres=_lightest_edges(self.lo, self.hi, self.metres, n_nodes),
            minutes=_lightest_edges(self.lo, self.hi, self.metres / speed, n_nodes),
            top_speed=float(speed.max(initial=0.0)),
        )
