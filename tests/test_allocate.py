"""Tests of layout.access.allocate: hand-solved cases, conservation, and a cross-check with HiGHS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from scipy.optimize import linprog
from scipy.spatial.distance import cdist
from shapely.geometry import Point, box

from layout.access import (
    TravelCosts,
    assign,
    assign_nearest,
    assign_series,
    attendance_matrix,
    catchments,
    costs_from_distance,
)
from layout.errors import DataWarning, ValidationError

CRS = "EPSG:4550"

# The hand case: three cells, two schools, costs in minutes.
#          S (40 places)   T (50 places)   children
#   A            5              12             30
#   B            8               9             20
#   C           10               4             25
MINUTES = np.array([[5.0, 12.0], [8.0, 9.0], [10.0, 4.0]])


def hand_case(capacity=(40, 50)):
    costs = TravelCosts(
        sparse.csr_array(MINUTES * 75),
        sparse.csr_array(MINUTES),
        pd.Index(["A", "B", "C"], name="cell_id"),
        pd.Index(["S", "T"], name="school_id"),
        "table",
    )
    cells = gpd.GeoDataFrame(
        {
            "cell_id": ["A", "B", "C"],
            "children": [30, 20, 25],
            "township_code": ["T1", "T1", "T2"],
        },
        # A and B share an edge; C stands apart.
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(500, 0, 600, 100)],
        crs=CRS,
    )
    schools = pd.DataFrame({"school_id": ["S", "T"], "capacity": list(capacity)})
    return cells, schools, costs


def flows_of(result):
    return {(row.cell_id, row.school_id): row.children for row in result.flows.itertuples()}


def test_hand_case_optimum():
    # Nearest: A->S 30, B->S 20 (8 < 9), C->T 25: S holds 50 > 40, so 10 children must move.
    # Moving a child of A to T costs 12 - 5 = 7 more, of B 9 - 8 = 1 more; C is already at T.
    # Optimum: move 10 of B. Flows A-S 30, B-S 10, B-T 10, C-T 25;
    # objective 30*5 + 10*8 + 10*9 + 25*4 = 150 + 80 + 90 + 100 = 420.
    # Dual check: prices w_S = 1, w_T = 0 give v_A = min(6, 12) = 6, v_B = min(9, 9) = 9,
    # v_C = min(11, 4) = 4 and dual value 30*6 + 20*9 + 25*4 - 40*1 = 420 = primal: optimal.
    cells, schools, costs = hand_case()
    for decompose in (True, False):
        result = assign(cells, schools, costs, decompose=decompose)
        assert flows_of(result) == pytest.approx(
            {("A", "S"): 30, ("B", "S"): 10, ("B", "T"): 10, ("C", "T"): 25}
        )
        assert result.objective == pytest.approx(420.0)
        assert result.unserved.empty
        assert result.schools["load"].tolist() == pytest.approx([40.0, 35.0])
        assert result.schools["utilisation"].tolist() == pytest.approx([1.0, 0.7])
        assert not result.schools["over_capacity"].any()
        assert result.method == "capacitated" and result.cost == "minutes"


def test_hand_case_flows_carry_both_costs():
    cells, schools, costs = hand_case()
    flows = assign(cells, schools, costs).flows.set_index(["cell_id", "school_id"])
    assert flows.loc[("B", "T"), "minutes"] == 9.0
    assert flows.loc[("B", "T"), "metres"] == 9.0 * 75


def test_hand_case_short_of_places():
    # Capacities S 40, T 20: 60 places for 75 children, so 15 are unserved whatever we do and
    # the penalty term is fixed; travel is minimised over the 60 seats. T's 20 seats go to C
    # (4 beats B's 9); S's 40 to A (30, at 5) and 10 of B (8 beats C's 10). Swapping B->T and
    # C->S would cost 9 + 10 = 19 instead of 8 + 4 = 12. Travel 20*4 + 30*5 + 10*8 = 310.
    # Unserved: B 10, C 5, both for lack of capacity. Default penalty (2 schools + 1) * 12 + 1
    # = 37, so the objective is 310 + 15 * 37 = 865.
    cells, schools, costs = hand_case(capacity=(40, 20))
    result = assign(cells, schools, costs)
    assert flows_of(result) == pytest.approx({("A", "S"): 30, ("B", "S"): 10, ("C", "T"): 20})
    assert result.unserved.values.tolist() == [["B", 10.0, "capacity"], ["C", 5.0, "capacity"]]
    assert result.penalty == 37.0
    assert result.objective == pytest.approx(865.0)
    assert result.cells.loc["C"].tolist() == pytest.approx([25.0, 20.0, 5.0])


def test_small_penalty_leaves_far_children_unserved():
    # A penalty of 10 per child, capacities S 10, T 100. A child of A outside S is better left
    # unserved (10) than sent to T (12); a child of B outside S goes to T (9). A seat at S
    # saves 10 - 5 = 5 for A but 9 - 8 = 1 for B, so S's 10 seats go to A and the other 20
    # of A are unserved; B -> T (9), C -> T (4).
    # Objective 10*5 + 20*10 + 20*9 + 25*4 = 50 + 200 + 180 + 100 = 530.
    cells, schools, costs = hand_case(capacity=(10, 100))
    result = assign(cells, schools, costs, unserved_penalty=10.0)
    assert flows_of(result) == pytest.approx({("A", "S"): 10, ("B", "T"): 20, ("C", "T"): 25})
    assert result.unserved.values.tolist() == [["A", 20.0, "capacity"]]
    assert result.objective == pytest.approx(530.0)


def test_nearest_assignment_reports_over_capacity():
    # Everyone to the cheapest school: S takes A 30 + B 20 = 50 > 40 places.
    # Objective 30*5 + 20*8 + 25*4 = 410.
    cells, schools, costs = hand_case()
    result = assign_nearest(cells, schools, costs)
    assert flows_of(result) == pytest.approx({("A", "S"): 30, ("B", "S"): 20, ("C", "T"): 25})
    assert result.schools["over_capacity"].tolist() == [True, False]
    assert result.schools["utilisation"].tolist() == pytest.approx([1.25, 0.5])
    assert result.objective == pytest.approx(410.0)
    assert result.method == "nearest"


def test_metres_can_be_minimised():
    # Metres are minutes * 75 here, so the same flows and 420 * 75 = 31 500.
    cells, schools, costs = hand_case()
    assert assign(cells, schools, costs, cost="metres").objective == pytest.approx(31_500.0)


def test_unserved_reasons():
    # Cell D has no arc at all (no school within the cut-off); cell E is listed unreachable by
    # the network costs; both keep their children as unserved, never dropped.
    costs = TravelCosts(
        sparse.csr_array(np.array([[100.0], [0.0], [0.0]])),
        sparse.csr_array(np.array([[1.0], [0.0], [0.0]])),
        pd.Index(["C", "D", "E"]),
        pd.Index(["S"]),
        "network",
        pd.DataFrame({"layer": ["cells"], "id": ["E"], "reason": ["no school on the part"]}),
    )
    demand = pd.DataFrame({"cell_id": ["C", "D", "E"], "children": [5, 7, 3]})
    schools = pd.DataFrame({"school_id": ["S"], "capacity": [2]})
    result = assign(demand, schools, costs)
    assert result.unserved.values.tolist() == [
        ["C", 3.0, "capacity"],
        ["D", 7.0, "no school within cut-off"],
        ["E", 3.0, "unreachable"],
    ]
    assert result.cells["children"].sum() == 15
    assert flows_of(result) == {("C", "S"): 2.0}


def test_zero_capacity_school_warns_and_takes_nobody():
    # S has no places: A, B go to T (12, 9) with C (4); T's 50 places < 75 children, so 25
    # unserved. Travel is minimised by seating the cheapest: C 25 (4), B 20 (9), A 5 (12).
    # (Default penalty: (1 school with places + 1) * 12 + 1 = 25 per unserved child.)
    cells, schools, costs = hand_case(capacity=(0, 50))
    with pytest.warns(DataWarning, match=r"schools S \(1 row\) have capacity 0"):
        result = assign(cells, schools, costs)
    assert flows_of(result) == pytest.approx({("A", "T"): 5, ("B", "T"): 20, ("C", "T"): 25})
    assert result.penalty == 25.0
    assert np.isnan(result.schools.loc["S", "utilisation"])
    assert result.unserved.values.tolist() == [["A", 25.0, "capacity"]]


def test_demand_missing_from_costs_counts_as_zero_children():
    # Only A has demand given; B and C have no row in demand: nothing flows from them.
    cells, schools, costs = hand_case()
    result = assign(cells.iloc[[0]], schools, costs)
    assert flows_of(result) == {("A", "S"): 30.0}


def random_instance(seed, n, m, *, k):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 5000, (n, 2))
    cells = gpd.GeoDataFrame(
        {"cell_id": np.arange(n), "children": rng.integers(0, 40, n).astype(float)},
        geometry=[Point(x, y) for x, y in xy],
        crs=CRS,
    )
    site = rng.uniform(0, 5000, (m, 2))
    schools = gpd.GeoDataFrame(
        {"school_id": [f"s{j}" for j in range(m)], "capacity": rng.integers(1, 20 * n // m, m)},
        geometry=[Point(x, y) for x, y in site],
        crs=CRS,
    )
    return cells, schools, costs_from_distance(cells, schools, k=k, circuity=1.3, speed_kmh=4.5), cdist(xy, site)


def dense_objective(children, capacity, cost, allowed, penalty):
    """Solve the full transportation LP over every pair, built here from dense arrays."""
    n, m = cost.shape
    c = np.concatenate((np.where(allowed, cost, 0.0).ravel(), np.full(n, penalty)))
    bounds = [(0, None if ok else 0) for ok in allowed.ravel()] + [(0, None)] * n
    a_eq = np.hstack((np.kron(np.eye(n), np.ones(m)), np.eye(n)))
    a_ub = np.hstack((np.kron(np.ones(n), np.eye(m)), np.zeros((m, n))))
    result = linprog(
        c, A_ub=a_ub, b_ub=capacity, A_eq=a_eq, b_eq=children, bounds=bounds, method="highs"
    )
    assert result.status == 0
    return result.fun


@pytest.mark.parametrize("seed", range(6))
def test_objective_matches_full_dense_lp(seed):
    # All pairs linked (k = m): the objective must equal the dense LP on the cost matrix
    # computed independently (scipy cdist x circuity 1.3 / 75 m per minute).
    n, m = 60, 7
    cells, schools, costs, distance = random_instance(seed, n, m, k=m)
    minutes = distance * 1.3 / 75
    for decompose in (True, False):
        result = assign(cells, schools, costs, decompose=decompose)
        reference = dense_objective(
            cells["children"].to_numpy(),
            schools["capacity"].to_numpy(),
            minutes,
            np.ones((n, m), dtype=bool),
            result.penalty,
        )
        assert result.objective == pytest.approx(reference, rel=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_objective_matches_dense_lp_on_sparse_arcs(seed):
    # k = 2 nearest: pairs without an arc get an upper bound of 0 in the dense LP.
    n, m = 60, 7
    cells, schools, costs, distance = random_instance(seed + 100, n, m, k=2)
    order = np.argsort(distance, axis=1)
    allowed = np.zeros((n, m), dtype=bool)
    np.put_along_axis(allowed, order[:, :2], True, axis=1)
    result = assign(cells, schools, costs)
    reference = dense_objective(
        cells["children"].to_numpy(),
        schools["capacity"].to_numpy(),
        distance * 1.3 / 75,
        allowed,
        result.penalty,
    )
    assert result.objective == pytest.approx(reference, rel=1e-6)


@pytest.mark.parametrize("seed", range(10))
def test_children_conserved_and_capacity_kept(seed):
    rng = np.random.default_rng(seed)
    cells, schools, costs, _ = random_instance(seed + 200, int(rng.integers(20, 300)), 9, k=3)
    result = assign(cells, schools, costs)
    children = cells.set_index("cell_id")["children"]
    assigned = result.flows.groupby("cell_id")["children"].sum()
    unserved = result.unserved.set_index("cell_id")["children"]
    total = assigned.reindex(children.index, fill_value=0) + unserved.reindex(
        children.index, fill_value=0
    )
    assert total.to_numpy() == pytest.approx(children.to_numpy(), abs=1e-6)
    load = result.flows.groupby("school_id")["children"].sum()
    capacity = schools.set_index("school_id")["capacity"]
    assert (load <= capacity.reindex(load.index) + 1e-6).all()
    # With whole children and capacities the simplex optimum is whole (total unimodularity).
    assert result.flows["children"].to_numpy() == pytest.approx(
        np.round(result.flows["children"].to_numpy()), abs=1e-6
    )


def test_catchments_by_hand():
    # Flows: A-S 30; B-S 10 and B-T 10 (a tie, so B goes to the cheaper S: 8 < 9); C-T 25.
    # S's catchment is A + B (two 100 m squares sharing an edge: 20 000 m2, 50 children living
    # there, 40 of them attending S); T's is C (10 000 m2, 25 children, 25 attending).
    cells, schools, costs = hand_case()
    area = catchments(assign(cells, schools, costs), cells)
    assert area.index.tolist() == ["S", "T"]
    assert area.geometry.area.tolist() == pytest.approx([20_000.0, 10_000.0])
    assert area.geometry.iloc[0].geom_type == "Polygon"
    assert area["cells"].tolist() == [2, 1]
    assert area["children"].tolist() == [50.0, 25.0]
    assert area["attending"].tolist() == [40.0, 25.0]
    assert area.crs == cells.crs


def test_attendance_matrix_by_hand():
    # T1 holds A and B: 30 + 10 at S, 10 at T. T2 holds C: 25 at T.
    cells, schools, costs = hand_case()
    table = attendance_matrix(assign(cells, schools, costs), cells)
    assert table.loc["T1"].tolist() == [40.0, 10.0]
    assert table.loc["T2"].tolist() == [0.0, 25.0]
    assert table.columns.tolist() == ["S", "T"]


# --- bad input -------------------------------------------------------------------------------


def test_missing_demand_column_is_named():
    cells, schools, costs = hand_case()
    with pytest.raises(ValidationError, match="demand: column 'pupils' is missing"):
        assign(cells, schools, costs, demand_column="pupils")


def test_missing_capacity_column_is_named():
    cells, schools, costs = hand_case()
    with pytest.raises(ValidationError, match="schools: column 'capacity' is missing"):
        assign(cells, schools.drop(columns="capacity"), costs)


def test_bad_children_are_named():
    cells, schools, costs = hand_case()
    cells.loc[1, "children"] = np.nan
    cells.loc[2, "children"] = -3
    with pytest.raises(
        ValidationError, match=r"demand.children must be a finite number >= 0; rows B, C"
    ):
        assign(cells, schools, costs)


def test_negative_capacity_is_named():
    cells, schools, costs = hand_case(capacity=(40, -1))
    with pytest.raises(ValidationError, match=r"schools.capacity must be .* rows T"):
        assign(cells, schools, costs)


def test_cells_outside_the_costs_are_named():
    cells, schools, costs = hand_case()
    extra = pd.concat([cells, cells.iloc[[0]].assign(cell_id="Z")])
    with pytest.raises(
        ValidationError, match=r"demand has cells Z \(1 row\) that the travel costs do not cover"
    ):
        assign(extra, schools, costs)


def test_schools_missing_from_the_table_are_named():
    cells, schools, costs = hand_case()
    with pytest.raises(ValidationError, match="schools lacks T"):
        assign(cells, schools.iloc[[0]], costs)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cost": "hours"}, "cost must be one of"),
        ({"unserved_penalty": 0.0}, "unserved_penalty must be a finite number > 0"),
        ({"unserved_penalty": np.inf}, "unserved_penalty must be a finite number > 0"),
    ],
)
def test_bad_options(options, message):
    cells, schools, costs = hand_case()
    with pytest.raises(ValidationError, match=message):
        assign(cells, schools, costs, **options)


def test_catchments_needs_the_cells_of_the_assignment():
    cells, schools, costs = hand_case()
    result = assign(cells, schools, costs)
    with pytest.raises(ValidationError, match="cells lacks C"):
        catchments(result, cells.iloc[:2])
    with pytest.raises(ValidationError, match="cells: column 'district' is missing"):
        attendance_matrix(result, cells, by="district")


def test_inputs_are_not_mutated():
    cells, schools, costs = hand_case()
    before = (cells.copy(), schools.copy(), costs.minutes.copy())
    assign(cells, schools, costs)
    pd.testing.assert_frame_equal(cells, before[0])
    pd.testing.assert_frame_equal(schools, before[1])
    assert (costs.minutes != before[2]).nnz == 0


def test_catchments_needs_polygons():
    cells, schools, costs = hand_case()
    result = assign(cells, schools, costs)
    with pytest.raises(ValidationError, match="cells must be a GeoDataFrame"):
        catchments(result, pd.DataFrame(cells.drop(columns="geometry")))


@pytest.mark.parametrize("seed", [0, 9])
def test_several_price_rounds_reach_the_dense_optimum(seed, caplog):
    # Instances where the decomposition needs several rounds (cells failing the price test
    # join the LP, re-solved from its basis): the result must still be the LP optimum.
    n, m = 400, 12
    cells, schools, costs, distance = random_instance(seed, n, m, k=4)
    schools["capacity"] *= 2
    allowed = np.zeros((n, m), dtype=bool)
    np.put_along_axis(allowed, np.argsort(distance, axis=1)[:, :4], True, axis=1)
    with caplog.at_level("INFO", logger="layout.optimize"):
        result = assign(cells, schools, costs)
    rounds = int(caplog.messages[-1].split("after ")[1].split(" rounds")[0])
    assert rounds >= 3
    reference = dense_objective(
        cells["children"].to_numpy(),
        schools["capacity"].to_numpy(),
        distance * 1.3 / 75,
        allowed,
        result.penalty,
    )
    assert result.objective == pytest.approx(reference, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_series_of_demands_each_reach_the_dense_optimum(seed):
    # Demands that grow, shrink and jump (a later scenario starts over from its first year),
    # with schools over-full in some years only: every result of the series must equal the
    # dense LP of its own demand, solved from scratch by scipy's HiGHS.
    n, m = 150, 8
    cells, schools, costs, distance = random_instance(seed + 300, n, m, k=4)
    allowed = np.zeros((n, m), dtype=bool)
    np.put_along_axis(allowed, np.argsort(distance, axis=1)[:, :4], True, axis=1)
    rng = np.random.default_rng(seed)
    base = cells["children"].to_numpy()
    factors = [1.0, 1.6, 2.4, 0.5, 0.0, 1.9]
    demands = [
        cells[["cell_id"]].assign(children=np.round(base * f * rng.uniform(0.5, 1.5, n)))
        for f in factors
    ]
    results = assign_series(demands, schools, costs)
    assert len(results) == len(demands)
    for demand, result in zip(demands, results, strict=True):
        reference = dense_objective(
            demand["children"].to_numpy(),
            schools["capacity"].to_numpy(),
            distance * 1.3 / 75,
            allowed,
            result.penalty,
        )
        assert result.objective == pytest.approx(reference, rel=1e-9)
        cell = result.cells
        assert (cell["assigned"] + cell["unserved"]).to_numpy() == pytest.approx(
            demand["children"].to_numpy(), abs=1e-6
        )
        assert (result.schools["load"] <= schools["capacity"].to_numpy() + 1e-6).all()


def test_series_of_one_is_assign():
    cells, schools, costs = hand_case()
    [result] = assign_series([cells], schools, costs)
    assert flows_of(result) == flows_of(assign(cells, schools, costs))
    assert assign_series([], schools, costs) == []


def test_series_names_a_bad_demand():
    cells, schools, costs = hand_case()
    stray = pd.DataFrame({"cell_id": ["A", "Z"], "children": [1, 2]})
    with pytest.raises(ValidationError, match="cells Z"):
        assign_series([cells, stray], schools, costs)
