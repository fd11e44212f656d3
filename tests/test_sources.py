"""Reading files as bureaus keep them, `layout check` and `layout init` (issue 15)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import pyproj
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import Point

from layout.check import check_study
from layout.cli import main
from layout.errors import FINDING_COLUMNS, StudyError
from layout.sources.datum import to_wgs84, zone_problem
from layout.sources.estimates import ages_from_groups, grades_from_totals
from layout.sources.folder import draft_from_folder
from layout.study import study_from_toml
from tests.tinystudy import CRS, TOML, X0, Y0, write_tiny_study

GEOD = Geod(ellps="WGS84")
SHORT = {"parcel_id": "地块编号", "county_code": "县区代码", "township_code": "乡镇代码",
         "planned_level": "规划学段", "planned_classes": "规划班数", "delivery_year": "交付年份",
         "status": "状态"}  # fmt: skip
"""Shapefile fields (10 bytes at most) as bureaus name them, for the reserved parcels."""


def _metres(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2])


@pytest.mark.parametrize(
    ("datum", "shift"),
    [("gcj02", lambda lat, lon: prcoords.wgs_gcj((lat, lon))),
     ("bd09", lambda lat, lon: prcoords.wgs_bd((lat, lon)))],
)  # fmt: skip
def test_web_datums_are_undone_within_a_metre_of_the_truth(datum: str, shift: object) -> None:
    """Known WGS 84 points, shifted by prcoords (independent of coordTransform), come back."""
    rng = np.random.default_rng(15)
    truth = np.column_stack([rng.uniform(74, 134, 200), rng.uniform(19, 52, 200)])
    shifted = np.array([[c.lon, c.lat] for c in (shift(y, x) for x, y in truth)])  # type: ignore[operator]
    assert _metres(shifted, truth).min() > 50  # the shift is real: tens to hundreds of metres
    back = to_wgs84(shifted[:, 0], shifted[:, 1], datum=datum)
    assert _metres(back, truth).max() < 1.0


def test_gcj02_as_a_crs_is_refused_with_the_fix(tmp_path: Path) -> None:
    toml = write_tiny_study(tmp_path / "a", toml=TOML.replace('crs = "EPSG:4550"', 'crs = "GCJ02"'))
    with pytest.raises(StudyError, match=r'web-map datum.*datum = "gcj02"') as info:
        study_from_toml(toml)
    assert "Traceback" not in str(info.value)
    layer = TOML.replace('crs = "EPSG:4490"', 'crs = "gcj-02"')
    with pytest.raises(StudyError, match=r"\[layers.schools\].*web-map datum"):
        study_from_toml(write_tiny_study(tmp_path / "b", toml=layer))


@pytest.mark.parametrize(
    ("declared", "offset", "message", "code"),
    [
        ("EPSG:4549", 0.0, "outside the area of use of EPSG:4549", "EPSG:4550"),
        ("EPSG:4550", 41_000_000.0, "carry a zone number", "EPSG:4529"),
        ("EPSG:4490", 0.0, "look like metres", "EPSG:4550"),
    ],
)
def test_a_wrong_gauss_kruger_zone_is_named_with_the_right_code(
    tmp_path: Path, declared: str, offset: float, message: str, code: str
) -> None:
    """Parcels in EPSG:4550 metres saved as another zone, zone-prefixed, or as degrees."""

    folder = tmp_path / "s"
    write_tiny_study(folder)
    land = gpd.read_file(folder / "layers.gpkg", layer="reserved_land").rename(columns=SHORT)
    land.geometry = land.geometry.translate(xoff=offset)
    land.set_crs(declared, allow_override=True).to_file(folder / "parcels.shp", encoding="GBK")
    toml = TOML.replace('path = "layers.gpkg"\nlayer = "reserved_land"', 'path = "parcels.shp"')
    (folder / "study.toml").write_text(toml, encoding="utf-8")
    found = check_study(folder / "study.toml").findings
    (row,) = found[found["layer"] == "reserved_land"].itertuples()
    assert row.file == "parcels.shp" and message in row.problem
    assert f'crs = "{code}"' in row.fix


def test_a_province_kept_in_one_zone_passes_the_zone_check() -> None:
    """Liaoning (118.8E-125.8E) in the zone of CM 123E, whose area of use is 121.5E-124.5E."""
    zone = pyproj.CRS.from_epsg(4550)
    to_zone = Transformer.from_crs("EPSG:4490", zone, always_xy=True)
    west = to_zone.transform(119.5, 41.6)  # Chaoyang, 3.5 degrees west of the CM
    province = (118.8, 38.7, 125.8, 43.5)
    assert zone_problem(zone, *west, near=province) is None
    assert zone_problem(zone, *west) is None  # the study area not known yet: within a zone
    # The same point against a one-county study around 123E (Anshan) is some 290 km away.
    problem, fix = zone_problem(zone, *west, near=(122.6, 40.6, 123.4, 41.2))
    assert "another zone?" in problem
    # Two zones west (CM 117E) is beyond what one zone's projection serves.
    assert zone_problem(zone, *to_zone.transform(116.0, 41.0)) is not None


def test_gbk_csv_excel_title_row_and_shapefile_without_cpg_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    toml = write_tiny_study(folder)
    schools = pd.read_csv(folder / "schools.csv", dtype=str)
    (folder / "schools.csv").write_bytes(schools.to_csv(index=False).encode("gbk"))
    pop = gpd.read_parquet(folder / "population.parquet")
    with pd.ExcelWriter(folder / "pop.xlsx", engine="openpyxl") as writer:
        frame = pd.DataFrame(pop.drop(columns="geometry"))
        frame["lon"] = pop.geometry.centroid.to_crs(4490).x
        frame["lat"] = pop.geometry.centroid.to_crs(4490).y
        frame.to_excel(writer, sheet_name="村", startrow=2, index=False)
        writer.sheets["村"]["A1"] = "人口表（合成）"
    land = gpd.read_file(folder / "layers.gpkg", layer="reserved_land").rename(columns=SHORT)
    land["名称"] = ["甲地块", "乙地块"]
    land.to_file(folder / "land.shp", encoding="GBK")
    (folder / "land.cpg").unlink()
    text = (
        TOML.replace('path = "population.parquet"',
                     'path = "pop.xlsx"\nsheet = "村"\nx = "lon"\ny = "lat"\ndatum = "cgcs2000"')
        .replace('path = "layers.gpkg"\nlayer = "reserved_land"', 'path = "land.shp"')
    )  # fmt: skip
    toml.write_bytes(("# 研究\n" + text).encode("gbk"))
    study = study_from_toml(toml)
    assert study["reserved_land"]["名称"].tolist() == ["甲地块", "乙地块"]
    assert len(study["population"]) == len(pop)  # village points made cells
    assert study["population"]["cell_estimated"].all()
    assert study["schools"]["name"].tolist() == schools["name"].tolist()


def test_a_legacy_xls_workbook_with_a_title_row_is_read(tmp_path: Path) -> None:
    # Excel 97-2003 (.xls), as older bureau systems export: a title row, then the headers.
    xlwt = pytest.importorskip("xlwt", reason="pip install -e '.[test]' installs xlwt")
    folder = tmp_path / "s"
    toml = write_tiny_study(folder)
    schools = pd.read_csv(folder / "schools.csv")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("小学")
    sheet.write(0, 0, "学校基本情况表（合成）")
    for col, name in enumerate(schools.columns):
        sheet.write(2, col, name)
        for row, value in enumerate(schools[name].tolist()):
            sheet.write(3 + row, col, value if pd.notna(value) else "")
    book.save(str(folder / "schools.xls"))
    toml.write_text(
        TOML.replace('path = "schools.csv"', 'path = "schools.xls"\nsheet = "小学"'),
        encoding="utf-8",
    )
    study = study_from_toml(toml)
    assert study["schools"]["name"].tolist() == schools["name"].tolist()
    assert study["schools"]["capacity"].tolist() == schools["capacity"].tolist()


def test_check_reports_every_problem_of_every_layer_at_once(tmp_path: Path) -> None:
    def bad_level(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(level=["小学", "高中", "primary"])

    def empty_id(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return frame.assign(phase_id=[None])

    folder = tmp_path / "s"
    write_tiny_study(folder, edit={"schools": bad_level, "developments": empty_id})
    (folder / "study.toml").write_text(
        TOML.replace('path = "population.parquet"', 'path = "missing.parquet"'), encoding="utf-8"
    )
    result = check_study(folder / "study.toml")
    found = result.findings
    assert list(found.columns) == list(FINDING_COLUMNS) and not result.ok
    # S2 (a junior school) given as 高中: the level, and its grades 7 pupils and classes
    assert sorted(found["layer"]) == ["developments", "population", *["schools"] * 3]
    level = found[found["layer"] == "schools"].iloc[0]
    assert (level.file, level.column, level.rows) == ("schools.csv", "level", "S2")
    assert "'高中'" in level.fix and "values.level" in level.fix  # 小学 was recognised
    assert found[found["layer"] == "population"].iloc[0].problem.startswith("file ")
    out = tmp_path / "out"
    assert main(["check", str(folder / "study.toml"), "--out", str(out), "--quiet"]) == 2
    assert pd.read_excel(out / "check.xlsx").shape == (5, 7)
    assert "高中" in (out / "check.html").read_text(encoding="utf-8")


def test_grades_from_totals_by_the_stated_rule() -> None:
    """Classes spread over the level's grades, lowest first; pupils in proportion to classes."""
    roster = pd.DataFrame({"level": ["junior", "teaching_point"], "enrolment": [100, 13],
                           "classes": [4, 2]})  # fmt: skip
    out = grades_from_totals(roster)
    assert out.loc[0, ["classes_g7", "classes_g8", "classes_g9"]].tolist() == [2, 1, 1]
    assert out.loc[0, ["enrolment_g7", "enrolment_g8", "enrolment_g9"]].tolist() == [50, 25, 25]
    # a teaching point with 2 classes: grades 1 and 2 get one each, 13 pupils split 7 and 6
    assert out.loc[1, ["classes_g1", "classes_g2", "classes_g3"]].tolist() == [1, 1, 0]
    assert out.loc[1, ["enrolment_g1", "enrolment_g2", "enrolment_g3"]].tolist() == [7, 6, 0]


