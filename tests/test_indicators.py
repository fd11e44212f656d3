"""Tests of the county indicators, each against small cases worked by hand."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from layout.errors import DataWarning, ValidationError
from layout.indicators import (
    balance,
    balance_target,
    class_size_ledger,
    county_class_size,
    county_funding,
    county_staffing,
    difference_coefficient,
    funding,
    indicator_tables,
    staffing,
)
from layout.labels import localise
from layout.schema import RESOURCE_COLUMNS, classes_columns, enrolment_columns
from layout.standards import Profile, load_profile

CRS = "EPSG:4550"
X0, Y0 = 500_000.0, 4_550_000.0  # EPSG:4550 near Anshan

# Resources that meet every primary and junior standard for a school of 100 pupils.
AMPLE = dict(zip(RESOURCE_COLUMNS, [6, 1, 1, 600.0, 1100.0, 300_000.0, 3], strict=True))


def school(
    sid: str,
    *,
    county: str = "210302",
    level: str = "primary",
    setting: str = "urban",
    enrol: dict[int, int] | None = None,
    classes: dict[int, int] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "school_id": sid,
        "name": f"学校{sid}",
        "county_code": county,
        "township_code": county + "001",
        "level": level,
        "setting": setting,
        "status": "open",
        "teachers": 0,
        "capacity": 0,
        "boarding_beds": 0,
        "boarders": 0,
    }
    row |= {c: 0 for c in enrolment_columns() + classes_columns()}
    row |= {f"enrolment_g{g}": n for g, n in (enrol or {}).items()}
    row |= {f"classes_g{g}": n for g, n in (classes or {}).items()}
    return row | extra


def layer(*rows: dict[str, Any], index: list[int] | None = None) -> gpd.GeoDataFrame:
    points = [Point(X0 + 1_000 * i, Y0 + 500 * i) for i in range(len(rows))]
    return gpd.GeoDataFrame(list(rows), geometry=points, crs=CRS, index=index)


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile()


# --------------------------------------------------------------------------- class size


@pytest.fixture(scope="module")
def class_layer() -> gpd.GeoDataFrame:
    return layer(
        # A: g1 113 in 2 classes -> 57 + 56: both over 45 and both 56+; g2 90 in 2 -> 45 + 45.
        school("A", enrol={1: 113, 2: 90}, classes={1: 2, 2: 2}),
        # J: g7 203 in 4 -> 51, 51, 51, 50: three over the junior cap 50, none 56+.
        school("J", level="junior", enrol={7: 203}, classes={7: 4}),
        # N nine-year: g6 92 in 2 -> 46 + 46, over the primary cap 45 (the junior cap 50
        # would pass them); g7 92 in 2 -> 46 + 46, within the junior cap 50.
        school("N", level="nine_year", enrol={6: 92, 7: 92}, classes={6: 2, 7: 2}),
        # T teaching point in another county: 7 + 5 pupils, one class each.
        school(
            "T",
            county="210381",
            level="teaching_point",
            setting="rural",
            enrol={1: 7, 2: 5},
            classes={1: 1, 2: 1},
        ),
        # B: g3 111 in 2 -> 56 + 55: both over 45, one 56+.
        school("B", county="210381", enrol={3: 111}, classes={3: 2}),
    )


def test_ledger_rows_worked_by_hand(class_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    ledger = class_size_ledger(class_layer, profile)
    got = (
        ledger[
            [
                "school_id",
                "grade",
                "students",
                "classes",
                "cap",
                "classes_over_cap",
                "classes_large",
            ]
        ]
        .to_records(index=False)
        .tolist()
    )
    assert got == [
        ("A", 1, 113, 2, 45, 2, 2),
        ("A", 2, 90, 2, 45, 0, 0),
        ("J", 7, 203, 4, 50, 3, 0),
        ("N", 6, 92, 2, 45, 2, 0),
        ("N", 7, 92, 2, 50, 0, 0),
        ("T", 1, 7, 1, 45, 0, 0),
        ("T", 2, 5, 1, 45, 0, 0),
        ("B", 3, 111, 2, 45, 2, 1),
    ]
    assert ledger["mean_class_size"].tolist() == [56.5, 45.0, 50.75, 46.0, 46.0, 7.0, 5.0, 55.5]
    strike = ledger.drop_duplicates("school_id").set_index("school_id")["can_strike_off"]
    assert strike.to_dict() == {"A": False, "J": False, "N": False, "T": True, "B": False}
    assert ledger.set_index(["school_id", "grade"]).loc[("A", 2), "school_classes_over_cap"] == 2
    assert ledger.loc[ledger["school_id"] == "B", "school_classes_large"].tolist() == [1]
    assert (ledger["county_code"].tolist()[-1], ledger["level"].tolist()[3]) == (
        "210381",
        "nine_year",
    )


def test_county_class_size(class_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    table = county_class_size(class_size_ledger(class_layer, profile)).set_index("county_code")
    # 210302: A, J, N; none can be struck off. Pupils 113+90+203+92+92 = 590 in 2+2+4+2+2 = 12
    # classes; over cap 2+0+3+2+0 = 7; 56+: 2.
    # 210381: T (struck off) and B. Pupils 7+5+111 = 123 in 4 classes; over cap 2; 56+: 1.
    assert table.loc["210302"].to_dict() == {
        "schools": 3,
        "schools_over_cap": 3,
        "schools_struck_off": 0,
        "students": 590,
        "classes": 12,
        "mean_class_size": 590 / 12,
        "classes_over_cap": 7,
        "classes_large": 2,
        "classes_very_large": 0,
        "share_classes_over_cap": 7 / 12,
    }
    assert table.loc[
        "210381", ["schools_struck_off", "classes_over_cap", "classes_large"]
    ].tolist() == [1, 2, 1]


def test_even_split_counts_match_enumerated_classes(profile: Profile) -> None:
    # Independent method: list every class size of the even split and count them.
    rows, expected_over, expected_large = [], [], []
    for students in range(1, 240, 7):
        for n in range(1, 6):
            sizes = [students // n + (1 if k < students % n else 0) for k in range(n)]
            assert sum(sizes) == students
            rows.append(school(f"S{students}-{n}", enrol={1: students}, classes={1: n}))
            expected_over.append(sum(s > 45 for s in sizes))
            expected_large.append(sum(s >= 56 for s in sizes))
    ledger = class_size_ledger(layer(*rows), profile)
    assert ledger["classes_over_cap"].tolist() == expected_over
    assert ledger["classes_large"].tolist() == expected_large
    assert sum(expected_over) > 0 and sum(expected_large) > 0


def test_class_caps_follow_overrides(class_layer: gpd.GeoDataFrame) -> None:
    stricter = load_profile(overrides={"class_size": {"primary_cap": 40, "large_class_min": 57}})
    ledger = class_size_ledger(class_layer, stricter).set_index(["school_id", "grade"])
    # A g2: 45 + 45 are now over 40; A g1: only the class of 57 is 57+.
    assert ledger.loc[("A", 2), "classes_over_cap"] == 2
    assert ledger.loc[("A", 1), "classes_large"] == 1


# --------------------------------------------------------------------------- funding


@pytest.fixture(scope="module")
def money_layer() -> gpd.GeoDataFrame:
    return layer(
        # V rural village primary, 60 pupils, 10 boarders.
        school("V", setting="rural", enrol={1: 30, 2: 30}, classes={1: 1, 2: 1}, boarders=10),
        # T rural teaching point, 12 pupils.
        school("T", level="teaching_point", setting="rural", enrol={1: 12}, classes={1: 1}),
        # U urban primary, 60 pupils: no floor in town.
        school("U", enrol={1: 60}, classes={1: 2}),
        # R rural junior, 80 pupils: the floor is for 村小 and 教学点 only.
        school("R", level="junior", setting="rural", enrol={7: 80}, classes={7: 2}),
        # H rural primary of exactly 100 pupils: not under 100.
        school("H", setting="rural", enrol={1: 100}, classes={1: 3}),
        # N nine-year boarding school in another county: 300 + 200 pupils, 150 boarders.
        school(
            "N",
            county="210381",
            level="nine_year",
            enrol={1: 300, 7: 200},
            classes={1: 7, 7: 4},
            boarders=150,
        ),
        index=[10, 11, 12, 13, 14, 15],
    )


def test_funding_worked_by_hand(money_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    table = funding(money_layer, profile)
    assert table.index.tolist() == [10, 11, 12, 13, 14, 15]  # aligned to the input
    got = table.set_index("school_id")[
        ["base_funding", "floor_top_up", "boarding_supplement", "total_funding"]
    ]
    assert got.loc["V"].tolist() == [
        51_000.0,
        34_000.0,
        2_000.0,
        87_000.0,
    ]  # 60x850, 40x850, 10x200
    assert got.loc["T"].tolist() == [10_200.0, 74_800.0, 0.0, 85_000.0]  # 12x850, 88x850
    assert got.loc["U"].tolist() == [51_000.0, 0.0, 0.0, 51_000.0]
    assert got.loc["R"].tolist() == [84_000.0, 0.0, 0.0, 84_000.0]  # 80x1050
    assert got.loc["H"].tolist() == [85_000.0, 0.0, 0.0, 85_000.0]
    # 300x850 + 200x1050 = 255,000 + 210,000; 150 boarders x 200 = 30,000.
    assert got.loc["N"].tolist() == [465_000.0, 0.0, 30_000.0, 495_000.0]
    assert table["floor_applied"].tolist() == [True, True, False, False, False, False]
    assert table.loc[15, ["students_primary", "students_junior"]].tolist() == [300, 200]


def test_county_funding(money_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    table = county_funding(funding(money_layer, profile)).set_index("county_code")
    # 210302: base 51,000 + 10,200 + 51,000 + 84,000 + 85,000 = 281,200;
    # floor 34,000 + 74,800 = 108,800; boarding 2,000; total 392,000.
    row = table.loc["210302"]
    assert row[["schools", "schools_floor", "boarders"]].tolist() == [5, 2, 10]
    assert row[
        ["base_funding", "floor_top_up", "boarding_supplement", "total_funding"]
    ].tolist() == [
        281_200.0,
        108_800.0,
        2_000.0,
        392_000.0,
    ]
    assert table.loc["210381", "total_funding"] == 495_000.0


def test_boarding_management_staff(money_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    """Additional staff for boarding management: one per 50 boarders, rounded up."""
    table = staffing(money_layer, profile).set_index("school_id")
    # V has 10 boarders: ceil(10 / 50) = 1; N has 150: 3; the others none. The norm's
    # requirement and the shortfall are unchanged by it.
    assert table["boarding_staff"].to_dict() == {"V": 1, "T": 0, "U": 0, "R": 0, "H": 0, "N": 3}
    by_county = county_staffing(table.reset_index(), profile).set_index("county_code")
    assert by_county["boarding_staff"].to_dict() == {"210302": 1, "210381": 3}
    # A county staffing one per 40 boarders: N's 150 need ceil(3.75) = 4.
    forty = load_profile(overrides={"staffing": {"boarders_per_boarding_staff": 40}})
    assert staffing(money_layer, forty).set_index("school_id").loc["N", "boarding_staff"] == 4


def test_head_teacher_allowance_by_county(money_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    """One head teacher a class at 300 yuan a month (鞍山2020方案 二.(四).2), apart from funding."""
    table = county_funding(funding(money_layer, profile)).set_index("county_code")
    # 210302: V 2 + T 1 + U 2 + R 2 + H 3 = 10 classes: 10 x 300 x 12 = 36,000 yuan a year.
    # 210381: N 7 + 4 = 11 classes: 39,600. Not in the public funding total (392,000).
    assert table.loc["210302", ["head_teachers", "head_teacher_allowance"]].tolist() == [10, 36_000]
    assert table.loc["210381", "head_teacher_allowance"] == 39_600.0
    assert table.loc["210302", "total_funding"] == 392_000.0
    # A study paying 400 yuan a month: 10 x 400 x 12 = 48,000.
    more = load_profile(overrides={"funding": {"head_teacher_allowance_monthly": 400}})
    table = county_funding(funding(money_layer, more)).set_index("county_code")
    assert table.loc["210302", "head_teacher_allowance"] == 48_000.0


def test_funding_follows_overrides(money_layer: gpd.GeoDataFrame) -> None:
    changed = load_profile(
        overrides={
            "funding": {"primary_per_student": 900, "boarder_supplement": 300},
            "small_school": {"settings": ["rural", "urban"]},
        }
    )
    got = funding(money_layer, changed).set_index("school_id")
    # V: 60x900 + 40x900 + 10x300 = 54,000 + 36,000 + 3,000.
    assert got.loc["V", "total_funding"] == 93_000.0
    # U in town now gets the floor: 100 x 900.
    assert got.loc["U", ["floor_top_up", "total_funding"]].tolist() == [36_000.0, 90_000.0]


def test_floor_uses_the_school_mix_and_skips_empty_schools(profile: Profile) -> None:
    mixed = load_profile(
        overrides={"small_school": {"levels": ["primary", "teaching_point", "nine_year"]}}
    )
    gdf = layer(
        # 30 primary + 20 junior: base 25,500 + 21,000 = 46,500 for 50 pupils; funded as 100
        # pupils of the same mix the top-up is 50 x 46,500 / 50 = 46,500.
        school("M", level="nine_year", setting="rural", enrol={1: 30, 7: 20}, classes={1: 1, 7: 1}),
        school("E", setting="rural"),
    )
    with pytest.warns(
        DataWarning, match=r"no pupils in a school that is not planned in school_id E \(1 row\)"
    ):
        got = funding(gdf, mixed).set_index("school_id")
    assert got.loc["M", ["base_funding", "floor_top_up"]].tolist() == [46_500.0, 46_500.0]
    assert got.loc["E", ["floor_applied", "total_funding"]].tolist() == [False, 0.0]


def test_more_boarders_than_pupils(profile: Profile) -> None:
    gdf = layer(school("V", setting="rural", enrol={1: 5}, classes={1: 1}, boarders=6))
    with pytest.raises(
        ValidationError, match="'boarders' is above the school's pupils for schools V"
    ):
        funding(gdf, profile)


# --------------------------------------------------------------------------- staffing


@pytest.fixture(scope="module")
def staff_layer() -> gpd.GeoDataFrame:
    return layer(
        school("P", enrol={1: 190}, classes={1: 5}, teachers=9),  # 190/19 = 10
        school("J", level="junior", enrol={7: 271}, classes={7: 6}, teachers=21),  # 20.07 -> 21
        school("N", level="nine_year", enrol={1: 57, 7: 27}, classes={1: 2, 7: 1}, teachers=6),
        # Small rural school, 60 pupils in 6 classes: max(60/19 = 3.16, 1.5 x 6 = 9) = 9.
        school(
            "S",
            county="210381",
            setting="rural",
            enrol={g: 10 for g in range(1, 7)},
            classes={g: 1 for g in range(1, 7)},
            teachers=6,
        ),
        # Teaching point, 12 pupils in 2 classes: max(0.63, 3) = 3.
        school(
            "T",
            county="210381",
            level="teaching_point",
            setting="rural",
            enrol={1: 7, 2: 5},
            classes={1: 1, 2: 1},
            teachers=2,
        ),
        # Rural primary of 150 pupils is not small: 150/19 = 7.89 -> 8, classes not counted.
        school(
            "R",
            county="210381",
            setting="rural",
            enrol={g: 25 for g in range(1, 7)},
            classes={g: 1 for g in range(1, 7)},
            teachers=8,
        ),
    )


def test_staffing_worked_by_hand(staff_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    table = staffing(staff_layer, profile).set_index("school_id")
    # N: 57/19 + 27/13.5 = 3 + 2 = 5.
    assert table["teachers_required"].to_dict() == {
        "P": 10,
        "J": 21,
        "N": 5,
        "S": 9,
        "T": 3,
        "R": 8,
    }
    assert table["shortfall"].to_dict() == {"P": 1, "J": 0, "N": 0, "S": 3, "T": 1, "R": 0}
    assert table["small_school"].to_dict() == {
        "P": False,
        "J": False,
        "N": False,
        "S": True,
        "T": True,
        "R": False,
    }
    assert table.loc["S", "required_by_class"] == 9.0
    assert table.loc["R", "required_by_class"] == 0.0
    assert table.loc["N", "required_by_ratio"] == pytest.approx(5.0)


def test_county_staffing_without_teachers(staff_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    table = county_staffing(staffing(staff_layer, profile), profile).set_index("county_code")
    # 210302: required 10+21+5 = 36, present 9+21+6 = 36, shortfall 1 (P), net 0.
    assert table.loc["210302"].to_dict() == {
        "schools": 3,
        "teachers_required": 36,
        "teachers": 36,
        "shortfall": 1,
        "net_balance": 0,
        "boarding_staff": 0,  # no boarders
    }
    assert "rotation_quota" not in table.columns


def _teachers(counts: dict[str, list[tuple[int, int]]]) -> pd.DataFrame:
    """Teachers table from {school: [(years_at_school, backbone), ...]}."""
    rows = [
        {"teacher_id": f"{sid}-{i}", "school_id": sid, "years_at_school": y, "backbone": b}
        for sid, items in counts.items()
        for i, (y, b) in enumerate(items)
    ]
    return pd.DataFrame(rows)


def test_rotation_quota_rounding(staff_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    # 210302: 30 teachers due (6+ years; 5 years is not due) -> 10% = 3 exactly; backbone 20%
    # of 3 = 0.6 -> 1. Two backbone teachers are due, so the quota can be filled.
    # 210381: 31 due -> ceil(3.1) = 4; backbone ceil(0.8) = 1; no backbone teacher is due.
    teachers = _teachers(
        {
            "P": [(6, 1)] * 2 + [(9, 0)] * 18 + [(5, 1)] * 4,
            "J": [(12, 0)] * 10,
            "S": [(6, 0)] * 31 + [(0, 1)],
        }
    )
    table = staffing(staff_layer, profile, teachers=teachers).set_index("school_id")
    assert table.loc["P", ["teachers_listed", "teachers_due", "backbone_due"]].tolist() == [
        24,
        20,
        2,
    ]
    assert table.loc["N", ["teachers_listed", "teachers_due"]].tolist() == [0, 0]
    county = county_staffing(table.reset_index(), profile).set_index("county_code")
    got = county[
        ["teachers_due", "rotation_quota", "backbone_due", "backbone_quota", "backbone_enough"]
    ]
    assert got.loc["210302"].tolist() == [30, 3, 2, 1, True]
    assert got.loc["210381"].tolist() == [31, 4, 0, 1, False]


def test_quota_rounding_ignores_floating_point_noise() -> None:
    # 100 due at 7% is 7 teachers; in floating point 100 x 0.07 = 7.000000000000001, which a
    # bare ceil would make 8. Backbone: 20% of 7 = 1.4 -> 2.
    changed = load_profile(overrides={"rotation": {"min_share_of_due": 0.07}})
    assert 100 * 0.07 > 7  # the trap is real
    gdf = layer(school("P", enrol={1: 10}, classes={1: 1}, teachers=100))
    teachers = _teachers({"P": [(7, 1)] * 100})
    county = county_staffing(staffing(gdf, changed, teachers=teachers), changed)
    assert county[["rotation_quota", "backbone_quota"]].iloc[0].tolist() == [7, 2]


def test_rotation_follows_overrides(staff_layer: gpd.GeoDataFrame) -> None:
    teachers = _teachers({"P": [(6, 1)] * 2 + [(9, 0)] * 18 + [(5, 1)] * 4})
    changed = load_profile(
        overrides={"rotation": {"due_years_at_school": 5, "min_share_of_due": 0.2}}
    )
    county = county_staffing(staffing(staff_layer, changed, teachers=teachers), changed)
    # 24 due, 20% -> ceil(4.8) = 5; backbone ceil(1.0) = 1.
    assert county.set_index("county_code").loc[
        "210302", ["teachers_due", "rotation_quota"]
    ].tolist() == [24, 5]


def test_bad_teachers_table(staff_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    teachers = pd.DataFrame(
        {
            "teacher_id": ["t1", "t1", "t3"],
            "school_id": ["P", "P", "ZZ"],
            "years_at_school": [3, -1, 2],
            "backbone": [0, 2, 1],
        }
    )
    with pytest.raises(ValidationError) as info:
        staffing(staff_layer, profile, teachers=teachers)
    assert info.value.problems == [
        "teachers: teacher_id repeated: t1 (1 row); make ids unique",
        "teachers: school_id not in the schools layer for teachers t3 (1 row); correct the "
        "school ids",
        "teachers: column 'years_at_school' is missing, negative or not whole for teachers t1 "
        "(1 row); give whole years",
        "teachers: column 'backbone' is not 0 or 1 for teachers t1 (1 row)",
    ]


# --------------------------------------------------------------------------- difference coefficient


def test_difference_coefficient_worked_by_hand() -> None:
    # x = 100/100, 300/200, 600/300 = 1, 1.5, 2; mean = 1000/600 = 5/3; weights 1/6, 1/3, 1/2.
    # S^2 = 1/6 (2/3)^2 + 1/3 (1/6)^2 + 1/2 (1/3)^2 = 2/27 + 1/108 + 1/18 = 15/108 = 5/36.
    # CV = (sqrt(5)/6) / (5/3) = sqrt(5)/10.
    assert difference_coefficient([100, 300, 600], [100, 200, 300]) == pytest.approx(
        math.sqrt(5) / 10
    )
    # Equal per-pupil values: no difference at all.
    assert difference_coefficient([10, 20, 30], [100, 200, 300]) == 0.0


def test_difference_coefficient_matches_weighted_variance() -> None:
    # Independent method: numpy's weighted population covariance of the per-pupil values.
    rng = np.random.default_rng(7)
    n = rng.integers(20, 900, size=25)
    r = rng.uniform(1, 9, size=25) * n
    x = r / n
    expected = math.sqrt(np.cov(x, aweights=n, bias=True)) / (r.sum() / n.sum())
    assert difference_coefficient(r, n) == pytest.approx(expected, rel=1e-12)
    assert difference_coefficient(r * 100, n) == pytest.approx(expected, rel=1e-12)


def test_difference_coefficient_skips_empty_schools() -> None:
    with pytest.warns(DataWarning, match=r"schools at positions 1 \(1 row\) have no pupils"):
        cv = difference_coefficient([100, 50, 300, 600], [100, 0, 200, 300])
    assert cv == pytest.approx(math.sqrt(5) / 10)


@pytest.mark.parametrize(
    ("resource", "enrollment", "message"),
    [
        ([1, 2], [0, 0], "enrollment is 0 for every school; the coefficient is undefined"),
        ([0, 0], [10, 20], "resource is 0 for every school; the coefficient is undefined"),
        ([1, 2, 3], [10, 20], "resource has 3 values but enrollment has 2"),
        ([1, -2], [10, 20], "resource is missing or negative at positions 1"),
        ([1, 2], [10, float("nan")], "enrollment is missing or negative at positions 1"),
    ],
)
def test_difference_coefficient_refuses(resource: list, enrollment: list, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        difference_coefficient(resource, enrollment)


# --------------------------------------------------------------------------- balance


def resources(*values: float) -> dict[str, float]:
    return dict(zip(RESOURCE_COLUMNS, values, strict=True))


@pytest.fixture(scope="module")
def balance_layer() -> gpd.GeoDataFrame:
    return layer(
        # County 210302.
        # P1, 100 pupils: 5, 1.0, 1.0 per 100; 4.5, 7.0 m2, 2000 yuan per pupil; 3 rooms/100.
        # Sports 7.0 < 7.5 (ratio 0.933 >= 0.85), the six others met -> passes.
        school("P1", enrol={1: 100}, classes={1: 3}, **resources(5, 1, 1, 450, 700, 200_000, 3)),
        # P2, 200 pupils: 4.0/100 < 4.2 (0.952), 1, 1, teaching 4.0 < 4.5 (0.889), 8.0, 2000,
        # 2.5 -> five met -> fails.
        school("P2", enrol={1: 200}, classes={1: 5}, **resources(8, 2, 2, 800, 1600, 400_000, 5)),
        # N1 nine-year, 300 primary + 100 junior = 400 pupils. Split 3/4 : 1/4, both parts
        # have the school's per-pupil values: 6.0, 1.0, 1.0 per 100; 5.5, 10.0 m2, 2500 yuan;
        # 2.5 rooms/100. Primary part meets all 7. Junior part: teaching 5.5 < 5.8 (0.948),
        # sports 10.0 < 10.2 (0.980) -> five met -> fails.
        school(
            "N1",
            level="nine_year",
            enrol={g: 50 for g in range(1, 7)} | {7: 100},
            classes={g: 2 for g in range(1, 7)} | {7: 2},
            **resources(24, 4, 4, 2200, 4000, 1_000_000, 10),
        ),
        # County 210381: two schools of 100 pupils meeting everything, but equipment 2000 vs
        # 10000 yuan per pupil: mean 6000, S = 4000, CV = 0.667 > 0.50.
        school(
            "Q1",
            county="210381",
            enrol={1: 100},
            classes={1: 3},
            **resources(6, 1, 1, 600, 1100, 200_000, 3),
        ),
        school(
            "Q2",
            county="210381",
            enrol={1: 100},
            classes={1: 3},
            **resources(6, 1, 1, 600, 1100, 1_000_000, 3),
        ),
        # County 210303: one school meeting everything, and a teaching point of 30 pupils with
        # no resources, left out as under 50 pupils.
        school("R1", county="210303", setting="rural", enrol={1: 100}, classes={1: 3}, **AMPLE),
        school(
            "T1",
            county="210303",
            level="teaching_point",
            setting="rural",
            enrol={1: 30},
            classes={1: 2},
            **resources(0, 0, 0, 0, 0, 0, 0),
        ),
    )


def test_balance_school_values(balance_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    result = balance(balance_layer, profile)
    long = result.schools.set_index(["school_id", "stage", "indicator"])
    assert set(result.schools["school_id"]) == {"P1", "P2", "N1", "Q1", "Q2", "R1"}  # T1 out
    assert long.loc[("P1", "primary", "sports_area_m2"), ["value", "met"]].tolist() == [7.0, False]
    assert long.loc[("P1", "primary", "backbone_teachers"), "met"]  # exactly 1.0 meets 1.0
    assert long.loc[("P2", "primary", "teaching_area_m2"), "ratio"] == pytest.approx(4.0 / 4.5)
    nine = long.loc[("N1", "junior", "teachers_above_standard")]
    assert nine[["students", "resource", "value", "standard"]].tolist() == [100, 6.0, 6.0, 5.3]
    assert long.loc[("N1", "primary", "teachers_above_standard"), "resource"] == 18.0
    passes = result.schools.drop_duplicates(["school_id", "stage"]).set_index(
        ["school_id", "stage"]
    )
    assert passes["indicators_met"].to_dict() == {
        ("P1", "primary"): 6,
        ("P2", "primary"): 5,
        ("N1", "primary"): 7,
        ("N1", "junior"): 5,
        ("Q1", "primary"): 7,
        ("Q2", "primary"): 7,
        ("R1", "primary"): 7,
    }
    assert passes["school_pass"].to_dict() == {
        ("P1", "primary"): True,
        ("P2", "primary"): False,
        ("N1", "primary"): True,
        ("N1", "junior"): False,
        ("Q1", "primary"): True,
        ("Q2", "primary"): True,
        ("R1", "primary"): True,
    }


def test_balance_indicators_by_county(balance_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    table = balance(balance_layer, profile).indicators.set_index(
        ["county_code", "stage", "indicator"]
    )
    row = table.loc[("210302", "primary", "teachers_above_standard")]
    # Per 100 pupils: P1 5, P2 4, N1 6 with pupils 100, 200, 300; mean 31/6; deviations -1/6,
    # -7/6, 5/6; S^2 = (1/6)(1/36) + (1/3)(49/36) + (1/2)(25/36) = 174/216 = 29/36;
    # CV = (sqrt(29)/6) / (31/6) = sqrt(29)/31 = 0.1737 <= 0.50.
    assert row["cv"] == pytest.approx(math.sqrt(29) / 31)
    assert row["county_value"] == pytest.approx(31 / 6)
    assert row[["schools", "schools_meeting", "cv_limit", "cv_ok"]].tolist() == [3, 2, 0.5, True]
    assert row["share_meeting"] == pytest.approx(2 / 3)
    equipment = table.loc[("210381", "primary", "equipment_value_yuan")]
    assert equipment["cv"] == pytest.approx(2 / 3)  # 4000 / 6000
    assert not equipment["cv_ok"]
    junior = table.loc[("210302", "junior", "sports_area_m2")]
    assert junior[["schools", "schools_meeting", "cv", "cv_limit"]].tolist() == [1, 0, 0.0, 0.45]


def test_balance_verdict(balance_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    counties = balance(balance_layer, profile).counties.set_index(["county_code", "stage"])
    assert counties[
        ["schools", "schools_passing", "all_cv_ok", "stage_pass", "county_pass"]
    ].to_dict("index") == {
        # 2 of 3 primary schools pass: short of every school.
        ("210302", "primary"): {
            "schools": 3,
            "schools_passing": 2,
            "all_cv_ok": True,
            "stage_pass": False,
            "county_pass": False,
        },
        ("210302", "junior"): {
            "schools": 1,
            "schools_passing": 0,
            "all_cv_ok": True,
            "stage_pass": False,
            "county_pass": False,
        },
        # Every school passes but the equipment coefficient is 0.667.
        ("210381", "primary"): {
            "schools": 2,
            "schools_passing": 2,
            "all_cv_ok": False,
            "stage_pass": False,
            "county_pass": False,
        },
        ("210303", "primary"): {
            "schools": 1,
            "schools_passing": 1,
            "all_cv_ok": True,
            "stage_pass": True,
            "county_pass": True,
        },
    }


def test_city_balance_target(balance_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    """The share of counties passing the resource part against the city's 20 % target."""
    counties = balance(balance_layer, profile).counties
    target = balance_target(counties, profile).iloc[0]
    # Of 210302, 210381 and 210303 only 210303 passes (test_balance_verdict): 1 of 3.
    # 20 % of 3 counties is 0.6: 1 must pass, so the target is met.
    assert target[["counties", "counties_passing", "counties_needed"]].tolist() == [3, 1, 1]
    assert target["share_counties_passing"] == pytest.approx(1 / 3)
    assert target["target_met"]
    # A study setting the target at half its counties needs ceil(1.5) = 2: not met.
    half = load_profile(overrides={"balance": {"county_pass_target_share": 0.5}})
    target = balance_target(counties, half).iloc[0]
    assert (target["counties_needed"], target["target_met"]) == (2, False)


