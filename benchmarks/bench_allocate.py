"""Benchmark travel costs and the capacitated assignment from county to province scale.

Three parts:

1. ``check``: random instances solved by :func:`layout.access.assign` (decomposed and as one
   LP) compared with the full dense transportation LP over every cell-school pair, built here
   independently and solved by HiGHS through :func:`scipy.optimize.linprog`.
2. ``scale``: synthetic grids of 40 000 to 600 000 cells (500 m cells, clustered towns on a
   rural background) with one school per ~100-130 cells, k = 8 nearest-school arcs. Each size
   runs in its own process so its peak memory (``ru_maxrss``) is its own.
3. ``full``: the 150 000-cell size also solved as one LP (``decompose=False``) to show what
   the decomposition saves (one LP at province scale takes too long to run routinely).
4. ``--network``: road-network costs at county scale on a synthetic grid of roads, with the
   assignment and catchments on them (run on its own).

Capacities are set from each school's nearest-school load times a log-normal factor
(sigma 0.3), so about half the schools are over capacity under nearest assignment: a hard,
congested case for the decomposition.

Run ``python benchmarks/bench_allocate.py`` from the repository root (about 5 minutes on
2 cores, shared); ``--sizes 40000:300`` runs one size. Results print as Markdown rows.

Examples
--------
>>> cells, schools = make_instance(400, 4, seed=0)
>>> len(cells), len(schools), cells.crs.to_epsg()
(400, 4, 4550)
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.optimize import linprog
from scipy.spatial.distance import cdist

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layout.access import (  # noqa: E402  # noqa: E402
    assign,
    assign_nearest,
    catchments,
    costs_from_distance,
    costs_from_network,
)

CELL_M = 500.0
CHILDREN_PER_SCHOOL = 600
RURAL_SHARE = 0.35
"""Share of children living outside the towns (assumption; Liaoning is ~72% urban)."""
"""Liaoning: ~3.5 million children aged 6-14 (about 8% of 42.6 million) over ~6 000 schools."""
SIZES = ((40_000, 300), (75_000, 600), (150_000, 1_500), (300_000, 3_000), (600_000, 6_000))


def make_instance(
    n_cells: int, n_schools: int, *, seed: int, sigma: float = 0.3
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return a synthetic grid of cells with children and schools with capacities.

    Examples
    --------
    >>> cells, schools = make_instance(100, 3, seed=1)
    >>> bool((schools["capacity"] >= 1).all())
    True
    """
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_cells)))
    ix, iy = np.divmod(np.arange(n_cells), side)
    x, y = (ix + 0.5) * CELL_M, (iy + 0.5) * CELL_M
    towns = rng.uniform(0, side * CELL_M, (max(3, n_cells // 4000), 2))
    weight = rng.pareto(1.5, len(towns)) + 1
    urban = np.zeros(n_cells)
    for (tx, ty), w in zip(towns, weight, strict=True):  # per town, vectorised over cells
        urban += 40 * w * np.exp(-((x - tx) ** 2 + (y - ty) ** 2) / (2 * (2000 * np.sqrt(w)) ** 2))
    rural = rng.gamma(0.6, 1.0, n_cells)
    share = RURAL_SHARE * rural / rural.sum() + (1 - RURAL_SHARE) * urban / urban.sum()
    intensity = CHILDREN_PER_SCHOOL * n_schools * share
    children = rng.poisson(intensity).astype(float)
    p = (children + 0.5) / (children + 0.5).sum()
    at = rng.choice(n_cells, n_schools, replace=False, p=p)
    school_xy = np.column_stack((x[at], y[at])) + rng.uniform(-200, 200, (n_schools, 2))
    nearest = cdist_nearest(np.column_stack((x, y)), school_xy)
    load = np.bincount(nearest, children, n_schools)
    capacity = np.maximum(1, np.round(load * np.exp(rng.normal(0, sigma, n_schools))))
    cells = gpd.GeoDataFrame(
        {"cell_id": np.arange(n_cells), "children": children, "township_code": ix // 40},
        geometry=shapely.box(x - CELL_M / 2, y - CELL_M / 2, x + CELL_M / 2, y + CELL_M / 2),
        crs="EPSG:4550",
    )
    schools = gpd.GeoDataFrame(
        {"school_id": [f"S{i}" for i in range(n_schools)], "capacity": capacity},
        geometry=shapely.points(school_xy),
        crs="EPSG:4550",
    )
    return cells, schools


def cdist_nearest(points: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """Nearest site of each point, by blocks of points (independent of the library's k-d tree)."""
    return np.concatenate(
        [
            cdist(block, sites).argmin(axis=1)
            for block in np.array_split(points, 1 + len(points) // 20_000)
        ]
    )


def dense_lp_objective(
    children: np.ndarray, capacity: np.ndarray, cost: np.ndarray, penalty: float
) -> float:
    """Objective of the full transportation LP over every pair, with an unserved sink per cell."""
    n, m = cost.shape
    from scipy import sparse

    a_eq = sparse.hstack([sparse.kron(sparse.eye(n), np.ones((1, m))), sparse.eye(n)])
    a_ub = sparse.hstack([sparse.kron(np.ones((1, n)), sparse.eye(m)), sparse.csr_matrix((m, n))])
    c = np.concatenate((cost.ravel(), np.full(n, penalty)))
    result = linprog(c, A_ub=a_ub, b_ub=capacity, A_eq=a_eq, b_eq=children, method="highs")
    assert result.status == 0, result.message
    return float(result.fun)


def check(instances: int = 20) -> list[dict]:
    """Compare assign() with the dense LP on random instances; return one row per instance."""
    rows = []
    rng = np.random.default_rng(7)
    for seed in range(instances):
        n, m = int(rng.integers(200, 2000)), int(rng.integers(5, 40))
        cells, schools = make_instance(n, m, seed=seed, sigma=0.5)
        costs = costs_from_distance(cells, schools, k=m, circuity=1.3, speed_kmh=4.5)
        xy = shapely.get_coordinates(cells.geometry.centroid.to_numpy())
        dense = cdist(xy, shapely.get_coordinates(schools.geometry.to_numpy())) * 1.3 / 75
        for decompose in (True, False):
            result = assign(cells, schools, costs, decompose=decompose)
            reference = dense_lp_objective(
                cells["children"].to_numpy(), schools["capacity"].to_numpy(), dense, result.penalty
            )
            gap = abs(result.objective - reference) / max(1.0, abs(reference))
            rows.append({"cells": n, "schools": m, "decompose": decompose, "relative_gap": gap})
            assert gap <= 1e-6, rows[-1]
    return rows


def run_one(n_cells: int, n_schools: int, *, decompose: bool) -> dict:
    """Build, cost and assign one instance; return timings and peak memory."""
    t0 = time.perf_counter()
    cells, schools = make_instance(n_cells, n_schools, seed=n_cells)
    t1 = time.perf_counter()
    costs = costs_from_distance(cells, schools, k=8, circuity=1.3, speed_kmh=4.5)
    t2, cpu2 = time.perf_counter(), _cpu()
    result = assign(cells, schools, costs, decompose=decompose)
    t3, cpu3 = time.perf_counter(), _cpu()
    nearest = assign_nearest(cells, schools, costs)
    return {
        "cells": n_cells,
        "schools": n_schools,
        "arcs": int(costs.metres.nnz),
        "decompose": decompose,
        "children": float(cells["children"].sum()),
        "over_capacity_nearest": float(nearest.schools["over_capacity"].mean()),
        "unserved": float(result.unserved["children"].sum()),
        "make_s": t1 - t0,
        "costs_s": t2 - t1,
        "assign_s": t3 - t2,
        "assign_cpu_s": cpu3 - cpu2,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _cpu() -> float:
    """CPU seconds used by this process so far (user + system, all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_network(n_cells: int, n_schools: int, *, cutoff_min: float) -> dict:
    """Time network costs on a grid of roads every 250 m, then assign and draw catchments."""
    cells, schools = make_instance(n_cells, n_schools, seed=n_cells)
    xmax, ymax = cells.total_bounds[2:]
    rng = np.random.default_rng(0)
    xs, ys = np.arange(0, xmax + 1, 250.0), np.arange(0, ymax + 1, 250.0)
    # Each line has a vertex at every crossing, so crossings become shared junctions.
    geometry = shapely.linestrings(
        [[(x, y) for y in ys] for x in xs] + [[(x, y) for x in xs] for y in ys]
    )
    roads = gpd.GeoDataFrame(
        {
            "road_id": np.arange(len(geometry)),
            "road_class": "local",
            "speed_kmh": rng.choice([20.0, 30.0, 60.0], len(geometry)),
        },
        geometry=geometry,
        crs=cells.crs,
    )
    t0 = time.perf_counter()
    costs = costs_from_network(cells, schools, roads, cutoff_min=cutoff_min)
    t1 = time.perf_counter()
    result = assign(cells, schools, costs)
    t2 = time.perf_counter()
    catchments(result, cells)
    t3 = time.perf_counter()
    return {
        "cells": n_cells,
        "schools": n_schools,
        "road_vertices": int(shapely.get_num_coordinates(geometry).sum()),
        "arcs": int(costs.metres.nnz),
        "unserved": float(result.unserved["children"].sum()),
        "network_costs_s": t1 - t0,
        "assign_s": t2 - t1,
        "catchments_s": t3 - t2,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _subprocess(n_cells: int, n_schools: int, *, decompose: bool) -> dict:
    command = [sys.executable, __file__, "--one", f"{n_cells}:{n_schools}"]
    if not decompose:
        command.append("--full")
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    """Run the benchmark and print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--one", help="run one size n_cells:n_schools and print JSON")
    parser.add_argument("--full", action="store_true", help="with --one: one LP, no decomposition")
    parser.add_argument("--sizes", nargs="*", help="sizes n_cells:n_schools (default: all)")
    parser.add_argument("--full-size", default="150000:1500", help="size solved as one LP")
    parser.add_argument("--skip-full", action="store_true", help="skip the one-LP comparison")
    parser.add_argument("--network", action="store_true", help="time network costs only")
    args = parser.parse_args()
    if args.network:
        print(_markdown(pd.DataFrame([run_network(40_000, 300, cutoff_min=30.0)])))
        return
    if args.one:
        n, m = map(int, args.one.split(":"))
        print(json.dumps(run_one(n, m, decompose=not args.full)))
        return
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(f"cpu: {cpu}; cores: {len(__import__('os').sched_getaffinity(0))}")
    rows = check()
    print(
        f"LP check: {len(rows)} solves, max relative gap {max(r['relative_gap'] for r in rows):.2e}"
    )
    sizes = [tuple(map(int, s.split(":"))) for s in args.sizes] if args.sizes else SIZES
    table = [_subprocess(n, m, decompose=True) for n, m in sizes]
    if not args.skip_full:
        table.append(_subprocess(*map(int, args.full_size.split(":")), decompose=False))
    print(_markdown(pd.DataFrame(table)))


def _markdown(frame: pd.DataFrame) -> str:
    """Format a table as Markdown, numbers to 3 significant figures."""
    cells = frame.map(lambda v: f"{v:.3g}" if isinstance(v, float) else str(v))
    lines = [" | ".join(frame.columns), " | ".join("---" for _ in frame.columns)]
    lines += [" | ".join(row) for row in cells.to_numpy()]
    return "\n".join(f"| {line} |" for line in lines)


if __name__ == "__main__":
    main()
