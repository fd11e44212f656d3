"""Benchmark: a county-scale p-median siting instance (synthetic, fixed seed). Not a test.

40 000 demand cells (a 200 x 200 grid of 300 m cells over a 60 km square county, children per
cell from a mixture of town clusters) and 2 000 candidate sites (drawn near the population);
cost = straight-line distance x 1.3 (a road detour factor), kept for the k nearest candidates
of every cell (sparse). p = 20 schools. Run from the repository root:
    python benchmarks/bench_county_siting.py [--k 300] [--time-limit 25]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import machine  # noqa: E402

from layout.optimize import p_median  # noqa: E402


def county(seed: int, k: int) -> tuple[sp.csr_array, np.ndarray]:
    """Sparse k-nearest costs (metres) of 40 000 cells to 2 000 candidates, and children."""
    rng = np.random.default_rng(seed)
    g = (np.arange(200) + 0.5) * 300.0
    cells = np.column_stack([np.repeat(g, 200), np.tile(g, 200)])
    towns = rng.random((12, 2)) * 60_000
    size = rng.lognormal(0.0, 0.8, 12)
    spread = rng.uniform(1_500, 5_000, 12)
    d2 = ((cells[:, None, :] - towns[None, :, :]) ** 2).sum(axis=2)
    density = 0.05 + (size * np.exp(-d2 / (2 * spread**2))).sum(axis=1)
    children = rng.poisson(8 * density).astype(float)
    pick = rng.choice(len(cells), 2_000, replace=False, p=density / density.sum())
    sites = cells[pick] + rng.uniform(-150, 150, (2_000, 2))
    dist, idx = NearestNeighbors(n_neighbors=k).fit(sites).kneighbors(cells)
    rows = np.repeat(np.arange(len(cells)), k)
    cost = sp.csr_array((1.3 * dist.ravel() + 1.0, (rows, idx.ravel())), shape=(40_000, 2_000))
    return cost, children


def main() -> None:
    """Build the instance, solve it and print the result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, default=300)
    parser.add_argument("--p", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--time-limit", type=float, default=25.0)
    args = parser.parse_args()
    print(machine())
    start = time.perf_counter()
    cost, children = county(args.seed, args.k)
    built = time.perf_counter() - start
    cpu = time.process_time()
    r = p_median(cost, args.p, weights=children, time_limit=args.time_limit)
    cpu = time.process_time() - cpu
    print(
        f"instance: {cost.shape[0]} cells x {cost.shape[1]} candidates, k={args.k} "
        f"({cost.nnz} stored costs), p={args.p}, {children.sum():.0f} children; built in "
        f"{built:.1f} s"
    )
    print(
        f"objective {r.objective:.6g} child-metres, lower bound {r.lower_bound:.6g}, gap "
        f"{r.gap:.3%}, solve time {r.time_seconds:.1f} s (time limit {args.time_limit:g} s), "
        f"CPU time {cpu:.1f} s"
    )
    print(
        f"mean distance {r.objective / children.sum():.0f} m; unserved cells "
        f"{int((r.assignment < 0).sum())}"
    )


if __name__ == "__main__":
    main()
