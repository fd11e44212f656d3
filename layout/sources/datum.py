"""Coordinates as bureaus copy them: web-map datums (GCJ-02, BD-09) and Gauss-Kruger zones.

Coordinates copied from Gaode (Amap) or Tencent maps are in GCJ-02, from Baidu maps in BD-09:
both are WGS 84 shifted by an obfuscation of several hundred metres, so they are no CRS pyproj
knows. :func:`to_wgs84` undoes the shift with ``coordTransform`` (its forward transforms
``wgs84_to_gcj02`` and ``wgs84_to_bd09``), inverted by fixed-point iteration: the library's own
inverse is a one-step approximation about 2-3 m off, the iteration converges to well under a
millimetre in a few steps.

:func:`zone_problem` checks a projected layer against its CRS's area of use (pyproj) and names
the EPSG code that fits: degrees given in a metric CRS, eastings carrying a zone prefix, or a
neighbouring Gauss-Kruger zone.

Examples
--------
>>> import numpy as np
>>> import coordTransform
>>> gcj = np.array(coordTransform.wgs84_to_gcj02(122.99, 41.11))
>>> to_wgs84(gcj[:1], gcj[1:], datum="gcj02")[0].round(7).tolist()
[122.99, 41.11]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, get_args

import numpy as np
from pyproj import CRS, Transformer

Datum = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
"""Datums of longitude/latitude columns: WGS 84, CGCS2000, GCJ-02 (Gaode, Tencent), BD-09."""

DATUMS: tuple[str, ...] = get_args(Datum)

DATUM_CRS: dict[str, str] = {
    "wgs84": "EPSG:4326",
    "cgcs2000": "EPSG:4490",
    "gcj02": "EPSG:4326",
    "bd09": "EPSG:4326",
}
"""CRS of the coordinates once :func:`to_wgs84` has removed a web-map shift."""

WEB_DATUM_NAMES = frozenset(
    {"gcj02", "gcj-02", "gcj", "bd09", "bd-09", "bd09ll", "火星坐标", "百度坐标"}
)
"""Names users give a web-map datum where a CRS belongs (refused with the fix)."""

_ITERATIONS = 8
_TOLERANCE_DEG = 1e-10
_CANDIDATES: tuple[int, ...] = (
    4490,
    4326,
    *range(4534, 4555),
    *range(4513, 4534),
    *range(4502, 4513),
    *range(4491, 4502),
)
"""CGCS2000 geographic, WGS 84, and CGCS2000 Gauss-Kruger 3° (CM, zone-prefixed) and 6° zones."""
_NEAR_KM = 150.0


def _forward(datum: str) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    import coordTransform

    fn = coordTransform.wgs84_to_gcj02 if datum == "gcj02" else coordTransform.wgs84_to_bd09

    def forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = fn(lon.tolist(), lat.tolist())
        return np.asarray(out[0], dtype=float), np.asarray(out[1], dtype=float)

    return forward


def to_wgs84(lon: np.ndarray, lat: np.ndarray, *, datum: str) -> np.ndarray:
    """Return ``(n, 2)`` WGS 84 (or CGCS2000) longitudes and latitudes of points in ``datum``.

    Parameters
    ----------
    lon, lat
        Coordinates in degrees; NaN stays NaN.
    datum
        One of :data:`DATUMS`. ``wgs84`` and ``cgcs2000`` are returned unchanged (the two
        agree to a few centimetres); ``gcj02`` and ``bd09`` are shifted back.

    Examples
    --------
    >>> to_wgs84(np.array([123.0]), np.array([41.0]), datum="wgs84").tolist()
    [[123.0, 41.0]]
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if datum in {"wgs84", "cgcs2000"}:
        return np.column_stack([lon, lat])
    forward = _forward(datum)
    ok = np.isfinite(lon) & np.isfinite(lat)
    x, y = lon[ok].copy(), lat[ok].copy()
    for _ in range(_ITERATIONS):
        fx, fy = forward(x, y)
        dx, dy = lon[ok] - fx, lat[ok] - fy
        x, y = x + dx, y + dy
        if len(x) == 0 or max(np.abs(dx).max(), np.abs(dy).max()) < _TOLERANCE_DEG:
            break
    out = np.full((len(lon), 2), np.nan)
    out[ok] = np.column_stack([x, y])
    return out


def is_web_datum(text: str) -> bool:
    """Whether ``text`` names a web-map datum rather than a CRS.

    Examples
    --------
    >>> is_web_datum("GCJ02"), is_web_datum("EPSG:4490")
    (True, False)
    """
    return text.strip().lower().replace("_", "") in WEB_DATUM_NAMES


def web_datum_fix(text: str, *, layer: str | None) -> str:
    """Return the message for a web-map datum given as a CRS."""
    datum = "bd09" if "bd" in text.lower() or "百度" in text else "gcj02"
    where = f"[layers.{layer}]" if layer else "[study]"
    return (
        f"crs '{text}' is a web-map datum, not a coordinate reference system; coordinates "
        f"copied from Gaode/Tencent (GCJ-02) or Baidu (BD-09) maps are shifted by several "
        f'hundred metres. Fix: in {where} write datum = "{datum}" with the longitude and '
        f"latitude columns as x and y (and no crs)"
        + ("" if layer else '; the study crs must be projected, e.g. "EPSG:4550"')
    )


