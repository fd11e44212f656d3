"""The large-class timetable: the year each school complies, the action, strike-off by year."""

from __future__ import annotations

import numpy as np
import pandas as pd

from layout.indicators import class_size_timetable, strike_off_by_year
from layout.standards import load_profile

LEDGER = pd.DataFrame(
    {
        "school_id": ["A", "B", "C", "N"],
        "name": "",
        "county_code": ["1", "1", "1", "2"],
        "level": ["primary", "nine_year", "junior", "primary"],
        "can_strike_off": [False, False, True, True],
    }
)


def _years(rows: list[tuple[str, str, int, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["school_id", "level", "year", "load", "classes"]).assign(
        scenario="medium"
    )


YEARS = _years(
    [
        # A: 4 primary classes; 230 pupils (57.5) in 2026, 200 (50) in 2027, 170 (42.5) in 2028.
        ("A", "primary", 2026, 230.0, 4.0),
        ("A", "primary", 2027, 200.0, 4.0),
        ("A", "primary", 2028, 170.0, 4.0),
        # B: nine-year; primary within 45 every year, junior 2 classes of 55, 52, 51: never.
        ("B", "primary", 2026, 90.0, 2.0),
        ("B", "primary", 2027, 80.0, 2.0),
        ("B", "primary", 2028, 80.0, 2.0),
        ("B", "junior", 2026, 110.0, 2.0),
        ("B", "junior", 2027, 104.0, 2.0),
        ("B", "junior", 2028, 102.0, 2.0),
        # C complies now, but 2027 projects 52 a class: within the cap again from 2028.
        ("C", "junior", 2026, 100.0, 2.0),
        ("C", "junior", 2027, 104.0, 2.0),
        ("C", "junior", 2028, 90.0, 2.0),
        # N complies now and every year.
        ("N", "primary", 2026, 40.0, 1.0),
        ("N", "primary", 2027, 44.0, 1.0),
        ("N", "primary", 2028, 45.0, 1.0),
    ]
)


def test_timetable_worked_by_hand() -> None:
    table = class_size_timetable(
        LEDGER, YEARS, load_profile(), scenario="medium", school_year=2025
    ).set_index("school_id")
    # A: over in 2026 and 2027, within from 2028; the 2026 peak of 230 needs ceil(230 / 45) = 6
    # classes: 2 more, 90 places.
    a = table.loc["A"]
    assert (a["within_cap_from"], a["strike_off_year"], a["peak_year"]) == (2028, 2028, 2026)
    assert (a["classes_to_add"], a["places_to_add"], a["never_without_action"]) == (2, 90, False)
    # B: its junior classes stay over 50 to 2028: never without action; 110 pupils need
    # ceil(110 / 50) = 3 junior classes: 1 more, 50 places.
    b = table.loc["B"]
    assert np.isnan(b["within_cap_from"]) and np.isnan(b["strike_off_year"])
    assert (b["never_without_action"], b["classes_to_add"], b["places_to_add"]) == (True, 1, 50)
    assert b["peak_class_size"] == 55.0
    # C complies now but relapses in 2027: struck off from 2028, not now.
    assert table.loc["C", "strike_off_year"] == 2028
    # N complies now and stays within the cap (45 is not over 45): struck off in 2025.
    assert table.loc["N", ["strike_off_year", "classes_to_add"]].tolist() == [2025, 0]


def test_strike_off_by_year() -> None:
    table = class_size_timetable(LEDGER, YEARS, load_profile(), scenario="medium", school_year=2025)
    by_year = strike_off_by_year(table, years=[2025, 2026, 2027, 2028])
    one = by_year[by_year["county_code"] == "1"]
    # County 1: nothing struck off until 2028, when A and C are; B never.
    assert one["struck_off"].tolist() == [0, 0, 0, 2]
    assert one["remaining"].tolist() == [3, 3, 3, 1]
    assert by_year[by_year["county_code"] == "2"]["struck_off"].tolist() == [1, 1, 1, 1]
