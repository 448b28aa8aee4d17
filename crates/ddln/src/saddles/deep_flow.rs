//! The deep small-init flow reported in the unit-box time of the limit algorithm: depth
//! `L >= 3` from `u^1 = 0`, `u^j = alpha` at any `alpha`, plateaus skipped
//! ([`integrate_skipping`], docs/math.md section 12, deeper networks at any scale), with
//! the times at which its loss crosses given levels.

use serde::Serialize;

use crate::error::{check_positive, DdlnError, Result};
use crate::observe::{Control, Observer, StepView};
use crate::optim::{integrate_skipping, FlowSettings, RunStats, SkipHooks, SkipSettings, Status};
use crate::param::zero_first_flow::ZeroFirstFlow;
use crate::problem::Problem;

use super::dual_flow::Crossings;

/// A simulated deep small-init flow in the unit-box time `tau`.
#[derive(Debug, Clone, Serialize)]
pub struct DeepSmallInitRun {
    /// `L`.
    pub depth: usize,
    /// `lambda = log(1/alpha)`.
    pub lambda: f64,
    /// `w`, the half-width of the unit box.
    pub unit_edge: f64,
    /// How the run ended.
    pub status: Status,
    /// Detail of the status.
    pub message: String,
    /// `tau` at every accepted step and both ends of every skip.
    pub tau: Vec<f64>,
    /// The loss there.
    pub loss: Vec<f64>,
    /// `theta` at the end.
    pub final_theta: Vec<f64>,
    /// The dual in the unit box, `s = sigma / w`, at the end.
    pub final_dual: Vec<f64>,
    /// The `tau` at which the loss first fell to each of the asked levels.
    pub crossings: Vec<Option<f64>>,
    /// Plateaus skipped.
    pub skips: usize,
    /// Work counters of the integrated stretches.
    pub stats: RunStats,
}

/// Integrates depth `depth >= 3` from `u^1 = 0`, `u^j = e^-lambda` to unit-box time
/// `tau_end` (`settings.t_end` is ignored; its tolerances, integrator and step budget
/// apply), noting when the loss crosses `levels`.
pub fn deep_small_init_flow(
    problem: &Problem,
    depth: usize,
    lambda: f64,
    tau_end: f64,
    levels: &[f64],
    settings: &FlowSettings,
    skip: &SkipSettings,
) -> Result<DeepSmallInitRun> {
    check_positive("lambda", lambda)?;
    check_positive("tau_end", tau_end)?;
    skip.validate()?;
    settings.validate()?;
    if depth < 3 {
        return Err(DdlnError::invalid(
            "depth",
            format!("the deep small-init flow needs L >= 3 (got {depth}); two layers have small_init_flow"),
        ));
    }
    if problem.loss() != crate::loss::Loss::Square {
        return Err(DdlnError::invalid(
            "loss",
            "the small-init flow is derived for the squared loss",
        ));
    }
    let flow = ZeroFirstFlow::new(depth, lambda);
    let mut trace = Trace {
        tau: Vec::new(),
        loss: Vec::new(),
        crossings: Crossings::new(levels),
    };
    let mut ignore = |_: f64, _: &[f64], _: f64| {};
    let hooks = SkipHooks {
        record: &mut ignore,
        observer: &mut trace,
        stop_loss: settings.loss_tol,
    };
    let out = integrate_skipping(problem, &flow, &[tau_end], settings, skip, hooks);
    let w = flow.edge();
    Ok(DeepSmallInitRun {
        depth,
        lambda,
        unit_edge: w,
        status: out.status,
        message: out.message,
        final_theta: out.z.iter().map(|&z| flow.theta(z)).collect(),
        final_dual: out.z.iter().map(|&z| flow.sigma(z) / w).collect(),
        tau: trace.tau,
        loss: trace.loss,
        crossings: trace.crossings.found,
        skips: out.skips,
        stats: out.stats,
    })
}

/// The recorded `(tau, loss)` at every step and skip, and the level crossings.
struct Trace {
    tau: Vec<f64>,
    loss: Vec<f64>,
    crossings: Crossings,
}

impl Observer for Trace {
    fn observe(&mut self, view: &StepView) -> Control {
        self.tau.push(view.t);
        self.loss.push(view.loss);
        self.crossings.observe(view)
    }
}
