"""Seats (学位) by level: planned on reserved parcels, open in schools, and how far they serve.

* :func:`parcel_seats`: planned classes x the class cap of each level.
* :func:`school_seats`: capacity, pupils and spare seats of each school by level.
* :func:`service_radii`: the service radius of each setting and level, from the profile.
* :func:`level_shares`: the share of a school level's classes in primary and junior grades.

Nine-year schools (九年一贯制) teach grades 1-9: by grades, 6/9 of their classes are primary
and 3/9 junior. A school's ``capacity`` is one figure for the whole school; a nine-year
school's is split between the levels in proportion to its current classes of each (by
grades when it has none). Teaching points teach primary grades.

Examples
--------
>>> from layout.standards import load_profile
>>> service_radii(load_profile())[("urban", "junior")]
1000.0
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import _validate
from ..errors import ValidationError
from ..schema import CHILD_LEVELS, LEVEL_GRADES, SETTINGS, classes_columns, enrolment_columns
from ..standards import Profile

__all__ = ["level_shares", "parcel_seats", "school_seats", "service_radii"]


def level_shares(levels: pd.Series | np.ndarray) -> dict[str, np.ndarray]:
    """Return the share of each school level's grades that are primary and junior.

    Parameters
    ----------
    levels
        School levels (:data:`layout.schema.LEVELS`); an unknown level has no share.

    Returns
    -------
    dict
        ``{"primary": shares, "junior": shares}``, one value per level given.

    Examples
    --------
    >>> {k: v.round(3).tolist() for k, v in level_shares(["junior", "nine_year"]).items()}
    {'primary': [0.0, 0.667], 'junior': [1.0, 0.333]}
    """
    out = {}
    for level in CHILD_LEVELS:
        grades = set(LEVEL_GRADES[level])
        share = {k: len(grades & set(g)) / len(g) for k, g in LEVEL_GRADES.items()}
        out[level] = pd.Series(np.asarray(levels)).map(share).fillna(0.0).to_numpy(dtype=float)
    return out


def parcel_seats(parcels: pd.DataFrame, *, profile: Profile) -> pd.DataFrame:
    """Return the planned seats of each parcel by level.

    Seats are planned classes x the class cap of the level (``class_size.primary_cap``,
    ``junior_cap``); a nine-year parcel has 6/9 of its classes primary and 3/9 junior
    (fractions kept).

    Parameters
    ----------
    parcels
        The reserved_land layer (``parcel_id``, ``planned_level``, ``planned_classes``).
    profile
        Standards profile.

    Returns
    -------
    pandas.DataFrame
        Columns ``primary`` and ``junior``, aligned to ``parcels``' index.

    Examples
    --------
    >>> from layout.standards import load_profile
    >>> nine = pd.DataFrame({"parcel_id": ["N"], "planned_level": ["nine_year"],
    ...                      "planned_classes": [27]})
    >>> parcel_seats(nine, profile=load_profile()).to_dict("records")  # 18 x 45, 9 x 50
    [{'primary': 810.0, 'junior': 450.0}]
    """
    check = _validate.check_columns(parcels, "reserved_land", ["planned_level", "planned_classes"])
    check.raise_if_any()
    classes = _validate.numeric_values(parcels, "planned_classes")
    shares = level_shares(parcels["planned_level"])
    return pd.DataFrame(
        {
            level: classes * shares[level] * getattr(profile.class_size, f"{level}_cap")
            for level in CHILD_LEVELS
        },
        index=parcels.index,
    )


def school_seats(schools: pd.DataFrame) -> pd.DataFrame:
    """Return the capacity, pupils and spare seats of each school by level.

    Only ``open`` schools have seats; others get 0. A school's ``capacity`` is split between
    primary and junior in proportion to its classes of each level (``classes_g1`` ...
    ``classes_g9``), or by its level's grades when it has no classes.

    Parameters
    ----------
    schools
        The schools layer (``level``, ``status``, ``capacity``, per-grade enrolment and
        classes).

    Returns
    -------
    pandas.DataFrame
        ``capacity_primary``, ``pupils_primary``, ``spare_primary`` (capacity less pupils; may
        be negative) and the same for junior, aligned to ``schools``' index.

    Examples
    --------
    >>> row = {"school_id": "N", "level": "nine_year", "status": "open", "capacity": 900}
    >>> row |= {c: 0 for c in enrolment_columns() + classes_columns()}
    >>> row |= {"classes_g1": 4, "classes_g7": 2, "enrolment_g1": 150, "enrolment_g7": 90}
    >>> school_seats(pd.DataFrame([row])).loc[0].tolist()  # 4 of 6 classes primary
    [600.0, 150.0, 450.0, 300.0, 90.0, 210.0]
    """
    columns = ["level", "status", "capacity", *enrolment_columns(), *classes_columns()]
    _validate.check_columns(schools, "schools", columns).raise_if_any()
    open_ = (schools["status"] == "open").to_numpy()
    capacity = _validate.numeric_values(schools, "capacity") * open_
    by_grades = level_shares(schools["level"])
    classes = {level: _grade_sum(schools, "classes", level) for level in CHILD_LEVELS}
    total = sum(classes.values())
    out = {}
    for level in CHILD_LEVELS:
        share = np.where(total > 0, classes[level] / np.maximum(total, 1), by_grades[level])
        out[f"capacity_{level}"] = capacity * share
        out[f"pupils_{level}"] = _grade_sum(schools, "enrolment", level) * open_
        out[f"spare_{level}"] = out[f"capacity_{level}"] - out[f"pupils_{level}"]
    return pd.DataFrame(out, index=schools.index)


def _grade_sum(schools: pd.DataFrame, prefix: str, level: str) -> np.ndarray:
    """Sum of the per-grade columns ``<prefix>_g<grade>`` over the grades of ``level``."""
    columns = [f"{prefix}_g{grade}" for grade in LEVEL_GRADES[level]]
    return np.asarray(schools[columns].apply(pd.to_numeric).to_numpy(dtype=float).sum(axis=1))


def service_radii(
    profile: Profile, *, overrides: Mapping[tuple[str, str], float] | None = None
) -> dict[tuple[str, str], float]:
    """Return the service radius in metres of each setting and level.

    Urban radii are the profile's (``service.urban_primary_radius_m``,
    ``urban_junior_radius_m``). Rural ones turn the travel-time norms into straight-line
    distances with the profile's speeds: primary pupils walk for the lower-primary limit
    (``rural_lower_primary_minutes`` x ``walking_speed_kmh``: grades 1-3 walk and do not
    board), junior pupils ride the school bus for the junior limit (``rural_junior_minutes``
    x ``bus_speed_kmh``: they may board or ride). The upper-primary limit is not used.

    Parameters
    ----------
    profile
        Standards profile.
    overrides
        Radii in metres replacing the profile's, keyed by ``(setting, level)``.

    Returns
    -------
    dict
        ``{(setting, level): metres}`` for settings urban and rural and levels primary and
        junior.

    Raises
    ------
    ValidationError
        If an override's key is unknown or its radius is not a positive number.

    Examples
    --------
    >>> from layout.standards import load_profile
    >>> radii = service_radii(load_profile(), overrides={("rural", "junior"): 8000})
    >>> radii[("urban", "primary")], radii[("rural", "primary")], radii[("rural", "junior")]
    (500.0, 1800.0, 8000.0)
    """
    service = profile.service
    radii: dict[tuple[str, str], float] = {
        ("urban", "primary"): service.urban_primary_radius_m,
        ("urban", "junior"): service.urban_junior_radius_m,
        ("rural", "primary"): service.rural_lower_primary_minutes * service.walking_speed_kmh,
        ("rural", "junior"): service.rural_junior_minutes * service.bus_speed_kmh,
    }
    for key in (("rural", "primary"), ("rural", "junior")):
        radii[key] = radii[key] / 60 * 1000  # minutes x km/h -> metres
    overrides = dict(overrides or {})
    keys = [(s, lv) for s in SETTINGS for lv in CHILD_LEVELS]
    bad = [
        f"service radius {key!r}: {value!r}"
        for key, value in overrides.items()
        if key not in keys
        or isinstance(value, bool)
        or not isinstance(value, int | float)
        or not value > 0
    ]
    if bad:
        raise ValidationError(
            f"radii overrides {'; '.join(bad)}: keys must be one of {keys} and radii numbers of "
            "metres above 0"
        )
    radii.update(overrides)
    return {key: float(value) for key, value in radii.items()}
