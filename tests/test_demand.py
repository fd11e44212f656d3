"""Tests of the school-age demand projection: cohorts, scenarios, development yields, demand."""

from __future__ import annotations

import tomllib

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread
from shapely.geometry import Point, box
from sklearn.metrics import mean_absolute_error, mean_poisson_deviance

from layout.demand import (
    Scenario,
    YieldModel,
    YieldRates,
    default_scenarios,
    demand_totals,
    development_children,
    project_cohorts,
    project_demand,
    scenarios_from_toml,
)
from layout.errors import ValidationError
from layout.report import plot_county_demand
from layout.standards import load_profile

CRS = "EPSG:32651"
AGE_COLUMNS = [f"age_{a}" for a in range(15)]


def _cells(
    ages: dict[str, list[float]],
    *,
    settings: list[str],
    base_year: int = 2020,
    counties: list[str] | None = None,
    index: list[int] | None = None,
) -> gpd.GeoDataFrame:
    """Build population cells in a row of 500 m squares, with the given counts by age."""
    n = len(settings)
    columns = {f"age_{a}": ages.get(f"age_{a}", [0.0] * n) for a in range(15)}
    return gpd.GeoDataFrame(
        {
            "cell_id": [f"c{i}" for i in range(n)],
            "county_code": counties or ["210300"] * n,
            "township_code": [f"t{i}" for i in range(n)],
            "setting": settings,
            "year": [base_year] * n,
            **columns,
        },
        geometry=[box(500 * i, 0, 500 * (i + 1), 500) for i in range(n)],
        crs=CRS,
        index=index,
    )


