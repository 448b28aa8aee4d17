//! Bindings of `ddln::train` with its two methods: `ddln.gradient_flow` (core
//! `optim::flow`) and `ddln.gradient_descent` (core `optim::descent`), and the `Run`
//! object they return.

use ddln::{
    DescentSettings, Dynamics, FlowSettings, Method, Model, RateCheck, RkMethod, Sampling,
    Schedule, TimeUnit,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::convert::{optional_real_array, to_numpy};
use crate::errors::{invalid, Error, Result};
use crate::inputs::{setup, Setup};
use crate::observe::{Horizon, PyObserver};
use crate::vocab;

/// The outcome of `gradient_flow` or `gradient_descent`: recorded trajectory, final
/// state, status and the paper's diagnostics. Row k of every recorded array belongs to
/// time `t[k]`.
///
/// Attributes
/// ----------
/// t : ndarray (n_t,)
///     Recorded times (flow time; for descent the sum of step sizes eta_0 + ... + eta_{k-1}).
/// theta : ndarray (n_t, d)
///     theta(t) = u^1(t) ⊙ ... ⊙ u^L(t) (or u^L, u^L - v^L for the other models).
/// layers : ndarray (n_t, rows, d)
///     The trainable layers at the recorded times (rows = L for the deep model).
/// loss : ndarray (n_t,)
///     L(theta(t)) = sum_i (<x_i, theta> - y_i)^2 (no factor 1/2) or the logistic loss.
/// xi : ndarray (n_t, d) or None
///     The dual variable xi(t) = -int_0^t grad L(theta(s)) ds (gradient flow with
///     track_xi=True only).
/// final_theta : ndarray (d,); final_layers : ndarray (rows, d); final_loss : float
///     The last finite state (the one before a divergence, if any).
/// t_final : float
///     Time at which the run ended.
/// status : str
///     "Completed", "Converged", "MaxSteps", "Diverged", "StepSizeTooSmall" or
///     "Stopped" (by on_step). Numerical outcomes are reported here, never raised.
/// message : str
///     Where and why the run ended.
/// stats : dict
///     Every work counter of the core's RunStats: grad_evals, steps, rejected_steps,
///     max_local_error (<= 1: every accepted step met rtol/atol; NaN for descent),
///     jacobian_evals, factorizations, linear_solves, stiff_from (time of the switch to
///     the stiff method, or None).
/// diagnostics : dict
///     The paper's statements checked on the run: "conservation" (Proposition 1.1:
///     max over t, i, j, k of |(u_i^j(t)^2 - u_i^j(0)^2) - (u_i^k(t)^2 - u_i^k(0)^2)|),
///     "assumption_a" (holds, minimal_layer, violating_coordinates), "sign_changes"
///     (Proposition 1.2), "rate" (Theorem 2: sigma, mu, l_star, initial_gap, rate =
///     2 sigma mu, gap, bound, holds, max_gap_over_bound, first_violation_t,
///     measured_rate) and "warnings". Entries that do not apply are None.
/// method : str
///     "flow" or "descent".
/// model : str
///     The parameterization, in words.
/// dynamics : str or None
///     The variables a flow integrated, "layers", "reduced", "dual" or "small_init" (None
///     for descent).
/// solver : dict or None
///     For a flow: dynamics, dynamics_reason (what dynamics="auto" decided and why),
///     integrator (asked for), methods (that ran, in order), switch_reason.
/// mirror_check : dict or None
///     With gradient_flow(..., mirror_check=True): max_abs_residual,
///     max_rel_residual (of grad Q(theta(t)) = xi(t)), times_checked,
///     relative_distance_to_prediction and prediction, as ddln.mirror_check returns.
/// implicit_bias : dict or None
///     gradient_descent on deep L = 2 (u ⊙ v) or signed L = 2 (u^2 - v^2), without
///     momentum: applies (bool), reason (when not), effective_init, init_scale, gain,
///     effective_tilt, theta_predicted, flow_limit (numpy arrays), prediction_status,
///     flow_limit_status, distance_to_final, flow_limit_to_final,
///     predicted_to_flow_limit, and identity (the step identity: max_residual,
///     max_scale_residual, checked, steps, sign_flips, max_step_product, ...).
///     None for gradient_flow.
/// momentum_bias : dict or None
///     gradient_descent with momentum > 0: applies, reason, lambda = gamma / (1 - beta)^2,
///     lambda_eff = (1 + beta) gamma / (2 (1 - beta)^2), run_time, theta_predicted (where
///     the momentum flow lambda_eff w'' + w' = -grad L ends from the init; numpy),
///     prediction_status, distance_to_final, flow_limit (numpy or None),
///     flow_limit_status, flow_limit_to_final. None otherwise.
/// jumps : dict or None
///     gradient_flow: the saddle-to-saddle jumps of a run at small init (squared loss;
///     u ⊙ v, u^2 - v^2, or deep L >= 3 under (A); every coordinate's dual box reaching
///     at least 5 from the init): applies, reason, time_unit (the run's), time_scale
///     (flow time per accelerated unit; inf where beyond f64), ln_time_scale, box_source,
///     initial_loss, status, worst_time_error and jumps, a list of dicts with the
///     algorithm's time (in the run's unit),
///     time_accelerated, theta, loss, active, signs, tie, degenerate and the run's
///     simulated_time, simulated_bracket, time_error, simulated_loss, simulated_theta,
///     saddle_error. None for gradient_descent.
#[pyclass(frozen, module = "ddln", name = "Run")]
pub struct PyRun {
    /// The core run itself (what `ddln.mirror_check` reads); arrays are numpy views
    /// made from it on first access.
    core: ddln::Run,
    rows: usize,
    d: usize,
    #[pyo3(get)]
    stats: Py<PyDict>,
    #[pyo3(get)]
    method: String,
    #[pyo3(get)]
    model: String,
    #[pyo3(get)]
    solver: Option<Py<PyAny>>,
    #[pyo3(get)]
    mirror_check: Option<Py<PyDict>>,
    #[pyo3(get)]
    implicit_bias: Option<Py<PyDict>>,
    #[pyo3(get)]
    momentum_bias: Option<Py<PyDict>>,
    #[pyo3(get)]
    jumps: Option<Py<PyDict>>,
    deep: bool,
    diagnostics_json: String,
    diagnostics: PyOnceLock<Py<PyAny>>,
    arrays: [PyOnceLock<Py<PyAny>>; 6],
}

impl PyRun {
    /// The core run, for a deep model's gradient flow (what `ddln::mirror::mirror_check`
    /// reads), or an error naming what the run is instead.
    pub fn core_flow(&self) -> Result<&ddln::Run> {
        if self.method != "flow" || !self.deep {
            return Err(invalid(
                "run",
                format!(
                    "the mirror check needs a gradient_flow run of the deep model, got a {} run of the {} model",
                    self.method, self.model
                ),
            ));
        }
        Ok(&self.core)
    }

    /// Where a descent run can continue from (`resume=`).
    pub fn checkpoint(&self) -> Result<&ddln::DescentCheckpoint> {
        self.core.checkpoint.as_ref().ok_or_else(|| {
            invalid(
                "resume",
                format!(
                    "this {} run has no checkpoint (only descent runs that did not diverge can be resumed)",
                    self.method
                ),
            )
        })
    }

    /// `(rows, d)` of the run's layers.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.d)
    }

    /// Array `k` as numpy (copied from the core run once, then cached).
    fn array(&self, py: Python<'_>, k: usize) -> PyResult<Py<PyAny>> {
        let (rows, d) = (self.rows, self.d);
        let traj = &self.core.trajectory;
        let n_t = traj.len();
        self.arrays[k]
            .get_or_try_init(py, || {
                let (data, shape): (&[f64], Vec<usize>) = match k {
                    0 => (&traj.t, vec![n_t]),
                    1 => (&traj.theta, vec![n_t, d]),
                    2 => (&traj.states, vec![n_t, rows, d]),
                    3 => (&traj.loss, vec![n_t]),
                    4 => (&self.core.final_theta, vec![d]),
                    _ => (&self.core.final_state, vec![rows, d]),
                };
                Ok::<_, PyErr>(to_numpy(py, data.to_vec(), &shape)?.unbind())
            })
            .map(|a| a.clone_ref(py))
    }
}

