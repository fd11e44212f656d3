"""The provision map: places against children, where children have no place, which schools are full.

One page answers, for each level, scenario and plan year chosen with a level switch, a
scenario switch and a year slider (every layer follows them):

- **Townships by gap**: the children of the level living in the township against the places
  of its schools (children / places), classed with :class:`mapclassify.UserDefined` at 80 %,
  100 % and 120 %; townships with children and no places stand apart.
- **Schools by utilisation**: each school's projected pupils (the capacity-constrained
  assignment of :func:`layout.access.access`) against its places; a school over capacity
  has a black ring. Dots are sized by pupils.
- **Cells by reason**: the cells where children have no place within reach, where they
  travel beyond the norm (the urban service radius or the rural travel-time norm of the
  profile), or both, kept apart, for every scenario and year (``reasons`` of
  :func:`layout.access.access`). Cells and townships are drawn on one canvas (thousands of
  cells draw slowly as SVG), the schools as SVG above them. A study with more cells than the
  map budget (:data:`layout.maps.budget.MAX_FEATURES`, a province) has its cells drawn as one
  image per level, scenario and year instead (:mod:`layout.maps.grid`: the same colours, no
  popups; the legend says so), which keeps the page to a few megabytes.
- **Counties**: each county's demand chart in its popup, embedded in the page while the
  charts together stay under :data:`layout.maps.budget.MAX_EMBEDDED_MB` (a city), else linked
  to the chart files beside the results (a province; the legend says so).
- **Roads** (:mod:`layout.maps.roads`), off until ticked.

The norm of the level is read from the profile and named in the legend heading and in every
popup. Colours are ColorBrewer's colour-blind-safe RdYlBu, Greys and Accent.

Examples
--------
See :func:`layout.runs.outputs.write_outputs`, which draws it after ``layout plan``'s analysis.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import NamedTuple

import folium
import mapclassify
import numpy as np
import pandas as pd

from ..demand import focus_scenario
from ..labels import Lang, code_name, in_language
from ..standards import Profile
from ..study import Study
from . import budget as map_budget
from .basemap import Basemap, Datum
from .canvas import Key, add_legend, finish, study_canvas
from .controls import PageScript, add_controls
from .geojson import geojson_from_geodataframe
from .grid import cell_grid, grid_images
from .labels import label_html
from .roads import add_roads

__all__ = ["GAP_BINS", "GAP_COLOURS", "REASON_COLOURS", "CountyChart", "provision_map"]

GAP_BINS = (0.8, 1.0, 1.2)
"""Upper bounds of the utilisation classes (children or pupils / places) below the last."""
GAP_COLOURS = ("#2c7bb6", "#abd9e9", "#fdae61", "#d7191c", "#762a83")
"""ColorBrewer RdYlBu (4 classes) for up to 80 %, 80-100 %, 100-120 %, over 120 %; purple for
children and no places."""
REASON_COLOURS = {"no_place": "#969696", "beyond": "#ffff99", "both": "#252525"}
"""Reason of a flagged cell: ColorBrewer Greys and Accent yellow, chosen to stay at least 14
CAM02-UCS units from every other key of the map under deuteranopia and protanopia."""

_TEXT = {
    "title": ("学位供需：缺口、学校利用率与未达标原因", "Provision: gap, school use, reasons"),
    "townships": ("乡镇学位供需", "Townships: children against places"),
    "schools": ("学校学位利用率", "Schools by utilisation"),
    "cells": ("未达标网格（按原因）", "Cells by reason"),
    "counties": ("县域预测图", "County projections"),
    "level": ("学段", "Level"),
    "scenario": ("方案", "Scenario"),
    "year": ("年份", "Year"),
    "class0": ("学位充足（需求≤80%学位）", "places to spare (≤ 80 % used)"),
    "class1": ("基本满足（80%-100%）", "nearly full (80-100 %)"),
    "class2": ("学位不足（100%-120%）", "short (100-120 %)"),
    "class3": ("严重不足（>120%）", "very short (> 120 %)"),
    "class4": ("有学龄儿童无学位", "children and no places"),
    "over": ("超容量学校（黑圈）", "school over capacity (black ring)"),
    "no_place": ("可达范围内无学位", "no place within reach"),
    "beyond": ("超出就学标准", "beyond the norm"),
    "both": ("无学位且超出标准", "no place and beyond the norm"),
    "norm": (
        "就学标准：城镇服务半径{radius:,.0f}米，乡村单程{minutes:g}分钟",
        "Norm: urban radius {radius:,.0f} m, rural {minutes:g} minutes one way",
    ),
    "children": ("学龄儿童", "Children"),
    "places": ("学位", "Places"),
    "gap": ("缺口（儿童-学位）", "Gap (children - places)"),
    "use": ("利用率", "Utilisation"),
    "pupils": ("预测在校生", "Projected pupils"),
    "unserved": ("可达范围内无学位", "No place within reach"),
    "far": ("超出标准", "Beyond the norm"),
    "reason": ("原因", "Reason"),
    "people": ("人", ""),
    "drawn": (
        "网格共{cells:,}个，超过地图上限{budget:,}：未达标网格按学段、方案、年份绘为图像（无弹窗），"
        "各网格数据见 results.gpkg 旁的 cell_reasons/",
        "{cells:,} cells exceed the map budget of {budget:,}: the flagged cells are drawn as one "
        "image per level, scenario and year (no popups); each cell's figures are in "
        "cell_reasons/ beside results.gpkg",
    ),
    "linked": (
        "{counties}个县的预测图共{megabytes:.1f}MB，超过嵌入上限{budget}MB："
        "弹窗链接 charts/ 中的图片",
        "the {counties} county charts weigh {megabytes:.1f} MB, over the {budget} MB embedded in "
        "a page: popups link the pictures in charts/",
    ),
    "open": ("打开预测图", "open the chart"),
}
_t = partial(in_language, _TEXT)


class CountyChart(NamedTuple):
    """A county's demand chart: its PNG file, and the link to it as seen from the map page."""

    file: Path
    link: str


