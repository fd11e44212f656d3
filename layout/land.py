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
    must reach ``min_fill`` x the planned seats in at least one year. Children of a demand
    cell count in proportion to the share of the cell's area inside the radius (areal
    weighting). The reported distance runs from the parcel to the centre of gravity of those
    children in the peak year (0 when the parcel sits amid its demand).

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
* Service radius (:func:`layout.seats.service_radii`): urban, the profile's radius of the
  level; rural,
  the travel-time norm converted to a straight-line distance: primary by walking the
  lower-primary time limit (grades 1-3 walk and do not board), junior by school bus over the
  junior time limit (junior pupils may board or ride). Distances are straight lines from the
  parcel or development boundary, not road distances.
* Seats are those of ``open`` schools today (:func:`layout.seats.school_seats`): a
  school's capacity is for the whole school, and a nine-year school's is split between
  primary and junior in proportion to its current classes of each (6:3 when it has none).
  Planned schools add no seats until they open. Teaching points count as primary seats in
  the parcel and township checks but are not matched to developments (they teach only
  lower grades).
* Each development and each parcel is checked on its own: two developments may both count
  the same spare seats. Assigning children to schools with capacity limits is the job of the
  allocation step.
* A development's children are its new children at full occupancy: the peak, over the years
  until every phase is fully occupied, of :func:`layout.yields.development_children`. Phases
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
area 19,000 m² is below the 19,440 m² needed (1,080 students × 18.0 m² each)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from tqdm.auto import tqdm

from . import _land_text as text
from . import _validate
from ._land_text import Lang
from .cohorts import CHILD_LEVELS
from .demand import demand_totals, project_demand
from .errors import ValidationError
from .labels import code_name
from .maps.land import land_map
from .maps.offline import save_html
from .report import write_pack
from .scenarios import scenario_named
from .schema import LAYERS, classes_columns, enrolment_columns
from .seats import level_shares, parcel_seats, school_seats, service_radii
from .standards import Profile
from .study import Study
from .yields import YieldModel, development_children

log = logging.getLogger(__name__)

__all__ = [
    "LandCheck",
    "LandOptions",
    "check_developments",
    "check_parcels",
    "land_check",
    "township_reserve",
]

_CIRCLE_QUAD_SEGS = 16
"""Segments per quarter circle of a school's land: a regular 64-gon."""

_CIRCLE_SIDES = 4 * _CIRCLE_QUAD_SEGS

_EPS = 1e-9
"""Slack of seat comparisons, so that 90.00000000001 children fit 90 seats."""

_NORMS: dict[tuple[str, str], tuple[tuple[str, tuple[str, ...]], ...]] = {
    ("urban", "primary"): (("urban_primary", ("primary",)),),
    ("urban", "junior"): (("urban_junior", ("junior",)),),
    ("urban", "nine_year"): (("urban_nine_year", ("primary", "junior")),),
    ("rural", "primary"): (("rural_primary", ("primary",)),),
    ("rural", "junior"): (("rural_junior", ("junior",)),),
    ("rural", "nine_year"): (("rural_primary", ("primary",)), ("rural_junior", ("junior",))),
}
"""Land norms of each (setting, planned level): a profile school type and the level parts
whose classes and students it is applied to."""

# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class LandOptions:
    """Thresholds and language of the land checks.

    Parameters
    ----------
    min_fill
        Share of a parcel's planned seats that the unmet demand within its service radius must
        reach in some plan year (1.0: the seats would all be needed). No policy fixes it.
    overlap_tolerance_m2
        Overlaps of this area or less (m²) are ignored, e.g. slivers of digitising.
    radii
        Service radius in metres by ``(setting, level)`` replacing the profile's (see
        :func:`layout.seats.service_radii`), e.g. ``{("rural", "junior"): 10_000.0}``.
    lang
        Language of reason texts: ``"zh"`` or ``"en"``.

    Examples
    --------
    >>> LandOptions(min_fill=0.8).min_fill
    0.8
    """

    min_fill: float = 1.0
    overlap_tolerance_m2: float = 1.0
    radii: Mapping[tuple[str, str], float] = field(default_factory=dict)
    lang: Lang = "zh"

    def __post_init__(self) -> None:
        problems = [
            f"LandOptions: {name} must be a number, 0 or more, got {value!r}"
            for name, value in (
                ("min_fill", self.min_fill),
                ("overlap_tolerance_m2", self.overlap_tolerance_m2),
            )
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0
        ]
        if self.lang not in ("zh", "en"):
            problems.append(f"LandOptions: lang must be 'zh' or 'en', got {self.lang!r}")
        if problems:
            raise ValidationError(problems)


# --------------------------------------------------------------------------- input checks


