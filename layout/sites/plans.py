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
>>> from layout.demand import study_demand
>>> study = study_from_toml()
>>> demand = study_demand(study, scenarios=["medium"], years=[2035])
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

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import _validate
from ..access import school_seats
from ..demand import scenario_names
from ..errors import ValidationError
from ..standards import AreaNorm
from ..study import Study
from .candidates import candidate_sites
from .proposal import TIERS, SitePlan
from .tiers import (
    _boarding_schools,
    _empty,
    _existing,
    _nearest_minutes,
    _number,
    _small_schools,
    _solve_median,
    _stacked,
    _Tier,
)

LOG = logging.getLogger(__name__)

CANDIDATE_KINDS: tuple[str, ...] = ("parcel", "campus", "seat", "cluster")
"""Kinds of candidate site, in the order :func:`candidate_sites` lists them."""


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
    _validate.require_choice(level, "level", ("primary", "junior", "both"))
    _validate.require_count(p, "p", minimum=0)
    if budget is not None:
        _validate.require_count(budget, "budget", minimum=1)
    year = int(year if year is not None else study.plan_years[-1])
    grades = _grades(study, demand, county_code=county_code, scenario=scenario, year=year)
    parts = []
    if level in ("primary", "both"):
        norm = study.standards.minutes("primary", setting="rural", grades=TIERS["small_school"])
        radius = norm if radius_min is None else radius_min
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
    open schools teaching the level (:func:`layout.access.school_seats`). When positive,
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
    >>> from layout.demand import study_demand
    >>> study = study_from_toml()
    >>> demand = study_demand(study, scenarios=["medium"], years=[2035])
    >>> county = study["counties"]["county_code"].iloc[0]
    >>> found = urban_plan(study, demand, county_code=county, year=2035)
    >>> set(found.proposals["kind"]) <= {"urban_school"}
    True
    """
    _setting(study, county_code)
    _validate.require_choice(level, "level", ("primary", "junior"))
    if p is not None:
        _validate.require_count(p, "p", minimum=1)
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
    cap = study.standards.cap(level)
    if shortfall <= 0 or sites.empty:
        LOG.info("urban_plan %s: shortfall %.1f, %d parcels: nothing to site", county_code,
                 shortfall, len(sites))  # fmt: skip
        return _stacked(study, [_Tier("urban_school", None, sites, None, None)])
    count = p or math.ceil(shortfall / (max(norm.classes) * cap))
    part = grades[list(span)]
    existing = _existing(study, level, county_code)
    before = _nearest_minutes(study, existing, level, part.index)
    tier = _solve_median(
        study,
        part,
        sites,
        existing=existing,
        kind="urban_school",
        before=np.repeat(before[:, None], part.shape[1], axis=1),
        norm=study.standards.minutes(level, setting="urban"),
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
        ``proposal_id`` numbered within each county (``P<county_code>-001``, ...); each
        proposal names the ``year`` and ``scenario`` of the children it is sized for.

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> from layout.demand import study_demand
    >>> study = study_from_toml()
    >>> demand = study_demand(study, scenarios=["medium"], years=[2035])
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
            gpd.GeoDataFrame(_geometry_last(pd.concat([getattr(x, f) for x in plans],
                                                      ignore_index=True)),
                             geometry="geometry", crs=study.crs)
            if plans else _empty(study, f)
            for f in ("proposals", "candidates", "coverage")
        )
    )  # fmt: skip
    _number(plan.proposals)
    at = int(year if year is not None else study.plan_years[-1])
    plan.proposals.insert(len(plan.proposals.columns) - 1, "year", at)
    plan.proposals.insert(len(plan.proposals.columns) - 1, "scenario", scenario)
    return plan


def _geometry_last(frame: pd.DataFrame) -> pd.DataFrame:
    """Put the geometry last: plans stacked in any order (an empty urban plan first) agree."""
    return frame[[*(c for c in frame.columns if c != "geometry"), "geometry"]]


def _setting(study: Study, county_code: str) -> str:
    """Return the setting of a county of the study, refusing an unknown code."""
    counties = study["counties"].set_index("county_code")
    if county_code not in counties.index:
        raise ValidationError(
            f"county_code {county_code!r} is not in the counties layer; use one of "
            f"{sorted(counties.index)[:10]}"
        )
    return str(counties.at[county_code, "setting"])


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
