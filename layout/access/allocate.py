"""Assign children to schools: capacity-constrained (exact LP) or nearest school.

:func:`assign` solves the transportation problem on the arcs of a :class:`TravelCosts`::

    minimise    sum_ij c_ij x_ij + penalty * sum_i u_i
    subject to  sum_j x_ij + u_i = P_i      for every cell i   (children in = assigned + unserved)
                sum_i x_ij     <= S_j      for every school j (capacity)
                x, u >= 0

with HiGHS (:mod:`highspy`). ``u_i`` is the cell's *unserved* sink, so demand that cannot be
seated is reported, never dropped. The default penalty exceeds the cost of any chain of
reassignments, so the most children possible are seated before travel is minimised.

Large problems are solved by an exact decomposition. Most cells start fixed at their nearest
school: all cells of schools that are within capacity when every cell goes to its nearest
school, and at over-full schools the cells with the largest margin (extra cost of their next
school) up to 80% of the places. The LP holds only the other cells, against the capacity the
fixed cells leave. The LP's school prices (capacity duals ``w_j``) then certify the fixed
cells: a fixed cell is optimal at its nearest school ``j0`` when
``c_ij0 + w_j0 <= c_ij + w_j`` for all its schools ``j`` and ``<= penalty`` (reduced costs
>= 0). Cells failing the test join the LP, which is re-solved from its last basis, until none
fails. Likewise a cell enters the LP with only its three cheapest arcs; any other arc joins when
its reduced cost ``c_ij + w_j - v_i`` (``v_i`` the dual of the cell's row) is negative. When
nothing fails, the result is an optimum of the whole LP (primal and dual feasible with
complementary slackness), up to the solver's tolerances; the starting guesses only affect
speed.

Flows are not rounded. With whole-number children and capacities the transportation LP has
whole-number vertex optima (its matrix is totally unimodular) and the simplex method returns
one, so flows come out whole up to floating-point noise; with fractional demand (projections)
they are fractional.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> from layout.access import costs_from_distance
>>> crs = "EPSG:4550"
>>> cells = gpd.GeoDataFrame(
...     {"cell_id": ["a", "b"], "children": [30, 20]},
...     geometry=[Point(0, 0), Point(1000, 0)], crs=crs)
>>> schools = gpd.GeoDataFrame(
...     {"school_id": ["s", "t"], "capacity": [40, 100]},
...     geometry=[Point(0, 0), Point(3000, 0)], crs=crs)
>>> costs = costs_from_distance(cells, schools, circuity=1.0, speed_kmh=4.5)
>>> result = assign(cells, schools, costs, cost="metres")
>>> result.flows[["cell_id", "school_id", "children"]].values.tolist()
[['a', 's', 30.0], ['b', 's', 10.0], ['b', 't', 10.0]]
>>> float(result.objective)
30000.0
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from .._arrays import row_of_entries
from .._validate import ids_text, require_amounts, require_columns, require_ids
from ..errors import DataWarning, SolverError, ValidationError
from ..optimize import TransportProblem, cheapest_arcs, solve_transport
from .costs import CELL_ID, SCHOOL_ID, TravelCosts

REASONS: tuple[str, ...] = ("capacity", "no school within cut-off", "unreachable")
"""Why children are unserved: every school they can reach is full; no arc at all; or their cell
is on a part of the road network with no school."""

_COSTS = ("minutes", "metres")
_NOISE = 1e-9
"""Flows below this many children are solver noise and are not reported."""
_CONSERVATION = 1e-6
"""Relative tolerance of the children-in = assigned + unserved check."""


@dataclass(frozen=True, eq=False)
class Assignment:
    """Where each cell's children go.

    Parameters
    ----------
    flows
        One row per cell and school with children: ``cell_id``, ``school_id``, ``children``,
        ``metres``, ``minutes``.
    unserved
        One row per cell with unserved children: ``cell_id``, ``children``, ``reason`` (one of
        :data:`REASONS`).
    cells
        Indexed by ``cell_id`` (every cell of the costs): ``children``, ``assigned``,
        ``unserved``.
    schools
        Indexed by ``school_id``: ``capacity``, ``load``, ``utilisation`` (load / capacity, NaN
        for zero capacity) and ``over_capacity``.
    objective
        Total travel cost plus ``penalty`` times the unserved children.
    penalty
        Cost of one unserved child, in the units of ``cost``.
    cost
        ``"minutes"`` or ``"metres"``: what was minimised.
    method
        ``"capacitated"`` (:func:`assign`) or ``"nearest"`` (:func:`assign_nearest`).
    """

    flows: pd.DataFrame
    unserved: pd.DataFrame
    cells: pd.DataFrame
    schools: pd.DataFrame
    objective: float
    penalty: float
    cost: str
    method: str


def _aligned_amounts(
    frame: pd.DataFrame, column: str, *, name: str, id_column: str, targets: pd.Index
) -> tuple[np.ndarray, pd.Index]:
    """Return ``frame[column]`` in the order of ``targets`` (0 where a target is absent)."""
    ids = require_ids(frame, id_column, name=name)
    values = require_amounts(frame, column, name=name, ids=ids)
    where = targets.get_indexer(ids)
    aligned = np.zeros(len(targets))
    aligned[where[where >= 0]] = values[where >= 0]
    return aligned, ids[where < 0]


def _children_of(demand: pd.DataFrame, column: str, costs: TravelCosts) -> np.ndarray:
    """Return the children of ``demand`` in the order of the cells of ``costs``."""
    require_columns(demand, [CELL_ID, column], name="demand")
    children, unknown = _aligned_amounts(
        demand, column, name="demand", id_column=CELL_ID, targets=costs.cells
    )
    if len(unknown):
        raise ValidationError(
            f"demand has cells {ids_text(unknown)} that the travel costs do not cover; "
            "compute the costs from the same cells"
        )
    return children


def _prepare(
    demand: pd.DataFrame,
    schools: pd.DataFrame,
    costs: TravelCosts,
    *,
    columns: tuple[str, str],
    cost: str,
    penalty: float | None,
) -> TransportProblem:
    if cost not in _COSTS:
        raise ValidationError(f"cost must be one of {_COSTS}, got {cost!r}")
    if penalty is not None and not (np.isfinite(penalty) and penalty > 0):
        raise ValidationError(f"unserved_penalty must be a finite number > 0, got {penalty!r}")
    children = _children_of(demand, columns[0], costs)
    require_columns(schools, [SCHOOL_ID, columns[1]], name="schools")
    school_ids = require_ids(schools, SCHOOL_ID, name="schools")
    missing = costs.schools.difference(school_ids)
    if len(missing):
        raise ValidationError(
            f"schools lacks {ids_text(missing)}, which the travel costs reach; pass the "
            "schools the costs were computed for"
        )
    capacity, _ = _aligned_amounts(
        schools, columns[1], name="schools", id_column=SCHOOL_ID, targets=costs.schools
    )
    if (capacity == 0).any():
        warnings.warn(
            f"schools {ids_text(costs.schools[capacity == 0])} have {columns[1]} 0 and take no "
            "children; give their real capacity or drop them",
            DataWarning,
            stacklevel=3,
        )
    matrix = getattr(costs, cost)
    usable = capacity[matrix.indices] > 0
    counts = np.bincount(row_of_entries(matrix.indptr)[usable], minlength=len(costs.cells))
    position = np.flatnonzero(usable)
    max_cost = float(matrix.data[position].max(initial=0.0))
    return TransportProblem(
        ptr=np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
        school=matrix.indices[position].astype(np.int64),
        cost=matrix.data[position],
        position=position,
        demand=children,
        capacity=capacity,
        penalty=(int((capacity > 0).sum()) + 1) * max_cost + 1 if penalty is None else penalty,
    )


def _reasons(costs: TravelCosts, problem: TransportProblem, cells: np.ndarray) -> np.ndarray:
    reasons = np.full(len(cells), REASONS[0], dtype=object)
    no_arc = np.diff(costs.metres.indptr)[cells] == 0
    reasons[no_arc] = REASONS[1]
    listed = costs.unreachable.loc[costs.unreachable["layer"] == "cells", "id"]
    reasons[costs.cells[cells].isin(listed)] = REASONS[2]
    return reasons


def _check(
    problem: TransportProblem, costs: TravelCosts, flow: np.ndarray, unserved: np.ndarray
) -> None:
    """Raise :class:`SolverError` unless children are conserved and capacities hold."""
    assigned = np.bincount(row_of_entries(problem.ptr), flow, len(problem.demand))
    gap = np.abs(assigned + unserved - problem.demand)
    bad = gap > _CONSERVATION * np.maximum(1.0, problem.demand)
    if bad.any():
        raise SolverError(
            f"children in != assigned + unserved for cells {ids_text(costs.cells[bad])} "
            f"(largest gap {gap.max():.3g}); please report this with the input data"
        )


def _assignment(
    problem: TransportProblem,
    costs: TravelCosts,
    flow: np.ndarray,
    unserved: np.ndarray,
    *,
    cost: str,
    method: str,
) -> Assignment:
    _check(problem, costs, flow, unserved)
    arc_rows = row_of_entries(problem.ptr)
    arcs = np.flatnonzero(flow > _NOISE)
    rows = arc_rows[arcs]
    position = problem.position[arcs]
    flows = pd.DataFrame(
        {
            CELL_ID: costs.cells[rows],
            SCHOOL_ID: costs.schools[problem.school[arcs]],
            "children": flow[arcs],
            "metres": costs.metres.data[position],
            "minutes": costs.minutes.data[position],
        }
    )
    short = np.flatnonzero(unserved > _NOISE)
    unserved_table = pd.DataFrame(
        {
            CELL_ID: costs.cells[short],
            "children": unserved[short],
            "reason": _reasons(costs, problem, short),
        }
    )
    assigned = np.bincount(arc_rows, flow, len(problem.demand))
    cells = pd.DataFrame(
        {"children": problem.demand, "assigned": assigned, "unserved": unserved},
        index=costs.cells,
    )
    load = np.bincount(problem.school, flow, len(problem.capacity))
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(problem.capacity > 0, load / problem.capacity, np.nan)
    schools = pd.DataFrame(
        {
            "capacity": problem.capacity,
            "load": load,
            "utilisation": utilisation,
            "over_capacity": load > problem.capacity * (1 + _CONSERVATION) + _NOISE,
        },
        index=costs.schools,
    )
    objective = float(flow @ problem.cost + problem.penalty * unserved.sum())
    return Assignment(
        flows, unserved_table, cells, schools, objective, problem.penalty, cost, method
    )


def assign(
    demand: pd.DataFrame,
    schools: pd.DataFrame,
    costs: TravelCosts,
    *,
    demand_column: str = "children",
    capacity_column: str = "capacity",
    unserved_penalty: float | None = None,
    cost: str = "minutes",
    decompose: bool = True,
) -> Assignment:
    """Assign each cell's children to schools, minimising total travel within capacity.

    Parameters
    ----------
    demand
        Cells with ``cell_id`` and ``demand_column`` (children of the level, >= 0). Cells of
        the costs absent here have no demand.
    schools
        Schools with ``school_id`` and ``capacity_column`` (places, >= 0), including every school
        of the costs. Schools with zero capacity take nobody (with a :class:`DataWarning`).
    costs
        Travel costs of these cells and schools; children travel only along its arcs.
    demand_column, capacity_column
        Columns holding children and places.
    unserved_penalty
        Cost of leaving one child unserved. The default, (schools with places + 1) x the
        largest arc cost + 1, seats the most children possible.
    cost
        Minimise ``"minutes"`` or ``"metres"``.
    decompose
        Solve only the cells that compete for places in the LP and certify the rest with the
        LP's school prices (the same optimum, much faster); ``False`` puts every cell in one LP.

    Returns
    -------
    Assignment
        Flows, unserved children with reasons, per-school load and utilisation, objective.

    Raises
    ------
    ValidationError
        Missing columns (named), negative or non-numeric children or capacity (rows named),
        cells or schools that do not match the costs, bad options.
    SolverError
        If HiGHS fails or children are not conserved.

    Examples
    --------
    >>> import pandas as pd
    >>> from scipy import sparse
    >>> costs = TravelCosts(
    ...     sparse.csr_array([[1000.0, 3000.0]]), sparse.csr_array([[10.0, 30.0]]),
    ...     pd.Index(["a"]), pd.Index(["s", "t"]), "table")
    >>> demand = pd.DataFrame({"cell_id": ["a"], "children": [50]})
    >>> schools = pd.DataFrame({"school_id": ["s", "t"], "capacity": [20, 20]})
    >>> result = assign(demand, schools, costs)
    >>> result.schools["load"].tolist(), result.unserved["children"].tolist()
    ([20.0, 20.0], [10.0])
    """
    [result] = assign_series(
        [demand],
        schools,
        costs,
        demand_column=demand_column,
        capacity_column=capacity_column,
        unserved_penalty=unserved_penalty,
        cost=cost,
        decompose=decompose,
    )
    return result


def assign_series(  # noqa: PLR0913 - the options of assign
    demands: Sequence[pd.DataFrame],
    schools: pd.DataFrame,
    costs: TravelCosts,
    *,
    demand_column: str = "children",
    capacity_column: str = "capacity",
    unserved_penalty: float | None = None,
    cost: str = "minutes",
    decompose: bool = True,
) -> list[Assignment]:
    """Assign each of several demands (plan years, scenarios) to the same schools.

    Each result is an optimum of :func:`assign` for its demand; only the way there differs.
    After the first demand the LP is not built anew: its cells take the next demand and it is
    re-solved from its last basis, and the price test brings in whatever else the new demand
    needs, which for demands of successive years takes a fraction of the time. Where several
    assignments are equally good, the one returned may differ from :func:`assign`'s.

    Parameters
    ----------
    demands
        Cells with ``cell_id`` and ``demand_column``, one table per assignment.
    schools, costs, demand_column, capacity_column, unserved_penalty, cost, decompose
        As for :func:`assign`.

    Returns
    -------
    list of Assignment
        One per demand, in order.

    Examples
    --------
    >>> import pandas as pd
    >>> from scipy import sparse
    >>> costs = TravelCosts(
    ...     sparse.csr_array([[1000.0, 3000.0]]), sparse.csr_array([[10.0, 30.0]]),
    ...     pd.Index(["a"]), pd.Index(["s", "t"]), "table")
    >>> schools = pd.DataFrame({"school_id": ["s", "t"], "capacity": [20, 20]})
    >>> years = [pd.DataFrame({"cell_id": ["a"], "children": [n]}) for n in (15, 30, 50)]
    >>> [r.schools["load"].tolist() for r in assign_series(years, schools, costs)]
    [[15.0, 0.0], [20.0, 10.0], [20.0, 20.0]]
    """
    if not len(demands):
        return []
    problem = _prepare(
        demands[0],
        schools,
        costs,
        columns=(demand_column, capacity_column),
        cost=cost,
        penalty=unserved_penalty,
    )
    later = [_children_of(frame, demand_column, costs) for frame in demands[1:]]
    solved = solve_transport(problem, decompose=decompose, demands=later)
    return [
        _assignment(
            problem._replace(demand=children),
            costs,
            flow,
            unserved,
            cost=cost,
            method="capacitated",
        )
        for children, (flow, unserved) in zip([problem.demand, *later], solved, strict=True)
    ]


def assign_nearest(
    demand: pd.DataFrame,
    schools: pd.DataFrame,
    costs: TravelCosts,
    *,
    demand_column: str = "children",
    capacity_column: str = "capacity",
    cost: str = "minutes",
) -> Assignment:
    """Send each cell's children to its cheapest school, ignoring capacity (for comparison).

    Schools with zero capacity are skipped as in :func:`assign`; schools taking more children
    than their capacity have ``over_capacity`` set. Cells with no arc are unserved.

    Parameters
    ----------
    demand, schools, costs, demand_column, capacity_column, cost
        As in :func:`assign`.

    Returns
    -------
    Assignment
        With ``method="nearest"``; ``objective`` counts the default penalty for unserved
        children as :func:`assign` does.

    Examples
    --------
    >>> import pandas as pd
    >>> from scipy import sparse
    >>> costs = TravelCosts(
    ...     sparse.csr_array([[1000.0, 3000.0]]), sparse.csr_array([[10.0, 30.0]]),
    ...     pd.Index(["a"]), pd.Index(["s", "t"]), "table")
    >>> demand = pd.DataFrame({"cell_id": ["a"], "children": [50]})
    >>> schools = pd.DataFrame({"school_id": ["s", "t"], "capacity": [20, 20]})
    >>> assign_nearest(demand, schools, costs).schools["over_capacity"].tolist()
    [True, False]
    """
    problem = _prepare(
        demand, schools, costs, columns=(demand_column, capacity_column), cost=cost, penalty=None
    )
    cheapest = cheapest_arcs(problem)[0]
    has = cheapest >= 0
    flow = np.zeros(len(problem.cost))
    flow[cheapest[has]] = problem.demand[has]
    unserved = np.where(has, 0.0, problem.demand)
    return _assignment(problem, costs, flow, unserved, cost=cost, method="nearest")


def _main_school(assignment: Assignment) -> pd.DataFrame:
    """Each cell's school taking most of its children (ties: cheaper, then first school)."""
    flows = assignment.flows.sort_values(
        [CELL_ID, "children", assignment.cost], ascending=[True, False, True], kind="stable"
    )
    return flows.drop_duplicates(CELL_ID)[[CELL_ID, SCHOOL_ID, "children"]]


