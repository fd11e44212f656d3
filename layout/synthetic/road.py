"""A synthetic road network: trees joining seats and villages, a grid in each urban centre.

* expressways: minimum spanning tree of the county seats; national roads: each seat's two
  nearest other seats when not already joined;
* per county, a minimum spanning tree of the county seat and the zone seats: urban roads
  between urban seats, provincial roads from an urban to a township seat, county roads
  between township seats;
* village roads: minimum spanning tree of each zone's seat and villages;
* urban roads: a square grid of streets :data:`URBAN_SPACING_M` apart over the built-up area
  (the urban cells) of each urban centre, joined to the centre by one street.

Lines between two nodes get two wiggle vertices; their end points are the nodes exactly, so
the network is connected through shared end points.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist, squareform

SPEED_KMH = {
    "expressway": 100.0,
    "national": 80.0,
    "provincial": 60.0,
    "county": 50.0,
    "village": 30.0,
    "urban": 30.0,
}
"""Assumed speeds of each road class."""

URBAN_KM_PER_KM2 = 8.0
"""Street length per km2 of built-up area: the national target of 中共中央 国务院《关于进一步加强
城市规划建设管理工作的若干意见》(2016), "到2020年，城市建成区平均路网密度提高到8公里/平方公里"."""
URBAN_SPACING_M = 2_000.0 / URBAN_KM_PER_KM2
"""Spacing of the urban street grid: a square grid ``s`` metres apart has ``2000 / s`` km/km2."""


def tree_edges(xy: np.ndarray) -> np.ndarray:
    """Edges ``(i, j)`` of the Euclidean minimum spanning tree of distinct points.

    Examples
    --------
    >>> tree_edges(np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]])).tolist()
    [[0, 1], [1, 2]]
    """
    if len(xy) < 2:
        return np.empty((0, 2), dtype=np.intp)
    tree = minimum_spanning_tree(squareform(pdist(xy))).tocoo()
    edges = np.sort(np.column_stack([tree.row, tree.col]), axis=1)
    return edges[np.lexsort((edges[:, 1], edges[:, 0]))]


def _lines(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lines from ``a`` to ``b`` with two vertices moved sideways by about 4% of the length."""
    step = b - a
    normal = np.column_stack([-step[:, 1], step[:, 0]])
    offset = rng.normal(0.0, 0.04, (len(a), 2))
    inner = [a + step * t + normal * offset[:, [i]] for i, t in enumerate((1 / 3, 2 / 3))]
    return cast(np.ndarray, shapely.linestrings(np.stack([a, *inner, b], axis=1)))


def _frame(geometry: np.ndarray, road_class: str | np.ndarray) -> pd.DataFrame:
    """Road rows with their class."""
    return pd.DataFrame({"road_class": road_class, "geometry": geometry})