def _geometry_problems(frame: pd.DataFrame, layer: str, *, crs: object = None) -> list[str]:
    """Geometry, CRS and projection problems of a layer, as the study loader words them."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return [f"{layer}: expected a GeoDataFrame with geometries, got {type(frame).__name__}"]
    check = _validate.LayerCheck(frame, LAYERS[layer], layer)
    check.crs(frame.crs)
    check.geometry()
    if frame.crs is not None and not frame.crs.is_projected:
        check.problems.append(
            f"{layer}: CRS {frame.crs.name} is geographic; areas and distances need a projected "
            "CRS. Fix: reproject, e.g. frame.to_crs('EPSG:4550') (the study's crs)"
        )
    elif crs is not None and frame.crs is not None and frame.crs != crs:
        check.problems.append(
            f"{layer}: CRS {frame.crs.name} differs from the reserved land's {crs}. Fix: "
            f"reproject, e.g. frame.to_crs(parcels.crs)"
        )
    return check.problems


def _checked(
    frame: pd.DataFrame, layer: str, columns: Sequence[str], *, crs: object = None
) -> _validate.LayerCheck:
    """Check the columns an analysis uses and the geometries; return the check, not raised."""
    check = _validate.check_columns(frame, layer, columns)
    check.problems += _geometry_problems(frame, layer, crs=crs)
    return check


def _checked_parcels(parcels: pd.DataFrame) -> gpd.GeoDataFrame:
    """Check the reserved_land layer as the study loader does; raise every problem at once."""
    columns = ("county_code", "township_code", "planned_level", "planned_classes")
    _checked(parcels, "reserved_land", [*columns, "delivery_year", "status"]).raise_if_any()
    assert isinstance(parcels, gpd.GeoDataFrame)
    return parcels


def _checked_schools(schools: pd.DataFrame, *, crs: object) -> gpd.GeoDataFrame:
    """Check the schools columns the land checks use."""
    columns = ["level", "status", "capacity", "land_area_m2", "township_code"]
    check = _checked(
        schools, "schools", [*columns, *enrolment_columns(), *classes_columns()], crs=crs
    )
    check.raise_if_any()
    assert isinstance(schools, gpd.GeoDataFrame)
    return schools


def _checked_developments(
    developments: pd.DataFrame, *, parcel_ids: pd.Series, crs: object
) -> gpd.GeoDataFrame:
    """Check the developments layer: delivery years present, linked parcels known."""
    columns = ["development_id", "name", "county_code", "township_code", "households", "status"]
    check = _checked(developments, "developments", columns, crs=crs)
    if "delivery_year" not in developments.columns:
        check.problems += _validate.missing_columns(
            developments, ["delivery_year"], layer="developments"
        )
    else:
        year = _validate.numeric_values(developments, "delivery_year")
        unknown = np.isnan(year)
        devs = ", ".join(sorted(developments["development_id"][unknown].astype(str).unique()))
        check.add(
            "delivery_year",
            unknown,
            f"no delivery year, so 三同步 cannot be checked for development_id {devs}",
            "enter the year each phase is handed over to residents",
        )
        check.add("delivery_year", year % 1 > 0, "non-integer year", "enter a whole year")
    links = _phase_links(developments)
    unknown_link = links.notna() & ~links.isin(parcel_ids.astype(str))
    check.add(
        "school_parcel_id",
        unknown_link,
        f"school parcel {', '.join(sorted(links[unknown_link].unique()))} not in reserved_land",
        "use a parcel_id of the reserved_land layer, or leave it empty",
    )
    check.raise_if_any()
    assert isinstance(developments, gpd.GeoDataFrame)
    return developments


def _phase_links(developments: pd.DataFrame) -> pd.Series:
    """Each phase's linked parcel id as text, NaN where the column is missing or empty."""
    if "school_parcel_id" not in developments.columns:
        return pd.Series(np.nan, index=developments.index, dtype=object)
    ids = developments["school_parcel_id"].astype("string").str.strip()
    blank = (ids.isna() | (ids == "").fillna(True)).to_numpy(dtype=bool)
    return ids.astype(object).mask(blank, np.nan)


def _settings(frame: pd.DataFrame, townships: pd.DataFrame, *, layer: str) -> np.ndarray:
    """Return each row's setting (urban/rural) from its township; name unknown townships."""
    check = _validate.check_columns(townships, "townships", ["setting"])
    check.raise_if_any()
    lookup = pd.Series(
        townships["setting"].to_numpy(), index=townships["township_code"].astype(str)
    )
    codes = frame["township_code"].astype(str)
    rows = _validate.LayerCheck(frame, LAYERS[layer], layer)
    rows.add(
        "township_code",
        ~codes.isin(lookup.index),
        "township not in the townships layer",
        "correct the code, or add the township to the townships layer",
    )
    rows.raise_if_any()
    return codes.map(lookup).to_numpy()