#[pymethods]
impl PyRun {
    /// Recorded times (n_t,).
    #[getter]
    fn t(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.array(py, 0)
    }

    /// theta at the recorded times (n_t, d).
    #[getter]
    fn theta(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.array(py, 1)
    }

    /// The layers at the recorded times (n_t, rows, d).
    #[getter]
    fn layers(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.array(py, 2)
    }

    /// L(theta) at the recorded times (n_t,).
    #[getter]
    fn loss(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.array(py, 3)
    }

    /// xi(t) = -int_0^t grad L ds at the recorded times (n_t, d), when tracked.
    #[getter]
    fn xi(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let Some(xi) = &self.core.trajectory.xi else {
            return Ok(None);
        };
        let shape = [self.core.trajectory.len(), self.d];
        Ok(Some(to_numpy(py, xi.clone(), &shape)?.unbind()))
    }

    /// theta at the last finite state (d,).
    #[getter]
    fn final_theta(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.array(py, 4)
    }

    /// The layers at the last finite state (rows, d).
    #[getter]
    fn final_layers(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.array(py, 5)
    }

    /// L(theta) at the last finite state.
    #[getter]
    fn final_loss(&self) -> f64 {
        self.core.final_loss
    }

    /// The time at which the run ended.
    #[getter]
    fn t_final(&self) -> f64 {
        self.core.t_final
    }

