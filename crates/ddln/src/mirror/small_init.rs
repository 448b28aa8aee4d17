//! The small-initialization limit of the implicit bias: a weighted L1 problem.
//!
//! Scale the init `alpha U` with its shape `U` fixed. The gaps scale as
//! `D_j = alpha^2 D_j(U)` and `v0 = alpha v0(U)`; substituting `w = alpha w'` in `F`,
//!
//! ```text
//! F_alpha(v) = alpha^{-(L-2)} F_U(v / alpha).
//! ```
//!
//! For `L >= 3` and fixed `theta != 0`, `v = phi^{-1}(theta) -> |theta|^{1/L}` so
//! `v / alpha -> ±inf` and `alpha^{L-2} grad Q_alpha(theta) -> t^+` for `theta > 0`,
//! `-t^-` for `theta < 0`, with `t_i^+ = lim_{theta -> +inf} grad Q_i = |F_i(s_i inf)|`
//! and `t_i^- = |F_i(-s_i inf)|` computed at the shape `U` (`F_U(±inf)`, finite for
//! `L >= 3`). The convergence is dominated (`|alpha^{L-2} grad Q_alpha| <= max t`), so the
//! rescaled potential `alpha^{L-2} (Q_alpha(theta) - Q_alpha(0))` tends, uniformly on
//! compacts, to `sum_i t_i^+ theta_i^+ + t_i^- theta_i^-`, and `theta_inf(alpha)` tends
//! to that weighted L1 norm's minimizer over `X theta = y` (where unique). The weights
//! are scale-free: we report them divided by their mean over all `2d` values (a
//! uniform factor does not change the minimizer).
//!
//! For `L = 2`, `grad Q_alpha(theta) / log(1/alpha) -> sign(theta)` (eq. 17: the shape
//! enters only at order 1), so the limit is the plain minimum-L1 interpolator: weights 1.

use serde::Serialize;

use crate::error::Result;
use crate::problem::Problem;

use super::baselines::{weighted_l1, Interpolator, LpSettings};
use super::entropy::Entropy;

/// The weighted-L1 limit of `theta_inf(alpha)` as `alpha -> 0`.
#[derive(Debug, Clone, Serialize)]
pub struct SmallInitLimit {
    /// `t_i^+` (normalized to mean 1 together with `t^-`).
    pub weights_plus: Vec<f64>,
    /// `t_i^-`.
    pub weights_minus: Vec<f64>,
    /// The minimizer of `sum_i t_i^+ theta_i^+ + t_i^- theta_i^-` over `X theta = y`.
    pub solution: Interpolator,
}

/// The normalized weights `(t^+, t^-)` of the shape `init` (`depth x d`); 1 for `L = 2`.
pub fn small_init_weights(init: &[f64], depth: usize, d: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let entropy = Entropy::new(init, depth, d)?;
    if depth == 2 {
        return Ok((vec![1.0; d], vec![1.0; d]));
    }
    let (plus, minus): (Vec<f64>, Vec<f64>) = (0..d).map(|i| entropy.tail_weights(i)).unzip();
    Ok(normalized_to_mean(plus, minus))
}

/// `(t^+, t^-)` divided by their mean over all `2d` values (a uniform factor does not
/// change the weighted-L1 minimizer).
pub(crate) fn normalized_to_mean(mut plus: Vec<f64>, mut minus: Vec<f64>) -> (Vec<f64>, Vec<f64>) {
    let count = (plus.len() + minus.len()) as f64;
    let mean = (plus.iter().sum::<f64>() + minus.iter().sum::<f64>()) / count;
    for w in plus.iter_mut().chain(minus.iter_mut()) {
        *w /= mean;
    }
    (plus, minus)
}

/// Solves the weighted-L1 limit problem for the init shape `init` by a linear program.
pub fn small_init_limit(
    problem: &Problem,
    init: &[f64],
    depth: usize,
    lp: &LpSettings,
) -> Result<SmallInitLimit> {
    let (weights_plus, weights_minus) = small_init_weights(init, depth, problem.dim())?;
    let solution = weighted_l1(problem, &weights_plus, &weights_minus, lp)?;
    Ok(SmallInitLimit {
        weights_plus,
        weights_minus,
        solution,
    })
}
