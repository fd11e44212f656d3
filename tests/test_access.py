"""The access step of `layout plan` on the tiny hand-made study (tests/tinystudy.py).

Cells (5 km squares) have centroids at x = 2.5, 7.5, 12.5, 17.5 km, y = 2.5 km (offsets from
X0, Y0). Primary places: S1 (primary) at (4, 4) km and S3 (teaching point) at (15, 5) km; junior
places: S2 only, at (6, 6) km. The study has no roads, so travel is straight line x 1.3 at the
profile's walking speed of 3.6 km/h (60 m a minute). Every school has 400 places.
"""

from __future__ import annotations

import math

import pytest

from layout.access import access
from layout.runs.outputs import findings
from layout.runs.plan import STEPS, PlanResult
from layout.study import study_from_toml
from tests.tinystudy import TOML, write_tiny_study


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory):
    study = study_from_toml(write_tiny_study(tmp_path_factory.mktemp("access")))
    result = PlanResult(study=study)
    dict(STEPS)["demand"](result)
    return study, result.demand, access(study, result.demand)


def _children(demand, scenario, year, level, cells):
    rows = demand[
        (demand["scenario"] == scenario)
        & (demand["year"] == year)
        & (demand["level"] == level)
        & demand["cell_id"].isin(cells)
    ]
    return float(rows["children"].sum())


def test_nearest_schools_take_every_child(found) -> None:
    _, demand, result = found
    schools = result.schools.set_index(["scenario", "year", "level", "school_id"])
    # C1 and C2 are nearer S1 (2.12 km and 3.81 km) than S3 (12.7 km, 7.9 km); C3 and C4 are
    # 3.54 km from S3 and 8.6 km / 13.6 km from S1. With 400 places each, nobody moves on.
    for year in (2025, 2030):
        s1 = schools.loc[("medium", year, "primary", "S1"), "load"]
        s3 = schools.loc[("medium", year, "primary", "S3"), "load"]
        assert s1 == pytest.approx(_children(demand, "medium", year, "primary", ["C1", "C2"]))
        assert s3 == pytest.approx(_children(demand, "medium", year, "primary", ["C3", "C4"]))
        # County 210303 has no junior school, and the profile keeps children in their own
        # county: S2 (210302) takes the junior children of C1 and C2 only.
        s2 = schools.loc[("medium", year, "junior", "S2"), "load"]
        assert s2 == pytest.approx(_children(demand, "medium", year, "junior", ["C1", "C2"]))


def test_summary_conserves_children_and_judges_norms(found) -> None:
    _, demand, result = found
    table = result.summary
    # One row per county (each solved on its own), scenario, year 2025-2030 and level.
    assert len(table) == 2 * 3 * 6 * 2
    assert set(table["county_code"]) == {"210302", "210303"}
    assert (table["children"] - table["assigned"] - table["unserved"]).abs().max() < 1e-9
    primary = table[table["level"] == "primary"]
    assert primary["unserved"].max() == 0
    # The junior children of C4 (county 210303, no junior school) have no place; C3 has none.
    junior = table[table["level"] == "junior"].groupby(["scenario", "year"])["unserved"].sum()
    for (scenario, year), unserved in junior.items():
        assert unserved == pytest.approx(_children(demand, scenario, year, "junior", ["C4"]))
    assert "across_border" not in table.columns and result.border_arcs is None
    # Urban C1, C2 are 2.76 km and 4.95 km of travel from S1, beyond the 500 m radius; rural
    # C3, C4 are 3536 m x 1.3 / 60 = 76.6 minutes from S3, beyond 30 minutes: nobody is within.
    assert table["within_norm"].max() == 0
    # Mean primary trip in 2025: C1 -> S1 2121.3 m x 1.3 / 60 = 45.96 min, C2 -> S1 3807.9 m
    # x 1.3 / 60 = 82.50 min, C3 and C4 -> S3 76.60 min each, weighted by children.
    minutes = {
        "C1": math.hypot(1500, 1500) * 1.3 / 60,
        "C2": math.hypot(3500, 1500) * 1.3 / 60,
        "C3": math.hypot(2500, 2500) * 1.3 / 60,
        "C4": math.hypot(2500, 2500) * 1.3 / 60,
    }
    weights = {c: _children(demand, "medium", 2025, "primary", [c]) for c in minutes}
    rows = table.set_index(["county_code", "scenario", "year", "level"])
    for county, cells in (("210302", ["C1", "C2"]), ("210303", ["C3", "C4"])):
        expected = sum(minutes[c] * weights[c] for c in cells) / sum(weights[c] for c in cells)
        row = rows.loc[(county, "medium", 2025, "primary")]
        assert row["mean_minutes"] == pytest.approx(expected, rel=1e-6)


def test_focus_flags_catchments_and_attendance(found) -> None:
    _, _, result = found
    flags = result.cells
    assert set(flags["year"]) == {2025, 2030} and set(flags["scenario"]) == {"medium"}
    primary = flags[(flags["level"] == "primary") & (flags["year"] == 2025)].set_index("cell_id")
    # C3 has no children (all ages 0) and is left out; the others are all beyond their norm.
    assert sorted(primary.index) == ["C1", "C2", "C4"]
    assert primary.loc[["C1", "C2"], "flag_radius"].all() and primary.loc["C4", "flag_time"]
    catchments = result.catchments[result.catchments["level"] == "primary"].set_index("school_id")
    assert catchments.loc["S1", "cells"] == 2 and catchments.loc["S3", "cells"] == 1
    attendance = result.attendance
    assert set(attendance["township_code"]) == {"210302001", "210303101"}


