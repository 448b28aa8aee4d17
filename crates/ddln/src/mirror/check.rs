//! The mirror-flow check of a simulated run: `grad Q(theta(t)) = xi(t)` along the
//! recorded trajectory, and the distance from its end point to the predicted limit.

use serde::Serialize;

use super::entropy::Entropy;
use super::predict::{predict, PredictSettings, Prediction};
use crate::error::{DdlnError, Result};
use crate::loss::Loss;
use crate::optim::Run;
use crate::problem::Problem;
use crate::vector::{distance, norm};

/// How well a run follows the mirror flow of its init.
#[derive(Debug, Clone, Serialize)]
pub struct MirrorCheck {
    /// `max_t ||grad Q(theta(t)) - xi(t)||_inf` over the recorded times.
    pub max_abs_residual: f64,
    /// The same, each time divided by `max(1, ||xi(t)||_inf)`.
    pub max_rel_residual: f64,
    /// Recorded times checked.
    pub times_checked: usize,
    /// The predicted end point of gradient flow (squared loss only).
    pub prediction: Option<Prediction>,
    /// `||theta_final - theta_inf|| / max(||theta_inf||, 1e-300)` when predicted.
    pub relative_distance_to_prediction: Option<f64>,
}

/// Checks a deep-model run recorded with `track_xi` against the entropy of `init`.
///
/// Fails with [`DdlnError::AssumptionA`] when the init violates (A), and with
/// [`DdlnError::Invalid`] when the run did not record `xi`.
pub fn mirror_check(
    problem: &Problem,
    init: &[f64],
    depth: usize,
    run: &Run,
    settings: &PredictSettings,
) -> Result<MirrorCheck> {
    let d = problem.dim();
    let entropy = Entropy::new(init, depth, d)?;
    let xi = run.trajectory.xi.as_ref().ok_or_else(|| {
        DdlnError::invalid(
            "track_xi",
            "the mirror check needs xi(t): run with track_xi = true",
        )
    })?;
    let mut grad = vec![0.0; d];
    let (mut max_abs, mut max_rel) = (0.0f64, 0.0f64);
    for (theta, xi) in run.trajectory.theta.chunks(d).zip(xi.chunks(d)) {
        entropy.gradient(theta, &mut grad);
        let err = grad
            .iter()
            .zip(xi)
            .map(|(g, x)| (g - x).abs())
            .fold(0.0, f64::max);
        let scale = xi.iter().map(|x| x.abs()).fold(1.0, f64::max);
        max_abs = max_abs.max(err);
        max_rel = max_rel.max(err / scale);
    }
    let (prediction, relative) = if problem.loss() == Loss::Square {
        let p = predict(problem, init, depth, settings)?;
        let relative = distance(&run.final_theta, &p.theta) / norm(&p.theta).max(1e-300);
        (Some(p), Some(relative))
    } else {
        (None, None)
    };
    Ok(MirrorCheck {
        max_abs_residual: max_abs,
        max_rel_residual: max_rel,
        times_checked: run.trajectory.len(),
        prediction,
        relative_distance_to_prediction: relative,
    })
}
