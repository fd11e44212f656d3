"""Cohort projection of the children aged 0-14 of every population cell, year by year.

The population layer gives, per grid cell, the children of each single year of age 0-14 in a
base year. :func:`project_cohorts` moves them forward one year at a time under a
:class:`~layout.demand.Scenario` (see :mod:`layout.demand.scenarios` for the model), for all cells
at once: the state is a cells x 15 array and the only Python loop is over years.

A child of age *a* is in grade ``a - entry_age + 1``: with the default entry age 6, grades 1-6
(primary) are ages 6-11 and grades 7-9 (junior middle) are ages 12-14. With entry age 7, grade 9
is age 15: the population layer then needs an ``age_15`` column, and the children aged 15
survive and migrate at the rates of age 14 (the scenarios give rates for ages 0-14).

Every projected year is also written to a ledger, so that the accounting can be checked::

    end = start + births - deaths + net_migration - aged_out

where ``start`` and ``end`` are the children held (aged 0-14, or to 15 with entry age 7) before
and after the year, ``births`` the new age-0 children, ``deaths`` the children who did not
survive, ``net_migration`` the net arrivals among survivors and ``aged_out`` the survivors of
the oldest age held, who leave.

Examples
--------
>>> import pandas as pd
>>> from layout.demand import Scenario
>>> cells = pd.DataFrame({"cell_id": ["a"], "county_code": ["210381"], "setting": ["rural"],
...                       "year": [2020], **{f"age_{a}": [10] for a in range(15)}})
>>> flat = Scenario(name="flat", birth_rate={2020: 0.0}, survival=[1.0] * 15,
...                 net_migration={}, population_growth={})
>>> result = project_cohorts(cells, scenario=flat, years=[2021], entry_age=6)
>>> result.level("primary")[0].tolist(), result.level("junior")[0].tolist()
([60.0], [30.0])
>>> result.ledger[["births", "aged_out", "end"]].to_numpy().tolist()
[[0.0, 10.0, 140.0]]
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from .. import _validate
from ..errors import ValidationError
from ..schema import AGES, CHILD_LEVELS, GRADES, LEVEL_GRADES, SETTINGS, age_columns
from .scenarios import ALL_CELLS, Scenario

log = logging.getLogger(__name__)

LEDGER_COLUMNS: tuple[str, ...] = (
    "scenario",
    "year",
    "start",
    "births",
    "deaths",
    "net_migration",
    "aged_out",
    "end",
)
"""Columns of :attr:`CohortProjection.ledger`, one row per projected year."""


@dataclass(frozen=True, eq=False)
class CohortProjection:
    """Children per cell and grade in each projection year of one scenario.

    Parameters
    ----------
    scenario
        Name of the scenario projected.
    base_year
        Year of the population layer's counts.
    years
        Projection years, ascending; ``children`` is indexed by them.
    entry_age
        Age of a child in grade 1.
    index
        Index of the population layer; cells are in this order.
    cell_ids
        The population layer's ``cell_id`` values, in the same order.
    children
        Array of shape (years, cells, 9): children in grades 1-9.
    ledger
        One row per projected year from ``base_year + 1`` to the last year, with the
        :data:`LEDGER_COLUMNS` (totals over all cells and the ages held).

    Examples
    --------
    See :func:`project_cohorts`.
    """

    scenario: str
    base_year: int
    years: tuple[int, ...]
    entry_age: int
    index: pd.Index
    cell_ids: np.ndarray
    children: np.ndarray
    ledger: pd.DataFrame

    def level(self, level: str) -> np.ndarray:
        """Return the children of a school level per year and cell.

        Parameters
        ----------
        level
            ``"primary"`` (grades 1-6) or ``"junior"`` (grades 7-9).

        Returns
        -------
        numpy.ndarray
            Shape (years, cells).

        Examples
        --------
        See :func:`project_cohorts`.
        """
        if level not in CHILD_LEVELS:
            raise ValidationError(f"level must be one of {CHILD_LEVELS}, got {level!r}")
        grades = np.asarray(LEVEL_GRADES[level]) - 1
        return cast(np.ndarray, self.children[:, :, grades].sum(axis=2))

    def to_frame(self, year: int) -> pd.DataFrame:
        """Return one year's children per cell as a table aligned to the population index.

        Parameters
        ----------
        year
            One of :attr:`years`.

        Returns
        -------
        pandas.DataFrame
            Columns ``cell_id``, ``grade_1`` ... ``grade_9``, ``primary`` and ``junior``.

        Examples
        --------
        >>> import pandas as pd
        >>> from layout.demand import Scenario
        >>> cells = pd.DataFrame({"cell_id": ["a"], "county_code": ["c"], "setting": ["urban"],
        ...                       "year": [2020], **{f"age_{a}": [1] for a in range(15)}})
        >>> result = project_cohorts(cells, scenario=Scenario(name="m"), years=[2020], entry_age=6)
        >>> result.to_frame(2020).loc[0, ["grade_1", "primary", "junior"]].tolist()
        [1.0, 6.0, 3.0]
        """
        if year not in self.years:
            raise ValidationError(f"year {year} was not projected; choose one of {self.years}")
        counts = self.children[self.years.index(year)]
        frame = pd.DataFrame(counts, index=self.index, columns=[f"grade_{g}" for g in GRADES])
        for level in CHILD_LEVELS:
            frame[level] = frame[[f"grade_{g}" for g in LEVEL_GRADES[level]]].sum(axis=1)
        frame.insert(0, "cell_id", self.cell_ids)
        return frame


def project_cohorts(
    population: pd.DataFrame,
    *,
    scenario: Scenario,
    years: range | Sequence[int],
    entry_age: int,
) -> CohortProjection:
    """Project each cell's children aged 0-14 forward from the base year.

    Each year, for all cells at once: children of age *a* survive with ``survival[a]``; the
    survivors change by the cell's net-migration rate of age *a* and become one year older;
    survivors of the oldest age held (14, or grade 9's age if older) age out; the new age-0
    children are the year's births, the birth rate times the cell's residents (its base-year
    children 0-14 / ``child_share``, grown by the cell's ``population_growth`` each year).

    Parameters
    ----------
    population
        The population layer: ``cell_id``, ``county_code``, ``setting``, ``year`` (one base
        year for all cells) and ``age_0`` ... ``age_14``.
    scenario
        Birth, survival and migration parameters.
    years
        Years to report, each the base year or later.
    entry_age
        Age of a child in grade 1 (the profile's ``enrolment.entry_age``), 0 to 7; with 7,
        grade 9 is age 15 and the population layer needs ``age_15``.

    Returns
    -------
    CohortProjection
        Children per year, cell and grade, and the yearly ledger.

    Raises
    ------
    ValidationError
        If columns or ages are missing, counts are negative or blank, cell ids repeat, the base
        year is not unique, or ``years`` or ``entry_age`` are out of range.

    Examples
    --------
    Two cells with 100 children of every age, everyone survives, rural cells lose 10% a year
    and no child is born:

    >>> import pandas as pd
    >>> from layout.demand import Scenario
    >>> cells = pd.DataFrame({"cell_id": ["u", "r"], "county_code": ["c", "c"],
    ...                       "setting": ["urban", "rural"], "year": [2020, 2020],
    ...                       **{f"age_{a}": [100, 100] for a in range(15)}})
    >>> s = Scenario(name="s", birth_rate={2020: 0.0}, survival=[1.0] * 15,
    ...              net_migration={"rural": -0.1}, population_growth={})
    >>> result = project_cohorts(cells, scenario=s, years=range(2021, 2023), entry_age=6)
    >>> result.children[:, :, 0].tolist()  # grade 1 in 2021 and 2022, urban and rural
    [[100.0, 90.0], [100.0, 81.0]]
    """
    if not isinstance(scenario, Scenario):
        raise ValidationError(f"scenario must be a layout.demand.Scenario, got {scenario!r}")
    grade_ages = _grade_ages(entry_age)
    ages, base_year = _base_ages(population, oldest=grade_ages.stop - 1)
    wanted = projection_years(years, base_year=base_year)
    where = f"scenario {scenario.name!r}"
    migration = _cell_rates(population, scenario.net_migration, by_age=True, where=where)
    growth = _cell_rates(population, scenario.population_growth, by_age=False, where=where)
    residents = ages[:, : len(AGES)].sum(axis=1) / scenario.child_share
    older = ages.shape[1] - len(AGES)  # ages past 14 take the rates of age 14
    mortality = np.pad(1.0 - np.asarray(scenario.survival), (0, older), mode="edge")
    migration = np.pad(migration, ((0, 0), (0, older)), mode="edge")

    children = np.empty((len(wanted), len(ages), len(GRADES)))
    slot = {year: i for i, year in enumerate(wanted)}
    if base_year in slot:
        children[slot[base_year]] = ages[:, grade_ages]
    steps = np.arange(base_year + 1, wanted[-1] + 1)
    rows = []
    state = ages
    for year, rate in zip(steps.tolist(), scenario.birth_rate_in(steps) / 1000.0, strict=True):
        births = rate * residents * (1.0 + growth) ** (year - base_year)
        state, flows = _age_one_year(state, mortality=mortality, migration=migration, births=births)
        rows.append((scenario.name, year, *flows))
        if year in slot:
            children[slot[year]] = state[:, grade_ages]
    log.info("%s: projected %d cells from %d to %d", where, len(ages), base_year, wanted[-1])
    return CohortProjection(
        scenario=scenario.name,
        base_year=base_year,
        years=wanted,
        entry_age=entry_age,
        index=population.index,
        cell_ids=population["cell_id"].to_numpy(),
        children=children,
        ledger=pd.DataFrame(rows, columns=list(LEDGER_COLUMNS)),
    )


def projection_years(years: range | Sequence[int], *, base_year: int) -> tuple[int, ...]:
    """Check the requested projection years and return them sorted.

    Parameters
    ----------
    years
        Calendar years; each must be a whole number, the base year or later.
    base_year
        Year of the population counts.

    Returns
    -------
    tuple of int
        Unique years, ascending.

    Examples
    --------
    >>> projection_years([2025, 2021], base_year=2020)
    (2021, 2025)
    """
    values = list(years) if isinstance(years, range | Sequence | np.ndarray) else None
    if not values or not all(
        isinstance(y, int | np.integer) and not isinstance(y, bool) for y in values
    ):
        raise ValidationError(
            f"years must be a non-empty list or range of whole years, got {years!r}"
        )
    early = sorted({int(y) for y in values if y < base_year})
    if early:
        raise ValidationError(
            f"years {early} are before the population's base year {base_year}; "
            f"project from {base_year} on, e.g. years=range({base_year + 1}, {base_year + 11})"
        )
    return tuple(sorted({int(y) for y in values}))


def _age_one_year(
    state: np.ndarray, *, mortality: np.ndarray, migration: np.ndarray, births: np.ndarray
) -> tuple[np.ndarray, tuple[float, ...]]:
    """Move cells x ages counts on by one year; return them and the year's ledger totals.

    Two work arrays per year, reused in place: the province-scale grid has 9 million counts.
    """
    work = state * mortality  # deaths
    deaths = work.sum()
    np.subtract(state, work, out=work)  # survivors
    after = work * migration  # net migrants among survivors
    migrants = after.sum()
    work += after  # survivors after migration, still at last year's age
    after[:, 1:] = work[:, :-1]
    after[:, 0] = births
    flows = (
        float(state.sum()),
        float(births.sum()),
        float(deaths),
        float(migrants),
        float(work[:, -1].sum()),
        float(after.sum()),
    )
    return after, flows


_LAST_ENTRY_AGE = 7
"""The oldest entry age projected: grade 9 is then age 15 (an ``age_15`` column)."""


def _grade_ages(entry_age: int) -> slice:
    """Return the ages of grades 1-9 as a slice, checking the entry age."""
    whole = isinstance(entry_age, int | np.integer) and not isinstance(entry_age, bool)
    if not whole or not 0 <= entry_age <= _LAST_ENTRY_AGE:
        raise ValidationError(
            f"entry_age must be a whole number from 0 to {_LAST_ENTRY_AGE} (grade 9 is age "
            f"entry_age + 8), got {entry_age!r}"
        )
    return slice(entry_age, entry_age + len(GRADES))


def _base_ages(population: pd.DataFrame, *, oldest: int) -> tuple[np.ndarray, int]:
    """Check the population layer; return its counts by age and its base year.

    Cells x ages 0..``oldest`` (at least 0-14): ages past 14 (grade 9 of a late entry age)
    need their own columns.
    """
    if not isinstance(population, pd.DataFrame) or population.empty:
        raise ValidationError("population: expected a non-empty (Geo)DataFrame of cells")
    columns = [*age_columns(), *(f"age_{a}" for a in range(len(AGES), oldest + 1))]
    late = [c for c in columns[len(AGES) :] if c not in population.columns]
    if late:
        raise ValidationError(
            f"population: entry_age {oldest - len(GRADES) + 1} puts grade 9 at age {oldest}, "
            f"past the layer's ages 0-{max(AGES)}: add column(s) {late} (children of that age in "
            "the base year), or set [standards] enrolment.entry_age to "
            f"{len(AGES) - len(GRADES)} or less"
        )
    check = _validate.check_columns(
        population, "population", ["county_code", "setting", "year", *columns]
    )
    check.raise_if_any()
    years = _validate.numeric_values(population, "year")
    found = np.unique(years)
    if len(found) > 1:
        where = "; ".join(
            f"{int(y)} in cell_id {_validate.ids_text(population['cell_id'][years == y])}"
            for y in found
        )
        raise ValidationError(
            f"population: column 'year' must hold one base year for all cells; found {where}; "
            "project each base year separately"
        )
    ages = population[columns].to_numpy(dtype=float)
    return ages, int(found[0])


def _cell_rates(
    population: pd.DataFrame, table: Mapping[str, Any], *, by_age: bool, where: str
) -> np.ndarray:
    """Give each cell the rate of its county, else of its setting, else of ``"all"``, else 0.

    Returns shape (cells, 15) when ``by_age``, else (cells,).
    """
    county = population["county_code"].astype(str).to_numpy()
    setting = population["setting"].to_numpy()
    keys = list(table)
    zero = np.zeros(len(AGES)) if by_age else np.zeros(())
    values = np.stack([zero, *(np.asarray(table[k], dtype=float) for k in keys)])
    pick = np.zeros(len(population), dtype=np.intp)
    rank = {ALL_CELLS: 0, **{s: 1 for s in SETTINGS}}
    for position in sorted(range(len(keys)), key=lambda i: rank.get(keys[i], 2)):
        key = keys[position]
        if key == ALL_CELLS:
            match = np.ones(len(population), dtype=bool)
        else:
            match = (setting == key) if key in SETTINGS else (county == key)
        if not match.any() and key not in rank:
            log.warning("%s: rate key %r matches no cell's county_code", where, key)
        pick[match] = position + 1
    return values[pick]
