"""Setup mistakes raise ValueError (ddln.DdlnError, with the core's message) or
TypeError; numerical outcomes are a status, never an exception."""

import re

import numpy as np
import pytest

import ddln


def flow(X, y, U0, **kw):
    return ddln.gradient_flow(X, y, U0, t_end=1.0, **kw)


def gd(X, y, U0, **kw):
    return ddln.gradient_descent(X, y, U0, steps=3, **kw)


def test_ddln_error_is_a_value_error():
    assert issubclass(ddln.DdlnError, ValueError)


@pytest.mark.parametrize("run", [flow, gd])
def test_non_finite_entries(small, run):
    X, y, U0 = small
    Xn = X.copy()
    Xn[2, 3] = np.nan
    with pytest.raises(ValueError, match=re.escape("`X` contains a non-finite value (NaN) at index 19")):
        run(Xn, y, U0)
    yn = y.copy()
    yn[0] = np.inf
    with pytest.raises(ddln.DdlnError, match="`y` contains a non-finite value"):
        run(X, yn, U0)
    Un = U0.copy()
    Un[1, 1] = -np.inf
    with pytest.raises(ddln.DdlnError, match="`init` contains a non-finite value"):
        run(X, y, Un)


@pytest.mark.parametrize("run", [flow, gd])
def test_wrong_shapes(small, run):
    X, y, U0 = small
    with pytest.raises(ValueError, match=r"shape mismatch in `X`: expected a 2-D array \(n samples, d features\), got shape \(80,\)"):
        run(X.ravel(), y, U0)
    with pytest.raises(ValueError, match=r"shape mismatch in `y`: expected length 10 \(one target per row of X\), got length 9"):
        run(X, y[:9], U0)
    with pytest.raises(ValueError, match=r"shape mismatch in `y`: expected a 1-D array of length 10"):
        run(X, y[:, None], U0)
    with pytest.raises(ValueError, match=r"shape mismatch in `init`: expected \(4, 8\).*got shape \(4, 7\)"):
        run(X, y, U0[:, :7])
    with pytest.raises(ValueError, match=r"shape mismatch in `init`: expected a 2-D array \(rows, 8\)"):
        run(X, y, U0[0])
    with pytest.raises(ValueError, match=r"shape mismatch in `init`: expected \(1, 8\)"):
        run(X, y, U0, model="redundant", power=3)
    with pytest.raises(ValueError, match=r"data is empty"):
        run(np.zeros((0, 8)), np.zeros(0), U0)


def test_depth_below_two(small):
    X, y, U0 = small
    # A (1, d) init for the deep model means L = 1: not a network.
    with pytest.raises(ValueError, match=r"invalid value for `depth`: must be >= 2.*got 1"):
        flow(X, y, U0[:1])
    with pytest.raises(ValueError, match=r"invalid value for `power`: must be >= 2.*got 1"):
        flow(X, y, U0[:1], model="redundant", power=1)
    with pytest.raises(ValueError, match=r"invalid value for `depth`: must be >= 2, got 1"):
        ddln.init.scaled(depth=1, d=3)


