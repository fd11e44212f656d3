"""Which travel costs a study gets (along its roads or by straight line) and why, stated.

:func:`layout.access.level_costs` costs along the road network when the study has roads, else
by straight-line distance times ``service.circuity``. :func:`cost_method` says which, and why;
:func:`log_cost_method` logs it, at WARNING when a roads layer was given but is empty (the
run falls back to straight lines) or its roads do not join up (un-noded lines).

Examples
--------
>>> from layout.study import study_from_toml
>>> cost_method(study_from_toml())
CostMethod(method='roads', reason='roads layer', roads=2313, connected_share=1.0)
"""

from __future__ import annotations

import logging
from typing import Literal, NamedTuple

from ..study import Study

LOG = logging.getLogger(__name__)


class CostMethod(NamedTuple):
    """How a study's travel is costed.

    Attributes
    ----------
    method
        ``"roads"`` (shortest paths on the roads layer) or ``"straight line"``.
    reason
        ``"roads layer"``, ``"no roads layer"`` or ``"empty roads layer"``.
    roads
        Rows of the roads layer (0 without one).
    connected_share
        Share of the road length in the largest connected piece (1.0 without roads).
    """

    method: Literal["roads", "straight line"]
    reason: Literal["roads layer", "no roads layer", "empty roads layer"]
    roads: int
    connected_share: float


def cost_method(study: Study) -> CostMethod:
    """Return how :func:`layout.access.level_costs` costs the travel of a study, and why.

    Parameters
    ----------
    study
        The study.

    Returns
    -------
    CostMethod
    """
    roads = study.layers.get("roads")
    if roads is None:
        return CostMethod("straight line", "no roads layer", 0, 1.0)
    network = study.road_network
    if network is None:
        return CostMethod("straight line", "empty roads layer", 0, 1.0)
    return CostMethod("roads", "roads layer", len(roads), network.largest_piece_share())


def log_cost_method(study: Study) -> CostMethod:
    """Log :func:`cost_method` of ``study`` and return it.

    At INFO when the study's roads are used or it has none; at WARNING when its roads layer
    is empty (straight lines instead) or its roads do not join up (less than the profile's
    ``checks.roads_connected_share_min`` of their length in one connected piece).
    """
    found = cost_method(study)
    circuity = study.standards.service.circuity
    least = study.standards.checks.roads_connected_share_min
    if found.reason == "empty roads layer":
        LOG.warning(
            "the roads layer of %s is empty: travel is costed by straight-line distance x %g "
            "(service.circuity) instead of along roads. Fix: give the roads layer its lines, or "
            "remove [layers.roads] to choose straight lines",
            study.path.name,
            circuity,
        )
    elif found.reason == "no roads layer":
        LOG.info("no roads layer: travel is costed by straight-line distance x %g", circuity)
    elif found.connected_share < least:
        LOG.warning(
            "the roads of %s do not join up: the largest connected piece holds %.0f%% of their "
            "length (checks.roads_connected_share_min %.0f%%), so children on other pieces "
            "reach no school. Lines that cross without a shared vertex are not joined. Fix: "
            "node the roads (e.g. QGIS 'Split with lines', GRASS v.clean, or shapely.node) so "
            "crossing roads share a vertex",
            study.path.name,
            100 * found.connected_share,
            100 * least,
        )
    else:
        LOG.info("travel is costed along the roads layer (%d roads)", found.roads)
    return found
