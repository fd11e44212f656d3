"""Reserved education land (教育用地储备) and 三同步: the natural resources bureau's checks.

Is school land reserved where children will live, is each parcel big enough, and does the
school of a new residential development arrive with its first phase? Three checks answer it,
each a table with one boolean column per rule, a reason text per rule (with the numbers) and
an overall ``passed``:

* :func:`check_parcels`, one row per reserved parcel:

  - ``land``: the parcel's area (m², in the projected CRS) is at least the land its planned
    school needs: students x land per student of the profile's standard school of the same
    setting and level (``school_size.<setting>_<level>.land_m2_per_student``), interpolated
    linearly in the number of classes between the standard sizes and held at the end values
    outside them. Students are planned classes x the class cap of the level
    (``class_size.primary_cap`` / ``junior_cap``).
  - ``overlap``: the parcel overlaps no other parcel and no existing school's land by more than
    a tolerance. A school is a point with ``land_area_m2``: its land is modelled as a circle of
    that area around the point (drawn as a regular 64-gon whose area is exactly
    ``land_area_m2``); a school with no land area counts when its point lies in the parcel.
    Schools of status ``open`` and ``closing`` have land; ``planned`` ones do not yet. A
    parcel of status ``built`` is expected to hold its school: school land on it is named in
    the reason but does not fail the rule.
  - ``demand``: the demand the parcel is meant to serve exists. In each plan year from the
    parcel's delivery year on, the projected children of its level within the service radius
    of the parcel, less the seats of the open schools of that level within the same radius,
    must reach ``min_fill`` (the profile's ``land.parcel_min_fill``) x the planned seats in at
    least one year. Children of a demand cell count in proportion to the share of the cell's
    area inside the radius (areal weighting). The reported distance runs from the parcel to the
    centre of gravity of those children in the peak year (0 when the parcel sits amid its
    demand).

* :func:`check_developments`, one row per residential development (phases grouped by
  ``development_id``):

  - ``primary`` and ``junior``: the children the development brings at full occupancy have a
    place: an open school of the level (or nine-year) within the service radius whose spare
    seats (capacity of the level less its current pupils) cover them, or a reserved parcel of
    that level (or nine-year) within the radius.
  - ``sync`` (三同步): every school parcel linked to the development (``school_parcel_id`` of
    any phase) is delivered no later than the development's first phase, i.e. its earliest
    ``delivery_year``. A development with no linked parcel passes only if existing schools take
    all its new children (it then needs no new school).

* :func:`township_reserve`, one row per township and level: the seats planned on the
  township's parcels not yet built against the projected shortfall, the peak (or last-year)
  children of the level less the seats of the township's open schools.

:func:`land_check` runs the three on a study and writes ``land.gpkg``, ``land.xlsx`` and the
map ``land.html``; :func:`add_land_parser` and :func:`run_land` are the ``layout land``
command.

Assumptions, stated once here and in the functions that make them:

* Nine-year schools (九年一贯制) have grades 1-6 and 7-9, so 6/9 of their classes are primary
  and 3/9 junior (fractions kept). Urban ones take the profile's nine-year land norm at
  their total classes; the profile has no rural nine-year norm, so a rural one takes the
  rural primary norm for its primary part and the rural junior norm for its junior part, each
  at the part's own number of classes.
* Service radius (:func:`layout.access.service_radii`): urban, the profile's radius of the
  level; rural,
  the travel-time norm converted to a straight-line distance: primary by walking the
  lower-primary time limit (grades 1-3 walk and do not board), junior by school bus over the
  junior time limit (junior pupils may board or ride). Distances are straight lines from the
  parcel or development boundary, not road distances.
* Seats are those of ``open`` schools today (:func:`layout.access.school_seats`): a
  school's capacity is for the whole school, and a nine-year school's is split between
  primary and junior in proportion to its current classes of each (6:3 when it has none).
  Planned schools add no seats until they open. Teaching points count as primary seats in
  the parcel and township checks but are not matched to developments (they teach only
  lower grades).
* Each development and each parcel is checked on its own: two developments may both count
  the same spare seats. Assigning children to schools with capacity limits is the job of the
  allocation step.
* A development's children are its new children at full occupancy: the peak, over the years
  until every phase is fully occupied, of :func:`layout.demand.development_children`. Phases
  delivered in or before the population's base year add nothing (they are in the population
  counts and already enrolled). Phases delivered between the base year and the school data's
  year may be partly enrolled already, so their children may be counted against spare seats
  they already use.

Examples
--------
One urban primary parcel of 24 classes (1,080 seats) on 100 m x 190 m, one demand cell of
1,500 primary children around it, and a school 5 km away:

>>> import geopandas as gpd
>>> from shapely.geometry import Point, box
>>> from layout.schema import classes_columns, enrolment_columns
>>> from layout.standards import load_profile
>>> crs = "EPSG:4550"
>>> towns = pd.DataFrame({"township_code": ["t"], "setting": ["urban"]})
>>> parcels = gpd.GeoDataFrame(
...     {"parcel_id": ["P1"], "county_code": ["c"], "township_code": ["t"],
...      "planned_level": ["primary"], "planned_classes": [24], "delivery_year": [2027],
...      "status": ["reserved"]}, geometry=[box(0, 0, 100, 190)], crs=crs)
>>> schools = gpd.GeoDataFrame(
...     {"school_id": ["S"], "level": ["primary"], "status": ["open"], "capacity": [400],
...      "land_area_m2": [0.0], "township_code": ["t"],
...      **{c: [0] for c in enrolment_columns() + classes_columns()}},
...     geometry=[Point(5000, 0)], crs=crs)
>>> demand = gpd.GeoDataFrame(
...     {"cell_id": "a", "scenario": "medium", "year": 2027, "level": ["primary", "junior"],
...      "children": [1500.0, 0.0]}, geometry=[box(-400, -400, 500, 600)] * 2, crs=crs)
>>> table = check_parcels(parcels, schools=schools, demand=demand, townships=towns,
...                       profile=load_profile(), years=[2027], options=LandOptions(lang="en"))
>>> table[["land_ok", "overlap_ok", "demand_ok", "passed"]].to_numpy().tolist()
[[False, True, True, False]]
>>> print(table.loc[0, "land_reason"])
area 19,000 m² is below the 22,248 m² needed (1,080 students × 20.6 m² each)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse
import shapely

from .. import _validate
from ..access import parcel_seats, school_seats, service_radii
from ..errors import ValidationError
from ..labels import Lang, code_name, separator
from ..schema import CHILD_LEVELS
from ..standards import Profile
from . import _words as text
from ._common import (
    _CIRCLE_QUAD_SEGS,
    _CIRCLE_SIDES,
    _EPS,
    LandOptions,
    _checked_parcels,
    _checked_schools,
    _land_required,
    _one_scenario,
    _plan_years,
    _settings,
)

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- parcels


def check_parcels(
    parcels: gpd.GeoDataFrame,
    *,
    schools: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    townships: pd.DataFrame,
    profile: Profile,
    years: range | Sequence[int],
    options: LandOptions | None = None,
) -> gpd.GeoDataFrame:
    """Check every reserved parcel: land size, overlaps and the demand it serves.

    See the module notes for the rules and their assumptions.

    Parameters
    ----------
    parcels
        The reserved_land layer (polygons in a projected CRS). Not modified.
    schools
        The schools layer, in the parcels' CRS.
    demand
        One scenario of the demand layer (:func:`layout.demand.project_demand`), e.g.
        ``demand[demand["scenario"] == "medium"]``, covering every plan year, in the parcels'
        CRS.
    townships
        The townships layer (``township_code``, ``setting``): a parcel's setting is its
        township's.
    profile
        Standards profile: class caps, land norms, service radii.
    years
        Plan years.
    options
        Thresholds and language; defaults of :class:`LandOptions`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per parcel, aligned to ``parcels``' index: the parcel's columns, ``setting``,
        ``area_m2``, ``required_m2``, ``primary_seats``, ``junior_seats``,
        ``land_ok``/``land_reason``, ``overlap_parcels``, ``overlap_schools``,
        ``overlap_area_m2``, ``overlap_ok``/``overlap_reason``; per level ``<level>_radius_m``,
        ``<level>_year`` (the peak year), ``<level>_children`` (within the radius in that
        year), ``<level>_capacity`` (seats of open schools within the radius) and
        ``<level>_distance_m``, NaN for a level the parcel does not plan;
        ``demand_ok``/``demand_reason``; and ``passed``.

    Raises
    ------
    ValidationError
        Naming the parcel ids with invalid, empty or self-intersecting geometry or bad values,
        unknown townships, mismatched CRS, or a demand table with several scenarios or missing
        years.

    Examples
    --------
    See ``tests/test_land.py``; :func:`land_check` runs it on a study.
    """
    opts = options or LandOptions()
    parcels = _checked_parcels(parcels)
    schools = _checked_schools(schools, crs=parcels.crs)
    plan_years = _plan_years(years)
    settings = _settings(parcels, townships, layer="reserved_land")
    cells, children = _children_grid(demand, plan_years, crs=parcels.crs)
    seats = parcel_seats(parcels, profile=profile)
    table = pd.DataFrame(parcels.drop(columns=parcels.geometry.name)).assign(setting=settings)
    table["area_m2"] = parcels.geometry.area.to_numpy()
    table["required_m2"] = _land_required(parcels, seats, settings, profile)
    for level in CHILD_LEVELS:
        table[f"{level}_seats"] = seats[level]
    demand_rule = _demand_rule(
        parcels,
        seats=seats,
        settings=settings,
        schools=schools,
        grid=_Grid(cells, children, plan_years),
        options=opts,
        fill=opts.fill(profile),
        radii=service_radii(profile, overrides=opts.radii),
    )
    table = pd.concat(
        [table, _land_rule(table, opts.lang), _overlap_rule(parcels, schools, opts), demand_rule],
        axis=1,
    )
    table["passed"] = table["land_ok"] & table["overlap_ok"] & table["demand_ok"]
    log.info("reserved parcels: %d of %d pass", int(table["passed"].sum()), len(table))
    return gpd.GeoDataFrame(table, geometry=parcels.geometry, crs=parcels.crs)


def _land_rule(table: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Check each parcel's area against the land its planned school needs."""
    area, required = table["area_m2"].to_numpy(), table["required_m2"].to_numpy()
    students = table[[f"{level}_seats" for level in CHILD_LEVELS]].to_numpy().sum(axis=1)
    ok = (students > 0) & (area >= required)
    reasons = [
        text.reason(
            "land",
            lang,
            area=a,
            cmp=text.comparison(bool(o), lang),
            required=r,
            students=s,
            rate=r / s,
        )
        if s > 0
        else text.reason("no_classes", lang)
        for a, r, s, o in zip(area, required, students, ok, strict=True)
    ]
    return pd.DataFrame({"land_ok": ok, "land_reason": reasons}, index=table.index)