def test_balance_follows_overrides(balance_layer: gpd.GeoDataFrame) -> None:
    changed = load_profile(
        overrides={
            "balance": {
                "min_indicators_met": 5,
                "primary": {"cv_limit": 0.7},
                "exclude_teaching_points_below": 0,
            }
        }
    )
    counties = balance(balance_layer, changed).counties.set_index(["county_code", "stage"])
    # Five met and the rest within 85% now passes P2 and N1 junior; 0.667 is within 0.7; the
    # teaching point T1 now counts, has nothing and fails 210303.
    assert counties["stage_pass"].to_dict() == {
        ("210302", "primary"): True,
        ("210302", "junior"): True,
        ("210381", "primary"): True,
        ("210303", "primary"): False,
    }


def test_balance_needs_resource_columns(profile: Profile) -> None:
    gdf = layer(school("P", enrol={1: 10}, classes={1: 1}))
    with pytest.raises(
        ValidationError, match=r"schools: missing required column\(s\) 'teachers_above_standard'"
    ):
        balance(gdf, profile)


def test_zero_resource_county_warns(profile: Profile) -> None:
    gdf = layer(school("P", enrol={1: 100}, classes={1: 3}, **(AMPLE | {"multimedia_rooms": 0})))
    with pytest.warns(DataWarning, match="resource total is 0 for 210302/primary/multimedia_rooms"):
        result = balance(gdf, profile)
    assert not result.counties.loc[0, "county_pass"]


