"""Benchmark p_median side by side with PySAL spopt's PMedian (PuLP + CBC).

Both solve the same OR-Library pmed instances in one run. Not part of the test suite.

Needs ``pip install spopt pulp``. Run from the repository root:
    python benchmarks/bench_spopt.py [--data DIR] [--pmed 1 2 ...] [--spopt-time-limit S]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import data_argument, machine, orlib_optima, orlib_pmed  # noqa: E402

from layout.optimize import p_median  # noqa: E402


def solve_spopt(cost: np.ndarray, p: int, time_limit: float) -> tuple[float, float, str]:
    """Objective, wall time and status of spopt's PMedian solved by CBC."""
    import pulp
    from spopt.locate import PMedian

    start = time.perf_counter()
    model = PMedian.from_cost_matrix(cost, np.ones(cost.shape[0]), p_facilities=p)
    model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, threads=1))
    elapsed = time.perf_counter() - start
    status = pulp.LpStatus[model.problem.status]
    return float(model.problem.objective.value()), elapsed, status


def main() -> None:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    data_argument(parser)
    parser.add_argument("--pmed", type=int, nargs="*", default=[*range(1, 11), 30, 40])
    parser.add_argument("--spopt-time-limit", type=float, default=600.0)
    args = parser.parse_args()
    folder = args.data / "orlib"
    optima = orlib_optima(folder)
    print(machine(), f"\nspopt time limit {args.spopt_time_limit:g} s (CBC, 1 thread)\n")
    print(
        "| instance | n | p | optimum | layout objective | layout s | spopt objective | "
        "spopt status | spopt s | time ratio spopt/layout |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for k in args.pmed:
        cost, p = orlib_pmed(folder, k)
        ours = p_median(cost, p)
        obj, secs, status = solve_spopt(cost, p, args.spopt_time_limit)
        ratios.append(secs / ours.time_seconds)
        print(
            f"| pmed{k} | {cost.shape[0]} | {p} | {optima[f'pmed{k}']:g} | {ours.objective:g} "
            f"| {ours.time_seconds:.2f} | {obj:g} | {status} | {secs:.1f} | "
            f"{ratios[-1]:.0f}x |",
            flush=True,
        )
    print(
        f"\nmedian time ratio spopt/layout: {np.median(ratios):.0f}x over {len(ratios)} instances"
    )


if __name__ == "__main__":
    main()
