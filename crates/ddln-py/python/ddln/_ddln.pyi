"""Type stubs of the compiled core ``ddln._ddln``."""

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__version__: str

from ._enums import Dynamics, PredictStatus, Status

OnStep = Callable[[float, float], bool | None]
Array = npt.NDArray[np.float64]

class DdlnError(ValueError):
    """A setup mistake reported by the ddln core (shape, non-finite entry, setting out of range)."""

class Run:
    """The outcome of ``gradient_flow`` or ``gradient_descent``."""

    @property
    def t(self) -> npt.NDArray[np.float64]: ...
    @property
    def theta(self) -> npt.NDArray[np.float64]: ...
    @property
    def layers(self) -> npt.NDArray[np.float64]: ...
    @property
    def loss(self) -> npt.NDArray[np.float64]: ...
    @property
    def xi(self) -> npt.NDArray[np.float64] | None: ...
    @property
    def final_theta(self) -> npt.NDArray[np.float64]: ...
    @property
    def final_layers(self) -> npt.NDArray[np.float64]: ...
    @property
    def final_loss(self) -> float: ...
    @property
    def t_final(self) -> float: ...
    @property
    def status(self) -> Status: ...
    @property
    def success(self) -> bool: ...
    @property
    def message(self) -> str: ...
    @property
    def stats(self) -> dict[str, float | None]: ...
    @property
    def diagnostics(self) -> dict[str, Any]: ...
    @property
    def method(self) -> Literal["flow", "descent"]: ...
    @property
    def model(self) -> str: ...
    @property
    def dynamics(self) -> Dynamics | None: ...
    @property
    def solver(self) -> dict[str, Any] | None: ...
    @property
    def mirror_check(self) -> dict[str, Any] | None: ...
    @property
    def implicit_bias(self) -> dict[str, Any] | None: ...
    @property
    def momentum_bias(self) -> dict[str, Any] | None: ...
    @property
    def jumps(self) -> dict[str, Any] | None: ...

def gradient_flow(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    init: npt.ArrayLike,
    *,
    t_end: float = 50.0,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    t_eval: npt.ArrayLike | None = None,
    n_record: int = 201,
    loss: Literal["square", "logistic"] = "square",
    loss_scaling: Literal["sum", "mean/2"] = "sum",
    model: Literal["deep", "redundant", "signed"] = "deep",
    power: int | None = None,
    integrator: Literal["auto", "dopri5", "bs3", "rodas"] = "auto",
    track_xi: bool = False,
    loss_tol: float | None = None,
    max_steps: int = 10_000_000,
    initial_step: float | None = None,
    max_step: float | None = None,
    rate_rtol: float = 1e-6,
    rate_atol_rel: float = 1e-10,
    on_step: OnStep | None = None,
    callback_every: int = 1,
    progress: bool = False,
    dynamics: Literal["auto", "layers", "reduced", "dual", "small_init"] = "auto",
    mirror_check: bool = False,
    time_unit: Literal["flow", "accelerated"] = "flow",
) -> Run: ...
def gradient_descent(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    init: npt.ArrayLike,
    *,
    lr: float = 1e-3,
    steps: int = 10_000,
    record_every: int = 10,
    momentum: float = 0.0,
    batch_size: int | None = None,
    seed: int = 0,
    schedule: str | dict[str, Any] | None = None,
    loss_tol: float | None = None,
    grad_tol: float | None = None,
    loss: Literal["square", "logistic"] = "square",
    loss_scaling: Literal["sum", "mean/2"] = "sum",
    model: Literal["deep", "redundant", "signed"] = "deep",
    power: int | None = None,
    rate_rtol: float = 1e-6,
    rate_atol_rel: float = 1e-10,
    on_step: OnStep | None = None,
    callback_every: int = 1,
    progress: bool = False,
    sampling: Literal["replacement", "epochs"] | npt.ArrayLike | None = None,
    resume: Run | None = None,
) -> Run: ...
def gaussian(
    n: int, d: int, seed: int = 0
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def sparse_recovery(
    n: int, d: int, k: int, seed: int = 0, return_theta: bool = False
) -> (
    tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
    | tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]
): ...
def preset(
    name: Literal["uv", "woodworth", "power", "azulay"],
    d: int,
    alpha: float = 0.1,
    power: int | None = None,
    shape: float | None = None,
) -> dict[str, Any]: ...
def scaled(
    depth: int,
    d: int,
    scale: float = 0.1,
    zero_first: bool = False,
    shape: Literal["gaussian", "uniform", "constant"] = "gaussian",
    seed: int = 1,
    low: float = -1.0,
    high: float = 1.0,
) -> npt.NDArray[np.float64]: ...

