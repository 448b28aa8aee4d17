"""Shared references for the ddln tests: numpy implementations of the loss, written
from the paper's formulas independently of the Rust core."""

import numpy as np
import pytest


def theta_of(layers, model="deep", power=None):
    """theta = G(w) for the three parameterizations (paper eq. 2; appendix A.3)."""
    layers = np.asarray(layers, dtype=np.float64)
    if model == "deep":
        return np.prod(layers, axis=0)
    if model == "redundant":
        return layers[0] ** power
    if model == "signed":
        return layers[0] ** power - layers[1] ** power
    raise ValueError(model)


def loss_of(X, y, theta, loss="square"):
    """L(theta): sum_i (<x_i, theta> - y_i)^2 (no 1/2), or sum_i log(1 + exp(-y_i z_i))."""
    z = X @ theta
    if loss == "square":
        return float(np.sum((z - y) ** 2))
    return float(np.sum(np.logaddexp(0.0, -y * z)))


def fd_gradient(f, w, h=1e-6):
    """Central finite differences of f at w (any shape), step h * max(1, |w_k|)."""
    w = np.array(w, dtype=np.float64)
    g = np.zeros_like(w)
    for k in np.ndindex(w.shape):
        step = h * max(1.0, abs(w[k]))
        wp, wm = w.copy(), w.copy()
        wp[k] += step
        wm[k] -= step
        g[k] = (f(wp) - f(wm)) / (2 * step)
    return g


@pytest.fixture
def small():
    """A 10 x 8 Gaussian problem and a 4-layer init satisfying (A) (seeded)."""
    import ddln

    X, y = ddln.data.gaussian(10, 8, seed=3)
    U0 = ddln.init.scaled(depth=4, d=8, scale=0.5, zero_first=True, seed=4)
    return X, y, U0


def long_flow_problem():
    """A gradient-flow run that takes many seconds (bounded by max_steps): used to test
    interruption and GIL release without risking a hang."""
    import ddln

    X, y = ddln.data.gaussian(60, 120, seed=11)
    U0 = ddln.init.scaled(depth=5, d=120, scale=0.3, zero_first=True, seed=12)
    kwargs = dict(t_end=1e7, rtol=1e-13, atol=1e-15, max_steps=3_000_000)
    return X, y, U0, kwargs