def _phases(rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
    """Build a developments layer from dicts with a 'point' (x, y) entry."""
    table = pd.DataFrame(rows)
    points = [Point(*xy) for xy in table.pop("point")]
    return gpd.GeoDataFrame(table, geometry=points, crs=CRS)


PHASE = {
    "phase_id": "p1",
    "households": 300,
    "delivery_year": 2024,
    "status": "planned",
    "point": (250, 250),
}
"""A planned phase in the first cell of :func:`_cells`."""

STILL = Scenario(
    name="still", birth_rate={2020: 0.0}, survival=[1] * 15, net_migration={}, population_growth={}
)
"""No births, deaths or migration: children only grow older."""


# Two cells, hand-worked:
#   urban cell c0: age 0 = 100, age 5 = 200, age 11 = 50, age 14 = 30 (380 children)
#   rural cell c1: age 6 = 100, age 13 = 40 (140 children)
# survival 0.9 at age 0, 0.95 at age 5, 1 elsewhere; net migration urban +10% at every age,
# rural -50% at age 6 and -25% elsewhere; child share 0.2, so residents are 1900 and 700;
# population growth urban +10%, rural -50% a year; birth rate 5 per 1000 in 2020 and 7 in 2022
# (6 in 2021 by interpolation).
HAND_SCENARIO = Scenario(
    name="hand",
    birth_rate={2020: 5.0, 2022: 7.0},
    survival=[0.9, 1, 1, 1, 1, 0.95, *[1] * 9],
    net_migration={"urban": 0.1, "rural": [-0.25] * 6 + [-0.5] + [-0.25] * 8},
    population_growth={"urban": 0.1, "rural": -0.5},
    child_share=0.2,
)


def _hand_cells(*, index: list[int] | None = None) -> gpd.GeoDataFrame:
    return _cells(
        {
            "age_0": [100, 0],
            "age_5": [200, 0],
            "age_6": [0, 100],
            "age_11": [50, 0],
            "age_13": [0, 40],
            "age_14": [30, 0],
        },
        settings=["urban", "rural"],
        index=index,
    )


def test_cohort_ageing_two_cells_by_hand() -> None:
    """Two cells aged two years match the arithmetic worked by hand."""
    result = project_cohorts(_hand_cells(), scenario=HAND_SCENARIO, years=range(2020, 2023), entry_age=6)
    expected = np.zeros((3, 2, 9))
    # 2020 is the base year: grade g is age g + 5.
    expected[0, 0, 5] = 50  # urban age 11 -> grade 6
    expected[0, 0, 8] = 30  # urban age 14 -> grade 9
    expected[0, 1, 0] = 100  # rural age 6 -> grade 1
    expected[0, 1, 7] = 40  # rural age 13 -> grade 8
    # 2021, urban: age 5: 200 x 0.95 = 190 survive, x 1.1 = 209 now age 6 (grade 1);
    #              age 11: 50 x 1.1 = 55 now age 12 (grade 7).
    # 2021, rural: age 6: 100 x (1 - 0.5) = 50 now age 7 (grade 2);
    #              age 13: 40 x 0.75 = 30 now age 14 (grade 9).
    expected[1, 0, 0] = 209
    expected[1, 0, 6] = 55
    expected[1, 1, 1] = 50
    expected[1, 1, 8] = 30
    # 2022, urban: 209 x 1.1 = 229.9 (grade 2); 55 x 1.1 = 60.5 (grade 8).
    # 2022, rural: 50 x 0.75 = 37.5 (grade 3); the 30 aged 14 age out.
    expected[2, 0, 1] = 229.9
    expected[2, 0, 7] = 60.5
    expected[2, 1, 2] = 37.5
    np.testing.assert_allclose(result.children, expected, rtol=1e-12)
    np.testing.assert_allclose(result.level("primary")[2], [229.9, 37.5], rtol=1e-12)
    np.testing.assert_allclose(result.level("junior")[1], [55, 30], rtol=1e-12)

    # Ledger 2021: start 380 + 140 = 520.
    #   births: urban 6/1000 x 1900 x 1.1 = 12.54, rural 6/1000 x 700 x 0.5 = 2.1 -> 14.64
    #   deaths: urban age 0 100 x 0.1 = 10, age 5 200 x 0.05 = 10 -> 20
    #   net migration: urban +10% of survivors 90 + 190 + 50 + 30 = 36; rural -50 - 10 = -60
    #   aged out: urban age 14: 30 x 1.1 = 33
    #   end: 520 + 14.64 - 20 - 24 - 33 = 457.64
    # Ledger 2022: start 457.64.
    #   births: urban 7/1000 x 1900 x 1.21 = 16.093, rural 7/1000 x 700 x 0.25 = 1.225
    #   deaths: urban 12.54 x 0.1 = 1.254, rural 2.1 x 0.1 = 0.21 -> 1.464
    #   net migration: urban 0.1 x (11.286 + 99 + 209 + 55) = 37.4286,
    #                  rural -0.25 x (1.89 + 50 + 30) = -20.4725 -> 16.9561
    #   aged out: rural age 14: 30 x 0.75 = 22.5
    #   end: 457.64 + 17.318 - 1.464 + 16.9561 - 22.5 = 467.9501
    ledger = result.ledger.set_index("year")
    np.testing.assert_allclose(
        ledger.loc[
            2021, ["start", "births", "deaths", "net_migration", "aged_out", "end"]
        ].to_numpy(dtype=float),
        [520, 14.64, 20, -24, 33, 457.64],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        ledger.loc[
            2022, ["start", "births", "deaths", "net_migration", "aged_out", "end"]
        ].to_numpy(dtype=float),
        [457.64, 17.318, 1.464, 16.9561, 22.5, 467.9501],
        rtol=1e-12,
    )
    assert ledger["scenario"].tolist() == ["hand", "hand"]


def test_entry_age_shifts_grades() -> None:
    """Grades follow the entry age."""
    # Entry age 5: grade 1 is age 5, so in the base year urban grade 1 = 200 (age 5),
    # rural grade 2 = 100 (age 6), urban grade 7 = 50 (age 11), rural grade 9 = 40 (age 13).
    result = project_cohorts(_hand_cells(), scenario=HAND_SCENARIO, years=[2020], entry_age=5)
    assert result.children[0, 0].tolist() == [200, 0, 0, 0, 0, 0, 50, 0, 0]
    assert result.children[0, 1].tolist() == [0, 100, 0, 0, 0, 0, 0, 0, 40]


def test_entry_age_7_worked_by_hand() -> None:
    """Entry age 7 (some counties' rule): grade 1 is age 7 and grade 9 is age 15.

    The hand cells plus 20 urban and 10 rural children aged 15. Base year 2020: urban grade 5 =
    50 (age 11), grade 8 = 30 (age 14), grade 9 = 20 (age 15); rural grade 7 = 40 (age 13),
    grade 9 = 10; the 100 rural six-year-olds are not at school yet. One year on, urban x 1.1 (migration) and
    rural x 0.75 (x 0.5 at age 6): urban age 12 = 50 x 1.1 = 55 (grade 6), age 15 = 30 x 1.1 =
    33 (grade 9), the 209 urban six-year-olds (200 x 0.95 x 1.1) not yet at school; rural age
    7 = 100 x 0.5 = 50 (grade 1), age 14 = 40 x 0.75 = 30 (grade 8). The fifteen-year-olds
    leave at the rates of age 14: 20 x 1.1 + 10 x 0.75 = 29.5 aged out.
    """
    cells = _hand_cells().assign(age_15=[20, 10])
    result = project_cohorts(cells, scenario=HAND_SCENARIO, years=[2020, 2021], entry_age=7)
    assert result.children[0].tolist() == [
        [0, 0, 0, 0, 50, 0, 0, 30, 20],
        [0, 0, 0, 0, 0, 0, 40, 0, 10],
    ]
    np.testing.assert_allclose(
        result.children[1], [[0, 0, 0, 0, 0, 55, 0, 0, 33], [50, 0, 0, 0, 0, 0, 0, 30, 0]]
    )
    assert result.ledger["aged_out"].tolist() == pytest.approx([29.5])
    # the same cells at entry age 6: the 209 six-year-olds are in grade 1, nobody is aged 15
    six = project_cohorts(cells.drop(columns="age_15"), scenario=HAND_SCENARIO, years=[2021], entry_age=6)
    assert six.children[0, 0, 0] == pytest.approx(209)


def test_entry_age_7_needs_the_age_15_column() -> None:
    with pytest.raises(ValidationError) as info:
        project_cohorts(_hand_cells(), scenario=HAND_SCENARIO, years=[2021], entry_age=7)
    assert str(info.value) == (
        "population: entry_age 7 puts grade 9 at age 15, past the layer's ages 0-14: add "
        "column(s) ['age_15'] (children of that age in the base year), or set [standards] "
        "enrolment.entry_age to 6 or less"
    )


def test_to_frame_keeps_the_population_index() -> None:
    """Per-cell tables keep the population's index."""
    result = project_cohorts(_hand_cells(index=[10, 20]), scenario=HAND_SCENARIO, years=[2021], entry_age=6)
    frame = result.to_frame(2021)
    assert frame.index.tolist() == [10, 20]
    assert frame["cell_id"].tolist() == ["c0", "c1"]
    # 2021 from the hand-worked test: urban primary 209, junior 55; rural 50 and 30.
    np.testing.assert_allclose(frame["primary"], [209, 50], rtol=1e-12)
    np.testing.assert_allclose(frame["junior"], [55, 30], rtol=1e-12)


def test_ledger_conserves_children_every_year() -> None:
    """Children in = children out + deaths + net migration + births - ageing out."""
    rng = np.random.default_rng(3)
    n = 300
    cells = _cells(
        {c: rng.integers(0, 60, n).astype(float).tolist() for c in AGE_COLUMNS},
        settings=rng.choice(["urban", "rural"], n).tolist(),
        counties=rng.choice(["210381", "210321"], n).tolist(),
    )
    scenario = Scenario(
        name="mixed",
        net_migration={
            "urban": 0.02,
            "rural": (np.linspace(-0.05, 0.01, 15)).tolist(),
            "210321": -0.03,
        },
        population_growth={"all": -0.01, "rural": -0.02},
    )
    result = project_cohorts(cells, scenario=scenario, years=range(2021, 2031), entry_age=6)
    ledger = result.ledger
    assert ledger["year"].tolist() == list(range(2021, 2031))
    balance = (
        ledger["start"]
        + ledger["births"]
        - ledger["deaths"]
        + ledger["net_migration"]
        - ledger["aged_out"]
    )
    np.testing.assert_allclose(balance, ledger["end"], rtol=1e-12)
    # Each year starts where the last ended, and the first from the input's own total.
    np.testing.assert_allclose(ledger["start"].iloc[1:], ledger["end"].iloc[:-1], rtol=1e-12)
    assert ledger["start"].iloc[0] == pytest.approx(cells[AGE_COLUMNS].to_numpy().sum())
    # Births of 2021, worked independently: 4.33 per 1000 x residents (children / 0.1112)
    # x (1 - growth), growth -2% in rural cells and -1% in urban ones.
    growth = np.where(cells["setting"] == "rural", 0.98, 0.99)
    residents = cells[AGE_COLUMNS].to_numpy().sum(axis=1) / 0.1112
    assert ledger["births"].iloc[0] == pytest.approx((4.33 / 1000 * residents * growth).sum())
    # School-age children are part of all children.
    assert (result.children.sum(axis=(1, 2)) < ledger["end"].to_numpy()).all()


def test_rates_by_county_beat_setting_and_all() -> None:
    """A county's rate beats its setting's, which beats 'all'."""
    # Three rural cells with 100 children aged 6; survival 1; migration all -10%,
    # rural -20%, county B -50%: grade 2 next year is 80, 80, 50.
    cells = _cells({"age_6": [100, 100, 100]}, settings=["rural"] * 3, counties=["A", "A", "B"])
    scenario = Scenario(
        name="keys", survival=[1] * 15, net_migration={"B": -0.5, "all": -0.1, "rural": -0.2}
    )
    result = project_cohorts(cells, scenario=scenario, years=[2021], entry_age=6)
    np.testing.assert_allclose(result.children[0, :, 1], [80, 80, 50])


def test_occupancy_ramp_of_one_development() -> None:
    """One development's children follow the occupancy ramp."""
    phase = _phases([{**PHASE, "households": 500, "delivery_year": 2022, "point": (750, 250)}])
    table = development_children(phase, years=range(2021, 2027), base_year=2020, yield_model=YieldModel())
    grade1 = table[table["grade"] == 1].set_index("year")["children"]
    grade7 = table[table["grade"] == 7].set_index("year")["children"]
    # Primary 500 households x occupancy x 0.18 over 6 grades; junior x 0.09 over 3 grades:
    # both 500 x occupancy x 0.03 per grade. Occupancy 0 in 2021, then 0.4, 0.7, 0.9, 1, 1:
    # 0, 6, 10.5, 13.5, 15, 15.
    np.testing.assert_allclose(grade1, [0, 6, 10.5, 13.5, 15, 15], rtol=1e-12)
    np.testing.assert_allclose(grade7, [0, 6, 10.5, 13.5, 15, 15], rtol=1e-12)
    assert table["occupancy"].unique().tolist() == [0, 0.4, 0.7, 0.9, 1]

    # Own rates and ramp: 200 households, 0.3 primary and 0.12 junior per household,
    # occupancy 50% in 2022 then 100%: primary 200 x 0.5 x 0.3 / 6 = 5 per grade, then 10;
    # junior 200 x 0.5 x 0.12 / 3 = 4 per grade, then 8.
    own = YieldModel(defaults=YieldRates(primary=0.3, junior=0.12, occupancy_ramp=(0.5, 1.0)))
    small = phase.assign(households=200)
    table = development_children(small, years=[2022, 2023], base_year=2020, yield_model=own)
    by_grade = table.pivot(index="year", columns="grade", values="children")
    np.testing.assert_allclose(by_grade.loc[2022], [5] * 6 + [4] * 3, rtol=1e-12)
    np.testing.assert_allclose(by_grade.loc[2023], [10] * 6 + [8] * 3, rtol=1e-12)


def test_per_thousand_residents_rates() -> None:
    """Per-1000-resident indicators convert to per-household yields."""
    # 80 and 40 places per 1000 residents x 2.25 persons per household = 0.18 and 0.09.
    ramp = (0.4, 0.7, 0.9, 1.0)
    rates = YieldRates.per_thousand_residents(
        primary=80, junior=40, persons_per_household=2.25, occupancy_ramp=ramp
    )
    assert (rates.primary, rates.junior) == pytest.approx((0.18, 0.09))
    default = YieldRates.from_profile(load_profile())
    assert (default.primary, default.junior) == pytest.approx((0.18, 0.09))
    # 100 and 50 per 1000 with 3 persons per household: 0.3 and 0.15.
    rates = YieldRates.per_thousand_residents(
        primary=100, junior=50, persons_per_household=3, occupancy_ramp=ramp
    )
    assert (rates.primary, rates.junior) == pytest.approx((0.3, 0.15))
    # A profile override of the household size and the norms: 90 x 3 / 1000 = 0.27 and
    # 30 x 3 / 1000 = 0.09, the ramp (0.5, 1.0) kept.
    yields = {"persons_per_household": 3.0, "primary_places_per_1000": 90.0,
              "junior_places_per_1000": 30.0, "occupancy_ramp": [0.5, 1.0]}  # fmt: skip
    own = YieldRates.from_profile(load_profile(overrides={"yields": yields}))
    assert (own.primary, own.junior) == pytest.approx((0.27, 0.09))
    assert own.occupancy_ramp == (0.5, 1.0)


def test_development_children_join_their_cell() -> None:
    """Development children are added to the cell holding the phase."""
    cells = _cells({"age_6": [10, 0]}, settings=["urban", "rural"])
    phase = _phases(
        [
            {**PHASE, "households": 500, "delivery_year": 2022, "point": (750, 250)},
            {
                **PHASE,
                "phase_id": "old",
                "delivery_year": 2018,
                "status": "completed",
                "point": (9999, 9999),
            },
        ]
    )
    before = (cells.copy(), phase.copy())
    demand = project_demand(cells, phase, scenarios=[STILL], years=range(2021, 2024), yield_model=YieldModel(), entry_age=6)
    pd.testing.assert_frame_equal(cells, before[0])
    pd.testing.assert_frame_equal(phase, before[1])
    # 1 scenario x 3 years x 2 cells x 9 grades.
    assert len(demand) == 54
    grade1 = demand[demand["grade"] == 1].pivot(index="year", columns="cell_id", values="children")
    # Cell c0: 10 children aged 6 in 2020 are in grade 2 in 2021, so grade 1 is empty.
    # Cell c1 holds phase p1 (the completed phase 'old' is already in the base counts):
    # 500 x (0, 0.4, 0.7) x 0.03 = 0, 6, 10.5 per grade.
    np.testing.assert_allclose(grade1["c0"], [0, 0, 0])
    np.testing.assert_allclose(grade1["c1"], [0, 6, 10.5], rtol=1e-12)
    grade2 = demand[(demand["grade"] == 2) & (demand["cell_id"] == "c0")]
    np.testing.assert_allclose(grade2["children"], [10, 0, 0])
    np.testing.assert_allclose(grade2["from_developments"], [0, 0, 0])
    c1 = demand[demand["cell_id"] == "c1"]
    np.testing.assert_allclose(c1["children"], c1["from_developments"])
    assert demand.crs == cells.crs
    assert demand.geometry[demand["cell_id"] == "c1"].geom_equals(cells.geometry.iloc[1]).all()
    assert demand["level"].tolist()[:9] == ["primary"] * 6 + ["junior"] * 3


def test_demand_totals_by_county_and_scenario() -> None:
    """County totals by scenario and level."""
    # Two counties; survival 1, no births, no migration. In 2021 the 7 children aged 5 in A
    # and 3 in B are in grade 1, and the 4 aged 11 in A are in grade 7.
    cells = _cells(
        {"age_5": [5, 2, 3], "age_11": [4, 0, 0]}, settings=["urban"] * 3, counties=["A", "A", "B"]
    )
    shrink = Scenario(
        name="shrink",
        birth_rate={2020: 0.0},
        survival=[1] * 15,
        net_migration={"all": -0.5},
        population_growth={},
    )
    empty = _phases(
        [
            {
                "phase_id": "x",
                "households": 1,
                "delivery_year": 2015,
                "status": "completed",
                "point": (0, 0),
            }
        ]
    )
    demand = project_demand(cells, empty, scenarios=[STILL, shrink], years=[2021], yield_model=YieldModel(), entry_age=6)
    totals = demand_totals(demand)
    assert totals.columns.tolist() == [
        "county_code",
        "scenario",
        "year",
        "level",
        "children",
        "from_developments",
    ]
    got = totals.set_index(["county_code", "scenario", "level"])["children"]
    assert got[("A", "still", "primary")] == pytest.approx(7)
    assert got[("A", "still", "junior")] == pytest.approx(4)
    assert got[("B", "still", "primary")] == pytest.approx(3)
    assert got[("A", "shrink", "primary")] == pytest.approx(3.5)
    assert got[("B", "shrink", "junior")] == pytest.approx(0)


def test_plot_county_demand_writes_png(tmp_path) -> None:
    """The county chart is written as a PNG of the asked size."""
    totals = pd.DataFrame(
        {
            "county_code": ["A"] * 8,
            "township_code": ["t1", "t2"] * 4,
            "scenario": ["low"] * 4 + ["high"] * 4,
            "year": [2021, 2021, 2022, 2022] * 2,
            "level": ["primary", "junior"] * 4,
            "children": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        }
    )
    path = plot_county_demand(totals, tmp_path / "a.png", county_code="A", dpi=50)
    image = imread(path)
    assert image.shape[:2] == (200, 500)  # 10 x 4 inches at 50 dpi
    with pytest.raises(ValidationError, match="county_code 'Z' has no rows; choose one of"):
        plot_county_demand(totals, tmp_path / "z.png", county_code="Z")


def _completed_phases(rng: np.random.Generator, n: int, *, rate) -> pd.DataFrame:
    """Completed phases observed in 2020 with Poisson enrolment at the given rate function."""
    unit = rng.uniform(60, 140, n)
    price = rng.uniform(0.6, 1.6, n)
    delivery = rng.integers(2008, 2020, n)
    households = rng.integers(200, 1200, n)
    exposure = households * YieldRates.from_profile(load_profile()).occupancy(2020 - delivery)
    return pd.DataFrame(
        {
            "phase_id": [f"p{i}" for i in range(n)],
            "households": households,
            "delivery_year": delivery,
            "status": "completed",
            "mean_unit_m2": unit,
            "price_index": price,
            "enrolled_primary": rng.poisson(exposure * rate(unit, price, 2020 - delivery, 0.15)),
            "enrolled_junior": rng.poisson(exposure * rate(unit, price, 2020 - delivery, 0.07)),
        }
    )


def _true_rate(unit, price, years_since, base):
    return base * np.exp(0.006 * (unit - 100) - 0.4 * (price - 1) + 0.03 * (years_since - 5))


def test_yield_model_recovers_known_rates() -> None:
    """Rates fitted to data generated with known rates recover them."""
    rng = np.random.default_rng(11)
    phases = _completed_phases(rng, 400, rate=_true_rate)
    model = YieldModel().fit(phases, observed_year=2020)
    assert model.report["source"].tolist() == ["fitted", "fitted"]
    assert (model.report["cv_deviance"] < model.report["default_deviance"]).all()
    assert (model.report["cv_mae"] < model.report["default_mae"]).all()
    # The default metrics, checked with scikit-learn's own functions.
    exposure = phases["households"] * YieldRates.from_profile(load_profile()).occupancy(2020 - phases["delivery_year"])
    assert model.report.loc["primary", "default_deviance"] == pytest.approx(
        mean_poisson_deviance(phases["enrolled_primary"], exposure * 0.18)
    )
    assert model.report.loc["junior", "default_mae"] == pytest.approx(
        mean_absolute_error(phases["enrolled_junior"], exposure * 0.09)
    )
    # About 17,000 junior children in the sample: the fitted log-rate at points inside the
    # data has a standard error near sqrt(4 / 17000) = 1.5%, so 6% is about 4 errors.
    new = pd.DataFrame(
        {"phase_id": ["a", "b"], "mean_unit_m2": [80.0, 120.0], "price_index": [0.8, 1.4]}
    )
    years_since = np.array([[3, 6, 9], [3, 6, 9]])
    rates = model.rates(new, years_since_delivery=years_since)
    unit, price = new["mean_unit_m2"].to_numpy()[:, None], new["price_index"].to_numpy()[:, None]
    np.testing.assert_allclose(rates[..., 0], _true_rate(unit, price, years_since, 0.15), rtol=0.06)
    np.testing.assert_allclose(rates[..., 1], _true_rate(unit, price, years_since, 0.07), rtol=0.06)


def test_yield_model_falls_back_to_defaults() -> None:
    """Too few phases, or a fit no better than the defaults, keeps the defaults."""
    rng = np.random.default_rng(5)
    few = _completed_phases(rng, 9, rate=_true_rate)
    model = YieldModel().fit(few, observed_year=2020)
    assert model.report["source"].tolist() == ["default", "default"]
    assert "9 completed phases" in model.report.loc["primary", "reason"]
    assert model.rates(few, years_since_delivery=np.zeros((9, 1)))[0, 0].tolist() == [0.18, 0.09]

    # Enrolment drawn at exactly the default rates: the features carry no signal, the
    # cross-validated fit is worse than the defaults, and the defaults stay.
    def flat(unit, price, years_since, base):
        return np.full(len(unit), {0.15: 0.18, 0.07: 0.09}[base])

    model = YieldModel().fit(_completed_phases(rng, 40, rate=flat), observed_year=2020)
    report = model.report
    assert (report["cv_deviance"] >= report["default_deviance"]).all()
    assert report["source"].tolist() == ["default", "default"]


def test_scenarios_from_toml() -> None:
    """Scenarios parse from TOML; left-out keys take the medium defaults."""
    text = """
    [scenarios.low]
    birth_rate = {2021 = 4.33, 2022 = 3.65, 2030 = 2.9}
    net_migration = {urban = 0.0, rural = -0.02}
    population_growth = -0.015

    [scenarios.medium]
    description = "flat after 2022"
    """
    low, medium = scenarios_from_toml(tomllib.loads(text)["scenarios"])
    assert low.birth_rate == {2021: 4.33, 2022: 3.65, 2030: 2.9}
    # 2026 lies halfway between 2022 (3.65) and 2030 (2.9): 3.275.
    assert low.birth_rate_in([2026])[0] == pytest.approx(3.275)
    assert low.population_growth == {"all": -0.015}
    assert low.net_migration["rural"] == (-0.02,) * 15
    assert medium == Scenario(name="medium", description="flat after 2022")
    assert [s.name for s in default_scenarios()] == ["low", "medium", "high"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "the \\[scenarios\\] table is empty"),
        ({"low": 3}, "scenario 'low': \\[scenarios.low\\] must be a table"),
        ({"low": {"births": 4}}, "scenario 'low': unknown key\\(s\\) 'births'; allowed keys"),
        ({"low": {"survival": "high"}}, "scenario 'low': key 'survival' must be a list of 15"),
        (
            {"low": {"survival": [1] * 14 + [1.2]}},
            "scenario 'low': key 'survival' is outside \\[0, 1\\] at age 14: 1.2",
        ),
        (
            {"high": {"survival": [-0.1] + [1] * 14}},
            "scenario 'high': key 'survival' is outside \\[0, 1\\] at age 0: -0.1",
        ),
        ({"low": {"birth_rate": 4.3}}, "scenario 'low': key 'birth_rate' must be a non-empty"),
        ({"low": {"birth_rate": {"soon": 4.3}}}, "scenario 'low': key 'birth_rate' has 'soon'"),
        ({"low": {"child_share": 0}}, "scenario 'low': key 'child_share' must be a number"),
        (
            {"low": {"net_migration": {"rural": -1.5}}},
            "scenario 'low': key 'net_migration', entry 'rural': rate -1.5 is too low",
        ),
        (
            {"low": {"net_migration": {"rural": [0.1, 0.2]}}},
            "scenario 'low': key 'net_migration', entry 'rural': must be a number or 15",
        ),
        (
            {"low": {"population_growth": {"all": "none"}}},
            "scenario 'low': key 'population_growth', entry 'all': must be a number",
        ),
        ({"low": {"description": 5}}, "scenario 'low': key 'description' must be text"),
    ],
)
def test_scenario_errors_name_scenario_and_key(table, message) -> None:
    """Each scenario error names the scenario and key."""
    with pytest.raises(ValidationError, match=message):
        scenarios_from_toml(table)


