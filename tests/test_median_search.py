"""Tests of the p-median heuristics and bound against brute force on small random instances.

Greedy and interchange are checked against direct enumeration of every addition and every
swap; the Lagrangian bound of the core subgradient (forced on with a tiny core) against the
optimum found by enumerating every open set. The branch and bound's node bounds and the
columns its nodes fix open or closed are checked against enumeration under each node's fixing.
"""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest

from layout import optimize
from layout.optimize import _lagrangian, _search
from layout.optimize._lagrangian import NODE, ROOT, Fixing, lagrangian, reduce, subgradient
from layout.optimize._median import DenseCosts, greedy, interchange, median_instance
from layout.optimize._problem import build_problem


def _random(seed: int, n: int, m: int, holes: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer costs with a share ``holes`` of unreachable pairs (inf), and weights 0-4."""
    rng = np.random.default_rng(seed)
    cost = np.round(rng.random((n, m)) * 100)
    cost[rng.random((n, m)) < holes] = np.inf
    cost[:, 0] = np.round(rng.random(n) * 100)  # every row reaches column 0
    weights = rng.integers(0, 5, n).astype(float)
    weights[0] = 1.0
    return cost, weights


def _total(cost: np.ndarray, weights: np.ndarray, cols: list[int]) -> float:
    """Weighted cost of serving every row of positive weight from its nearest open column."""
    nearest = cost[:, cols].min(axis=1)
    used = weights > 0
    return float(weights[used] @ nearest[used]) if np.isfinite(nearest[used]).all() else np.inf


@pytest.mark.parametrize("seed", range(6))
def test_greedy_opens_the_best_column_each_time(seed):
    """Each column greedy opens saves the most of all closed columns (checked by enumeration)."""
    cost, w = _random(seed, 25, 12, holes=0.3 if seed % 2 else 0.0)
    inst = median_instance(build_problem(cost, weights=w, fixed=[0], candidates=None))
    opened = [0]
    for k in range(1, 5):
        mask = greedy(inst, inst.always_open(), k)
        new = [int(j) for j in np.flatnonzero(mask[: inst.m]) if j not in opened]
        assert len(new) == 1
        before = _total(cost, w, opened)
        best = min(_total(cost, w, [*opened, j]) for j in range(12) if j not in opened)
        assert _total(cost, w, [*opened, new[0]]) == pytest.approx(min(best, before))
        opened.append(new[0])


@pytest.mark.parametrize("seed", range(8))
def test_interchange_ends_at_a_swap_local_optimum(seed):
    """No single swap improves the interchange's answer, and its cost is the true cost."""
    cost, w = _random(seed, 30, 14, holes=0.4 if seed % 2 else 0.0)
    fixed = [0] if seed % 2 or seed % 3 == 0 else None  # column 0 reaches every row
    inst = median_instance(build_problem(cost, weights=w, fixed=fixed, candidates=None))
    rng = np.random.default_rng(seed)
    start = inst.always_open()
    start[rng.choice(np.arange(1, 14), 4, replace=False)] = True
    mask, value = interchange(inst, start)
    cols = [int(j) for j in np.flatnonzero(mask[: inst.m])]
    assert sum(mask[: inst.m]) == 4 + (fixed is not None)
    assert value == pytest.approx(_total(cost, w, cols))
    free = [j for j in cols if fixed is None or j != 0]
    for out, into in itertools.product(free, [j for j in range(14) if j not in cols]):
        trial = [j for j in cols if j != out] + [into]
        assert _total(cost, w, trial) >= value - 1e-9


@pytest.mark.parametrize("seed", range(5))
def test_core_subgradient_bound_below_enumerated_optimum(seed, monkeypatch, caplog):
    """The bound of the priced core never passes the optimum; p_median still finds it."""
    monkeypatch.setattr(_lagrangian, "CORE_COLUMNS", 2)  # 30 columns > 4 x 2 p: core is used
    cost, w = _random(100 + seed, 40, 30, holes=0.5)
    p = 3
    best = min(_total(cost, w, list(s)) for s in itertools.combinations(range(30), p))
    inst = median_instance(build_problem(cost, weights=w, fixed=None, candidates=None))
    mask, upper = interchange(inst, greedy(inst, inst.always_open(), p))
    d1 = inst.nearest_two(mask)[0]
    with caplog.at_level(logging.DEBUG, logger=_lagrangian.__name__):
        bound, _, _ = subgradient(
            inst.table,
            Fixing.root(inst, p),
            upper,
            lam=d1,
            target=0.0,
            deadline=np.inf,
            schedule=ROOT,
            scale=inst.weights,
        )
    assert "core of" in caplog.text
    assert bound.value <= best + 1e-6
    assert bound.value > 0.5 * best  # a real bound, not a trivial one
    r = optimize.p_median(cost, p, weights=w)
    assert r.objective == pytest.approx(best)
    assert r.lower_bound <= best + 1e-9


def _best_under(cost, w, p, fixing, *, avoid=(), need=()):
    """Cheapest open set of ``p`` columns consistent with ``fixing`` (enumerated).

    Only sets holding a column of ``avoid`` or missing one of ``need`` count, when given.
    """
    m = cost.shape[1]
    base = [j for j in range(m) if fixing.base[j]]
    free = [j for j in range(m) if not fixing.base[j] and not fixing.closed[j]]
    best = np.inf
    for extra in itertools.combinations(free, p - len(base)):
        cols = base + list(extra)
        if len(avoid) and not set(avoid) & set(cols):
            continue
        if len(need) and set(need) <= set(cols):
            continue
        best = min(best, _total(cost, w, cols))
    return best


@pytest.mark.parametrize("seed", range(4))
def test_branch_and_bound_nodes_against_enumeration(seed, monkeypatch):
    """Each node's bound is at most the best set under its fixing; what it fixes is in no better set.

    A column a node closes (opens) by its Lagrangian penalties against a cost ``upper`` may be
    in (out of) no open set under the node's fixing that costs less than ``upper``: checked
    for the incumbent's cost and for costs 1-10 % above the optimum, which fix fewer columns
    but leave cheaper sets to catch a wrong fixing.
    """
    monkeypatch.setattr(_search, "MILP_ARCS_PER_ROW", 0.0)  # the reduced model goes to B&B
    rng = np.random.default_rng(200 + seed)
    cost, w, p = rng.random((40, 16)) * 100, rng.random(40) + 0.5, 4
    nodes = []
    children = _search._children

    def record(fixing, node, slack, support):
        nodes.append((fixing, node, support))
        return children(fixing, node, slack, support)

    monkeypatch.setattr(_search, "_children", record)
    best = min(_total(cost, w, list(s)) for s in itertools.combinations(range(16), p))
    r = optimize.p_median(cost, p, weights=w)
    assert r.objective == pytest.approx(best, rel=1e-9)
    assert nodes, "the branch and bound ran no node"
    fixed_any = 0
    for fixing, node, support in nodes:
        assert node.value <= _best_under(cost, w, p, fixing) * (1 + 1e-9)
        for upper in best * np.array([1.0, 1.01, 1.03, 1.1]):
            out = children(fixing, node, upper - node.value, support)
            closed = np.logical_and.reduce([f.closed for f, _, _ in out]) & ~fixing.closed
            opened = np.logical_and.reduce([f.base for f, _, _ in out]) & ~fixing.base
            closed, opened = np.flatnonzero(closed[:16]), np.flatnonzero(opened[:16])
            fixed_any += len(closed) + len(opened)
            if len(closed):
                assert _best_under(cost, w, p, fixing, avoid=closed) >= upper * (1 - 1e-9)
            if len(opened):
                assert _best_under(cost, w, p, fixing, need=opened) >= upper * (1 - 1e-9)
    assert fixed_any > 0


def test_dense_node_costs_without_closed_columns_give_the_same_bound():
    """Dropping the closed columns of a dense node changes neither L(lam) nor the open set."""
    rng = np.random.default_rng(7)
    cost = np.round(rng.random((20, 9)) * 50)
    inst = median_instance(build_problem(cost, weights=None, fixed=None, candidates=None))
    assert inst.dense is not None
    closed = np.zeros(inst.m + 1, dtype=bool)
    closed[[1, 4, 6]] = True
    fixing = Fixing(inst.always_open(), closed, 3)
    lam = np.sort(cost, axis=1)[:, 1]
    full = lagrangian(inst.dense, lam, fixing)
    part = lagrangian(inst.dense.without(closed), lam, fixing)
    assert isinstance(inst.dense.without(closed), DenseCosts)
    assert inst.dense.without(closed).cols.tolist() == [0, 2, 3, 5, 7, 8, 9]
    assert part.value == pytest.approx(full.value)
    assert part.open_mask.tolist() == full.open_mask.tolist()
    assert part.served.tolist() == full.served.tolist()


@pytest.mark.parametrize("seed", range(4))
def test_one_free_column_is_enumerated(seed, caplog):
    """With the fixed sites and one more to open, the answer is the best single column, proven."""
    cost, w = _random(300 + seed, 30, 12, holes=0.4 if seed % 2 else 0.0)
    fixed = [0, 3, 7]
    best = min(_total(cost, w, [*fixed, j]) for j in range(12) if j not in fixed)
    with caplog.at_level(logging.INFO, logger="layout.optimize"):
        r = optimize.p_median(cost, 4, weights=w, fixed=fixed)
    assert r.objective == pytest.approx(best)
    assert r.lower_bound == r.objective
    assert set(fixed) < set(r.facilities.tolist())
    assert "(enumeration)" in caplog.text


@pytest.mark.parametrize("seed", range(3))
def test_kept_arcs_price_every_set_cheaper_than_the_incumbent(seed):
    """On the arcs the reduced-cost fixing keeps, a set is found cheaper exactly when it is.

    The branch and bound prices its nodes' open sets on the kept arcs only; checked against
    every open set for an incumbent cost 10 % above the optimum (so that cheaper sets exist).
    """
    rng = np.random.default_rng(400 + seed)
    cost, w, p = rng.random((40, 16)) * 100, rng.random(40) + 0.5, 4
    inst = median_instance(build_problem(cost, weights=w, fixed=None, candidates=None))
    totals = {s: _total(cost, w, list(s)) for s in itertools.combinations(range(16), p)}
    upper = 1.1 * min(totals.values())
    root = Fixing.root(inst, p)
    bound, _, _ = subgradient(
        inst.table, root, upper, lam=np.sort(cost * w[:, None], axis=1)[:, 1],
        target=0.0, deadline=np.inf, schedule=NODE, scale=inst.weights,
    )  # fmt: skip
    kept = inst.restricted(reduce(inst, bound, upper, root).arc)
    assert isinstance(kept, DenseCosts)
    assert np.isinf(kept.matrix).any()  # some arcs were dropped
    cheaper = 0
    for s, total in totals.items():
        mask = inst.always_open()
        mask[list(s)] = True
        assert _search._cheaper(inst, kept, mask, upper) == (total < upper)
        cheaper += total < upper
    assert cheaper > 1
