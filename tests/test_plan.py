"""`layout plan` end to end on the tiny hand-made study, and its overview map in Chromium."""

from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from PIL import Image
from shapely.geometry import box

from layout.access.plan_years import REASON_COLUMNS
from layout.cli import main
from layout.maps import external_references
from layout.report.files import write_parquet
from tests.tinystudy import TOML as TINY_TOML
from tests.tinystudy import write_tiny_study

if TYPE_CHECKING:
    from tests.browser import OfflinePage


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run the CLI once on the tiny study; return the folder holding out/ and maps/."""
    root = tmp_path_factory.mktemp("plan")
    toml = write_tiny_study(root / "study")
    before = {p.name: hashlib.sha256(p.read_bytes()).digest() for p in toml.parent.iterdir()}
    code = main(
        ["plan", str(toml), "--out", str(root / "out"), "--maps", str(root / "maps"), "--quiet"]
    )
    assert code == 0
    after = {p.name: hashlib.sha256(p.read_bytes()).digest() for p in toml.parent.iterdir()}
    assert before == after, "the study's input files were modified"
    return root


def test_outputs_are_written(run: Path) -> None:
    out = sorted(p.name for p in (run / "out").iterdir())
    assert out == [
        ".layout-plan.json", "assignment", "cell_flags", "cell_reasons", "cells.parquet", "charts",
        "demand", "index.html", "results.gpkg", "site_coverage", "tables.xlsx",
    ]  # fmt: skip
    # Per-cell demand: one folder per county and plan year, outside the GeoPackage.
    parts = sorted(
        str(p.relative_to(run / "out" / "demand")) for p in (run / "out" / "demand").rglob("*")
    )
    years = range(2025, 2031)
    assert [p for p in parts if p.endswith(".parquet")] == [
        f"county_code={c}/year={y}/part-0.parquet" for c in ("210302", "210303") for y in years
    ]
    charts = sorted(p.name for p in (run / "out" / "charts").iterdir())
    assert charts == ["demand_210302.png", "demand_210303.png"]
    maps = sorted(p.name for p in (run / "maps").iterdir())
    assert maps == [".layout-plan.json", "overview.html", "provision.html", "sites.html"]
    layers = {row[0] for row in pyogrio.list_layers(run / "out" / "results.gpkg")}
    assert {"counties", "schools", "class_size_ledger", "funding", "staffing"} <= layers
    assert not {"demand", "cells", "cell_flags", "cell_reasons", "assignment"} & layers
    # The cells' reasons, per county and year; county and year from the folders.
    reasons = pd.read_parquet(run / "out" / "cell_reasons")
    assert sorted(reasons.columns) == sorted(REASON_COLUMNS)
    assert set(reasons["county_code"].astype(str)) <= {"210302", "210303"}
    info = pyogrio.read_info(run / "out" / "results.gpkg", layer="counties")
    assert info["layer_metadata"] == {"study": "tiny", "synthetic": "true"}


def test_county_figures_worked_by_hand(run: Path) -> None:
    counties = gpd.read_file(run / "out" / "results.gpkg", layer="counties").set_index(
        "county_code"
    )
    # 210302: S1 (primary) grade 1 has 113 pupils in 2 classes -> 56 + 57, both over the
    # primary cap of 45 and both 56+; grade 2 has 90 in 2 -> 45 + 45, fine. S2 (junior) grade 7
    # has 100 in 2 -> 50 + 50, at the junior cap of 50, fine.
    # Schools 2, pupils 113 + 90 + 100 = 303, classes 6, mean 303 / 6 = 50.5.
    a = counties.loc["210302"]
    assert (a["schools"], a["students"], a["classes"]) == (2, 303, 6)
    assert a["mean_class_size"] == pytest.approx(50.5)
    assert (a["classes_over_cap"], a["classes_large"], a["schools_struck_off"]) == (2, 2, 1)
    # Funding: S1 203 x 850 = 172 550; S2 100 x 1050 = 105 000; total 277 550.
    assert a["total_funding"] == pytest.approx(277_550)
    # Staffing: S1 needs ceil(203 / 19) = 11 and has 10 (short 1); S2 needs ceil(100 / 13.5) = 8.
    assert (a["teachers_required"], a["shortfall"]) == (19, 1)
    # 210303: teaching point S3, 12 pupils in 2 classes (mean 6); funded as 100 pupils:
    # 100 x 850 = 85 000; staff by 1.5 per class: 3, by ratio ceil(12 / 19) = 1 -> 3.
    b = counties.loc["210303"]
    assert (b["schools"], b["students"], b["classes"], b["classes_large"]) == (1, 12, 2, 0)
    assert b["mean_class_size"] == pytest.approx(6.0)
    assert b["total_funding"] == pytest.approx(85_000)
    assert b["teachers_required"] == 3


def test_demand_outputs(run: Path) -> None:
    gpkg = run / "out" / "results.gpkg"
    by_county = pyogrio.read_dataframe(gpkg, layer="demand_by_county")
    assert set(by_county["scenario"]) == {"low", "medium", "high"}
    assert sorted(set(by_county["year"])) == list(range(2025, 2031))
    row = by_county.set_index(["county_code", "scenario", "year", "level"])
    # D1-1: 500 households delivered in 2026 with no observed developments to fit, so the
    # default rates apply: 0.18 primary and 0.09 junior pupils per occupied household, and by
    # 2030 (four years after delivery) occupancy has ramped to 100%: 90 and 45 children.
    assert row.loc[("210302", "medium", 2030, "primary"), "from_developments"] == pytest.approx(90)
    assert row.loc[("210302", "medium", 2030, "junior"), "from_developments"] == pytest.approx(45)
    assert row.loc[("210303", "medium", 2030, "primary"), "from_developments"] == 0
    # The per-cell table adds up to the county totals.
    cells = pd.read_parquet(run / "out" / "demand")
    cells = cells.astype({"county_code": str, "year": int, "scenario": str})  # were categories
    primary = cells.groupby(["county_code", "scenario", "year"], observed=True)["primary"].sum()
    expected = by_county[by_county["level"] == "primary"].set_index(
        ["county_code", "scenario", "year"]
    )["children"]
    pd.testing.assert_series_equal(primary.sort_index(), expected.sort_index(), check_names=False)
    # One county, read as the README says (the folder names read back as numbers).
    one = pd.read_parquet(run / "out" / "demand", filters=[("county_code", "==", 210303)])
    assert len(one) == (cells["county_code"] == "210303").sum() > 0
    geometry = gpd.read_parquet(run / "out" / "cells.parquet")
    assert sorted(geometry["cell_id"]) == ["C1", "C2", "C3", "C4"]
    assert geometry.crs == "EPSG:4550"


def test_school_layer_carries_the_ledger(run: Path) -> None:
    schools = gpd.read_file(run / "out" / "results.gpkg", layer="schools").set_index("school_id")
    assert schools.crs == "EPSG:4550"
    assert schools.loc["S1", "school_classes_large"] == 2
    assert not schools.loc["S1", "can_strike_off"]
    assert bool(schools.loc["S2", "can_strike_off"])


def test_spreadsheet_has_chinese_headers(run: Path) -> None:
    sheets = pd.read_excel(run / "out" / "tables.xlsx", sheet_name=None)
    assert "消除大班额工作台账" in sheets
    ledger = sheets["消除大班额工作台账"]
    assert "学校代码" in ledger.columns
    assert sorted(ledger["学校代码"].unique()) == ["S1", "S2", "S3"]
    # The study is synthetic: the first sheet says so. Every table sheet keeps its header row
    # in view (frozen below row 1), and its numbers carry Excel formats, read back by openpyxl.
    book = openpyxl.load_workbook(run / "out" / "tables.xlsx", read_only=False)
    notice, *tables = book.worksheets
    assert notice.title == "说明 Notice" and "合成样例数据" in str(notice["A1"].value)
    assert {sheet.freeze_panes for sheet in tables} == {"A2"}
    funding = book["生均公用经费"]
    header = [cell.value for cell in funding[1]]
    money = funding.cell(row=2, column=header.index("公用经费合计(元)") + 1)
    assert money.number_format == "#,##0"
    # County names stand beside the codes.
    counties = sheets["班额县域汇总"]
    assert list(counties.columns[:2]) == ["县(市、区)代码", "县(市、区)名称"]
    assert dict(zip(counties.iloc[:, 0].astype(str), counties.iloc[:, 1], strict=True)) == {
        "210302": "甲区",
        "210303": "乙县",
    }


def test_class_size_timetable_sheet(run: Path) -> None:
    """The timetable follows the medium scenario's loads in the access sheet of the same run."""
    sheets = pd.read_excel(run / "out" / "tables.xlsx", sheet_name=None)
    table = sheets["消除大班额时间表"].set_index("学校代码")
    loads = gpd.read_file(run / "out" / "results.gpkg", layer="access_schools")
    s1 = loads[(loads["school_id"] == "S1") & (loads["scenario"] == "medium")]
    # S1 teaches in its 4 primary classes; every plan year's load is over 4 x 45 = 180, so it
    # never complies without action, and its peak load needs ceil(peak / 45) - 4 classes more.
    assert (s1["load"] > 180).all()
    assert table.loc["S1", "不采取措施无法达标"] == "是"
    assert table.loc["S1", "需增班级数"] == math.ceil(s1["load"].max() / 45) - 4
    # S3 (12 pupils in 2 classes) complies now and stays within the cap: struck off in 2024.
    assert table.loc["S3", "销号年份"] == 2024
    progress = sheets["大班额销号进度"]
    assert set(progress["年份"]) == {2024, *range(2025, 2031)}


