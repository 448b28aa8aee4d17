//! Gradient flow of the two-layer small-init models at any init scale, reported in the
//! rescaled dual variable and the accelerated time (docs/math.md section 12):
//!
//! ```text
//! ds/dt~ = -grad L(theta(s)),   theta_i(s) = (c/2) (exp(2 lambda (s_i - 1)) - exp(-2 lambda (s_i + 1)))
//! ```
//!
//! with `lambda = log(1/alpha)`, `c = 1` for `u ⊙ v` from `u = sqrt(2) alpha, v = 0` and
//! `c = 2` for `u^2 - v^2` from `u = v = alpha` (whose accelerated time is `2 t / lambda`).
//! The init enters through `lambda` only: `alpha = 1e-300`, or `1e-10000` (not a float),
//! is as easy as `alpha = 0.1`, and nothing underflows that matters (an entry of `theta`
//! below 1e-308 is zero to f64 accuracy in `X theta`). On a plateau `grad L` is constant
//! to exponentially small terms, so the steps are sized by the jumps, not by the plateau
//! (whose length in flow time grows like `log(1/alpha)`); the jumps, of width `1/lambda`,
//! are stiff, and `auto` hands them to RODAS4 with the structured Jacobian
//! `-X^T diag(ell'') X diag(dtheta/ds)`. The ODE is the dual dynamics of `ddln train`
//! ([`TwoLayerSystem`], in `xi = (lambda / c) s` and `t = (lambda / c) t~`) from the
//! standard init given by `lambda`.

use serde::Serialize;

use crate::error::{check_positive, DdlnError, Result};
use crate::observe::{Control, Observer, StepView};
use crate::optim::{integrate, FlowSettings, Hooks, RunStats, Status, TwoLayerSystem};
use crate::param::two_layer_flow::TwoLayerFlow;
use crate::param::TwoLayer;
use crate::problem::Problem;

/// Which two-layer small-init model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SmallInitModel {
    /// `theta = u ⊙ v` (the deep model, `L = 2`) from `u = sqrt(2) alpha`, `v = 0`.
    Product,
    /// `theta = u^2 - v^2` from `u = v = alpha`.
    SignedSquare,
}

impl SmallInitModel {
    /// `c` in `theta(s)`.
    fn c(self) -> f64 {
        match self {
            SmallInitModel::Product => 1.0,
            SmallInitModel::SignedSquare => 2.0,
        }
    }

    /// The two-layer form.
    fn form(self) -> TwoLayer {
        match self {
            SmallInitModel::Product => TwoLayer::Product,
            SmallInitModel::SignedSquare => TwoLayer::SignedSquare,
        }
    }

    /// Flow time per unit of accelerated time: `t = factor * t~` with
    /// `factor = lambda` (product) or `lambda / 2` (signed square).
    pub fn time_per_accelerated(self, lambda: f64) -> f64 {
        lambda / self.c()
    }
}

/// A simulated small-init flow in accelerated time.
#[derive(Debug, Clone, Serialize)]
pub struct SmallInitRun {
    /// The model.
    pub model: SmallInitModel,
    /// `lambda = log(1/alpha)`.
    pub lambda: f64,
    /// How the integration ended.
    pub status: Status,
    /// Detail of the status.
    pub message: String,
    /// Recorded accelerated times.
    pub t: Vec<f64>,
    /// The loss at the recorded times.
    pub loss: Vec<f64>,
    /// `theta` at the end.
    pub final_theta: Vec<f64>,
    /// The dual `s` at the end.
    pub final_dual: Vec<f64>,
    /// The accelerated times at which the loss first fell to each of the asked levels
    /// (interpolated in `log L` between accepted steps; `None`: not reached).
    pub crossings: Vec<Option<f64>>,
    /// Work counters.
    pub stats: RunStats,
}

