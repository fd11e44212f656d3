"""Closing or merging schools (撤并): the impact statement the education department gives first.

The Anshan 2020 plan (二.(一).1) makes the education department's opinion a precondition of
closing or merging a school, and asks that idle campuses be reused, education first. This
module computes what that opinion rests on.

* :func:`close_schools` closes the named schools and compares two capacity-constrained
  assignments (:func:`layout.access.assign`) of each county's projected children, per level
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
  :func:`layout.access.school_seats`). Schools of status ``planned`` or ``closing`` take nobody.
* Travel costs come from the road network when the study has a ``roads`` layer
  (:func:`layout.access.costs_from_network`), else from the straight line times a circuity
  factor (:func:`layout.access.costs_from_distance`). Primary pupils walk and junior pupils
  ride the school bus by default (:class:`ClosureOptions`), at the profile's
  ``service.walking_speed_kmh`` and ``service.bus_speed_kmh``, as in
  :func:`layout.access.service_radii`.
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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..access import CELL_ID, SCHOOL_ID, Assignment, school_provision
from ..errors import ValidationError
from ..schema import CHILD_LEVELS
from ..standards import Profile
from ..study import Study
from ._levels import (
    _TOL,
    ClosureOptions,
    _after,
    _checked_ids,
    _contexts,
    _demand_cells,
    _emptied,
    _emptied_problems,
    _Level,
    _level_seats,
    _Outcome,
    _places,
    _projected,
    _year,
)
from .money import _idle, _money

VERDICTS: tuple[str, ...] = ("harmless", "harmful", "refused")
"""Screening verdicts, best first: no norm breached; some breached; closing is refused."""

HARMS: tuple[str, ...] = (
    "unplaced",
    "grades_1_3_pushed",
    "receiving_breaches",
    "new_boarders",
)
"""Figures that make a closure harmful when at least :data:`HARM_MIN`, in the order they rank
closures."""

HARM_MIN = 0.5
"""The least figure that counts as a harm: half a child rounds to none."""


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
        One row per county and level whose children move: ``county_code``, ``level``,
        ``children`` (the county's projected children of the level in ``year`` under
        ``scenario``, new developments' included: all that the assignment seats),
        ``children_moved``, ``from_closed``, ``knock_on``, ``unplaced``, ``mean_minutes_before``,
        ``mean_minutes_after``, ``mean_added_minutes``, ``max_added_minutes``,
        ``max_minutes_after``, ``mean_added_metres``, ``max_added_metres``,
        ``grades_1_3_pushed``, ``grades_1_3_newly_beyond``, ``new_boarders``,
        ``receiving_schools``, ``receiving_breaches``, ``receiving_large`` and ``verdict``
        (one of :data:`VERDICTS`; the words of its reason are
        :func:`layout.report.closure_words.closure_texts`'s).
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
        schools and reserved parcels nearby (``nearby_planned`` within ``radius_m``); school
        points.
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
    cap = profile.cap(context.level)
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


def _verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """Add the ``verdict`` of summary rows: harmful when any of :data:`HARMS` is a harm."""
    harmful = (table[list(HARMS)].to_numpy(dtype=float) >= HARM_MIN).any(axis=1)
    return table.assign(verdict=np.where(harmful, VERDICTS[1], VERDICTS[0]))


def _outcome(contexts: Sequence[_Level], closed: Sequence[str], profile: Profile) -> _Outcome:
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
        children = float(context.cells["children"].sum())
        rows.append(
            {"county_code": context.county, "level": context.level, "children": children} | figures
        )
        moves.append(level_moves)
        receiving.append(level_receiving.assign(county_code=context.county))
        provision.append(level_provision)
    summary = _verdicts(pd.DataFrame(rows))
    return _Outcome(
        summary,
        pd.concat(moves, ignore_index=True),
        pd.concat(receiving, ignore_index=True),
        pd.concat(provision, ignore_index=True),
    )


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
    [{'level': 'junior', 'verdict': 'harmful'}]
    """
    options = options or ClosureOptions()
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
    contexts = _contexts(study, cells, seats, touched)
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
    outcome = _outcome(list(contexts.values()), closed, study.standards)
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
        idle=_idle(study, closed),
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
