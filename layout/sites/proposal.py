"""The site plan: proposals, candidates and coverage, with the columns of each proposal."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

TIERS: dict[str, tuple[int, ...]] = {
    "small_school": (1, 2, 3),
    "boarding_school": tuple(range(4, 10)),
}
"""Grades each kind of rural proposal serves."""

PROPOSAL_COLUMNS: tuple[str, ...] = (
    "proposal_id", "kind", "county_code", "candidate_id", "candidate_kind", "source_id",
    "children_served", "minutes_saved", "child_minutes_saved", "classes", "teachers_required",
    "boarding_beds", "boarding_staff", "land_m2", "total_funding", "solver", "objective",
    "bound", "gap",
)  # fmt: skip
"""Columns of :attr:`SitePlan.proposals` (besides geometry)."""


@dataclass
class SitePlan:
    """Proposed new schools, the candidates they were chosen from and the cells they serve.

    Attributes
    ----------
    proposals
        One row per proposed school (points), with :data:`PROPOSAL_COLUMNS`: ``kind``
        (``small_school``, ``boarding_school`` or ``urban_school``), the candidate used,
        ``children_served`` (pupils of the tier's grades), ``minutes_saved`` (mean per child
        served, against the current nearest school; ``child_minutes_saved`` is the total),
        ``classes``, ``teachers_required``, ``boarding_beds``, ``boarding_staff`` (additional
        staff for boarding management, :func:`layout.indicators.boarding_staff`),
        ``land_m2``, ``total_funding`` (yuan a year)
        and the solver's ``objective``, ``bound`` (a proven lower bound for the minimising
        models, upper bound of the coverage for ``mclp``) and relative ``gap``.
    candidates
        The scored candidate sites of :func:`candidate_sites` that were offered, with
        ``county_code`` and ``tier``.
    coverage
        The county's cells with children of a tier (polygons): ``cell_id``, ``county_code``,
        ``township_code``, ``tier``, ``children``,
        ``minutes_before`` (to the nearest existing school), ``minutes_after`` (with the
        proposals), ``within_before`` and ``within_after`` (the tier's norm).
    """

    proposals: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    coverage: gpd.GeoDataFrame


def gained_cells(coverage: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the cells of a plan's coverage that its proposals bring within the norm.

    Parameters
    ----------
    coverage
        :attr:`SitePlan.coverage`, or part of it.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows with ``within_after`` and not ``within_before``.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> cells = gpd.GeoDataFrame({"cell_id": ["A", "B", "C"],
    ...                           "within_before": [True, False, False],
    ...                           "within_after": [True, True, False]},
    ...                          geometry=[Point(0, 0)] * 3)
    >>> gained_cells(cells)["cell_id"].tolist()
    ['B']
    """
    return coverage[(coverage["within_after"] & ~coverage["within_before"]).to_numpy(bool)]
