"""Run the plan county by county: in parallel processes, on a Dask cluster, or one at a time.

A province is planned as many small runs, one per county, then merged:

1. :func:`partition_study` reads the study once and writes one small study per county under
   ``<out_dir>/partitions/<county_code>/`` (GeoParquet layers, a ``study.toml``), with a
   ``halo_schools`` layer of the schools of other counties near the border.
2. Each county is a task that gets only the path of its study TOML, reads its own files, runs
   :func:`layout.runs.plan.analyse` and writes its tables as (Geo)Parquet under
   ``<out_dir>/counties/<county_code>/`` (written to a temporary folder, then renamed) with a
   ``done`` marker. Tasks run in this process (``workers=0`` or ``1``), in a pool of
   ``workers`` processes, or on an existing Dask cluster (``scheduler="tcp://host:port"``;
   ``out_dir`` must then be on storage every worker sees).
3. :func:`~layout.runs.merge.merge_counties` concatenates the counties' tables in
   county-code order (a table that is the same in every county, like the standards
   profile, is taken once; one that differs but has no ``county_code`` column gets one).
   Where the study's profile allows ``cross_county_enrolment``, the children each county
   could not seat then take the spare places of neighbouring counties' schools
   (:func:`layout.access.settle_borders`; each county found its arcs to them among its halo
   schools). The results GeoPackage, spreadsheet, charts and maps are written from the
   merge by :func:`layout.runs.outputs.write_outputs`. The per-cell tables (demand, cell flags
   and reasons, assignment: tens of millions of rows for a province) are not merged: they go
   county by county from the counties' folders into their Parquet folders, partitioned by
   county and year (:meth:`~layout.runs.merge.MergedResult.per_cell`), so this process never
   holds them whole. A serial, a process and a Dask run of one study give identical tables.

Faults: a task whose process dies (killed, out of memory, crashed) is run again, at most
``retries`` more times; then the run fails with :class:`~layout.errors.CountyRunError` naming
the county. Every county that finished keeps its results, and ``resume=True`` skips the
counties whose ``done`` marker matches their current partition. An error raised by the
analysis itself (bad data) is not retried. A merge never leaves a county out silently: it
raises naming every partitioned county without a finished result.

Examples
--------
Running a study county by county in two processes::

    from layout.runs.province import run_counties
    result = run_counties("study.toml", out_dir="out", maps_dir="maps", workers=2)
    result.runs  # one row per county: attempts, seconds, peak memory of its worker
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from itertools import pairwise
from pathlib import Path
from types import FrameType
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from ..errors import CountyRunError, LayoutError, ValidationError
from ..plausibility import COLUMNS, log_warnings
from ..study import bundled_study_path, study_from_toml
from ._partition import partition_study, read_manifest, source_fingerprint
from ._preflight import FIXED_BYTES, check_outputs
from .merge import MergedResult, _finished, _write_result, merge_counties, merge_tables
from .outputs import write_outputs
from .plan import analyse

LOG = logging.getLogger(__name__)

__all__ = [
    "CRASH_ENV",
    "MergedResult",
    "merge_counties",
    "merge_tables",
    "partition_study",
    "run_counties",
]

CRASH_ENV = "LAYOUT_TEST_CRASH_COUNTY"
"""Fault injection for tests: the task of the county with this code kills its own process
(``os._exit``) on its first attempt, as a worker killed by the system would die."""

_ATTEMPTS = ".attempts"
_running: dict[str, Path] = {}
"""In a pool worker: the attempt record of the task it is running (for the SIGTERM handler)."""

_Task = tuple[str, str, int, str]
"""What a county task gets: its study TOML, the counties folder, retries, partition hash."""


class _WorkerLostError(LayoutError):
    """A county's task was started more often than its retries allow (its process died)."""


