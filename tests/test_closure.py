"""Closure impact statements and screening on a hand-made county, worked by hand.

The county 210381 (rural) has three primary schools on a line, y = 0, offsets from (X0, Y0)
of :mod:`tests.tinystudy` in EPSG:4550 metres:

    A at x = 0      capacity 280, 40 pupils in each grade 1-6, one class per grade, 13 teachers
    B at x = 1200   capacity 150, 16 pupils per grade, one class per grade, 9 teachers (closed)
    C at x = 4200   capacity 400, 50 pupils per grade, one class per grade, 16 teachers

Each school has a 200 m square demand cell centred on it holding the same children as its
pupils (a: 40 per grade, b: 16, c: 50). County 210323 has one primary school, Q, and its cell.
Travel is the straight line (circuity 1) walked at the profile's 3.6 km/h = 60 m per minute,
so a to B is 1200 m = 20 min, b to C 3000 m = 50 min, a to C 4200 m = 70 min.

Profile figures used (anshan-2020): grades 1-3 norm 30 min, grades 4-6 45 min; primary class
cap 45, large class 56; funding 850 yuan per primary pupil, rural primary schools under 100
pupils funded as 100, boarders +200; staff 1 per 19 primary pupils, small schools at least
1.5 per class; rural primary service radius 30 min x 3.6 km/h = 1800 m.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

from layout.cli import main
from layout.closure import close_schools, screen_closures
from layout.errors import ValidationError
from layout.maps import external_references
from layout.report import closure_texts
from layout.runs.closure import write_closure
from layout.schema import age_columns, classes_columns, enrolment_columns
from layout.standards import load_profile
from layout.study import Study, study_from_toml
from tests.tinystudy import CRS, X0, Y0

if TYPE_CHECKING:
    from tests.browser import OfflinePage

R, Q = "210381", "210323"

# id, name, county, x, capacity, pupils per grade 1-6, teachers, land m², building m², status
HAND = [
    ("A", "甲小学", R, 0, 280, 40, 13, 9000.0, 4000.0, "open"),
    ("B", "乙小学 <b>&", R, 1200, 150, 16, 9, 8000.0, 3500.0, "open"),
    ("C", "丙小学", R, 4200, 400, 50, 16, 12000.0, 5000.0, "open"),
    ("Q", "丁小学", Q, 20_000, 100, 10, 6, 7000.0, 2000.0, "open"),
    ("N", "规划小学", R, 9000, 300, 0, 0, 0.0, 0.0, "planned"),
]


def xy(row: tuple) -> tuple[float, float]:
    """The offset of a school: its x, or its (x, y)."""
    return row[3] if isinstance(row[3], tuple) else (row[3], 0.0)


def schools(rows: list[tuple]) -> gpd.GeoDataFrame:
    records = []
    for sid, name, county, _x, capacity, per_grade, teachers, land, building, status in rows:
        record = {
            "school_id": sid,
            "name": name,
            "county_code": county,
            "township_code": county + "001",
            "level": "primary",
            "setting": "rural",
            "status": status,
            "capacity": capacity,
            "teachers": teachers,
            "boarding_beds": 0,
            "boarders": 0,
            "land_area_m2": land,
            "building_area_m2": building,
            **dict.fromkeys(enrolment_columns() + classes_columns(), 0),
        }
        for grade in range(1, 7):
            record[f"enrolment_g{grade}"] = per_grade
            record[f"classes_g{grade}"] = 1 if per_grade else 0
        records.append(record)
    points = [Point(X0 + xy(row)[0], Y0 + xy(row)[1]) for row in rows]
    return gpd.GeoDataFrame(records, geometry=points, crs=CRS)


def population(rows: list[tuple]) -> gpd.GeoDataFrame:
    """One 200 m cell per open school, centred on it, its children aged 6-11 = grades 1-6."""
    rows = [r for r in rows if r[-1] == "open"]
    ages = {c: [0] * len(rows) for c in age_columns()}
    for age in range(6, 12):
        ages[f"age_{age}"] = [r[5] for r in rows]
    return gpd.GeoDataFrame(
        {
            "cell_id": [r[0].lower() for r in rows],
            "county_code": [r[2] for r in rows],
            "township_code": [r[2] + "001" for r in rows],
            "setting": "rural",
            "year": 2025,
            **ages,
        },
        geometry=[
            box(X0 + xy(r)[0] - 100, Y0 + xy(r)[1] - 100, X0 + xy(r)[0] + 100, Y0 + xy(r)[1] + 100)
            for r in rows
        ],
        crs=CRS,
    )


def layers(rows: list[tuple]) -> dict[str, gpd.GeoDataFrame]:
    area = {R: box(X0 - 5000, Y0 - 5000, X0 + 15_000, Y0 + 5000),
            Q: box(X0 + 15_000, Y0 - 5000, X0 + 25_000, Y0 + 5000)}  # fmt: skip
    counties = gpd.GeoDataFrame(
        {"county_code": [R, Q], "name": ["乙县", "丙县"], "setting": "rural"},
        geometry=[area[R], area[Q]],
        crs=CRS,
    )
    townships = gpd.GeoDataFrame(
        {
            "township_code": [R + "001", Q + "001"],
            "name": ["乙镇", "丙镇"],
            "county_code": [R, Q],
            "seat_lon": [123.0, 123.2],
            "seat_lat": [41.1, 41.1],
            "setting": "rural",
        },
        geometry=[area[R], area[Q]],
        crs=CRS,
    )
    developments = gpd.GeoDataFrame(
        {
            "phase_id": ["D1-1"],
            "development_id": ["D1"],
            "name": ["老小区"],
            "county_code": [R],
            "township_code": [R + "001"],
            "phase": [1],
            "households": [100],
            "delivery_year": [2015],
            "status": ["completed"],
            "school_parcel_id": [None],
        },
        geometry=[box(X0 + 8000, Y0 + 3000, X0 + 8100, Y0 + 3100)],
        crs=CRS,
    )
    # P1 lies 400 m from B (within the 1800 m radius); P2 is 7 km away.
    reserved = gpd.GeoDataFrame(
        {
            "parcel_id": ["P1", "P2"],
            "county_code": [R, R],
            "township_code": [R + "001"] * 2,
            "planned_level": ["primary", "junior"],
            "planned_classes": [12, 12],
            "delivery_year": [2027, 2028],
            "status": ["reserved", "approved"],
        },
        geometry=[
            box(X0 + 1500, Y0 + 300, X0 + 1600, Y0 + 400),
            box(X0 + 8000, Y0 - 100, X0 + 8100, Y0),
        ],
        crs=CRS,
    )
    return {
        "counties": counties,
        "townships": townships,
        "schools": schools(rows),
        "population": population(rows),
        "developments": developments,
        "reserved_land": reserved,
    }


def study_of(rows: list[tuple] = HAND, **service: object) -> Study:
    """The hand-made study in memory (base year = plan start = 2025), straight lines (circuity
    1.0) and any other ``[standards.service]`` values given."""
    return Study(
        name="hand",
        title="撤并手算样例",
        crs=CRS,
        base_year=2025,
        school_year=2025,
        plan_start=2025,
        plan_end=2026,
        profile="anshan-2020",
        data_date="2025-09-01",
        synthetic=True,
        path=Path("hand.toml"),
        layers=layers(rows),
        config={},
        standards=load_profile(overrides={"service": {"circuity": 1.0, **service}}),
    )


def demand_of(rows: list[tuple]) -> pd.DataFrame:
    """The demand layer of 2025, medium scenario: each open school's cell, grades 1-6."""
    records = [
        {"cell_id": r[0].lower(), "scenario": "medium", "year": 2025, "grade": g,
         "level": "primary", "children": float(r[5])}
        for r in rows if r[-1] == "open" for g in range(1, 7)
    ]  # fmt: skip
    return pd.DataFrame(records)


