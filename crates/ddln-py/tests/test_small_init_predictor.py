"""The implicit-bias predictor at inits far below what f64 resolves next to the dual box
edge (depth 4, init scale down to 1e-30: the dual variable sits within alpha^2 of an
edge of size alpha^-2, i.e. 60 digits below it). Reference: the same dual Newton method
written here in Python's ``decimal`` at 130 digits, on the closed form of the depth-4
map for the init u^1 = 0, u^2 = u^3 = u^4 = alpha (no ddln code inside):

    F(v) = int_0^v dw / (w^2 + alpha^2)^{3/2} = v / (alpha^2 sqrt(v^2 + alpha^2)),
    so with s = alpha^2 xi:   Psi(xi) = alpha^4 s / (1 - s^2)^2,
    Psi'(xi) = alpha^6 (1 + 3 s^2) / (1 - s^2)^3,   box |xi| < alpha^-2.
"""

from decimal import Decimal, getcontext

import numpy as np
import pytest

import ddln


def _solve(A, b):
    """Gaussian elimination with partial pivoting on lists of Decimals."""
    n = len(b)
    M = [row[:] + [b[i]] for i, row in enumerate(A)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(M[r][c]))
        M[c], M[p] = M[p], M[c]
        for r in range(c + 1, n):
            f = M[r][c] / M[c][c]
            for k in range(c, n + 1):
                M[r][k] -= f * M[c][k]
    x = [Decimal(0)] * n
    for r in reversed(range(n)):
        x[r] = (M[r][n] - sum(M[r][k] * x[k] for k in range(r + 1, n))) / M[r][r]
    return x


def _decimal_limit(X, y, alpha):
    """argmin {Q(theta) : X theta = y} by damped dual Newton (the step stays within 0.99
    of the distance to the box edge, halved until ||y - X theta|| decreases)."""
    getcontext().prec = 130
    n, d = X.shape
    Xd = [[Decimal(float(v)) for v in row] for row in X]
    yd = [Decimal(float(v)) for v in y]
    a2 = Decimal(float(alpha)) ** 2

    def psi(xi):
        s = [a2 * x for x in xi]
        q = [1 - si * si for si in s]
        theta = [a2 * a2 * si / (qi * qi) for si, qi in zip(s, q)]
        slope = [a2 * a2 * a2 * (1 + 3 * si * si) / (qi * qi * qi) for si, qi in zip(s, q)]
        return theta, slope

    def residual(theta):
        return [yd[i] - sum(Xd[i][j] * theta[j] for j in range(d)) for i in range(n)]

    norm = lambda r: sum(v * v for v in r).sqrt()
    nu = [Decimal(0)] * n
    xi = [Decimal(0)] * d
    theta, slope = psi(xi)
    r = residual(theta)
    for _ in range(400):
        if norm(r) <= Decimal("1e-40") * norm(yd):
            return np.array([float(t) for t in theta])
        H = [[sum(Xd[a][j] * slope[j] * Xd[b][j] for j in range(d)) for b in range(n)]
             for a in range(n)]
        step = _solve(H, r)
        dxi = [sum(Xd[a][j] * step[a] for a in range(n)) for j in range(d)]
        edge = 1 / a2
        t = Decimal(1)
        for x, dx in zip(xi, dxi):
            if dx > 0:
                t = min(t, Decimal("0.99") * (edge - x) / dx)
            elif dx < 0:
                t = min(t, Decimal("0.99") * (-edge - x) / dx)
        while True:
            xi_new = [x + t * dx for x, dx in zip(xi, dxi)]
            theta_new, slope_new = psi(xi_new)
            r_new = residual(theta_new)
            if norm(r_new) < norm(r) or t < Decimal("1e-30"):
                break
            t /= 2
        nu = [v + t * s for v, s in zip(nu, step)]
        xi, theta, slope, r = xi_new, theta_new, slope_new, r_new
    raise AssertionError("the decimal Newton did not converge")


@pytest.mark.parametrize("alpha", [1e-6, 1e-12, 1e-30])
def test_depth_four_limit_at_tiny_inits_matches_a_130_digit_computation(alpha):
    rng = np.random.default_rng(5)
    n, d = 4, 9
    X = rng.normal(size=(n, d))
    star = np.zeros(d)
    star[[1, 4]] = [0.8, -0.5]
    y = X @ star
    U0 = np.vstack([np.zeros(d), np.full((3, d), alpha)])
    pred = ddln.implicit_bias(X, y, U0, baselines=False)
    assert pred.status == "Converged", pred.message
    want = _decimal_limit(X, y, alpha)
    assert np.linalg.norm(pred.theta - want) <= 1e-10 * np.linalg.norm(want)
