"""The closure map: the schools a closure touches, before and after, and where children go.

Two layer groups that can be switched on and off: *before* shows the receiving schools
coloured by their projected mean class size before the closure and the schools to close;
*after* shows lines from each closed school to each school receiving its children (thicker
for more children), the receiving schools coloured by their class size after, and the closed
schools in black. Blue is within the class cap, orange over it, red at the large-class size
or more (ColorBrewer RdYlBu, colour-blind safe); the lines are grey. The map opens on these
features; hovering one shows its figures, every value escaped.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> from layout.study import study_from_toml
>>> p, q = Point(500_000, 4_550_000), Point(501_000, 4_550_000)
>>> closed = gpd.GeoDataFrame({"school_id": ["A"], "name": ["<b>A</b>"], "students": [40],
...     "land_area_m2": [8000.0], "building_area_m2": [3000.0]}, geometry=[p], crs="EPSG:4550")
>>> receiving = gpd.GeoDataFrame({"school_id": ["B"], "name": ["B"], "level": ["primary"],
...     "load_before": [200.0], "load_after": [240.0], "capacity": [300.0],
...     "class_size_before": [40.0], "class_size_after": [48.0], "cap": [45],
...     "over_cap_before": [False], "over_cap_after": [True], "large_before": [False],
...     "large_after": [False]}, geometry=[q], crs="EPSG:4550")
>>> transfers = gpd.GeoDataFrame({"level": ["primary"], "from_name": ["<b>A</b>"],
...     "to_name": ["B"], "children": [40.0], "mean_minutes_before": [5.0],
...     "mean_minutes_after": [20.0]}, geometry=[LineString([p, q])], crs="EPSG:4550")
>>> m = closure_map(study_from_toml(), closed=closed, receiving=receiving,
...                 transfers=transfers, title="demo")
>>> type(m).__name__
'Map'
"""

from __future__ import annotations

from functools import partial

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from ..labels import Lang, code_name, header, in_language
from ..study import Study
from .basemap import Basemap, Datum
from .canvas import WEB_CRS, Key, add_legend, finish, study_canvas
from .controls import add_controls
from .geojson import geojson_from_geodataframe

__all__ = ["LARGE_COLOUR", "OK_COLOUR", "OVER_COLOUR", "closure_map"]

OK_COLOUR = "#2c7bb6"
OVER_COLOUR = "#fdae61"
LARGE_COLOUR = "#d7191c"
_CLOSED_COLOUR = "#000000"
_TO_CLOSE_COLOUR = "#7b3294"
_LINE_COLOUR = "#878787"

_TEXT = {
    "before": ("撤并前", "Before the closure"),
    "after": ("撤并后", "After the closure"),
    "ok": ("平均班额未超上限", "mean class within the cap"),
    "over": ("平均班额超上限", "mean class over the cap"),
    "large": ("平均班额{large}人及以上", "mean class of {large} or more"),
    "to_close": ("拟撤并学校", "school to close"),
    "closed": ("已撤并学校", "closed school"),
    "line": ("转学去向（线宽为人数）", "children moved (width: number)"),
    "load": ("在校人数（模型）", "Load (modelled)"),
    "class_size": ("平均班额", "Mean class size"),
}


_t = partial(in_language, _TEXT)


def closure_map(
    study: Study,
    *,
    closed: gpd.GeoDataFrame,
    receiving: gpd.GeoDataFrame,
    transfers: gpd.GeoDataFrame,
    title: str,
    lang: Lang = "zh",
    basemap: Basemap | None = None,
) -> folium.Map:
    """Build the closure map from the tables of :mod:`layout.closure`.

    Parameters
    ----------
    study
        The study (frame, title, data date).
    closed
        :attr:`layout.closure.ClosureImpact.idle`: the closed schools' points.
    receiving
        :attr:`layout.closure.ClosureImpact.receiving`.
    transfers
        :attr:`layout.closure.ClosureImpact.transfers`; rows without a line (children left
        without a place) are not drawn.
    title
        The map's title, under the study title.
    lang
        Language of labels and legend.
    basemap
        Optional tiles (:mod:`layout.maps.basemap`); overlays follow the basemap's datum.

    Returns
    -------
    folium.Map
        Save it with :func:`layout.maps.offline.save_html`.
    """
    datum = basemap.datum if basemap else "wgs84"
    large = study.standards.class_size.large_class_min
    fmap = study_canvas(study, lang=lang, basemap=basemap)
    before = folium.FeatureGroup(name=_t("before", lang))
    after = folium.FeatureGroup(name=_t("after", lang))
    if len(receiving):
        _schools_layer(receiving, "before", lang, datum).add_to(before)
    if len(closed):
        _closed_layer(closed, _TO_CLOSE_COLOUR, lang, datum).add_to(before)
    lines = transfers[~(transfers.geometry.isna() | transfers.geometry.is_empty)]
    if len(lines):
        _lines_layer(lines, lang, datum).add_to(after)
    found: list[tuple[folium.GeoJson, str]] = []
    if len(receiving):
        shown = _schools_layer(receiving, "after", lang, datum)
        shown.add_to(after)
        found.append((shown, "name"))
    if len(closed):
        _closed_layer(closed, _CLOSED_COLOUR, lang, datum).add_to(after)
    before.add_to(fmap)
    after.add_to(fmap)
    keys: list[Key] = [
        (OK_COLOUR, _t("ok", lang)),
        (OVER_COLOUR, _t("over", lang)),
        (LARGE_COLOUR, _t("large", lang).format(large=large)),
        (_TO_CLOSE_COLOUR, _t("to_close", lang)),
        (_CLOSED_COLOUR, _t("closed", lang)),
        (_LINE_COLOUR, _t("line", lang), "line"),
    ]
    add_legend(fmap, study, title=title, items=keys, lang=lang)
    _frame_on(fmap, [closed, receiving, lines])
    add_controls(
        fmap, study, lang=lang, search=found, labels=[(layer, key, 13) for layer, key in found]
    )
    finish(fmap)
    return fmap


