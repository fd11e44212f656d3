"""Demographic scenarios for the school-age projection: births, survival and migration.

A :class:`Scenario` holds every parameter of the cohort model in :mod:`layout.demand.cohorts`.
A study
names its scenarios in TOML tables ``[scenarios.<name>]``; :func:`scenarios_from_toml` turns
them into scenarios and refuses unknown keys, wrong types and out-of-range rates.

The model (see :func:`layout.demand.project_cohorts`) is:

- residents of a cell in the base year = its children aged 0-14 / ``child_share``; they then
  change by ``population_growth`` per year (adults are not projected one by one);
- births in year *y* = ``birth_rate`` (per 1000 residents) in *y* x residents in *y*; they are
  the cell's age-0 children of year *y*;
- each year a child aged *a* survives with probability ``survival[a]``, and the survivors
  change by the net-migration rate of that age (``net_migration``, +0.01 = 1% more);
  survivors become one year older, and those aged 14 leave the table (ageing out).

Default values (every one an assumption unless a source is named):

- ``birth_rate``: Anshan 2021 4.33 and 2022 3.65 births per 1000 residents (Anshan statistical
  communiqués, see ``/work/shared/facts``); the path after 2022 is an assumption per scenario.
  Between the years given the rate is interpolated linearly; before the first and after the
  last it stays at the nearest value.
- ``child_share`` 0.1112: share of residents aged 0-14 in Liaoning at the 2020 (7th) census
  (Liaoning census communiqué of 2021-05-30). Anshan's own share is not in our sources: using
  the provincial share for Anshan is an assumption.
- ``population_growth`` -0.0092 per year: Anshan's average annual change of residents between
  the 2010 and 2020 censuses (-8.79% in ten years, Anshan census communiqué no. 2). The low and
  high values (-0.015, -0.005) are assumptions.
- ``survival``: assumption, close to China's 2020 infant (about 5 per 1000) and under-five
  (about 7.5 per 1000) mortality: 0.9975 at age 0, 0.9995 at ages 1-4, 0.9998 at 5-14.
  Anshan's crude death rate (9.56 per 1000 in 2022) is not used: deaths concentrate at old
  ages and say little about children.
- ``net_migration``: assumption: children move from rural to urban cells; medium +0.5% per
  year in urban cells and -1.5% in rural cells.

Examples
--------
>>> low, medium, high = default_scenarios()
>>> medium.birth_rate[2022]
3.65
>>> [s.name for s in scenarios_from_toml({"slow": {"birth_rate": {"2021": 4.0}}})]
['slow']
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any, cast

import numpy as np
import pandas as pd

from ..errors import ValidationError
from ..schema import AGES, SETTINGS

ALL_CELLS = "all"
"""Key of the rate that applies to cells matched by no setting or county key."""

ANSHAN_BIRTH_RATE: Mapping[int, float] = MappingProxyType({2021: 4.33, 2022: 3.65})
"""Births per 1000 residents in Anshan (statistical communiqués 2021 and 2022)."""

LIAONING_CHILD_SHARE_2020 = 0.1112
"""Share of residents aged 0-14 in Liaoning, 7th census (2020)."""

ANSHAN_GROWTH_2010_2020 = -0.0092
"""Average annual change of Anshan's residents between the 2010 and 2020 censuses."""

DEFAULT_SURVIVAL: tuple[float, ...] = (0.9975,) + (0.9995,) * 4 + (0.9998,) * 10
"""Assumed one-year survival probability by age 0-14 (see the module notes)."""


