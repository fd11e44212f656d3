"""Tests of layout.optimize against exhaustive enumeration and hand-worked answers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from layout import optimize
from layout.errors import ValidationError
from layout.optimize import _search as _median_search
from layout.optimize._median import median_instance
from layout.optimize._problem import build_problem


def _instance(seed: int, n: int = 12, m: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean costs between random demand points and random sites, and random weights."""
    rng = np.random.default_rng(seed)
    demand = rng.random((n, 2)) * 100
    sites = rng.random((m, 2)) * 100
    cost = np.round(np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)))
    return cost, rng.integers(1, 6, size=n).astype(float)


def _sets(m: int, p: int, fixed=(), candidates=None):
    """Every set of p columns containing the fixed ones, new ones among the candidates."""
    pool = [j for j in (range(m) if candidates is None else candidates) if j not in fixed]
    for extra in itertools.combinations(pool, p - len(fixed)):
        yield sorted((*fixed, *extra))


def _median_cost(cost, weights, cols):
    return float(weights @ cost[:, cols].min(axis=1))


def _coverage(cost, weights, cols, radius):
    return float(weights @ (cost[:, cols] <= radius).any(axis=1))


def _single_source(cost, demand, capacity, cols):
    """Exact cheapest single-source assignment to ``cols`` by HiGHS (inf if infeasible)."""
    n, k = cost.shape[0], len(cols)
    c = cost[:, cols].ravel()
    assign = np.kron(np.eye(n), np.ones(k))
    load = np.kron(demand[None, :], np.eye(k))  # load[j, i * k + j] = demand[i]
    res = milp(
        c,
        constraints=[
            LinearConstraint(assign, 1, 1),
            LinearConstraint(load, -np.inf, capacity[cols]),
        ],
        integrality=np.ones(len(c)),
        bounds=Bounds(0, 1),
    )
    return res.fun if res.status == 0 else np.inf


# ---- p-median ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_p_median_matches_enumeration(seed):
    """Check: p median matches enumeration."""
    cost, w = _instance(seed)
    p = 2 + seed % 3
    best = min(_median_cost(cost, w, list(s)) for s in _sets(8, p))
    r = optimize.p_median(cost, p, weights=w)
    assert r.objective == pytest.approx(best)
    assert len(r.facilities) == p
    assert _median_cost(cost, w, r.facilities) == pytest.approx(r.objective)
    assert r.lower_bound <= best + 1e-9
    assert r.gap == 0.0


def test_p_median_lower_bound_valid_over_many_seeds():
    """Check: p median lower bound valid over many seeds."""
    # A short time limit stops the search early; the bound must still not pass the optimum.
    for seed in range(30):
        cost, w = _instance(100 + seed, n=15, m=9)
        best = min(_median_cost(cost, w, list(s)) for s in _sets(9, 3))
        r = optimize.p_median(cost, 3, weights=w, time_limit=0.0)
        assert r.lower_bound <= best + 1e-9 <= r.objective + 1e-9


def test_p_median_fixed_and_candidates():
    """Check: p median fixed and candidates."""
    cost, w = _instance(7)
    fixed, candidates = [5], [0, 1, 2]
    best = min(_median_cost(cost, w, list(s)) for s in _sets(8, 3, (5,), candidates))
    r = optimize.p_median(cost, 3, weights=w, fixed=fixed, candidates=candidates)
    assert 5 in r.facilities
    assert set(r.facilities) <= {0, 1, 2, 5}
    assert r.objective == pytest.approx(best)


def test_p_median_hand_worked():
    """Check: p median hand worked."""
    # Points on a line at 0, 1, 10, 11 and sites at the same places; p = 2 opens one site in
    # each pair: cost 1 + 1 = 2 (weights 1). With weight 5 on point 3, site 3 opens: 1 + 1 = 2.
    x = np.array([0.0, 1.0, 10.0, 11.0])
    cost = np.abs(x[:, None] - x[None, :])
    r = optimize.p_median(cost, 2, weights=[1, 1, 1, 5])
    assert r.objective == 2.0
    assert 3 in r.facilities
    assert r.assignment[3] == 3 and r.assignment[2] == 3


def test_p_median_sparse_agrees_with_dense():
    """Check: p median sparse agrees with dense."""
    # + 1: building a sparse matrix from a dense one drops zero costs (= not reachable).
    cost, w = _instance(3, n=20, m=10)
    cost = cost + 1.0
    best = min(_median_cost(cost, w, list(s)) for s in _sets(10, 3))
    dense = optimize.p_median(cost, 3, weights=w)
    sparse = optimize.p_median(sp.csr_array(cost), 3, weights=w)
    assert sparse.objective == pytest.approx(dense.objective) == pytest.approx(best)
    assert np.array_equal(sparse.assignment, dense.assignment)


