"""Tests of the synthetic study generator and of the bundled Anshan sample study."""

from __future__ import annotations

import importlib.util
from itertools import combinations
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from layout import schema
from layout.errors import ValidationError
from layout.synthetic import YIELDS, Calibration, synthetic_study
from layout.synthetic.grid import grid_cells
from layout.synthetic.population import apportion, cohorts
from layout.synthetic.road import street_grid, tree_edges
from layout.synthetic.township import zones

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "anshan"
BOUNDARIES = ROOT / "data" / "boundaries" / "anshan.gpkg"
URBAN3 = {"210302": 511_574, "210303": 408_118, "210304": 529_275}  # census + zones, see README
ENROLMENT_COLUMNS = schema.enrolment_columns()
CLASSES_COLUMNS = schema.classes_columns()


def _load_make_sample():
    """Import data/anshan/make_sample.py (not a package module)."""
    spec = importlib.util.spec_from_file_location("make_sample", SAMPLE / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def counties() -> gpd.GeoDataFrame:
    """Return the real Anshan county boundaries (EPSG:4490)."""
    return gpd.read_file(BOUNDARIES, layer="counties")


@pytest.fixture(scope="module")
def urban3(counties) -> dict[str, pd.DataFrame]:
    """Generate the three central districts at 1 km cells, sharing the city core as seat."""
    subset = counties[counties["county_code"].isin(URBAN3)]
    seats = dict.fromkeys(URBAN3, (122.99, 41.11))
    return synthetic_study(
        subset, populations=URBAN3, cell_size_m=1_000, calibration=Calibration(seats=seats)
    )


@pytest.fixture(scope="module")
def sample() -> dict[str, pd.DataFrame]:
    """Regenerate the whole Anshan sample afresh (about 2 s)."""
    return _load_make_sample().build()


# --- helpers checked by hand -------------------------------------------------------------


def test_apportion_largest_remainder():
    """Integer totals split by largest remainders."""
    # 10 * (0.5, 0.3, 0.2) = 5, 3, 2 exactly; 7 split evenly three ways: quotas 2.33 each,
    # floors 2+2+2 = 6, the one left goes to the first (stable order of equal remainders).
    assert apportion(10, np.array([5.0, 3.0, 2.0])).tolist() == [5, 3, 2]
    assert apportion(7, np.array([1.0, 1.0, 1.0])).tolist() == [3, 2, 2]


def test_cohorts_split_study_totals_by_residents():
    """Study-wide cohort totals are rounded once, then split between counties."""
    # Study age-0 total: round(1,448,967 * 4.8 / 1000) = round(6,955.04) = 6,955.
    # Quotas: 511,574 * 4.8e-3 = 2,455.555; 408,118 -> 1,958.966; 529,275 -> 2,540.520.
    # Floors 2,455 + 1,958 + 2,540 = 6,953; the 2 left go to the largest remainders
    # (.966 Tiexi, .555 Tiedong): 2,456 / 1,959 / 2,540.
    got = cohorts(np.array(list(URBAN3.values())), np.array([4.8]))
    assert got[:, 0].tolist() == [2_456, 1_959, 2_540]


def test_grid_cells_clip_edge_squares():
    """Squares crossing the county edge are clipped; squares strictly inside are kept."""
    # A 1000 x 750 m box on a 500 m grid: two full squares (250,000 m2) on the bottom row,
    # two half squares (500 x 250 = 125,000 m2) on top; all touch the edge, none is interior.
    cells = grid_cells(shapely.box(0, 0, 1000, 750), size=500)
    assert sorted(cells.area.tolist()) == [125_000.0, 125_000.0, 250_000.0, 250_000.0]
    inside = grid_cells(shapely.box(-10, -10, 1010, 1010), size=500)
    assert inside.interior.sum() == 4  # the four squares of [0, 1000]^2 lie strictly inside


def test_zones_are_voronoi_regions_in_seat_order():
    """Zones are the Voronoi regions of their seats, in the order of the seats."""
    # Seats at x = 1 and x = 3 split the 4 x 2 box at x = 2: areas 4 and 4, seat order kept.
    got = zones(shapely.box(0, 0, 4, 2), np.array([[3.0, 1.0], [1.0, 1.0]]))
    assert [g.bounds for g in got] == [(2.0, 0.0, 4.0, 2.0), (0.0, 0.0, 2.0, 2.0)]


def test_tree_edges_is_minimum_spanning_tree():
    """The road tree has the length of the minimum spanning tree found by enumeration."""
    # Unit square corners plus a far point: the MST takes three unit sides (3.0) and the
    # shortest link to (5, 0), from (1, 0), length 4: total 7, checked against the 125
    # spanning trees of the complete graph on 5 nodes, found by enumeration.
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [5.0, 0.0]])
    edges = tree_edges(xy)
    length = np.hypot(*(xy[edges[:, 0]] - xy[edges[:, 1]]).T).sum()
    assert length == pytest.approx(_brute_force_mst(xy)) == pytest.approx(7.0)