def test_scenario_errors_are_collected() -> None:
    """All scenario problems are reported at once."""
    with pytest.raises(ValidationError) as caught:
        scenarios_from_toml({"a": {"foo": 1, "child_share": 2}, "b": {"survival": [2] * 15}})
    assert len(caught.value.problems) == 3


def _bad_population_message(change) -> str:
    cells = change(_hand_cells())
    with pytest.raises(ValidationError) as caught:
        project_cohorts(cells, scenario=HAND_SCENARIO, years=[2021], entry_age=6)
    return str(caught.value)


def test_bad_population_rows_are_named() -> None:
    """Bad population rows are named in the error."""
    message = _bad_population_message(lambda c: c.drop(columns=["age_7", "age_9"]))
    assert "missing required column(s) 'age_7', 'age_9'" in message

    def put(row, column, value):
        def change(cells):
            cells = cells.copy()
            cells.loc[row, column] = value
            return cells

        return change

    message = _bad_population_message(put(1, "age_3", -2))
    assert "column 'age_3': negative value in cell_id c1 (1 row)" in message
    message = _bad_population_message(put(0, "age_4", np.nan))
    assert "column 'age_4': missing or non-numeric value in cell_id c0 (1 row)" in message
    duplicated = _bad_population_message(put(1, "cell_id", "c0"))
    assert "column 'cell_id': duplicated id in cell_id c0, c0 (2 rows)" in duplicated
    message = _bad_population_message(put(1, "year", 2019))
    assert (
        "one base year for all cells; found 2019 in cell_id c1 (1 row); 2020 in cell_id c0 (1 row);"
        in message
    )
    message = _bad_population_message(put(0, "setting", "suburb"))
    assert (
        "column 'setting': value not allowed in cell_id c0 (1 row). Fix: use one of urban, rural"
        in message
    )


