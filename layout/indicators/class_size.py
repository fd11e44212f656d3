"""The class-size ledger (消除大班额台账): classes over the cap, large and very large classes."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..schema import GRADES, classes_columns, enrolment_columns
from ..standards import Profile
from ._schools import _PRIMARY_GRADES, _keys, _operating

_SUMMED = ("students", "classes", "classes_over_cap", "classes_large", "classes_very_large")
"""Ledger columns the county table sums."""


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
        Standards profile: the class caps and the large and very large class sizes.

    Returns
    -------
    pandas.DataFrame
        Identifying columns (``school_id``, ``name``, ``county_code``, ``township_code``,
        ``level``, ``setting`` as present), then ``grade``, ``students``, ``classes``,
        ``mean_class_size``, ``cap``, ``classes_over_cap``, ``classes_large`` (大班额 or
        larger: ``class_size.large_class_min`` or more), ``classes_very_large`` (超大班额:
        ``very_large_class_min`` or more), and per school
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
    cap = np.where(grade <= _PRIMARY_GRADES, profile.cap("primary"), profile.cap("junior"))
    ledger = _keys(frame).iloc[rows].reset_index(drop=True)
    ledger["grade"] = grade
    ledger["students"] = students
    ledger["classes"] = n_classes
    with np.errstate(divide="ignore", invalid="ignore"):
        ledger["mean_class_size"] = np.where(n_classes > 0, students / n_classes, np.nan)
    ledger["cap"] = cap
    ledger["classes_over_cap"] = _classes_at_least(students, n_classes, cap + 1)
    ledger["classes_large"] = _classes_at_least(students, n_classes, profile.large_class_min)
    ledger["classes_very_large"] = _classes_at_least(
        students, n_classes, profile.very_large_class_min
    )
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
        ``classes``, ``mean_class_size``, ``classes_over_cap``, ``classes_large``,
        ``classes_very_large`` (when the ledger has it) and ``share_classes_over_cap``.

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
    sums = ledger.groupby("county_code")[[c for c in _SUMMED if c in ledger.columns]].sum()
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
        "classes_very_large",
        "share_classes_over_cap",
    ]
    return table[[c for c in order if c in table.columns]].reset_index()
