"""The actions of a solved phased plan: what a bureau does, in which year, at what cost.

One row per action: ``build`` (a new school on a reserved parcel or on land to reserve),
``reuse`` (an idle campus reopened), ``expand`` (classes added to a school), ``merge`` (a
school closed whose pupils move to others) or ``close`` (one closed without pupils), ``bus``
(a school's bus seats, from the first year it needs them), ``boarding`` (its boarding
places) and ``beyond_norm`` (children it seats beyond their norm, where nothing is within
it). Figures come from the model's answer; the words and the files are ``runs/``'.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..standards import Profile
from .inputs import CountyInputs, area_norm
from .problem import PhaseSolution

ACTION_COLUMNS: tuple[str, ...] = (
    "year",
    "level",
    "action",
    "facility_id",
    "name",
    "classes_change",
    "places_change",
    "capital_yuan",
    "yearly_yuan",
    "children",
    "minutes_before",
    "minutes_after",
    "land",
    "note",
)
"""Columns of the actions table (before ``geometry``)."""


def plan_actions(inputs: CountyInputs, plan: PhaseSolution, profile: Profile) -> gpd.GeoDataFrame:
    """Return the actions of a solved plan, in year order.

    Parameters
    ----------
    inputs
        The county's model and the tables naming its rows.
    plan
        Its answer.
    profile
        The standards profile (minimum sizes, bus seat and boarding costs).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`ACTION_COLUMNS` and the facility's point.
    """
    seated = _seated(inputs, plan)
    rows = []
    for f, place in enumerate(inputs.facilities.itertuples()):
        rows += _changes(inputs, plan, seated, f, place, profile)
        rows += _services(inputs, plan, f, place, profile)
    frame = pd.DataFrame(rows, columns=[*ACTION_COLUMNS, "geometry"])
    frame = frame.sort_values(["year", "level", "action", "facility_id"], kind="stable")
    return gpd.GeoDataFrame(
        frame.reset_index(drop=True), geometry="geometry", crs=inputs.facilities.crs
    )


def plan_timeline(inputs: CountyInputs, plan: PhaseSolution) -> pd.DataFrame:
    """Return places against children by year and level: the plan's timeline.

    Returns
    -------
    pandas.DataFrame
        ``year``, ``level``, ``children``, ``places`` (classes x cap of the open facilities)
        and ``beyond_norm`` (children seated beyond their norm: nothing is within it).
    """
    problem = inputs.problem
    fac_level = inputs.facilities["level"].to_numpy()
    group_level = inputs.groups["level"].to_numpy()
    beyond = problem.arcs.mode == "beyond"
    arc_level = group_level[problem.arcs.group]
    rows = []
    for t, year in enumerate(problem.years):
        for level in pd.unique(group_level):
            mine = fac_level == level
            rows.append(
                {
                    "year": year,
                    "level": level,
                    "children": float(problem.demand[group_level == level, t].sum()),
                    "places": int((plan.classes[mine, t] * problem.facilities.cap[mine]).sum()),
                    "beyond_norm": float(plan.flow[beyond & (arc_level == level), t].sum()),
                }
            )
    return pd.DataFrame(rows)


def _seated(inputs: CountyInputs, plan: PhaseSolution) -> pd.DataFrame:
    """Children per (group, facility, mode, year) with their minutes: the flows of the answer."""
    arcs = inputs.problem.arcs
    frames = []
    for t, year in enumerate(inputs.problem.years):
        frames.append(
            pd.DataFrame(
                {
                    "group": arcs.group,
                    "facility": arcs.facility,
                    "mode": arcs.mode,
                    "minutes": arcs.minutes,
                    "year": year,
                    "t": t,
                    "children": plan.flow[:, t],
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    return table[table["children"] > 1e-6]


def _mean_minutes(table: pd.DataFrame) -> float:
    weight = table["children"].to_numpy()
    return float(np.average(table["minutes"], weights=weight)) if weight.sum() > 0 else np.nan


def _changes(
    inputs: CountyInputs,
    plan: PhaseSolution,
    seated: pd.DataFrame,
    f: int,
    place: Any,
    profile: Profile,
) -> list[tuple[object, ...]]:
    """Build, reuse, expand, merge or close: changes of a facility's state between years."""
    problem = inputs.problem
    fac = problem.facilities
    years = problem.years
    was_open = fac.kind[f] == "school"
    was_classes = int(fac.classes[f]) if was_open else 0
    rows: list[tuple[object, ...]] = []
    for t, year in enumerate(years):
        now_open, now_classes = bool(plan.open[f, t]), int(plan.classes[f, t])
        change = now_classes - was_classes if now_open else -was_classes
        if now_open != was_open or (now_open and change > 0):
            moved = _moved(seated, f, t, closing=not now_open)
            if t == 0 and not now_open:  # closed at once: its pupils of the schools layer
                moved = (float(getattr(place, "pupils", 0.0)), np.nan, moved[2])
            kind = _kind(fac.kind[f], now_open, was_open, moved[0])
            capital = float(plan_capital(inputs, f, change, now_open and not was_open))
            rows.append(
                (
                    year,
                    place.level,
                    kind,
                    fac.ids[f],
                    place.name,
                    change,
                    change * int(fac.cap[f]),
                    capital,
                    np.nan,
                    moved[0],
                    moved[1],
                    moved[2],
                    _land(place),
                    _size_note(profile, place, now_classes, kind),
                    place.geometry,
                )
            )
        was_open, was_classes = now_open, now_classes if now_open else 0
    return rows


