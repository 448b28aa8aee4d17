"""Every public function called once; shapes, dtypes and layouts; seeded recipes;
defaults agree with the Rust core's."""

import inspect
import json

import numpy as np
import pytest

import ddln
from conftest import loss_of, theta_of


def test_public_surface():
    assert set(ddln.__all__) == {
        "DdlnError", "Run", "__version__", "data", "gradient_descent", "gradient_flow", "init",
        "Entropy", "Prediction", "entropy", "implicit_bias", "mirror_check",
        "rich_to_kernel_sweep", "saddles", "sweep", "Status", "PredictStatus", "BaselineStatus", "Integrator",
        "Dynamics", "TimeUnit",
    }
    assert all(hasattr(ddln, name) for name in ddln.__all__)
    assert ddln.__version__.count(".") == 2
    for f in (ddln.gradient_flow, ddln.gradient_descent, ddln.data.gaussian,
              ddln.data.sparse_recovery, ddln.init.scaled, ddln.Run, ddln.implicit_bias,
              ddln.entropy, ddln.mirror_check, ddln.rich_to_kernel_sweep, ddln.Prediction,
              ddln.Entropy):
        assert f.__doc__ and len(f.__doc__) > 200, f
    assert "exp(-2 sigma mu t)" in ddln.gradient_flow.__doc__
    assert "Return False to stop" in ddln.gradient_flow.__doc__
    assert "argmin { Q(theta) : X theta = y }" in ddln.implicit_bias.__doc__
    for method in ("value", "gradient", "hessian_diag", "psi"):
        assert getattr(ddln.Entropy, method).__doc__, method


def test_python_defaults_are_the_core_defaults():
    core = json.loads(ddln._ddln._core_defaults())
    flow = inspect.signature(ddln.gradient_flow).parameters
    # Every core flow setting is a keyword of the same name with the core's default.
    for name, value in core["flow"].items():
        assert flow[name].default == value, name
        assert flow[name].kind is inspect.Parameter.KEYWORD_ONLY, name
    descent = inspect.signature(ddln.gradient_descent).parameters
    for name in ("lr", "steps", "momentum", "batch_size", "seed", "record_every",
                 "loss_tol", "grad_tol"):
        assert descent[name].default == core["descent"][name], name
    assert core["descent"]["schedule"] == {"kind": "constant"}
    for p in (flow, descent):
        assert p["rate_rtol"].default == core["rate_check"]["rtol"]
        assert p["rate_atol_rel"].default == core["rate_check"]["atol_rel"]


def test_data_recipes():
    X, y = ddln.data.gaussian(10, 8, seed=5)
    assert X.shape == (10, 8) and y.shape == (10,) and X.dtype == np.float64
    X2, _ = ddln.data.gaussian(10, 8, seed=5)
    np.testing.assert_array_equal(X, X2)
    assert not np.array_equal(X, ddln.data.gaussian(10, 8, seed=6)[0])
    # Standard normal entries: mean ~ 0, std ~ 1 on 40 000 draws (5 sigma bounds).
    Z, _ = ddln.data.gaussian(200, 200, seed=0)
    assert abs(Z.mean()) < 5 / 200 and abs(Z.std() - 1) < 5 * np.sqrt(0.5) / 200

    X, y = ddln.data.sparse_recovery(n=40, d=100, k=5, seed=0)
    X3, y3, theta = ddln.data.sparse_recovery(n=40, d=100, k=5, seed=0, return_theta=True)
    np.testing.assert_array_equal(X, X3)
    np.testing.assert_array_equal(y, y3)
    assert np.count_nonzero(theta) == 5 and set(np.abs(theta[theta != 0])) == {1.0}
    np.testing.assert_allclose(y, X @ theta, rtol=1e-14, atol=1e-14)  # y = X theta*


def test_init_recipe():
    U0 = ddln.init.scaled(depth=4, d=100, scale=0.1, zero_first=True, seed=1)
    assert U0.shape == (4, 100)
    assert np.all(U0[0] == 0) and np.all(U0[1:] != 0)
    np.testing.assert_array_equal(U0, ddln.init.scaled(4, 100, 0.1, True, seed=1))
    # zero_first only zeroes the first layer of the same draw; scale multiplies it.
    U1 = ddln.init.scaled(depth=4, d=100, scale=0.2, zero_first=False, seed=1)
    np.testing.assert_allclose(U1[1:], 2 * U0[1:], rtol=1e-15)
    C = ddln.init.scaled(depth=3, d=5, scale=0.5, shape="constant")
    np.testing.assert_array_equal(C, np.full((3, 5), 0.5))
    U = ddln.init.scaled(depth=3, d=1000, scale=1.0, shape="uniform", low=2.0, high=3.0)
    assert U.min() >= 2.0 and U.max() < 3.0