    /// Where and why the run ended.
    #[getter]
    fn message(&self) -> String {
        self.core.message.clone()
    }

    /// The variables a flow integrated, "layers", "reduced", "dual" or "small_init" (None
    /// for descent).
    #[getter]
    fn dynamics(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.core
            .solver
            .as_ref()
            .map(|s| vocab::member(py, "Dynamics", &s.dynamics))
            .transpose()
    }

    /// The diagnostics as a plain dict (parsed from the core's JSON on first access).
    #[getter]
    fn diagnostics(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.diagnostics
            .get_or_try_init(py, || {
                let json = py.import("json")?;
                Ok::<_, PyErr>(
                    json.call_method1("loads", (&self.diagnostics_json,))?
                        .unbind(),
                )
            })
            .map(|d| d.clone_ref(py))
    }

    /// How the run ended: a member of `ddln.Status` (a `str`, e.g. "Completed").
    #[getter]
    fn status(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        vocab::member(py, "Status", &self.core.status)
    }

    /// `True` for the statuses that mean the run did what was asked ("Completed", "Converged").
    #[getter]
    fn success(&self) -> bool {
        self.core.status.is_success()
    }

    fn __repr__(&self) -> String {
        format!(
            "Run(method={:?}, status={:?}, t_final={}, final_loss={:e}, recorded={}, message={:?})",
            self.method,
            vocab::name(&self.core.status),
            self.core.t_final,
            self.core.final_loss,
            self.core.trajectory.len(),
            self.core.message
        )
    }
}

/// Mirror-map options of a gradient-flow run (deep model only).
#[derive(Debug, Clone, Copy, Default)]
struct MirrorOptions {
    /// Check the run against the mirror map (`ddln::mirror::mirror_check`).
    check: bool,
}

/// Runs `method` with the GIL released, then builds the `Run`.
fn run(
    py: Python<'_>,
    setup: Setup,
    method: Method,
    rate_check: RateCheck,
    mut observer: PyObserver,
    mirror: MirrorOptions,
    checkpoint: Option<ddln::DescentCheckpoint>,
) -> Result<PyRun> {
    let Setup {
        problem,
        model,
        init,
        rows,
        d,
    } = setup;
    let report = py.detach(|| {
        let resume = checkpoint.as_ref();
        ddln::train_from(
            &problem,
            model,
            &init,
            resume,
            &method,
            &rate_check,
            &mut observer,
        )
    });
    observer.finish(py)?;
    // A Python exception that stopped the run (Ctrl-C, or raised by on_step) is
    // re-raised carrying the partial run as its attribute `run` (status "Stopped").
    let pending = observer.error.take();
    let mut report = match (report, pending) {
        (Ok(report), Some(e)) => {
            let partial = Py::new(py, py_run(py, report, method, model, rows, d, None)?)?;
            e.value(py).setattr("run", partial)?;
            return Err(Error::Py(e));
        }
        (_, Some(e)) => return Err(Error::Py(e)),
        (report, None) => report?,
    };
    if mirror.check {
        py.detach(|| {
            report.check_mirror(&problem, model, &init, &ddln::PredictSettings::default())
        });
    }
    let mirror_check = match report.mirror_check.take() {
        Some(ddln::MirrorCheckReport {
            check: Some(check), ..
        }) => Some(crate::mirror::mirror_check_dict(py, check)?.unbind()),
        Some(ddln::MirrorCheckReport { reason, .. }) => {
            return Err(invalid(
                "mirror_check",
                reason.unwrap_or_else(|| "does not apply".into()),
            ))
        }
        None => None,
    };
    py_run(py, report, method, model, rows, d, mirror_check)
}

