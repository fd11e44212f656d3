"""The balance map: each county's inter-school difference coefficients against the limits.

Counties are green when the resource part of the quality-balanced assessment (优质均衡) would
pass for both stages, red otherwise. Hovering a county shows, per stage, the largest of the
seven difference coefficients against its limit and the share of schools meeting the resource
standards; its popup lists every indicator's coefficient.

Examples
--------
>>> from layout.study import study_from_toml
>>> from layout.runs.plan import PlanResult, STEPS
>>> result = PlanResult(study=study_from_toml())
>>> dict(STEPS)["indicators"](result)
>>> m = balance_map(result.study, indicators=result.tables["balance_indicators"],
...                 counties=result.tables["balance_counties"])
>>> type(m).__name__
'Map'
"""

from __future__ import annotations

from functools import partial

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from ..labels import Lang, code_name, in_language
from ..study import Study
from .basemap import Basemap
from .canvas import add_legend, finish, study_canvas
from .geojson import geojson_from_geodataframe

PASS_COLOUR = "#1a9641"
FAIL_COLOUR = "#d7191c"
_TEXT = {
    "title": ("义务教育优质均衡：校际差异系数", "Balanced development: difference coefficients"),
    "layer": ("县域资源配置评估", "County resource assessment"),
    "county": ("县区", "County"),
    "pass": ("资源配置达标", "resource part passes"),
    "fail": ("资源配置未达标", "resource part fails"),
    "max_cv": ("{stage}最大差异系数", "{stage} largest coefficient"),
    "limit": ("{stage}限值", "{stage} limit"),
    "share": ("{stage}达标学校比例", "{stage} schools meeting"),
}


_t = partial(in_language, _TEXT)


def balance_map(
    study: Study,
    *,
    indicators: pd.DataFrame,
    counties: pd.DataFrame,
    lang: Lang = "zh",
    basemap: Basemap | None = None,
) -> folium.Map:
    """Draw the counties coloured by the resource part of the balanced-development assessment.

    Parameters
    ----------
    study
        The study (counties, title, data date).
    indicators, counties
        The ``balance_indicators`` and ``balance_counties`` tables of
        :func:`layout.indicators.indicator_tables` (plain column names).
    lang
        ``"zh"`` or ``"en"``.
    basemap
        Optional tiles; overlays follow the basemap's datum.

    Returns
    -------
    folium.Map
    """
    shown = study["counties"][["county_code", "name", "geometry"]].copy()
    tooltip = {"name": _t("county", lang)}
    for stage in ("primary", "junior"):
        name = code_name(stage, lang)
        rows = indicators[indicators["stage"] == stage].groupby("county_code")
        verdict = counties[counties["stage"] == stage].set_index("county_code")
        code = shown["county_code"]
        shown[f"{stage}_max_cv"] = rows["cv"].max().reindex(code).round(3).to_numpy()
        shown[f"{stage}_limit"] = rows["cv_limit"].first().reindex(code).to_numpy()
        shown[f"{stage}_share"] = verdict["share_passing"].reindex(code).round(3).to_numpy()
        tooltip[f"{stage}_max_cv"] = _t("max_cv", lang, stage=name)
        tooltip[f"{stage}_limit"] = _t("limit", lang, stage=name)
        tooltip[f"{stage}_share"] = _t("share", lang, stage=name)
    passed = counties.groupby("county_code")["county_pass"].all()
    ok = passed.reindex(shown["county_code"]).fillna(False).to_numpy(dtype=bool)
    shown["colour"] = np.where(ok, PASS_COLOUR, FAIL_COLOUR)
    datum = basemap.datum if basemap else "wgs84"
    fmap = study_canvas(study, lang=lang, basemap=basemap, outline=False)
    geojson_from_geodataframe(
        gpd.GeoDataFrame(shown, geometry="geometry", crs=study.crs),
        style={"color": "#333", "weight": 1.5, "fillOpacity": 0.5},
        style_columns={"fillColor": "colour"},
        tooltip=tooltip,
        simplify_tolerance=30,
        name=_t("layer", lang),
        datum=datum,
    ).add_to(fmap)
    keys = [(PASS_COLOUR, _t("pass", lang)), (FAIL_COLOUR, _t("fail", lang))]
    add_legend(fmap, study, title=_t("title", lang), items=keys, lang=lang)
    finish(fmap)
    return fmap