def _school_land(schools: gpd.GeoDataFrame) -> np.ndarray:
    """Each school's land: a regular 64-gon of area ``land_area_m2`` around it, or its point.

    A regular n-gon of circumradius r has area n/2 r² sin(2π/n); r is chosen so that this
    equals ``land_area_m2``.
    """
    area = _validate.numeric_values(schools, "land_area_m2")
    radius = np.sqrt(area / (_CIRCLE_SIDES / 2 * np.sin(2 * np.pi / _CIRCLE_SIDES)))
    points = schools.geometry.to_numpy()
    circles = shapely.buffer(points, radius, quad_segs=_CIRCLE_QUAD_SEGS)
    land: np.ndarray = np.where(area > 0, circles, points)
    return land


def _overlap_rule(
    parcels: gpd.GeoDataFrame, schools: gpd.GeoDataFrame, options: LandOptions
) -> pd.DataFrame:
    """Overlaps of each parcel with the other parcels and with existing school land."""
    geoms = parcels.geometry.to_numpy()
    with_parcels = _overlaps(geoms, geoms, parcels["parcel_id"], options.overlap_tolerance_m2)
    with_parcels = with_parcels[with_parcels["row"] != with_parcels["other"]]
    existing = schools[schools["status"] != "planned"]
    land = _school_land(existing)
    with_schools = _overlaps(geoms, land, existing["school_id"], options.overlap_tolerance_m2)
    built = (parcels["status"] == "built").to_numpy()
    counted = pd.concat([with_parcels, with_schools[~built[with_schools["row"].to_numpy()]]])
    n, lang = len(parcels), options.lang
    parcel_text = _by_row(with_parcels, "overlap_parcel", lang, n)
    school_text = _by_row(with_schools, "overlap_school", lang, n)
    held_text = _by_row(with_schools, "holds_school", lang, n)
    reasons = [
        separator(lang).join(t for t in (p, h if b else s) if t) or text.reason("no_overlap", lang)
        for p, s, h, b in zip(parcel_text, school_text, held_text, built, strict=True)
    ]
    return pd.DataFrame(
        {
            "overlap_parcels": _by_row(with_parcels, None, lang, n),
            "overlap_schools": _by_row(with_schools, None, lang, n),
            "overlap_area_m2": np.bincount(
                counted["row"].to_numpy(dtype=int),
                weights=counted["area"].to_numpy(dtype=float),
                minlength=n,
            ),
            "overlap_ok": np.bincount(counted["row"].to_numpy(dtype=int), minlength=n) == 0,
            "overlap_reason": reasons,
        },
        index=parcels.index,
    )