def _brute_force_mst(xy: np.ndarray) -> float:
    """Shortest total length over every 4-edge subset (210) that connects the 5 points."""
    n = len(xy)
    pairs = list(combinations(range(n), 2))
    best = np.inf
    for subset in combinations(pairs, n - 1):
        rows, cols = zip(*subset, strict=True)
        graph = coo_matrix((np.ones(n - 1), (rows, cols)), shape=(n, n))
        if connected_components(graph, directed=False)[0] == 1:
            best = min(best, sum(np.hypot(*(xy[a] - xy[b])) for a, b in subset))
    return best


def test_street_grid_lines_cross_at_shared_vertices():
    """An urban grid: one line per street, every crossing a vertex of both streets."""
    # (0, 0)-(500, 1000) at 250 m: 5 streets east (y = 0 ... 1000) of 500 m and 3 north
    # (x = 0, 250, 500) of 1000 m: 5,500 m; 5 x 3 = 15 crossings, each on two streets.
    grid = street_grid(np.array([0.0, 0.0]), np.array([500.0, 1000.0]), 250.0)
    assert len(grid) == 8
    assert shapely.length(grid["geometry"].to_numpy()).sum() == pytest.approx(5_500.0)
    points = shapely.get_coordinates(grid["geometry"].to_numpy())
    _, counts = np.unique(points, axis=0, return_counts=True)
    assert len(counts) == 15 and (counts == 2).all()
    # With a centre, one more street joins it to the nearest crossing, (0, 500).
    joined = street_grid(
        np.array([0.0, 0.0]), np.array([500.0, 1000.0]), 250.0, centre=np.array([110.0, 600.0])
    )
    assert shapely.get_coordinates(joined["geometry"].iloc[-1]).tolist() == [
        [110.0, 600.0], [0.0, 500.0],
    ]  # fmt: skip


# --- the generator ---------------------------------------------------------------------


def test_same_seed_same_layers(counties, urban3):
    """The same seed gives identical layers; another seed gives other cells."""
    subset = counties[counties["county_code"].isin(URBAN3)]
    seats = dict.fromkeys(URBAN3, (122.99, 41.11))
    again = synthetic_study(
        subset, populations=URBAN3, cell_size_m=1_000, calibration=Calibration(seats=seats)
    )
    for name, table in urban3.items():
        _assert_same(table, again[name])
    other = synthetic_study(
        subset, populations=URBAN3, seed=7, cell_size_m=1_000, calibration=Calibration(seats=seats)
    )
    assert not other["population"]["residents"].equals(urban3["population"]["residents"])


def test_calibration_of_the_subset(urban3):
    """Residents match the census exactly; age 0 and all children as designed."""
    population = urban3["population"]
    totals = population.groupby("county_code")["residents"].sum()
    assert totals.to_dict() == URBAN3  # exact, so within 1 % of the census
    # Age 0 per county as worked out in test_cohorts_split_study_totals_by_residents.
    assert population.groupby("county_code")["age_0"].sum().tolist() == [2_456, 1_959, 2_540]
    # All ages: the default cohort rates sum to 100 per 1000, so about 10 % of residents
    # (per-age rounding moves the total by at most 15 / 2 children).
    children = population[schema.age_columns()].to_numpy().sum()
    assert abs(children - 144_896.7) <= 7.5


@pytest.mark.parametrize("layers", ["urban3", "sample"])
def test_layers_follow_the_schema(layers, request):
    """Every layer has the schema's columns, values, geometry types and unique ids."""
    study = request.getfixturevalue(layers)
    assert set(study) == set(schema.LAYERS) - {"halo_schools"}  # no county outside the study
    for name in study:
        _assert_conforms(study[name], schema.LAYERS[name])
        assert study[name].attrs["synthetic"] == "true"