class Prediction:
    """The predicted end point of gradient flow, theta_inf = argmin {Q : X theta = y}."""

    @property
    def theta(self) -> Array: ...
    @property
    def nu(self) -> Array: ...
    @property
    def status(self) -> PredictStatus: ...
    @property
    def converged(self) -> bool: ...
    @property
    def message(self) -> str: ...
    @property
    def entropy_value(self) -> float: ...
    @property
    def residual(self) -> float: ...
    @property
    def relative_residual(self) -> float: ...
    @property
    def residual_floor(self) -> float: ...
    @property
    def iterations(self) -> int: ...
    @property
    def cg_iterations(self) -> int: ...
    @property
    def limit_order_log10(self) -> float | None: ...
    @property
    def min_l1(self) -> Array | None: ...
    @property
    def min_l2(self) -> Array | None: ...
    @property
    def small_init_limit(self) -> Array | None: ...
    @property
    def baselines(self) -> dict[str, dict[str, Any]] | None: ...

class Entropy:
    """The mirror potential Q of gradient flow from an init (any model)."""

    def value(self, theta: npt.ArrayLike) -> float | Array: ...
    def gradient(self, theta: npt.ArrayLike) -> Array: ...
    def hessian_diag(self, theta: npt.ArrayLike) -> Array: ...
    def psi(self, xi: npt.ArrayLike) -> Array: ...
    @property
    def dual_box(self) -> Array: ...
    @property
    def depth(self) -> int: ...
    @property
    def dim(self) -> int: ...
    @property
    def model(self) -> str: ...
    @property
    def quadrature_error_estimate(self) -> float: ...

def implicit_bias(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    init: npt.ArrayLike,
    *,
    tol: float = 1e-11,
    max_iter: int = 500,
    boundary_fraction: float = 0.99,
    max_halvings: int = 60,
    rank_rtol: float = 1e-12,
    range_rtol: float = 1e-9,
    floor_rtol: float = 1e-6,
    lp_tol: float = 1e-9,
    lp_max_iter: int = 200,
    baselines: bool = True,
    model: Literal["deep", "redundant", "signed"] = "deep",
    power: int | None = None,
) -> Prediction: ...
def entropy(
    init: npt.ArrayLike,
    *,
    model: Literal["deep", "redundant", "signed"] = "deep",
    power: int | None = None,
) -> Entropy: ...
def mirror_check(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    init: npt.ArrayLike,
    run: Run,
    *,
    tol: float = 1e-11,
    max_iter: int = 500,
    boundary_fraction: float = 0.99,
    max_halvings: int = 60,
    rank_rtol: float = 1e-12,
    range_rtol: float = 1e-9,
    floor_rtol: float = 1e-6,
    loss: Literal["square", "logistic"] = "square",
) -> dict[str, Any]: ...
def rich_to_kernel_sweep(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    depths: Sequence[int],
    scales: npt.ArrayLike,
    *,
    shape: Literal["gaussian", "uniform", "constant"] = "gaussian",
    zero_first: bool = False,
    seed: int = 1,
    low: float = -1.0,
    high: float = 1.0,
    tol: float = 1e-11,
    max_iter: int = 500,
    boundary_fraction: float = 0.99,
    max_halvings: int = 60,
    rank_rtol: float = 1e-12,
    range_rtol: float = 1e-9,
    floor_rtol: float = 1e-6,
    lp_tol: float = 1e-9,
    lp_max_iter: int = 200,
) -> dict[str, Any]: ...
class SweepSession:
    def __init__(self, config_json: str, base_dir: str, out: str, retry_failed: bool = False) -> None: ...
    def pending(self) -> list[int]: ...
    def total(self) -> int: ...
    def resumed(self) -> int: ...
    def commit(self, lines: list[str]) -> None: ...
    def finish(self, backend: str, workers: int, wall_s: float, stopped: bool = False) -> str: ...
    def table(self) -> dict[str, list[Any]]: ...

def _sweep_local(
    config_json: str,
    base_dir: str,
    out: str,
    threads: int = 0,
    retry_failed: bool = False,
    progress: bool = False,
) -> tuple[str, dict[str, list[Any]]]: ...
def _sweep_evaluate(config_json: str, base_dir: str, out: str, jobs: list[int]) -> list[str]: ...
def _saddles(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    loss_scaling: str = "sum",
    model: str = "product",
    simulate: list[float] | None = None,
    grad_rtol: float | None = None,
    tie_rtol: float | None = None,
    max_jumps: int | None = None,
    depth: int = 2,
) -> str: ...
def _core_defaults() -> str: ...
def _vocabulary() -> str: ...
