"""The table per county of the index page: children, places, gaps by reason, classes, money, staff.

Examples
--------
>>> import pandas as pd
>>> counties = pd.DataFrame({"county_code": ["A"], "name": ["甲区"]})
>>> tables = {
...     "demand_by_county": pd.DataFrame({"county_code": ["A", "A"], "scenario": "medium",
...         "year": 2025, "level": ["primary", "junior"], "children": [1200.4, 600.0]}),
...     "access_schools": pd.DataFrame({"school_id": ["s", "t"], "scenario": "medium",
...         "year": 2025, "level": ["primary", "junior"], "capacity": [1000.0, 700.0]}),
...     "class_size_by_county": pd.DataFrame({"county_code": ["A"], "classes_over_cap": [3],
...         "classes_large": [1]}),
...     "funding_by_county": pd.DataFrame({"county_code": ["A"], "total_funding": [2.5e6]}),
...     "staffing_by_county": pd.DataFrame({"county_code": ["A"], "teachers": [90],
...         "teachers_required": [100], "shortfall": [10]}),
... }
>>> cells = pd.DataFrame({"county_code": ["A"], "scenario": "medium", "year": 2025,
...     "level": ["primary"], "unserved": [200.0], "beyond_radius": [50.0], "beyond_time": [0.0]})
>>> schools = pd.DataFrame({"school_id": ["s", "t"], "county_code": ["A", "A"]})
>>> row = county_summary(tables, cells=cells, schools=schools, counties=counties,
...                      scenario="medium", year=2025).iloc[0]
>>> row["children"], row["places"], row["utilisation"], row["no_place"], row["funding"]
('1,200 / 600', '1,000 / 700', '120% / 86%', '200 / 0', '250')
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..labels import VALUES_ZH, Lang
from ..standards import Profile
from ..study import Study

__all__ = ["county_summary", "summary_heading", "summary_headers", "with_names"]

_LEVELS = ("primary", "junior")
_HEADERS = {
    "name": ("县（市、区）", "County"),
    "children": ("学龄儿童 小学/初中", "Children primary / junior"),
    "places": ("学位 小学/初中", "Places primary / junior"),
    "utilisation": ("儿童/学位", "Children / places"),
    "no_place": ("可达范围内无学位", "No place within reach"),
    "beyond": ("超出就学标准", "Beyond the norm"),
    "classes_over_cap": ("超上限班级", "Classes over the cap"),
    "classes_large": ("大班额班级", "Large classes"),
    "funding": ("公用经费（万元/年）", "Funding (10,000 yuan a year)"),
    "teachers": ("教师 现有/应配", "Teachers present / required"),
    "shortfall": ("缺编", "Teacher shortfall"),
}


def summary_headers(lang: Lang) -> dict[str, str]:
    """Return the column headers of :func:`county_summary` in ``lang``.

    Examples
    --------
    >>> summary_headers("en")["no_place"]
    'No place within reach'
    """
    return {key: pair[0 if lang == "zh" else 1] for key, pair in _HEADERS.items()}


def _pair(frame: pd.DataFrame, column: str, pattern: str = "{:,.0f}") -> pd.Series:
    """``primary / junior`` text of a column indexed by (county_code, level)."""
    wide = frame[column].unstack("level").reindex(columns=list(_LEVELS))
    return wide.apply(
        lambda row: " / ".join("-" if pd.isna(v) else pattern.format(v) for v in row), axis=1
    )


def county_summary(
    tables: Mapping[str, pd.DataFrame],
    *,
    cells: pd.DataFrame,
    schools: pd.DataFrame,
    counties: pd.DataFrame,
    scenario: str,
    year: int,
) -> pd.DataFrame:
    """One row per county, its figures as text ready for the index page.

    Parameters
    ----------
    tables
        ``demand_by_county``, ``access_schools``, ``class_size_by_county``,
        ``funding_by_county`` and ``staffing_by_county`` of a plan run.
    cells
        ``cell_flags`` (``county_code``, ``unserved``, ``beyond_radius``, ``beyond_time``).
    schools
        ``school_id`` and ``county_code`` of the schools.
    counties
        ``county_code`` and ``name``.
    scenario, year
        The scenario and plan year of children, places and gaps.

    Returns
    -------
    pandas.DataFrame
        Columns of :func:`summary_headers`: primary and junior figures as ``"p / j"``,
        people as whole numbers with separators, shares as percentages, funding in
        10,000 yuan.
    """

    def chosen(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[(frame["scenario"].astype(str) == scenario) & (frame["year"] == year)]

    keys = ["county_code", "level"]
    children = chosen(tables["demand_by_county"]).groupby(keys)[["children"]].sum()
    seats = chosen(tables["access_schools"]).merge(schools[["school_id", "county_code"]])
    places = seats.groupby(keys)[["capacity"]].sum()
    flags = chosen(cells).assign(beyond=cells["beyond_radius"] + cells["beyond_time"])
    gaps = flags.groupby(keys)[["unserved", "beyond"]].sum()
    joined = children.join(places, how="outer").join(gaps, how="outer")
    joined[["unserved", "beyond"]] = joined[["unserved", "beyond"]].fillna(0.0)
    joined["ratio"] = joined["children"] / joined["capacity"].replace(0, np.nan)
    size = tables["class_size_by_county"].set_index("county_code")
    money = tables["funding_by_county"].set_index("county_code")["total_funding"]
    staff = tables["staffing_by_county"].set_index("county_code")
    out = counties[["county_code", "name"]].set_index("county_code")
    out["children"] = _pair(joined, "children")
    out["places"] = _pair(joined, "capacity")
    out["utilisation"] = _pair(joined, "ratio", "{:.0%}")
    out["no_place"] = _pair(joined, "unserved")
    out["beyond"] = _pair(joined, "beyond")
    out["classes_over_cap"] = size["classes_over_cap"].map("{:,.0f}".format)
    out["classes_large"] = size["classes_large"].map("{:,.0f}".format)
    out["funding"] = (money / 1e4).map("{:,.0f}".format)
    out["teachers"] = (
        staff["teachers"].map("{:,.0f}".format)
        + " / "
        + staff["teachers_required"].map("{:,.0f}".format)
    )
    out["shortfall"] = staff["shortfall"].map("{:,.0f}".format)
    return out.reset_index(drop=True).fillna("-")


def summary_heading(profile: Profile, *, scenario: str, year: int, lang: Lang) -> str:
    """Name what the table per county shows: the scenario, the year and the norm.

    Examples
    --------
    >>> from layout.standards import load_profile
    >>> summary_heading(load_profile(), scenario="medium", year=2025, lang="en")
    'Counties (medium scenario, 2025; norm: urban radius 500 m, rural primary 30 minutes)'
    """
    radius = profile.radius("primary", "urban")
    minutes = profile.minutes("primary", setting="rural")
    if lang == "zh":
        return (
            f"县域情况（{VALUES_ZH.get(scenario, scenario)}，{year}年；就学标准：城镇服务半径"
            f"{radius:,.0f}米，乡村小学单程{minutes:g}分钟）"
        )
    return (
        f"Counties ({scenario} scenario, {year}; norm: urban radius {radius:,.0f} m, "
        f"rural primary {minutes:g} minutes)"
    )


_NAMED = {
    "county_code": ("counties", "county_name"),
    "township_code": ("townships", "township_name"),
    "school_id": ("schools", "school_name"),
}
"""Code column to the study layer holding its names and the name column put beside it."""


def with_names(tables: Mapping[str, pd.DataFrame], *, study: Study) -> dict[str, pd.DataFrame]:
    """Put the county, township or school name beside each code column, for the workbooks.

    Parameters
    ----------
    tables
        Result tables with plain column names (not modified).
    study
        The study whose ``counties``, ``townships`` and ``schools`` hold the names.

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables, each code column followed by its name column (when the table has no
        ``name`` column of its own).

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> table = pd.DataFrame({"county_code": ["210302"], "students": [10]})
    >>> with_names({"t": table}, study=study_from_toml())["t"].columns.tolist()
    ['county_code', 'county_name', 'students']
    """
    out = {}
    for name, table in tables.items():
        shown = table
        for code, (layer, label) in _NAMED.items():
            if code not in table.columns or label in table.columns or "name" in table.columns:
                continue
            names = study[layer].drop_duplicates(code).set_index(code)["name"]
            at = list(shown.columns).index(code) + 1
            shown = shown.copy() if shown is table else shown
            shown.insert(at, label, names.reindex(shown[code].astype(str)).to_numpy())
        out[name] = shown
    return out
