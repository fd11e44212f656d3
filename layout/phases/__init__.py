"""Phased layout plans: which school to build, expand, merge or close, in which plan year.

:mod:`layout.phases.problem` holds the data of a county's plan (both levels),
:mod:`layout.phases.model` its mixed-integer model and solve; :mod:`layout.phases.inputs`
builds it from a study; :func:`phased_plan` solves it and :mod:`layout.phases.actions` turns
the answer into the actions a bureau takes, with :mod:`layout.phases.evidence` behind them.
"""

from __future__ import annotations

from .actions import ACTION_COLUMNS, plan_actions, plan_timeline
from .inputs import CountyInputs, county_inputs
from .model import TIME_LIMIT, fewest_beyond, smallest_budget, solve_phases
from .plan import PhasedPlan, county_plan, phased_plan
from .problem import Arcs, Facilities, PhaseProblem, PhaseSolution, Rates

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
