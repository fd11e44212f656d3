"""The cell grid as images: one small PNG per view, for maps with more cells than a browser draws.

A province has hundreds of thousands of cells; drawn as vector polygons with their figures for
every level, scenario and year, the page would weigh hundreds of megabytes. Instead, the cells
are burnt once into a raster in Web Mercator (the projection Leaflet draws in, so an image
overlay sits exactly on its bounds) with :func:`rasterio.features.rasterize`, each pixel holding
its cell's position; each view (a level, scenario and year) is then that raster looked up
through the view's class of every cell, and written as a paletted PNG (Pillow) inlined as a
``data:`` URL, so the map still opens offline. The pixels are half a cell wide (at most
:data:`MAX_SIDE` on the longer side), so every cell covers at least one pixel.

Examples
--------
Three 500 m cells in a row; the middle one is class 2 (the second colour), the others none:

>>> import geopandas as gpd, numpy as np
>>> from shapely.geometry import box
>>> cells = gpd.GeoSeries([box(500_000 + 500 * i, 4_550_000, 500_500 + 500 * i, 4_550_500)
...                        for i in range(3)], crs="EPSG:4550")
>>> grid = cell_grid(cells)
>>> grid.index  # 1 + the cell at each pixel (the rounding up leaves a last empty row)
array([[1, 1, 2, 2, 3, 3],
       [1, 1, 2, 2, 3, 3],
       [0, 0, 0, 0, 0, 0]], dtype=int32)
>>> images = grid_images(grid, np.array([[0, 2, 0]], dtype=np.uint8),
...                      colours=["#969696", "#ffff99"])
>>> images[0].startswith("data:image/png;base64,")
True
>>> import base64, io
>>> from PIL import Image
>>> png = Image.open(io.BytesIO(base64.b64decode(images[0].partition(",")[2])))
>>> np.asarray(png).tolist()  # palette indices: the middle cell's pixels are class 2
[[0, 0, 2, 2, 0, 0], [0, 0, 2, 2, 0, 0], [0, 0, 0, 0, 0, 0]]
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from matplotlib.colors import to_rgb
from PIL import Image
from rasterio.features import rasterize
from rasterio.transform import Affine

from .basemap import Datum, to_gcj02

__all__ = ["MAX_SIDE", "CellGrid", "cell_grid", "grid_images"]

MAX_SIDE = 4096
"""Most pixels on the longer side of a grid image."""


@dataclass(frozen=True)
class CellGrid:
    """Cells burnt into a Web Mercator raster.

    Attributes
    ----------
    index
        Rows by columns: 1 + the position of the cell covering the pixel's centre, 0 for none.
    transform
        The raster's affine transform in EPSG:3857 metres.
    bounds
        ``[[south, west], [north, east]]`` in degrees: where Leaflet puts the image.
    """

    index: np.ndarray
    transform: Affine
    bounds: list[list[float]]


def cell_grid(cells: gpd.GeoSeries, *, datum: Datum = "wgs84") -> CellGrid:
    """Burn the cells into a Web Mercator raster of pixels half a cell wide.

    Parameters
    ----------
    cells
        Cell polygons in a projected CRS (a study's ``population`` geometry).
    datum
        Datum of the map's tiles: ``"gcj02"`` shifts the cells as the vector overlays are.

    Returns
    -------
    CellGrid
    """
    lonlat = cells.to_crs(4326).geometry.to_numpy()
    if datum == "gcj02":
        lonlat = shapely.transform(lonlat, to_gcj02)
    mercator = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
    shapes = shapely.transform(lonlat, lambda xy: np.column_stack(mercator.transform(*xy.T)))
    x0, y0, x1, y1 = shapely.total_bounds(shapes)
    side = float(np.median(np.sqrt(shapely.area(shapes))))
    pixel = max(side / 2, max(x1 - x0, y1 - y0) / MAX_SIDE)
    width, height = int(np.ceil((x1 - x0) / pixel)), int(np.ceil((y1 - y0) / pixel))
    transform = Affine(pixel, 0.0, x0, 0.0, -pixel, y1)  # north up, from the top-left corner
    index = rasterize(
        zip(shapes, range(1, len(shapes) + 1), strict=True),
        out_shape=(height, width),
        transform=transform,
        fill=0,
        dtype="int32",
    )
    west, south = mercator.transform(x0, y1 - height * pixel, direction="INVERSE")
    east, north = mercator.transform(x0 + width * pixel, y1, direction="INVERSE")
    return CellGrid(index, transform, [[south, west], [north, east]])


def grid_images(grid: CellGrid, classes: np.ndarray, *, colours: Sequence[str]) -> list[str]:
    """Draw each row of ``classes`` as a paletted PNG of the grid, as ``data:`` URLs.

    Parameters
    ----------
    grid
        From :func:`cell_grid`.
    classes
        Views by cells (in the order given to :func:`cell_grid`): 0 leaves the cell
        transparent, ``k`` paints it ``colours[k - 1]``.
    colours
        CSS colours of the classes 1, 2, ...

    Returns
    -------
    list of str
        One ``data:image/png;base64,...`` URL per view.
    """
    palette = [0, 0, 0]
    for colour in colours:
        palette += [round(255 * c) for c in to_rgb(colour)]
    images = []
    for view in np.asarray(classes, dtype=np.uint8):
        pixels = np.concatenate([[0], view]).astype(np.uint8)[grid.index]
        image = Image.fromarray(pixels)
        image.putpalette(palette)  # a greyscale image with a palette becomes paletted ("P")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True, transparency=0)
        images.append("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode())
    return images
