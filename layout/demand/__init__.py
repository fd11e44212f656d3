"""School-age demand: scenarios, the cohort model, development yields, the demand layer."""

from __future__ import annotations

from .. import _moved
from ..schema import CHILD_LEVELS, GRADE_LEVELS
from .cohorts import (
    LEDGER_COLUMNS,
    CohortProjection,
    project_cohorts,
    projection_years,
)
from .developments import YEARS_SINCE_DELIVERY, development_children
from .project import (
    DEMAND_COLUMNS,
    demand_by_cell,
    demand_totals,
    focus_scenario,
    project_demand,
    scenario_names,
)
from .recipe import study_demand, study_scenarios, study_yields
from .scenarios import (
    ALL_CELLS,
    ANSHAN_BIRTH_RATE,
    ANSHAN_GROWTH_2010_2020,
    DEFAULT_SURVIVAL,
    LIAONING_CHILD_SHARE_2020,
    Scenario,
    default_scenarios,
    scenario_named,
    scenarios_from_toml,
)
from .yields import (
    DEFAULT_FEATURES,
    REPORT_COLUMNS,
    YieldModel,
    YieldRates,
)

__all__ = [
    "study_demand",
    "study_scenarios",
    "study_yields",
    "ALL_CELLS",
    "ANSHAN_BIRTH_RATE",
    "ANSHAN_GROWTH_2010_2020",
    "CHILD_LEVELS",
    "CohortProjection",
    "DEFAULT_FEATURES",
    "default_scenarios",
    "DEFAULT_SURVIVAL",
    "demand_by_cell",
    "DEMAND_COLUMNS",
    "demand_totals",
    "development_children",
    "focus_scenario",
    "GRADE_LEVELS",
    "LEDGER_COLUMNS",
    "LIAONING_CHILD_SHARE_2020",
    "project_cohorts",
    "project_demand",
    "projection_years",
    "REPORT_COLUMNS",
    "Scenario",
    "scenario_named",
    "scenario_names",
    "scenarios_from_toml",
    "YEARS_SINCE_DELIVERY",
    "YieldModel",
    "YieldRates",
]


def __getattr__(name: str) -> object:
    """Serve the names that moved out of this package (see :mod:`layout._moved`)."""
    return _moved.moved_name(__name__, name)
