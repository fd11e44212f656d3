"""Benchmark the school-age demand projection on a province-scale synthetic grid.

Runs, on one core:

1. :func:`layout.demand.project_cohorts` for the three default scenarios over ten years on
   about 600 000 cells of 500 m (Liaoning has about 42.6 million residents and 100 county-level
   units; 600 000 cells of about 70 residents each);
2. :func:`layout.demand.project_demand` for one county-sized part of that grid (1/100 of the
   cells) with 50 development phases, which builds the long-form demand layer.

Each step is timed with ``time.perf_counter``; peak memory is measured twice: the peak of
memory traced by ``tracemalloc`` during the step (numpy reports its buffers to it; this run is
separate from the timed one) and the process's peak resident set size at the end.

Usage::

    PYTHONPATH=. python benchmarks/bench_demand.py [--cells 600000] [--output FILE.md]
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

from layout.demand import (  # noqa: E402
    default_scenarios,  # noqa: E402
    demand_totals,
    project_cohorts,  # noqa: E402
    project_demand,
)

YEARS = range(2021, 2031)
CELL_M = 500.0


def synthetic_grid(cells: int, *, counties: int = 100, seed: int = 0) -> gpd.GeoDataFrame:
    """Build a square grid of 500 m cells with Poisson child counts by age."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(cells)))
    col, row = np.arange(cells) % side, np.arange(cells) // side
    county = (np.arange(cells) * counties) // cells
    # About 70 residents and 7.8 children 0-14 per cell; fewer young children (falling births).
    mean = np.r_[np.full(5, 0.35), np.full(10, 0.6)]
    ages = rng.poisson(mean, size=(cells, 15))
    return gpd.GeoDataFrame(
        {
            "cell_id": np.char.add("c", np.arange(cells).astype(str)),
            "county_code": (210000 + county).astype(str),
            "township_code": (21000000 + county * 100 + row % 10).astype(str),
            "setting": np.where(rng.random(cells) < 0.6, "urban", "rural"),
            "year": 2020,
            **{f"age_{a}": ages[:, a] for a in range(15)},
        },
        geometry=shapely.box(col * CELL_M, row * CELL_M, (col + 1) * CELL_M, (row + 1) * CELL_M),
        crs="EPSG:32651",
    )


def development_phases(grid: gpd.GeoDataFrame, *, phases: int, seed: int = 1) -> gpd.GeoDataFrame:
    """Place development phases at random cell centroids, delivered 2021-2030."""
    rng = np.random.default_rng(seed)
    where = rng.choice(len(grid), phases, replace=False)
    return gpd.GeoDataFrame(
        {
            "phase_id": [f"p{i}" for i in range(phases)],
            "households": rng.integers(200, 1500, phases),
            "delivery_year": rng.integers(2021, 2031, phases),
            "status": "planned",
        },
        geometry=grid.geometry.iloc[where].centroid.to_numpy(),
        crs=grid.crs,
    )


def measure(step: Callable[[], object]) -> tuple[float, float]:
    """Return the step's wall time (s) and, from a second run, its traced peak memory (MB)."""
    start = time.perf_counter()
    step()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def machine() -> str:
    """Describe the machine: cores and CPU model."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    cores = len(os.sched_getaffinity(0))
    return f"`nproc` = {cores}; CPU: {cpu}; Python {platform.python_version()}"


def main() -> None:
    """Run the benchmark and print (and optionally write) a Markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=600_000)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    scenarios = default_scenarios()

    start = time.perf_counter()
    grid = synthetic_grid(args.cells)
    built = time.perf_counter() - start
    table = pd.DataFrame(grid.drop(columns="geometry"))

    def province() -> object:
        return [project_cohorts(table, scenario=s, years=YEARS) for s in scenarios]

    province_s, province_mb = measure(province)

    county = grid[grid["county_code"] == grid["county_code"].iloc[0]]
    phases = development_phases(county, phases=50)
    rows = len(scenarios) * len(YEARS) * len(county) * 9

    def one_county() -> object:
        return demand_totals(project_demand(county, phases, scenarios=scenarios, years=YEARS))

    county_s, county_mb = measure(one_county)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    table_rows = "\n".join(
        [
            f"| synthetic grid (setup) | {args.cells:,} cells | {built:.1f} s | - |",
            f"| `project_cohorts`, 3 scenarios x {len(YEARS)} years | {args.cells:,} cells "
            f"x 15 ages | {province_s:.2f} s | {province_mb:,.0f} MB |",
            f"| `project_demand` + `demand_totals`, one county | {len(county):,} cells, "
            f"{len(phases)} phases, {rows:,} rows | {county_s:.2f} s | {county_mb:,.0f} MB |",
        ]
    )
    report = f"""# Demand projection benchmark

Script: `benchmarks/bench_demand.py` (synthetic grid, seeded). {machine()}.
Run on one core (`OMP_NUM_THREADS=1`; numpy element-wise work is single-threaded). The
machine was shared with other jobs during the run, so times are indicative.

| step | size | wall time | traced peak memory |
|---|---|---|---|
{table_rows}

Process peak resident memory over the whole run (grid, both steps run twice):
{rss_mb:,.0f} MB.

Target: the province projection in under 30 s on one core.
"""
    print(report)
    if args.output:
        args.output.write_text(report)


if __name__ == "__main__":
    main()