def run_counties(  # noqa: PLR0913 - the options of `layout plan`
    study_path: str | os.PathLike[str] | None,
    *,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    retries: int = 1,
    lang: Literal["zh", "en"] = "zh",
    tiles: str = "none",
    progress: bool = True,
    halo_m: float | None = None,
) -> MergedResult:
    """Partition a study, analyse every county as a separate task, merge and write outputs.

    Parameters
    ----------
    study_path
        Study TOML; ``None`` runs the bundled synthetic Anshan sample.
    out_dir
        Folder of the merged results GeoPackage, spreadsheet and charts, and of the
        ``partitions/`` and ``counties/`` working folders.
    maps_dir
        Folder of the HTML maps.
    workers
        Processes on this machine; ``None`` uses every core, ``0`` or ``1`` runs the counties
        one at a time in this process. Not allowed with ``scheduler``.
    scheduler
        Address of a running Dask distributed scheduler, e.g. ``"tcp://10.0.0.5:8786"``
        (needs ``pip install "dask[distributed]"``; every worker must import ``layout`` and
        see ``out_dir``).
    resume
        Keep the counties already finished in ``out_dir`` for the same partitions, and the
        partitions themselves when the study files have not changed.
    retries
        How many more times a county is run after its process died.
    lang, tiles
        Language of the spreadsheet and maps, and map background, as for
        :func:`layout.runs.plan.plan`.
    progress
        Show a progress bar over the counties.
    halo_m
        Halo distance of :func:`partition_study`; ``None`` for the profile's.

    Returns
    -------
    MergedResult
        With ``outputs`` the files written.

    Raises
    ------
    CountyRunError
        Some counties failed (their process died in every attempt, or their analysis raised);
        the message names each one and why. The counties that finished are kept.
    ValidationError
        Bad options, or an invalid study.
    """
    _check_options(workers=workers, scheduler=scheduler, retries=retries)
    check_outputs({"--out": out_dir, "--maps": maps_dir}, needed_bytes=FIXED_BYTES)
    clock = [time.perf_counter()]
    out = Path(out_dir)
    source = Path(study_path) if study_path is not None else bundled_study_path()
    manifest = _current_partitions(source, out / "partitions", halo_m=halo_m, reuse=resume)
    log_warnings(pd.DataFrame(manifest.get("warnings", []), columns=COLUMNS))  # the whole study's
    clock.append(time.perf_counter())
    tasks, kept = _county_tasks(out, manifest["counties"], retries=retries, resume=resume)
    LOG.info("%d counties to run, %d kept from an earlier run", len(tasks), len(kept))
    with tqdm(total=len(tasks), disable=not progress, unit="county") as bar:
        failed = _engine(workers, scheduler)(tasks, bar)
    if failed:
        raise CountyRunError(failed)
    clock.append(time.perf_counter())
    result = merge_counties(out / "partitions", out / "counties")
    result.runs["kept"] = result.runs["county_code"].isin(kept)
    clock.append(time.perf_counter())
    LOG.info("write merged outputs")
    result.outputs = write_outputs(result, out_dir=out, maps_dir=maps_dir, lang=lang, tiles=tiles)
    clock.append(time.perf_counter())
    stages = ("partition", "counties", "merge", "outputs")
    result.seconds = {s: round(b - a, 3) for s, (a, b) in zip(stages, pairwise(clock), strict=True)}
    return result


def _county_tasks(
    out: Path, hashes: Mapping[str, str], *, retries: int, resume: bool
) -> tuple[list[_Task], list[str]]:
    """Return the tasks of the counties to run, and the counties kept from an earlier run."""
    counties_dir = out / "counties"
    if not resume:
        shutil.rmtree(counties_dir, ignore_errors=True)
    shutil.rmtree(counties_dir / _ATTEMPTS, ignore_errors=True)
    counties_dir.mkdir(parents=True, exist_ok=True)
    kept = sorted(code for code, digest in hashes.items() if _finished(counties_dir / code, digest))
    tasks = [
        (str(out / "partitions" / code / "study.toml"), str(counties_dir), retries, digest)
        for code, digest in sorted(hashes.items())
        if code not in kept
    ]
    return tasks, kept