def _plan_years(years: range | Sequence[int]) -> np.ndarray:
    """Return the plan years as a sorted array of distinct whole years."""
    values = np.unique(np.asarray(list(years)))
    if values.size == 0 or not np.issubdtype(values.dtype, np.integer):
        raise ValidationError(
            f"years must be a non-empty list of whole years, e.g. range(2025, 2036), got {years!r}"
        )
    return values


# --------------------------------------------------------------------------- land


def _land_required(
    parcels: pd.DataFrame, seats: pd.DataFrame, settings: np.ndarray, profile: Profile
) -> np.ndarray:
    """Land in m² each parcel's planned school needs under the profile's norms."""
    classes = _validate.numeric_values(parcels, "planned_classes")
    shares = level_shares(parcels["planned_level"])
    planned = parcels["planned_level"].to_numpy()
    required = np.zeros(len(parcels))
    for (setting, level), entries in _NORMS.items():
        rows = (settings == setting) & (planned == level)
        for norm_name, parts in entries:
            norm = getattr(profile.school_size, norm_name)
            part_classes = sum(classes[rows] * shares[p][rows] for p in parts)
            students = sum(seats[p].to_numpy()[rows] for p in parts)
            rate = np.interp(part_classes, norm.classes, norm.land_m2_per_student)
            required[rows] += rate * students
    return required


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
        text.separator(lang).join(t for t in (p, h if b else s) if t)
        or text.reason("no_overlap", lang)
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
        sep = text.separator(lang)
    joined = pd.Series(items, index=pairs["row"].to_numpy(), dtype=object)
    return joined.groupby(level=0).agg(sep.join).reindex(range(n), fill_value="").tolist()


@dataclass(frozen=True)
class _Grid:
    """Demand cells and their children by level, as arrays (cells, years)."""

    cells: np.ndarray
    children: dict[str, np.ndarray]
    years: np.ndarray


def _one_scenario(demand: pd.DataFrame, years: np.ndarray, columns: Sequence[str]) -> None:
    """Check a demand table: its columns, a single scenario and every plan year."""
    problems = _validate.missing_columns(demand, columns, layer="demand")
    if problems:
        raise ValidationError(problems)
    scenarios = pd.unique(demand["scenario"].astype(str))
    if len(scenarios) != 1:
        problems.append(
            f"demand: holds scenario(s) {', '.join(scenarios) or 'none'}; pass exactly one, "
            "e.g. demand[demand['scenario'] == 'medium']"
        )
    missing = sorted(set(years.tolist()) - set(demand["year"].tolist()))
    if missing:
        problems.append(
            f"demand: no rows for plan year(s) {', '.join(map(str, missing))}; project demand "
            "over every plan year"
        )
    if problems:
        raise ValidationError(problems)


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
        ok = (planned == 0) | (
            found["children"] - found["capacity"] >= options.min_fill * planned - _EPS
        )
        found["radius_m"] = radius
        columns |= {f"{level}_{k}": np.where(planned > 0, found[k], np.nan) for k in _FOUND}
        oks.append(ok)
        reasons.append(
            _demand_reasons(
                found, planned=planned, delivery=delivery, grid=grid, level=level, options=options
            )
        )
    has_seats = seats.to_numpy().sum(axis=1) > 0
    columns["demand_ok"] = np.logical_and.reduce(oks) & has_seats
    sep = text.separator(options.lang)
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
        threshold = options.min_fill * seats
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
                fill=options.min_fill,
            )
        )
    return out


def _sign(ok: bool) -> str:
    return "≥" if ok else "<"


# --------------------------------------------------------------------------- developments


