"""The sites map: proposed schools by type with their figures, the candidates, coverage gained.

Examples
--------
>>> from layout.study import study_from_toml
>>> from layout.demand import study_demand
>>> from layout.sites import plan_sites
>>> study = study_from_toml()
>>> demand = study_demand(study, scenarios=["medium"], years=[2035])
>>> plan = plan_sites(study, demand, year=2035, level="junior")
>>> type(sites_map(study, plan)).__name__
'Map'
"""

from __future__ import annotations

from functools import partial

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from ..labels import Lang, code_name, header, in_language
from ..sites import SitePlan
from ..study import Study
from .basemap import Basemap, Datum
from .budget import within_budget
from .canvas import add_legend, finish, study_canvas
from .geojson import geojson_from_geodataframe

_KIND_COLOURS = {
    "small_school": "#e66101",
    "boarding_school": "#5e3c99",
    "urban_school": "#0571b0",
}
_TEXT = {
    "title": ("新增校点选址建议", "Proposed school sites"),
    "proposals": ("建议新增校点", "Proposed schools"),
    "candidates": ("备选点", "Candidate sites"),
    "gained": ("新增达标覆盖的网格", "Cells brought within the norm"),
    "score": ("适宜性得分", "Suitability score"),
}
_PROPOSAL_TIPS = ["proposal_id", "kind", "candidate_id", "children_served", "minutes_saved",
                  "classes", "teachers_required", "boarding_beds", "land_m2", "total_funding",
                  "gap"]  # fmt: skip


_t = partial(in_language, _TEXT)


def _label(column: str, lang: Lang) -> str:
    return _t(column, lang) if column in _TEXT else header(column, lang)


def sites_map(
    study: Study, plan: SitePlan, *, lang: Lang = "zh", basemap: Basemap | None = None
) -> folium.Map:
    """Draw a site plan: proposals coloured by kind, candidates faint, coverage gained.

    Parameters
    ----------
    study
        The study (frame, title, data date).
    plan
        From :func:`layout.sites.rural_plan`, :func:`~layout.sites.urban_plan` or
        :func:`~layout.sites.plan_sites`.
    lang
        ``"zh"`` (default) or ``"en"``.
    basemap
        Optional tiles; ``None`` draws none, so the map needs no network.

    Returns
    -------
    folium.Map
        One path per candidate, per cell gained and per proposal, in that order. Save it with
        :func:`layout.maps.offline.save_html`.
    """
    datum: Datum = basemap.datum if basemap else "wgs84"
    fmap = study_canvas(study, lang=lang, basemap=basemap)
    candidates = plan.candidates.drop_duplicates("candidate_id")
    if len(candidates):
        shown = gpd.GeoDataFrame(
            {
                "candidate_id": candidates["candidate_id"],
                "candidate_kind": candidates["kind"].map(lambda k: code_name(k, lang)),
                "score": candidates["score"].round(2),
            },
            geometry=candidates.geometry,
            crs=candidates.crs,
        )
        geojson_from_geodataframe(
            shown,
            style={
                "color": "#777",
                "weight": 1,
                "fillColor": "#bbb",
                "fillOpacity": 0.3,
                "opacity": 0.5,
                "radius": 3,
            },  # fmt: skip
            tooltip={c: _label(c, lang) for c in ("candidate_id", "candidate_kind", "score")},
            marker=folium.CircleMarker(radius=3, fill=True),
            name=_t("candidates", lang),
            datum=datum,
        ).add_to(fmap)
    cover = plan.coverage
    judged = {"within_after", "within_before"} <= set(cover.columns)
    gained = (
        cover[(cover["within_after"] & ~cover["within_before"]).to_numpy(bool)] if judged else cover
    )
    notices = []
    if judged and len(gained):
        gained, notice = within_budget(
            gained[["cell_id", "township_code", "children", "geometry"]],
            by="township_code",
            what=_t("gained", "en"),
        )
        notices += [notice] if notice else []
        key = "cell_id" if "cell_id" in gained else "township_code"
        geojson_from_geodataframe(
            gained[[key, "children", "geometry"]].assign(children=gained["children"].round(1)),
            style={
                "color": "#1a9641",
                "weight": 0.5,
                "fillColor": "#1a9641",
                "fillOpacity": 0.35,
            },  # fmt: skip
            tooltip={key: header(key, lang), "children": header("children", lang)},
            name=_t("gained", lang),
            datum=datum,
        ).add_to(fmap)
    if len(plan.proposals):
        _proposals_layer(plan.proposals, lang, datum).add_to(fmap)
    keys = [(colour, code_name(kind, lang)) for kind, colour in _KIND_COLOURS.items()]
    add_legend(fmap, study, title=_t("title", lang), items=keys, lang=lang, notices=notices)
    finish(fmap)
    return fmap


def _proposals_layer(proposals: gpd.GeoDataFrame, lang: Lang, datum: Datum) -> folium.GeoJson:
    shown = proposals[[*_PROPOSAL_TIPS, "geometry"]].copy()
    for col in ("children_served", "minutes_saved", "land_m2", "total_funding"):
        shown[col] = shown[col].round(1)
    shown["gap"] = shown["gap"].round(4)
    shown["colour"] = proposals["kind"].map(_KIND_COLOURS).to_numpy()
    served = pd.to_numeric(proposals["children_served"]).to_numpy(float)
    shown["radius"] = np.clip(5 + np.sqrt(served) / 3, 5, 16).round(1)
    shown["kind"] = proposals["kind"].map(lambda k: code_name(k, lang))
    return geojson_from_geodataframe(
        shown,
        style={"weight": 2, "fillOpacity": 0.85},
        style_columns={"color": "colour", "fillColor": "colour", "radius": "radius"},
        tooltip={c: _label(c, lang) for c in _PROPOSAL_TIPS},
        marker=folium.CircleMarker(radius=6, fill=True),
        name=_t("proposals", lang),
        datum=datum,
    )
