"""The study data model: loading, validation and every bad input named in the issue."""

from __future__ import annotations

import hashlib
import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from layout.errors import DataWarning, StudyError, ValidationError
from layout.report import replacing
from layout.study import study_from_toml
from tests.tinystudy import CRS, X0, Y0, write_tiny_study


def test_tiny_study_loads_and_reprojects(tmp_path: Path) -> None:
    study = study_from_toml(write_tiny_study(tmp_path))
    assert study.name == "tiny"
    assert study.plan_years == range(2025, 2031)
    schools = study["schools"]
    assert schools.crs == "EPSG:4550"
    # S1 was written as lon/lat in EPSG:4490 from (X0 + 4000, Y0 + 4000) in EPSG:4550:
    # the round trip must land within a few centimetres.
    s1 = schools.set_index("school_id").geometry["S1"]
    assert s1.distance(Point(X0 + 4_000, Y0 + 4_000)) < 0.05
    assert schools["county_code"].tolist() == ["210302", "210302", "210303"]
    assert schools["enrolment_g1"].dtype == np.int64
    assert study["population"]["age_6"].sum() == 35  # 10 + 20 + 0 + 5


def test_inputs_are_never_modified(tmp_path: Path) -> None:
    toml = write_tiny_study(tmp_path)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    study_from_toml(toml)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    assert before == after


def _error(tmp_path: Path, **edit: object) -> str:
    with pytest.raises(ValidationError) as info:
        study_from_toml(write_tiny_study(tmp_path, edit=edit))  # type: ignore[arg-type]
    return str(info.value)


def test_missing_layer_file(tmp_path: Path) -> None:
    toml = write_tiny_study(tmp_path)
    (tmp_path / "population.parquet").unlink()
    with pytest.raises(ValidationError) as info:
        study_from_toml(toml)
    msg = str(info.value)
    assert "population.parquet" in msg and "layer 'population'" in msg
    assert "not found" in msg and "[layers.population]" in msg


def test_missing_layer_inside_file(tmp_path: Path) -> None:
    toml = write_tiny_study(tmp_path)
    text = toml.read_text().replace('layer = "reserved_land"', 'layer = "parcels"')
    toml.write_text(text)
    with pytest.raises(ValidationError, match=r"no layer 'parcels' in layers.gpkg; it has"):
        study_from_toml(toml)


def test_missing_required_column(tmp_path: Path) -> None:
    msg = _error(tmp_path, schools=lambda f: f.drop(columns=["capacity"]))
    assert "schools.csv" in msg and "layer 'schools'" in msg
    assert "missing required column(s) 'capacity'" in msg


def test_layer_without_crs(tmp_path: Path) -> None:
    toml = write_tiny_study(tmp_path)
    toml.write_text(toml.read_text().replace('crs = "EPSG:4490"\n', ""))
    with pytest.raises(ValidationError) as info:
        study_from_toml(toml)
    msg = str(info.value)
    assert "schools.csv, layer 'schools': the layer has no CRS" in msg
    assert 'crs = "EPSG:4490"' in msg