def _frame_on(fmap: folium.Map, frames: list[gpd.GeoDataFrame]) -> None:
    """Zoom the map to the features of ``frames`` (at least 2 km across), if there are any."""
    shapes = [f.to_crs(WEB_CRS).geometry for f in frames if len(f)]
    if not shapes:
        return
    west, south, east, north = pd.concat(shapes).total_bounds
    pad = max(0.01, (east - west) * 0.1, (north - south) * 0.1)  # 0.01 degree: about 1 km
    fmap.fit_bounds([[south - pad, west - pad], [north + pad, east + pad]])


def _state_colours(frame: pd.DataFrame, when: str) -> np.ndarray:
    large = frame[f"large_{when}"].to_numpy(dtype=bool)
    over = frame[f"over_cap_{when}"].to_numpy(dtype=bool)
    return np.where(large, LARGE_COLOUR, np.where(over, OVER_COLOUR, OK_COLOUR))


def _schools_layer(
    receiving: gpd.GeoDataFrame, when: str, lang: Lang, datum: Datum
) -> folium.GeoJson:
    data = gpd.GeoDataFrame(
        {
            "name": receiving["name"].astype(str),
            "school_id": receiving["school_id"].astype(str),
            "level": receiving["level"].map(lambda v: code_name(v, lang)),
            "capacity": receiving["capacity"].round(0),
            "load": receiving[f"load_{when}"].round(0),
            "class_size": receiving[f"class_size_{when}"].round(1),
            "cap": receiving["cap"],
            "colour": _state_colours(receiving, when),
        },
        geometry=receiving.geometry.to_numpy(),
        crs=receiving.crs,
    )
    tooltip = {
        "name": header("name", lang),
        "school_id": header("school_id", lang),
        "level": header("level", lang),
        "capacity": header("capacity", lang),
        "load": _t("load", lang),
        "class_size": _t("class_size", lang),
        "cap": header("cap", lang),
    }
    return geojson_from_geodataframe(
        data,
        style={"weight": 2, "fillOpacity": 0.8},
        style_columns={"color": "colour", "fillColor": "colour"},
        tooltip=tooltip,
        marker=folium.CircleMarker(radius=8, fill=True),
        datum=datum,
    )


def _closed_layer(
    closed: gpd.GeoDataFrame, colour: str, lang: Lang, datum: Datum
) -> folium.GeoJson:
    columns = ["name", "school_id", "students", "land_area_m2", "building_area_m2"]
    data = gpd.GeoDataFrame(
        {
            **{c: closed[c].astype(str) for c in ("name", "school_id")},
            **{c: closed[c] for c in columns[2:]},
            "colour": colour,
        },
        geometry=closed.geometry.to_numpy(),
        crs=closed.crs,
    )
    return geojson_from_geodataframe(
        data,
        style={"weight": 3, "fillOpacity": 0.9},
        style_columns={"color": "colour", "fillColor": "colour"},
        tooltip={c: header(c, lang) for c in columns},
        marker=folium.CircleMarker(radius=9, fill=True),
        datum=datum,
    )


def _lines_layer(transfers: gpd.GeoDataFrame, lang: Lang, datum: Datum) -> folium.GeoJson:
    children = transfers["children"].to_numpy(dtype=float)
    weight = 2 + 8 * children / max(float(children.max()), 1e-9)
    data = gpd.GeoDataFrame(
        {
            "level": transfers["level"].map(lambda v: code_name(v, lang)),
            "from_name": transfers["from_name"].astype(str),
            "to_name": transfers["to_name"].astype(str),
            "children": np.round(children, 1),
            "mean_minutes_before": transfers["mean_minutes_before"].round(1),
            "mean_minutes_after": transfers["mean_minutes_after"].round(1),
            "weight": np.round(weight, 1),
        },
        geometry=transfers.geometry.to_numpy(),
        crs=transfers.crs,
    )
    columns = [
        "level",
        "from_name",
        "to_name",
        "children",
        "mean_minutes_before",
        "mean_minutes_after",
    ]
    return geojson_from_geodataframe(
        data,
        style={"color": _LINE_COLOUR, "opacity": 0.8},
        style_columns={"weight": "weight"},
        tooltip={c: header(c, lang) for c in columns},
        datum=datum,
    )
