"""Province benchmark: the whole pipeline county by county on a synthetic Liaoning.

Run from the repository root (about 20 minutes on 2 cores; see benchmarks/RESULTS.md)::

    python benchmarks/bench_province.py [--fractions 8 4 2 1] [--cross-county]

1. Generates a deterministic synthetic study on the real boundaries of the 100 county-level
   units of Liaoning (``data/boundaries/liaoning.gpkg``, 500 m cells, seed 20201101; residents
   as in ``bench_synthetic.py``) with the calibration :data:`CALIBRATION`, and writes it as
   GeoParquet to ``benchmarks/_work/liaoning/`` (git-ignored; kept between runs).
2. For 1/8, 1/4, 1/2 and all of the counties (nested subsets, in a seeded random order so
   that each mixes urban districts and rural counties) writes a sub-study and runs, in a fresh
   process, :func:`layout.runs.province.run_counties` with ``workers=2``: partition, the counties,
   the merge and every output (GeoPackage, per-cell Parquet, spreadsheet, charts, the four maps).
3. At 1/4 of the counties, runs the same on a local Dask cluster of 2 worker processes
   (1 thread each) and checks that its tables equal those of the process run.

Each run records the wall time of every stage and the peak memory: of the run's process, of
its largest worker (``getrusage``), and of the whole process tree (``psutil``, sampled every
0.2 s), overall and within each stage. Prints Markdown tables. ``--cross-county`` runs the
same with cross-county enrolment allowed (halo schools costed, seats shared on the merge).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from bench_synthetic import _cpu, _populations

from layout.synthetic import Calibration, synthetic_study

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"
FRACTIONS = (8, 4, 2, 1)
DASK_FRACTION = 4
CALIBRATION = Calibration(
    village_residents=25.0,
    township_residents=12_000.0,
    subdistrict_residents=30_000.0,
    peak_density_km2=8_000.0,
)
"""Tuned toward the issue's ~600 000 cells and ~6 000 schools (defaults: 700, 25 000, 60 000,
20 000): smaller villages spread the rural residents over more cells, smaller townships and
urban zones give more schools, a lower peak density widens the urban areas."""
TOML = """[study]
name = "liaoning-synthetic"
title = "辽宁省义务教育学校布局（合成基准数据）"
synthetic = true
crs = "EPSG:4550"
base_year = 2020
school_year = 2024
plan_start = 2025
plan_end = 2035
profile = "anshan-2020"
"""


def generate(folder: Path) -> dict[str, pd.DataFrame]:
    """Generate the province once (cached in ``folder``); return its layers."""
    done = folder / "layers.json"
    key = json.dumps({"calibration": repr(CALIBRATION), "seed": 20201101})
    if done.is_file() and done.read_text() == key:
        return _read_layers(folder)
    counties = gpd.read_file(ROOT / "data" / "boundaries" / "liaoning.gpkg", layer="counties")
    start = time.perf_counter()
    layers = synthetic_study(counties, populations=_populations(counties), calibration=CALIBRATION)
    print(f"generated the province in {time.perf_counter() - start:.0f} s", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in layers.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    done.write_text(key)
    return layers


def _read_layers(folder: Path) -> dict[str, pd.DataFrame]:
    return {
        p.stem: pd.read_parquet(p) if p.stem == "teachers" else gpd.read_parquet(p)
        for p in sorted(folder.glob("*.parquet"))
    }


def write_subset(
    layers: dict[str, pd.DataFrame], codes: list[str], folder: Path, *, across: bool = False
) -> Path:
    """Write the study of the counties ``codes`` (roads kept whole) and its TOML.

    ``across`` allows cross-county enrolment in the study's profile.
    """
    folder.mkdir(parents=True, exist_ok=True)
    text = TOML + ("\n[standards.service]\ncross_county_enrolment = true\n" if across else "")
    schools = layers["schools"]["school_id"][layers["schools"]["county_code"].isin(codes)]
    for name, frame in layers.items():
        if "county_code" in frame.columns:
            frame = frame[frame["county_code"].isin(codes)]
        elif name == "teachers":
            frame = frame[frame["school_id"].isin(schools)]
        frame.to_parquet(folder / f"{name}.parquet", index=False)
        text += f'\n[layers.{name}]\npath = "{name}.parquet"\n'
    (folder / "study.toml").write_text(text, encoding="utf-8")
    return folder / "study.toml"


def _tree_rss_sampler(stop: threading.Event, samples: list[tuple[float, float]]) -> None:
    """Sample the resident memory (MB) of this process and all its descendants, with times."""
    import psutil

    me = psutil.Process()
    while not stop.is_set():
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                continue
        samples.append((time.perf_counter(), total / 2**20))
        stop.wait(0.2)


def _stage_peaks(
    samples: list[tuple[float, float]], start: float, seconds: dict[str, float]
) -> dict[str, int]:
    """Peak of the sampled memory within each stage (stages run back to back from start)."""
    edges = start + np.cumsum([0.0, *seconds.values()])
    times, mb = np.array([t for t, _ in samples]), np.array([m for _, m in samples])
    return {
        name: round(float(mb[(times >= a) & (times <= b)].max(initial=0.0)))
        for name, (a, b) in zip(seconds, pairwise(edges), strict=True)
    }


def run_once(study: Path, out: Path, engine: str) -> dict[str, Any]:
    """Run the pipeline once in this process; return stage times and memory."""
    import resource

    from layout.runs.province import run_counties

    marks = _LogMarks()
    logging.getLogger("layout").addHandler(marks)
    logging.getLogger("layout").setLevel(logging.INFO)
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_tree_rss_sampler, args=(stop, samples), daemon=True)
    sampler.start()
    cluster = None
    options: dict[str, Any] = {"workers": 2}
    if engine == "dask":
        from distributed import LocalCluster

        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        options = {"scheduler": cluster.scheduler_address}
    start = time.perf_counter()
    result = run_counties(
        study, out_dir=out / "out", maps_dir=out / "maps", progress=False, **options
    )
    total = time.perf_counter() - start
    finished = time.time()
    if cluster is not None:
        cluster.close()
    stop.set()
    sampler.join()
    pd.to_pickle(result.tables, out / "tables.pkl")
    return {
        "engine": engine,
        "counties": len(result.counties_run),
        "cells": len(result.study["population"]),
        "schools": len(result.study["schools"]),
        "seconds": {**result.seconds, "total": round(total, 1)},
        "outputs": _output_stages(marks.times, out / "out", finished),
        "county_seconds_sum": round(float(result.runs["seconds"].sum()), 1),
        "self_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "worker_peak_mb": int(result.runs["worker_peak_mb"].max()),
        "tree_peak_mb": round(max(mb for _, mb in samples)),
        "stage_peak_mb": _stage_peaks(samples, start, result.seconds),
        "sizes_mb": _sizes_mb(out),
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],  # 1, 5, 15 minutes
    }


def _sizes_mb(out: Path) -> dict[str, float]:
    """Size of the results GeoPackage, of each per-cell Parquet folder and of each map, in MB."""
    from layout.runs.outputs import PER_CELL

    files = {
        "results.gpkg": out / "out" / "results.gpkg",
        "cells.parquet": out / "out" / "cells.parquet",
    }
    files.update({f"{name}/": out / "out" / name for name in PER_CELL})
    files.update({p.name: p for p in sorted((out / "maps").glob("*.html"))})
    return {
        name: round(
            sum(f.stat().st_size for f in ([p] if p.is_file() else p.rglob("*"))) / 2**20, 1
        )
        for name, p in files.items()
        if p.exists()
    }


class _LogMarks(logging.Handler):
    """Remember when the pipeline logged the start of writing results and of the maps."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.times: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "layout.runs.plan":
            self.times.setdefault(record.getMessage(), record.created)