def _check_options(*, workers: int | None, scheduler: object, retries: int) -> None:
    problems = []
    if workers is not None and (isinstance(workers, bool) or workers < 0):
        problems.append(f"workers must be None or a whole number >= 0; got {workers!r}.")
    if workers is not None and scheduler is not None:
        problems.append(
            "give workers (processes on this machine) or scheduler (a Dask cluster), not both."
        )
    if scheduler is not None and not isinstance(scheduler, str):
        problems.append(f"scheduler must be an address like 'tcp://host:8786'; got {scheduler!r}.")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        problems.append(f"retries must be a whole number >= 0; got {retries!r}.")
    if problems:
        raise ValidationError(problems)


def _current_partitions(
    source: Path, parts: Path, *, halo_m: float | None, reuse: bool
) -> dict[str, Any]:
    """Partition the study, or keep the partitions there when ``reuse`` and still current."""
    manifest = read_manifest(parts) if reuse else None
    if manifest is not None:
        fingerprint = source_fingerprint(source.resolve())
        same_halo = halo_m is None or float(halo_m) == manifest["halo_m"]
        if fingerprint is not None and fingerprint == manifest["fingerprint"] and same_halo:
            LOG.info("partitions in %s are current: kept", parts)
            return manifest
    LOG.info("partition %s", source)
    partition_study(source, parts, halo_m=halo_m)
    current = read_manifest(parts)
    assert current is not None
    return current


def _engine(
    workers: int | None, scheduler: str | None
) -> Callable[[list[_Task], tqdm], dict[str, str]]:
    """Return the function that runs the tasks and returns the failed counties and why."""
    if scheduler is not None:
        return partial(_run_on_dask, scheduler=scheduler)
    count = (os.cpu_count() or 1) if workers is None else workers
    if count <= 1:
        return _run_here
    return partial(_run_in_processes, workers=count)


def _county_code(task: _Task) -> str:
    return Path(task[0]).parent.name


def _run_here(tasks: list[_Task], bar: tqdm) -> dict[str, str]:
    """Run the tasks one at a time in this process."""
    failed = {}
    for task in tasks:
        try:
            _county_task(*task)
        except Exception as exc:  # noqa: BLE001 - any failure of one county is reported for it
            failed[_county_code(task)] = _reason(exc)
        bar.update()
    return failed