def test_single_years_keep_each_group_and_a_flat_population_stays_flat() -> None:
    villages = pd.DataFrame({"age_0_4": [500, 37], "age_5_9": [500, 80], "age_10_14": [500, 121]})
    ages = ages_from_groups(villages)[[f"age_{a}" for a in range(15)]].to_numpy()
    assert ages[0].tolist() == [100] * 15  # 100 per year of age in every group
    assert ages[1, :5].sum() == 37 and ages[1, 5:10].sum() == 80 and ages[1, 10:].sum() == 121
    assert (np.diff(ages[1]) >= -1).all()  # rising groups give (rounded) rising years


def test_init_writes_a_todo_for_what_it_cannot_find(tmp_path: Path) -> None:
    folder = tmp_path / "县"
    folder.mkdir()
    pts = gpd.GeoSeries([Point(X0 + 100, Y0 + 100)], crs=CRS).to_crs(4326)
    pd.DataFrame({"学校名称": ["一小"], "学段": ["完小"], "在校生数": [300], "经度": pts.x,
                  "纬度": pts.y}).to_csv(folder / "学校.csv", index=False)  # fmt: skip
    draft = draft_from_folder(folder)
    text = draft.toml()
    assert "[layers.schools]" in text and 'x = "经度"' in text
    assert "TODO 未找到字段 school_id" in text and "no header found for capacity" in text
    assert '# values.level = { "完小" = "" }' in text
    assert "no file found for layer 'counties'" in text
    assert draft.crs == "EPSG:4550"  # the 3-degree zone of 123E