@dataclass(frozen=True)
class Scenario:
    """Parameters of one demographic scenario of the cohort projection.

    Parameters
    ----------
    name
        Scenario name, e.g. ``"medium"``; used as the ``scenario`` column of the demand layer.
    birth_rate
        Births per 1000 residents by calendar year. Linear between the years given, constant
        before the first and after the last.
    survival
        Probability that a child of age 0, 1, ..., 14 lives one more year; 15 values in [0, 1].
    net_migration
        Annual net-migration rate of surviving children, keyed by ``"all"``, a setting
        (``"urban"``, ``"rural"``) or a county code. A value is one rate for every age or 15
        rates by age; each is -1 or more. A cell takes the rate of its county if given, else of
        its setting, else ``"all"``, else 0.
    population_growth
        Annual change of a cell's residents (the denominator of the birth rate), keyed like
        ``net_migration``; each above -1.
    child_share
        Share of residents aged 0-14 in the base year, used to estimate a cell's residents from
        its children; in (0, 1].
    description
        Free text saying where the assumptions come from.

    Examples
    --------
    >>> s = Scenario(name="flat", birth_rate={2021: 4.0}, net_migration={"rural": -0.01})
    >>> s.net_migration["rural"][:2]
    (-0.01, -0.01)
    >>> s.birth_rate_in([2020, 2030]).tolist()
    [4.0, 4.0]
    """

    name: str
    birth_rate: Mapping[int, float] = field(default_factory=lambda: ANSHAN_BIRTH_RATE)
    survival: Sequence[float] = DEFAULT_SURVIVAL
    net_migration: Mapping[str, float | Sequence[float]] = field(
        default_factory=lambda: MappingProxyType({"urban": 0.005, "rural": -0.015})
    )
    population_growth: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({ALL_CELLS: ANSHAN_GROWTH_2010_2020})
    )
    child_share: float = LIAONING_CHILD_SHARE_2020
    description: str = ""

    def __post_init__(self) -> None:
        problems: list[str] = []
        where = f"scenario {self.name!r}"
        if not isinstance(self.name, str) or not self.name.strip():
            problems.append(f"{where}: the name must be non-empty text")
        if not isinstance(self.description, str):
            # a caller may pass anything; the annotation only says what is valid
            problems.append(f"{where}: key 'description' must be text")  # type: ignore[unreachable]
        normal = {
            "birth_rate": _birth_rates(self.birth_rate, where=where, problems=problems),
            "survival": _survival(self.survival, where=where, problems=problems),
            "net_migration": _keyed(
                self.net_migration,
                key="net_migration",
                by_age=True,
                where=where,
                problems=problems,
            ),
            "population_growth": _keyed(
                self.population_growth,
                key="population_growth",
                by_age=False,
                where=where,
                problems=problems,
            ),
        }
        if not _is_number(self.child_share) or not 0 < self.child_share <= 1:
            problems.append(
                f"{where}: key 'child_share' must be a number in (0, 1] (the share of residents "
                f"aged 0-14, e.g. {LIAONING_CHILD_SHARE_2020}), got {self.child_share!r}"
            )
        if problems:
            raise ValidationError(problems)
        for key, value in normal.items():
            object.__setattr__(self, key, value)

    def birth_rate_in(self, years: Sequence[int] | np.ndarray) -> np.ndarray:
        """Return the births per 1000 residents in each of ``years``.

        Parameters
        ----------
        years
            Calendar years.

        Returns
        -------
        numpy.ndarray
            One rate per year, interpolated as described in the class docstring.

        Examples
        --------
        >>> Scenario(name="s", birth_rate={2020: 4.0, 2030: 3.0}).birth_rate_in([2025])
        array([3.5])
        """
        known = np.fromiter(self.birth_rate.keys(), dtype=float)
        rates = np.fromiter(self.birth_rate.values(), dtype=float)
        return cast(np.ndarray, np.interp(np.asarray(years, dtype=float), known, rates))


def default_scenarios() -> list[Scenario]:
    """Return the documented low, medium and high scenarios for Anshan.

    All three use the observed 2021-2022 birth rates; after 2022 the medium scenario stays at
    3.65 per 1000, the low one falls to 2.9 by 2030 and the high one recovers to 4.5 by 2030.
    The paths after 2022, the migration rates and the low/high growth are assumptions (see the
    module notes).

    Returns
    -------
    list of Scenario
        ``low``, ``medium`` and ``high``, in that order.

    Examples
    --------
    >>> [s.name for s in default_scenarios()]
    ['low', 'medium', 'high']
    """
    medium = Scenario(
        name="medium",
        description="Anshan birth rates 2021-2022 then flat; census 2010-2020 growth",
    )
    low = replace(
        medium,
        name="low",
        birth_rate={**ANSHAN_BIRTH_RATE, 2030: 2.9},
        net_migration={"urban": 0.0, "rural": -0.02},
        population_growth={ALL_CELLS: -0.015},
        description="birth rate falls to 2.9 per 1000 by 2030 (assumption); more out-migration",
    )
    high = replace(
        medium,
        name="high",
        birth_rate={**ANSHAN_BIRTH_RATE, 2030: 4.5},
        net_migration={"urban": 0.01, "rural": -0.01},
        population_growth={ALL_CELLS: -0.005},
        description="birth rate recovers to 4.5 per 1000 by 2030 (assumption); less out-migration",
    )
    return [low, medium, high]