def test_bad_options_are_refused() -> None:
    """Out-of-range options are refused with the fix."""
    cells = _hand_cells()
    with pytest.raises(ValidationError, match="years \\[2019\\] are before the population's base"):
        project_cohorts(cells, scenario=HAND_SCENARIO, years=[2019, 2021], entry_age=6)
    with pytest.raises(ValidationError, match="years must be a non-empty list"):
        project_cohorts(cells, scenario=HAND_SCENARIO, years=[], entry_age=6)
    with pytest.raises(ValidationError, match="entry_age must be a whole number from 0 to 7"):
        project_cohorts(cells, scenario=HAND_SCENARIO, years=[2021], entry_age=8)
    with pytest.raises(ValidationError, match="names \\['hand'\\] are used more than once"):
        project_demand(
            cells, _phases([PHASE]), scenarios=[HAND_SCENARIO, HAND_SCENARIO], years=[2021]
        , yield_model=YieldModel(), entry_age=6)


def _demand_error(rows: list[dict[str, object]], change=lambda phases: phases) -> str:
    cells = _cells({"age_6": [10, 10]}, settings=["urban", "rural"])
    phases = change(_phases(rows))
    with pytest.raises(ValidationError) as caught:
        project_demand(cells, phases, scenarios=default_scenarios(), years=range(2021, 2031), yield_model=YieldModel(), entry_age=6)
    return str(caught.value)


