"""Helpers the indicator modules share: operating schools, key columns, pupils by level."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import _validate
from .._validate import ids_text
from ..errors import DataWarning, ValidationError
from ..schema import LAYERS, classes_columns, enrolment_columns
from ..standards import Profile

_PRIMARY_GRADES = 6
"""Grades 1-6 are primary, 7-9 junior (see :data:`layout.schema.LEVEL_GRADES`)."""

_TOLERANCE = 1e-9
"""Relative tolerance of comparisons with a standard, so 42 teachers per 1000 pupils meet 4.2."""

_ID_COLUMNS = (
    "school_id",
    "name",
    "county_code",
    "township_code",
    "level",
    "setting",
    "grades_estimated",
)
"""Columns that identify a school in every table, and the flag of grades estimated from totals
(layout.sources.estimates) when the schools layer has it."""


# --------------------------------------------------------------------------- input checks


def _operating(
    schools: pd.DataFrame, *, needs: Sequence[str] = (), optional: Sequence[str] = ()
) -> pd.DataFrame:
    """Check the schools layer and return its operating schools with clean numeric columns.

    The checks are the study loader's (:class:`layout._validate.LayerCheck`) on the columns
    these tables use: one :class:`ValidationError` lists every problem, each naming the
    column, the school ids and the fix. ``optional`` columns are checked too but may be
    blank, and are left as they are. Schools with no pupils at all are kept and reported
    with a :class:`DataWarning`.
    """
    if not isinstance(schools, pd.DataFrame):
        raise ValidationError(f"schools must be a (Geo)DataFrame, got {type(schools).__name__}")
    numeric = [*enrolment_columns(), *classes_columns(), *needs]
    columns = ["county_code", "level", "setting", "status", *numeric]
    check = _validate.check_columns(schools, "schools", [*columns, *optional], blank_ok=optional)
    check.grades()
    check.raise_if_any()
    frame = check.frame[check.frame["status"] != "planned"].copy()
    for col in dict.fromkeys(numeric):
        integer = col in LAYERS["schools"].counts
        frame[col] = pd.to_numeric(frame[col]).astype(np.int64 if integer else float)
    empty = frame[enrolment_columns()].sum(axis=1).to_numpy() == 0
    if empty.any():
        warnings.warn(
            f"schools: no pupils in a school that is not planned in school_id "
            f"{ids_text(frame['school_id'][empty])}; they count in no per-pupil figure. Fix: "
            "set their status to 'planned' or enter their enrolment",
            DataWarning,
            stacklevel=3,
        )
    return frame


def _keys(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the identifying columns present in ``frame``."""
    return frame[[c for c in _ID_COLUMNS if c in frame.columns]]


def _ceil(values: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Round up, ignoring floating-point noise (0.07 * 100 is 7.000000000000001: 7, not 8)."""
    return np.ceil(np.round(np.asarray(values, dtype=float), 9)).astype(np.int64)


def _pupils(frame: pd.DataFrame) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Primary (grades 1-6) and junior (grades 7-9) pupils of each school."""
    enrol = frame[enrolment_columns()].to_numpy(np.int64)
    return enrol[:, :_PRIMARY_GRADES].sum(axis=1), enrol[:, _PRIMARY_GRADES:].sum(axis=1)


# --------------------------------------------------------------------------- funding


def _small_schools(frame: pd.DataFrame, profile: Profile) -> npt.NDArray[np.bool_]:
    """Rural small-scale schools: profile levels and settings, fewer pupils than the limit."""
    small = profile.small_school
    pupils = frame[enrolment_columns()].to_numpy(np.int64).sum(axis=1)
    return np.asarray(
        frame["level"].isin(small.levels).to_numpy()
        & frame["setting"].isin(small.settings).to_numpy()
        & (pupils < small.students_below),
        dtype=bool,
    )
