//! Where heavy-ball gradient descent ends (docs/math.md section 11, "Heavy ball"): the
//! limit of the momentum gradient flow `lambda_eff w'' + w' = -grad L` from the run's
//! init at rest, `lambda_eff = (1 + beta) gamma / (2 (1 - beta)^2)` (the update expanded
//! to second order in its time step `gamma / (1 - beta)`), next to the plain flow's limit.

use serde::Serialize;

use crate::error::{DdlnError, Result};
use crate::loss::Loss;
use crate::optim::{momentum_flow, DescentSettings, FlowSettings, Schedule, Status};
use crate::param::Model;
use crate::problem::Problem;
use crate::vector::distance;

use super::model_map::predict_model;
use super::predict::{PredictSettings, PredictStatus};

/// The momentum flow runs for this many times the run's own time `K gamma / (1 - beta)`.
pub const HORIZON_FACTOR: f64 = 10.0;
/// Relative tolerance of the momentum flow's integration.
pub const FLOW_RTOL: f64 = 1e-11;
/// The momentum flow stops once the loss is at most this times the loss at the init.
pub const LOSS_RTOL: f64 = 1e-24;

/// The implicit bias of a heavy-ball run.
#[derive(Debug, Clone, Serialize)]
pub struct MomentumBias {
    /// `lambda = gamma / (1 - beta)^2`, the parameter of Papazov et al.'s rule (runs
    /// with equal lambda follow one path as `beta -> 1`).
    pub lambda: f64,
    /// `(1 + beta) gamma / (2 (1 - beta)^2)`: the heavy ball's own second-order limit.
    pub lambda_eff: f64,
    /// The run's time `K gamma / (1 - beta)` after `K` steps.
    pub run_time: f64,
    /// Where the momentum flow with `lambda_eff` ends (the prediction).
    pub theta_predicted: Vec<f64>,
    /// How the momentum flow's integration ended (`Converged` once the loss is below
    /// `LOSS_RTOL` times its initial value).
    pub prediction_status: Status,
    /// `||theta_predicted - theta_final||`.
    pub distance_to_final: f64,
    /// Where gradient flow from the same init ends (the mirror-map predictor), when the
    /// model has a mirror map there.
    pub flow_limit: Option<Vec<f64>>,
    /// Status of the predictor for `flow_limit`.
    pub flow_limit_status: Option<PredictStatus>,
    /// `||flow_limit - theta_final||`: the bias of the momentum.
    pub flow_limit_to_final: Option<f64>,
}

/// Why a run has no momentum limit, or `None` when it has one: heavy ball (momentum > 0)
/// with a constant step, full batches (the lambda rule is about full-batch heavy ball)
/// and the squared loss.
pub fn momentum_bias_applies(
    problem: &Problem,
    settings: &DescentSettings,
) -> Option<&'static str> {
    if settings.momentum <= 0.0 {
        Some("the momentum limit is for heavy-ball runs (momentum > 0)")
    } else if settings.schedule != Schedule::Constant {
        Some("the lambda rule needs a constant step (schedule = constant)")
    } else if settings.batch_size.is_some_and(|b| b < problem.n_samples()) {
        Some("the lambda rule is about full-batch heavy ball (no batch_size)")
    } else if problem.loss() != Loss::Square {
        Some("the limit is predicted over the interpolators: squared loss only")
    } else {
        None
    }
}

/// The implicit bias of a heavy-ball run of `steps` steps with `settings` from `init`
/// that ended at `final_theta`; an error where [`momentum_bias_applies`] says why not.
pub fn momentum_bias(
    problem: &Problem,
    model: Model,
    init: &[f64],
    settings: &DescentSettings,
    steps: u64,
    final_theta: &[f64],
) -> Result<MomentumBias> {
    if let Some(why) = momentum_bias_applies(problem, settings) {
        return Err(DdlnError::invalid("train", why));
    }
    let beta = settings.momentum;
    let gamma = settings.lr;
    let h = gamma / (1.0 - beta);
    let lambda = h / (1.0 - beta);
    let lambda_eff = 0.5 * (1.0 + beta) * lambda;
    let run_time = steps as f64 * h;
    let mut theta0 = vec![0.0; problem.dim()];
    model.theta(init, &mut theta0);
    let loss0 = problem.loss_value(&theta0);
    let flow = FlowSettings {
        t_end: HORIZON_FACTOR * run_time.max(h),
        rtol: FLOW_RTOL,
        atol: FLOW_RTOL * 1e-3,
        loss_tol: Some(LOSS_RTOL * loss0),
        ..FlowSettings::default()
    };
    let (w, status, _) = momentum_flow(problem, model, init, lambda_eff, &flow)?;
    let mut theta_predicted = vec![0.0; problem.dim()];
    model.theta(&w, &mut theta_predicted);
    let flow_limit = predict_model(problem, model, init, &PredictSettings::default()).ok();
    Ok(MomentumBias {
        lambda,
        lambda_eff,
        run_time,
        distance_to_final: distance(&theta_predicted, final_theta),
        theta_predicted,
        prediction_status: status,
        flow_limit_to_final: flow_limit.as_ref().map(|p| distance(&p.theta, final_theta)),
        flow_limit_status: flow_limit.as_ref().map(|p| p.status),
        flow_limit: flow_limit.map(|p| p.theta),
    })
}
