"""The figures a county reports under the Anshan 2020 plan, computed from the schools layer.

* :func:`class_size_ledger` and :func:`county_class_size`: the class-size ledger per school
  and grade (消除大班额工作台账) and which schools can be struck off (销号).
* :func:`funding` and :func:`county_funding`: public per-student funding with the
  small-school floor and the boarding supplement shown separately.
* :func:`staffing` and :func:`county_staffing`: teachers required and missing, and the
  teacher-rotation quota when the ``teachers`` table is given.
* :func:`difference_coefficient` and :func:`balance`: the quality-balanced (优质均衡)
  resource assessment: seven indicators per school, share of schools meeting each,
  difference coefficients against their limits, and the county verdict.
* :func:`indicator_tables`: all of the above as named tables with Chinese (or English)
  headers, for the report spreadsheet.

Every number comes from a :class:`~layout.standards.Profile`. Schools whose ``status`` is
``planned`` are left out of every table: they have no pupils yet.

Assumptions, stated once here and in each function:

* Class sizes are not in the data. The pupils of a grade are split as evenly as possible
  over its classes (sizes ``floor(s/c)`` and ``floor(s/c) + 1``), so a count of classes over
  a cap is the fewest the grade totals allow.
* Nine-year schools: grades 1-6 are primary, 7-9 junior, for class caps, funding rates and
  staffing ratios. In the balance assessment a nine-year school counts once as a primary
  school and once as a junior school, its resources split between the two in proportion
  to their pupils (so both parts have the same per-pupil values). Teaching points count as
  primary schools.

Examples
--------
>>> import pandas as pd
>>> from layout.indicators import class_size_ledger
>>> from layout.standards import load_profile
>>> from layout.schema import classes_columns, enrolment_columns
>>> row = {"school_id": "S1", "county_code": "210302", "level": "primary",
...        "setting": "urban", "status": "open"}
>>> row |= {c: 0 for c in enrolment_columns() + classes_columns()}
>>> row |= {"enrolment_g1": 113, "classes_g1": 2}
>>> ledger = class_size_ledger(pd.DataFrame([row]), load_profile())
>>> ledger[["grade", "students", "classes", "classes_over_cap", "classes_large"]].to_dict("records")
[{'grade': 1, 'students': 113, 'classes': 2, 'classes_over_cap': 2, 'classes_large': 2}]
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _validate
from ._validate import ids_text
from .errors import DataWarning, ValidationError
from .labels import localise
from .schema import (
    GRADES,
    LAYERS,
    RESOURCE_COLUMNS,
    classes_columns,
    enrolment_columns,
)
from .standards import Profile, ResourceNorms

__all__ = [
    "INDICATOR_SCALE",
    "BalanceResult",
    "balance",
    "class_size_ledger",
    "county_class_size",
    "county_funding",
    "county_staffing",
    "difference_coefficient",
    "funding",
    "indicator_tables",
    "staffing",
]

logger = logging.getLogger(__name__)

INDICATOR_SCALE: dict[str, float] = {
    "teachers_above_standard": 100.0,
    "backbone_teachers": 100.0,
    "pe_art_teachers": 100.0,
    "teaching_area_m2": 1.0,
    "sports_area_m2": 1.0,
    "equipment_value_yuan": 1.0,
    "multimedia_rooms": 100.0,
}
"""Pupils per unit of each resource indicator: 100 for "per 100 pupils", 1 for "per pupil"."""

_PRIMARY_GRADES = 6
"""Grades 1-6 are primary, 7-9 junior (see :data:`layout.schema.LEVEL_GRADES`)."""

_TOLERANCE = 1e-9
"""Relative tolerance of comparisons with a standard, so 42 teachers per 1000 pupils meet 4.2."""

_ID_COLUMNS = ("school_id", "name", "county_code", "township_code", "level", "setting")


# --------------------------------------------------------------------------- input checks


def _operating(schools: pd.DataFrame, *, needs: Sequence[str] = ()) -> pd.DataFrame:
    """Check the schools layer and return its operating schools with clean numeric columns.

    The checks are the study loader's (:class:`layout._validate.LayerCheck`) on the columns
    these tables use: one :class:`ValidationError` lists every problem, each naming the
    column, the school ids and the fix. Schools with no pupils at all are kept and reported
    with a :class:`DataWarning`.
    """
    if not isinstance(schools, pd.DataFrame):
        raise ValidationError(f"schools must be a (Geo)DataFrame, got {type(schools).__name__}")
    numeric = [*enrolment_columns(), *classes_columns(), *needs]
    columns = ["county_code", "level", "setting", "status", *numeric]
    check = _validate.check_columns(schools, "schools", columns)
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


# --------------------------------------------------------------------------- class size


def _classes_at_least(
    students: npt.NDArray[np.int64], classes: npt.NDArray[np.int64], size: npt.ArrayLike
) -> npt.NDArray[np.int64]:
    """Classes of at least ``size`` pupils when a grade's pupils are split evenly.

    ``s`` pupils in ``c`` classes give ``s mod c`` classes of ``floor(s/c) + 1`` and the rest
    of ``floor(s/c)``.
    """
    small, extra = np.divmod(students, np.maximum(classes, 1))
    count = np.where(small >= size, classes, np.where(small + 1 >= size, extra, 0))
    return np.where(classes > 0, count, 0).astype(np.int64)


def class_size_ledger(schools: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Build the class-size ledger: one row per school and grade that has pupils or classes.

    Class-level sizes are not in the data: the pupils of a grade are assumed split as evenly
    as possible over its classes (sizes ``floor(s/c)`` and ``floor(s/c) + 1``), and classes
    over the cap or of the large-class size are counted from that split. This is the fewest
    over-size classes the grade totals allow. Grades 1-6 use the primary cap and grades 7-9
    the junior cap, so a nine-year school is held to both.

    Parameters
    ----------
    schools
        The schools layer (see :mod:`layout.schema`). Planned schools are left out.
    profile
        Standards profile: ``class_size.primary_cap``, ``class_size.junior_cap`` and
        ``class_size.large_class_min``.

    Returns
    -------
    pandas.DataFrame
        Identifying columns (``school_id``, ``name``, ``county_code``, ``township_code``,
        ``level``, ``setting`` as present), then ``grade``, ``students``, ``classes``,
        ``mean_class_size``, ``cap``, ``classes_over_cap``, ``classes_large``, and per school
        (repeated on its rows) ``school_classes_over_cap``, ``school_classes_large`` and
        ``can_strike_off`` (销号: no class of the school is over its cap).

    Raises
    ------
    ValidationError
        Missing columns, missing or negative counts, pupils without classes, or pupils in a
        grade the school's level does not teach.

    Examples
    --------
    Worked by hand: 203 grade-7 pupils in 4 classes are 51, 51, 51, 50: three over the junior
    cap of 50, none of 56 or more.

    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> from layout.schema import classes_columns, enrolment_columns
    >>> row = {"school_id": "J1", "county_code": "210302", "level": "junior",
    ...        "setting": "urban", "status": "open"}
    >>> row |= {c: 0 for c in enrolment_columns() + classes_columns()}
    >>> row |= {"enrolment_g7": 203, "classes_g7": 4}
    >>> led = class_size_ledger(pd.DataFrame([row]), load_profile())
    >>> led[["classes_over_cap", "classes_large", "can_strike_off"]].to_dict("records")
    [{'classes_over_cap': 3, 'classes_large': 0, 'can_strike_off': False}]
    """
    return _ledger(_operating(schools), profile)