@pytest.fixture(scope="module")
def impact():
    return close_schools(study_of(), school_ids=["B"], demand=demand_of(HAND))


# --------------------------------------------------------------------------- close_schools


def test_children_moved_worked_by_hand(impact) -> None:
    # Before: every cell at its own school (cost 0, all within capacity): loads A 240, B 96,
    # C 300. After closing B, b's 96 children: A has 280 - 240 = 40 places at 20 min, C has
    # 100 at 50 min. Cheapest: 40 to A, 56 to C (sending an a child on to C costs +70 to save
    # 30, so nobody else moves). 96 move, all from B, none left without a place.
    moves = impact.transfers.set_index("to_school_id")
    assert moves["children"].to_dict() == pytest.approx({"A": 40, "C": 56})
    assert set(moves["from_school_id"]) == {"B"}
    row = impact.summary.iloc[0]
    assert (row["county_code"], row["level"]) == (R, "primary")
    assert row["children_moved"] == pytest.approx(96)
    assert row["from_closed"] == pytest.approx(96)
    assert row["knock_on"] == pytest.approx(0)
    assert row["unplaced"] == pytest.approx(0)
    # Travel of the moved: before 0 min (cell b is at B); after (40 x 20 + 56 x 50) / 96 =
    # 3600 / 96 = 37.5 min, at most 50. Distance (40 x 1200 + 56 x 3000) / 96 = 2250 m, at
    # most 3000 m.
    assert row["mean_minutes_before"] == pytest.approx(0)
    assert row["mean_minutes_after"] == pytest.approx(37.5)
    assert row["mean_added_minutes"] == pytest.approx(37.5)
    assert row["max_added_minutes"] == pytest.approx(50)
    assert row["mean_added_metres"] == pytest.approx(2250)
    assert row["max_added_metres"] == pytest.approx(3000)
    # b's children are half grades 1-3 (48 of 96). The 56 sent to C walk 50 min: 28 grade 1-3
    # pupils beyond the 30-min norm and 28 grade 4-6 pupils beyond 45 min (new boarders). The
    # 40 sent to A walk 20 min: within both.
    assert row["grades_1_3_pushed"] == pytest.approx(28)
    assert row["grades_1_3_newly_beyond"] == pytest.approx(28)
    assert row["new_boarders"] == pytest.approx(28)
    assert row["verdict"] == "harmful"


