"""Per-county summary figures of the school system.

Examples
--------
>>> from layout.study import study_from_toml
>>> from layout.summary import county_summary
>>> table = county_summary(study_from_toml()["schools"])
>>> "classes_56_plus" in table.columns
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import classes_columns, enrolment_columns

LARGE_CLASS = 56
"""Students from which a class is a 'super-large' class (超大班额) under the policy."""


def classes_at_least(students: np.ndarray, classes: np.ndarray, size: int) -> np.ndarray:
    """Count classes of at least ``size`` students when students are split evenly.

    Class-level sizes are not in the data; the students of a grade are assumed split as evenly
    as possible over its classes (sizes ``floor(s/c)`` and ``floor(s/c) + 1``), which gives the
    fewest large classes consistent with the grade totals.

    Parameters
    ----------
    students, classes
        Arrays of the same shape (e.g. schools x grades).
    size
        Threshold class size.

    Returns
    -------
    numpy.ndarray
        Integer counts, same shape.

    Examples
    --------
    Worked by hand: 113 students in 2 classes are classes of 56 and 57, both >= 56; 111 in 2
    are 55 and 56, one >= 56.

    >>> classes_at_least(np.array([113, 111, 0]), np.array([2, 2, 0]), 56).tolist()
    [2, 1, 0]
    """
    students = np.asarray(students, dtype=np.int64)
    classes = np.asarray(classes, dtype=np.int64)
    safe = np.maximum(classes, 1)
    small, extra = np.divmod(students, safe)  # `extra` classes have small + 1 students
    count = np.where(small >= size, classes, np.where(small + 1 >= size, extra, 0))
    return np.where(classes > 0, count, 0)


def county_summary(schools: pd.DataFrame) -> pd.DataFrame:
    """Summarise open schools per county: schools, students, classes, class sizes.

    Parameters
    ----------
    schools
        The study's ``schools`` layer.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``county_code``: ``schools``, ``students``, ``classes``,
        ``mean_class_size`` and ``classes_56_plus`` (even split within each grade).

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> table = county_summary(study_from_toml()["schools"])
    >>> bool((table["students"] > 0).all())
    True
    """
    open_ = schools[schools["status"] != "planned"]
    students = open_[enrolment_columns()].to_numpy()
    classes = open_[classes_columns()].to_numpy()
    per_school = pd.DataFrame(
        {
            "county_code": open_["county_code"].to_numpy(),
            "schools": 1,
            "students": students.sum(axis=1),
            "classes": classes.sum(axis=1),
            "classes_56_plus": classes_at_least(students, classes, LARGE_CLASS).sum(axis=1),
        }
    )
    table = per_school.groupby("county_code").sum()
    table["mean_class_size"] = (table["students"] / table["classes"].where(table["classes"] > 0)).round(1)
    return table[["schools", "students", "classes", "mean_class_size", "classes_56_plus"]]