def test_reasons_for_every_scenario_year_and_level(found) -> None:
    """Every child is beyond the norm (see above); junior children of C4 have no place at all."""
    _, demand, result = found
    reasons = result.reasons.set_index(["scenario", "year", "level", "cell_id"])
    assert len(reasons) == 3 * 6 * (3 + 3)  # scenarios, years 2025-2030, cells of each level
    for scenario, year in {(s, y) for s, y, _, _ in reasons.index}:
        for cell in ("C1", "C2", "C4"):
            row = reasons.loc[(scenario, year, "primary", cell)]
            children = _children(demand, scenario, year, "primary", [cell])
            assert row["children"] == pytest.approx(children) and row["unserved"] == 0
            assert row["beyond_norm"] == pytest.approx(children)
        c4 = reasons.loc[(scenario, year, "junior", "C4")]
        children = _children(demand, scenario, year, "junior", ["C4"])
        assert c4["unserved"] == pytest.approx(children) and c4["beyond_norm"] == 0
        c1 = reasons.loc[(scenario, year, "junior", "C1")]
        assert c1["unserved"] == 0
        assert c1["beyond_norm"] == pytest.approx(
            _children(demand, scenario, year, "junior", ["C1"])
        )


def test_township_balance(found) -> None:
    study, demand, result = found
    balance = result.balance.set_index(["scenario", "year", "level", "township_code"])
    row = balance.loc[("medium", 2025, "primary", "210302001")]
    # Township 210302001 holds C1, C2 and S1 (400 primary places).
    children = _children(demand, "medium", 2025, "primary", ["C1", "C2"])
    assert row["children"] == pytest.approx(children)
    assert row["capacity"] == 400
    assert row["seat_shortfall"] == pytest.approx(children - 400)


def test_assignment_lines(found) -> None:
    _, _, result = found
    flows = result.flows
    primary = flows[(flows["level"] == "primary") & (flows["year"] == 2025)].set_index("cell_id")
    # C1's children go to S1: the line from C1's centre (2500, 2500) to S1 (4000, 4000) is
    # 2121.3 m long, and the travel cost is 1.3 times that.
    assert primary.loc["C1", "school_id"] == "S1"
    assert primary.loc["C1"].geometry.length == pytest.approx(math.hypot(1500, 1500), abs=0.05)
    assert primary.loc["C1", "metres"] == pytest.approx(1.3 * math.hypot(1500, 1500), rel=1e-4)


ACROSS = "\n[standards.service]\ncross_county_enrolment = true\n"


@pytest.mark.parametrize("s2_places", [400, 145])
def test_children_take_spare_places_across_the_border(tmp_path, s2_places) -> None:
    # With cross-county enrolment allowed, the junior children of C4 (210303) take places
    # S2 (210302) has left after its own county's children: all of them when S2 has 400
    # places; with 145, all in 2025 (C1 + C2 have 92.2 juniors, C4 13.9) but only the 5.6
    # spare places in 2030 (C1 + C2 139.4, C4 12.9).
    def places(frame):
        return frame.assign(capacity=frame["capacity"].where(frame["school_id"] != "S2", s2_places))

    toml = write_tiny_study(tmp_path, edit={"schools": places}, toml=TOML + ACROSS)
    result = PlanResult(study=study_from_toml(toml))
    for step in ("indicators", "demand", "access"):
        dict(STEPS)[step](result)
    demand, tables = result.demand, result.tables
    assert "border_arcs" not in tables and "border_unserved" not in tables
    seats = tables["border_seats"].set_index(["scenario", "year", "level"])
    summary = tables["access_summary"].set_index(["county_code", "scenario", "year", "level"])
    schools = tables["access_schools"].set_index(["scenario", "year", "level", "school_id"])
    for year in (2025, 2030):
        key = ("medium", year, "junior")
        own = _children(demand, *key, ["C1", "C2"])
        c4 = _children(demand, *key, ["C4"])
        spare = s2_places - own
        assert spare > 0 and (spare < c4) == (s2_places == 145 and year == 2030)
        row = seats.loc[[key]].iloc[0]
        assert (row["cell_id"], row["county_code"]) == ("C4", "210303")
        assert (row["school_id"], row["school_county_code"]) == ("S2", "210302")
        assert row["children"] == pytest.approx(min(c4, spare))
        # C4's centre (17.5, 2.5) km to S2 at (6, 6) km, straight line x 1.3; rural junior
        # pupils ride the school bus (the profile's mode) at 30 km/h, 500 m a minute.
        metres = math.hypot(11_500, 3_500) * 1.3
        assert row["metres"] == pytest.approx(metres, rel=1e-6)
        assert row["minutes"] == pytest.approx(metres / 500, rel=1e-6)
        c4_county = ("210303", *key)  # the summary is by county: C4 is in 210303
        assert summary.loc[c4_county, "unserved"] == pytest.approx(c4)
        assert summary.loc[c4_county, "across_border"] == pytest.approx(min(c4, spare))
        assert summary.loc[c4_county, "unserved_after_border"] == pytest.approx(max(c4 - spare, 0))
        assert summary.loc[("210302", *key), "across_border"] == 0
        assert schools.loc[(*key, "S2"), "load_across_border"] == pytest.approx(min(c4, spare))
        assert (summary.xs("primary", level="level")["across_border"] == 0).all()
    across = tables["access_summary"].groupby(["scenario", "year", "level"])["across_border"]
    seated = across.sum().loc[("medium", 2025, "junior")]
    assert f"; {seated:,.0f} of them can take spare places across a county border." in " ".join(
        findings(result, lang="en")
    )