/// The Python `Run` of a core report.
fn py_run(
    py: Python<'_>,
    report: ddln::Report,
    method: Method,
    model: Model,
    rows: usize,
    d: usize,
    mirror_check: Option<Py<PyDict>>,
) -> Result<PyRun> {
    let diagnostics_json = serde_json::to_string(&report.diagnostics)
        .map_err(|e| invalid("diagnostics", format!("could not be serialized: {e}")))?;
    let implicit_bias = match &report.implicit_bias {
        Some(checked) => Some(bias_dict(py, checked)?),
        None => None,
    };
    let momentum_bias = match &report.momentum_bias {
        Some(checked) => Some(momentum_dict(py, checked)?),
        None => None,
    };
    let jumps = match &report.jumps {
        Some(checked) => Some(json_dict(py, checked, "jumps")?),
        None => None,
    };
    let run = report.run;
    let stats = json_dict(py, &run.stats, "stats")?;
    // serde writes a NaN as null: keep max_local_error a float (NaN for descent).
    stats
        .bind(py)
        .set_item("max_local_error", run.stats.max_local_error)?;
    let solver = match &run.solver {
        Some(s) => Some(json_dict(py, s, "solver")?.into_any()),
        None => None,
    };
    Ok(PyRun {
        core: run,
        rows,
        d,
        stats,
        method: method.name().to_string(),
        model: model.name(),
        solver,
        mirror_check,
        implicit_bias,
        momentum_bias,
        jumps,
        deep: matches!(model, Model::Deep { .. }),
        diagnostics_json,
        diagnostics: PyOnceLock::new(),
        arrays: std::array::from_fn(|_| PyOnceLock::new()),
    })
}

fn callback(on_step: Option<&Bound<'_, PyAny>>, every: u64) -> Result<Option<Py<PyAny>>> {
    if every == 0 {
        return Err(invalid("callback_every", "must be at least 1"));
    }
    match on_step {
        Some(f) if !f.is_none() => {
            if !f.is_callable() {
                return Err(Error::Type(format!(
                    "`on_step` must be callable as on_step(t, loss), got {}",
                    f.get_type().name()?
                )));
            }
            Ok(Some(f.clone().unbind()))
        }
        _ => Ok(None),
    }
}

