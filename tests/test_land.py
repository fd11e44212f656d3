"""Reserved-land and 三同步 checks on small hand-made layers, worked by hand; the land map.

Every layer is in EPSG:4550 (metres) near Anshan. Coordinates below are offsets from
(X0, Y0) of :mod:`tests.tinystudy`. Profile figures used (anshan-2020): class caps primary 45,
junior 50; urban primary land 18 m² per student at every size, urban nine-year 20, rural
primary 25, rural junior 28 (rural junior sizes 12/18/24 classes); service radius urban
primary 500 m, urban junior 1000 m, rural primary 30 min x 3.6 km/h = 1800 m, rural junior
60 min x 30 km/h = 30 km. Default yields 0.18 primary and 0.09 junior children per household,
fully occupied from the fourth year after delivery.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, Polygon, box

from layout.access import school_seats, service_radii
from layout.cli import main
from layout.demand import YieldModel
from layout.errors import ValidationError
from layout.land import LandOptions, check_developments, check_parcels, township_reserve
from layout.maps import external_references
from layout.runs.land import land_check
from layout.schema import classes_columns, enrolment_columns
from layout.standards import load_profile
from layout.study import study_from_toml
from tests.tinystudy import CRS, X0, Y0, write_tiny_study

if TYPE_CHECKING:
    from tests.browser import OfflinePage

pytest_plugins = ["tests.browser"]

PROFILE = load_profile()
YEARS = range(2025, 2031)


def shifted(geometry: Polygon | Point) -> Polygon | Point:
    """Move a geometry drawn at the origin to (X0, Y0)."""
    from shapely import affinity

    return affinity.translate(geometry, X0, Y0)


def townships() -> gpd.GeoDataFrame:
    """Return an urban township west of x = 10 km and a rural one east of it."""
    return gpd.GeoDataFrame(
        {
            "township_code": ["U", "R"],
            "name": ["城区", "乡镇"],
            "county_code": ["c1", "c1"],
            "setting": ["urban", "rural"],
        },
        geometry=[
            shifted(box(-10_000, -10_000, 10_000, 10_000)),
            shifted(box(10_000, -10_000, 60_000, 10_000)),
        ],
        crs=CRS,
    )


def parcels(*rows: tuple) -> gpd.GeoDataFrame:
    """Parcels from (id, level, classes, delivery year, status, township, polygon at origin)."""
    ids, levels, classes, years, status, towns, shapes = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {
            "parcel_id": ids,
            "county_code": "c1",
            "township_code": towns,
            "planned_level": levels,
            "planned_classes": classes,
            "delivery_year": years,
            "status": status,
        },
        geometry=[shifted(s) for s in shapes],
        crs=CRS,
    )


def schools(*rows: dict) -> gpd.GeoDataFrame:
    """Schools from dicts with id, level, xy, capacity, and optional status/land/pupils/classes."""
    records = []
    for row in rows:
        record = {
            "school_id": row["id"],
            "name": f"学校{row['id']}",
            "level": row["level"],
            "status": row.get("status", "open"),
            "capacity": row.get("capacity", 0),
            "land_area_m2": row.get("land", 0.0),
            "township_code": row.get("township", "U"),
            **dict.fromkeys(enrolment_columns() + classes_columns(), 0),
        }
        record |= {f"enrolment_g{g}": n for g, n in row.get("pupils", {}).items()}
        record |= {f"classes_g{g}": n for g, n in row.get("classes", {}).items()}
        records.append(record)
    points = [shifted(Point(*row["xy"])) for row in rows]
    return gpd.GeoDataFrame(records, geometry=points, crs=CRS)


NO_SCHOOLS = schools({"id": "far", "level": "primary", "xy": (-9_000, -9_000), "status": "planned"})


def demand(cells: dict[str, tuple[Polygon, dict[int, tuple[float, float]]]]) -> gpd.GeoDataFrame:
    """Build a one-scenario demand layer: cell id -> (polygon, {year: (primary, junior)})."""
    rows = []
    for cell_id, (shape, by_year) in cells.items():
        for year in YEARS:
            primary, junior = by_year.get(year, (0.0, 0.0))
            for level, children in (("primary", primary), ("junior", junior)):
                rows.append((cell_id, "U", year, level, children, shifted(shape)))
    frame = pd.DataFrame(
        rows, columns=["cell_id", "township_code", "year", "level", "children", "geometry"]
    )
    frame["scenario"] = "medium"
    frame["from_developments"] = 0.0
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=CRS)


EMPTY_DEMAND = demand({"far": (box(-9_000, 9_000, -8_900, 9_100), {})})


def developments(*rows: dict) -> gpd.GeoDataFrame:
    """Phases from dicts with dev, phase id, households, year, polygon at origin, parcel."""
    return gpd.GeoDataFrame(
        {
            "phase_id": [r["phase_id"] for r in rows],
            "development_id": [r["dev"] for r in rows],
            "name": [f"小区{r['dev']}" for r in rows],
            "county_code": "c1",
            "township_code": [r.get("township", "U") for r in rows],
            "phase": [r.get("phase", 1) for r in rows],
            "households": [r["households"] for r in rows],
            "delivery_year": [r["year"] for r in rows],
            "status": "planned",
            "school_parcel_id": [r.get("parcel") for r in rows],
        },
        geometry=[shifted(r["shape"]) for r in rows],
        crs=CRS,
    )


def checked_parcels(frame: gpd.GeoDataFrame, **kwargs: object) -> pd.DataFrame:
    options = {
        "schools": NO_SCHOOLS,
        "demand": EMPTY_DEMAND,
        "townships": townships(),
        "profile": PROFILE,
        "years": YEARS,
    } | kwargs
    return check_parcels(frame, **options).set_index("parcel_id")


# --------------------------------------------------------------------------- land


def test_land_just_below_and_just_above_the_requirement() -> None:
    # Urban primary, 24 classes: 24 x 45 = 1,080 students x 20.6 m² (Fujian's table at 24
    # classes) = 22,248 m². "below" is 100 m x 222.47 m = 22,247 m²; "above" 22,249 m².
    land = parcels(
        ("below", "primary", 24, 2027, "reserved", "U", box(0, 0, 100, 222.47)),
        ("above", "primary", 24, 2027, "reserved", "U", box(1_000, 0, 1_100, 222.49)),
    )
    table = checked_parcels(land)
    assert table["required_m2"].tolist() == pytest.approx([22_248, 22_248])
    assert table["area_m2"].tolist() == pytest.approx([22_247, 22_249])
    assert table["land_ok"].tolist() == [False, True]
    assert "22,247㎡少于所需22,248㎡（1,080名学生×20.6㎡/生）" in table.at["below", "land_reason"]
    assert not table.at["below", "passed"]


def test_land_of_nine_year_rural_and_interpolated_sizes() -> None:
    land = parcels(
        ("urban9", "nine_year", 27, 2027, "reserved", "U", box(0, 0, 10, 10)),
        ("rural9", "nine_year", 18, 2027, "reserved", "R", box(20_000, 0, 20_010, 10)),
        ("rural_j", "junior", 6, 2027, "reserved", "R", box(21_000, 0, 21_010, 10)),
        ("none", "primary", 0, 2027, "reserved", "U", box(1_000, 0, 1_010, 10)),
    )
    table = checked_parcels(land)
    # urban9: 18 primary classes x 45 + 9 junior x 50 = 1,260 students x 20 m² = 25,200 m².
    # rural9: 12 primary classes x 45 = 540 x 24.2 (rural primary at 12 classes) = 13,068
    #   plus 6 junior classes x 50 = 300 x 25.9 (rural junior, 6 classes held at its 12-class
    #   value) = 7,770: 20,838 m².
    # rural_j: 6 x 50 = 300 students x 25.9 = 7,770 m².
    assert table["required_m2"].tolist() == pytest.approx([25_200, 20_838, 7_770, 0])
    assert table[["primary_seats", "junior_seats"]].loc["rural9"].tolist() == [540, 300]
    assert table.at["none", "land_reason"] == "规划班数为0，无法核定用地和学位"
    assert not table.at["none", "land_ok"] and not table.at["none", "demand_ok"]
    # A study may override the land norm: 20/18/16/14 m² at 12/18/24/30 classes. A 15-class
    # urban primary lies halfway between 12 and 18: 19 m² x (15 x 45 = 675) = 12,825 m².
    # Outside the sizes the end values hold: 6 classes 20 m² x 270 = 5,400 m²; 40 classes
    # 14 m² x 1,800 = 25,200 m².
    steep = load_profile(
        overrides={"school_size": {"urban_primary": {"land_m2_per_student": [20, 18, 16, 14]}}}
    )
    sizes = parcels(
        *[
            (f"p{n}", "primary", n, 2027, "reserved", "U", box(i * 100, 0, i * 100 + 10, 10))
            for i, n in enumerate((15, 6, 40))
        ]
    )
    required = checked_parcels(sizes, profile=steep)["required_m2"]
    assert required.tolist() == pytest.approx([12_825, 5_400, 25_200])


# --------------------------------------------------------------------------- overlap


def test_overlap_areas_by_hand() -> None:
    land = parcels(
        ("A", "primary", 4, 2027, "reserved", "U", box(0, 0, 100, 100)),
        ("B", "primary", 4, 2027, "reserved", "U", box(60, 0, 160, 100)),
        ("C", "primary", 4, 2027, "reserved", "U", box(160, 0, 260, 100)),
        ("D", "primary", 4, 2027, "reserved", "U", box(1_000, 0, 1_100, 100)),
        ("E", "primary", 4, 2027, "reserved", "U", box(2_000, 0, 2_100, 100)),
        ("F", "primary", 4, 2027, "built", "U", box(3_000, 0, 3_100, 100)),
        ("G", "primary", 4, 2027, "reserved", "U", box(4_000, 0, 4_100, 100)),
    )
    sites = schools(
        # land of 3,000 m²: a circle of radius about 31 m, wholly inside D
        {"id": "inside", "level": "primary", "xy": (1_050, 50), "land": 3_000.0},
        # centred on E's east edge x = 2,100: half the circle lies in E, 1,500 m²
        {"id": "edge", "level": "junior", "xy": (2_100, 50), "land": 3_000.0, "status": "closing"},
        # F is built and holds its school: named, not failed
        {"id": "own", "level": "primary", "xy": (3_050, 50), "land": 2_000.0},
        # G: a school with no land area counts by its point; a planned one not at all
        {"id": "dot", "level": "primary", "xy": (4_020, 20)},
        {"id": "future", "level": "primary", "xy": (4_080, 80), "land": 900.0, "status": "planned"},
    )
    table = checked_parcels(land, schools=sites)
    # A and B overlap on x 60-100: 40 m x 100 m = 4,000 m². C only touches B along x = 160.
    assert table["overlap_parcels"].tolist() == ["B", "A", "", "", "", "", ""]
    assert table["overlap_schools"].tolist() == ["", "", "", "inside", "edge", "own", "dot"]
    expected = [4_000, 4_000, 0, 3_000, 1_500, 0, 0]
    assert table["overlap_area_m2"].tolist() == pytest.approx(expected)
    assert table["overlap_ok"].tolist() == [False, False, True, False, False, True, False]
    assert table.at["A", "overlap_reason"] == "与地块B重叠4,000㎡"
    assert table.at["E", "overlap_reason"] == "与学校edge用地重叠1,500㎡"
    assert table.at["F", "overlap_reason"] == "已建成，含学校own用地"
    assert table.at["C", "overlap_reason"] == "与其他地块及现有学校用地均不重叠"


# --------------------------------------------------------------------------- demand


def test_demand_within_the_radius_by_hand() -> None:
    # Urban primary parcel of 4 classes (180 seats) on box(0, 0, 100, 100), delivered 2027;
    # its 500 m service area is the square grown by 500 m. Cell "in" (x 200-300) lies wholly
    # inside; cell "half" (x 550-650, y 20-80) straddles the straight edge x = 600, half in;
    # cell "out" is 2 km away.
    cells = {
        "in": (box(200, 0, 300, 100), {2025: (500, 0), 2027: (300, 0), 2028: (250, 0)}),
        "half": (box(550, 20, 650, 80), {2027: (200, 0), 2028: (400, 0), 2030: (40, 0)}),
        "out": (box(2_000, 0, 2_100, 100), {2028: (9_999, 0)}),
    }
    # Children within the radius from 2027 on (2025's 500 come before delivery):
    # 2027: 300 + 200/2 = 400; 2028: 250 + 400/2 = 450 (the peak); 2030: 40/2 = 20.
    # An open primary school 200 m north has 300 seats: unmet 450 - 300 = 150 < 180 seats.
    near = schools({"id": "S", "level": "primary", "xy": (50, 300), "capacity": 300})
    land = parcels(
        ("P", "primary", 4, 2027, "reserved", "U", box(0, 0, 100, 100)),
        ("late", "primary", 4, 2031, "reserved", "U", box(0, 3_000, 100, 3_100)),
    )
    strict = checked_parcels(land, schools=near, demand=demand(cells))
    row = strict.loc["P"]
    assert (row["primary_year"], row["primary_children"]) == (2028, pytest.approx(450))
    assert row["primary_capacity"] == 300
    assert np.isnan(row["junior_children"])
    # Centre of the 2028 children: 250 at x = 250 (centre of "in") and 200 at x = 575 (centre
    # of the half of "half" inside, x 550-600): x = (250 x 250 + 200 x 575) / 450 = 394.44,
    # y = 50, which is 294.44 m east of the parcel's edge x = 100.
    assert row["primary_distance_m"] == pytest.approx(294.444, abs=1e-3)
    assert not row["demand_ok"]
    assert "2028年服务半径500m内预测450人，现有学校学位300，缺口150<所需180" in row["demand_reason"]
    # With min_fill 0.8 the threshold is 144 seats: 150 passes.
    relaxed = checked_parcels(
        land, schools=near, demand=demand(cells), options=LandOptions(min_fill=0.8)
    )
    assert relaxed.at["P", "demand_ok"]
    # The same threshold from the profile (a study's [standards.land] parcel_min_fill = 0.8).
    own = load_profile(overrides={"land": {"parcel_min_fill": 0.8}})
    from_profile = checked_parcels(land, schools=near, demand=demand(cells), profile=own)
    assert from_profile.at["P", "demand_ok"]
    assert "缺口150≥所需144" in from_profile.at["P", "demand_reason"]
    late = strict.loc["late"]
    assert not late["demand_ok"] and np.isnan(late["primary_year"])
    assert late["demand_reason"] == "小学：交付年份2031晚于规划期末2030年"


# --------------------------------------------------------------------------- developments


def check(
    phases: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, land: gpd.GeoDataFrame
) -> pd.DataFrame:
    table = check_developments(
        phases,
        schools=sites,
        parcels=land,
        townships=townships(),
        profile=PROFILE,
        base_year=2020,
        options=LandOptions(lang="en"),
        yield_model=YieldModel(),
    )
    return table.set_index("development_id")


def test_school_in_radius_with_and_without_room() -> None:
    # School S (primary, capacity 400, 300 pupils: 100 spare seats) at (700, 50) is 300 m
    # from both developments: "fits" ends at x = 400, "crowded" starts at x = 1,000.
    # "fits" has 500 households: 500 x 0.18 = 90 primary children <= 100; "crowded" has 600:
    # 108 > 100, and no primary parcel is near it. Junior: 500 x 0.09 = 45 children; junior
    # parcel J lies 500 m north of "fits" (< 1,000 m) but hypot(900, 500) = 1,030 m from
    # "crowded".
    sites = schools(
        {"id": "S", "level": "primary", "xy": (700, 50), "capacity": 400,
         "pupils": {1: 300}, "classes": {1: 7}},
    )  # fmt: skip
    land = parcels(("J", "junior", 12, 2026, "reserved", "U", box(0, 600, 100, 700)))
    phases = developments(
        {"dev": "fits", "phase_id": "f1", "households": 500, "year": 2026,
         "shape": box(0, 0, 400, 100)},
        {"dev": "crowded", "phase_id": "c1", "households": 600, "year": 2026,
         "shape": box(1_000, 0, 1_400, 100)},
    )  # fmt: skip
    table = check(phases, sites, land)
    fits, crowded = table.loc["fits"], table.loc["crowded"]
    assert (fits["primary_children"], fits["junior_children"]) == pytest.approx((90, 45))
    assert crowded["primary_children"] == pytest.approx(108)
    assert fits["primary_ok"] and fits["primary_match"] == "S"
    assert (fits["primary_match_kind"], fits["primary_distance_m"]) == ("school", 300)
    assert fits["primary_reason"] == (
        "90 new primary children; school S at 300 m (radius 500 m) has 100 spare seats"
    )
    assert fits["junior_ok"] and (fits["junior_match"], fits["junior_match_kind"]) == (
        "J",
        "parcel",
    )
    assert not crowded["primary_ok"] and crowded["primary_match"] == ""
    assert crowded["primary_reason"] == (
        "108 new primary children; no school with enough spare seats and no primary parcel "
        "within 500 m (nearest school S at 300 m has 100 spare seats)"
    )
    assert fits["junior_distance_m"] == 500
    assert not crowded["junior_ok"] and crowded["junior_match"] == ""


def test_sync_one_year_late_and_on_time() -> None:
    land = parcels(
        ("late", "primary", 12, 2027, "reserved", "U", box(0, 200, 100, 300)),
        ("ontime", "nine_year", 18, 2026, "approved", "U", box(5_000, 200, 5_100, 300)),
    )
    # "L" has phases delivered 2026 and 2028; its parcel comes in 2027, one year after the
    # first phase. "T" is delivered 2026 with its parcel, 2026. "N" has no parcel and no
    # school near: its 18 primary and 9 junior children have nowhere to go.
    phases = developments(
        {"dev": "L", "phase_id": "L1", "households": 300, "year": 2026,
         "shape": box(0, 0, 100, 100), "parcel": "late"},
        {"dev": "L", "phase_id": "L2", "households": 300, "year": 2028, "phase": 2,
         "shape": box(0, 100, 100, 150), "parcel": "late"},
        {"dev": "T", "phase_id": "T1", "households": 300, "year": 2026,
         "shape": box(5_000, 0, 5_100, 100), "parcel": "ontime"},
        {"dev": "N", "phase_id": "N1", "households": 100, "year": 2027,
         "shape": box(8_000, 0, 8_100, 100), "parcel": " "},
    )  # fmt: skip
    table = check(phases, NO_SCHOOLS, land)
    assert table.index.tolist() == ["L", "T", "N"]
    assert table["phases"].tolist() == [2, 1, 1]
    assert table["first_delivery_year"].tolist() == [2026, 2026, 2027]
    assert table["school_parcel_id"].tolist() == ["late", "ontime", ""]
    assert table["sync_ok"].tolist() == [False, True, False]
    assert table.at["L", "sync_reason"] == (
        "school parcel late delivered in 2027, 1 year(s) after the first phase (2026)"
    )
    assert table.at["T", "sync_reason"] == (
        "school parcel ontime delivered in 2026, not after the first phase (2026)"
    )
    assert table.at["N", "sync_reason"] == (
        "no school parcel linked, and existing schools cannot take the new children"
    )
    # L: 600 households x 0.18 = 108 primary children, served by its own parcel 50 m away.
    assert table.at["L", "primary_children"] == pytest.approx(108)
    assert table.at["L", "primary_match"] == "late" and table.at["L", "primary_ok"]
    assert table["passed"].tolist() == [False, True, False]


def test_development_input_errors_name_the_items() -> None:
    land = parcels(("P", "primary", 12, 2027, "reserved", "U", box(0, 200, 100, 300)))
    phases = developments(
        {"dev": "D7", "phase_id": "D7-1", "households": 300, "year": 2026,
         "shape": box(0, 0, 100, 100), "parcel": "P9"},
        {"dev": "D8", "phase_id": "D8-2", "households": 300, "year": 2026,
         "shape": box(0, 0, 100, 100)},
    )  # fmt: skip
    phases["delivery_year"] = phases["delivery_year"].astype(float)
    phases.loc[1, "delivery_year"] = np.nan
    with pytest.raises(ValidationError) as caught:
        check(phases, NO_SCHOOLS, land)
    message = str(caught.value)
    assert "no delivery year, so 三同步 cannot be checked for development_id D8" in message
    assert "phase_id D8-2" in message
    assert "school parcel P9 not in reserved_land in phase_id D7-1" in message


def test_parcel_with_self_intersecting_geometry_is_refused() -> None:
    bowtie = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    land = parcels(
        ("ok", "primary", 12, 2027, "reserved", "U", box(0, 200, 100, 300)),
        ("bow", "primary", 12, 2027, "reserved", "U", bowtie),
    )
    with pytest.raises(ValidationError, match=r"invalid geometry.* in parcel_id bow \(1 row\)"):
        checked_parcels(land)
    with pytest.raises(ValidationError, match=r"geographic"):
        checked_parcels(land.iloc[:1].to_crs(4490))
    with pytest.raises(ValidationError, match=r"township not in the townships layer in parcel_id"):
        checked_parcels(land.iloc[:1].assign(township_code="X"))


# --------------------------------------------------------------------------- township reserve


def test_township_reserve_against_the_shortfall_by_hand() -> None:
    sites = schools(
        {"id": "p", "level": "primary", "xy": (0, 0), "capacity": 500},
        # nine-year, 900 seats, 6 primary and 3 junior classes: 600 primary, 300 junior
        {"id": "n", "level": "nine_year", "xy": (100, 0), "capacity": 900,
         "classes": {1: 6, 7: 3}},
        {"id": "j", "level": "junior", "xy": (200, 0), "capacity": 250},
        {"id": "x", "level": "primary", "xy": (300, 0), "capacity": 5_000, "status": "planned"},
    )  # fmt: skip
    land = parcels(
        ("Q1", "primary", 6, 2027, "reserved", "U", box(0, 500, 100, 600)),
        ("Q2", "junior", 2, 2028, "approved", "U", box(200, 500, 300, 600)),
        ("Q3", "primary", 12, 2026, "built", "U", box(400, 500, 500, 600)),
    )
    totals = pd.DataFrame(
        {
            "township_code": "U",
            "scenario": "medium",
            "year": [2025, 2026, 2027] * 2,
            "level": ["primary"] * 3 + ["junior"] * 3,
            "children": [1_300, 1_400, 1_350, 500, 480, 620],
        }
    )
    table = township_reserve(
        townships(), parcels=land, schools=sites, demand=totals, profile=PROFILE,
        years=range(2025, 2028), options=LandOptions(lang="en"),
    )  # fmt: skip
    urban = table[table["township_code"] == "U"].set_index("level")
    # Primary: capacity 500 + 600 = 1,100; peak 1,400 in 2026: shortfall 300. Reserved: Q1,
    # 6 x 45 = 270 (Q3 is built); 270 < 300.
    # Junior: capacity 300 + 250 = 550; peak 620 in 2027: shortfall 70. Q2: 2 x 50 = 100 >= 70.
    assert urban["capacity"].tolist() == pytest.approx([1_100, 550])
    assert urban["year"].tolist() == [2026, 2027]
    assert urban["seat_shortfall"].tolist() == pytest.approx([300, 70])
    assert urban["reserved_seats"].tolist() == pytest.approx([270, 100])
    assert urban["parcels"].tolist() == ["Q1", "Q2"]
    assert urban["reserve_ok"].tolist() == [False, True]
    assert urban.at["primary", "reserve_reason"] == (
        "primary: 1,400 children in 2026, 1,100 seats in open schools, shortfall 300; 270 "
        "reserved seats is below the shortfall (parcels Q1)"
    )
    rural = table[table["township_code"] == "R"]
    assert rural["seat_shortfall"].tolist() == [0, 0] and rural["reserve_ok"].all()
    assert isinstance(table, gpd.GeoDataFrame) and len(table) == 4
    # In the last year, 2027: primary 1,350 - 1,100 = 250 <= 270.
    last = township_reserve(
        townships(), parcels=land, schools=sites, demand=totals, profile=PROFILE,
        years=range(2025, 2028), statistic="last",
    )  # fmt: skip
    assert last["reserve_ok"].tolist()[:2] == [True, True]


def test_seats_and_radii_helpers() -> None:
    radii = service_radii(PROFILE)
    assert radii == {
        ("urban", "primary"): 500.0,
        ("urban", "junior"): 1000.0,
        ("rural", "primary"): 1800.0,  # 30 min x 3.6 km/h
        ("rural", "junior"): 30_000.0,  # 60 min x 30 km/h
    }
    with pytest.raises(ValidationError, match="keys must be one of"):
        service_radii(PROFILE, overrides={("urban", "nine_year"): 1.0})
    # A nine-year school with no classes splits its capacity by grades: 6/9 and 3/9.
    seats = school_seats(schools({"id": "n", "level": "nine_year", "xy": (0, 0), "capacity": 900}))
    assert seats[["capacity_primary", "capacity_junior"]].iloc[0].tolist() == [600, 300]


# --------------------------------------------------------------------------- study, CLI, map


def _tiny_edits() -> dict:
    """Link D1 to P1 (a year late) and add D2 beside school S1, which has room."""

    def edit_developments(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        # S1 (urban primary, capacity 400, 203 pupils) is at (4,000, 4,000); D2 ends at
        # (3,900, 3,900), 141 m away, and brings 100 x 0.18 = 18 primary children.
        second = frame.assign(
            phase_id="D2-1", development_id="D2", name="D2 <b>&", households=100,
            geometry=[shifted(box(3_800, 3_800, 3_900, 3_900))],
        )  # fmt: skip
        return pd.concat([frame.assign(school_parcel_id="P1"), second], ignore_index=True)

    return {"developments": edit_developments}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run ``layout land`` once on the edited tiny study; return the folder of outputs."""
    root = tmp_path_factory.mktemp("land")
    toml = write_tiny_study(root / "study", edit=_tiny_edits())
    argv = ["land", str(toml), "--out", str(root / "out"), "--maps", str(root / "maps")]
    assert main([*argv, "--quiet"]) == 0
    return root


