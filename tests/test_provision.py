"""Tests of layout.access.provision: flags, class size, area balance, 2SFCA and contiguous areas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from shapely.geometry import Point, box

from layout.access import (
    TravelCosts,
    area_balance,
    area_balances,
    assign,
    assign_nearest,
    cell_flags,
    costs_from_distance,
    school_provision,
    two_step_fca,
    under_provisioned_areas,
)
from layout.errors import ValidationError

CRS = "EPSG:4550"


def row_of_cells(children):
    """Return a 1 x n row of 100 m cells; centroids at x = 50, 150, 250, ..."""
    n = len(children)
    return gpd.GeoDataFrame(
        {"cell_id": [f"c{i}" for i in range(n)], "children": children},
        geometry=[box(100 * i, 0, 100 * (i + 1), 100) for i in range(n)],
        crs=CRS,
    )


def schools_at(xs, capacity, **columns):
    return gpd.GeoDataFrame(
        {"school_id": [f"s{j}" for j in range(len(xs))], "capacity": capacity, **columns},
        geometry=[Point(x, 50) for x in xs],
        crs=CRS,
    )


# --- 2SFCA -----------------------------------------------------------------------------------


def test_two_step_fca_by_hand():
    # Cells c0..c3 at x = 50, 150, 250, 350 with P = 10, 20, 30, 40. School s0 at x = 50
    # (60 places), s1 at x = 350 (35 places). Circuity 1, so metres = |dx|.
    # Threshold 150 m: s0 reaches c0 (0), c1 (100): R0 = 60 / 30 = 2.
    #                  s1 reaches c3 (0), c2 (100): R1 = 35 / 70 = 0.5.
    #   A = [2, 2, 0.5, 0.5].
    # Threshold 250 m: s0 reaches c0, c1, c2 (200): R0 = 60 / 60 = 1.
    #                  s1 reaches c1 (200), c2, c3: R1 = 35 / 90 = 7/18.
    #   A = [1, 1 + 7/18, 1 + 7/18, 7/18].
    cells = row_of_cells([10, 20, 30, 40])
    schools = schools_at([50, 350], [60, 35])
    costs = costs_from_distance(cells, schools, circuity=1.0, speed_kmh=4.5)
    near = two_step_fca(cells, schools, costs, threshold=150, cost="metres")
    assert near.tolist() == pytest.approx([2.0, 2.0, 0.5, 0.5])
    assert near.name == "accessibility" and near.index.equals(cells.index)
    far = two_step_fca(cells, schools, costs, threshold=250, cost="metres")
    assert far.tolist() == pytest.approx([1.0, 1 + 7 / 18, 1 + 7 / 18, 7 / 18])


def test_two_step_fca_school_without_children_in_reach():
    # s1 at x = 5000 is beyond the 150 m threshold of every cell: R1 = 0 by convention and
    # nobody gets anything from it. s0 as above with the only children in reach c0, c1.
    cells = row_of_cells([10, 20, 0, 0])
    schools = schools_at([50, 5000], [60, 100])
    costs = costs_from_distance(cells, schools, circuity=1.0, speed_kmh=4.5)
    result = two_step_fca(cells, schools, costs, threshold=150, cost="metres")
    assert result.tolist() == pytest.approx([2.0, 2.0, 0.0, 0.0])


# --- per-school and per-cell provision -------------------------------------------------------


def line_case():
    # Cells c0..c2 at x = 50, 150, 250 with 30, 20, 10 children; one school s0 at x = 50 with
    # 40 places and 1 class. Circuity 1, 4.5 km/h: c0 0 m / 0 min, c1 100 m / 1.333 min,
    # c2 200 m / 2.667 min.
    cells = row_of_cells([30, 20, 10])
    schools = schools_at([50], [40], classes=[1])
    costs = costs_from_distance(cells, schools, circuity=1.0, speed_kmh=4.5)
    return cells, schools, costs


def test_school_provision_by_hand():
    # Capacitated: 40 seated (c0 30, c1 10), 20 unserved. Class size 40 / 1 = 40 > 35.
    cells, schools, costs = line_case()
    table = school_provision(
        assign(cells, schools, costs), schools, classes_column="classes", class_cap=35
    )
    row = table.loc["s0"]
    assert (row["load"], row["spare"], row["utilisation"]) == pytest.approx((40.0, 0.0, 1.0))
    assert row["class_size"] == 40.0 and row["over_class_cap"]
    # With a cap of 45 the class is fine; without classes the size is unknown (NaN).
    assert not school_provision(
        assign(cells, schools, costs), schools, classes_column="classes", class_cap=45
    ).loc["s0", "over_class_cap"]
    assert np.isnan(
        school_provision(assign(cells, schools, costs), schools).loc["s0", "class_size"]
    )


def test_school_without_classes_but_children_is_over_cap():
    # 0 classes and 40 children: class size is infinite, over any cap.
    cells, schools, costs = line_case()
    schools["classes"] = 0
    table = school_provision(
        assign(cells, schools, costs), schools, classes_column="classes", class_cap=45
    )
    assert table.loc["s0", "class_size"] == np.inf and table.loc["s0", "over_class_cap"]


def test_cell_flags_capacitated_by_hand():
    # Seated: c0 30 (0 m), c1 10 (100 m), nothing of c2 (200 m) — the cheapest children first.
    # Unserved: c1 10, c2 10. Radius 50 m: c1's 10 seated children are beyond it.
    # Class cap 35 < 40: every seated child is at a school over the cap.
    cells, schools, costs = line_case()
    result = assign(cells, schools, costs)
    table = school_provision(result, schools, classes_column="classes", class_cap=35)
    flags = cell_flags(result, cells, table, radius_m=50, max_minutes=1.0)
    assert flags["cell_id"].tolist() == ["c0", "c1", "c2"]
    assert flags["unserved"].tolist() == [0.0, 10.0, 10.0]
    assert flags["beyond_radius"].tolist() == [0.0, 10.0, 0.0]
    # 100 m at 75 m/min = 1.333 min > 1.0
    assert flags["beyond_time"].tolist() == [0.0, 10.0, 0.0]
    assert flags["at_over_class_cap"].tolist() == [30.0, 10.0, 0.0]
    assert flags["at_over_capacity"].tolist() == [0.0, 0.0, 0.0]
    assert flags["flag_radius"].tolist() == [False, True, False]
    assert flags["flag_unserved"].tolist() == [False, True, True]
    assert flags["flag_class_size"].tolist() == [True, True, False]
    assert flags["flagged"].tolist() == [True, True, True]


def test_cell_flags_by_setting():
    # The same case with c0 and c1 urban, c2 rural, and a school of 60 places so all are seated:
    # c0 0 m, c1 100 m (1.33 min), c2 200 m (2.67 min). Urban cells are judged by the radius of
    # 50 m only (c1's 20 children beyond it), the rural one by 2 minutes only (c2's 10 beyond).
    cells, schools, costs = line_case()
    schools["capacity"] = 60
    result = assign(cells, schools, costs)
    table = school_provision(result, schools)
    urban = [True, True, False]
    flags = cell_flags(result, cells, table, radius_m=50, max_minutes=2.0, urban=urban)
    assert flags["beyond_radius"].tolist() == [0.0, 20.0, 0.0]
    assert flags["beyond_time"].tolist() == [0.0, 0.0, 10.0]
    assert flags["flagged"].tolist() == [False, True, True]
    # Without settings every cell meets both tests: c2 is beyond the radius too.
    both = cell_flags(result, cells, table, radius_m=50, max_minutes=2.0)
    assert both["beyond_radius"].tolist() == [0.0, 20.0, 10.0]


def test_cell_flags_nearest_over_capacity():
    # Nearest: all 60 children at s0 (40 places): every cell is at an over-capacity school.
    cells, schools, costs = line_case()
    result = assign_nearest(cells, schools, costs)
    flags = cell_flags(result, cells, school_provision(result, schools))
    assert flags["at_over_capacity"].tolist() == [30.0, 20.0, 10.0]
    assert flags["flag_capacity"].all()
    assert not flags["flag_radius"].any() and not flags["flag_time"].any()


def test_cell_flags_keep_the_cells_index():
    cells, schools, costs = line_case()
    cells.index = [7, 8, 9]
    result = assign(cells, schools, costs)
    flags = cell_flags(result, cells, school_provision(result, schools))
    assert flags.index.tolist() == [7, 8, 9]


def test_area_balance_by_hand():
    # Township A: 30 + 20 children, 40 places -> short by 10. B: 5 children, no school.
    # C: a school of 10 places and no children -> -10 (spare).
    demand = pd.DataFrame({"township_code": ["A", "A", "B"], "children": [30, 20, 5]})
    schools = pd.DataFrame({"township_code": ["A", "C"], "capacity": [40, 10]})
    table = area_balance(demand, schools)
    assert table.loc["A"].tolist() == [50.0, 40.0, 10.0]
    assert table.loc["B"].tolist() == [5.0, 0.0, 5.0]
    assert table.loc["C"].tolist() == [0.0, 10.0, -10.0]


def test_area_balance_order_and_blank_areas():
    # Areas with children first (sorted), then those with places only (sorted); a row without
    # an area counts nowhere.
    demand = pd.DataFrame({"township_code": ["Z", None, "B", "Z"], "children": [1, 2, 3, 4]})
    schools = pd.DataFrame({"township_code": ["Y", "A", "B", None], "capacity": [5, 6, 7, 8]})
    table = area_balance(demand, schools)
    assert table.index.tolist() == ["B", "Z", "A", "Y"]
    assert table["children"].tolist() == [3.0, 5.0, 0.0, 0.0]
    assert table["capacity"].tolist() == [7.0, 0.0, 6.0, 5.0]


def test_area_balances_equal_area_balance_piece_by_piece():
    # Three years of children against the same schools. Year 0: B 3, Z 1 + 4 = 5 (and a row
    # without an area); year 1: no children at all; year 2: A 2. Places: A 6, B 7, Y 5.
    demand = pd.DataFrame(
        {"township_code": ["Z", None, "B", "Z", "A"], "children": [1, 2, 3, 4, 2]}
    )
    schools = pd.DataFrame({"township_code": ["Y", "A", "B", None], "capacity": [5, 6, 7, 8]})
    table = area_balances(demand, schools, pieces=[0, 0, 0, 0, 2], n_pieces=3)
    by_piece = {p: t.drop(columns="piece") for p, t in table.groupby("piece")}
    assert by_piece[0]["township_code"].tolist() == ["B", "Z", "A", "Y"]
    assert by_piece[0]["shortfall"].tolist() == [3 - 7, 5.0, -6.0, -5.0]
    assert by_piece[1]["township_code"].tolist() == ["A", "B", "Y"]
    assert by_piece[1]["shortfall"].tolist() == [-6.0, -7.0, -5.0]
    assert by_piece[2]["township_code"].tolist() == ["A", "B", "Y"]
    assert by_piece[2]["shortfall"].tolist() == [2 - 6, -7.0, -5.0]
    for piece, rows in ((0, [0, 1, 2, 3]), (1, []), (2, [4])):
        alone = area_balance(demand.iloc[rows], schools).reset_index()
        # (numpy sums no rows to integer zeros: dtypes aside, the same table)
        pd.testing.assert_frame_equal(
            by_piece[piece].reset_index(drop=True), alone, check_dtype=bool(rows)
        )


# --- contiguous areas ------------------------------------------------------------------------


def grid_case():
    # A 3 x 3 grid of 100 m cells, g{col}{row}. Flagged (X):
    #     row 2:  X . X
    #     row 1:  . . X
    #     row 0:  X X .
    # Flagged are g00, g10 (bottom left pair, sharing an edge), g21, g22 (right column top,
    # sharing an edge) and g02 (top left, alone).
    # g10 and g21 touch at the corner (200, 100): queen contiguity joins them, so the areas
    # are {g00, g10, g21, g22} and {g02}.
    cols, rows = np.meshgrid(range(3), range(3), indexing="ij")
    cols, rows = cols.ravel(), rows.ravel()
    cells = gpd.GeoDataFrame(
        {"cell_id": [f"g{c}{r}" for c, r in zip(cols, rows, strict=True)]},
        geometry=[
            box(100 * c, 100 * r, 100 * (c + 1), 100 * (r + 1))
            for c, r in zip(cols, rows, strict=True)
        ],
        crs=CRS,
    )
    flagged = {"g00", "g10", "g21", "g22", "g02"}
    children = {"g00": 5.0, "g10": 6.0, "g21": 7.0, "g22": 8.0, "g02": 30.0}
    flags = pd.DataFrame(
        {
            "flagged": cells["cell_id"].isin(flagged),
            "children": cells["cell_id"].map(children).fillna(1.0),
            "unserved": cells["cell_id"].map({"g02": 4.0}).fillna(0.0),
        },
        index=cells.index,
    )
    # Schools: "North" at (50, 450), "East" at (450, 150), "Far" at (2000, 2000).
    schools = gpd.GeoDataFrame(
        {"school_id": ["N", "E", "F"], "name": ["North", "East", "Far"], "capacity": [1, 1, 1]},
        geometry=[Point(50, 450), Point(450, 150), Point(2000, 2000)],
        crs=CRS,
    )
    costs = costs_from_distance(cells, schools, k=3, circuity=1.0, speed_kmh=6.0)
    return cells, flags, costs, schools


def test_under_provisioned_areas_by_hand():
    cells, flags, costs, schools = grid_case()
    areas = under_provisioned_areas(flags, cells, costs, schools, n_schools=2)
    # Sorted by children: {g02} has 30, the four-cell area 5 + 6 + 7 + 8 = 26.
    assert areas["cells"].tolist() == [1, 4]
    assert areas["children"].tolist() == [30.0, 26.0]
    assert areas["unserved"].tolist() == [4.0, 0.0]
    # Union of g00, g10, g21, g22: four 100 m squares = 40 000 m2.
    assert areas.geometry.area.tolist() == pytest.approx([10_000.0, 40_000.0])
    # Nearest schools (100 m/min): g02's centroid (50, 250) is 200 m from North, and
    # hypot(400, 100) = 412 m from East. The big area's best cell for East is g21 (250, 150):
    # 200 m; for North g22 (250, 250): hypot(200, 200) = 283 m. Far is farther for both.
    assert areas["nearest_schools"].tolist() == ["North; East", "East; North"]
    assert areas["nearest_school_ids"].tolist() == ["N; E", "E; N"]
    assert areas.crs == cells.crs


def test_under_provisioned_areas_on_one_flag():
    # Only g02 has unserved children.
    cells, flags, costs, schools = grid_case()
    flags["flag_unserved"] = flags["unserved"] > 0
    areas = under_provisioned_areas(flags, cells, costs, schools, flag="flag_unserved")
    assert areas["cells"].tolist() == [1]
    assert areas["nearest_schools"].tolist() == ["North; East; Far"]


# --- bad input -------------------------------------------------------------------------------


def test_flags_must_align_with_cells():
    cells, flags, costs, schools = grid_case()
    with pytest.raises(ValidationError, match="flags must be aligned to cells"):
        under_provisioned_areas(flags.iloc[1:], cells, costs, schools)


def test_flags_missing_column_is_named():
    cells, flags, costs, schools = grid_case()
    with pytest.raises(ValidationError, match="flags: column 'flag_time' is missing"):
        under_provisioned_areas(flags, cells, costs, schools, flag="flag_time")


def test_missing_classes_column_is_named():
    cells, schools, costs = line_case()
    result = assign(cells, schools, costs)
    with pytest.raises(ValidationError, match="schools: column 'classes_primary' is missing"):
        school_provision(result, schools, classes_column="classes_primary")


@pytest.mark.parametrize("value", [0, -1, np.nan])
def test_bad_norms(value):
    cells, schools, costs = line_case()
    result = assign(cells, schools, costs)
    table = school_provision(result, schools)
    with pytest.raises(ValidationError, match="radius_m must be a finite number > 0"):
        cell_flags(result, cells, table, radius_m=value)
    with pytest.raises(ValidationError, match="class_cap must be a finite number > 0"):
        school_provision(result, schools, class_cap=value)
    with pytest.raises(ValidationError, match="threshold must be a finite number > 0"):
        two_step_fca(cells, schools, costs, threshold=value)


def test_two_step_fca_bad_input():
    cells, schools, costs = line_case()
    with pytest.raises(ValidationError, match="cells: column 'pupils' is missing"):
        two_step_fca(cells, schools, costs, threshold=10, demand_column="pupils")
    other = schools.assign(school_id="zz")
    with pytest.raises(ValidationError, match=r"schools zz \(1 row\) are not in the travel costs"):
        two_step_fca(cells, other, costs, threshold=10)
    with pytest.raises(ValidationError, match="cost must be 'minutes' or 'metres'"):
        two_step_fca(cells, schools, costs, threshold=10, cost="hours")


def test_area_balance_missing_column():
    with pytest.raises(ValidationError, match="schools: column 'township_code' is missing"):
        area_balance(
            pd.DataFrame({"township_code": ["A"], "children": [1]}), pd.DataFrame({"capacity": [1]})
        )


def test_travel_costs_table_used_for_areas_must_cover_cells():
    cells, flags, costs, schools = grid_case()
    small = TravelCosts(
        sparse.csr_array([[1.0]]),
        sparse.csr_array([[1.0]]),
        pd.Index(["g00"]),
        pd.Index(["N"]),
        "x",
    )
    with pytest.raises(ValidationError, match="cells g01, g02, .* are not in the travel costs"):
        under_provisioned_areas(flags, cells, small, schools)


def test_bad_area_options():
    cells, flags, costs, schools = grid_case()
    with pytest.raises(ValidationError, match="n_schools must be a whole number >= 1"):
        under_provisioned_areas(flags, cells, costs, schools, n_schools=0)