/// Gradient flow of a deep diagonal linear network, integrated with error control.
///
/// Trains theta = u^1 ⊙ u^2 ⊙ ... ⊙ u^L by the gradient flow of the layers
/// (paper eq. 5), du^j/dt = -grad_{u^j} L(theta), with
/// L(theta) = sum_i (<x_i, theta> - y_i)^2 (no factor 1/2), by an adaptive explicit
/// Runge-Kutta method whose steps land exactly on the recorded times. The paper's
/// statements are checked on the run: conservation of u^j(t)^2 - u^j(0)^2 across layers
/// and the sign rule (Proposition 1), assumption (A), and Theorem 2's bound
/// L(theta(t)) - L* <= exp(-2 sigma mu t) (L(theta(0)) - L*).
///
/// Parameters
/// ----------
/// X : array_like (n, d)
///     Data; any real dtype and layout (converted once to contiguous float64).
/// y : array_like (n,)
///     Targets (labels in {-1, +1} for loss="logistic").
/// init : array_like (rows, d)
///     The layers at t = 0, one row per layer: rows = L for model="deep" (L >= 2),
///     1 (the vector u) for "redundant", 2 (u then v) for "signed".
/// t_end : float
///     End of the time horizon (> 0).
/// rtol, atol : float
///     Per-step relative / absolute error tolerances (1e-15 <= rtol).
/// t_eval : array_like (m,) or None
///     Recorded times, sorted, in [0, t_end]; t_end is appended if missing. None records
///     n_record evenly spaced times.
/// n_record : int
///     Number of evenly spaced recorded times when t_eval is None (>= 2).
/// loss : {"square", "logistic"}
/// loss_scaling : {"sum", "mean/2"}
///     The factor in front of the sum over samples: 1 (the paper's) or 1 / (2n) (the
///     field's ||X theta - y||^2 / (2n): a peer's step size gives the peer's iterates).
/// model : {"deep", "redundant", "signed"}
///     theta = u^1 ⊙ ... ⊙ u^L, u^{⊙L} (paper appendix A.3), or u^{⊙L} - v^{⊙L}.
/// power : int or None
///     L for "redundant" and "signed" (required there; not allowed for "deep").
/// integrator : {"auto", "dopri5", "bs3", "rodas"}
///     "auto" (Dormand-Prince 5(4), switching to the stiff RODAS4 once the flow turns
///     stiff; run.solver says when and why), Dormand-Prince 5(4), Bogacki-Shampine 3(2),
///     or RODAS4 throughout.
/// track_xi : bool
///     Also integrate xi(t) = -int_0^t grad L(theta(s)) ds and record it (run.xi).
/// loss_tol : float or None
///     Stop with status "Converged" once L(theta) <= loss_tol.
/// max_steps : int
///     Budget of accepted plus rejected steps (status "MaxSteps" when exhausted).
/// initial_step, max_step : float or None
///     First step size (None: Hairer's rule) and an upper bound on the step size.
/// rate_rtol, rate_atol_rel : float
///     Slack of Theorem 2's check: the gap may exceed the bound by
///     rate_rtol * bound + rate_atol_rel * (L(theta(0)) - L*).
/// on_step : callable(t, loss) -> bool or None
///     Called every callback_every accepted steps with the GIL held. Return False to stop
///     the run (status "Stopped"); True or None continue. An exception raised by on_step
///     ends the run and is re-raised.
/// callback_every : int
///     Stride of on_step in accepted steps (>= 1).
/// progress : bool
///     Draw a progress bar on sys.stderr.
/// dynamics : {"auto", "layers", "reduced", "dual", "small_init"}
///     The variables integrated. "reduced" (model="deep", assumption (A)): the
///     d-dimensional ODE dv/dt = -P(v) grad L(phi(v)) in the minimal layer v, with every
///     layer rebuilt as u^j = s_j sqrt(v^2 + D_j) at the recorded times (docs/math.md
///     section 4); "dual" (two layers: model="deep" with 2 rows, or model="signed" with
///     power=2; any init): the d dual variables xi = -int grad L with the layers in
///     closed form, exact at any init scale (1e-300 included) and a plateau in a few
///     steps (section 12); "small_init" (model="deep", L >= 3, any init under (A), or
///     model="signed" with power >= 3):
///     per coordinate u^l = c sinh z for the smallest layer, u^j = c sqrt(sinh^2 z +
///     r_j) for the others (u^1 = alpha sinh z, u^j = alpha cosh z from u^1 = 0,
///     u^j = alpha); model="signed", power >= 3, positive init: u^-(L-2) =
///     h (1 - tanh z), v^-(L-2) = h (1 + tanh z); exact at any scale, plateaus skipped
///     in closed form (section 12); "layers": every layer entry; "auto" (default):
///     small_init from u^1 = 0, u^j = alpha when alpha^L <= 1e-12, from any other
///     init under (A) when its gap scale c is below 1e3 atol, and for model="signed"
///     (power >= 3) from a positive init below atol / rtol, else reduced where
///     it applies (for two layers: an init whose largest entry is at least atol / rtol),
///     else dual for two layers (u^2 - v^2, inits off (A), small inits), layers
///     otherwise. Same Run, same trajectory up
///     to the tolerance.
/// time_unit : {"flow", "accelerated"}
///     The unit of t_end, t_eval, initial_step, max_step and of every time the run
///     reports (run.t, on_step's t, the jumps). "accelerated": flow time over the mean
///     half-width of the run's dual box, the jumps' time_accelerated (log(1/alpha) for
///     two layers, w_L alpha^-(L-2) for the deep model from u^1 = 0, u^j = alpha); a run
///     at small init only. With the small-init dynamics it reaches the jumps at any
///     scale, also where flow time overflows f64 (L = 4 below alpha ~ 1e-154).
/// mirror_check : bool
///     (model="deep", implies track_xi) Check the run against the mirror flow of its init:
///     run.mirror_check holds max_t ||grad Q(theta(t)) - xi(t)|| and the distance of
///     the end point to the predicted limit (see ddln.mirror_check).
///
/// Returns
/// -------
/// Run
///     run.t, run.theta, run.layers (n_t, rows, d), run.loss, run.xi, run.final_theta,
///     run.final_layers, run.status, run.message, run.stats, run.diagnostics,
///     run.mirror_check.
///
/// Raises
/// ------
/// ValueError (ddln.DdlnError)
///     Wrong shapes, NaN/inf entries, settings out of range (e.g. L < 2, rtol <= 0);
///     with dynamics="reduced" or mirror_check, another model or an init violating (A)
///     (the message names the coordinates).
/// TypeError
///     Non-numeric arrays, on_step not callable.
/// KeyboardInterrupt
///     Ctrl-C during the run (checked every ~50 ms; the GIL is released meanwhile).
#[pyfunction]
#[pyo3(signature = (
    X, y, init, *, t_end = 50.0, rtol = 1e-10, atol = 1e-12, t_eval = None, n_record = 201,
    loss = "square", loss_scaling = "sum", model = "deep", power = None, integrator = "auto", track_xi = false,
    loss_tol = None, max_steps = 10000000, initial_step = None, max_step = None,
    rate_rtol = 1e-6, rate_atol_rel = 1e-10, on_step = None, callback_every = 1, progress = false,
    dynamics = "auto", mirror_check = false, time_unit = "flow"
))]
#[allow(non_snake_case, clippy::too_many_arguments)]
pub fn gradient_flow(
    py: Python<'_>,
    X: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    init: &Bound<'_, PyAny>,
    t_end: f64,
    rtol: f64,
    atol: f64,
    t_eval: Option<&Bound<'_, PyAny>>,
    n_record: usize,
    loss: &str,
    loss_scaling: &str,
    model: &str,
    power: Option<usize>,
    integrator: &str,
    track_xi: bool,
    loss_tol: Option<f64>,
    max_steps: u64,
    initial_step: Option<f64>,
    max_step: Option<f64>,
    rate_rtol: f64,
    rate_atol_rel: f64,
    on_step: Option<&Bound<'_, PyAny>>,
    callback_every: u64,
    progress: bool,
    dynamics: &str,
    mirror_check: bool,
    time_unit: &str,
) -> Result<PyRun> {
    let setup = setup(X, y, init, loss, loss_scaling, model, power)?;
    let dynamics = Dynamics::from_name(dynamics)?;
    let reduced = dynamics == Dynamics::Reduced;
    if let Model::Deep { depth } = setup.model {
        if reduced || mirror_check {
            // Both need assumption (A): fail before the run, with the core's message.
            ddln::Reduced::new(&setup.init, depth, setup.d)?;
        }
    } else {
        for (name, on) in [("dynamics", reduced), ("mirror_check", mirror_check)] {
            if on {
                return Err(invalid(
                    name,
                    format!("applies to model='deep' (the mirror map and the reduced dynamics are derived for theta = u^1 ⊙ … ⊙ u^L), got model='{model}'"),
                ));
            }
        }
    }
    let t_eval = match optional_real_array(t_eval, "t_eval")? {
        Some(times) => {
            times.expect_ndim("t_eval", 1, "a 1-D array of times")?;
            Some(times.data)
        }
        None => None,
    };
    let settings = FlowSettings {
        t_end,
        rtol,
        atol,
        max_steps,
        initial_step,
        max_step,
        integrator: RkMethod::from_name(integrator)?,
        n_record,
        t_eval,
        loss_tol,
        track_xi: track_xi || mirror_check,
        dynamics,
        time_unit: TimeUnit::from_name(time_unit)?,
    };
    settings.validate()?;
    let observer = PyObserver::new(
        callback(on_step, callback_every)?,
        callback_every,
        Horizon::Time(t_end),
        progress,
    );
    let check = RateCheck {
        rtol: rate_rtol,
        atol_rel: rate_atol_rel,
    };
    let mirror = MirrorOptions {
        check: mirror_check,
    };
    run(
        py,
        setup,
        Method::Flow(settings),
        check,
        observer,
        mirror,
        None,
    )
}

