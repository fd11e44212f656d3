"""The overview map: counties with their figures, townships, schools and (optional) roads.

The road network (:mod:`layout.maps.roads`) is off until the reader ticks it.

Examples
--------
The counties and schools come with their figures from :func:`layout.runs.plan.analyse`:

>>> from layout.study import study_from_toml
>>> from layout.runs.plan import PlanResult, STEPS
>>> result = PlanResult(study=study_from_toml())
>>> dict(STEPS)["indicators"](result)
>>> m = overview_map(result.study, counties=result.counties(), schools=result.schools())
>>> type(m).__name__
'Map'
"""

from __future__ import annotations

from functools import partial

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from ..labels import HEADERS, VALUES_ZH, Lang, in_language
from ..schema import classes_columns, enrolment_columns
from ..standards import Profile
from ..study import Study
from .basemap import Basemap, Datum
from .canvas import Key, add_legend, finish, study_canvas
from .controls import add_controls
from .geojson import geojson_from_geodataframe
from .roads import add_roads

SCHOOL_COLOURS = {"large": "#d7191c", "over": "#fdae61", "ok": "#2c7bb6", "planned": "#bababa"}
"""ColorBrewer RdYlBu (colour-blind safe) by the school's worst class, grey for planned."""
_FULL = "#000000"
_TEXT = {
    "title": ("总览：学校与班额", "Overview: schools and class sizes"),
    "counties": ("县（市、区）", "Counties"),
    "townships": ("乡镇（合成分区）", "Townships (synthetic zones)"),
    "schools": ("学校", "Schools"),
    "name": ("名称", "Name"),
    "large": ("有{large}人及以上大班额", "Has classes of {large} or more"),
    "over": (
        "有超标准班额（小学{primary_cap}人、初中{junior_cap}人）",
        "Has classes over the cap ({primary_cap} / {junior_cap})",
    ),
    "ok": ("无超标准班额", "No class over the cap"),
    "planned": ("规划学校", "Planned school"),
    "classes_large": ("{large}人及以上班数", "Classes of {large}+"),
    "places": ("学位", "Places"),
    "utilisation": ("学位利用率", "Utilisation"),
    "full": ("在校生超过学位（黑圈）", "More pupils than places (black ring)"),
}


_t = partial(in_language, _TEXT)


def _sizes(profile: Profile) -> dict[str, int]:
    """Return the class sizes that the legend and tooltips name, from the profile."""
    return {
        "large": profile.large_class_min,
        "very_large": profile.very_large_class_min,
        "primary_cap": profile.cap("primary"),
        "junior_cap": profile.cap("junior"),
    }


def _aliases(columns: list[str], lang: Lang, sizes: dict[str, int]) -> dict[str, str]:
    """Tooltip labels of columns: the map's own, else the spreadsheet headers."""
    return {
        c: _t(c, lang, **sizes) if c in _TEXT else in_language(HEADERS, c, lang, **sizes)
        for c in columns
    }


def _counties_layer(
    counties: gpd.GeoDataFrame, lang: Lang, datum: Datum, sizes: dict[str, int]
) -> folium.GeoJson:
    columns = ["name", "county_code", "schools", "students", "classes", "mean_class_size",
               "classes_over_cap", "classes_large", "shortfall", "total_funding"]  # fmt: skip
    shown = counties.assign(mean_class_size=counties["mean_class_size"].round(1))
    return geojson_from_geodataframe(
        shown,
        style={"color": "#333", "weight": 2, "fillColor": "#3182bd", "fillOpacity": 0.04},
        tooltip=_aliases(columns, lang, sizes),
        formats={"mean_class_size": "{:.1f}"},
        name=_t("counties", lang),
        datum=datum,
    )


def _townships_layer(townships: gpd.GeoDataFrame, lang: Lang, datum: Datum) -> folium.GeoJson:
    return geojson_from_geodataframe(
        townships,
        style={"color": "#888", "weight": 0.7, "fill": False},
        tooltip=_aliases(["township_code", "name"], lang, {}),
        simplify_tolerance=50,
        name=_t("townships", lang),
        datum=datum,
    )


