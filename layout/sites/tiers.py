"""The two tiers of the rural plan, and the urban plan's solve: each a siting model on costs.

Tier a: small schools or teaching points for grades 1-3 beyond the walking norm (covering);
tier b: township boarding schools for grades 4-9 beyond their norms (p-median); urban schools
on reserved parcels (p-median). Each tier's proposals are sized by :mod:`layout.sites.sizing`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from ..access import LEVEL_SCHOOLS, level_costs
from ..indicators import boarding_staff
from ..optimize import CoverageResult, SitingResult, lscp, mclp, p_median
from ..schema import GRADE_LEVELS, HALO
from ..study import Study
from .candidates import candidate_sites
from .proposal import PROPOSAL_COLUMNS, TIERS, SitePlan
from .sizing import _beds, _funding, _sized

LOG = logging.getLogger(__name__)

# --------------------------------------------------------------------------- tiers


@dataclass
class _Solve:
    """The rows, columns and costs a tier's model was solved on."""

    grades: pd.DataFrame  # county cells x grades of the tier: the pupils the model serves
    minutes: sparse.csr_array  # county cells x (existing schools, then candidates): the model's
    trips: tuple[sparse.csr_array, ...]  # one per grade: its pupils' minutes, by its mode
    before: np.ndarray  # cells x grades: minutes to the nearest existing school (inf if none)
    n_existing: int
    norm: float  # minutes within which a cell counts as covered


@dataclass
class _Tier:
    """What one tier's solver found, before the proposals are sized."""

    kind: str
    result: SitingResult | CoverageResult | None
    sites: gpd.GeoDataFrame
    solve: _Solve | None = None
    solver: str | None = None


def _small_schools(  # noqa: PLR0913 - one tier's inputs
    study: Study,
    grades: pd.DataFrame,
    county_code: str,
    radius: float,
    budget: int | None,
    time_limit: float | None,
) -> _Tier:
    """Tier a: teaching points for pupils of grades 1-3 beyond ``radius`` minutes.

    Only those pupils count: cells within the norm keep their school.
    """
    span = list(TIERS["small_school"])
    existing = _existing(study, "primary", county_code)
    before = _nearest_minutes(study, existing, "primary", grades.index)
    flagged = (grades[span].sum(axis=1).to_numpy() > 0) & ~(before <= radius)
    flagged_cells = pd.DataFrame(
        {"cell_id": grades.index[flagged], "children": grades[span].sum(axis=1)[flagged]}
    )
    sites = candidate_sites(
        study, level="primary", flagged_cells=flagged_cells, county_code=county_code
    )
    if not flagged.any() or sites.empty:
        return _Tier("small_school", None, sites)
    minutes = _cell_minutes(study, grades.index, existing, sites, level="primary")
    reach = minutes.copy()
    reach.data = (reach.data <= radius).astype(float)
    reach.eliminate_zeros()
    lonely = flagged & (np.diff(reach.indptr) == 0)
    if lonely.any():
        LOG.warning("small schools: cells %s have no candidate within %.0f minutes",
                    list(grades.index[lonely][:5]), radius)  # fmt: skip
    young = grades[span].mul(flagged & ~lonely, axis=0)
    solve = _Solve(
        young, minutes, (minutes,) * 3, np.repeat(before[:, None], 3, axis=1), len(existing), radius
    )
    weights = young.sum(axis=1).to_numpy()
    if not weights.any():
        return _Tier("small_school", None, sites, solve)
    fixed = np.arange(solve.n_existing)
    columns = np.arange(solve.n_existing, minutes.shape[1])
    if budget is None:
        found: SitingResult | CoverageResult = lscp(
            minutes, radius, weights=weights, fixed=fixed, candidates=columns, time_limit=time_limit
        )
        return _Tier("small_school", found, sites, solve, "lscp")
    found = mclp(
        minutes,
        solve.n_existing + budget,
        radius,
        weights=weights,
        fixed=fixed,
        candidates=columns,
        time_limit=time_limit,
    )
    return _Tier("small_school", found, sites, solve, "mclp")


