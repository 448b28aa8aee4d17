//! The rich-to-kernel picture: how far the predicted limit `theta_inf(alpha)` is from the
//! minimum-L1 and minimum-L2 interpolators, over depths `L` and init scales `alpha`
//! (Woodworth et al. 2020, Chou et al. 2023). Pure computation; the figure lives in the CLI.

use serde::Serialize;

use crate::error::{DdlnError, Result};
use crate::problem::Problem;
use crate::recipes::InitRecipe;

use crate::vector::distance;

use super::baselines::{min_l1, min_l2, Interpolator, LpSettings};
use super::predict::{predict, PredictSettings, PredictStatus};

/// One point of the sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    /// Depth `L`.
    pub depth: usize,
    /// Init scale `alpha` (the init is `alpha` times the recipe's shape at scale 1).
    pub scale: f64,
    /// `||theta_inf - theta_L1||` (NaN if the predictor did not converge).
    pub dist_l1: f64,
    /// `||theta_inf - theta_L2||`.
    pub dist_l2: f64,
    /// The predictor's status.
    pub status: PredictStatus,
    /// Newton iterations.
    pub iterations: usize,
}

/// The sweep and the two baselines it measures against.
#[derive(Debug, Clone, Serialize)]
pub struct Sweep {
    /// The minimum-L1 interpolator.
    pub min_l1: Interpolator,
    /// The minimum-L2 interpolator.
    pub min_l2: Interpolator,
    /// One point per `(depth, scale)`, depths outer.
    pub points: Vec<SweepPoint>,
}

/// For each depth and scale: init = `alpha *` (the recipe's draw with that depth and
/// scale 1), predicted limit, distances to the baselines.
pub fn rich_to_kernel_sweep(
    problem: &Problem,
    shape: &InitRecipe,
    depths: &[usize],
    scales: &[f64],
    settings: &PredictSettings,
    lp: &LpSettings,
) -> Result<Sweep> {
    if let Some(&s) = scales.iter().find(|&&s| !(s.is_finite() && s > 0.0)) {
        return Err(DdlnError::invalid(
            "scales",
            format!("every scale must be finite and > 0, got {s}"),
        ));
    }
    let l1 = min_l1(problem, lp)?;
    let l2 = min_l2(problem)?;
    let mut points = Vec::with_capacity(depths.len() * scales.len());
    for &depth in depths {
        let unit = InitRecipe {
            depth,
            scale: 1.0,
            ..*shape
        }
        .draw(problem.dim())?;
        for &scale in scales {
            let init: Vec<f64> = unit.iter().map(|u| scale * u).collect();
            let pred = predict(problem, &init, depth, settings)?;
            let ok = pred.status == PredictStatus::Converged;
            points.push(SweepPoint {
                depth,
                scale,
                dist_l1: if ok {
                    distance(&pred.theta, &l1.theta)
                } else {
                    f64::NAN
                },
                dist_l2: if ok {
                    distance(&pred.theta, &l2.theta)
                } else {
                    f64::NAN
                },
                status: pred.status,
                iterations: pred.iterations,
            });
        }
    }
    Ok(Sweep {
        min_l1: l1,
        min_l2: l2,
        points,
    })
}
