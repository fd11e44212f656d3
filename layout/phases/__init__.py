"""Phased layout plans: which school to build, expand, merge or close, in which plan year.

:mod:`layout.phases.model` is the mixed-integer model of one level of one county;
:mod:`layout.phases.inputs` builds it from a study; :func:`phased_plan` solves each level
of a county and :mod:`layout.phases.actions` turns the answer into the actions a bureau takes.
"""

from __future__ import annotations

from .actions import ACTION_COLUMNS, plan_actions, plan_timeline
from .inputs import CountyInputs, county_inputs
from .model import (
    TIME_LIMIT,
    Arcs,
    Facilities,
    PhaseProblem,
    PhaseSolution,
    Rates,
    fewest_beyond,
    smallest_budget,
    solve_phases,
)
from .plan import PhasedPlan, county_plan, phased_plan

__all__ = [
    "ACTION_COLUMNS",
    "CountyInputs",
    "county_inputs",
    "county_plan",
    "PhasedPlan",
    "phased_plan",
    "plan_actions",
    "plan_timeline",
    "Arcs",
    "Facilities",
    "PhaseProblem",
    "PhaseSolution",
    "Rates",
    "fewest_beyond",
    "TIME_LIMIT",
    "smallest_budget",
    "solve_phases",
]
