"""Columns estimated from the forms bureaus hold, each flagged in its layer.

Grades come from school totals, single years of age from five-year groups, cells from village
points:

* **Grades from totals** (:func:`grades_from_totals`): a roster with 在校生数 and 班级数 but no
  per-grade columns. Rule: the classes are spread evenly over the grades the school's level
  teaches (:data:`layout.schema.LEVEL_GRADES`), a remainder going to the lowest grades; the
  pupils are spread in proportion to each grade's classes, rounded by largest remainder so
  that they sum to the total. Flag: ``grades_estimated``.
* **Single years of age** (:func:`ages_from_groups`): village tables give ages 0-4, 5-9 and
  10-14. Method: a monotone cubic spline through the cumulative counts at ages 0, 5, 10 and 15
  (Fritsch-Carlson PCHIP, :class:`scipy.interpolate.PchipInterpolator`), differenced at single
  years: the "monotone" graduation of DemoTools (``graduate_mono``). It keeps each group's total
  exactly, never gives a negative count, and needs no groups above 15, which Sprague's or Beers'
  multipliers do (five groups at least) and village tables do not have. Counts are rounded by
  largest remainder within each group. Flag: ``ages_estimated``.
* **Cells from village points** (:func:`cells_from_points`): Voronoi polygons of the village
  points, clipped to the study area, so that every place in the study lies in one village's
  cell (developments are placed in the cell holding them). Flag: ``cell_estimated``.

Examples
--------
>>> import pandas as pd
>>> schools = pd.DataFrame({"level": ["primary"], "enrolment": ["301"], "classes": ["8"]})
>>> out = grades_from_totals(schools)
>>> out.filter(like="classes_g").iloc[0].tolist()
[2, 2, 1, 1, 1, 1, 0, 0, 0]
>>> int(out.filter(like="enrolment_g").sum(axis=1).iloc[0]), bool(out["grades_estimated"].iloc[0])
(301, True)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.interpolate import PchipInterpolator
from shapely.geometry.base import BaseGeometry

from ..schema import GRADES, LEVEL_GRADES, age_columns, classes_columns, enrolment_columns

AGE_GROUPS: dict[str, tuple[int, int]] = {
    "age_0_4": (0, 5),
    "age_5_9": (5, 10),
    "age_10_14": (10, 15),
}
"""Five-year age groups (source fields) and their ages ``[start, end)``."""


def largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    """Round non-negative ``shares`` to whole numbers summing to ``total`` (ties: first first).

    Examples
    --------
    >>> largest_remainder(np.array([1.0, 1.0, 1.0]), 4).tolist()
    [2, 1, 1]
    """
    shares = np.asarray(shares, dtype=float)
    if total <= 0 or shares.sum() <= 0:
        return np.zeros(len(shares), dtype=np.int64)
    exact = shares / shares.sum() * total
    out: np.ndarray = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - out), kind="stable")
    out[order[: total - int(out.sum())]] += 1
    return out


def _whole(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(values) & (values >= 0), np.round(values), 0).astype(np.int64)


def grades_from_totals(schools: pd.DataFrame) -> pd.DataFrame:
    """Return ``schools`` with per-grade enrolment and classes estimated from the totals.

    Parameters
    ----------
    schools
        A roster with ``level``, ``enrolment`` and ``classes`` (totals); not modified. Rows of
        an unknown level get no grades (the level is reported by the layer check).

    Returns
    -------
    pandas.DataFrame
        With ``enrolment_g1..9``, ``classes_g1..9`` and ``grades_estimated`` (True).
    """
    out = schools.copy()
    pupils, classes = _whole(out, "enrolment"), _whole(out, "classes")
    enrol = np.zeros((len(out), len(GRADES)), dtype=np.int64)
    rooms = np.zeros_like(enrol)
    for i, level in enumerate(out["level"].astype("string").fillna("")):
        grades = np.array(LEVEL_GRADES.get(str(level), ()), dtype=int) - 1
        if not len(grades):
            continue
        rooms[i, grades] = largest_remainder(np.ones(len(grades)), int(classes[i]))
        weights = rooms[i, grades] if classes[i] > 0 else np.ones(len(grades))
        enrol[i, grades] = largest_remainder(weights.astype(float), int(pupils[i]))
    out[enrolment_columns()] = enrol
    out[classes_columns()] = rooms
    out["grades_estimated"] = True
    return out.drop(columns=["enrolment", "classes"])


def ages_from_groups(population: pd.DataFrame) -> pd.DataFrame:
    """Return ``population`` with single years of age 0-14 graduated from five-year groups.

    Parameters
    ----------
    population
        Rows with the source fields of :data:`AGE_GROUPS`; not modified.

    Returns
    -------
    pandas.DataFrame
        With ``age_0`` ... ``age_14`` and ``ages_estimated`` (True); each group's total kept.

    Examples
    --------
    >>> villages = pd.DataFrame({"age_0_4": [50], "age_5_9": [100], "age_10_14": [150]})
    >>> ages = ages_from_groups(villages)[[f"age_{a}" for a in range(15)]].iloc[0]
    >>> ages.tolist()[:5], int(ages.iloc[5:10].sum())
    ([6, 9, 10, 12, 13], 100)
    """
    out = population.copy()
    groups = np.column_stack([_whole(out, c) for c in AGE_GROUPS])
    edges = np.array([0, *(end for _, end in AGE_GROUPS.values())], dtype=float)
    single = np.zeros((len(out), len(edges) * 5 - 5), dtype=np.int64)
    for i, counts in enumerate(groups):
        cumulative = np.concatenate([[0.0], np.cumsum(counts)])
        years = np.diff(PchipInterpolator(edges, cumulative)(np.arange(edges[-1] + 1)))
        for g, (start, end) in enumerate(AGE_GROUPS.values()):
            single[i, start:end] = largest_remainder(
                np.clip(years[start:end], 0, None), int(counts[g])
            )
    out[age_columns()] = single
    out["ages_estimated"] = True
    return out.drop(columns=list(AGE_GROUPS))


def cells_from_points(points: gpd.GeoDataFrame, area: BaseGeometry) -> gpd.GeoDataFrame:
    """Return village points as cells: their Voronoi polygons clipped to ``area``.

    Parameters
    ----------
    points
        One point per village, in a metric CRS; not modified.
    area
        The study area, in the same CRS.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> pts = gpd.GeoDataFrame(geometry=[Point(1, 1), Point(3, 1)], crs="EPSG:4550")
    >>> cells_from_points(pts, box(0, 0, 4, 2)).area.tolist()
    [4.0, 4.0]
    """
    geoms = np.asarray(points.geometry.array)
    regions = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(geoms), extend_to=area)
    )
    tree = shapely.STRtree(regions)
    hit_point, hit_region = tree.query(geoms, predicate="intersects")
    region = np.full(len(geoms), -1)
    region[hit_point] = hit_region
    cells = shapely.intersection(regions[region], area)
    out = points.copy()
    out = out.set_geometry(gpd.GeoSeries(cells, index=points.index, crs=points.crs))
    out["cell_estimated"] = True
    return out
