"""Time :func:`layout.synthetic.synthetic_study` on the 100 county-level units of Liaoning.

Run from the repository root::

    python benchmarks/bench_synthetic.py

Prints the wall time, peak memory and the size of every layer as a Markdown table. County
residents are an assumption made for the benchmark only: the province's 7th-census total
(42,591,407) split in proportion to ``sqrt(area)``, tripled for urban districts.
"""

from __future__ import annotations

import os
import platform
import resource
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

from layout.synthetic import synthetic_study
from layout.synthetic.population import apportion

ROOT = Path(__file__).resolve().parents[1]
LIAONING_2020 = 42_591_407
"""Liaoning residents at the 7th census (1 Nov 2020)."""


def _populations(counties: gpd.GeoDataFrame) -> dict[str, int]:
    """Benchmark assumption: residents proportional to sqrt(area), x3 in urban districts."""
    area = counties.to_crs("EPSG:4550").area.to_numpy()
    weight = np.sqrt(area) * np.where(counties["setting"] == "urban", 3.0, 1.0)
    share = apportion(LIAONING_2020, weight)
    return {code: int(n) for code, n in zip(counties["county_code"], share, strict=True)}


def _cpu() -> str:
    """CPU model from /proc/cpuinfo."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main() -> None:
    """Build the province-scale study once and print the measurements."""
    counties = gpd.read_file(ROOT / "data" / "boundaries" / "liaoning.gpkg", layer="counties")
    populations = _populations(counties)
    start = time.perf_counter()
    layers = synthetic_study(counties, populations=populations)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {os.cpu_count()} CPUs (nproc), {_cpu()}")
    print(f"wall time of synthetic_study: {seconds:.1f} s; peak resident memory {peak_mb:.0f} MB")
    print("\n| layer | rows |\n|---|---|")
    for name, table in layers.items():
        print(f"| {name} | {len(table):,} |")


if __name__ == "__main__":
    main()