def _ledger(frame: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    enrol = frame[enrolment_columns()].to_numpy(np.int64)
    classes = frame[classes_columns()].to_numpy(np.int64)
    rows, cols = np.nonzero((enrol > 0) | (classes > 0))
    grade = np.asarray(GRADES)[cols]
    students, n_classes = enrol[rows, cols], classes[rows, cols]
    sizes = profile.class_size
    cap = np.where(grade <= _PRIMARY_GRADES, sizes.primary_cap, sizes.junior_cap)
    ledger = _keys(frame).iloc[rows].reset_index(drop=True)
    ledger["grade"] = grade
    ledger["students"] = students
    ledger["classes"] = n_classes
    with np.errstate(divide="ignore", invalid="ignore"):
        ledger["mean_class_size"] = np.where(n_classes > 0, students / n_classes, np.nan)
    ledger["cap"] = cap
    ledger["classes_over_cap"] = _classes_at_least(students, n_classes, cap + 1)
    ledger["classes_large"] = _classes_at_least(students, n_classes, sizes.large_class_min)
    per_school = ledger.groupby("school_id")
    ledger["school_classes_over_cap"] = per_school["classes_over_cap"].transform("sum")
    ledger["school_classes_large"] = per_school["classes_large"].transform("sum")
    ledger["can_strike_off"] = ledger["school_classes_over_cap"] == 0
    return ledger


def county_class_size(ledger: pd.DataFrame) -> pd.DataFrame:
    """Total the class-size ledger per county.

    Parameters
    ----------
    ledger
        The output of :func:`class_size_ledger`.

    Returns
    -------
    pandas.DataFrame
        One row per ``county_code``: ``schools``, ``schools_over_cap`` (schools with any class
        over the cap), ``schools_struck_off`` (schools that can be struck off), ``students``,
        ``classes``, ``mean_class_size``, ``classes_over_cap``, ``classes_large`` and
        ``share_classes_over_cap``.

    Examples
    --------
    >>> import pandas as pd
    >>> ledger = pd.DataFrame({"school_id": ["A", "A", "B"], "county_code": ["1", "1", "1"],
    ...     "students": [90, 100, 40], "classes": [2, 2, 1], "classes_over_cap": [0, 2, 0],
    ...     "classes_large": [0, 0, 0], "can_strike_off": [False, False, True]})
    >>> table = county_class_size(ledger)
    >>> table[["schools", "schools_over_cap", "mean_class_size"]].to_dict("records")
    [{'schools': 2, 'schools_over_cap': 1, 'mean_class_size': 46.0}]
    """
    struck = ledger.drop_duplicates("school_id")["can_strike_off"].astype(bool)
    per_school = ledger.drop_duplicates("school_id").assign(
        schools_over_cap=~struck, schools_struck_off=struck
    )
    grouped = per_school.groupby("county_code")
    table = pd.DataFrame({"schools": grouped["school_id"].count()}).join(
        grouped[["schools_over_cap", "schools_struck_off"]].sum()
    )
    sums = ledger.groupby("county_code")[
        ["students", "classes", "classes_over_cap", "classes_large"]
    ].sum()
    table = table.join(sums)
    table["mean_class_size"] = table["students"] / table["classes"].where(table["classes"] > 0)
    table["share_classes_over_cap"] = table["classes_over_cap"] / table["classes"].where(
        table["classes"] > 0
    )
    order = [
        "schools",
        "schools_over_cap",
        "schools_struck_off",
        "students",
        "classes",
        "mean_class_size",
        "classes_over_cap",
        "classes_large",
        "share_classes_over_cap",
    ]
    return table[order].reset_index()


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


def funding(schools: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Public per-student funding (生均公用经费) of each school for one year.

    Base funding is the primary rate times pupils of grades 1-6 plus the junior rate times
    pupils of grades 7-9. A small school (``small_school`` levels and settings, fewer pupils
    than ``small_school.students_below``) with at least one pupil is funded as if it had
    ``funding.floor_students`` pupils of the same mix: the top-up is
    ``(floor - pupils) * base / pupils``, shown apart from the base. Every boarder adds
    ``funding.boarder_supplement``, also shown apart. With the Anshan profile the floor is
    given to rural primary schools and teaching points only (村小和教学点), as the plan says.

    Parameters
    ----------
    schools
        The schools layer, with ``boarders``. Planned schools are left out.
    profile
        Standards profile (``funding`` and ``small_school``).

    Returns
    -------
    pandas.DataFrame
        Aligned to the operating schools' index: identifying columns, ``students_primary``,
        ``students_junior``, ``students``, ``boarders``, ``base_funding``, ``floor_applied``,
        ``floor_top_up``, ``boarding_supplement`` and ``total_funding`` (yuan per year).

    Raises
    ------
    ValidationError
        Bad counts (see :func:`class_size_ledger`) or more boarders than pupils.

    Examples
    --------
    Worked by hand: a rural village primary school with 60 pupils, 10 of them boarders:
    base 60 x 850 = 51,000; floor top-up 40 x 850 = 34,000; boarding 10 x 200 = 2,000;
    total 87,000 yuan.

    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> from layout.schema import classes_columns, enrolment_columns
    >>> row = {"school_id": "V1", "county_code": "210321", "level": "primary",
    ...        "setting": "rural", "status": "open", "boarders": 10}
    >>> row |= {c: 0 for c in enrolment_columns() + classes_columns()}
    >>> row |= {"enrolment_g1": 60, "classes_g1": 2}
    >>> f = funding(pd.DataFrame([row]), load_profile())
    >>> f[["base_funding", "floor_top_up", "boarding_supplement", "total_funding"]].iloc[0].tolist()
    [51000.0, 34000.0, 2000.0, 87000.0]
    """
    frame = _operating(schools, needs=("boarders",))
    return _funding(frame, profile)


def _funding(frame: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    primary, junior = _pupils(frame)
    pupils = primary + junior
    boarders = frame["boarders"].to_numpy(np.int64)
    ids = frame["school_id"].astype(str).to_numpy()
    if (boarders > pupils).any():
        raise ValidationError(
            f"schools: column 'boarders' is above the school's pupils for schools "
            f"{ids_text(ids[boarders > pupils])}; boarders are pupils of the school"
        )
    rates = profile.funding
    base = primary * rates.primary_per_student + junior * rates.junior_per_student
    floor = _small_schools(frame, profile) & (pupils > 0) & (pupils < rates.floor_students)
    with np.errstate(divide="ignore", invalid="ignore"):
        top_up = np.where(floor, (rates.floor_students - pupils) * base / pupils, 0.0)
    table = _keys(frame).copy()
    table["students_primary"] = primary
    table["students_junior"] = junior
    table["students"] = pupils
    table["boarders"] = boarders
    table["base_funding"] = base.astype(float)
    table["floor_applied"] = floor
    table["floor_top_up"] = top_up
    table["boarding_supplement"] = boarders * float(rates.boarder_supplement)
    table["total_funding"] = base + top_up + table["boarding_supplement"].to_numpy()
    return table


def county_funding(table: pd.DataFrame) -> pd.DataFrame:
    """Total the per-school funding table per county.

    Parameters
    ----------
    table
        The output of :func:`funding`.

    Returns
    -------
    pandas.DataFrame
        One row per ``county_code``: ``schools``, ``schools_floor`` (schools given the
        small-school floor), pupils, boarders and the sums of every funding column.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"school_id": ["A", "B"], "county_code": ["1", "1"],
    ...     "students_primary": [60, 300], "students_junior": [0, 0], "students": [60, 300],
    ...     "boarders": [10, 0], "base_funding": [51000.0, 255000.0],
    ...     "floor_applied": [True, False], "floor_top_up": [34000.0, 0.0],
    ...     "boarding_supplement": [2000.0, 0.0], "total_funding": [87000.0, 255000.0]})
    >>> county_funding(t)[["schools", "schools_floor", "total_funding"]].to_dict("records")
    [{'schools': 2, 'schools_floor': 1, 'total_funding': 342000.0}]
    """
    sums = [
        "students_primary",
        "students_junior",
        "students",
        "boarders",
        "base_funding",
        "floor_top_up",
        "boarding_supplement",
        "total_funding",
    ]
    grouped = table.groupby("county_code")
    out = pd.DataFrame(
        {
            "schools": grouped["school_id"].count(),
            "schools_floor": grouped["floor_applied"].sum().astype(np.int64),
        }
    )
    return out.join(grouped[sums].sum()).reset_index()


# --------------------------------------------------------------------------- staffing


def staffing(
    schools: pd.DataFrame, profile: Profile, *, teachers: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Teachers each school needs, has and lacks; who is due for rotation.

    The requirement by ratio is primary pupils / ``staffing.primary_students_per_staff`` plus
    junior pupils / ``staffing.junior_students_per_staff``. Rural small schools (see
    :func:`funding`) and every teaching point also need
    ``staffing.small_school_teachers_per_class`` teachers per class; the larger of the two
    applies (师生比与班师比相结合). The requirement is rounded up to whole teachers.

    Parameters
    ----------
    schools
        The schools layer, with ``teachers`` (teachers present). Planned schools are left out.
    profile
        Standards profile (``staffing``, ``small_school``, ``rotation.due_years_at_school``).
    teachers
        Optional ``teachers`` table (``teacher_id``, ``school_id``, ``years_at_school``,
        ``backbone`` 0/1). When given, each school also gets ``teachers_listed``,
        ``teachers_due`` (``years_at_school >= rotation.due_years_at_school``) and
        ``backbone_due``, from which :func:`county_staffing` computes rotation quotas.

    Returns
    -------
    pandas.DataFrame
        Aligned to the operating schools' index: identifying columns, ``students_primary``,
        ``students_junior``, ``classes``, ``small_school``, ``required_by_ratio``,
        ``required_by_class`` (0 where it does not apply), ``teachers_required``,
        ``teachers`` and ``shortfall``; plus the rotation columns when ``teachers`` is given.

    Raises
    ------
    ValidationError
        Bad counts in ``schools``; in ``teachers`` missing columns, repeated ids, unknown
        schools, negative years or ``backbone`` other than 0/1.

    Examples
    --------
    Worked by hand: a rural teaching point with 12 pupils in 2 classes needs
    max(12 / 19, 1.5 x 2) = 3 teachers; with 2 present it lacks 1.

    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> from layout.schema import classes_columns, enrolment_columns
    >>> row = {"school_id": "T1", "county_code": "210321", "level": "teaching_point",
    ...        "setting": "rural", "status": "open", "teachers": 2}
    >>> row |= {c: 0 for c in enrolment_columns() + classes_columns()}
    >>> row |= {"enrolment_g1": 7, "classes_g1": 1, "enrolment_g2": 5, "classes_g2": 1}
    >>> s = staffing(pd.DataFrame([row]), load_profile())
    >>> s[["teachers_required", "teachers", "shortfall"]].iloc[0].tolist()
    [3, 2, 1]
    """
    frame = _operating(schools, needs=("teachers",))
    table = _staffing(frame, profile)
    if teachers is not None:
        table = table.join(_due(teachers, schools, frame, profile))
    return table


