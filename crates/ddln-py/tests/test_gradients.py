"""One descent step from U0 with step eta equals U0 - eta * grad, where grad is a numpy
central finite difference of L(G(w)) in the layers w: the core's gradient kernel and
pullbacks checked against an independent numerical reference."""

import numpy as np
import pytest

import ddln
from conftest import fd_gradient, loss_of, theta_of

CASES = [
    # (model, power, rows, loss)
    ("deep", None, 4, "square"),
    ("deep", None, 2, "logistic"),
    ("redundant", 3, 1, "square"),
    ("signed", 2, 2, "square"),
    ("signed", 3, 2, "logistic"),
]


@pytest.mark.parametrize("model,power,rows,loss", CASES)
def test_one_step_matches_finite_differences(model, power, rows, loss):
    rng = np.random.default_rng(7)
    n, d = 9, 6
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n) if loss == "square" else np.sign(rng.standard_normal(n))
    W0 = 0.3 + 0.7 * rng.random((rows, d))  # positive entries: u^{L-1} well away from 0
    eta = 1e-3

    run = ddln.gradient_descent(
        X, y, W0, lr=eta, steps=1, record_every=1, loss=loss, model=model, power=power
    )
    assert run.status == "Completed"
    assert run.layers.shape == (2, rows, d)
    np.testing.assert_array_equal(run.layers[0], W0)

    def f(w):
        return loss_of(X, y, theta_of(w, model, power), loss)

    grad = fd_gradient(f, W0)
    expected = W0 - eta * grad
    # Reference: central differences, truncation error O(h^2) ~ 1e-12, rounding ~1e-10
    # relative to |L|/h; 1e-6 relative on the step (U0 - U1) is ample and still tight.
    step = W0 - run.layers[1]
    np.testing.assert_allclose(step, eta * grad, rtol=1e-6, atol=1e-6 * eta * np.abs(grad).max())
    # The same statement on the iterate itself: U1 = U0 - eta * grad.
    np.testing.assert_allclose(run.layers[1], expected, rtol=0, atol=1e-6 * eta * np.abs(grad).max())
    # The recorded loss is L(theta(0)) from the formula, to rounding.
    assert run.loss[0] == pytest.approx(f(W0), rel=1e-13)
    np.testing.assert_allclose(run.theta[1], theta_of(run.layers[1], model, power), rtol=1e-14)


def test_momentum_and_sgd_first_steps(small):
    X, y, U0 = small
    eta, beta = 1e-3, 0.5
    f = lambda w: loss_of(X, y, theta_of(w))  # noqa: E731
    run = ddln.gradient_descent(X, y, U0, lr=eta, steps=2, record_every=1, momentum=beta)
    # Heavy ball: w1 = w0 - eta g(w0); w2 = w1 - eta g(w1) + beta (w1 - w0).
    w1 = U0 - eta * fd_gradient(f, U0)
    w2 = w1 - eta * fd_gradient(f, w1) + beta * (w1 - U0)
    np.testing.assert_allclose(run.layers[1], w1, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(run.layers[2], w2, rtol=1e-7, atol=1e-10)

    # SGD by epochs with the full batch is gradient descent (scale n / b = 1), up to
    # summation order (with replacement a batch of n repeats some samples).
    full = ddln.gradient_descent(X, y, U0, lr=eta, steps=5, record_every=1)
    sgd = ddln.gradient_descent(X, y, U0, lr=eta, steps=5, record_every=1, batch_size=10,
                                sampling="epochs")
    np.testing.assert_allclose(sgd.layers, full.layers, rtol=1e-12, atol=1e-15)

    # Inverse-time schedule: recorded time t_k = sum_{j<k} lr / (1 + c j).
    c = 0.5
    sched = ddln.gradient_descent(
        X, y, U0, lr=eta, steps=4, record_every=1, schedule={"kind": "inverse_time", "decay": c}
    )
    expected_t = np.concatenate([[0.0], np.cumsum(eta / (1 + c * np.arange(4)))])
    np.testing.assert_allclose(sched.t, expected_t, rtol=1e-15)
    w1 = U0 - eta * fd_gradient(f, U0)
    np.testing.assert_allclose(sched.layers[1], w1, rtol=1e-7, atol=1e-10)