def provision_map(
    study: Study,
    *,
    balance: pd.DataFrame,
    schools: pd.DataFrame,
    reasons: pd.DataFrame | Iterable[pd.DataFrame],
    charts: Mapping[str, CountyChart] | None = None,
    lang: Lang = "zh",
    basemap: Basemap | None = None,
    max_features: int | None = None,
) -> folium.Map:
    """Build the provision map.

    Parameters
    ----------
    study
        The study (townships, schools, cells, profile, title, data date).
    balance
        ``access_balance`` of :func:`layout.access.access`: children and places by township,
        scenario, year and level.
    schools
        ``access_schools``: each school's places and projected pupils (``capacity``,
        ``load``) by scenario, year and level.
    reasons
        ``reasons`` of :func:`layout.access.access`: the cells whose children have no place
        within reach or travel beyond the norm, by scenario, year and level; whole or in
        pieces (one per county, read one at a time).
    charts
        County code to its demand chart, shown in the county's popup: embedded while the
        charts weigh at most :data:`layout.maps.budget.MAX_EMBEDDED_MB` together, else shown
        from the chart's link (relative to the page).
    lang
        ``"zh"`` or ``"en"``.
    basemap
        Optional tiles; overlays follow the basemap's datum.
    max_features
        The map budget: a study with more cells has its flagged cells drawn as images;
        :data:`layout.maps.budget.MAX_FEATURES` by default.

    Returns
    -------
    folium.Map
    """
    datum: Datum = basemap.datum if basemap else "wgs84"
    fmap = study_canvas(study, lang=lang, basemap=basemap)
    keys = _keys(balance)
    towns = _townships_layer(study, balance, lang, datum)
    towns.show = False  # the page script draws the townships and cells on a canvas
    towns.add_to(fmap)
    pieces = [reasons] if isinstance(reasons, pd.DataFrame) else reasons
    budget = map_budget.MAX_FEATURES if max_features is None else max_features
    cells, images, drawn = _cells_layer(study, pieces, keys, lang, datum, budget=budget)
    cells.show = False
    cells.add_to(fmap)
    roads = add_roads(fmap, study, lang=lang, datum=datum)
    points = _schools_layer(study, schools, lang, datum)
    points.add_to(fmap)
    linked = None
    if charts:
        layer, linked = _charts_layer(study, charts, lang)
        layer.add_to(fmap)
    items: list[Key] = [(GAP_COLOURS[i], _t(f"class{i}", lang), "area") for i in range(5)]
    items += [("#000000", _t("over", lang), "ring")]
    items += [(colour, _t(reason, lang), "area") for reason, colour in REASON_COLOURS.items()]
    items += [roads.key] if roads else []
    notices = [n for n in (drawn, linked, roads.notice if roads else None) if n]
    add_legend(
        fmap, study, title=_t("title", lang), items=items, lang=lang, notices=notices,
        heading=" ",
    )  # fmt: skip
    fmap.add_child(
        PageScript(
            "provision.js",
            map_name=fmap.get_name(),
            layers=json.dumps(
                {"towns": towns.get_name(), "cells": cells.get_name(), "schools": points.get_name()}
            ),  # fmt: skip
            keys=json.dumps(keys, ensure_ascii=False),
            images=json.dumps(images),
            texts=json.dumps(_texts(study.standards, keys, lang), ensure_ascii=False),
            colours=json.dumps({"gap": GAP_COLOURS, "reason": REASON_COLOURS}),
        )
    )
    add_controls(
        fmap, study, lang=lang, search=[(points, "name"), (towns, "name")],
        labels=[(towns, "name", 13), (points, "name", 15)],
    )  # fmt: skip
    finish(fmap)
    return fmap


