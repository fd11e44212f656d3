"""Access of children to schools over the plan years: costs, assignment and provision.

For each level (primary, junior), :func:`access` costs every cell to the schools that teach
the level (along the road network when the study has roads, walking for primary pupils and
by school bus for junior ones; else straight-line distance times a circuity factor), then for
every scenario and plan year assigns the projected children to schools with the exact
capacity-constrained assignment of :mod:`layout.access.allocate`. From that it reports:

- per scenario, year and level: children, assigned, unserved, the share within the norm;
- per school: load, utilisation and projected class size by year, and the years it is over;
- for every scenario, year and level: the cells whose children have no place within reach or
  travel beyond the norm, with both counts (``reasons``, what the provision map shows);
- for the study's focus (the middle scenario, first and last plan year): per-cell flags
  (beyond the service radius in urban cells, beyond the travel-time norm in rural cells,
  unserved, at a school over capacity or over the class cap), a two-step floating catchment
  (2SFCA) accessibility index per cell, contiguous under-provisioned areas, catchments and
  the attendance matrix (township of residence x school);
- per township and county: children minus places by level and year.

Schools teach a level when their level does (nine-year schools teach both; teaching points
teach primary); their places of a level are :func:`layout.access.school_seats` (a nine-year
school's capacity split by its classes). Planned schools take no children.

Children are assigned to the schools of their own county. Where the profile allows
``cross_county_enrolment``, :func:`settle_borders` then seats the children each county left
without a place at the spare places of other counties' schools within the halo distance.

Examples
--------
One scenario, the first and last plan years of the bundled (synthetic) Anshan study:

>>> from layout.study import study_from_toml
>>> from layout.demand import study_demand
>>> study = study_from_toml()
>>> demand = study_demand(study, scenarios=["medium"], years=[2025, 2035])
>>> found = access(study, demand)
>>> table = found.summary
>>> bool((table["children"] - table["assigned"] - table["unserved"]).abs().max() < 1e-6)
True
>>> table.groupby(["level", "year"], sort=False)["county_code"].count().to_dict()
{('primary', 2025): 7, ('primary', 2035): 7, ('junior', 2025): 7, ('junior', 2035): 7}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from ..demand import focus_scenario, scenario_names
from ..schema import CHILD_LEVELS, HALO, LEVEL_GRADES, SETTINGS
from ..study import Study
from .allocate import Assignment, assign_series, attendance_matrix, catchments
from .borders import _border_inputs
from .costs import TravelCosts, costs_from_distance, costs_from_network
from .provision import (
    area_balances,
    cell_flags,
    school_provision,
    two_step_fca,
    under_provisioned_areas,
)
from .seats import school_seats

LEVEL_SCHOOLS: dict[str, tuple[str, ...]] = {
    "primary": ("primary", "nine_year", "teaching_point"),
    "junior": ("junior", "nine_year"),
}
"""School levels that teach each level of children."""


@dataclass
class Access:
    """What :func:`access` found; every table has plain column names (see the module text).

    Attributes
    ----------
    summary
        One row per county, scenario, year and level.
    schools
        One row per scenario, year, level and school.
    cells
        Per-cell flags and 2SFCA index for the focus scenario and years (long form).
    reasons
        For every scenario, year and level, the cells with children unserved or beyond the
        norm: ``county_code``, ``scenario``, ``year``, ``level``, ``cell_id``, ``children``,
        ``unserved`` and ``beyond_norm`` (children beyond the urban radius or the rural
        travel-time norm).
    areas
        Under-provisioned areas (polygons) of the focus scenario and years.
    catchments
        School catchments (polygons) of the focus scenario, first plan year.
    flows
        The assignment of the focus scenario and years: children from each cell to each
        school, with metres and minutes, as lines from the cell's centre to the school.
    attendance
        Children by township of residence and school (long form: ``township_code``,
        ``school_id``, ``children``), focus scenario, first plan year.
    balance
        Children minus places per township, level, scenario and year.
    border_unserved, border_arcs
        Only when the profile allows ``cross_county_enrolment``: the children left without a
        place in their own county who have a school of another county within the halo
        distance (``scenario``, ``year``, ``level``, ``cell_id``, ``county_code``,
        ``children``), and their arcs to those schools (``level``, ``cell_id``,
        ``school_id``, ``school_county_code``, ``metres``, ``minutes``): the input of
        :func:`settle_borders`.
    """

    summary: pd.DataFrame
    schools: pd.DataFrame
    cells: pd.DataFrame
    reasons: pd.DataFrame
    areas: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame
    attendance: pd.DataFrame
    balance: pd.DataFrame
    flows: gpd.GeoDataFrame
    border_unserved: pd.DataFrame | None = None
    border_arcs: pd.DataFrame | None = None


def level_costs(
    study: Study,
    schools: gpd.GeoDataFrame,
    *,
    level: str,
    cells: gpd.GeoDataFrame | None = None,
    modes: Mapping[str, str] | None = None,
) -> TravelCosts:
    """Cost cells to ``schools`` for children of ``level``: the one costing choice.

    Each cell travels by the profile's mode for the level and the cell's setting
    (:meth:`~layout.standards.Profile.mode`): on foot at ``walking_speed_kmh``, or by school
    bus at ``bus_speed_kmh`` at most. Along the road network when the study has roads, else
    by straight line x ``service.circuity``. Every school within ``service.max_trip_minutes``
    is kept (no nearest-k shortcut), so no school within reach of any norm is missed.

    Parameters
    ----------
    study
        The study (its profile, roads and, by default, cells).
    schools
        School points with ``school_id``.
    level
        ``"primary"`` or ``"junior"``.
    cells
        Population cells to cost (polygons with ``cell_id`` and ``setting``); default every
        cell of the study.
    modes
        Travel mode by setting, replacing the profile's (``{"rural": "bus"}``), for a what-if.

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> study = study_from_toml()
    >>> schools = study["schools"][study["schools"]["level"] == "junior"]
    >>> costs = level_costs(study, schools, level="junior")
    >>> costs.minutes.shape[0] == len(study["population"])
    True
    """
    profile = study.standards
    population = study["population"] if cells is None else cells
    points = gpd.GeoDataFrame(
        {"cell_id": population["cell_id"].to_numpy()},
        geometry=population.geometry.centroid.to_numpy(),
        crs=population.crs,
    )
    if schools.empty:  # a county without a school of the level: every child is unserved
        nothing = sparse.csr_array((len(points), 0))
        ids = pd.Index(points["cell_id"], name="cell_id")
        return TravelCosts(nothing, nothing.copy(), ids, pd.Index([], name="school_id"), "none")
    chosen = {s: profile.mode(level, s) for s in SETTINGS} | dict(modes or {})
    mode = population["setting"].map(chosen).to_numpy()
    parts = [_mode_costs(study, points[mode == m], schools, mode=m) for m in pd.unique(mode)]
    return parts[0] if len(parts) == 1 else TravelCosts.stacked(parts, cells=points["cell_id"])


def _mode_costs(
    study: Study, points: gpd.GeoDataFrame, schools: gpd.GeoDataFrame, *, mode: str
) -> TravelCosts:
    """Costs of cells whose pupils all travel by one mode."""
    service = study.standards.service
    speed = study.standards.speed_kmh(mode)
    if study.road_network is not None:
        return costs_from_network(
            points,
            schools,
            study.road_network,
            cutoff_min=service.max_trip_minutes,
            walk_kmh=service.walking_speed_kmh,
            speed_cap_kmh=speed,
        )
    return costs_from_distance(
        points,
        schools,
        cutoff_m=service.max_trip_minutes * speed * 1000 / 60,
        circuity=service.circuity,
        speed_kmh=speed,
    )


def access(study: Study, demand: gpd.GeoDataFrame, *, focus: str | None = None) -> Access:
    """Assign the projected children of every scenario and year to schools, and judge it.

    Each county is solved on its own, level by level (the county is the policy's planning
    unit): its children, its schools and its travel costs, exactly as when the county is
    planned alone (a partition of a county-by-county run). Both kinds of run therefore find
    the same assignment, also where several are equally good.

    Parameters
    ----------
    study
        The study (schools, cells, roads, townships, standards).
    demand
        The demand layer of :func:`layout.demand.project_demand`.
    focus
        Scenario whose cells, areas and catchments are reported; the middle one by default
        (``medium`` when there is one).

    Returns
    -------
    Access
    """
    scenarios = scenario_names(demand)
    focus = focus or focus_scenario(scenarios)
    years = sorted(int(y) for y in demand["year"].unique())
    focus_years = sorted({years[0], years[-1]})
    children = _children(demand)
    places = _places(study, "schools")
    across = study.standards.service.cross_county_enrolment
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in Access.__dataclass_fields__}
    school_tables: list[pd.DataFrame] = []
    balances: list[pd.DataFrame] = []
    reasons: list[pd.DataFrame] = []
    summaries: list[dict[str, object]] = []
    population = study["population"]
    cell_county = population["county_code"].astype(str).set_axis(population["cell_id"])
    counties = sorted(pd.unique(cell_county))
    empty = children.iloc[:0].reset_index(drop=True)
    split = _by_county(children, cell_county)
    for level in CHILD_LEVELS:
        keys = [
            {"scenario": scenario, "year": year, "level": level}
            for scenario in scenarios
            for year in years
        ]
        for county in counties:
            cells = population[(cell_county.to_numpy() == county)]
            cell_ids = pd.Index(cells["cell_id"])
            urban = (cells["setting"] == "urban").to_numpy()
            towns = cells["township_code"].to_numpy()
            county_demands = [
                split.get((k["scenario"], k["year"], level, county), empty) for k in keys
            ]
            own = (places[level]["county_code"].astype(str) == county).to_numpy()
            schools = places[level][own].reset_index(drop=True)
            others = places[level][~own].reset_index(drop=True)
            costs, cross = _county_costs(
                study, schools, others, cells=cells, level=level, across=across
            )
            results = assign_series(county_demands, schools, costs, capacity_column="capacity")
            towns_of: list[np.ndarray] = []
            flow_cells: list[np.ndarray] = []
            tables = _school_tables(results, schools, cap=study.standards.cap(level))
            rows = len(results[0].schools)  # the same schools in each
            school_tables.append(_with_keys(tables.reset_index(), keys, rows))
            for i, (key, frame, result) in enumerate(
                zip(keys, county_demands, results, strict=True)
            ):
                where = cell_ids.get_indexer(frame["cell_id"])
                flow_cells.append(cell_ids.get_indexer(result.flows["cell_id"]))
                summaries.append(
                    _summary(study, result, key, urban=urban[flow_cells[-1]], county=county)
                )
                towns_of.append(towns[where])
                if key["scenario"] == focus and key["year"] in focus_years:
                    lived = np.zeros(len(cells), dtype=bool)
                    lived[where] = True
                    table = tables.iloc[i * rows : (i + 1) * rows]
                    flags = _flags(study, result, cell_ids[lived], table, urban[lived], level=level)
                    inputs = (frame, cells[lived].reset_index(drop=True), schools, costs)
                    _focus(parts, study, result, flags, inputs, key, first=key["year"] == years[0])
            balances.append(_balances(county_demands, towns_of, schools, keys))
            found = _reasons(results, flow_cells, cell_ids, urban, keys, norms=_norms(study, level))
            reasons.append(found.assign(county_code=county))
            if cross is not None:
                _border_inputs(parts, study, cross, results, keys)
    return Access(
        summary=pd.DataFrame(summaries),
        schools=pd.concat(school_tables, ignore_index=True),
        cells=pd.concat(parts["cells"], ignore_index=True),
        reasons=pd.concat(reasons, ignore_index=True)[REASON_COLUMNS],
        areas=_stacked(parts["areas"], study.crs),
        catchments=_stacked(parts["catchments"], study.crs),
        attendance=pd.concat(parts["attendance"], ignore_index=True),
        balance=pd.concat(balances, ignore_index=True),
        flows=_stacked(parts["flows"], study.crs),
        border_unserved=_joined_or_none(parts["border_unserved"], across),
        border_arcs=_joined_or_none(parts["border_arcs"], across),
    )


def _by_county(
    children: pd.DataFrame, cell_county: pd.Series
) -> dict[tuple[object, ...], pd.DataFrame]:
    """Split the children of :func:`_children` by scenario, year, level and county, in one pass.

    Each part keeps the rows of its scenario, year and level in their order, as columns
    ``cell_id`` and ``children``.
    """
    keys = [children.index.get_level_values(n) for n in ("scenario", "year", "level")]
    county = pd.Index(cell_county.reindex(children["cell_id"]).to_numpy(), name="county")
    frame = children.reset_index(drop=True)
    return {
        (scenario, int(year), level, str(code)): part.reset_index(drop=True)
        for (scenario, year, level, code), part in frame.groupby(
            [*(k.to_numpy() for k in keys), county.to_numpy()], sort=False
        )
    }


def _with_keys(table: pd.DataFrame, keys: Sequence[dict[str, object]], rows: int) -> pd.DataFrame:
    """Add the key columns (scenario, year, level) to a table of ``rows`` rows per key."""
    for name in keys[0]:
        table[name] = np.repeat(np.array([key[name] for key in keys]), rows)
    return table


def _school_tables(
    results: Sequence[Assignment], schools: gpd.GeoDataFrame, *, cap: float
) -> pd.DataFrame:
    """:func:`layout.access.school_provision` of every assignment (same schools), stacked."""
    stacked = pd.concat([result.schools for result in results])
    return school_provision(
        replace(results[0], schools=stacked), schools, classes_column="classes", class_cap=cap
    )


def _joined_or_none(frames: list[pd.DataFrame], across: bool) -> pd.DataFrame | None:
    """Join the border inputs of the counties (``None`` when children stay in their county)."""
    if not across:
        return None
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _county_costs(
    study: Study,
    schools: gpd.GeoDataFrame,
    others: gpd.GeoDataFrame,
    *,
    cells: gpd.GeoDataFrame,
    level: str,
    across: bool,
) -> tuple[TravelCosts, pd.DataFrame | None]:
    """Costs from a county's cells to its own schools, and (``across``) arcs to others'.

    The arcs (``cell_id``, ``school_id``, ``school_county_code``, ``metres``, ``minutes``)
    reach the schools of other counties within the halo distance
    (:attr:`layout.standards.Profile.halo_m`): ``others`` (the study's schools of other
    counties), and its ``halo_schools`` (a county partition's neighbours).
    """
    own = level_costs(study, schools, level=level, cells=cells)
    if not across:
        return own, None
    reach = study.standards.halo_m
    halo = _places(study, HALO)[level] if HALO in study.layers else others.iloc[:0]
    away = pd.concat([others, halo], ignore_index=True)
    if away.empty:
        return own, pd.DataFrame(columns=_ARC_COLUMNS)
    far = level_costs(study, away, level=level, cells=cells)
    arcs = far.where(far.metres.data <= reach).arcs()
    counties = away.set_index("school_id")["county_code"]
    arcs.insert(2, "school_county_code", counties.reindex(arcs["school_id"]).to_numpy())
    return own, arcs


_ARC_COLUMNS = ["cell_id", "school_id", "school_county_code", "metres", "minutes"]


def _children(demand: gpd.GeoDataFrame) -> pd.DataFrame:
    """Children by scenario, year, level and cell (cells with children only)."""
    keys = ["scenario", "year", "level", "cell_id"]
    sums = pd.DataFrame(demand[[*keys, "children"]]).groupby(keys, observed=True)["children"].sum()
    return sums[sums > 0].reset_index("cell_id")


def _places(study: Study, layer: str) -> dict[str, gpd.GeoDataFrame]:
    """Per level: the schools of ``layer`` teaching it, with their places and classes of it.

    Planned schools and schools without places of the level are left out.
    """
    schools = study[layer]
    seats = school_seats(schools)
    places = {}
    for level in CHILD_LEVELS:
        grades = LEVEL_GRADES[level]
        frame = gpd.GeoDataFrame(
            {
                "school_id": schools["school_id"],
                "county_code": schools["county_code"],
                "township_code": schools["township_code"],
                "capacity": seats[f"capacity_{level}"].to_numpy(),
                "classes": schools[[f"classes_g{g}" for g in grades]].sum(axis=1),
            },
            geometry=schools.geometry,
            crs=schools.crs,
        )
        keep = (
            schools["level"].isin(LEVEL_SCHOOLS[level])
            & (schools["status"] != "planned")
            & (frame["capacity"] > 0)
        )
        places[level] = frame[keep.to_numpy()].reset_index(drop=True)
    return places


def _norms(study: Study, level: str) -> tuple[float, float]:
    """Urban service radius (m) and rural travel-time norm (min) of a level."""
    profile = study.standards
    return profile.radius(level, "urban"), profile.minutes(level, setting="rural")


def _summary(
    study: Study, result: Assignment, key: dict[str, object], *, urban: np.ndarray, county: str
) -> dict[str, object]:
    """Children, assigned, unserved and the share of children within the norm of a county.

    ``urban`` tells, for each of the assignment's flows, whether its cell is urban.
    """
    radius, minutes = _norms(study, str(key["level"]))
    flows = result.flows
    within = np.where(urban, flows["metres"] <= radius, flows["minutes"] <= minutes)
    children = float(result.cells["children"].sum())
    served = flows["children"].to_numpy()
    within_norm = float(served[within].sum())
    row = {
        "county_code": county,
        **key,
        "children": children,
        "assigned": float(result.cells["assigned"].sum()),
        "unserved": float(result.cells["unserved"].sum()),
        "within_norm": within_norm,
        "mean_minutes": float(np.average(flows["minutes"], weights=served))
        if served.sum()
        else np.nan,
    }
    row["share_within_norm"] = within_norm / children if children else np.nan
    return row


def _balances(
    frames: Sequence[pd.DataFrame],
    towns: Sequence[np.ndarray],
    schools: gpd.GeoDataFrame,
    keys: Sequence[dict[str, object]],
) -> pd.DataFrame:
    """Children minus places per township for each scenario and year of a county and level.

    ``frames`` are the children of each key (``towns``: the township of each row); the
    columns of each key are added after the balance's.
    """
    located = pd.DataFrame(
        {
            "township_code": np.concatenate(towns) if towns else np.array([], dtype=object),
            "children": np.concatenate([f["children"].to_numpy() for f in frames])
            if frames
            else np.zeros(0),
        }
    )
    pieces = np.repeat(np.arange(len(frames)), [len(f) for f in frames])
    table = area_balances(located, schools, pieces=pieces, n_pieces=len(keys))
    piece = table.pop("piece").to_numpy()
    table = table.rename(columns={"shortfall": "seat_shortfall"})
    for name in keys[0]:
        table[name] = np.array([key[name] for key in keys])[piece]
    return table


def _flags(
    study: Study,
    result: Assignment,
    cell_ids: pd.Index,
    table: pd.DataFrame,
    urban: np.ndarray,
    *,
    level: str,
) -> pd.DataFrame:
    """Flag the cells with children: urban ones by the radius, rural ones by the time norm."""
    radius, minutes = _norms(study, level)
    cells = pd.DataFrame({"cell_id": cell_ids})
    return cell_flags(result, cells, table, radius_m=radius, max_minutes=minutes, urban=urban)


REASON_COLUMNS = [
    "county_code",
    "scenario",
    "year",
    "level",
    "cell_id",
    "children",
    "unserved",
    "beyond_norm",
]
"""Columns of :attr:`Access.reasons`."""


def _reasons(
    results: Sequence[Assignment],
    flow_cells: Sequence[np.ndarray],
    cell_ids: pd.Index,
    urban: np.ndarray,
    keys: Sequence[dict[str, object]],
    *,
    norms: tuple[float, float],
) -> pd.DataFrame:
    """Keep the cells with children unserved or beyond the norm, with both counts.

    For every scenario and year (``keys``) of a county and level at once: ``results`` are
    their assignments on the same costs, ``flow_cells`` the position in ``cell_ids`` of each
    assignment's flows. The counts are those of :func:`layout.access.cell_flags` (urban cells
    by the radius, rural ones by the time norm: ``norms``); the key columns come after.
    """
    radius, minutes = norms
    n_cells = len(cell_ids)
    pieces = np.repeat(np.arange(len(results)), [len(cells) for cells in flow_cells])
    cell = np.concatenate(flow_cells)
    flows = [result.flows for result in results]
    metres, times, children = (
        np.concatenate([f[name].to_numpy(dtype=float) for f in flows])
        for name in ("metres", "minutes", "children")
    )
    beyond = np.where(urban[cell], metres > radius, times > minutes)
    size = len(results) * n_cells
    counts: dict[str, np.ndarray] = {
        "beyond_norm": np.bincount(pieces * n_cells + cell, children * beyond, size),
    }
    own = results[0].cells.index.get_indexer(cell_ids)
    for name in ("children", "unserved"):
        values = np.zeros((len(results), n_cells))
        found = np.stack([r.cells[name].to_numpy(dtype=float) for r in results])
        values[:, own >= 0] = found[:, own[own >= 0]]
        counts[name] = values.ravel()
    kept = np.flatnonzero((counts["unserved"] > 0) | (counts["beyond_norm"] > 0))
    piece, at = np.divmod(kept, n_cells)
    table = pd.DataFrame({"cell_id": cell_ids.to_numpy()[at]})
    for name in ("children", "unserved", "beyond_norm"):
        table[name] = counts[name][kept]
    for name in keys[0]:
        table[name] = np.array([key[name] for key in keys])[piece]
    return table


def _focus(
    parts: dict[str, list[pd.DataFrame]],
    study: Study,
    result: Assignment,
    flags: pd.DataFrame,
    inputs: tuple[pd.DataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, TravelCosts],
    key: dict[str, object],
    *,
    first: bool,
) -> None:
    """Add the flags with 2SFCA, areas, flows, and (first year) catchments and attendance."""
    cells, geo, schools, costs = inputs
    minutes = _norms(study, str(key["level"]))[1]
    demand = cells.set_index("cell_id")["children"]
    located = geo.assign(children=demand.reindex(geo["cell_id"]).to_numpy())
    index = two_step_fca(located, schools, costs, threshold=minutes).to_numpy()
    flags = flags.assign(access_2sfca=index)
    parts["cells"].append(pd.DataFrame(flags).assign(**key))
    parts["flows"].append(_flow_lines(result, geo, schools).assign(**key))
    parts["areas"].append(under_provisioned_areas(flags, geo, costs, schools).assign(**key))
    if first:
        parts["catchments"].append(catchments(result, geo).reset_index().assign(**key))
        matrix = attendance_matrix(result, geo)
        long = matrix.stack().rename("children").reset_index()
        long.columns = ["township_code", "school_id", "children"]
        parts["attendance"].append(long[long["children"] > 0].assign(**key))


def _flow_lines(
    result: Assignment, cells: gpd.GeoDataFrame, schools: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Draw the assignment's flows as lines from each cell's centre to its school."""
    flows = result.flows
    start = cells.set_index("cell_id").geometry.centroid.reindex(flows["cell_id"]).to_numpy()
    end = schools.set_index("school_id").geometry.reindex(flows["school_id"]).to_numpy()
    return gpd.GeoDataFrame(
        flows.reset_index(drop=True),
        geometry=shapely.shortest_line(start, end),
        crs=cells.crs,
    )


def _stacked(frames: Sequence[gpd.GeoDataFrame], crs: str) -> gpd.GeoDataFrame:
    """Concatenate GeoDataFrames (an empty one in ``crs`` when there are none)."""
    if not frames:
        return gpd.GeoDataFrame(geometry=[], crs=crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)
