"""Benchmark p_median on OR-Library pmed1-40 and capacitated_p_median on the CPMP sets.

Objectives are compared with the proven optima / best-known values. Not part of the tests.

Run from the repository root:  python benchmarks/bench_pmedian.py [--data DIR] [--set orlib|cpmp]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import data_argument, machine, orlib_optima, orlib_pmed  # noqa: E402

from layout.errors import ValidationError  # noqa: E402
from layout.optimize import capacitated_p_median, p_median  # noqa: E402


def run_orlib(folder: Path, instances: list[int]) -> None:
    """Solve pmed instances and print a markdown table against the proven optima."""
    optima = orlib_optima(folder)
    print(
        "| instance | n | p | optimum | objective | lower bound | gap to optimum | time s | CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    times, cpu, proven = [], [], 0
    for k in instances:
        cost, p = orlib_pmed(folder, k)
        start = time.process_time()
        r = p_median(cost, p)
        cpu.append(time.process_time() - start)
        ref = optima[f"pmed{k}"]
        times.append(r.time_seconds)
        proven += r.gap == 0.0 and r.objective == ref
        print(
            f"| pmed{k} | {cost.shape[0]} | {p} | {ref:g} | {r.objective:g} | "
            f"{r.lower_bound:g} | {(r.objective - ref) / ref:.2%} | {r.time_seconds:.2f} | "
            f"{cpu[-1]:.2f} |",
            flush=True,
        )
    print(
        f"\nproven optimal and equal to the reference: {proven}/{len(instances)}; time "
        f"median {np.median(times):.2f} s, max {max(times):.2f} s, total {sum(times):.1f} s; "
        f"CPU time (this process, all threads) total {sum(cpu):.1f} s"
    )


def lp_relaxation(cost: np.ndarray, p: int, *, start: int = 40) -> tuple[float, int]:
    """Value of the p-median LP relaxation (HiGHS), solved on a growing set of arcs.

    The LP keeps each row's ``start`` nearest arcs (and a costly artificial arc per row so
    that it is always feasible); each round adds every arc whose reduced cost
    ``c_ij - u_i`` is negative under the assignment duals ``u``, until none is: the LP of
    the kept arcs then has the optimum of the full LP. Returns the value and the arcs kept.
    """
    n, m = cost.shape
    keep = np.zeros((n, m), dtype=bool)
    np.put_along_axis(keep, np.argsort(cost, axis=1)[:, :start], True, axis=1)
    big = 10.0 * float(cost.max()) + 1.0  # more than any arc: never used at the optimum
    while True:
        row, col = np.nonzero(keep)
        arcs = len(row)
        ones = np.ones(arcs)
        assign = sp.hstack(
            [sp.csr_array((ones, (row, np.arange(arcs))), shape=(n, arcs + m)), sp.eye(n)]
        )
        count = sp.csr_array(np.r_[np.zeros(arcs), np.ones(m), np.zeros(n)][None, :])
        link = sp.csr_array(
            (
                np.r_[ones, -ones],
                (np.r_[np.arange(arcs), np.arange(arcs)], np.r_[np.arange(arcs), arcs + col]),
            ),
            shape=(arcs, arcs + m + n),
        )
        res = linprog(
            np.r_[cost[row, col], np.zeros(m), np.full(n, big)],
            A_ub=link, b_ub=np.zeros(arcs), A_eq=sp.vstack([assign, count]),
            b_eq=np.r_[np.ones(n), p], bounds=(0, 1), method="highs",
        )  # fmt: skip
        dual = res.eqlin.marginals[:n]
        priced = ~keep & (cost - dual[:, None] < -1e-7)
        if not priced.any():
            if res.x[-n:].sum() > 1e-9:
                raise RuntimeError("the artificial arcs are used: the LP is infeasible")
            return float(res.fun), arcs
        keep |= priced


def run_lp(folder: Path, instances: list[int]) -> None:
    """Print the LP relaxation of pmed instances beside p_median's root Lagrangian bound."""
    optima = orlib_optima(folder)
    print("| instance | optimum | LP relaxation (HiGHS) | arcs priced in | time s |")
    print("|---|---|---|---|---|")
    for k in instances:
        cost, p = orlib_pmed(folder, k)
        start = time.perf_counter()
        value, arcs = lp_relaxation(cost, p)
        print(
            f"| pmed{k} | {optima[f'pmed{k}']:g} | {value:.4f} | {arcs} | "
            f"{time.perf_counter() - start:.0f} |",
            flush=True,
        )