def _boarding_schools(
    study: Study, grades: pd.DataFrame, county_code: str, p: int, time_limit: float | None
) -> _Tier:
    """Tier b: township boarding schools on township seats and closing campuses.

    For pupils of grades 4-6 beyond ``rural_upper_primary_minutes`` of a primary place and of
    grades 7-9 beyond ``rural_junior_minutes`` of a junior place (the others keep their school).
    """
    sites = candidate_sites(study, level="junior", county_code=county_code)
    sites = sites[sites["kind"].isin(["seat", "campus"])].reset_index(drop=True)
    profile = study.standards
    existing = _existing(study, "junior", county_code)
    primary = _nearest_minutes(
        study, _existing(study, "primary", county_code), "primary", grades.index
    )
    junior = _nearest_minutes(study, existing, "junior", grades.index)
    before = np.column_stack([primary] * 3 + [junior] * 3)
    norms = np.array(
        [
            profile.minutes(GRADE_LEVELS[g - 1], setting="rural", grades=(g,))
            for g in TIERS["boarding_school"]
        ]
    )
    far = grades[list(TIERS["boarding_school"])].mul(before > norms)
    if sites.empty or not far.to_numpy().any():
        return _Tier("boarding_school", None, sites)
    return _solve_median(
        study,
        far,
        sites,
        existing=existing,
        kind="boarding_school",
        before=before,
        norm=profile.minutes("junior", setting="rural"),
        count=min(p, len(sites)),
        time_limit=time_limit,
    )


def _solve_median(  # noqa: PLR0913 - one tier's inputs
    study: Study,
    grades: pd.DataFrame,
    sites: gpd.GeoDataFrame,
    *,
    existing: gpd.GeoDataFrame,
    kind: str,
    before: np.ndarray,
    norm: float,
    count: int,
    time_limit: float | None,
) -> _Tier:
    """Open ``count`` of ``sites`` by p-median on minutes, the ``existing`` schools fixed.

    Each grade's pupils travel by the mode of their level (``Profile.mode``): a cell's cost of
    a column is its pupils' mean trip, a trip beyond every school costing the longest one
    (``service.max_trip_minutes``), the price of having no place within reach. A cell that
    reaches no open school, nor the sites opened, stays where it is: a fixed first column
    costs every cell that longest trip, so that the model always has an answer.
    """
    longest = study.standards.service.max_trip_minutes
    levels = [GRADE_LEVELS[int(grade) - 1] for grade in grades.columns]
    names = list(dict.fromkeys(levels))
    by_level = dict(zip(names, _on_one_pattern(
        [_cell_minutes(study, grades.index, existing, sites, level=name) for name in names],
        fill=longest,
    ), strict=True))  # fmt: skip
    pupils = grades.to_numpy()
    total = pupils.sum(axis=1)
    first = by_level[names[0]]
    rows = np.repeat(np.arange(len(total)), np.diff(first.indptr))
    mean = np.zeros(first.nnz)
    for name, trip in by_level.items():
        mine = pupils[:, [level == name for level in levels]].sum(axis=1)
        share = np.divide(mine, total, out=np.full(len(total), 1 / len(names)), where=total > 0)
        mean += share[rows] * trip.data
    cost = sparse.csr_array((mean, first.indices, first.indptr), shape=first.shape)
    beyond = sparse.csr_array(np.full((len(grades), 1), longest))
    minutes = sparse.hstack([beyond, cost], format="csr")
    trips = {name: sparse.hstack([beyond, m], format="csr") for name, m in by_level.items()}
    weights = np.where(np.diff(minutes.indptr) > 1, total, 0.0)
    solve = _Solve(
        grades.mul(weights > 0, axis=0),
        minutes,
        tuple(trips[level] for level in levels),
        before,
        len(existing) + 1,
        norm,
    )
    if not weights.any():
        return _Tier(kind, None, sites, solve)
    found = p_median(
        minutes,
        solve.n_existing + count,
        weights=weights,
        fixed=np.arange(solve.n_existing),
        candidates=np.arange(solve.n_existing, minutes.shape[1]),
        time_limit=time_limit,
    )
    return _Tier(kind, found, sites, solve, "p_median")


def _cell_minutes(
    study: Study,
    cell_ids: pd.Index,
    existing: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    level: str,
) -> sparse.csr_array:
    """Minutes from the cells to the existing schools then the candidates (level_costs)."""
    columns = gpd.GeoDataFrame(
        {"school_id": [*existing["school_id"].astype(str), *sites["candidate_id"]]},
        geometry=[*existing.geometry, *sites.geometry],
        crs=study.crs,
    )
    costs = level_costs(study, columns, level=level)
    return costs.minutes[costs.cells.get_indexer(cell_ids)]


