"""Access of children to schools: travel costs, assignment, seats, provision, borders.

The stage after :mod:`layout.demand`: :func:`level_costs` is the one costing choice (roads
when the study has them, else straight line), :func:`access` assigns every scenario's and
year's children and judges provision, :func:`settle_borders` seats children across county
lines where the profile allows it.
"""

from __future__ import annotations

from .. import _moved
from .allocate import (
    REASONS,
    Assignment,
    assign,
    assign_nearest,
    assign_series,
    attendance_matrix,
    catchments,
)
from .borders import BORDER_INPUTS, settle_borders
from .costs import CELL_ID, SCHOOL_ID, TravelCosts, costs_from_distance, costs_from_network
from .method import CostMethod, cost_method, log_cost_method
from .plan_years import LEVEL_SCHOOLS, Access, access, level_costs
from .provision import (
    FLAGS,
    area_balance,
    area_balances,
    cell_flags,
    school_provision,
    two_step_fca,
    under_provisioned_areas,
)
from .seats import level_shares, parcel_seats, school_seats, service_radii

__all__ = [
    "Access",
    "access",
    "area_balance",
    "area_balances",
    "assign",
    "assign_nearest",
    "assign_series",
    "Assignment",
    "attendance_matrix",
    "BORDER_INPUTS",
    "catchments",
    "cell_flags",
    "CELL_ID",
    "cost_method",
    "CostMethod",
    "costs_from_distance",
    "costs_from_network",
    "FLAGS",
    "level_costs",
    "LEVEL_SCHOOLS",
    "level_shares",
    "log_cost_method",
    "parcel_seats",
    "REASONS",
    "SCHOOL_ID",
    "school_provision",
    "school_seats",
    "service_radii",
    "settle_borders",
    "TravelCosts",
    "two_step_fca",
    "under_provisioned_areas",
]


def __getattr__(name: str) -> object:
    """Serve the names that moved out of this package (see :mod:`layout._moved`)."""
    return _moved.moved_name(__name__, name)