def test_english_spreadsheet(tmp_path: Path) -> None:
    from layout.runs.plan import plan

    toml = write_tiny_study(tmp_path / "study")
    plan(toml, out_dir=tmp_path / "out", maps_dir=tmp_path / "maps", lang="en", progress=False)
    sheets = pd.read_excel(tmp_path / "out" / "tables.xlsx", sheet_name=None)
    assert "Class-size ledger" in sheets


def test_bad_study_exits_with_message(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    toml = write_tiny_study(tmp_path / "study")
    (tmp_path / "study" / "schools.csv").unlink()
    assert main(["plan", str(toml), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "schools.csv" in caplog.text and "not found" in caplog.text
    assert not (tmp_path / "o").exists()


def test_index_page_states_findings_and_links(run: Path) -> None:
    page = (run / "out" / "index.html").read_text(encoding="utf-8")
    # Worked by hand above: 3 schools, 315 pupils (303 + 12), 2 classes of 56+, 2 over the cap,
    # 2 schools can be struck off (S2, S3), teacher shortfall 1 (S1).
    assert "2个县（市、区），3所学校，2024年在校生315人。" in page
    # 113 pupils in 2 classes are 57 and 56: two large classes (56+), no very large one (66+).
    assert (
        "超过班额上限（小学45人、初中50人）的班级2个，其中56人及以上大班额2个（含66人及以上超大班额0个）；"
        "可销号学校2所。"
    ) in page
    assert "教师缺口合计1人" in page
    # Access, medium scenario, 2025: every primary child has a place, none within the norm
    # (see test_access); the junior children of C4 have no junior school in their county.
    demand = pd.read_parquet(run / "out" / "demand").astype({"year": int})
    c4 = demand[(demand["cell_id"] == "C4") & (demand["scenario"] == "medium")]
    junior = float(c4.loc[c4["year"] == 2025, "junior"].iloc[0])
    assert (
        "2025年小学：0名学生在本县可达范围内没有学位；0%在就学标准内（城镇服务半径500米，乡村单程30分钟）。"
    ) in page
    assert (
        f"2025年初中：{junior:,.0f}名学生在本县可达范围内没有学位；0%在就学标准内"
        "（城镇服务半径1,000米，乡村单程60分钟）。"
    ) in page
    assert "中方案，2025年小学" in page
    # The tiny study gives no resource or support columns: the index names those rules.
    assert "缺少数据、未能核查的规则：优质均衡资源配置（学校资源7项列）；农村学校食堂" in page
    assert '<a href="../maps/overview.html">../maps/overview.html</a>' in page
    assert '<a href="results.gpkg">results.gpkg</a>' in page
    assert "合成样例数据" in page


def test_overview_map_is_offline(run: Path) -> None:
    assert external_references(run / "maps" / "overview.html") == []


def test_overview_map_in_chromium(run: Path, offline_page: OfflinePage) -> None:
    offline_page.open(run / "maps" / "overview.html")
    page = offline_page.page
    assert page.evaluate("typeof L === 'object' && L.version") == "1.9.3"
    # 2 county polygons + 2 township polygons + 3 school circles.
    paths = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
    assert paths.count() == 7
    # Hover the school circle of S1 (the first circle marker drawn by the schools layer).
    box = page.locator(".leaflet-overlay-pane path.leaflet-interactive").nth(4).bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.locator(".leaflet-tooltip.foliumtooltip")
    tooltip.wait_for()
    assert "第一小学" in tooltip.inner_text()
    assert "56人及以上班数" in tooltip.inner_text()
    # A click pins the same numbers in a popup.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "第一小学" in popup.inner_text() and "56人及以上班数" in popup.inner_text()
    pixels = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20


def test_gaode_basemap_and_english_labels(tmp_path: Path) -> None:
    from layout.runs.outputs import write_outputs
    from layout.runs.plan import analyse
    from layout.study import study_from_toml

    result = analyse(study_from_toml(write_tiny_study(tmp_path / "study")))
    write_outputs(
        result, out_dir=tmp_path / "out", maps_dir=tmp_path / "maps", lang="en", tiles="gaode"
    )
    page = (tmp_path / "maps" / "overview.html").read_text(encoding="utf-8")
    assert "https://webrd0{s}.is.autonavi.com/appmaptile" in page
    assert "Overview: schools and class sizes" in page and "Classes of 56+" in page
    assert external_references(tmp_path / "maps" / "overview.html") == []
    # The school S1 is drawn shifted to GCJ-02: about 0.0055 degrees east of its WGS84 place.
    s1 = result.study["schools"].to_crs(4326).geometry[0]
    assert f"[{s1.x:.5f}, {s1.y:.5f}]" not in page


def test_layer_over_the_map_budget_is_aggregated_with_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layout.maps import budget
    from layout.runs.outputs import write_outputs
    from layout.runs.plan import analyse
    from layout.study import study_from_toml

    result = analyse(study_from_toml(write_tiny_study(tmp_path / "study")))
    monkeypatch.setattr(budget, "MAX_FEATURES", 1)
    write_outputs(result, out_dir=tmp_path / "out", maps_dir=tmp_path / "maps")
    page = (tmp_path / "maps" / "provision.html").read_text(encoding="utf-8")
    # The study's 4 cells are over a budget of 1: the provision map draws the flagged cells as
    # images, and the legend says so (tests/test_map_pages.py reads their pixels).
    assert "网格共4个，超过地图上限1：未达标网格按学段、方案、年份绘为图像" in page
    assert "results.gpkg 旁的 cell_reasons/" in page


def test_class_size_overrides_reach_the_legend_and_the_index(tmp_path: Path) -> None:
    # Every class-size number of the profile overridden. Worked by hand on the tiny study's
    # classes: S1 grade 1 is 57 + 56, grade 2 45 + 45; S2 grade 7 is 50 + 50; S3 has 7 and 5.
    # Over the caps (primary 44, junior 49): 57, 56, 45, 45 and 50, 50 -> 6 classes;
    # large (50 or more): 57, 56, 50, 50 -> 4; very large (57 or more): 57 -> 1.
    override = (
        "\n[standards.class_size]\nprimary_cap = 44\njunior_cap = 49\n"
        "large_class_min = 50\nvery_large_class_min = 57\n"
    )
    toml = write_tiny_study(tmp_path / "study", toml=TINY_TOML + override)
    out, maps = tmp_path / "out", tmp_path / "maps"
    assert main(["plan", str(toml), "--out", str(out), "--maps", str(maps), "--quiet"]) == 0
    page = (out / "index.html").read_text(encoding="utf-8")
    assert (
        "超过班额上限（小学44人、初中49人）的班级6个，其中50人及以上大班额4个"
        "（含57人及以上超大班额1个）；"
    ) in page
    legend = (maps / "overview.html").read_text(encoding="utf-8")
    assert "有50人及以上大班额" in legend
    assert "有超标准班额（小学44人、初中49人）" in legend
    assert "56" not in page.split("超过班额上限")[1].split("。")[0]


def test_a_per_cell_table_without_rows_keeps_its_columns(tmp_path: Path) -> None:
    """A study whose cells are all within the norm has no cell reasons: the folder says which."""
    cells = gpd.GeoDataFrame(
        {"county_code": ["210302"], "year": [2025], "cell_id": ["C1"], "children": [4.0]},
        geometry=[box(0, 0, 500, 500)],
        crs=4550,
    )
    pieces = (cells.iloc[:0] for _ in range(2))  # two counties, neither with a flagged cell
    folder = write_parquet(pieces, tmp_path / "cell_reasons", partition_by=["county_code", "year"])
    back = gpd.read_parquet(folder)
    assert back.columns.tolist() == cells.columns.tolist() and len(back) == 0
    assert back.crs == cells.crs
    assert [p.name for p in folder.rglob("*.parquet")] == ["part-0.parquet"]


def test_sites_planned_in_a_child_beside_access_give_the_same_result(tmp_path: Path) -> None:
    # `layout plan` overlaps the access step with the sites step run in a forked child; the
    # result must be the one of the steps run one after the other in this process.
    from layout.runs.plan import analyse
    from layout.study import study_from_toml

    study = study_from_toml(write_tiny_study(tmp_path / "study"))
    alone, overlapped = analyse(study), analyse(study, overlap=True)
    assert overlapped.sites is not None and not overlapped.layers["site_proposals"].empty
    assert list(overlapped.tables) == list(alone.tables)
    for name, table in alone.tables.items():
        pd.testing.assert_frame_equal(overlapped.tables[name], table, obj=name)
    assert list(overlapped.layers) == list(alone.layers)
    for name, layer in alone.layers.items():
        pd.testing.assert_frame_equal(overlapped.layers[name], layer, obj=name)