def _on_one_pattern(matrices: list[sparse.csr_array], *, fill: float) -> list[sparse.csr_array]:
    """Put the matrices on the union of their arcs, an arc a matrix lacks costing ``fill``.

    Explicit zeros (a cell at a school) are kept: the union is taken on the stored arcs.

    Examples
    --------
    >>> a = sparse.csr_array(([0.0, 5.0], [0, 1], [0, 2, 2]), shape=(2, 2))
    >>> b = sparse.csr_array(([7.0], [0], [0, 0, 1]), shape=(2, 2))
    >>> [m.toarray().tolist() for m in _on_one_pattern([a, b], fill=9.0)]
    [[[0.0, 5.0], [9.0, 0.0]], [[9.0, 9.0], [7.0, 0.0]]]
    """
    shape = matrices[0].shape
    keys = [m.tocoo() for m in matrices]
    flat = [c.row.astype(np.int64) * shape[1] + c.col for c in keys]
    union = np.unique(np.concatenate(flat))
    rows, cols = np.divmod(union, shape[1])
    out = []
    for coo, where in zip(keys, flat, strict=True):
        data = np.full(len(union), fill)
        data[np.searchsorted(union, where)] = coo.data
        out.append(sparse.csr_array((data, (rows, cols)), shape=shape))
    return out


# --------------------------------------------------------------------------- proposals


def _stacked(study: Study, tiers: list[_Tier]) -> SitePlan:
    """Size each tier's new sites and stack the tiers into one plan."""
    proposals, candidates, coverage = [], [], []
    for tier in tiers:
        candidates.append(tier.sites.assign(tier=tier.kind))
        if tier.solve is None:
            continue
        assignment, after = _moves(tier.solve, tier.result)
        coverage.append(_coverage(study, tier, after))
        if tier.result is not None:
            proposals.append(_proposals(study, tier, assignment, after))
    plan = SitePlan(
        _frame(study, proposals, "proposals"),
        _frame(study, candidates, "candidates"),
        _frame(study, coverage, "coverage"),
    )
    _number(plan.proposals)
    return plan


def _moves(
    solve: _Solve, result: SitingResult | CoverageResult | None
) -> tuple[np.ndarray, np.ndarray]:
    """Return the new site (column) of each served cell (``-1`` if none) and its trips.

    A served cell moves to its column when that is a new site, each grade's pupils then
    taking their own mode's trip there (``solve.trips``); other cells keep the minutes to
    their nearest existing school. The trips are cells x grades, as ``solve.before``.
    """
    n = len(solve.grades)
    assignment = np.full(n, -1, dtype=np.int64)
    if result is not None:
        served = solve.grades.sum(axis=1).to_numpy() > 0
        assignment = np.where(served, np.asarray(result.assignment), -1)
        assignment[assignment < solve.n_existing] = -1
    rows = np.flatnonzero(assignment >= 0)
    chosen = sparse.csr_array(
        (np.ones(len(rows)), (rows, assignment[rows])), shape=solve.minutes.shape
    )
    after = solve.before.copy()
    for grade, trips in enumerate(solve.trips):
        after[rows, grade] = np.asarray(trips.multiply(chosen).sum(axis=1)).ravel()[rows]
    return assignment, after


def _coverage(study: Study, tier: _Tier, after: np.ndarray) -> gpd.GeoDataFrame:
    solve = tier.solve
    assert solve is not None
    cells = study["population"].set_index("cell_id")
    before = solve.before.min(axis=1)
    return gpd.GeoDataFrame(
        {
            "cell_id": solve.grades.index,
            "county_code": cells["county_code"].reindex(solve.grades.index).to_numpy(),
            "township_code": cells["township_code"].reindex(solve.grades.index).to_numpy(),
            "tier": tier.kind,
            "children": solve.grades.sum(axis=1).to_numpy(),
            "minutes_before": before,
            "minutes_after": after.min(axis=1),
            "within_before": before <= solve.norm,
            "within_after": after.min(axis=1) <= solve.norm,
        },
        geometry=cells.geometry.reindex(solve.grades.index).to_numpy(),
        crs=study.crs,
    )


