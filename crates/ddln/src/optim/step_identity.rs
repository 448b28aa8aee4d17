//! The exact identity that gradient descent (and SGD) on a two-layer model satisfies:
//! a mirror descent whose potential changes with each step (docs/math.md section 11).
//!
//! With `x_k = m eta_k g_k` per coordinate ([`TwoLayer`]):
//!
//! ```text
//! beta_k = beta_0 prod_{j<k} |1 - x_j^2|
//! asinh(theta_k / beta_k) - phi_0 - E_k = -2 S_k,  S_k = sum_{j<k} x_j,
//! E_k = sum_{j<k} e(x_j),  e(x) = log|(1 - x) / (1 + x)| + 2 x
//! ```
//!
//! `S_k` is `m X^T (sum_j eta_j r_j)` for a linear model: in the range of `X^T`. So
//! `theta_k` is the mirror-descent iterate of the hyperbolic entropy with scale `beta_k`
//! and tilt `phi_0 + E_k`, and the limit minimizes that entropy at `k = infinity` over
//! the interpolators: the "effective init" of the steps.

use serde::{Deserialize, Serialize};

use crate::param::two_layer::TwoLayer;
use crate::param::Model;

/// `e(x) = log|(1 - x) / (1 + x)| + 2 x = -2 (artanh x - x)` for `|x| < 1`, without the
/// cancellation of the two terms at small `x` (its series there, to 1e-17 relative).
pub fn step_remainder(x: f64) -> f64 {
    if x.abs() < 0.05 {
        // -2 sum_{k>=1} x^(2k+1) / (2k+1); the 12th term is below 1e-30 x^3 relative.
        let x2 = x * x;
        let mut term = x * x2;
        let mut sum = 0.0;
        for k in 1..=12 {
            sum += term / (2 * k + 1) as f64;
            term *= x2;
        }
        -2.0 * sum
    } else if x.abs() < 1.0 {
        (-x).ln_1p() - x.ln_1p() + 2.0 * x
    } else {
        ((1.0 - x) / (1.0 + x)).abs().ln() + 2.0 * x
    }
}

/// `(log|1 - x^2|, e(x))` of one step. Below `|x| = 1e-3` (most steps of a converging
/// run) three terms of each series give full precision (the next ones are below 3e-19
/// relative) at the cost of a few multiplications, not two logarithms.
#[inline]
fn step_terms(x: f64) -> (f64, f64) {
    let x2 = x * x;
    if x2 < 1e-6 {
        let log_factor = -x2 * (1.0 + x2 * (0.5 + x2 * (1.0 / 3.0)));
        let remainder = -2.0 * x * x2 * (1.0 / 3.0 + x2 * (0.2 + x2 * (1.0 / 7.0)));
        (log_factor, remainder)
    } else if x2 < 1.0 {
        ((-x2).ln_1p(), step_remainder(x))
    } else {
        ((x2 - 1.0).ln(), step_remainder(x))
    }
}

/// What the steps accumulated, per coordinate, and how well the identity held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepIdentity {
    /// The model's two-layer form.
    pub form: TwoLayer,
    /// `beta_0`, the potential scale at init.
    pub scale0: Vec<f64>,
    /// `phi_0`, the tilt at init.
    pub tilt0: Vec<f64>,
    /// `sum_j log|1 - x_j^2|`: `log(beta_k / beta_0)`.
    pub log_shrink: Vec<f64>,
    /// `E_k = sum_j e(x_j)`.
    pub tilt_shift: Vec<f64>,
    /// `S_k = sum_j x_j`.
    pub step_sum: Vec<f64>,
    /// Rounding carried by the compensated sum `S` (Neumaier), so that `10^6` steps
    /// cost one rounding of it, not `10^6`.
    #[serde(rename = "compensation")]
    carry: Vec<f64>,
    /// Steps accumulated.
    pub steps: u64,
    /// Steps with `|x_j| > 1` for some coordinate (the sign of `a` or `b` flips; the
    /// identity still holds, with absolute values).
    pub sign_flips: u64,
    /// The largest `|x_j|` seen.
    pub max_step_product: f64,
    /// Largest relative residual of `asinh(theta_k / beta_k) - phi_0 - E_k + 2 S_k`
    /// (relative to `1 + |2 S_k|`) over the checked iterates.
    pub max_residual: f64,
    /// Largest relative residual of `beta_k = beta_0 prod_j |1 - x_j^2|`.
    pub max_scale_residual: f64,
    /// Iterates checked.
    pub checked: u64,
    /// Why tracking stopped early (a step with `|x_j| = 1` sends `a` or `b` to zero).
    pub broken: Option<String>,
}

