"""A county's own files to a first plan: `layout init`, `layout check`, `layout plan` (issue 15).

The files are made here from the bundled synthetic study (county 210302, 铁东区) in the forms
bureaus keep them: a school roster in Excel with a title row, Chinese headers, totals only and
GCJ-02 coordinates; housing projects in a GBK CSV; reserved parcels as a Shapefile in
EPSG:4550 with Chinese field names; a village table with 5-year age groups; township and county
boundaries with Chinese headers. The GCJ-02 shift is made with ``prcoords``, an implementation
independent of the ``coordTransform`` that the loader uses to undo it.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import pyogrio
import pytest

from layout.cli import main
from layout.study import bundled_study_path

COUNTY = "210302"
DATA = bundled_study_path().parent
LEVEL_ZH = {"primary": "小学", "junior": "初级中学", "nine_year": "九年一贯制学校",
            "teaching_point": "教学点"}  # fmt: skip
SETTING_ZH = {"urban": "城区", "rural": "乡村"}
STATUS_ZH = {"open": "在办", "planned": "规划", "closing": "拟撤并"}


def _layer(name: str) -> gpd.GeoDataFrame:
    frame = gpd.read_file(DATA / "anshan.gpkg", layer=name)
    return frame[frame["county_code"] == COUNTY].reset_index(drop=True)


def _lonlat(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    points = frame.geometry.representative_point().to_crs("EPSG:4326")
    return points.x.to_numpy(), points.y.to_numpy()


def _schools_xlsx(folder: Path) -> gpd.GeoDataFrame:
    schools = _layer("schools")
    lon, lat = _lonlat(schools)
    gcj = [prcoords.wgs_gcj((y, x)) for x, y in zip(lon, lat, strict=True)]
    towns = _layer("townships").set_index("township_code")["name"]
    roster = pd.DataFrame({
        "学校标识码": schools["school_id"],
        "学校名称": schools["name"],
        "学段": schools["level"].map(LEVEL_ZH),
        "所在乡镇": schools["township_code"].map(towns),
        "城乡分类": schools["setting"].map(SETTING_ZH),
        "办学状态": schools["status"].map(STATUS_ZH),
        "在校生数": schools.filter(like="enrolment_g").sum(axis=1),
        "班级数": schools.filter(like="classes_g").sum(axis=1),
        "核定学位": schools["capacity"],
        "教职工数": schools["teachers"],
        "寄宿生数": schools["boarders"],
        "床位数": schools["boarding_beds"],
        "占地面积（㎡）": schools["land_area_m2"],
        "建筑面积（㎡）": schools["building_area_m2"],
        "经度": [c.lon for c in gcj],
        "纬度": [c.lat for c in gcj],
    })  # fmt: skip
    with pd.ExcelWriter(folder / "学校基本情况.xlsx", engine="openpyxl") as writer:
        roster.to_excel(writer, sheet_name="学校", startrow=1, index=False)
        writer.sheets["学校"]["A1"] = "铁东区中小学基本情况表（合成数据 synthetic）"
    return schools


def _developments_csv(folder: Path) -> None:
    dev = _layer("developments")
    lon, lat = _lonlat(dev)
    status = {"completed": "已竣工", "under_construction": "在建", "planned": "规划"}
    table = pd.DataFrame({
        "分期编号": dev["phase_id"], "项目编号": dev["development_id"], "项目名称": dev["name"],
        "分期": dev["phase"], "户数": dev["households"], "交付年份": dev["delivery_year"],
        "状态": dev["status"].map(status), "经度": lon.round(8), "纬度": lat.round(8),
    })  # fmt: skip
    (folder / "住宅项目.csv").write_bytes(table.to_csv(index=False).encode("gbk"))


def _parcels_shp(folder: Path) -> None:
    land = _layer("reserved_land")
    status = {"reserved": "储备", "approved": "已批准", "under_construction": "在建",
              "built": "已建成"}  # fmt: skip
    shp = gpd.GeoDataFrame({
        "地块编号": land["parcel_id"], "县区代码": land["county_code"],
        "乡镇代码": land["township_code"], "规划学段": land["planned_level"].map(LEVEL_ZH),
        "规划班数": land["planned_classes"], "交付年份": land["delivery_year"],
        "状态": land["status"].map(status),
    }, geometry=land.geometry, crs="EPSG:4550")  # fmt: skip
    shp.to_file(folder / "储备用地.shp", engine="pyogrio", encoding="GBK")


def _villages_csv(folder: Path) -> gpd.GeoDataFrame:
    cells = gpd.read_parquet(DATA / "population.parquet")
    cells = cells[cells["county_code"] == COUNTY].reset_index(drop=True)
    lon, lat = _lonlat(cells)
    ages = cells[[f"age_{a}" for a in range(15)]].to_numpy()
    codes = cells["township_code"] + pd.Series(range(1, len(cells) + 1)).map("{:03d}".format)
    table = pd.DataFrame({
        "统计用区划代码": codes, "村名称": [f"村{i}（合成）" for i in range(len(cells))],
        "城乡分类": cells["setting"].map({"urban": "111", "rural": "220"}),
        "常住人口": cells["residents"], "0-4岁": ages[:, 0:5].sum(axis=1),
        "5-9岁": ages[:, 5:10].sum(axis=1), "10-14岁": ages[:, 10:15].sum(axis=1),
        "经度": lon.round(8), "纬度": lat.round(8),
    })  # fmt: skip
    (folder / "村人口.csv").write_bytes(table.to_csv(index=False).encode("utf-8-sig"))
    return cells


def _boundaries(folder: Path) -> None:
    towns = _layer("townships")
    gpd.GeoDataFrame({
        "乡镇代码": towns["township_code"], "乡镇名称": towns["name"],
        "县区代码": towns["county_code"], "驻地经度": towns["seat_lon"],
        "驻地纬度": towns["seat_lat"], "城乡分类": towns["setting"].map(SETTING_ZH),
    }, geometry=towns.geometry, crs=towns.crs).to_file(folder / "乡镇界.gpkg")  # fmt: skip
    counties = gpd.read_file(DATA.parent / "boundaries" / "anshan.gpkg", layer="counties")
    county = counties[counties["county_code"] == COUNTY]
    gpd.GeoDataFrame({
        "行政区划代码": county["county_code"], "县区名称": county["name"],
        "城乡分类": county["setting"].map(SETTING_ZH),
    }, geometry=county.geometry, crs=county.crs).to_file(folder / "县界.geojson")  # fmt: skip


@pytest.fixture(scope="module")
def county(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    folder = tmp_path_factory.mktemp("铁东区数据")
    schools = _schools_xlsx(folder)
    _developments_csv(folder)
    _parcels_shp(folder)
    villages = _villages_csv(folder)
    _boundaries(folder)
    return folder, schools, villages


def _answered(text: str) -> str:
    """Answer the drafted TOML's TODOs as the planner would: the datum of each table."""
    out = []
    layer = ""
    for line in text.splitlines():
        if line.startswith("[layers."):
            layer = line.strip("[]").split(".")[1]
        if line.startswith("# datum = "):
            line = 'datum = "gcj02"' if layer == "schools" else 'datum = "wgs84"'
        out.append(line)
    return "\n".join(out) + "\n"


