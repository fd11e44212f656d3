"""Candidate sites and the two-tier rural plan on a line of cells, worked by hand.

The tiny study (tests/tinystudy.py) is edited: its rural county 210303 (x = 10-20 km from X0)
gets five 1 km cells E1..E5 on a line, centroids at x = 10.5, 12.5, 14.5, 16.5, 18.5 km and
y = 0.5 km; three townships with seats at (11, 5), (13.5, 0.5) and (17.5, 0.5) km; the rural
teaching point S3 moves to E1's centre; a closing school S4 stands at (8, 8) km in the urban
county. The study has no roads, so travel is straight line x 1.3 at the profile's walking
speed of 3.6 km/h (60 m a minute): the 30-minute norm of grades 1-3 is 1800 m of travel,
1384.6 m in a straight line, and 1 km straight is 1300 m = 21.67 minutes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

from layout.cli import main
from layout.errors import ValidationError
from layout.runs.plan import STEPS, PlanResult
from layout.sites import (
    SitePlan,
    candidate_sites,
    plan_sites,
    rural_plan,
    standard_classes,
    urban_plan,
)
from layout.study import study_from_toml
from tests.tinystudy import CRS, TOML, X0, Y0, write_tiny_study

if TYPE_CHECKING:
    from tests.browser import OfflinePage

LINE = {"E1": 10.5, "E2": 12.5, "E3": 14.5, "E4": 16.5, "E5": 18.5}  # km, y = 0.5 km
SEATS = {"210303101": (11.0, 5.0), "210303102": (13.5, 0.5), "210303103": (17.5, 0.5)}
WALK = 60.0  # metres a minute


def _point(x_km: float, y_km: float) -> Point:
    return Point(X0 + x_km * 1000, Y0 + y_km * 1000)


def _population(frame: pd.DataFrame) -> pd.DataFrame:
    urban = frame[frame["cell_id"].isin(["C1", "C2"])]
    rows = urban.iloc[[0] * len(LINE)].copy()
    rows["cell_id"] = list(LINE)
    rows["county_code"] = "210303"
    rows["setting"] = "rural"
    rows["township_code"] = ["210303101", "210303102", "210303102", "210303103", "210303103"]
    rows["geometry"] = [box(X0 + (x - 0.5) * 1000, Y0, X0 + (x + 0.5) * 1000, Y0 + 1000)
                        for x in LINE.values()]  # fmt: skip
    return gpd.GeoDataFrame(pd.concat([urban, rows], ignore_index=True), crs=CRS)


def _townships(frame: pd.DataFrame) -> pd.DataFrame:
    urban = frame[frame["county_code"] == "210302"]
    spans = {"210303101": (10, 12), "210303102": (12, 16), "210303103": (16, 20)}
    seats = gpd.GeoSeries([_point(*xy) for xy in SEATS.values()], crs=CRS).to_crs(4490)
    rural = gpd.GeoDataFrame(
        {
            "township_code": list(SEATS),
            "name": [f"T{c}" for c in SEATS],
            "county_code": "210303",
            "seat_lon": seats.x.to_numpy(),
            "seat_lat": seats.y.to_numpy(),
            "setting": "rural",
        },
        geometry=[box(X0 + a * 1000, Y0, X0 + b * 1000, Y0 + 10_000) for a, b in spans.values()],
        crs=CRS,
    )
    return gpd.GeoDataFrame(pd.concat([urban, rural], ignore_index=True), crs=CRS)


def _schools(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    where = gpd.GeoSeries([_point(10.5, 0.5), _point(8.0, 8.0)], crs=CRS).to_crs(4490)
    out.loc[out["school_id"] == "S3", ["lon", "lat"]] = [round(where.x[0], 9), round(where.y[0], 9)]
    s4 = out[out["school_id"] == "S2"].assign(
        school_id="S4", name="撤并校四", status="closing", lon=round(where.x[1], 9),
        lat=round(where.y[1], 9),
    )  # fmt: skip
    return pd.concat([out, s4], ignore_index=True)


def _reserved(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(township_code=["210302001", "210303102"])


WALKING = (
    TOML
    + """
