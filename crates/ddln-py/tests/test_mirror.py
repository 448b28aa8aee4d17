"""The mirror map from Python (core ``ddln::mirror``): the entropy Q against numpy finite
differences and the L = 2 closed form, the implicit-bias predictor against a long
gradient-flow run and against numpy's baselines, the reduced integration mode against
the layer system, the mirror check, the rich-to-kernel sweep, and bad inputs."""

import json

import numpy as np
import pytest

import ddln
from conftest import fd_gradient


def _init(depth, d, scale, zero_first, seed):
    return ddln.init.scaled(depth=depth, d=d, scale=scale, zero_first=zero_first, seed=seed)


# --- the entropy Q ---------------------------------------------------------------------


@pytest.mark.parametrize("depth,zero_first", [(2, False), (3, True), (4, False), (6, True)])
def test_gradient_is_the_derivative_of_the_value(depth, zero_first):
    d = 5
    Q = ddln.entropy(_init(depth, d, 0.7, zero_first, seed=10 + depth))
    theta = np.random.default_rng(depth).normal(scale=0.8, size=d)
    # Reference: numpy central differences of Q.value, step 1e-6 (truncation ~ h^2 Q''',
    # rounding ~ eps |Q| / h ~ 1e-10).
    fd = fd_gradient(Q.value, theta, h=1e-6)
    np.testing.assert_allclose(Q.gradient(theta), fd, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("depth", [2, 3, 5])
def test_hessian_diag_is_the_derivative_of_the_gradient(depth):
    d = 5
    Q = ddln.entropy(_init(depth, d, 0.6, False, seed=20 + depth))
    theta = np.random.default_rng(30 + depth).normal(scale=0.8, size=d)
    # Reference: d/dtheta_i of Q.gradient(theta)_i by central differences (numpy); the
    # off-diagonal derivatives vanish (Q is separable).
    h = 1e-6
    jac = np.empty((d, d))
    for i in range(d):
        e = np.zeros(d)
        e[i] = h * max(1.0, abs(theta[i]))
        jac[:, i] = (Q.gradient(theta + e) - Q.gradient(theta - e)) / (2 * e[i])
    np.testing.assert_allclose(Q.hessian_diag(theta), np.diag(jac), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jac - np.diag(np.diag(jac)), 0.0, atol=1e-12)


def test_two_layer_gradient_is_the_closed_form():
    # Both layers non-zero, mixed signs, |u0| > |v0| and |u0| < |v0| both present.
    rng = np.random.default_rng(5)
    d = 8
    U0 = rng.normal(size=(2, d))
    u0, v0 = U0
    Q = ddln.entropy(U0)
    theta = rng.normal(scale=2.0, size=d)
    # Reference (paper appendix A.1, derived independently: with u^2 - v^2 = ±D conserved,
    # u, v = sqrt(D) (cosh s, sinh s) and xi = s - s0):
    # grad Q_i(theta) = (asinh(2 theta / D) - log|(u0 + v0) / (u0 - v0)|) / 2.
    D = np.abs(u0**2 - v0**2)
    closed = 0.5 * (np.arcsinh(2 * theta / D) - np.log(np.abs((u0 + v0) / (u0 - v0))))
    np.testing.assert_allclose(Q.gradient(theta), closed, rtol=1e-11, atol=1e-12)
    # grad Q vanishes at the init's theta = u0 v0 and Q does too.
    np.testing.assert_allclose(Q.gradient(u0 * v0), 0.0, atol=1e-12)
    assert abs(Q.value(u0 * v0)) < 1e-12
    # The dual box is the whole line for L = 2.
    assert Q.dual_box.shape == (d, 2) and np.all(np.isinf(Q.dual_box))


def test_psi_inverts_the_gradient_and_batches():
    depth, d = 4, 6
    U0 = _init(depth, d, 0.5, True, seed=3)
    Q = ddln.entropy(U0)
    assert (Q.depth, Q.dim) == (depth, d) and repr(Q) == 'Entropy(model="deep", depth=4, dim=6)'
    assert Q.quadrature_error_estimate < 1e-12
    thetas = np.random.default_rng(1).normal(size=(7, d))
    xi = Q.gradient(thetas)
    assert xi.shape == (7, d)
    # Psi = (grad Q)^{-1}: a round trip through the core's two independent paths
    # (phi^{-1} then F; F^{-1} then phi).
    np.testing.assert_allclose(Q.psi(xi), thetas, rtol=1e-10, atol=1e-12)
    # A batch is the rows one by one.
    np.testing.assert_array_equal(Q.value(thetas), [Q.value(t) for t in thetas])
    np.testing.assert_array_equal(Q.hessian_diag(thetas)[2], Q.hessian_diag(thetas[2]))
    assert isinstance(Q.value(thetas[0]), float) and Q.value(thetas).shape == (7,)
    # L >= 3: the box is bounded, grad Q lies inside, psi is NaN outside.
    box = Q.dual_box
    assert np.all(np.isfinite(box)) and np.all(box[:, 0] < 0) and np.all(box[:, 1] > 0)
    assert np.all((xi > box[:, 0]) & (xi < box[:, 1]))
    outside = box[:, 1] + 1.0
    assert np.all(np.isnan(Q.psi(outside)))
    # Q'' = 1/M > 0 and Q is zero at the init's theta.
    assert np.all(Q.hessian_diag(thetas) > 0)
    assert abs(Q.value(np.prod(U0, axis=0))) < 1e-14


# --- the implicit-bias predictor ------------------------------------------------------


@pytest.fixture(scope="module")
def underdetermined():
    """n = 5 < d = 10, L = 3, mixed signs, non-zero first layer."""
    X, y = ddln.data.gaussian(5, 10, seed=0)
    U0 = _init(3, 10, 1.0, False, seed=1)
    return X, y, U0


def test_implicit_bias_is_where_gradient_flow_ends(underdetermined):
    X, y, U0 = underdetermined
    pred = ddln.implicit_bias(X, y, U0)
    assert pred.status == "Converged" and pred.converged, pred.message
    assert pred.theta.shape == (10,) and pred.nu.shape == (5,)
    # Reference: gradient flow of the layer system simulated to convergence
    # (L(theta) = ||X theta - y||^2 <= 1e-20, i.e. residual 1e-10).
    run = ddln.gradient_flow(X, y, U0, t_end=1e4, rtol=1e-12, atol=1e-14, loss_tol=1e-20)
    assert run.status == "Converged"
    rel = np.linalg.norm(run.final_theta - pred.theta) / np.linalg.norm(pred.theta)
    print(f"implicit_bias vs gradient flow: relative distance {rel:.2e}")
    assert rel < 1e-6
    # Interpolation, recomputed in numpy.
    assert np.linalg.norm(X @ pred.theta - y) == pytest.approx(pred.residual, rel=1e-6, abs=1e-15)
    assert pred.residual < 1e-10 * np.linalg.norm(y)
    # Optimality (KKT), checked in numpy: grad Q(theta_inf) = X^T nu lies in range(X^T).
    Q = ddln.entropy(U0)
    np.testing.assert_allclose(Q.gradient(pred.theta), X.T @ pred.nu, rtol=1e-9, atol=1e-11)
    assert pred.entropy_value == pytest.approx(Q.value(pred.theta), rel=1e-14)
    # theta_inf minimizes Q over the interpolators: Q is larger at other feasible points
    # theta_inf + N z (N: a basis of ker X from numpy's SVD).
    N = np.linalg.svd(X)[2][5:].T
    rng = np.random.default_rng(2)
    for _ in range(5):
        other = pred.theta + N @ rng.normal(scale=0.3, size=5)
        assert Q.value(other) > pred.entropy_value
    assert "Prediction(status=\"Converged\"" in repr(pred)


def test_baselines_against_numpy(underdetermined):
    X, y, U0 = underdetermined
    pred = ddln.implicit_bias(X, y, U0)
    # min-L2: numpy's pseudo-inverse.
    np.testing.assert_allclose(pred.min_l2, np.linalg.pinv(X) @ y, rtol=1e-10, atol=1e-12)
    # min-L1: feasible, and no larger in L1 norm than the min-L2 interpolator, theta_inf,
    # the small-init limit and random feasible points theta_L2 + N z (numpy's SVD).
    l1 = pred.min_l1
    assert np.linalg.norm(X @ l1 - y) < 1e-7 * np.linalg.norm(y)
    N = np.linalg.svd(X)[2][5:].T
    rng = np.random.default_rng(3)
    others = [pred.min_l2, pred.theta, pred.small_init_limit]
    others += [pred.min_l2 + N @ rng.normal(size=5) for _ in range(20)]
    for other in others:
        assert np.abs(l1).sum() <= np.abs(other).sum() + 1e-7
    b = pred.baselines
    assert set(b) == {"min_l1", "min_l2", "small_init_limit"}
    assert b["min_l1"]["status"] == "Solved" and b["min_l2"]["status"] == "Solved"
    assert b["min_l1"]["objective"] == pytest.approx(np.abs(l1).sum(), rel=1e-12)
    assert b["min_l2"]["objective"] == pytest.approx(np.linalg.norm(pred.min_l2), rel=1e-12)
    lim = b["small_init_limit"]
    assert lim["weights_plus"].shape == (10,) and lim["weights_minus"].shape == (10,)
    # Normalized to mean 1 over the 2d weights.
    assert np.mean(np.concatenate([lim["weights_plus"], lim["weights_minus"]])) == pytest.approx(1.0)
    assert lim["theta"] is pred.small_init_limit
    # baselines=False skips them.
    bare = ddln.implicit_bias(X, y, U0, baselines=False)
    assert bare.min_l1 is None and bare.baselines is None
    np.testing.assert_array_equal(bare.theta, pred.theta)


def test_small_init_approaches_min_l1_for_equal_magnitudes():
    # Equal-magnitude init shape (constant): the small-init limit is the min-L1
    # interpolator (weights all 1), and theta_inf(alpha) gets closer to it as alpha -> 0.
    X, y = ddln.data.sparse_recovery(n=10, d=20, k=2, seed=4)
    shape = ddln.init.scaled(3, 20, 1.0, zero_first=True, shape="constant")
    dists = []
    for alpha in (1.0, 0.1, 0.02):
        pred = ddln.implicit_bias(X, y, alpha * shape)
        assert pred.status == "Converged", pred.message
        dists.append(np.linalg.norm(pred.theta - pred.min_l1))
    np.testing.assert_allclose(pred.baselines["small_init_limit"]["weights_plus"], 1.0, rtol=1e-12)
    assert dists[0] > dists[1] > dists[2]
    assert dists[2] < 1e-2 * np.linalg.norm(pred.min_l1)


def test_not_in_range_is_a_status():
    # n = 8 > d = 4 with a generic y: no interpolator exists.
    X, y = ddln.data.gaussian(8, 4, seed=1)
    pred = ddln.implicit_bias(X, y, _init(3, 4, 0.5, True, seed=2))
    assert pred.status == "NotInRange" and not pred.converged
    assert "not in the range of X" in pred.message
    assert pred.baselines["min_l2"]["status"] == "Infeasible"
    assert pred.baselines["min_l1"]["status"] == "Infeasible"
    # The least-squares fit is still where min-L2 lands (numpy's lstsq; full column rank).
    np.testing.assert_allclose(pred.min_l2, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-10)


def test_implicit_bias_defaults_are_the_core_defaults():
    import inspect

    core = json.loads(ddln._ddln._core_defaults())
    for f in (ddln.implicit_bias, ddln.mirror_check, ddln.rich_to_kernel_sweep):
        params = inspect.signature(f).parameters
        for name, value in core["predict"].items():
            assert params[name].default == value, (f.__name__, name)
            assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
    for f in (ddln.implicit_bias, ddln.rich_to_kernel_sweep):
        params = inspect.signature(f).parameters
        assert params["lp_tol"].default == core["lp"]["tol"]
        assert params["lp_max_iter"].default == core["lp"]["max_iter"]
    flow = inspect.signature(ddln.gradient_flow).parameters
    assert flow["dynamics"].default == "auto" and flow["mirror_check"].default is False


# --- reduced dynamics and the mirror check --------------------------------------------


def test_reduced_flow_equals_the_layer_flow():
    X, y = ddln.data.gaussian(6, 9, seed=7)
    U0 = _init(4, 9, 0.8, True, seed=8)
    kw = dict(t_end=10.0, rtol=1e-12, atol=1e-14, n_record=51, track_xi=True)
    layer = ddln.gradient_flow(X, y, U0, dynamics="layers", integrator="dopri5", **kw)
    red = ddln.gradient_flow(X, y, U0, dynamics="reduced", integrator="dopri5", **kw)
    assert red.dynamics == "reduced" and layer.dynamics == "layers"
    # The default (dynamics="auto", integrator="auto") picks the reduced dynamics here and
    # says why; the layer ODE at rtol 1e-12 is the reference for it too.
    auto = ddln.gradient_flow(X, y, U0, **kw)
    assert auto.dynamics == "reduced" and "assumption (A)" in auto.solver["dynamics_reason"]
    assert auto.solver["integrator"] == "auto" and auto.solver["methods"][0] == "dopri5"
    np.testing.assert_allclose(auto.layers, layer.layers, rtol=1e-8, atol=1e-10)
    assert red.status == layer.status == "Completed"
    np.testing.assert_array_equal(red.t, layer.t)
    for name in ("layers", "theta", "xi", "loss"):
        a, b = getattr(red, name), getattr(layer, name)
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=name)
    # Same diagnostics; conservation holds by construction in the reduced variables.
    assert set(red.diagnostics) == set(layer.diagnostics)
    assert red.diagnostics["conservation"]["max_rel_residual"] < 1e-12
    assert red.diagnostics["rate"]["holds"]


