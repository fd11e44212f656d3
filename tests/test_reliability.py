"""Reliability: bad inputs get one clear message, outputs are safe to open, a pack is whole.

The tiny study of :mod:`tests.tinystudy`, broken one way per case:

- the bad-input matrix: each row a broken study or option, run through ``layout`` in this
  process, exit code 2 and the message asserted (file, layer, column, rows, fix);
- plausibility warnings worked by hand on the tiny schools;
- formula payloads in school names come out as text in every workbook and CSV (openpyxl
  ``data_type == "s"``), and a URL in a name does not stop the maps;
- a fault test that stops real ``layout plan`` processes at several points (SIGTERM,
  SIGINT, SIGKILL) and checks the pack is the old one or the new one, whole, with no staging
  or temporary file left.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from shapely.geometry import LineString, Point

from layout.cli import main
from layout.errors import ValidationError
from layout.plausibility import COLUMNS, plausibility_warnings
from layout.runs._pack import FAULT_ENV
from layout.runs._preflight import before_work, check_outputs
from layout.runs.province import run_counties
from layout.study import study_from_toml
from tests.tinystudy import CRS, TOML, X0, Y0, write_tiny_study

PAYLOAD = '=HYPERLINK("http://evil.example/x","click")'
"""A formula a spreadsheet would run if the cell were written as one; with a URL in it."""
PAYLOADS = {"S1": PAYLOAD, "S2": "+SUM(1,2)", "S3": "@cmd|' /C calc'!A0", "S4": "-2+3"}


# --------------------------------------------------------------------------- helpers


def _teachers(counts: dict[str, int]) -> pd.DataFrame:
    """A teachers layer with ``counts[school]`` rows per school."""
    rows = [
        {"teacher_id": f"{school}-{i}", "school_id": school, "years_at_school": 1, "backbone": 0}
        for school, n in counts.items()
        for i in range(n)
    ]
    return pd.DataFrame(rows)


def _with_teachers(folder: Path, counts: dict[str, int], toml: str = TOML) -> str:
    _teachers(counts).to_csv(folder / "teachers.csv", index=False)
    return toml + '\n[layers.teachers]\npath = "teachers.csv"\n'


def _roads(folder: Path, lines: list[LineString]) -> str:
    """Write a roads layer of ``lines`` (none: an empty layer) into the study's GeoPackage."""
    roads = gpd.GeoDataFrame(
        {"road_id": [f"r{i}" for i in range(len(lines))], "road_class": "county",
         "speed_kmh": 30.0},
        geometry=gpd.GeoSeries(lines, crs=CRS),
        crs=CRS,
    )  # fmt: skip
    roads.to_file(folder / "layers.gpkg", layer="roads", driver="GPKG")
    return '\n[layers.roads]\npath = "layers.gpkg"\nlayer = "roads"\n'


def _study(folder: Path, *, edit: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] | None = None,
           toml: str = TOML, after: Callable[[Path], str] | None = None) -> Path:  # fmt: skip
    """The tiny study with layer edits; ``after`` may change files and add TOML text."""
    path = write_tiny_study(folder, edit=edit, toml=toml)
    if after is not None:
        path.write_text(path.read_text(encoding="utf-8") + after(folder), encoding="utf-8")
    return path


