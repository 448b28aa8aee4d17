"""The vanishing-init limit of two-layer gradient flow (Pesme & Flammarion 2023).

``ddln.saddles(X, y)`` returns the saddles gradient flow visits as the init scale
vanishes, and the accelerated times of its jumps, without simulating::

    out = ddln.saddles(X, y, simulate=[64, 300])
    [j["time_accelerated"] for j in out["jumps"]], out["jumps"][-1]["theta"]
    out["simulated"][0]["worst_error"]   # the flow at alpha = 1e-64 against the limit

Accelerated time is ``t / log(1/alpha)`` for ``u ⊙ v`` from ``u = sqrt(2) alpha, v = 0``
(``model="product"``, the deep model with two layers) and ``2 t / log(1/alpha)`` for
``u^2 - v^2`` from ``u = v = alpha`` (``model="signed_square"``). ``simulate=[E, ...]``
integrates that flow at ``alpha = 10^-E`` (any ``E > 0``, also beyond f64: alpha enters
through ``log(1/alpha)`` only) and reports its jump times next to the algorithm's.
``depth=L`` (``L >= 3``) simulates the deep model from ``u^1 = 0``, ``u^j = alpha``
instead, in the depth's time ``tau = t alpha^(L-2) / w_L`` (``tau`` and ``loss`` of each
simulated flow, plateaus skipped in closed form: ``skips``).
Settings left at ``None`` take the core's defaults (docs/math.md section 12).
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import numpy as np
import numpy.typing as npt

from . import _ddln

__all__ = ["saddles"]


def saddles(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    loss_scaling: str = "sum",
    model: str = "product",
    simulate: Sequence[float] = (),
    grad_rtol: float | None = None,
    tie_rtol: float | None = None,
    max_jumps: int | None = None,
    depth: int = 2,
) -> dict[str, Any]:
    """The jumps (``time_accelerated``, ``theta``, ``loss``, ``active``, ``signs``, ties and
    degeneracies), ``initial_loss``, ``status``, ``time_unit`` and the ``simulated`` flows."""
    out = json.loads(
        _ddln._saddles(
            X, y, loss_scaling, model, [float(e) for e in simulate], grad_rtol, tie_rtol, max_jumps, depth
        )
    )
    for jump in out["jumps"]:
        jump["theta"] = np.asarray(jump["theta"], dtype=np.float64)
        jump["dual"] = np.asarray(jump["dual"], dtype=np.float64)
    for sim in out["simulated"]:
        for key in ("t", "tau", "loss", "final_theta"):
            if key in sim:
                sim[key] = np.asarray(sim[key], dtype=np.float64)
    return out
