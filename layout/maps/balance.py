"""The balance map: each county's inter-school difference coefficients against the limits.

Counties are coloured by their largest difference coefficient against its limit (the worse
of the two stages), in ColorBrewer's colour-blind-safe RdYlBu classes (mapclassify) at 0.8,
1 and 1.25 times the limit: blue well within, red far beyond. Hovering a county shows whether
the resource part of the quality-balanced assessment (优质均衡) would pass, and per stage the
largest of the seven difference coefficients, its limit and the share of schools meeting the
resource standards.

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
import mapclassify
import numpy as np
import pandas as pd

from .. import _moved
from ..labels import Lang, code_name, in_language
from ..study import Study
from .basemap import Basemap
from .canvas import Key, add_legend, finish, study_canvas
from .controls import add_controls
from .geojson import geojson_from_geodataframe

RATIO_BINS = (0.8, 1.0, 1.25)
"""Upper bounds of the classes of (largest coefficient / its limit) below the last."""
RATIO_COLOURS = ("#2c7bb6", "#abd9e9", "#fdae61", "#d7191c")
"""ColorBrewer RdYlBu, 4 classes."""
_TEXT = {
    "title": ("义务教育优质均衡：校际差异系数", "Balanced development: difference coefficients"),
    "layer": ("县域资源配置评估", "County resource assessment"),
    "county": ("县区", "County"),
    "verdict": ("资源配置评估", "Resource part"),
    "pass": ("达标", "passes"),
    "fail": ("未达标", "fails"),
    "class0": ("最大差异系数≤限值的80%", "largest coefficient ≤ 80 % of its limit"),
    "class1": ("限值的80%-100%", "80-100 % of the limit"),
    "class2": ("超过限值（100%-125%）", "over the limit (100-125 %)"),
    "class3": ("超过限值25%以上", "over the limit by more than 25 %"),
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
    shown["verdict"] = np.where(ok, _t("pass", lang), _t("fail", lang))
    tooltip["verdict"] = _t("verdict", lang)
    ratio = np.nanmax(
        [shown[f"{s}_max_cv"] / shown[f"{s}_limit"] for s in ("primary", "junior")], axis=0
    )
    classes = mapclassify.UserDefined(np.nan_to_num(ratio), bins=list(RATIO_BINS)).yb
    shown["colour"] = np.asarray(RATIO_COLOURS)[classes]
    datum = basemap.datum if basemap else "wgs84"
    fmap = study_canvas(study, lang=lang, basemap=basemap, outline=False)
    layer = geojson_from_geodataframe(
        gpd.GeoDataFrame(shown, geometry="geometry", crs=study.crs),
        style={"color": "#333", "weight": 1.5, "fillOpacity": 0.6},
        style_columns={"fillColor": "colour"},
        tooltip=tooltip,
        formats={c: "{:.3f}" for c in tooltip if c.endswith(("max_cv", "limit"))}
        | {c: "{:.0%}" for c in tooltip if c.endswith("share")},
        simplify_tolerance=30,
        name=_t("layer", lang),
        datum=datum,
    )
    layer.add_to(fmap)
    keys: list[Key] = [(c, _t(f"class{i}", lang), "area") for i, c in enumerate(RATIO_COLOURS)]
    add_legend(fmap, study, title=_t("title", lang), items=keys, lang=lang)
    add_controls(fmap, study, lang=lang, search=[(layer, "name")], labels=[(layer, "name", 8)])
    finish(fmap)
    return fmap


def __getattr__(name: str) -> object:
    """Tell what replaced a name this module no longer has (see :mod:`layout._moved`)."""
    return _moved.moved_name(__name__, name)
