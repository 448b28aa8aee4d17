"""Gradient flow on X = identity with L = 2 layers against the exact solution.

With X = I the coordinates decouple: theta = u v, and since u^2 - v^2 = Delta is
conserved, u^2 + v^2 = sqrt(4 theta^2 + Delta^2), so

    d theta / dt = -(u^2 + v^2) * 2 (theta - y) = -2 sqrt(4 theta^2 + Delta^2) (theta - y).

With b = Delta / 2 and s = sqrt(y^2 + b^2) this separates into

    t(theta) = [ ln| (y th + b^2 + s sqrt(th^2 + b^2)) / (th - y) | ]_{th0}^{theta} / (4 s),

which is monotone in theta between theta0 and y; we invert it by bisection.
"""

import math

import numpy as np
import pytest

import ddln

# (u0, v0, y): zero first layer (theta0 = 0, as in Figure 4), both layers non-zero,
# theta0 above y, negative target with negative start, small Delta.
CASES = [
    (0.0, 0.5, 1.3),
    (0.4, 0.9, 2.0),
    (1.5, 1.1, 0.3),
    (-0.7, 0.2, -1.1),
    (0.30, 0.31, 0.8),
]


def closed_form_t(theta, theta0, y, b):
    s = math.sqrt(y * y + b * b)

    def antiderivative(th):
        return math.log(abs((y * th + b * b + s * math.sqrt(th * th + b * b)) / (th - y)))

    return (antiderivative(theta) - antiderivative(theta0)) / (4 * s)


def exact_theta(t, theta0, y, b):
    """Inverts closed_form_t by bisection on the segment between theta0 and y."""
    if t == 0.0:
        return theta0
    lo, hi = theta0, y  # t(lo) = 0 < t; t -> infinity as theta -> y
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid == lo or mid == hi:
            break
        if closed_form_t(mid, theta0, y, b) < t:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def test_closed_form_solves_the_ode():
    # Sanity of the reference itself: dt/dtheta = -1 / (4 sqrt(theta^2 + b^2) (theta - y)).
    theta0, y, b = 0.1, 1.3, 0.4
    for th in (0.3, 0.8, 1.2):
        h = 1e-6
        slope = (closed_form_t(th + h, theta0, y, b) - closed_form_t(th - h, theta0, y, b)) / (2 * h)
        expected = -1.0 / (4 * math.sqrt(th * th + b * b) * (th - y))
        assert slope == pytest.approx(expected, rel=1e-7)


def test_flow_matches_exact_solution_identity_l2():
    u0 = np.array([c[0] for c in CASES])
    v0 = np.array([c[1] for c in CASES])
    y = np.array([c[2] for c in CASES])
    d = len(CASES)
    X = np.eye(d)
    U0 = np.stack([u0, v0])
    t_eval = np.linspace(0.0, 3.0, 61)
    run = ddln.gradient_flow(X, y, U0, t_end=3.0, t_eval=t_eval, rtol=1e-12, atol=1e-14)
    assert run.status == "Completed", run.message
    np.testing.assert_array_equal(run.t, t_eval)

    theta0 = u0 * v0
    b = np.abs(u0**2 - v0**2) / 2
    ref = np.array(
        [[exact_theta(t, theta0[i], y[i], b[i]) for i in range(d)] for t in t_eval]
    )
    # 1e-8 relative (the integrator runs at rtol 1e-12; the reference is exact to ~1e-15).
    np.testing.assert_allclose(run.theta, ref, rtol=1e-8, atol=0)
    assert run.stats["max_local_error"] <= 1.0

    # Proposition 1.1 in numpy from the recorded layers: u^2 - v^2 is conserved.
    delta = run.layers[:, 0, :] ** 2 - run.layers[:, 1, :] ** 2
    np.testing.assert_allclose(delta, np.broadcast_to(u0**2 - v0**2, delta.shape), atol=1e-10)
    assert run.diagnostics["conservation"]["max_rel_residual"] < 1e-9

    # theta -> y (X = I, full rank, L* = 0); recorded loss is ||theta - y||^2.
    np.testing.assert_allclose(run.loss, np.sum((run.theta - y) ** 2, axis=1), rtol=1e-12, atol=1e-300)
    assert run.diagnostics["rate"]["l_star"] == pytest.approx(0.0, abs=1e-24)