def test_mirror_check(underdetermined):
    X, y, U0 = underdetermined
    run = ddln.gradient_flow(X, y, U0, t_end=1e4, rtol=1e-12, atol=1e-14, loss_tol=1e-20,
                             mirror_check=True)
    mc = run.mirror_check
    assert run.xi is not None  # mirror_check implies track_xi
    # Theorem 1 along the recorded trajectory: grad Q(theta(t)) = xi(t).
    assert mc["max_abs_residual"] < 1e-9 and mc["max_rel_residual"] < 1e-9
    assert mc["times_checked"] == len(run.t)
    # Recomputed in numpy from the run's arrays and the bound entropy.
    Q = ddln.entropy(U0)
    assert np.abs(Q.gradient(run.theta) - run.xi).max() == pytest.approx(mc["max_abs_residual"], rel=1e-12)
    theta_inf = ddln.implicit_bias(X, y, U0, baselines=False).theta
    rel = np.linalg.norm(run.final_theta - theta_inf) / np.linalg.norm(theta_inf)
    assert mc["relative_distance_to_prediction"] == pytest.approx(rel, rel=1e-9)
    assert mc["prediction"].status == "Converged"
    # The function form gives the same numbers on a stored run.
    again = ddln.mirror_check(X, y, U0, run)
    assert again["max_abs_residual"] == mc["max_abs_residual"]
    # Without a mirror check the attribute is None.
    assert ddln.gradient_flow(X, y, U0, t_end=1.0).mirror_check is None