def _cells_of(assignment: Assignment, cells: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    ids = require_ids(cells, CELL_ID, name="cells")
    require_columns(cells, columns, name="cells")
    missing = pd.Index(assignment.flows[CELL_ID].unique()).difference(ids)
    if len(missing):
        raise ValidationError(
            f"cells lacks {ids_text(missing)}, which the assignment sends to school; pass the "
            "cells the assignment was made for"
        )
    return cells


def catchments(assignment: Assignment, cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dissolve each school's cells into its catchment.

    A cell split between schools goes wholly to the school taking most of its children (on a
    tie, the cheaper one). Cells sending no child to any school (no children, or all unserved)
    belong to no catchment.

    Parameters
    ----------
    assignment
        From :func:`assign` or :func:`assign_nearest`.
    cells
        The cells with ``cell_id`` and their polygons.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``school_id``, in the CRS of ``cells``: ``geometry``, ``cells`` (count),
        ``children`` (living in the catchment) and ``attending`` (of them, at this school).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from scipy import sparse
    >>> from shapely.geometry import box
    >>> cells = gpd.GeoDataFrame(
    ...     {"cell_id": ["a", "b"], "children": [10, 10]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4550")
    >>> m = sparse.csr_array([[1.0], [2.0]])
    >>> costs = TravelCosts(m, m, pd.Index(["a", "b"]), pd.Index(["s"]), "table")
    >>> schools = pd.DataFrame({"school_id": ["s"], "capacity": [20]})
    >>> area = catchments(assign(cells, schools, costs), cells)
    >>> area.geometry.area.tolist(), area["children"].tolist()
    ([2.0], [20.0])
    """
    if not isinstance(cells, gpd.GeoDataFrame):
        raise ValidationError("cells must be a GeoDataFrame of the cell polygons")
    _cells_of(assignment, cells, [])
    main = _main_school(assignment).rename(columns={"children": "attending"})
    geometry = cells.geometry.name
    frame = gpd.GeoDataFrame(
        main.merge(cells[[CELL_ID, geometry]], on=CELL_ID), geometry=geometry, crs=cells.crs
    )
    frame["children"] = assignment.cells["children"].reindex(frame[CELL_ID]).to_numpy()
    totals = frame.groupby(SCHOOL_ID).agg(
        cells=(CELL_ID, "size"), children=("children", "sum"), attending=("attending", "sum")
    )
    shapes = frame[[SCHOOL_ID, geometry]].dissolve(by=SCHOOL_ID)
    return shapes.join(totals)


def attendance_matrix(
    assignment: Assignment, cells: pd.DataFrame, *, by: str = "township_code"
) -> pd.DataFrame:
    """Children by area of residence (rows) and school attended (columns).

    Unserved children are not in the table: see ``assignment.unserved``.

    Parameters
    ----------
    assignment
        From :func:`assign` or :func:`assign_nearest`.
    cells
        Cells with ``cell_id`` and the ``by`` column.
    by
        Column of ``cells`` naming the area of residence, e.g. ``township_code``.

    Returns
    -------
    pandas.DataFrame
        Index: areas; columns: schools receiving children; values: children (0 where none).

    Examples
    --------
    >>> import pandas as pd
    >>> from scipy import sparse
    >>> m = sparse.csr_array([[1.0], [2.0]])
    >>> costs = TravelCosts(m, m, pd.Index(["a", "b"]), pd.Index(["s"]), "table")
    >>> cells = pd.DataFrame(
    ...     {"cell_id": ["a", "b"], "children": [4, 6], "township_code": ["T1", "T1"]})
    >>> schools = pd.DataFrame({"school_id": ["s"], "capacity": [20]})
    >>> float(attendance_matrix(assign(cells, schools, costs), cells).loc["T1", "s"])
    10.0
    """
    _cells_of(assignment, cells, [by])
    area = cells.set_index(CELL_ID)[by]
    flows = assignment.flows.assign(**{by: area.reindex(assignment.flows[CELL_ID]).to_numpy()})
    return flows.pivot_table(
        index=by, columns=SCHOOL_ID, values="children", aggfunc="sum", fill_value=0.0
    )