def _proposals(
    study: Study, tier: _Tier, assignment: np.ndarray, after: np.ndarray
) -> gpd.GeoDataFrame:
    """One row per new site opened by the tier, sized, staffed, costed and funded."""
    solve, result = tier.solve, tier.result
    assert solve is not None and result is not None
    moved = assignment >= 0
    pupils = solve.grades.to_numpy()
    known = np.isfinite(solve.before) & np.isfinite(after)
    gain = np.subtract(solve.before, after, out=np.zeros(pupils.shape), where=known)
    by_site = pd.DataFrame(pupils[moved], columns=list(solve.grades.columns))
    by_site["child_minutes_saved"] = (pupils * gain).sum(axis=1)[moved]
    by_site["boarding_beds"] = _beds(study, solve.grades, after)[moved]
    by_site["site"] = assignment[moved] - solve.n_existing
    sums = by_site.groupby("site").sum()
    grades = sums[list(solve.grades.columns)]
    sites = tier.sites.iloc[sums.index.to_numpy()]
    children = grades.sum(axis=1).to_numpy()
    bound = result.lower_bound if isinstance(result, SitingResult) else result.upper_bound
    frame = gpd.GeoDataFrame(
        {
            "proposal_id": "",
            "kind": tier.kind,
            "county_code": sites["county_code"].to_numpy(),
            "candidate_id": sites["candidate_id"].to_numpy(),
            "candidate_kind": sites["kind"].to_numpy(),
            "source_id": sites["source_id"].to_numpy(),
            "children_served": children,
            "minutes_saved": sums["child_minutes_saved"].to_numpy() / children,
            "child_minutes_saved": sums["child_minutes_saved"].to_numpy(),
            **_sized(study, tier.kind, grades),
            "boarding_beds": np.round(sums["boarding_beds"].to_numpy()),
            "solver": tier.solver,
            "objective": result.objective,
            "bound": bound,
            "gap": result.gap,
        },
        geometry=sites.geometry.to_numpy(),
        crs=study.crs,
    )
    frame["boarding_staff"] = boarding_staff(frame["boarding_beds"].to_numpy(), study.standards)
    frame["total_funding"] = _funding(study, tier.kind, grades, frame)
    return frame[[*PROPOSAL_COLUMNS, "geometry"]]


def _frame(study: Study, frames: list[gpd.GeoDataFrame], name: str) -> gpd.GeoDataFrame:
    kept = [f for f in frames if len(f)]
    if kept:
        return gpd.GeoDataFrame(pd.concat(kept, ignore_index=True), geometry="geometry",
                                crs=study.crs)  # fmt: skip
    return _empty(study, name)


def _empty(study: Study, name: str) -> gpd.GeoDataFrame:
    columns = {"proposals": list(PROPOSAL_COLUMNS)}.get(name, [])
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=study.crs)


def _number(proposals: gpd.GeoDataFrame) -> None:
    """Give the proposals ids in place, numbered within their county: P210321-001, ...

    An id names its county, so it is the same whether the county was planned alone, with
    the whole study or county by county, and unique across a province.
    """
    county = proposals["county_code"].astype(str)
    number = county.groupby(county.to_numpy()).cumcount().to_numpy() + 1
    proposals["proposal_id"] = [f"P{c}-{n:03d}" for c, n in zip(county, number, strict=True)]


def _existing(study: Study, level: str, county_code: str) -> gpd.GeoDataFrame:
    """Open schools teaching ``level`` that the county's children may attend.

    The county's own; where the profile allows ``cross_county_enrolment``, also those of other
    counties (of the study, or its halo schools) within the halo distance of the county, as
    :func:`layout.access.access` seats children across borders. Closing schools are campus
    candidates instead.
    """
    across = study.standards.service.cross_county_enrolment
    layers = [study["schools"], *([study[HALO]] if across and HALO in study.layers else [])]
    schools = pd.concat([layer[["school_id", "county_code", "level", "status", "geometry"]]
                         for layer in layers], ignore_index=True)  # fmt: skip
    keep = schools["level"].isin(LEVEL_SCHOOLS[level]) & (schools["status"] == "open")
    mine = schools["county_code"] == county_code
    if across:
        area = study["counties"].set_index("county_code").geometry[county_code]
        mine |= gpd.GeoSeries(schools.geometry).distance(area) <= study.standards.halo_m
    keep &= mine
    return gpd.GeoDataFrame(
        schools.loc[keep.to_numpy(), ["school_id", "geometry"]], crs=study.crs
    ).reset_index(drop=True)


def _nearest_minutes(
    study: Study, existing: gpd.GeoDataFrame, level: str, cell_ids: pd.Index
) -> np.ndarray:
    """Minutes from each cell to its nearest existing school (inf when none is reachable)."""
    out = np.full(len(cell_ids), np.inf)
    if existing.empty:
        return out
    costs = level_costs(study, existing, level=level)
    minutes = costs.minutes[costs.cells.get_indexer(cell_ids)]
    filled = np.diff(minutes.indptr) > 0
    out[filled] = np.minimum.reduceat(minutes.data, minutes.indptr[:-1][filled])
    return out
