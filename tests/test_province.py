"""County-by-county runs: partitions with halo schools, serial, process and Dask engines, faults."""

from __future__ import annotations

import hashlib
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from distributed import LocalCluster

from layout.access import cost_method
from layout.cli import main
from layout.demand import focus_scenario, scenario_names, study_yields
from layout.errors import CountyRunError, ValidationError
from layout.maps import save_html
from layout.maps.budget import MAX_PAGE_MB
from layout.maps.provision import provision_map
from layout.runs.outputs import PER_CELL
from layout.runs.plan import PlanResult, analyse, plan
from layout.runs.province import (
    CRASH_ENV,
    MergedResult,
    merge_counties,
    merge_tables,
    partition_study,
    run_counties,
)
from layout.study import study_from_toml
from layout.synthetic import Calibration, synthetic_study
from tests.tinystudy import TOML, X0, Y0, write_tiny_study
from tests.tinystudy import schools as tiny_schools

ROOT = Path(__file__).resolve().parents[1]
URBAN3 = {"210302": 511_574, "210303": 408_118, "210304": 529_275}  # see test_synthetic.py
CRASHING = "210303"
STUDY_TOML = """
[study]
name = "urban3"
title = "铁东 铁西 立山 (synthetic)"
synthetic = true
crs = "EPSG:4550"
base_year = 2020
school_year = 2024
plan_start = 2025
plan_end = 2030
profile = "anshan-2020"

[standards.class_size]
primary_cap = 45

[standards.service]
cross_county_enrolment = true

[scenarios.medium]
description = "flat births"
birth_rate = { 2021 = 4.33, 2022 = 3.65 }
child_share = 0.10
net_migration = { urban = 0.005, rural = -0.015 }
population_growth = { all = -0.0092 }
"""


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three Anshan districts from the synthetic generator at 2 km cells (68 schools)."""
    folder = tmp_path_factory.mktemp("urban3")
    counties = gpd.read_file(ROOT / "data" / "boundaries" / "anshan.gpkg", layer="counties")
    seats = dict.fromkeys(URBAN3, (122.99, 41.11))
    layers = synthetic_study(
        counties[counties["county_code"].isin(URBAN3)],
        populations=URBAN3,
        cell_size_m=2_000,
        calibration=Calibration(seats=seats),
    )
    text = STUDY_TOML
    for name, frame in layers.items():
        frame.to_parquet(folder / f"{name}.parquet")
        text += f'\n[layers.{name}]\npath = "{name}.parquet"\n'
    (folder / "study.toml").write_text(text, encoding="utf-8")
    return folder / "study.toml"


@pytest.fixture(scope="module")
def serial(study: Path, tmp_path_factory: pytest.TempPathFactory) -> MergedResult:
    """Run the counties one at a time in this process; check the inputs are unchanged."""
    root = tmp_path_factory.mktemp("serial")
    before = _hashes(study.parent)
    result = run_counties(
        study, out_dir=root / "out", maps_dir=root / "maps", workers=0, progress=False
    )
    assert _hashes(study.parent) == before, "the study's input files were modified"
    return result


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """Start a local Dask cluster of two worker processes; the task of 210303 dies once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CRASH_ENV, CRASHING)  # seen by the worker processes started now
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
    with cluster:
        yield cluster.scheduler_address


def _assert_same_tables(a: MergedResult, b: MergedResult) -> None:
    assert list(a.tables) == list(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], obj=name)
    assert list(a.layers) == list(b.layers)
    for name in a.layers:
        pd.testing.assert_frame_equal(a.layers[name], b.layers[name], obj=name)
    for name in PER_CELL:
        pd.testing.assert_frame_equal(
            pd.concat(a.per_cell(name)), pd.concat(b.per_cell(name)), obj=name
        )