def test_p_median_sparse_missing_means_unreachable():
    """Check: p median sparse missing means unreachable."""
    # Row 0 reaches only column 2 (cost 7); without sparsity column 0 (cost 1) would serve it.
    dense = np.array([[1.0, 1.0, 7.0], [1.0, 9.0, 9.0], [9.0, 1.0, 9.0]])
    rows, cols = [0, 1, 1, 1, 2, 2, 2], [2, 0, 1, 2, 0, 1, 2]
    matrix = sp.csr_array((dense[rows, cols], (rows, cols)), shape=(3, 3))
    r = optimize.p_median(matrix, 2)
    # {0, 1}: row 0 unreached; {0, 2}: 7 + 1 + 9 = 17; {1, 2}: 7 + 9 + 1 = 17.
    assert r.objective == 17.0
    assert 2 in r.facilities


def test_p_median_zero_weight_rows_assigned_but_not_counted():
    """Check: p median zero weight rows assigned but not counted."""
    cost = np.array([[1.0, 4.0], [4.0, 1.0], [0.0, 9.0]])
    r = optimize.p_median(cost, 1, weights=[1, 2, 0])
    # Column 1: 4 + 2 * 1 = 6; column 0: 1 + 2 * 4 = 9.
    assert r.facilities.tolist() == [1] and r.objective == 6.0
    assert r.assignment.tolist() == [1, 1, 1]


# ---- maximal covering ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_mclp_matches_enumeration(seed):
    """Check: mclp matches enumeration."""
    cost, w = _instance(seed)
    p, radius = 2 + seed % 2, 30.0
    best = max(_coverage(cost, w, list(s), radius) for s in _sets(8, p))
    r = optimize.mclp(cost, p, radius, weights=w)
    assert r.objective == pytest.approx(best)
    assert r.upper_bound >= best - 1e-9
    assert len(r.facilities) == p
    covered = (cost[:, r.facilities] <= radius).any(axis=1)
    assert np.array_equal(r.assignment >= 0, covered)


def test_mclp_fixed_candidates_and_sparse():
    """Check: mclp fixed candidates and sparse."""
    cost, w = _instance(11)
    best = max(_coverage(cost, w, list(s), 35.0) for s in _sets(8, 3, (4,), [0, 1, 6]))
    dense = optimize.mclp(cost, 3, 35.0, weights=w, fixed=[4], candidates=[0, 1, 6])
    matrix = sp.csr_array(np.where(cost <= 50, cost, 0.0))  # pairs beyond 50 left out
    sparse = optimize.mclp(matrix, 3, 35.0, weights=w, fixed=[4], candidates=[0, 1, 6])
    assert dense.objective == pytest.approx(best) == pytest.approx(sparse.objective)
    assert 4 in dense.facilities and set(dense.facilities) <= {0, 1, 4, 6}


# ---- set covering -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_lscp_matches_enumeration(seed):
    """Check: lscp matches enumeration."""
    cost, w = _instance(seed)
    radius = float(np.sort(cost.min(axis=1))[-1]) + 10  # every row has a site within it
    best = next(
        k
        for k in range(1, 9)
        if any((cost[:, list(s)] <= radius).any(axis=1).all() for s in _sets(8, k))
    )
    r = optimize.lscp(cost, radius, weights=w)
    assert r.objective == best == len(r.facilities)
    assert (cost[:, r.facilities] <= radius).any(axis=1).all()
    assert r.lower_bound <= best


def test_lscp_fixed_and_zero_weight_rows():
    """Check: lscp fixed and zero weight rows."""
    # Row 2 needs column 2 unless its weight is 0; column 0 is fixed and covers rows 0 and 1.
    cost = np.array([[1.0, 2.0, 9.0], [2.0, 1.0, 9.0], [9.0, 9.0, 1.0]])
    r = optimize.lscp(cost, 2.0, fixed=[0], weights=[1, 1, 0])
    assert r.facilities.tolist() == [0] and r.objective == 1.0
    assert r.assignment.tolist() == [0, 0, -1]
    r = optimize.lscp(sp.csr_array(cost), 2.0, fixed=[0])
    assert r.facilities.tolist() == [0, 2]


# ---- capacitated --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_capacitated_matches_enumeration(seed):
    """Check: capacitated matches enumeration."""
    cost, _ = _instance(seed, n=8, m=6)
    rng = np.random.default_rng(seed)
    demand = rng.integers(1, 5, size=8).astype(float)
    capacity = np.full(6, demand.sum() / 2 + 1)
    best = min(_single_source(cost, demand, capacity, list(s)) for s in _sets(6, 3))
    r = optimize.capacitated_p_median(cost, 3, demand, capacity)
    assert r.objective == pytest.approx(best)
    assert r.lower_bound <= best + 1e-6
    load = np.bincount(r.assignment, demand, minlength=6)
    assert (load <= capacity + 1e-9).all()
    assert set(r.assignment) <= set(r.facilities)
    assert r.objective == pytest.approx(cost[np.arange(8), r.assignment].sum())