# The hand-worked trips below are walks of up to 173 minutes: junior pupils walk too, and every
# trip up to 240 minutes is costed (the profile's defaults: a bus, and 120 minutes).
[standards.service]
rural_junior_mode = "walk"
max_trip_minutes = 240.0
"""
)

EDITS = {
    "population": _population,
    "townships": _townships,
    "schools": _schools,
    "reserved_land": _reserved,
}


@pytest.fixture(scope="module")
def study_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_study(tmp_path_factory.mktemp("sites") / "study", edit=EDITS, toml=WALKING)


@pytest.fixture(scope="module")
def study(study_path: Path):
    return study_from_toml(study_path)


def _demand(per_grade: dict[str, dict[int, float]]) -> pd.DataFrame:
    """Children by cell and grade for scenario medium, 2030 (grades not given are 0)."""
    rows = [
        {"scenario": "medium", "year": 2030, "cell_id": cell, "grade": g,
         "level": "primary" if g <= 6 else "junior", "children": per_grade[cell].get(g, 0.0)}
        for cell in LINE for g in range(1, 10)
    ]  # fmt: skip
    return pd.DataFrame(rows)


YOUNG = {"E1": 10, "E2": 4, "E3": 2, "E4": 3, "E5": 5}  # pupils in each of grades 1-3
OLDER = {"E1": 2, "E2": 2, "E3": 2, "E4": 2, "E5": 3}  # pupils in each of grades 4-9


def _minutes(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1]) * 1000 * 1.3 / WALK


def test_teaching_points_chosen_by_set_covering(study) -> None:
    demand = _demand({c: dict.fromkeys((1, 2, 3), float(YOUNG[c])) for c in LINE})
    plan = rural_plan(study, demand, county_code="210303", year=2030, level="primary")
    props = plan.proposals.set_index("candidate_id")
    # Before: E1 is at S3 (0 min); E2..E5 are 2, 4, 6, 8 km from S3 = 43.3, 86.7, 130.0 and
    # 173.3 minutes, beyond 30: flagged, with 12, 6, 9 and 15 young pupils (42 in all).
    # Candidates in 210303: seats 101 (11, 5), 102 (13.5, 0.5), 103 (17.5, 0.5) and one
    # cluster (ceil(42 / 100) = 1) at the weighted centre x = (12*12.5 + 6*14.5 + 9*16.5 +
    # 15*18.5) / 42 = 15.786 km. Within 1384.6 m: seat 102 covers E2, E3 (1 km each); seat
    # 103 covers E4, E5; the cluster covers E3 (1.286 km) and E4 (0.714 km); seat 101 none.
    # E2 is covered by seat 102 only and E5 by seat 103 only, so both must open, and they
    # cover everyone: 2 new sites, the fewest. The set covering counts the fixed S3 (S1 is
    # in county 210302, whose schools these children may not attend by the profile).
    assert sorted(props.index) == ["seat:210303102", "seat:210303103"]
    assert set(props["solver"]) == {"lscp"}
    assert props["objective"].iloc[0] == 3 and props["gap"].iloc[0] == 0
    # Seat 102 serves E2 (12) and E3 (6) = 18; seat 103 serves E4 (9) + E5 (15) = 24.
    assert props.loc["seat:210303102", "children_served"] == pytest.approx(18)
    assert props.loc["seat:210303103", "children_served"] == pytest.approx(24)
    # ceil(18 / 45) = 1 class, rounded up to the teaching point's standard size of 4 classes;
    # teachers max(18 / 19, 1.5 x 4) = 6; land 25.8 m2 x (4 x 45 places) = 4644 m2; funding
    # with the 100-pupil floor: 100 x 850 = 85,000 yuan (same for 24 pupils).
    for site in props.index:
        assert props.loc[site, "classes"] == 4
        assert props.loc[site, "teachers_required"] == 6
        assert props.loc[site, "land_m2"] == pytest.approx(4644)
        assert props.loc[site, "total_funding"] == pytest.approx(85_000)
        assert props.loc[site, "boarding_beds"] == 0
    # Travel saved at seat 102: E2 43.33 -> 21.67 (x 12), E3 86.67 -> 21.67 (x 6):
    # 260 + 390 = 650 child-minutes, 36.11 a child.
    saved = 12 * (_minutes((12.5, 0.5), (10.5, 0.5)) - 1300 / WALK) + 6 * (
        _minutes((14.5, 0.5), (10.5, 0.5)) - 1300 / WALK
    )
    assert saved == pytest.approx(650)
    assert props.loc["seat:210303102", "child_minutes_saved"] == pytest.approx(650)
    assert props.loc["seat:210303102", "minutes_saved"] == pytest.approx(650 / 18)
    # E4: 130 -> 21.67 (x 9) = 975; E5: 173.33 -> 21.67 (x 15) = 2275.
    assert props.loc["seat:210303103", "child_minutes_saved"] == pytest.approx(3250)
    cover = plan.coverage.set_index("cell_id")
    assert cover["within_after"].all() and cover["within_before"].tolist() == [
        True, False, False, False, False,
    ]  # fmt: skip


def test_budget_of_one_takes_the_best_cover(study) -> None:
    demand = _demand({c: dict.fromkeys((1, 2, 3), float(YOUNG[c])) for c in LINE})
    plan = rural_plan(study, demand, county_code="210303", year=2030, level="primary", budget=1)
    # One new site: seat 102 covers 12 + 6 = 18, seat 103 9 + 15 = 24, the cluster 6 + 9 = 15.
    assert plan.proposals["candidate_id"].tolist() == ["seat:210303103"]
    assert plan.proposals["solver"].iloc[0] == "mclp"
    assert plan.proposals["objective"].iloc[0] == pytest.approx(24)
    assert plan.proposals["bound"].iloc[0] == pytest.approx(24)


def test_boarding_school_by_p_median_worked_by_enumeration(study) -> None:
    demand = _demand({c: dict.fromkeys(range(4, 10), float(OLDER[c])) for c in LINE})
    plan = rural_plan(study, demand, county_code="210303", year=2030, level="junior", p=1)
    # Grades 4-6 count where the nearest primary place is beyond 45 min: E3, E4, E5 (E1 0 and
    # E2 43.3 min of S3). Grades 7-9 count where the nearest junior place (S2 at (6, 6) km,
    # fixed) is beyond 60 min: every cell (7.1 km or more). Weights: E1 6, E2 6, E3 12,
    # E4 12, E5 18. Enumerate the seats: cost = sum w * min(minutes to S2, to the seat).
    cells = {c: (x, 0.5) for c, x in LINE.items()}
    weight = {"E1": 6, "E2": 6, "E3": 12, "E4": 12, "E5": 18}
    s2 = (6.0, 6.0)
    totals = {
        code: sum(weight[c] * min(_minutes(xy, s2), _minutes(xy, seat)) for c, xy in cells.items())
        for code, seat in SEATS.items()
    }
    best = min(totals, key=totals.__getitem__)
    assert best == "210303103"  # 103: 6x7 + 6x5 + 12x3 + 12x1 + 18x1 = 138 km x 1.3 / 60 a km
    props = plan.proposals
    assert props["candidate_id"].tolist() == [f"seat:{best}"]
    assert props["objective"].iloc[0] == pytest.approx(totals[best])
    assert props["gap"].iloc[0] == 0
    row = props.iloc[0]
    # Every cell is nearer seat 103 than S2 (E1: 7.0 km vs 7.1 km): 21 pupils of grades
    # 4-6 (E3 6, E4 6, E5 9) and 33 of grades 7-9 (6 + 6 + 6 + 6 + 9) = 54.
    assert row["children_served"] == pytest.approx(54)
    # ceil(21 / 45) + ceil(33 / 50) = 2 classes -> the smallest rural junior size, 12.
    assert row["classes"] == 12
    assert row["teachers_required"] == math.ceil(21 / 19 + 33 / 13.5)  # 4
    assert row["land_m2"] == pytest.approx(25.9 * 12 * 50)  # 15,540 m2
    # Beds: after the move E1 151.7, E2 108.3, E3 65.0, E4 and E5 21.7 minutes. Grades 4-6
    # beyond 45: E3's 6; grades 7-9 beyond 60: E1, E2, E3's 6 each -> 24 beds.
    assert row["boarding_beds"] == 24
    # 24 boarders at one boarding-management staff member per 50 (rounded up): 1.
    assert row["boarding_staff"] == 1
    # 21 x 850 + 33 x 1050 + 24 x 200 = 57,300 yuan (no small-school floor).
    assert row["total_funding"] == pytest.approx(57_300)


def test_candidates_and_their_scores(study) -> None:
    flagged = pd.DataFrame({"cell_id": ["E2", "E3"], "children": [12.0, 6.0]})
    sites = candidate_sites(study, level="primary", flagged_cells=flagged).set_index("candidate_id")
    # P1 is a primary parcel (P2 is junior); S4 is the only closing school; four township
    # seats; ceil(18 / 100) = 1 cluster at (12*12.5 + 6*14.5) / 18 = 13.167 km.
    assert sorted(sites.index) == [
        "campus:S4", "cluster:0", "parcel:P1", "seat:210302001", "seat:210303101",
        "seat:210303102", "seat:210303103",
    ]  # fmt: skip
    assert sites.loc["cluster:0"].geometry.x == pytest.approx(X0 + 13_166.667, abs=0.01)
    # No roads: score = (0.3 seat part + 0.3 services part) / 0.6 (+ 0.5 for a campus).
    assert sites["road_m"].isna().all()
    # Seat 102 at (13.5, 0.5): on its seat (part 1); nearest open school S3 is 3 km away
    # (part 1 / (1 + 3) = 0.25): score (0.3 + 0.075) / 0.6 = 0.625.
    assert sites.loc["seat:210303102", "score"] == pytest.approx(0.625)
    # Campus S4 at (8, 8): seat (5, 5) 4243 m away, S2 (6, 6) 2828 m away.
    seat, school = 1 / (1 + math.hypot(3, 3)), 1 / (1 + math.hypot(2, 2))
    expected = (0.3 * seat + 0.3 * school) / 0.6 + 0.5
    assert sites.loc["campus:S4", "score"] == pytest.approx(expected, rel=1e-4)
    only = candidate_sites(study, level="junior", county_code="210303")
    assert sorted(only["candidate_id"]) == [
        "parcel:P2", "seat:210303101", "seat:210303102", "seat:210303103",
    ]  # fmt: skip


def test_a_study_sets_the_siting_weights_and_the_reuse_bonus(tmp_path: Path) -> None:
    """The study's [standards.siting] table reaches the scores (no constant in the code)."""
    toml = (
        WALKING
        + """
[standards.siting]
seat_weight = 0.1
services_weight = 0.3
distance_scale_m = 2000.0
reuse_bonus = 2.0
"""
    )
    study = study_from_toml(write_tiny_study(tmp_path / "study", edit=EDITS, toml=toml))
    sites = candidate_sites(study, level="primary").set_index("candidate_id")
    # Seat 102: seat part 1; S3 3 km away: 1 / (1 + 3000 / 2000) = 0.4; no roads, so the
    # weights 0.1 and 0.3 sum to 0.4: (0.1 x 1 + 0.3 x 0.4) / 0.4 = 0.55.
    assert sites.loc["seat:210303102", "score"] == pytest.approx(0.55)
    # Campus S4: seat 4243 m, S2 2828 m away, plus the bonus of 2.
    seat, school = 1 / (1 + math.hypot(3, 3) / 2), 1 / (1 + math.hypot(2, 2) / 2)
    expected = (0.1 * seat + 0.3 * school) / 0.4 + 2.0
    assert sites.loc["campus:S4", "score"] == pytest.approx(expected, rel=1e-4)


