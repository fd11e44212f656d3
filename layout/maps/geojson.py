"""Fast folium GeoJSON layers whose features carry their own style.

``folium.GeoJson(style_function=f)`` calls ``f`` in Python for every feature, serialises each
returned dict to group equal styles, and writes a JavaScript ``switch`` over all feature ids.
That is slow and heavy for thousands of polygons. Without a ``style_function`` folium instead
emits one ``layer.setStyle(f => f.properties.style)`` call. :func:`geojson_from_geodataframe`
builds layers for that path: each feature's varying style (a fill colour per township, say) is
stored in its ``properties.style``, and the style shared by all features is passed once as
Leaflet options of the layer.

It also keeps only the tooltip columns in the properties, rounds coordinates (5 decimals of a
degree is about 1 m) and can simplify polygons first, keeping edges shared by neighbours shared.

Highlighting on hover (folium's ``highlight_function``) is not offered: it would restore the
layer's default style, not the per-feature one, on mouse-out.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> from layout.maps import geojson_from_geodataframe
>>> towns = gpd.GeoDataFrame(
...     {"name": ["A", "B"], "colour": ["#d73027", "#4575b4"]},
...     geometry=[box(122.9, 41.0, 123.0, 41.1), box(123.0, 41.0, 123.1, 41.1)],
...     crs="EPSG:4326",
... )
>>> layer = geojson_from_geodataframe(
...     towns, style_columns={"fillColor": "colour"}, style={"weight": 1},
...     tooltip={"name": "乡镇"},
... )
>>> layer.data["features"][1]["properties"]
{'name': 'B', 'style': {'fillColor': '#4575b4'}}
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping
from typing import Any, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from ..errors import ValidationError
from .basemap import Datum, to_gcj02
from .labels import label_html

logger = logging.getLogger(__name__)

__all__ = ["geojson_from_geodataframe", "number_text"]

# Options of Leaflet's L.Path (https://leafletjs.com/reference.html#path-option), plus the
# radius of circle markers, which L.CircleMarker.setStyle also applies.
_PATH_OPTIONS = frozenset(
    {
        "stroke", "color", "weight", "opacity", "lineCap", "lineJoin", "dashArray",
        "dashOffset", "fill", "fillColor", "fillOpacity", "fillRule", "className", "radius",
        "interactive",
    }
)  # fmt: skip
PRECISION = 5
"""Decimals of a degree kept in coordinates: 5 is about 1 m, finer than any map shows."""
_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


def geojson_from_geodataframe(  # noqa: PLR0913 - the layer's options, all keyword-only
    gdf: gpd.GeoDataFrame,
    *,
    style_columns: Mapping[str, str] | None = None,
    style: Mapping[str, str | float | bool] | None = None,
    tooltip: Mapping[str, str] | None = None,
    simplify_tolerance: float | None = None,
    name: str | None = None,
    marker: folium.CircleMarker | None = None,
    datum: Datum = "wgs84",
    formats: Mapping[str, str] | None = None,
    popups: bool = True,
) -> folium.GeoJson:
    """Build a folium GeoJSON layer styled from per-feature properties in one pass.

    Parameters
    ----------
    gdf
        Features to draw, in any CRS (the layer is reprojected to EPSG:4326). Not modified.
    style_columns
        Leaflet path option (``"fillColor"``, ``"color"``, ``"fillOpacity"``, ...) mapped to
        the column holding each feature's value. Stored in ``properties.style``.
    style
        Leaflet path options shared by all features, e.g. ``{"weight": 1, "color": "#333"}``;
        written once as options of the layer. ``style_columns`` win where both set an option.
    tooltip
        Column mapped to the label shown before its value in the hover tooltip and in the
        popup a click pins open; only these columns are kept in the properties. Values and
        labels are HTML-escaped.
    simplify_tolerance
        If given, simplify before reprojecting, with this tolerance in the units of ``gdf``'s
        projected CRS (metres for UTM or CGCS2000 Gauss-Kruger). A layer of polygons that do
        not overlap (a valid coverage, such as township boundaries) is simplified with
        :func:`shapely.coverage_simplify` (Visvalingam-Whyatt: a vertex goes when the triangle
        it makes with its neighbours is smaller than ``tolerance**2``), so neighbours keep
        identical shared edges, nodes where three polygons meet stay, and no gap or overlap
        appears. Other layers are simplified geometry by geometry with
        :func:`shapely.simplify` (Douglas-Peucker: a vertex goes when it is closer than
        ``tolerance`` to the simplified line), preserving each geometry's own topology.
    name
        Name of the layer in folium's ``LayerControl``.
    marker
        How points are drawn, e.g. ``folium.CircleMarker(radius=5)``; a per-feature
        ``radius`` may come from ``style_columns``. ``None`` draws Leaflet's default markers.
        Leaflet hands a layer's options to the polygons and lines it makes but not to the
        markers its ``pointToLayer`` makes, so ``style`` is copied into the marker's own
        options: a point is drawn with the same shared style as a polygon.
    datum
        ``"gcj02"`` shifts the coordinates to GCJ-02, for a Gaode (Amap) basemap (see
        :mod:`layout.maps.basemap`); ``"wgs84"`` (default) keeps longitude/latitude as they are.
    formats
        Tooltip column mapped to a :meth:`str.format` pattern of its values, e.g.
        ``"{:.0%}"`` for a share. Numbers are written as text, so the browser never formats
        them: without a pattern a column whose name ends in ``year`` is written plain
        (``2027``), whole numbers with thousands separators (``3,111``), others with one
        decimal (``82.4``).
    popups
        Bind folium's hover tooltip and click popup of the ``tooltip`` columns (default);
        ``False`` only keeps the columns in the properties, for a page script that writes
        its own texts.

    Returns
    -------
    folium.GeoJson
        The layer, with the FeatureCollection in its ``data`` attribute.

    Raises
    ------
    ValidationError
        If columns are missing, a style option is not a Leaflet path option, a style value is
        missing, geometries are missing or empty, the CRS is unknown, or a tolerance is given
        for a geographic CRS. All problems are listed together.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from layout.maps import geojson_from_geodataframe
    >>> schools = gpd.GeoDataFrame(
    ...     {"name": ["一小"], "pupils": [812]},
    ...     geometry=[Point(122.9912345, 41.1087654)], crs="EPSG:4326",
    ... )
    >>> layer = geojson_from_geodataframe(schools, tooltip={"name": "学校"})
    >>> layer.data["features"][0]["geometry"]["coordinates"]
    [122.99123, 41.10877]
    """
    style_columns = dict(style_columns or {})
    tooltip = dict(tooltip or {})
    _validate(gdf, style_columns, style or {}, tooltip, simplify_tolerance)
    geometries = _simplified(gdf.geometry.to_numpy(), simplify_tolerance)
    geometries = _to_rounded_lonlat(geometries, gdf.crs, PRECISION, datum=datum)
    properties = _properties(gdf, style_columns, tooltip, dict(formats or {}))
    features = [
        {"type": "Feature", "properties": props, "geometry": json.loads(geometry)}
        for props, geometry in zip(properties, shapely.to_geojson(geometries), strict=True)
    ]
    detail = pinned = None
    if tooltip and popups:
        aliases = [label_html(label) for label in tooltip.values()]
        detail = folium.GeoJsonTooltip(fields=list(tooltip), aliases=aliases)
        pinned = folium.GeoJsonPopup(fields=list(tooltip), aliases=aliases)
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        tooltip=detail,
        popup=pinned,
        marker=_styled(marker, style or {}),
        **cast("dict[str, Any]", dict(style or {})),
    )


def _validate(
    gdf: gpd.GeoDataFrame,
    style_columns: dict[str, str],
    style: Mapping[str, object],
    tooltip: dict[str, str],
    simplify_tolerance: float | None,
) -> None:
    """Collect every problem of the arguments and raise them together."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise ValidationError(f"gdf: expected a GeoDataFrame, got {type(gdf).__name__}.")
    problems = [
        f"style option {key!r} is not a Leaflet path option; use one of "
        f"{sorted(_PATH_OPTIONS)} (camelCase, e.g. 'fillColor')."
        for key in [*style_columns, *style]
        if key not in _PATH_OPTIONS
    ]
    needed = [*style_columns.values(), *tooltip]
    problems += [
        f"column {column!r} is not in gdf; its columns are {list(gdf.columns)}."
        for column in dict.fromkeys(needed)
        if column not in gdf.columns
    ]
    if "style" in tooltip:
        problems.append("tooltip: column 'style' is reserved for the feature style; rename it.")
    for option, column in style_columns.items():
        if column in gdf.columns and gdf[column].isna().any():
            rows = list(gdf.index[gdf[column].isna()])
            problems.append(f"column {column!r} ({option}) is missing in rows {rows}; fill it.")
    bad = gdf.geometry.isna() | gdf.geometry.is_empty
    if bad.any():
        problems.append(
            f"geometry is missing or empty in rows {list(gdf.index[bad])}; drop them first, "
            "e.g. gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]."
        )
    if gdf.crs is None:
        problems.append("gdf has no CRS; set it with gdf.set_crs(...) before mapping.")
    elif simplify_tolerance is not None and not gdf.crs.is_projected:
        problems.append(
            f"simplify_tolerance needs a projected CRS, but gdf is in {gdf.crs.name}; "
            "reproject first, e.g. gdf.to_crs(gdf.estimate_utm_crs())."
        )
    if problems:
        raise ValidationError(problems)