def test_land_outputs_are_written(run: Path) -> None:
    layers = [row[0] for row in pyogrio.list_layers(run / "out" / "land.gpkg")]
    assert layers == [
        "parcels_check",
        "developments_check",
        "township_reserve",
        "development_links",
    ]
    parcels_out = gpd.read_file(run / "out" / "land.gpkg", layer="parcels_check")
    # P1: urban primary of 24 classes on 150 m x 150 m = 22,500 m² >= 1,080 x 20.6 = 22,248 m².
    assert parcels_out.loc[0, ["parcel_id", "area_m2", "required_m2"]].tolist() == [
        "P1", 22_500, 22_248,
    ]  # fmt: skip
    devs = gpd.read_file(run / "out" / "land.gpkg", layer="developments_check")
    devs = devs.set_index("development_id")
    # D1: first phase 2026, parcel P1 in 2027: one year late.
    assert devs.at["D1", "sync_reason"] == "配套地块P1于2027年交付，晚于首期交付（2026年）1年"
    assert not devs.at["D1", "sync_ok"]
    # D2: S1 has 400 - 203 = 197 spare seats for 18 children.
    assert devs.at["D2", "primary_match"] == "S1" and devs.at["D2", "primary_ok"]
    # (the school's lon/lat in the CSV is rounded to 1e-7 degrees, about 1 cm)
    assert devs.at["D2", "primary_distance_m"] == pytest.approx(np.hypot(100, 100), abs=0.1)
    sheets = pd.read_excel(run / "out" / "land.xlsx", sheet_name=None)
    assert list(sheets) == [
        "说明 Notice",  # the tiny study is synthetic
        "储备用地核查",
        "住宅项目配套核查(三同步)",
        "乡镇教育用地储备",
        "项目配套学校连线",
    ]
    assert sheets["住宅项目配套核查(三同步)"]["三同步"].tolist() == ["否", "否"]
    assert sheets["储备用地核查"]["规划学段"].tolist() == ["小学", "初中"]