def highways(centres: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Expressways (spanning tree) and national roads (two nearest seats) between seats."""
    tree = tree_edges(centres)
    k = min(3, len(centres))
    near = cKDTree(centres).query(centres, k=k)[1].reshape(len(centres), k)
    pairs = np.sort(np.column_stack([np.repeat(near[:, 0], k - 1), near[:, 1:].ravel()]), axis=1)
    pairs = np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)
    known = {tuple(e) for e in tree.tolist()}
    extra = np.array([p for p in pairs.tolist() if tuple(p) not in known], dtype=np.intp)
    extra = extra.reshape(-1, 2)
    return pd.concat(
        [
            _frame(_lines(centres[tree[:, 0]], centres[tree[:, 1]], rng), "expressway"),
            _frame(_lines(centres[extra[:, 0]], centres[extra[:, 1]], rng), "national"),
        ],
        ignore_index=True,
    )


def street_grid(
    lower: np.ndarray, upper: np.ndarray, spacing: float, *, centre: np.ndarray | None = None
) -> pd.DataFrame:
    """Urban streets: a square grid over a rectangle, one line a street, a vertex a crossing.

    Lines run at ``lower + k * spacing`` up to ``upper`` both ways; every crossing is a vertex
    of both streets, so the network joins there. A grid of spacing ``s`` holds ``2 / s`` km of
    street per km2: 250 m gives the national target of 8 km/km2 (:data:`URBAN_KM_PER_KM2`).
    With ``centre``, one more street joins it to the nearest crossing.

    Examples
    --------
    >>> grid = street_grid(np.array([0.0, 0.0]), np.array([500.0, 1000.0]), 250.0)
    >>> len(grid), round(sum(g.length for g in grid["geometry"]))
    (8, 5500)
    """
    xs = lower[0] + np.arange(int(np.floor((upper[0] - lower[0]) / spacing + 1e-9)) + 1) * spacing
    ys = lower[1] + np.arange(int(np.floor((upper[1] - lower[1]) / spacing + 1e-9)) + 1) * spacing
    east = [np.column_stack([xs, np.full(len(xs), y)]) for y in ys]
    north = [np.column_stack([np.full(len(ys), x), ys]) for x in xs]
    lines = [shapely.LineString(c) for c in [*east, *north]]
    if centre is not None:
        node = [xs[np.argmin(np.abs(xs - centre[0]))], ys[np.argmin(np.abs(ys - centre[1]))]]
        lines.append(shapely.LineString([centre, node]))
    return _frame(np.array(lines), "urban")


def county_roads(
    centre: np.ndarray,
    seat_xy: np.ndarray,
    seat_urban: np.ndarray,
    village_xy: np.ndarray,
    seat_village: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Roads within one county: seats to the county seat, villages to their zone seat."""
    nodes = np.vstack([centre, seat_xy])
    urban = np.r_[True, seat_urban]
    edges = tree_edges(nodes)
    ends_urban = urban[edges].sum(axis=1)
    kind = np.select([ends_urban == 2, ends_urban == 1], ["urban", "provincial"], "county")
    parts = [_frame(_lines(nodes[edges[:, 0]], nodes[edges[:, 1]], rng), kind)]
    if len(village_xy):
        zone = cKDTree(seat_xy).query(village_xy)[1]
        is_seat = np.zeros(len(village_xy), bool)
        is_seat[seat_village[seat_village >= 0]] = True
        for z in range(len(seat_xy)):  # one spanning tree per zone
            points = np.vstack([seat_xy[z], village_xy[(zone == z) & ~is_seat]])
            edges = tree_edges(points)
            parts.append(_frame(_lines(points[edges[:, 0]], points[edges[:, 1]], rng), "village"))
    return pd.concat(parts, ignore_index=True)


def study_roads(
    centres: np.ndarray, county_roads: list[pd.DataFrame], seed: int, population: pd.DataFrame
) -> pd.DataFrame:
    """Return a study's roads: seat highways, each seat's street grid, the counties' roads.

    ``centres`` are the county seats (x, y; a seat shared by several counties is laid once);
    the urban cells of ``population`` get the street grid of their nearest seat. Every road
    gets an id and the speed of its class.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> cells = pd.DataFrame({"setting": ["urban"], "geometry": [box(0, 0, 500, 500)]})
    >>> roads = study_roads(np.array([[250.0, 250.0]]), [], 0, cells)
    >>> sorted(set(roads["road_class"])), roads["road_id"].iloc[0]
    (['urban'], 'W000001')
    """
    centres = np.unique(np.round(centres, 3), axis=0)
    rng = np.random.default_rng([seed, 2])
    urban = population[population["setting"] == "urban"]
    inner = shapely.centroid(urban["geometry"].to_numpy())
    owner = cKDTree(centres).query(np.column_stack([shapely.get_x(inner), shapely.get_y(inner)]))[1]
    bounds = shapely.bounds(urban["geometry"].to_numpy())
    grids = [
        _seat_grid(centre, bounds[owner == k]) for k, centre in enumerate(centres)
        if (owner == k).any()
    ]  # fmt: skip
    roads = pd.concat([highways(centres, rng), *grids, *county_roads], ignore_index=True)
    roads.insert(0, "road_id", [f"W{k + 1:06d}" for k in range(len(roads))])
    roads["speed_kmh"] = roads["road_class"].map(SPEED_KMH)
    return roads


def _seat_grid(centre: np.ndarray, bounds: np.ndarray) -> pd.DataFrame:
    """Lay the street grid over the urban cells of one seat (their bounds), joined to it."""
    lower = np.floor(bounds[:, :2].min(axis=0) / URBAN_SPACING_M) * URBAN_SPACING_M
    upper = np.ceil(bounds[:, 2:].max(axis=0) / URBAN_SPACING_M) * URBAN_SPACING_M
    return street_grid(lower, upper, URBAN_SPACING_M, centre=centre)