# --------------------------------------------------------------------------- bad input


def test_bad_schools_are_listed_together(profile: Profile) -> None:
    gdf = layer(
        school("A", enrol={1: -3}, classes={1: 1}),
        school("B", enrol={3: 40}),  # pupils without classes
        school("C", enrol={8: 30}, classes={8: 1}),  # grade 8 in a primary school
        school("D", level="college"),
    )
    with pytest.raises(ValidationError) as info:
        class_size_ledger(gdf, profile)
    # every problem of the layer comes in one error
    assert info.value.problems == [
        "schools, column 'enrolment_g1': negative value in school_id A (1 row). Fix: counts "
        "and areas must be >= 0",
        "schools, column 'level': value not allowed in school_id D (1 row). Fix: use one of "
        "primary, junior, nine_year, teaching_point",
        "schools, column 'classes_g3': no classes while enrolment_g3 has pupils in school_id B "
        "(1 row). Fix: enter the number of classes of that grade",
        "schools, column 'enrolment_g8': enrolment in grade 8, which the school's level does "
        "not teach in school_id C (1 row). Fix: check the level (primary 1-6, junior 7-9, "
        "nine_year 1-9, teaching_point 1-6)",
        "schools, column 'classes_g8': classes in grade 8, which the school's level does not "
        "teach in school_id C (1 row). Fix: check the level (primary 1-6, junior 7-9, "
        "nine_year 1-9, teaching_point 1-6)",
    ]


