//! Gradient flow of the two-layer small-init models at any init scale, in the rescaled
//! dual variable and the accelerated time (docs/math.md section 12):
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
//! `-X^T diag(ell'') X diag(dtheta/ds)`.

use serde::Serialize;

use crate::error::{check_positive, DdlnError, Result};
use crate::observe::{Control, Observer, StepView};
use crate::optim::linalg::DiagLowRank;
use crate::optim::{integrate, FlowSettings, Hooks, OdeSystem, RunStats, Status, StiffSystem};
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

    /// Flow time per unit of accelerated time: `t = factor * t~` with
    /// `factor = lambda` (product) or `lambda / 2` (signed square).
    pub fn time_per_accelerated(self, lambda: f64) -> f64 {
        lambda / self.c()
    }
}

/// The ODE in `s` with its structured Jacobian.
struct DualSystem<'a> {
    problem: &'a Problem,
    lambda: f64,
    c: f64,
    theta: Vec<f64>,
    grad: Vec<f64>,
    s_grad: Vec<f64>,
    jac: DiagLowRank,
}

impl DualSystem<'_> {
    fn theta_of(&mut self, s: &[f64]) {
        let (l, c) = (self.lambda, self.c);
        for (t, &si) in self.theta.iter_mut().zip(s) {
            *t = 0.5 * c * ((2.0 * l * (si - 1.0)).exp() - (-2.0 * l * (si + 1.0)).exp());
        }
    }
}

impl OdeSystem for DualSystem<'_> {
    fn dim(&self) -> usize {
        self.theta.len()
    }

    fn rhs(&mut self, _t: f64, s: &[f64], ds: &mut [f64]) -> f64 {
        self.theta_of(s);
        let loss = self.problem.loss_and_gradient(&self.theta, &mut self.grad);
        self.s_grad.copy_from_slice(s);
        for (x, &g) in ds.iter_mut().zip(&self.grad) {
            *x = -g;
        }
        loss
    }
}

impl StiffSystem for DualSystem<'_> {
    fn jacobian(&mut self, t: f64, s: &[f64]) -> u64 {
        let mut passes = 0;
        if s != self.s_grad.as_slice() {
            let mut scratch = vec![0.0; s.len()];
            self.rhs(t, s, &mut scratch);
            passes += 1;
        }
        self.problem.curvatures(&self.theta, &mut self.jac.w);
        let (l, c) = (self.lambda, self.c);
        for (i, &si) in s.iter().enumerate() {
            self.jac.a[i] = 0.0;
            self.jac.b[i] = -1.0;
            self.jac.c[i] = c * l * ((2.0 * l * (si - 1.0)).exp() + (-2.0 * l * (si + 1.0)).exp());
        }
        passes
    }

    fn factor(&mut self, h_gamma: f64) -> bool {
        self.jac.factor(self.problem.x(), h_gamma)
    }

    fn solve(&mut self, b: &mut [f64]) {
        self.jac.solve(self.problem.x(), b);
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
    prev: Option<(f64, f64)>,
}

impl Crossings {
    pub(crate) fn new(levels: &[f64]) -> Self {
        Crossings {
            levels: levels.to_vec(),
            found: vec![None; levels.len()],
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
                }
            }
        } else {
            for (k, &level) in self.levels.iter().enumerate() {
                if view.loss <= level {
                    self.found[k] = Some(view.t);
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
    let (n, d) = (problem.n_samples(), problem.dim());
    let mut sys = DualSystem {
        problem,
        lambda,
        c: model.c(),
        theta: vec![0.0; d],
        grad: vec![0.0; d],
        s_grad: vec![f64::NAN; d],
        jac: DiagLowRank::new(n, d),
    };
    let mut s = vec![0.0; d];
    let times = crate::optim::linspace(t_end, settings.n_record.max(2));
    let (mut t_rec, mut loss_rec) = (Vec::new(), Vec::new());
    let mut record = |t: f64, _y: &[f64], loss: f64| {
        t_rec.push(t);
        loss_rec.push(loss);
    };
    let mut observer = Crossings::new(levels);
    let hooks = Hooks {
        record: &mut record,
        observer: &mut observer,
        observed_len: d,
        stop_loss: settings.loss_tol,
    };
    let mut flat = settings.clone();
    flat.t_end = t_end;
    let outcome = integrate(&mut sys, settings.integrator, &mut s, &times, &flat, hooks);
    sys.theta_of(&s);
    Ok(SmallInitRun {
        model,
        lambda,
        status: outcome.status,
        message: outcome.message,
        t: t_rec,
        loss: loss_rec,
        final_theta: sys.theta.clone(),
        final_dual: s,
        crossings: observer.found,
        stats: outcome.stats,
    })
}
