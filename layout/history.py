"""Enrolment of past school years by county and grade: the study's ``[enrolment_history]``.

The consolidation rate (巩固率) of the Anshan plan (一.(二): 97.2 % by 2022) follows a cohort
from grade 1 to grade 9, so it needs the enrolment of past years. A study may give, per
county, the pupils of grades 1 to 9 of earlier school years (county totals, as the annual
statistics report them)::

    [enrolment_history.210302]
    2016 = [3100, 3050, 3000, 2990, 2950, 2900, 2800, 2750, 2700]
    2023 = [2400, 2450, 2500, 2600, 2650, 2700, 2750, 2760, 2780]

:func:`history_frame` checks it (every problem at once, naming county and year);
:func:`layout.indicators.consolidation_rates` computes the rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from .errors import ValidationError
from .schema import GRADES, enrolment_columns


def history_frame(table: Mapping[str, Any], *, where: str, school_year: int) -> pd.DataFrame:
    """Check a study's ``[enrolment_history]`` table; return one row per county and year.

    Parameters
    ----------
    table
        ``{county_code: {year: [pupils of grades 1-9]}}``.
    where
        The study file, for messages.
    school_year
        The study's school year: history years must be before it (the school year's own
        enrolment is the schools layer's).

    Returns
    -------
    pandas.DataFrame
        ``county_code``, ``year`` and ``enrolment_g1`` ... ``enrolment_g9``.

    Raises
    ------
    ValidationError
        Every problem: a year that is not a year or is not before the school year, a list
        that is not nine whole numbers of 0 or more.

    Examples
    --------
    >>> frame = history_frame({"1": {"2016": [9] * 9}}, where="study.toml", school_year=2024)
    >>> frame[["county_code", "year", "enrolment_g9"]].values.tolist()
    [['1', 2016, 9]]
    """
    if not isinstance(table, Mapping):
        raise ValidationError(f"{where}: [enrolment_history] must be a table of counties")
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    for county, years in table.items():
        place = f"{where}: [enrolment_history.{county}]"
        if not isinstance(years, Mapping):
            problems.append(f"{place} must be a table of year = [grade 1, ..., grade 9]")
            continue
        for key, counts in years.items():
            year = int(key) if str(key).isdigit() else None
            if year is None or year >= school_year:
                problems.append(
                    f"{place} year {key}: a history year must be a year before the school year "
                    f"{school_year} (the school year's enrolment is the schools layer's)"
                )
                continue
            if (
                not isinstance(counts, list)
                or len(counts) != len(GRADES)
                or not all(
                    isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts
                )
            ):
                problems.append(
                    f"{place} year {year}: expected {len(GRADES)} whole numbers of 0 or more "
                    f"(pupils of grades 1-9), got {counts!r}"
                )
                continue
            rows.append(
                {
                    "county_code": str(county),
                    "year": year,
                    **dict(zip(enrolment_columns(), counts, strict=True)),
                }
            )
    if problems:
        raise ValidationError(problems)
    return pd.DataFrame(rows, columns=["county_code", "year", *enrolment_columns()])