def _moved(row: int, x: float, y: float) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Move school ``row`` of the tiny schools CSV to EPSG:4550 ``x, y``."""

    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        point = gpd.GeoSeries([Point(x, y)], crs=CRS).to_crs(4490)
        frame = frame.copy()
        frame.loc[row, ["lon", "lat"]] = [point.x[0], point.y[0]]
        return frame

    return edit


def _blank_row(row: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[row, ["lon", "lat"]] = float("nan")
        return frame

    return edit


def _plain_parquet(folder: Path) -> str:
    """Rewrite the population as a Parquet table with WKB geometry and no geo metadata."""
    cells = gpd.read_parquet(folder / "population.parquet")
    plain = pd.DataFrame(cells.drop(columns="geometry")).assign(geometry=cells.geometry.to_wkb())
    table = pa.Table.from_pandas(plain)
    pq.write_table(table.replace_schema_metadata({}), folder / "population.parquet")
    return ""


def _cut(name: str) -> Callable[[Path], str]:
    def cut(folder: Path) -> str:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 3])
        return ""

    return cut


def _toml(old: str, new: str) -> str:
    assert old in TOML
    return TOML.replace(old, new)


# --------------------------------------------------------------------------- bad-input matrix

ROOT_FILE = "taken"
"""A file where the case puts ``--out``."""

BAD_INPUTS = [
    pytest.param(
        {"after": _plain_parquet},
        [],
        ["population.parquet, layer population", "without GeoParquet metadata",
         "Fix: write it with GeoPandas"],
        id="parquet-without-geo-metadata",
    ),
    pytest.param(
        {"after": _cut("layers.gpkg")},
        [],
        ["layers.gpkg", "cannot be read", "damaged or cut short", "Fix: copy it again"],
        id="truncated-gpkg",
    ),
    pytest.param(
        {"after": _cut("population.parquet")},
        [],
        ["population.parquet, layer population", "cannot be read", "Fix: copy it again"],
        id="truncated-parquet",
    ),
    pytest.param(
        # three schools 300 km east: beyond the 30 km halo (60 min by bus at 30 km/h)
        {"edit": {"schools": lambda f: _moved(2, X0 + 300_000, Y0)(
            _moved(1, X0 + 310_000, Y0)(_moved(0, X0 + 320_000, Y0)(f)))}},
        [],
        ["schools.csv, layer schools, column geometry",
         "more than 30 km outside the study boundary in S1, S2, S3",
         "check the coordinates and their CRS"],
        id="schools-300-km-away",
    ),
    pytest.param(
        {"edit": {"schools": _blank_row(1)},
         "after": lambda folder: _with_teachers(folder, {"S1": 2, "S2": 2}, toml="")},
        [],
        ["teachers.csv, layer 'teachers', column 'school_id'",
         "teachers of schools skipped from schools.csv, layer 'schools' for a missing geometry",
         "school_id S2 (1 row)", "Fix: correct the schools' coordinates"],
        id="school-null-geometry-with-teachers",
    ),
    pytest.param(
        {"toml": _toml("plan_end = 2030", "plan_end = 2200")},
        [],
        ["study.toml: [study] plan_start 2025 to plan_end 2200 is 176 years",
         "more than the 30 a plan may span", "Fix: correct plan_end (e.g. 2035)"],
        id="plan-end-2200",
    ),
    pytest.param(
        {"toml": _toml("plan_start = 2025", "plan_start = 2019")},
        [],
        ["study.toml: [study] plan_start 2019 is before base_year 2020"],
        id="plan-before-base-year",
    ),
    pytest.param(
        {"edit": {"population": lambda f: f.assign(year=2019)}},
        [],
        ["population.parquet, layer population, column year",
         "year other than the study's base_year 2020 in C1, C2, C3, C4",
         "set base_year in [study] to the layer's year"],
        id="base-year-not-the-population-year",
    ),
    pytest.param(
        {},
        ["--out", ROOT_FILE],
        ["--out:", "is a file, not a folder. Fix: give a folder"],
        id="out-names-a-file",
    ),
    pytest.param(
        {},
        ["--maps", "/proc/layout-maps"],
        ["--maps: cannot write into /proc/layout-maps", "Fix: give a folder you may write to"],
        id="maps-not-writable",
    ),
    pytest.param(
        {},
        ["closure", "--school", "S1", "--year", "2050"],
        ["--year 2050 is outside the study's years 2020-2030",
         "Fix: choose a year from 2020 to 2030"],
        id="closure-year-past-the-plan",
    ),
    pytest.param(
        {},
        ["sites", "--year", "2019"],
        ["--year 2019 is outside the study's years 2020-2030"],
        id="sites-year-before-the-base-year",
    ),
]


@pytest.mark.filterwarnings("ignore::layout.errors.DataWarning")  # a school skipped, named
@pytest.mark.parametrize(("study", "argv", "message"), BAD_INPUTS)
def test_bad_input_gets_one_clear_message(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    study: dict[str, object],
    argv: list[str],
    message: list[str],
) -> None:
    toml = _study(tmp_path / "study", **study)
    inputs = {p.name: p.read_bytes() for p in toml.parent.iterdir()}
    (tmp_path / ROOT_FILE).write_text("a file", encoding="utf-8")
    command = argv[0] if argv and not argv[0].startswith("--") else "plan"
    options = argv[1:] if command != "plan" else argv
    folders = {"--out": str(tmp_path / "out"), "--maps": str(tmp_path / "maps")}
    for option in ("--out", "--maps"):
        if option in options:
            where = options[options.index(option) + 1]
            folders[option] = str(tmp_path / where) if where == ROOT_FILE else where
            del options[options.index(option) : options.index(option) + 2]
    code = main([command, str(toml), *(x for kv in folders.items() for x in kv), "--quiet",
                 *options])  # fmt: skip
    assert code == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    for part in message:
        assert part in errors[0]
    assert "Traceback" not in caplog.text
    assert {p.name: p.read_bytes() for p in toml.parent.iterdir()} == inputs  # never modified
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_immutable_output_folder_is_found_before_work(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    toml = _study(tmp_path / "study")
    out = tmp_path / "out"
    out.mkdir()
    if subprocess.run(["chattr", "+i", str(out)], capture_output=True, check=False).returncode:
        pytest.skip("chattr +i needs root and a file system with immutable files")
    try:
        argv = ["land", str(toml), "--out", str(out), "--maps", str(tmp_path / "maps")]
        assert main([*argv, "--quiet"]) == 2
    finally:
        subprocess.run(["chattr", "-i", str(out)], check=True)
    assert f"--out: cannot write into {out} (Operation not permitted)" in caplog.text
    assert "chattr -i if it is immutable" in caplog.text


def test_a_full_disk_is_found_before_work(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    with pytest.raises(ValidationError) as info:
        check_outputs({"--out": tmp_path / "out"}, needed_bytes=free + 10**12)
    assert f"--out: {tmp_path / 'out'} has {free / 1e6:,.0f} MB free" in str(info.value)
    assert "Fix: free some space or write elsewhere" in str(info.value)
    check_outputs({"--out": tmp_path / "out"}, needed_bytes=0)  # enough: no error


# --------------------------------------------------------------------------- plausibility


def test_plausibility_warnings_worked_by_hand(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def implausible(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        # S1 has 113 + 90 = 203 pupils: capacity 0 is below half of them; grade 1 is taught
        # in 2 classes of 56.5, grade 2 in 2 of 45: within 100 per class.
        frame.loc[0, "capacity"] = 0
        # S2: 50 boarders in 10 beds; 100 grade-7 pupils put in 1 class: 100, not above 100.
        frame.loc[1, ["boarders", "boarding_beds", "classes_g7"]] = [50, 10, 1]
        # S3: 250,000 grade-1 pupils in 1 class: past 100 per class and 10,000 per school,
        # and its capacity of 400 is below half of them.
        frame.loc[2, "enrolment_g1"] = 250_000
        return frame

    toml = _study(
        tmp_path / "study",
        edit={"schools": lambda f: _moved(0, X0 + 15_000, Y0 + 5_000)(implausible(f))},
        # S1 lists 10 teachers in both; S2 0 rows against its column of 10; S3 9 against 10,
        # within the 20 % allowed.
        after=lambda folder: _with_teachers(folder, {"S1": 10, "S3": 9}, toml=""),
    )
    study = study_from_toml(toml)
    found = plausibility_warnings(study)
    assert list(found.columns) == COLUMNS
    assert (found["severity"] == "warning").all()
    assert set(found["file"]) == {"schools.csv"} and set(found["layer"]) == {"schools"}
    rows = dict(zip(found["problem"].str.split(" ").str[:3].str.join(" "), found["rows"],
                    strict=True))  # fmt: skip
    assert rows == {
        "capacity below 50%": "S1, S3",  # S3: capacity 400 for 250,005 pupils
        "more boarders than": "S2",
        "more than 100": "S3",
        "more than 10,000": "S3",
        "school outside the": "S1",  # moved into the rural county, its code still urban
        "the teachers column": "S2",
    }
    teachers = found[found["column"] == "teachers"].iloc[0]
    assert "teachers.csv" in teachers["problem"] and "teachers.csv" in teachers["fix"]
    before_work(study, {"--out": tmp_path / "out"}, needed_bytes=0)
    (block,) = [r.getMessage() for r in caplog.records if "implausible" in r.getMessage()]
    assert block.startswith("6 implausible value(s)")
    assert "column 'capacity': capacity below 50% of the pupils enrolled in school_id S1, S3 " \
        "(2 rows)" in block  # fmt: skip


def test_a_county_by_county_plan_logs_the_whole_study_s_warnings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def no_places(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(capacity=[0, *frame["capacity"].iloc[1:]])  # S1: 203 pupils

    toml = _study(tmp_path / "study", edit={"schools": no_places})
    caplog.set_level("INFO")
    run_counties(toml, out_dir=tmp_path / "out", maps_dir=tmp_path / "maps", workers=0,
                 progress=False)  # fmt: skip
    (block,) = [r.getMessage() for r in caplog.records if "implausible" in r.getMessage()]
    assert block.startswith("1 implausible value(s)")
    assert "capacity below 50% of the pupils enrolled in school_id S1 " in block
    assert [r for r in caplog.records if "travel is costed" in r.getMessage()]


def test_sample_study_is_plausible() -> None:
    assert plausibility_warnings(study_from_toml()).empty


# --------------------------------------------------------------------------- cost method


def test_empty_roads_layer_falls_back_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    study = study_from_toml(_study(tmp_path / "study", after=lambda f: _roads(f, [])))
    before_work(study, {"--out": tmp_path / "out"}, needed_bytes=0)
    (warning,) = [r for r in caplog.records if "roads layer" in r.getMessage()]
    assert warning.levelname == "WARNING"
    assert "the roads layer of study.toml is empty: travel is costed by straight-line " \
        "distance x 1.3" in warning.getMessage()  # fmt: skip


def test_roads_that_do_not_join_are_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # An X of two 10 km roads crossing without a shared vertex, and a 20 km road elsewhere:
    # three pieces; the largest holds 20 / (10 + 10 + 20) = 50 % of the length.
    lines = [
        LineString([(X0, Y0), (X0 + 10_000, Y0)]),
        LineString([(X0 + 5_000, Y0 - 5_000), (X0 + 5_000, Y0 + 5_000)]),
        LineString([(X0, Y0 + 8_000), (X0 + 20_000, Y0 + 8_000)]),
    ]
    study = study_from_toml(_study(tmp_path / "study", after=lambda f: _roads(f, lines)))
    before_work(study, {"--out": tmp_path / "out"}, needed_bytes=0)
    (warning,) = [r for r in caplog.records if "do not join up" in r.getMessage()]
    assert warning.levelname == "WARNING"
    assert "the largest connected piece holds 50% of their length" in warning.getMessage()
    assert "Fix: node the roads" in warning.getMessage()


# --------------------------------------------------------------------------- formulas


@pytest.fixture(scope="module")
def payload_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Plan, close and screen the tiny study whose school names are formula payloads.

    A fourth school S4 (a copy of S1) is the one closed. The roads layer is empty: the plan
    falls back to straight lines, with a warning and a line on the index page.
    """
    root = tmp_path_factory.mktemp("payloads")

    def named(frame: pd.DataFrame) -> pd.DataFrame:
        frame = pd.concat([frame, frame.iloc[[0]].assign(school_id="S4")], ignore_index=True)
        return frame.assign(name=frame["school_id"].map(PAYLOADS))

    toml = _study(root / "study", edit={"schools": named}, after=lambda f: _roads(f, []))
    common = ["--out", str(root / "out"), "--maps", str(root / "maps"), "--lang", "en"]
    codes = [
        main(["plan", str(toml), *common, "--quiet"]),
        main(["closure", str(toml), *common, "--quiet", "--school", "S4"]),
        main(["closure", str(toml), *common, "--quiet", "--screen", "210302",
              "--max-students", "100000"]),
    ]  # fmt: skip
    assert codes == [0, 0, 0]
    return root, (root / "out" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("workbook", "names"),
    [
        ("tables.xlsx", set(PAYLOADS.values())),
        ("closure/closure.xlsx", {PAYLOADS["S4"]}),
        ("closure/screening.xlsx", set(PAYLOADS.values()) - {PAYLOADS["S3"]}),  # S3 is rural
    ],
)
def test_formula_payloads_are_text_in_workbooks(
    payload_run: tuple[Path, str], workbook: str, names: set[str]
) -> None:
    book = openpyxl.load_workbook(payload_run[0] / "out" / workbook)
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value in PAYLOADS.values()]  # fmt: skip
    assert {c.value for c in cells} == names
    assert {c.data_type for c in cells} == {"s"}
    formulas = [c for sheet in book for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_formula_payloads_are_neutralised_in_the_csv(payload_run: tuple[Path, str]) -> None:
    path = payload_run[0] / "out" / "closure" / "screening.csv"
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    names = {row[2] for row in rows[1:]}
    assert names == {"'" + PAYLOADS[s] for s in ("S1", "S2", "S4")}
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


def test_url_in_a_name_is_text_on_the_maps(payload_run: tuple[Path, str]) -> None:
    page = (payload_run[0] / "maps" / "overview.html").read_text(encoding="utf-8")
    # in the GeoJSON of the schools, as HTML text (& written \u0026 by the JSON encoder)
    assert "http:\\u0026#47;\\u0026#47;evil.example\\u0026#47;x" in page
    assert "http://evil.example" not in page


def test_index_states_the_straight_line_fallback(payload_run: tuple[Path, str]) -> None:
    assert "Travel costed by straight-line distance x 1.3: the roads layer is empty" in (
        payload_run[1]
    )


# --------------------------------------------------------------------------- the pack


def _pack(root: Path) -> str:
    """Return the run id of the plan pack in ``root``; fail unless it is one run's, whole."""
    runs = set()
    for folder in (root / "out", root / "maps"):
        manifest = json.loads((folder / ".layout-plan.json").read_text(encoding="utf-8"))
        runs.add(manifest["run_id"])
        files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        assert files == {*manifest["files"], ".layout-plan.json"}, "stale or missing files"
        for name, digest in manifest["files"].items():
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    assert len(runs) == 1, "out and maps hold different runs"
    return runs.pop()


def _layout(root: Path, *, fault: str | None = None, quiet: bool = True) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    if fault:
        env[FAULT_ENV] = fault
    argv = [sys.executable, "-m", "layout.cli", "plan", str(root / "study" / "study.toml"),
            "--out", str(root / "out"), "--maps", str(root / "maps"), "--lang", "en"]  # fmt: skip
    return subprocess.Popen(
        [*argv, "--quiet"] if quiet else argv, env=env, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture
def old_pack(tmp_path: Path) -> tuple[Path, str]:
    """A finished plan pack of the tiny study, and a stale temporary of an older version."""
    toml = _study(tmp_path / "study")
    argv = ["plan", str(toml), "--out", str(tmp_path / "out"), "--maps", str(tmp_path / "maps")]
    assert main([*argv, "--quiet"]) == 0
    return tmp_path, _pack(tmp_path)


def _no_leftovers(root: Path) -> None:
    left = [p.name for p in root.rglob(".*") if p.name.startswith((".layout-staging", ".results-"))]
    assert left == [], "a staging folder or a temporary was left"


@pytest.mark.parametrize(
    ("fault", "code", "outcome"),
    [
        ("staging:TERM", 143, "old"),  # killed before writing anything
        ("staged:INT", 130, "old"),  # every file staged, nothing swapped in
        ("moving:TERM", 143, "new"),  # during the swap: held back until it is done
    ],
)
def test_a_stopped_run_leaves_the_old_or_the_new_pack(
    old_pack: tuple[Path, str], fault: str, code: int, outcome: str
) -> None:
    root, old = old_pack
    stale = root / "out" / ".results-abcd1234.gpkg-journal"  # as an older version left it
    stale.write_text("half", encoding="utf-8")
    process = _layout(root, fault=fault)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == code
    name = signal.Signals(code - 128).name
    assert f"stopped by {name}; {root / 'out'} and {root / 'maps'} hold the last complete" in stderr
    assert "Traceback" not in stderr
    run = _pack(root)
    assert (run == old) == (outcome == "old")
    _no_leftovers(root)


def _files(folder: Path, manifest: Path) -> dict[Path, str]:
    """The files a manifest lists, by their final path in ``folder``, and their SHA-256."""
    record = json.loads(manifest.read_text(encoding="utf-8"))
    return {folder / name: digest for name, digest in record["files"].items()}


@pytest.mark.parametrize("point", ["clearing", "moving"])
def test_a_run_killed_in_the_swap_never_shows_two_runs(
    old_pack: tuple[Path, str], point: str
) -> None:
    root, old = old_pack
    folders = (root / "out", root / "maps")
    before = {k: v for f in folders for k, v in _files(f, f / ".layout-plan.json").items()}
    process = _layout(root, fault=f"{point}:KILL")
    process.communicate(timeout=600)
    assert process.returncode == -signal.SIGKILL
    marker = [p for p in (root / "out").glob(".layout-staging-*/.layout-commit.json")]
    assert len(marker) == 1, "killed after the commit point, with files still to move"
    after = {k: v for f in folders
             for k, v in _files(f, next(f.glob(".layout-staging-*/.layout-plan.json"))).items()}  # fmt: skip
    assert before[root / "out" / "results.gpkg"] != after[root / "out" / "results.gpkg"]
    # What the folders hold now is part of the old pack or part of the new one, never both,
    # and the index page (the planner's way in) only with its whole pack.
    present = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in {*before, *after}
               if p.is_file() and not p.name.startswith(".layout-")}  # fmt: skip
    old_part = all(before.get(p) == digest for p, digest in present.items())
    new_part = all(after.get(p) == digest for p, digest in present.items())
    assert old_part or new_part, "files of two runs side by side"
    assert len(present) < len(after) - 2, "the kill came before the swap ended"
    assert not (root / "out" / "index.html").exists(), "an index page over a part of a pack"
    assert new_part == (point == "moving") or not present
    # the next run finishes the swap before its own work (stopped here before writing)
    process = _layout(root, fault="staging:TERM")
    process.communicate(timeout=600)
    assert process.returncode == 143
    assert _pack(root) != old
    _no_leftovers(root)


def test_a_later_command_takes_over_the_index_in_the_manifests(
    old_pack: tuple[Path, str],
) -> None:
    root, old = old_pack
    argv = ["land", str(root / "study" / "study.toml"), "--out", str(root / "out"),
            "--maps", str(root / "maps"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    out = root / "out"
    page = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="land.xlsx"' in page and 'href="../maps/land.html"' in page
    plan = json.loads((out / ".layout-plan.json").read_text(encoding="utf-8"))
    land = json.loads((out / ".layout-land.json").read_text(encoding="utf-8"))
    assert "index.html" not in plan["files"] and "index.html" in land["files"]
    assert plan["replaced"] == {"index.html": f"land {land['run_id']}"}
    assert plan["run_id"] == old
    for folder in (out, root / "maps"):  # every manifest true to the files it lists
        for manifest in folder.glob(".layout-*.json"):
            for path, digest in _files(folder, manifest).items():
                assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path


def test_sigterm_during_the_analysis(old_pack: tuple[Path, str]) -> None:
    root, old = old_pack
    process = _layout(root, quiet=False)
    assert process.stderr is not None
    for line in process.stderr:
        if "INFO layout.runs.plan: access" in line:  # the step after demand has begun
            process.send_signal(signal.SIGTERM)
            break
    rest = process.communicate(timeout=600)[1]
    assert process.returncode == 143
    assert "ERROR layout: stopped by SIGTERM" in rest
    assert _pack(root) == old
    _no_leftovers(root)


def test_sigterm_stops_the_county_workers_without_waiting(old_pack: tuple[Path, str]) -> None:
    root, old = old_pack
    argv = [sys.executable, "-m", "layout.cli", "plan", str(root / "study" / "study.toml"),
            "--out", str(root / "out"), "--maps", str(root / "maps"), "--workers", "2"]  # fmt: skip
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    counties = root / "out" / "counties"
    for line in process.stderr:
        if "counties to run" in line:
            break
    while len(list(counties.glob(".attempts/*/*"))) < 2:  # both counties begun
        assert process.poll() is None, "the run ended before its counties began"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    rest = process.communicate(timeout=600)[1]
    assert process.returncode == 143, rest
    # Had the run waited for its workers, both counties would be done; the workers stopped
    # gave back their attempts, so a resumed run would start them afresh.
    assert not list(counties.glob("*/done"))
    assert not [p for p in counties.glob(".attempts/*/*")], "an attempt was not given back"
    for folder in (root / "out", root / "maps"):  # the last pack stands (beside partitions/)
        manifest = json.loads((folder / ".layout-plan.json").read_text(encoding="utf-8"))
        assert manifest["run_id"] == old


def test_a_county_without_schools_of_a_level_gets_a_plan(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The rural county 210303 has one teaching point and no junior school: its junior pupils
    # reach no school, and the boarding school proposed for them is the answer, not an error.
    toml = _study(tmp_path / "study")
    argv = ["sites", str(toml), "--out", str(tmp_path / "out"), "--maps", str(tmp_path / "maps"),
            "--county", "210303", "--level", "junior", "--lang", "en", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    proposals = gpd.read_file(tmp_path / "out" / "sites.gpkg", layer="site_proposals")
    assert proposals["county_code"].tolist() == ["210303"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
