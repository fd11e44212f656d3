"""Exact p-median search: heuristic incumbent, Lagrangian bound, then HiGHS or branch and bound.

With at most one column to open besides the fixed ones, greedy's one step tries every column
and is the proven optimum. Otherwise the steps, each skipped once the incumbent is proven
optimal:

1. greedy + vertex substitution (:mod:`layout.optimize._median`) for an incumbent;
2. subgradient on the Lagrangian dual for a lower bound (on a priced core of columns when
   there are many), polishing the subproblem's open sets into better incumbents, and a few
   rounds of seeded perturbation + interchange;
3. Lagrangian reduced-cost fixing (:func:`layout.optimize._lagrangian.reduce`) keeps only the
   arcs and
   columns that can be in a solution no worse than the incumbent;
4. when few arcs per row are left the reduced model goes to HiGHS, otherwise a depth-first
   branch and bound on the columns, each node bounded by a warm-started subgradient.

Examples
--------
>>> import numpy as np
>>> from layout.optimize._problem import build_problem
>>> from layout.optimize._median import median_instance
>>> cost = np.array([[0.0, 4.0, 9.0], [4.0, 0.0, 5.0], [9.0, 5.0, 0.0]])
>>> inst = median_instance(build_problem(cost, weights=None, fixed=None, candidates=None))
>>> out = search(inst, 2, deadline=np.inf, seed=0)
>>> out.value, out.lower  # open 0 and 2 (row 1 pays 4) or 1 and 2 (row 0 pays 4)
(4.0, 4.0)
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from ._highs import median_model
from ._lagrangian import NODE, ROOT, Bound, Fixing, closing_gap, reduce, subgradient
from ._median import BoolArray, DenseCosts, MedianInstance, greedy, interchange
from ._problem import FloatArray, SortedCosts

logger = logging.getLogger(__name__)

MILP_ARCS_PER_ROW = 10.0
"""Reduced models with at most this many arcs per row go to HiGHS, larger ones to the
branch and bound (measured on OR-Library pmed: HiGHS wins on sparse models, the Lagrangian
branch and bound on models where small p leaves many arcs per row)."""

PERTURBATION_ROUNDS = 10

START_REGRET = 0.2
"""The root multipliers start at each row's nearest open cost in the incumbent plus this share
of its regret (second-nearest minus nearest; measured on the county benchmark: 0.2 starts
closer to the dual optimum than 0 or 0.4)."""


@dataclass(frozen=True)
class MedianOutcome:
    """Best open set found, its cost and a proven lower bound of the optimum.

    Parameters
    ----------
    open_mask
        Open columns (``m + 1`` values, the last the unreached column).
    value
        Weighted cost of ``open_mask``.
    lower
        Lower bound of the optimum; equal to ``value`` when proven optimal.
    method
        What closed (or last narrowed) the gap: ``"enumeration"`` (at most one free column to
        open: greedy tries them all), ``"lagrangian"``, ``"highs"`` or ``"branch-and-bound"``.
    """

    open_mask: BoolArray
    value: float
    lower: float
    method: str


def search(inst: MedianInstance, p: int, *, deadline: float, seed: int) -> MedianOutcome:
    """Find the best open set of ``p`` columns (fixed ones included) before ``deadline``."""
    k = p - len(inst.fixed)
    if k <= 1:  # greedy's one step tries every column: the optimum, proven
        mask = greedy(inst, inst.always_open(), k)
        return MedianOutcome(mask, inst.total(mask), inst.total(mask), "enumeration")
    mask, upper = interchange(inst, greedy(inst, inst.always_open(), k), deadline=deadline)
    root = Fixing.root(inst, k)
    d1, _, d2 = inst.nearest_two(mask)
    bound, seen, _ = subgradient(
        inst.table if inst.dense is None else inst.dense,
        root,
        upper,
        lam=d1 + START_REGRET * np.where(d2 < inst.penalty, d2 - d1, 0.0),
        target=closing_gap(inst, upper),
        deadline=deadline,
        schedule=ROOT,
        scale=inst.weights,
    )
    mask, upper = _polish(inst, seen, (mask, upper), deadline=deadline)
    logger.info("p-median root: incumbent %.6g, Lagrangian bound %.6g", upper, bound.value)
    if upper - bound.value <= closing_gap(inst, upper):
        return MedianOutcome(mask, upper, upper, "lagrangian")
    mask, upper = _perturb(inst, mask, upper, seed=seed, deadline=deadline)
    red = reduce(inst, bound, upper, root)
    fixing = red.fixing(p)
    logger.info("p-median reduced model: %d arcs, %d free columns", len(red.arc), len(red.free))
    if time.perf_counter() >= deadline:
        return MedianOutcome(mask, upper, bound.value, "lagrangian")
    if len(red.arc) <= MILP_ARCS_PER_ROW * inst.table.n_rows:
        return _highs(inst, p, red.arc, fixing, (mask, upper), bound.value, deadline)
    costs = inst.restricted(red.arc)
    return _branch_and_bound(inst, costs, fixing, bound, (mask, upper), deadline)


def _polish(
    inst: MedianInstance,
    masks: list[BoolArray],
    incumbent: tuple[BoolArray, float],
    *,
    deadline: float,
    tries: int = 3,
) -> tuple[BoolArray, float]:
    """Run interchange from the cheapest few open sets; keep the best result."""
    mask, upper = incumbent
    values = [inst.total(m) for m in masks]
    for i in np.argsort(values)[:tries]:
        if time.perf_counter() > deadline:
            break
        candidate, value = interchange(inst, masks[i], deadline=deadline)
        if value < upper - 1e-9 * abs(upper):
            mask, upper = candidate, value
    return mask, upper


def _perturb(
    inst: MedianInstance, mask: BoolArray, upper: float, *, seed: int, deadline: float
) -> tuple[BoolArray, float]:
    """Swap a few random columns, re-run interchange, keep if better (iterated local search)."""
    rng = np.random.default_rng(seed)
    free = np.ones(inst.m + 1, dtype=bool) & ~inst.always_open()
    for _ in range(PERTURBATION_ROUNDS):
        opened = np.flatnonzero(mask & free)
        closed = np.flatnonzero(~mask & free)
        n_swap = min(len(opened), len(closed), max(1, len(opened) // 10))
        if n_swap == 0 or time.perf_counter() > deadline:
            break
        trial = mask.copy()
        trial[rng.choice(opened, n_swap, replace=False)] = False
        trial[rng.choice(closed, n_swap, replace=False)] = True
        trial, value = interchange(inst, trial, deadline=deadline)
        if value < upper - 1e-9 * abs(upper):
            mask, upper = trial, value
    return mask, upper


def _highs(  # noqa: PLR0913 - the reduced model and the incumbent it must beat
    inst: MedianInstance,
    p: int,
    arc: np.ndarray,
    fixing: Fixing,
    incumbent: tuple[BoolArray, float],
    lower: float,
    deadline: float,
) -> MedianOutcome:
    """Solve the reduced model exactly with HiGHS; fall back on the incumbent."""
    mask, upper = incumbent
    t = inst.table
    free = fixing.undecided()
    limit = None if np.isinf(deadline) else deadline - time.perf_counter()
    out = median_model(t.row[arc], t.col[arc], t.cost[arc], free, t.n_rows, fixing.k, limit)
    if out.x is not None:
        trial = fixing.base.copy()
        trial[free[out.x[len(arc) :] > 0.5]] = True
        trial = greedy(inst, trial, p - int(trial[: inst.m].sum()))
        value = inst.total(trial)
        if value < upper:
            mask, upper = trial, value
    if out.proven:
        return MedianOutcome(mask, upper, upper, "highs")
    return MedianOutcome(mask, upper, max(lower, min(upper, out.bound)), "highs")


def _branch_and_bound(  # noqa: PLR0913 - the reduced problem and the incumbent
    inst: MedianInstance,
    costs: SortedCosts | DenseCosts,
    root: Fixing,
    bound: Bound,
    incumbent: tuple[BoolArray, float],
    deadline: float,
) -> MedianOutcome:
    """Depth-first search over columns; each node bounded by a warm-started subgradient.

    A dense node works on the columns it has not closed only (on pmed36 the median node keeps
    78 of 326: 28.5 s -> 11.0 s CPU, the same 643 nodes).
    """
    mask, upper = incumbent
    stack: list[tuple[Fixing, Bound, float]] = [(root, bound, bound.value)]
    nodes = 0
    while stack:
        if time.perf_counter() > deadline:
            lower = min(upper, min(parent for _, _, parent in stack))
            return MedianOutcome(mask, upper, lower, "branch-and-bound")
        fixing, parent, _ = stack.pop()
        nodes += 1
        if fixing.k < 0 or fixing.k > len(fixing.undecided()):
            continue
        gap = closing_gap(inst, upper)
        here = costs.without(fixing.closed) if isinstance(costs, DenseCosts) else costs
        node, _, support = subgradient(
            here, fixing, upper, lam=parent.lam, target=gap, deadline=deadline, schedule=NODE
        )
        if _cheaper(inst, here, node.open_mask, upper):
            mask, upper = _polish(inst, [node.open_mask], (mask, upper), deadline=deadline)
        if upper - node.value <= closing_gap(inst, upper):
            continue
        stack.extend(_children(fixing, node, upper - node.value, support))
    logger.info("p-median branch and bound: %d nodes", nodes)
    return MedianOutcome(mask, upper, upper, "branch-and-bound")


def _cheaper(
    inst: MedianInstance, costs: SortedCosts | DenseCosts, open_mask: BoolArray, upper: float
) -> bool:
    """Whether ``open_mask`` costs less than ``upper``.

    A dense node answers on its kept arcs: every arc of an open set cheaper than the incumbent
    was kept by the reduced-cost fixing, so on them such a set costs what it costs in full
    (and any other set at least ``upper``).
    """
    if isinstance(costs, DenseCosts) and open_mask[costs.cols].any():
        return float(costs.matrix[:, open_mask[costs.cols]].min(axis=1).sum()) < upper
    return inst.total(open_mask) < upper


def _children(
    fixing: Fixing, node: Bound, slack: float, support: FloatArray
) -> list[tuple[Fixing, Bound, float]]:
    """Fix columns by their Lagrangian penalties, then branch on the most fractional one.

    ``support`` is the share of the node's subgradient steps whose subproblem opened each
    column (an estimate of the LP relaxation's ``y``); the branch is on the undecided column
    whose share is nearest one half (on pmed36: 557 nodes against 643 for the column of
    smallest reduced cost). The child on the side of the share is returned last, so it is
    searched first.
    """
    chosen = node.open_mask & ~fixing.base
    if fixing.k == 0 or not chosen.any():
        return []
    worst_in = node.rho[chosen].max()
    out = fixing.undecided()
    out = out[~chosen[out]]
    best_out = node.rho[out].min() if len(out) else np.inf
    closed = fixing.closed.copy()
    closed[out[node.rho[out] - worst_in > slack]] = True
    forced = chosen & (best_out - node.rho > slack)
    base = fixing.base | forced
    k = fixing.k - int(forced.sum())
    pick = np.flatnonzero(chosen & ~forced)
    if len(pick) == 0:
        return [(Fixing(base, closed, k), node, node.value)]
    undecided = np.flatnonzero(~base & ~closed)
    j = undecided[np.argmin(np.abs(support[undecided] - 0.5))]
    shut, opened = closed.copy(), base.copy()
    shut[j], opened[j] = True, True
    if support[j] < 0.5:
        return [
            (Fixing(opened, closed, k - 1), node, node.value),
            (Fixing(base, shut, k), node, node.value),
        ]
    return [
        (Fixing(base, shut, k), node, node.value),
        (Fixing(opened, closed, k - 1), node, node.value),
    ]
