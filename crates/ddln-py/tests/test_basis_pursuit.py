"""The min-L1 baseline (homotopy with certificate, LP fallback) against SciPy's HiGHS:
objective to 1e-9 relative and the same support on random problems with n < d, and the
objective on degenerate ones (duplicate columns: the minimizer is not unique)."""

import numpy as np
import pytest
from scipy.optimize import linprog

import ddln


def highs_l1(X, y):
    d = X.shape[1]
    res = linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None), method="highs")
    assert res.status == 0
    return res.x[:d] - res.x[d:], res.fun


def support(theta):
    return set(np.flatnonzero(np.abs(theta) > 1e-6 * np.abs(theta).max()))


@pytest.mark.parametrize("n,d,k,seed", [(20, 60, 3, 0), (50, 300, 8, 1), (100, 1000, 10, 2), (30, 80, 25, 3)])
def test_min_l1_matches_highs(n, d, k, seed):
    X, y = ddln.data.sparse_recovery(n, d, k, seed=seed)
    U0 = np.stack([np.full(d, 0.1), np.zeros(d)])
    l1 = ddln.implicit_bias(X, y, U0).baselines["min_l1"]
    theta, fun = highs_l1(X, y)
    assert abs(l1["objective"] - fun) <= 1e-9 * fun
    assert support(l1["theta"]) == support(theta)
    cert = l1["certificate"]
    assert cert["dual_violation"] <= 1e-9 and cert["duality_gap"] <= 1e-9


def test_duplicate_columns_objective_and_certificate():
    X, y = ddln.data.sparse_recovery(10, 20, 2, seed=4)
    X = np.hstack([X, X[:, :5]])
    d = X.shape[1]
    U0 = np.stack([np.full(d, 0.1), np.zeros(d)])
    l1 = ddln.implicit_bias(X, y, U0).baselines["min_l1"]
    _, fun = highs_l1(X, y)
    assert abs(l1["objective"] - fun) <= 1e-7 * fun
    assert l1["certificate"]["duality_gap"] <= 1e-6