def test_gradient_flow_run_object(small):
    X, y, U0 = small
    t_eval = np.linspace(0, 20, 41)
    run = ddln.gradient_flow(X, y, U0, t_end=20.0, t_eval=t_eval, track_xi=True)
    n_t, (L, d) = len(t_eval), U0.shape
    assert run.status == "Completed" and run.success and run.method == "flow"
    assert run.t.shape == (n_t,) and run.theta.shape == (n_t, d)
    assert run.layers.shape == (n_t, L, d) and run.loss.shape == (n_t,)
    assert run.xi.shape == (n_t, d)
    assert run.final_theta.shape == (d,) and run.final_layers.shape == (L, d)
    assert run.t_final == 20.0 and "reached t_end" in run.message
    # Every counter of the core's RunStats, none dropped.
    assert set(run.stats) == {"grad_evals", "steps", "rejected_steps", "max_local_error",
                              "jacobian_evals", "factorizations", "linear_solves", "stiff_from"}
    assert "Run(method=\"flow\", status=\"Completed\"" in repr(run)
    # Internal consistency, recomputed in numpy from the recorded layers.
    np.testing.assert_allclose(run.theta, np.prod(run.layers, axis=1), rtol=1e-14)
    np.testing.assert_allclose(run.loss, [loss_of(X, y, th) for th in run.theta], rtol=1e-12)
    np.testing.assert_array_equal(run.final_layers, run.layers[-1])
    assert run.final_loss == pytest.approx(run.loss[-1], rel=1e-14)
    # xi(t) = -int_0^t grad L(theta(s)) ds against the trapezoid rule on a fine grid
    # (step 0.5: the trapezoid error is ~ h^2/12 |xi'''| t, well under 1e-2 here).
    fine = ddln.gradient_flow(X, y, U0, t_end=20.0, n_record=4001)
    grads = np.array([2 * X.T @ (X @ th - y) for th in fine.theta])
    xi_ref = -np.concatenate([[np.zeros(d)], np.cumsum(
        0.5 * (grads[1:] + grads[:-1]) * np.diff(fine.t)[:, None], axis=0)])
    np.testing.assert_allclose(run.xi, xi_ref[::100], rtol=0, atol=1e-4 * np.abs(xi_ref).max())

    diag = run.diagnostics
    assert set(diag) == {"assumption_a", "conservation", "sign_changes", "rate", "warnings"}
    assert diag["assumption_a"]["holds"] and diag["assumption_a"]["minimal_layer"] == [0] * d
    assert diag["conservation"]["max_rel_residual"] < 1e-9
    assert diag["sign_changes"]["agrees_with_proposition"]
    rate = diag["rate"]
    for key in ("sigma", "mu", "l_star", "gap", "bound", "holds", "rate", "initial_gap"):
        assert key in rate
    assert rate["holds"]
    # mu = 2 lambda_min^+(X X^T) and L* = min ||X theta - y||^2, recomputed in numpy.
    lam = np.linalg.eigvalsh(X.T @ X)  # n = 10 > d = 8: X^T X is full rank
    assert rate["mu"] == pytest.approx(2 * lam.min(), rel=1e-10)
    lstsq = np.linalg.lstsq(X, y, rcond=None)[0]
    assert rate["l_star"] == pytest.approx(loss_of(X, y, lstsq), rel=1e-10)
    # sigma = min_i prod_{k != 0} (u_i^k(0)^2 - 0) with a zero first layer.
    assert rate["sigma"] == pytest.approx(np.min(np.prod(U0[1:] ** 2, axis=0)), rel=1e-13)
    assert diag is run.diagnostics  # parsed once


