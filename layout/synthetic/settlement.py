"""Where people live in one county: an urban centre, villages, township seats, expected residents.

The density model (all of it an assumption, see ``data/README.md``):

* urban residents follow a Gaussian kernel around the county seat whose width gives the
  assumed peak density, modulated by a smooth random field;
* rural residents live in villages (Gaussian kernels of a few hundred metres, placed more
  often where the random field is high), in township seats (larger kernels) and, for a small
  share, scattered over the whole county (hamlets);
* township seats are weighted k-means centres of the villages, snapped to a village;
  subdistrict (urban zone) seats are weighted k-means centres of the urban cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from scipy.spatial import cKDTree

from .grid import Cells

VILLAGE_SHARE = 0.60
"""Assumed share of a county's rural residents living in villages."""
TOWN_SHARE = 0.25
"""Assumed share living in township seats (镇区)."""
HAMLET_SHARE = 1.0 - VILLAGE_SHARE - TOWN_SHARE
"""Assumed share scattered over the county."""
VILLAGE_SIGMA_M = 350.0
TOWN_SIGMA_M = 700.0
_JITTER = 0.3  # villages are moved up to 0.3 cell sides from the centre of a full cell


@dataclass(frozen=True)
class Field:
    """A smooth random surface with mean 0 and variance 1 (a sum of random plane waves).

    Parameters
    ----------
    wave
        ``(k, 2)`` wave vectors in radians per metre.
    phase
        ``(k,)`` phases in radians.
    """

    wave: np.ndarray
    phase: np.ndarray

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Evaluate the surface at points (metres)."""
        angle = np.multiply.outer(x, self.wave[:, 0]) + np.multiply.outer(y, self.wave[:, 1])
        value: np.ndarray = np.sqrt(2.0 / len(self.phase)) * np.cos(angle + self.phase).sum(axis=-1)
        return value


def random_field(
    rng: np.random.Generator,
    *,
    waves: int = 48,
    shortest_m: float = 4_000.0,
    longest_m: float = 40_000.0,
) -> Field:
    """Draw a :class:`Field` with wavelengths between ``shortest_m`` and ``longest_m``.

    Examples
    --------
    >>> field = random_field(np.random.default_rng(1))
    >>> field(np.zeros(3), np.zeros(3)).shape
    (3,)
    """
    length = np.exp(rng.uniform(np.log(shortest_m), np.log(longest_m), waves))
    angle = rng.uniform(0.0, 2.0 * np.pi, waves)
    wave = (2.0 * np.pi / length)[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return Field(wave=wave, phase=rng.uniform(0.0, 2.0 * np.pi, waves))


@dataclass(frozen=True)
class Settlement:
    """Expected residents per cell and the settlements of one county.

    Attributes
    ----------
    urban, rural
        Expected urban and rural residents per cell (they sum to the county's residents).
    village_xy, village_mass
        Villages (including township seats) and their expected residents.
    seat_xy
        Zone seats, the urban (subdistrict) zones first.
    seat_urban
        ``True`` for the seat of an urban zone.
    seat_village
        Village index of each rural seat, ``-1`` for urban seats.
    """

    urban: np.ndarray
    rural: np.ndarray
    village_xy: np.ndarray
    village_mass: np.ndarray
    seat_xy: np.ndarray
    seat_urban: np.ndarray
    seat_village: np.ndarray

    @property
    def is_urban(self) -> np.ndarray:
        """Cells where urban residents outnumber rural ones."""
        return self.urban > self.rural


def weighted_centres(
    xy: np.ndarray, weight: np.ndarray, k: int, *, rng: np.random.Generator, iterations: int = 12
) -> np.ndarray:
    """Weighted k-means (Lloyd) centres of points, started from a weighted random draw.

    Examples
    --------
    >>> xy = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]])
    >>> c = weighted_centres(xy, np.ones(4), 2, rng=np.random.default_rng(0))
    >>> sorted(c[:, 0].tolist())
    [0.5, 10.5]
    """
    positive = np.flatnonzero(weight > 0)
    start = rng.choice(positive, size=k, replace=False, p=weight[positive] / weight[positive].sum())
    centres: np.ndarray = xy[start].astype(float)
    for _ in range(iterations):
        label = cKDTree(centres).query(xy)[1]
        total = np.bincount(label, weights=weight, minlength=k)
        filled = total > 0
        for axis in (0, 1):
            moment = np.bincount(label, weights=weight * xy[:, axis], minlength=k)
            centres[filled, axis] = moment[filled] / total[filled]
    return centres


def snap_distinct(points: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Index of the nearest candidate of each point, never the same candidate twice.

    Examples
    --------
    >>> snap_distinct(np.array([[0.0, 0.0], [0.1, 0.0]]), np.array([[0.0, 0.0], [5.0, 0.0]]))
    array([0, 1])
    """
    depth = min(len(candidates), len(points))
    order = cKDTree(candidates).query(points, k=depth)[1].reshape(len(points), depth)
    taken: set[int] = set()
    chosen = np.empty(len(points), dtype=np.intp)
    for i, row in enumerate(order):  # one pass per seat, not per cell
        chosen[i] = next(int(c) for c in row if int(c) not in taken)
        taken.add(int(chosen[i]))
    return chosen


