"""Closing or merging schools (撤并): the impact statement the education department gives first.

The Anshan 2020 plan (二.(一).1) makes the education department's opinion a precondition of
closing or merging a school, and asks that idle campuses be reused, education first. This
module computes what that opinion rests on.

* :func:`close_schools` closes the named schools and compares two capacity-constrained
  assignments (:func:`layout.allocate.assign`) of each county's projected children, per level
  (primary grades 1-6, junior 7-9): one with every open school (the baseline) and one without
  the closed schools. It reports the children moved and where to, their change in travel
  distance and time, the grade 1-3 pupils pushed beyond the travel-time norm, the new boarding
  demand, the receiving schools' load, utilisation and projected mean class size against the
  caps, the county's funding and staffing before and after, and the idle campus.
* :func:`screen_closures` ranks every small school of a county by the impact of closing it,
  one at a time, so harmless closures come first.
* :func:`write_closure` and :func:`closure_report` write the impact statement (Markdown and a
  small HTML page), ``closure.gpkg``, ``closure.xlsx`` and the map ``closure.html``;
  :func:`screening_report` writes the screening table. ``layout closure`` runs them.

The model, stated once here and in the functions that use it:

* Children are the demand layer (:func:`layout.demand.project_demand`) of one year and
  scenario, by cell and grade. They are reassigned within their county: each county and level
  is assigned on its own, to the county's ``open`` schools with places of that level (a
  nine-year school's capacity is split between the levels as in
  :func:`layout.seats.school_seats`). Schools of status ``planned`` or ``closing`` take nobody.
* Travel costs come from the road network when the study has a ``roads`` layer
  (:func:`layout.costs.costs_from_network`), else from the straight line times a circuity
  factor (:func:`layout.costs.costs_from_distance`). Primary pupils walk and junior pupils
  ride the school bus by default (:class:`ClosureOptions`), at the profile's
  ``service.walking_speed_kmh`` and ``service.bus_speed_kmh``, as in
  :func:`layout.seats.service_radii`.
* The assignment after the closure breaks ties in favour of the baseline: each arc the
  baseline does not use costs a millionth of the longest trip more, so children are not moved
  between schools at no gain (a transportation LP has many equally good answers when paths
  share roads).
* A child moves when its cell sends fewer children to a school after the closure than before.
  Within a cell, the children each school loses are paired with the schools that gain, in
  proportion to the gains, so knock-on moves (a receiving school's own children pushed on to a
  third school) are counted too. Children left without a place count as moved to no school.
* The moved children of a cell have the grade mix of the cell's children of the level.
  Grade 1-3 pupils are *pushed beyond the norm* when their new trip is longer than the old one
  and longer than ``service.rural_lower_primary_minutes`` (those whose old trip was within it
  are also counted apart, as *newly beyond*); pupils of grades 4-6 (7-9) become *new
  boarders* when their new trip is longer than the old one and longer than
  ``service.rural_upper_primary_minutes`` (``rural_junior_minutes``). The time norms are
  applied to every cell, urban ones included.
* A receiving school's projected mean class size is its modelled load of the level over its
  classes of the level's grades; it *breaches* when above the level's cap
  (``class_size.primary_cap`` / ``junior_cap``) or at least ``class_size.large_class_min``.
* Funding and staffing (:func:`layout.indicators.funding`, :func:`~layout.indicators.staffing`)
  are computed on the schools layer before and after: the closed schools are removed and every
  other school's enrolment of a level changes by its change in modelled load (rounded to whole
  pupils), spread over the level's grades in proportion to its enrolment (its classes when it
  has no pupils of the level; grades given pupils but no class get ``ceil(pupils / cap)``
  classes). New boarders are added to the receiving school's boarders. Classes and teachers of
  the remaining schools are unchanged; the closed schools' teachers are reported as free to
  redeploy.

Examples
--------
See :func:`close_schools`, and ``tests/test_closure.py`` for hand-worked closures.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from . import _closure_text as text
from . import _validate
from ._closure_text import Lang
from ._sparse import row_of_entries
from .allocate import Assignment, assign
from .cohorts import CHILD_LEVELS
from .costs import CELL_ID, SCHOOL_ID, TravelCosts, costs_from_distance, costs_from_network
from .demand import project_demand
from .errors import ValidationError
from .indicators import county_funding, county_staffing, funding, staffing
from .labels import TABLE_TITLES, code_name, localise
from .maps.basemap import basemap_from_name
from .maps.closure import closure_map
from .maps.offline import save_html
from .provision import school_provision
from .report import replacing, write_pack, write_spreadsheet
from .scenarios import scenario_named
from .schema import GRADES, LEVEL_GRADES, classes_columns, enrolment_columns
from .seats import school_seats, service_radii
from .standards import Profile
from .study import Study
from .yields import YieldModel

log = logging.getLogger(__name__)

__all__ = [
    "ClosureImpact",
    "ClosureOptions",
    "close_schools",
    "closure_report",
    "screen_closures",
    "screening_report",
    "write_closure",
]

UNPLACED = ""
"""School id standing for "no place" in the moves: children the closure leaves unserved."""

VERDICTS: tuple[str, ...] = ("harmless", "harmful", "refused")
"""Screening verdicts, best first: no norm breached; some breached; closing is refused."""

_TOL = 1e-6
"""Children below this are solver noise, not moves."""

_STAY = 1e-6
"""Extra cost of a new arc after a closure, as a share of the longest trip (breaks ties)."""

_MODES = ("walk", "bus")

_HARMS = [name for name, _ in text.HARMS]
"""Figures that make a closure harmful, in the order they rank closures."""


# --------------------------------------------------------------------------- options


def _default_modes() -> Mapping[str, str]:
    return MappingProxyType({"primary": "walk", "junior": "bus"})


@dataclass(frozen=True)
class ClosureOptions:
    """How children travel, and the width of the travel-time bands.

    Parameters
    ----------
    circuity
        Travel distance over straight-line distance, used when the study has no roads.
    modes
        ``"walk"`` or ``"bus"`` for each level: the speed of the trip (the profile's
        ``service.walking_speed_kmh`` or ``bus_speed_kmh``). On the road network, ``walk``
        caps every road at the walking speed; ``bus`` at the bus speed, with a walk to and from
        the road.
    band_minutes
        Width of the travel-time bands of the distribution table.

    Examples
    --------
    >>> ClosureOptions(modes={"primary": "bus", "junior": "bus"}).modes["primary"]
    'bus'
    >>> ClosureOptions(circuity=0.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: ClosureOptions.circuity must be a finite number >= 1, ...
    """

    circuity: float = 1.3
    modes: Mapping[str, str] = field(default_factory=_default_modes)
    band_minutes: float = 10.0

    def __post_init__(self) -> None:
        problems = []
        if not (np.isfinite(self.circuity) and self.circuity >= 1):
            problems.append(
                f"ClosureOptions.circuity must be a finite number >= 1, got {self.circuity!r}"
            )
        if not (np.isfinite(self.band_minutes) and self.band_minutes > 0):
            problems.append(
                f"ClosureOptions.band_minutes must be a number > 0, got {self.band_minutes!r}"
            )
        modes = dict(self.modes)
        if set(modes) != set(CHILD_LEVELS) or not set(modes.values()) <= set(_MODES):
            problems.append(
                f"ClosureOptions.modes must give 'walk' or 'bus' for primary and junior, got "
                f"{modes!r}"
            )
        if problems:
            raise ValidationError(problems)
        object.__setattr__(self, "modes", MappingProxyType(modes))

    def speed_kmh(self, level: str, profile: Profile) -> float:
        """Return the travel speed of the pupils of ``level`` under ``profile``, in km/h.

        Examples
        --------
        >>> from layout.standards import load_profile
        >>> ClosureOptions().speed_kmh("junior", load_profile())
        30.0
        """
        service = profile.service
        return service.walking_speed_kmh if self.modes[level] == "walk" else service.bus_speed_kmh


# --------------------------------------------------------------------------- result


@dataclass
class ClosureImpact:
    """The impact of closing some schools.

    Attributes
    ----------
    study
        The study.
    closed
        The closed schools' ids.
    year, scenario
        The demand analysed.
    costs_method
        ``"network"`` or ``"distance"``: how travel was costed.
    options
        The travel modes, circuity and band width used.
    summary
        One row per level whose children move: ``level``, ``children_moved``,
        ``from_closed``, ``knock_on``, ``unplaced``, ``mean_minutes_before``,
        ``mean_minutes_after``, ``mean_added_minutes``, ``max_added_minutes``,
        ``max_minutes_after``, ``mean_added_metres``, ``max_added_metres``,
        ``grades_1_3_pushed``, ``grades_1_3_newly_beyond``, ``new_boarders``,
        ``receiving_schools``,
        ``receiving_breaches``, ``receiving_large``, ``verdict`` and ``reason``.
    moves
        One row per cell, level and (from, to) pair of schools: ``cell_id``, ``level``,
        ``from_school_id``, ``to_school_id`` (:data:`UNPLACED` for no place), ``children``,
        ``grades_1_3``, ``grades_4_9``, ``minutes_before``, ``minutes_after``,
        ``added_minutes``, ``metres_before``, ``metres_after``, ``added_metres``,
        ``grades_1_3_pushed``, ``grades_1_3_newly_beyond``, ``new_boarders``.
    transfers
        The moves summed per level and pair of schools, with names, mean minutes before and
        after and a line from school to school (none when a side is "no place").
    travel_bands
        Moved children per level and travel-time band, before and after.
    receiving
        Schools whose load of a level rises: capacity, classes, load, utilisation and mean
        class size before and after, the breach flags and new boarders; school points.
    funding, staffing
        County totals before and after, one row per county and item.
    idle
        The closed schools' campuses: land and building area, teachers to redeploy, planned
        schools and reserved parcels nearby, and the reuse advice; school points.
    outputs
        Files written by :func:`write_closure`.

    Examples
    --------
    Made by :func:`close_schools`; ``impact.tables()`` gives every table by layer name.
    """

    study: Study
    closed: tuple[str, ...]
    year: int
    scenario: str
    costs_method: str
    options: ClosureOptions
    summary: pd.DataFrame
    moves: pd.DataFrame
    transfers: gpd.GeoDataFrame
    travel_bands: pd.DataFrame
    receiving: gpd.GeoDataFrame
    funding: pd.DataFrame
    staffing: pd.DataFrame
    idle: gpd.GeoDataFrame
    outputs: list[Path] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the output tables by layer name (``closure_summary``, ...)."""
        return {
            "closure_summary": self.summary,
            "closure_transfers": self.transfers,
            "closure_receiving": self.receiving,
            "closure_travel_bands": self.travel_bands,
            "closure_funding": self.funding,
            "closure_staffing": self.staffing,
            "closure_idle": self.idle,
            "closure_moves": self.moves,
        }


# --------------------------------------------------------------------------- inputs


def _check_lang(lang: str) -> None:
    if lang not in ("zh", "en"):
        raise ValidationError(f"lang must be 'zh' or 'en', got {lang!r}")


def _year(study: Study, year: int | None) -> int:
    chosen = study.plan_start if year is None else year
    if isinstance(chosen, bool) or not isinstance(chosen, int | np.integer):
        raise ValidationError(f"year must be a whole year such as 2025, got {year!r}")
    return int(chosen)


def _projected(study: Study, *, year: int, scenario: str) -> pd.DataFrame:
    """Project the demand layer of one scenario and year (over the plan years too)."""
    chosen = scenario_named(study.config.get("scenarios"), scenario)
    model = YieldModel().fit(study["developments"], observed_year=study.school_year)
    years = range(min(year, study.plan_start), max(year, study.plan_end) + 1)
    demand = project_demand(
        study["population"],
        study["developments"],
        scenarios=[chosen],
        years=years,
        yield_model=model,
    )
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
    cells = population[["cell_id", "county_code", population.geometry.name]]
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


def _costs(
    study: Study,
    cells: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    *,
    level: str,
    options: ClosureOptions,
) -> TravelCosts:
    """Travel costs of a county and level: on the roads when there are any, else distance."""
    profile = study.standards
    speed = options.speed_kmh(level, profile)
    if study.road_network is not None:
        return costs_from_network(
            cells,
            schools,
            study.road_network,
            walk_kmh=profile.service.walking_speed_kmh,
            speed_cap_kmh=speed,
        )
    return costs_from_distance(
        cells, schools, k=len(schools), circuity=options.circuity, speed_kmh=speed
    )


def _level_context(
    study: Study,
    cells: gpd.GeoDataFrame,
    seats: pd.DataFrame,
    *,
    key: tuple[str, str],
    options: ClosureOptions,
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
    costs = _costs(study, mine[keep], schools, level=level, options=options)
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


def _moves(context: _Level, after: Assignment, profile: Profile) -> pd.DataFrame:
    """Pair what each cell's schools lose with what others gain (see the module notes)."""
    both = _places(context.baseline).merge(
        _places(after), on=[CELL_ID, SCHOOL_ID], how="outer", suffixes=("_before", "_after")
    )
    change = both["children_after"].fillna(0.0) - both["children_before"].fillna(0.0)
    lost = both.loc[change < -_TOL, [CELL_ID, SCHOOL_ID, "metres_before", "minutes_before"]]
    lost = lost.assign(lost=-change[change < -_TOL]).rename(columns={SCHOOL_ID: "from_school_id"})
    gained = both.loc[change > _TOL, [CELL_ID, SCHOOL_ID, "metres_after", "minutes_after"]]
    gained = gained.assign(gained=change[change > _TOL]).rename(columns={SCHOOL_ID: "to_school_id"})
    share = gained["gained"] / gained.groupby(CELL_ID)["gained"].transform("sum")
    pairs = lost.merge(gained.assign(share=share), on=CELL_ID)
    shares = context.cells.set_index(CELL_ID).loc[pairs[CELL_ID], ["lower", "upper"]]
    children = pairs["lost"].to_numpy() * pairs["share"].to_numpy()
    moves = pd.DataFrame(
        {
            CELL_ID: pairs[CELL_ID].to_numpy(),
            "level": context.level,
            "from_school_id": pairs["from_school_id"].to_numpy(),
            "to_school_id": pairs["to_school_id"].to_numpy(),
            "children": children,
            "grades_1_3": children * shares["lower"].to_numpy(),
            "grades_4_9": children * shares["upper"].to_numpy(),
        }
    )
    for kind in ("minutes", "metres"):
        moves[f"{kind}_before"] = pairs[f"{kind}_before"].to_numpy()
        moves[f"{kind}_after"] = pairs[f"{kind}_after"].to_numpy()
        moves[f"added_{kind}"] = moves[f"{kind}_after"] - moves[f"{kind}_before"]
    return _norm_breaches(moves, context.level, profile)


def _norm_breaches(moves: pd.DataFrame, level: str, profile: Profile) -> pd.DataFrame:
    """Count the moved pupils pushed beyond the travel-time norms (see the module notes)."""
    service = profile.service
    lower = service.rural_lower_primary_minutes
    upper = (
        service.rural_upper_primary_minutes if level == "primary" else service.rural_junior_minutes
    )
    after = moves["minutes_after"].fillna(-np.inf).to_numpy()
    before = moves["minutes_before"].fillna(-np.inf).to_numpy()
    longer = after > before
    return moves.assign(
        grades_1_3_pushed=moves["grades_1_3"] * (longer & (after > lower)),
        grades_1_3_newly_beyond=moves["grades_1_3"]
        * (longer & (after > lower) & (before <= lower)),
        new_boarders=moves["grades_4_9"] * (longer & (after > upper)),
    )


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    """Mean of ``values`` weighted by ``weights``, over the finite values (NaN if none)."""
    ok = values.notna().to_numpy() & (weights.to_numpy() > 0)
    total = float(weights[ok].sum())
    return float((values[ok] * weights[ok]).sum() / total) if total > 0 else float("nan")


def _largest(values: pd.Series) -> float:
    return float(values.max()) if values.notna().any() else float("nan")


# --------------------------------------------------------------------------- receiving


def _provision(
    context: _Level, keep: np.ndarray, after: Assignment, profile: Profile
) -> pd.DataFrame:
    """Load, utilisation and class size of every school of the level, before and after."""
    cap = getattr(profile.class_size, f"{context.level}_cap")
    large = profile.class_size.large_class_min
    before = school_provision(
        context.baseline, context.schools, classes_column="classes", class_cap=cap
    )
    later = school_provision(
        after, context.schools[keep], classes_column="classes", class_cap=cap
    ).reindex(before.index)
    later["load"] = later["load"].fillna(0.0)
    table = context.schools.set_index(SCHOOL_ID)[["name", "level", "capacity", "classes"]]
    table = table.rename(columns={"level": "school_level"})
    for when, frame in (("before", before), ("after", later)):
        table[f"load_{when}"] = frame["load"]
        table[f"utilisation_{when}"] = frame["utilisation"]
        table[f"class_size_{when}"] = frame["class_size"]
        table[f"over_cap_{when}"] = frame["over_class_cap"].fillna(False).astype(bool)
        table[f"large_{when}"] = (frame["class_size"] >= large).to_numpy()
    table["received"] = table["load_after"] - table["load_before"]
    table.insert(0, "level", context.level)
    table["cap"] = cap
    return table.reset_index()


def _receiving(provision: pd.DataFrame, moves: pd.DataFrame) -> pd.DataFrame:
    """Select the schools whose load rises; add their new boarders and breach flag."""
    boarders = moves.groupby("to_school_id")["new_boarders"].sum()
    table = provision[provision["received"] > _TOL].copy()
    table["new_boarders"] = boarders.reindex(table[SCHOOL_ID]).fillna(0.0).to_numpy()
    table["breach"] = table["over_cap_after"] | table["large_after"]
    return table


# --------------------------------------------------------------------------- summary


def _summary(
    moves: pd.DataFrame, receiving: pd.DataFrame, unplaced: float, closed: Sequence[str]
) -> dict[str, float]:
    """Compute the headline figures of one level."""
    weights = moves["children"]
    moved = float(weights.sum())
    from_closed = float(weights[moves["from_school_id"].isin(closed)].sum())
    return {
        "children_moved": moved,
        "from_closed": from_closed,
        "knock_on": max(moved - from_closed, 0.0),
        "unplaced": max(unplaced, 0.0),
        "mean_minutes_before": _weighted(moves["minutes_before"], weights),
        "mean_minutes_after": _weighted(moves["minutes_after"], weights),
        "mean_added_minutes": _weighted(moves["added_minutes"], weights),
        "max_added_minutes": _largest(moves["added_minutes"][weights > _TOL]),
        "max_minutes_after": _largest(moves["minutes_after"][weights > _TOL]),
        "mean_added_metres": _weighted(moves["added_metres"], weights),
        "max_added_metres": _largest(moves["added_metres"][weights > _TOL]),
        "grades_1_3_pushed": float(moves["grades_1_3_pushed"].sum()),
        "grades_1_3_newly_beyond": float(moves["grades_1_3_newly_beyond"].sum()),
        "new_boarders": float(moves["new_boarders"].sum()),
        "receiving_schools": float(len(receiving)),
        "receiving_breaches": float(receiving["breach"].sum()),
        "receiving_large": float(receiving["large_after"].sum()),
    }


def _verdicts(table: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Add ``verdict`` (harmless or harmful) and its ``reason`` to summary rows."""
    found = [text.reasons(row, lang) for row in table.to_dict("records")]
    return table.assign(
        verdict=[VERDICTS[1] if harms else VERDICTS[0] for harms in found],
        reason=[text.separator(lang).join(h) or text.words("reason_none", lang) for h in found],
    )


class _Outcome(NamedTuple):
    """What closing some schools does to the levels it touches."""

    summary: pd.DataFrame
    moves: pd.DataFrame
    receiving: pd.DataFrame
    provision: pd.DataFrame


def _outcome(
    contexts: Sequence[_Level], closed: Sequence[str], profile: Profile, lang: Lang
) -> _Outcome:
    """Reassign each touched county and level without the closed schools and compare."""
    rows, moves, receiving, provision = [], [], [], []
    for context in contexts:
        keep, after = _after(context, closed)
        level_moves = _moves(context, after, profile)
        level_provision = _provision(context, keep, after, profile)
        level_receiving = _receiving(level_provision, level_moves)
        unplaced = float(
            after.unserved["children"].sum() - context.baseline.unserved["children"].sum()
        )
        figures = _summary(level_moves, level_receiving, unplaced, closed)
        rows.append({"county_code": context.county, "level": context.level, **figures})
        moves.append(level_moves)
        receiving.append(level_receiving.assign(county_code=context.county))
        provision.append(level_provision)
    summary = _verdicts(pd.DataFrame(rows), lang)
    return _Outcome(
        summary,
        pd.concat(moves, ignore_index=True),
        pd.concat(receiving, ignore_index=True),
        pd.concat(provision, ignore_index=True),
    )


def _contexts(
    study: Study,
    cells: gpd.GeoDataFrame,
    seats: pd.DataFrame,
    keys: Iterable[tuple[str, str]],
    options: ClosureOptions,
) -> dict[tuple[str, str], _Level]:
    built = {key: _level_context(study, cells, seats, key=key, options=options) for key in keys}
    return {key: context for key, context in built.items() if context is not None}


def _touched(study: Study, seats: pd.DataFrame, closed: Sequence[str]) -> list[tuple[str, str]]:
    """List the (county, level) pairs whose places the closed schools hold."""
    schools = study["schools"]
    shut = schools["school_id"].astype(str).isin(closed).to_numpy()
    return [
        (county, level)
        for level in CHILD_LEVELS
        for county in pd.unique(
            schools.loc[shut & (seats[f"capacity_{level}"].to_numpy() > 0), "county_code"]
        )
    ]


# --------------------------------------------------------------------------- close_schools


def close_schools(
    study: Study,
    *,
    school_ids: Iterable[str],
    year: int | None = None,
    scenario: str = "medium",
    demand: pd.DataFrame | None = None,
    lang: Lang = "zh",
    options: ClosureOptions | None = None,
) -> ClosureImpact:
    """Close schools and measure the impact on children, receiving schools, money and staff.

    See the module notes for the model and its assumptions.

    Parameters
    ----------
    study
        A loaded study.
    school_ids
        Ids of the open schools to close.
    year
        Year of the demand; ``None`` for the study's ``plan_start``.
    scenario
        Demographic scenario (the study's ``[scenarios]``, else low, medium, high).
    demand
        A demand layer (:func:`layout.demand.project_demand`: ``cell_id``, ``scenario``,
        ``year``, ``grade``, ``children``) holding ``year`` and ``scenario``; ``None``
        projects it from the study.
    lang
        Language of the reasons and reuse advice: ``"zh"`` or ``"en"``.
    options
        Travel modes, circuity and band width (:class:`ClosureOptions`).

    Returns
    -------
    ClosureImpact

    Raises
    ------
    ValidationError
        An unknown school id, a school not open (planned or already closing), a closure that
        leaves a county with no open school of a level (naming the county and level), an
        unknown scenario, demand lacking the year and scenario, or a county with no projected
        children of a level the closed schools teach (nothing to reassign).

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> study = study_from_toml()
    >>> impact = close_schools(study, school_ids=["S2103110011"])
    >>> impact.summary[["level", "verdict"]].to_dict("records")
    [{'level': 'primary', 'verdict': 'harmful'}]
    """
    options = options or ClosureOptions()
    _check_lang(lang)
    schools = study["schools"]
    closed = _checked_ids(schools, school_ids)
    seats = _level_seats(schools)
    emptied = _emptied(study, seats, closed)
    if emptied:
        raise ValidationError(_emptied_problems(study, emptied, closed))
    year = _year(study, year)
    if demand is None:
        demand = _projected(study, year=year, scenario=scenario)
    cells = _demand_cells(study, demand, year=year, scenario=scenario)
    touched = _touched(study, seats, closed)
    contexts = _contexts(study, cells, seats, touched, options)
    empty = [
        f"{level} in county {county}"
        for county, level in touched
        if (county, level) not in contexts
    ]
    if empty:
        raise ValidationError(
            f"demand: no projected children of {', '.join(empty)} in {year} (scenario "
            f"{scenario!r}), so nothing can be reassigned; check the demand and the population"
        )
    outcome = _outcome(list(contexts.values()), closed, study.standards, lang)
    counties = list(pd.unique(schools.loc[schools["school_id"].isin(closed), "county_code"]))
    money, staff = _money(study, closed=closed, outcome=outcome, counties=counties)
    methods = {c.costs.method for c in contexts.values()}
    return ClosureImpact(
        study=study,
        closed=closed,
        year=year,
        scenario=scenario,
        costs_method=methods.pop() if len(methods) == 1 else "distance",
        options=options,
        summary=outcome.summary,
        moves=outcome.moves,
        transfers=_transfers(outcome.moves, schools),
        travel_bands=_bands(outcome.moves, options.band_minutes),
        receiving=_receiving_points(outcome.receiving, schools),
        funding=money,
        staffing=staff,
        idle=_idle(study, closed, lang),
    )


def _transfers(moves: pd.DataFrame, schools: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Sum the moves per level and pair of schools; draw a line from school to school."""
    keys = ["level", "from_school_id", "to_school_id"]
    weighted = moves.assign(
        before=moves["minutes_before"] * moves["children"],
        after=moves["minutes_after"] * moves["children"],
    )
    table = weighted.groupby(keys, as_index=False, sort=True)[
        ["children", "grades_1_3_pushed", "new_boarders", "before", "after"]
    ].sum(min_count=1)
    table["mean_minutes_before"] = table.pop("before") / table["children"]
    table["mean_minutes_after"] = table.pop("after") / table["children"]
    layer = schools.set_index(schools["school_id"].astype(str))
    names = layer["name"].astype(object)
    for side in ("from", "to"):
        where = list(table.columns).index(f"{side}_school_id") + 1
        table.insert(where, f"{side}_name", names.reindex(table[f"{side}_school_id"]).to_numpy())
    start = layer.geometry.reindex(table["from_school_id"]).to_numpy()
    end = layer.geometry.reindex(table["to_school_id"]).to_numpy()
    both = ~(pd.isna(start) | pd.isna(end))
    lines = np.full(len(table), None, dtype=object)
    lines[both] = shapely.shortest_line(start[both], end[both])
    return gpd.GeoDataFrame(table, geometry=list(lines), crs=schools.crs)


def _bands(moves: pd.DataFrame, width: float) -> pd.DataFrame:
    """Count moved children per level and ``width``-minute band, before and after."""
    columns = ["level", "band", "band_start_minutes", "children_before", "children_after"]
    parts = []
    for when in ("before", "after"):
        minutes = moves[f"minutes_{when}"]
        ok = minutes.notna()
        start = np.floor(minutes[ok] / width) * width
        parts.append(
            moves.loc[ok, "children"]
            .groupby([moves.loc[ok, "level"], start])
            .sum()
            .rename(f"children_{when}")
        )
    table = pd.concat(parts, axis=1).fillna(0.0)
    if table.empty:
        return pd.DataFrame(columns=columns)
    table.index.names = ["level", "band_start_minutes"]
    top = table.index.get_level_values(1).max()
    full = pd.MultiIndex.from_product(
        [table.index.get_level_values(0).unique(), np.arange(0.0, top + width / 2, width)],
        names=table.index.names,
    )
    table = table.reindex(full, fill_value=0.0).reset_index()
    table["band"] = [f"{s:g}-{s + width:g}" for s in table["band_start_minutes"]]
    return table[columns]


def _receiving_points(receiving: pd.DataFrame, schools: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give the receiving table each school's point."""
    points = schools.set_index(schools["school_id"].astype(str)).geometry
    geometry = points.reindex(receiving[SCHOOL_ID].astype(str)).to_numpy()
    return gpd.GeoDataFrame(receiving, geometry=list(geometry), crs=schools.crs)


# --------------------------------------------------------------------------- money and staff


def _whole_split(totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split whole ``totals`` over columns in proportion to ``weights`` (largest remainder)."""
    share = weights / weights.sum(axis=1, keepdims=True)
    raw = totals[:, None] * share
    base = np.floor(raw + 1e-9)
    left = (totals - base.sum(axis=1)).astype(np.int64)
    order = np.argsort(-(raw - base), axis=1, kind="stable")
    rank = np.argsort(order, axis=1, kind="stable")
    return (base + (rank < left[:, None])).astype(np.int64)


def _schools_after(
    schools: pd.DataFrame,
    *,
    provision: pd.DataFrame,
    receiving: pd.DataFrame,
    closed: Sequence[str],
    profile: Profile,
) -> pd.DataFrame:
    """Return the schools layer after the closure (see the module notes)."""
    frame = schools[~schools["school_id"].astype(str).isin(closed)].copy()
    ids = frame["school_id"].astype(str).to_numpy()
    for level in CHILD_LEVELS:
        rows = provision[provision["level"] == level].set_index(SCHOOL_ID)["received"]
        change = np.round(rows.reindex(ids).fillna(0.0).to_numpy())
        enrol_cols = [enrolment_columns()[g - 1] for g in LEVEL_GRADES[level]]
        class_cols = [classes_columns()[g - 1] for g in LEVEL_GRADES[level]]
        enrol = frame[enrol_cols].to_numpy(dtype=float)
        classes = frame[class_cols].to_numpy(dtype=float)
        taught = np.array(
            [[g in LEVEL_GRADES[lv] for g in LEVEL_GRADES[level]] for lv in frame["level"]],
            dtype=float,
        ).reshape(len(frame), len(enrol_cols))
        weights = np.where(
            enrol.sum(axis=1, keepdims=True) > 0,
            enrol,
            np.where(classes.sum(axis=1, keepdims=True) > 0, classes, taught),
        )
        moved = change != 0
        added = np.zeros_like(enrol)
        added[moved] = np.sign(change[moved])[:, None] * _whole_split(
            np.abs(change[moved]), weights[moved]
        )
        new = np.maximum(enrol + added, 0)
        cap = getattr(profile.class_size, f"{level}_cap")
        classes = np.where((new > 0) & (classes == 0), np.ceil(new / cap), classes)
        frame[enrol_cols] = new.astype(np.int64)
        frame[class_cols] = classes.astype(np.int64)
    extra = receiving.groupby(SCHOOL_ID)["new_boarders"].sum().astype(float)
    pupils = frame[enrolment_columns()].sum(axis=1).to_numpy()
    boarders = frame["boarders"].to_numpy() + np.round(
        extra.reindex(ids, fill_value=0.0).to_numpy()
    )
    frame["boarders"] = np.minimum(boarders, pupils).astype(np.int64)
    return frame


def _change(
    before: pd.DataFrame, after: pd.DataFrame, items: Sequence[str], counties: Sequence[str]
) -> pd.DataFrame:
    """County totals before and after, one row per county and item."""
    rows = []
    for county in counties:
        old = before.set_index("county_code").reindex([county]).iloc[0]
        new = after.set_index("county_code").reindex([county]).iloc[0]
        for item in items:
            b, a = float(np.nan_to_num(old[item])), float(np.nan_to_num(new[item]))
            rows.append(
                {"county_code": county, "item": item, "before": b, "after": a, "change": a - b}
            )
    return pd.DataFrame(rows, columns=["county_code", "item", "before", "after", "change"])


_FUNDING_ITEMS = (
    "students",
    "boarders",
    "schools_floor",
    "base_funding",
    "floor_top_up",
    "boarding_supplement",
    "total_funding",
)
_STAFFING_ITEMS = ("schools", "teachers_required", "teachers", "shortfall")


def _money(
    study: Study, *, closed: Sequence[str], outcome: _Outcome, counties: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """County funding and staffing before and after the closure."""
    profile = study.standards
    layer = study["schools"]
    before = layer[layer["county_code"].isin(counties)]
    after = _schools_after(
        before,
        provision=outcome.provision,
        receiving=outcome.receiving,
        closed=closed,
        profile=profile,
    )
    money = _change(
        county_funding(funding(before, profile)),
        county_funding(funding(after, profile)),
        _FUNDING_ITEMS,
        counties,
    )
    staff = _change(
        county_staffing(staffing(before, profile), profile),
        county_staffing(staffing(after, profile), profile),
        _STAFFING_ITEMS,
        counties,
    )
    return money, staff


# --------------------------------------------------------------------------- idle campus


def _idle(study: Study, closed: Sequence[str], lang: Lang) -> gpd.GeoDataFrame:
    """List the closed campuses, with planned schools and parcels within the service radius."""
    schools = study["schools"]
    rows = schools[schools["school_id"].astype(str).isin(closed)]
    radii = service_radii(study.standards)
    planned = schools["status"] == "planned"
    parcels = study["reserved_land"]
    unbuilt = parcels["status"] != "built"
    builds = pd.concat(
        [
            pd.Series(schools.geometry[planned].to_numpy(), index=schools["school_id"][planned]),
            pd.Series(parcels.geometry[unbuilt].to_numpy(), index=parcels["parcel_id"][unbuilt]),
        ]
    )
    places = gpd.GeoSeries(builds.to_numpy(), index=builds.index.astype(str), crs=schools.crs)
    nearby, radius, reuse = [], [], []
    for level, setting, point in zip(rows["level"], rows["setting"], rows.geometry, strict=True):
        r = max(radii[(str(setting), lv)] for lv in _LEVELS_OF[str(level)])
        ids = ", ".join(places.index[(places.distance(point) <= r).to_numpy()])
        nearby.append(ids)
        radius.append(r)
        reuse.append(text.reuse(ids, r, lang))
    table = pd.DataFrame(
        {
            "school_id": rows["school_id"].astype(str).to_numpy(),
            "name": rows["name"].astype(str).to_numpy(),
            "county_code": rows["county_code"].to_numpy(),
            "township_code": rows["township_code"].to_numpy(),
            "level": rows["level"].to_numpy(),
            "setting": rows["setting"].to_numpy(),
            "students": rows[enrolment_columns()].sum(axis=1).to_numpy(),
            "teachers": rows["teachers"].to_numpy(),
            "land_area_m2": rows["land_area_m2"].to_numpy(),
            "building_area_m2": rows["building_area_m2"].to_numpy(),
            "boarding_beds": rows["boarding_beds"].to_numpy(),
            "radius_m": radius,
            "nearby_planned": nearby,
            "reuse": reuse,
        }
    )
    return gpd.GeoDataFrame(table, geometry=rows.geometry.to_numpy(), crs=schools.crs)


_LEVELS_OF = {
    "primary": ("primary",),
    "teaching_point": ("primary",),
    "junior": ("junior",),
    "nine_year": ("primary", "junior"),
}
"""Levels of children each kind of school teaches."""


# --------------------------------------------------------------------------- screening


def screen_closures(
    study: Study,
    *,
    county_code: str,
    max_students: int = 100,
    year: int | None = None,
    scenario: str = "medium",
    lang: Lang = "zh",
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
        Schools with fewer pupils than this are screened.
    year, scenario, lang, options
        As for :func:`close_schools`.

    Returns
    -------
    pandas.DataFrame
        One row per small school, harmless closures first (then by children pushed beyond the
        norm, left without a place, receiving-school breaches, new boarders, mean added
        minutes): ``rank``, ``school_id``, ``name``, ``level``, ``setting``, ``township_code``,
        ``students``, ``children_moved``, ``unplaced``, ``mean_added_minutes``,
        ``max_added_minutes``, ``grades_1_3_pushed``, ``receiving_breaches``,
        ``new_boarders``, ``verdict`` (one of :data:`VERDICTS`) and ``reason``.

    Raises
    ------
    ValidationError
        An unknown county, a bad ``max_students``, or as for :func:`close_schools`.

    Examples
    --------
    See ``tests/test_closure.py``.
    """
    options = options or ClosureOptions()
    _check_lang(lang)
    schools = study["schools"]
    if county_code not in set(study["counties"]["county_code"]):
        raise ValidationError(
            f"county_code {county_code!r} is not in the counties layer; use one of "
            f"{', '.join(map(str, study['counties']['county_code']))}"
        )
    if isinstance(max_students, bool) or not isinstance(max_students, int) or max_students < 1:
        raise ValidationError(f"max_students must be a whole number >= 1, got {max_students!r}")
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
    contexts = _contexts(study, cells, seats, keys, options)
    rows = []
    for school in small.itertuples():
        closed = (str(school.school_id),)
        log.info("screening %s", school.school_id)
        rows.append(_screen_one(study, seats, contexts, closed, lang))
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
    "reason": None,
}


def _screen_one(
    study: Study,
    seats: pd.DataFrame,
    contexts: Mapping[tuple[str, str], _Level],
    closed: tuple[str, ...],
    lang: Lang,
) -> dict[str, object]:
    """Compute the screening figures of one closure."""
    emptied = _emptied(study, seats, closed)
    if emptied:
        reason = text.separator(lang).join(
            text.words("reason_last", lang, level=code_name(level, lang)) for _, level in emptied
        )
        return {"verdict": VERDICTS[2], "reason": reason}
    touched = [contexts[key] for key in _touched(study, seats, closed) if key in contexts]
    if not touched:  # no child of the school's levels lives in the county: nothing moves
        return {
            **dict.fromkeys(_HARMS, 0.0),
            "children_moved": 0.0,
            "verdict": VERDICTS[0],
            "reason": text.words("reason_none", lang),
        }
    outcome = _outcome(touched, closed, study.standards, lang)
    summary = outcome.summary
    figures: dict[str, object] = {
        name: summary[name].agg(how) for name, how in _SCREEN_FIGURES.items() if how
    }
    figures["mean_added_minutes"] = _weighted(
        outcome.moves["added_minutes"], outcome.moves["children"]
    )
    verdict = _verdicts(pd.DataFrame([figures]), lang).iloc[0]
    return {**figures, "verdict": verdict["verdict"], "reason": verdict["reason"]}


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    """Sort harmless closures first, then by harm; number the rows from 1."""
    order = table.assign(_v=table["verdict"].map({v: i for i, v in enumerate(VERDICTS)}))
    keys = ["_v", *_HARMS, "mean_added_minutes", "children_moved", "school_id"]
    order = order.sort_values(keys, kind="stable", na_position="last").drop(columns="_v")
    order.insert(0, "rank", np.arange(1, len(order) + 1))
    return order.reset_index(drop=True)


# --------------------------------------------------------------------------- outputs


def write_closure(
    impact: ClosureImpact,
    *,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    lang: Lang = "zh",
    tiles: str = "none",
) -> list[Path]:
    """Write the impact statement, the tables and the map of a closure.

    Writes ``<out_dir>/closure/statement.md`` and ``statement.html`` (one page, Chinese by
    default), ``<out_dir>/closure/closure.gpkg`` (one layer per table of
    :meth:`ClosureImpact.tables`, transfers as lines and schools as points),
    ``<out_dir>/closure/closure.xlsx`` (one sheet each) and ``<maps_dir>/closure.html``.

    Parameters
    ----------
    impact
        From :func:`close_schools`.
    out_dir
        Folder under which ``closure/`` is created.
    maps_dir
        Folder of the map (created if missing).
    lang
        Language of the statement, headers and map: ``"zh"`` or ``"en"``.
    tiles
        Basemap name (:data:`layout.maps.basemap.BASEMAPS`) or ``"none"``.

    Returns
    -------
    list of pathlib.Path
        The files written (also added to ``impact.outputs``).

    Examples
    --------
    See ``tests/test_closure.py`` (a hand-worked closure, statement and map).
    """
    folder = Path(out_dir) / "closure"
    study = impact.study
    blocks = text.statement(impact, lang)
    title = text.words("title", lang)
    written = []
    with replacing(folder / "statement.md") as tmp:
        tmp.write_text(text.markdown(blocks), encoding="utf-8")
    written.append(folder / "statement.md")
    with replacing(folder / "statement.html") as tmp:
        tmp.write_text(text.html_page(blocks, title=title, lang=lang), encoding="utf-8")
    written.append(folder / "statement.html")
    written += write_pack(impact.tables(), folder, stem="closure", study=study, lang=lang)
    maps = Path(maps_dir)
    maps.mkdir(parents=True, exist_ok=True)
    basemap = basemap_from_name(tiles)
    fmap = closure_map(
        study,
        closed=impact.idle,
        receiving=impact.receiving,
        transfers=impact.transfers,
        title=f"{title}: {', '.join(impact.idle['name'])} ({impact.year})",
        lang=lang,
        basemap=basemap,
    )
    written.append(save_html(fmap, maps / "closure.html", title=title, basemap=basemap))
    impact.outputs += written
    return written


def closure_report(
    study: Study,
    *,
    school_ids: Iterable[str],
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    year: int | None = None,
    scenario: str = "medium",
    lang: Lang = "zh",
    options: ClosureOptions | None = None,
) -> ClosureImpact:
    """Close schools and write the impact statement, tables and map.

    :func:`close_schools` then :func:`write_closure`.

    Parameters
    ----------
    study, school_ids, year, scenario, lang, options
        As for :func:`close_schools`.
    out_dir, maps_dir
        As for :func:`write_closure`.

    Returns
    -------
    ClosureImpact
        With ``outputs`` listing the files written.

    Examples
    --------
    See ``tests/test_closure.py``; ``layout closure STUDY --school ID`` runs it.
    """
    impact = close_schools(
        study, school_ids=school_ids, year=year, scenario=scenario, lang=lang, options=options
    )
    write_closure(impact, out_dir=out_dir, maps_dir=maps_dir, lang=lang)
    return impact


def screening_report(
    study: Study,
    *,
    county_code: str,
    out_dir: str | os.PathLike[str],
    max_students: int = 100,
    year: int | None = None,
    scenario: str = "medium",
    lang: Lang = "zh",
) -> list[Path]:
    """Screen a county's small schools and write ``<out_dir>/closure/screening.xlsx`` and ``.csv``.

    Parameters
    ----------
    study, county_code, max_students, year, scenario, lang
        As for :func:`screen_closures`; ``lang`` also sets the headers.
    out_dir
        Folder under which ``closure/`` is created.

    Returns
    -------
    list of pathlib.Path
        The spreadsheet and the CSV (UTF-8 with a byte-order mark, so Excel reads Chinese).

    Examples
    --------
    See ``tests/test_closure.py``; ``layout closure STUDY --screen COUNTY_CODE`` runs it.
    """
    table = screen_closures(
        study,
        county_code=county_code,
        max_students=max_students,
        year=year,
        scenario=scenario,
        lang=lang,
    )
    folder = Path(out_dir) / "closure"
    shown = localise({"closure_screening": table}, lang=lang)["closure_screening"]
    xlsx = write_spreadsheet(
        {"closure_screening": shown},
        folder / "screening.xlsx",
        sheet_names={"closure_screening": TABLE_TITLES["closure_screening"][lang]},
    )
    csv = folder / "screening.csv"
    with replacing(csv) as tmp:
        shown.to_csv(tmp, index=False, encoding="utf-8-sig")
    return [xlsx, csv]