def test_standard_sizes_and_refusals(study) -> None:
    assert standard_classes(18, cap=45, sizes=(4,)) == 4
    assert standard_classes(271, cap=45, sizes=(6, 12, 18, 24)) == 12  # 7 needed
    assert standard_classes(1126, cap=45, sizes=(6, 12, 18, 24)) == 26  # beyond the largest
    demand = _demand({c: {1: 1.0} for c in LINE})
    with pytest.raises(ValidationError, match="setting 'urban'"):
        rural_plan(study, demand, county_code="210302", year=2030)
    with pytest.raises(ValidationError, match="no rows for scenario 'high'"):
        rural_plan(study, demand, county_code="210303", year=2030, scenario="high")


@pytest.fixture(scope="module")
def cli_run(study_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sites_cli")
    code = main(["sites", str(study_path), "--out", str(root / "out"), "--maps",
                 str(root / "maps"), "--year", "2030", "--quiet"])  # fmt: skip
    assert code == 0
    return root


def test_cli_writes_its_files(cli_run: Path) -> None:
    names = sorted(p.name for p in (cli_run / "out").iterdir())
    assert names == [".layout-sites.json", "sites.gpkg", "sites.xlsx"]
    layers = [row[0] for row in pyogrio.list_layers(cli_run / "out" / "sites.gpkg")]
    assert layers == ["site_proposals", "site_candidates", "site_coverage"]
    props = gpd.read_file(cli_run / "out" / "sites.gpkg", layer="site_proposals")
    sheets = pd.read_excel(cli_run / "out" / "sites.xlsx", sheet_name=None)
    assert list(sheets) == ["说明 Notice", "新增校点选址建议", "备选校址及适宜性"]
    assert len(sheets["新增校点选址建议"]) == len(props) > 0
    assert set(props["kind"]) <= {"small_school", "boarding_school"}
    assert (props["county_code"] == "210303").all()


def test_sites_map_offline(cli_run: Path, study, offline_page: OfflinePage) -> None:
    gpkg = cli_run / "out" / "sites.gpkg"
    props = gpd.read_file(gpkg, layer="site_proposals")
    candidates = gpd.read_file(gpkg, layer="site_candidates").drop_duplicates("candidate_id")
    cover = gpd.read_file(gpkg, layer="site_coverage")
    gained = int((cover["within_after"].astype(bool) & ~cover["within_before"].astype(bool)).sum())
    offline_page.open(cli_run / "maps" / "sites.html")
    paths = offline_page.page.locator(".leaflet-overlay-pane path.leaflet-interactive")
    # Candidates, cells gained, the open schools for reference, then the proposals on top.
    schools = int((study["schools"]["status"] == "open").sum())
    assert paths.count() == len(candidates) + gained + schools + len(props)
    last = paths.nth(paths.count() - 1).bounding_box()
    assert last is not None
    offline_page.page.mouse.move(last["x"] + last["width"] / 2, last["y"] + last["height"] / 2)
    tooltip = offline_page.page.locator(".leaflet-tooltip.foliumtooltip")
    tooltip.wait_for()
    assert "服务学生数" in tooltip.inner_text()
    offline_page.assert_drawn()


def test_gained_cells_over_the_map_budget_are_summed_by_township(
    cli_run: Path, study, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layout.maps import budget
    from layout.maps.sites import sites_map

    gpkg = cli_run / "out" / "sites.gpkg"
    layers = [
        gpd.read_file(gpkg, layer=f"site_{n}") for n in ("proposals", "candidates", "coverage")
    ]
    plan = SitePlan(*layers)
    cover = plan.coverage
    gained = cover[cover["within_after"].astype(bool) & ~cover["within_before"].astype(bool)]
    assert len(gained) >= 2
    monkeypatch.setattr(budget, "MAX_FEATURES", 1)
    page = sites_map(study, plan, lang="en").get_root().render()
    towns = gained["township_code"].nunique()
    assert (
        f"{len(gained)} features exceed the map budget of 1; shown summed by Township code "
        f"({towns} features)" in page
    )


def test_plan_step_adds_the_rural_proposals(study) -> None:
    result = PlanResult(study=study)
    steps = dict(STEPS)
    assert [name for name, _ in STEPS][-1] == "sites"
    steps["demand"](result)
    steps["sites"](result)
    layer = result.layers["site_proposals"]
    # The step runs every county, rural 210303 and urban 210302, for medium and the last
    # plan year, 2030.
    assert result.demand is not None
    expected = plan_sites(study, result.demand, counties=["210302", "210303"], year=2030)
    assert len(layer) > 0
    assert layer["candidate_id"].tolist() == expected.proposals["candidate_id"].tolist()
    assert set(layer["county_code"]) == set(expected.proposals["county_code"])
    assert list(result.tables["site_proposals"]["proposal_id"]) == list(layer["proposal_id"])
    assert set(layer["year"]) == {2030} and set(layer["scenario"]) == {"medium"}


def test_urban_school_on_the_reserved_parcel(study) -> None:
    rows = [
        {"scenario": "medium", "year": 2030, "cell_id": cell, "grade": g, "children": n}
        for cell, n in (("C1", 50.0), ("C2", 40.0))
        for g in range(1, 7)
    ]
    plan = urban_plan(study, pd.DataFrame(rows), county_code="210302", year=2030)
    # 300 + 240 = 540 primary children, 400 places at S1: shortfall 140, so ceil(140 / (30
    # classes x 45)) = 1 new school, on the only primary parcel P1 (centroid (2.075, 2.075)
    # km). C1 (2.5, 2.5) is 601 m from P1 and 2121 m from S1: it moves; C2 (7.5, 2.5) is
    # 3808 m from S1 and 5441 m from P1: it stays.
    assert plan.proposals["candidate_id"].tolist() == ["parcel:P1"]
    row = plan.proposals.iloc[0]
    assert row["kind"] == "urban_school" and row["children_served"] == pytest.approx(300)
    # ceil(300 / 45) = 7 classes -> the smallest urban primary size, 12; teachers
    # ceil(300 / 19) = 16; land 24.2 m2 x 12 x 45 = 13,068 m2; funding 300 x 850 = 255,000.
    assert (row["classes"], row["teachers_required"]) == (12, 16)
    assert row["land_m2"] == pytest.approx(13_068)
    assert row["total_funding"] == pytest.approx(255_000)
    saved = (math.hypot(1500, 1500) - math.hypot(425, 425)) * 1.3 / WALK
    assert row["minutes_saved"] == pytest.approx(saved)


def test_plan_sites_gives_an_urban_county_the_urban_plan(study) -> None:
    # The same demand as above: 540 primary children against S1's 400 places in urban 210302.
    rows = [
        {"scenario": "medium", "year": 2030, "cell_id": cell, "grade": g, "children": n}
        for cell, n in (("C1", 50.0), ("C2", 40.0))
        for g in range(1, 7)
    ]
    plan = plan_sites(study, pd.DataFrame(rows), counties=["210302"], year=2030, level="primary")
    assert plan.proposals["kind"].tolist() == ["urban_school"]
    assert plan.proposals["candidate_id"].tolist() == ["parcel:P1"]
    assert plan.proposals["proposal_id"].tolist() == ["P210302-001"]
    assert plan.proposals[["year", "scenario"]].values.tolist() == [[2030, "medium"]]
