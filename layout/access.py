"""Access of children to schools over the plan years: costs, assignment and provision.

For each level (primary, junior), :func:`access` costs every cell to the schools that teach
the level (along the road network when the study has roads, walking for primary pupils and
by school bus for junior ones; else straight-line distance times a circuity factor), then for
every scenario and plan year assigns the projected children to schools with the exact
capacity-constrained assignment of :mod:`layout.allocate`. From that it reports:

- per scenario, year and level: children, assigned, unserved, the share within the norm;
- per school: load, utilisation and projected class size by year, and the years it is over;
- for the study's focus (the middle scenario, first and last plan year): per-cell flags
  (beyond the service radius in urban cells, beyond the travel-time norm in rural cells,
  unserved, at a school over capacity or over the class cap), a two-step floating catchment
  (2SFCA) accessibility index per cell, contiguous under-provisioned areas, catchments and
  the attendance matrix (township of residence x school);
- per township and county: children minus places by level and year.

Schools teach a level when their level does (nine-year schools teach both; teaching points
teach primary); their places of a level are :func:`layout.seats.school_seats` (a nine-year
school's capacity split by its classes). Planned schools take no children.

Children are assigned to the schools of their own county. Where the profile allows
``cross_county_enrolment``, :func:`settle_borders` then seats the children each county left
without a place at the spare places of other counties' schools within the halo distance.

Examples
--------
One scenario, the first and last plan years of the bundled (synthetic) Anshan study:

>>> from layout.study import study_from_toml
>>> from layout.demand import project_demand
>>> from layout.scenarios import default_scenarios
>>> study = study_from_toml()
>>> medium = default_scenarios()[1]
>>> demand = project_demand(study["population"], study["developments"], scenarios=[medium],
...                         years=[2025, 2035])
>>> found = access(study, demand)
>>> table = found.summary
>>> bool((table["children"] - table["assigned"] - table["unserved"]).abs().max() < 1e-6)
True
>>> table[["level", "year"]].values.tolist()
[['primary', 2025], ['primary', 2035], ['junior', 2025], ['junior', 2035]]
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from ._partition import HALO, halo_distance
from ._sparse import row_of_entries
from .allocate import Assignment, assign, assign_series, attendance_matrix, catchments
from .cohorts import CHILD_LEVELS
from .costs import TravelCosts, costs_from_distance, costs_from_network
from .demand import focus_scenario, scenario_names
from .provision import (
    area_balance,
    cell_flags,
    school_provision,
    two_step_fca,
    under_provisioned_areas,
)
from .seats import school_seats
from .standards import Profile
from .study import Study

LOG = logging.getLogger(__name__)

LEVEL_SCHOOLS: dict[str, tuple[str, ...]] = {
    "primary": ("primary", "nine_year", "teaching_point"),
    "junior": ("junior", "nine_year"),
}
"""School levels that teach each level of children."""

BORDER_INPUTS: tuple[str, ...] = ("border_unserved", "border_arcs")
"""Names of the tables :func:`settle_borders` takes (and drops) when seating across borders."""

_NO_PLACE = 1e-9
"""Spare places at or below this are none (floating-point noise of the assignment)."""

_NO_SEATS = pd.DataFrame(
    {
        "scenario": pd.Series(dtype=object),
        "year": pd.Series(dtype="int64"),
        "level": pd.Series(dtype=object),
        "cell_id": pd.Series(dtype=object),
        "county_code": pd.Series(dtype=object),
        "school_id": pd.Series(dtype=object),
        "school_county_code": pd.Series(dtype=object),
        "children": pd.Series(dtype=float),
        "metres": pd.Series(dtype=float),
        "minutes": pd.Series(dtype=float),
    }
)
"""Columns of the ``border_seats`` table."""

NETWORK_CUTOFF_MIN = 120.0
"""Longest trip costed along the road network; farther cells are unserved with a reason."""


@dataclass
class Access:
    """What :func:`access` found; every table has plain column names (see the module text).

    Attributes
    ----------
    summary
        One row per scenario, year and level.
    schools
        One row per scenario, year, level and school.
    cells
        Per-cell flags and 2SFCA index for the focus scenario and years (long form).
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
    areas: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame
    attendance: pd.DataFrame
    balance: pd.DataFrame
    flows: gpd.GeoDataFrame
    border_unserved: pd.DataFrame | None = None
    border_arcs: pd.DataFrame | None = None


