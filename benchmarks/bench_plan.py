"""Benchmark ``layout plan`` on the bundled study, stage by stage.

Runs what ``layout plan`` runs: loading the study, each analysis step of
:data:`layout.runs.plan.STEPS` (indicators, demand, then access here while a forked child plans
the sites, as :func:`layout.runs.plan.analyse` does with ``overlap=True``) and the writing of
the pack (results GeoPackage, per-cell Parquet, workbook in a forked child, charts, maps,
index). Each stage is timed by wall clock (``time.perf_counter``), by this process's CPU time
(``time.process_time``: on a shared machine the CPU time is the steadier figure) and by the
CPU time of the children it ended (``RUSAGE_CHILDREN``); the process's peak resident set size
is read after each stage (it only grows). The sizes of the files written close the report.

Usage::

    PYTHONPATH=. python benchmarks/bench_plan.py [--out FOLDER]
"""

from __future__ import annotations

import argparse
import functools
import platform
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tqdm.auto import tqdm

from layout.runs import plan as runs_plan
from layout.study import study_from_toml


def _children_cpu() -> float:
    """CPU seconds (user + system) of the child processes ended so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _peak_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run the stages and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for the outputs")
    folder = parser.parse_args().out or Path(tempfile.mkdtemp(prefix="bench-plan-"))
    rows = []
    start = time.perf_counter(), time.process_time(), _children_cpu()

    def timed(label: str, run: Callable[[], object]) -> None:
        wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
        run()
        rows.append(
            (
                label,
                time.perf_counter() - wall,
                time.process_time() - cpu,
                _children_cpu() - children,
                _peak_mb(),
            )
        )

    loaded: list[runs_plan.PlanResult] = []
    timed("load", lambda: loaded.append(runs_plan.PlanResult(study=study_from_toml())))
    result = loaded[0]
    for label, step in runs_plan.STEPS:
        if label in ("access", "sites"):  # run together below
            continue
        timed(label, functools.partial(step, result))
    with tqdm(disable=True) as bar:
        overlapped = functools.partial(runs_plan._access_and_sites, result, bar=bar)
        timed("access, sites in a child beside", overlapped)
    timed(
        "write",
        lambda: runs_plan.write_outputs(result, out_dir=folder / "out", maps_dir=folder / "maps"),
    )
    ends = time.perf_counter(), time.process_time(), _children_cpu()
    wall, cpu, children = (end - begun for end, begun in zip(ends, start, strict=True))
    rows.append(("total", wall, cpu, children, _peak_mb()))
    lines = [
        f"Python {platform.python_version()}, {platform.machine()}",
        "",
        "| stage | wall s | CPU s | children's CPU s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {label} | {wall:.1f} | {cpu:.1f} | {kids:.1f} | {peak:.0f} |"
            for label, wall, cpu, kids, peak in rows
        ),
        "",
        "| output | MB |",
        "|---|---:|",
    ]
    for path in sorted((folder / "out").iterdir()) + sorted((folder / "maps").glob("*.html")):
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        size = sum(p.stat().st_size for p in files) / 2**20
        if not path.name.startswith("."):
            lines.append(f"| {path.relative_to(folder)} | {size:.1f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