def test_travel_bands_worked_by_hand(impact) -> None:
    # Before: all 96 in 0-10 min. After: 40 in 20-30, 56 in 50-60; empty bands listed too.
    bands = impact.travel_bands.set_index("band")
    assert list(bands.index) == ["0-10", "10-20", "20-30", "30-40", "40-50", "50-60"]
    assert bands["children_before"].tolist() == pytest.approx([96, 0, 0, 0, 0, 0])
    assert bands["children_after"].tolist() == pytest.approx([0, 0, 40, 0, 0, 56])


def test_receiving_schools_worked_by_hand(impact) -> None:
    # A: 240 -> 280 of 280 places, 6 classes: mean class 40 -> 46.67, over the cap of 45.
    # C: 300 -> 356 of 400, 6 classes: 50 (already over 45) -> 59.33, 56 or more.
    table = impact.receiving.set_index("school_id")
    assert list(table.index) == ["A", "C"]
    assert table["load_after"].tolist() == pytest.approx([280, 356])
    assert table["utilisation_after"].tolist() == pytest.approx([1.0, 356 / 400])
    assert table["class_size_before"].tolist() == pytest.approx([40, 50])
    assert table["class_size_after"].tolist() == pytest.approx([280 / 6, 356 / 6])
    assert table["over_cap_before"].tolist() == [False, True]
    assert table["over_cap_after"].tolist() == [True, True]
    assert table["large_after"].tolist() == [False, True]
    assert table["breach"].tolist() == [True, True]
    assert table["new_boarders"].tolist() == pytest.approx([0, 28])
    row = impact.summary.iloc[0]
    assert (row["receiving_schools"], row["receiving_breaches"], row["receiving_large"]) == (
        2,
        2,
        1,
    )


