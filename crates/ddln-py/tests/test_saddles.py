"""ddln.saddles: the limit's last saddle against SciPy's HiGHS (basis pursuit, the
alpha -> 0 limit for n < d), the jumps against a flow simulated by ddln.gradient_flow
(the layer ODE) at alpha = 1e-8, flows at alpha = 1e-300 and their run.jumps, and bad
inputs."""

import numpy as np
import pytest
from scipy.optimize import linprog

import ddln


def test_last_saddle_is_basis_pursuit_and_flows_converge():
    X, y = ddln.data.sparse_recovery(12, 24, 3, seed=5)
    out = ddln.saddles(X, y, simulate=[16, 64, 400])
    assert out["status"] == "Finished"
    d = X.shape[1]
    res = linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None), method="highs")
    l1 = res.x[:d] - res.x[d:]
    np.testing.assert_allclose(out["jumps"][-1]["theta"], l1, atol=1e-7)
    worst = [s["worst_error"] for s in out["simulated"]]
    # O(1/log(1/alpha)): from E = 16 to 400 log(1/alpha) grows 25-fold. Shallow plateaus
    # (late jumps whose losses differ by a factor 2) have the largest constant here.
    assert worst[0] / worst[2] > 8 and worst[2] < 0.05, worst
    # The layer ODE at alpha = 1e-8 (u = sqrt(2) alpha, v = 0) crosses the level between
    # the first two plateaus near the algorithm's first jump, in flow time t~ log(1/alpha).
    alpha = 1e-8
    lam = np.log(1 / alpha)
    first = out["jumps"][0]
    level = np.sqrt(out["initial_loss"] * first["loss"])
    t_end = 2 * first["time_accelerated"] * lam
    t_eval = np.linspace(0, t_end, 4001)
    U0 = np.stack([np.full(d, np.sqrt(2) * alpha), np.zeros(d)])
    run = ddln.gradient_flow(X, y, U0, t_end=t_end, t_eval=t_eval, atol=1e-30, dynamics="layers")
    t_cross = run.t[np.argmax(run.loss < level)] / lam
    assert abs(t_cross - first["time_accelerated"]) / first["time_accelerated"] < 0.15


def test_flows_at_1e_300_report_their_jumps():
    """u ⊙ v from u = sqrt(2) alpha, v = 0 and u^2 - v^2 from u = v = alpha at alpha =
    1e-300: the default picks the dual dynamics, the layers are finite, run.jumps holds
    ddln.saddles' jump times in flow time (t~ log(1/alpha), resp. t~ log(1/alpha) / 2),
    and its first crossing is where the recorded loss curve, searched here, crosses the
    level between the first two plateaus (to the recording grid)."""
    X, y = ddln.data.sparse_recovery(10, 20, 3, seed=7)
    d = X.shape[1]
    limit = ddln.saddles(X, y)["jumps"]
    alpha = 1e-300
    lam = np.log(1 / alpha)
    cases = [
        (dict(), np.stack([np.full(d, np.sqrt(2) * alpha), np.zeros(d)]), lam),
        (dict(model="signed", power=2), np.full((2, d), alpha), lam / 2),
    ]
    for model, U0, per in cases:
        t_end = 1.5 * limit[-1]["time_accelerated"] * per
        t_eval = np.linspace(0, t_end, 20001)
        run = ddln.gradient_flow(X, y, U0, t_end=t_end, t_eval=t_eval, **model)
        assert run.dynamics == "dual" and run.success
        assert np.all(np.isfinite(run.layers)) and np.all(np.isfinite(run.theta))
        jumps = run.jumps
        assert jumps["applies"], jumps.get("reason")
        np.testing.assert_allclose(
            [j["time"] for j in jumps["jumps"]],
            [j["time_accelerated"] * per for j in limit],
            rtol=1e-9,
        )
        assert jumps["worst_time_error"] < 0.01
        first = jumps["jumps"][0]
        level = np.sqrt(jumps["initial_loss"] * first["loss"])
        grid = run.t[np.argmax(run.loss < level)]
        assert abs(grid - first["simulated_time"]) <= t_eval[1] - t_eval[0]


def test_bad_inputs():
    X, _ = ddln.data.gaussian(5, 8, seed=1)
    with pytest.raises(ddln.DdlnError, match="y"):
        ddln.saddles(X, np.zeros(5))
    with pytest.raises(ddln.DdlnError, match="model"):
        ddln.saddles(X, np.ones(5), model="deep3")
    with pytest.raises(ddln.DdlnError, match="simulate"):
        ddln.saddles(X, np.ones(5), simulate=[-1])


