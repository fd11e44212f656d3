"""Benchmark: ``layout phases`` on the bundled study, every county, one scenario. Not a test.

For each county (:func:`layout.phases.county_plan`): the demand groups, facilities and arcs
of the model, the time to build it and find the fewest children beyond their norm (demand
projection excluded: it is done once), HiGHS's solve time of the plan, the cost, the
proven gap, and the peak memory the county's model and solve allocate (tracemalloc: Python
and numpy allocations; HiGHS's own C++ memory is not traced, so the process's peak resident
size is printed too). Run from the repository root:
    python benchmarks/bench_phases.py [--scenario medium] [--areas 30] [--time-limit 300]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import machine  # noqa: E402

from layout.demand import study_demand  # noqa: E402
from layout.phases import county_plan  # noqa: E402
from layout.study import study_from_toml  # noqa: E402


def main() -> None:
    """Plan every county of the bundled study and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="medium")
    parser.add_argument("--areas", type=int, default=30)
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--county", action="append", help="only these counties")
    args = parser.parse_args()
    print(machine())
    study = study_from_toml()
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


if __name__ == "__main__":
    main()