def _cpmp(folder: Path, name: str) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    tokens = (folder / name).read_text().split()
    if name.startswith("pmedcap"):
        n, p, cap = int(tokens[2]), int(tokens[3]), float(tokens[4])
        rows = np.array(tokens[5 : 5 + 4 * n], dtype=float).reshape(n, 4)
        xy, demand, capacity = rows[:, 1:3], rows[:, 3], np.full(n, cap)
    else:
        n, p = int(tokens[0]), int(tokens[1])
        rows = np.array(tokens[2 : 2 + 4 * n], dtype=float).reshape(n, 4)
        xy, capacity, demand = rows[:, :2], rows[:, 2], rows[:, 3]
    cost = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    if name.startswith("pmedcap"):
        cost = np.floor(cost)  # the reference optima use truncated distances
    return cost, p, demand, capacity


def run_cpmp(folder: Path, names: list[str], time_limit: float) -> None:
    """Solve CPMP instances and print a markdown table against the reference values."""
    refs = {}
    for line in (folder / "reference.csv").read_text().split("\n")[1:]:
        if line:
            inst, file, _, _, ref, status = line.split(",")
            refs[file] = (inst, float(ref), status)
    print(f"time limit {time_limit:g} s per instance\n")
    print(
        "| instance | n | p | reference | objective | lower bound | gap to reference | "
        "proven gap | time s | CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    times, cpu, proven, worst = [], [], 0, 0.0
    for name in names:
        cost, p, demand, capacity = _cpmp(folder, name)
        inst, ref, _ = refs[name]
        start, tic = time.perf_counter(), time.process_time()
        try:
            r = capacitated_p_median(cost, p, demand, capacity, time_limit=time_limit)
        except ValidationError as err:
            secs = time.perf_counter() - start
            print(
                f"| {inst} | {cost.shape[0]} | {p} | {ref:g} | no answer: {err} | | | | "
                f"{secs:.1f} |",
                flush=True,
            )
            continue
        print(
            f"| {inst} | {cost.shape[0]} | {p} | {ref:g} | {r.objective:.2f} | "
            f"{r.lower_bound:.2f} | {(r.objective - ref) / ref:.2%} | {r.gap:.2%} | "
            f"{r.time_seconds:.1f} | {time.process_time() - tic:.1f} |",
            flush=True,
        )
        times.append(r.time_seconds)
        cpu.append(time.process_time() - tic)
        proven += r.gap == 0.0
        worst = max(worst, (r.objective - ref) / ref)
    print(
        f"\nproven optimal: {proven}/{len(names)}; worst gap to the reference {worst:.2%}; "
        f"time median {np.median(times):.1f} s, max {max(times):.1f} s, total {sum(times):.1f} s; "
        f"CPU time (this process, all threads) total {sum(cpu):.1f} s"
    )


def main() -> None:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    data_argument(parser)
    parser.add_argument("--set", choices=["orlib", "cpmp", "all"], default="all")
    parser.add_argument("--pmed", type=int, nargs="*", default=list(range(1, 41)))
    parser.add_argument("--cpmp", nargs="*", default=None, help="cpmp file names")
    parser.add_argument("--time-limit", type=float, default=60.0, help="per CPMP instance")
    parser.add_argument(
        "--lp", action="store_true", help="print the LP relaxation of the --pmed instances only"
    )
    args = parser.parse_args()
    print(machine(), "\n")
    if args.lp:
        run_lp(args.data / "orlib", args.pmed)
        return
    if args.set in ("orlib", "all"):
        run_orlib(args.data / "orlib", args.pmed)
    if args.set in ("cpmp", "all"):
        names = args.cpmp or [f"pmedcap1_{i:02d}.txt" for i in range(1, 21)] + [
            f"SJC{s}.dat" for s in ("1", "2", "3a", "3b", "4a", "4b")
        ]
        run_cpmp(args.data / "cpmp", names, args.time_limit)


if __name__ == "__main__":
    main()