def test_schools_are_consistent(sample):
    """Grades within the level, classes where pupils are, beds for boarders, roster sizes."""
    schools = sample["schools"]
    enrol = schools[ENROLMENT_COLUMNS].to_numpy()
    classes = schools[CLASSES_COLUMNS].to_numpy()
    for level, grades in schema.LEVEL_GRADES.items():
        outside = [g - 1 for g in schema.GRADES if g not in grades]
        rows = (schools["level"] == level).to_numpy()
        assert enrol[np.ix_(rows, outside)].sum() == 0, level
    assert ((classes > 0) == (enrol > 0)).all()
    assert (schools["boarders"] <= schools["boarding_beds"]).all()
    planned = schools["status"] == "planned"
    assert enrol[planned.to_numpy()].sum() == 0 and (schools.loc[planned, "teachers"] == 0).all()
    teachers = sample["teachers"]
    counts = teachers.groupby("school_id").size()
    assert (
        schools.set_index("school_id")["teachers"] == counts.reindex(schools["school_id"]).fillna(0)
    ).all()
    backbone = teachers.groupby("school_id")["backbone"].sum()
    got = schools.set_index("school_id")["backbone_teachers"]
    assert (got == backbone.reindex(got.index).fillna(0)).all()


def test_enrolment_matches_the_grid(sample):
    """Enrolment by grade is 98 % of the matching cohort of the population grid."""
    # Grade g in 2024 is the cohort aged g + 1 in 2020; 98 % of it is enrolled (binomial),
    # and every enrolled pupil is assigned to a school of the county teaching the grade.
    population = sample["population"]
    schools = sample["schools"]
    for g in schema.GRADES:
        n = population[f"age_{g + 1}"].sum()
        got = schools[f"enrolment_g{g}"].sum()
        assert abs(got - 0.98 * n) <= 4 * np.sqrt(n * 0.98 * 0.02), g


def test_staffing_near_the_norms(sample):
    """Teachers as a whole follow the staffing norms."""
    # Open schools as a whole: primary 1:19 and junior 1:13.5 give the expected teachers;
    # small schools (1.5 per class), boarding staff and the +-15 % draws move it a little.
    schools = sample["schools"]
    primary = schools[ENROLMENT_COLUMNS[:6]].to_numpy().sum()
    junior = schools[ENROLMENT_COLUMNS[6:]].to_numpy().sum()
    expected = primary / 19 + junior / 13.5
    assert 0.95 * expected <= schools["teachers"].sum() <= 1.15 * expected


def test_sample_has_the_cases_the_tools_must_find(sample):
    """The sample holds every situation the planning tools must detect."""
    schools = sample["schools"]
    enrol = schools[ENROLMENT_COLUMNS].to_numpy()
    mean = np.divide(
        enrol, schools[CLASSES_COLUMNS].to_numpy(), where=enrol > 0, out=np.zeros(enrol.shape)
    )
    assert (mean >= 56).any()
    total = enrol.sum(axis=1)
    rural = (schools["setting"] == "rural") & (schools["status"] != "planned")
    assert (rural & (total < 100) & (schools["level"] == "primary")).any()
    points = schools[schools["level"] == "teaching_point"]
    assert len(points) > 0
    top = points[ENROLMENT_COLUMNS].to_numpy().nonzero()[1].max() + 1
    assert top <= 4
    assert ((schools["boarding_beds"] > 0) & (schools["boarders"] > 0)).any()
    assert set(schools["status"]) == set(schema.SCHOOL_STATUS)
    parcels = sample["reserved_land"]
    pairs = parcels.sindex.query(parcels.geometry, predicate="overlaps")
    assert pairs.shape[1] > 0
    developments = sample["developments"]
    future = developments["status"] != "completed"
    assert (future & developments["school_parcel_id"].isna()).any()
    assert (future & developments["school_parcel_id"].notna()).any()


def test_completed_developments_follow_the_yield_model(sample):
    """Observed pupils of completed developments agree with the true yield model."""
    # Sum of Poisson draws has mean = variance = sum of rates; allow 4 standard deviations.
    done = sample["developments"][sample["developments"]["status"] == "completed"]
    for level in ("primary", "junior"):
        b0, b1, b2 = YIELDS[level]
        rate = done["households"] * np.exp(
            b0 + b1 * done["mean_unit_m2"] + b2 * done["price_index"]
        )
        assert abs(done[f"enrolled_{level}"].sum() - rate.sum()) <= 4 * np.sqrt(rate.sum())