def level_costs(study: Study, schools: gpd.GeoDataFrame, *, level: str) -> TravelCosts:
    """Cost the study's cells to ``schools`` for children of ``level``.

    Along the road network when the study has roads (primary pupils walk; junior pupils ride
    at the profile's school-bus speed at most), else by straight line x 1.3 at walking speed.

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> study = study_from_toml()
    >>> schools = study["schools"][study["schools"]["level"] == "junior"]
    >>> costs = level_costs(study, schools, level="junior")
    >>> costs.minutes.shape[0] == len(study["population"])
    True
    """
    cells = _cell_points(study)
    service = study.standards.service
    if schools.empty:  # a county without a school of the level: every child is unserved
        nothing = sparse.csr_array((len(cells), 0))
        ids = pd.Index(cells["cell_id"], name="cell_id")
        return TravelCosts(nothing, nothing.copy(), ids, pd.Index([], name="school_id"), "none")
    if study.road_network is not None:
        cap = service.walking_speed_kmh if level == "primary" else service.bus_speed_kmh
        return costs_from_network(
            cells,
            schools,
            study.road_network,
            cutoff_min=NETWORK_CUTOFF_MIN,
            walk_kmh=service.walking_speed_kmh,
            speed_cap_kmh=cap,
        )
    return costs_from_distance(cells, schools, speed_kmh=service.walking_speed_kmh)


def access(study: Study, demand: gpd.GeoDataFrame, *, focus: str | None = None) -> Access:
    """Assign the projected children of every scenario and year to schools, and judge it.

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
    for level in CHILD_LEVELS:
        schools = places[level]
        costs, cross = _county_costs(study, schools, level=level, across=across)
        keys = [
            {"scenario": scenario, "year": year, "level": level}
            for scenario in scenarios
            for year in years
        ]
        # A list key keeps a frame also when a single cell has children.
        demands = [
            children.loc[[(k["scenario"], k["year"], level)]].reset_index(drop=True) for k in keys
        ]
        results = assign_series(demands, schools, costs, capacity_column="capacity")
        cap = _cap(study.standards, level)
        for key, cells, result in zip(keys, demands, results, strict=True):
            table = school_provision(result, schools, classes_column="classes", class_cap=cap)
            parts["schools"].append(table.reset_index().assign(**key))
            parts["summary"].append(_summary(study, result, level, key))
            parts["balance"].append(_balance(study, cells, schools, key))
            if key["scenario"] == focus and key["year"] in focus_years:
                inputs = (cells, schools, costs, table)
                _focus(parts, study, result, inputs, key, first=key["year"] == years[0])
        if across:
            _border_inputs(parts, study, cross, results, keys)
    return Access(
        summary=pd.concat(parts["summary"], ignore_index=True),
        schools=pd.concat(parts["schools"], ignore_index=True),
        cells=pd.concat(parts["cells"], ignore_index=True),
        areas=_stacked(parts["areas"], study.crs),
        catchments=_stacked(parts["catchments"], study.crs),
        attendance=pd.concat(parts["attendance"], ignore_index=True),
        balance=pd.concat(parts["balance"], ignore_index=True),
        flows=_stacked(parts["flows"], study.crs),
        border_unserved=pd.concat(parts["border_unserved"], ignore_index=True) if across else None,
        border_arcs=pd.concat(parts["border_arcs"], ignore_index=True) if across else None,
    )


def settle_borders(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Seat children left without a place in their county at spare places across the border.

    When the profile allows ``cross_county_enrolment``, every county first seats its own
    children (:func:`access`); then, for each scenario, year and level, the children still
    without a place take the places its own children left spare in schools of other counties
    within the halo distance, by the same exact assignment (least total travel, then seating
    the most children possible). In a county-by-county run this happens once every county is
    done, on the merged tables (:func:`layout.province.merge_counties`), so that a county's
    spare places are known and shared by all its neighbours.

    Parameters
    ----------
    tables
        Result tables with ``access_summary``, ``access_schools``, ``border_unserved`` and
        ``border_arcs`` (see :class:`Access`).

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables without ``border_unserved`` and ``border_arcs``, with ``border_seats`` (one
        row per cell and school of another county: ``scenario``, ``year``, ``level``,
        ``cell_id``, ``county_code``, ``school_id``, ``school_county_code``, ``children``,
        ``metres``, ``minutes``), ``across_border`` and ``unserved_after_border`` added to
        ``access_summary`` (by county when it has a ``county_code`` column), and
        ``load_across_border`` to ``access_schools``.

    Examples
    --------
    Cell ``c`` of county A has 30 children without a place; school ``t`` of county B, 2 km
    away, has 20 places spare:

    >>> import pandas as pd
    >>> key = {"scenario": "medium", "year": 2030, "level": "primary"}
    >>> tables = {
    ...     "access_summary": pd.DataFrame([{**key, "children": 130.0, "unserved": 30.0}]),
    ...     "access_schools": pd.DataFrame([{**key, "school_id": "t", "spare": 20.0}]),
    ...     "border_unserved": pd.DataFrame(
    ...         [{**key, "cell_id": "c", "county_code": "A", "children": 30.0}]),
    ...     "border_arcs": pd.DataFrame([{"level": "primary", "cell_id": "c", "school_id": "t",
    ...         "school_county_code": "B", "metres": 2000.0, "minutes": 33.3}]),
    ... }
    >>> settled = settle_borders(tables)
    >>> settled["access_summary"][["across_border", "unserved_after_border"]].values.tolist()
    [[20.0, 10.0]]
    >>> settled["access_schools"]["load_across_border"].tolist()
    [20.0]
    """
    out = dict(tables)
    unserved, arcs = (out.pop(name) for name in BORDER_INPUTS)
    keys = ["scenario", "year", "level"]
    spare = out["access_schools"].set_index([*keys, "school_id"])["spare"]
    seats = [_border_seats(group, arcs, spare, key) for key, group in unserved.groupby(keys)]
    found = pd.concat([_NO_SEATS, *seats], ignore_index=True).astype(_NO_SEATS.dtypes)
    summary = out["access_summary"]
    by = [c for c in ("county_code", *keys) if c in summary.columns]
    taken = found.groupby(by)["children"].sum().rename("across_border")
    summary = summary.join(taken, on=by)
    summary["across_border"] = summary["across_border"].fillna(0.0)
    summary["unserved_after_border"] = summary["unserved"] - summary["across_border"]
    schools = out["access_schools"]
    load = found.groupby([*keys, "school_id"])["children"].sum().rename("load_across_border")
    schools = schools.join(load, on=[*keys, "school_id"])
    schools["load_across_border"] = schools["load_across_border"].fillna(0.0)
    out.update(access_summary=summary, access_schools=schools, border_seats=found)
    return out


