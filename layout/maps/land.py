"""The land map: reserved parcels and developments coloured by their check, with match lines.

Parcels and developments are green when every rule passes and red otherwise; hovering one
shows each rule's verdict and reason. A dashed line joins each development to the school or
parcel that takes its children of a level. Schools are grey dots for reference.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> from layout.maps.land import land_map
>>> parcels = gpd.GeoDataFrame(
...     {"parcel_id": ["P1"], "planned_level": ["primary"], "planned_classes": [24],
...      "delivery_year": [2027], "passed": [False],
...      **{f"{rule}_{part}": [v] for rule in ("land", "overlap", "demand")
...         for part, v in (("ok", False), ("reason", "<b>short</b>"))}},
...     geometry=[box(500_000, 4_550_000, 500_100, 4_550_100)], crs="EPSG:4550")
>>> m = land_map(parcels, developments=None, links=None, schools=None, title="t")
>>> type(m).__name__
'Map'
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from .._land_text import Lang, code_name, header, verdicts
from ..cohorts import CHILD_LEVELS
from .geojson import geojson_from_geodataframe

__all__ = ["FAIL_COLOUR", "PASS_COLOUR", "land_map"]

PASS_COLOUR = "#1a9641"
FAIL_COLOUR = "#d7191c"
_SCHOOL_COLOUR = "#636363"
_LINK_COLOUR = "#2c7bb6"
_WEB_CRS = "EPSG:4326"

_Builder = Callable[[gpd.GeoDataFrame, Lang], folium.GeoJson]

_PARCEL_RULES = ("land", "overlap", "demand")
_DEVELOPMENT_RULES = (*CHILD_LEVELS, "sync")

_LEGEND = {
    "zh": (
        "通过全部核查",
        "未通过核查",
        "学校",
        "项目至配套学校或地块",
        "（合成样例数据，非真实数据）",
    ),
    "en": (
        "passes every rule",
        "fails a rule",
        "school",
        "development to its school or parcel",
        " (synthetic sample data, not real data)",
    ),
}


def land_map(
    parcels: gpd.GeoDataFrame,
    *,
    developments: gpd.GeoDataFrame | None,
    links: gpd.GeoDataFrame | None,
    schools: gpd.GeoDataFrame | None,
    title: str,
    lang: Lang = "zh",
    synthetic: bool = False,
) -> folium.Map:
    """Build the land map from the tables of :mod:`layout.land`.

    Parameters
    ----------
    parcels
        :func:`layout.land.check_parcels` output.
    developments
        :func:`layout.land.check_developments` output, or ``None``.
    links
        :attr:`layout.land.LandCheck.links`, or ``None``.
    schools
        The schools layer (name, id, level, status), or ``None``.
    title
        Shown in the legend; HTML-escaped.
    lang
        Language of labels and legend.
    synthetic
        Say in the legend that the data are synthetic.

    Returns
    -------
    folium.Map
        No basemap tiles (the map works offline); save it with
        :func:`layout.maps.offline.save_html`.
    """
    layers: list[tuple[gpd.GeoDataFrame, _Builder]] = [(parcels, _parcels_layer)]
    layers += [
        (frame, build)
        for frame, build in (
            (developments, _developments_layer),
            (links, _links_layer),
            (schools, _schools_layer),
        )
        if frame is not None and len(frame)
    ]
    fmap = folium.Map(tiles=None, control_scale=True)
    bounds = np.array([frame.to_crs(_WEB_CRS).total_bounds for frame, _ in layers])
    fmap.fit_bounds(
        [[bounds[:, 1].min(), bounds[:, 0].min()], [bounds[:, 3].max(), bounds[:, 2].max()]]
    )
    for frame, build in layers:
        build(frame, lang).add_to(fmap)
    fmap.get_root().html.add_child(_legend(title, lang, synthetic))  # type: ignore[attr-defined]
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def _colours(passed: pd.Series) -> np.ndarray:
    return np.where(passed.to_numpy(dtype=bool), PASS_COLOUR, FAIL_COLOUR)


def _rule_columns(
    frame: gpd.GeoDataFrame, rules: tuple[str, ...], lang: Lang
) -> dict[str, np.ndarray]:
    """One tooltip column per rule: its verdict and reason, labelled by the rule's header."""
    return {
        header(f"{rule}_ok", lang): verdicts(frame[f"{rule}_ok"], frame[f"{rule}_reason"], lang)
        for rule in rules
    }


