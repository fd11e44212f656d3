"""The children each development phase brings, by year and grade (the yield of households).

A phase delivered after the population's base year adds, each later year, its households x
their occupancy x the yield per household of each level (:class:`~layout.demand.YieldModel`,
fitted or default), spread evenly over the level's grades.

Examples
--------
>>> import pandas as pd
>>> phase = pd.DataFrame({"phase_id": ["p1"], "households": [500], "delivery_year": [2022],
...                       "status": ["planned"]})
>>> from layout.demand import YieldModel
>>> table = development_children(phase, years=range(2021, 2024), base_year=2020,
...                              yield_model=YieldModel())
>>> primary = table[table["level"] == "primary"]
>>> primary.groupby("year")["children"].sum().tolist()  # 500 x (0, 0.4, 0.7) x 0.18
[0.0, 36.0, 63.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import _validate
from ..errors import ValidationError
from ..schema import CHILD_LEVELS, GRADE_LEVELS, GRADES, LEVEL_GRADES
from .cohorts import projection_years

if TYPE_CHECKING:
    from .yields import YieldModel

YEARS_SINCE_DELIVERY = "years_since_delivery"
"""Name of the feature computed from a phase's delivery year, not read from the layer."""


def development_children(
    developments: pd.DataFrame,
    *,
    years: range | Sequence[int],
    base_year: int,
    yield_model: YieldModel,
) -> pd.DataFrame:
    """Return the children each phase delivered after ``base_year`` adds, by year and grade.

    Parameters
    ----------
    developments
        The developments layer (``phase_id``, ``households``, ``delivery_year``, ``status``,
        and the model's feature columns if it was fitted).
    years
        Projection years (each ``base_year`` or later); the plan period runs from
        ``base_year + 1`` to the last of them.
    base_year
        Year of the population counts; phases delivered in or before it are already in them
        and add nothing.
    yield_model
        Fitted or default yields (``YieldModel()`` for the default rates).

    Returns
    -------
    pandas.DataFrame
        One row per phase delivered after ``base_year``, year and grade 1-9: ``phase_id``,
        ``year``, ``years_since_delivery``, ``occupancy``, ``level``, ``grade``, ``children``.

    Raises
    ------
    ValidationError
        Naming the phases delivered after the plan period, and the phases not completed whose
        delivery year is not after ``base_year``.

    Examples
    --------
    See the module examples.
    """
    model = yield_model
    wanted = np.asarray(projection_years(years, base_year=base_year))
    check_developments(developments, base_year=base_year, last_year=int(wanted[-1]))
    delivery = _validate.numeric_values(developments, "delivery_year").astype(int)
    later = delivery > base_year
    phases = developments[later]
    years_since = wanted[None, :] - delivery[later, None]
    occupancy = model.defaults.occupancy(years_since)
    per_level = (
        _validate.numeric_values(phases, "households")[:, None, None]
        * occupancy[..., None]
        * model.rates(phases, years_since_delivery=years_since)
    )
    grade_level = [CHILD_LEVELS.index(level) for level in GRADE_LEVELS]
    share = np.array([1 / len(LEVEL_GRADES[level]) for level in GRADE_LEVELS])
    children = per_level[..., grade_level] * share
    shape = children.shape
    return pd.DataFrame(
        {
            "phase_id": np.repeat(phases["phase_id"].to_numpy(), shape[1] * shape[2]),
            "year": np.tile(np.repeat(wanted, shape[2]), shape[0]),
            YEARS_SINCE_DELIVERY: np.repeat(years_since.ravel(), shape[2]),
            "occupancy": np.repeat(occupancy.ravel(), shape[2]),
            "level": np.tile(GRADE_LEVELS, shape[0] * shape[1]),
            "grade": np.tile(GRADES, shape[0] * shape[1]),
            "children": children.ravel(),
        }
    )


def check_developments(
    developments: pd.DataFrame, *, base_year: int | None = None, last_year: int | None = None
) -> None:
    """Check the developments layer's columns, values and (optionally) delivery years.

    Parameters
    ----------
    developments
        The developments layer.
    base_year
        Population base year; with ``last_year``, phases not completed must be delivered
        within the plan period ``base_year + 1`` ... ``last_year``.
    last_year
        Last projection year; no phase may be delivered after it.

    Raises
    ------
    ValidationError
        Listing every problem found, with the phase ids.

    Examples
    --------
    >>> phase = pd.DataFrame({"phase_id": ["p1"], "households": [500], "delivery_year": [2040],
    ...                       "status": ["planned"]})
    >>> check_developments(phase, base_year=2020, last_year=2030)
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: developments, column 'delivery_year': delivery year after \
the plan period 2021-2030 in phase_id p1 (1 row). Fix: extend the projection years or remove the \
phase
    """
    if not isinstance(developments, pd.DataFrame):
        raise ValidationError("developments: expected a (Geo)DataFrame of development phases")
    check = _validate.check_columns(
        developments, "developments", ["households", "delivery_year", "status"]
    )
    for column in ("enrolled_primary", "enrolled_junior"):
        if column in developments:
            values = _validate.numeric_values(developments, column)
            check.add(column, values < 0, "negative value", "enrolment must be 0 or more")
    if not check.problems and base_year is not None and last_year is not None:
        _plan_period(check, base_year, last_year)
    check.raise_if_any()


def _plan_period(check: _validate.LayerCheck, base_year: int, last_year: int) -> None:
    """Name phases delivered after the plan period or, if not completed, before it."""
    delivery = _validate.numeric_values(check.frame, "delivery_year")
    period = f"{base_year + 1}-{last_year}"
    check.add(
        "delivery_year",
        delivery > last_year,
        f"delivery year after the plan period {period}",
        "extend the projection years or remove the phase",
    )
    check.add(
        "delivery_year",
        (delivery <= base_year) & (check.frame["status"] != "completed").to_numpy(),
        f"phase not completed but delivered in the base year {base_year} or earlier",
        f"set the expected delivery year within the plan period {period}, or mark the phase "
        "completed",
    )
