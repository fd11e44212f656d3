"""Residential developments (one row per phase) and reserved education parcels of one county.

Completed developments carry observed enrolment drawn from a known Poisson yield model::

    enrolled_<level> ~ Poisson(households * exp(b0 + b1 * mean_unit_m2 + b2 * price_index))

with the coefficients ``(b0, b1, b2)`` of :attr:`layout.synthetic.Calibration.yields`, so an
estimator can be checked for recovery. Future developments (delivering from the school year
on) have no pupils yet; some of them are linked to a reserved school parcel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from .grid import Cells, clip

LAND_PER_HOUSEHOLD_M2 = 35.0
"""Assumed site area per household (about 90 m2 flats at a floor-area ratio of 2.5)."""
RESIDENTS_PER_COMPLETED = 12_000.0
"""Assumed urban residents per completed development in the data (one per this many)."""
RESIDENTS_PER_FUTURE = 60_000.0
RESIDENTS_PER_PARCEL = 150_000.0
LINKED_SHARE = 0.6
"""Assumed share of future developments with a reserved school parcel."""
PLANNED_CLASSES = {
    "primary": (18, 24, 30, 36),
    "junior": (12, 18, 24, 30),
    "nine_year": (27, 36, 45),
}
"""Planned class counts drawn for reserved parcels (standard school sizes)."""
_LEVEL_P = (0.55, 0.2, 0.25)  # primary, junior, nine_year
_SMALL_SHARE = 0.25  # parcels too small for their planned classes


@dataclass(frozen=True)
class Years:
    """Years framing the developments: the population base year and the school-data year."""

    base: int
    school: int


def students_per_class(level: np.ndarray) -> np.ndarray:
    """Norm class size of a planned level: 45 primary, 50 junior, 9-year mix 6:3.

    Examples
    --------
    >>> students_per_class(np.array(["primary", "nine_year"])).round(2).tolist()
    [45.0, 46.67]
    """
    return np.select([level == "primary", level == "junior"], [45.0, 50.0], (6 * 45 + 3 * 50) / 9)


def _hosts(
    pool: np.ndarray, weight: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw up to ``count`` distinct cells of ``pool`` with probability proportional to weight."""
    count = min(count, len(pool))
    if count == 0:
        return np.empty(0, dtype=np.intp)
    return rng.choice(pool, size=count, replace=False, p=weight / weight.sum())


