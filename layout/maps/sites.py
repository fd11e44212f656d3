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
from ..sites import SitePlan, gained_cells
from ..study import Study
from .basemap import Basemap, Datum
from .budget import within_budget
from .canvas import Key, add_legend, finish, study_canvas
from .controls import add_controls
from .geojson import geojson_from_geodataframe

KIND_COLOURS = {
    "small_school": "#e66101",
    "boarding_school": "#5e3c99",
    "urban_school": "#1b9e77",
}
"""Proposals by kind: ColorBrewer PuOr ends and Dark2 green, colour-blind safe."""
_CANDIDATE_COLOUR = "#bababa"
_SCHOOL_COLOUR = "#404040"
_GAINED_COLOUR = "#b2abd2"
_TEXT = {
    "title": ("新增校点选址建议", "Proposed school sites"),
    "proposals": ("建议新增校点", "Proposed schools"),
    "candidates": ("备选点", "Candidate sites"),
    "gained": ("新增达标覆盖的网格", "Cells brought within the norm"),
    "score": ("适宜性得分", "Suitability score"),
    "schools": ("现有学校", "Existing schools"),
}
_PROPOSAL_TIPS = ["proposal_id", "kind", "candidate_id", "children_served", "minutes_saved",
                  "classes", "teachers_required", "boarding_beds", "boarding_staff", "land_m2",
                  "total_funding", "gap"]  # fmt: skip


_t = partial(in_language, _TEXT)


def plan_heading(*, scenario: str, year: int, lang: Lang) -> str:
    """Name the scenario and year a site plan was made for.

    Examples
    --------
    >>> plan_heading(scenario="medium", year=2035, lang="zh")
    '中方案 · 2035年'
    """
    return f"{code_name(scenario, lang)} · {year}{'年' if lang == 'zh' else ''}"


def _label(column: str, lang: Lang) -> str:
    return _t(column, lang) if column in _TEXT else header(column, lang)


def sites_map(
    study: Study,
    plan: SitePlan,
    *,
    lang: Lang = "zh",
    basemap: Basemap | None = None,
    heading: str = "",
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
    heading
        What the plan was made for (scenario, year, norm), shown under the title.

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
                "color": "#777777",
                "weight": 1,
                "fillColor": _CANDIDATE_COLOUR,
                "fillOpacity": 0.6,
                "opacity": 0.8,
                "radius": 3,
            },  # fmt: skip
            tooltip={c: _label(c, lang) for c in ("candidate_id", "candidate_kind", "score")},
            marker=folium.CircleMarker(radius=3, fill=True),
            name=_t("candidates", lang),
            datum=datum,
        ).add_to(fmap)
    cover = plan.coverage
    judged = {"within_after", "within_before"} <= set(cover.columns)
    gained = gained_cells(cover) if judged else cover
    notices = []
    if judged and len(gained):
        gained, notice = within_budget(
            gained[["cell_id", "township_code", "children", "geometry"]],
            by="township_code",
            what=_t("gained", lang),
            lang=lang,
        )
        notices += [notice] if notice else []
        key = "cell_id" if "cell_id" in gained else "township_code"
        geojson_from_geodataframe(
            gained[[key, "children", "geometry"]].assign(children=gained["children"].round(1)),
            style={
                "color": _GAINED_COLOUR,
                "weight": 0.5,
                "fillColor": _GAINED_COLOUR,
                "fillOpacity": 0.6,
            },  # fmt: skip
            tooltip={key: header(key, lang), "children": header("children", lang)},
            name=_t("gained", lang),
            datum=datum,
        ).add_to(fmap)
    schools = school_dots(study, lang, datum)
    schools.add_to(fmap)
    search = [(schools, "name")]
    if len(plan.proposals):
        proposals = _proposals_layer(plan.proposals, lang, datum)
        proposals.add_to(fmap)
        search.append((proposals, "proposal_id"))
    kinds = set(plan.proposals["kind"]) if len(plan.proposals) else set()
    keys: list[Key] = [
        (colour, code_name(kind, lang)) for kind, colour in KIND_COLOURS.items() if kind in kinds
    ]
    keys += [(_SCHOOL_COLOUR, _t("schools", lang)), (_CANDIDATE_COLOUR, _t("candidates", lang))]
    keys += [(_GAINED_COLOUR, _t("gained", lang), "area")] if judged else []
    add_legend(
        fmap, study, title=_t("title", lang), items=keys, lang=lang, notices=notices,
        heading=heading,
    )  # fmt: skip
    add_controls(fmap, study, lang=lang, search=search, labels=[(schools, "name", 14)])
    finish(fmap)
    return fmap


def school_dots(
    study: Study, lang: Lang, datum: Datum, *, county: str | None = None
) -> folium.GeoJson:
    """Draw the open schools (of one county if given), small dark dots under a plan's marks.

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> dots = school_dots(study_from_toml(), "en", "wgs84", county="210303")
    >>> {f["properties"]["school_id"][1:7] for f in dots.data["features"]}
    {'210303'}
    """
    schools = study["schools"]
    keep = schools["status"] == "open"
    if county is not None:
        keep &= schools["county_code"].astype(str) == county
    schools = schools[keep]
    shown = gpd.GeoDataFrame(
        {"name": schools["name"], "school_id": schools["school_id"],
         "level": schools["level"].map(lambda v: code_name(v, lang))},
        geometry=schools.geometry, crs=schools.crs,
    )  # fmt: skip
    return geojson_from_geodataframe(
        shown,
        style={"color": "#ffffff", "weight": 0.8, "fillColor": _SCHOOL_COLOUR, "fillOpacity": 1},
        tooltip={c: header(c, lang) for c in ("name", "school_id", "level")},
        marker=folium.CircleMarker(radius=3, fill=True),
        name=_t("schools", lang),
        datum=datum,
    )


def _proposals_layer(proposals: gpd.GeoDataFrame, lang: Lang, datum: Datum) -> folium.GeoJson:
    shown = proposals[[*_PROPOSAL_TIPS, "geometry"]].copy()
    for col in ("children_served", "land_m2", "total_funding"):
        shown[col] = shown[col].round(0)
    shown["minutes_saved"] = shown["minutes_saved"].round(1)
    shown["colour"] = proposals["kind"].map(KIND_COLOURS).to_numpy()
    served = pd.to_numeric(proposals["children_served"]).to_numpy(float)
    shown["radius"] = np.clip(5 + np.sqrt(served) / 3, 5, 16).round(1)
    shown["kind"] = proposals["kind"].map(lambda k: code_name(k, lang))
    return geojson_from_geodataframe(
        shown,
        style={"weight": 1.5, "color": "#000000", "fillOpacity": 0.9},
        style_columns={"fillColor": "colour", "radius": "radius"},
        tooltip={c: _label(c, lang) for c in _PROPOSAL_TIPS},
        formats={"gap": "{:.2%}"},
        marker=folium.CircleMarker(radius=6, fill=True),
        name=_t("proposals", lang),
        datum=datum,
    )
