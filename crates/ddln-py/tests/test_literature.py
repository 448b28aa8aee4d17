"""The field's models and algorithms against the field's own formulas, re-written here in
numpy (independent of the Rust core):

* a peer-style GD loop on u ⊙ v with the loss ||X theta - y||^2 / (2n) (the EPFL
  diagonal-network notebooks' setup);
* Woodworth et al. (2020): the limit of gradient flow on u^2 - v^2 from u = v = alpha
  minimizes the hyperbolic entropy; on u^D - v^D the "depth-D" entropy. Both are
  minimized here by a primal Newton method in the null space of X (ddln solves the dual);
* Even et al. (2023): GD's limit is predicted by the effective init of its steps.
"""

import numpy as np
import pytest

import ddln


def epfl_setup(seed=0):
    """n = 20, d = 30, 3-sparse theta*, y = X theta* (the notebooks' sizes)."""
    X, y, theta_star = ddln.data.sparse_recovery(20, 30, 3, seed=seed, return_theta=True)
    return X, y, theta_star


def peer_gd(X, y, u, v, lr, steps):
    """The notebooks' loop: beta = u * v, grad_beta = X^T (X beta - y) / n."""
    n = X.shape[0]
    u, v = u.copy(), v.copy()
    for _ in range(steps):
        g = X.T @ (X @ (u * v) - y) / n
        u, v = u - lr * g * v, v - lr * g * u
    return u, v


