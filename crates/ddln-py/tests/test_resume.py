"""gradient_descent(resume=run) and the SGD samplings. Reference: the uninterrupted run
(bit for bit), and numpy's own bookkeeping of the given sample order."""

import numpy as np
import pytest

import ddln


@pytest.fixture(scope="module")
def problem():
    X, y = ddln.data.gaussian(15, 6, seed=3)
    return X, y, ddln.init.scaled(2, 6, scale=0.4, seed=2)


@pytest.mark.parametrize("sampling", [None, "epochs", [3, 1, 4, 1, 5, 9, 2, 6]])
@pytest.mark.parametrize("momentum", [0.0, 0.7])
def test_resume_is_bit_identical(problem, sampling, momentum):
    X, y, U0 = problem
    kw = dict(lr=2e-3, momentum=momentum, batch_size=3, sampling=sampling, seed=4,
              schedule={"kind": "piecewise", "boundaries": [100], "factors": [1.0, 0.3]})
    whole = ddln.gradient_descent(X, y, U0, steps=500, **kw)
    part = ddln.gradient_descent(X, y, U0, steps=230, **kw)
    rest = ddln.gradient_descent(X, y, U0, steps=500, resume=part, **kw)
    assert np.array_equal(rest.final_layers, whole.final_layers)
    assert rest.t[-1] == whole.t[-1]


def test_resume_errors(problem):
    X, y, U0 = problem
    part = ddln.gradient_descent(X, y, U0, steps=50)
    with pytest.raises(ValueError, match="steps > 50"):
        ddln.gradient_descent(X, y, U0, steps=50, resume=part)
    with pytest.raises(ValueError, match="another problem"):
        ddln.gradient_descent(X, 2 * y, U0, steps=100, resume=part)
    flow = ddln.gradient_flow(X, y, U0, t_end=1.0)
    with pytest.raises(ValueError, match="no checkpoint"):
        ddln.gradient_descent(X, y, U0, steps=100, resume=flow)
    with pytest.raises(TypeError, match="resume"):
        ddln.gradient_descent(X, y, U0, steps=100, resume="part")


def test_given_order_is_followed(problem):
    """With batch_size 1 and the order [i0, i1, ...], step k uses sample i_{k mod m}:
    the same iterates as a numpy loop over that order (GD on one sample per step)."""
    X, y, U0 = problem
    order = [4, 0, 7, 7, 2]
    lr, steps = 1e-2, 40
    run = ddln.gradient_descent(X, y, U0, lr=lr, steps=steps, batch_size=1, sampling=order,
                                record_every=steps)
    u, v = U0.copy()
    n = X.shape[0]
    for k in range(steps):
        i = order[k % len(order)]
        g = n * 2 * X[i] * (X[i] @ (u * v) - y[i])  # unbiased scaling n / b, no 1/2
        u, v = u - lr * g * v, v - lr * g * u
    np.testing.assert_allclose(run.final_layers, np.stack([u, v]), rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match=r"indices\[1\] = 15"):
        ddln.gradient_descent(X, y, U0, batch_size=1, sampling=[0, 15])
    with pytest.raises(ValueError, match="negative"):
        ddln.gradient_descent(X, y, U0, batch_size=1, sampling=[0, -1])
    with pytest.raises(ValueError, match="unknown sampling"):
        ddln.gradient_descent(X, y, U0, batch_size=1, sampling="shuffle")