def test_missing_and_non_integer_counts(profile: Profile) -> None:
    gdf = layer(
        school("A", enrol={1: 40}, classes={1: 1}), school("B", enrol={1: 40}, classes={1: 1})
    )
    gdf = gdf.astype({"classes_g1": float, "enrolment_g1": float})
    gdf.loc[0, "classes_g1"] = np.nan
    gdf.loc[1, "enrolment_g1"] = 40.5
    with pytest.raises(ValidationError) as info:
        class_size_ledger(gdf, profile)
    assert info.value.problems == [
        "schools, column 'enrolment_g1': non-integer count in school_id B (1 row). Fix: counts "
        "must be whole numbers",
        "schools, column 'classes_g1': missing or non-numeric value in school_id A (1 row). "
        "Fix: enter a number (0 if none)",
    ]


def test_missing_columns(profile: Profile) -> None:
    gdf = layer(school("A", enrol={1: 40}, classes={1: 1})).drop(columns=["classes_g9", "status"])
    with pytest.raises(
        ValidationError, match=r"schools: missing required column\(s\) 'classes_g9', 'status'"
    ):
        class_size_ledger(gdf, profile)


def test_empty_and_planned_schools(profile: Profile) -> None:
    gdf = layer(
        school("A", enrol={1: 40}, classes={1: 1}),
        school("E"),
        school("F", status="planned"),  # no pupils yet: silently left out
    )
    with pytest.warns(
        DataWarning, match=r"no pupils in a school that is not planned in school_id E \(1 row\)"
    ):
        ledger = class_size_ledger(gdf, profile)
    assert ledger["school_id"].tolist() == ["A"]
    with pytest.warns(DataWarning):
        table = staffing(gdf, profile)
    assert table["school_id"].tolist() == ["A", "E"]


