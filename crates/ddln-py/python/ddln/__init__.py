"""ddln — deep diagonal linear networks, from Python.

A deep diagonal linear network writes ``theta = u^1 ⊙ u^2 ⊙ … ⊙ u^L`` and trains the
layers ``u^j`` on a loss such as ``L(theta) = sum_i (<x_i, theta> - y_i)^2`` (no factor
1/2, the paper's convention). Every function calls the Rust core; nothing is
re-implemented in Python. Arrays go in as numpy (any real dtype or layout) and come
out as float64 numpy arrays.

Quick start::

    import numpy as np, ddln
    X, y = ddln.data.sparse_recovery(n=40, d=100, k=5, seed=0)
    U0 = ddln.init.scaled(depth=4, d=100, scale=0.1, zero_first=True, seed=1)
    run = ddln.gradient_flow(X, y, U0, t_end=200.0, t_eval=np.linspace(0, 200, 401))
    run.theta, run.layers, run.loss, run.t, run.status, run.diagnostics
    gd = ddln.gradient_descent(X, y, U0, lr=1e-2, steps=10_000, record_every=10)

Contents:

* :func:`gradient_flow`, :func:`gradient_descent` -> :class:`Run`
* :mod:`ddln.data` (``gaussian``, ``sparse_recovery``), :mod:`ddln.init` (``scaled``)
* :class:`DdlnError` (a ``ValueError``) for setup mistakes; numerical outcomes are
  ``Run.status`` strings, never exceptions.
"""

from . import data, init
from ._ddln import DdlnError, Run, __version__, gradient_descent, gradient_flow

# The mirror map (``implicit_bias``, ``entropy``) is bound in ``_ddln`` by its own
# ``mirror.rs`` and re-exported here once the core's mirror module has landed.

__all__ = [
    "DdlnError",
    "Run",
    "__version__",
    "data",
    "gradient_descent",
    "gradient_flow",
    "init",
]
