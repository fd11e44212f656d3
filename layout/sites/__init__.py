"""Site selection: candidate sites and the plans of new small, boarding and urban schools."""

from __future__ import annotations

from .. import _moved
from .candidates import candidate_sites
from .plans import CANDIDATE_KINDS, plan_sites, rural_plan, urban_plan
from .proposal import PROPOSAL_COLUMNS, TIERS, SitePlan, gained_cells
from .sizing import standard_classes

__all__ = [
    "CANDIDATE_KINDS",
    "candidate_sites",
    "gained_cells",
    "plan_sites",
    "PROPOSAL_COLUMNS",
    "rural_plan",
    "SitePlan",
    "standard_classes",
    "TIERS",
    "urban_plan",
]


def __getattr__(name: str) -> object:
    """Old names that moved or were replaced (see :mod:`layout._moved`)."""
    return _moved.moved_name(__name__, name)