def _overlaps(
    geoms: np.ndarray, others: np.ndarray, other_ids: pd.Series, tolerance: float
) -> pd.DataFrame:
    """Pairs (row of ``geoms``, other, id, area) overlapping by more than ``tolerance`` m².

    A point among ``others`` (a school with no land area) overlaps where it lies in the
    geometry, with area 0.
    """
    rows, found = shapely.STRtree(others).query(geoms, predicate="intersects")
    area = shapely.area(shapely.intersection(geoms[rows], others[found]))
    point = shapely.get_type_id(others[found]) == shapely.GeometryType.POINT
    keep = (area > tolerance) | point
    ids = other_ids.astype(str).to_numpy()[found]
    pairs = pd.DataFrame({"row": rows, "other": found, "id": ids, "area": area})
    kept: pd.DataFrame = pairs[keep].reset_index(drop=True)
    return kept


def _by_row(pairs: pd.DataFrame, key: str | None, lang: Lang, n: int) -> list[str]:
    """Join each row's pairs: their ids with commas (``key=None``) or reasons ``key``."""
    if key is None:
        items, sep = pairs["id"].tolist(), ", "
    else:
        items = [
            text.reason(key, lang, id=i, area=a)
            for i, a in zip(pairs["id"], pairs["area"], strict=True)
        ]
        sep = separator(lang)
    joined = pd.Series(items, index=pairs["row"].to_numpy(), dtype=object)
    texts = joined.groupby(level=0).agg(sep.join).reindex(range(n), fill_value="")
    return cast(list[str], texts.tolist())