def test_bad_development_rows_are_named() -> None:
    """Bad development phases are named in the error."""
    late = _demand_error([PHASE, {**PHASE, "phase_id": "p9", "delivery_year": 2032}])
    assert "delivery year after the plan period 2021-2030 in phase_id p9 (1 row)." in late
    stale = _demand_error([{**PHASE, "status": "under_construction", "delivery_year": 2019}])
    assert (
        "phase not completed but delivered in the base year 2020 or earlier in phase_id p1 "
        "(1 row)" in stale
    )
    outside = _demand_error([PHASE, {**PHASE, "phase_id": "far", "point": (5000, 5000)}])
    assert "outside every population cell in phase_id far (1 row);" in outside
    reprojected = _demand_error([PHASE], lambda phases: phases.to_crs("EPSG:4326"))
    assert "CRS EPSG:4326 differs from the population's" in reprojected
    twice = _demand_error([PHASE, PHASE])
    assert "column 'phase_id': duplicated id in phase_id p1, p1 (2 rows)" in twice
    negative = _demand_error([{**PHASE, "households": -5}])
    assert "column 'households': negative value in phase_id p1 (1 row)" in negative
    status = _demand_error([{**PHASE, "status": "dreamt"}])
    assert "column 'status': value not allowed in phase_id p1 (1 row)" in status
    missing = _demand_error([PHASE], lambda phases: phases.drop(columns=["households"]))
    assert "missing required column(s) 'households'" in missing


