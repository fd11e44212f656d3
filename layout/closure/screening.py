"""Screening a county's small schools: close each in turn and rank them by impact."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import _validate
from ..errors import ValidationError
from ..schema import CHILD_LEVELS, enrolment_columns
from ..study import Study
from ._levels import (
    ClosureOptions,
    _contexts,
    _demand_cells,
    _emptied,
    _Level,
    _level_seats,
    _projected,
    _year,
)
from .impact import HARMS, VERDICTS, _outcome, _touched, _verdicts, _weighted

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- screening


def screen_closures(
    study: Study,
    *,
    county_code: str,
    max_students: int | None = None,
    year: int | None = None,
    scenario: str = "medium",
    options: ClosureOptions | None = None,
) -> pd.DataFrame:
    """Rank the small schools of a county by the impact of closing each one alone.

    Every open school of the county with fewer than ``max_students`` pupils (current
    enrolment) is closed on its own, as in :func:`close_schools` (funding, staffing and the
    idle campus aside). A closure is ``harmless`` when nobody is pushed beyond the travel-time
    norms (grade 1-3 pupils, new boarders), every child keeps a place and no receiving school
    breaches a class cap; ``harmful`` otherwise; ``refused`` when it would leave the county
    with no school of a level.

    Parameters
    ----------
    study
        A loaded study.
    county_code
        The county screened.
    max_students
        Schools with fewer pupils than this are screened; the profile's
        ``small_school.students_below`` by default.
    year, scenario, options
        As for :func:`close_schools`.

    Returns
    -------
    pandas.DataFrame
        One row per small school, harmless closures first (then by children pushed beyond the
        norm, left without a place, receiving-school breaches, new boarders, mean added
        minutes): ``rank``, ``school_id``, ``name``, ``level``, ``setting``, ``township_code``,
        ``students``, ``children_moved``, ``unplaced``, ``mean_added_minutes``,
        ``max_added_minutes``, ``grades_1_3_pushed``, ``receiving_breaches``,
        ``new_boarders``, ``verdict`` (one of :data:`VERDICTS`) and ``leaves_no_school`` (the
        levels a refused closure would leave without a school, comma-separated; empty
        otherwise). The words of each verdict are
        :func:`layout.report.closure_words.closure_texts`'s.

    Raises
    ------
    ValidationError
        An unknown county, a bad ``max_students``, or as for :func:`close_schools`.

    Examples
    --------
    See ``tests/test_closure.py``.
    """
    options = options or ClosureOptions()
    schools = study["schools"]
    if county_code not in set(study["counties"]["county_code"]):
        raise ValidationError(
            f"county_code {county_code!r} is not in the counties layer; use one of "
            f"{', '.join(map(str, study['counties']['county_code']))}"
        )
    if max_students is None:
        max_students = study.standards.small_school.students_below
    _validate.require_count(max_students, "max_students", minimum=1)
    pupils = schools[enrolment_columns()].sum(axis=1)
    small = schools[
        (schools["county_code"] == county_code)
        & (schools["status"] == "open")
        & (pupils < max_students)
    ]
    year = _year(study, year)
    cells = _demand_cells(
        study, _projected(study, year=year, scenario=scenario), year=year, scenario=scenario
    )
    seats = _level_seats(schools)
    keys = [(county_code, level) for level in CHILD_LEVELS]
    contexts = _contexts(study, cells, seats, keys)
    rows = []
    for school in small.itertuples():
        closed = (str(school.school_id),)
        log.info("screening %s", school.school_id)
        rows.append(_screen_one(study, seats, contexts, closed))
    table = pd.DataFrame(rows, columns=list(_SCREEN_FIGURES))
    keys_of = small.assign(students=pupils[small.index])[
        ["school_id", "name", "level", "setting", "township_code", "students"]
    ].reset_index(drop=True)
    return _ranked(pd.concat([keys_of, table], axis=1))


_SCREEN_FIGURES = {
    "children_moved": "sum",
    "unplaced": "sum",
    "mean_added_minutes": None,
    "max_added_minutes": "max",
    "grades_1_3_pushed": "sum",
    "receiving_breaches": "sum",
    "new_boarders": "sum",
    "verdict": None,
    "leaves_no_school": None,
}


def _screen_one(
    study: Study,
    seats: pd.DataFrame,
    contexts: Mapping[tuple[str, str], _Level],
    closed: tuple[str, ...],
) -> dict[str, object]:
    """Compute the screening figures of one closure."""
    emptied = _emptied(study, seats, closed)
    if emptied:
        levels = ",".join(dict.fromkeys(level for _, level in emptied))
        return {"verdict": VERDICTS[2], "leaves_no_school": levels}
    touched = [contexts[key] for key in _touched(study, seats, closed) if key in contexts]
    if not touched:  # no child of the school's levels lives in the county: nothing moves
        return {
            **dict.fromkeys(HARMS, 0.0),
            "children_moved": 0.0,
            "verdict": VERDICTS[0],
            "leaves_no_school": "",
        }
    outcome = _outcome(touched, closed, study.standards)
    summary = outcome.summary
    figures: dict[str, object] = {
        name: summary[name].agg(how) for name, how in _SCREEN_FIGURES.items() if how
    }
    figures["mean_added_minutes"] = _weighted(
        outcome.moves["added_minutes"], outcome.moves["children"]
    )
    verdict = _verdicts(pd.DataFrame([figures]))["verdict"].iloc[0]
    return {**figures, "verdict": verdict, "leaves_no_school": ""}


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    """Sort harmless closures first, then by harm; number the rows from 1."""
    order = table.assign(_v=table["verdict"].map({v: i for i, v in enumerate(VERDICTS)}))
    keys = ["_v", *HARMS, "mean_added_minutes", "children_moved", "school_id"]
    order = order.sort_values(keys, kind="stable", na_position="last").drop(columns="_v")
    order.insert(0, "rank", np.arange(1, len(order) + 1))
    return order.reset_index(drop=True)
