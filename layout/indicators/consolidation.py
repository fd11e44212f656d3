"""The consolidation rate (巩固率) per county: the share of a cohort still enrolled in grade 9.

Cohort method (the usual definition of the nine-year consolidation rate): the pupils of grade 9
in the school year over the pupils of grade 1 of the same cohort eight years before, per
county (``method = "cohort"``). Without that year in the study's ``[enrolment_history]``
(:mod:`layout.history`), the rate is the product of the eight grade progression ratios
(grade *g* + 1 in year *y* + 1 over grade *g* in year *y*), each from the latest pair of
consecutive years known (``method = "progression"``): the cohort's survival if this year's
ratios held all the way. Moves between counties count as gains and losses too, so a county
that gains pupils may show more than 100 %. The rate is compared with
``attendance.consolidation_rate_target``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import GRADES, enrolment_columns
from ..standards import Profile
from ._schools import _operating

_COHORT_YEARS = len(GRADES) - 1
"""Years from grade 1 to grade 9."""


def consolidation_rates(
    history: pd.DataFrame, schools: pd.DataFrame, profile: Profile, *, school_year: int
) -> pd.DataFrame:
    """Return the consolidation rate of each county with history, and its method.

    Parameters
    ----------
    history
        Past enrolment by county and year (:func:`layout.history.history_frame`).
    schools
        The schools layer: the school year's enrolment (operating schools), summed by county.
    profile
        Standards profile (``attendance.consolidation_rate_target``).
    school_year
        The year of the schools layer.

    Returns
    -------
    pandas.DataFrame
        One row per county of ``history``: ``method`` (``cohort``, ``progression`` or
        ``too little history``), ``rate``, ``target`` and ``target_met``.

    Examples
    --------
    Worked by hand: 1000 pupils in grade 1 in 2016 and 980 in grade 9 in 2024: 98 %.

    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> from layout.schema import classes_columns, enrolment_columns
    >>> history = pd.DataFrame([{"county_code": "1", "year": 2016,
    ...     **dict(zip(enrolment_columns(), [1000] + [0] * 8))}])
    >>> row = {"school_id": "J", "county_code": "1", "level": "junior", "setting": "urban",
    ...        "status": "open"} | {c: 0 for c in enrolment_columns() + classes_columns()}
    >>> row |= {"enrolment_g9": 980, "classes_g9": 20}
    >>> rates = consolidation_rates(history, pd.DataFrame([row]), load_profile(),
    ...                             school_year=2024)
    >>> rates[["method", "rate", "target_met"]].values.tolist()
    [['cohort', 0.98, True]]
    """
    frame = _operating(schools)
    now = frame.groupby(frame["county_code"].astype(str))[enrolment_columns()].sum()
    rows = []
    for county, past in history.groupby("county_code", sort=True):
        years = past.set_index("year")[enrolment_columns()].astype(float)
        if county in now.index:
            years.loc[school_year] = now.loc[county].to_numpy(float)
        method, rate = _rate(years, school_year)
        rows.append({"county_code": county, "method": method, "rate": rate})
    out = pd.DataFrame(rows, columns=["county_code", "method", "rate"])
    out["target"] = profile.attendance.consolidation_rate_target
    out["target_met"] = out["rate"] >= out["target"] - 1e-9
    return out


def _rate(years: pd.DataFrame, school_year: int) -> tuple[str, float]:
    """Return the cohort rate when grade 1 eight years before is known, else the progression."""
    first, last = enrolment_columns()[0], enrolment_columns()[-1]
    start = school_year - _COHORT_YEARS
    if school_year in years.index and start in years.index and years.at[start, first] > 0:
        return "cohort", float(years.at[school_year, last] / years.at[start, first])
    ratios = []
    for g in range(len(GRADES) - 1):
        this, then = enrolment_columns()[g], enrolment_columns()[g + 1]
        pairs = [
            y for y in sorted(years.index, reverse=True)
            if y - 1 in years.index and years.at[y - 1, this] > 0
        ]  # fmt: skip
        if not pairs:
            return "too little history", float("nan")
        y = pairs[0]
        ratios.append(years.at[y, then] / years.at[y - 1, this])
    return "progression", float(np.prod(ratios))