def _simplified(geometries: np.ndarray, tolerance: float | None) -> np.ndarray:
    """Simplify a coverage with shared edges kept shared, other geometries one by one.

    Polygons keep a valid topology; lines are simplified by Douglas-Peucker alone (a line may
    cross itself, and the topology-preserving pass over a province's gathered roads takes
    minutes).
    """
    if tolerance is None:
        return geometries
    kinds = shapely.get_type_id(geometries)
    polygonal = np.isin(kinds, _POLYGONAL)
    simplified: np.ndarray
    if polygonal.all() and shapely.coverage_is_valid(geometries):
        simplified = shapely.coverage_simplify(geometries, tolerance)
    else:
        logger.debug("not a polygon coverage: simplifying each geometry on its own")
        simplified = geometries.copy()
        simplified[polygonal] = shapely.simplify(
            geometries[polygonal], tolerance, preserve_topology=True
        )
        simplified[~polygonal] = shapely.simplify(
            geometries[~polygonal], tolerance, preserve_topology=False
        )
    return simplified


def _to_rounded_lonlat(
    geometries: np.ndarray, crs: pyproj.CRS, precision: int, *, datum: Datum
) -> np.ndarray:
    """Reproject to longitude/latitude (EPSG:4326), shift to ``datum``, round every coordinate."""
    transformer = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def project(coords: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(coords[:, 0], coords[:, 1])
        lonlat = np.column_stack([lon, lat])
        if datum == "gcj02":
            lonlat = to_gcj02(lonlat)
        return np.round(lonlat, precision)

    projected: np.ndarray = shapely.transform(geometries, project)
    return projected


def _styled(
    marker: folium.CircleMarker | None, style: Mapping[str, object]
) -> folium.CircleMarker | None:
    """Return a copy of ``marker`` whose options hold the layer's shared style."""
    if marker is None:
        return None
    styled = copy.copy(marker)
    styled.options = {**marker.options, **cast("dict[str, Any]", style)}
    return styled


def number_text(values: pd.Series, *, pattern: str | None = None) -> pd.Series:
    """Write numbers as text for a tooltip: years plain, counts with separators.

    Parameters
    ----------
    values
        A numeric column; its name decides the default pattern.
    pattern
        A :meth:`str.format` pattern; by default ``"{:.0f}"`` for a column named ``*year``,
        ``"{:,.0f}"`` when every value is whole, ``"{:,.1f}"`` otherwise.

    Returns
    -------
    pandas.Series
        Text, ``None`` where a value is missing.

    Examples
    --------
    >>> number_text(pd.Series([2027, 2035], name="year")).tolist()
    ['2027', '2035']
    >>> number_text(pd.Series([3111.0, 12.0], name="pupils")).tolist()
    ['3,111', '12']
    >>> number_text(pd.Series([0.0625, None], name="share"), pattern="{:.0%}").tolist()
    ['6%', None]
    """
    present = values.dropna().astype(float)
    if pattern is None:
        if str(values.name).endswith("year"):
            pattern = "{:.0f}"
        elif bool((present == present.round()).all()):
            pattern = "{:,.0f}"
        else:
            pattern = "{:,.1f}"
    text = [None if pd.isna(value) else pattern.format(value) for value in values]
    return pd.Series(text, index=values.index, dtype=object)


def _properties(
    gdf: gpd.GeoDataFrame,
    style_columns: dict[str, str],
    tooltip: dict[str, str],
    formats: dict[str, str],
) -> list[dict[str, object]]:
    """Return each feature's properties: tooltip values as escaped text plus the ``style``."""
    shown = gdf[list(tooltip)].astype(object)
    for column in tooltip:
        if pd.api.types.is_numeric_dtype(gdf[column]) and not pd.api.types.is_bool_dtype(
            gdf[column]
        ):
            shown[column] = number_text(gdf[column], pattern=formats.get(column))
        else:
            shown[column] = gdf[column].map(label_html)
    records: list[dict[str, object]]
    records = shown.astype(object).where(gdf[list(tooltip)].notna(), None).to_dict("records")
    if not style_columns:
        return records
    styles = gdf[list(style_columns.values())].set_axis(list(style_columns), axis=1)
    return [
        {**record, "style": feature_style}
        for record, feature_style in zip(records, styles.to_dict(orient="records"), strict=True)
    ]