def test_serial_outputs(serial: MergedResult) -> None:
    out = serial.outputs[0].parent
    assert sorted(p.name for p in out.iterdir()) == [
        ".layout-plan.json",
        "assignment",
        "cell_flags",
        "cell_reasons",
        "cells.parquet",
        "charts",
        "counties",
        "demand",
        "index.html",
        "partitions",
        "results.gpkg",
        "site_coverage",
        "tables.xlsx",
    ]
    charts = sorted(p.name for p in (out / "charts").iterdir())
    assert charts == [f"demand_{code}.png" for code in sorted(URBAN3)]
    names = {p.name for p in serial.outputs}
    assert {"overview.html", "provision.html", "sites.html", "index.html"} <= names
    assert serial.counties_run == tuple(sorted(URBAN3))
    assert list(serial.seconds) == ["partition", "counties", "merge", "outputs"]
    layers = {row[0] for row in pyogrio.list_layers(out / "results.gpkg")}
    assert {"counties", "schools", "class_size_ledger", "profile"} <= layers
    # Per-cell demand beside it, one folder per county (and plan year inside).
    parts = sorted(p.name for p in (out / "demand").iterdir())
    assert parts == [f"county_code={code}" for code in sorted(URBAN3)]
    cells = gpd.read_parquet(out / "cells.parquet")
    demand = pd.read_parquet(out / "demand", columns=["cell_id"])
    assert set(demand["cell_id"]) <= set(cells["cell_id"])
    assert set(cells["county_code"]) == set(URBAN3)


@pytest.fixture(scope="module")
def whole(study: Path) -> PlanResult:
    """The same analysis of the whole study in one piece."""
    return analyse(study_from_toml(study))


def test_merged_tables_equal_the_whole_study(serial: MergedResult, whole: PlanResult) -> None:
    """Independent method: the same analysis of the whole study in one piece.

    The indicator and demand tables are per school, per county or per township, so splitting
    the study by county must neither lose nor double count a school (halo schools included).
    """
    for name in ("class_size_ledger", "funding", "staffing", "class_size_by_county"):
        pd.testing.assert_frame_equal(
            serial.tables[name], whole.tables[name], check_dtype=False, obj=name
        )
    funding = serial.tables["funding"]
    assert funding["school_id"].is_unique
    assert set(funding["school_id"]) == set(whole.study["schools"]["school_id"])
    counts = whole.study["schools"].groupby("county_code").size()
    by_county = serial.tables["class_size_by_county"].set_index("county_code")["schools"]
    assert by_county.to_dict() == counts.to_dict()
    # The profile and the yield model (fitted once on the whole study, handed to every
    # county) are the same in every county: taken once, equal to the whole study's.
    assert serial.tables["profile"].equals(whole.tables["profile"])
    pd.testing.assert_frame_equal(serial.tables["yield_model"], whole.tables["yield_model"])
    # City-wide targets span every county: computed again on the merged study, they equal the
    # whole study's (a rural county alone has no urban school to pair its schools with).
    pd.testing.assert_frame_equal(
        serial.tables["school_pairs"], whole.tables["school_pairs"], obj="school_pairs"
    )