/// Reads a sampling: None (with replacement), "replacement", "epochs", or a sequence of
/// sample indices (the order).
fn sampling(obj: Option<&Bound<'_, PyAny>>) -> Result<Sampling> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Sampling::default());
    };
    if let Ok(kind) = obj.extract::<String>() {
        return match kind.as_str() {
            "replacement" => Ok(Sampling::Replacement),
            "epochs" => Ok(Sampling::Epochs),
            other => Err(invalid(
                "sampling",
                format!("unknown sampling `{other}`; expected \"replacement\", \"epochs\" or an array of sample indices"),
            )),
        };
    }
    let indices: Vec<i64> = obj.extract().map_err(|_| {
        Error::Type(format!(
            "`sampling` must be None, \"replacement\", \"epochs\" or a sequence of sample indices, got {}",
            obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
        ))
    })?;
    if let Some(j) = indices.iter().position(|&i| i < 0) {
        return Err(invalid(
            "sampling.indices",
            format!(
                "indices[{j}] = {} is negative: indices are 0-based rows of X",
                indices[j]
            ),
        ));
    }
    Ok(Sampling::Order {
        indices: indices.into_iter().map(|i| i as usize).collect(),
    })
}

/// Reads a schedule: None, a kind name, or a dict in the config's format.
fn schedule(obj: Option<&Bound<'_, PyAny>>) -> Result<Schedule> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Schedule::Constant);
    };
    let json = if let Ok(kind) = obj.extract::<String>() {
        serde_json::json!({ "kind": kind }).to_string()
    } else if obj.is_instance_of::<PyDict>() {
        let dumps = obj.py().import("json")?.getattr("dumps")?;
        dumps.call1((obj,))?.extract::<String>()?
    } else {
        return Err(Error::Type(format!(
            "`schedule` must be None, a kind name or a dict like {{\"kind\": \"inverse_time\", \"decay\": 0.01}}, got {}",
            obj.get_type().name()?
        )));
    };
    serde_json::from_str(&json).map_err(|e| {
        invalid(
            "schedule",
            format!("{e}; expected {{\"kind\": \"constant\"}}, {{\"kind\": \"inverse_time\", \"decay\": >= 0}} or {{\"kind\": \"exponential\", \"gamma\": in (0, 1]}}"),
        )
    })
}

