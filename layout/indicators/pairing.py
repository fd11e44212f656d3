"""Pairing every rural school with an urban quality school (城市优质学校帮扶乡村学校全覆盖).

The Anshan plan's target for 2022 (一.(二)) is that urban quality schools help every rural
school. :func:`school_pairs` draws the pairs as an assignment: each operating rural school is
paired with one urban quality school that teaches at least one of its grades, no urban school
helps more than ``pairing.rural_schools_per_urban_school`` rural schools, and the total
straight-line distance between partners is the least possible (scipy's
``linear_sum_assignment`` on the urban schools repeated once per rural school they can
help). Rural schools beyond the urban schools' reach or number are left unpaired.

An urban quality school is an operating urban school that passes the resource part of the
quality-balanced assessment at every stage it teaches (``school_pass`` of
:func:`layout.indicators.balance`) when the schools layer has the resource columns, and every
operating urban school otherwise (the table's ``quality_rule`` says which).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import linear_sum_assignment

from ..schema import LEVEL_GRADES
from ..standards import Profile
from ._schools import _operating

_NO_PAIR = 1e12
"""Cost of a pair that may not be drawn (the urban school teaches none of the grades)."""

PAIR_COLUMNS: tuple[str, ...] = (
    "school_id",
    "name",
    "county_code",
    "level",
    "urban_school_id",
    "urban_name",
    "urban_county_code",
    "urban_level",
    "distance_km",
    "paired",
    "quality_rule",
)
"""Columns of :func:`school_pairs`: one row per rural school."""


def _shares_grades(rural: pd.Series, urban: pd.Series) -> npt.NDArray[np.bool_]:
    """Whether each (rural, urban) pair of levels has a grade in common."""
    grades = {level: set(g) for level, g in LEVEL_GRADES.items()}
    return np.array(
        [[bool(grades[r] & grades[u]) for u in urban.astype(str)] for r in rural.astype(str)],
        dtype=bool,
    ).reshape(len(rural), len(urban))


def school_pairs(
    schools: pd.DataFrame,
    profile: Profile,
    *,
    xy: npt.ArrayLike,
    quality: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """Pair each operating rural school with an urban quality school, nearest in total.

    Parameters
    ----------
    schools
        Operating schools: ``school_id``, ``name``, ``county_code``, ``level``, ``setting``.
    profile
        Standards profile (``pairing.rural_schools_per_urban_school``).
    xy
        Projected coordinates (metres) of the schools, one row per school, in order.
    quality
        Whether each school is a quality school; ``None`` takes every urban school.

    Returns
    -------
    pandas.DataFrame
        One row per rural school, in the order of ``schools``: :data:`PAIR_COLUMNS`
        (the urban columns blank and ``paired`` false where no partner is left).

    Examples
    --------
    Worked by hand: urban U1 at x = 0 (it may help one rural school), rural R1 at 1 km and R2
    at 3 km, urban U2 at 4 km. Pairing R1-U1 and R2-U2 costs 1 + 1 = 2 km, less than R1-U2
    and R2-U1 (3 + 3 km).

    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> schools = pd.DataFrame({"school_id": ["U1", "R1", "R2", "U2"], "name": "",
    ...     "county_code": ["1", "2", "2", "1"], "level": "primary",
    ...     "setting": ["urban", "rural", "rural", "urban"]})
    >>> xy = [[0, 0], [1000, 0], [3000, 0], [4000, 0]]
    >>> one = load_profile(overrides={"pairing": {"rural_schools_per_urban_school": 1}})
    >>> school_pairs(schools, one, xy=xy)[["school_id", "urban_school_id", "distance_km"]]
      school_id urban_school_id  distance_km
    0        R1              U1          1.0
    1        R2              U2          1.0
    """
    points = np.asarray(xy, dtype=float).reshape(len(schools), 2)
    urban_mask = (schools["setting"] == "urban").to_numpy()
    good = urban_mask if quality is None else urban_mask & np.asarray(quality, dtype=bool)
    rural_mask = (schools["setting"] == "rural").to_numpy()
    rural, urban = schools[rural_mask], schools[good]
    per = profile.pairing.rural_schools_per_urban_school
    slots = np.repeat(np.arange(len(urban)), per)
    gaps = np.hypot(*(points[rural_mask][:, None, :] - points[good][None, :, :]).transpose(2, 0, 1))
    allowed = _shares_grades(rural["level"], urban["level"])
    cost = np.where(allowed, gaps, _NO_PAIR)[:, slots]
    rows, cols = linear_sum_assignment(cost) if cost.size else (np.array([], int),) * 2
    keep = cost[rows, cols] < _NO_PAIR
    partner = np.full(len(rural), -1)
    partner[rows[keep]] = slots[cols[keep]]
    rule = "every urban school" if quality is None else "passes the resource assessment"
    return _pairs_table(rural, urban, partner, gaps, rule=rule)


def _pairs_table(
    rural: pd.DataFrame,
    urban: pd.DataFrame,
    partner: npt.NDArray[np.int_],
    gaps: npt.NDArray[np.float64],
    *,
    rule: str,
) -> pd.DataFrame:
    paired = partner >= 0
    pick = np.where(paired, partner, 0)
    out = pd.DataFrame(
        {
            "school_id": rural["school_id"].astype(str).to_numpy(),
            "name": rural["name"].astype(str).to_numpy(),
            "county_code": rural["county_code"].astype(str).to_numpy(),
            "level": rural["level"].astype(str).to_numpy(),
        }
    )
    for column in ("school_id", "name", "county_code", "level"):
        values = urban[column].astype(str).to_numpy()[pick] if len(urban) else ""
        out[f"urban_{column}"] = np.where(paired, values, "")
    rows = np.arange(len(rural))
    distance = gaps[rows, pick] / 1000 if len(urban) else np.full(len(rural), np.nan)
    out["distance_km"] = np.where(paired, distance, np.nan)
    out["paired"] = paired
    out["quality_rule"] = rule
    return out[list(PAIR_COLUMNS)]


def pairing_summary(pairs: pd.DataFrame) -> pd.DataFrame:
    """Total the pairs: rural schools, paired, share paired (the target is every school).

    Examples
    --------
    >>> import pandas as pd
    >>> pairing_summary(pd.DataFrame({"paired": [True, True, False]}))
       rural_schools  paired  share_paired  target_met
    0              3       2      0.666667       False
    """
    n = len(pairs)
    done = int(pairs["paired"].sum())
    return pd.DataFrame(
        {
            "rural_schools": [n],
            "paired": [done],
            "share_paired": [done / n if n else float("nan")],
            "target_met": [done == n],
        }
    )


def study_pairs(
    schools: pd.DataFrame, profile: Profile, *, balance_schools: pd.DataFrame | None = None
) -> pd.DataFrame | None:
    """Pair the rural schools of a schools layer with its urban quality schools.

    The quality schools are those passing every stage of ``balance_schools`` (the
    ``balance_schools`` table of :func:`layout.indicators.indicator_tables`) when given, else
    every urban school. The whole study's schools are paired at once, so a county-by-county
    run pairs them again on the merged study (a rural county has no urban school of its own).

    Returns
    -------
    pandas.DataFrame or None
        :func:`school_pairs` of the operating schools; ``None`` when the layer has no point
        geometries in a projected CRS.

    Examples
    --------
    See :func:`school_pairs`; ``tests/test_pairing.py`` runs it on the tiny study.
    """
    if not (isinstance(schools, gpd.GeoDataFrame) and schools.crs and schools.crs.is_projected):
        return None
    frame = _operating(schools)
    quality = None
    if balance_schools is not None:
        passes = balance_schools.groupby("school_id")["school_pass"].all()
        quality = frame["school_id"].astype(str).map(passes).fillna(False).to_numpy(bool)
    points = schools.geometry.loc[frame.index]
    xy = np.column_stack([points.x.to_numpy(), points.y.to_numpy()])
    return school_pairs(frame, profile, xy=xy, quality=quality)
