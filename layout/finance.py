"""Education spending by county and year: the study's optional ``[finance]`` table.

The Anshan plan (二.(二).3) asks that general public budget spending on education, and that
spending per pupil, do not fall from one year to the next (逐年只增不减). A study may give,
per county, the spending (yuan) and the pupils it was spent on, by year::

    [finance.210302]
    spending = { 2022 = 1.20e8, 2023 = 1.25e8 }
    pupils = { 2022 = 30000, 2023 = 29500 }

:func:`finance_frame` checks the table (every problem at once, naming county and year) and
:func:`spending_per_pupil` compares each year with the one before. A study without the table
runs as before, and its index page names the rule as not checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .errors import ValidationError

FINANCE_KEYS: tuple[str, ...] = ("spending", "pupils")
"""The keys of each county's ``[finance.<county_code>]`` table."""


def finance_frame(table: Mapping[str, Any], *, where: str, school_year: int) -> pd.DataFrame:
    """Check a study's ``[finance]`` table and return it as rows of county and year.

    Parameters
    ----------
    table
        ``{county_code: {"spending": {year: yuan}, "pupils": {year: count}}}``.
    where
        The study file, for messages.
    school_year
        The study's school year: a finance year after it is refused.

    Returns
    -------
    pandas.DataFrame
        ``county_code``, ``year``, ``spending``, ``pupils``, sorted by county and year.

    Raises
    ------
    ValidationError
        Every problem: a county without both keys, a year that is not a year or lies after
        the school year, a value that is not a positive number, a year with spending but no
        pupils (or the reverse).

    Examples
    --------
    >>> finance_frame({"1": {"spending": {"2023": 2e6}, "pupils": {"2023": 1000}}},
    ...               where="study.toml", school_year=2024)["spending"].tolist()
    [2000000.0]
    >>> finance_frame({"1": {"spending": {"2025": 2e6}, "pupils": {"2025": 0}}},
    ...               where="study.toml", school_year=2024)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: study.toml: [finance.1] year 2025 is after the school year...
    """
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    if not isinstance(table, Mapping):
        raise ValidationError(f"{where}: [finance] must be a table of counties")
    for county, entry in table.items():
        place = f"{where}: [finance.{county}]"
        if not isinstance(entry, Mapping) or set(entry) != set(FINANCE_KEYS):
            problems.append(f"{place} must hold exactly {' and '.join(FINANCE_KEYS)} tables")
            continue
        values = {
            key: _years(entry[key], f"{place} {key}", school_year, problems) for key in FINANCE_KEYS
        }
        spent, pupils = values["spending"], values["pupils"]
        for year in sorted(set(spent) ^ set(pupils)):
            problems.append(f"{place} year {year} needs both spending and pupils")
        rows += [
            {"county_code": str(county), "year": y, "spending": spent[y], "pupils": pupils[y]}
            for y in sorted(set(spent) & set(pupils))
        ]
    if problems:
        raise ValidationError(list(dict.fromkeys(problems)))
    return pd.DataFrame(rows, columns=["county_code", "year", "spending", "pupils"])


def _years(values: Any, place: str, school_year: int, problems: list[str]) -> dict[int, float]:
    """Check one ``{year: value}`` table; return it with integer years."""
    if not isinstance(values, Mapping):
        problems.append(f"{place} must be a table of year = value")
        return {}
    out = {}
    for key, value in values.items():
        year = int(key) if str(key).isdigit() else None
        if year is None:
            problems.append(f"{place}: {key!r} is not a year")
            continue
        if year > school_year:
            problems.append(
                f"{place.rsplit(' ', 1)[0]} year {year} is after the school year "
                f"{school_year}; give years of past spending only"
            )
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            problems.append(f"{place} year {year}: expected a positive number, got {value!r}")
            continue
        out[year] = float(value)
    return out


def spending_per_pupil(frame: pd.DataFrame) -> pd.DataFrame:
    """Spending and spending per pupil by county and year, each against the year before.

    Parameters
    ----------
    frame
        The rows of :func:`finance_frame`.

    Returns
    -------
    pandas.DataFrame
        ``county_code``, ``year``, ``spending``, ``pupils``, ``per_pupil``,
        ``spending_change`` and ``per_pupil_change`` (against the county's previous year
        given; NaN in its first), ``spending_not_falling`` and ``per_pupil_not_falling``
        (true in the first year).

    Examples
    --------
    Worked by hand: 2.0 and 2.1 million yuan on 1000 then 1100 pupils: spending rises by
    100,000, spending per pupil falls from 2000 to 1909.09 yuan.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"county_code": "1", "year": [2022, 2023],
    ...                       "spending": [2.0e6, 2.1e6], "pupils": [1000, 1100]})
    >>> table = spending_per_pupil(frame)
    >>> table["spending_not_falling"].tolist(), table["per_pupil_not_falling"].tolist()
    ([True, True], [True, False])
    """
    out = frame.sort_values(["county_code", "year"]).reset_index(drop=True)
    out["per_pupil"] = out["spending"] / out["pupils"]
    grouped = out.groupby("county_code", sort=False)
    out["spending_change"] = grouped["spending"].diff()
    out["per_pupil_change"] = grouped["per_pupil"].diff()
    for column in ("spending", "per_pupil"):
        change = out[f"{column}_change"].to_numpy()
        out[f"{column}_not_falling"] = np.isnan(change) | (change >= -1e-9)
    return out