def test_funding_and_staffing_worked_by_hand(impact) -> None:
    money = impact.funding.set_index("item")
    # Before: A 240 x 850 = 204,000; B 96 pupils, a rural primary school under 100, funded as
    # 100: 85,000 (top-up 4 x 850 = 3,400); C 300 x 850 = 255,000. Total 544,000.
    # After: A 280 x 850 = 238,000; C 356 x 850 = 302,600; C's 28 new boarders x 200 = 5,600.
    # Total 546,200: +2,200 (no top-up: -3,400; boarding: +5,600). Pupils 636 either way.
    assert money.loc["total_funding", ["before", "after", "change"]].tolist() == pytest.approx(
        [544_000, 546_200, 2_200]
    )
    assert money.loc["floor_top_up", ["before", "after"]].tolist() == pytest.approx([3_400, 0])
    assert money.loc["boarding_supplement", "after"] == pytest.approx(5_600)
    assert money.loc["students", ["before", "after"]].tolist() == [636, 636]
    assert set(impact.funding["county_code"]) == {R}
    staff = impact.staffing.set_index("item")
    # Before: A ceil(240 / 19) = 13; B max(96 / 19, 1.5 x 6 = 9) = 9; C ceil(300 / 19) = 16:
    # 38, all present. After: A ceil(280 / 19) = 15 (2 short), C ceil(356 / 19) = 19 (3 short):
    # 34 required, 29 present, shortfall 5; B's 9 teachers are free to redeploy.
    assert staff.loc["teachers_required", ["before", "after"]].tolist() == [38, 34]
    assert staff.loc["teachers", ["before", "after"]].tolist() == [38, 29]
    assert staff.loc["shortfall", ["before", "after"]].tolist() == [0, 5]
    # C's 28 new boarders need ceil(28 / 50) = 1 staff member for boarding management.
    assert staff.loc["boarding_staff", ["before", "after", "change"]].tolist() == [0, 1, 1]


def test_idle_campus_lists_land_and_nearby_builds(impact) -> None:
    idle = impact.idle.set_index("school_id")
    assert idle.loc["B", ["land_area_m2", "building_area_m2", "teachers"]].tolist() == [
        8000,
        3500,
        9,
    ]
    # P1 is 1500 - 1200 = 300 m east and 300 m north of B: within the 1800 m radius. P2 and
    # the planned school N (7.8 km) are not.
    assert idle.loc["B", "radius_m"] == pytest.approx(1800)
    assert idle.loc["B", "nearby_planned"] == "P1"
    advice = closure_texts(impact.tables(), "en")["closure_idle"].set_index("school_id")
    assert "education first" in advice.loc["B", "reuse"] and "P1" in advice.loc["B", "reuse"]
    assert "reuse" not in idle.columns  # the analysis holds no words


def test_projected_demand_gives_the_same_closure() -> None:
    # Base year = plan start: the projection of 2025 is the population itself.
    projected = close_schools(study_of(), school_ids=["B"])
    assert projected.summary["children_moved"].tolist() == pytest.approx([96])
    summary = closure_texts({"closure_summary": projected.summary}, "zh")["closure_summary"]
    assert summary["reason"].iloc[0].startswith("1-3年级28人超出时间标准")


def test_norms_come_from_the_profile_and_the_mode() -> None:
    # With the grade 1-3 norm raised to 60 min, nobody is pushed; the 45-min boarding norm
    # still catches the 28 pupils of grades 4-6 walking 50 min.
    study = study_of(rural_lower_primary_minutes=60.0)
    lenient = close_schools(study, school_ids=["B"], demand=demand_of(HAND))
    assert lenient.summary[["grades_1_3_pushed", "new_boarders"]].iloc[0].tolist() == (
        pytest.approx([0, 28])
    )
    # By school bus at 30 km/h (500 m a minute) the 3000 m to C take 6 min: nobody pushed.
    riding = close_schools(
        study_of(rural_primary_mode="bus"), school_ids=["B"], demand=demand_of(HAND)
    )
    row = riding.summary.iloc[0]
    assert row["max_added_minutes"] == pytest.approx(6)
    assert (row["grades_1_3_pushed"], row["new_boarders"]) == (0, 0)


