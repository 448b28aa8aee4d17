//! The predictor's answer where f64 cannot resolve the mirror map but the init is so
//! small that the `alpha -> 0` limit is the end point to far below f64's resolution
//! (docs/math.md section 7, the small-init limit at any scale).
//!
//! For the deep model with `L >= 3` under (A) and for `u^L - v^L` (`L >= 3`) from a
//! positive init, `alpha^(L-2) grad Q` tends to the edges of the dual box, so
//! `theta_inf(alpha)` tends to the weighted-L1 interpolator whose weights are the box's
//! half-widths; the box comes from the z-maps of the small-init flows, which hold it as
//! logarithms at any scale. The distance is of order `c^(L-2)` (`c` the init's scale:
//! the gap scale, or `beta`): the limit is taken only when that order is at most the
//! predictor's `floor_rtol`.

use crate::error::Result;
use crate::loss::Loss;
use crate::param::gapped_flow::GappedFlow;
use crate::param::signed_power_flow::SignedPowerFlow;
use crate::param::Model;
use crate::problem::Problem;
use crate::theory::assumption_a;

use super::baselines::{weighted_l1, BaselineStatus, LpSettings};
use super::predict::{PredictSettings, PredictStatus, Prediction};
use super::small_init::{normalized_to_mean, small_init_limit, SmallInitLimit};

/// The logarithms of the dual box's half-widths `(ln(-lo_i), ln hi_i)` of `model` from
/// `init`, and `ln` of the order `c^(L-2)`; `None` for models and inits without a
/// weighted-L1 limit (two layers, inits off (A), non-positive signed inits).
pub fn small_init_ln_box(model: Model, init: &[f64], d: usize) -> Option<(Vec<(f64, f64)>, f64)> {
    match model {
        Model::Deep { depth } if depth >= 3 => {
            let flow = GappedFlow::new(init, depth, d).ok()?;
            Some((flow.ln_dual_box(), (depth - 2) as f64 * flow.ln_scale()))
        }
        Model::Signed { power } if power >= 3 => {
            let flow = SignedPowerFlow::new(init, power, d).ok()?;
            Some((flow.ln_dual_box(), (power - 2) as f64 * flow.ln_scale()))
        }
        _ => None,
    }
}

/// The weights `(t^+, t^-)` of a box given by its logarithms, normalized to mean 1 over
/// all `2d` values (computed relative to the largest, so no weight overflows).
pub fn weights_of_ln_box(ln_box: &[(f64, f64)]) -> (Vec<f64>, Vec<f64>) {
    let top = ln_box
        .iter()
        .flat_map(|&(lo, hi)| [lo, hi])
        .fold(f64::NEG_INFINITY, f64::max);
    let (plus, minus): (Vec<f64>, Vec<f64>) = ln_box
        .iter()
        .map(|&(lo, hi)| ((hi - top).exp(), (lo - top).exp()))
        .unzip();
    normalized_to_mean(plus, minus)
}

/// The small-init limit of `model` from `init` at any scale, with `ln` of its order.
pub fn small_init_limit_of_model(
    problem: &Problem,
    model: Model,
    init: &[f64],
    lp: &LpSettings,
) -> Result<Option<(SmallInitLimit, f64)>> {
    let Some((ln_box, ln_order)) = small_init_ln_box(model, init, problem.dim()) else {
        return Ok(None);
    };
    Ok(Some((limit_of_ln_box(problem, &ln_box, lp)?, ln_order)))
}

/// The weighted-L1 limit whose weights are the half-widths of the box `ln_box` (logs).
fn limit_of_ln_box(
    problem: &Problem,
    ln_box: &[(f64, f64)],
    lp: &LpSettings,
) -> Result<SmallInitLimit> {
    let (weights_plus, weights_minus) = weights_of_ln_box(ln_box);
    let solution = weighted_l1(problem, &weights_plus, &weights_minus, lp)?;
    Ok(SmallInitLimit {
        weights_plus,
        weights_minus,
        solution,
    })
}

/// The small-init limit reported next to a prediction: for two layers (deep, under (A))
/// the minimum-L1 interpolator ([`super::small_init::small_init_limit`]), for `L >= 3`
/// [`small_init_limit_of_model`]; `None` for models and inits without one.
pub fn model_small_init_limit(
    problem: &Problem,
    model: Model,
    init: &[f64],
    lp: &LpSettings,
) -> Result<Option<SmallInitLimit>> {
    let d = problem.dim();
    match model {
        Model::Deep { depth: 2 } if assumption_a(init, 2, d).holds => {
            Ok(Some(small_init_limit(problem, init, 2, lp)?))
        }
        _ => Ok(small_init_limit_of_model(problem, model, init, lp)?.map(|(limit, _)| limit)),
    }
}

/// The [`PredictStatus::SmallInitLimit`] prediction where f64 could not resolve the map
/// (`why`), or `None` where the limit is not the answer to within `settings.floor_rtol`.
pub(super) fn limit_prediction(
    problem: &Problem,
    model: Model,
    init: &[f64],
    settings: &PredictSettings,
    why: &str,
) -> Result<Option<Prediction>> {
    if problem.loss() != Loss::Square || settings.validate().is_err() {
        return Ok(None);
    }
    // The order first: the LP runs only where the limit is the answer.
    let (ln_box, ln_order) = match small_init_ln_box(model, init, problem.dim()) {
        Some((ln_box, ln_order)) if ln_order <= settings.floor_rtol.ln() => (ln_box, ln_order),
        _ => return Ok(None),
    };
    let solution = limit_of_ln_box(problem, &ln_box, &LpSettings::default())?.solution;
    if !matches!(solution.status, BaselineStatus::Solved) {
        return Ok(None);
    }
    let scale = problem
        .y()
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    let log10_order = ln_order / std::f64::consts::LN_10;
    Ok(Some(Prediction {
        message: format!(
            "f64 cannot resolve the mirror map at this init scale ({why}); theta is the alpha -> 0 limit, the weighted-L1 interpolator of the init's shape ({}), whose distance to the end of gradient flow is of order c^(L-2) = 1e{log10_order:.0}",
            solution.message
        ),
        relative_residual: solution.residual / scale,
        residual: solution.residual,
        theta: solution.theta,
        nu: Vec::new(),
        entropy_value: f64::NAN,
        residual_floor: f64::NAN,
        iterations: 0,
        cg_iterations: 0,
        status: PredictStatus::SmallInitLimit,
        limit_order_log10: Some(log10_order),
    }))
}