def _output_stages(times: dict[str, float], out: Path, finished: float) -> dict[str, float]:
    """Seconds of the GeoPackage, Parquet, spreadsheet, charts and maps (log times, mtimes)."""
    gpkg = (out / "results.gpkg").stat().st_mtime
    parquet = max(p.stat().st_mtime for p in out.glob("*/county_code=*/*/*.parquet"))
    xlsx = (out / "tables.xlsx").stat().st_mtime
    marks = [times["write results"], gpkg, parquet, xlsx, times["maps"], finished]
    names = ("geopackage", "parquet", "spreadsheet", "charts", "map")
    return {n: round(b - a, 1) for n, (a, b) in zip(names, pairwise(marks), strict=True)}


def _in_child(study: Path, out: Path, engine: str) -> dict[str, Any]:
    """Run :func:`run_once` in a fresh Python process (clean memory figures)."""
    cmd = [sys.executable, __file__, "--run", str(study), str(out), engine]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"run failed:\n{done.stderr[-5000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(
    fractions: tuple[int, ...] = FRACTIONS, *, across: bool = False, prefixes: tuple[str, ...] = ()
) -> None:
    """Generate, run every size and the Dask comparison, print the tables.

    ``across``: the study allows cross-county enrolment (folders get an ``-across`` suffix).
    ``prefixes``: run only the counties whose codes start with one of them (e.g. ``2101``
    for the counties of Shenyang), once, instead of the fractions.
    """
    layers = generate(WORK / "liaoning")
    codes = sorted(layers["counties"]["county_code"])
    order = list(np.random.default_rng(20201101).permutation(codes))
    print(
        f"machine: {_cpu()}; province: {len(layers['population']):,} cells, "
        f"{len(layers['schools']):,} schools, {len(codes)} counties",
        flush=True,
    )
    rows = []
    if prefixes:
        subset = [code for code in codes if code.startswith(prefixes)]
        name = "counties-" + "-".join(prefixes)
        study = write_subset(layers, subset, WORK / f"study-{name}", across=across)
        row = _in_child(study, WORK / f"run-{name}", "processes")
        row["fraction"] = f"codes {', '.join(prefixes)}"
        print(json.dumps(row), flush=True)
        _print_table([row])
        return
    for fraction in fractions:
        subset = sorted(order[: round(len(codes) / fraction)])
        name = f"1of{fraction}" + ("-across" if across else "")
        study = write_subset(layers, subset, WORK / f"study-{name}", across=across)
        row = _in_child(study, WORK / f"run-{name}", "processes")
        row["fraction"] = f"1/{fraction}"
        rows.append(row)
        print(json.dumps(row), flush=True)
        if fraction == DASK_FRACTION:
            dask = _in_child(study, WORK / f"dask-{name}", "dask")
            dask["fraction"] = f"1/{fraction}"
            print(json.dumps(dask), flush=True)
            same = _same_tables(WORK / f"run-{name}", WORK / f"dask-{name}")
            print(f"dask tables equal to process tables: {same}", flush=True)
            rows.append(dask)
    _print_table(rows)