def test_knock_on_moves_and_children_without_a_place() -> None:
    # Move cell b to x = 2600: b to B is 1400 m (23.3 min), b to C 1600 m (26.7 min), so b's
    # 96 children attend B. Close A: a's 240 children need places; B has 54 left, C 100.
    # Only 250 places remain for the 336 children of a and b: 86 are left without a place.
    # Sending a to B (1200 m) and b on to C (1600) costs 2800 m a pair, against 1400 + 4200 =
    # 5600 m for b at B and a at C; and of the children seated at C the a children (4200 m)
    # are the ones better left out. So: a -> B 150, a -> C 4, a without a place 86, and b's
    # 96 move on from B to C (knock-on moves).
    study = study_of()
    cells = study["population"].copy()
    cells.loc[cells["cell_id"] == "b", "geometry"] = box(X0 + 2500, Y0 - 100, X0 + 2700, Y0 + 100)
    study.layers["population"] = cells
    result = close_schools(study, school_ids=["A"], demand=demand_of(HAND))
    moved = result.transfers.set_index(["from_school_id", "to_school_id"])["children"]
    assert moved.to_dict() == pytest.approx(
        {("A", "B"): 150, ("A", "C"): 4, ("A", ""): 86, ("B", "C"): 96}
    )
    row = result.summary.iloc[0]
    assert (row["children_moved"], row["from_closed"], row["knock_on"]) == pytest.approx(
        (336, 240, 96)
    )
    assert row["unplaced"] == pytest.approx(86)
    # Added minutes of the children seated before and after: a: 150 x 20 + 4 x 70; b: 96 x
    # (26.67 - 23.33) = 96 x 3.33: 3600 / 250 = 14.4 min.
    assert row["mean_added_minutes"] == pytest.approx(14.4)
    receiving = result.receiving.set_index("school_id")["received"]
    assert receiving.to_dict() == pytest.approx({"B": 54, "C": 100})
    assert result.transfers.set_index("to_school_id").loc[""].geometry is None
    worded = closure_texts({"closure_summary": result.summary}, "zh")["closure_summary"]
    assert worded["reason"].iloc[0].startswith("86人无学位")


def test_ties_are_broken_in_favour_of_staying() -> None:
    # Close A with every cell on its school: a to C costs 4200 m, the same as a to B (1200)
    # plus b moving on to C (3000). Among these equally short answers the one moving fewest
    # children is kept: a -> B 54 (B's spare places), a -> C 100, 86 without a place, and
    # nobody from B moves.
    result = close_schools(study_of(), school_ids=["A"], demand=demand_of(HAND))
    moved = result.transfers.set_index(["from_school_id", "to_school_id"])["children"]
    assert moved.to_dict() == pytest.approx({("A", "B"): 54, ("A", "C"): 100, ("A", ""): 86})
    assert result.summary["knock_on"].tolist() == pytest.approx([0])


def test_closing_a_school_nobody_is_assigned_to(tmp_path: Path) -> None:
    # E at x = 9000 has 100 places and 5 pupils per grade on its books, but no demand cell:
    # every child is at its own school already, so nobody moves and no school receives.
    rows = [*HAND, ("E", "戊小学", R, 9000, 100, 5, 3, 6000.0, 2000.0, "open")]
    study = study_of(rows)
    study.layers["population"] = study["population"][study["population"]["cell_id"] != "e"]
    impact = close_schools(study, school_ids=["E"])
    row = impact.summary.iloc[0]
    assert (row["children_moved"], row["receiving_schools"], row["verdict"]) == (0, 0, "harmless")
    assert impact.transfers.empty and impact.receiving.empty and impact.travel_bands.empty
    # E's 30 pupils on the books leave the county's funding: 30 x 850 + 70 x 850 floor.
    money = impact.funding.set_index("item")
    assert money.loc["total_funding", "change"] == pytest.approx(-85_000)
    write_closure(impact, out_dir=tmp_path, maps_dir=tmp_path, lang="en")
    statement = (tmp_path / "closure" / "statement.md").read_text(encoding="utf-8")
    assert "primary: 0 children move" in statement and "No school receives children." in statement
    assert "Nobody is pushed beyond the travel-time norms" in statement


