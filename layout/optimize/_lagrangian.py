"""Lagrangian lower bound of the p-median problem and the reduced model it allows.

Relaxing the assignment constraints ``sum_j x_ij = 1`` with multipliers ``lam_i`` gives

``L(lam) = sum_i lam_i + sum_{j open} rho_j``, ``rho_j = sum_i min(0, w_i c_ij - lam_i)``,

minimised by opening the fixed sites and the ``p - len(fixed)`` free columns of smallest
``rho_j``. Every ``L(lam)`` is a lower bound of the optimum; :func:`subgradient` raises it
with Polyak steps. :class:`Fixing` holds what a branch-and-bound node has decided (columns
forced open or closed). :func:`reduce` then keeps only the arcs ``(i, j)`` and columns that can
still be in a solution no worse than the incumbent (Lagrangian reduced-cost fixing), so the
exact MILP on what is left has the same optimum as the full problem.

Examples
--------
>>> import numpy as np
>>> from layout.optimize._problem import build_problem
>>> from layout.optimize._median import median_instance
>>> cost = np.array([[0.0, 4.0, 9.0], [4.0, 0.0, 5.0], [9.0, 5.0, 0.0]])
>>> inst = median_instance(build_problem(cost, weights=None, fixed=None, candidates=None))
>>> bound = lagrangian(inst.table, np.array([4.0, 0.0, 5.0]), Fixing.root(inst, 1))
>>> bound.value  # 4 + 0 + 5, plus the best rho: column 2 with min(0, 0 - 5) = -5
4.0
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import cast

import numpy as np

from ._median import BoolArray, DenseCosts, MedianInstance
from ._problem import FloatArray, IntArray, SortedCosts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fixing:
    """Columns decided at a node of the search: forced open, forced closed, and how many more.

    Parameters
    ----------
    base
        Columns open for sure: fixed sites, the unreached column, and columns branched open.
    closed
        Columns closed for sure.
    k
        How many more columns the subproblem opens among the undecided ones.
    """

    base: BoolArray
    closed: BoolArray
    k: int

    @classmethod
    def root(cls, inst: MedianInstance, k: int) -> Fixing:
        """Nothing decided yet but the fixed sites; ``k`` free columns to open."""
        return cls(inst.always_open(), np.zeros(inst.m + 1, dtype=bool), k)

    def undecided(self) -> IntArray:
        """Columns neither forced open nor forced closed."""
        return np.flatnonzero(~self.base & ~self.closed)


@dataclass(frozen=True)
class Bound:
    """The Lagrangian subproblem solved at one multiplier vector.

    Parameters
    ----------
    lam
        Multipliers of the assignment constraints.
    value
        ``L(lam)``, a lower bound of the optimum (under the node's fixing).
    rho
        Reduced cost of opening each column (``m + 1`` values, the last the unreached column).
    open_mask
        Columns open in the subproblem's solution.
    served
        How many open columns each row is assigned to in that solution.
    """

    lam: FloatArray
    value: float
    rho: FloatArray
    open_mask: BoolArray
    served: IntArray


@dataclass(frozen=True)
class Schedule:
    """Step-size schedule of the subgradient method.

    Parameters
    ----------
    max_iter
        Most iterations.
    patience
        Iterations without a better bound before the step factor is halved.
    theta
        Starting step factor of the Polyak step ``theta * (upper - L) / |g|^2``.
    floor
        Smallest step factor; below it the method stops.
    """

    max_iter: int
    patience: int
    theta: float
    floor: float


CORE_COLUMNS = 100
"""Columns added to the subgradient's core at each pricing (the ones of smallest reduced cost)."""

PRICING_STEPS = 10
"""Subgradient steps on the core between two pricings of every column."""

ROOT = Schedule(max_iter=1000, patience=10, theta=1.5, floor=1e-3)
NODE = Schedule(max_iter=25, patience=10, theta=2.0, floor=1e-3)
"""Branch-and-bound nodes: few steps each, more nodes (measured on pmed36/38/39/22, Lagrangian
evaluations: 100 steps 56 796, 50 steps 36 190, 25 steps 24 110, 20 steps 22 491; 10 steps
57 925, the nodes multiply)."""


@dataclass(frozen=True)
class Reduction:
    """Arcs and columns that may still be in a solution no worse than the incumbent.

    Parameters
    ----------
    arc
        Entry positions (into the instance table) of the arcs kept, in table order.
    must_open
        Columns proven open in every such solution, fixed sites and the unreached column.
    free
        Other columns that kept arcs point to; the exact search chooses among them.
    """

    arc: IntArray
    must_open: BoolArray
    free: IntArray

    def fixing(self, p: int) -> Fixing:
        """Return the root fixing of the reduced problem with ``p`` facilities in all."""
        closed = ~self.must_open
        closed[self.free] = False
        opened = int(self.must_open.sum()) - 1  # the unreached column is not a facility
        return Fixing(self.must_open.copy(), closed, p - opened)


def lagrangian(costs: SortedCosts | DenseCosts, lam: FloatArray, fixing: Fixing) -> Bound:
    """Solve the Lagrangian subproblem at ``lam`` under ``fixing``.

    ``costs`` is the sorted table, or the same costs as a dense matrix of some columns.
    """
    if isinstance(costs, SortedCosts):
        counts = costs.count_below(lam)
        idx = costs.prefix(counts)
        col = costs.col[idx]
        reduced_cost = costs.cost[idx] - np.repeat(lam, counts)
        rho = np.asarray(np.bincount(col, reduced_cost, minlength=len(fixing.base)), float)
    else:
        reduced = np.minimum(costs.matrix - lam[:, None], 0.0)
        rho = np.zeros(len(fixing.base))
        rho[costs.cols] = reduced.sum(axis=0)
    open_mask = fixing.base.copy()
    pick = fixing.undecided()
    if fixing.k > 0:
        chosen = pick[np.argpartition(rho[pick], fixing.k - 1)[: fixing.k]]
        open_mask[chosen] = True
    if isinstance(costs, SortedCosts):
        opened = np.r_[0, np.cumsum(open_mask[col])]
        ends = np.cumsum(counts)
        served = opened[ends] - opened[ends - counts]
    else:
        served = np.count_nonzero(reduced[:, open_mask[costs.cols]] < 0.0, axis=1)
    value = float(lam.sum() + rho[open_mask].sum())
    return Bound(lam=lam, value=value, rho=rho, open_mask=open_mask, served=served)


def subgradient(  # noqa: PLR0913 - the method's inputs are all needed
    costs: SortedCosts | DenseCosts,
    fixing: Fixing,
    upper: float,
    *,
    lam: FloatArray,
    target: float,
    deadline: float,
    schedule: Schedule,
    scale: FloatArray | None = None,
) -> tuple[Bound, list[BoolArray], FloatArray]:
    """Raise the Lagrangian bound by subgradient steps; return the best bound found.

    Stops once ``upper - bound <= target``. Also returns the open sets of the subproblem met
    every tenth iteration, which the caller may polish into better incumbents, and the share
    of the steps whose subproblem opened each column (the branching's estimate of ``y``). ``scale``
    (one positive value per row, default 1) moves each multiplier in proportion: the step is
    the Polyak step in the metric ``diag(scale)``.

    With many undecided columns in a sorted table, the steps work on a core: the columns of
    smallest reduced cost (:data:`CORE_COLUMNS` more at every pricing), every
    :data:`PRICING_STEPS` steps the full subproblem prices all columns and adds the best to
    the core (see :func:`_core`). Only full evaluations are returned, so the bound is always valid.
    """
    d = np.ones(len(lam)) if scale is None else scale
    best = current = lagrangian(costs, lam, fixing)
    first = max(CORE_COLUMNS, 2 * fixing.k)
    pricing = isinstance(costs, SortedCosts) and len(fixing.undecided()) > 4 * first
    work, work_fixing, core = costs, fixing, fixing.base.copy()
    theta, stall, high = schedule.theta, 0, best.value
    seen: list[BoolArray] = []
    support = np.zeros(len(fixing.base))
    for it in range(schedule.max_iter):
        if upper - best.value <= target or theta < schedule.floor:
            break
        if time.perf_counter() > deadline:
            break
        if pricing and it % PRICING_STEPS == 0:
            full = lagrangian(costs, current.lam, fixing) if it else best
            best = full if full.value > best.value else best
            work, work_fixing, core = _core(cast(SortedCosts, costs), fixing, full.rho, core, work)
            current = lagrangian(work, current.lam, work_fixing)
            high = current.value  # the core changed: later steps are compared on it
        g = 1.0 - current.served
        norm = float(np.sum(d * g * g))  # not BLAS: its threads spin after a long dot
        if norm == 0.0:
            break
        step = theta * max(upper - current.value, 0.0) / norm
        current = lagrangian(work, np.maximum(current.lam + step * d * g, 0.0), work_fixing)
        support += current.open_mask
        if current.value > high + 1e-12 * abs(high):
            high, stall = current.value, 0
            best = current if not pricing else best
        else:
            stall += 1
            if stall >= schedule.patience:
                theta, stall = theta / 2.0, 0
        if it % 10 == 0:
            seen.append(current.open_mask)
    if pricing:
        full = lagrangian(costs, current.lam, fixing)
        best = full if full.value > best.value else best
        logger.debug("subgradient: %d steps, core of %d columns", it, int(core.sum()))
    return best, seen, support / max(it, 1)


def _core(
    costs: SortedCosts,
    fixing: Fixing,
    rho: FloatArray,
    core: BoolArray,
    work: SortedCosts | DenseCosts,
) -> tuple[SortedCosts | DenseCosts, Fixing, BoolArray]:
    """Add the undecided columns of smallest ``rho`` to ``core``; return its table and fixing.

    The first core holds :data:`CORE_COLUMNS` columns (``2 k`` if more); each later pricing
    adds ``2 k``.
    """
    pick = fixing.undecided()
    grown = core | fixing.base
    size = max(CORE_COLUMNS, 2 * fixing.k) if work is costs else 2 * fixing.k
    grown[pick[np.argsort(rho[pick])[:size]]] = True
    if (grown != core).any():
        work = costs.subset(np.flatnonzero(grown[costs.col]))
    return work, Fixing(fixing.base, fixing.closed | ~grown, fixing.k), grown


def closing_gap(inst: MedianInstance, upper: float) -> float:
    """Gap below which the incumbent is proven optimal (just under 1 for integer costs)."""
    tol = 1e-9 * max(1.0, abs(upper))
    return 1.0 - tol if inst.integral else tol


def reduce(inst: MedianInstance, bound: Bound, upper: float, fixing: Fixing) -> Reduction:
    """Keep the arcs and columns whose forced use keeps ``L(lam)`` at most ``upper``."""
    t = inst.table
    slack = upper - bound.value + 1e-9 * max(1.0, abs(upper))
    chosen = bound.open_mask & ~fixing.base
    worst_in = bound.rho[chosen].max() if fixing.k > 0 else np.inf
    out = fixing.undecided()
    out = out[~chosen[out]]
    best_out = bound.rho[out].min() if len(out) else np.inf
    open_penalty = np.where(chosen | fixing.base, 0.0, bound.rho - worst_in)
    close_penalty = np.where(chosen, best_out - bound.rho, 0.0)
    must_open = fixing.base | (chosen & (close_penalty > slack))
    idx = t.below(bound.lam + slack)
    arc_penalty = np.maximum(t.cost[idx] - bound.lam[t.row[idx]], 0.0)
    arc = idx[arc_penalty + open_penalty[t.col[idx]] <= slack]
    used = np.zeros(inst.m + 1, dtype=bool)
    used[t.col[arc]] = True
    return Reduction(arc=arc, must_open=must_open, free=np.flatnonzero(used & ~must_open))