def check_developments(
    developments: gpd.GeoDataFrame,
    *,
    schools: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    townships: pd.DataFrame,
    profile: Profile,
    base_year: int,
    yield_model: YieldModel | None = None,
    options: LandOptions | None = None,
) -> gpd.GeoDataFrame:
    """Check every residential development: a place for its children, and 三同步.

    Phases are grouped by ``development_id``; see the module notes for the rules.

    Parameters
    ----------
    developments
        The developments layer (one row per phase). Not modified.
    schools
        The schools layer, in the parcels' CRS.
    parcels
        The reserved_land layer (polygons in a projected CRS).
    townships
        The townships layer: a development's setting is the township's of its first phase row.
    profile
        Standards profile: service radii.
    base_year
        Base year of the population counts; phases delivered in or before it bring no new
        children (see :func:`layout.yields.development_children`).
    yield_model
        Children per household; ``None`` uses the default rates of
        :class:`~layout.yields.YieldRates`.
    options
        Radii overrides and language; defaults of :class:`LandOptions`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per development, in order of first appearance, with the union of its phases
        as geometry: ``development_id``, ``name``, ``county_code``, ``township_code``,
        ``setting``, ``phases``, ``households``, ``first_delivery_year``,
        ``school_parcel_id`` (linked parcels, comma-separated); per level
        ``<level>_children``, ``<level>_radius_m``, ``<level>_match`` (the school or parcel
        id), ``<level>_match_kind`` (``school``/``parcel``), ``<level>_distance_m``,
        ``<level>_ok``/``<level>_reason``; ``sync_ok``/``sync_reason``; and ``passed``.

    Raises
    ------
    ValidationError
        Naming the phases (and developments) with no delivery year, an unknown
        ``school_parcel_id``, bad values or geometries, or an unknown township.

    Examples
    --------
    See ``tests/test_land.py``; :func:`land_check` runs it on a study.
    """
    opts = options or LandOptions()
    parcels = _checked_parcels(parcels)
    phases = _checked_developments(developments, parcel_ids=parcels["parcel_id"], crs=parcels.crs)
    schools = _checked_schools(schools, crs=parcels.crs)
    table = _development_table(phases, _settings(phases, townships, layer="developments"))
    children = _new_children(phases, table.index, base_year=base_year, yield_model=yield_model)
    radii = service_radii(profile, overrides=opts.radii)
    links = _links(phases)
    spare = school_seats(schools)
    places = [
        _place_rule(
            table,
            children[level].to_numpy(),
            level=level,
            schools=schools.assign(spare=spare[f"spare_{level}"]),
            parcels=parcels,
            links=links,
            radius=table["setting"].map(lambda s, lv=level: radii[(s, lv)]).to_numpy(float),
            lang=opts.lang,
        )
        for level in CHILD_LEVELS
    ]
    table = pd.concat([table, *places], axis=1)
    table = pd.concat([table, _sync_rule(table, links, parcels, opts.lang)], axis=1)
    table["passed"] = table[[f"{lv}_ok" for lv in CHILD_LEVELS]].all(axis=1) & table["sync_ok"]
    log.info("developments: %d of %d pass", int(table["passed"].sum()), len(table))
    table = table.reset_index()
    return gpd.GeoDataFrame(table, geometry="geometry", crs=parcels.crs).pipe(
        lambda frame: frame[[*frame.columns.drop("geometry"), "geometry"]]
    )


def _links(phases: pd.DataFrame) -> pd.DataFrame:
    """Distinct (development_id, parcel_id) pairs linked by the phases' school_parcel_id."""
    links = pd.DataFrame(
        {"development_id": phases["development_id"].astype(str), "parcel_id": _phase_links(phases)}
    )
    return links.dropna().drop_duplicates().reset_index(drop=True)


def _development_table(phases: gpd.GeoDataFrame, settings: np.ndarray) -> gpd.GeoDataFrame:
    """One row per development: first-row attributes, sums, earliest delivery, union shape."""
    frame = pd.DataFrame(
        {
            "development_id": phases["development_id"].astype(str).to_numpy(),
            "name": phases["name"].to_numpy(),
            "county_code": phases["county_code"].to_numpy(),
            "township_code": phases["township_code"].to_numpy(),
            "setting": settings,
            "phases": 1,
            "households": _validate.numeric_values(phases, "households"),
            "first_delivery_year": _validate.numeric_values(phases, "delivery_year").astype(int),
        }
    )
    first = {c: "first" for c in ("name", "county_code", "township_code", "setting")}
    table = gpd.GeoDataFrame(frame, geometry=phases.geometry.to_numpy(), crs=phases.crs).dissolve(
        by="development_id",
        aggfunc={**first, "phases": "sum", "households": "sum", "first_delivery_year": "min"},
        sort=False,
    )
    links = _links(phases).groupby("development_id")["parcel_id"].agg(", ".join)
    table["school_parcel_id"] = links.reindex(table.index, fill_value="")
    return table


def _new_children(
    phases: pd.DataFrame, index: pd.Index, *, base_year: int, yield_model: YieldModel | None
) -> pd.DataFrame:
    """Children of each level each development brings at full occupancy of every phase."""
    model = yield_model or YieldModel()
    delivery = _validate.numeric_values(phases, "delivery_year")
    full = int(delivery.max(initial=base_year)) + len(model.defaults.occupancy_ramp) - 1
    years = range(base_year, max(base_year + 1, full) + 1)
    table = development_children(phases, years=years, base_year=base_year, yield_model=model)
    development = table["phase_id"].map(
        pd.Series(phases["development_id"].astype(str).to_numpy(), index=phases["phase_id"])
    )
    by_year = table.groupby([development.rename("development_id"), "year", "level"])["children"]
    peak = by_year.sum().groupby(level=["development_id", "level"]).max().unstack("level")
    return peak.reindex(index=index, columns=list(CHILD_LEVELS)).fillna(0.0)


