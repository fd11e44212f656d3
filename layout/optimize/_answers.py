"""Answers of the capacitated p-median: an open set repaired into an assignment, then relocated.

:func:`repair` assigns every row to a given open set within capacities: the transportation LP
(HiGHS, :func:`layout.optimize._transport.solve_transport`) splits few rows in a basic answer
(about one per full column); the rows it does not split keep their column and the split ones
go, largest first, to their cheapest open column with room left (a small assignment model on
HiGHS when one does not fit). :func:`relocate` is the alternating local search: each open
column moves to the best site of its own cluster, then every row is reassigned.

Examples
--------
>>> import numpy as np
>>> from layout.optimize._problem import build_problem
>>> cost = np.array([[0.0, 2.0, 5.0], [2.0, 0.0, 3.0], [5.0, 3.0, 0.0]])
>>> inst = capacitated_instance(
...     build_problem(cost, weights=None, fixed=None, candidates=None), 2,
...     demand=np.ones(3), capacity=np.array([1.0, 1.0, 2.0]))
>>> answer = repair(inst, np.array([True, True, False]))  # 2 places for 3 rows: 0 makes way
>>> answer.value, answer.open_mask.tolist()  # for column 2; rows 0 and 1 share out 1 and 2
(5.0, [False, True, True])
>>> answer = repair(inst, np.array([True, False, True]))
>>> answer.value, answer.open_mask.tolist()
(3.0, [True, False, True])
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .._arrays import expand_ranges
from ._highs import capacitated_model
from ._knapsack import KnapsackUnits, knapsack_units
from ._median import BoolArray
from ._problem import FloatArray, IntArray, Problem, SortedCosts
from ._transport import TransportProblem, solve_transport

PRIMAL_ARCS = 250_000
"""Answers use every reachable pair up to this many, else the nearest columns of each row."""

ASSIGNMENT_ARCS = 5_000
"""When the split rows do not fit greedily, assignments up to this many pairs go to HiGHS."""

ASSIGNMENT_SECONDS = 1.0
"""Time limit of that assignment model."""

RELOCATE_ROUNDS = 10
"""Most rounds of :func:`relocate`."""


@dataclass(frozen=True)
class CapacitatedInstance:
    """A capacitated p-median as the solver sees it (local columns, rows of the sorted table).

    Parameters
    ----------
    table
        Sorted reachable pairs.
    demand
        Demand of each row.
    capacity
        Capacity of each column.
    base
        Columns that stay open (fixed sites).
    p
        Number of open columns, fixed ones included.
    units
        Integer units of demand and capacity for the knapsacks.
    integral
        Whether every cost is an integer (then so is every objective).
    primal
        Table positions of the pairs answers may use (ascending).
    """

    table: SortedCosts
    demand: FloatArray
    capacity: FloatArray
    base: BoolArray
    p: int
    units: KnapsackUnits
    integral: bool
    primal: IntArray

    @property
    def m(self) -> int:
        """Number of columns."""
        return len(self.capacity)

    def closing(self, upper: float) -> float:
        """Gap under which ``upper`` is proven optimal (just under 1 for integer costs)."""
        tol = 1e-9 * max(1.0, abs(upper)) if np.isfinite(upper) else 0.0
        return 1.0 - tol if self.integral else tol


def capacitated_instance(
    problem: Problem, p: int, *, demand: FloatArray, capacity: FloatArray
) -> CapacitatedInstance:
    """Build the instance of ``problem`` with ``demand`` per kept row, ``capacity`` per column."""
    t = problem.table
    base = np.zeros(problem.n_local, dtype=bool)
    base[problem.fixed] = True
    if len(t.cost) <= PRIMAL_ARCS:
        primal = np.arange(len(t.cost), dtype=np.int64)
    else:
        k = max(PRIMAL_ARCS // t.n_rows, 4 * problem.n_local // p, 1)
        primal = t.prefix(np.minimum(np.diff(t.indptr), k))
    return CapacitatedInstance(
        table=t,
        demand=demand,
        capacity=capacity,
        base=base,
        p=p,
        units=knapsack_units(demand, capacity),
        integral=bool(np.all(t.cost == np.round(t.cost))),
        primal=primal,
    )


@dataclass(frozen=True)
class Answer:
    """Table positions of an answer's pairs (one per row, ascending), open columns and cost.

    An empty answer (no pairs) has cost ``inf``.
    """

    arcs: IntArray
    open_mask: BoolArray
    value: float

    @classmethod
    def none(cls, m: int) -> Answer:
        """No answer yet."""
        return cls(np.zeros(0, dtype=np.int64), np.zeros(m, dtype=bool), np.inf)

    def beats(self, other: Answer) -> bool:
        """Whether this answer costs less than ``other``."""
        return self.value < other.value - 1e-9 * max(1.0, abs(self.value))


def answer_of(inst: CapacitatedInstance, arcs: IntArray, open_mask: BoolArray) -> Answer:
    """Return the answer using ``arcs``: ``open_mask`` plus the columns they use."""
    open_mask = open_mask.copy()
    open_mask[inst.table.col[arcs]] = True
    return Answer(np.sort(arcs), open_mask, float(inst.table.cost[arcs].sum()))


def repair(inst: CapacitatedInstance, chosen: BoolArray) -> Answer:
    """Assign every row to the open set ``chosen`` within capacities (``inf`` cost if none).

    When the capacity of ``chosen`` falls short of the demand, its smallest free columns are
    first swapped for the largest closed ones.
    """
    none = Answer.none(inst.m)
    fitted = _enough_capacity(inst, chosen)
    if fitted is None:
        return none
    arcs = _open_arcs(inst, fitted)
    if arcs is None:
        return none
    t = inst.table
    rows = t.row[arcs]
    flow = _transport(inst, arcs)
    need = inst.demand[rows]
    first = np.r_[True, rows[1:] != rows[:-1]]
    settled = np.where(need > 0, flow >= need - 1e-9 * np.maximum(need, 1.0), first)
    fixed_arcs = arcs[settled]
    split = np.ones(t.n_rows, dtype=bool)
    split[t.row[fixed_arcs]] = False
    if split.any():
        room = inst.capacity - np.bincount(
            t.col[fixed_arcs], inst.demand[t.row[fixed_arcs]], minlength=inst.m
        )
        placed = _place(inst, arcs[split[rows]], room, fitted)
        if placed is None and len(arcs) <= ASSIGNMENT_ARCS:
            placed, fixed_arcs = _assignment(inst, arcs, fitted), arcs[:0]
        if placed is None:
            return none
        fixed_arcs = np.concatenate([fixed_arcs, placed])
    return answer_of(inst, fixed_arcs, fitted)


def relocate(inst: CapacitatedInstance, answer: Answer, *, deadline: float) -> Answer:
    """Move each open column to the best site of its own cluster and reassign, while it pays.

    The cluster of an open column is the rows assigned to it; its best site is the column that
    every one of them reaches (through the answers' pairs) with room for their demand and the
    smallest total cost. Fixed columns stay.
    """
    t, arcs = inst.table, inst.primal
    for _ in range(RELOCATE_ROUNDS):
        if time.perf_counter() > deadline or not np.isfinite(answer.value):
            break
        heads = np.flatnonzero(answer.open_mask)
        cluster = np.full(inst.m, -1, dtype=np.int64)
        cluster[heads] = np.arange(len(heads))
        of_row = np.zeros(t.n_rows, dtype=np.int64)
        of_row[t.row[answer.arcs]] = cluster[t.col[answer.arcs]]
        key = of_row[t.row[arcs]] * inst.m + t.col[arcs]
        shape = (len(heads), inst.m)
        total = np.bincount(key, t.cost[arcs], minlength=shape[0] * shape[1]).reshape(shape)
        reach = np.bincount(key, minlength=shape[0] * shape[1]).reshape(shape)
        members = np.bincount(of_row, minlength=len(heads))
        load = np.bincount(of_row, inst.demand, minlength=len(heads))
        fits = (reach == members[:, None]) & (inst.capacity[None, :] >= load[:, None])
        total = np.where(fits & ~inst.base[None, :], total, np.inf)
        site = np.argmin(total, axis=1)
        stay = ~np.isfinite(total[np.arange(len(heads)), site]) | inst.base[heads]
        site[stay] = heads[stay]
        _, inverse, counts = np.unique(site, return_inverse=True, return_counts=True)
        site[counts[inverse] > 1] = heads[counts[inverse] > 1]
        if len(np.unique(site)) < len(site) or (site == heads).all():
            break
        chosen = np.zeros(inst.m, dtype=bool)
        chosen[site] = True
        moved = repair(inst, chosen)
        if not moved.beats(answer):
            break
        answer = moved
    return answer


def _open_arcs(inst: CapacitatedInstance, chosen: BoolArray) -> IntArray | None:
    """Return the answers' pairs to ``chosen`` columns, with the lonely rows' pairs.

    A row with none of those pairs brings every reachable pair to a ``chosen`` column; None
    when a row reaches no chosen column at all.
    """
    t = inst.table
    arcs = inst.primal[chosen[t.col[inst.primal]]]
    lonely = np.ones(t.n_rows, dtype=bool)
    lonely[t.row[arcs]] = False
    if lonely.any():
        rows = np.flatnonzero(lonely)
        more = expand_ranges(t.indptr[rows], np.diff(t.indptr)[rows])
        arcs = np.union1d(arcs, more[chosen[t.col[more]]])
        if len(np.unique(t.row[arcs])) < t.n_rows:
            return None
    return arcs


def _enough_capacity(inst: CapacitatedInstance, chosen: BoolArray) -> BoolArray | None:
    """Swap the smallest free open columns for the largest closed ones until demand fits."""
    need = float(inst.demand.sum())
    if inst.capacity[chosen].sum() >= need:
        return chosen
    chosen = chosen.copy()
    shut = np.flatnonzero(~chosen)
    shut = shut[np.argsort(-inst.capacity[shut])]
    movable = np.flatnonzero(chosen & ~inst.base)
    movable = movable[np.argsort(inst.capacity[movable])]
    for out, inn in zip(movable, shut, strict=False):
        if inst.capacity[inn] <= inst.capacity[out]:
            break
        chosen[out], chosen[inn] = False, True
        if inst.capacity[chosen].sum() >= need:
            return chosen
    return None


def _transport(inst: CapacitatedInstance, arcs: IntArray) -> FloatArray:
    """Flow on each of ``arcs`` (table positions, ascending) in the transportation LP."""
    t = inst.table
    ptr = np.zeros(t.n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(t.row[arcs], minlength=t.n_rows), out=ptr[1:])
    problem = TransportProblem(
        ptr=ptr,
        school=t.col[arcs],
        cost=t.cost[arcs],
        position=np.arange(len(arcs)),
        demand=inst.demand,
        capacity=inst.capacity,
        penalty=1.0 + 2.0 * float(t.cost[arcs].max(initial=0.0)) * t.n_rows,
    )
    flow, _ = solve_transport(problem, decompose=False)[0]
    return np.asarray(flow, dtype=np.float64)


def _place(
    inst: CapacitatedInstance, arcs: IntArray, room: FloatArray, chosen: BoolArray
) -> IntArray | None:
    """Put the rows of ``arcs`` (the LP's split rows) on their cheapest pair with room left.

    Rows go largest demand first (there are about as many as open columns, so the loop is
    short); when none of a row's ``arcs`` has room, the row goes to its cheapest reachable
    ``chosen`` column that has. None when a row fits nowhere.
    """
    t = inst.table
    room = room.copy()
    rows = np.unique(t.row[arcs])
    placed = []
    for i in rows[np.argsort(-inst.demand[rows], kind="stable")]:
        own = arcs[t.row[arcs] == i]
        fit = own[room[t.col[own]] >= inst.demand[i] - 1e-9]
        if not len(fit):
            own = np.arange(t.indptr[i], t.indptr[i + 1])
            fit = own[chosen[t.col[own]] & (room[t.col[own]] >= inst.demand[i] - 1e-9)]
        if not len(fit):
            return None
        placed.append(fit[0])
        room[t.col[fit[0]]] -= inst.demand[i]
    return np.array(placed, dtype=np.int64)


def _assignment(inst: CapacitatedInstance, arcs: IntArray, chosen: BoolArray) -> IntArray | None:
    """Cheapest single-source assignment of every row on ``arcs`` to ``chosen`` (HiGHS)."""
    t = inst.table
    cols = np.flatnonzero(chosen)
    model = capacitated_model(
        t.row[arcs], t.col[arcs], t.cost[arcs], inst.demand, inst.capacity, cols, chosen, inst.p
    )
    out = model.solve(ASSIGNMENT_SECONDS)
    return None if out.x is None else arcs[out.x[: len(arcs)] > 0.5]
