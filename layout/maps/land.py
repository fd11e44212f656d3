"""The land map: reserved parcels and developments coloured by their check, with match lines.

Parcels and developments are blue when every rule passes and red otherwise (ColorBrewer
RdYlBu ends, told apart with any colour vision); hovering one
shows each rule's verdict and reason. A dashed line joins each development to the school or
parcel that takes its children of a level. Schools are grey dots for reference.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> from layout.maps.land import land_map
>>> from layout.study import study_from_toml
>>> parcels = gpd.GeoDataFrame(
...     {"parcel_id": ["P1"], "planned_level": ["primary"], "planned_classes": [24],
...      "delivery_year": [2027], "passed": [False],
...      **{f"{rule}_{part}": [v] for rule in ("land", "overlap", "demand")
...         for part, v in (("ok", False), ("reason", "<b>short</b>"))}},
...     geometry=[box(500_000, 4_550_000, 500_100, 4_550_100)], crs="EPSG:4550")
>>> m = land_map(study_from_toml(), parcels=parcels, developments=None, links=None)
>>> type(m).__name__
'Map'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from ..labels import Lang, code_name, header, in_language
from ..land import verdicts
from ..schema import CHILD_LEVELS
from ..study import Study
from .basemap import Basemap, Datum
from .canvas import Key, add_legend, finish, study_canvas
from .controls import add_controls
from .geojson import geojson_from_geodataframe

__all__ = ["FAIL_COLOUR", "PASS_COLOUR", "land_map"]

PASS_COLOUR = "#2c7bb6"
FAIL_COLOUR = "#d7191c"
_SCHOOL_COLOUR = "#636363"
_LINK_COLOUR = "#000000"

_Builder = Callable[[gpd.GeoDataFrame, Lang, Datum], folium.GeoJson]

_PARCEL_RULES = ("land", "overlap", "demand")
_DEVELOPMENT_RULES = (*CHILD_LEVELS, "sync")

_TEXT = {
    "title": ("教育用地储备与三同步核查", "Reserved school land and 三同步 check"),
    "parcels": ("教育储备用地", "Reserved school parcels"),
    "developments": ("住宅项目", "Residential developments"),
    "links": ("配套学校或地块连线", "Development to school or parcel"),
    "schools": ("学校", "Schools"),
    "passed": ("通过全部核查", "passes every rule"),
    "failed": ("未通过核查", "fails a rule"),
    "link": ("项目至配套学校或地块", "development to its school or parcel"),
}


_t = partial(in_language, _TEXT)


def land_map(
    study: Study,
    *,
    parcels: gpd.GeoDataFrame,
    developments: gpd.GeoDataFrame | None,
    links: gpd.GeoDataFrame | None,
    lang: Lang = "zh",
    basemap: Basemap | None = None,
) -> folium.Map:
    """Build the land map from the tables of :mod:`layout.land`.

    Parameters
    ----------
    study
        The study (frame, title, data date, schools).
    parcels
        :func:`layout.land.check_parcels` output.
    developments
        :func:`layout.land.check_developments` output, or ``None``.
    links
        :attr:`layout.land.LandCheck.links`, or ``None``.
    lang
        Language of labels and legend.
    basemap
        Optional tiles (:mod:`layout.maps.basemap`); overlays follow the basemap's datum.

    Returns
    -------
    folium.Map
        Save it with :func:`layout.maps.offline.save_html`.
    """
    datum: Datum = basemap.datum if basemap else "wgs84"
    layers: list[tuple[gpd.GeoDataFrame | None, _Builder]] = [
        (parcels, _parcels_layer),
        (developments, _developments_layer),
        (links, _links_layer),
        (study["schools"], _schools_layer),
    ]
    fmap = study_canvas(study, lang=lang, basemap=basemap)
    for frame, build in layers:
        if frame is not None and len(frame):
            build(frame, lang, datum).add_to(fmap)
    keys: list[Key] = [
        (PASS_COLOUR, _t("passed", lang), "area"),
        (FAIL_COLOUR, _t("failed", lang), "area"),
        (_SCHOOL_COLOUR, _t("schools", lang)),
        (_LINK_COLOUR, _t("link", lang), "line"),
    ]
    add_legend(fmap, study, title=_t("title", lang), items=keys, lang=lang)
    add_controls(fmap, study, lang=lang)
    finish(fmap)
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


def _parcels_layer(parcels: gpd.GeoDataFrame, lang: Lang, datum: Datum) -> folium.GeoJson:
    shown = {
        header("parcel_id", lang): parcels["parcel_id"].astype(str),
        header("planned_level", lang): parcels["planned_level"].map(lambda v: code_name(v, lang)),
        header("planned_classes", lang): parcels["planned_classes"],
        header("delivery_year", lang): parcels["delivery_year"].astype("Int64").astype(str),
        **_rule_columns(parcels, _PARCEL_RULES, lang),
    }
    return _layer(
        parcels,
        shown,
        name=_t("parcels", lang),
        style={"weight": 2, "fillOpacity": 0.5},
        datum=datum,
    )


def _developments_layer(developments: gpd.GeoDataFrame, lang: Lang, datum: Datum) -> folium.GeoJson:
    shown = {
        header("development_id", lang): developments["development_id"].astype(str),
        header("name", lang): developments["name"].astype(str),
        header("first_delivery_year", lang): developments["first_delivery_year"]
        .astype("Int64")
        .astype(str),
        **{
            header(f"{level}_children", lang): developments[f"{level}_children"].round(0)
            for level in CHILD_LEVELS
        },
        **_rule_columns(developments, _DEVELOPMENT_RULES, lang),
    }
    return _layer(
        developments,
        shown,
        name=_t("developments", lang),
        style={"weight": 2, "fillOpacity": 0.35, "dashArray": "5 3"},
        datum=datum,
    )


def _layer(
    frame: gpd.GeoDataFrame,
    shown: Mapping[str, object],
    *,
    name: str,
    style: dict[str, str | float],
    datum: Datum,
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
        datum=datum,
    )


def _links_layer(links: gpd.GeoDataFrame, lang: Lang, datum: Datum) -> folium.GeoJson:
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
        name=_t("links", lang),
        datum=datum,
    )


def _schools_layer(schools: gpd.GeoDataFrame, lang: Lang, datum: Datum) -> folium.GeoJson:
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
        marker=folium.CircleMarker(radius=2, fill=True),
        name=_t("schools", lang),
        datum=datum,
    )