def test_rich_to_kernel_sweep():
    X, y = ddln.data.sparse_recovery(n=10, d=20, k=2, seed=6)
    depths, scales = [2, 3], np.array([0.05, 1.0, 3.0])
    sw = ddln.rich_to_kernel_sweep(X, y, depths, scales, zero_first=True, seed=9)
    assert sw["dist_l1"].shape == sw["dist_l2"].shape == (2, 3)
    assert sw["status"].shape == (2, 3) and np.all(sw["status"] == "Converged")
    np.testing.assert_array_equal(sw["depths"], depths)
    np.testing.assert_array_equal(sw["scales"], scales)
    assert sw["iterations"].dtype.kind == "i"
    np.testing.assert_allclose(sw["min_l2"], np.linalg.pinv(X) @ y, rtol=1e-10, atol=1e-12)
    # Each point is the predictor at alpha * (the recipe's draw at scale 1), distance in numpy.
    for a, depth in enumerate(depths):
        unit = ddln.init.scaled(depth, 20, 1.0, zero_first=True, seed=9)
        for b, alpha in enumerate(scales):
            theta = ddln.implicit_bias(X, y, alpha * unit, baselines=False).theta
            assert sw["dist_l1"][a, b] == pytest.approx(np.linalg.norm(theta - sw["min_l1"]), rel=1e-12)
            assert sw["dist_l2"][a, b] == pytest.approx(np.linalg.norm(theta - sw["min_l2"]), rel=1e-12)
        # The rich regime: the small init ends nearer the min-L1 interpolator.
        assert sw["dist_l1"][a, 0] < sw["dist_l1"][a, 2]