def test_invalid_geometry(tmp_path: Path) -> None:
    bowtie = Polygon(
        [(X0 + 100, Y0 + 100), (X0 + 200, Y0 + 200), (X0 + 200, Y0 + 100), (X0 + 100, Y0 + 200)]
    )

    def breaks(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        frame = frame.copy()
        frame.loc[1, "geometry"] = bowtie
        return frame

    msg = _error(tmp_path, reserved_land=breaks)
    assert "layers.gpkg (layer 'reserved_land' in the file), layer 'reserved_land'" in msg
    assert "column 'geometry': invalid geometry" in msg and "parcel_id P2 (1 row)" in msg
    assert "make_valid" in msg


def test_empty_geometry_in_population_is_an_error(tmp_path: Path) -> None:
    def empties(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        frame = frame.copy()
        frame.loc[2, "geometry"] = Polygon()
        return frame

    msg = _error(tmp_path, population=empties)
    assert "population.parquet, layer 'population', column 'geometry'" in msg
    assert "missing or empty geometry in cell_id C3 (1 row)" in msg


def test_school_without_coordinates_is_skipped_with_warning(tmp_path: Path) -> None:
    def blank(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[1, ["lon", "lat"]] = np.nan
        return frame

    with pytest.warns(DataWarning, match=r"missing or empty geometry in school_id S2 \(1 row\)"):
        study = study_from_toml(write_tiny_study(tmp_path, edit={"schools": blank}))
    assert study["schools"]["school_id"].tolist() == ["S1", "S3"]


def test_duplicated_id(tmp_path: Path) -> None:
    def dup(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[2, "school_id"] = "S1"
        return frame

    msg = _error(tmp_path, schools=dup)
    assert "column 'school_id': duplicated id in school_id S1, S1 (2 rows)" in msg


def test_negative_and_non_numeric_counts(tmp_path: Path) -> None:
    def bad(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame["capacity"] = frame["capacity"].astype(object)
        frame.loc[0, "capacity"] = -5
        frame.loc[2, "capacity"] = "many"
        return frame

    msg = _error(tmp_path, schools=bad)
    assert "column 'capacity': negative value in school_id S1 (1 row)" in msg
    assert "column 'capacity': missing or non-numeric value in school_id S3 (1 row)" in msg
    # one error lists both problems
    assert len(msg.splitlines()) == 2


def test_lat_lon_swapped(tmp_path: Path) -> None:
    def swap(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.rename(columns={"lon": "lat", "lat": "lon"})

    msg = _error(tmp_path, schools=swap)
    assert "latitude/longitude look swapped" in msg and "school_id S1, S2, S3 (3 rows)" in msg


def test_point_outside_boundary_is_skipped_with_warning(tmp_path: Path) -> None:
    def move(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        # 5 km east of the rural county (x 510-520 km): outside, nearer than the 30 km halo
        east = gpd.GeoSeries([Point(X0 + 25_000, Y0 + 5_000)], crs=CRS).to_crs(4490)
        frame.loc[2, ["lon", "lat"]] = [east.x[0], east.y[0]]
        return frame

    with pytest.warns(DataWarning) as record:
        study = study_from_toml(write_tiny_study(tmp_path, edit={"schools": move}))
    (warning,) = [w for w in record if issubclass(w.category, DataWarning)]
    text = str(warning.message)
    assert "schools.csv, layer 'schools'" in text and "outside the study boundary" in text
    assert "school_id S3 (1 row)" in text
    assert study["schools"]["school_id"].tolist() == ["S1", "S2"]


def test_population_cell_outside_boundary_is_an_error(tmp_path: Path) -> None:
    def move(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        frame = frame.copy()
        return frame.set_geometry(
            [
                g if i < 3 else Polygon([(0, 0), (0, 100), (100, 100)])
                for i, g in enumerate(frame.geometry)
            ],
            crs=frame.crs,
        )

    msg = _error(tmp_path, population=move)
    assert "cell outside the study boundary" in msg and "cell_id C4 (1 row)" in msg


def test_grade_outside_level_and_unknown_choice(tmp_path: Path) -> None:
    def bad(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[1, "enrolment_g3"] = 4  # S2 is a junior school: grades 7-9 only
        frame.loc[0, "level"] = "high"
        return frame

    msg = _error(tmp_path, schools=bad)
    assert "column 'enrolment_g3': enrolment in grade 3" in msg and "school_id S2" in msg
    assert "column 'level': value not allowed in school_id S1" in msg


def test_unknown_county_code(tmp_path: Path) -> None:
    def bad(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        frame = frame.copy()
        frame.loc[0, "county_code"] = "999999"
        return frame

    msg = _error(tmp_path, reserved_land=bad)
    assert "column 'county_code': county code not in the counties layer in parcel_id P1" in msg


def test_study_toml_errors(tmp_path: Path) -> None:
    toml = write_tiny_study(tmp_path)
    toml.write_text(toml.read_text().replace('crs = "EPSG:4550"', 'crs = "EPSG:4490"'))
    with pytest.raises(StudyError, match="geographic; metric work needs a projected CRS"):
        study_from_toml(toml)
    with pytest.raises(StudyError, match="not found"):
        study_from_toml(tmp_path / "nope.toml")
    toml = write_tiny_study(tmp_path)
    toml.write_text(toml.read_text().replace("[layers.population]", "[layers.people]"))
    with pytest.raises(StudyError) as info:
        study_from_toml(toml)
    assert "[layers]: unknown key 'people'" in str(info.value)
    assert "required layer(s) missing: population" in str(info.value)


def test_replacing_keeps_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_copy_of_study_folder_loads_identically(tmp_path: Path) -> None:
    src = write_tiny_study(tmp_path / "a")
    shutil.copytree(src.parent, tmp_path / "b")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = study_from_toml(src)["schools"]
        b = study_from_toml(tmp_path / "b" / "study.toml")["schools"]
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))


def test_study_standards_override_changes_the_ledger(tmp_path: Path) -> None:
    from layout.indicators import class_size_ledger

    toml = write_tiny_study(tmp_path)
    toml.write_text(toml.read_text() + "\n[standards.class_size]\nprimary_cap = 40\n")
    study = study_from_toml(toml)
    assert study.standards.class_size.primary_cap == 40
    ledger = class_size_ledger(study["schools"], study.standards).set_index(["school_id", "grade"])
    # S1 grade 2: 90 pupils in 2 classes of 45: within the default cap of 45, but both over 40.
    assert ledger.loc[("S1", 2), "classes_over_cap"] == 2


def test_study_standards_override_with_unknown_key_or_wrong_type(tmp_path: Path) -> None:
    toml = write_tiny_study(tmp_path)
    base = toml.read_text()
    toml.write_text(base + "\n[standards.class_size]\nprimary_capp = 40\n")
    with pytest.raises(ValidationError, match="class_size.primary_capp"):
        study_from_toml(toml)
    toml.write_text(base + '\n[standards.class_size]\nprimary_cap = "40"\n')
    with pytest.raises(ValidationError, match="'class_size.primary_cap': expected an integer"):
        study_from_toml(toml)
