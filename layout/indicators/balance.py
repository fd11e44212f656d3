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
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._validate import ids_text
from ..errors import DataWarning, ValidationError
from ..schema import RESOURCE_COLUMNS
from ..standards import Profile, ResourceNorms
from ._schools import _TOLERANCE, _ceil, _keys, _operating, _pupils

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


def balance_target(counties: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Compare the share of counties passing the resource part with the city's target.

    The Anshan plan asks that 20 % of its counties (county-level units) pass the
    quality-balanced assessment by the end of 2022 (``balance.county_pass_target_share``).
    The tool computes the resource part only, so the share here is that of counties whose
    every stage passes it (``county_pass`` of :attr:`BalanceResult.counties`): a county
    failing it cannot pass the whole assessment, one passing it may still fail the rest.

    Parameters
    ----------
    counties
        :attr:`BalanceResult.counties`.
    profile
        Standards profile (``balance.county_pass_target_share``).

    Returns
    -------
    pandas.DataFrame
        One row: ``counties``, ``counties_passing``, ``share_counties_passing``,
        ``target_share``,
        ``counties_needed`` (counties that must pass to reach the target, rounded up) and
        ``target_met``.

    Examples
    --------
    Worked by hand: 1 of 7 counties passes, 14.3 %; 20 % of 7 is 1.4, so 2 must pass.

    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> counties = pd.DataFrame({"county_code": list("ABCDEFG"), "stage": "primary",
    ...                          "county_pass": [True] + [False] * 6})
    >>> target = balance_target(counties, load_profile()).iloc[0]
    >>> int(target["counties_passing"]), int(target["counties_needed"]), bool(target["target_met"])
    (1, 2, False)
    """
    passing = counties.groupby("county_code", sort=False)["county_pass"].all()
    target = profile.balance.county_pass_target_share
    n = len(passing)
    share = float(passing.mean()) if n else float("nan")
    needed = int(_ceil([target * n])[0])
    return pd.DataFrame(
        {
            "counties": [n],
            "counties_passing": [int(passing.sum())],
            "share_counties_passing": [share],
            "target_share": [target],
            "counties_needed": [needed],
            "target_met": [n > 0 and int(passing.sum()) >= needed],
        }
    )