def test_deep_flows_at_any_scale():
    """depth=4 from u^1 = 0, u^j = alpha: at alpha = 1e-300 (plateaus of flow time 1e600)
    the simulated jump times are the algorithm's to 1e-6; at alpha = 1e-2 the same
    simulation crosses the first plateau level where ddln.gradient_flow's layer ODE does
    (its loss curve searched here, time rescaled by alpha^(L-2) / w_4, w_4 = 1)."""
    X, y = ddln.data.sparse_recovery(10, 20, 3, seed=7)
    out = ddln.saddles(X, y, simulate=[300, 2], depth=4)
    tiny, moderate = out["simulated"]
    assert tiny["worst_error"] < 1e-6 and tiny["skips"] >= 3, tiny["worst_error"]
    assert tiny["tau"].shape == tiny["loss"].shape
    alpha, d = 1e-2, X.shape[1]
    level = np.sqrt(out["initial_loss"] * out["jumps"][0]["loss"])
    tau_end = 2 * out["jumps"][0]["time_accelerated"]
    t_end = tau_end / alpha**2
    t_eval = np.linspace(0, t_end, 200001)
    U0 = np.vstack([np.zeros(d), np.full((3, d), alpha)])
    run = ddln.gradient_flow(X, y, U0, t_end=t_end, t_eval=t_eval)
    k = np.argmax(run.loss < level)
    # Linear interpolation of log L between the two recorded points around the crossing.
    f = (np.log(run.loss[k - 1]) - np.log(level)) / (np.log(run.loss[k - 1]) - np.log(run.loss[k]))
    t_cross = (run.t[k - 1] + f * (run.t[k] - run.t[k - 1])) * alpha**2
    assert abs(t_cross - moderate["jump_times"][0]) < 1e-4 * t_cross, (t_cross, moderate["jump_times"][0])
    with pytest.raises(ddln.DdlnError, match="depth"):
        ddln.saddles(X, y, simulate=[8], depth=3, model="signed_square")


def test_deep_flow_in_accelerated_time_below_f64():
    """depth 4 from u^1 = 0, u^j = 1e-300 with time_unit="accelerated": the jumps lie at
    flow times ~1e600, beyond f64, and at ddln.saddles' accelerated times; the loss curve,
    searched here, crosses each plateau level there (to 1e-6), run.t is in that unit,
    and the run ends at SciPy HiGHS's basis pursuit solution (the alpha -> 0 limit)."""
    X, y = ddln.data.sparse_recovery(10, 20, 3, seed=7)
    d = X.shape[1]
    out = ddln.saddles(X, y)
    limit = out["jumps"]
    t_end = 1.5 * limit[-1]["time_accelerated"]
    t_eval = np.linspace(0, t_end, 20001)
    U0 = np.vstack([np.zeros(d), np.full((3, d), 1e-300)])
    run = ddln.gradient_flow(X, y, U0, t_end=t_end, t_eval=t_eval, time_unit="accelerated")
    assert run.dynamics == "small_init" and run.success
    np.testing.assert_array_equal(run.t, t_eval)
    assert np.all(np.isfinite(run.layers))
    previous = out["initial_loss"]
    for jump in limit[:-1]:
        level = np.sqrt(previous * jump["loss"])
        previous = jump["loss"]
        k = np.argmax(run.loss < level)
        # The grid's resolution: the crossing lies between two recorded times.
        assert run.t[k - 1] <= jump["time_accelerated"] * (1 + 1e-6) and jump["time_accelerated"] <= run.t[k] * (1 + 1e-6)
    jumps = run.jumps
    assert jumps["time_unit"] == ddln.TimeUnit("accelerated") and jumps["worst_time_error"] < 1e-6
    res = linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None), method="highs")
    np.testing.assert_allclose(run.theta[-1], res.x[:d] - res.x[d:], atol=1e-7)
    with pytest.raises(ddln.DdlnError, match="time_unit"):
        ddln.gradient_flow(X, y, U0, t_end=t_end, time_unit="tau")
    with pytest.raises(ddln.DdlnError, match="time_unit"):
        ddln.gradient_flow(X, y, U0, t_end=t_end, time_unit="accelerated", dynamics="layers")


def test_signed_power_flows_far_below_f64():
    """u^3 - v^3 from u = v = 1e-200 (theta = 1e-600): the default picks the small-init
    dynamics, the layers are finite, run.jumps holds ddln.saddles' jump times in flow
    time (the unit box is xi in (-1, 1) alpha^-1 / 3), and the run ends at SciPy HiGHS's
    basis pursuit solution (the alpha -> 0 limit for n < d)."""
    X, y = ddln.data.sparse_recovery(10, 20, 3, seed=7)
    d = X.shape[1]
    limit = ddln.saddles(X, y)["jumps"]
    alpha = 1e-200
    per = 1 / (3 * alpha)
    t_end = 1.5 * limit[-1]["time_accelerated"] * per
    run = ddln.gradient_flow(X, y, np.full((2, d), alpha), model="signed", power=3, t_end=t_end)
    assert run.dynamics == "small_init" and run.success
    assert np.all(np.isfinite(run.layers)) and np.all(np.isfinite(run.theta))
    jumps = run.jumps
    assert jumps["applies"], jumps.get("reason")
    np.testing.assert_allclose(
        [j["time"] for j in jumps["jumps"]],
        [j["time_accelerated"] * per for j in limit],
        rtol=1e-9,
    )
    assert jumps["worst_time_error"] < 1e-6
    res = linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None), method="highs")
    np.testing.assert_allclose(run.theta[-1], res.x[:d] - res.x[d:], atol=1e-7)


def test_implicit_bias_below_f64_is_the_small_init_limit():
    """u^3 - v^3 from u = v = 1e-200: f64 cannot resolve the mirror map, and
    ddln.implicit_bias answers with the alpha -> 0 limit (status "SmallInitLimit"), which
    for u = v is SciPy HiGHS's basis pursuit solution."""
    X, y = ddln.data.sparse_recovery(10, 20, 3, seed=7)
    d = X.shape[1]
    pred = ddln.implicit_bias(X, y, np.full((2, d), 1e-200), model="signed", power=3)
    assert pred.status == "SmallInitLimit", pred.message
    assert pred.limit_order_log10 == pytest.approx(-200.0)
    res = linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None), method="highs")
    np.testing.assert_allclose(pred.theta, res.x[:d] - res.x[d:], atol=1e-8)
    np.testing.assert_allclose(pred.small_init_limit, pred.theta, atol=1e-14)