def test_invalid_settings(small):
    X, y, U0 = small
    cases = [
        (flow, dict(rtol=-1e-8), r"invalid value for `rtol`: must be a finite number > 0, got -0.00000001"),
        (flow, dict(rtol=1e-16), r"below what f64 arithmetic can deliver"),
        (flow, dict(atol=0.0), r"`atol`: must be a finite number > 0"),
        (flow, dict(t_eval=[0.0, 0.5, 0.2]), r"`t_eval`: times must be sorted ascending"),
        (flow, dict(t_eval=[0.0, 2.0]), r"`t_eval`: time 2 is outside \[0, t_end = 1\]"),
        (flow, dict(t_eval=np.zeros((2, 2))), r"shape mismatch in `t_eval`"),
        (flow, dict(n_record=1), r"`n_record`: must be at least 2"),
        (flow, dict(integrator="rk4"), r"unknown method `rk4`"),
        (flow, dict(dynamics="fast"), r"unknown dynamics `fast`"),
        (flow, dict(loss="hinge"), r"unknown loss `hinge`"),
        (flow, dict(model="shallow"), r"unknown model `shallow`; expected one of `deep`, `redundant`, `signed`"),
        (flow, dict(model="signed"), r"the `signed` model needs the power L"),
        (flow, dict(power=3), r"`power`: applies to the `redundant` and `signed` models only"),
        (flow, dict(loss="logistic"), r"the logistic loss needs labels in \{-1, \+1\}"),
        (flow, dict(callback_every=0), r"`callback_every`: must be at least 1"),
        (gd, dict(batch_size=11), r"`batch_size`: must be between 1 and the number of samples 10, got 11"),
        (gd, dict(batch_size=0), r"`batch_size`: must be between 1"),
        (gd, dict(lr=-0.1), r"`lr`: must be a finite number > 0"),
        (gd, dict(momentum=1.0), r"`momentum`: must be in \[0, 1\), got 1"),
        (gd, dict(record_every=0), r"`record_every`: must be at least 1"),
        (gd, dict(schedule={"kind": "exponential", "gamma": 1.5}), r"`schedule.gamma`: must be in \(0, 1\]"),
        (gd, dict(schedule="cosine"), r"invalid value for `schedule`: unknown variant `cosine`"),
    ]
    for run, kw, message in cases:
        with pytest.raises(ValueError, match=message):
            run(X, y, U0, **kw)
    with pytest.raises(ValueError, match=r"`k`: sparsity 9 exceeds the dimension d = 8"):
        ddln.data.sparse_recovery(n=4, d=8, k=9)
    with pytest.raises(ValueError, match=r"`scale`: must be a finite number > 0"):
        ddln.init.scaled(depth=3, d=4, scale=0.0)
    with pytest.raises(ValueError, match=r"unknown init shape `normal`"):
        ddln.init.scaled(depth=3, d=4, shape="normal")
    with pytest.raises(ValueError, match=r"uniform needs finite low < high"):
        ddln.init.scaled(depth=3, d=4, shape="uniform", low=1.0, high=0.0)


def test_type_errors(small):
    X, y, U0 = small
    with pytest.raises(TypeError, match=r"`X` must hold real numbers .*got dtype <U1"):
        flow(np.full((10, 8), "a"), y, U0)
    with pytest.raises(TypeError, match=r"`y` must hold real numbers .*got dtype complex128"):
        flow(X, y + 1j, U0)
    with pytest.raises(TypeError, match=r"`init` must hold real numbers .*got dtype object"):
        flow(X, y, [[None] * 8] * 4)
    with pytest.raises(TypeError, match=r"`X` could not be read as an array of real numbers"):
        flow([[1.0, 2.0], [3.0]], y, U0)
    with pytest.raises(TypeError, match=r"`on_step` must be callable"):
        flow(X, y, U0, on_step=3)
    with pytest.raises(TypeError, match=r"`schedule` must be None, a kind name or a dict"):
        gd(X, y, U0, schedule=0.5)
    with pytest.raises(TypeError):
        flow(X, y, U0, t_end="long")
    with pytest.raises(TypeError):
        ddln.gradient_flow(X, y, U0, 1.0)  # settings are keyword-only


def test_numerical_outcomes_are_a_status(small):
    X, y, U0 = small
    big = ddln.gradient_descent(X, y, 3 * U0 + 1, lr=1.0, steps=1000)
    assert big.status == "Diverged"
    assert not big.success
    assert np.all(np.isfinite(big.final_layers))
    assert "stopped being finite" in big.message

    budget = ddln.gradient_flow(X, y, U0, t_end=100.0, max_steps=5)
    assert budget.status == "MaxSteps"

    conv = ddln.gradient_descent(X, y, U0, lr=1e-3, steps=10_000, loss_tol=1e9)
    assert conv.status == "Converged" and conv.success


def test_huge_sizes_are_catchable_errors():
    # Checked before allocating (the interpreter survives): 8e12 bytes is far above the
    # machine's available memory.
    with pytest.raises(ddln.DdlnError, match="would need 8000.000 GB"):
        ddln.data.gaussian(1_000_000, 1_000_000)
    with pytest.raises(ddln.DdlnError, match="overflows"):
        ddln.init.scaled(depth=4, d=2**62)
    X, y = ddln.data.gaussian(4, 3, seed=0)
    with pytest.raises(ddln.DdlnError, match="n_record"):
        ddln.gradient_flow(X, y, np.ones((2, 3)), n_record=10**12)