def test_townships_partition_the_counties(sample):
    """Township zones cover each county without overlap; 55 rural townships in all."""
    townships = sample["townships"]
    counties = sample["counties"].set_index("county_code")
    area = townships.area.groupby(townships["county_code"]).sum()
    assert np.allclose(area, counties.area.reindex(area.index), rtol=1e-9)
    union = townships.dissolve("county_code").area
    assert np.allclose(union, area, rtol=1e-9)  # no overlaps
    cells = sample["population"]
    assert cells["township_code"].isin(townships["township_code"]).all()
    assert (
        townships.groupby("county_code")["setting"].apply(lambda s: (s == "rural").sum()).sum()
        == 55
    )


def test_roads_form_one_network(sample):
    """Every road is reachable from every other through shared vertices (ends or crossings)."""
    roads = sample["roads"].geometry.to_numpy()
    points, line = shapely.get_coordinates(roads, return_index=True)
    _, node = np.unique(np.round(points, 3), axis=0, return_inverse=True)
    node = node.ravel()
    same = line[1:] == line[:-1]  # consecutive vertices of one line are joined
    graph = coo_matrix(
        (np.ones(same.sum()), (node[:-1][same], node[1:][same])), shape=(node.max() + 1,) * 2
    )
    assert connected_components(graph, directed=False)[0] == 1


def test_urban_road_density_near_the_national_target(sample):
    """About 8 km of street per km2 of built-up area (the urban cells), as the 2016 target."""
    cells = sample["population"]
    built = shapely.union_all(cells.loc[cells["setting"] == "urban", "geometry"].to_numpy())
    streets = sample["roads"].loc[sample["roads"]["road_class"] == "urban", "geometry"]
    km = shapely.length(shapely.intersection(streets.to_numpy(), built)).sum() / 1e3
    assert 7.5 <= km / (built.area / 1e6) <= 9.0


def test_schools_stand_where_the_children_live(sample):
    """Most urban children of primary age live in or next to the cell of a primary school."""
    # Straight line from each urban cell's point to the nearest open school teaching primary
    # grades, at most one cell (500 m) away: the school's own cell and the four beside it.
    cells = sample["population"]
    urban = cells[cells["setting"] == "urban"]
    schools = sample["schools"]
    primary = schools[
        schools["level"].isin(["primary", "nine_year", "teaching_point"])
        & (schools["status"] == "open")
    ]
    points = shapely.get_coordinates(shapely.point_on_surface(urban.geometry.to_numpy()))
    distance = cKDTree(shapely.get_coordinates(primary.geometry.to_numpy())).query(points)[0]
    children = urban[[f"age_{a}" for a in range(6, 12)]].sum(axis=1).to_numpy()
    assert children[distance <= 500.0 + 1e-6].sum() / children.sum() >= 0.8


def test_school_counts_within_the_older_public_figures(sample):
    """Fewer schools and pupils than the public figures of about 2008-2010 (since merged)."""
    # 566 primary schools (teaching points included), 128 junior; 168,000 and 89,000 pupils.
    schools = sample["schools"]
    teaches_primary = schools["level"].isin(["primary", "nine_year", "teaching_point"])
    teaches_junior = schools["level"].isin(["junior", "nine_year"])
    assert teaches_primary.sum() <= 566 and teaches_junior.sum() <= 128
    assert schools[ENROLMENT_COLUMNS[:6]].to_numpy().sum() <= 168_000
    assert schools[ENROLMENT_COLUMNS[6:]].to_numpy().sum() <= 89_000


def test_teaching_points_are_sized_for_their_pupils(sample):
    """A teaching point has places for its pupils, not for a school of full classes."""
    points = sample["schools"][sample["schools"]["level"] == "teaching_point"]
    pupils = points[ENROLMENT_COLUMNS].to_numpy()
    # Room per grade taught (at most grades 1-4) for the largest grade plus a half at most,
    # in fives: never more than 4 x (1.5 x largest + 5); and at least every pupil. (Before
    # issue 16 a point of about 13 pupils had 135-360 places.)
    assert (points["capacity"] >= pupils.sum(axis=1)).all()
    assert (points["capacity"] <= 4 * (1.5 * pupils.max(axis=1) + 5)).all()