def test_per_cell_parquet_holds_every_cell_of_every_county_and_year(
    serial: MergedResult, whole: PlanResult
) -> None:
    """Children in = children out: the province's per-cell Parquet, county by county, against
    the same analysis of the whole study in one piece (independent: one process, one frame)."""
    out = serial.outputs[0].parent
    demand = pd.read_parquet(out / "demand")
    expected = whole.cell_demand()
    assert expected is not None
    # One folder per county, one per plan year inside, as many files as counties wrote.
    for code in URBAN3:
        years = sorted(p.name for p in (out / "demand" / f"county_code={code}").iterdir())
        assert years == [f"year={y}" for y in sorted(expected["year"].unique())]
    assert len(demand) == len(expected)
    keys = ["county_code", "year", "scenario"]
    got = demand.astype({"county_code": str, "year": int}).groupby(keys)
    want = expected.groupby(keys)
    for level in ("primary", "junior"):
        pd.testing.assert_series_equal(
            got[level].sum(), want[level].sum(), check_index_type=False, obj=level
        )
    pairs = demand[["cell_id", "scenario"]].astype(str).drop_duplicates()
    assert len(pairs) * expected["year"].nunique() == len(demand)  # each cell every year
    assert set(demand["cell_id"]) == set(expected["cell_id"])
    # The other per-cell tables: as many rows as the counties' results, flags and flows with
    # their geometry, every row under its county's folder.
    for name in ("cell_flags", "cell_reasons", "assignment"):
        table = (gpd if name != "cell_reasons" else pd).read_parquet(out / name)
        assert len(table) == sum(len(part) for part in serial.per_cell(name)) > 0, name
        assert set(table["county_code"].astype(str)) == set(URBAN3), name
    flags = gpd.read_parquet(out / "cell_flags")
    assert flags.crs == whole.study.crs
    assert flags.geom_type.isin(["Polygon", "MultiPolygon"]).all()  # cells cut by a border
    pd.testing.assert_series_equal(
        flags.groupby("level")["children"].sum(),
        whole.layers["cell_flags"].groupby("level")["children"].sum(),
    )


def test_results_gpkg_holds_what_a_planner_opens(serial: MergedResult) -> None:
    """Summaries, flags (areas), proposals and catchments; the per-cell tables are beside it."""
    out = serial.outputs[0].parent
    layers = {row[0] for row in pyogrio.list_layers(out / "results.gpkg")}
    planner = {"counties", "schools", "access_summary", "access_balance", "demand_by_township",
               "under_provisioned", "catchments", "site_proposals", "class_size_by_county"}  # fmt: skip
    assert planner <= layers
    assert not layers & set(PER_CELL)
    assert (out / "results.gpkg").stat().st_size < 10 * 2**20


def test_the_index_states_the_travel_method_the_partition_measured(
    serial: MergedResult, whole: PlanResult
) -> None:
    """The whole study's roads are measured once, when partitioned, not again for the index."""
    assert serial.cost_method is not None and serial.cost_method.method == "roads"
    assert serial.cost_method == cost_method(whole.study)
    assert "road_network" not in vars(serial.study)  # the merge never built the network


def test_merge_holds_no_per_cell_table(serial: MergedResult) -> None:
    assert not (set(serial.tables) | set(serial.layers)) & set(PER_CELL)
    assert serial.demand is None


def test_province_provision_map_stays_under_the_page_budget(
    serial: MergedResult, tmp_path: Path
) -> None:
    """The cells as images (a budget of no feature), read county by county: one per view."""
    options = {
        "balance": serial.tables["access_balance"],
        "schools": serial.tables["access_schools"],
    }
    vector = provision_map(serial.study, reasons=serial.per_cell("cell_reasons"), **options)
    raster = provision_map(
        serial.study, reasons=serial.per_cell("cell_reasons"), max_features=0, **options
    )
    pages = {name: save_html(m, tmp_path / f"{name}.html") for name, m in
             (("vector", vector), ("raster", raster))}  # fmt: skip
    assert all(page.stat().st_size < MAX_PAGE_MB * 2**20 for page in pages.values())
    balance = serial.tables["access_balance"]
    views = balance[["level", "scenario", "year"]].drop_duplicates()
    images = {name: page.read_text(encoding="utf-8").count("data:image/png;base64,")
              for name, page in pages.items()}  # fmt: skip
    assert images["raster"] - images["vector"] == len(views) + 1  # and the one shown first