def _same_tables(a: Path, b: Path) -> bool:
    left, right = pd.read_pickle(a / "tables.pkl"), pd.read_pickle(b / "tables.pkl")
    return list(left) == list(right) and all(left[k].equals(right[k]) for k in left)


def _print_table(rows: list[dict[str, Any]]) -> None:
    print(
        "\n| counties | engine | cells | schools | partition s | counties s | merge s "
        "| outputs s (gpkg/parquet/xlsx/charts/maps) | total s | tree peak MB "
        "| tree peak MB by stage (partition/counties/merge/outputs) | worker peak MB "
        "| main peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        s = r["seconds"]
        print(
            f"| {r['counties']} ({r['fraction']}) | {r['engine']} | {r['cells']:,} | "
            f"{r['schools']:,} | {s['partition']:.0f} | {s['counties']:.0f} | {s['merge']:.0f} "
            f"| {s['outputs']:.0f} ({'/'.join(f'{v:.0f}' for v in r['outputs'].values())}) "
            f"| {s['total']:.0f} | {r['tree_peak_mb']:,} | "
            f"{'/'.join(f'{v:,}' for v in r['stage_peak_mb'].values())} | "
            f"{r['worker_peak_mb']:,} | {r['self_peak_mb']:,} |"
        )
    for r in rows:
        sizes = ", ".join(f"{name} {mb:,}" for name, mb in r["sizes_mb"].items())
        print(f"\nOutput sizes in MB, {r['counties']} counties ({r['engine']}): {sizes}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", nargs=3, metavar=("STUDY", "OUT", "ENGINE"))
    parser.add_argument("--fractions", type=int, nargs="+", default=FRACTIONS)
    parser.add_argument(
        "--cross-county", action="store_true", help="allow cross-county enrolment in the study"
    )
    parser.add_argument(
        "--prefixes", nargs="+", default=(), help="run the counties whose codes start so, once"
    )
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_once(Path(args.run[0]), Path(args.run[1]), args.run[2])))
    else:
        main(tuple(args.fractions), across=args.cross_county, prefixes=tuple(args.prefixes))