# --------------------------------------------------------------------------- bad input


def test_unknown_and_not_open_schools_are_refused() -> None:
    with pytest.raises(ValidationError) as error:
        close_schools(study_of(), school_ids=["B", "ZZ9"])
    assert "unknown school id ZZ9" in str(error.value)
    with pytest.raises(ValidationError, match="school N .* is already planned"):
        close_schools(study_of(), school_ids=["N"])
    with pytest.raises(ValidationError, match="school_ids is empty"):
        close_schools(study_of(), school_ids=[])


def test_closing_a_countys_last_school_of_a_level_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        close_schools(study_of(), school_ids=["A", "B", "C", "Q"])
    problems = error.value.problems
    assert len(problems) == 2
    assert "would leave county 210381 (乙县) with no open primary school" in problems[0]
    assert "would leave county 210323 (丙县) with no open primary school" in problems[1]


def test_demand_without_the_year_is_refused() -> None:
    with pytest.raises(ValidationError, match="no children for scenario 'medium' in 2030"):
        close_schools(study_of(), school_ids=["B"], year=2030, demand=demand_of(HAND))


# --------------------------------------------------------------------------- screening


def test_screening_ranks_a_harmless_closure_first() -> None:
    # Add D at (400, 300), off the line: 5 pupils per grade (30), capacity 60; give A 400
    # places. d to A is 500 m (8.33 min), b to D sqrt(800² + 300²) = 854.4 m (14.2 min).
    # Close D: d's 30 go to A (A has 160 places): A 270 / 6 = 45, not over the cap; nobody
    # beyond a norm -> harmless.
    # Close B: b's 96 go 30 to D (D's 30 places) and 66 to A (1200 m, 20 min); sending a d
    # child on to A instead would cost 500 + 854.4 > 1200 m. A 306 / 6 = 51 > 45: one
    # receiving school breaches -> harmful.
    # A (240 pupils) and C (300) are not small; Q is in another county.
    rows = [("D", "戊小学", R, (400, 300), 60, 5, 3, 5000.0, 1500.0, "open"), *HAND]
    rows[1] = ("A", "甲小学", R, 0, 400, 40, 13, 9000.0, 4000.0, "open")
    table = screen_closures(study_of(rows), county_code=R)
    assert table["school_id"].tolist() == ["D", "B"]
    assert table["rank"].tolist() == [1, 2]
    assert table["verdict"].tolist() == ["harmless", "harmful"]
    assert table["children_moved"].tolist() == pytest.approx([30, 96])
    b_to_d = np.hypot(800, 300)
    assert table["mean_added_minutes"].tolist() == pytest.approx(
        [500 / 60, (30 * b_to_d + 66 * 1200) / 60 / 96]
    )
    assert table["receiving_breaches"].tolist() == [0, 1]
    assert table["grades_1_3_pushed"].tolist() == [0, 0]
    worded = closure_texts({"closure_screening": table}, "en")["closure_screening"]
    assert worded["reason"].tolist() == ["no norm breached", "1 receiving schools over a class cap"]
    # Q is its county's only primary school: closing it is refused, not an error.
    alone = screen_closures(study_of(rows), county_code=Q)
    assert alone[["school_id", "verdict", "leaves_no_school"]].values.tolist() == [
        ["Q", "refused", "primary"]
    ]
    worded = closure_texts({"closure_screening": alone}, "en")["closure_screening"]
    assert worded.loc[0, "reason"] == "would leave the county with no primary school"


# --------------------------------------------------------------------------- outputs