def _nearest(group: np.ndarray, n: int, *keys: np.ndarray) -> np.ndarray:
    """Position of each group's first pair ordered by ``keys``; -1 for a group with none."""
    order = np.lexsort((*keys[::-1], group))
    groups, first = np.unique(group[order], return_index=True)
    best = np.full(n, -1)
    best[groups] = order[first]
    return best


def _place_rule(
    table: gpd.GeoDataFrame,
    need: np.ndarray,
    *,
    level: str,
    schools: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    links: pd.DataFrame,
    radius: np.ndarray,
    lang: Lang,
) -> pd.DataFrame:
    """Find a school with room, or a parcel, within each development's radius for a level.

    ``schools`` carries each school's ``spare`` seats of the level.
    """
    geoms, n = table.geometry.to_numpy(), len(table)
    spare = schools["spare"].to_numpy(dtype=float)
    eligible = (
        (schools["status"] == "open") & schools["level"].isin([level, "nine_year"])
    ).to_numpy()
    school = _within(geoms, schools.geometry.to_numpy()[eligible], radius)
    school["spare"] = spare[eligible][school["other"]]
    school["fits"] = school["spare"].to_numpy() >= need[school["row"]] - _EPS
    school["id"] = schools["school_id"].astype(str).to_numpy()[eligible][school["other"]]
    fit = _nearest(
        school["row"].to_numpy(), n, ~school["fits"].to_numpy(), school["distance"].to_numpy()
    )
    closest = _nearest(school["row"].to_numpy(), n, school["distance"].to_numpy())
    reserve = parcels["planned_level"].isin([level, "nine_year"]).to_numpy()
    parcel = _within(geoms, parcels.geometry.to_numpy()[reserve], radius)
    parcel["id"] = parcels["parcel_id"].astype(str).to_numpy()[reserve][parcel["other"]]
    pairs = pd.MultiIndex.from_arrays([table.index.to_numpy()[parcel["row"]], parcel["id"]])
    linked = pairs.isin(pd.MultiIndex.from_frame(links))
    plot = _nearest(parcel["row"].to_numpy(), n, ~linked, parcel["distance"].to_numpy())
    columns = _place_columns(
        need,
        level=level,
        radius=radius,
        school=(school, fit, closest),
        parcel=(parcel, plot),
        lang=lang,
    )
    return columns.set_axis(table.index)


def _within(geoms: np.ndarray, others: np.ndarray, radius: np.ndarray) -> pd.DataFrame:
    """Pairs (row, other, distance) of ``others`` within ``radius`` of each geometry."""
    rows, found = shapely.STRtree(others).query(geoms, predicate="dwithin", distance=radius)
    distance = shapely.distance(geoms[rows], others[found])
    return pd.DataFrame({"row": rows, "other": found, "distance": distance})


def _place_columns(
    need: np.ndarray,
    *,
    level: str,
    radius: np.ndarray,
    school: tuple[pd.DataFrame, np.ndarray, np.ndarray],
    parcel: tuple[pd.DataFrame, np.ndarray],
    lang: Lang,
) -> pd.DataFrame:
    """Columns of the place rule from the best school and parcel pairs of each development."""
    schools, fit, closest = school
    parcels, plot = parcel
    name = code_name(level, lang)
    rows = []
    for i, (children, r) in enumerate(zip(need, radius, strict=True)):
        row = {"match": "", "match_kind": "", "distance_m": np.nan, "ok": True}
        common = {"level": name, "children": children, "radius": r}
        if children <= _EPS:
            row["reason"] = text.reason("no_children", lang, level=name)
        elif fit[i] >= 0 and schools["fits"].iat[fit[i]]:
            best = schools.iloc[fit[i]]
            row |= {"match": best["id"], "match_kind": "school", "distance_m": best["distance"]}
            row["reason"] = text.reason(
                "by_school",
                lang,
                id=best["id"],
                distance=best["distance"],
                spare=best["spare"],
                **common,
            )
        elif plot[i] >= 0:
            best = parcels.iloc[plot[i]]
            row |= {"match": best["id"], "match_kind": "parcel", "distance_m": best["distance"]}
            row["reason"] = text.reason(
                "by_parcel", lang, id=best["id"], distance=best["distance"], **common
            )
        else:
            near = schools.iloc[closest[i]] if closest[i] >= 0 else None
            nearest = (
                ""
                if near is None
                else text.reason(
                    "nearest", lang, id=near["id"], distance=near["distance"], spare=near["spare"]
                )
            )
            row |= {"ok": False, "reason": text.reason("unserved", lang, nearest=nearest, **common)}
        rows.append(row)
    out = pd.DataFrame(rows, columns=["match", "match_kind", "distance_m", "ok", "reason"])
    out.insert(0, "radius_m", radius)
    out.insert(0, "children", need)
    return out.add_prefix(f"{level}_")