def _parcels_layer(parcels: gpd.GeoDataFrame, lang: Lang) -> folium.GeoJson:
    shown = {
        header("parcel_id", lang): parcels["parcel_id"].astype(str),
        header("planned_level", lang): parcels["planned_level"].map(lambda v: code_name(v, lang)),
        header("planned_classes", lang): parcels["planned_classes"],
        header("delivery_year", lang): parcels["delivery_year"],
        **_rule_columns(parcels, _PARCEL_RULES, lang),
    }
    return _layer(
        parcels, shown, name=header("parcels_layer", lang), style={"weight": 2, "fillOpacity": 0.5}
    )


def _developments_layer(developments: gpd.GeoDataFrame, lang: Lang) -> folium.GeoJson:
    shown = {
        header("development_id", lang): developments["development_id"].astype(str),
        header("name", lang): developments["name"].astype(str),
        header("first_delivery_year", lang): developments["first_delivery_year"],
        **{
            header(f"{level}_children", lang): developments[f"{level}_children"].round(1)
            for level in CHILD_LEVELS
        },
        **_rule_columns(developments, _DEVELOPMENT_RULES, lang),
    }
    return _layer(
        developments,
        shown,
        name=header("developments_layer", lang),
        style={"weight": 2, "fillOpacity": 0.35, "dashArray": "5 3"},
    )


def _layer(
    frame: gpd.GeoDataFrame,
    shown: Mapping[str, object],
    *,
    name: str,
    style: dict[str, str | float],
) -> folium.GeoJson:
    """Build a layer coloured by ``passed``, with the ``shown`` columns as its tooltip."""
    columns = {f"c{i}": values for i, values in enumerate(shown.values())}
    data = gpd.GeoDataFrame(
        {**{k: np.asarray(v) for k, v in columns.items()}, "colour": _colours(frame["passed"])},
        geometry=frame.geometry.to_numpy(),
        crs=frame.crs,
    )
    return geojson_from_geodataframe(
        data,
        style=style,
        style_columns={"color": "colour", "fillColor": "colour"},
        tooltip=dict(zip(columns, shown, strict=True)),
        marker=folium.CircleMarker(radius=7, fill=True),
        name=name,
    )


def _links_layer(links: gpd.GeoDataFrame, lang: Lang) -> folium.GeoJson:
    data = gpd.GeoDataFrame(
        {
            "development_id": links["development_id"].astype(str),
            "level": links["level"].map(lambda v: code_name(v, lang)),
            "target_id": links["target_id"].astype(str),
            "distance_m": links["distance_m"].round(0),
        },
        geometry=links.geometry.to_numpy(),
        crs=links.crs,
    )
    return geojson_from_geodataframe(
        data,
        style={"color": _LINK_COLOUR, "weight": 2, "dashArray": "6 4"},
        tooltip={
            c: header(c, lang) for c in ("development_id", "level", "target_id", "distance_m")
        },
        name=header("links_layer", lang),
    )


def _schools_layer(schools: gpd.GeoDataFrame, lang: Lang) -> folium.GeoJson:
    data = gpd.GeoDataFrame(
        {
            "name": schools["name"].astype(str),
            "school_id": schools["school_id"].astype(str),
            "level": schools["level"].map(lambda v: code_name(v, lang)),
            "status": schools["status"].map(lambda v: code_name(v, lang)),
            "colour": _SCHOOL_COLOUR,
        },
        geometry=schools.geometry.to_numpy(),
        crs=schools.crs,
    )
    return geojson_from_geodataframe(
        data,
        style={"weight": 1, "fillOpacity": 0.8},
        style_columns={"color": "colour", "fillColor": "colour"},
        tooltip={c: header(c, lang) for c in ("name", "school_id", "level", "status")},
        marker=folium.CircleMarker(radius=4, fill=True),
        name=header("schools_layer", lang),
    )


def _legend(title: str, lang: Lang, synthetic: bool) -> folium.Element:
    passed, failed, school, link, note = _LEGEND[lang]
    swatch = (
        "<div><span style='display:inline-block;width:12px;height:12px;background:{};"
        "margin-right:4px;{}'></span>{}</div>"
    )
    items = "".join(
        swatch.format(colour, extra, html.escape(label))
        for colour, extra, label in (
            (PASS_COLOUR, "", passed),
            (FAIL_COLOUR, "", failed),
            (_SCHOOL_COLOUR, "border-radius:6px", school),
            (_LINK_COLOUR, "height:2px", link),
        )
    )
    return folium.Element(
        "<div id='layout-legend' style='position:fixed;top:10px;left:50px;z-index:9999;"
        "background:white;padding:6px 10px;border:1px solid #999;font:13px sans-serif'>"
        f"<b>{html.escape(title)}</b>{html.escape(note) if synthetic else ''}{items}</div>"
    )
