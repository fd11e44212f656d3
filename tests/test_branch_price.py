"""Tests of the branch and price against exhaustive enumeration and the strong LP relaxation.

The instances have integer demands and capacities (the branch and price needs exact knapsack
units); the reference optimum is found by listing every open set and every single-source
assignment (no solver), and the reference bound below the Dantzig-Wolfe one is the LP
relaxation of the strong model (``x_ij <= y_j``) solved by HiGHS through ``linprog``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from layout import optimize
from layout.optimize import _branch_price, _capacitated
from layout.optimize._answers import Answer, capacitated_instance
from layout.optimize._problem import build_problem
from tests.test_capacitated import _check_answer, _enumerated


def _instance(seed: int, n: int, m: int, p: int, *, whole_costs: bool):
    """Random points, integer demands 1-9, integer capacities 5-25 % over an even share."""
    rng = np.random.default_rng(seed)
    rows, sites = rng.random((n, 2)) * 100, rng.random((m, 2)) * 100
    cost = np.hypot(*(rows[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    cost = np.floor(cost) if whole_costs else cost
    demand = rng.integers(1, 10, size=n).astype(float)
    capacity = np.floor(demand.sum() / p * rng.uniform(1.05, 1.25, size=m))
    return cost, demand, capacity


def _strong_lp(cost, demand, capacity, p) -> float:
    """LP relaxation of the strong single-source model, every pair a variable."""
    n, m = cost.shape
    nx = n * m
    row, col = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    ids = np.arange(nx)
    assign = sp.csr_array((np.ones(nx), (row, ids)), shape=(n, nx + m))
    load = sp.csr_array(
        (np.r_[demand[row], -capacity], (np.r_[col, np.arange(m)], np.r_[ids, nx + np.arange(m)])),
        shape=(m, nx + m),
    )
    link = sp.csr_array(
        (np.r_[np.ones(nx), -np.ones(nx)], (np.r_[ids, ids], np.r_[ids, nx + col])),
        shape=(nx, nx + m),
    )
    count = sp.csr_array(np.r_[np.zeros(nx), np.ones(m)][None, :])
    res = linprog(
        np.r_[cost.ravel(), np.zeros(m)],
        A_ub=sp.vstack([load, link, count]),
        b_ub=np.r_[np.zeros(m + nx), p],
        A_eq=assign,
        b_eq=np.ones(n),
        bounds=(0, 1),
        method="highs",
    )
    return float(res.fun)


def _inst(cost, demand, capacity, p, fixed=None):
    problem = build_problem(cost, weights=None, fixed=fixed, candidates=None)
    return capacitated_instance(problem, p, demand=demand, capacity=capacity)


@pytest.mark.parametrize(("seed", "whole_costs"), [(s, s % 2 == 0) for s in range(6)])
def test_tree_from_nothing_reaches_the_enumerated_optimum_and_closes(seed, whole_costs):
    """With no incumbent, the tree finds the enumerated optimum and proves it."""
    cost, demand, capacity = _instance(seed, 8, 7, 3, whole_costs=whole_costs)
    best = _enumerated(cost, demand, capacity, 3)
    inst = _inst(cost, demand, capacity, 3)
    assert _branch_price.suits(inst)
    answer, lower = _branch_price.branch_and_price(inst, Answer.none(inst.m), deadline=np.inf)
    assert answer.value == pytest.approx(best)
    assert lower == pytest.approx(best)
    t = inst.table
    load = np.bincount(t.col[answer.arcs], demand[t.row[answer.arcs]], minlength=inst.m)
    assert (load <= capacity + 1e-9).all()
    assert np.array_equal(np.sort(t.row[answer.arcs]), np.arange(8))
    assert answer.open_mask.sum() <= 3


@pytest.mark.parametrize("seed", range(4))
def test_root_bound_lies_between_the_strong_lp_and_the_optimum(seed):
    """The converged root bound is the Dantzig-Wolfe one: at least the strong LP's."""
    cost, demand, capacity = _instance(seed, 8, 7, 3, whole_costs=False)
    inst = _inst(cost, demand, capacity, 3)
    master = _branch_price._Master(inst)
    root = _branch_price.Node(
        closed=np.zeros(7, dtype=bool),
        opened=np.zeros(7, dtype=bool),
        banned=np.zeros((7, 8), dtype=bool),
        forced=np.full(8, -1),
        center=np.zeros(8),
    )
    bound, *_ = _branch_price._column_generation(
        master, root, -np.inf, Answer.none(7), deadline=np.inf
    )
    assert _strong_lp(cost, demand, capacity, 3) - 1e-6 <= bound
    assert bound <= _enumerated(cost, demand, capacity, 3) + 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_public_solver_takes_the_tree_with_a_fixed_site(seed, monkeypatch):
    """Integer amounts send the public solver through the tree; fixed sites stay open."""
    cost, demand, capacity = _instance(seed, 8, 6, 3, whole_costs=True)
    calls = []
    tree = _capacitated.branch_and_price

    def counted(*args, **kwargs):
        calls.append(1)
        return tree(*args, **kwargs)

    monkeypatch.setattr(_capacitated, "branch_and_price", counted)
    monkeypatch.setattr(_capacitated, "MAX_ITERATIONS", 1)  # leave a gap for the tree
    best = _enumerated(cost, demand, capacity, 3, fixed=(4,))
    r = optimize.capacitated_p_median(cost, 3, demand, capacity, fixed=[4])
    _check_answer(r, cost, demand, capacity, 3)
    assert 4 in r.facilities.tolist()
    assert r.objective == pytest.approx(best)
    assert r.gap == 0.0
    assert calls


def test_deadline_passed_still_returns_a_valid_bound():
    """With the deadline already passed the tree stops at once; its bound stays a bound."""
    cost, demand, capacity = _instance(7, 8, 7, 3, whole_costs=True)
    best = _enumerated(cost, demand, capacity, 3)
    inst = _inst(cost, demand, capacity, 3)
    answer, lower = _branch_price.branch_and_price(
        inst, Answer.none(inst.m), deadline=time.perf_counter() - 1.0
    )
    assert lower <= best + 1e-9
    assert answer.value >= best - 1e-9  # inf when no answer was found yet