def _sync_rule(
    table: pd.DataFrame, links: pd.DataFrame, parcels: pd.DataFrame, lang: Lang
) -> pd.DataFrame:
    """Check 三同步: linked school parcels delivered no later than the first phase."""
    year = pd.Series(
        _validate.numeric_values(parcels, "delivery_year"), index=parcels["parcel_id"].astype(str)
    )
    linked = links.assign(parcel_year=links["parcel_id"].map(year))
    latest = linked.sort_values("parcel_year", ascending=False).drop_duplicates("development_id")
    latest = latest.set_index("development_id").reindex(table.index)
    parcel_year = latest["parcel_year"].to_numpy(dtype=float)
    first = table["first_delivery_year"].to_numpy(dtype=int)
    late = parcel_year - first
    served = np.logical_and.reduce(
        [
            (table[f"{lv}_children"] <= _EPS) | (table[f"{lv}_match_kind"] == "school")
            for lv in CHILD_LEVELS
        ]
    )
    linked_any = ~np.isnan(parcel_year)
    ok = np.where(linked_any, late <= 0, served)
    ids = np.where(ok, table["school_parcel_id"], latest["parcel_id"])
    reasons = [
        text.reason(
            ("sync_on_time" if o else "sync_late")
            if has
            else ("sync_none_served" if o else "sync_none_unserved"),
            lang,
            id=i,
            parcel_year=int(y) if has else None,
            first=f,
            late=int(d) if has else None,
        )
        for has, o, i, y, f, d in zip(linked_any, ok, ids, parcel_year, first, late, strict=True)
    ]
    return pd.DataFrame({"sync_ok": ok, "sync_reason": reasons}, index=table.index)


# --------------------------------------------------------------------------- township reserve


def township_reserve(
    townships: pd.DataFrame,
    *,
    parcels: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    demand: pd.DataFrame,
    profile: Profile,
    years: range | Sequence[int],
    statistic: Literal["max", "last"] = "max",
    options: LandOptions | None = None,
) -> pd.DataFrame:
    """Compare each township's reserved seats with its projected shortfall, per level.

    The shortfall is the projected children of the level (the most over the plan years, or
    in the last plan year) less the seats of the township's open schools (a nine-year
    school's split by its classes, teaching points as primary), and 0 if negative. Reserved
    seats are the planned seats of the township's parcels not yet ``built`` (a built school
    is counted as a school once it is open).

    Parameters
    ----------
    townships
        The townships layer (``township_code``, ``name``, ``county_code``, ``setting``).
    parcels
        The reserved_land layer.
    schools
        The schools layer, in the parcels' CRS.
    demand
        One scenario of the demand layer, or its totals by township
        (:func:`layout.demand.demand_totals` with ``by=("township_code",)``).
    profile
        Standards profile (class caps for the seats of parcels).
    years
        Plan years.
    statistic
        ``"max"``: the peak year of the children; ``"last"``: the last plan year.
    options
        Language of the reasons.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        One row per township and level (primary, junior), in the townships' order:
        ``township_code``, ``name``, ``county_code``, ``level``, ``year``, ``children``,
        ``capacity``, ``seat_shortfall``, ``reserved_seats``, ``parcels``, ``reserve_ok``,
        ``reserve_reason``; with the township's geometry when ``townships`` has one.

    Examples
    --------
    See ``tests/test_land.py``; :func:`land_check` runs it on a study.
    """
    opts = options or LandOptions()
    parcels = _checked_parcels(parcels)
    schools = _checked_schools(schools, crs=parcels.crs)
    _validate.check_columns(
        townships, "townships", ["name", "county_code", "setting"]
    ).raise_if_any()
    _settings(parcels, townships, layer="reserved_land")
    if statistic not in ("max", "last"):
        raise ValidationError(f"statistic must be 'max' or 'last', got {statistic!r}")
    plan_years = _plan_years(years)
    by_year = _township_children(demand, plan_years)
    codes = townships["township_code"].astype(str).to_numpy()
    index = pd.MultiIndex.from_product([codes, CHILD_LEVELS], names=["township_code", "level"])
    counts = by_year.reindex(index, fill_value=0.0).to_numpy()
    pick = (
        np.argmax(counts, axis=1)
        if statistic == "max"
        else np.full(len(index), len(plan_years) - 1)
    )
    table = pd.DataFrame(
        {
            "township_code": index.get_level_values(0),
            "name": np.repeat(townships["name"].to_numpy(), len(CHILD_LEVELS)),
            "county_code": np.repeat(townships["county_code"].to_numpy(), len(CHILD_LEVELS)),
            "level": index.get_level_values(1),
            "year": plan_years[pick],
            "children": counts[np.arange(len(index)), pick],
        }
    )
    table = pd.concat([table, _reserve_figures(index, parcels, schools, profile)], axis=1)
    table = pd.concat([table, _reserve_rule(table, opts.lang)], axis=1)
    if isinstance(townships, gpd.GeoDataFrame):
        geometry = np.repeat(townships.geometry.to_numpy(), len(CHILD_LEVELS))
        spatial: pd.DataFrame = gpd.GeoDataFrame(table, geometry=geometry, crs=townships.crs)
        return spatial
    return table