def test_capacitated_fixed_and_hand_worked():
    """Check: capacitated fixed and hand worked."""
    # Three points at 0, 1, 2 (sites at the same places), each of demand 1; capacity 1 at site
    # 1 and 2 elsewhere. With site 1 fixed and p = 2: {0, 1} serves 0->0, 1->1, 2->0 or 2->1:
    # 2->1 costs 1 (site 1 then holds 2 > 1: not allowed), so 2->0 at cost 2: total 2.
    # {1, 2}: 0->1 is full after 1->1, so 0->2 (2) or 1->2 (1) with 0->1 (1): 1 + 1 + 0 = 2.
    x = np.array([0.0, 1.0, 2.0])
    cost = np.abs(x[:, None] - x[None, :])
    r = optimize.capacitated_p_median(cost, 2, [1, 1, 1], [2, 1, 2], fixed=[1])
    assert r.objective == 2.0 and 1 in r.facilities


# ---- bad input ----------------------------------------------------------------------------


def _raises(match: str, fn, *args, **kwargs) -> None:
    with pytest.raises(ValidationError, match=match):
        fn(*args, **kwargs)


def test_bad_inputs_named():
    """Check: bad inputs named."""
    cost = np.array([[1.0, 2.0], [3.0, 4.0]])
    _raises(r"p=3 is larger than the number of columns", optimize.p_median, cost, 3)
    _raises(
        r"p=1 is smaller than the number of fixed sites \(2\)",
        optimize.p_median,
        cost,
        1,
        fixed=[0, 1],
    )
    _raises(r"weights are all zero", optimize.p_median, cost, 1, weights=[0, 0])
    _raises(
        r"NaN entries at \(row, column\) \[\(1, 0\)\]",
        optimize.p_median,
        np.array([[1.0, 2.0], [np.nan, 4.0]]),
        1,
    )
    _raises(
        r"negative entries at \(row, column\) \[\(0, 1\)\]",
        optimize.mclp,
        np.array([[1.0, -2.0], [3.0, 4.0]]),
        1,
        5.0,
    )
    _raises(
        r"weights has 3 values but cost has 2 rows", optimize.p_median, cost, 1, weights=[1, 1, 1]
    )
    _raises(
        r"candidates holds column ids \[5\] outside 0..1",
        optimize.p_median,
        cost,
        1,
        candidates=[5],
    )
    _raises(
        r"radius=0.5 is met by no candidate: the smallest cost .* is 1", optimize.mclp, cost, 1, 0.5
    )
    _raises(r"demand rows \[1\] have no candidate within radius=2", optimize.lscp, cost, 2.0)
    _raises(r"p must be a whole number >= 1", optimize.p_median, cost, 0)
    _raises(
        r"capacity has 3 values but cost has 2 columns",
        optimize.capacitated_p_median,
        cost,
        1,
        [1, 1],
        [1, 1, 1],
    )
    _raises(
        r"highest possible capacity of p=1 facilities \(3\) is smaller than the total "
        r"demand \(4\)",
        optimize.capacitated_p_median,
        cost,
        1,
        [2, 2],
        [3, 1],
    )


def test_unreachable_row_named():
    """Check: unreachable row named."""
    matrix = sp.csr_array((np.array([1.0, 2.0]), ([0, 0], [0, 1])), shape=(2, 2))
    _raises(
        r"demand rows \[1\] have positive weight but reach no candidate",
        optimize.p_median,
        matrix,
        1,
    )


def test_inputs_not_mutated():
    """Check: inputs not mutated."""
    cost, w = _instance(5)
    before = cost.copy(), w.copy()
    optimize.p_median(cost, 2, weights=w)
    assert np.array_equal(cost, before[0]) and np.array_equal(w, before[1])


@pytest.mark.parametrize("arcs_per_row", [0.0, 1e9], ids=["branch-and-bound", "highs"])
def test_p_median_exact_phases_match_enumeration(monkeypatch, arcs_per_row):
    """Check: p median exact phases match enumeration."""
    # Unrounded costs leave a root gap, so the exact phase runs; the threshold picks which.
    monkeypatch.setattr(_median_search, "MILP_ARCS_PER_ROW", arcs_per_row)
    methods = set()
    for seed in range(6):
        rng = np.random.default_rng(seed)
        cost = rng.random((30, 14)) * 100
        w = rng.random(30) + 0.5
        best = min(_median_cost(cost, w, list(s)) for s in _sets(14, 3))
        r = optimize.p_median(cost, 3, weights=w)
        assert r.objective == pytest.approx(best, rel=1e-9)
        assert r.lower_bound <= best * (1 + 1e-9)
        inst = median_instance(build_problem(cost, weights=w, fixed=None, candidates=None))
        methods.add(_median_search.search(inst, 3, deadline=np.inf, seed=0).method)
    assert ("branch-and-bound" if arcs_per_row == 0.0 else "highs") in methods