def scenario_named(table: Mapping[str, Any] | None, name: str) -> Scenario:
    """Return the scenario ``name`` of a study's ``[scenarios]`` table, else of the defaults.

    Parameters
    ----------
    table
        The study's parsed ``[scenarios]`` table (``study.config.get("scenarios")``); ``None``
        or empty for :func:`default_scenarios`.
    name
        The scenario wanted.

    Returns
    -------
    Scenario

    Raises
    ------
    ValidationError
        If no scenario has that name (the message lists the names there are).

    Examples
    --------
    >>> scenario_named(None, "medium").birth_rate[2022]
    3.65
    >>> scenario_named(None, "fast")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: scenario 'fast' is not defined; choose one of low, medium, ...
    """
    scenarios = scenarios_from_toml(table) if table else default_scenarios()
    by_name = {s.name: s for s in scenarios}
    if name not in by_name:
        raise ValidationError(
            f"scenario {name!r} is not defined; choose one of {', '.join(by_name)} (from the "
            "study's [scenarios] table, or the defaults low, medium, high)"
        )
    return by_name[name]


DERIVED = (
    "from the study's own population: births per 1000 = (age 0-4 / 5) / residents; "
    "residents and migration held flat"
)
"""Description of the scenario :func:`scenarios_from_population` derives (outputs say so)."""


def scenarios_from_population(population: pd.DataFrame, *, year: int) -> dict[str, Any]:
    """Return a ``[scenarios]`` table of one scenario, ``medium``, from a study's own population.

    For a study without ``[scenarios]``: the birth rate is the yearly births its own counts
    imply, ``(children aged 0-4 / 5) / residents x 1000``, and ``child_share`` is its share of
    residents aged 0-14 (the Liaoning 2020 share when the layer has no ``residents``). Residents
    and migration are held flat: no assumption of another place is carried over.

    Parameters
    ----------
    population
        The population layer (``age_0`` ... ``age_14``, optionally ``residents``).
    year
        The year the counts describe (the study's base year).

    Examples
    --------
    >>> cells = pd.DataFrame({f"age_{a}": [10] for a in range(15)} | {"residents": [1500]})
    >>> scenarios_from_population(cells, year=2020)["medium"]["birth_rate"]
    {'2020': 6.67}
    """
    ages = population[[f"age_{a}" for a in AGES]].apply(pd.to_numeric, errors="coerce").sum()
    children = float(ages.sum())
    if "residents" in population.columns:
        residents = float(pd.to_numeric(population["residents"], errors="coerce").sum())
        share = round(children / residents, 4) if residents > 0 else LIAONING_CHILD_SHARE_2020
    else:
        share = LIAONING_CHILD_SHARE_2020
    residents = children / share if share > 0 else 0.0
    rate = round(float(ages.iloc[:5].sum()) / 5 / residents * 1000, 2) if residents > 0 else 0.0
    return {
        "medium": {
            "description": DERIVED,
            "birth_rate": {str(year): rate},
            "child_share": share,
            "net_migration": {ALL_CELLS: 0.0},
            "population_growth": {ALL_CELLS: 0.0},
        }
    }


_TOML_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Scenario) if f.name != "name")


def scenarios_from_toml(table: Mapping[str, Any]) -> list[Scenario]:
    """Build scenarios from a study's ``[scenarios]`` TOML table.

    Each ``[scenarios.<name>]`` sub-table may set any of ``birth_rate`` (a table of year =
    rate), ``survival`` (15 numbers), ``net_migration`` and ``population_growth`` (a number, or
    a table keyed by ``all``/``urban``/``rural``/county code), ``child_share`` and
    ``description``; keys left out take the medium defaults of :class:`Scenario`.

    Parameters
    ----------
    table
        The parsed ``scenarios`` table (``tomllib.loads(text)["scenarios"]``).

    Returns
    -------
    list of Scenario
        In the order of the table.

    Raises
    ------
    ValidationError
        Naming the scenario and key of every unknown key, wrong type or out-of-range value.

    Examples
    --------
    >>> import tomllib
    >>> text = '''
    ... [scenarios.low]
    ... birth_rate = {2021 = 4.33, 2030 = 2.9}
    ... net_migration = {rural = -0.02}
    ... '''
    >>> [low] = scenarios_from_toml(tomllib.loads(text)["scenarios"])
    >>> low.birth_rate_in([2030]).tolist()
    [2.9]
    """
    if not isinstance(table, Mapping) or not table:
        raise ValidationError(
            "scenarios: the [scenarios] table is empty or not a table; add at least one "
            "[scenarios.<name>] table, e.g. [scenarios.medium]"
        )
    problems: list[str] = []
    scenarios = []
    for name, params in table.items():
        where = f"scenario {name!r}"
        if not isinstance(params, Mapping):
            problems.append(f"{where}: [scenarios.{name}] must be a table of keys, got {params!r}")
            continue
        unknown = sorted(set(params) - set(_TOML_KEYS))
        if unknown:
            problems.append(
                f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                f"allowed keys are {', '.join(_TOML_KEYS)}"
            )
        kwargs = {key: value for key, value in params.items() if key in _TOML_KEYS}
        for key in ("net_migration", "population_growth"):
            if _is_number(kwargs.get(key)):
                kwargs[key] = {ALL_CELLS: kwargs[key]}
        if isinstance(kwargs.get("birth_rate"), Mapping):
            kwargs["birth_rate"] = {_year_key(k): v for k, v in kwargs["birth_rate"].items()}
        try:
            scenarios.append(Scenario(name=name, **kwargs))
        except ValidationError as error:
            problems.extend(error.problems)
    if problems:
        raise ValidationError(problems)
    return scenarios


