//! Gradient flow on the layers (paper eq. 5), `dw/dt = -J_G(w)^T grad L(G(w))`, by an
//! adaptive Runge-Kutta method, optionally with the dual variable
//! `xi(t) = -int_0^t grad L(theta(s)) ds` integrated alongside (for the mirror check).

use serde::{Deserialize, Serialize};

use super::rk::{integrate, Hooks, OdeSystem, RkSettings};
use super::tableau::RkMethod;
use super::{linspace, Run, Trajectory};
use crate::error::{check_finite, check_positive, DdlnError, Result};
use crate::observe::Observer;
use crate::param::Model;
use crate::problem::Problem;

/// Settings of a gradient-flow run. Defaults are documented on each field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlowSettings {
    /// End of the time horizon (default 50).
    pub t_end: f64,
    /// Relative tolerance per step (default 1e-10).
    pub rtol: f64,
    /// Absolute tolerance per step (default 1e-12).
    pub atol: f64,
    /// Largest number of accepted plus rejected steps (default 10^7).
    pub max_steps: u64,
    /// First step size; `None` picks it from the derivatives at the start (default).
    pub initial_step: Option<f64>,
    /// Upper bound on the step size; `None` for no bound (default).
    pub max_step: Option<f64>,
    /// Integrator (default Dormand-Prince 5(4), `dopri5`); `rodas` and `auto` see [`RkMethod`].
    pub integrator: RkMethod,
    /// Number of evenly spaced recorded times in `[0, t_end]` when `t_eval` is not given (default 201).
    pub n_record: usize,
    /// Explicit recorded times (sorted, in `[0, t_end]`); `t_end` is always recorded too.
    pub t_eval: Option<Vec<f64>>,
    /// Stop with status `Converged` once the loss is at most this (default: never).
    pub loss_tol: Option<f64>,
    /// Integrate `xi(t) = -int_0^t grad L ds` alongside and record it (default false).
    pub track_xi: bool,
    /// Integrate the reduced `d`-dimensional dynamics `dv/dt = -P(v) g(phi(v))` of the
    /// minimal layers instead of all `L d` layer entries (deep model under assumption
    /// (A) only; same trajectories, see `mirror::reduced_flow`) (default false).
    pub reduced: bool,
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            t_end: 50.0,
            rtol: 1e-10,
            atol: 1e-12,
            max_steps: 10_000_000,
            initial_step: None,
            max_step: None,
            integrator: RkMethod::default(),
            n_record: 201,
            t_eval: None,
            loss_tol: None,
            track_xi: false,
            reduced: false,
        }
    }
}

impl FlowSettings {
    /// Checks the horizon, tolerances and recorded times.
    pub fn validate(&self) -> Result<()> {
        check_positive("t_end", self.t_end)?;
        self.rk().validate()?;
        if self.n_record < 2 {
            return Err(DdlnError::invalid("n_record", "must be at least 2"));
        }
        if let Some(times) = &self.t_eval {
            check_finite("t_eval", times)?;
            if let Some(k) = times.windows(2).position(|w| w[1] < w[0]) {
                return Err(DdlnError::invalid(
                    "t_eval",
                    format!(
                        "times must be sorted ascending; t_eval[{}] < t_eval[{k}]",
                        k + 1
                    ),
                ));
            }
            if let Some(&bad) = times.iter().find(|&&t| t < 0.0 || t > self.t_end) {
                return Err(DdlnError::invalid(
                    "t_eval",
                    format!("time {bad} is outside [0, t_end = {}]", self.t_end),
                ));
            }
        }
        if let Some(tol) = self.loss_tol {
            if tol.is_nan() {
                return Err(DdlnError::invalid("loss_tol", "must be a number"));
            }
        }
        Ok(())
    }

    /// The error-control part of these settings.
    pub fn rk(&self) -> RkSettings {
        RkSettings {
            rtol: self.rtol,
            atol: self.atol,
            max_steps: self.max_steps,
            initial_step: self.initial_step,
            max_step: self.max_step,
        }
    }