impl StepIdentity {
    /// Starts tracking a run of `model` from `init` (`2 x d`); `Err` with the reason
    /// when the identity does not apply.
    pub fn start(model: Model, init: &[f64], d: usize, momentum: f64) -> Result<Self, String> {
        let form = TwoLayer::of(model).ok_or_else(|| {
            format!(
                "the step identity is derived for the two-layer models u ⊙ v and u^2 - v^2, not {}",
                model.name()
            )
        })?;
        if momentum != 0.0 {
            return Err(
                "heavy-ball momentum is not a mirror descent in these coordinates".to_string(),
            );
        }
        let (u, v) = init.split_at(d);
        let scale0: Vec<f64> = (0..d).map(|i| form.scale(u[i], v[i])).collect();
        let flat: Vec<usize> = (0..d)
            .filter(|&i| scale0[i].is_nan() || scale0[i] <= 0.0)
            .collect();
        if !flat.is_empty() {
            return Err(format!(
                "beta_0 = 0 at coordinates {flat:?} (a or b is zero: theta keeps one sign and the hyperbolic entropy degenerates)"
            ));
        }
        Ok(StepIdentity {
            form,
            tilt0: (0..d).map(|i| form.tilt(u[i], v[i])).collect(),
            scale0,
            log_shrink: vec![0.0; d],
            tilt_shift: vec![0.0; d],
            carry: vec![0.0; d],
            step_sum: vec![0.0; d],
            steps: 0,
            sign_flips: 0,
            max_step_product: 0.0,
            max_residual: 0.0,
            max_scale_residual: 0.0,
            checked: 0,
            broken: None,
        })
    }

    /// Checks the identity at the iterate `state` (with its `theta`).
    pub fn check(&mut self, state: &[f64], theta: &[f64]) {
        if self.broken.is_some() {
            return;
        }
        let d = theta.len();
        let (u, v) = state.split_at(d);
        let (scale, tilt, sum) = (self.scale(), self.tilt(), self.sum());
        for i in 0..d {
            let beta = self.form.scale(u[i], v[i]);
            let scale_res = (beta - scale[i]).abs() / scale[i];
            let lhs = (theta[i] / beta).asinh() - tilt[i];
            let res = (lhs + 2.0 * sum[i]).abs() / (1.0 + 2.0 * sum[i].abs());
            self.max_scale_residual = self.max_scale_residual.max(scale_res);
            self.max_residual = self.max_residual.max(res);
        }
        self.checked += 1;
    }

    /// Accumulates one step of size `eta` with the theta-gradient `g` it used.
    pub fn advance(&mut self, eta: f64, g: &[f64]) {
        if self.broken.is_some() {
            return;
        }
        let m = self.form.step_factor();
        let mut flipped = false;
        for (i, &gi) in g.iter().enumerate() {
            let x = m * eta * gi;
            if x.abs() == 1.0 {
                self.broken = Some(format!(
                    "step {} sent a or b of coordinate {i} to zero (|m eta g| = 1)",
                    self.steps
                ));
                return;
            }
            flipped |= x.abs() > 1.0;
            self.max_step_product = self.max_step_product.max(x.abs());
            let carry = &mut self.carry[i];
            let (log_factor, remainder) = step_terms(x);
            // Plain sums round by about k eps times their value (the gain, the tilt
            // shift: small), below the iterates' own k eps drift; S, of O(1), is
            // compensated.
            self.log_shrink[i] += log_factor;
            self.tilt_shift[i] += remainder;
            add_compensated(&mut self.step_sum[i], carry, x);
        }
        self.sign_flips += u64::from(flipped);
        self.steps += 1;
    }

    /// `beta_k = beta_0 prod_j |1 - x_j^2|`.
    pub fn scale(&self) -> Vec<f64> {
        (0..self.scale0.len())
            .map(|i| self.scale0[i] * self.log_shrink[i].exp())
            .collect()
    }

    /// `phi_0 + E_k`.
    pub fn tilt(&self) -> Vec<f64> {
        (0..self.tilt0.len())
            .map(|i| self.tilt0[i] + self.tilt_shift[i])
            .collect()
    }

    /// `S_k`.
    pub fn sum(&self) -> Vec<f64> {
        (0..self.step_sum.len())
            .map(|i| self.step_sum[i] + self.carry[i])
            .collect()
    }
}

/// `sum += value` with Neumaier's compensation kept in `carry`.
fn add_compensated(sum: &mut f64, carry: &mut f64, value: f64) {
    let t = *sum + value;
    *carry += if sum.abs() >= value.abs() {
        (*sum - t) + value
    } else {
        (value - t) + *sum
    };
    *sum = t;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The series branch against the direct formula where both are accurate (|x| <= 0.05,
    /// where the cancellation costs up to ~4 digits of 16), and the direct formula against
    /// `-2 (artanh x - x)` from the standard library at large `x`.
    #[test]
    fn remainder_series_and_direct_agree() {
        for &x in &[0.049_999_f64, -0.049_999, 0.03, -0.02] {
            let direct = (-x).ln_1p() - x.ln_1p() + 2.0 * x;
            let series = step_remainder(x);
            assert!((direct - series).abs() <= 1e-12 * series.abs(), "{x}");
        }
        for &x in &[0.3_f64, -0.7, 0.99] {
            let reference = -2.0 * (f64::atanh(x) - x);
            assert!((step_remainder(x) - reference).abs() <= 1e-14 * reference.abs());
        }
        // The short series of `step_terms` against the long one and ln_1p near its edge.
        for &x in &[9.99e-4_f64, -5e-4, 1e-5] {
            let (log_factor, remainder) = step_terms(x);
            assert!((remainder - step_remainder(x)).abs() <= 1e-15 * step_remainder(x).abs());
            assert!((log_factor - (-x * x).ln_1p()).abs() <= 1e-15 * (x * x));
        }
        // Leading term -2 x^3 / 3 at tiny x.
        let x = 1e-6;
        assert!((step_remainder(x) + 2.0 * x * x * x / 3.0).abs() <= 1e-12 * x * x * x);
    }
}
