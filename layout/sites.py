"""Candidate school sites and the two-tier rural plan: teaching points and boarding schools.

:func:`candidate_sites` gathers where a new school could go: reserved education parcels of
the level (``parcel``), campuses of schools that are closing (``campus``: re-use first, as
the Anshan plan asks, so they get a score bonus), township seats (``seat``) and weighted
k-means centres of flagged children (``cluster``). Each gets a suitability score.

:func:`rural_plan` works one rural county in two tiers (国办发〔2018〕27号):

a. pupils of grades 1-3 whose trip to the nearest primary place exceeds the profile's
   ``service.rural_lower_primary_minutes`` (30) get small schools or teaching points, by
   set covering (:func:`layout.optimize.lscp`: the fewest new sites putting every such
   child within the norm, existing primary places fixed) or, given a ``budget`` of new
   sites, maximal covering (:func:`layout.optimize.mclp`);
b. pupils of grades 4-9 get township boarding schools by p-median
   (:func:`layout.optimize.p_median` on township seats and closing campuses, existing junior
   and nine-year schools fixed), with boarding beds for the pupils they serve beyond the
   daily-travel norm (``rural_upper_primary_minutes`` for grades 4-6,
   ``rural_junior_minutes`` for grades 7-9).

:func:`urban_plan` puts new schools on reserved parcels of an urban county whose projected
children exceed its places, and :func:`plan_sites` runs the rural plan on every rural county.

Every proposal is sized in standard classes: ``ceil(pupils / class cap)`` rounded up to the
smallest standard size of the profile (``school_size.rural_teaching_point`` then
``rural_primary`` for small schools, ``rural_junior`` for boarding schools, which the profile
has no rural nine-year norm for, ``urban_<level>`` for urban schools); a school larger than
the largest standard size keeps the classes it needs. Teachers follow ``staffing`` (students
per staff; small schools at least ``small_school_teachers_per_class`` per class); land is the
norm's ``land_m2_per_student`` at that size times the places (classes x class cap); funding
is :func:`layout.indicators.funding` (per-student rates, the small-school floor, the
boarding supplement).

Examples
--------
The rural county of the bundled (synthetic) Anshan sample, medium scenario, last plan year:

>>> from layout.study import study_from_toml
>>> from layout.demand import project_demand
>>> from layout.scenarios import default_scenarios
>>> study = study_from_toml()
>>> demand = project_demand(study["population"], study["developments"],
...                         scenarios=[default_scenarios()[1]], years=[2035])
>>> county = study["counties"].query("setting == 'rural'")["county_code"].iloc[0]
>>> found = rural_plan(study, demand, county_code=county, year=2035)
>>> set(found.proposals["kind"]) <= {"small_school", "boarding_school"}
True
>>> bool((found.proposals["gap"] >= 0).all())
True
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree
from sklearn.cluster import KMeans

from ._partition import HALO, halo_distance
from .access import LEVEL_SCHOOLS, level_costs
from .demand import scenario_names
from .errors import ValidationError
from .indicators import funding
from .optimize import CoverageResult, SitingResult, lscp, mclp, p_median
from .schema import classes_columns, enrolment_columns
from .seats import school_seats
from .standards import AreaNorm, Profile
from .study import Study

__all__ = [
    "CANDIDATE_KINDS",
    "REUSE_BONUS",
    "SCORE_SCALE_M",
    "SCORE_WEIGHTS",
    "SitePlan",
    "candidate_sites",
    "plan_sites",
    "rural_plan",
    "standard_classes",
    "urban_plan",
]

LOG = logging.getLogger(__name__)

CANDIDATE_KINDS: tuple[str, ...] = ("parcel", "campus", "seat", "cluster")
"""Kinds of candidate site, in the order :func:`candidate_sites` lists them."""

SCORE_WEIGHTS: dict[str, float] = {"road": 0.4, "seat": 0.3, "services": 0.3}
"""Weights of the suitability parts: near a road (access for building and school buses), near
the township seat (where the township's services and staff are), near an open school (a proxy
for public services: water, power, clinics). Without roads the road part is left out and the
other weights are scaled up to sum to 1."""

SCORE_SCALE_M = 1000.0
"""Distance in metres at which a suitability part falls to 1/2: ``part = 1 / (1 + d / scale)``."""

REUSE_BONUS = 0.5
"""Score added to the campus of a closing school (the policy re-uses idle campuses first)."""

TIERS: dict[str, tuple[int, ...]] = {
    "small_school": (1, 2, 3),
    "boarding_school": tuple(range(4, 10)),
}
"""Grades each kind of rural proposal serves."""

PROPOSAL_COLUMNS: tuple[str, ...] = (
    "proposal_id", "kind", "county_code", "candidate_id", "candidate_kind", "source_id",
    "children_served", "minutes_saved", "child_minutes_saved", "classes", "teachers_required",
    "boarding_beds", "land_m2", "total_funding", "solver", "objective", "bound", "gap",
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
        ``classes``, ``teachers_required``, ``boarding_beds``, ``land_m2``,
        ``total_funding`` (yuan a year)
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


# --------------------------------------------------------------------------- candidates


def candidate_sites(
    study: Study,
    *,
    level: str,
    flagged_cells: pd.DataFrame | None = None,
    county_code: str | None = None,
    n_clusters: int | None = None,
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """Gather and score the candidate sites of a new school of ``level``.

    Parameters
    ----------
    study
        The study (reserved_land, schools, townships, population, roads if any).
    level
        ``"primary"`` or ``"junior"``: parcels planned for that level or nine-year qualify.
    flagged_cells
        Cells whose children need a closer school: ``cell_id`` and ``children``. Their
        weighted k-means centres become ``cluster`` candidates.
    county_code
        Keep only the candidates in this county.
    n_clusters
        Number of clusters; by default one per ``small_school.students_below`` (100) flagged
        children, rounded up, and at most one per flagged cell.
    seed
        Seed of k-means (one k-means++ start: the clusters only seed candidates, and the
        covering model chooses among them).

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the study CRS: ``candidate_id`` (``kind:source_id``), ``kind``
        (:data:`CANDIDATE_KINDS`), ``source_id`` (parcel, school or township id, or cluster
        number), ``county_code``, the distances ``road_m`` (NaN without roads), ``seat_m``
        and ``school_m`` (nearest open school), their parts ``road_part``, ``seat_part``,
        ``services_part`` (``1 / (1 + d / SCORE_SCALE_M)``), ``reuse_bonus`` and
        ``score = sum(SCORE_WEIGHTS[k] * part_k) / sum(weights used) + reuse_bonus``.

    Raises
    ------
    ValidationError
        An unknown ``level``, or ``flagged_cells`` without its columns or with unknown cells.

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> sites = candidate_sites(study_from_toml(), level="primary")
    >>> sorted(set(sites["kind"]))
    ['campus', 'parcel', 'seat']
    >>> bool(sites["score"].between(0, 1 + REUSE_BONUS).all())
    True
    """
    _check_level(level, ("primary", "junior"))
    parts = [
        _parcel_sites(study, level),
        _campus_sites(study),
        _seat_sites(study),
        _cluster_sites(study, flagged_cells, n_clusters=n_clusters, seed=seed),
    ]
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True)
    sites = gpd.GeoDataFrame(frame, geometry="geometry", crs=study.crs)
    if county_code is not None:
        sites = sites[sites["county_code"] == county_code].reset_index(drop=True)
    return _scored(study, sites)


def _site_frame(
    kind: str, ids: pd.Series, counties: pd.Series, points: gpd.GeoSeries
) -> gpd.GeoDataFrame:
    names = ids.astype(str).to_numpy()
    return gpd.GeoDataFrame(
        {
            "candidate_id": [f"{kind}:{i}" for i in names],
            "kind": kind,
            "source_id": names,
            "county_code": counties.astype(str).to_numpy(),
        },
        geometry=points.to_numpy(),
        crs=points.crs,
    )


def _parcel_sites(study: Study, level: str) -> gpd.GeoDataFrame:
    """Centroids of reserved parcels planned for ``level`` (or nine-year), not yet built."""
    parcels = study.layers.get("reserved_land")
    if parcels is None:
        return gpd.GeoDataFrame()
    keep = parcels["planned_level"].isin([level, "nine_year"]) & (parcels["status"] != "built")
    chosen = parcels[keep.to_numpy()]
    return _site_frame(
        "parcel", chosen["parcel_id"], chosen["county_code"], chosen.geometry.centroid
    )


def _campus_sites(study: Study) -> gpd.GeoDataFrame:
    """Campuses of closing schools, of any level."""
    schools = study["schools"]
    chosen = schools[(schools["status"] == "closing").to_numpy()]
    return _site_frame("campus", chosen["school_id"], chosen["county_code"], chosen.geometry)


def _seat_points(study: Study) -> gpd.GeoSeries:
    towns = study["townships"]
    seats = gpd.points_from_xy(towns["seat_lon"], towns["seat_lat"], crs="EPSG:4490")
    return gpd.GeoSeries(seats, index=towns.index).to_crs(study.crs)


def _seat_sites(study: Study) -> gpd.GeoDataFrame:
    """Township seats (seat_lon, seat_lat in EPSG:4490) in the study CRS."""
    towns = study["townships"]
    return _site_frame("seat", towns["township_code"], towns["county_code"], _seat_points(study))


def _cluster_sites(
    study: Study, flagged: pd.DataFrame | None, *, n_clusters: int | None, seed: int
) -> gpd.GeoDataFrame:
    """Weighted k-means centres of the flagged cells' centroids (weights = children)."""
    if flagged is None:
        return gpd.GeoDataFrame()
    missing = {"cell_id", "children"} - set(flagged.columns)
    if missing:
        raise ValidationError(
            f"flagged_cells lacks columns {sorted(missing)}; give cell_id and children"
        )
    cells = study["population"].set_index("cell_id")
    unknown = ~flagged["cell_id"].isin(cells.index)
    if unknown.any():
        raise ValidationError(
            f"flagged_cells has cell_id {flagged['cell_id'][unknown].tolist()[:5]} not in the "
            "population layer; pass cells of this study"
        )
    rows = flagged[flagged["children"].to_numpy() > 0]
    if rows.empty:
        return gpd.GeoDataFrame()
    weight = rows["children"].to_numpy(float)
    centres = cells.geometry.loc[rows["cell_id"]].centroid
    xy = np.column_stack([centres.x.to_numpy(), centres.y.to_numpy()])
    below = study.standards.small_school.students_below
    k = n_clusters or min(len(rows), math.ceil(weight.sum() / below))
    found = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(xy, sample_weight=weight)
    county = cells["county_code"].loc[rows["cell_id"]].to_numpy()
    by = pd.DataFrame({"label": found.labels_, "county": county, "w": weight})
    majority = by.groupby(["label", "county"])["w"].sum().reset_index()
    majority = majority.sort_values("w").drop_duplicates("label", keep="last").set_index("label")
    labels = np.arange(k)
    points = gpd.GeoSeries(gpd.points_from_xy(*found.cluster_centers_.T), crs=study.crs)
    return _site_frame(
        "cluster", pd.Series(labels), majority["county"].reindex(labels).fillna(""), points
    )


