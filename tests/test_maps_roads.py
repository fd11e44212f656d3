"""The road network as an optional layer of the overview map, read from the page Chromium drew."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import shapely
from shapely.geometry import LineString, MultiLineString

import layout.maps.roads
from layout.maps import external_references, save_html
from layout.maps.budget import within_budget
from layout.maps.overview import overview_map
from layout.maps.roads import add_roads
from layout.runs.plan import STEPS, PlanResult
from layout.study import study_from_toml
from tests.tinystudy import CRS, X0, Y0, write_tiny_study

if TYPE_CHECKING:
    from tests.browser import OfflinePage

# The roads Leaflet drew: [road class, stroke, stroke-width] of each path on the map.
_ROADS = """() => {
  const map = window[Object.keys(window).find(k => k.startsWith('map_'))];
  const out = [];
  map.eachLayer(l => { if (l.feature && l._path && l.feature.properties.road_class) {
    out.push([l.feature.properties.road_class, l._path.getAttribute('stroke'),
              l._path.getAttribute('stroke-width')]); } });
  return out.sort();
}"""


def _three_roads() -> gpd.GeoDataFrame:
    """A village road (30 km/h), a county road (60) and an expressway (100) across the study."""
    return gpd.GeoDataFrame(
        {"road_id": ["r1", "r2", "r3"], "road_class": ["village", "county", "expressway"],
         "speed_kmh": [30.0, 60.0, 100.0]},
        geometry=[LineString([(X0 + 1_000, Y0 + 1_000 * i), (X0 + 19_000, Y0 + 1_000 * i)])
                  for i in (1, 2, 3)],
        crs=CRS,
    )  # fmt: skip


def test_roads_are_an_optional_layer_off_by_default(tmp_path: Path, offline_page: OfflinePage):
    study = study_from_toml(write_tiny_study(tmp_path / "study"))
    roads = _three_roads()
    study = dataclasses.replace(study, layers={**study.layers, "roads": roads})
    result = PlanResult(study=study)
    dict(STEPS)["indicators"](result)
    fmap = overview_map(study, counties=result.counties(), schools=result.schools())
    page_file = save_html(fmap, tmp_path / "overview.html")
    assert external_references(page_file) == []
    offline_page.open(page_file)
    page = offline_page.page
    assert page.evaluate(_ROADS) == []  # off when the page opens
    entry = page.locator(".leaflet-control-layers-overlays label", has_text="道路")
    assert entry.inner_text().strip() == "道路（线宽按设计速度）"
    entry.locator("input").check()
    # Grey, widths by design speed: up to 40 km/h 1 px, up to 70 km/h 2 px, faster 3.5 px.
    assert page.evaluate(_ROADS) == [
        ["county", "#636363", "2"], ["expressway", "#636363", "3.5"], ["village", "#636363", "1"],
    ]  # fmt: skip
    keys = page.locator("#layout-legend .layout-key-row").all_inner_texts()
    assert "道路（线宽按设计速度）" in keys


def test_lines_over_the_budget_are_gathered_by_class_not_unioned() -> None:
    # Two crossing roads of 60 km/h and one of 30: a union would node the crossing into four
    # pieces; gathered, each class keeps its lines as they are (2 and 1 parts, same length).
    roads = gpd.GeoDataFrame(
        {"speed": ["60", "60", "30"], "km": [2.0, 2.0, 1.0]},
        geometry=[LineString([(0, 1), (2, 1)]), LineString([(1, 0), (1, 2)]),
                  MultiLineString([[(5, 0), (5, 1)]])],
        crs="EPSG:4550",
    )  # fmt: skip
    shown, notice = within_budget(roads, by="speed", what="roads", max_features=2)
    assert notice is not None and shown["speed"].tolist() == ["30", "60"]
    assert shown["km"].tolist() == [1.0, 4.0]
    assert shapely.get_num_geometries(shown.geometry.to_numpy()).tolist() == [1, 2]
    assert shown.geometry.length.tolist() == [1.0, 4.0]


def test_too_many_roads_draw_the_main_roads_only(tmp_path: Path, monkeypatch) -> None:
    # Three roads against a budget of two: the 30 km/h village road is left out (with a
    # notice), the 60 and 100 km/h roads are drawn as they are (within the budget).
    study = study_from_toml(write_tiny_study(tmp_path / "study"))
    roads = _three_roads()
    study = dataclasses.replace(study, layers={**study.layers, "roads": roads})
    monkeypatch.setattr(layout.maps.roads, "MAX_FEATURES", 2)
    found = add_roads(folium.Map(tiles=None), study, lang="en", datum="wgs84")
    drawn = sorted(f["properties"]["road_class"] for f in found.layer.data["features"])
    assert drawn == ["county", "expressway"]
    assert found.notice == (
        "The 1 roads of 40 km/h or less are not drawn (the study's layer has them all)."
    )
    chinese = add_roads(folium.Map(tiles=None), study, lang="zh", datum="wgs84")
    assert chinese.notice == "设计速度40公里/小时及以下的1条道路未绘出（完整路网见研究图层）。"
    assert len(roads) == 3  # the study's layer is not changed