def test_schema_reference_and_template_are_up_to_date() -> None:
    """docs/study.md and data/template/study.toml are generated from the schema the code uses."""
    from layout.reference import study_reference, study_template

    root = Path(__file__).resolve().parent.parent
    fix = "run python tools/make_study_doc.py"
    assert (root / "docs" / "study.md").read_text(encoding="utf-8") == study_reference(), fix
    assert (root / "data" / "template" / "study.toml").read_text(encoding="utf-8") == (
        study_template()
    ), fix


def test_a_school_typed_under_another_township_is_a_warning(tmp_path: Path) -> None:
    def elsewhere(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(township_code=["210303101", *frame["township_code"][1:]])

    result = check_study(write_tiny_study(tmp_path / "s", edit={"schools": elsewhere}))
    (row,) = result.findings.itertuples()
    assert result.ok and row.severity == "warning" and row.rows == "S1"
    assert "(210302001)" in row.problem  # the township that holds S1


def test_a_missing_sheet_or_an_unreadable_workbook_is_one_message(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    toml = write_tiny_study(folder)
    schools = pd.read_csv(folder / "schools.csv", dtype=str)
    schools.to_excel(folder / "schools.xlsx", sheet_name="小学", index=False)
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    text = TOML.replace('path = "schools.csv"', 'path = "schools.xlsx"\nsheet = "初中"')
    toml.write_text(text.replace('path = "population.parquet"', 'path = "broken.xlsx"'))
    found = check_study(toml).findings.set_index("layer")
    assert found.loc["schools", "file"] == "schools.xlsx"
    assert found.loc["schools", "problem"] == "no sheet '初中'; the workbook has 小学"
    assert found.loc["population", "problem"].startswith("the file cannot be read (BadZipFile")


def test_a_gis_layer_in_gcj02_is_shifted_back(tmp_path: Path) -> None:
    """A GeoJSON digitised on a Gaode basemap: every vertex comes back within a metre."""
    from layout.sources.fields import conform
    from layout.sources.source import LayerSource

    truth = gpd.GeoSeries([Point(X0 + 4_000, Y0 + 4_000)], crs=CRS).to_crs(4326)
    shifted = prcoords.wgs_gcj((truth.y.iloc[0], truth.x.iloc[0]))
    raw = gpd.GeoDataFrame({"学校标识码": ["S1"]}, geometry=[Point(shifted.lon, shifted.lat)],
                           crs="EPSG:4326")  # fmt: skip
    frame, problems = conform(raw, LayerSource("schools", None, datum="gcj02"), base_year=None)
    back = np.column_stack([frame.geometry.x, frame.geometry.y])
    assert problems == [] and _metres(back, np.column_stack([truth.x, truth.y]))[0] < 1.0


def test_init_never_replaces_a_study(tmp_path: Path) -> None:
    (tmp_path / "study.toml").write_text("# mine\n", encoding="utf-8")
    assert main(["init", str(tmp_path), "--quiet"]) == 2
    assert (tmp_path / "study.toml").read_text(encoding="utf-8") == "# mine\n"


def test_init_out_of_the_folder_writes_paths_relative_to_the_toml(tmp_path: Path) -> None:
    from layout.runs.init import init_study

    folder = tmp_path / "data"
    write_tiny_study(folder)
    draft, toml = init_study(folder, out=tmp_path / "studies" / "tiny.toml")
    text = toml.read_text(encoding="utf-8")
    assert 'path = "../data/schools.csv"' in text and "schools" in draft.layers
    assert sorted(draft.layers) == sorted(["counties", "townships", "schools", "population",
                                           "developments", "reserved_land"])  # fmt: skip