def test_yield_model_input_errors_name_phases() -> None:
    """Yield-model input errors name the phases."""
    rng = np.random.default_rng(2)
    phases = _completed_phases(rng, 12, rate=_true_rate)
    early = phases.assign(delivery_year=phases["delivery_year"].where(phases.index != 3, 2023))
    with pytest.raises(
        ValidationError, match=r"enrolment year 2020 in completed phase_id p3 \(1 row\)"
    ):
        YieldModel().fit(early, observed_year=2020)
    blank = phases.assign(price_index=phases["price_index"].where(phases.index != 4))
    with pytest.raises(
        ValidationError, match=r"feature 'price_index' is empty .* phase_id p4 \(1 row\)"
    ):
        YieldModel().fit(blank, observed_year=2020)
    with pytest.raises(ValidationError, match="column 'price_index' is missing"):
        YieldModel().fit(phases.drop(columns=["price_index"]), observed_year=2020)
    # Without the price feature the same table fits.
    fitted = YieldModel(features=("mean_unit_m2", "years_since_delivery"))
    assert fitted.fit(blank, observed_year=2020).report["n_developments"].tolist() == [12, 12]
    with pytest.raises(
        ValidationError, match=r"column 'enrolled_junior': negative value in phase_id p0, p1, "
    ):
        YieldModel().fit(phases.assign(enrolled_junior=-1), observed_year=2020)


