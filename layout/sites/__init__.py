"""Site selection: candidate sites and the plans of new small, boarding and urban schools."""

from __future__ import annotations

from .candidates import REUSE_BONUS, SCORE_SCALE_M, SCORE_WEIGHTS, candidate_sites
from .plans import CANDIDATE_KINDS, plan_sites, rural_plan, urban_plan
from .proposal import PROPOSAL_COLUMNS, TIERS, SitePlan
from .sizing import standard_classes

__all__ = [
    "CANDIDATE_KINDS",
    "candidate_sites",
    "plan_sites",
    "PROPOSAL_COLUMNS",
    "REUSE_BONUS",
    "rural_plan",
    "SCORE_SCALE_M",
    "SCORE_WEIGHTS",
    "SitePlan",
    "standard_classes",
    "TIERS",
    "urban_plan",
]