@pytest.fixture(scope="module")
def written(impact, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("closure")
    zh = dataclasses.replace(impact, outputs=[])
    write_closure(zh, out_dir=root / "out", maps_dir=root / "maps")
    write_closure(dataclasses.replace(impact, outputs=[]), out_dir=root / "en", maps_dir=root / "en_maps", lang="en")  # fmt: skip
    return root


def test_statement_files_hold_the_key_numbers(written: Path) -> None:
    folder = written / "out" / "closure"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["closure.gpkg", "closure.xlsx", "statement.html", "statement.md"]
    manifest = json.loads((written / "out" / ".layout-closure.json").read_text(encoding="utf-8"))
    assert sorted(manifest["files"]) == [f"closure/{name}" for name in names]
    markdown = (folder / "statement.md").read_text(encoding="utf-8")
    assert "# 学校撤并影响评估" in markdown
    assert "需转学学生96人（撤并学校96人，连带调整0人），无学位0人" in markdown
    assert "平均由0.0分钟变为37.5分钟（平均增加37.5分钟，最多增加50.0分钟" in markdown
    assert "超过30分钟标准：28人，其中原在标准内28人" in markdown and "新增寄宿需求" in markdown
    assert "公用经费由544,000元变为546,200元（+2,200元）" in markdown
    assert "应配教师由38人变为34人；撤并学校现有教师9人可调配" in markdown
    # The new boarders need one boarding-management staff member (one per 50, rounded up).
    assert "寄宿管理人员（每50名寄宿生1人）由0人变为1人（+1人）" in markdown
    assert "占地8,000㎡，建筑3,500㎡" in markdown and "P1" in markdown
    # The school name "乙小学 <b>&" is escaped in both files.
    assert "乙小学 \\<b\\>&" in markdown and "<b>" not in markdown
    page = (folder / "statement.html").read_text(encoding="utf-8")
    assert "乙小学 &lt;b&gt;&amp;" in page and "<b>" not in page
    assert "37.5" in page and "546,200" in page and "合成样例数据" in page
    english = (written / "en" / "closure" / "statement.md").read_text(encoding="utf-8")
    assert "96 children move (96 from the closed schools" in english
    assert "from 0.0 to 37.5 minutes on average (+37.5 minutes, at most +50.0" in english
    assert "public funding from 544,000 to 546,200 yuan (+2,200)" in english
    assert "boarding-management staff (one per 50 boarders) from 0 to 1 (+1)" in english


def test_closure_tables_written(written: Path) -> None:
    gpkg = written / "out" / "closure" / "closure.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert layers["closure_transfers"] == "LineString"
    assert layers["closure_receiving"] == "Point"
    lines = gpd.read_file(gpkg, layer="closure_transfers").set_index("to_school_id")
    assert lines.crs == CRS
    assert lines.loc["C", "children"] == pytest.approx(56)
    assert lines.loc["C"].geometry.length == pytest.approx(3000)
    sheets = pd.read_excel(written / "out" / "closure" / "closure.xlsx", sheet_name=None)
    assert "撤并接收学校" in sheets
    assert "撤并后平均班额" in sheets["撤并接收学校"].columns
    funding = sheets["撤并前后公用经费"].set_index("项目")
    assert funding.loc["公用经费合计(元)", "变化"] == pytest.approx(2200)


def test_closure_map_is_offline(written: Path) -> None:
    assert external_references(written / "maps" / "closure.html") == []


def test_closure_map_in_chromium(written: Path, offline_page: OfflinePage) -> None:
    offline_page.open(written / "maps" / "closure.html")
    page = offline_page.page
    # Before: 2 receiving schools + 1 closed; after: 2 lines + 2 receiving + 1 closed.
    paths = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
    assert paths.count() == 8
    colours = page.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive'))"
        ".map(p => p.getAttribute('fill') === 'none' ? p.getAttribute('stroke') :"
        " p.getAttribute('fill'))"
    )
    # Before: A blue (40), C orange (50); B to close. After: grey lines; A orange, C red;
    # B black.
    assert colours == ["#2c7bb6", "#fdae61", "#7b3294", "#878787", "#878787",
                       "#fdae61", "#d7191c", "#000000"]  # fmt: skip
    widths = page.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive'))"
        ".slice(3, 5).map(p => p.getAttribute('stroke-width'))"
    )
    assert sorted(map(float, widths)) == pytest.approx([2 + 8 * 40 / 56, 10], abs=0.05)
    # County outlines (drawn by the shared canvas, not interactive), before and after.
    overlays = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert [o.strip() for o in overlays] == ["县（市、区）界", "撤并前", "撤并后"]
    legend = page.inner_text("#layout-legend")
    assert "撤并手算样例" in legend and "2025-09-01" in legend and "合成样例数据" in legend
    box_ = paths.nth(7).bounding_box()
    assert box_ is not None
    page.mouse.move(box_["x"] + box_["width"] / 2, box_["y"] + box_["height"] / 2)
    tooltip = page.locator(".leaflet-tooltip.foliumtooltip")
    tooltip.wait_for()
    assert "乙小学 <b>&" in tooltip.inner_text()

    # --------------------------------------------------------------------------- command line
    offline_page.assert_drawn()