def _border_seats(
    unserved: pd.DataFrame, arcs: pd.DataFrame, spare: pd.Series, key: tuple
) -> pd.DataFrame:
    """Assign one scenario, year and level's unserved children to spare places across."""
    scenario, year, level = key
    places = spare.xs((scenario, year, level), level=["scenario", "year", "level"])
    places = places[places > _NO_PLACE]
    mine = arcs[
        (arcs["level"] == level)
        & arcs["cell_id"].isin(unserved["cell_id"])
        & arcs["school_id"].isin(places.index)
    ]
    if mine.empty:
        return _NO_SEATS.iloc[:0]
    costs = TravelCosts.from_arcs(mine[["cell_id", "school_id", "metres", "minutes"]])
    capacity = places.reindex(costs.schools).rename("capacity").reset_index()
    result = assign(unserved[unserved["cell_id"].isin(costs.cells)], capacity, costs)
    county = unserved.set_index("cell_id")["county_code"]
    school_county = mine.drop_duplicates("school_id").set_index("school_id")["school_county_code"]
    flows = result.flows
    return pd.DataFrame(
        {
            "scenario": scenario,
            "year": year,
            "level": level,
            "cell_id": flows["cell_id"].to_numpy(),
            "county_code": county.reindex(flows["cell_id"]).to_numpy(),
            "school_id": flows["school_id"].to_numpy(),
            "school_county_code": school_county.reindex(flows["school_id"]).to_numpy(),
            "children": flows["children"].to_numpy(),
            "metres": flows["metres"].to_numpy(),
            "minutes": flows["minutes"].to_numpy(),
        }
    )


def _county_costs(
    study: Study, schools: gpd.GeoDataFrame, *, level: str, across: bool
) -> tuple[TravelCosts, pd.DataFrame | None]:
    """Costs from each cell to the schools of its own county, and (``across``) arcs to others'.

    The arcs (``cell_id``, ``school_id``, ``school_county_code``, ``metres``, ``minutes``)
    reach the schools of other counties within :func:`halo distance
    <layout.province.halo_distance>`: those of the study, and its ``halo_schools`` (a
    county partition's neighbours).
    """
    costs = level_costs(study, schools, level=level)
    cell_county = study["population"].set_index("cell_id")["county_code"]
    rows = cell_county.reindex(costs.cells).to_numpy()[row_of_entries(costs.metres.indptr)]
    school_county = schools["county_code"].to_numpy()[costs.metres.indices]
    home = rows == school_county
    own = costs if home.all() else costs.where(home)
    if not across:
        return own, None
    reach = halo_distance(study.standards)
    cross = [costs.where(~home & (costs.metres.data <= reach))]
    halo = _places(study, HALO)[level] if HALO in study.layers else schools.iloc[:0]
    if len(halo):
        far = level_costs(study, halo, level=level)
        cross.append(far.where(far.metres.data <= reach))
    counties = pd.concat([schools, halo]).set_index("school_id")["county_code"]
    arcs = pd.concat([c.arcs() for c in cross], ignore_index=True)
    arcs.insert(2, "school_county_code", counties.reindex(arcs["school_id"]).to_numpy())
    return own, arcs