def spread(
    centre_xy: np.ndarray, mass: np.ndarray, cells: Cells, *, sigma: float, tree: cKDTree
) -> np.ndarray:
    """Spread each centre's mass over the cells within ``4 sigma`` with a Gaussian kernel.

    Each centre's mass is kept whole: its kernel weights are normalised over the cells it
    reaches (weights are proportional to cell area).
    """
    n = len(cells.x)
    if len(centre_xy) == 0:
        return np.zeros(n)
    reach = tree.query_ball_point(centre_xy, r=4.0 * sigma)
    counts = np.array([len(r) for r in reach], dtype=np.intp)
    cell = np.concatenate([np.asarray(r, dtype=np.intp) for r in reach])
    owner = np.repeat(np.arange(len(centre_xy)), counts)
    d2 = ((cells.xy[cell] - centre_xy[owner]) ** 2).sum(axis=1)
    weight = cells.area[cell] * np.exp(-d2 / (2.0 * sigma**2))
    total = np.bincount(owner, weights=weight, minlength=len(centre_xy))
    share = weight / total[owner]
    return np.bincount(cell, weights=mass[owner] * share, minlength=n)


def _softmax(log_weight: np.ndarray) -> np.ndarray:
    """Normalised ``exp(log_weight)`` without overflow or underflow to all-zero."""
    w = np.exp(log_weight - log_weight.max())
    return cast(np.ndarray, w / w.sum())


def _villages(
    cells: Cells,
    far: np.ndarray,
    field: np.ndarray,
    count: int,
    *,
    rng: np.random.Generator,
) -> np.ndarray:
    """Village points: cells drawn where the field is high, away from the urban centre."""
    pool = np.flatnonzero(far) if far.sum() >= count else np.arange(len(cells.x))
    count = min(count, len(pool))
    p = _softmax(np.log(cells.area[pool]) + 1.2 * field[pool])
    pick = np.sort(rng.choice(pool, size=count, replace=False, p=p))
    jitter = rng.uniform(-_JITTER, _JITTER, (count, 2)) * cells.size * cells.interior[pick, None]
    return cast(np.ndarray, cells.xy[pick] + jitter)


def _rural_seats(
    village_xy: np.ndarray, mass: np.ndarray, k: int, *, rng: np.random.Generator
) -> np.ndarray:
    """Village index of each township seat, ordered north to south."""
    if k == 0:
        return np.empty(0, dtype=np.intp)
    seats = snap_distinct(weighted_centres(village_xy, mass, k, rng=rng), village_xy)
    return seats[np.lexsort((village_xy[seats, 0], -village_xy[seats, 1]))]


