"""Deterministic synthetic studies: every layer of :mod:`layout.schema` from county boundaries.

:func:`synthetic_study` turns real county polygons and census resident totals into a complete,
plausible and entirely **synthetic** study: a population grid with children by single year of
age, township zones, schools with enrolment and teachers, a teacher roster, residential
developments, reserved education land and a road network. It is seeded (numpy
``Generator``), so the same inputs and seed always give identical layers, and vectorised per
county so a province of about 600 000 cells is built in about a minute.

The data are meant for demonstrations, tests and benchmarks. They must never be passed off as
real school data: every layer carries ``attrs["synthetic"] == "true"``.

The assumptions behind each layer are listed in ``data/README.md``; the numbers they use are
the defaults of :class:`Calibration` and the module constants of ``layout._synthetic``.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> counties = gpd.GeoDataFrame(
...     {"county_code": ["990101"], "name": ["Test"], "setting": ["rural"]},
...     geometry=[box(500_000, 4_500_000, 520_000, 4_520_000)], crs="EPSG:4550")
>>> study = synthetic_study(counties, populations={"990101": 80_000}, cell_size_m=1_000)
>>> int(study["population"]["residents"].sum())
80000
>>> sorted(study)[:3]
['counties', 'developments', 'population']
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from .. import schema
from ..errors import ValidationError
from . import road, township
from .development import Years, developments
from .grid import Cells, grid_cells
from .population import apportion, cohorts, populate
from .school import Pupils, schools
from .settlement import Field, Settlement, random_field, settle

LOG = logging.getLogger(__name__)

ANSHAN_COHORTS_PER_1000: tuple[float, ...] = (
    4.8,
    5.8,
    5.9,
    6.5,
    7.0,
    6.5,
    6.9,
    6.7,
    7.2,
    6.8,
    7.0,
    7.1,
    7.3,
    7.3,
    7.2,
)
"""Assumed children of each single year of age 0-14 per 1000 residents at the base year.

An assumption for Anshan in 2020 (age ``a`` = born in ``2020 - a``): a births path that rises
gently back to 2006, with a bump in 2016 (two-child policy), falling to 4.8 in 2020 so that it
continues into the published 4.33 per 1000 of 2021 and 3.65 per 1000 of 2022. The values sum
to 100, an assumed 0-14 share of 10.0 % of residents. Mortality and migration are ignored.
"""

YIELDS: dict[str, tuple[float, float, float]] = {
    "primary": (-2.6, 0.008, -0.35),
    "junior": (-3.4, 0.008, -0.35),
}
"""True coefficients ``(b0, b1, b2)`` of the development yield model.