def write_study(folder: Path, rows: list[tuple] = HAND) -> Path:
    """Write the hand-made study to files; return its TOML (straight-line costs: no roads)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in layers(rows).items():
        if name == "population":
            frame.to_parquet(folder / "population.parquet")
        else:
            frame.to_file(folder / "layers.gpkg", layer=name, driver="GPKG")
    entries = "".join(
        f'\n[layers.{name}]\npath = "layers.gpkg"\nlayer = "{name}"\n'
        for name in ("counties", "townships", "schools", "developments", "reserved_land")
    )
    toml = folder / "study.toml"
    toml.write_text(
        '[study]\nname = "hand"\ntitle = "撤并手算样例"\nsynthetic = true\ncrs = "EPSG:4550"\n'
        "base_year = 2025\nschool_year = 2025\nplan_start = 2025\nplan_end = 2026\n"
        'profile = "anshan-2020"\n\n[layers.population]\npath = "population.parquet"\n' + entries,
        encoding="utf-8",
    )
    return toml


def test_closure_command(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    toml = write_study(tmp_path / "study")
    out, maps = tmp_path / "out", tmp_path / "maps"
    argv = ["closure", str(toml), "--out", str(out), "--maps", str(maps), "--quiet"]
    assert main([*argv, "--school", "B", "--lang", "en"]) == 0
    statement = (out / "closure" / "statement.md").read_text(encoding="utf-8")
    # Default circuity 1.3: b to A is 1560 m = 26 min, b to C 3900 m = 65 min; the same 40
    # and 56 children move: (40 x 26 + 56 x 65) / 96 = 4680 / 96 = 48.75 min on average.
    assert "from 0.0 to 48.8 minutes on average" in statement
    assert (maps / "closure.html").is_file()
    assert main([*argv, "--screen", R]) == 0
    screening = pd.read_csv(out / "closure" / "screening.csv", encoding="utf-8-sig")
    assert screening["学校代码"].tolist() == ["B"]
    assert screening["结论"].tolist() == ["有超标影响"]
    assert (out / "closure" / "screening.xlsx").is_file()
    assert main([*argv, "--school", "ZZ9"]) == 2
    assert "unknown school id ZZ9" in caplog.text


def test_sample_study_closure_is_consistent() -> None:
    # The bundled sample has roads: travel is costed on the network. Whatever the numbers,
    # the children moved equal what the closed school held plus knock-on moves, and every
    # receiving school stays within its places.
    study = study_from_toml()
    impact = close_schools(study, school_ids=["S2103110011"])
    assert impact.costs_method == "network"
    row = impact.summary.iloc[0]
    assert row["children_moved"] == pytest.approx(row["from_closed"] + row["knock_on"])
    assert (impact.receiving["utilisation_after"] <= 1 + 1e-9).all()
    assert np.isclose(impact.moves["children"].sum(), row["children_moved"])


def test_statement_prints_on_one_a4_page(written: Path, offline_page: OfflinePage) -> None:
    """Chromium's print of the statement (print CSS, A4) is a PDF of exactly one page."""
    import re

    offline_page.open(written / "out" / "closure" / "statement.html")
    pdf = offline_page.page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