def test_gradient_descent_run_object(small):
    X, y, U0 = small
    run = ddln.gradient_descent(X, y, U0, lr=1e-3, steps=95, record_every=10)
    # Iterations 0, 10, ..., 90 and the last one, 95; t_k = k * lr.
    np.testing.assert_allclose(run.t, 1e-3 * np.array([*range(0, 100, 10), 95]), rtol=1e-13)
    assert run.layers.shape == (11, 4, 8) and run.xi is None and run.method == "descent"
    assert np.isnan(run.stats["max_local_error"]) and run.stats["steps"] == 95
    assert any("descent follows them up to O(step size)" in w for w in run.diagnostics["warnings"])


def test_other_models(small):
    X, y, _ = small
    rng = np.random.default_rng(0)
    u = 0.5 + rng.random((1, 8))
    run = ddln.gradient_flow(X, y, u, t_end=2.0, model="redundant", power=3)
    assert run.layers.shape == (201, 1, 8)
    np.testing.assert_allclose(run.theta, run.layers[:, 0] ** 3, rtol=1e-14)
    uv = 0.5 + rng.random((2, 8))
    run = ddln.gradient_descent(X, y, uv, lr=1e-3, steps=50, model="signed", power=2)
    np.testing.assert_allclose(run.final_theta, theta_of(run.final_layers, "signed", 2), rtol=1e-13)
    assert run.diagnostics["conservation"] is None
    assert run.diagnostics["rate"] is None
    # Logistic loss, labels in {-1, +1}.
    labels = np.sign(y)
    run = ddln.gradient_flow(X, labels, 0.5 + rng.random((3, 8)), t_end=1.0, loss="logistic", integrator="bs3")
    assert run.status == "Completed" and run.diagnostics["rate"] is None
    np.testing.assert_allclose(run.loss[-1], loss_of(X, labels, run.final_theta, "logistic"), rtol=1e-12)


@pytest.mark.parametrize(
    "convert",
    [
        lambda a: a.astype(np.float32).astype(np.float64),  # reference for the float32 case
        lambda a: np.asfortranarray(a),
        lambda a: np.repeat(a, 2, axis=-1)[..., ::2],  # strided view
        lambda a: a.tolist(),
    ],
)
def test_any_layout_gives_the_same_run(small, convert):
    X, y, U0 = small
    a = ddln.gradient_descent(convert(X), convert(y), convert(U0), lr=1e-3, steps=50)
    b = ddln.gradient_descent(np.ascontiguousarray(convert(X), dtype=np.float64),
                              np.asarray(convert(y), dtype=np.float64),
                              np.asarray(convert(U0), dtype=np.float64), lr=1e-3, steps=50)
    np.testing.assert_array_equal(a.layers, b.layers)


def test_other_dtypes(small):
    X, y, U0 = small
    X32 = X.astype(np.float32)
    a = ddln.gradient_descent(X32, y.astype(np.float16), U0.astype(np.longdouble), lr=1e-3, steps=20)
    b = ddln.gradient_descent(X32.astype(np.float64), y.astype(np.float16).astype(np.float64),
                              U0, lr=1e-3, steps=20)
    np.testing.assert_array_equal(a.layers, b.layers)
    Xi = np.arange(80, dtype=np.int32).reshape(10, 8) % 3
    c = ddln.gradient_descent(Xi, y, U0, lr=1e-4, steps=5)
    d = ddln.gradient_descent(Xi.astype(float), y, U0, lr=1e-4, steps=5)
    np.testing.assert_array_equal(c.layers, d.layers)
    # Inputs are copied: mutating them afterwards does not touch the run.
    X2 = X.copy()
    run = ddln.gradient_descent(X2, y, U0, lr=1e-3, steps=5)
    before = run.layers.copy()
    X2[:] = 0
    np.testing.assert_array_equal(run.layers, before)


def test_statuses_are_string_valued_enums(small):
    X, y, U0 = small
    run = ddln.gradient_flow(X, y, U0, t_end=1.0)
    assert run.status is ddln.Status.Completed and run.status == "Completed"
    assert isinstance(run.status, str) and str(run.status) == "Completed"
    assert run.dynamics is ddln.Dynamics.reduced
    stopped = ddln.gradient_flow(X, y, U0, t_end=1.0, on_step=lambda t, loss: False)
    assert stopped.status is ddln.Status.Stopped and not stopped.success
    pred = ddln.implicit_bias(X, y, U0)
    assert isinstance(pred.status, ddln.PredictStatus)
    assert isinstance(pred.baselines["min_l1"]["status"], ddln.BaselineStatus)
