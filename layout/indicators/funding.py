"""Public per-student funding (生均公用经费): by school and county, with the small-school floor."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validate import ids_text
from ..errors import ValidationError
from ..schema import classes_columns
from ..standards import Profile
from ._schools import _keys, _operating, _pupils, _small_schools


def funding(schools: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Public per-student funding (生均公用经费) of each school for one year.

    Base funding is the primary rate times pupils of grades 1-6 plus the junior rate times
    pupils of grades 7-9. A small school (``small_school`` levels and settings, fewer pupils
    than ``small_school.students_below``) with at least one pupil is funded as if it had
    ``funding.floor_students`` pupils of the same mix: the top-up is
    ``(floor - pupils) * base / pupils``, shown apart from the base. Every boarder adds
    ``funding.boarder_supplement``, also shown apart. With the Anshan profile the floor is
    given to rural primary schools and teaching points only (村小和教学点), as the plan says.

    The head-teacher allowance (班主任津贴, a special fund apart from the public funding and
    not in ``total_funding``) is one head teacher per class at
    ``funding.head_teacher_allowance_monthly`` a month, twelve months a year: the least the
    county must budget (Anshan: 300 yuan a month, 二.(四).2).

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
        ``floor_top_up``, ``boarding_supplement`` and ``total_funding`` (yuan per year), then
        ``head_teachers`` (one per class) and ``head_teacher_allowance`` (yuan per year).

    Raises
    ------
    ValidationError
        Bad counts (see :func:`class_size_ledger`) or more boarders than pupils.

    Examples
    --------
    Worked by hand: a rural village primary school with 60 pupils, 10 of them boarders:
    base 60 x 850 = 51,000; floor top-up 40 x 850 = 34,000; boarding 10 x 200 = 2,000;
    total 87,000 yuan. Its 2 classes have 2 head teachers: 2 x 300 x 12 = 7,200 yuan a year.

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
    >>> f[["head_teachers", "head_teacher_allowance"]].iloc[0].tolist()
    [2.0, 7200.0]
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
    classes = frame[classes_columns()].to_numpy(np.int64).sum(axis=1)
    table["head_teachers"] = classes
    table["head_teacher_allowance"] = classes * 12 * rates.head_teacher_allowance_monthly
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
        small-school floor), pupils, boarders, the sums of every funding column, then
        ``head_teachers`` and ``head_teacher_allowance`` (yuan per year).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"school_id": ["A", "B"], "county_code": ["1", "1"],
    ...     "students_primary": [60, 300], "students_junior": [0, 0], "students": [60, 300],
    ...     "boarders": [10, 0], "base_funding": [51000.0, 255000.0],
    ...     "floor_applied": [True, False], "floor_top_up": [34000.0, 0.0],
    ...     "boarding_supplement": [2000.0, 0.0], "total_funding": [87000.0, 255000.0],
    ...     "head_teachers": [2, 6], "head_teacher_allowance": [7200.0, 21600.0]})
    >>> county_funding(t)[["schools", "total_funding", "head_teacher_allowance"]].to_dict("records")
    [{'schools': 2, 'total_funding': 342000.0, 'head_teacher_allowance': 28800.0}]
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
        "head_teachers",
        "head_teacher_allowance",
    ]
    grouped = table.groupby("county_code")
    out = pd.DataFrame(
        {
            "schools": grouped["school_id"].count(),
            "schools_floor": grouped["floor_applied"].sum().astype(np.int64),
        }
    )
    return out.join(grouped[sums].sum()).reset_index()
