"""The large-class plan as a timetable (消除大班额时间表、路线图): when each school complies.

The Anshan plan (二.(六).1) asks each county for a plan with a timetable and roadmap, a
ledger by school and grade, and the striking-off (销号) of each school that complies. The
class-size ledger (:func:`layout.indicators.class_size_ledger`) is the snapshot of the school
year; :func:`class_size_timetable` adds the years ahead from the projected enrolment each
school receives in the plan years (``access_schools`` of ``layout plan``: the children seated
at the school, by level, in one scenario), taught in the classes the school has now.

For each school of the ledger: whether it complies now (no class over the cap), the first
plan year from which its projected mean class stays within the cap to the end of the plan,
its peak class size and year, and the classes it must add to hold its peak load within the
cap (``classes_to_add``, and ``places_to_add`` = those classes times the cap): the action
without which a school over the cap in the last plan year never complies.
:func:`strike_off_by_year` counts, per county and year, the schools struck off by then.

A school's projected class size is its load over its current classes of the level (a mean:
the ledger, which counts each grade's classes, can still find a class over the cap where the
mean is within it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..standards import Profile
from ._schools import _ceil

TIMETABLE_COLUMNS: tuple[str, ...] = (
    "school_id",
    "name",
    "county_code",
    "level",
    "complies_now",
    "peak_year",
    "peak_class_size",
    "within_cap_from",
    "strike_off_year",
    "classes_to_add",
    "places_to_add",
    "never_without_action",
)
"""Columns of :func:`class_size_timetable`."""


def class_size_timetable(
    ledger: pd.DataFrame,
    school_years: pd.DataFrame,
    profile: Profile,
    *,
    scenario: str,
    school_year: int,
) -> pd.DataFrame:
    """Return the year each school of the ledger complies with the class caps, and the action.

    Parameters
    ----------
    ledger
        The class-size ledger (one row per school and grade, ``can_strike_off`` per school).
    school_years
        Projected load per school, level, scenario and plan year: ``school_id``, ``level``,
        ``scenario``, ``year``, ``load`` and ``classes`` (``access_schools`` of a plan run).
    profile
        Standards profile (the class-size caps).
    scenario
        The scenario the timetable follows (the plan's focus, e.g. ``"medium"``).
    school_year
        The year of the ledger: a school complying now is struck off in it.

    Returns
    -------
    pandas.DataFrame
        One row per school of the ledger: :data:`TIMETABLE_COLUMNS`. ``within_cap_from`` is
        NaN for a school over the cap in the last plan year (``never_without_action``);
        ``strike_off_year`` is ``school_year`` for a school complying now and within the cap
        every plan year, else ``within_cap_from``.

    Examples
    --------
    Worked by hand: A (primary, 4 classes, over the cap now) is projected 238 pupils in 2026
    (59.5 a class) and 170 in 2027 (42.5): within the cap of 45 from 2027. Its peak needs
    ceil(238 / 45) = 6 classes: 2 to add, 90 places.

    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> ledger = pd.DataFrame({"school_id": ["A"], "name": ["甲"], "county_code": ["1"],
    ...     "level": ["primary"], "can_strike_off": [False]})
    >>> years = pd.DataFrame({"school_id": "A", "level": "primary", "scenario": "medium",
    ...     "year": [2026, 2027], "load": [238.0, 170.0], "classes": 4.0})
    >>> row = class_size_timetable(ledger, years, load_profile(), scenario="medium",
    ...                            school_year=2025).iloc[0]
    >>> int(row["within_cap_from"]), int(row["classes_to_add"]), int(row["places_to_add"])
    (2027, 2, 90)
    """
    schools = ledger.drop_duplicates("school_id").set_index("school_id")
    years = school_years[school_years["scenario"] == scenario].copy()
    years = years[years["school_id"].isin(schools.index)]
    caps = years["level"].map({lv: profile.cap(lv) for lv in ("primary", "junior")})
    with np.errstate(divide="ignore", invalid="ignore"):
        years["class_size"] = np.where(years["load"] > 0, years["load"] / years["classes"], 0.0)
    years["over"] = years["class_size"] > caps + 1e-9
    years["add"] = np.maximum(_ceil(years["load"] / caps) - years["classes"].fillna(0), 0)
    years["places"] = years["add"] * caps
    per_year = years.groupby(["school_id", "year"]).agg(
        over=("over", "any"),
        size=("class_size", "max"),
        add=("add", "sum"),
        places=("places", "sum"),
    )
    out = schools[["name", "county_code", "level"]].copy()
    out["complies_now"] = schools["can_strike_off"].astype(bool)
    figures = ["peak_year", "peak_class_size", "within_cap_from", "classes_to_add", "places_to_add"]
    out[figures] = np.nan
    for school, table in per_year.groupby(level="school_id"):
        _fill(out, str(school), table.droplevel("school_id"))
    out["never_without_action"] = out["within_cap_from"].isna() & out["peak_year"].notna()
    now = out["complies_now"] & (out["within_cap_from"] == years["year"].min())
    out["strike_off_year"] = np.where(now, float(school_year), out["within_cap_from"])
    return out.reset_index()[list(TIMETABLE_COLUMNS)]


def _fill(out: pd.DataFrame, school: str, table: pd.DataFrame) -> None:
    """Set one school's timetable figures from its rows by year (sorted by year)."""
    table = table.sort_index()
    over = table["over"].to_numpy()
    after_last_over = np.flatnonzero(over)
    first = 0 if not over.any() else after_last_over[-1] + 1
    out.loc[school, "within_cap_from"] = table.index[first] if first < len(table) else np.nan
    peak = table["size"].idxmax()
    out.loc[school, "peak_year"] = peak
    out.loc[school, "peak_class_size"] = table.loc[peak, "size"]
    out.loc[school, "classes_to_add"] = table["add"].max()
    out.loc[school, "places_to_add"] = table["places"].max()


def strike_off_by_year(timetable: pd.DataFrame, *, years: list[int]) -> pd.DataFrame:
    """Count, per county and year, the schools struck off by then and those left.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"county_code": "1", "strike_off_year": [2025.0, 2027.0, None]})
    >>> strike_off_by_year(t, years=[2025, 2026, 2027])["struck_off"].tolist()
    [1, 1, 2]
    """
    rows = []
    for county, group in timetable.groupby("county_code", sort=True):
        when = group["strike_off_year"].to_numpy(dtype=float)
        for year in years:
            done = int(np.sum(when <= year))
            rows.append(
                {"county_code": county, "year": year, "schools": len(group), "struck_off": done}
            )
    table = pd.DataFrame(rows, columns=["county_code", "year", "schools", "struck_off"])
    table["remaining"] = table["schools"] - table["struck_off"]
    return table
