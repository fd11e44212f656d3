"""Tests of layout.access.costs: distance and network travel costs, checked against hand working."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from shapely.geometry import LineString, Point, box

from layout.access import TravelCosts, costs_from_distance, costs_from_network
from layout.errors import ValidationError

CRS = "EPSG:4550"


def square(x: float, y: float, side: float = 100.0):
    """Return a 100 m cell whose centroid is (x, y)."""
    return box(x - side / 2, y - side / 2, x + side / 2, y + side / 2)


def make_cells(points, crs=CRS):
    return gpd.GeoDataFrame(
        {"cell_id": [f"c{i}" for i in range(len(points))]},
        geometry=[square(x, y) for x, y in points],
        crs=crs,
    )


def make_schools(points, crs=CRS):
    return gpd.GeoDataFrame(
        {"school_id": [f"s{i}" for i in range(len(points))]},
        geometry=[Point(x, y) for x, y in points],
        crs=crs,
    )


# --- straight-line distance ------------------------------------------------------------------


def test_distance_k_nearest_by_hand():
    # Cell c0 at (0, 0); schools s0 at (300, 400) (500 m), s1 at (0, 1000) (1000 m),
    # s2 at (-900, -1200) (1500 m). k=2 keeps s0 and s1. Travel = straight x 1.2:
    # 600 m and 1200 m. At 6 km/h = 100 m/min: 6 and 12 minutes.
    cells = make_cells([(0, 0)])
    schools = make_schools([(300, 400), (0, 1000), (-900, -1200)])
    costs = costs_from_distance(cells, schools, k=2, circuity=1.2, speed_kmh=6.0)
    assert costs.method == "distance"
    assert list(costs.cells) == ["c0"] and list(costs.schools) == ["s0", "s1", "s2"]
    assert costs.metres.nnz == 2
    assert costs.metres.toarray().ravel() == pytest.approx([600.0, 1200.0, 0.0])
    assert costs.minutes.toarray().ravel() == pytest.approx([6.0, 12.0, 0.0])


def test_distance_cutoff_adds_every_school_within_reach():
    # k=1 gives only s0 (500 m straight). With circuity 1.3 the cut-off 1400 m of travel is
    # 1400 / 1.3 = 1076.9 m straight, which takes s1 (1000 m) but not s2 (1500 m).
    cells = make_cells([(0, 0)])
    schools = make_schools([(300, 400), (0, 1000), (-900, -1200)])
    costs = costs_from_distance(cells, schools, k=1, cutoff_m=1400.0, circuity=1.3, speed_kmh=4.5)
    arcs = costs.arcs()
    assert arcs["school_id"].tolist() == ["s0", "s1"]
    assert arcs["metres"].tolist() == pytest.approx([650.0, 1300.0])
    # 4.5 km/h = 75 m/min
    assert arcs["minutes"].tolist() == pytest.approx([650.0 / 75, 1300.0 / 75])


def test_distance_keeps_zero_cost_arc():
    # A cell centred on its school has a real arc of 0 m, stored (not an absent arc).
    cells = make_cells([(0, 0), (500, 0)])
    schools = make_schools([(0, 0)])
    costs = costs_from_distance(cells, schools, circuity=1.0, speed_kmh=4.5)
    assert costs.metres.nnz == 2
    assert costs.arcs()["metres"].tolist() == [0.0, 500.0]


def test_distance_k_larger_than_schools_links_all():
    cells = make_cells([(0, 0), (10_000, 0)])
    schools = make_schools([(0, 0), (3000, 4000)])
    costs = costs_from_distance(cells, schools, k=8, circuity=1.0, speed_kmh=4.5)
    # c1 to s1: hypot(7000, 4000) = 8062.26 m
    expected = [[0.0, 5000.0], [10_000.0, np.hypot(7000, 4000)]]
    assert costs.metres.nnz == 4
    assert costs.metres.toarray() == pytest.approx(np.array(expected))


# --- road network ----------------------------------------------------------------------------


def road_layer(lines, speeds):
    return gpd.GeoDataFrame(
        {
            "road_id": [f"r{i}" for i in range(len(lines))],
            "road_class": ["local"] * len(lines),
            "speed_kmh": speeds,
        },
        geometry=[LineString(line) for line in lines],
        crs=CRS,
    )


# Hand-drawn network. Nodes A=(0,0), B=(1000,0), C=(1000,1000).
#   r0: A-B, 1000 m at 60 km/h (1000 m/min) = 1 min
#   r1: starts at (1000, 0.5), 0.5 m from B, to C: 999.5 m at 60 km/h = 0.9995 min
#   r2: A-C diagonal, 1414.2136 m at 6 km/h (100 m/min) = 14.142136 min
#   r3: an island far away, (5000,5000)-(6000,5000)
#   r4: another island, (8000,8000)-(9000,8000)
ROADS = [
    [(0, 0), (1000, 0)],
    [(1000, 0.5), (1000, 1000)],
    [(0, 0), (1000, 1000)],
    [(5000, 5000), (6000, 5000)],
    [(8000, 8000), (9000, 8000)],
]
SPEEDS = [60.0, 60.0, 6.0, 30.0, 30.0]
DIAGONAL = np.hypot(1000, 1000)


def network_layers():
    # c0 centroid (0, -30): 30 m walk to A = 0.4 min at 4.5 km/h (75 m/min).
    # c1 centroid (5500, 5040): on island r3, which has no school.
    # s0 at (1000, 1040): 40 m walk to C = 0.5333 min. s1 at (8500, 8020): on island r4, no cell.
    cells = gpd.GeoDataFrame(
        {"cell_id": ["c0", "c1"]}, geometry=[Point(0, -30), Point(5500, 5040)], crs=CRS
    )
    schools = make_schools([(1000, 1040), (8500, 8020)])
    return cells, schools, road_layer(ROADS, SPEEDS)


def test_network_by_hand_fastest_and_shortest_differ():
    cells, schools, roads = network_layers()
    costs = costs_from_network(cells, schools, roads)
    # With snapping at 1 m, r1 joins B. Fastest A->C: via B, 1 + 0.9995 = 1.9995 min.
    # Shortest A->C: the diagonal, 1414.2136 m. Legs: 30 m + 40 m, 0.4 + 0.5333 min.
    assert costs.method == "network"
    assert costs.metres.nnz == 1
    assert costs.metres[[0], [0]][0] == pytest.approx(30 + DIAGONAL + 40)
    assert costs.minutes[[0], [0]][0] == pytest.approx(1.9995 + 70 / 75)


def test_network_reports_unreachable_cells_and_schools():
    cells, schools, roads = network_layers()
    costs = costs_from_network(cells, schools, roads)
    table = costs.unreachable.sort_values("layer").reset_index(drop=True)
    assert table[["layer", "id"]].values.tolist() == [["cells", "c1"], ["schools", "s1"]]
    assert "no school" in table.loc[0, "reason"] and "no cell" in table.loc[1, "reason"]
    # Nothing dropped: both keep their row / column, without arcs.
    assert costs.metres.shape == (2, 2)
    assert np.diff(costs.metres.indptr).tolist() == [1, 0]


def test_network_without_snapping_loses_the_fast_route():
    # snap_m=0.1 leaves r1 0.5 m short of B, so the only route is the diagonal:
    # 1414.2136 m at 100 m/min = 14.142136 min, plus 0.9333 min of legs.
    cells, schools, roads = network_layers()
    costs = costs_from_network(cells, schools, roads, snap_m=0.1)
    assert costs.minutes[[0], [0]][0] == pytest.approx(DIAGONAL / 100 + 70 / 75)
    assert costs.metres[[0], [0]][0] == pytest.approx(30 + DIAGONAL + 40)


def test_network_speed_cap_for_walking_pupils():
    # Capped at 4.5 km/h (75 m/min) every road is walked: the diagonal is fastest,
    # (30 + 1414.2136 + 40) / 75 = 19.7895 min.
    cells, schools, roads = network_layers()
    costs = costs_from_network(cells, schools, roads, speed_cap_kmh=4.5)
    assert costs.minutes[[0], [0]][0] == pytest.approx((70 + DIAGONAL) / 75)


def test_network_cutoff_drops_slow_arcs_but_not_cells():
    # c0 -> s0 takes 2.9328 min: kept under a 3-minute cut-off, dropped under 2 minutes.
    cells, schools, roads = network_layers()
    assert costs_from_network(cells, schools, roads, cutoff_min=3.0).metres.nnz == 1
    costs = costs_from_network(cells, schools, roads, cutoff_min=2.0)
    assert costs.metres.nnz == 0 and costs.metres.shape == (2, 2)
    assert "c0" not in set(costs.unreachable["id"])


def test_network_parallel_roads_keep_the_lighter_edge():
    # Two roads between the same ends: 1000 m at 6 km/h (10 min) and the same line at
    # 30 km/h (2 min). The cell sits on A and the school on B: 2 min, 1000 m.
    roads = road_layer([[(0, 0), (1000, 0)], [(0, 0), (1000, 0)]], [6.0, 30.0])
    cells = gpd.GeoDataFrame({"cell_id": ["c0"]}, geometry=[Point(0, 0)], crs=CRS)
    schools = make_schools([(1000, 0)])
    costs = costs_from_network(cells, schools, roads)
    assert costs.minutes.toarray().tolist() == [[pytest.approx(2.0)]]
    assert costs.metres.toarray().tolist() == [[pytest.approx(1000.0)]]


# --- bad input -------------------------------------------------------------------------------


def test_geographic_crs_is_refused():
    cells = make_cells([(0, 0)], crs="EPSG:4326")
    schools = make_schools([(0, 0)], crs="EPSG:4326")
    with pytest.raises(ValidationError, match=r"cells has the geographic CRS EPSG:4326.*to_crs"):
        costs_from_distance(cells, schools, circuity=1.3, speed_kmh=4.5)


def test_mismatched_crs_is_refused():
    with pytest.raises(
        ValidationError, match=r"different CRS \(cells: EPSG:4550; schools: EPSG:3857"
    ):
        costs_from_distance(make_cells([(0, 0)]), make_schools([(0, 0)], crs="EPSG:3857"), circuity=1.3, speed_kmh=4.5)


def test_missing_crs_is_refused():
    schools = make_schools([(0, 0)]).set_crs(None, allow_override=True)
    with pytest.raises(ValidationError, match="schools has no CRS"):
        costs_from_distance(make_cells([(0, 0)]), schools, circuity=1.3, speed_kmh=4.5)


def test_roads_crs_checked_too():
    cells, schools, roads = network_layers()
    with pytest.raises(ValidationError, match="different CRS"):
        costs_from_network(cells, schools, roads.to_crs("EPSG:3857"))


def test_missing_id_column_is_named():
    cells = make_cells([(0, 0)]).rename(columns={"cell_id": "id"})
    with pytest.raises(ValidationError, match="cells: column 'cell_id' is missing"):
        costs_from_distance(cells, make_schools([(0, 0)]), circuity=1.3, speed_kmh=4.5)


def test_repeated_ids_are_named():
    schools = make_schools([(0, 0), (1, 1)])
    schools["school_id"] = ["s0", "s0"]
    with pytest.raises(ValidationError, match="schools.school_id repeats s0"):
        costs_from_distance(make_cells([(0, 0)]), schools, circuity=1.3, speed_kmh=4.5)


def test_no_school_of_the_level_is_a_clear_error():
    with pytest.raises(ValidationError, match="schools has no rows; there is no school"):
        costs_from_distance(make_cells([(0, 0)]), make_schools([]), circuity=1.3, speed_kmh=4.5)


def test_wrong_geometry_is_named():
    schools = gpd.GeoDataFrame({"school_id": ["s0"]}, geometry=[square(0, 0)], crs=CRS)
    with pytest.raises(
        ValidationError, match=r"schools geometry must be Point; rows s0 \(1 row\) are Polygon"
    ):
        costs_from_distance(make_cells([(0, 0)]), schools, circuity=1.3, speed_kmh=4.5)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"k": 0}, "k must be a whole number >= 1"),
        ({"cutoff_m": -5.0}, "cutoff_m must be a finite number > 0"),
        ({"circuity": 0.9}, "circuity must be a finite number >= 1"),
        ({"speed_kmh": 0.0}, "speed_kmh must be a finite number > 0"),
    ],
)
def test_bad_distance_options(options, message):
    with pytest.raises(ValidationError, match=message):
        costs_from_distance(
            make_cells([(0, 0)]), make_schools([(0, 0)]), **{"circuity": 1.3, "speed_kmh": 4.5, **options}
        )


def test_bad_road_speeds_are_named():
    cells, schools, roads = network_layers()
    roads.loc[1, "speed_kmh"] = 0.0
    with pytest.raises(ValidationError, match=r"roads.speed_kmh is 0 in rows r1"):
        costs_from_network(cells, schools, roads)
    roads.loc[1, "speed_kmh"] = np.nan
    roads.loc[3, "speed_kmh"] = -1.0
    with pytest.raises(
        ValidationError, match=r"roads.speed_kmh must be a finite number >= 0; rows r1, r3"
    ):
        costs_from_network(cells, schools, roads)


def test_roads_missing_speed_column():
    cells, schools, roads = network_layers()
    with pytest.raises(ValidationError, match="roads: column 'speed_kmh' is missing"):
        costs_from_network(cells, schools, roads.drop(columns="speed_kmh"))


def test_travel_costs_with_nan_names_the_rows():
    metres = sparse.csr_array(np.array([[100.0, 0.0], [np.nan, 50.0], [1.0, 2.0]]))
    with pytest.raises(ValidationError, match=r"TravelCosts.metres holds NaN.*cells b"):
        TravelCosts(metres, metres.copy(), pd.Index(["a", "b", "c"]), pd.Index(["s", "t"]), "x")


def test_travel_costs_shapes_and_patterns_checked():
    m = sparse.csr_array([[1.0, 2.0]])
    with pytest.raises(ValidationError, match="shape"):
        TravelCosts(m, m, pd.Index(["a", "b"]), pd.Index(["s", "t"]), "x")
    other = sparse.csr_array([[1.0, 0.0]])
    with pytest.raises(ValidationError, match="same sparsity pattern"):
        TravelCosts(m, other, pd.Index(["a"]), pd.Index(["s", "t"]), "x")


def test_network_reasons_reach_the_assignment():
    # End to end: c1 sits on an island without a school -> "unreachable"; with a 2-minute
    # cut-off c0 (2.93 min from s0) has no arc -> "no school within cut-off".
    from layout.access import assign

    cells, schools, roads = network_layers()
    cells["children"] = [6, 4]
    schools["capacity"] = [10, 10]
    result = assign(cells, schools, costs_from_network(cells, schools, roads))
    assert result.unserved.values.tolist() == [["c1", 4.0, "unreachable"]]
    assert result.flows[["cell_id", "school_id", "children"]].values.tolist() == [["c0", "s0", 6.0]]
    short = assign(cells, schools, costs_from_network(cells, schools, roads, cutoff_min=2.0))
    assert short.unserved.values.tolist() == [
        ["c0", 6.0, "no school within cut-off"],
        ["c1", 4.0, "unreachable"],
    ]


def test_empty_cells_and_geometry_are_named():
    with pytest.raises(ValidationError, match="cells has no rows"):
        costs_from_distance(make_cells([]), make_schools([(0, 0)]), circuity=1.3, speed_kmh=4.5)
    cells = make_cells([(0, 0), (1, 1)])
    cells.loc[1, "geometry"] = None
    with pytest.raises(ValidationError, match="cells has no geometry in rows c1"):
        costs_from_distance(cells, make_schools([(0, 0)]), circuity=1.3, speed_kmh=4.5)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"snap_m": -1.0}, "snap_m must be a finite number >= 0"),
        ({"cutoff_min": 0.0}, "cutoff_min must be a finite number > 0"),
        ({"walk_kmh": np.nan}, "walk_kmh must be a finite number > 0"),
        ({"speed_cap_kmh": -4.5}, "speed_cap_kmh must be a finite number > 0"),
    ],
)
def test_bad_network_options(options, message):
    cells, schools, roads = network_layers()
    with pytest.raises(ValidationError, match=message):
        costs_from_network(cells, schools, roads, **options)


def test_roads_must_be_lines():
    cells, schools, roads = network_layers()
    roads.loc[0, "geometry"] = Point(0, 0)
    with pytest.raises(
        ValidationError, match="roads geometry must be LineString or MultiLineString; rows r0"
    ):
        costs_from_network(cells, schools, roads)


def test_travel_costs_repeated_ids():
    m = sparse.csr_array([[1.0], [2.0]])
    with pytest.raises(ValidationError, match="TravelCosts.cells repeats ids a"):
        TravelCosts(m, m, pd.Index(["a", "a"]), pd.Index(["s"]), "x")


def test_network_with_no_school_reachable_at_all():
    # The only school is on island r4, the only cell on island r3: both are reported and the
    # matrices are empty but keep their shape.
    cells, schools, roads = network_layers()
    costs = costs_from_network(cells.iloc[[1]], schools.iloc[[1]], roads)
    assert costs.metres.shape == (1, 1) and costs.metres.nnz == 0
    assert costs.unreachable["id"].tolist() == ["c1", "s1"]


def test_arcs_kept_and_rebuilt_from_their_table() -> None:
    # Two cells, two schools; keeping the arcs under 200 m leaves a-s (100) and b-t (50).
    metres = sparse.csr_array([[100.0, 300.0], [0.0, 50.0]])
    costs = TravelCosts(metres, metres / 75, pd.Index(["a", "b"]), pd.Index(["s", "t"]), "table")
    kept = costs.where(costs.metres.data < 200)
    assert kept.metres.toarray().tolist() == [[100.0, 0.0], [0.0, 50.0]]
    assert kept.metres.nnz == 2 and list(kept.schools) == ["s", "t"]
    rebuilt = TravelCosts.from_arcs(costs.arcs())
    assert (rebuilt.minutes != costs.minutes).nnz == 0 and list(rebuilt.cells) == ["a", "b"]
    with pytest.raises(ValidationError, match=r"one boolean per arc \(3\)"):
        costs.where(np.ones(2, dtype=bool))
    with pytest.raises(ValidationError, match="minutes"):
        TravelCosts.from_arcs(costs.arcs().drop(columns="minutes"))