def _year_key(key: object) -> object:
    """Turn a TOML year key such as ``"2021"`` into an int; leave anything else for the check."""
    return int(key) if isinstance(key, str) and key.strip().isdigit() else key


def _is_number(value: object) -> bool:
    """Tell whether ``value`` is a finite real number (booleans are not numbers here)."""
    return (
        not isinstance(value, bool | np.bool_)
        and isinstance(value, numbers.Real)
        and bool(np.isfinite(float(value)))
    )


def _is_sequence(value: object) -> bool:
    """Tell whether ``value`` is a list-like of values (text is not)."""
    return isinstance(value, Sequence | np.ndarray) and not isinstance(value, str | bytes)


def _birth_rates(value: Any, *, where: str, problems: list[str]) -> Mapping[int, float] | None:
    """Check ``birth_rate`` and return it sorted by year, read-only."""
    if not isinstance(value, Mapping) or not value:
        problems.append(
            f"{where}: key 'birth_rate' must be a non-empty table of year = births per 1000 "
            f"residents, e.g. {{2021 = 4.33}}, got {value!r}"
        )
        return None
    bad = [
        f"{year!r} = {rate!r}"
        for year, rate in value.items()
        if not isinstance(year, int)
        or isinstance(year, bool)
        or not _is_number(rate)
        or not 0 <= rate <= 1000
    ]
    if bad:
        problems.append(
            f"{where}: key 'birth_rate' has {', '.join(bad)}; each entry must be a whole year "
            "= a number of births per 1000 residents between 0 and 1000"
        )
        return None
    return MappingProxyType({int(y): float(value[y]) for y in sorted(value)})


def _survival(value: Any, *, where: str, problems: list[str]) -> tuple[float, ...] | None:
    """Check ``survival`` (15 probabilities) and return it as a tuple of floats."""
    if not _is_sequence(value) or len(value) != len(AGES) or not all(map(_is_number, value)):
        problems.append(
            f"{where}: key 'survival' must be a list of {len(AGES)} numbers (ages 0-14), "
            f"got {value!r}"
        )
        return None
    outside = [f"age {a}: {r}" for a, r in enumerate(value) if not 0 <= r <= 1]
    if outside:
        problems.append(
            f"{where}: key 'survival' is outside [0, 1] at {', '.join(outside)}; a survival "
            "rate is the probability of living one more year"
        )
        return None
    return tuple(float(r) for r in value)


def _keyed(
    value: Any, *, key: str, by_age: bool, where: str, problems: list[str]
) -> Mapping[str, Any] | None:
    """Check a rate table keyed by all/setting/county; expand per-age rates to 15 values."""
    shape = f"a number or {len(AGES)} numbers by age" if by_age else "a number"
    if not isinstance(value, Mapping):
        problems.append(
            f"{where}: key {key!r} must be a table keyed by {ALL_CELLS!r}, "
            f"{' or '.join(map(repr, SETTINGS))} or a county code, got {value!r}"
        )
        return None
    out: dict[str, Any] = {}
    for group, rate in value.items():
        rates = [rate] * len(AGES) if _is_number(rate) else rate
        ok = isinstance(group, str) and (by_age or _is_number(rate))
        ok = ok and _is_sequence(rates) and len(rates) == len(AGES)
        ok = ok and all(map(_is_number, rates))
        if not ok:
            problems.append(f"{where}: key {key!r}, entry {group!r}: must be {shape}, got {rate!r}")
        elif min(rates) < -1 or (not by_age and min(rates) == -1):
            problems.append(
                f"{where}: key {key!r}, entry {group!r}: rate {min(rates)} is too low; "
                f"{'net migration must be -1 or more' if by_age else 'growth must be above -1'}"
                " (-1 means everyone leaves); write a fraction such as -0.015"
            )
        else:
            out[group] = tuple(float(r) for r in rates) if by_age else float(rate)
    return MappingProxyType(out)