def _township_children(demand: pd.DataFrame, years: np.ndarray) -> pd.DataFrame:
    """Children by (township, level) and plan year, from the demand layer or its totals."""
    if "cell_id" in demand.columns:
        _one_scenario(demand, years, ["township_code", "scenario", "year", "level", "children"])
        demand = demand_totals(demand, by=("township_code",))
    _one_scenario(demand, years, ["township_code", "scenario", "year", "level", "children"])
    rows = demand[demand["year"].isin(years) & demand["level"].isin(CHILD_LEVELS)]
    keys = [rows["township_code"].astype(str), rows["level"].astype(str), rows["year"]]
    sums = rows["children"].groupby(keys).sum()
    return sums.unstack("year").reindex(columns=years, fill_value=0.0).fillna(0.0)


def _reserve_figures(
    index: pd.MultiIndex, parcels: pd.DataFrame, schools: pd.DataFrame, profile: Profile
) -> pd.DataFrame:
    """Open seats, reserved seats and reserving parcels of each (township, level)."""
    capacity = school_seats(schools)[[f"capacity_{lv}" for lv in CHILD_LEVELS]]
    unbuilt = parcels[parcels["status"] != "built"]
    seats = parcel_seats(unbuilt, profile=profile)
    ids = pd.DataFrame(
        {lv: unbuilt["parcel_id"].astype(str).where(seats[lv] > 0) for lv in CHILD_LEVELS}
    )

    def per_township(frame: pd.DataFrame, towns: pd.Series, how: Any, empty: object) -> np.ndarray:
        frame = frame.set_axis(list(CHILD_LEVELS), axis=1)
        grouped = frame.groupby(towns.astype(str).to_numpy()).agg(how)
        values: np.ndarray = grouped.stack().reindex(index, fill_value=empty).to_numpy()
        return values

    return pd.DataFrame(
        {
            "capacity": per_township(capacity, schools["township_code"], "sum", 0.0),
            "reserved_seats": per_township(seats, unbuilt["township_code"], "sum", 0.0),
            "parcels": per_township(
                ids, unbuilt["township_code"], lambda s: ", ".join(s.dropna()), ""
            ),
        }
    )


