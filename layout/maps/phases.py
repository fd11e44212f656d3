"""The phased-plan map: what opens, grows, merges and closes, year by year.

Every action of a county's phased plan (:func:`layout.phases.phased_plan`) is a dot at its
school or site, coloured by its kind (Okabe and Ito's colour-blind-safe palette); a year
slider shows the actions taken up to the chosen plan year. The open schools of the county are
drawn under them.

Examples
--------
See ``tests/test_phases.py`` (the map of a plan of the tiny study, read in Chromium).
"""

from __future__ import annotations

import json
from functools import partial

import folium
import geopandas as gpd
import numpy as np

from ..labels import Lang, code_name, header, in_language
from ..phases import PhasedPlan
from ..study import Study
from .basemap import Basemap, Datum
from .canvas import Key, add_legend, finish, study_canvas
from .controls import PageScript, add_controls
from .geojson import geojson_from_geodataframe
from .sites import school_dots

ACTION_COLOURS = {
    "build": "#0072B2",
    "reuse": "#56B4E9",
    "expand": "#009E73",
    "merge": "#E69F00",
    "close": "#D55E00",
    "boarding": "#CC79A7",
    "bus": "#999999",
    "beyond_norm": "#000000",
}
"""Action kinds by colour: the palette of Okabe and Ito (2008), safe for colour-blind readers."""
_TIPS = ["year", "level", "action", "facility_id", "name", "classes_change", "places_change",
         "capital_yuan", "children", "land", "note"]  # fmt: skip
_TEXT = {
    "title": ("分期规划行动", "Phased plan actions"),
    "actions": ("规划行动", "Actions"),
    "until": ("截至年份", "Actions up to"),
}
_t = partial(in_language, _TEXT)


def phases_map(
    study: Study, plan: PhasedPlan, *, lang: Lang = "zh", basemap: Basemap | None = None
) -> folium.Map:
    """Draw a county's phased plan: its actions by kind, with a year slider.

    Parameters
    ----------
    study
        The study (frame, title, data date).
    plan
        From :func:`layout.phases.phased_plan`.
    lang
        ``"zh"`` (default) or ``"en"``.
    basemap
        Optional tiles; ``None`` draws none, so the map needs no network.

    Returns
    -------
    folium.Map
        Save it with :func:`layout.maps.offline.save_html`.
    """
    datum: Datum = basemap.datum if basemap else "wgs84"
    fmap = study_canvas(study, lang=lang, basemap=basemap)
    schools = school_dots(study, lang, datum, county=plan.county)
    schools.add_to(fmap)
    actions = plan.actions
    shown = gpd.GeoDataFrame(actions[_TIPS].copy(), geometry=actions.geometry, crs=actions.crs)
    for column in ("capital_yuan", "children"):
        shown[column] = shown[column].fillna(0).round(0)
    shown["colour"] = actions["action"].map(ACTION_COLOURS).fillna("#000000").to_numpy()
    places = np.abs(actions["places_change"].to_numpy(float))
    shown["radius"] = np.clip(4 + np.sqrt(places) / 4, 4, 14).round(1)
    for column in ("action", "level"):
        shown[column] = shown[column].map(lambda code: code_name(str(code), lang))
    layer = geojson_from_geodataframe(
        shown,
        style={"weight": 1, "color": "#000000", "fillOpacity": 0.85},
        style_columns={"fillColor": "colour", "radius": "radius"},
        tooltip={column: header(column, lang) for column in _TIPS},
        marker=folium.CircleMarker(radius=6, fill=True),
        name=_t("actions", lang),
        datum=datum,
    )
    layer.add_to(fmap)
    kinds = set(actions["action"])
    keys: list[Key] = [
        (colour, code_name(kind, lang)) for kind, colour in ACTION_COLOURS.items() if kind in kinds
    ]
    years = [int(year) for year in study.plan_years]
    heading = f"{code_name(plan.scenario, lang)} · {years[0]}-{years[-1]}" + (
        "年" if lang == "zh" else ""
    )
    add_legend(fmap, study, title=_t("title", lang), items=keys, lang=lang, heading=heading)
    add_controls(fmap, study, lang=lang, search=[(schools, "name"), (layer, "facility_id")],
                 labels=[(schools, "name", 14)])  # fmt: skip
    fmap.add_child(
        PageScript(
            "phases.js",
            map_name=fmap.get_name(),
            layer=layer.get_name(),
            years=json.dumps(years),
            texts=json.dumps({"until": _t("until", lang)}, ensure_ascii=False),
        )
    )
    finish(fmap)
    return fmap