def _keys(balance: pd.DataFrame) -> dict[str, list[str] | list[int] | str]:
    """Return the levels, scenarios and years a reader can choose, and the first scenario."""
    scenarios = list(dict.fromkeys(balance["scenario"].astype(str)))
    return {
        "levels": list(dict.fromkeys(balance["level"].astype(str))),
        "scenarios": scenarios,
        "years": sorted(int(y) for y in balance["year"].unique()),
        "focus": focus_scenario(scenarios),
    }


def _texts(profile: Profile, keys: Mapping[str, object], lang: Lang) -> dict[str, object]:
    """Return the labels the page script writes, with each level's norm from the profile."""
    levels = keys["levels"]
    scenarios = keys["scenarios"]
    assert isinstance(levels, list) and isinstance(scenarios, list)
    texts: dict[str, object] = {k: _t(k, lang) for k in _TEXT if k != "norm"}
    texts["norm"] = {
        level: _t("norm", lang, radius=profile.radius(level, "urban"),
                  minutes=profile.minutes(level, setting="rural"))
        for level in levels
    }  # fmt: skip
    texts["names"] = {code: code_name(code, lang) for code in [*levels, *scenarios]}
    return texts


def _classes(used: np.ndarray, places: np.ndarray) -> np.ndarray:
    """Class of each area or school: 0-3 by children / places (mapclassify), 4 without places."""
    ratio = np.divide(used, places, out=np.zeros_like(used), where=places > 0)
    classes = mapclassify.UserDefined(ratio, bins=list(GAP_BINS)).yb.astype(int)
    return np.where(places > 0, classes, 4)


Values = dict[str, dict[str, list[int]]]
"""Values by unit id, then by ``"level|scenario|year"``."""


def _by_key(frame: pd.DataFrame, unit: str, used: str, places: str) -> Values:
    """Return ``{unit: {"level|scenario|year": [used, places, class]}}``, whole counts."""
    frame = frame[(frame[used] > 0) | (frame[places] > 0)]
    counts = frame[used].to_numpy(float).round(0)
    seats = frame[places].to_numpy(float).round(0)
    classes = _classes(counts, seats)
    key = frame["level"].astype(str) + "|" + frame["scenario"].astype(str) + "|"
    key = key + frame["year"].astype(int).astype(str)
    out: Values = {}
    for unit_id, k, n, p, c in zip(frame[unit], key, counts, seats, classes, strict=True):
        out.setdefault(str(unit_id), {})[k] = [int(n), int(p), int(c)]
    return out


def _with_values(layer: folium.GeoJson, ids: pd.Series, values: Mapping[str, object]) -> None:
    """Put each feature's values by level, scenario and year into its properties."""
    for feature, unit_id in zip(layer.data["features"], ids, strict=True):
        feature["properties"]["v"] = values.get(str(unit_id), {})


