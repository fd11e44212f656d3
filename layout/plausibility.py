"""Plausibility of a loaded study: values that pass every check but are unlikely to be true.

A capacity of 0 beside 3,000 pupils, a teachers column that disagrees with the teachers
layer, more boarders than beds, a class of 250 pupils, a school outside its own county: none
stops a run, each is named in a warning with its rows. The limits are judgement calls of the
profile's ``[checks]`` table (:class:`layout.standards.Checks`).

:func:`plausibility_warnings` returns them as a table with the columns of :data:`COLUMNS`
(the same as a check's errors, so a report can list both); :func:`log_warnings` logs them as
one block. Every command logs it before its analysis starts.

Examples
--------
>>> from layout.study import study_from_toml
>>> plausibility_warnings(study_from_toml()).empty
True
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ._validate import ids_text
from .errors import FINDING_COLUMNS
from .schema import classes_columns, enrolment_columns
from .study import Study

LOG = logging.getLogger(__name__)

COLUMNS = list(FINDING_COLUMNS)
"""Columns of a table of problems: ``severity`` ("error" or "warning"), where (``file``,
``layer``, ``column``), ``rows`` (the row ids, comma-separated), what is wrong and the fix."""


def plausibility_warnings(study: Study) -> pd.DataFrame:
    """List the implausible values of a study's schools, one row per kind of problem.

    Parameters
    ----------
    study
        A loaded study (its layers already passed the checks of :func:`~layout.study.read_layer`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`; ``severity`` is ``"warning"`` on every row; ``rows`` holds
        the school ids. Empty when nothing is implausible.

    Examples
    --------
    See the module example, and ``tests/test_reliability.py`` for each warning worked by hand.
    """
    schools = study["schools"]
    limits = study.standards.checks
    ids = schools["school_id"].astype(str).to_numpy()
    pupils = schools[enrolment_columns()].sum(axis=1).to_numpy(dtype=float)
    found: list[tuple[str, np.ndarray, str, str]] = [
        (
            "capacity",
            schools["capacity"].to_numpy(dtype=float) < limits.capacity_share_min * pupils,
            f"capacity below {limits.capacity_share_min:.0%} of the pupils enrolled",
            "enter the school's places (学位) in 'capacity'",
        ),
        (
            "boarders",
            schools["boarders"].to_numpy(dtype=float)
            > limits.boarders_per_bed_max * schools["boarding_beds"].to_numpy(dtype=float),
            "more boarders than boarding beds",
            "check 'boarders' and 'boarding_beds'",
        ),
        (
            "enrolment_g1..g9",
            _crowded(schools, limits.students_per_class_max),
            f"more than {limits.students_per_class_max} pupils per class in a grade",
            "check the grade's pupils and its classes (classes_g1..g9)",
        ),
        (
            "enrolment_g1..g9",
            pupils > limits.students_per_school_max,
            f"more than {limits.students_per_school_max:,} pupils in one school",
            "check the enrolment: a district's total may have been entered for one school",
        ),
        (
            "geometry",
            _outside_own_county(study),
            "school outside the boundary of its own county (county_code)",
            "check the coordinates, their CRS and the county_code",
        ),
    ]
    teachers = study.layers.get("teachers")
    if teachers is not None and "teachers" in schools.columns:
        found.append(_teachers_differ(schools, teachers, study))
    where = _where(study, "schools")
    rows = [
        ("warning", *where, column, ", ".join(ids[mask]), problem, fix)
        for column, mask, problem, fix in found
        if mask.any()
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def log_warnings(table: pd.DataFrame) -> None:
    """Log a table of :data:`COLUMNS` as one WARNING block (nothing when it is empty).

    Parameters
    ----------
    table
        From :func:`plausibility_warnings`.
    """
    if table.empty:
        return
    lines = [
        f"{row.file}, layer '{row.layer}', column '{row.column}': {row.problem} in school_id "
        f"{ids_text(str(row.rows).split(', '))}. Fix: {row.fix}"
        for row in table.itertuples()
    ]
    LOG.warning(
        "%d implausible value(s) (the run goes on; check them):\n  %s",
        len(lines),
        "\n  ".join(lines),
    )


def _crowded(schools: pd.DataFrame, most: int) -> np.ndarray:
    """Schools with more than ``most`` pupils per class in some grade."""
    pupils = schools[enrolment_columns()].to_numpy(dtype=float)
    classes = schools[classes_columns()].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.where(classes > 0, pupils / classes, 0.0)
    return np.asarray((per_class > most).any(axis=1), dtype=bool)


def _outside_own_county(study: Study) -> np.ndarray:
    """Schools whose point is not within the polygon of their own county."""
    schools = study["schools"]
    counties = study["counties"].set_index("county_code").geometry
    own = counties.reindex(schools["county_code"].to_numpy())
    inside = own.covers(schools.geometry.set_axis(own.index), align=False)
    return np.asarray(~inside.to_numpy(dtype=bool), dtype=bool)


def _teachers_differ(
    schools: pd.DataFrame, teachers: pd.DataFrame, study: Study
) -> tuple[str, np.ndarray, str, str]:
    """Schools whose teachers column and count of teachers-layer rows disagree."""
    limits = study.standards.checks
    listed = teachers["school_id"].astype(str).value_counts()
    count = listed.reindex(schools["school_id"].astype(str)).fillna(0).to_numpy()
    column = schools["teachers"].to_numpy(dtype=float)
    larger = np.maximum(count, column)
    differ = np.abs(count - column) > limits.teachers_difference_share * larger
    source = _where(study, "teachers")[0]
    return (
        "teachers",
        differ,
        f"the teachers column differs by more than {limits.teachers_difference_share:.0%} "
        f"from the school's rows in {source}",
        f"make 'teachers' the count of the school's rows in {source}, or complete that layer",
    )


def _where(study: Study, name: str) -> tuple[str, str]:
    """Return the file name and layer name of a study layer, as the study TOML gives them."""
    entry = study.config.get("layers", {}).get(name, {})
    path = entry.get("path")
    return (Path(path).name if path else "database", str(entry.get("layer") or name))
