"""Synthetic township zones: Voronoi regions of the zone seats clipped to the county."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ..errors import ValidationError
from .grid import clip


def zones(polygon: BaseGeometry, seat_xy: np.ndarray) -> np.ndarray:
    """Zone polygons aligned to the seats: the Voronoi region of each seat within the county.

    Examples
    --------
    >>> z = zones(shapely.box(0, 0, 4, 2), np.array([[1.0, 1.0], [3.0, 1.0]]))
    >>> shapely.area(z).tolist()
    [4.0, 4.0]
    """
    frame = shapely.envelope(polygon).buffer(1.0)
    regions = shapely.voronoi_polygons(shapely.multipoints(seat_xy), extend_to=frame, ordered=True)
    return clip(shapely.get_parts(regions), polygon)


def holding(zones: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Index of the zone polygon holding each point (the first, on a shared edge).

    Examples
    --------
    >>> z = zones(shapely.box(0, 0, 4, 2), np.array([[1.0, 1.0], [3.0, 1.0]]))
    >>> holding(z, shapely.points([[3.5, 1.0], [0.5, 0.5]])).tolist()
    [1, 0]
    """
    point, zone = shapely.STRtree(zones).query(points, predicate="intersects")
    first = np.unique(point, return_index=True)[1]
    held = np.full(len(points), -1, dtype=np.intp)
    held[point[first]] = zone[first]
    if (held < 0).any():
        raise ValidationError("a point lies outside every township zone of its county")
    return held


def codes(county_code: str, seat_urban: np.ndarray) -> list[str]:
    """Township codes: county code + ``001``... for urban zones, ``101``... for rural ones.

    Examples
    --------
    >>> codes("210381", np.array([True, False, False]))
    ['210381001', '210381101', '210381102']
    """
    urban_rank = np.cumsum(seat_urban)
    rural_rank = np.cumsum(~seat_urban)
    number = np.where(seat_urban, urban_rank, 100 + rural_rank)
    return [f"{county_code}{n:03d}" for n in number]
