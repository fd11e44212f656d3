"""A county's phased-plan model built from a study: areas, facilities, arcs, costs.

Demand is the study's (:func:`layout.demand.study_demand`), gathered into ``areas``
children-weighted k-means clusters of the county's cells (scikit-learn), each split into
bands of grades with one travel norm (grades 1-3, 4-6, 7-9; :meth:`Profile.minutes`).
Facilities are the county's open schools teaching the level, the candidate sites of
:func:`layout.sites.candidate_sites` (reserved parcels that pass the land check's rules on
their land, in their planned classes; idle
campuses to reuse in their classes, township seats in the standard sizes, on land to
reserve). Travel is :func:`layout.access.level_costs` on foot and by school bus; a band
reaches a facility on foot or by bus within its norm, or (grades 4-9) as boarders within
the longest trip costed. Every cost is the profile's (``costs``, ``funding``, ``staffing``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from ..access import LEVEL_SCHOOLS, TravelCosts, level_costs, parcel_seats, school_seats
from ..errors import ValidationError
from ..schema import CHILD_LEVELS, LEVEL_GRADES
from ..sites import candidate_sites
from ..standards import AreaNorm, Profile
from ..study import Study
from .evidence import parcel_checks
from .problem import Arcs, Facilities, PhaseProblem, Rates

BANDS: dict[str, tuple[tuple[int, ...], ...]] = {
    "primary": (LEVEL_GRADES["primary"][:3], LEVEL_GRADES["primary"][3:]),
    "junior": (LEVEL_GRADES["junior"],),
}
"""Bands of grades of each level with one travel norm each (grades 1-3 never board)."""

AREAS = 30
"""Default number of demand areas (k-means clusters of cells) per county."""

BEYOND_NEAREST = 10
"""Facilities beyond the norm each group may be seated at, nearest first, when nothing within
its norm has room: the model seats as few children there as it can."""


@dataclass(frozen=True)
class CountyInputs:
    """One level's model of a county and the tables that name its rows.

    Attributes
    ----------
    problem
        The model of both levels (:class:`layout.phases.PhaseProblem`).
    groups
        One row per demand group: ``area``, ``band`` (first-last grade), ``setting``,
        ``x``, ``y``.
    facilities
        One row per facility: ``facility_id``, ``kind``, ``source_id``, ``name``,
        ``parcel_id`` (or empty), ``geometry``.
    """

    problem: PhaseProblem
    groups: pd.DataFrame
    facilities: gpd.GeoDataFrame


def county_inputs(
    study: Study,
    demand: pd.DataFrame,
    *,
    county: str,
    areas: int = AREAS,
    seed: int = 0,
    every_area: bool = False,
) -> CountyInputs:
    """Build the phased-plan model of one county: both levels in one model.

    Parameters
    ----------
    study
        The study.
    demand
        Its demand layer for one scenario (:func:`layout.demand.study_demand`).
    county
        County code.
    areas
        Number of demand areas (k-means clusters of the county's cells).
    seed
        Seed of k-means.
    every_area
        Offer a site (on land to reserve) at the centre of every area with children, not
        only of those whose children reach nothing within their norm.

    Returns
    -------
    CountyInputs
        ``groups`` and ``facilities`` carry a ``level`` column.

    Raises
    ------
    ValidationError
        A county with no cells, or a level with neither a school nor a candidate site.
    """
    years = tuple(sorted(int(y) for y in pd.unique(demand["year"])))
    usable = parcel_checks(study, demand, county=county)["usable"]
    parts: list[tuple[Any, ...]] = []
    for level in CHILD_LEVELS:
        groups, need = _groups(
            study, demand, county=county, level=level, years=years, areas=areas, seed=seed
        )
        places = _facilities(study, county=county, level=level, usable=usable)
        if places.empty and need.sum() > 0:
            raise ValidationError(
                f"county {county}: no open {level} school and no candidate site (reserved_land "
                f"parcel planned for {level}, idle campus or township seat); add reserved "
                "parcels to the study's reserved_land layer for this county"
            )
        arcs = _arcs(study, groups, places, level=level)
        wanted = np.flatnonzero(need.sum(axis=1) > 0)
        lonely = wanted if every_area else np.setdiff1d(wanted, arcs.group)
        if len(lonely):
            places = _with_area_sites(study, places, groups.iloc[lonely], level=level)
            arcs = _arcs(study, groups, places, level=level)
        parts.append(
            (
                groups.assign(level=level),
                need,
                places.assign(level=level),
                arcs,
                _facility_arrays(study.standards, places, level=level),
                _near(study.standards, places, level=level),
            )
        )
    problem = PhaseProblem(
        years=years,
        demand=np.vstack([p[1] for p in parts]),
        facilities=_joined_facilities([p[4] for p in parts]),
        arcs=_joined_arcs([p[3] for p in parts], parts),
        rates=_rates(study.standards),
        near=_joined_near(parts),
        discount_rate=study.standards.costs.discount_rate,
    )
    groups = pd.concat([p[0] for p in parts], ignore_index=True)
    facilities = gpd.GeoDataFrame(
        pd.concat([p[2] for p in parts], ignore_index=True), geometry="geometry", crs=study.crs
    )
    return CountyInputs(problem=problem, groups=groups, facilities=facilities)


def _joined_facilities(parts: list[Facilities]) -> Facilities:
    return Facilities(
        ids=tuple(i for p in parts for i in p.ids),
        kind=tuple(k for p in parts for k in p.kind),
        classes=np.concatenate([p.classes for p in parts]),
        max_added=np.concatenate([p.max_added for p in parts]),
        class_cost=np.concatenate([p.class_cost for p in parts]),
        sizes=tuple(s for p in parts for s in p.sizes),
        size_costs=tuple(c for p in parts for c in p.size_costs),
        small=np.concatenate([p.small for p in parts]),
        cap=np.concatenate([p.cap for p in parts]),
        pupils_per_staff=np.concatenate([p.pupils_per_staff for p in parts]),
        funding_per_pupil=np.concatenate([p.funding_per_pupil for p in parts]),
    )


def _offsets(parts: Sequence[tuple[Any, ...]], index: int) -> list[int]:
    sizes = [len(p[index]) for p in parts]
    return [int(sum(sizes[:i])) for i in range(len(parts))]


def _joined_arcs(arcs: list[Arcs], parts: Sequence[tuple[Any, ...]]) -> Arcs:
    groups, places = _offsets(parts, 0), _offsets(parts, 2)
    return Arcs(
        group=np.concatenate([a.group + g for a, g in zip(arcs, groups, strict=True)]),
        facility=np.concatenate([a.facility + f for a, f in zip(arcs, places, strict=True)]),
        mode=np.concatenate([a.mode for a in arcs]),
        cost=np.concatenate([a.cost for a in arcs]),
        minutes=np.concatenate([a.minutes for a in arcs]),
    )


def _joined_near(parts: Sequence[tuple[Any, ...]]) -> np.ndarray:
    places = _offsets(parts, 2)
    return np.vstack([np.asarray(p[5]) + f for p, f in zip(parts, places, strict=True)])


def _groups(
    study: Study,
    demand: pd.DataFrame,
    *,
    county: str,
    level: str,
    years: tuple[int, ...],
    areas: int,
    seed: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Cluster the county's cells into areas; return the groups and their demand by year."""
    population = study["population"]
    cells = population[(population["county_code"] == county).to_numpy()]
    if cells.empty:
        raise ValidationError(
            f"county {county!r} has no cells in the population layer; "
            "pass a county code of the study (layout phases --county CODE)"
        )
    mine = demand[(demand["county_code"] == county).to_numpy() & (demand["level"] == level)]
    weight = mine.groupby("cell_id")["children"].sum().reindex(cells["cell_id"]).fillna(0)
    centres = cells.geometry.centroid
    xy = np.column_stack([centres.x.to_numpy(), centres.y.to_numpy()])
    k = max(1, min(areas, len(cells)))
    w = weight.to_numpy() + 1e-9
    labels = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(xy, sample_weight=w).labels_
    area_of = pd.Series(labels, index=cells["cell_id"].to_numpy())
    setting = cells.assign(area=labels).groupby("area")["setting"].agg(lambda s: s.mode()[0])
    bands = BANDS[level]
    band_of = {grade: b for b, band in enumerate(bands) for grade in band}
    table = pd.DataFrame(
        {
            "area": mine["cell_id"].map(area_of).to_numpy(),
            "band": mine["grade"].map(band_of).to_numpy(),
            "year": mine["year"].to_numpy(),
            "children": mine["children"].to_numpy(float),
        }
    )
    keys = pd.MultiIndex.from_product([range(k), range(len(bands))], names=["area", "band"])
    by_year = table.groupby(["area", "band", "year"])["children"].sum().unstack("year")
    need = by_year.reindex(index=keys, columns=list(years)).fillna(0.0).to_numpy(float)
    rows = []
    for area in range(k):
        inside = labels == area
        wx = np.average(xy[inside], axis=0, weights=w[inside])
        for band in bands:
            rows.append(
                {
                    "area": area,
                    "band": f"{band[0]}-{band[-1]}",
                    "setting": setting.get(area, "rural"),
                    "x": wx[0],
                    "y": wx[1],
                }
            )
    return pd.DataFrame(rows), need


def _facilities(study: Study, *, county: str, level: str, usable: pd.Series) -> gpd.GeoDataFrame:
    """Open schools teaching ``level`` and the candidate sites of the county, one row each.

    ``usable`` tells for each reserved parcel (by id) whether it passes the land check's
    rules on its land; parcels that do not are left out.
    """
    profile = study.standards
    schools = study["schools"]
    teaching = schools["level"].isin(LEVEL_SCHOOLS[level]) & (schools["status"] == "open")
    chosen = schools[(teaching & (schools["county_code"] == county)).to_numpy()]
    found = school_seats(chosen)
    seats = found[f"capacity_{level}"]
    open_ = gpd.GeoDataFrame(
        {
            "facility_id": chosen["school_id"].astype(str).to_numpy(),
            "kind": "school",
            "source_id": chosen["school_id"].astype(str).to_numpy(),
            "name": chosen["name"].astype(str).to_numpy(),
            "parcel_id": "",
            "setting": chosen["setting"].to_numpy(),
            "level_of": chosen["level"].to_numpy(),
            "classes": np.floor(seats.to_numpy() / profile.cap(level) + 1e-9).astype(int),
            "planned_classes": 0,
            "pupils": found[f"pupils_{level}"].to_numpy(float),
        },
        geometry=chosen.geometry.to_numpy(),
        crs=study.crs,
    )
    sites = candidate_sites(study, level=level, county_code=county)
    sites = sites[sites["kind"].isin(["parcel", "campus", "seat"]).to_numpy()]
    failed = usable.index[~usable.astype(bool).to_numpy()].astype(str)
    sites = sites[~((sites["kind"] == "parcel") & sites["source_id"].isin(failed)).to_numpy()]
    return gpd.GeoDataFrame(
        pd.concat([open_, _site_rows(study, sites, level=level)], ignore_index=True),
        geometry="geometry",
        crs=study.crs,
    )


def _site_rows(study: Study, sites: gpd.GeoDataFrame, *, level: str) -> gpd.GeoDataFrame:
    profile = study.standards
    towns = study["townships"].set_index("township_code")
    parcels = study.layers.get("reserved_land")
    schools = study["schools"].set_index("school_id")
    rows = []
    for site in sites.itertuples():
        kind, source = str(site.kind), str(site.source_id)
        planned, name, setting, parcel = 0, source, "rural", ""
        if kind == "parcel" and parcels is not None:
            row = parcels[parcels["parcel_id"].astype(str) == source]
            planned = int(parcel_seats(row, profile=profile)[level].iloc[0] // profile.cap(level))
            setting = str(towns["setting"].get(row["township_code"].iloc[0], "rural"))
            parcel = source
        elif kind == "campus":
            school = schools.loc[source]
            planned = int(school["capacity"] // profile.cap(level))
            name, setting = str(school["name"]), str(school["setting"])
        else:
            setting = str(towns["setting"].get(source, "rural"))
            name = str(towns["name"].get(source, source))
        rows.append(
            {
                "facility_id": f"{kind}:{source}",
                "kind": {"parcel": "site", "seat": "site"}.get(kind, "campus"),
                "source_id": source,
                "name": name,
                "parcel_id": parcel,
                "setting": setting,
                "level_of": level,
                "classes": 0,
                "planned_classes": planned,
                "pupils": 0.0,
                "geometry": site.geometry,
            }
        )
    return (
        gpd.GeoDataFrame(rows, geometry="geometry", crs=study.crs) if rows else (gpd.GeoDataFrame())
    )


def _with_area_sites(
    study: Study, places: gpd.GeoDataFrame, lonely: pd.DataFrame, *, level: str
) -> gpd.GeoDataFrame:
    """Add a site (on land to reserve) at the centre of each area whose children reach nothing."""
    areas = lonely.drop_duplicates("area")
    sites = gpd.GeoDataFrame(
        {
            "facility_id": [f"area:{level}-{a}" for a in areas["area"]],
            "kind": "site",
            "source_id": [f"area-{a}" for a in areas["area"]],
            "name": "",
            "parcel_id": "",
            "setting": areas["setting"].to_numpy(),
            "level_of": level,
            "classes": 0,
            "planned_classes": 0,
        },
        geometry=gpd.points_from_xy(areas["x"], areas["y"]),
        crs=study.crs,
    )
    return gpd.GeoDataFrame(
        pd.concat([places, sites], ignore_index=True), geometry="geometry", crs=study.crs
    )


def site_sizes(profile: Profile, *, level: str, setting: str, area: bool) -> tuple[int, ...]:
    """Return the sizes (classes) a new school may be built in: the standard sizes.

    A site at the centre of an area whose children reach no school within their norm (``area``)
    may also be a rural teaching point, the one size below the standard primary sizes.

    Examples
    --------
    >>> from layout.standards import load_profile
    >>> site_sizes(load_profile(), level="primary", setting="rural", area=True)
    (4, 6, 12, 18, 24)
    """
    sizes = area_norm(profile, level=level, setting=setting).classes
    if area and level == "primary" and setting == "rural":
        return (*profile.school_size.rural_teaching_point.classes, *sizes)
    return sizes


def area_norm(profile: Profile, *, level: str, setting: str) -> AreaNorm:
    """Return the standard school type of a new school of ``level`` in ``setting``.

    Examples
    --------
    >>> from layout.standards import load_profile
    >>> area_norm(load_profile(), level="primary", setting="rural").classes
    (6, 12, 18, 24)
    """
    norm: AreaNorm = getattr(profile.school_size, f"{setting}_{level}")
    return norm


def building_cost(profile: Profile, *, level: str, setting: str, classes: int) -> float:
    """Return the capital cost of a school building of ``classes`` classes, in yuan.

    Classes x the class cap x the building area per pupil of the nearest standard size at
    or above ``classes`` (the largest size beyond it) x the building cost per m2 of the level;
    a rural primary school below the smallest standard size is a teaching point, with the
    teaching point's area and cost per m2.

    Examples
    --------
    >>> from layout.standards import load_profile
    >>> building_cost(load_profile(), level="primary", setting="rural", classes=6)  # 6x45x10x3500
    9450000.0
    >>> building_cost(load_profile(), level="primary", setting="rural", classes=4)  # 4x45x10x3200
    5760000.0
    """
    norm = area_norm(profile, level=level, setting=setting)
    costs = profile.costs
    per_m2 = costs.primary_building_yuan_per_m2
    if level == "junior":
        per_m2 = costs.junior_building_yuan_per_m2
    elif setting == "rural" and classes < min(norm.classes):
        norm = profile.school_size.rural_teaching_point
        per_m2 = costs.teaching_point_building_yuan_per_m2
    at = next((i for i, size in enumerate(norm.classes) if size >= classes), len(norm.classes) - 1)
    return float(classes * profile.cap(level) * norm.building_m2_per_student[at] * per_m2)


def _facility_arrays(profile: Profile, places: gpd.GeoDataFrame, *, level: str) -> Facilities:
    sizes: list[tuple[int, ...]] = []
    costs: list[tuple[float, ...]] = []
    added, class_cost, small = [], [], []
    for row in places.itertuples():
        setting = str(row.setting)
        norm = area_norm(profile, level=level, setting=setting)
        one = building_cost(profile, level=level, setting=setting, classes=1)
        if row.kind == "school":
            sizes.append(())
            costs.append(())
            added.append(max(0, max(norm.classes) - int(row.classes)))
            class_cost.append(one)
        else:
            area = str(row.facility_id).startswith("area:")
            chosen = (
                (int(row.planned_classes),)
                if row.planned_classes
                else site_sizes(profile, level=level, setting=setting, area=area)
            )
            share = profile.costs.reuse_share if row.kind == "campus" else 1.0
            sizes.append(tuple(chosen))
            costs.append(
                tuple(
                    share * building_cost(profile, level=level, setting=setting, classes=c)
                    for c in chosen
                )
            )
            added.append(0)
            class_cost.append(0.0)
        rules = profile.small_school
        small.append(
            row.kind == "school" and str(row.level_of) in rules.levels and setting in rules.settings
        )
    n = len(places)
    return Facilities(
        ids=tuple(places["facility_id"]),
        kind=tuple(places["kind"]),
        classes=places["classes"].to_numpy(np.int64),
        max_added=np.array(added, dtype=np.int64),
        class_cost=np.array(class_cost),
        sizes=tuple(sizes),
        size_costs=tuple(costs),
        small=np.array(small, dtype=bool),
        cap=np.full(n, profile.cap(level), dtype=np.int64),
        pupils_per_staff=np.full(n, getattr(profile.staffing, f"{level}_students_per_staff")),
        funding_per_pupil=np.full(n, getattr(profile.funding, f"{level}_per_student")),
    )


def _rates(profile: Profile) -> Rates:
    return Rates(
        teacher_cost=profile.costs.teacher_yuan_per_year,
        teachers_per_class=profile.staffing.small_school_teachers_per_class,
        floor_pupils=profile.funding.floor_students,
    )


def _arcs(study: Study, groups: pd.DataFrame, places: gpd.GeoDataFrame, *, level: str) -> Arcs:
    """Arcs of every band: on foot or by bus within its norm; boarding for grades 4-9."""
    profile = study.standards
    costs = profile.costs
    days = costs.school_weeks_per_year * costs.school_days_per_week
    per_minute = costs.travel_yuan_per_hour / 60 * 2  # a trip there and back
    areas = groups.drop_duplicates("area")
    cells = gpd.GeoDataFrame(
        {"cell_id": areas["area"].astype(str).to_numpy(), "setting": areas["setting"].to_numpy()},
        geometry=gpd.points_from_xy(areas["x"], areas["y"]),
        crs=study.crs,
    )
    points = places[["geometry"]].assign(school_id=places["facility_id"].to_numpy())
    found = {
        mode: level_costs(
            study, points, level=level, cells=cells, modes={"urban": mode, "rural": mode}
        )
        for mode in ("walk", "bus")
    }
    out: list[tuple[int, int, str, float, float]] = []
    for g, group in enumerate(groups.itertuples()):
        first, last = (int(x) for x in str(group.band).split("-"))
        grades = tuple(range(first, last + 1))
        norm = profile.minutes(level, setting=str(group.setting), grades=grades)
        boards = first > LEVEL_GRADES["primary"][2] and group.setting == "rural"
        for mode, travel in found.items():
            matrix = travel.minutes  # a row's stored entries (zero minutes kept)
            span = slice(matrix.indptr[int(group.area)], matrix.indptr[int(group.area) + 1])
            for f, minutes in zip(matrix.indices[span], matrix.data[span], strict=True):
                seat = costs.bus_seat_yuan_per_year if mode == "bus" else 0.0
                if minutes <= norm:
                    out.append((g, int(f), mode, seat + per_minute * minutes * days, minutes))
                elif boards and mode == "bus":
                    yearly = per_minute * minutes * costs.school_weeks_per_year
                    out.append(
                        (g, int(f), "board", profile.funding.boarder_supplement + yearly, minutes)
                    )
    table = pd.DataFrame(out, columns=["group", "facility", "mode", "cost", "minutes"])
    modes = {g: profile.mode(level, str(x)) for g, x in enumerate(groups["setting"])}
    beyond = _beyond(found, modes, groups)
    beyond["cost"] = per_minute * beyond["minutes"].to_numpy() * days
    table = pd.concat([table, beyond], ignore_index=True)
    return Arcs(
        group=table["group"].to_numpy(np.int64),
        facility=table["facility"].to_numpy(np.int64),
        mode=table["mode"].to_numpy(str),
        cost=table["cost"].to_numpy(float),
        minutes=table["minutes"].to_numpy(float),
    )


def _beyond(
    found: dict[str, TravelCosts], modes: dict[int, str], groups: pd.DataFrame
) -> pd.DataFrame:
    """Arcs beyond the norm: each group to its :data:`BEYOND_NEAREST` nearest facilities.

    By the profile's mode of the group's level and setting (``modes``). The model seats as
    few children on them as it can (:func:`layout.phases.solve_phases`), and the actions say
    that those children travel beyond the norm.
    """
    rows = []
    for g, group in enumerate(groups.itertuples()):
        matrix = found[modes[g]].minutes
        span = slice(matrix.indptr[int(group.area)], matrix.indptr[int(group.area) + 1])
        order = np.argsort(matrix.data[span], kind="stable")[:BEYOND_NEAREST]
        rows += [(g, int(matrix.indices[span][i]), "beyond", matrix.data[span][i]) for i in order]
    return pd.DataFrame(rows, columns=["group", "facility", "mode", "minutes"])


def _near(profile: Profile, places: gpd.GeoDataFrame, *, level: str) -> np.ndarray:
    """Pairs (site, campus or school) within the level's reach: the idle-campus rule."""
    sites = np.flatnonzero((places["kind"] == "site").to_numpy())
    others = np.flatnonzero((places["kind"] != "site").to_numpy())
    pairs = []
    for s in sites:
        reach = profile.radius(level, str(places["setting"].iloc[s]))
        gaps = places.geometry.iloc[others].distance(places.geometry.iloc[s]).to_numpy()
        pairs += [(int(s), int(o)) for o in others[gaps <= reach]]
    return (
        np.array(pairs, dtype=np.int64).reshape(-1, 2)
        if pairs
        else np.zeros((0, 2), dtype=np.int64)
    )