def test_county_first_access_equals_the_whole_study(
    serial: MergedResult, whole: PlanResult
) -> None:
    """Each county seats its own children first, in one piece or county by county.

    Each county is solved on its own in both kinds of run, so their summaries are the same
    row for row. The study allows cross-county enrolment:
    the districts are short of places, so some children take spare places across a border,
    never more than their county left unserved nor more than a school had spare.
    """
    keys = ["county_code", "scenario", "year", "level"]
    figures = ["children", "assigned", "unserved", "within_norm", "mean_minutes"]
    merged = serial.tables["access_summary"]
    pd.testing.assert_frame_equal(
        merged.set_index(keys)[figures].sort_index(),
        whole.tables["access_summary"].set_index(keys)[figures].sort_index(),
        rtol=1e-9,
    )
    seats = serial.tables["border_seats"]
    assert len(seats) > 0 and (seats["county_code"] != seats["school_county_code"]).all()
    assert seats["metres"].max() <= 30_000
    summary = merged.set_index(["county_code", *keys])
    assert (summary["across_border"] <= summary["unserved"] + 1e-6).all()
    assert seats["children"].sum() == pytest.approx(summary["across_border"].sum())
    schools = serial.tables["access_schools"]
    assert (schools["load_across_border"] <= schools["spare"] + 1e-6).all()
    assert schools["load_across_border"].sum() == pytest.approx(seats["children"].sum())
    assert "border_arcs" not in serial.tables and "border_seats" in whole.tables


def test_partitions_hold_each_county_and_its_halo(study: Path, tmp_path: Path) -> None:
    tomls = partition_study(study, tmp_path / "parts", halo_m=2_000)
    assert [p.parent.name for p in tomls] == sorted(URBAN3)
    original = tomllib.loads(study.read_text(encoding="utf-8"))
    whole = study_from_toml(study)
    schools = whole["schools"]
    for toml in tomls:
        code = toml.parent.name
        config = tomllib.loads(toml.read_text(encoding="utf-8"))
        # The study's own tables, and the yields fitted once on the whole study.
        assert {k: v for k, v in config.items() if k != "layers"} == {
            **{k: v for k, v in original.items() if k != "layers"},
            "yields": study_yields(whole).to_table(),
        }
        county = study_from_toml(toml)
        assert set(county["schools"]["county_code"]) == {code}
        assert set(county["population"]["county_code"]) == {code}
        assert set(county["teachers"]["school_id"]) <= set(county["schools"]["school_id"])
        # Independent method: shapely distance from every other county's school to the county.
        polygon = county["counties"].geometry.iloc[0]
        others = schools[schools["county_code"] != code]
        near = others[others.geometry.distance(polygon) <= 2_000]["school_id"]
        halo = county["halo_schools"]
        assert sorted(halo["school_id"]) == sorted(near)
        assert len(halo) > 0 and not halo["school_id"].isin(county["schools"]["school_id"]).any()
    manifest = (tmp_path / "parts" / "partition.json").read_text(encoding="utf-8")
    assert '"halo_m": 2000.0' in manifest


def test_default_halo_is_the_bus_distance_of_the_longest_norm(study: Path, tmp_path: Path) -> None:
    # anshan-2020: the longest rural norm is 60 minutes (junior) at 30 km/h: 30 km, more than
    # the urban radii (500 m, 1000 m). The three districts are smaller than that, so every
    # school of the other two districts is a halo school.
    tomls = partition_study(study, tmp_path / "parts")
    manifest = (tmp_path / "parts" / "partition.json").read_text(encoding="utf-8")
    assert '"halo_m": 30000.0' in manifest
    schools = study_from_toml(study)["schools"]
    for toml in tomls:
        halo = pd.read_parquet(toml.parent / "halo_schools.parquet")
        code = toml.parent.name
        assert len(halo) == (schools["county_code"] != code).sum()


def test_dask_run_equals_serial_after_a_worker_death(
    study: Path, serial: MergedResult, scheduler: str, tmp_path: Path
) -> None:
    result = run_counties(
        study,
        out_dir=tmp_path / "out",
        maps_dir=tmp_path / "maps",
        scheduler=scheduler,
        progress=False,
    )
    _assert_same_tables(result, serial)
    attempts = result.runs.set_index("county_code")["attempts"].to_dict()
    assert attempts == {"210302": 1, CRASHING: 2, "210304": 1}


