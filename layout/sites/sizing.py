"""Sizing proposed schools: standard classes, teachers, land, beds and funding from the profile."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd

from ..indicators import funding
from ..schema import GRADE_LEVELS, LEVEL_GRADES, classes_columns, enrolment_columns
from ..standards import AreaNorm, Profile
from ..study import Study
from .proposal import TIERS

# --------------------------------------------------------------------------- sizing


def standard_classes(pupils: float, *, cap: int, sizes: tuple[int, ...]) -> int:
    """Return the classes of a school for ``pupils``: the smallest standard size that holds them.

    ``ceil(pupils / cap)`` classes are needed; the answer is the smallest of ``sizes`` at least
    that, or the classes needed when they exceed every standard size.

    Examples
    --------
    >>> standard_classes(130, cap=45, sizes=(6, 12, 18, 24))  # 3 needed -> 6
    6
    >>> standard_classes(1200, cap=45, sizes=(6, 12, 18, 24))  # 27 needed, above 24
    27
    """
    return _standard(_needed(pupils, cap), sizes)


def _small_norm(profile: Profile, classes_needed: int) -> AreaNorm:
    """Return the teaching-point norm when its size holds the classes, else rural primary."""
    sizes = profile.school_size
    if classes_needed <= max(sizes.rural_teaching_point.classes):
        return sizes.rural_teaching_point
    return sizes.rural_primary


def _land(norm: AreaNorm, classes: int, cap: int) -> float:
    """Land of a school of ``classes`` under ``norm``: rate at that size x its places."""
    rate = float(np.interp(classes, norm.classes, norm.land_m2_per_student))
    return rate * classes * cap


def _beds(study: Study, grades: pd.DataFrame, after: np.ndarray) -> np.ndarray:
    """Return the pupils of each cell who board, beyond the daily-travel norm of their grade.

    ``after`` is each grade's trip (cells x grades); grades 1-3 do not board (国办发〔2018〕27号).
    """
    profile = study.standards
    beds = np.zeros(len(grades))
    for column, grade in enumerate(int(g) for g in grades.columns):
        if grade in TIERS["boarding_school"]:
            norm = profile.minutes(GRADE_LEVELS[grade - 1], setting="rural", grades=(grade,))
            beds += grades.iloc[:, column].to_numpy() * (after[:, column] > norm)
    return beds


def _sized(study: Study, kind: str, grades: pd.DataFrame) -> dict[str, np.ndarray]:
    """Classes, teachers and land of each new site (one row of ``grades`` per site)."""
    profile = study.standards
    staff = profile.staffing
    primary = grades[[g for g in grades.columns if int(g) in LEVEL_GRADES["primary"]]]
    junior = grades[[g for g in grades.columns if int(g) in LEVEL_GRADES["junior"]]]
    primary, junior = primary.sum(axis=1).to_numpy(), junior.sum(axis=1).to_numpy()
    classes, teachers, land = [], [], []
    for up, low in zip(primary, junior, strict=True):
        ratio = up / staff.primary_students_per_staff + low / staff.junior_students_per_staff
        if kind == "small_school":
            cap = profile.cap("primary")
            norm = _small_norm(profile, _needed(up, cap))
            n = standard_classes(up, cap=cap, sizes=norm.classes)
            need = max(ratio, staff.small_school_teachers_per_class * n)
        elif kind == "boarding_school":
            cap = profile.cap("junior")
            norm = profile.school_size.rural_junior
            n = _standard(_needed(up, profile.cap("primary")) + _needed(low, cap),
                          norm.classes)  # fmt: skip
            need = ratio
        else:
            level = "primary" if up > 0 else "junior"
            cap = profile.cap(level)
            norm = getattr(profile.school_size, f"urban_{level}")
            n = standard_classes(up + low, cap=cap, sizes=norm.classes)
            need = ratio
        classes.append(n)
        teachers.append(math.ceil(need - 1e-9))
        land.append(_land(norm, n, cap))
    return {
        "classes": np.asarray(classes, dtype=np.int64),
        "teachers_required": np.asarray(teachers, dtype=np.int64),
        "land_m2": np.asarray(land),
    }


def _funding(
    study: Study, kind: str, grades: pd.DataFrame, proposals: gpd.GeoDataFrame
) -> np.ndarray:
    """Annual funding of each proposal by :func:`layout.indicators.funding` (pupils rounded)."""
    n = len(proposals)
    if n == 0:
        return np.zeros(0)
    pupils = np.zeros((n, 9), dtype=np.int64)
    for g in grades.columns:
        pupils[:, int(g) - 1] = np.round(grades[g].to_numpy())
    fixed = {"small_school": "teaching_point", "boarding_school": "nine_year"}.get(kind)
    urban = np.where(pupils[:, :6].sum(axis=1) > 0, "primary", "junior")
    level = np.full(n, fixed, dtype=object) if fixed else urban
    schools = pd.DataFrame(pupils, columns=enrolment_columns())
    schools[classes_columns()] = (pupils > 0).astype(np.int64)
    schools = schools.assign(
        school_id=proposals["candidate_id"].to_numpy(),
        county_code=proposals["county_code"].to_numpy(),
        level=level,
        setting="urban" if kind == "urban_school" else "rural",
        status="open",
        boarders=np.minimum(proposals["boarding_beds"].to_numpy(), pupils.sum(axis=1)),
    )
    some = pupils.sum(axis=1) > 0  # a site serving under half a pupil gets no funding
    out = np.zeros(n)
    out[some] = funding(schools[some], study.standards)["total_funding"].to_numpy(float)
    return out


# --------------------------------------------------------------------------- helpers


def _standard(needed: int, sizes: tuple[int, ...]) -> int:
    fitting = [s for s in sorted(sizes) if s >= needed]
    return fitting[0] if fitting else needed


def _needed(pupils: float, cap: int) -> int:
    return math.ceil(pupils / cap - 1e-9)