def test_demand_rows_match_the_cohort_projection() -> None:
    """Without new phases, each scenario's rows hold the cohort projection cell by cell."""
    rng = np.random.default_rng(8)
    cells = _cells(
        {c: rng.integers(0, 30, 5).astype(float).tolist() for c in AGE_COLUMNS},
        settings=["urban", "rural", "urban", "rural", "rural"],
    )
    no_phases = _phases([PHASE]).iloc[:0]
    scenarios = default_scenarios()
    demand = project_demand(cells, no_phases, scenarios=scenarios, years=[2022, 2025], yield_model=YieldModel(), entry_age=6)
    assert len(demand) == 3 * 2 * 5 * 9
    assert (demand["from_developments"] == 0).all()
    for scenario in scenarios:
        expected = project_cohorts(cells, scenario=scenario, years=[2022, 2025], entry_age=6).children
        rows = demand[demand["scenario"] == scenario.name]
        got = rows.pivot_table(index=["year", "cell_id"], columns="grade", values="children")
        np.testing.assert_allclose(got.to_numpy().reshape(expected.shape), expected, rtol=1e-12)


def test_fitted_yields_feed_development_children() -> None:
    """A planned phase's children use the fitted rates; phases lacking a feature are named."""
    rng = np.random.default_rng(4)
    model = YieldModel().fit(_completed_phases(rng, 60, rate=_true_rate), observed_year=2020)
    assert model.report["source"].tolist() == ["fitted", "fitted"]
    planned = pd.DataFrame(
        {
            "phase_id": ["new"],
            "households": [800],
            "delivery_year": [2023],
            "status": ["planned"],
            "mean_unit_m2": [110.0],
            "price_index": [1.2],
        }
    )
    table = development_children(planned, years=[2023, 2026], base_year=2020, yield_model=model)
    totals = table.groupby(["year", "level"])["children"].sum()
    # Occupancy 0.4 in 2023 (delivery year) and 1 in 2026 (three years on).
    rates = model.rates(planned, years_since_delivery=np.array([[0, 3]]))[0]
    assert totals[(2023, "primary")] == pytest.approx(800 * 0.4 * rates[0, 0])
    assert totals[(2026, "junior")] == pytest.approx(800 * 1.0 * rates[1, 1])
    assert development_children(
        planned.iloc[:0], years=[2023], base_year=2020, yield_model=model
    ).empty
    with pytest.raises(
        ValidationError, match=r"feature 'price_index' is empty .* phase_id new \(1 row\)"
    ):
        development_children(
            planned.assign(price_index=np.nan), years=[2023], base_year=2020, yield_model=model
        )