def test_cli_workers_equals_serial_after_a_worker_death(
    study: Path, serial: MergedResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CRASH_ENV, CRASHING)
    out = tmp_path / "out"
    args = ["plan", str(study), "--out", str(out), "--maps", str(tmp_path / "maps")]
    assert main([*args, "--workers", "2", "--quiet"]) == 0
    serial_gpkg = serial.outputs[0]
    names = [row[0] for row in pyogrio.list_layers(serial_gpkg)]
    assert names == [row[0] for row in pyogrio.list_layers(out / "results.gpkg")]
    for name in names:
        pd.testing.assert_frame_equal(
            pyogrio.read_dataframe(out / "results.gpkg", layer=name),
            pyogrio.read_dataframe(serial_gpkg, layer=name),
            obj=name,
        )
    for name in ("cells.parquet", *PER_CELL):
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / name), pd.read_parquet(serial_gpkg.parent / name), obj=name
        )
    # The county that died was run twice; the county running beside it when the pool broke
    # was terminated, not charged with an attempt.
    attempts = {
        folder.name: sorted(p.name for p in folder.iterdir())
        for folder in (out / "counties" / ".attempts").iterdir()
    }
    assert attempts == {"210302": ["0"], CRASHING: ["0", "1"], "210304": ["0"]}


def test_no_retry_fails_naming_the_county_then_resume_completes(
    study: Path, serial: MergedResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {"out_dir": tmp_path / "out", "maps_dir": tmp_path / "maps", "progress": False}
    monkeypatch.setenv(CRASH_ENV, CRASHING)
    with pytest.raises(CountyRunError, match=f"county {CRASHING} failed") as info:
        run_counties(study, workers=2, retries=0, **options)
    assert list(info.value.counties) == [CRASHING]
    counties = tmp_path / "out" / "counties"
    finished = {
        code: (counties / code / "done").stat().st_mtime_ns for code in ("210302", "210304")
    }
    assert not (counties / CRASHING).exists()
    assert not (tmp_path / "out" / "results.gpkg").exists()
    monkeypatch.delenv(CRASH_ENV)
    result = run_counties(study, workers=0, resume=True, **options)
    assert {c: (counties / c / "done").stat().st_mtime_ns for c in finished} == finished
    assert result.runs.set_index("county_code")["kept"].to_dict() == {
        "210302": True,
        CRASHING: False,
        "210304": True,
    }
    _assert_same_tables(result, serial)


def test_merge_refuses_a_missing_county(serial: MergedResult, tmp_path: Path) -> None:
    out = serial.outputs[0].parent
    shutil.copytree(out / "counties", tmp_path / "counties")
    (tmp_path / "counties" / "210304" / "done").unlink()
    with pytest.raises(CountyRunError, match="county 210304 failed: no finished result"):
        merge_counties(out / "partitions", tmp_path / "counties")


def test_merge_tables_rules() -> None:
    # A table with county_code is stacked in code order; one without, the same everywhere, is
    # kept once; one that differs gets the code in front; a rule replaces all that.
    first = {"t": pd.DataFrame({"county_code": ["b"], "n": [1]}), "u": pd.DataFrame({"k": [1]})}
    second = {"t": pd.DataFrame({"county_code": ["a"], "n": [2]}), "u": pd.DataFrame({"k": [2]})}
    same = {"p": pd.DataFrame({"v": ["x"]})}
    merged = merge_tables({"b": first | same, "a": second | same})
    assert merged["t"].to_dict("list") == {"county_code": ["a", "b"], "n": [2, 1]}
    assert merged["u"].to_dict("list") == {"county_code": ["a", "b"], "k": [2, 1]}
    assert merged["p"].to_dict("list") == {"v": ["x"]}
    # A school seen by two counties (its own and a neighbour's halo): loads 3 + 4 = 7.
    loads = {
        "a": {"load": pd.DataFrame({"school_id": ["S1", "S2"], "children": [3, 5]})},
        "b": {"load": pd.DataFrame({"school_id": ["S1"], "children": [4]})},
    }

    def summed(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
        stacked = pd.concat(tables.values())
        return stacked.groupby("school_id", as_index=False)["children"].sum()

    merged = merge_tables(loads, rules={"load": summed})
    assert merged["load"].to_dict("list") == {"school_id": ["S1", "S2"], "children": [7, 5]}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 2, "scheduler": "tcp://127.0.0.1:8786"}, "not both"),
        ({"workers": -1}, "workers must be"),
        ({"retries": -1}, "retries must be"),
    ],
)
def test_bad_options(options: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=message):
        run_counties(None, out_dir=tmp_path, maps_dir=tmp_path, progress=False, **options)
    assert not any(tmp_path.iterdir())