def _townships_layer(
    study: Study, balance: pd.DataFrame, lang: Lang, datum: Datum
) -> folium.GeoJson:
    towns = study["townships"][["township_code", "name", "geometry"]]
    layer = geojson_from_geodataframe(
        towns, style={"weight": 0.6, "color": "#555", "fillOpacity": 0.55},
        tooltip={"name": "", "township_code": ""}, simplify_tolerance=50,
        name=_t("townships", lang), datum=datum, popups=False,
    )  # fmt: skip
    _with_values(
        layer, towns["township_code"], _by_key(balance, "township_code", "children", "capacity")
    )
    return layer


def _schools_layer(study: Study, table: pd.DataFrame, lang: Lang, datum: Datum) -> folium.GeoJson:
    schools = study["schools"]
    schools = schools[schools["school_id"].isin(table["school_id"])]
    layer = geojson_from_geodataframe(
        schools[["school_id", "name", "geometry"]],
        style={"weight": 1, "color": "#333333", "fillOpacity": 0.9},
        tooltip={"name": "", "school_id": ""},
        marker=folium.CircleMarker(radius=5, fill=True),
        name=_t("schools", lang), datum=datum, popups=False,
    )  # fmt: skip
    _with_values(layer, schools["school_id"], _by_key(table, "school_id", "load", "capacity"))
    return layer


def _cells_layer(  # noqa: PLR0913 - the map's options, passed on
    study: Study,
    reasons: Iterable[pd.DataFrame],
    keys: Mapping[str, list[str] | list[int] | str],
    lang: Lang,
    datum: Datum,
    *,
    budget: int,
) -> tuple[folium.GeoJson | folium.raster_layers.ImageOverlay, dict[str, str], str | None]:
    """Cells with no place within reach, beyond the norm, or both, by level, scenario and year.

    Returns the layer, the images by view (none for vector cells) and the legend's notice. A
    study with more cells than ``budget`` gets one image per view (``"level|scenario|year"``).
    """
    population = study["population"]
    if len(population) > budget:
        grid = cell_grid(population.geometry, datum=datum)
        codes = _reason_codes(pd.Index(population["cell_id"]), reasons, keys)
        urls = grid_images(grid, codes, colours=list(REASON_COLOURS.values()))
        levels, scenarios, years = (keys[k] for k in ("levels", "scenarios", "years"))
        views = [f"{lv}|{sc}|{yr}" for lv in levels for sc in scenarios for yr in years]
        overlay = folium.raster_layers.ImageOverlay(
            urls[0], bounds=grid.bounds, name=_t("cells", lang), opacity=0.7, interactive=False
        )
        notice = _t("drawn", lang, cells=len(population), budget=budget)
        return overlay, dict(zip(views, urls, strict=True)), notice
    rows = pd.concat(list(reasons), ignore_index=True)
    shapes = population[population["cell_id"].isin(rows["cell_id"].unique())]
    layer = geojson_from_geodataframe(
        shapes[["cell_id", "setting", "geometry"]], style={"weight": 0, "fillOpacity": 0.7},
        tooltip={"cell_id": "", "setting": ""}, name=_t("cells", lang), datum=datum,
        popups=False,
    )  # fmt: skip
    _with_values(layer, shapes["cell_id"], _cell_values(rows, "cell_id", keys))
    return layer, {}, None


def _reason_codes(
    cells: pd.Index,
    reasons: Iterable[pd.DataFrame],
    keys: Mapping[str, list[str] | list[int] | str],
) -> np.ndarray:
    """Return views by cells: each cell's reason in each view, 0 where it is not flagged.

    1 no place, 2 beyond the norm, 3 both (the order of :data:`REASON_COLOURS`); views in
    level, scenario, year order. Filled in piece by piece: the reasons are never held whole.
    """
    levels, scenarios, years = (pd.Index(list(keys[k])) for k in ("levels", "scenarios", "years"))
    codes = np.zeros((len(levels) * len(scenarios) * len(years), len(cells)), np.uint8)
    for rows in reasons:
        at = np.array([levels.get_indexer(rows["level"]), scenarios.get_indexer(rows["scenario"]),
                       years.get_indexer(rows["year"].astype(int)),
                       cells.get_indexer(rows["cell_id"])])  # fmt: skip
        known = (at >= 0).all(axis=0)
        view = np.ravel_multi_index(tuple(at[:3, known]), (len(levels), len(scenarios), len(years)))
        unserved = rows["unserved"].to_numpy()[known] > 0
        beyond = rows["beyond_norm"].to_numpy()[known] > 0
        codes[view, at[3, known]] = np.where(unserved & beyond, 3, np.where(unserved, 1, 2))
    return codes