def test_yield_model_without_attributes_and_data_keeps_defaults() -> None:
    """Planned phases only, no attribute columns: nothing to fit, the defaults stay."""
    phases = pd.DataFrame(
        {"phase_id": ["a"], "households": [100], "delivery_year": [2026], "status": ["planned"]}
    )
    model = YieldModel().fit(phases, observed_year=2024)
    assert model.report["source"].tolist() == ["default", "default"]
    assert model.report["n_developments"].tolist() == [0, 0]


def test_a_study_sets_the_household_size_of_its_developments(tmp_path) -> None:
    """The study's [standards.yields] reaches the demand of every command (study_demand)."""
    from layout.demand import study_demand
    from layout.study import study_from_toml
    from tests.tinystudy import TOML, write_tiny_study

    bigger = TOML + "\n[standards.yields]\npersons_per_household = 4.5\n"
    totals = []
    for name, toml in (("default", TOML), ("bigger", bigger)):
        study = study_from_toml(write_tiny_study(tmp_path / name, toml=toml))
        demand = study_demand(study, scenarios=["medium"], years=[2030])
        totals.append(demand.groupby("level")["children"].sum())
    # D1: 500 households delivered in 2026, fully occupied by 2030. With 2.25 persons per
    # household it brings 500 x 80 x 2.25 / 1000 = 90 primary and 500 x 40 x 2.25 / 1000 = 45
    # junior children; with 4.5 persons twice as many, so 90 and 45 more.
    added = totals[1] - totals[0]
    assert added["primary"] == pytest.approx(90.0)
    assert added["junior"] == pytest.approx(45.0)