/// Sees every accepted step and notes when the loss first falls to each level.
pub(crate) struct Crossings {
    levels: Vec<f64>,
    /// The time of each level's first crossing (interpolated in `log L`).
    pub(crate) found: Vec<Option<f64>>,
    /// The accepted steps `(t0, t1)` around each crossing: the event lies in between.
    pub(crate) brackets: Vec<Option<(f64, f64)>>,
    prev: Option<(f64, f64)>,
}

impl Crossings {
    pub(crate) fn new(levels: &[f64]) -> Self {
        Crossings {
            levels: levels.to_vec(),
            found: vec![None; levels.len()],
            brackets: vec![None; levels.len()],
            prev: None,
        }
    }
}

impl Observer for Crossings {
    fn observe(&mut self, view: &StepView) -> Control {
        if let Some((t0, l0)) = self.prev {
            for (k, &level) in self.levels.iter().enumerate() {
                if self.found[k].is_none() && view.loss <= level && l0 > level {
                    let (a, b) = (l0.ln(), view.loss.max(f64::MIN_POSITIVE).ln());
                    let f = if a > b {
                        (a - level.ln()) / (a - b)
                    } else {
                        1.0
                    };
                    self.found[k] = Some(t0 + f * (view.t - t0));
                    self.brackets[k] = Some((t0, view.t));
                }
            }
        } else {
            for (k, &level) in self.levels.iter().enumerate() {
                if view.loss <= level {
                    self.found[k] = Some(view.t);
                    self.brackets[k] = Some((view.t, view.t));
                }
            }
        }
        self.prev = Some((view.t, view.loss));
        Control::Continue
    }
}

/// Integrates the dual flow to accelerated time `t_end` (`settings.t_end` is ignored;
/// its tolerances, integrator and `n_record` apply), noting when the loss crosses
/// `levels`. `lambda = log(1/alpha) > 0`.
pub fn small_init_flow(
    problem: &Problem,
    model: SmallInitModel,
    lambda: f64,
    t_end: f64,
    levels: &[f64],
    settings: &FlowSettings,
) -> Result<SmallInitRun> {
    check_positive("lambda", lambda)?;
    check_positive("t_end", t_end)?;
    settings.validate()?;
    if problem.loss() != crate::loss::Loss::Square {
        return Err(DdlnError::invalid(
            "loss",
            "the small-init flow is derived for the squared loss",
        ));
    }
    let d = problem.dim();
    let flow = TwoLayerFlow::standard_small_init(model.form(), lambda, d);
    let mut sys = TwoLayerSystem::new(problem, &flow);
    // Integrated in flow time and xi; reported in t~ = t / per and s = xi / per.
    let per = model.time_per_accelerated(lambda);
    let mut xi = vec![0.0; d];
    let times: Vec<f64> = crate::optim::linspace(t_end, settings.n_record.max(2))
        .iter()
        .map(|t| t * per)
        .collect();
    let (mut t_rec, mut loss_rec) = (Vec::new(), Vec::new());
    let mut record = |t: f64, _y: &[f64], loss: f64| {
        t_rec.push(t / per);
        loss_rec.push(loss);
    };
    let mut observer = Crossings::new(levels);
    let hooks = Hooks {
        record: &mut record,
        observer: &mut observer,
        observed_len: d,
        stop_loss: settings.loss_tol,
    };
    // The tolerances apply to s: an absolute error e of s is e * per in xi.
    let mut flat = settings.clone();
    flat.t_end = t_end * per;
    flat.atol = settings.atol * per;
    flat.rtol = settings.rtol;
    let outcome = integrate(&mut sys, settings.integrator, &mut xi, &times, &flat, hooks);
    let mut theta = vec![0.0; d];
    flow.theta(&xi, &mut theta);
    Ok(SmallInitRun {
        model,
        lambda,
        status: outcome.status,
        message: outcome.message,
        t: t_rec,
        loss: loss_rec,
        final_theta: theta,
        final_dual: xi.iter().map(|x| x / per).collect(),
        crossings: observer.found.iter().map(|c| c.map(|t| t / per)).collect(),
        stats: outcome.stats,
    })
}
