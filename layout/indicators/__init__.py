"""The indicators a county reports over its schools: class sizes, funding, staffing, balance."""

from __future__ import annotations

from .balance import (
    INDICATOR_SCALE,
    BalanceResult,
    balance,
    balance_target,
    difference_coefficient,
)
from .class_size import class_size_ledger, county_class_size
from .consolidation import consolidation_rates
from .funding import county_funding, funding
from .pairing import PAIR_COLUMNS, pairing_summary, school_pairs, study_pairs
from .staffing import boarding_staff, county_staffing, staffing
from .support import (
    SUPPORT_RULES,
    SupportRule,
    canteen_coverage,
    left_behind,
    resource_classrooms,
    support_tables,
    township_dormitories,
    unchecked_support_rules,
)
from .tables import indicator_tables
from .timetable import TIMETABLE_COLUMNS, class_size_timetable, strike_off_by_year

__all__ = [
    "balance",
    "balance_target",
    "boarding_staff",
    "canteen_coverage",
    "BalanceResult",
    "class_size_ledger",
    "class_size_timetable",
    "consolidation_rates",
    "county_class_size",
    "county_funding",
    "county_staffing",
    "difference_coefficient",
    "funding",
    "INDICATOR_SCALE",
    "indicator_tables",
    "left_behind",
    "PAIR_COLUMNS",
    "pairing_summary",
    "resource_classrooms",
    "school_pairs",
    "staffing",
    "strike_off_by_year",
    "study_pairs",
    "support_tables",
    "SUPPORT_RULES",
    "SupportRule",
    "TIMETABLE_COLUMNS",
    "township_dormitories",
    "unchecked_support_rules",
]