def test_land_check_refuses_unknown_scenario(tmp_path: Path) -> None:
    study = study_from_toml(write_tiny_study(tmp_path / "study"))
    with pytest.raises(ValidationError, match="scenario 'huge' is not defined; choose one of low"):
        land_check(study, out_dir=tmp_path / "o", maps_dir=tmp_path / "m", scenario="huge")


def test_bad_study_exits_with_message(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    argv = ["land", str(tmp_path / "nowhere.toml"), "--out", str(tmp_path / "o"), "--quiet"]
    assert main(argv) == 2
    assert "nowhere.toml not found" in caplog.text
    assert not (tmp_path / "o").exists()


def test_land_map_is_offline(run: Path) -> None:
    assert external_references(run / "maps" / "land.html") == []


def test_land_map_in_chromium(run: Path, offline_page: OfflinePage) -> None:
    offline_page.open(run / "maps" / "land.html")
    page = offline_page.page
    # 2 parcels + 2 developments + 1 line (D2 to S1) + 3 schools.
    paths = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
    assert paths.count() == 8
    # Hover parcel P1, the first feature drawn.
    box_ = paths.nth(0).bounding_box()
    assert box_ is not None
    page.mouse.move(box_["x"] + box_["width"] / 2, box_["y"] + box_["height"] / 2)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    text = tooltip.inner_text()
    assert "P1" in text
    assert "用地规模达标" in text and "通过：用地22,500㎡不少于所需22,248㎡" in text
    colours = page.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive'))"
        ".map(p => p.getAttribute('fill'))"
    )
    assert colours[:2] == ["#d7191c", "#d7191c"]  # both parcels fail their demand rule
    # D2, named "D2 <b>&", is the fourth feature: its name shows as text, not markup.
    page.mouse.move(0, 0)
    box_ = paths.nth(3).bounding_box()
    assert box_ is not None
    page.mouse.move(box_["x"] + box_["width"] / 2, box_["y"] + box_["height"] / 2)
    page.wait_for_function("document.querySelector('.leaflet-tooltip').innerText.includes('D2')")
    tip = page.locator(".leaflet-tooltip")
    assert "D2 <b>&" in tip.inner_text()
    assert "通过：新增小学学生18人；服务半径500m内学校S1" in tip.inner_text()
    offline_page.assert_drawn()
