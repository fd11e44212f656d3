"""Readers of the public benchmark instances in ``../shared/benchmarks`` (not a test module)."""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks"


def data_argument(parser: argparse.ArgumentParser) -> None:
    """Add the ``--data`` option (default ``../shared/benchmarks`` beside the repository)."""
    parser.add_argument(
        "--data",
        type=_data_folder,
        default=str(DEFAULT_DATA.resolve()),
        help="folder holding orlib/ and cpmp/ (default: %(default)s)",
    )


def _data_folder(text: str) -> Path:
    """Return the benchmark data folder, or say where it was looked for and how to point at it."""
    folder = Path(text)
    if not (folder / "orlib").is_dir() or not (folder / "cpmp").is_dir():
        raise argparse.ArgumentTypeError(
            f"{folder} holds no orlib/ and cpmp/ folders of the public instances. Fix: pass "
            "--data with the shared benchmarks folder (../shared/benchmarks beside the "
            "repository, e.g. /work/shared/benchmarks)"
        )
    return folder


def orlib_pmed(folder: Path, k: int) -> tuple[np.ndarray, int]:
    """All-pairs shortest-path costs and p of OR-Library pmed``k`` (last duplicate edge wins)."""
    lines = (folder / f"pmed{k}.txt").read_text().split("\n")
    n, m, p = (int(v) for v in lines[0].split())
    edges: dict[tuple[int, int], float] = {}
    for line in lines[1 : m + 1]:
        i, j, c = (int(v) for v in line.split())
        edges[(min(i, j) - 1, max(i, j) - 1)] = float(c)
    ij = np.array(list(edges), dtype=np.int64)
    graph = sp.csr_array((np.array(list(edges.values())), (ij[:, 0], ij[:, 1])), shape=(n, n))
    return shortest_path(graph, directed=False), p


def orlib_optima(folder: Path) -> dict[str, float]:
    """Proven optima of pmed1-40 by instance name."""
    rows = (folder / "optima.csv").read_text().split()[1:]
    return {r.split(",")[0]: float(r.split(",")[3]) for r in rows}


def machine() -> str:
    """One line: cores, CPU model, Python."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"nproc={os.cpu_count()}, CPU: {model}, Python {platform.python_version()}"
