"""One county and level of a closure: its children, open schools, costs and baseline.

The demand of the year (:func:`layout.demand.study_demand`), the schools with places of the
level, their travel costs (:func:`layout.access.level_costs`) and the assignment with every
open school; then the assignment without the closed ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from .. import _validate
from .._arrays import row_of_entries
from ..access import (
    CELL_ID,
    SCHOOL_ID,
    Assignment,
    TravelCosts,
    assign,
    level_costs,
    school_seats,
)
from ..demand import study_demand
from ..errors import ValidationError
from ..schema import CHILD_LEVELS, GRADES, LEVEL_GRADES, classes_columns
from ..study import Study

UNPLACED = ""
"""School id standing for "no place" in the moves: children the closure leaves unserved."""

_TOL = 1e-6
"""Children below this are solver noise, not moves."""

_STAY = 1e-6
"""Extra cost of a new arc after a closure, as a share of the longest trip (breaks ties)."""


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class ClosureOptions:
    """How the statement groups the moved children's trips.

    How children travel (the mode of each level and setting, the circuity without roads) is
    the study's profile's (:meth:`layout.standards.Profile.mode`): change it there, e.g. with
    ``[standards.service] rural_primary_mode = "bus"`` in the study TOML, for a what-if.

    Parameters
    ----------
    band_minutes
        Width of the travel-time bands of the distribution table.

    Examples
    --------
    >>> ClosureOptions(band_minutes=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: ClosureOptions.band_minutes must be a number > 0, got 0
    """

    band_minutes: float = 10.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.band_minutes) and self.band_minutes > 0):
            raise ValidationError(
                f"ClosureOptions.band_minutes must be a number > 0, got {self.band_minutes!r}"
            )


def _year(study: Study, year: int | None) -> int:
    chosen = study.plan_start if year is None else year
    if isinstance(chosen, bool) or not isinstance(chosen, int | np.integer):
        raise ValidationError(f"year must be a whole year such as 2025, got {year!r}")
    return int(chosen)


def _projected(study: Study, *, year: int, scenario: str) -> pd.DataFrame:
    """Project the demand layer of one scenario and year (over the plan years too)."""
    years = range(min(year, study.plan_start), max(year, study.plan_end) + 1)
    demand = study_demand(study, scenarios=[scenario], years=years)
    return demand[demand["year"] == year]


def _demand_cells(
    study: Study, demand: pd.DataFrame, *, year: int, scenario: str
) -> gpd.GeoDataFrame:
    """Return the population cells with their children of each grade (``grade_<g>``)."""
    columns = ["cell_id", "scenario", "year", "grade", "children"]
    problems = _validate.missing_columns(demand, columns, layer="demand")
    if problems:
        raise ValidationError(problems)
    rows = demand[(demand["scenario"].astype(str) == scenario) & (demand["year"] == year)]
    if rows.empty:
        held = demand[["scenario", "year"]].astype(str).drop_duplicates().agg(" ".join, axis=1)
        raise ValidationError(
            f"demand holds no children for scenario {scenario!r} in {year}; it holds "
            f"{_validate.ids_text(list(held))}. Fix: pass year= and scenario= it holds"
        )
    grades = rows.pivot_table(
        index="cell_id", columns="grade", values="children", aggfunc="sum", fill_value=0.0
    ).reindex(columns=list(GRADES), fill_value=0.0)
    grades.columns = [f"grade_{g}" for g in GRADES]
    population = study["population"]
    unknown = grades.index.difference(pd.Index(population["cell_id"]))
    if len(unknown):
        raise ValidationError(
            f"demand has cells {_validate.ids_text(list(unknown))} that the population layer "
            "lacks; project the demand from the study's population"
        )
    cells = population[["cell_id", "county_code", "setting", population.geometry.name]]
    return cells.join(grades, on="cell_id").fillna(dict.fromkeys(grades.columns, 0.0))


def _checked_ids(schools: pd.DataFrame, school_ids: Iterable[str]) -> tuple[str, ...]:
    """Check the ids to close: known, open; return them without repeats."""
    if isinstance(school_ids, str):
        school_ids = [school_ids]
    ids = tuple(dict.fromkeys(str(i) for i in school_ids))
    if not ids:
        raise ValidationError("school_ids is empty; name at least one school to close")
    layer = schools.set_index(schools["school_id"].astype(str))
    problems = []
    unknown = [i for i in ids if i not in layer.index]
    if unknown:
        problems.append(
            f"school_ids: unknown school id {_validate.ids_text(unknown)}. Fix: use ids of the "
            "schools layer (column school_id)"
        )
    known = [i for i in ids if i in layer.index]
    status = layer.loc[known, "status"].astype(str)
    for state in sorted(set(status) - {"open"}):
        problems.append(
            f"school_ids: school {_validate.ids_text(list(status.index[status == state]))} is "
            f"already {state}; only open schools can be closed"
        )
    if problems:
        raise ValidationError(problems)
    return ids


def _level_seats(schools: pd.DataFrame) -> pd.DataFrame:
    """Capacity and classes of each level, per school (index aligned to ``schools``)."""
    seats = school_seats(schools)
    out = pd.DataFrame(index=schools.index)
    for level in CHILD_LEVELS:
        columns = [classes_columns()[g - 1] for g in LEVEL_GRADES[level]]
        out[f"capacity_{level}"] = seats[f"capacity_{level}"]
        out[f"classes_{level}"] = schools[columns].to_numpy(dtype=float).sum(axis=1)
    return out


def _emptied(study: Study, seats: pd.DataFrame, closed: Sequence[str]) -> list[tuple[str, str]]:
    """List the (county, level) pairs the closure would leave with no open school."""
    schools = study["schools"]
    shut = schools["school_id"].astype(str).isin(closed).to_numpy()
    is_open = (schools["status"] == "open").to_numpy()
    emptied = []
    for level in CHILD_LEVELS:
        serves = is_open & (seats[f"capacity_{level}"].to_numpy() > 0)
        left = set(schools.loc[serves & ~shut, "county_code"])
        hit = pd.unique(schools.loc[serves & shut, "county_code"])
        emptied += [(county, level) for county in hit if county not in left]
    return emptied


def _emptied_problems(
    study: Study, emptied: Sequence[tuple[str, str]], closed: Sequence[str]
) -> list[str]:
    names = study["counties"].set_index("county_code")["name"]
    return [
        f"school_ids: closing {', '.join(closed)} would leave county {county} "
        f"({names.get(county, county)}) with no open {level} school; keep at least one "
        f"{level} school there, or close fewer schools"
        for county, level in emptied
    ]


# --------------------------------------------------------------------------- assignment


class _Level(NamedTuple):
    """One county and level: its children, schools, travel costs and baseline assignment."""

    county: str
    level: str
    cells: pd.DataFrame
    """``cell_id``, ``children``, ``lower`` and ``upper`` shares (grades 1-3, grades 4-9)."""
    schools: gpd.GeoDataFrame
    """Open schools with places of the level: ``school_id``, ``capacity``, ``classes``."""
    costs: TravelCosts
    baseline: Assignment


def _level_context(
    study: Study,
    cells: gpd.GeoDataFrame,
    seats: pd.DataFrame,
    *,
    key: tuple[str, str],
) -> _Level | None:
    """Build the baseline of one county and level; ``None`` when it has no children."""
    county, level = key
    layer = study["schools"]
    serves = (
        (layer["status"] == "open").to_numpy()
        & (layer["county_code"] == county).to_numpy()
        & (seats[f"capacity_{level}"].to_numpy() > 0)
    )
    schools = layer.loc[serves, ["school_id", "name", "level", "geometry"]].assign(
        capacity=seats.loc[serves, f"capacity_{level}"].to_numpy(),
        classes=seats.loc[serves, f"classes_{level}"].to_numpy(),
    )
    grades = [f"grade_{g}" for g in LEVEL_GRADES[level]]
    mine = cells[cells["county_code"] == county]
    children = mine[grades].to_numpy().sum(axis=1)
    lower = mine[grades[:3]].to_numpy().sum(axis=1) if level == "primary" else 0.0 * children
    with np.errstate(divide="ignore", invalid="ignore"):
        frame = pd.DataFrame(
            {
                CELL_ID: mine["cell_id"].to_numpy(),
                "children": children,
                "lower": np.where(children > 0, lower / children, 0.0),
            }
        )
    frame["upper"] = np.where(frame["children"] > 0, 1.0 - frame["lower"], 0.0)
    keep = (frame["children"] > _TOL).to_numpy()
    if not keep.any() or not len(schools):
        return None
    frame = frame[keep].reset_index(drop=True)
    costs = level_costs(study, schools, level=level, cells=mine[keep])
    baseline = assign(frame, schools, costs)
    return _Level(county, level, frame, schools.reset_index(drop=True), costs, baseline)


def _without(costs: TravelCosts, keep: np.ndarray) -> TravelCosts:
    """Keep only the schools where ``keep`` is true in the costs (explicit zeros kept)."""
    kept = keep[costs.metres.indices]
    column = np.cumsum(keep) - 1
    rows = row_of_entries(costs.metres.indptr)[kept]
    counts = np.bincount(rows, minlength=len(costs.cells))
    indptr = np.concatenate(([0], np.cumsum(counts)))
    indices = column[costs.metres.indices[kept]].astype(np.int32)
    shape = (len(costs.cells), int(keep.sum()))
    gone = set(costs.schools[~keep])
    unreachable = costs.unreachable[
        ~((costs.unreachable["layer"] == "schools") & costs.unreachable["id"].isin(gone))
    ]
    return TravelCosts(
        sparse.csr_array((costs.metres.data[kept], indices, indptr), shape=shape),
        sparse.csr_array((costs.minutes.data[kept], indices.copy(), indptr.copy()), shape=shape),
        costs.cells,
        costs.schools[keep],
        costs.method,
        unreachable.reset_index(drop=True),
    )


def _arc_positions(costs: TravelCosts, flows: pd.DataFrame) -> np.ndarray:
    """Position in the costs' CSR data of each flow's arc; -1 for arcs the costs lack."""
    n = len(costs.schools)
    keys = row_of_entries(costs.minutes.indptr).astype(np.int64) * n + costs.minutes.indices
    row = costs.cells.get_indexer(pd.Index(flows[CELL_ID]))
    col = costs.schools.get_indexer(pd.Index(flows[SCHOOL_ID]))
    wanted = np.where((row >= 0) & (col >= 0), row.astype(np.int64) * n + col, -1)
    order = np.argsort(keys, kind="stable")
    found = np.searchsorted(keys[order], wanted).clip(max=max(len(keys) - 1, 0))
    hit = (wanted >= 0) & (len(keys) > 0) & (keys[order][found] == wanted)
    return np.where(hit, order[found], -1)


def _after(context: _Level, closed: Sequence[str]) -> tuple[np.ndarray, Assignment]:
    """Reassign the county's children of the level without the closed schools.

    Every arc the baseline does not use costs :data:`_STAY` of the longest trip more, so that
    among equally good assignments the one leaving most children where they were is chosen (a
    transportation LP has many when paths share roads); reported minutes are the true ones.
    """
    keep = ~context.schools["school_id"].astype(str).isin(closed).to_numpy()
    costs = _without(context.costs, keep)
    stay = _arc_positions(costs, context.baseline.flows)
    extra = np.full(costs.minutes.nnz, _STAY * max(float(costs.minutes.data.max(initial=0)), 1.0))
    extra[stay[stay >= 0]] = 0.0
    minutes = costs.minutes.data + extra
    nudged = TravelCosts(
        costs.metres,
        sparse.csr_array(
            (minutes, costs.minutes.indices, costs.minutes.indptr), costs.minutes.shape
        ),
        costs.cells,
        costs.schools,
        costs.method,
        costs.unreachable,
    )
    after = assign(context.cells, context.schools[keep], nudged)
    true_minutes = costs.minutes.data[_arc_positions(costs, after.flows)]
    return keep, dataclasses.replace(after, flows=after.flows.assign(minutes=true_minutes))


# --------------------------------------------------------------------------- moves


def _places(assignment: Assignment) -> pd.DataFrame:
    """Children of each cell at each school, with "no place" as the school :data:`UNPLACED`."""
    columns = [CELL_ID, SCHOOL_ID, "children", "metres", "minutes"]
    unserved = assignment.unserved.copy()
    unserved[SCHOOL_ID] = UNPLACED
    unserved["metres"] = unserved["minutes"] = np.nan
    flows = assignment.flows.astype({SCHOOL_ID: object})
    return pd.concat([flows[columns], unserved[columns]], ignore_index=True)


class _Outcome(NamedTuple):
    """What closing some schools does to the levels it touches."""

    summary: pd.DataFrame
    moves: pd.DataFrame
    receiving: pd.DataFrame
    provision: pd.DataFrame


def _contexts(
    study: Study,
    cells: gpd.GeoDataFrame,
    seats: pd.DataFrame,
    keys: Iterable[tuple[str, str]],
) -> dict[tuple[str, str], _Level]:
    built = {key: _level_context(study, cells, seats, key=key) for key in keys}
    return {key: context for key, context in built.items() if context is not None}