def plan_capital(inputs: CountyInputs, f: int, change: int, built: bool) -> float:
    """Return the capital of a facility's change: its size's cost when built, else classes."""
    fac = inputs.problem.facilities
    if built and fac.kind[f] != "school":
        sizes = fac.sizes[f]
        return float(fac.size_costs[f][sizes.index(change)]) if change in sizes else 0.0
    return float(max(change, 0) * fac.class_cost[f])


def _kind(kind: str, now_open: bool, was_open: bool, children: float) -> str:
    if now_open and not was_open:
        return "reuse" if kind == "campus" else "build"
    if now_open:
        return "expand"
    return "merge" if children > 0 else "close"


def _moved(seated: pd.DataFrame, f: int, t: int, *, closing: bool) -> tuple[float, float, float]:
    """Children affected, and their mean minutes before (year t-1) and after (year t).

    A closed school's children are its pupils of the year before; their minutes after are
    those of their groups' children seated elsewhere in the year it closes.
    """
    if closing:
        before = seated[(seated["facility"] == f) & (seated["t"] == t - 1)]
        groups = before["group"].unique()
        after = seated[seated["group"].isin(groups) & (seated["t"] == t)]
    else:
        after = seated[(seated["facility"] == f) & (seated["t"] == t)]
        groups = after["group"].unique()
        before = seated[seated["group"].isin(groups) & (seated["t"] == t - 1)]
    children = float((before if closing else after)["children"].sum())
    return children, _mean_minutes(before), _mean_minutes(after)


def _land(place: Any) -> str:
    kind, source = str(place.kind), str(place.source_id)
    if place.parcel_id:
        return f"parcel {place.parcel_id} (land check passed)"
    if kind == "campus":
        return f"campus {source}"
    if kind == "site":
        return "land to reserve"
    return f"school {source}"


def _size_note(profile: Profile, place: Any, classes: int, kind: str) -> str:
    """Say why a school is built below the standard minimum size, when it is."""
    if kind not in ("build", "reuse"):
        return ""
    level, setting = str(place.level), str(place.setting)
    smallest = min(area_norm(profile, level=level, setting=setting).classes)
    if classes >= smallest:
        return ""
    if kind == "reuse":
        return f"below the standard minimum of {smallest} classes: the idle campus's own size"
    if place.parcel_id:
        return f"below the standard minimum of {smallest} classes: the parcel's planned size"
    return (
        f"below the standard minimum of {smallest} classes: no school within the norm of "
        "these children, and a teaching point is the smallest feasible answer"
    )


def _services(
    inputs: CountyInputs, plan: PhaseSolution, f: int, place: Any, profile: Profile
) -> list[tuple[object, ...]]:
    """Bus seats, boarding places and seats beyond the norm of a facility, from the first year."""
    arcs = inputs.problem.arcs
    rows: list[tuple[object, ...]] = []
    rates = {
        "bus": profile.costs.bus_seat_yuan_per_year,
        "board": profile.funding.boarder_supplement,
        "beyond": 0.0,
    }
    notes = {"beyond": "no school or site within the norm of these children's grades"}
    for mode, action in (("bus", "bus"), ("board", "boarding"), ("beyond", "beyond_norm")):
        mine = (arcs.facility == f) & (arcs.mode == mode)
        by_year = plan.flow[mine].sum(axis=0)
        if not (by_year > 1e-6).any():
            continue
        first = int(np.flatnonzero(by_year > 1e-6)[0])
        places = int(np.ceil(by_year.max() - 1e-6))
        minutes = arcs.minutes[mine]
        flows = plan.flow[mine].sum(axis=1)
        rows.append(
            (
                inputs.problem.years[first],
                place.level,
                action,
                inputs.problem.facilities.ids[f],
                place.name,
                0,
                places,
                0.0,
                places * rates[mode],
                float(by_year.max()),
                np.nan,
                float(np.average(minutes, weights=flows)) if flows.sum() > 0 else np.nan,
                _land(place),
                notes.get(mode, ""),
                place.geometry,
            )
        )
    return rows
