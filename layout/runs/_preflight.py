"""Checks every command makes before its analysis: output folders, disk space, the year asked.

A run that would fail at write time (a folder that is a file, read-only, immutable or full) or
answer for a year outside the study is refused at once, before minutes of analysis. The
study's own years (plan period, base year against the population layer) are checked when it is
loaded (:func:`layout.study.study_from_toml`); its implausible values are logged here as one
block (:func:`layout.plausibility.plausibility_warnings`), and how its travel is costed
(:func:`layout.access.log_cost_method`).

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> (folder / "taken").write_text("a file", encoding="utf-8")
6
>>> check_outputs({"--out": folder / "taken"}, needed_bytes=0)
Traceback (most recent call last):
...
layout.errors.ValidationError: --out: .../taken is a file, not a folder. Fix: give a folder...
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ..access import log_cost_method
from ..errors import ValidationError
from ..plausibility import log_warnings, plausibility_warnings
from ..study import Study

LOG = logging.getLogger(__name__)

BYTES_PER_CELL_YEAR = 400
"""Bytes of a plan's outputs per population cell, scenario and plan year (GeoPackage layers,
per-cell Parquet, spreadsheet rows). The bundled sample (17,403 cells, 3 scenarios, 11 years)
took about half of it with the per-cell demand in the GeoPackage (results.gpkg 120 MB,
tables.xlsx 2 MB) and a quarter since that demand is Parquet beside it (results.gpkg 42 MB,
demand/ 13 MB, cells.parquet 0.5 MB, tables.xlsx 2 MB; measured 2026-12-07)."""

FIXED_BYTES = 50_000_000
"""Bytes of outputs whatever the study's size (the maps' inlined scripts, charts, the
workbook's structure), with room for SQLite's journal while a GeoPackage is written."""


def check_outputs(folders: Mapping[str, str | os.PathLike[str]], *, needed_bytes: int) -> None:
    """Refuse output folders a run could not write into; create the missing ones.

    Parameters
    ----------
    folders
        Option name (``"--out"``) to folder.
    needed_bytes
        Space the outputs are expected to take; the folder's disk must have it free.

    Raises
    ------
    ValidationError
        Every folder that is a file, cannot be created or written, or lacks the space.
    """
    problems = []
    for option, folder in folders.items():
        path = Path(folder)
        if path.exists() and not path.is_dir():
            problems.append(
                f"{option}: {path} is a file, not a folder. Fix: give a folder (it is created "
                "if missing) or move the file away."
            )
            continue
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError as exc:
            problems.append(
                f"{option}: cannot write into {path} ({exc.strerror or exc}). Fix: give a "
                "folder you may write to, or change its permissions (chmod u+w; chattr -i "
                "if it is immutable)."
            )
            continue
        free = shutil.disk_usage(path).free
        if free < needed_bytes:
            problems.append(
                f"{option}: {path} has {free / 1e6:,.0f} MB free; the outputs need about "
                f"{needed_bytes / 1e6:,.0f} MB. Fix: free some space or write elsewhere."
            )
    if problems:
        raise ValidationError(problems)


def plan_bytes(study: Study, *, scenarios: int = 3, years: int | None = None) -> int:
    """Return the expected size of a plan's outputs for a study, in bytes.

    Parameters
    ----------
    study
        The study (its population cells and plan years).
    scenarios
        Demographic scenarios projected.
    years
        Years of demand written; the plan years by default.

    Returns
    -------
    int

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> round(plan_bytes(study_from_toml()) / 1e6) > 50
    True
    """
    cells = len(study["population"])
    count = len(study.plan_years) if years is None else years
    return FIXED_BYTES + BYTES_PER_CELL_YEAR * cells * scenarios * count


def check_year(study: Study, year: int | None, *, option: str = "--year") -> None:
    """Refuse a year outside the study's years (base year to the end of the plan).

    Parameters
    ----------
    study
        The study.
    year
        The year asked for; ``None`` (the command's default) passes.
    option
        Name of the option, for the message.

    Raises
    ------
    ValidationError
        The year is before the population's base year or after the plan's last year: demand
        there would be extrapolated beyond the study.

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> check_year(study_from_toml(), 2050)
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: --year 2050 is outside the study's years 2020-2035 ...
    """
    if year is None or study.base_year <= year <= study.plan_end:
        return
    raise ValidationError(
        f"{option} {year} is outside the study's years {study.base_year}-{study.plan_end} "
        f"(base_year to plan_end of {study.path.name}); children would be projected beyond "
        f"the plan. Fix: choose a year from {study.base_year} to {study.plan_end}, or extend "
        "plan_end in the study TOML."
    )


def before_work(
    study: Study,
    folders: Mapping[str, str | os.PathLike[str]],
    *,
    year: int | None = None,
    needed_bytes: int | None = None,
) -> None:
    """Make every check of a command before its analysis; log the study's implausible values.

    Parameters
    ----------
    study
        The loaded study.
    folders
        Option name to output folder (:func:`check_outputs`).
    year
        The year the command was asked for, if any (:func:`check_year`).
    needed_bytes
        Expected size of the outputs; by default :func:`plan_bytes` of one scenario and year
        (the commands other than ``plan`` write cells of one scenario and year at most).
    """
    check_year(study, year)
    least = plan_bytes(study, scenarios=1, years=1) if needed_bytes is None else needed_bytes
    check_outputs(folders, needed_bytes=least)
    log_warnings(plausibility_warnings(study))
    log_cost_method(study)