def test_invalid_inputs_are_refused_with_every_problem(counties):
    """One ValidationError names every bad input."""
    with pytest.raises(ValidationError) as info:
        synthetic_study(counties, populations={"210302": 1, "999999": 5}, crs="EPSG:4490")
    message = str(info.value)
    assert "210303" in message  # missing residents
    assert "999999" in message  # unknown county
    assert "EPSG:4490" in message  # not projected


# --- the committed sample ---------------------------------------------------------------


def test_committed_files_equal_a_fresh_regeneration(sample):
    """The committed sample files are what make_sample.py produces today."""
    for name in _load_make_sample().GPKG_LAYERS:
        _assert_same(gpd.read_file(SAMPLE / "anshan.gpkg", layer=name), sample[name])
        metadata = pyogrio.read_info(SAMPLE / "anshan.gpkg", layer=name)["layer_metadata"]
        assert metadata["synthetic"] == "true"
    _assert_same(gpd.read_parquet(SAMPLE / "population.parquet"), sample["population"])
    assert (
        b'"synthetic": "true"' in pq.read_schema(SAMPLE / "population.parquet").metadata[b"layout"]
    )
    teachers = pd.read_csv(SAMPLE / "teachers.csv", dtype={"teacher_id": str, "school_id": str})
    _assert_same(teachers, sample["teachers"])


def test_sample_calibration(sample):
    """The sample's residents and age-0 children match the public figures."""
    # 7th census residents, with the 高新区 (122,595) counted in 立山 (406,680) and the
    # 开发区 (98,721) in 铁西 (309,397): 529,275 and 408,118; the city total is 3,325,372.
    totals = sample["population"].groupby("county_code")["residents"].sum()
    assert totals["210304"] == 529_275 and totals["210303"] == 408_118
    assert totals.sum() == 3_325_372
    # Age 0: round(3,325,372 * 4.8 / 1000) = round(15,961.79) = 15,962.
    assert sample["population"]["age_0"].sum() == 15_962


def test_sample_files_are_small():
    """The sample files together stay under 6 MB."""
    files = [SAMPLE / "anshan.gpkg", SAMPLE / "population.parquet", SAMPLE / "teachers.csv"]
    assert sum(f.stat().st_size for f in files) < 6 * 2**20


# --- assertions --------------------------------------------------------------------------


def _assert_conforms(table: pd.DataFrame, spec: schema.LayerSpec) -> None:
    """Check one layer against its schema spec."""
    missing = [c for c in spec.required if c not in table.columns]
    assert not missing, (spec.name, missing)
    assert table[spec.id_column].notna().all() and table[spec.id_column].is_unique, spec.name
    for column in spec.counts:
        if column in spec.optional and column not in table.columns:
            continue  # an optional column the sample does not make
        values = table[column].to_numpy()
        assert np.issubdtype(values.dtype, np.integer) and (values >= 0).all(), column
    for column in spec.numbers:
        values = table[column].to_numpy(dtype=float)
        assert np.isfinite(values).all() and (values >= 0).all(), column
    for column in spec.text:
        if column not in spec.optional:
            assert table[column].notna().all() and (table[column].astype(str) != "").all(), column
    for column, allowed in spec.choices.items():
        assert table[column].isin(allowed).all(), column
    if spec.geometry:
        geometry = table.geometry
        assert geometry.geom_type.isin(spec.geometry).all(), spec.name
        assert geometry.is_valid.all() and not geometry.is_empty.any(), spec.name


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Equal columns and values; geometries equal coordinate by coordinate (1 mm)."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for column in want.columns:
        if column == "geometry":
            a, b = got.geometry.to_numpy(), want.geometry.to_numpy()
            assert (shapely.get_num_coordinates(a) == shapely.get_num_coordinates(b)).all()
            assert np.allclose(shapely.get_coordinates(a), shapely.get_coordinates(b), atol=1e-3)
        elif pd.api.types.is_numeric_dtype(want[column]):
            assert np.array_equal(got[column].to_numpy(float), want[column].to_numpy(float)), column
        else:
            left = got[column].astype(object).where(got[column].notna(), None)
            right = want[column].astype(object).where(want[column].notna(), None)
            assert left.tolist() == right.tolist(), column