def _staffing(frame: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    primary, junior = _pupils(frame)
    norms = profile.staffing
    by_ratio = primary / norms.primary_students_per_staff + junior / norms.junior_students_per_staff
    small = _small_schools(frame, profile) | (frame["level"] == "teaching_point").to_numpy()
    classes = frame[classes_columns()].to_numpy(np.int64).sum(axis=1)
    by_class = np.where(small, classes * norms.small_school_teachers_per_class, 0.0)
    required = _ceil(np.maximum(by_ratio, by_class))
    present = frame["teachers"].to_numpy(np.int64)
    table = _keys(frame).copy()
    table["students_primary"] = primary
    table["students_junior"] = junior
    table["classes"] = classes
    table["small_school"] = small
    table["required_by_ratio"] = by_ratio
    table["required_by_class"] = by_class
    table["teachers_required"] = required
    table["teachers"] = present
    table["shortfall"] = np.maximum(required - present, 0)
    return table


def _due(
    teachers: pd.DataFrame, schools: pd.DataFrame, frame: pd.DataFrame, profile: Profile
) -> pd.DataFrame:
    """Per operating school: teachers listed, due for rotation, and backbone among the due."""
    spec = LAYERS["teachers"]
    missing = [c for c in spec.required if c not in teachers.columns]
    if missing:
        raise ValidationError(f"teachers: missing columns {', '.join(missing)}; add them")
    problems: list[str] = []
    tid = teachers["teacher_id"].astype(str)
    dup = tid[tid.duplicated(keep=False)].unique()
    if len(dup):
        problems.append(f"teachers: teacher_id repeated: {ids_text(list(dup))}; make ids unique")
    unknown = ~teachers["school_id"].astype(str).isin(schools["school_id"].astype(str))
    if unknown.any():
        problems.append(
            f"teachers: school_id not in the schools layer for teachers "
            f"{ids_text(list(tid[unknown]))}; correct the school ids"
        )
    years = pd.to_numeric(teachers["years_at_school"], errors="coerce")
    bad = years.isna() | (years < 0) | (years % 1 != 0)
    if bad.any():
        problems.append(
            f"teachers: column 'years_at_school' is missing, negative or not whole for teachers "
            f"{ids_text(list(tid[bad]))}; give whole years"
        )
    backbone = pd.to_numeric(teachers["backbone"], errors="coerce")
    bad = ~backbone.isin([0, 1])
    if bad.any():
        problems.append(
            f"teachers: column 'backbone' is not 0 or 1 for teachers {ids_text(list(tid[bad]))}"
        )
    if problems:
        raise ValidationError(problems)
    due = (years >= profile.rotation.due_years_at_school).to_numpy()
    per_school = (
        pd.DataFrame(
            {
                "school_id": teachers["school_id"].astype(str).to_numpy(),
                "teachers_listed": 1,
                "teachers_due": due.astype(np.int64),
                "backbone_due": (due & (backbone == 1).to_numpy()).astype(np.int64),
            }
        )
        .groupby("school_id")
        .sum()
    )
    counts = per_school.reindex(frame["school_id"].astype(str).to_numpy(), fill_value=0)
    return counts.set_axis(frame.index)


def county_staffing(table: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Total staffing per county and, with rotation columns, the rotation quota.

    The quota is at least ``rotation.min_share_of_due`` of the teachers due, rounded up to a
    whole teacher (the plan says 不低于, "not below"); backbone teachers must be at least
    ``rotation.backbone_min_share`` of that quota, rounded up likewise. Rounding ignores
    floating-point noise, so 7% of 100 teachers is 7, not 8.

    Parameters
    ----------
    table
        The output of :func:`staffing`.
    profile
        Standards profile (``rotation``).

    Returns
    -------
    pandas.DataFrame
        One row per ``county_code``: ``schools``, ``teachers_required``, ``teachers``,
        ``shortfall`` (sum of the schools' shortfalls) and ``net_balance`` (teachers minus
        required over the county); with rotation columns also ``teachers_due``,
        ``rotation_quota``, ``backbone_due``, ``backbone_quota`` and ``backbone_enough``
        (enough backbone teachers are due to fill the backbone quota).

    Examples
    --------
    Worked by hand: 31 teachers due -> ceil(3.1) = 4 rotate; ceil(0.2 x 4 = 0.8) = 1 of them
    backbone.

    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> t = pd.DataFrame({"school_id": ["A"], "county_code": ["1"], "teachers_required": [40],
    ...     "teachers": [38], "shortfall": [2], "teachers_due": [31], "backbone_due": [5]})
    >>> county_staffing(t, load_profile())[["rotation_quota", "backbone_quota"]].to_dict("records")
    [{'rotation_quota': 4, 'backbone_quota': 1}]
    """
    grouped = table.groupby("county_code")
    out = pd.DataFrame({"schools": grouped["school_id"].count()}).join(
        grouped[["teachers_required", "teachers", "shortfall"]].sum()
    )
    out["net_balance"] = out["teachers"] - out["teachers_required"]
    if "teachers_due" in table.columns:
        rotation = profile.rotation
        due = grouped[["teachers_due", "backbone_due"]].sum()
        out["teachers_due"] = due["teachers_due"]
        out["rotation_quota"] = _ceil(due["teachers_due"] * rotation.min_share_of_due)
        out["backbone_due"] = due["backbone_due"]
        out["backbone_quota"] = _ceil(out["rotation_quota"] * rotation.backbone_min_share)
        out["backbone_enough"] = out["backbone_due"] >= out["backbone_quota"]
    return out.reset_index()


# --------------------------------------------------------------------------- balance


def _cv_by_group(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Enrolment-weighted difference coefficient per group of ``frame``.

    ``frame`` holds the ``keys`` columns, ``resource`` (totals) and ``students`` (all above
    0). With ``x_i = r_i / n_i`` and the group mean ``R / N``, ``S = sqrt(sum(n_i / N
    (x_i - mean)^2))`` and the coefficient is ``S / mean``; NaN where the mean is 0.
    """
    grouped = frame.groupby(keys)
    totals = grouped[["resource", "students"]].transform("sum")
    mean = totals["resource"] / totals["students"]
    spread = (
        frame["students"] / totals["students"] * (frame["resource"] / frame["students"] - mean) ** 2
    )
    group_mean = grouped["resource"].sum() / grouped["students"].sum()
    deviation = spread.groupby([frame[k] for k in keys]).sum().pow(0.5)
    return deviation / group_mean.where(group_mean > 0)


def difference_coefficient(resource: npt.ArrayLike, enrollment: npt.ArrayLike) -> float:
    """Difference coefficient (差异系数) of a resource across schools.

    With ``x_i = resource_i / enrollment_i``, ``mean = sum(resource) / sum(enrollment)`` and
    ``S = sqrt(sum((n_i / N) * (x_i - mean) ** 2))``, the coefficient is ``S / mean``: the
    enrolment-weighted coefficient of variation used by the balanced-development
    assessments. Scaling the resource (per 100 pupils) does not change it.

    Parameters
    ----------
    resource
        Per-school resource totals (teachers, m2, yuan, rooms), not per-pupil values.
    enrollment
        Per-school enrolments, same length.

    Returns
    -------
    float
        The coefficient; 0 when every school has the same per-pupil value.

    Raises
    ------
    ValidationError
        Lengths differ, values are missing or negative, every enrolment is 0, or every
        resource is 0 (the mean is 0 and the coefficient undefined).

    Warns
    -----
    DataWarning
        Schools with zero enrolment are left out, naming their positions.

    Examples
    --------
    Worked by hand: resources 100, 300, 600 over 100, 200, 300 pupils give x = 1, 1.5, 2 and
    mean 1000/600 = 5/3; S^2 = 1/6 (4/9) + 1/3 (1/36) + 1/2 (1/9) = 5/36, so
    CV = (sqrt(5)/6) / (5/3) = sqrt(5)/10.

    >>> round(difference_coefficient([100, 300, 600], [100, 200, 300]), 6)
    0.223607
    """
    r = np.asarray(resource, dtype=float).ravel()
    n = np.asarray(enrollment, dtype=float).ravel()
    if r.shape != n.shape:
        raise ValidationError(
            f"resource has {r.size} values but enrollment has {n.size}; give one of each per school"
        )
    for name, values in (("resource", r), ("enrollment", n)):
        if not np.isfinite(values).all() or (values < 0).any():
            bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
            raise ValidationError(
                f"{name} is missing or negative at positions {ids_text(list(bad))}; correct them"
            )
    empty = n == 0
    if empty.all():
        raise ValidationError("enrollment is 0 for every school; the coefficient is undefined")
    if empty.any():
        warnings.warn(
            f"schools at positions {ids_text(list(np.flatnonzero(empty)))} have no pupils and "
            "are left out of the difference coefficient",
            DataWarning,
            stacklevel=2,
        )
    if r[~empty].sum() == 0:
        raise ValidationError("resource is 0 for every school; the coefficient is undefined")
    frame = pd.DataFrame({"group": 0, "resource": r[~empty], "students": n[~empty]})
    return float(_cv_by_group(frame, ["group"]).iloc[0])


@dataclass(frozen=True)
class BalanceResult:
    """The quality-balanced resource assessment of every county.

    Attributes
    ----------
    schools
        One row per school, stage (``primary`` / ``junior``) and indicator: ``students``,
        ``resource`` (the stage's share), ``value`` (per pupil or per 100 pupils),
        ``standard``, ``ratio`` (value / standard), ``met``; and per school and stage
        ``indicators_met`` and ``school_pass`` (enough indicators met, the rest close enough).
    indicators
        One row per county, stage and indicator: ``standard``, ``schools``,
        ``schools_meeting``, ``share_meeting``, ``county_value``, ``cv``, ``cv_limit``,
        ``cv_ok``.
    counties
        One row per county and stage: ``schools``, ``schools_passing``, ``share_passing``,
        ``required_share``, ``all_cv_ok``, ``stage_pass``; and ``county_pass`` (every stage
        of the county passes the resource part).
    """

    schools: pd.DataFrame
    indicators: pd.DataFrame
    counties: pd.DataFrame


def balance(schools: pd.DataFrame, profile: Profile) -> BalanceResult:
    """Assess the seven resource indicators of quality-balanced development per county.

    Each school is assessed per stage: primary (grades 1-6, including teaching points) and
    junior (grades 7-9). A nine-year school counts in both stages; its resources are split
    between them in proportion to their pupils, so both parts have the school's per-pupil
    values. Teaching points with fewer pupils than ``balance.exclude_teaching_points_below``
    are left out. A school passes when it meets at least ``balance.min_indicators_met``
    standards and every other value is at least ``balance.other_min_ratio`` of its standard.
    A county stage passes when the share of passing schools is at least
    ``balance.required_school_share`` and every indicator's difference coefficient is within
    the stage's ``cv_limit``. Values equal to a standard meet it (within 1e-9 relative).

    Parameters
    ----------
    schools
        The schools layer, with the seven columns of :data:`layout.schema.RESOURCE_COLUMNS`.
        Planned schools and schools without pupils are left out.
    profile
        Standards profile (``balance``).

    Returns
    -------
    BalanceResult
        Tables ``schools``, ``indicators`` and ``counties``.

    Raises
    ------
    ValidationError
        A resource column is missing, or a value is missing or negative; see also
        :func:`class_size_ledger`.

    Examples
    --------
    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> from layout.schema import RESOURCE_COLUMNS, classes_columns, enrolment_columns
    >>> row = {"school_id": "P1", "county_code": "1", "level": "primary",
    ...        "setting": "urban", "status": "open"}
    >>> row |= {c: 0 for c in enrolment_columns() + classes_columns()}
    >>> row |= {"enrolment_g1": 100, "classes_g1": 3}
    >>> row |= dict(zip(RESOURCE_COLUMNS, [5, 1, 1, 450.0, 750.0, 200000.0, 3]))
    >>> result = balance(pd.DataFrame([row]), load_profile())
    >>> bool(result.counties.loc[0, "county_pass"])
    True
    """
    frame = _operating(schools, needs=RESOURCE_COLUMNS)
    return _balance(frame, profile)


_STAGES = ("primary", "junior")
"""Stages of the balance assessment: grades 1-6 and grades 7-9."""


def _stage_norms(profile: Profile) -> dict[str, ResourceNorms]:
    return {"primary": profile.balance.primary, "junior": profile.balance.junior}


def _balance(frame: pd.DataFrame, profile: Profile) -> BalanceResult:
    long = _balance_schools(frame, profile)
    indicators = _balance_indicators(long, profile)
    return BalanceResult(
        schools=long,
        indicators=indicators,
        counties=_balance_counties(long, indicators, profile),
    )


def _balance_schools(frame: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Long table: one row per school, stage and indicator."""
    primary, junior = _pupils(frame)
    pupils = primary + junior
    excluded = (frame["level"] == "teaching_point").to_numpy() & (
        pupils < profile.balance.exclude_teaching_points_below
    )
    if excluded.any():
        logger.info(
            "balance: %d teaching points under %d pupils left out",
            int(excluded.sum()),
            profile.balance.exclude_teaching_points_below,
        )
    stage_pupils = np.stack([primary, junior], axis=1)  # schools x stages
    school_idx, stage_idx = np.nonzero((stage_pupils > 0) & ~excluded[:, None])
    n_ind = len(RESOURCE_COLUMNS)
    rows = np.repeat(school_idx, n_ind)
    stages = np.repeat(stage_idx, n_ind)
    kinds = np.tile(np.arange(n_ind), len(school_idx))
    students = stage_pupils[rows, stages]
    totals = frame[list(RESOURCE_COLUMNS)].to_numpy(float)
    resource = totals[rows, kinds] * students / pupils[rows]
    norms = _stage_norms(profile)
    standards = np.array([[getattr(norms[s], c) for c in RESOURCE_COLUMNS] for s in _STAGES])
    standard = standards[stages, kinds]
    scale = np.array([INDICATOR_SCALE[c] for c in RESOURCE_COLUMNS])[kinds]
    value = resource / students * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(standard > 0, value / standard, np.inf)
    long = _keys(frame).iloc[rows].reset_index(drop=True)
    long["stage"] = np.asarray(_STAGES)[stages]
    long["indicator"] = np.asarray(RESOURCE_COLUMNS)[kinds]
    long["students"] = students
    long["resource"] = resource
    long["value"] = value
    long["standard"] = standard
    long["ratio"] = ratio
    long["met"] = ratio >= 1 - _TOLERANCE
    per_school = long.groupby(["school_id", "stage"], sort=False)
    long["indicators_met"] = per_school["met"].transform("sum").astype(np.int64)
    worst = per_school["ratio"].transform("min")
    long["school_pass"] = (long["indicators_met"] >= profile.balance.min_indicators_met) & (
        worst >= profile.balance.other_min_ratio - _TOLERANCE
    )
    return long


def _balance_indicators(long: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    keys = ["county_code", "stage", "indicator"]
    grouped = long.groupby(keys, sort=False)
    table = grouped.agg(
        standard=("standard", "first"),
        schools=("school_id", "count"),
        schools_meeting=("met", "sum"),
        students=("students", "sum"),
        resource=("resource", "sum"),
    )
    table["share_meeting"] = table["schools_meeting"] / table["schools"]
    scale = table.index.get_level_values("indicator").map(INDICATOR_SCALE).to_numpy(float)
    table["county_value"] = table["resource"] / table["students"] * scale
    table["cv"] = _cv_by_group(long, keys).reindex(table.index)
    undefined = table["cv"].isna()
    if undefined.any():
        where = ", ".join("/".join(map(str, k)) for k in table.index[undefined])
        warnings.warn(
            f"balance: resource total is 0 for {where}; its difference coefficient is "
            "undefined and counted as failed. Enter the resource data",
            DataWarning,
            stacklevel=4,
        )
    limits = {stage: norms.cv_limit for stage, norms in _stage_norms(profile).items()}
    table["cv_limit"] = table.index.get_level_values("stage").map(limits).to_numpy(float)
    table["cv_ok"] = table["cv"] <= table["cv_limit"] + _TOLERANCE
    table["schools_meeting"] = table["schools_meeting"].astype(np.int64)
    order = ["standard", "schools", "schools_meeting", "share_meeting", "county_value"]
    return table[[*order, "cv", "cv_limit", "cv_ok"]].reset_index()


def _balance_counties(
    long: pd.DataFrame, indicators: pd.DataFrame, profile: Profile
) -> pd.DataFrame:
    per_school = long.drop_duplicates(["school_id", "stage"])
    grouped = per_school.groupby(["county_code", "stage"], sort=False)
    table = pd.DataFrame(
        {
            "schools": grouped["school_id"].count(),
            "schools_passing": grouped["school_pass"].sum().astype(np.int64),
        }
    )
    table["share_passing"] = table["schools_passing"] / table["schools"]
    table["required_share"] = profile.balance.required_school_share
    cv_ok = indicators.groupby(["county_code", "stage"], sort=False)["cv_ok"].all()
    table["all_cv_ok"] = cv_ok.reindex(table.index).to_numpy()
    table["stage_pass"] = table["all_cv_ok"] & (
        table["share_passing"] >= table["required_share"] - _TOLERANCE
    )
    table["county_pass"] = table.groupby(level="county_code")["stage_pass"].transform("all")
    return table.reset_index()


# --------------------------------------------------------------------------- report tables


def indicator_tables(
    schools: pd.DataFrame,
    profile: Profile,
    *,
    teachers: pd.DataFrame | None = None,
    lang: Literal["zh", "en"] | None = "zh",
) -> dict[str, pd.DataFrame]:
    """Every indicator table, with headers for the report spreadsheet or as plain codes.

    The schools layer is checked once. The balance tables are left out (with a logged
    warning) when the layer lacks any of the seven resource columns, which are optional.

    Parameters
    ----------
    schools
        The schools layer, with ``boarders`` and ``teachers``.
    profile
        Standards profile.
    teachers
        Optional ``teachers`` table, for the rotation quota.
    lang
        ``"zh"`` for Chinese headers and values (levels, settings, indicators, 是/否);
        ``"en"`` for English headers with the layer's own codes; ``None`` for the column
        names and codes of the functions above (for GeoPackage layers).

    Returns
    -------
    dict of str to pandas.DataFrame
        Keyed by table name: ``profile``, ``class_size_ledger``, ``class_size_by_county``,
        ``funding``, ``funding_by_county``, ``staffing``, ``staffing_by_county`` and, with
        resource data, ``balance_schools``, ``balance_indicators``, ``balance_counties``, in
        that order.

    Examples
    --------
    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> from layout.schema import classes_columns, enrolment_columns
    >>> row = {"school_id": "S1", "county_code": "210302", "level": "primary",
    ...        "setting": "urban", "status": "open", "boarders": 0, "teachers": 5}
    >>> row |= {c: 0 for c in enrolment_columns() + classes_columns()}
    >>> row |= {"enrolment_g1": 90, "classes_g1": 2}
    >>> tables = indicator_tables(pd.DataFrame([row]), load_profile())
    >>> list(tables["class_size_ledger"].columns[:2])
    ['学校代码', '县(市、区)代码']
    """
    if lang not in ("zh", "en", None):
        raise ValidationError(f"lang must be 'zh', 'en' or None, got {lang!r}")
    has_resources = all(c in schools.columns for c in RESOURCE_COLUMNS)
    needs = ("boarders", "teachers", *(RESOURCE_COLUMNS if has_resources else ()))
    frame = _operating(schools, needs=needs)
    ledger = _ledger(frame, profile)
    money = _funding(frame, profile)
    staff = _staffing(frame, profile)
    if teachers is not None:
        staff = staff.join(_due(teachers, schools, frame, profile))
    tables = {
        "profile": profile.to_frame(),
        "class_size_ledger": ledger,
        "class_size_by_county": county_class_size(ledger),
        "funding": money,
        "funding_by_county": county_funding(money),
        "staffing": staff,
        "staffing_by_county": county_staffing(staff, profile),
    }
    if has_resources:
        result = _balance(frame, profile)
        tables["balance_schools"] = result.schools
        tables["balance_indicators"] = result.indicators
        tables["balance_counties"] = result.counties
    else:
        logger.warning(
            "schools lack some of %s: balance tables left out", ", ".join(RESOURCE_COLUMNS)
        )
    if lang is None:
        return tables
    return localise(tables, lang=lang, large=profile.class_size.large_class_min)