def _inside(crs: CRS, lon: float, lat: float, *, margin: float = 0.0) -> bool:
    area = crs.area_of_use
    if area is None:
        return True
    return bool(
        area.west - margin <= lon <= area.east + margin
        and area.south - margin <= lat <= area.north + margin
    )


def _lonlat(crs: CRS, x: float, y: float) -> tuple[float, float]:
    transformer = Transformer.from_crs(crs, "EPSG:4490", always_xy=True)
    lon, lat = transformer.transform(x, y)
    return float(lon), float(lat)


Bounds = tuple[float, float, float, float]
"""West, south, east and north of a study area, in CGCS2000 degrees."""

ZONE_MARGIN_DEG = 3.0
"""Degrees a projected layer may reach beyond its CRS's area of use: one 3-degree zone each
side, where a Gauss-Kruger projection's scale error is still under 0.2 % at China's latitudes.
A province spans several zones but is often kept in one (Liaoning: 118.8E-125.8E in the zone of
CM 123E, whose area of use is 121.5E-124.5E)."""


def fitting_crs(x: float, y: float, *, near: Bounds | None) -> list[int]:
    """Return the EPSG codes under which the point ``(x, y)`` falls inside its area of use.

    Parameters
    ----------
    x, y
        A representative point of the layer, in the units of its file.
    near
        Bounds of the study area, if known: only codes placing the point within 150 km of it
        are kept.

    Examples
    --------
    >>> fitting_crs(41_500_000.0, 4_550_000.0, near=(122.8, 40.9, 123.2, 41.3))
    [4529]
    >>> fitting_crs(123.0, 41.1, near=(122.8, 40.9, 123.2, 41.3))
    [4490, 4326]
    """
    found = []
    for code in _CANDIDATES:
        crs = CRS.from_epsg(code)
        if crs.is_geographic and not (abs(x) <= 180 and abs(y) <= 90):  # noqa: PLR2004
            continue
        lon, lat = _lonlat(crs, x, y)
        if not np.isfinite([lon, lat]).all() or not _inside(crs, lon, lat):
            continue
        if near is not None and _km_from(near, (lon, lat)) > _NEAR_KM:
            continue
        found.append(code)
    return found


def _km_from(bounds: Bounds, point: tuple[float, float]) -> float:
    """Kilometres from ``point`` (lon, lat) to the nearest point of ``bounds`` (0 inside)."""
    from pyproj import Geod

    west, south, east, north = bounds
    lon, lat = point
    nearest = (min(max(lon, west), east), min(max(lat, south), north))
    _, _, metres = Geod(ellps="WGS84").inv(nearest[0], nearest[1], lon, lat)
    return float(metres) / 1000


def zone_problem(
    crs: CRS, x: float, y: float, *, near: Bounds | None = None
) -> tuple[str, str] | None:
    """Return ``(problem, fix)`` if a layer's point ``(x, y)`` does not fit its CRS, else ``None``.

    Parameters
    ----------
    crs
        The CRS the layer declares.
    x, y
        A representative point of the layer in that CRS.
    near
        Longitude and latitude of the study area, if known.

    Examples
    --------
    >>> zone_problem(CRS.from_epsg(4550), 500_000.0, 4_550_000.0) is None
    True
    >>> zone_problem(CRS.from_epsg(4550), 123.0, 41.1)[0]
    'coordinates look like degrees, but EPSG:4550 is measured in metres'
    >>> zone_problem(CRS.from_epsg(4550), 41_500_000.0, 4_550_000.0)[1]
    'set crs = "EPSG:4529" for this layer (the eastings carry the zone number 41)'
    """
    if crs.is_geographic and abs(x) <= 180 and abs(y) <= 90:  # noqa: PLR2004
        return None  # degrees in a degree CRS: rows far from the study are named by the study
    inside = False
    with np.errstate(all="ignore"):
        lon, lat = _lonlat(crs, x, y)
        if np.isfinite([lon, lat]).all():
            margin = ZONE_MARGIN_DEG if crs.is_projected else 0.1
            inside = _inside(crs, lon, lat, margin=margin)
            if inside and near is not None:
                inside = _km_from(near, (lon, lat)) <= _NEAR_KM
    if inside:
        return None
    codes = fitting_crs(x, y, near=near)
    name = crs.to_string()
    if crs.is_projected and abs(x) <= 180 and abs(y) <= 90:  # noqa: PLR2004
        problem = f"coordinates look like degrees, but {name} is measured in metres"
    elif crs.is_geographic:
        problem = f"coordinates look like metres, but {name} is in degrees"
    elif abs(x) >= 1e6:  # noqa: PLR2004
        problem = f"eastings of about {x:,.0f} carry a zone number, which {name} does not expect"
    else:
        problem = f"the points fall outside the area of use of {name} (another zone?)"
    if not codes:
        return problem, "check the coordinates and set the crs of this layer to the right code"
    zone = f" (the eastings carry the zone number {int(x // 1e6)})" if abs(x) >= 1e6 else ""  # noqa: PLR2004
    return problem, f'set crs = "EPSG:{codes[0]}" for this layer{zone}'


def representative_xy(geometry: Any) -> tuple[float, float]:
    """Return the median x and y of a GeoSeries' representative points (robust to outliers)."""
    points = geometry.representative_point()
    return float(np.median(points.x)), float(np.median(points.y))