def _scored(study: Study, sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add the distances, their parts and the suitability score."""
    out = sites.copy()
    xy = np.column_stack([out.geometry.x.to_numpy(), out.geometry.y.to_numpy()])
    seats = _seat_points(study)
    out["road_m"] = np.nan
    if "roads" in study.layers and len(out):
        index, gaps = study["roads"].sindex.nearest(out.geometry, return_distance=True)
        out.loc[out.index[index[0]], "road_m"] = gaps
    out["seat_m"] = _nearest_m(xy, seats)
    schools = study["schools"]
    out["school_m"] = _nearest_m(xy, schools.geometry[(schools["status"] == "open").to_numpy()])
    weights = dict(SCORE_WEIGHTS)
    if out["road_m"].isna().all():
        weights.pop("road")
    total = np.zeros(len(out))
    for part, distance in (("road", "road_m"), ("seat", "seat_m"), ("services", "school_m")):
        out[f"{part}_part"] = 1.0 / (1.0 + out[distance].to_numpy() / SCORE_SCALE_M)
        if part in weights:
            total += weights[part] * np.nan_to_num(out[f"{part}_part"].to_numpy())
    out["reuse_bonus"] = np.where(out["kind"] == "campus", REUSE_BONUS, 0.0)
    out["score"] = total / sum(weights.values()) + out["reuse_bonus"].to_numpy()
    return out


def _nearest_m(xy: np.ndarray, points: gpd.GeoSeries) -> np.ndarray:
    """Straight-line metres from each row of ``xy`` to the nearest of ``points`` (inf if none)."""
    if len(points) == 0 or len(xy) == 0:
        return np.full(len(xy), np.inf)
    tree = cKDTree(np.column_stack([points.x.to_numpy(), points.y.to_numpy()]))
    return tree.query(xy)[0]


# --------------------------------------------------------------------------- sizing


def standard_classes(pupils: float, *, cap: int, sizes: tuple[int, ...]) -> int:
    """Return the classes of a school for ``pupils``: the smallest standard size that holds them.

    ``ceil(pupils / cap)`` classes are needed; the answer is the smallest of ``sizes`` at least
    that, or the classes needed when they exceed every standard size.

    Examples
    --------
    >>> standard_classes(130, cap=45, sizes=(6, 12, 18, 24))  # 3 needed -> 6
    6
    >>> standard_classes(1200, cap=45, sizes=(6, 12, 18, 24))  # 27 needed, above 24
    27
    """
    return _standard(_needed(pupils, cap), sizes)


def _small_norm(profile: Profile, classes_needed: int) -> AreaNorm:
    """Return the teaching-point norm when its size holds the classes, else rural primary."""
    sizes = profile.school_size
    if classes_needed <= max(sizes.rural_teaching_point.classes):
        return sizes.rural_teaching_point
    return sizes.rural_primary


def _land(norm: AreaNorm, classes: int, cap: int) -> float:
    """Land of a school of ``classes`` under ``norm``: rate at that size x its places."""
    rate = float(np.interp(classes, norm.classes, norm.land_m2_per_student))
    return rate * classes * cap


# --------------------------------------------------------------------------- plans


def rural_plan(  # noqa: PLR0913 - the plan's options, all keyword-only
    study: Study,
    demand: pd.DataFrame,
    *,
    county_code: str,
    year: int | None = None,
    scenario: str = "medium",
    level: str = "both",
    p: int = 1,
    budget: int | None = None,
    radius_min: float | None = None,
    time_limit: float | None = 30.0,
) -> SitePlan:
    """Propose small schools (grades 1-3) and boarding schools (grades 4-9) for a rural county.

    Parameters
    ----------
    study
        The study.
    demand
        The demand layer of :func:`layout.demand.project_demand` (children by scenario, year,
        cell and grade).
    county_code
        A county of the study whose ``setting`` is ``"rural"``.
    year
        Plan year of the children; the study's last plan year by default.
    scenario
        Demand scenario.
    level
        ``"primary"`` (tier a: small schools), ``"junior"`` (tier b: boarding schools) or
        ``"both"``.
    p
        New boarding schools per county (tier b), at most the candidates available.
    budget
        New small schools allowed (tier a): maximal covering with this many instead of set
        covering.
    radius_min
        Travel-time norm of tier a in minutes; ``service.rural_lower_primary_minutes`` (30)
        by default.
    time_limit
        Seconds each solver may run before returning its best answer with its bound.

    Returns
    -------
    SitePlan

    Raises
    ------
    ValidationError
        Unknown or non-rural county, bad level, p or budget, or no demand for the scenario
        and year.

    Examples
    --------
    See the module examples.
    """
    setting = _setting(study, county_code)
    if setting != "rural":
        raise ValidationError(
            f"county_code {county_code!r} has setting {setting!r}; rural_plan works "
            "on rural counties (use urban_plan for urban ones)"
        )
    _check_level(level, ("primary", "junior", "both"))
    _check_count(p, "p", minimum=0)
    if budget is not None:
        _check_count(budget, "budget", minimum=1)
    year = int(year if year is not None else study.plan_years[-1])
    grades = _grades(study, demand, county_code=county_code, scenario=scenario, year=year)
    service = study.standards.service
    parts = []
    if level in ("primary", "both"):
        radius = service.rural_lower_primary_minutes if radius_min is None else radius_min
        if not (np.isfinite(radius) and radius > 0):
            raise ValidationError(f"radius_min must be a positive number, got {radius_min!r}")
        parts.append(_small_schools(study, grades, county_code, radius, budget, time_limit))
    if level in ("junior", "both") and p > 0:
        parts.append(_boarding_schools(study, grades, county_code, p, time_limit))
    return _stacked(study, parts)


def urban_plan(  # noqa: PLR0913 - the plan's options, all keyword-only
    study: Study,
    demand: pd.DataFrame,
    *,
    county_code: str,
    year: int | None = None,
    scenario: str = "medium",
    level: str = "primary",
    p: int | None = None,
    time_limit: float | None = 30.0,
) -> SitePlan:
    """Put new schools on reserved parcels of a county whose children exceed its places.

    The shortfall is the county's projected children of ``level`` minus the places of its
    open schools teaching the level (:func:`layout.seats.school_seats`). When positive,
    ``p`` new schools (default: the shortfall over the places of the largest standard urban
    school, rounded up) are opened on parcel candidates by p-median on travel distance
    weighted by children, existing schools fixed. The model is uncapacitated: each new school
    is sized in standard classes for the children nearest it.

    Parameters
    ----------
    study, demand, county_code, year, scenario, time_limit
        As in :func:`rural_plan`; the county may be of any setting.
    level
        ``"primary"`` or ``"junior"``.
    p
        New schools; by default from the shortfall.

    Returns
    -------
    SitePlan
        Proposals of kind ``urban_school`` (none when there is no shortfall or no parcel).

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> from layout.demand import project_demand
    >>> from layout.scenarios import default_scenarios
    >>> study = study_from_toml()
    >>> demand = project_demand(study["population"], study["developments"],
    ...                         scenarios=[default_scenarios()[1]], years=[2035])
    >>> county = study["counties"]["county_code"].iloc[0]
    >>> found = urban_plan(study, demand, county_code=county, year=2035)
    >>> set(found.proposals["kind"]) <= {"urban_school"}
    True
    """
    _setting(study, county_code)
    _check_level(level, ("primary", "junior"))
    if p is not None:
        _check_count(p, "p", minimum=1)
    year = int(year if year is not None else study.plan_years[-1])
    grades = _grades(study, demand, county_code=county_code, scenario=scenario, year=year)
    span = range(1, 7) if level == "primary" else range(7, 10)
    children = grades[list(span)].sum(axis=1)
    schools = study["schools"]
    seats = school_seats(schools)[f"capacity_{level}"].to_numpy()
    in_county = (schools["county_code"] == county_code).to_numpy()
    shortfall = float(children.sum() - seats[in_county & (schools["status"] == "open")].sum())
    sites = candidate_sites(study, level=level, county_code=county_code)
    sites = sites[sites["kind"] == "parcel"].reset_index(drop=True)
    norm: AreaNorm = getattr(study.standards.school_size, f"urban_{level}")
    cap = _cap(study.standards, level)
    if shortfall <= 0 or sites.empty:
        LOG.info("urban_plan %s: shortfall %.1f, %d parcels: nothing to site", county_code,
                 shortfall, len(sites))  # fmt: skip
        return _stacked(study, [_Tier("urban_school", None, sites, None, None)])
    count = p or math.ceil(shortfall / (max(norm.classes) * cap))
    service = study.standards.service
    radius_m = getattr(service, f"urban_{level}_radius_m")
    part = grades[list(span)]
    existing = _existing(study, level, county_code)
    before = _nearest_minutes(study, existing, level, part.index)
    tier = _solve_median(
        study,
        part,
        sites,
        existing=existing,
        kind="urban_school",
        level=level,
        before=np.repeat(before[:, None], part.shape[1], axis=1),
        norm=radius_m * 1.3 / (service.walking_speed_kmh * 1000 / 60),
        count=min(count, len(sites)),
        time_limit=time_limit,
    )
    return _stacked(study, [tier])


def plan_sites(  # noqa: PLR0913 - the plan's options, all keyword-only
    study: Study,
    demand: pd.DataFrame,
    *,
    counties: list[str] | None = None,
    year: int | None = None,
    scenario: str = "medium",
    level: str = "both",
    p: int = 1,
    budget: int | None = None,
    radius_min: float | None = None,
    time_limit: float | None = 30.0,
) -> SitePlan:
    """Plan sites in several counties and stack the plans.

    A rural county gets :func:`rural_plan`; an urban county named in ``counties`` gets
    :func:`urban_plan` (new schools on reserved parcels, for each level asked).

    Parameters
    ----------
    counties
        County codes; by default those whose ``setting`` is ``"rural"``.
    study, demand, year, scenario, level, p, budget, radius_min, time_limit
        As in :func:`rural_plan`.

    Returns
    -------
    SitePlan
        ``proposal_id`` numbered across the counties.

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> from layout.demand import project_demand
    >>> from layout.scenarios import default_scenarios
    >>> study = study_from_toml()
    >>> demand = project_demand(study["population"], study["developments"],
    ...                         scenarios=[default_scenarios()[1]], years=[2035])
    >>> found = plan_sites(study, demand, year=2035, level="junior")
    >>> set(found.proposals["kind"]) <= {"boarding_school"}
    True
    """
    table = study["counties"]
    codes = counties or table.loc[table["setting"] == "rural", "county_code"].tolist()
    urban = set(table.loc[table["setting"] == "urban", "county_code"])
    levels = ("primary", "junior") if level == "both" else (level,)
    plans = [
        urban_plan(study, demand, county_code=code, year=year, scenario=scenario, level=one,
                   time_limit=time_limit)
        if code in urban
        else rural_plan(study, demand, county_code=code, year=year, scenario=scenario,
                        level=level, p=p, budget=budget, radius_min=radius_min,
                        time_limit=time_limit)
        for code in codes
        for one in (levels if code in urban else levels[:1])
    ]  # fmt: skip
    plan = SitePlan(
        *(
            gpd.GeoDataFrame(pd.concat([getattr(x, f) for x in plans], ignore_index=True),
                             geometry="geometry", crs=study.crs)
            if plans else _empty(study, f)
            for f in ("proposals", "candidates", "coverage")
        )
    )  # fmt: skip
    _number(plan.proposals)
    return plan


# --------------------------------------------------------------------------- tiers


@dataclass
class _Solve:
    """The rows, columns and costs a tier's model was solved on."""

    grades: pd.DataFrame  # county cells x grades of the tier: the pupils the model serves
    minutes: sparse.csr_array  # county cells x (existing schools, then candidates)
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
    solve = _Solve(young, minutes, np.repeat(before[:, None], 3, axis=1), len(existing), radius)
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
    service = study.standards.service
    existing = _existing(study, "junior", county_code)
    primary = _nearest_minutes(
        study, _existing(study, "primary", county_code), "primary", grades.index
    )
    junior = _nearest_minutes(study, existing, "junior", grades.index)
    before = np.column_stack([primary] * 3 + [junior] * 3)
    norms = np.repeat([service.rural_upper_primary_minutes, service.rural_junior_minutes], 3)
    far = grades[list(TIERS["boarding_school"])].mul(before > norms)
    if sites.empty or not far.to_numpy().any():
        return _Tier("boarding_school", None, sites)
    return _solve_median(
        study,
        far,
        sites,
        existing=existing,
        kind="boarding_school",
        level="junior",
        before=before,
        norm=service.rural_junior_minutes,
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
    level: str,
    before: np.ndarray,
    norm: float,
    count: int,
    time_limit: float | None,
) -> _Tier:
    """Open ``count`` of ``sites`` by p-median on minutes, the ``existing`` schools fixed."""
    minutes = _cell_minutes(study, grades.index, existing, sites, level=level)
    weights = np.where(np.diff(minutes.indptr) > 0, grades.sum(axis=1).to_numpy(), 0.0)
    solve = _Solve(grades.mul(weights > 0, axis=0), minutes, before, len(existing), norm)
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
    """Return the new site (column) of each served cell (``-1`` if none) and its minutes.

    A served cell moves to its column when that is a new site; other cells keep the
    minutes to their nearest existing school.
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
    picked = np.asarray(solve.minutes.multiply(chosen).sum(axis=1)).ravel()
    after = solve.before.min(axis=1)
    after[rows] = picked[rows]
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
            "minutes_after": after,
            "within_before": before <= solve.norm,
            "within_after": after <= solve.norm,
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
    known = np.isfinite(solve.before) & np.isfinite(after)[:, None]
    gain = np.subtract(solve.before, after[:, None], out=np.zeros(pupils.shape), where=known)
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
    frame["total_funding"] = _funding(study, tier.kind, grades, frame)
    return frame[[*PROPOSAL_COLUMNS, "geometry"]]


def _beds(study: Study, grades: pd.DataFrame, after: np.ndarray) -> np.ndarray:
    """Pupils of each cell beyond the daily-travel norm of their grades (4-6 and 7-9)."""
    service = study.standards.service
    upper = grades[[g for g in grades.columns if 4 <= int(g) <= 6]].sum(axis=1).to_numpy()
    junior = grades[[g for g in grades.columns if int(g) >= 7]].sum(axis=1).to_numpy()
    return upper * (after > service.rural_upper_primary_minutes) + junior * (
        after > service.rural_junior_minutes
    )


def _sized(study: Study, kind: str, grades: pd.DataFrame) -> dict[str, np.ndarray]:
    """Classes, teachers and land of each new site (one row of ``grades`` per site)."""
    profile = study.standards
    staff = profile.staffing
    primary = grades[[g for g in grades.columns if int(g) <= 6]].sum(axis=1).to_numpy()
    junior = grades[[g for g in grades.columns if int(g) >= 7]].sum(axis=1).to_numpy()
    classes, teachers, land = [], [], []
    for up, low in zip(primary, junior, strict=True):
        ratio = up / staff.primary_students_per_staff + low / staff.junior_students_per_staff
        if kind == "small_school":
            cap = profile.class_size.primary_cap
            norm = _small_norm(profile, _needed(up, cap))
            n = standard_classes(up, cap=cap, sizes=norm.classes)
            need = max(ratio, staff.small_school_teachers_per_class * n)
        elif kind == "boarding_school":
            cap = profile.class_size.junior_cap
            norm = profile.school_size.rural_junior
            n = _standard(_needed(up, profile.class_size.primary_cap) + _needed(low, cap),
                          norm.classes)  # fmt: skip
            need = ratio
        else:
            level = "primary" if up > 0 else "junior"
            cap = _cap(profile, level)
            norm = getattr(profile.school_size, f"urban_{level}")
            n = standard_classes(up + low, cap=cap, sizes=norm.classes)
            need = ratio
        classes.append(n)
        teachers.append(math.ceil(need - 1e-9))
        land.append(_land(norm, n, cap))
    return {
        "classes": np.asarray(classes, dtype=np.int64),
        "teachers_required": np.asarray(teachers, dtype=np.int64),
        "land_m2": np.asarray(land),
    }


def _funding(
    study: Study, kind: str, grades: pd.DataFrame, proposals: gpd.GeoDataFrame
) -> np.ndarray:
    """Annual funding of each proposal by :func:`layout.indicators.funding` (pupils rounded)."""
    n = len(proposals)
    if n == 0:
        return np.zeros(0)
    pupils = np.zeros((n, 9), dtype=np.int64)
    for g in grades.columns:
        pupils[:, int(g) - 1] = np.round(grades[g].to_numpy())
    fixed = {"small_school": "teaching_point", "boarding_school": "nine_year"}.get(kind)
    urban = np.where(pupils[:, :6].sum(axis=1) > 0, "primary", "junior")
    level = np.full(n, fixed, dtype=object) if fixed else urban
    schools = pd.DataFrame(pupils, columns=enrolment_columns())
    schools[classes_columns()] = (pupils > 0).astype(np.int64)
    schools = schools.assign(
        school_id=proposals["candidate_id"].to_numpy(),
        county_code=proposals["county_code"].to_numpy(),
        level=level,
        setting="urban" if kind == "urban_school" else "rural",
        status="open",
        boarders=np.minimum(proposals["boarding_beds"].to_numpy(), pupils.sum(axis=1)),
    )
    some = pupils.sum(axis=1) > 0  # a site serving under half a pupil gets no funding
    out = np.zeros(n)
    out[some] = funding(schools[some], study.standards)["total_funding"].to_numpy(float)
    return out


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
    """Give the proposals ids P001, P002, ... in place (a frame this module made)."""
    proposals["proposal_id"] = [f"P{i + 1:03d}" for i in range(len(proposals))]


# --------------------------------------------------------------------------- helpers


def _standard(needed: int, sizes: tuple[int, ...]) -> int:
    fitting = [s for s in sorted(sizes) if s >= needed]
    return fitting[0] if fitting else needed


def _needed(pupils: float, cap: int) -> int:
    return math.ceil(pupils / cap - 1e-9)


def _cap(profile: Profile, level: str) -> int:
    sizes = profile.class_size
    return sizes.primary_cap if level == "primary" else sizes.junior_cap


def _setting(study: Study, county_code: str) -> str:
    """Return the setting of a county of the study, refusing an unknown code."""
    counties = study["counties"].set_index("county_code")
    if county_code not in counties.index:
        raise ValidationError(
            f"county_code {county_code!r} is not in the counties layer; use one of "
            f"{sorted(counties.index)[:10]}"
        )
    return str(counties.at[county_code, "setting"])


def _check_level(level: str, allowed: tuple[str, ...]) -> None:
    if level not in allowed:
        raise ValidationError(f"level must be one of {list(allowed)}, got {level!r}")


def _check_count(value: object, name: str, *, minimum: int) -> None:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < minimum:
        raise ValidationError(f"{name} must be a whole number >= {minimum}, got {value!r}")


def _grades(
    study: Study, demand: pd.DataFrame, *, county_code: str, scenario: str, year: int
) -> pd.DataFrame:
    """Children of the county's cells (population order) by grade 1-9, for one scenario/year."""
    missing = {"scenario", "year", "cell_id", "grade", "children"} - set(demand.columns)
    if missing:
        raise ValidationError(
            f"demand lacks columns {sorted(missing)}; pass the layer of "
            "layout.demand.project_demand"
        )
    rows = demand[(demand["scenario"] == scenario) & (demand["year"] == year)]
    if rows.empty:
        raise ValidationError(
            f"demand has no rows for scenario {scenario!r} and year {year}; it has scenarios "
            f"{sorted(scenario_names(demand))} and years "
            f"{sorted(int(y) for y in demand['year'].unique())}"
        )
    cells = study["population"]
    ids = pd.Index(cells.loc[cells["county_code"] == county_code, "cell_id"], name="cell_id")
    table = pd.DataFrame(rows[["cell_id", "grade", "children"]]).pivot_table(
        index="cell_id", columns="grade", values="children", aggfunc="sum"
    )
    table.columns = table.columns.astype(int)
    return table.reindex(index=ids, columns=range(1, 10)).fillna(0.0)


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
        mine |= gpd.GeoSeries(schools.geometry).distance(area) <= halo_distance(study.standards)
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