def _run_in_processes(tasks: list[_Task], bar: tqdm, *, workers: int) -> dict[str, str]:
    """Run the tasks in a pool of processes; a broken pool is replaced and lost tasks rerun."""
    failed: dict[str, str] = {}
    pending = list(tasks)
    context = _pool_context()
    while pending:
        before = _attempts_used(Path(pending[0][1]))
        lost: list[_Task] = []
        with ProcessPoolExecutor(
            max_workers=min(workers, len(pending)),
            mp_context=context,
            initializer=_init_pool_worker,
            initargs=(dict(os.environ), max(1, (os.cpu_count() or 1) // workers)),
        ) as pool:
            futures = {pool.submit(_county_task, *task): task for task in pending}
            try:
                for future in as_completed(futures):
                    task = futures[future]
                    error = future.exception()
                    if isinstance(error, BrokenProcessPool):
                        lost.append(task)
                        continue
                    if error is not None:
                        failed[_county_code(task)] = _reason(error)
                    bar.update()
            except BaseException:  # Ctrl-C or SIGTERM: stop the counties, do not wait for them
                _stop_workers(pool)
                raise
        finished = len(pending) - len(lost)
        if lost and not finished and _attempts_used(Path(lost[0][1])) == before:
            codes = [_county_code(task) for task in lost]
            raise CountyRunError(dict.fromkeys(codes, "worker processes died before starting it"))
        if lost:
            LOG.warning("a worker process died; rerunning %d counties", len(lost))
        pending = lost
    return failed


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's workers (each gives back its county's attempt) and drop the queue.

    ``ProcessPoolExecutor.terminate_workers`` does this from Python 3.14; before it, the
    workers are reached through the pool's process table.
    """
    workers = list((getattr(pool, "_processes", None) or {}).values())  # shutdown drops it
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.terminate()


def _pool_context() -> multiprocessing.context.BaseContext:
    """Return a forkserver context that preloads layout (fast workers), else spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _run_on_dask(tasks: list[_Task], bar: tqdm, *, scheduler: str) -> dict[str, str]:
    """Run the tasks on a Dask cluster; the cluster reruns a task whose worker died."""
    try:
        from distributed import Client, KilledWorker
        from distributed import as_completed as dask_completed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ValidationError(
            'scheduler needs Dask distributed. Fix: pip install "dask[distributed]"'
        ) from exc
    failed: dict[str, str] = {}
    with Client(scheduler, set_as_default=False) as client:
        futures = {client.submit(_county_task, *t, pure=False): t for t in tasks}
        resubmitted = dict.fromkeys(futures.values(), 0)
        queue = dask_completed(futures, loop=client.loop)
        for future in queue:
            task = futures[future]
            error = None if future.status == "finished" else future.exception()
            if isinstance(error, KilledWorker) and resubmitted[task] < task[2]:
                resubmitted[task] += 1
                again = client.submit(_county_task, *task, pure=False)
                futures[again] = task
                queue.add(again)
                continue
            if error is not None:
                failed[_county_code(task)] = _reason(error)
            bar.update()
    return failed


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _attempts_used(counties_dir: Path) -> int:
    """Attempt records of every county of the run (a new one means a task started)."""
    folder = counties_dir / _ATTEMPTS
    return sum(1 for _ in folder.glob("*/*")) if folder.is_dir() else 0


def _init_pool_worker(environ: Mapping[str, str], threads: int) -> None:
    """Start a pool worker: the parent's environment, its share of threads, a SIGTERM handler.

    A worker forked by a forkserver would otherwise keep the environment the server started
    with. Workers that each run BLAS, OpenMP and Arrow thread pools as wide as the machine
    slow each other down (a county took 1.5 to 2 times longer with 2 workers on 2 cores), so
    each gets ``threads`` of them, as Dask's workers do. A worker terminated because another
    one died gives back its county's attempt.
    """
    os.environ.clear()
    os.environ.update(environ)
    threadpool_limits(threads)
    pa.set_cpu_count(threads)
    signal.signal(signal.SIGTERM, _on_terminate)


def _on_terminate(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
    record = _running.get("attempt")
    if record is not None:
        record.unlink(missing_ok=True)
    os._exit(128 + signum)


def _begin_attempt(counties_dir: Path, code: str, retries: int) -> Path:
    """Record a new attempt of a county; refuse one more than ``retries`` allow."""
    folder = counties_dir / _ATTEMPTS / code
    folder.mkdir(parents=True, exist_ok=True)
    used = sum(1 for _ in folder.iterdir())
    if used > retries:
        raise _WorkerLostError(
            f"the process running it died in each of {used} attempt(s) (retries={retries}); "
            "see the log of the worker, e.g. for running out of memory"
        )
    record = folder / str(used)
    record.write_text(str(os.getpid()), encoding="utf-8")
    return record


def _county_task(toml: str, counties_dir: str, retries: int, digest: str) -> dict[str, Any]:
    """Analyse one county from its partition and write its result folder.

    Runs in a worker: gets only paths, reads the county's own files, returns a small summary.
    """
    path, root = Path(toml), Path(counties_dir)
    code = path.parent.name
    record = _begin_attempt(root, code, retries)
    _running["attempt"] = record
    try:
        if os.environ.get(CRASH_ENV) == code and record.name == "0":
            os._exit(70)
        start = time.perf_counter()
        result = analyse(study_from_toml(path))
        summary = {
            "county_code": code,
            "attempts": int(record.name) + 1,
            "seconds": round(time.perf_counter() - start, 3),
            "worker_peak_mb": _peak_mb(),
        }
        _write_result(result, root / code, {**summary, "partition": digest})
        LOG.info("county %s done in %.1f s", code, summary["seconds"])
        return summary
    finally:
        _running.pop("attempt", None)


def _peak_mb() -> int | None:
    """Peak resident memory of this process in MB (``None`` where unknown)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
