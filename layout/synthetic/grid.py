"""Square population cells clipped to a county polygon, and polygon clean-up helpers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

_POLYGON, _MULTIPOLYGON = 3, 6  # shapely type ids


@dataclass(frozen=True)
class Cells:
    """Grid cells of one county, one element per cell.

    Attributes
    ----------
    geometry
        Cell polygons: full squares inside the county, clipped pieces at its edge.
    x, y
        A point inside each cell: the centre of a full square, else a point on the surface.
    area
        Cell area in square metres.
    ix, iy
        Column and row of the square in the study-wide grid (``floor(x / size)``).
    interior
        ``True`` for full squares lying wholly inside the county.
    size
        Side of the squares in metres.
    """

    geometry: np.ndarray
    x: np.ndarray
    y: np.ndarray
    area: np.ndarray
    ix: np.ndarray
    iy: np.ndarray
    interior: np.ndarray
    size: float

    @property
    def xy(self) -> np.ndarray:
        """Cell points as an ``(n, 2)`` array."""
        return np.column_stack([self.x, self.y])

    def take(self, index: np.ndarray) -> Cells:
        """Return the cells selected by a boolean mask or integer index."""
        return Cells(
            geometry=self.geometry[index],
            x=self.x[index],
            y=self.y[index],
            area=self.area[index],
            ix=self.ix[index],
            iy=self.iy[index],
            interior=self.interior[index],
            size=self.size,
        )


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep the polygonal part of each geometry (``None`` where there is none).

    Intersections of polygons may return collections holding slivers of lines or points;
    those parts are dropped and the polygons merged into one (Multi)Polygon.
    """
    out = np.asarray(geoms, dtype=object).copy()
    types = shapely.get_type_id(out)
    odd = np.flatnonzero(~np.isin(types, (_POLYGON, _MULTIPOLYGON)))
    if odd.size == 0:
        return out
    parts, owner = shapely.get_parts(out[odd], return_index=True)
    keep = shapely.get_type_id(parts) == _POLYGON
    out[odd] = None
    if keep.any():
        owners, inverse = np.unique(owner[keep], return_inverse=True)
        out[odd[owners]] = shapely.multipolygons(parts[keep], indices=inverse)
    return out


def clip(geoms: np.ndarray, polygon: BaseGeometry) -> np.ndarray:
    """Clip geometries to a polygon, keeping polygonal parts (``None`` when nothing is left)."""
    clipped = polygonal(shapely.intersection(geoms, polygon))
    empty = shapely.is_empty(clipped) | (shapely.area(clipped) <= 0.0)
    clipped[empty] = None
    return clipped


def grid_cells(polygon: BaseGeometry, *, size: float) -> Cells:
    """Cut a county polygon into squares of ``size`` metres aligned on multiples of ``size``.

    Parameters
    ----------
    polygon
        County (Multi)Polygon in a projected CRS with metre units.
    size
        Side of a square cell in metres.

    Returns
    -------
    Cells
        Squares wholly inside the county kept whole, squares crossing its edge clipped to it.

    Examples
    --------
    >>> cells = grid_cells(shapely.box(0, 0, 1000, 750), size=500)
    >>> cells.area.tolist()
    [250000.0, 250000.0, 125000.0, 125000.0]
    """
    x0, y0, x1, y1 = polygon.bounds
    cols = np.arange(np.floor(x0 / size), np.ceil(x1 / size), dtype=np.int64)
    rows = np.arange(np.floor(y0 / size), np.ceil(y1 / size), dtype=np.int64)
    ix, iy = (a.ravel() for a in np.meshgrid(cols, rows))
    boxes = shapely.box(ix * size, iy * size, (ix + 1) * size, (iy + 1) * size)
    shapely.prepare(polygon)
    interior = shapely.contains_properly(polygon, boxes)
    edge = np.flatnonzero(~interior & shapely.intersects(polygon, boxes))
    geometry = boxes.copy()
    geometry[edge] = clip(boxes[edge], polygon)
    keep = interior.copy()
    keep[edge] = ~shapely.is_missing(geometry[edge])
    geometry, ix, iy, interior = geometry[keep], ix[keep], iy[keep], interior[keep]
    x = (ix + 0.5) * size
    y = (iy + 0.5) * size
    inner = shapely.point_on_surface(geometry[~interior])
    x[~interior], y[~interior] = shapely.get_x(inner), shapely.get_y(inner)
    return Cells(
        geometry=geometry,
        x=x,
        y=y,
        area=shapely.area(geometry),
        ix=ix,
        iy=iy,
        interior=interior,
        size=size,
    )