def _reserve_rule(table: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Reserved seats against the shortfall."""
    shortfall = np.maximum(table["children"].to_numpy() - table["capacity"].to_numpy(), 0.0)
    ok = table["reserved_seats"].to_numpy() >= shortfall - _EPS
    reasons = [
        text.reason(
            "reserve",
            lang,
            level=code_name(str(row.level), lang),
            year=row.year,
            children=row.children,
            capacity=row.capacity,
            shortfall=gap,
            seats=row.reserved_seats,
            cmp=text.comparison(bool(passed), lang),
            parcels=text.reason("reserve_parcels", lang, ids=row.parcels) if row.parcels else "",
        )
        for row, gap, passed in zip(table.itertuples(), shortfall, ok, strict=True)
    ]
    return pd.DataFrame({"seat_shortfall": shortfall, "reserve_ok": ok, "reserve_reason": reasons})


# --------------------------------------------------------------------------- study run


@dataclass
class LandCheck:
    """What a land check of a study produced.

    Attributes
    ----------
    study
        The study checked.
    parcels
        :func:`check_parcels` on its reserved land.
    developments
        :func:`check_developments` on its developments.
    township_reserve
        :func:`township_reserve` of its townships.
    links
        One line per development and level from the development to the school or parcel that
        takes its children (``development_id``, ``level``, ``kind``, ``target_id``,
        ``distance_m``).
    outputs
        Files written.
    """

    study: Study
    parcels: gpd.GeoDataFrame
    developments: gpd.GeoDataFrame
    township_reserve: pd.DataFrame
    links: gpd.GeoDataFrame
    outputs: list[Path] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the output tables by layer name: parcels_check, developments_check, ..."""
        return {
            "parcels_check": self.parcels,
            "developments_check": self.developments,
            "township_reserve": self.township_reserve,
            "development_links": self.links,
        }


def land_check(
    study: Study,
    *,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    scenario: str = "medium",
    lang: Lang = "zh",
    yield_model: YieldModel | None = None,
    progress: bool = True,
) -> LandCheck:
    """Run the land checks on a study and write their tables and map.

    Demand is projected under one scenario over the plan years (the study's
    ``[scenarios]`` table, else :func:`layout.scenarios.default_scenarios`). Writes
    ``<out_dir>/land.gpkg`` (layers ``parcels_check``, ``developments_check``,
    ``township_reserve``, ``development_links``), ``<out_dir>/land.xlsx`` (one sheet each)
    and ``<maps_dir>/land.html``.

    Parameters
    ----------
    study
        A loaded study.
    out_dir
        Folder of the GeoPackage and the spreadsheet (created if missing).
    maps_dir
        Folder of the map (created if missing).
    scenario
        Name of the demographic scenario.
    lang
        Language of reasons, spreadsheet headers and the map: ``"zh"`` or ``"en"``.
    yield_model
        Children per household of developments; ``None`` uses the default rates.
    progress
        Show a progress bar over the steps.

    Returns
    -------
    LandCheck

    Raises
    ------
    ValidationError
        For an unknown scenario, or bad layers (see the check functions).

    Examples
    --------
    See ``tests/test_land.py`` (the tiny study, end to end).
    """
    opts = LandOptions(lang=lang)
    chosen = scenario_named(study.config.get("scenarios"), scenario)
    with tqdm(total=4, disable=not progress, unit="step") as bar:
        bar.set_description("demand")
        demand = project_demand(
            study["population"],
            study["developments"],
            scenarios=[chosen],
            years=study.plan_years,
            yield_model=yield_model,
        )
        bar.update()
        bar.set_description("checks")
        result = _checked_study(study, demand=demand, yield_model=yield_model, options=opts)
        bar.update()
        bar.set_description("write")
        result.outputs += write_pack(result.tables(), out_dir, stem="land", study=study, lang=lang)
        bar.update()
        bar.set_description("map")
        maps = Path(maps_dir)
        maps.mkdir(parents=True, exist_ok=True)
        fmap = land_map(
            study,
            parcels=result.parcels,
            developments=result.developments,
            links=result.links,
            lang=lang,
        )
        result.outputs.append(save_html(fmap, maps / "land.html", title=study.title))
        bar.update()
    return result


def _checked_study(
    study: Study, *, demand: gpd.GeoDataFrame, yield_model: YieldModel | None, options: LandOptions
) -> LandCheck:
    """Run the three checks on a study's layers and draw the match lines."""
    schools, parcels, townships = study["schools"], study["reserved_land"], study["townships"]
    checked = check_parcels(
        parcels,
        schools=schools,
        demand=demand,
        townships=townships,
        profile=study.standards,
        years=study.plan_years,
        options=options,
    )
    developments = check_developments(
        study["developments"],
        schools=schools,
        parcels=parcels,
        townships=townships,
        profile=study.standards,
        base_year=study.base_year,
        yield_model=yield_model,
        options=options,
    )
    reserve = township_reserve(
        townships,
        parcels=parcels,
        schools=schools,
        demand=demand,
        profile=study.standards,
        years=study.plan_years,
        options=options,
    )
    links = _match_lines(developments, schools=schools, parcels=parcels)
    return LandCheck(study, checked, developments, reserve, links)


def _match_lines(
    developments: gpd.GeoDataFrame, *, schools: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Shortest lines from each development to the school or parcel matched to each level."""
    targets = pd.concat(
        [
            pd.Series(
                schools.geometry.to_numpy(), index="school\n" + schools["school_id"].astype(str)
            ),
            pd.Series(
                parcels.geometry.to_numpy(), index="parcel\n" + parcels["parcel_id"].astype(str)
            ),
        ]
    )
    parts = []
    for level in CHILD_LEVELS:
        kind = developments[f"{level}_match_kind"]
        rows = developments[kind != ""]
        parts.append(
            pd.DataFrame(
                {
                    "development_id": rows["development_id"],
                    "level": level,
                    "kind": rows[f"{level}_match_kind"],
                    "target_id": rows[f"{level}_match"],
                    "distance_m": rows[f"{level}_distance_m"],
                    "start": rows.geometry.to_numpy(),
                }
            )
        )
    lines = pd.concat(parts, ignore_index=True)
    ends = targets.reindex(lines["kind"] + "\n" + lines["target_id"]).to_numpy()
    geometry = shapely.shortest_line(lines.pop("start").to_numpy(), ends)
    return gpd.GeoDataFrame(lines, geometry=geometry, crs=developments.crs)
