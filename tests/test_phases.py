"""Phased plans (layout.phases): the model against enumeration, and its rules on tiny counties."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from shapely.geometry import Point, box

from layout.cli import main
from layout.closure import close_schools
from layout.demand import study_demand
from layout.errors import ValidationError
from layout.land import check_parcels
from layout.phases import (
    Arcs,
    CountyInputs,
    Facilities,
    PhaseProblem,
    Rates,
    fewest_beyond,
    phased_plan,
    plan_actions,
    smallest_budget,
    solve_phases,
)
from layout.phases.evidence import CLOSURE_FIGURES
from layout.standards import load_profile
from layout.study import Study, study_from_toml
from tests.tinystudy import CRS, X0, Y0, write_tiny_study

if TYPE_CHECKING:
    from tests.browser import OfflinePage

CAP = 10


def _facilities(
    kind: list[str],
    classes: list[int],
    *,
    max_added: list[int] | None = None,
    class_cost: list[float] | None = None,
    sizes: list[tuple[int, ...]] | None = None,
    size_costs: list[tuple[float, ...]] | None = None,
    small: list[bool] | None = None,
) -> Facilities:
    n = len(kind)
    return Facilities(
        ids=tuple(f"F{i}" for i in range(n)),
        kind=tuple(kind),
        classes=np.array(classes, dtype=np.int64),
        max_added=np.array(max_added or [0] * n, dtype=np.int64),
        class_cost=np.array(class_cost or [0.0] * n),
        sizes=tuple(sizes or [()] * n),
        size_costs=tuple(size_costs or [()] * n),
        small=np.array(small or [False] * n),
        cap=np.full(n, CAP, dtype=np.int64),
        pupils_per_staff=np.full(n, 20.0),
        funding_per_pupil=np.full(n, 1.0),
    )


def _arcs(pairs: list[tuple[int, int, float]]) -> Arcs:
    g, f, c = (np.array(x) for x in zip(*pairs, strict=True))
    return Arcs(
        group=g.astype(np.int64),
        facility=f.astype(np.int64),
        mode=np.full(len(g), "walk"),
        cost=c.astype(float),
        minutes=c.astype(float) * 10,
    )


RATES = Rates(teacher_cost=10.0, teachers_per_class=0.0, floor_pupils=10)
"""Staff: 10 a post, 20 pupils a post (0.5 a pupil); funding 1 a pupil, 10 at a small school."""


def _tiny() -> PhaseProblem:
    """3 schools (A may add a class, C is small), 2 sites (P, Q), 3 groups, 3 years."""
    facilities = _facilities(
        ["school", "school", "school", "site", "site"],
        [2, 2, 1, 0, 0],
        max_added=[1, 0, 0, 0, 0],
        class_cost=[500.0, 0, 0, 0, 0],
        sizes=[(), (), (), (2,), (1,)],
        size_costs=[(), (), (), (60.0,), (300.0,)],
        small=[False, False, True, False, False],
    )
    arcs = _arcs(
        [
            (0, 0, 1.0), (0, 3, 0.5), (0, 1, 4.0),
            (1, 0, 2.0), (1, 1, 1.0),
            (2, 2, 0.5), (2, 1, 0.6), (2, 4, 0.8),
        ]
    )  # fmt: skip
    demand = np.array([[15.0, 25.0, 35.0], [20.0, 15.0, 10.0], [8.0, 5.0, 3.0]])
    return PhaseProblem(
        years=(2025, 2026, 2027),
        demand=demand,
        facilities=facilities,
        arcs=arcs,
        rates=RATES,
        near=np.array([[4, 2]]),
        discount_rate=0.1,
    )


def _year_cost(problem: PhaseProblem, t: int, capacity: np.ndarray, minimum: np.ndarray) -> float:
    """Cheapest seating of year ``t`` given each facility's places (0 = closed), by LP.

    Variables: the arcs' flows, then one funding variable per small facility (at least the
    per-pupil funding and the floor's); staff and per-pupil funding are linear in the flows.
    ``minimum`` is the fewest pupils each facility must seat (the idle-campus rule).
    """
    arcs, fac = problem.arcs, problem.facilities
    open_ = capacity > 0
    keep = open_[arcs.facility]
    if not keep.any():
        return np.inf
    small = np.flatnonzero(fac.small & open_)
    n_a = int(keep.sum())
    per_pupil = RATES.teacher_cost / fac.pupils_per_staff[arcs.facility[keep]]
    funding = np.where(fac.small[arcs.facility[keep]], 0.0, fac.funding_per_pupil[0])
    c = np.r_[arcs.cost[keep] + per_pupil + funding, np.ones(len(small))]
    groups, places = arcs.group[keep], arcs.facility[keep]
    a_eq = np.zeros((problem.demand.shape[0], n_a + len(small)))
    a_eq[groups, np.arange(n_a)] = 1.0
    rows, limits = [], []
    for f in np.flatnonzero(open_):
        at = np.r_[(places == f).astype(float), np.zeros(len(small))]
        rows += [at, -at]
        limits += [capacity[f], -minimum[f]]
    for k, f in enumerate(small):
        row = np.r_[(places == f) * fac.funding_per_pupil[f], np.zeros(len(small))]
        row[n_a + k] = -1.0
        rows.append(row)
        limits.append(0.0)
    bounds = [(0, None)] * n_a + [(fac.funding_per_pupil[f] * RATES.floor_pupils, None)
                                  for f in small]  # fmt: skip
    found = optimize.linprog(
        c, A_ub=np.array(rows), b_ub=np.array(limits), A_eq=a_eq, b_eq=problem.demand[:, t],
        bounds=bounds,
    )  # fmt: skip
    return float(found.fun) if found.status == 0 else np.inf


def _enumerated(problem: PhaseProblem) -> tuple[float, np.ndarray]:
    """Best plan by trying every closing year, building year and adding year."""
    fac, n_t = problem.facilities, len(problem.years)
    w = 1.1 ** -np.arange(n_t + 1.0)  # the discount factors at 10 %; never: no cost
    never = n_t
    best, best_open = np.inf, np.zeros(0)
    cache: dict[tuple[int, tuple[int, ...], tuple[float, ...]], float] = {}
    choices = [range(n_t + 1)] * len(fac) + [range(n_t + 1)]  # last: year school 0 adds
    for when in itertools.product(*choices):
        open_ = np.zeros((len(fac), n_t), dtype=bool)
        places = np.zeros((len(fac), n_t), dtype=np.int64)
        capital = 0.0
        for f, year in enumerate(when[:-1]):
            if fac.kind[f] == "school":
                open_[f, :year] = True
                places[f, :year] = fac.classes[f] * CAP
            elif year != never:
                open_[f, year:] = True
                places[f, year:] = fac.sizes[f][0] * CAP
                capital += fac.size_costs[f][0] * w[year]
        if when[-1] != never:
            places[0, when[-1] :] += CAP * open_[0, when[-1] :]
            capital += fac.class_cost[0] * w[when[-1]]
        minimum = np.zeros((len(fac), n_t))
        for site, other in problem.near:  # a class at the campus near a site built
            minimum[other, -1] = max(minimum[other, -1], CAP * open_[site, -1])
        total = capital
        for t in range(n_t):
            key = (t, tuple(places[:, t]), tuple(minimum[:, t]))
            if key not in cache:
                cache[key] = _year_cost(problem, t, places[:, t].astype(float), minimum[:, t])
            total += cache[key] * w[t]
        if total < best - 1e-7:
            best, best_open = total, open_
    return best, best_open


def test_tiny_county_optimum_matches_enumeration() -> None:
    problem = _tiny()
    plan = solve_phases(problem)
    best, best_open = _enumerated(problem)
    assert plan.objective == pytest.approx(best, rel=1e-9)
    assert plan.gap < 1e-6
    assert (plan.open == best_open).all()
    # not a trivial answer: site P is built at once, small school C merges in 2026
    assert plan.open[3].all() and plan.open[2].tolist() == [True, False, False]
    # capital and running cost of each year add up to the objective, discounted
    spent = (plan.capital + plan.running) @ problem.weights()
    assert spent == pytest.approx(plan.objective, rel=1e-9)


def _growing() -> PhaseProblem:
    """One school of 2 classes (20 places) near children growing 12, 16, 26, 30; a far site."""
    facilities = _facilities(
        ["school", "site"], [2, 0], sizes=[(), (2,)], size_costs=[(), (1000.0,)]
    )
    return PhaseProblem(
        years=(2025, 2026, 2027, 2028),
        demand=np.array([[12.0, 16.0, 26.0, 30.0]]),
        facilities=facilities,
        arcs=_arcs([(0, 0, 1.0), (0, 1, 2.0)]),
        rates=RATES,
    )


def test_growing_area_builds_in_the_year_demand_needs_it() -> None:
    plan = solve_phases(_growing())
    assert plan.open[1].tolist() == [False, False, True, True]  # 26 > 20 places in 2027
    assert plan.capital.tolist() == [0.0, 0.0, 1000.0, 0.0]
    # 2027: 20 at the school (cost 1), 6 at the site (cost 2)
    staff_and_funds = 0.5 + 1.0
    assert plan.running[2] == pytest.approx(20 * 1.0 + 6 * 2.0 + 26 * staff_and_funds)


def _declining() -> tuple[PhaseProblem, CountyInputs]:
    """Two small schools a group reaches, children falling 18, 12, 8; a site nobody needs."""
    facilities = _facilities(
        ["school", "school", "site"],
        [1, 1, 0],
        sizes=[(), (), (2,)],
        size_costs=[(), (), (500.0,)],
        small=[True, True, False],
    )
    problem = PhaseProblem(
        years=(2025, 2026, 2027),
        demand=np.array([[18.0, 12.0, 8.0]]),
        facilities=facilities,
        arcs=_arcs([(0, 0, 1.0), (0, 1, 1.5), (0, 2, 1.0)]),
        rates=RATES,
    )
    places = gpd.GeoDataFrame(
        {
            "facility_id": list(facilities.ids),
            "kind": list(facilities.kind),
            "source_id": list(facilities.ids),
            "name": ["A", "B", "P"],
            "parcel_id": ["", "", "P1"],
            "setting": "rural",
            "level": "primary",
            "pupils": [9.0, 9.0, 0.0],
        },
        geometry=[Point(0, 0), Point(500, 0), Point(0, 500)],
        crs="EPSG:4550",
    )
    groups = pd.DataFrame({"area": [0], "band": ["1-3"], "setting": ["rural"], "level": "primary"})
    return problem, CountyInputs(problem=problem, groups=groups, facilities=places)


def test_declining_area_merges_and_builds_nothing() -> None:
    problem, inputs = _declining()
    plan = solve_phases(problem)
    assert not plan.open[2].any()  # the site is never built
    assert plan.capital.sum() == 0.0
    # 10 places a school: 18 and 12 children need both; the 8 of 2027 fit in one
    assert plan.open[:2, :2].all()
    assert plan.open[:2, 2].sum() == 1
    actions = plan_actions(inputs, plan, load_profile())
    merges = actions[actions["action"] == "merge"]
    assert len(merges) == 1 and not (actions["action"] == "build").any()
    row = merges.iloc[0]
    assert int(row["year"]) == 2027
    t = problem.years.index(2027)
    closed = problem.facilities.ids.index(row["facility_id"])
    assert row["children"] == pytest.approx(plan.flow[problem.arcs.facility == closed, t - 1].sum())
    assert row["places_change"] == -CAP


def _idle() -> PhaseProblem:
    """A far school S of 3 classes, and a site P close to the children: moving is cheaper."""
    facilities = _facilities(
        ["school", "site"], [3, 0], sizes=[(), (3,)], size_costs=[(), (100.0,)], small=[True, False]
    )
    return PhaseProblem(
        years=(2025, 2026),
        demand=np.array([[20.0, 20.0]]),
        facilities=facilities,
        arcs=_arcs([(0, 0, 30.0), (0, 1, 1.0)]),
        rates=RATES,
    )


def test_no_new_building_within_reach_of_a_campus_left_idle() -> None:
    free = solve_phases(_idle())
    assert free.open[1].all() and not free.open[0].any()  # without the rule: move and close
    ruled = PhaseProblem(**{**_idle().__dict__, "near": np.array([[1, 0]])})
    plan = solve_phases(ruled)
    # built next to it, the school stays open with at least a class (10) of pupils
    assert plan.open[1, -1] and plan.open[0, -1]
    assert plan.flow[ruled.arcs.facility == 0, -1].sum() == pytest.approx(CAP)
    assert plan.objective > free.objective


def test_too_small_a_budget_names_the_smallest_feasible_one() -> None:
    problem = _growing()
    assert smallest_budget(problem) == 1000.0
    with pytest.raises(ValidationError, match=re.escape("smallest that is feasible is 1,000")):
        solve_phases(problem, budget=999.0)
    assert solve_phases(problem, budget=1000.0).capital.max() == 1000.0


def test_as_few_children_as_possible_are_seated_beyond_their_norm() -> None:
    """School A (1 class) is within the norm of 15 children; B, beyond it, is cheaper to reach."""
    arcs = _arcs([(0, 0, 1.0), (0, 1, 0.1)])
    arcs = Arcs(**{**arcs.__dict__, "mode": np.array(["walk", "beyond"])})
    problem = PhaseProblem(
        years=(2025, 2026),
        demand=np.array([[15.0, 15.0]]),
        facilities=_facilities(["school", "school"], [1, 2]),
        arcs=arcs,
        rates=RATES,
    )
    assert fewest_beyond(problem) == pytest.approx(10.0)  # 5 a year do not fit at A
    plan = solve_phases(problem)
    assert plan.flow[1].tolist() == pytest.approx([5.0, 5.0])


def test_children_beyond_every_facility_are_named() -> None:
    problem = _growing()
    lonely = PhaseProblem(**{**problem.__dict__, "demand": np.array([[1.0] * 4, [2.0] * 4])})
    with pytest.raises(ValidationError, match=r"demand groups \[1\] reach no school"):
        solve_phases(lonely)


# --------------------------------------------------------------------------- on a study


def _edited(folder: Path) -> Study:
    """The tiny study without S1 (its primary pupils need a new school), P1 moved to the middle
    of the urban county's cells with 12 classes, and a second small teaching point S4 500 m
    from S3."""

    def schools(frame: pd.DataFrame) -> pd.DataFrame:
        s4 = frame[frame["school_id"] == "S3"].assign(school_id="S4", name="教学点四", capacity=90)
        at = gpd.GeoSeries([Point(X0 + 15_500, Y0 + 5_000)], crs=CRS).to_crs(4490)
        s4 = s4.assign(lon=round(at.x.iloc[0], 7), lat=round(at.y.iloc[0], 7))
        s4 = s4.assign(enrolment_g1=6, enrolment_g2=4)
        return pd.concat([frame[frame["school_id"] != "S1"], s4], ignore_index=True)

    def parcels(frame: pd.DataFrame) -> pd.DataFrame:
        moved = box(X0 + 4_925, Y0 + 2_425, X0 + 5_075, Y0 + 2_575)
        frame.loc[frame["parcel_id"] == "P1", "planned_classes"] = 12
        return frame.set_geometry([moved, *frame.geometry.iloc[1:]], crs=CRS)

    return study_from_toml(
        write_tiny_study(folder, edit={"schools": schools, "reserved_land": parcels})
    )


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return _edited(tmp_path_factory.mktemp("phases"))


def test_a_parcel_built_has_the_places_and_verdict_of_the_land_check(edited: Study) -> None:
    plan = phased_plan(edited, county="210302", scenario="medium", areas=4)
    builds = plan.actions[plan.actions["action"] == "build"]
    assert builds["facility_id"].tolist() == ["parcel:P1"]  # nearer the children than the seat
    demand = study_demand(edited, scenarios=["medium"])
    land = check_parcels(
        edited["reserved_land"], schools=edited["schools"], demand=demand,
        townships=edited["townships"], profile=edited.standards, years=edited.plan_years,
    ).set_index("parcel_id")  # fmt: skip
    row = builds.iloc[0]
    assert row["places_change"] == land.at["P1", "primary_seats"] == 12 * 45
    assert bool(land.at["P1", "land_ok"]) and bool(land.at["P1", "overlap_ok"])
    assert row["land"] == "parcel P1 (land check passed)"
    # the capital: 12 classes x 45 pupils x 10 m2 a pupil (the 12-class 规划指标) x 3500 yuan
    assert row["capital_yuan"] == pytest.approx(12 * 45 * 10.0 * 3500.0)
    assert int(row["year"]) == 2025  # the primary children have no school before


def test_a_merge_carries_the_figures_of_the_closure_statement(edited: Study) -> None:
    plan = phased_plan(edited, county="210303", scenario="medium", areas=4)
    merges = plan.actions[plan.actions["action"] == "merge"]
    assert merges["facility_id"].tolist() == ["S3"]  # two small schools 500 m apart: one goes
    row = merges.iloc[0]
    assert row["children"] == 12.0  # S3's pupils in the schools layer (it closes at once)
    impact = close_schools(
        edited, school_ids=[row["facility_id"]], year=int(row["year"]), scenario="medium"
    )
    statement = impact.summary.set_index("level").loc["primary"]
    for name in CLOSURE_FIGURES:
        assert row[f"closure_{name}"] == statement[name] or (
            pd.isna(row[f"closure_{name}"]) and pd.isna(statement[name])
        ), name
    assert statement["verdict"] == "harmless" and statement["children_moved"] == 0.0


def test_bad_input_names_the_fix(edited: Study) -> None:
    with pytest.raises(ValidationError, match="low, medium, high|'low'"):
        phased_plan(edited, county="210302", scenario="fast")
    with pytest.raises(ValidationError, match="county '999999' has no cells"):
        phased_plan(edited, county="999999", scenario="medium")
    with pytest.raises(ValidationError, match="smallest that is feasible is"):
        phased_plan(edited, county="210302", scenario="medium", areas=4, budget=1.0)


def test_the_command_writes_out_phases_and_the_index_links_it(
    edited: Study, tmp_path: Path, offline_page: OfflinePage
) -> None:
    out, maps = tmp_path / "out", tmp_path / "maps"
    out.mkdir()
    marks = "<!-- outputs --><!-- /outputs -->"
    (out / "index.html").write_text(f"<html>{marks}</html>", encoding="utf-8")
    argv = ["phases", str(edited.path), "--county", "210302", "--areas", "4"]
    assert main([*argv, "--out", str(out), "--maps", str(maps), "--quiet"]) == 0
    written = sorted(p.name for p in (out / "phases").iterdir() if not p.name.startswith("."))
    assert written == ["phases.gpkg", "phases.xlsx", "timeline-210302.png"]
    actions = gpd.read_file(out / "phases" / "phases.gpkg", layer="phase_actions")
    assert "parcel:P1" in actions["facility_id"].tolist()
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "分期规划 layout phases" in page and 'href="phases/phases.xlsx"' in page
    assert 'href="../maps/phases-210302.html"' in page
    # The map's year slider shows the actions taken up to the chosen year, read in Chromium.
    offline_page.open(maps / "phases-210302.html")
    first, last = int(actions["year"].min()), int(actions["year"].max())
    for year in sorted({first, last, *edited.plan_years}):
        index = list(edited.plan_years).index(year)
        offline_page.page.eval_on_selector(
            "#layout-phase-slider",
            "(e, v) => { e.value = v; e.dispatchEvent(new Event('input')); }",
            index,
        )
        assert offline_page.page.inner_text("#layout-phase-year") == str(year)
        assert _shown_actions(offline_page) == int((actions["year"] <= year).sum()), year
    assert main([*argv, "--scenario", "fast", "--out", str(out), "--maps", str(maps)]) == 2


def _shown_actions(offline: OfflinePage) -> int:
    """Count the action markers on the map (features with a ``facility_id``)."""
    script = """() => { let n = 0;
      for (const key of Object.keys(window)) {
        const layer = window[key];
        if (layer instanceof L.GeoJSON) {
          layer.eachLayer(l => { if ('facility_id' in l.feature.properties) n += 1; });
        }
      }
      return n; }"""
    return int(offline.page.evaluate(script))