def _halo_study(folder: Path, rows: list[tuple[str, str]]) -> Path:
    """Write the tiny study with halo schools (school_id, county_code) 3 km east of B."""
    halo = tiny_schools().iloc[[2] * len(rows)].reset_index(drop=True)
    point = gpd.GeoSeries.from_xy([X0 + 23_000], [Y0 + 5_000], crs="EPSG:4550").to_crs(4490)
    halo["school_id"] = [r[0] for r in rows]
    halo["county_code"] = [r[1] for r in rows]
    halo["township_code"] = "210305101"
    halo[["lon", "lat"]] = (round(point.x[0], 7), round(point.y[0], 7))
    toml = TOML + '\n[layers.halo_schools]\npath = "halo.csv"\nx = "lon"\ny = "lat"\n'
    toml += 'crs = "EPSG:4490"\n'
    path = write_tiny_study(folder, toml=toml)
    halo.to_csv(folder / "halo.csv", index=False)
    return path


def test_study_keeps_halo_schools_outside_its_area(tmp_path: Path) -> None:
    # H1 lies 3 km outside county B, in county 210305 which the study does not hold: it is
    # kept (no warning: pytest turns warnings into errors) and not among the study's schools.
    study = study_from_toml(_halo_study(tmp_path, [("H1", "210305")]))
    assert study["halo_schools"]["school_id"].tolist() == ["H1"]
    assert study["schools"]["school_id"].tolist() == ["S1", "S2", "S3"]


def test_study_refuses_halo_schools_of_its_own(tmp_path: Path) -> None:
    path = _halo_study(tmp_path, [("S1", "210305"), ("H2", "210303")])
    with pytest.raises(ValidationError) as info:
        study_from_toml(path)
    text = str(info.value)
    assert "school_id S1" in text and "counted twice" in text
    assert "school_id H2" in text and "move it to the schools layer" in text


