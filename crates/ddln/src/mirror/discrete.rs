//! Where gradient descent and SGD end on the two-layer models (docs/math.md section 11):
//! the minimizer over the interpolators of the hyperbolic entropy whose scale and tilt
//! the steps accumulated (the "effective init"), next to where gradient flow from the
//! same init ends.

use serde::Serialize;

use crate::error::Result;
use crate::optim::StepIdentity;
use crate::problem::Problem;
use crate::vector::distance;

use super::hyperbolic::Hyperbolic;
use super::predict::{check_squared_loss, predict_on, PredictSettings, PredictStatus};
use super::range::RangeBasis;

/// The implicit bias of a discrete run on `u ⊙ v` or `u^2 - v^2`.
#[derive(Debug, Clone, Serialize)]
pub struct DiscreteBias {
    /// The model, in the field's notation.
    pub model: &'static str,
    /// Per coordinate, the init scale `alpha` of the field's standard init (`(alpha, 0)`
    /// for `u ⊙ v`, `(alpha, alpha)` for `u^2 - v^2`) whose gradient flow has the
    /// potential scale the steps accumulated: `beta_inf = beta_0 prod_k |1 - x_k^2|`.
    pub effective_init: Vec<f64>,
    /// The same for the run's own init (`beta_0`): what gradient flow would see.
    pub init_scale: Vec<f64>,
    /// `log(beta_0 / beta_inf) = -sum_k log|1 - x_k^2|` per coordinate: how much the
    /// steps shrank the init (the "gain" of Even et al. 2023).
    pub gain: Vec<f64>,
    /// `phi_0 + E`: the tilt of the effective potential (`E` is `O(eta^3)` per step).
    pub effective_tilt: Vec<f64>,
    /// `argmin {Q_eff(theta) : X theta = y}` with the effective scale and tilt: where the
    /// run ends if it converges (the steps after the last one add to `E` and the gain).
    pub theta_predicted: Vec<f64>,
    /// Status of the predictor for `theta_predicted`.
    pub prediction_status: PredictStatus,
    /// `||theta_predicted - theta_final||`.
    pub distance_to_final: f64,
    /// Where gradient flow from the same init ends (`beta_0`, `phi_0`).
    pub flow_limit: Vec<f64>,
    /// Status of the predictor for `flow_limit`.
    pub flow_limit_status: PredictStatus,
    /// `||flow_limit - theta_final||`: the bias of the steps.
    pub flow_limit_to_final: f64,
    /// `||theta_predicted - flow_limit||`.
    pub predicted_to_flow_limit: f64,
    /// The step identity accumulated along the run, with its residuals.
    pub identity: StepIdentity,
}

/// The implicit bias of a discrete run that ended at `final_theta` after accumulating
/// `identity`, on the squared-loss `problem`.
pub fn discrete_bias(
    problem: &Problem,
    identity: &StepIdentity,
    final_theta: &[f64],
    settings: &PredictSettings,
) -> Result<DiscreteBias> {
    let form = identity.form;
    let rate = form.flow_rate();
    let effective = Hyperbolic::new(identity.scale(), identity.tilt(), rate)?;
    let flow = Hyperbolic::new(identity.scale0.clone(), identity.tilt0.clone(), rate)?;
    // One SVD of X serves both solves.
    settings.validate()?;
    check_squared_loss(problem)?;
    let basis = RangeBasis::new(problem, settings.rank_rtol)?;
    let predicted = predict_on(problem, &basis, &effective, settings)?;
    let flow_limit = predict_on(problem, &basis, &flow, settings)?;
    Ok(DiscreteBias {
        model: form.name(),
        effective_init: effective
            .scale()
            .iter()
            .map(|&b| form.init_scale_of(b))
            .collect(),
        init_scale: identity
            .scale0
            .iter()
            .map(|&b| form.init_scale_of(b))
            .collect(),
        gain: identity.log_shrink.iter().map(|s| -s).collect(),
        effective_tilt: effective.tilt().to_vec(),
        distance_to_final: distance(&predicted.theta, final_theta),
        flow_limit_to_final: distance(&flow_limit.theta, final_theta),
        predicted_to_flow_limit: distance(&predicted.theta, &flow_limit.theta),
        prediction_status: predicted.status,
        theta_predicted: predicted.theta,
        flow_limit_status: flow_limit.status,
        flow_limit: flow_limit.theta,
        identity: identity.clone(),
    })
}