def test_mean_half_scaling_reproduces_a_peer_gd_loop():
    X, y, _ = epfl_setup()
    d = X.shape[1]
    u0, v0 = np.full(d, 0.1), np.zeros(d)
    steps, lr = 10_000, 0.03
    u, v = peer_gd(X, y, u0, v0, lr, steps)
    run = ddln.gradient_descent(
        X, y, np.stack([u0, v0]), lr=lr, steps=steps, record_every=steps,
        loss_scaling="mean/2",
    )
    # Roundoff: the two loops order the products differently (1 ulp per step).
    np.testing.assert_allclose(run.final_layers[0], u, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(run.final_layers[1], v, rtol=1e-11, atol=1e-14)
    theta = u * v
    peer_loss = np.sum((X @ theta - y) ** 2) / (2 * X.shape[0])
    assert run.final_loss == pytest.approx(peer_loss, rel=1e-9, abs=1e-18)


def null_space_newton(X, y, value, grad, hess, iters=200):
    """argmin sum_i q(theta_i) s.t. X theta = y: Newton on z in theta = theta_p + N z
    (N an orthonormal basis of the null space of X), with Armijo backtracking on the
    objective (q is strictly convex) far from the minimum and full steps near it (where
    the objective's rounding would stall a line search), until the step is at roundoff."""
    U, s, Vt = np.linalg.svd(X)
    r = int(np.sum(s > 1e-12 * s[0]))
    theta_p = Vt[:r].T @ ((U[:, :r].T @ y) / s[:r])
    N = Vt[r:].T

    def f(z):
        with np.errstate(over="ignore", invalid="ignore"):
            v = np.sum(value(theta_p + N @ z))
        return v if np.isfinite(v) else np.inf

    z = np.zeros(N.shape[1])
    for _ in range(iters):
        theta = theta_p + N @ z
        g = N.T @ grad(theta)
        H = N.T @ (hess(theta)[:, None] * N)
        step = np.linalg.solve(H, g)
        decrement = g @ step
        t, f0 = 1.0, f(z)
        while decrement > 1e-8 and f(z - t * step) > f0 - 1e-4 * t * decrement and t > 1e-20:
            t /= 2
        z = z - t * step
        if np.abs(t * step).max() <= 1e-16 * max(1.0, np.abs(z).max()):
            break
    return theta_p + N @ z


def woodworth_l2(alpha):
    """Woodworth et al.: q(b) = alpha^2 [(b/alpha^2) asinh(b/(2 alpha^2)) - sqrt(4 + b^2/alpha^4) + 2]."""
    a2 = alpha**2
    value = lambda b: b * np.arcsinh(b / (2 * a2)) - np.sqrt(4 * a2**2 + b**2) + 2 * a2
    grad = lambda b: np.arcsinh(b / (2 * a2))
    hess = lambda b: 1.0 / np.sqrt(4 * a2**2 + b**2)
    return value, grad, hess


def woodworth_depth(alpha, D):
    """The depth-D entropy: q'(b) = alpha^{-(D-2)} h_D^{-1}(b / alpha^D), with
    h_D(s) = (1 - D(D-2) s)^{-D/(D-2)} - (1 + D(D-2) s)^{-D/(D-2)} on |s| < 1/(D(D-2)),
    so q(b) = alpha^2 [s b / alpha^D - H_D(s)] at s = h_D^{-1}(b / alpha^D), H_D the
    primitive of h_D: [(1 - c s)^{1-p} + (1 + c s)^{1-p} - 2] / (2D)."""
    c, p = D * (D - 2), D / (D - 2)

    def h(s):
        return (1 - c * s) ** (-p) - (1 + c * s) ** (-p)

    def dh(s):
        return p * c * ((1 - c * s) ** (-p - 1) + (1 + c * s) ** (-p - 1))

    def h_inv(z):
        lo, hi = np.full_like(z, -1 / c), np.full_like(z, 1 / c)
        for _ in range(200):  # bisection to the last bit (h is increasing)
            mid = 0.5 * (lo + hi)
            below = h(mid) < z
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    def value(b):
        s = h_inv(b / alpha**D)
        H = ((1 - c * s) ** (1 - p) + (1 + c * s) ** (1 - p) - 2) / (2 * D)
        return alpha**2 * (s * b / alpha**D - H)

    def grad(b):
        return h_inv(b / alpha**D) / alpha ** (D - 2)

    def hess(b):
        return 1.0 / (alpha ** (D - 2) * alpha**D * dh(h_inv(b / alpha**D)))

    return value, grad, hess


@pytest.fixture(scope="module")
def wide():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((6, 15))
    return X, X @ rng.standard_normal(15)


@pytest.mark.parametrize("alpha", [0.05, 0.3, 1.5])
def test_signed_l2_limit_is_woodworths_hyperbolic_entropy_minimizer(wide, alpha):
    X, y = wide
    d = X.shape[1]
    reference = null_space_newton(X, y, *woodworth_l2(alpha))
    pred = ddln.implicit_bias(X, y, np.full((2, d), alpha), model="signed", power=2)
    assert pred.converged
    err = np.linalg.norm(pred.theta - reference) / np.linalg.norm(reference)
    assert err <= 1e-10, err


@pytest.mark.parametrize("D", [3, 4])
@pytest.mark.parametrize("alpha", [0.2, 0.7])
def test_signed_depth_d_limit_is_woodworths_depth_d_minimizer(wide, D, alpha):
    X, y = wide
    d = X.shape[1]
    reference = null_space_newton(X, y, *woodworth_depth(alpha, D))
    pred = ddln.implicit_bias(X, y, np.full((2, d), alpha), model="signed", power=D)
    assert pred.converged
    err = np.linalg.norm(pred.theta - reference) / np.linalg.norm(reference)
    assert err <= 1e-8, err
    # From u = v the dual box is uniform: the alpha -> 0 limit is basis pursuit.
    np.testing.assert_allclose(pred.small_init_limit, pred.min_l1, atol=1e-9)
    assert pred.baselines["small_init_limit"]["weights_plus"] == pytest.approx(np.ones(d))


def test_gd_limit_from_the_effective_init():
    """GD at step 1/30 (mean/2) from u = 0.1, v = 0, run to convergence: the limit
    predicted from the effective init is within 1e-5 of the last iterate; the table's
    effective init re-computed here from the iterates' conserved quantity
    |u^2 - v^2| (its value at the end is beta_inf, up to the rounding of the steps)."""
    X, y, _ = epfl_setup()
    d = X.shape[1]
    init = np.stack([np.full(d, 0.1), np.zeros(d)])
    run = ddln.gradient_descent(
        X, y, init, lr=1 / 30, steps=200_000, record_every=10_000, loss_tol=1e-24,
        loss_scaling="mean/2",
    )
    bias = run.implicit_bias
    assert bias["applies"]
    assert np.linalg.norm(bias["theta_predicted"] - run.final_theta) <= 1e-5
    u, v = run.final_layers
    np.testing.assert_allclose(bias["effective_init"], np.sqrt(np.abs(u**2 - v**2)), rtol=1e-9)
    assert bias["distance_to_final"] == pytest.approx(
        np.linalg.norm(bias["theta_predicted"] - run.final_theta), rel=1e-12
    )
    # Gradient flow from the same init ends elsewhere: the bias of the steps.
    assert bias["flow_limit_to_final"] > 100 * bias["distance_to_final"]
    flow = ddln.implicit_bias(X, y, init, baselines=False)
    assert np.linalg.norm(flow.theta - bias["flow_limit"]) <= 1e-10


@pytest.mark.parametrize("name,power", [("uv", None), ("woodworth", None), ("power", 3)])
def test_presets_are_the_literature_models(name, power):
    """Each preset's init and model against the paper it names: theta(0) = 0 and the
    rows u, v as printed there; a GD run of the preset equals the numpy loop of that
    model (u ⊙ v: the notebooks' loop; u^N - v^N: its gradient N u^{N-1} g, -N v^{N-1} g)."""
    X, y, _ = epfl_setup()
    d, alpha = X.shape[1], 0.2
    p = ddln.init.preset(name, d, alpha=alpha, power=power)
    u, v = p["init"]
    if name == "uv":
        assert p["model"] == "deep" and np.all(u == alpha) and np.all(v == 0)
    else:
        assert p["model"] == "signed" and np.all(u == alpha) and np.all(v == alpha)
    N = p["power"] or 2
    n, lr, steps = X.shape[0], 0.02, 2000
    run = ddln.gradient_descent(X, y, lr=lr, steps=steps, record_every=steps,
                                loss_scaling="mean/2", **p)
    for _ in range(steps):
        theta = u * v if name == "uv" else u**N - v**N
        g = X.T @ (X @ theta - y) / n
        if name == "uv":
            u, v = u - lr * g * v, v - lr * g * u
        else:
            u, v = u - lr * N * u ** (N - 1) * g, v + lr * N * v ** (N - 1) * g
    np.testing.assert_allclose(run.final_layers, np.stack([u, v]), rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="unknown preset"):
        ddln.init.preset("hadamard", d)


@pytest.mark.parametrize("shape", [1.0, 2.5])
def test_azulay_two_branch_model_is_the_signed_model_at_half_step(shape):
    """Azulay et al.'s theta = u+ v+ - u- v- from u± = alpha s, v± = alpha / s, by GD in
    numpy on its four vectors, against ddln's preset (the signed model) at step lr / 2:
    the same theta iterates to roundoff."""
    X, y, _ = epfl_setup()
    d, alpha, lr, steps, n = X.shape[1], 0.3, 0.04, 3000, X.shape[0]
    up, vp, um, vm = (np.full(d, alpha * shape), np.full(d, alpha / shape),
                      np.full(d, alpha * shape), np.full(d, alpha / shape))
    for _ in range(steps):
        g = X.T @ (X @ (up * vp - um * vm) - y) / n
        up, vp, um, vm = up - lr * g * vp, vp - lr * g * up, um + lr * g * vm, vm + lr * g * um
    p = ddln.init.preset("azulay", d, alpha=alpha, shape=shape)
    run = ddln.gradient_descent(X, y, lr=lr / 2, steps=steps, record_every=steps,
                                loss_scaling="mean/2", **p)
    np.testing.assert_allclose(run.final_theta, up * vp - um * vm, rtol=1e-10, atol=1e-14)


def test_preset_default_alpha_is_the_core_default():
    import inspect
    import json

    core = json.loads(ddln._ddln._core_defaults())
    default = inspect.signature(ddln.init.preset).parameters["alpha"].default
    assert default == core["preset_alpha"]


def test_heavy_ball_reports_its_momentum_flow_limit():
    """Full-batch heavy ball: run.momentum_bias carries lambda, lambda_eff (the formulas
    re-evaluated here) and where the lambda_eff momentum flow ends; the distance it
    reports is numpy's norm of the difference to the last iterate, and the prediction is
    much nearer the converged run than gradient flow's limit (the Rust tests measure its
    first order in gamma)."""
    X, y, _ = epfl_setup()
    d = X.shape[1]
    gamma, beta = 0.05, 0.5
    steps = int(20_000 * (1 - beta) / gamma)
    run = ddln.gradient_descent(
        X, y, np.stack([np.full(d, 0.1), np.zeros(d)]), lr=gamma, momentum=beta,
        steps=steps, record_every=steps, loss_tol=1e-20, loss_scaling="mean/2",
    )
    table = run.momentum_bias
    assert table["applies"], table
    assert table["lambda"] == pytest.approx(gamma / (1 - beta) ** 2, rel=1e-14)
    assert table["lambda_eff"] == pytest.approx((1 + beta) * gamma / (2 * (1 - beta) ** 2), rel=1e-14)
    gap = np.linalg.norm(table["theta_predicted"] - run.final_theta)
    assert table["distance_to_final"] == pytest.approx(gap, rel=1e-12)
    assert gap < 0.1 * table["flow_limit_to_final"]
    plain = ddln.gradient_descent(X, y, np.stack([np.full(d, 0.1), np.zeros(d)]), lr=0.01, steps=5)
    assert plain.momentum_bias is None