def test_a_folder_of_bureau_files_to_a_first_plan(
    county: tuple[Path, gpd.GeoDataFrame, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    folder, truth, villages = county
    toml = folder / "study.toml"
    assert main(["init", str(folder), "--quiet"]) == 0
    text = toml.read_text(encoding="utf-8")
    assert 'path = "学校基本情况.xlsx"' in text and "header_row = 2" in text
    assert 'encoding = "gb18030"' in text and '"学校标识码" = "school_id"' in text
    assert text.count("# datum = ") == 3 and "TODO" in text
    # Before the TODOs are answered the study is refused, each table's datum named.
    assert main(["check", str(toml), "--out", str(tmp_path / "before"), "--quiet"]) == 2
    before = pd.read_excel(tmp_path / "before" / "check.xlsx", dtype=str).fillna("")
    unstated = before[before["problem"].str.contains("datum of the coordinates is not stated")]
    assert sorted(unstated["file"]) == ["住宅项目.csv", "学校基本情况.xlsx", "村人口.csv"]
    toml.write_text(_answered(text), encoding="utf-8")
    assert main(["check", str(toml), "--out", str(tmp_path / "after"), "--quiet"]) == 0
    out = tmp_path / "plan"
    assert main(["plan", str(toml), "--out", str(out), "--maps", str(out / "maps"), "--quiet"]) == 0
    schools = gpd.read_file(out / "results.gpkg", layer="schools").set_index("school_id")
    true = truth.set_index("school_id")
    assert set(schools.index) == set(true.index)
    moved = schools.geometry.distance(true.geometry.to_crs(schools.crs).loc[schools.index])
    assert moved.max() < 1.0  # GCJ-02 left as it was would move them about 500 m
    assert schools["grades_estimated"].all()
    ledger = pyogrio.read_dataframe(out / "results.gpkg", layer="class_size_ledger")
    assert ledger["grades_estimated"].astype(bool).all()  # flagged where the grades are used
    pupils = true.filter(like="enrolment_g").sum(axis=1).loc[schools.index]
    assert (schools.filter(like="enrolment_g").sum(axis=1) == pupils).all()
    page = (out / "index.html").read_text(encoding="utf-8")
    # Estimates stated where results are: every school of the roster had totals only.
    assert f"{len(true)} 所学校的分年级学生和班级由总数估算" in page
    assert "研究未设情景: 出生率取本地人口数据推算值" in page
    cells = gpd.read_parquet(out / "cells.parquet")
    assert len(cells) == len(villages)
