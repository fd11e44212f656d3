"""Benchmark: ``layout phases`` on the bundled study, every county, one scenario. Not a test.

For each county (:func:`layout.phases.county_plan`): the demand groups, facilities and arcs
of the model, the time to build it and find the fewest children beyond their norm (demand
projection excluded: it is done once), HiGHS's solve time of the plan, the cost, the
proven gap, and the peak memory the county's model and solve allocate (tracemalloc: Python
and numpy allocations; HiGHS's own C++ memory is not traced, so the process's peak resident
size is printed too). Run from the repository root:
    python benchmarks/bench_phases.py [--scenario medium] [--areas 30] [--time-limit 300]

``--dense 8 --county 210321`` plans instead one county generated anew by
:func:`layout.synthetic.synthetic_study` (the bundled sample's populations, seed and
calibration, ``data/anshan/make_sample.py``) with cells 8 times smaller in area. The generator
keeps only cells with residents, so the number of cells grows less than that (see
``benchmarks/RESULTS.md``). The generated study is written to a temporary folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import resource
import sys
import tempfile
import time
import tomllib
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import machine  # noqa: E402

from layout.demand import study_demand  # noqa: E402
from layout.phases import county_plan  # noqa: E402
from layout.runs._partition import toml_text  # noqa: E402
from layout.study import Study, bundled_study_path, study_from_toml  # noqa: E402


def main() -> None:
    """Plan every county of the bundled study and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="medium")
    parser.add_argument("--areas", type=int, default=30)
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--county", action="append", help="only these counties")
    parser.add_argument("--dense", type=float, help="one county, cells N times smaller")
    args = parser.parse_args()
    print(machine())
    study = _dense(args.county[0], args.dense) if args.dense else study_from_toml()
    print(f"cells {len(study['population'])}")
    demand = study_demand(study, scenarios=[args.scenario])
    counties = args.county or sorted(study["counties"]["county_code"].astype(str))
    print("county | groups | facilities | arcs | build+fewest s | solve s | cost (yuan) | gap | MB")
    for county in counties:
        tracemalloc.start()
        start = time.perf_counter()
        inputs, plan = county_plan(
            study, demand, county=county, areas=args.areas, time_limit=args.time_limit
        )
        built = time.perf_counter() - start - plan.time_seconds
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        p = inputs.problem
        print(
            f"{county} | {p.demand.shape[0]} | {len(p.facilities)} | {len(p.arcs.group)} | "
            f"{built:.1f} | {plan.time_seconds:.1f} | {plan.objective:,.0f} | {plan.gap:.3%} | "
            f"{peak:.0f}",
            flush=True,
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak resident size {rss:.0f} MB")


def _dense(county: str, factor: float) -> Study:
    """Generate ``county`` as the bundled sample does, with ``factor`` times the cells."""
    import geopandas as gpd

    sys.path.insert(0, str(bundled_study_path().parent))
    import make_sample as sample

    bundled = bundled_study_path()
    counties = gpd.read_file(sample.BOUNDARIES, layer="counties")
    layers = sample.synthetic_study(
        counties[counties["county_code"] == county],
        populations={county: sample.POPULATIONS[county]},
        cell_size_m=500.0 / math.sqrt(factor),
        seed=sample.SEED,
        calibration=dataclasses.replace(
            sample.CALIBRATION,
            seats={county: sample.SEATS[county]},
            urban_share={k: v for k, v in sample.CALIBRATION.urban_share.items() if k == county},
        ),
    )
    folder = Path(tempfile.mkdtemp(prefix=f"dense-{county}-"))
    config = tomllib.loads(bundled.read_text(encoding="utf-8"))
    config["study"]["name"] = f"dense-{county}"
    config["layers"] = {}
    for name, frame in layers.items():
        frame.to_parquet(folder / f"{name}.parquet")
        config["layers"][name] = {"path": f"{name}.parquet"}
    (folder / "study.toml").write_text(toml_text(config), encoding="utf-8")
    return study_from_toml(folder / "study.toml")


if __name__ == "__main__":
    main()