/// Gradient descent, mini-batch SGD or heavy-ball momentum on the layers.
///
/// Iterates w_{k+1} = w_k - eta_k grad_w L(G(w_k)) + beta (w_k - w_{k-1}) on the layers
/// w = (u^1, ..., u^L) of theta = G(w) = u^1 ⊙ ... ⊙ u^L, with
/// L(theta) = sum_i (<x_i, theta> - y_i)^2 (no factor 1/2). The recorded time is
/// t_k = eta_0 + ... + eta_{k-1}, comparable with gradient flow at small steps.
///
/// Parameters
/// ----------
/// X : array_like (n, d); y : array_like (n,); init : array_like (rows, d)
///     As for gradient_flow.
/// lr : float
///     Step size eta (> 0).
/// steps : int
///     Number of iterations (>= 1).
/// record_every : int
///     Record every this many iterations, and the last one.
/// momentum : float
///     Heavy-ball beta in [0, 1) (0: plain gradient descent).
/// batch_size : int or None
///     Mini-batch size (1 <= batch_size <= n) for SGD, with the unbiased scaling n / b;
///     None uses every sample. With SGD the loss seen by on_step is NaN off the record grid.
/// seed : int
///     Seed of the mini-batch sampler.
/// sampling : None, "replacement", "epochs" or array_like of int
///     How SGD draws its batches: with replacement (None, the default, as in the
///     field's codes), by reshuffled epochs, or these sample indices in order,
///     batch_size at a time, starting over at the end.
/// schedule : None, str or dict
///     eta_k: None or "constant"; {"kind": "inverse_time", "decay": c} for
///     lr / (1 + c k); {"kind": "exponential", "gamma": g} for lr g^k;
///     {"kind": "piecewise", "boundaries": [k1, k2, ...], "factors": [f0, f1, f2, ...]}
///     for lr f_j on k_j <= k < k_{j+1}.
/// resume : Run or None
///     Continue this earlier gradient_descent run (same X, y, loss, model and settings)
///     from its last iterate, velocity and sampler state, up to `steps` iterations in
///     all: the iterates are those of one uninterrupted run, bit for bit. `init` is then
///     not used.
/// loss_tol, grad_tol : float or None
///     Stop with status "Converged" once L <= loss_tol, or ||grad_w L|| <= grad_tol.
/// loss, loss_scaling, model, power, rate_rtol, rate_atol_rel, on_step, callback_every, progress
///     As for gradient_flow (on_step is called every callback_every iterations).
///
/// Returns
/// -------
/// Run
///     As for gradient_flow; run.stats["max_local_error"] is NaN, run.xi is None.
///     A divergence gives status "Diverged" and keeps the last finite iterate.
///
/// Raises
/// ------
/// ValueError (ddln.DdlnError), TypeError, KeyboardInterrupt
///     As for gradient_flow (e.g. batch_size > n, momentum >= 1, lr <= 0).
#[pyfunction]
#[pyo3(signature = (
    X, y, init, *, lr = 1e-3, steps = 10000, record_every = 10, momentum = 0.0,
    batch_size = None, seed = 0, schedule = None, loss_tol = None, grad_tol = None,
    loss = "square", loss_scaling = "sum", model = "deep", power = None, rate_rtol = 1e-6, rate_atol_rel = 1e-10,
    on_step = None, callback_every = 1, progress = false, sampling = None, resume = None
))]
#[allow(non_snake_case, clippy::too_many_arguments)]
pub fn gradient_descent(
    py: Python<'_>,
    X: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    init: &Bound<'_, PyAny>,
    lr: f64,
    steps: u64,
    record_every: u64,
    momentum: f64,
    batch_size: Option<usize>,
    seed: u64,
    schedule: Option<&Bound<'_, PyAny>>,
    loss_tol: Option<f64>,
    grad_tol: Option<f64>,
    loss: &str,
    loss_scaling: &str,
    model: &str,
    power: Option<usize>,
    rate_rtol: f64,
    rate_atol_rel: f64,
    on_step: Option<&Bound<'_, PyAny>>,
    callback_every: u64,
    progress: bool,
    sampling: Option<&Bound<'_, PyAny>>,
    resume: Option<&Bound<'_, PyAny>>,
) -> Result<PyRun> {
    let setup = setup(X, y, init, loss, loss_scaling, model, power)?;
    let checkpoint = match resume.filter(|r| !r.is_none()) {
        None => None,
        Some(obj) => {
            let run = obj.cast::<PyRun>().map_err(|_| {
                Error::Type(format!(
                    "`resume` must be a Run returned by gradient_descent, got {}",
                    obj.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ))
            })?;
            Some(run.get().checkpoint()?.clone())
        }
    };
    let settings = DescentSettings {
        lr,
        steps,
        schedule: self::schedule(schedule)?,
        momentum,
        batch_size,
        sampling: self::sampling(sampling)?,
        seed,
        record_every,
        loss_tol,
        grad_tol,
    };
    settings.validate(setup.problem.n_samples())?;
    let observer = PyObserver::new(
        callback(on_step, callback_every)?,
        callback_every,
        Horizon::Steps(steps),
        progress,
    );
    let check = RateCheck {
        rtol: rate_rtol,
        atol_rel: rate_atol_rel,
    };
    run(
        py,
        setup,
        Method::Descent(settings),
        check,
        observer,
        MirrorOptions::default(),
        checkpoint,
    )
}