def test_inputs_are_not_mutated(balance_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    before = balance_layer.copy()
    indicator_tables(balance_layer, profile)
    pd.testing.assert_frame_equal(balance_layer, before)


# --------------------------------------------------------------------------- report tables


def test_indicator_tables_zh(balance_layer: gpd.GeoDataFrame, profile: Profile) -> None:
    teachers = _teachers({"P1": [(6, 1)] * 10})
    tables = localise(
        indicator_tables(balance_layer, profile, teachers=teachers), lang="zh", profile=profile
    )
    assert list(tables) == [
        "profile",
        "class_size_ledger",
        "class_size_by_county",
        "funding",
        "funding_by_county",
        "staffing",
        "staffing_by_county",
        "balance_schools",
        "balance_indicators",
        "balance_counties",
        "balance_target",
        "school_pairs",
    ]
    for name, table in tables.items():
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in col) for col in table.columns), name
    ledger = tables["class_size_ledger"]
    assert list(ledger.columns[:3]) == ["学校代码", "名称", "县(市、区)代码"]
    assert "56人及以上班级数（大班额，含超大班额）" in ledger.columns
    assert "66人及以上超大班额班级数" in ledger.columns
    assert set(ledger["学段"]) == {"小学", "九年一贯制", "教学点"}
    assert set(ledger["可销号"]) <= {"是", "否"}
    verdict = tables["balance_counties"].set_index(["县(市、区)代码", "学段"])
    assert verdict.loc[("210303", "小学"), "县域通过(资源配置)"] == "是"
    staff = tables["staffing_by_county"].set_index("县(市、区)代码")
    assert staff.loc["210302", ["应交流教师数", "交流轮岗人数下限"]].tolist() == [10, 1]
    assert "每百名学生拥有网络多媒体教室数" in set(tables["balance_indicators"]["指标"])


def test_indicator_tables_en_and_without_resources(profile: Profile) -> None:
    gdf = layer(school("A", enrol={1: 113}, classes={1: 2}, teachers=6))
    tables = localise(indicator_tables(gdf, profile), lang="en", profile=profile)
    assert "balance_schools" not in tables
    ledger = tables["class_size_ledger"]
    assert ledger.loc[
        0, ["School id", "Classes over cap", "Classes of 56+", "Can be struck off"]
    ].tolist() == [
        "A",
        2,
        2,
        False,
    ]
    assert tables["profile"].columns.tolist() == ["Key", "Value", "Source", "Assumption", "Note"]
    with pytest.raises(ValidationError, match="lang must be 'zh' or 'en'"):
        localise(tables, lang="fr", profile=profile)  # type: ignore[arg-type]