def _cell_values(
    rows: pd.DataFrame, unit: str, keys: Mapping[str, list[str] | list[int] | str]
) -> dict[str, list[list[float]]]:
    """Each cell's counts, compactly, as the page script reads them.

    A list per level and scenario (level first, in the order of ``keys``) of children,
    unserved and beyond the norm for each year in turn, or an empty list where the cell is
    never flagged. Counts are whole, but a fraction of a child stays 0.1 (the popup's "<1").
    Thousands of cells times every scenario and year would otherwise weigh tens of megabytes.
    """
    levels, scenarios, years = (pd.Index(list(keys[k])) for k in ("levels", "scenarios", "years"))
    units, ids = pd.factorize(rows[unit])
    at = (units, levels.get_indexer(rows["level"]), scenarios.get_indexer(rows["scenario"]),
          years.get_indexer(rows["year"].astype(int)))  # fmt: skip
    counts = np.zeros((len(ids), len(levels), len(scenarios), len(years), 3))
    np.add.at(counts, at, rows[["children", "unserved", "beyond_norm"]].to_numpy(float))
    shown = np.where((counts > 0) & (counts < 0.5), 0.1, np.round(counts))
    present = np.zeros(counts.shape[:3], bool)
    present[at[:3]] = True
    flat = shown.reshape(len(ids), len(levels) * len(scenarios), -1)
    flags = present.reshape(len(ids), -1)
    return {
        str(unit_id): [
            [v if v == 0.1 else int(v) for v in row.tolist()] if flag else []
            for row, flag in zip(flat[i], flags[i], strict=True)
        ]
        for i, unit_id in enumerate(ids)
    }


def _charts_layer(
    study: Study, charts: Mapping[str, CountyChart], lang: Lang
) -> tuple[folium.FeatureGroup, str | None]:
    """Return county markers whose popups hold the county's demand chart, and a notice.

    The charts are embedded as data while they weigh at most
    :data:`layout.maps.budget.MAX_EMBEDDED_MB` together; beyond, every popup shows its chart
    from the link, and the notice says so.
    """
    group = folium.FeatureGroup(name=_t("counties", lang), show=False)
    counties = study["counties"].to_crs(4326)
    codes = set(counties["county_code"])
    shown = {code: c for code, c in charts.items() if code in codes and c.file.is_file()}
    megabytes = sum(chart.file.stat().st_size for chart in shown.values()) / 2**20
    embed = megabytes <= map_budget.MAX_EMBEDDED_MB
    for row in counties.itertuples():
        chart = shown.get(row.county_code)
        if chart is None:
            continue
        if embed:
            data = base64.b64encode(chart.file.read_bytes()).decode("ascii")
            picture = f"<img src='data:image/png;base64,{data}' width='480'>"
        else:
            href = html.escape(chart.link, quote=True)
            picture = (
                f"<a href='{href}' target='_blank'><img src='{href}' width='480' "
                f"alt='{href}'><br>{_t('open', lang)}</a>"
            )
        point = row.geometry.representative_point()
        popup = folium.Popup(f"<b>{label_html(row.name)}</b><br>{picture}", max_width=500)
        folium.CircleMarker(
            (point.y, point.x), radius=7, color="#333", fill=True, fill_opacity=0.8, popup=popup,
            tooltip=folium.Tooltip(label_html(row.name)),
        ).add_to(group)  # fmt: skip
    if embed:
        return group, None
    return group, _t("linked", lang).format(
        counties=len(shown), megabytes=megabytes, budget=map_budget.MAX_EMBEDDED_MB
    )
