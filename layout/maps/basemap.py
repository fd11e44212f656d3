"""Optional basemap tiles, and the GCJ-02 shift that overlays need on a Chinese basemap.

Maps are drawn without tiles by default: boundaries and labels come from the data, so a map
opens on an intranet with no network. A planner with internet access may add a basemap.
Gaode (Amap) tiles are drawn in GCJ-02, the obfuscated datum that Chinese web maps must use;
on such a basemap every overlay is shifted from WGS84/CGCS2000 to GCJ-02 (by some 100-700 m
in Anshan) so that it lines up. OpenStreetMap tiles are in WGS84 and need no shift.

Examples
--------
>>> import numpy as np
>>> shifted = to_gcj02(np.array([[122.99, 41.11]]))
>>> bool(np.all(np.abs(shifted - [[122.99, 41.11]]) < 0.01))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import coordTransform
import folium
import numpy as np

from ..errors import ValidationError

Datum = Literal["wgs84", "gcj02"]


@dataclass(frozen=True)
class Basemap:
    """A tile layer a map may show under its overlays.

    Attributes
    ----------
    name
        Key used on the command line (``--tiles``).
    tiles
        URL template of the tiles.
    attribution
        Attribution text the provider asks for.
    datum
        Datum of the tiles: overlays are converted to it.
    subdomains
        Tile server subdomains that replace ``{s}``.
    """

    name: str
    tiles: str
    attribution: str
    datum: Datum
    subdomains: str = "abc"

    @property
    def origin(self) -> str:
        """The URL prefix the page may load tiles from (used by the offline check)."""
        return self.tiles.split("{", 1)[0]


BASEMAPS: dict[str, Basemap] = {
    "osm": Basemap(
        name="osm",
        tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        attribution='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
        datum="wgs84",
    ),
    "gaode": Basemap(
        name="gaode",
        tiles="https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
        "&x={x}&y={y}&z={z}",
        attribution="&copy; 高德地图 AutoNavi (GCJ-02)",
        datum="gcj02",
        subdomains="1234",
    ),
}
"""Basemaps that ``--tiles`` may name besides ``none``."""


def basemap_from_name(name: str) -> Basemap | None:
    """Return the basemap called ``name``; ``None`` for ``"none"``.

    Examples
    --------
    >>> basemap_from_name("gaode").datum
    'gcj02'
    >>> basemap_from_name("none") is None
    True
    """
    if name == "none":
        return None
    if name not in BASEMAPS:
        raise ValidationError(f"tiles: unknown basemap {name!r}; use none, {', '.join(BASEMAPS)}.")
    return BASEMAPS[name]


def add_basemap(fmap: folium.Map, basemap: Basemap | None) -> None:
    """Add the basemap's tile layer to ``fmap`` (nothing for ``None``).

    Examples
    --------
    >>> m = folium.Map(tiles=None)
    >>> add_basemap(m, basemap_from_name("osm"))
    >>> any(isinstance(c, folium.TileLayer) for c in m._children.values())
    True
    """
    if basemap is None:
        return
    folium.TileLayer(
        tiles=basemap.tiles,
        attr=basemap.attribution,
        name=basemap.name,
        subdomains=basemap.subdomains,
        max_zoom=18,
        overlay=False,
    ).add_to(fmap)


def to_gcj02(lonlat: np.ndarray) -> np.ndarray:
    """Shift WGS84/CGCS2000 longitude/latitude pairs to GCJ-02, vectorised.

    Parameters
    ----------
    lonlat
        Array of shape (n, 2): longitude, latitude in degrees.

    Returns
    -------
    numpy.ndarray
        Same shape, in GCJ-02. Points outside China are returned unchanged (the rule of the
        datum).

    Examples
    --------
    The shift at Tian'anmen (116.404E 39.915N) is about +0.0062 degrees east, +0.0014 north:

    >>> to_gcj02(np.array([[116.404, 39.915]])).round(4).tolist()
    [[116.4102, 39.9164]]
    """
    points = np.asarray(lonlat, dtype=float)
    if len(points) == 0:
        return points.reshape(0, 2)
    lon, lat = coordTransform.wgs84_to_gcj02(points[:, 0], points[:, 1])
    return np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])