/// The core's default settings, as JSON: `{"flow": FlowSettings, "descent": DescentSettings,
/// "rate_check": RateCheck, "predict": PredictSettings, "lp": LpSettings, "preset_alpha": f64}` (lets the tests check that the Python defaults agree).
#[pyfunction]
pub fn _core_defaults() -> Result<String> {
    let mirror = crate::mirror::core_defaults();
    let value = serde_json::json!({
        "flow": FlowSettings::default(),
        "descent": DescentSettings::default(),
        "rate_check": RateCheck::default(),
        "predict": mirror["predict"],
        "lp": mirror["lp"],
        "preset_alpha": ddln::presets::DEFAULT_ALPHA,
    });
    Ok(value.to_string())
}

/// A serializable core value as a Python dict (one serde -> Python path: JSON, parsed by
/// Python's `json`).
/// The implicit-bias table as a dict, its per-coordinate vectors as numpy arrays.
fn bias_dict(
    py: Python<'_>,
    checked: &ddln::Checked<ddln::mirror::DiscreteBias>,
) -> Result<Py<PyDict>> {
    let dict = json_dict(py, checked, "implicit_bias")?;
    if let Some(bias) = &checked.check {
        let d = bias.theta_predicted.len();
        let b = dict.bind(py);
        for (key, values) in [
            ("effective_init", &bias.effective_init),
            ("init_scale", &bias.init_scale),
            ("gain", &bias.gain),
            ("effective_tilt", &bias.effective_tilt),
            ("theta_predicted", &bias.theta_predicted),
            ("flow_limit", &bias.flow_limit),
        ] {
            b.set_item(key, to_numpy(py, values.clone(), &[d])?)?;
        }
    }
    Ok(dict)
}

/// The momentum table as a dict, its per-coordinate vectors as numpy arrays.
fn momentum_dict(
    py: Python<'_>,
    checked: &ddln::Checked<ddln::mirror::MomentumBias>,
) -> Result<Py<PyDict>> {
    let dict = json_dict(py, checked, "momentum_bias")?;
    if let Some(bias) = &checked.check {
        let d = bias.theta_predicted.len();
        let b = dict.bind(py);
        b.set_item(
            "theta_predicted",
            to_numpy(py, bias.theta_predicted.clone(), &[d])?,
        )?;
        if let Some(limit) = &bias.flow_limit {
            b.set_item("flow_limit", to_numpy(py, limit.clone(), &[d])?)?;
        }
    }
    Ok(dict)
}

fn json_dict<T: serde::Serialize>(py: Python<'_>, value: &T, what: &str) -> Result<Py<PyDict>> {
    let text = serde_json::to_string(value)
        .map_err(|e| invalid(what, format!("could not be serialized: {e}")))?;
    let obj = py.import("json")?.call_method1("loads", (text,))?;
    Ok(obj
        .cast_into::<PyDict>()
        .map_err(pyo3::PyErr::from)?
        .unbind())
}
