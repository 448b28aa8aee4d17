"""Inits where assumption (A) fails (ties of some or all layers) and the literature's
power models through ``ddln.entropy`` and ``ddln.implicit_bias``. References: SciPy's
adaptive quadrature of the tie's integral (also for the optimality conditions of the
predicted limit), and Woodworth et al.'s closed form of the signed two-layer entropy.
(The Rust tests compare the tied predictions with long layer flows.)"""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

import ddln


def _tied_init(depth, m, d, seed, tied=(0, 2)):
    """The coordinates `tied` tie their first m layers at the magnitude of layer 1; the
    other layers there are larger; the remaining coordinates are as drawn."""
    rng = np.random.default_rng(seed)
    U0 = rng.uniform(0.3, 0.9, size=(depth, d)) * rng.choice([-1.0, 1.0], size=(depth, d))
    for i in tied:
        w = abs(U0[0, i])
        U0[1:m, i] = np.sign(U0[1:m, i]) * w
        U0[m:, i] = np.sign(U0[m:, i]) * (w + 0.2 + 0.1 * np.arange(depth - m))
    return U0


def _xi_by_quadrature(layers, theta):
    """grad Q_i(theta) at a tied coordinate: solve s w^m P(w) = theta for w (brentq),
    then xi = s int_{w0}^{w} dw / (w^{m-1} P(w)) (SciPy quad)."""
    mags = np.abs(layers)
    w0 = mags.min()
    m = int(np.sum(mags == w0))
    gaps = mags[mags != w0] ** 2 - w0**2
    s = np.prod(np.sign(layers))
    P = lambda w: np.prod(np.sqrt(w * w + gaps))
    w = brentq(lambda w: w**m * P(w) - abs(theta), 1e-12, 1e3, xtol=1e-15, rtol=1e-15)
    val, _ = quad(lambda v: 1.0 / (v ** (m - 1) * P(v)), w0, w, epsabs=0, epsrel=1e-13)
    return s * val


@pytest.mark.parametrize("depth,m", [(3, 2), (4, 2), (4, 3), (5, 3)])
def test_tied_gradient_matches_quadrature(depth, m):
    d = 4
    U0 = _tied_init(depth, m, d, seed=depth * 10 + m)
    Q = ddln.entropy(U0)
    theta0 = np.prod(U0, axis=0)
    for i in (0, 2):
        for factor in (0.3, 1.0, 2.5):
            theta = theta0.copy()
            theta[i] *= factor
            got = Q.gradient(theta)[i]
            want = _xi_by_quadrature(U0[:, i], theta[i])
            assert got == pytest.approx(want, rel=1e-10, abs=1e-13)
    # theta keeps the sign of the product: the other sign is outside Q's domain.
    wrong = theta0.copy()
    wrong[0] = -wrong[0]
    assert np.isinf(Q.value(wrong)) and np.isnan(Q.gradient(wrong)[0])
    assert Q.value(theta0) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("depth,m", [(3, 2), (4, 3), (5, 2)])
def test_tied_prediction_satisfies_kkt_by_quadrature(depth, m):
    """Every coordinate tied: the predicted limit interpolates and its dual point,
    computed coordinate by coordinate by SciPy quadrature (not by ddln), lies in the
    range of X^T (its component in the null space of X, from numpy's SVD, vanishes)."""
    n, d = 3, 6
    X = np.random.default_rng(3 + depth).normal(size=(n, d))
    U0 = _tied_init(depth, m, d, seed=40 + depth, tied=range(d))
    star = np.sign(np.prod(U0, axis=0)) * np.linspace(0.4, 0.8, d)
    y = X @ star
    pred = ddln.implicit_bias(X, y, U0, baselines=False)
    assert pred.status == "Converged", pred.message
    theta = pred.theta
    assert np.linalg.norm(X @ theta - y) <= 1e-10 * np.linalg.norm(y)
    xi = np.array([_xi_by_quadrature(U0[:, i], theta[i]) for i in range(d)])
    null = np.linalg.svd(X)[2][n:]
    assert np.linalg.norm(null @ xi) <= 1e-9 * np.linalg.norm(xi)


def test_signed_two_layer_entropy_is_woodworths():
    alpha = 0.15
    d = 3
    Q = ddln.entropy(np.full((2, d), alpha), model="signed", power=2)
    assert Q.model == "signed" and Q.depth == 2
    theta = np.array([0.8, -0.05, 1.7])
    beta = 2 * alpha**2
    # Woodworth et al. (2020): Q(theta) = sum beta/4 (s asinh s - sqrt(1 + s^2) + 1), s = theta/beta,
    # with gradient asinh(theta / beta) / 4.
    s = theta / beta
    np.testing.assert_allclose(Q.gradient(theta), np.arcsinh(s) / 4, rtol=1e-13)
    want = np.sum(beta / 4 * (s * np.arcsinh(s) - np.sqrt(1 + s * s) + 1))
    assert Q.value(theta) == pytest.approx(want, rel=1e-12)