@pytest.mark.parametrize("across", [False, True])
def test_rural_site_plan_county_by_county_equals_the_whole_study(
    tmp_path: Path, across: bool
) -> None:
    """The tiny study: 210302 is urban (no rural plan, empty site layers), 210303 rural.

    The merge must keep the rural county's site layers whole although the first county's are
    empty, and draw the sites map from them; the plan equals the whole study's. With
    cross-county enrolment, 210303's juniors may go to S2 (210302, 7-12 km away): a halo
    school of the partition, an other county's school within the halo in the whole study.
    """
    extra = "\n[standards.service]\n"
    extra += "cross_county_enrolment = true\n" if across else ""
    toml = write_tiny_study(tmp_path / "study", toml=TOML + extra)
    merged = run_counties(
        toml, out_dir=tmp_path / "out", maps_dir=tmp_path / "maps", workers=0, progress=False
    )
    whole = analyse(study_from_toml(toml))
    assert merged.sites is not None and whole.sites is not None
    assert len(whole.sites.proposals) > 0 and len(whole.sites.candidates) > 0
    # The coverage is per cell: written county by county as Parquet, not held by the merge,
    # which keeps the cells the plan brings within the norm for the sites map.
    written = gpd.read_parquet(tmp_path / "out" / "site_coverage")
    written = written.astype({"county_code": str})  # read from the folder names as numbers
    gained = whole.sites.coverage
    gained = gained[gained["within_after"] & ~gained["within_before"]]
    assert len(gained) > 0
    for part, mine, theirs in (
        ("proposals", merged.sites.proposals, whole.sites.proposals),
        ("candidates", merged.sites.candidates, whole.sites.candidates),
        ("gained cells", merged.sites.coverage, gained),
        ("coverage", written[whole.sites.coverage.columns], whole.sites.coverage),
    ):
        pd.testing.assert_frame_equal(
            pd.DataFrame(mine).reset_index(drop=True),
            pd.DataFrame(theirs).reset_index(drop=True),
            check_dtype=False,
            obj=part,
        )
    assert (tmp_path / "maps" / "sites.html") in merged.outputs
    # Rural juniors ride the school bus (the profile's mode): where they may cross the border,
    # C4's juniors reach S2 within the 60-minute norm (centroid to school x circuity at the bus
    # speed), so the boarding school takes only C4's grades 4-6; where they may not, they have
    # no junior place and board too.
    study = study_from_toml(toml)
    service = study.standards.service
    c4 = study["population"].set_index("cell_id").geometry["C4"].centroid
    s2 = study["schools"].set_index("school_id").geometry["S2"]
    by_bus = c4.distance(s2) * service.circuity / (service.bus_speed_kmh * 1000 / 60)
    assert 0 < by_bus <= study.standards.minutes("junior", setting="rural")
    cover = written.set_index(["tier", "cell_id"]).loc[("boarding_school", "C4")]
    assert cover["within_before"] == across
    if across:
        assert cover["minutes_before"] == pytest.approx(by_bus)
    demand = whole.demand
    assert demand is not None
    c4_pupils = (
        demand[
            (demand["cell_id"] == "C4")
            & (demand["scenario"] == focus_scenario(scenario_names(demand)))
            & (demand["year"] == demand["year"].max())
        ]
        .groupby("grade")["children"]
        .sum()
    )
    boarding = merged.sites.proposals.set_index("kind").loc["boarding_school"]
    boarders = c4_pupils.loc[4:6].sum() + (0 if across else c4_pupils.loc[7:9].sum())
    assert boarding["children_served"] == pytest.approx(boarders)


def test_a_county_partition_planned_alone_leaves_the_border_to_the_merge(tmp_path: Path) -> None:
    """A partition of a cross-county study, planned on its own, writes its county's results.

    Its neighbours' spare places are unknown to it, so it seats nobody across the border and
    writes none of the border step's inputs (they are for the merge).
    """
    across = "\n[standards.service]\ncross_county_enrolment = true\n"
    toml = write_tiny_study(tmp_path / "study", toml=TOML + across)
    rural = partition_study(toml, tmp_path / "parts")[1]
    result = plan(rural, out_dir=tmp_path / "out", maps_dir=tmp_path / "maps", progress=False)
    assert {"border_unserved", "border_arcs"} <= set(result.tables)
    layers = {row[0] for row in pyogrio.list_layers(tmp_path / "out" / "results.gpkg")}
    assert "access_summary" in layers and not layers & {"border_unserved", "border_arcs"}
    sheets = pd.read_excel(tmp_path / "out" / "tables.xlsx", sheet_name=None)
    assert "就学可达性汇总" in sheets and "跨县就读安排" not in sheets


def test_cli_workers_without_a_number_runs_county_by_county(tmp_path: Path) -> None:
    # `--workers` alone: one process per core, county by county (the counties' result folders
    # are there, each with its finished marker).
    toml = write_tiny_study(tmp_path / "study")
    out = tmp_path / "out"
    args = ["plan", str(toml), "--out", str(out), "--maps", str(tmp_path / "maps")]
    assert main([*args, "--workers", "--quiet"]) == 0
    assert sorted(p.parent.name for p in (out / "counties").glob("*/done")) == ["210302", "210303"]
    assert (out / "results.gpkg").is_file() and (tmp_path / "maps" / "sites.html").is_file()