def _border_inputs(
    parts: dict[str, list[pd.DataFrame]],
    study: Study,
    arcs: pd.DataFrame,
    results: Sequence[Assignment],
    keys: Sequence[dict[str, object]],
) -> None:
    """Keep the unserved children who have a school across the border, and their arcs."""
    county = study["population"].set_index("cell_id")["county_code"]
    reachable = pd.Index(arcs["cell_id"].unique())
    rows = []
    for key, result in zip(keys, results, strict=True):
        short = result.unserved[result.unserved["cell_id"].isin(reachable)]
        rows.append(
            pd.DataFrame(
                {
                    **key,
                    "cell_id": short["cell_id"].to_numpy(),
                    "county_code": county.reindex(short["cell_id"]).to_numpy(),
                    "children": short["children"].to_numpy(),
                }
            )
        )
    unserved = pd.concat(rows, ignore_index=True)
    parts["border_unserved"].append(unserved)
    used = arcs[arcs["cell_id"].isin(unserved["cell_id"])]
    parts["border_arcs"].append(used.assign(level=keys[0]["level"]))


def _cell_points(study: Study) -> gpd.GeoDataFrame:
    """Return the cells as points (centroids), with their ids."""
    cells = study["population"]
    return gpd.GeoDataFrame(
        {"cell_id": cells["cell_id"]}, geometry=cells.geometry.centroid, crs=cells.crs
    )


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
        grades = range(1, 7) if level == "primary" else range(7, 10)
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


def _cap(profile: Profile, level: str) -> int:
    sizes = profile.class_size
    return sizes.primary_cap if level == "primary" else sizes.junior_cap


def _norms(study: Study, level: str) -> tuple[float, float]:
    """Urban service radius (m) and rural travel-time norm (min) of a level."""
    service = study.standards.service
    if level == "primary":
        return service.urban_primary_radius_m, service.rural_lower_primary_minutes
    return service.urban_junior_radius_m, service.rural_junior_minutes


def _summary(study: Study, result: Assignment, level: str, key: dict[str, object]) -> pd.DataFrame:
    """Children, assigned, unserved and the share of children within the norm."""
    radius, minutes = _norms(study, level)
    setting = study["population"].set_index("cell_id")["setting"]
    flows = result.flows
    urban = (setting.reindex(flows["cell_id"]) == "urban").to_numpy()
    within = np.where(urban, flows["metres"] <= radius, flows["minutes"] <= minutes)
    children = float(result.cells["children"].sum())
    served = flows["children"].to_numpy()
    row = {
        **key,
        "children": children,
        "assigned": float(result.cells["assigned"].sum()),
        "unserved": float(result.cells["unserved"].sum()),
        "within_norm": float(served[within].sum()),
        "mean_minutes": float(np.average(flows["minutes"], weights=served))
        if served.sum()
        else np.nan,
    }
    row["share_within_norm"] = row["within_norm"] / children if children else np.nan
    return pd.DataFrame([row])


def _balance(
    study: Study, cells: pd.DataFrame, schools: gpd.GeoDataFrame, key: dict[str, object]
) -> pd.DataFrame:
    """Children minus places per township for one scenario, year and level."""
    township = study["population"].set_index("cell_id")["township_code"]
    located = cells.assign(township_code=township.reindex(cells["cell_id"]).to_numpy())
    table = area_balance(located, schools, by="township_code")
    return table.rename(columns={"shortfall": "seat_shortfall"}).reset_index().assign(**key)


def _focus(
    parts: dict[str, list[pd.DataFrame]],
    study: Study,
    result: Assignment,
    inputs: tuple[pd.DataFrame, gpd.GeoDataFrame, TravelCosts, pd.DataFrame],
    key: dict[str, object],
    *,
    first: bool,
) -> None:
    """Cell flags, 2SFCA, areas, and (first year) catchments and attendance."""
    cells, schools, costs, table = inputs
    radius, minutes = _norms(study, str(key["level"]))
    population = study["population"]
    geo = population[population["cell_id"].isin(cells["cell_id"])].reset_index(drop=True)
    urban = (geo["setting"] == "urban").to_numpy()
    flags = pd.concat(
        [
            cell_flags(result, geo[urban], table, radius_m=radius),
            cell_flags(result, geo[~urban], table, max_minutes=minutes),
        ]
    ).sort_index()
    demand = cells.set_index("cell_id")["children"]
    located = geo.assign(children=demand.reindex(geo["cell_id"]).to_numpy())
    flags["access_2sfca"] = two_step_fca(located, schools, costs, threshold=minutes).to_numpy()
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
