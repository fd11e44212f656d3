"""Branch and price for small single-source capacitated p-medians (the Dantzig-Wolfe bound).

After Ceselli & Righini (2005, "A branch-and-price algorithm for the capacitated p-median
problem", Networks 45(3)). The **master** is a linear program over *patterns* (a column and
the rows it serves within its capacity), solved by HiGHS: every row served once, every column
used by at most one pattern (exactly one when branched open, none when closed), at most ``p``
patterns. Artificial variables keep every node's master feasible (they only relax it, so its
value stays a lower bound). **Pricing** is one exact 0-1 knapsack per column
(:func:`~layout.optimize._knapsack.solve_knapsacks`, integer demands and capacities only), and
each round gives the Lagrangian bound ``sum(lam) + forced columns + the p smallest knapsack
values``, so a node closes as soon as that bound reaches the incumbent (with integer costs:
``incumbent - 1``) without waiting for the column generation to converge.

**Branching**, best bound first, reusing every pattern found: on the column whose open value
(the sum of its patterns) is most fractional, open or closed; when every column is whole, on
the most fractional pair: the row forced to that column, or kept from it. Integral masters are
answers. After the root, HiGHS solves the master's patterns as 0-1 variables for an answer
(price and branch).

Examples
--------
>>> import numpy as np
>>> from layout.optimize._answers import capacitated_instance
>>> from layout.optimize._problem import build_problem
>>> cost = np.array([[0.0, 2.0, 5.0], [2.0, 0.0, 3.0], [5.0, 3.0, 0.0]])
>>> inst = capacitated_instance(
...     build_problem(cost, weights=None, fixed=None, candidates=None), 2,
...     demand=np.ones(3), capacity=np.array([1.0, 1.0, 2.0]))
>>> answer, lower = branch_and_price(inst, Answer.none(3), deadline=np.inf)
>>> answer.value, lower, answer.open_mask.tolist()
(3.0, 3.0, [True, False, True])
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import time
from dataclasses import dataclass, replace
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from ._answers import Answer, CapacitatedInstance, answer_of
from ._knapsack import TABLE_CELLS, solve_knapsacks
from ._median import BoolArray
from ._problem import FloatArray, IntArray
from ._transport import quiet_highs

logger = logging.getLogger(__name__)

MAX_ROWS = 400
"""Largest instance (rows and columns) the branch and price takes: patterns are kept as dense
masks of rows."""

PRICE_EPS = 1e-7
"""Reduced cost under which a pattern enters the master."""

WHOLE = 1e-6
"""Distance from 0 or 1 under which a master value counts as whole."""

PURGE_MARGIN = 2.0
PURGE_EVERY = 50
"""After the root and then every this many nodes, the patterns whose reduced cost (at the
node's duals) is over :data:`PURGE_MARGIN` times the gap are dropped."""

SMOOTHING = 0.7
"""Weight of the best multipliers in the duals the columns are priced at (dual smoothing)."""

ROOT_MIP_SECONDS = 2.0
MIP_PATTERNS = 400
"""Time limit of HiGHS on the root's patterns as 0-1 variables (price and branch), and the
most patterns it is given."""


def suits(inst: CapacitatedInstance) -> bool:
    """Whether the branch and price takes ``inst``: small, exact integer knapsack units."""
    cells = len(inst.table.cost) * (int(inst.units.capacity.max(initial=0)) + 1)
    small = max(inst.table.n_rows, inst.m) <= MAX_ROWS and cells <= TABLE_CELLS
    return small and inst.units.factor == 1.0


@dataclass(frozen=True)
class Node:
    """Branching decisions of one node of the tree.

    Parameters
    ----------
    closed, opened
        Columns branched closed or open.
    banned
        ``banned[j, i]``: row ``i`` may not go to column ``j``.
    forced
        Column each row is forced to (-1 when free).
    center
        Row multipliers of the best Lagrangian bound met so far (the parent's).
    """

    closed: BoolArray
    opened: BoolArray
    banned: BoolArray
    forced: IntArray
    center: FloatArray

    def excluded(self) -> BoolArray:
        """``[j, i]``: row ``i`` may not be in a pattern of ``j`` (banned or forced elsewhere)."""
        out = self.banned | self.closed[:, None]
        rows = np.flatnonzero(self.forced >= 0)
        out[:, rows] = True
        out[self.forced[rows], rows] = False
        return out

    def needed(self) -> BoolArray:
        """``[j, i]``: row ``i`` must be in every pattern of ``j``."""
        out = np.zeros_like(self.banned)
        rows = np.flatnonzero(self.forced >= 0)
        out[self.forced[rows], rows] = True
        return out

    def child(self, j: int, i: int, *, up: bool, center: FloatArray) -> Node:
        """Return the node with one more decision: column ``j`` (``i < 0``) or pair ``(i, j)``."""
        closed, opened = self.closed.copy(), self.opened.copy()
        banned, forced = self.banned.copy(), self.forced.copy()
        if i < 0:
            (opened if up else closed)[j] = True
        elif up:
            forced[i] = j
        else:
            banned[j, i] = True
        return Node(closed, opened, banned, forced, center)


class _Master:
    """The master's patterns (column, cost, row mask) and its HiGHS model."""

    def __init__(self, inst: CapacitatedInstance) -> None:
        t = inst.table
        n, m = t.n_rows, inst.m
        self.inst, self.n, self.m = inst, n, m
        self.pos = np.full((m, n), -1, dtype=np.int64)
        self.pos[t.col, t.row] = np.arange(len(t.cost))
        self.dense = np.zeros((m, n))
        self.dense[t.col, t.row] = t.cost
        self.site = np.zeros(0, dtype=np.int64)
        self.cost = np.zeros(0)
        self.member = np.zeros((0, n), dtype=bool)
        self.keys: set[tuple[int, bytes]] = set()
        self.highs = quiet_highs()
        self.highs.setOptionValue("presolve", "off")
        inf = highspy.kHighsInf
        rows = n + m + 1
        self.highs.addRows(
            rows,
            np.r_[np.ones(n), np.zeros(m), 0.0],
            np.r_[np.ones(n), np.ones(m), float(inst.p)],
            0,
            np.zeros(rows, dtype=np.int32),
            np.zeros(0, dtype=np.int32),
            np.zeros(0),
        )
        # artificial variables, one per row and per column's row (never binding the bound)
        big = float(np.bincount(t.row, t.cost, minlength=n).max(initial=0.0)) * n + 1.0
        self.first = n + m
        self.highs.addCols(
            self.first,
            np.full(self.first, big),
            np.zeros(self.first),
            np.full(self.first, inf),
            self.first,
            np.arange(self.first, dtype=np.int32),
            np.arange(self.first, dtype=np.int32),
            np.ones(self.first),
        )

    def add(self, site: IntArray, member: BoolArray) -> int:
        """Add the patterns not already in the master; return how many were new."""
        fresh = []
        for k in range(len(site)):
            key = (int(site[k]), member[k].tobytes())
            if key not in self.keys:
                self.keys.add(key)
                fresh.append(k)
        if not fresh:
            return 0
        site, member = site[fresh], member[fresh]
        rows_of = [np.flatnonzero(mask) for mask in member]
        cost = (self.dense[site] * member).sum(axis=1)
        indices = [
            np.r_[r, self.n + j, self.n + self.m] for j, r in zip(site, rows_of, strict=True)
        ]
        starts = np.r_[0, np.cumsum([len(x) for x in indices])[:-1]].astype(np.int32)
        flat = np.concatenate(indices).astype(np.int32)
        self.highs.addCols(
            len(site),
            cost,
            np.zeros(len(site)),
            np.full(len(site), highspy.kHighsInf),
            len(flat),
            starts,
            flat,
            np.ones(len(flat)),
        )
        self.site = np.r_[self.site, site]
        self.cost = np.r_[self.cost, cost]
        self.member = np.vstack([self.member, member])
        return len(fresh)

    def purge(self, keep: BoolArray) -> None:
        """Drop the patterns not in ``keep`` (pricing is exact: a needed one comes back)."""
        drop = np.flatnonzero(~keep)
        if len(drop) == 0:
            return
        self.highs.deleteCols(len(drop), (self.first + drop).astype(np.int32))
        self.site, self.cost, self.member = self.site[keep], self.cost[keep], self.member[keep]
        self.keys = {
            (int(j), mask.tobytes()) for j, mask in zip(self.site, self.member, strict=True)
        }

    def reduced_costs(self) -> FloatArray:
        """Reduced cost of every pattern at the master's present duals."""
        duals = np.asarray(self.highs.getSolution().row_dual, dtype=np.float64)
        n, m = self.n, self.m
        priced: FloatArray = self.member @ duals[:n] + duals[n + self.site] + duals[n + m]
        return self.cost - priced

    def restrict(self, node: Node) -> None:
        """Bound the patterns and the columns' rows to ``node``'s decisions."""
        excluded, needed = node.excluded(), node.needed()
        s, k = self.site, len(self.site)
        if k:
            bad = (self.member & excluded[s]).any(axis=1) | (needed[s] & ~self.member).any(axis=1)
            upper = np.where(bad, 0.0, highspy.kHighsInf)
            ids = (self.first + np.arange(k)).astype(np.int32)
            self.highs.changeColsBounds(k, ids, np.zeros(k), upper)
        rows = (self.n + np.arange(self.m)).astype(np.int32)
        lower = node.opened.astype(np.float64)
        upper = np.where(node.closed, 0.0, 1.0)
        self.highs.changeRowsBounds(self.m, rows, lower, upper)  # type: ignore[attr-defined]

    def solve(self) -> tuple[float, FloatArray, FloatArray]:
        """Solve the master LP; return its value, variables (artificials first) and row duals."""
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise ArithmeticError(
                f"master LP: {self.highs.modelStatusToString(self.highs.getModelStatus())}"
            )
        solution = self.highs.getSolution()
        value = float(self.highs.getInfo().objective_function_value)
        return value, np.asarray(solution.col_value), np.asarray(solution.row_dual)

    def answer(self, z: FloatArray) -> Answer:
        """Return the answer of the patterns whose value (after the artificials) is over 1/2."""
        used = np.flatnonzero(z[self.first :] > 0.5)
        open_mask = np.zeros(self.m, dtype=bool)
        open_mask[self.site[used]] = True
        pattern, rows = np.nonzero(self.member[used])
        if len(rows) != self.n or len(np.unique(rows)) != self.n:
            return Answer.none(self.m)
        return answer_of(self.inst, self.pos[self.site[used][pattern], rows], open_mask)


def _price(
    master: _Master, node: Node, lam: FloatArray, upper: float
) -> tuple[float, BoolArray, Node]:
    """Price every column at the row multipliers ``lam``.

    Returns the Lagrangian bound of ``node`` at ``lam``, each column's best pattern (row
    masks; a closed column's is empty) and ``node`` with the columns fixed whose opening or
    closing lifts the bound to ``upper`` (Lagrangian reduced-cost fixing).
    """
    inst, m = master.inst, master.m
    t = inst.table
    reduced = t.cost - lam[t.row]
    keep = (reduced < 0) & ~node.excluded()[t.col, t.row] & (node.forced[t.row] < 0)
    rows = np.flatnonzero(node.forced >= 0)
    cols = node.forced[rows]
    room = inst.units.capacity - np.bincount(cols, inst.units.demand[rows], minlength=m)
    must = node.opened | (np.bincount(cols, minlength=m) > 0)
    k = inst.p - int(must.sum())
    member = node.needed()
    if (room < 0).any() or k < 0 or (must & node.closed).any():
        return np.inf, member, node
    items = np.flatnonzero(keep)
    out = solve_knapsacks(
        col=t.col[items],
        row=t.row[items],
        reduced=reduced[items],
        units=replace(inst.units, capacity=room.astype(np.int64)),
        n_cols=m,
    )
    value = out.value + np.bincount(cols, reduced[master.pos[cols, rows]], minlength=m)
    taken = items[out.take]
    member[t.col[taken], t.row[taken]] = True
    free = np.flatnonzero(~must & ~node.closed)
    gain = np.minimum(value[free], 0.0)
    order = np.argsort(gain, kind="stable")
    lower = float(lam.sum() + value[must].sum() + gain[order[:k]].sum())
    if not np.isfinite(upper) or len(free) <= k:
        return lower, member, node
    rank = np.empty(len(free), dtype=np.int64)
    rank[order] = np.arange(len(free))
    last_in = gain[order[k - 1]] if k > 0 else -np.inf
    first_out = gain[order[k]]
    change = np.where(rank < k, first_out - gain, gain - last_in)  # swap j out / in
    fixed = _closes(master.inst, lower + change, upper)
    if not fixed.any():
        return lower, member, node
    opened, closed = node.opened.copy(), node.closed.copy()
    opened[free[fixed & (rank < k)]] = True
    closed[free[fixed & (rank >= k)]] = True
    return lower, member, replace(node, opened=opened, closed=closed)


def _entering(master: _Master, node: Node, member: BoolArray, duals: FloatArray) -> IntArray:
    """Columns whose pattern ``member[j]`` has a negative reduced cost at the master's duals."""
    n, m = master.n, master.m
    price = (master.dense * member).sum(axis=1) - member @ duals[:n]
    reduced = price - duals[n : n + m] - duals[n + m]
    return np.flatnonzero((reduced < -PRICE_EPS) & ~node.closed)


def _column_generation(
    master: _Master, node: Node, bound: float, best: Answer, *, deadline: float
) -> tuple[float, FloatArray | None, Node, FloatArray, bool]:
    """Raise ``node``'s bound by column generation, priced at smoothed duals (Wentges 1997).

    Returns the bound, the master's last variables (None when the node closes), the node with
    the columns the reduced costs fix, the best multipliers met and whether the time ran out.
    """
    inst = master.inst
    center = node.center
    top, member, node = _price(master, node, center, best.value)
    bound = max(bound, top)
    if _closes(inst, bound, best.value):
        return bound, None, node, center, False
    master.restrict(node)
    master.add(np.arange(master.m)[~node.closed], member[~node.closed])
    while True:
        value, z, duals = master.solve()
        logger.debug("master %.6g, bound %.6g, %d patterns", value, bound, len(master.site))
        lam = SMOOTHING * center + (1.0 - SMOOTHING) * duals[: master.n]
        for smoothed in (True, False):  # priced at the master's own duals after a mispricing
            lower, member, node = _price(master, node, lam, best.value)
            if lower > top:
                top, center = lower, lam
            bound = max(bound, lower)
            if _closes(inst, bound, best.value):
                return bound, None, node, center, False
            enter = _entering(master, node, member, duals)
            if len(enter) or not smoothed:
                break
            lam = duals[: master.n]
        added = master.add(enter, member[enter])
        z = np.r_[z, np.zeros(added)]  # the new patterns are at 0 in this solution
        settled = inst.integral and math.ceil(bound - 1e-6) >= math.ceil(value - 1e-6)
        if added == 0 or settled:
            return bound, z, node, center, False
        if time.perf_counter() > deadline:
            return bound, z, node, center, True


def _closes(inst: CapacitatedInstance, bound: Any, upper: float) -> Any:
    """Whether no answer below ``upper`` is left above ``bound`` (a number or an array)."""
    return upper - bound <= inst.closing(upper)


def _branching(master: _Master, z: FloatArray) -> tuple[int, int] | None:
    """Return the column (``i = -1``) or pair ``(j, i)`` to branch on; None if ``z`` is whole."""
    part = z[master.first :]
    open_value = np.bincount(master.site, part, minlength=master.m)
    spread = np.minimum(open_value, 1.0 - open_value)
    if spread.max(initial=0.0) > WHOLE:
        return int(np.argmax(spread)), -1
    share = np.zeros((master.m, master.n))
    np.add.at(share, master.site, part[:, None] * master.member)
    spread2 = np.minimum(share, 1.0 - share)
    if spread2.max(initial=0.0) > WHOLE:
        j, i = np.unravel_index(int(np.argmax(spread2)), spread2.shape)
        return int(j), int(i)
    return None


def _patterns_mip(master: _Master, best: Answer, bound: float, *, deadline: float) -> Answer:
    """HiGHS on the root's patterns as 0-1 variables (price and branch); the better answer.

    Only the :data:`MIP_PATTERNS` patterns of least reduced cost at the master's duals go in.
    """
    left = min(ROOT_MIP_SECONDS, deadline - time.perf_counter())
    if left <= 0 or len(master.site) == 0:
        return best
    inst, m = master.inst, master.m
    reduced = master.reduced_costs()
    if np.isfinite(best.value):
        reduced = np.where(reduced <= best.value - bound, reduced, np.inf)
    pick = np.argsort(reduced, kind="stable")[:MIP_PATTERNS]
    pick = pick[np.isfinite(reduced[pick])]
    k = len(pick)
    cover = sp.csr_array(master.member[pick].T.astype(np.float64))
    uses = sp.csr_array((np.ones(k), (master.site[pick], np.arange(k))), shape=(m, k))
    constraints = [
        LinearConstraint(cover, 1.0, 1.0),
        LinearConstraint(uses, inst.base.astype(np.float64), 1.0),
        LinearConstraint(np.ones((1, k)), 0.0, float(inst.p)),
    ]
    res = milp(
        master.cost[pick],
        constraints=constraints,
        integrality=np.ones(k),
        bounds=Bounds(0.0, 1.0),
        options={"disp": False, "time_limit": max(left, 0.05)},
    )
    if res.x is None:
        return best
    z = np.zeros(master.first + len(master.site))
    z[master.first + pick] = res.x
    found = master.answer(z)
    return found if found.beats(best) else best


def branch_and_price(
    inst: CapacitatedInstance, best: Answer, *, deadline: float, lam: FloatArray | None = None
) -> tuple[Answer, float]:
    """Solve ``inst`` (see :func:`suits`) from the incumbent ``best``; the answer and a bound.

    ``lam`` (row multipliers, e.g. the subgradient's best) starts the dual smoothing. The
    bound is that of the open nodes when the time runs out; the answer's value when the tree
    is closed (then the answer is optimal).
    """
    master = _Master(inst)
    t = inst.table
    if np.isfinite(best.value):
        site = np.flatnonzero(best.open_mask)
        member = np.zeros((len(site), master.n), dtype=bool)
        slot = np.full(inst.m, -1, dtype=np.int64)
        slot[site] = np.arange(len(site))
        member[slot[t.col[best.arcs]], t.row[best.arcs]] = True
        master.add(site, member)
    m, n = inst.m, master.n
    root = Node(
        closed=np.zeros(m, dtype=bool),
        opened=inst.base.copy(),
        banned=np.zeros((m, n), dtype=bool),
        forced=np.full(n, -1),
        center=np.zeros(n) if lam is None else np.asarray(lam, dtype=np.float64),
    )
    try:
        return _search(master, root, best, deadline=deadline)
    except ArithmeticError as err:  # HiGHS did not solve a master: no proof from the tree
        logger.warning("branch and price stopped: %s", err)
        return best, -np.inf


def _search(master: _Master, root: Node, best: Answer, *, deadline: float) -> tuple[Answer, float]:
    """Search the tree from ``root`` best bound first; the best answer and the bound."""
    inst = master.inst
    order = itertools.count()
    heap: list[tuple[float, int, Node]] = [(-np.inf, next(order), root)]
    nodes = 0
    while heap and not _closes(inst, heap[0][0], best.value):
        bound, _, node = heapq.heappop(heap)
        bound, z, node, center, late = _column_generation(
            master, node, bound, best, deadline=deadline
        )
        nodes += 1
        if nodes == 1 and z is not None:
            logger.info("branch and price: root bound %.6g, %d patterns", bound, len(master.site))
            best = _patterns_mip(master, best, bound, deadline=deadline)
        if nodes % PURGE_EVERY == 1 and z is not None:
            keep = master.reduced_costs() <= max(best.value - bound, 0.0) * PURGE_MARGIN
            keep |= z[master.first :] > 0
            z = np.r_[z[: master.first], z[master.first :][keep]]
            master.purge(keep)
        if late:
            heapq.heappush(heap, (bound, next(order), node))
            break
        if z is None or _closes(inst, bound, best.value):
            continue
        pick = _branching(master, z)
        if pick is None:
            if z[: master.first].sum() <= WHOLE:
                found = master.answer(z)
                best = found if found.beats(best) else best
            continue
        j, i = pick
        for up in (True, False):
            heapq.heappush(heap, (bound, next(order), node.child(j, i, up=up, center=center)))
        if time.perf_counter() > deadline:
            break
    lower = min((b for b, _, _ in heap), default=best.value)
    logger.info(
        "branch and price: %d nodes, %d patterns, answer %.6g, bound %.6g",
        nodes,
        len(master.site),
        best.value,
        lower,
    )
    return best, min(lower, best.value)
