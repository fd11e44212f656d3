"""Residents and children by single year of age in the cells of one county."""

from __future__ import annotations

import numpy as np


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to weights by largest remainders (Hamilton).

    Examples
    --------
    >>> apportion(10, np.array([1.0, 1.0, 1.0])).tolist()
    [4, 3, 3]
    """
    quota = total * np.asarray(weights, dtype=float) / np.sum(weights)
    share: np.ndarray = np.floor(quota).astype(np.int64)
    short = int(total - share.sum())
    order = np.argsort(-(quota - share), kind="stable")
    share[order[:short]] += 1
    return share


def cohorts(populations: np.ndarray, per_1000: np.ndarray) -> np.ndarray:
    """Children of each age in each county, ``(counties, ages)``.

    The study-wide count of age ``a`` is ``round(sum(populations) * per_1000[a] / 1000)``;
    it is split between counties in proportion to their residents.

    Examples
    --------
    >>> cohorts(np.array([1000, 3000]), np.array([10.0, 5.0])).tolist()
    [[10, 5], [30, 15]]
    """
    totals = np.rint(populations.sum() * np.asarray(per_1000) / 1000.0).astype(np.int64)
    return np.column_stack([apportion(int(t), populations) for t in totals])


def populate(
    expected: np.ndarray, *, children: np.ndarray, residents: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw children by age and residents into cells.

    Children of each age are a multinomial draw over the cells with probabilities
    proportional to the expected residents. Only cells with at least one child are kept; the
    residents of the county are then the kept cells' children plus a multinomial draw of the
    remaining residents over the kept cells, so county totals are exact.

    Parameters
    ----------
    expected
        Expected residents per cell.
    children
        Children of each single year of age in the county.
    residents
        Residents of the county (all ages); at least ``children.sum()``.
    rng
        Random generator.

    Returns
    -------
    keep, ages, people
        Boolean mask of kept cells, ``(kept, ages)`` children, and residents per kept cell.

    Examples
    --------
    >>> keep, ages, people = populate(np.array([1.0, 0.0, 3.0]), children=np.array([4, 2]),
    ...                               residents=60, rng=np.random.default_rng(0))
    >>> keep.tolist(), int(ages.sum()), int(people.sum())
    ([True, False, True], 6, 60)
    """
    p = expected / expected.sum()
    ages = rng.multinomial(children, p).T
    keep = ages.sum(axis=1) > 0
    ages = ages[keep]
    q = expected[keep] / expected[keep].sum()
    people = ages.sum(axis=1) + rng.multinomial(residents - int(ages.sum()), q)
    return keep, ages, people
