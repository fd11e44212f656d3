"""The demand layer: school-age children by cell, year, scenario, level and grade.

:func:`project_demand` adds two parts for every population cell:

- the cell's own children, aged forward from the base year by the cohort model of
  :mod:`layout.demand.cohorts` under each :class:`~layout.demand.Scenario`;
- the children of new residential developments (:mod:`layout.demand.yields`) delivered after
  the base year, put in the cell that contains the development's representative point. They are the
  same in every scenario.

:func:`demand_totals` sums the layer by county or township, :func:`demand_by_cell` gives it
one row per cell, scenario and year, and :func:`plot_county_demand` draws one county's primary
and junior children by year and scenario.

Examples
--------
>>> import geopandas as gpd
>>> import pandas as pd
>>> from shapely.geometry import Point, box
>>> from layout.demand import Scenario
>>> cells = gpd.GeoDataFrame(
...     {"cell_id": ["a", "b"], "county_code": ["c1", "c1"], "township_code": ["t1", "t2"],
...      "setting": ["urban", "rural"], "year": [2020, 2020],
...      **{f"age_{age}": [10, 0] for age in range(15)}},
...     geometry=[box(0, 0, 500, 500), box(500, 0, 1000, 500)], crs="EPSG:32651")
>>> homes = gpd.GeoDataFrame(
...     {"phase_id": ["p1"], "households": [100], "delivery_year": [2024],
...      "status": ["planned"]}, geometry=[Point(750, 250)], crs="EPSG:32651")
>>> still = Scenario(name="still", birth_rate={2020: 0.0}, survival=[1.0] * 15,
...                  net_migration={}, population_growth={})
>>> from layout.demand import YieldModel
>>> demand = project_demand(cells, homes, scenarios=[still], years=[2021, 2025],
...                         yield_model=YieldModel(), entry_age=6)
>>> totals = demand_totals(demand, by=("township_code",)).round({"children": 6})
>>> totals.loc[totals["year"] == 2025, ["township_code", "level", "children"]].to_numpy().tolist()
[['t1', 'primary', 60.0], ['t1', 'junior', 30.0], ['t2', 'primary', 12.6], ['t2', 'junior', 6.3]]
>>> wide = demand_by_cell(demand)
>>> in_2025 = wide[(wide["cell_id"] == "a") & (wide["year"] == 2025)]
>>> in_2025[["primary", "junior"]].round(6).to_numpy().tolist()
[[60.0, 30.0]]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import _validate
from ..errors import ValidationError
from ..schema import CHILD_LEVELS, GRADE_LEVELS, GRADES, LEVEL_GRADES
from .cohorts import CohortProjection, project_cohorts
from .developments import development_children
from .scenarios import Scenario
from .yields import YieldModel

log = logging.getLogger(__name__)

DEMAND_COLUMNS: tuple[str, ...] = (
    "cell_id",
    "county_code",
    "township_code",
    "scenario",
    "year",
    "level",
    "grade",
    "children",
    "from_developments",
    "geometry",
)
"""Columns of the demand layer returned by :func:`project_demand`."""


def project_demand(
    population: gpd.GeoDataFrame,
    developments: gpd.GeoDataFrame,
    *,
    scenarios: Sequence[Scenario],
    years: range | Sequence[int],
    yield_model: YieldModel,
    entry_age: int,
) -> gpd.GeoDataFrame:
    """Project school-age children per cell, year, scenario and grade, with new developments.

    Parameters
    ----------
    population
        The population layer (cell polygons with ``cell_id``, ``county_code``,
        ``township_code``, ``setting``, ``year`` and ``age_0`` ... ``age_14``).
    developments
        The developments layer (points or polygons with ``phase_id``, ``households``,
        ``delivery_year``, ``status``), in the population's CRS.
    scenarios
        Demographic scenarios, with distinct names.
    years
        Projection years, each the population's base year or later. Every phase not yet
        completed must be delivered after the base year and no phase after the last year.
    yield_model
        Yields of new developments; ``None`` uses the default rates of
        :class:`~layout.demand.YieldRates`.
    entry_age
        Age of a child in grade 1.

    Returns
    -------
    geopandas.GeoDataFrame
        Long form, one row per scenario, year, cell and grade 1-9 (in that order) with the
        :data:`DEMAND_COLUMNS`; ``children`` includes ``from_developments``. Geometry is the
        cell's polygon.

    Raises
    ------
    ValidationError
        For bad population or development rows, CRS mismatch, a development phase outside
        every cell, or phases delivered outside the plan period (naming the ``phase_id``).

    Examples
    --------
    See the module examples.
    """
    if not isinstance(population, gpd.GeoDataFrame):
        raise ValidationError("population: expected a GeoDataFrame of cell polygons")
    problems = _validate.missing_columns(population, ["township_code"], layer="population")
    if problems:
        raise ValidationError(problems)
    scenarios = _distinct_scenarios(scenarios)
    projections = [
        project_cohorts(population, scenario=s, years=years, entry_age=entry_age) for s in scenarios
    ]
    first = projections[0]
    added = _development_grid(
        population,
        developments,
        years=first.years,
        base_year=first.base_year,
        yield_model=yield_model,
    )
    return _long_form(population, projections, added)


def demand_totals(demand: pd.DataFrame, *, by: Sequence[str] = ("county_code",)) -> pd.DataFrame:
    """Sum the demand layer by area, scenario, year and level.

    Parameters
    ----------
    demand
        The layer from :func:`project_demand`.
    by
        Area columns to group by, e.g. ``("county_code",)`` or
        ``("county_code", "township_code")``.

    Returns
    -------
    pandas.DataFrame
        Columns ``*by``, ``scenario``, ``year``, ``level``, ``children`` and
        ``from_developments``, sorted in that order.

    Examples
    --------
    See the module examples.
    """
    by = (by,) if isinstance(by, str) else tuple(by)
    keys = [*by, "scenario", "year", "level"]
    problems = _validate.missing_columns(
        demand, [*keys, "children", "from_developments"], layer="demand"
    )
    if len(set(keys)) < len(keys):
        problems.append(f"demand totals: by={by!r} must not repeat scenario, year or level")
    if problems:
        raise ValidationError(problems)
    table = pd.DataFrame(demand[[*keys, "children", "from_developments"]])
    return table.groupby(keys, observed=True, sort=True).sum().reset_index()


def scenario_names(demand: pd.DataFrame) -> list[str]:
    """Return the scenarios of a demand table, in the order they first appear.

    Examples
    --------
    >>> import pandas as pd
    >>> scenario_names(pd.DataFrame({"scenario": pd.Categorical(["high", "low", "high"])}))
    ['high', 'low']
    """
    return [str(name) for name in pd.unique(demand["scenario"])]


def focus_scenario(names: Sequence[str]) -> str:
    """Return the scenario a run reports on: ``medium`` when there is one, else the middle one.

    Examples
    --------
    >>> focus_scenario(["low", "medium", "high"]), focus_scenario(["a", "b", "c", "d"])
    ('medium', 'c')
    """
    return "medium" if "medium" in names else names[len(names) // 2]


def demand_by_cell(demand: pd.DataFrame) -> pd.DataFrame:
    """Reshape the demand layer to one row per cell, scenario and year, one column per grade.

    Parameters
    ----------
    demand
        The layer of :func:`project_demand` (its row order: scenario, year, cell, grade).

    Returns
    -------
    pandas.DataFrame
        ``cell_id``, ``county_code``, ``township_code``, ``scenario``, ``year``, ``grade_1`` ...
        ``grade_9``, ``primary``, ``junior`` and ``from_developments`` (children of both levels
        that new developments bring). Nine times fewer rows than the layer, no geometry: the
        form written to the results GeoPackage next to the cells layer.

    Examples
    --------
    See the module examples.
    """
    n_grades = len(GRADES)
    grade = demand["grade"].to_numpy()
    if len(grade) % n_grades or not (grade.reshape(-1, n_grades) == np.asarray(GRADES)).all():
        raise ValidationError(
            "demand: rows are not in the order of project_demand (nine grades per cell, year "
            "and scenario); pass the layer as project_demand returns it"
        )
    first = pd.DataFrame(demand.iloc[::n_grades])
    keys = ["cell_id", "county_code", "township_code", "scenario", "year"]
    table = first[keys].reset_index(drop=True)
    children = demand["children"].to_numpy().reshape(-1, n_grades)
    for i, g in enumerate(GRADES):
        table[f"grade_{g}"] = children[:, i]
    for level in CHILD_LEVELS:
        table[level] = children[:, [GRADES.index(g) for g in LEVEL_GRADES[level]]].sum(axis=1)
    table["from_developments"] = (
        demand["from_developments"].to_numpy().reshape(-1, n_grades).sum(axis=1)
    )
    return table


def _distinct_scenarios(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """Check that ``scenarios`` is a non-empty list of Scenario with distinct names."""
    items: list[Scenario] = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
    if not items or not all(isinstance(s, Scenario) for s in items):
        raise ValidationError(
            "scenarios must be a non-empty list of layout.demand.Scenario, e.g. "
            "layout.demand.default_scenarios()"
        )
    names = [s.name for s in items]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValidationError(f"scenarios: names {repeated} are used more than once; rename them")
    return items


def _development_grid(
    population: gpd.GeoDataFrame,
    developments: gpd.GeoDataFrame,
    *,
    years: tuple[int, ...],
    base_year: int,
    yield_model: YieldModel,
) -> np.ndarray:
    """Return development children as an array (years, cells, grades)."""
    table = development_children(
        developments, years=years, base_year=base_year, yield_model=yield_model
    )
    added = np.zeros((len(years), len(population), len(GRADES)))
    if table.empty:
        return added
    delivered = developments[developments["phase_id"].isin(table["phase_id"])]
    cells = pd.Series(_containing_cells(delivered, population), index=delivered["phase_id"])
    np.add.at(
        added,
        (
            np.searchsorted(years, table["year"].to_numpy()),
            cells.loc[table["phase_id"]].to_numpy(),
            table["grade"].to_numpy() - 1,
        ),
        table["children"].to_numpy(),
    )
    log.info("%d development phases add children from %d", len(delivered), base_year + 1)
    return added


def _containing_cells(phases: gpd.GeoDataFrame, population: gpd.GeoDataFrame) -> np.ndarray:
    """Return the position of the cell holding each phase's representative point.

    A point on a border shared by several cells goes to the first of them in layer order.
    """
    if not isinstance(phases, gpd.GeoDataFrame):
        raise ValidationError("developments: expected a GeoDataFrame with phase geometries")
    if phases.crs != population.crs:
        raise ValidationError(
            f"developments: CRS {phases.crs} differs from the population's {population.crs}; "
            "reproject one, e.g. developments.to_crs(population.crs)"
        )
    ids = phases["phase_id"]
    blank = (phases.geometry.isna() | phases.geometry.is_empty).to_numpy()
    if blank.any():
        raise ValidationError(
            f"developments: geometry is empty in phase_id {_validate.ids_text(ids[blank])}; add a "
            "point "
            "or polygon for each phase"
        )
    points = phases.geometry.representative_point()
    found, cell = population.sindex.query(points, predicate="intersects")
    first = np.full(len(phases), len(population))
    np.minimum.at(first, found, cell)
    outside = first == len(population)
    if outside.any():
        raise ValidationError(
            "developments: the representative point is outside every population cell in "
            f"phase_id {_validate.ids_text(ids[outside])}; fix the geometry or add the cells "
            "that cover "
            "it to the population layer"
        )
    return first


def _long_form(
    population: gpd.GeoDataFrame, projections: list[CohortProjection], added: np.ndarray
) -> gpd.GeoDataFrame:
    """Stack scenarios x years x cells x grades into the demand layer."""
    first = projections[0]
    n_scenarios, (n_years, n_cells, n_grades) = len(projections), added.shape
    per_scenario = n_years * n_cells * n_grades
    cell = np.tile(np.repeat(np.arange(n_cells), n_grades), n_scenarios * n_years)
    level_code = np.array([CHILD_LEVELS.index(level) for level in GRADE_LEVELS])
    columns = {
        # Taken from the columns' own arrays: no per-row conversion of the strings.
        **{
            name: population[name].array.take(cell)
            for name in ("cell_id", "county_code", "township_code")
        },
        "scenario": pd.Categorical.from_codes(
            np.repeat(np.arange(n_scenarios), per_scenario),
            categories=pd.Index([p.scenario for p in projections]),
        ),
        "year": np.tile(np.repeat(np.asarray(first.years), n_cells * n_grades), n_scenarios),
        "level": pd.Categorical.from_codes(
            np.tile(level_code, n_scenarios * n_years * n_cells), categories=pd.Index(CHILD_LEVELS)
        ),
        "grade": np.tile(np.asarray(GRADES), n_scenarios * n_years * n_cells),
        "children": (np.stack([p.children for p in projections]) + added).ravel(),
        "from_developments": np.tile(added.ravel(), n_scenarios),
    }
    return gpd.GeoDataFrame(
        columns, geometry=population.geometry.array.take(cell), crs=population.crs
    )