@dataclass(frozen=True)
class _Grid:
    """Demand cells and their children by level, as arrays (cells, years)."""

    cells: np.ndarray
    children: dict[str, np.ndarray]
    years: np.ndarray


def _children_grid(
    demand: pd.DataFrame, years: np.ndarray, *, crs: object
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Cells of the demand layer and their children by level as arrays (cells, years)."""
    if not isinstance(demand, gpd.GeoDataFrame):
        raise ValidationError(
            f"demand: expected the GeoDataFrame of layout.demand.project_demand, got "
            f"{type(demand).__name__}"
        )
    _one_scenario(demand, years, ["cell_id", "scenario", "year", "level", "children"])
    if demand.crs != crs:
        raise ValidationError(
            f"demand: CRS {demand.crs} differs from the reserved land's {crs}; reproject it, "
            "e.g. demand.to_crs(parcels.crs)"
        )
    year = demand["year"].to_numpy()
    levels = demand["level"].to_numpy()
    rows = np.isin(year, years) & np.isin(levels, CHILD_LEVELS)
    cell, cell_ids = pd.factorize(demand["cell_id"].to_numpy()[rows])
    cells = demand.geometry.to_numpy()[rows][np.unique(cell, return_index=True)[1]]
    flat = cell * len(years) + np.searchsorted(years, year[rows])
    values = demand["children"].to_numpy(dtype=float)[rows]
    size = len(cell_ids) * len(years)
    grid = {
        level: np.bincount(
            flat[levels[rows] == level], weights=values[levels[rows] == level], minlength=size
        ).reshape(len(cell_ids), len(years))
        for level in CHILD_LEVELS
    }
    return cells, grid


def _demand_rule(
    parcels: gpd.GeoDataFrame,
    *,
    seats: pd.DataFrame,
    settings: np.ndarray,
    schools: gpd.GeoDataFrame,
    grid: _Grid,
    options: LandOptions,
    fill: float,
    radii: Mapping[tuple[str, str], float],
) -> pd.DataFrame:
    """Check the unmet demand within each parcel's service radius against its seats."""
    delivery = _validate.numeric_values(parcels, "delivery_year")
    capacity = school_seats(schools)
    columns: dict[str, np.ndarray] = {}
    oks, reasons = [], []
    for level in CHILD_LEVELS:
        radius = np.where(settings == "urban", radii[("urban", level)], radii[("rural", level)])
        found = _served_demand(
            parcels.geometry.to_numpy(),
            radius=radius,
            delivery=delivery,
            grid=grid,
            level=level,
            seats=(schools.geometry.to_numpy(), capacity[f"capacity_{level}"].to_numpy()),
        )
        planned = seats[level].to_numpy()
        ok = (planned == 0) | (found["children"] - found["capacity"] >= fill * planned - _EPS)
        found["radius_m"] = radius
        columns |= {f"{level}_{k}": np.where(planned > 0, found[k], np.nan) for k in _FOUND}
        oks.append(ok)
        reasons.append(
            _demand_reasons(
                found,
                planned=planned,
                delivery=delivery,
                grid=grid,
                level=level,
                options=options,
                fill=fill,
            )
        )
    has_seats = seats.to_numpy().sum(axis=1) > 0
    columns["demand_ok"] = np.logical_and.reduce(oks) & has_seats
    sep = separator(options.lang)
    columns["demand_reason"] = np.array(
        [
            sep.join(t for t in parts if t) or text.reason("no_classes", options.lang)
            for parts in zip(*reasons, strict=True)
        ],
        dtype=object,
    )
    return pd.DataFrame(columns, index=parcels.index)


_FOUND = ("radius_m", "year", "children", "capacity", "distance_m")
"""Per-level figures of the demand rule, as ``<level>_<figure>`` columns."""


def _served_demand(
    geoms: np.ndarray,
    *,
    radius: np.ndarray,
    delivery: np.ndarray,
    grid: _Grid,
    level: str,
    seats: tuple[np.ndarray, np.ndarray],
) -> dict[str, np.ndarray]:
    """Peak children of ``level`` within ``radius`` of each geometry from its delivery year.

    Returns ``year`` (the peak year, NaN when delivered after the plan years), ``children`` in
    it, ``capacity`` (the open seats of the level within the radius, from ``seats``: school
    points and their seats) and ``distance_m``: the distance from the geometry to the centre
    of gravity of those children (NaN when there are none).
    """
    counts = grid.children[level]
    zones = shapely.buffer(geoms, radius)
    zone, cell, pieces, share = _clipped_cells(zones, grid.cells)
    weights = scipy.sparse.csr_array((share, (zone, cell)), shape=(len(geoms), len(grid.cells)))
    within = weights @ counts
    opened = grid.years[None, :] >= delivery[:, None]
    peak = np.argmax(np.where(opened, within, -np.inf), axis=1)
    served = opened.any(axis=1)
    centre = _weighted_centre(
        shapely.centroid(pieces), share * counts[cell, peak[zone]], zone, len(geoms)
    )
    points, capacity = seats
    zone_of, school = shapely.STRtree(points).query(zones, predicate="intersects")
    return {
        "year": np.where(served, grid.years[peak], np.nan),
        "children": np.where(served, within[np.arange(len(geoms)), peak], np.nan),
        "capacity": np.bincount(zone_of, weights=capacity[school], minlength=len(geoms)),
        "distance_m": shapely.distance(geoms, centre),
    }


def _clipped_cells(
    zones: np.ndarray, cells: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (zone, cell) that intersect, the part of the cell in the zone and its area share.

    Cells wholly inside a zone are taken whole; only those on its edge are clipped.
    """
    tree = shapely.STRtree(cells)
    zone, cell = tree.query(zones, predicate="intersects")
    inside_zone, inside_cell = tree.query(zones, predicate="contains")
    edge = ~np.isin(zone * len(cells) + cell, inside_zone * len(cells) + inside_cell)
    pieces = cells[cell]
    pieces[edge] = shapely.intersection(zones[zone[edge]], cells[cell[edge]])
    share = np.ones(len(zone))
    share[edge] = shapely.area(pieces[edge]) / shapely.area(cells[cell[edge]])
    return zone, cell, pieces, share


def _weighted_centre(
    points: np.ndarray, weights: np.ndarray, group: np.ndarray, n: int
) -> np.ndarray:
    """Return the weighted centre of each group's points; None where the weights sum to 0."""
    total = np.bincount(group, weights=weights, minlength=n)
    x = np.bincount(group, weights=weights * shapely.get_x(points), minlength=n)
    y = np.bincount(group, weights=weights * shapely.get_y(points), minlength=n)
    safe = np.where(total > 0, total, 1.0)
    centres: np.ndarray = shapely.points(x / safe, y / safe)
    centres[total <= 0] = None
    return centres


def _demand_reasons(
    found: Mapping[str, np.ndarray],
    *,
    planned: np.ndarray,
    delivery: np.ndarray,
    grid: _Grid,
    level: str,
    options: LandOptions,
    fill: float,
) -> list[str]:
    """Word the demand rule of one level for each parcel ('' where it plans no such seats)."""
    lang = options.lang
    name = code_name(level, lang)
    out = []
    for i, seats in enumerate(planned):
        if seats == 0:
            out.append("")
            continue
        if np.isnan(found["year"][i]):
            end = int(grid.years[-1])
            out.append(
                text.reason("after_plan", lang, level=name, delivery=int(delivery[i]), end=end)
            )
            continue
        need = found["children"][i] - found["capacity"][i]
        threshold = fill * seats
        out.append(
            text.reason(
                "demand",
                lang,
                level=name,
                year=int(found["year"][i]),
                radius=found["radius_m"][i],
                children=found["children"][i],
                capacity=found["capacity"][i],
                need=need,
                cmp=_sign(need >= threshold - _EPS),
                threshold=threshold,
                seats=seats,
                fill=fill,
            )
        )
    return out


def _sign(ok: bool) -> str:
    return "≥" if ok else "<"