def _before(owner: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over the earlier rows of the same owner (rows sorted by owner)."""
    return cast(np.ndarray, pd.Series(values).groupby(owner).cumsum().to_numpy() - values)


def _phase_rows(
    first_year: np.ndarray, last_year: int, most: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Phases of developments starting in ``first_year``: owner, households, years, covariates."""
    n = len(first_year)
    owner = np.repeat(np.arange(n), 1 + rng.binomial(most - 1, 0.4, n))
    households = np.clip(np.rint(rng.lognormal(np.log(450.0), 0.45, len(owner))), 80, 1600)
    step = rng.integers(1, 3, len(owner))
    first = np.ones(len(owner), bool)
    first[1:] = owner[1:] != owner[:-1]
    step[first] = 0  # later phases follow 1-2 years apart
    years = np.minimum(first_year[owner] + _before(owner, step) + step, last_year)
    unit = np.round(rng.uniform(55.0, 145.0, n), 1)
    price = np.round(rng.lognormal(0.0, 0.25, n), 2)
    return pd.DataFrame(
        {
            "dev": owner,
            "phase": pd.Series(owner).groupby(owner).cumcount().to_numpy() + 1,
            "households": households.astype(np.int64),
            "delivery_year": years.astype(np.int64),
            "mean_unit_m2": unit[owner],
            "price_index": price[owner],
        }
    )


def _site_side(rows: pd.DataFrame) -> np.ndarray:
    """Side (m) of each development's square site."""
    total = np.bincount(rows["dev"], weights=rows["households"])
    return cast(np.ndarray, np.sqrt(total * LAND_PER_HOUSEHOLD_M2))


def _strips(centre: np.ndarray, rows: pd.DataFrame) -> np.ndarray:
    """Phase polygons: each development's square site cut into strips by households."""
    owner = rows["dev"].to_numpy()
    households = rows["households"].to_numpy().astype(float)
    share = households / np.bincount(owner, weights=households)[owner]
    side = _site_side(rows)[owner]
    x0 = centre[owner, 0] - side / 2 + side * _before(owner, share)
    y0 = centre[owner, 1] - side / 2
    return cast(np.ndarray, shapely.box(x0, y0, x0 + side * share, y0 + side))


def _completed(
    centre: np.ndarray,
    years: Years,
    yields: Mapping[str, tuple[float, float, float]],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Developments delivered in the ten years up to the base year, with observed pupils."""
    first = rng.integers(years.base - 10, years.base - 1, len(centre))
    rows = _phase_rows(first, years.base, 3, rng)
    for level in ("primary", "junior"):
        b0, b1, b2 = yields[level]
        rate = np.exp(b0 + b1 * rows["mean_unit_m2"] + b2 * rows["price_index"])
        rows[f"enrolled_{level}"] = rng.poisson(rows["households"] * rate).astype(float)
    rows["status"] = "completed"
    rows["geometry"] = _strips(centre, rows)
    return rows


def _future(centre: np.ndarray, years: Years, rng: np.random.Generator) -> pd.DataFrame:
    """Developments delivering from the school year to six years later, in phases."""
    first = rng.integers(years.school, years.school + 5, len(centre))
    rows = _phase_rows(first, years.school + 6, 4, rng)
    rows["enrolled_primary"] = 0.0
    rows["enrolled_junior"] = 0.0
    rows["status"] = np.where(
        rows["delivery_year"] <= years.school + 1, "under_construction", "planned"
    )
    rows["geometry"] = _strips(centre, rows)
    return rows


def _parcel_sizes(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Planned level, planned classes and land area (m2) of ``n`` parcels."""
    level = rng.choice(np.array(list(PLANNED_CLASSES)), size=n, p=_LEVEL_P)
    classes = np.array([rng.choice(PLANNED_CLASSES[lv]) for lv in level], dtype=np.int64)
    students = classes * students_per_class(level)
    small = rng.random(n) < _SMALL_SHARE
    per_student = np.where(small, rng.uniform(9.0, 15.0, n), rng.uniform(20.0, 30.0, n))
    return level, classes, np.round(students * per_student, -1)


def _parcel_status(delivery: np.ndarray, school_year: int) -> np.ndarray:
    """Under construction if due next year, approved within three years, else reserved."""
    return np.select(
        [delivery <= school_year + 1, delivery <= school_year + 3],
        ["under_construction", "approved"],
        "reserved",
    )


def _squares(centre: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Square polygons of the given areas centred on points."""
    half = np.sqrt(area) / 2
    x, y = centre[:, 0], centre[:, 1]
    return cast(np.ndarray, shapely.box(x - half, y - half, x + half, y + half))


def _parcels(
    linked_edge: np.ndarray,
    linked_year: np.ndarray,
    free_centre: np.ndarray,
    years: Years,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Reserved parcels: east of linked sites, on free fringe cells, plus one overlap.

    ``linked_edge`` is the middle of the east edge of each linked development's site.
    """
    n_linked, n = len(linked_edge), len(linked_edge) + len(free_centre)
    level, classes, area = _parcel_sizes(n, rng)
    centre = np.vstack([linked_edge, free_centre]).astype(float)
    centre[:n_linked, 0] += np.sqrt(area[:n_linked]) / 2 + 30.0
    lag = rng.choice([-1, 0, 0, 1, 2], n_linked)  # 三同步: most parcels due with phase one
    delivery = np.r_[
        linked_year + lag, rng.integers(years.school + 1, years.school + 7, n - n_linked)
    ]
    delivery = np.clip(delivery, years.school + 1, years.school + 6)
    if n >= 3:  # a conflicting second reservation overlapping the first parcel
        centre = np.vstack([centre, centre[:1] + np.sqrt(area[0]) * np.array([0.5, 0.3])])
        level, classes = np.r_[level, level[:1]], np.r_[classes, classes[:1]]
        area = np.r_[area, area[:1]]
        delivery = np.r_[delivery, min(delivery[0] + 1, years.school + 6)]
    return pd.DataFrame(
        {
            "planned_level": level,
            "planned_classes": classes,
            "delivery_year": delivery.astype(np.int64),
            "status": _parcel_status(delivery, years.school),
            "geometry": _squares(centre, area),
        }
    )


def _inside(geoms: np.ndarray, polygon: BaseGeometry) -> np.ndarray:
    """Clip polygons to the county, keeping the original where nothing would be left."""
    clipped = clip(geoms, polygon)
    return np.where(shapely.is_missing(clipped), geoms, clipped)


def developments(
    cells: Cells,
    density: np.ndarray,
    polygon: BaseGeometry,
    *,
    urban_mass: float,
    years: Years,
    yields: Mapping[str, tuple[float, float, float]],
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Developments (one row per phase) and reserved parcels of one county.

    Parameters
    ----------
    cells
        The county's cells.
    density
        Expected urban residents per cell, zero where the cell is not urban.
    polygon
        County polygon; sites are clipped to it.
    urban_mass
        Urban residents of the county; sets how many developments and parcels there are.
    years
        Base year and school year.
    yields
        Poisson coefficients ``(b0, b1, b2)`` for ``"primary"`` and ``"junior"``.
    rng
        Random generator.

    Returns
    -------
    phases, parcels
        ``phases`` has columns ``dev`` (county-local development number), ``phase``,
        ``households``, ``delivery_year``, ``status``, ``mean_unit_m2``, ``price_index``,
        ``enrolled_primary``, ``enrolled_junior``, ``parcel`` (county-local parcel number or
        -1) and ``geometry``; ``parcels`` has ``planned_level``, ``planned_classes``,
        ``delivery_year``, ``status`` and ``geometry``.

    Examples
    --------
    >>> from layout.synthetic.grid import grid_cells
    >>> box = shapely.box(0, 0, 5000, 5000)
    >>> cells = grid_cells(box, size=500)
    >>> phases, parcels = developments(cells, np.ones(100), box, urban_mass=300_000,
    ...     years=Years(base=2020, school=2024), yields={"primary": (-2.6, 0.008, -0.35),
    ...     "junior": (-3.4, 0.008, -0.35)}, rng=np.random.default_rng(0))
    >>> sorted(set(phases["status"]))
    ['completed', 'planned', 'under_construction']
    """
    pool = np.flatnonzero((density > 0) & cells.interior)
    done = _hosts(pool, density[pool], round(urban_mass / RESIDENTS_PER_COMPLETED), rng)
    rest = np.setdiff1d(pool, done)
    fringe = rest[density[rest] <= np.median(density[pool])] if len(pool) else rest
    future = _hosts(fringe, np.ones(len(fringe)), round(urban_mass / RESIDENTS_PER_FUTURE), rng)
    spare = np.setdiff1d(fringe, future)
    free = _hosts(spare, np.ones(len(spare)), round(urban_mass / RESIDENTS_PER_PARCEL), rng)
    completed = _completed(cells.xy[done], years, yields, rng)
    coming = _future(cells.xy[future], years, rng)
    linked = np.flatnonzero(rng.random(len(future)) < LINKED_SHARE)
    edge = cells.xy[future[linked]] + np.c_[_site_side(coming)[linked] / 2, np.zeros(len(linked))]
    first_year = coming.groupby("dev")["delivery_year"].min().to_numpy()
    parcels = _parcels(edge, first_year[linked], cells.xy[free], years, rng)
    parcel_of = np.full(len(future), -1)
    parcel_of[linked] = np.arange(len(linked))
    completed["parcel"] = -1
    coming["parcel"] = parcel_of[coming["dev"]]
    coming["dev"] += len(done)
    phases = pd.concat([completed, coming], ignore_index=True)
    phases["geometry"] = _inside(phases["geometry"].to_numpy(), polygon)
    parcels["geometry"] = _inside(parcels["geometry"].to_numpy(), polygon)
    return phases, parcels