def _schools_layer(
    schools: gpd.GeoDataFrame, lang: Lang, datum: Datum, sizes: dict[str, int]
) -> folium.GeoJson:
    total = schools[enrolment_columns()].sum(axis=1).to_numpy()
    places = schools["capacity"].where(schools["status"] == "open", 0).fillna(0).to_numpy(float)
    large = schools["school_classes_large"].fillna(0).to_numpy()
    over = schools["school_classes_over_cap"].fillna(0).to_numpy()
    state = np.select(
        [schools["status"].to_numpy() == "planned", large > 0, over > 0],
        ["planned", "large", "over"],
        default="ok",
    )
    coded = ["level", "setting"]
    shown = gpd.GeoDataFrame(
        {
            "name": schools["name"],
            "school_id": schools["school_id"],
            **{c: schools[c].map(VALUES_ZH) if lang == "zh" else schools[c] for c in coded},
            "students": total,
            "classes": schools[classes_columns()].sum(axis=1),
            "classes_over_cap": over.astype(int),
            "classes_large": large.astype(int),
            "boarders": schools["boarders"],
            "shortfall": schools["shortfall"].fillna(0).astype(int),
            "places": places,
            "utilisation": np.divide(
                total, places, out=np.full(len(total), np.nan), where=places > 0
            ),
            "colour": pd.Series(state).map(SCHOOL_COLOURS).to_numpy(),
            "ring": np.where(total > places, _FULL, "#333333"),
            "weight": np.where(total > places, 3.0, 1.0),
            "radius": np.clip(3 + np.sqrt(total) / 6, 3, 12).round(1),
        },
        geometry=schools.geometry,
        crs=schools.crs,
    )
    columns = ["name", "school_id", *coded, "students", "places", "utilisation", "classes",
               "classes_over_cap", "classes_large", "boarders", "shortfall"]  # fmt: skip
    return geojson_from_geodataframe(
        shown,
        style={"fillOpacity": 0.9},
        style_columns={
            "color": "ring",
            "weight": "weight",
            "fillColor": "colour",
            "radius": "radius",
        },  # fmt: skip
        tooltip=_aliases(columns, lang, sizes),
        formats={"utilisation": "{:.0%}"},
        marker=folium.CircleMarker(radius=5, fill=True),
        name=_t("schools", lang),
        datum=datum,
    )


def overview_map(
    study: Study,
    *,
    counties: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    lang: Lang = "zh",
    basemap: Basemap | None = None,
) -> folium.Map:
    """Build the overview map of a study: counties, townships and schools.

    Parameters
    ----------
    study
        A loaded :class:`layout.study.Study` (title, data date, townships).
    counties
        Counties with their totals (:meth:`layout.runs.plan.PlanResult.counties`).
    schools
        Schools with their class-size and staffing figures
        (:meth:`layout.runs.plan.PlanResult.schools`).
    lang
        Language of labels: ``"zh"`` (default) or ``"en"``.
    basemap
        Optional tiles (:mod:`layout.maps.basemap`); overlays follow the basemap's datum.

    Returns
    -------
    folium.Map
        Save it with :func:`layout.maps.offline.save_html`.
    """
    datum: Datum = basemap.datum if basemap else "wgs84"
    fmap = study_canvas(study, lang=lang, basemap=basemap, outline=False)
    sizes = _sizes(study.standards)
    areas = _counties_layer(counties, lang, datum, sizes)
    areas.add_to(fmap)
    towns = _townships_layer(study["townships"], lang, datum)
    towns.add_to(fmap)
    roads = add_roads(fmap, study, lang=lang, datum=datum)
    points = _schools_layer(schools, lang, datum, sizes)
    points.add_to(fmap)
    keys: list[Key] = [
        (SCHOOL_COLOURS[k], _t(k, lang, **sizes)) for k in ("large", "over", "ok", "planned")
    ]
    keys.append((_FULL, _t("full", lang), "ring"))
    keys += [roads.key] if roads else []
    notices = [roads.notice] if roads and roads.notice else []
    add_legend(fmap, study, title=_t("title", lang), items=keys, lang=lang, notices=notices)
    add_controls(
        fmap, study, lang=lang, search=[(points, "name"), (towns, "name"), (areas, "name")],
        labels=[(towns, "name", 13), (points, "name", 15)],
    )  # fmt: skip
    finish(fmap)
    return fmap
