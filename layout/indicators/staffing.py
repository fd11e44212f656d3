"""Staffing (教职工编制): teachers required by the staffing norms, shortfall, rotation quota."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._validate import ids_text
from ..errors import ValidationError
from ..schema import LAYERS, classes_columns
from ..standards import Profile
from ._schools import _ceil, _keys, _operating, _pupils, _small_schools

# --------------------------------------------------------------------------- staffing


def boarding_staff(boarders: npt.ArrayLike, profile: Profile) -> npt.NDArray[np.int64]:
    """Additional staff for boarding management (寄宿制学校附加编制) of each school.

    One staff member per ``staffing.boarders_per_boarding_staff`` boarders, rounded up: the
    Anshan plan (二.(三).2) asks for additional staffing of boarding schools by their real
    need and fixes no ratio, so the profile's value is an assumption.

    Examples
    --------
    50 boarders a staff member: 0, 1, 50 and 51 boarders need 0, 1, 1 and 2.

    >>> from layout.standards import load_profile
    >>> boarding_staff([0, 1, 50, 51], load_profile()).tolist()
    [0, 1, 1, 2]
    """
    per = profile.staffing.boarders_per_boarding_staff
    return _ceil(np.asarray(boarders, dtype=float) / per)


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
        ``teachers`` and ``shortfall``; ``boarding_staff`` (additional staff for boarding
        management, :func:`boarding_staff`, apart from the norm and the shortfall) when the
        layer has ``boarders``; plus the rotation columns when ``teachers`` is given.

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
    boarders = ("boarders",) if "boarders" in schools.columns else ()
    frame = _operating(schools, needs=("teachers", *boarders))
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
    if "boarders" in frame.columns:
        table["boarding_staff"] = boarding_staff(frame["boarders"].to_numpy(), profile)
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
        required over the county); ``boarding_staff`` when the table has it; with rotation
        columns also ``teachers_due``,
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
    if "boarding_staff" in table.columns:
        out["boarding_staff"] = grouped["boarding_staff"].sum()
    if "teachers_due" in table.columns:
        rotation = profile.rotation
        due = grouped[["teachers_due", "backbone_due"]].sum()
        out["teachers_due"] = due["teachers_due"]
        out["rotation_quota"] = _ceil(due["teachers_due"] * rotation.min_share_of_due)
        out["backbone_due"] = due["backbone_due"]
        out["backbone_quota"] = _ceil(out["rotation_quota"] * rotation.backbone_min_share)
        out["backbone_enough"] = out["backbone_due"] >= out["backbone_quota"]
    return out.reset_index()