    /// The recorded times: `t_eval` (or `n_record` evenly spaced ones), ending at `t_end`.
    pub fn output_times(&self) -> Vec<f64> {
        let mut times = match &self.t_eval {
            Some(t) => t.clone(),
            None => linspace(self.t_end, self.n_record),
        };
        if times.last() != Some(&self.t_end) {
            times.push(self.t_end);
        }
        times
    }
}

/// The layer ODE, with scratch buffers so that an evaluation allocates nothing.
struct LayerFlow<'a> {
    problem: &'a Problem,
    model: Model,
    state_len: usize,
    track_xi: bool,
    theta: Vec<f64>,
    grad: Vec<f64>,
}

impl OdeSystem for LayerFlow<'_> {
    fn dim(&self) -> usize {
        self.state_len + if self.track_xi { self.theta.len() } else { 0 }
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> f64 {
        let (state, _) = y.split_at(self.state_len);
        self.model.theta(state, &mut self.theta);
        let loss = self.problem.loss_and_gradient(&self.theta, &mut self.grad);
        for g in self.grad.iter_mut() {
            *g = -*g;
        }
        let (dstate, dxi) = dy.split_at_mut(self.state_len);
        self.model.pullback(state, &self.grad, dstate);
        if self.track_xi {
            dxi.copy_from_slice(&self.grad);
        }
        loss
    }
}

/// Runs gradient flow on the layers of `model` from `init` (`rows x d`, row-major).
///
/// Setup mistakes are errors; how the run ended is the returned [`Run`]'s status.
pub fn gradient_flow<O: Observer>(
    problem: &Problem,
    model: Model,
    init: &[f64],
    settings: &FlowSettings,
    observer: &mut O,
) -> Result<Run> {
    let d = problem.dim();
    model.validate_init(init, d)?;
    settings.validate()?;
    if settings.reduced {
        return match model {
            Model::Deep { depth } => {
                crate::mirror::reduced_flow(problem, depth, init, settings, observer)
            }
            _ => Err(DdlnError::invalid(
                "reduced",
                "the reduced dynamics exist for the deep model only; set reduced = false",
            )),
        };
    }
    let state_len = model.rows() * d;
    let mut system = LayerFlow {
        problem,
        model,
        state_len,
        track_xi: settings.track_xi,
        theta: vec![0.0; d],
        grad: vec![0.0; d],
    };
    let mut y = init.to_vec();
    if settings.track_xi {
        y.resize(state_len + d, 0.0);
    }
    let times = settings.output_times();
    // Sized up front: recording never reallocates inside the integration loop.
    let n_out = times.len();
    let mut traj = Trajectory {
        t: Vec::with_capacity(n_out),
        states: Vec::with_capacity(n_out * state_len),
        theta: Vec::with_capacity(n_out * d),
        loss: Vec::with_capacity(n_out),
        xi: settings.track_xi.then(|| Vec::with_capacity(n_out * d)),
    };
    let mut theta = vec![0.0; d];
    let mut record = |t: f64, y: &[f64], loss: f64| {
        let (state, xi) = y.split_at(state_len);
        model.theta(state, &mut theta);
        traj.t.push(t);
        traj.states.extend_from_slice(state);
        traj.theta.extend_from_slice(&theta);
        traj.loss.push(loss);
        if let Some(rec) = traj.xi.as_mut() {
            rec.extend_from_slice(xi);
        }
    };
    let Some(tableau) = settings.integrator.tableau() else {
        return Err(DdlnError::invalid(
            "integrator",
            "`rodas` needs the structured Jacobian of the reduced dynamics: set `reduced = true` (deep model, init satisfying assumption (A); `--reduced` on the command line), or use `dopri5`, `bs3` or `auto` on the layer ODE",
        ));
    };
    let hooks = Hooks {
        record: &mut record,
        observer,
        observed_len: state_len,
        stop_loss: settings.loss_tol,
    };
    let outcome = integrate(&mut system, &tableau, &mut y, &times, &settings.rk(), hooks);
    y.truncate(state_len);
    let mut final_theta = vec![0.0; d];
    model.theta(&y, &mut final_theta);
    let final_loss = problem.loss_value(&final_theta);
    Ok(Run {
        status: outcome.status,
        t_final: outcome.t,
        message: outcome.message,
        final_state: y,
        final_theta,
        final_loss,
        trajectory: traj,
        stats: outcome.stats,
    })
}
