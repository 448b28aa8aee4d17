"""String-valued enums of the core's vocabulary, built from the names the Rust core
defines (``_ddln._vocabulary()``), so that Python never restates them. Each member is a
``str``: ``run.status == "Converged"`` holds as well as ``run.status is Status.Converged``."""

import enum
import json

from ._ddln import _vocabulary

_NAMES = json.loads(_vocabulary())


def _make(name, doc):
    cls = enum.Enum(name, {value: value for value in _NAMES[name]}, type=str, module=__name__)
    cls.__doc__ = doc
    cls.__str__ = lambda self: self.value
    return cls


Status = _make("Status", "How a training run ended (Run.status).")
PredictStatus = _make("PredictStatus", "How the implicit-bias predictor ended (Prediction.status).")
BaselineStatus = _make("BaselineStatus", "How a baseline linear or quadratic program ended.")
Integrator = _make("Integrator", "The gradient-flow integrators (gradient_flow(integrator=...)).")
Dynamics = _make("Dynamics", "The variables gradient flow integrates (gradient_flow(dynamics=...)).")
TimeUnit = _make("TimeUnit", "The unit of a flow's times (gradient_flow(time_unit=...)).")
