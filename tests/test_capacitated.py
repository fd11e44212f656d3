"""Tests of the capacitated p-median against exhaustive enumeration of every answer.

The reference optimum of each small instance is found by listing every open set of ``p``
columns and, for each, every single-source assignment of the rows to it (``p ** n`` of
them), keeping the cheapest one within the capacities: no solver is involved.
"""

from __future__ import annotations

import inspect
import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from layout import optimize
from layout.optimize import _answers, _capacitated, _regions
from layout.optimize._answers import capacitated_instance, repair
from layout.optimize._knapsack import knapsack_units, solve_knapsacks
from layout.optimize._problem import build_problem


def _points(seed: int, n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact Euclidean costs from n random rows to m random sites; integer demands 1-9."""
    rng = np.random.default_rng(seed)
    rows, sites = rng.random((n, 2)) * 100, rng.random((m, 2)) * 100
    cost = np.hypot(*(rows[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    return cost, rng.integers(1, 10, size=n).astype(float), rng


def _enumerated(cost, demand, capacity, p, fixed=()) -> float:
    """Cheapest single-source answer with p open columns, by listing every answer."""
    n, m = cost.shape
    best = np.inf
    for extra in itertools.combinations([j for j in range(m) if j not in fixed], p - len(fixed)):
        cols = np.array(sorted((*fixed, *extra)))
        choice = np.array(list(itertools.product(cols, repeat=n)))  # every assignment
        total = cost[np.arange(n), choice].sum(axis=1)
        load = (choice[:, :, None] == cols[None, None, :]) * demand[None, :, None]
        fits = (load.sum(axis=1) <= capacity[cols][None, :] + 1e-9).all(axis=1)
        best = min(best, total[fits].min(initial=np.inf))
    return float(best)


def _check_answer(r, cost, demand, capacity, p) -> None:
    """Every row served by an open column, every capacity kept, the objective recomputed."""
    n = cost.shape[0]
    assert (r.assignment >= 0).all()
    assert set(r.assignment.tolist()) <= set(r.facilities.tolist())
    assert len(r.facilities) <= p
    load = np.bincount(r.assignment, demand, minlength=cost.shape[1])
    assert (load <= capacity + 1e-9).all()
    assert r.objective == pytest.approx(cost[np.arange(n), r.assignment].sum())
    assert r.lower_bound <= r.objective + 1e-9
    assert 0.0 <= r.gap


@pytest.mark.parametrize(
    ("seed", "n", "m", "p"), [(s, 8, 7, 3) for s in range(5)] + [(s, 9, 6, 2) for s in range(5, 8)]
)
def test_matches_enumeration_with_tight_capacities(seed, n, m, p):
    """The answer is the enumerated optimum and the bound is at most that optimum."""
    cost, demand, rng = _points(seed, n, m)
    # capacities 5-25 % above an even share: tight, and not all sites alike
    capacity = demand.sum() / p * rng.uniform(1.05, 1.25, size=m)
    best = _enumerated(cost, demand, capacity, p)
    r = optimize.capacitated_p_median(cost, p, demand, capacity)
    _check_answer(r, cost, demand, capacity, p)
    assert r.objective == pytest.approx(best)
    assert r.lower_bound <= best + 1e-6
    assert r.gap == 0.0  # proven within the default time limit on so small an instance


@pytest.mark.parametrize("seed", range(3))
def test_fixed_sites_sparse_costs_and_fractional_amounts(seed):
    """Fixed sites stay open, missing sparse entries are never used, real-valued amounts."""
    n, m, p = 8, 6, 3
    cost, demand, rng = _points(seed + 20, n, m)
    demand = demand * 0.37  # not integers: the knapsacks work on scaled units
    capacity = demand.sum() / p * rng.uniform(1.1, 1.4, size=m)
    far = cost > np.quantile(cost, 0.8)
    far[np.arange(n), cost.argmin(axis=1)] = False  # every row keeps its nearest site
    masked = np.where(far, np.inf, cost)
    best = _enumerated(masked, demand, capacity, p, fixed=(1,))
    r = optimize.capacitated_p_median(
        sp.csr_array(np.where(far, 0.0, cost)), p, demand, capacity, fixed=[1]
    )
    _check_answer(r, masked, demand, capacity, p)
    assert 1 in r.facilities
    assert r.objective == pytest.approx(best)
    assert r.lower_bound <= best + 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_region_search_covering_everything_reaches_the_enumerated_optimum(seed, monkeypatch):
    """With every open column in one region and every column a candidate, the region's model
    is the whole problem: from any feasible start the search ends at the enumerated optimum."""
    n, m, p = 9, 3, 2
    monkeypatch.setattr(_regions, "REGION_COLUMNS", p)
    monkeypatch.setattr(_regions, "CANDIDATE_RANK", m)  # each row's m nearest: all columns
    cost, demand, rng = _points(seed + 60, n, m)
    capacity = demand.sum() / p * rng.uniform(1.05, 1.3, size=m)
    best = _enumerated(cost, demand, capacity, p)
    problem = build_problem(cost, weights=None, fixed=None, candidates=None, p=p)
    inst = capacitated_instance(problem, p, demand=demand, capacity=capacity)
    starts = [
        repair(inst, np.isin(np.arange(m), pair)) for pair in itertools.combinations(range(m), p)
    ]
    start = max((s for s in starts if np.isfinite(s.value)), key=lambda s: s.value)
    found = _regions.improve(inst, start, deadline=np.inf)
    assert found.value == pytest.approx(best)
    assignment = inst.table.col[found.arcs][np.argsort(inst.table.row[found.arcs])]
    assert (np.bincount(assignment, demand, minlength=m) <= capacity + 1e-9).all()
    assert found.value == pytest.approx(cost[np.arange(n), assignment].sum())


@pytest.mark.parametrize("seed", range(3))
def test_large_instance_path_with_the_region_search(seed, monkeypatch):
    """Answers on each row's nearest pairs only (as above 250 000 pairs), the region search
    instead of the pool model: capacities kept, a valid bound, the enumerated optimum (the
    region search reaches it on seeds 1 and 2, the subgradient's open sets on seed 0)."""
    monkeypatch.setattr(_answers, "PRIMAL_ARCS", 20)  # 7 x 6 pairs count as a large instance
    n, m, p = 7, 6, 5  # each row keeps its max(20 // 7, 4 * 6 // 5) = 4 nearest columns
    cost, demand, rng = _points(seed + 80, n, m)
    capacity = demand.sum() / p * rng.uniform(1.3, 1.6, size=m)
    best = _enumerated(cost, demand, capacity, p)
    problem = build_problem(cost, weights=None, fixed=None, candidates=None, p=p)
    inst = capacitated_instance(problem, p, demand=demand, capacity=capacity)
    assert len(inst.primal) < n * m
    r = optimize.capacitated_p_median(cost, p, demand, capacity)
    _check_answer(r, cost, demand, capacity, p)
    assert r.objective == pytest.approx(best)
    assert r.lower_bound <= best + 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_lagrangian_bound_is_below_the_optimum_at_any_multipliers(seed):
    """L(lam) is a lower bound whatever the multipliers, not only where the search ends."""
    n, m, p = 8, 7, 3
    cost, demand, rng = _points(seed + 40, n, m)
    capacity = demand.sum() / p * rng.uniform(1.05, 1.25, size=m)
    best = _enumerated(cost, demand, capacity, p)
    problem = build_problem(cost, weights=None, fixed=None, candidates=None, p=p)
    inst = capacitated_instance(problem, p, demand=demand, capacity=capacity)
    for scale in (0.5, 1.0, 2.0, 4.0):
        lam = rng.random(n) * cost.max() * scale
        for every in (False, True):
            assert _capacitated._relax(inst, lam, every=every).value <= best + 1e-9


@pytest.mark.parametrize("seed", range(5))
def test_knapsacks_match_enumeration(seed):
    """Every column's 0-1 knapsack value and choice equal the best of all item subsets."""
    rng = np.random.default_rng(seed)
    n_cols, n_items = 4, 24
    col = rng.integers(0, n_cols, size=n_items)
    row = rng.permutation(n_items)  # one item per row
    reduced = -rng.random(n_items) * 10
    weights, capacity = rng.integers(1, 8, size=n_items).astype(float), np.array([0, 5, 9, 40.0])
    units = knapsack_units(weights[np.argsort(row)], capacity)
    out = solve_knapsacks(col=col, row=row, reduced=reduced, units=units, n_cols=n_cols)
    for j in range(n_cols):
        own = np.flatnonzero(col == j)
        best = min(
            reduced[list(pick)].sum()
            for k in range(len(own) + 1)
            for pick in itertools.combinations(own, k)
            if weights[list(pick)].sum() <= capacity[j]
        )
        assert out.value[j] == pytest.approx(best)
        assert reduced[own[out.take[own]]].sum() == pytest.approx(best)
        assert weights[own[out.take[own]]].sum() <= capacity[j]


def test_default_time_limit_and_a_tiny_one():
    """There is a default limit; a hard instance under a tiny limit still returns an answer."""
    default = inspect.signature(optimize.capacitated_p_median).parameters["time_limit"].default
    assert default == optimize.CAPACITATED_TIME_LIMIT
    assert 0 < default < np.inf
    n, p = 80, 8
    cost, demand, rng = _points(99, n, n)
    capacity = np.full(n, demand.sum() / p * 1.2)  # 20 % spare room in all
    r = optimize.capacitated_p_median(cost, p, demand, capacity, time_limit=0.2)
    _check_answer(r, cost, demand, capacity, p)
    assert r.lower_bound > 0.0
    assert r.gap == pytest.approx((r.objective - r.lower_bound) / r.objective)