``enrolled_<level> ~ Poisson(households * exp(b0 + b1 * mean_unit_m2 + b2 * price_index))``:
at 90 m2 and a price index of 1 that is 0.107 primary and 0.048 junior pupils per household.
"""

ENROLMENT_RATE = 0.98
"""Assumed share of the children of school age enrolled in a school of their county."""


@dataclass(frozen=True)
class Calibration:
    """Calibration figures and assumptions of a synthetic study.

    Parameters
    ----------
    cohort_per_1000
        Children of each single year of age 0-14 per 1000 residents at the base year.
    seats
        County seat (urban centre) of each county as ``(lon, lat)`` in EPSG:4490; counties not
        listed use a point on the surface of their polygon. Several counties may share one
        seat (the districts of one city around its core).
    urban_share
        Share of each county's residents living in its urban centre; counties not listed use
        ``urban_share_default``.
    urban_share_default
        Urban share of counties whose ``setting`` is ``urban`` and ``rural``.
    townships
        Total rural townships of the study, split between counties by rural residents; when
        ``None`` each county gets one per ``township_residents`` rural residents.
    township_residents, subdistrict_residents, village_residents
        Rural residents per township, urban residents per urban zone and residents per village.
    peak_density_km2
        Residents per km2 at the urban centre; sets the width of the urban kernel.
    yields
        Development yield coefficients, see :data:`YIELDS`.
    pupils_per_teacher
        Staffing norms in primary and junior grades.

    Examples
    --------
    >>> Calibration(townships=55).townships
    55
    """

    cohort_per_1000: tuple[float, ...] = ANSHAN_COHORTS_PER_1000
    seats: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    urban_share: Mapping[str, float] = field(default_factory=dict)
    urban_share_default: tuple[float, float] = (0.97, 0.30)
    townships: int | None = None
    township_residents: float = 25_000.0
    subdistrict_residents: float = 60_000.0
    village_residents: float = 700.0
    peak_density_km2: float = 20_000.0
    yields: Mapping[str, tuple[float, float, float]] = field(default_factory=lambda: dict(YIELDS))
    pupils_per_teacher: tuple[float, float] = (19.0, 13.5)


@dataclass(frozen=True)
class _Plan:
    """What one county must hold, fixed before any cell is drawn."""

    index: int
    code: str
    polygon: BaseGeometry
    residents: int
    masses: tuple[float, float]
    zones: tuple[int, int]
    centre: np.ndarray
    sigma: float
    children: np.ndarray


@dataclass(frozen=True)
class _Context:
    """Study-wide settings shared by every county."""

    seed: int
    size: float
    years: Years
    calibration: Calibration
    field: Field
    to_lonlat: pyproj.Transformer


def provenance(*, seed: int) -> dict[str, str]:
    """Layer metadata marking generated data as synthetic.

    Examples
    --------
    >>> provenance(seed=1)["synthetic"]
    'true'
    """
    return {
        "synthetic": "true",
        "generator": "layout.synthetic.synthetic_study",
        "seed": str(seed),
        "notice": "Synthetic data generated for demonstration; not real schools, pupils, "
        "teachers, developments, land or roads. Never present them as real.",
    }


def _check_counties(counties: gpd.GeoDataFrame, problems: list[str]) -> None:
    """Collect problems of the counties layer."""
    missing = [c for c in schema.LAYERS["counties"].required if c not in counties.columns]
    if missing:
        problems.append(f"counties: missing column(s) {missing}; add them (see layout.schema).")
        return
    if counties.crs is None:
        problems.append("counties: no CRS; set it, e.g. counties.set_crs('EPSG:4490').")
    duplicated = counties["county_code"][counties["county_code"].duplicated()].tolist()
    if duplicated:
        problems.append(f"counties: county_code not unique: {duplicated}.")
    bad = ~counties["setting"].isin(schema.SETTINGS)
    if bad.any():
        problems.append(
            f"counties: setting must be one of {schema.SETTINGS}; rows "
            f"{counties['county_code'][bad].tolist()}."
        )
    polygonal = counties.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polygonal.all():
        problems.append(
            "counties: geometries must be (Multi)Polygons; rows "
            f"{counties['county_code'][~polygonal].tolist()}."
        )


def _check_populations(
    codes: list[str], populations: Mapping[str, int], problems: list[str]
) -> None:
    """Collect problems of the populations mapping."""
    absent = [c for c in codes if c not in populations]
    unknown = [c for c in populations if c not in codes]
    if absent:
        problems.append(f"populations: no residents given for county_code {absent}.")
    if unknown:
        problems.append(f"populations: county_code {unknown} not in counties; fix the codes.")
    bad = [c for c, n in populations.items() if not isinstance(n, int | np.integer) or n <= 0]
    if bad:
        problems.append(f"populations: residents must be positive integers; see {bad}.")


def _check_options(
    crs: str,
    cell_size_m: float,
    base_year: int,
    school_year: int,
    calibration: Calibration,
    problems: list[str],
) -> None:
    """Collect problems of the scalar options and the calibration."""
    projected = pyproj.CRS(crs)
    if not projected.is_projected or projected.axis_info[0].unit_name != "metre":
        problems.append(f"crs: {crs} is not a projected CRS in metres; use e.g. 'EPSG:4550'.")
    if not cell_size_m > 0:
        problems.append(f"cell_size_m: must be positive, got {cell_size_m}.")
    if not 0 <= school_year - base_year <= 6:
        problems.append(
            f"school_year: must be 0-6 years after base_year ({base_year}) so that "
            f"grades 1-9 are children aged 0-14 in the base year; got {school_year}."
        )
    rates = np.asarray(calibration.cohort_per_1000, dtype=float)
    if rates.shape != (len(schema.AGES),) or (rates < 0).any() or rates.sum() >= 1000:
        problems.append(
            "calibration.cohort_per_1000: need 15 non-negative values (ages 0-14) "
            "summing to less than 1000."
        )
    shares = [*calibration.urban_share.values(), *calibration.urban_share_default]
    if any(not 0 <= s <= 1 for s in shares):
        problems.append("calibration.urban_share: shares must lie in [0, 1].")


def _validate(
    counties: gpd.GeoDataFrame,
    populations: Mapping[str, int],
    crs: str,
    cell_size_m: float,
    years: Years,
    calibration: Calibration,
) -> None:
    """Raise one ValidationError listing every problem of the inputs."""
    problems: list[str] = []
    _check_counties(counties, problems)
    if "county_code" in counties.columns:
        codes = counties["county_code"].astype(str).tolist()
        _check_populations(codes, populations, problems)
        unknown = [c for c in calibration.seats if c not in codes]
        if unknown:
            problems.append(f"calibration.seats: county_code {unknown} not in counties.")
    _check_options(crs, cell_size_m, years.base, years.school, calibration, problems)
    if problems:
        raise ValidationError(problems)


def _centres(frame: gpd.GeoDataFrame, calibration: Calibration, crs: str) -> np.ndarray:
    """County seat of each county in the study CRS."""
    to_crs = pyproj.Transformer.from_crs("EPSG:4490", crs, always_xy=True)
    inner = shapely.point_on_surface(frame.geometry.to_numpy())
    xy = np.column_stack([shapely.get_x(inner), shapely.get_y(inner)])
    for i, code in enumerate(frame["county_code"]):
        if code in calibration.seats:
            xy[i] = to_crs.transform(*calibration.seats[code])
    return xy


def _plans(
    frame: gpd.GeoDataFrame,
    populations: Mapping[str, int],
    calibration: Calibration,
    crs: str,
    size: float,
) -> list[_Plan]:
    """Residents, urban/rural split, zone counts, urban kernel and cohorts of each county."""
    codes = frame["county_code"].tolist()
    residents = np.array([int(populations[c]) for c in codes], dtype=np.int64)
    default = np.where(frame["setting"] == "urban", *calibration.urban_share_default)
    share = np.array(
        [calibration.urban_share.get(c, d) for c, d in zip(codes, default, strict=True)]
    )
    urban = residents * share
    rural = residents - urban
    if calibration.townships is not None and rural.sum() > 0:
        n_rural = apportion(calibration.townships, rural)
    else:
        n_rural = np.rint(rural / calibration.township_residents).astype(np.int64)
    n_urban = np.rint(urban / calibration.subdistrict_residents).astype(np.int64)
    none = (n_rural + n_urban) == 0
    n_urban[none & (urban >= rural)] = 1
    n_rural[none & (urban < rural)] = 1
    centre = _centres(frame, calibration, crs)
    key = np.round(centre).astype(np.int64)
    _, group = np.unique(key, axis=0, return_inverse=True)
    group_mass = np.bincount(group.ravel(), weights=urban)[group.ravel()]
    sigma = np.maximum(
        np.sqrt(group_mass / (2 * np.pi * calibration.peak_density_km2 / 1e6)), size / 2
    )
    children = cohorts(residents, np.asarray(calibration.cohort_per_1000))
    return [
        _Plan(
            i,
            codes[i],
            frame.geometry.iloc[i],
            int(residents[i]),
            (urban[i], rural[i]),
            (int(n_urban[i]), int(n_rural[i])),
            centre[i],
            float(sigma[i]),
            children[i],
        )
        for i in range(len(codes))
    ]


def _population(
    plan: _Plan,
    cells: Cells,
    ages: np.ndarray,
    people: np.ndarray,
    urban: np.ndarray,
    township_code: np.ndarray,
    year: int,
) -> pd.DataFrame:
    """Rows of the population layer for one county."""
    cell_id = (
        plan.code + "-" + pd.Series(cells.ix).astype(str) + "-" + pd.Series(cells.iy).astype(str)
    )
    table = pd.DataFrame(
        {
            "cell_id": cell_id.to_numpy(),
            "county_code": plan.code,
            "township_code": township_code,
            "setting": np.where(urban, "urban", "rural"),
            "year": year,
            **{f"age_{a}": ages[:, a] for a in schema.AGES},
            "residents": people,
        }
    )
    table["geometry"] = cells.geometry
    return table


def _townships(
    plan: _Plan, settlement: Settlement, codes: list[str], zones: np.ndarray, context: _Context
) -> pd.DataFrame:
    """Rows of the townships layer for one county."""
    lon, lat = context.to_lonlat.transform(settlement.seat_xy[:, 0], settlement.seat_xy[:, 1])
    return pd.DataFrame(
        {
            "township_code": codes,
            "name": [f"T{c} (synthetic)" for c in codes],
            "county_code": plan.code,
            "seat_lon": np.round(lon, 6),
            "seat_lat": np.round(lat, 6),
            "setting": np.where(settlement.seat_urban, "urban", "rural"),
            "geometry": zones,
        }
    )


def _land(
    plan: _Plan, phases: pd.DataFrame, parcels: pd.DataFrame, zone_of: cKDTree, codes: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ids, names and township codes of the developments and reserved parcels of a county."""
    parcel_id = np.array([f"R{plan.code}{k + 1:03d}" for k in range(len(parcels))], dtype=object)
    parcels = parcels.assign(parcel_id=parcel_id, county_code=plan.code)
    parcels["township_code"] = codes[_zone(zone_of, parcels["geometry"].to_numpy())]
    dev_id = np.array([f"D{plan.code}{d + 1:03d}" for d in phases["dev"]], dtype=object)
    lookup = dict(enumerate(parcel_id))
    phases = phases.assign(
        development_id=dev_id,
        phase_id=[f"{d}-{p}" for d, p in zip(dev_id, phases["phase"], strict=True)],
        name=[f"{d} (synthetic)" for d in dev_id],
        county_code=plan.code,
        school_parcel_id=np.array([lookup.get(k) for k in phases["parcel"]], dtype=object),
    )
    phases["township_code"] = codes[_zone(zone_of, phases["geometry"].to_numpy())]
    return phases, parcels