def _urban_seats(
    cells: Cells,
    urban: np.ndarray,
    majority: np.ndarray,
    free: np.ndarray,
    k: int,
    *,
    rng: np.random.Generator,
) -> np.ndarray:
    """Seat points of the urban zones (cell points), ordered north to south.

    Seats are weighted k-means centres of the ``free`` cells where urban residents are the
    ``majority``, or of the ``k`` most urban free cells when there are too few of those.
    """
    pool = np.flatnonzero(majority & free)
    if len(pool) < k:
        spare = np.flatnonzero(free)
        pool = spare[np.argsort(-urban[spare], kind="stable")[:k]]
    k = min(k, len(pool))
    if k == 0:
        return np.empty((0, 2))
    pool_xy = cells.xy[pool]
    centres = weighted_centres(pool_xy, urban[pool] + 1e-9, k, rng=rng)
    xy = pool_xy[snap_distinct(centres, pool_xy)]
    return cast(np.ndarray, xy[np.lexsort((xy[:, 0], -xy[:, 1]))])


def settle(
    cells: Cells,
    *,
    centre: np.ndarray,
    sigma: float,
    masses: tuple[float, float],
    zones: tuple[int, int],
    field: np.ndarray,
    village_residents: float,
    rng: np.random.Generator,
) -> Settlement:
    """Place a county's residents, villages and zone seats.

    Parameters
    ----------
    cells
        The county's grid cells.
    centre, sigma
        Urban centre (county seat, metres) and the width of its Gaussian kernel.
    masses
        Urban and rural residents of the county.
    zones
        Number of urban (subdistrict) and rural (township) zones.
    field
        Smooth random field evaluated at the cells.
    village_residents
        Mean residents per village; sets the number of villages.
    rng
        Random generator of this county.
    """
    urban_mass, rural_mass = masses
    size = cells.size
    d2 = ((cells.xy - centre) ** 2).sum(axis=1)
    urban = urban_mass * _softmax(np.log(cells.area) - d2 / (2 * sigma**2) + 0.3 * field)
    n_villages = max(int(round(rural_mass / village_residents)), 1) if rural_mass > 0 else 0
    village_xy = _villages(cells, d2 > (1.5 * sigma) ** 2, field, n_villages, rng=rng)
    weight = rng.lognormal(0.0, 0.6, len(village_xy))
    village_mass = VILLAGE_SHARE * rural_mass * weight / weight.sum()
    seats = _rural_seats(village_xy, village_mass, min(zones[1], len(village_xy)), rng=rng)
    catchment = cKDTree(village_xy[seats]).query(village_xy)[1] if len(seats) else None
    tree = cKDTree(cells.xy)
    rural = spread(village_xy, village_mass, cells, sigma=max(VILLAGE_SIGMA_M, size / 2), tree=tree)
    if catchment is not None:
        town = np.bincount(catchment, weights=village_mass, minlength=len(seats))
        town_mass = TOWN_SHARE * rural_mass * town / town.sum()
        rural += spread(
            village_xy[seats], town_mass, cells, sigma=max(TOWN_SIGMA_M, size / 2), tree=tree
        )
    hamlet_share = HAMLET_SHARE if catchment is not None else HAMLET_SHARE + TOWN_SHARE
    rural += hamlet_share * rural_mass * _softmax(np.log(cells.area) + 1.5 * field)
    free = np.ones(len(cells.x), bool)  # cells not holding a township seat
    if len(seats):
        free = cKDTree(village_xy[seats]).query(cells.xy)[0] > 1.0
    urban_xy = _urban_seats(cells, urban, urban > rural, free, zones[0], rng=rng)
    return Settlement(
        urban=urban,
        rural=rural,
        village_xy=village_xy,
        village_mass=village_mass,
        seat_xy=np.vstack([urban_xy, village_xy[seats]]),
        seat_urban=np.r_[np.ones(len(urban_xy), bool), np.zeros(len(seats), bool)],
        seat_village=np.r_[np.full(len(urban_xy), -1), seats].astype(np.intp),
    )