# --- bad input ------------------------------------------------------------------------


def test_tie_in_the_init_names_the_coordinates():
    U0 = _init(3, 6, 0.5, True, seed=1)
    U0[1, 2] = 0.0  # coordinate 2: layers 1 and 2 both zero
    U0[2, 4] = 0.0  # coordinate 4: layers 1 and 3 both zero
    X, y = ddln.data.gaussian(3, 6, seed=0)
    for call in (lambda: ddln.gradient_flow(X, y, U0, dynamics="reduced"),
                 lambda: ddln.gradient_flow(X, y, U0, mirror_check=True)):
        with pytest.raises(ddln.DdlnError, match=r"assumption \(A\) fails at coordinates \[2, 4\]"):
            call()
    # The mirror map exists at a tie of nonzero layers, not at a tie at 0 (theta stays 0).
    for call in (lambda: ddln.entropy(U0), lambda: ddln.implicit_bias(X, y, U0)):
        with pytest.raises(ddln.DdlnError, match=r"coordinate 2 has several layers tied at \|u\| = 0"):
            call()


def test_other_bad_inputs():
    X, y = ddln.data.gaussian(3, 6, seed=0)
    U0 = _init(3, 6, 0.5, True, seed=1)
    Q = ddln.entropy(U0)
    with pytest.raises(ddln.DdlnError, match="theta"):
        Q.value(np.zeros(5))
    with pytest.raises(ddln.DdlnError, match="xi"):
        Q.psi(np.zeros((2, 3, 6)))
    with pytest.raises(ddln.DdlnError, match="init"):
        ddln.entropy(np.zeros(6))
    with pytest.raises(TypeError):
        Q.gradient(["a"] * 6)
    with pytest.raises(ddln.DdlnError, match="init"):
        ddln.implicit_bias(X, y, U0[:, :5])
    with pytest.raises(ddln.DdlnError, match="boundary_fraction"):
        ddln.implicit_bias(X, y, U0, boundary_fraction=1.5)
    with pytest.raises(ddln.DdlnError, match="lp_tol"):
        ddln.implicit_bias(X, y, U0, lp_tol=0.0)
    with pytest.raises(ddln.DdlnError, match="dynamics.*model='deep'"):
        ddln.gradient_flow(X, y, np.ones((1, 6)), model="redundant", power=2, dynamics="reduced")
    # The mirror check needs xi(t) and a flow run.
    run = ddln.gradient_flow(X, y, U0, t_end=1.0)
    with pytest.raises(ddln.DdlnError, match="track_xi"):
        ddln.mirror_check(X, y, U0, run)
    gd = ddln.gradient_descent(X, y, U0, steps=5)
    with pytest.raises(ddln.DdlnError, match="gradient_flow run"):
        ddln.mirror_check(X, y, U0, gd)
    with pytest.raises(ddln.DdlnError, match="scales"):
        ddln.rich_to_kernel_sweep(X, y, [3], [0.1, -1.0])