def _zone(zone_of: cKDTree, geoms: np.ndarray) -> np.ndarray:
    """Index of the zone (nearest seat) of each geometry's inner point."""
    inner = shapely.point_on_surface(geoms)
    xy = np.column_stack([shapely.get_x(inner), shapely.get_y(inner)])
    return zone_of.query(xy)[1] if len(xy) else np.empty(0, dtype=np.intp)


def _staff(
    school_id: np.ndarray, teachers: np.ndarray, urban: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """One row per teacher: years at the school and a backbone flag (18 % urban, 8 % rural)."""
    owner = np.repeat(np.arange(len(school_id)), teachers)
    number = np.arange(len(owner)) - np.repeat(np.cumsum(teachers) - teachers, teachers)
    ids = pd.Series(school_id[owner]) + "-" + pd.Series(number + 1).astype(str).str.zfill(3)
    return pd.DataFrame(
        {
            "teacher_id": ids.to_numpy(),
            "school_id": school_id[owner],
            "years_at_school": np.minimum(rng.geometric(0.12, len(owner)) - 1, 35),
            "backbone": (rng.random(len(owner)) < np.where(urban[owner], 0.18, 0.08)).astype(
                np.int64
            ),
        }
    )


def _schools(
    plan: _Plan, table: pd.DataFrame, zones: np.ndarray, codes: np.ndarray, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ids, names, township codes and teacher roster of the schools of one county.

    A school's township is the zone polygon holding it (a school on a cell centre may lie
    within a metre of the line between two zones, where the nearest seat can disagree).
    """
    school_id = np.array([f"S{plan.code}{k + 1:04d}" for k in range(len(table))], dtype=object)
    table = table.assign(
        school_id=school_id,
        name=[f"{s} {lv} (synthetic)" for s, lv in zip(school_id, table["level"], strict=True)],
        county_code=plan.code,
        township_code=codes[township.holding(zones, table["geometry"].to_numpy())],
    )
    staff = _staff(
        school_id, table["teachers"].to_numpy(), (table["setting"] == "urban").to_numpy(), rng
    )
    backbone = staff.groupby("school_id")["backbone"].sum()
    table["backbone_teachers"] = table["school_id"].map(backbone).fillna(0).astype(np.int64)
    return table, staff


def _county(plan: _Plan, context: _Context) -> dict[str, pd.DataFrame]:
    """Every layer's rows for one county."""
    rng = [
        np.random.default_rng(s)
        for s in np.random.SeedSequence([context.seed, 1, plan.index]).spawn(5)
    ]
    cells = grid_cells(plan.polygon, size=context.size)
    settlement = settle(
        cells,
        centre=plan.centre,
        sigma=plan.sigma,
        masses=plan.masses,
        zones=plan.zones,
        field=context.field(cells.x, cells.y),
        village_residents=context.calibration.village_residents,
        rng=rng[0],
    )
    keep, ages, people = populate(
        settlement.urban + settlement.rural,
        children=plan.children,
        residents=plan.residents,
        rng=rng[1],
    )
    kept = cells.take(keep)
    codes = np.array(township.codes(plan.code, settlement.seat_urban), dtype=object)
    zones = township.zones(plan.polygon, settlement.seat_xy)
    zone_of = cKDTree(settlement.seat_xy)
    zone = zone_of.query(kept.xy)[1]
    urban = settlement.is_urban[keep]
    phases, parcels = developments(
        kept,
        np.where(urban, settlement.urban[keep], 0.0),
        plan.polygon,
        urban_mass=plan.masses[0],
        years=context.years,
        yields=context.calibration.yields,
        rng=rng[2],
    )
    phases, parcels = _land(plan, phases, parcels, zone_of, codes)
    shift = context.years.school - context.years.base
    pupils = rng[3].binomial(ages[:, np.arange(1, 10) + 5 - shift], ENROLMENT_RATE)
    table = schools(
        Pupils(xy=kept.xy, zone=zone, count=pupils),
        settlement,
        plan.polygon,
        parcels,
        staffing=context.calibration.pupils_per_teacher,
        size=context.size,
        rng=rng[3],
    )
    table, staff = _schools(plan, table, zones, codes, rng[3])
    roads = road.county_roads(
        plan.centre,
        settlement.seat_xy,
        settlement.seat_urban,
        settlement.village_xy,
        settlement.seat_village,
        rng[4],
    )
    LOG.debug("county %s: %d cells, %d schools", plan.code, len(kept.x), len(table))
    return {
        "population": _population(plan, kept, ages, people, urban, codes[zone], context.years.base),
        "townships": _townships(plan, settlement, list(codes), zones, context),
        "schools": table,
        "teachers": staff,
        "developments": phases,
        "reserved_land": parcels,
        "roads": roads,
    }


def _ordered(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """Order a layer's columns as the schema lists them (id, text, counts, numbers, choices).

    Optional columns the sample does not make are left out.
    """
    spec = schema.LAYERS[name]
    every = [spec.id_column, *spec.text, *spec.counts, *spec.numbers, *spec.choices]
    columns = [c for c in dict.fromkeys(every) if c in table.columns or c not in spec.optional]
    extras = [c for c in ("residents",) if c in table.columns]
    geometry = ["geometry"] if spec.geometry else []
    return table[columns + extras + geometry].reset_index(drop=True)


def synthetic_study(
    counties: gpd.GeoDataFrame,
    *,
    populations: Mapping[str, int],
    seed: int = 20201101,
    cell_size_m: float = 500.0,
    crs: str = "EPSG:4550",
    base_year: int = 2020,
    school_year: int = 2024,
    calibration: Calibration | None = None,
) -> dict[str, pd.DataFrame]:
    """Generate every layer of a synthetic study from real county boundaries.

    Parameters
    ----------
    counties
        County polygons with ``county_code``, ``name`` and ``setting`` (any CRS).
    populations
        Residents of each county, keyed by ``county_code`` (census totals).
    seed
        Seed of the random generators; the same seed gives identical layers.
    cell_size_m
        Side of the square population cells in metres.
    crs
        Projected CRS (metres) of every returned layer.
    base_year
        Year of the population layer.
    school_year
        Year of the school data (0-6 years after ``base_year``); grade ``g`` in that year is
        the cohort aged ``g + 5 - (school_year - base_year)`` in the base year.
    calibration
        Figures and assumptions; defaults to :class:`Calibration`.

    Returns
    -------
    dict of str to DataFrame
        ``counties``, ``townships``, ``schools``, ``population``, ``developments``,
        ``reserved_land`` and ``roads`` as GeoDataFrames in ``crs``, and ``teachers`` as a
        plain table, with columns in :mod:`layout.schema` order. The population layer also
        holds ``residents`` (all ages) per cell. Every layer's ``attrs`` hold
        :func:`provenance`.

    Raises
    ------
    ValidationError
        Listing every problem of the inputs (missing columns, unknown or missing county
        codes, non-positive residents, a geographic CRS, years out of range).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> counties = gpd.GeoDataFrame(
    ...     {"county_code": ["990101"], "name": ["Test"], "setting": ["urban"]},
    ...     geometry=[box(500_000, 4_500_000, 510_000, 4_510_000)], crs="EPSG:4550")
    >>> study = synthetic_study(counties, populations={"990101": 50_000}, cell_size_m=1_000)
    >>> study["schools"].attrs["synthetic"]
    'true'
    """
    calibration = Calibration() if calibration is None else calibration
    years = Years(base=base_year, school=school_year)
    _validate(counties, populations, crs, cell_size_m, years, calibration)
    frame = counties.to_crs(crs).astype({"county_code": str})
    frame = frame.sort_values("county_code").reset_index(drop=True)
    plans = _plans(frame, populations, calibration, crs, cell_size_m)
    context = _Context(
        seed=seed,
        size=float(cell_size_m),
        years=years,
        calibration=calibration,
        field=random_field(np.random.default_rng([seed, 0])),
        to_lonlat=pyproj.Transformer.from_crs(crs, "EPSG:4490", always_xy=True),
    )
    parts = [_county(plan, context) for plan in plans]
    tables = {name: pd.concat([p[name] for p in parts], ignore_index=True) for name in parts[0]}
    seats, county_roads = np.array([plan.centre for plan in plans]), [p["roads"] for p in parts]
    tables["roads"] = road.study_roads(seats, county_roads, seed, tables["population"])
    tables["counties"] = frame
    layers: dict[str, pd.DataFrame] = {}
    for name in (n for n in schema.LAYERS if n in tables):
        table = _ordered(tables[name], name)
        if schema.LAYERS[name].geometry:
            table = gpd.GeoDataFrame(table, geometry="geometry", crs=crs)
        table.attrs.update(provenance(seed=seed))
        layers[name] = table
    return layers
