"""ddln — deep diagonal linear networks, from Python.

A deep diagonal linear network writes ``theta = u^1 ⊙ u^2 ⊙ … ⊙ u^L`` and trains the
layers ``u^j`` on a loss such as ``L(theta) = sum_i (<x_i, theta> - y_i)^2`` (no factor
1/2, the paper's convention). Every function calls the Rust core; nothing is
re-implemented in Python. Arrays go in as numpy (any real dtype or layout) and come
out as float64 numpy arrays. ``X`` is read in place, not copied (a C-contiguous float64
array as it is, any other converted once): do not modify it while a call, or its
``on_step`` callback, runs.

Quick start::

    import numpy as np, ddln
    X, y = ddln.data.sparse_recovery(n=40, d=100, k=5, seed=0)
    U0 = ddln.init.scaled(depth=4, d=100, scale=0.1, zero_first=True, seed=1)
    run = ddln.gradient_flow(X, y, U0, t_end=200.0, t_eval=np.linspace(0, 200, 401))
    run.theta, run.layers, run.loss, run.t, run.status, run.diagnostics
    gd = ddln.gradient_descent(X, y, U0, lr=1e-2, steps=10_000, record_every=10)
    pred = ddln.implicit_bias(X, y, U0)          # where gradient flow ends, without simulating
    pred.theta, pred.status, pred.min_l1, pred.min_l2
    Q = ddln.entropy(U0)                         # the mirror potential of the init
    Q.value(pred.theta), Q.gradient(pred.theta), Q.hessian_diag(pred.theta)

Contents:

* :func:`gradient_flow` (``dynamics="reduced"`` integrates the reduced dynamics,
  ``mirror_check=True`` checks the run against the mirror map), :func:`gradient_descent`
  -> :class:`Run`
* The mirror map of the init: :func:`implicit_bias` -> :class:`Prediction` (theta_inf =
  argmin {Q : X theta = y} and the min-L1 / min-L2 / small-init baselines),
  :func:`entropy` -> :class:`Entropy` (Q, grad Q, Q'', Psi, the dual box),
  :func:`mirror_check`, :func:`rich_to_kernel_sweep`
* :func:`saddles`: the saddle-to-saddle limit of two-layer flow at vanishing init, and
  flows simulated at any init scale (``simulate=[E]`` for alpha = 10^-E)
* :func:`sweep`: a grid of runs from one config (dict or TOML) into a resumable folder,
  on all local cores or a Ray cluster, returning the table (:mod:`ddln.sweep`)
* :mod:`ddln.data` (``gaussian``, ``sparse_recovery``), :mod:`ddln.init` (``scaled``, ``preset``)
* :class:`DdlnError` (a ``ValueError``) for setup mistakes; numerical outcomes are
  ``Run.status`` / ``Prediction.status``, members of the string-valued enums
  :class:`Status` / :class:`PredictStatus` (the core's names), never exceptions.
"""

from . import data, init
from .saddles import saddles
from .sweep import sweep
from ._enums import BaselineStatus, Dynamics, Integrator, PredictStatus, Status, TimeUnit
from ._ddln import (
    DdlnError,
    Entropy,
    Prediction,
    Run,
    __version__,
    entropy,
    gradient_descent,
    gradient_flow,
    implicit_bias,
    mirror_check,
    rich_to_kernel_sweep,
)

__all__ = [
    "BaselineStatus",
    "DdlnError",
    "Dynamics",
    "TimeUnit",
    "Integrator",
    "PredictStatus",
    "Status",
    "Entropy",
    "Prediction",
    "Run",
    "__version__",
    "data",
    "entropy",
    "gradient_descent",
    "gradient_flow",
    "implicit_bias",
    "init",
    "mirror_check",
    "rich_to_kernel_sweep",
    "saddles",
    "sweep",
]
