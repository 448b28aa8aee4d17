//! Losses of the form `L(theta) = sum_i ell(<x_i, theta>, y_i)`.
//!
//! **Scaling convention.** The squared loss is the paper's `sum_i (<x_i, theta> - y_i)^2`
//! with *no* factor 1/2, so its gradient is `2 X^T (X theta - y)`. A factor 1/2 would
//! stretch the time axis of every gradient-flow figure by 2. [`LossScaling::HalfMean`]
//! multiplies the loss by `1 / (2n)`: the field's `||X theta - y||^2 / (2n)`, so that a
//! peer's step size gives the peer's iterates.

mod logistic;
mod square;

use serde::{Deserialize, Serialize};

/// A loss that is a sum over samples of a scalar function of the prediction `z = <x_i, theta>`.
///
/// Implementors give the value and the derivative in `z` of one sample's term together,
/// so that the gradient kernel reads each row of X once.
pub trait SampleLoss {
    /// `(ell(z, y), d ell / d z (z, y))` for one sample.
    fn value_and_slope(&self, z: f64, y: f64) -> (f64, f64);
}

/// The losses `ddln` knows. Add a variant (and a file) to add a loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// `sum_i (<x_i, theta> - y_i)^2` (no 1/2), the paper's loss.
    #[default]
    Square,
    /// `sum_i log(1 + exp(-y_i <x_i, theta>))`, labels `y_i` in {-1, +1}.
    Logistic,
}

impl SampleLoss for Loss {
    #[inline(always)]
    fn value_and_slope(&self, z: f64, y: f64) -> (f64, f64) {
        match self {
            Loss::Square => square::value_and_slope(z, y),
            Loss::Logistic => logistic::value_and_slope(z, y),
        }
    }
}

impl Loss {
    /// `d^2 ell / d z^2 (z, y)`: the curvature of one sample's term (square: 2; logistic:
    /// `sigma(m) sigma(-m)` with margin `m = y z`, for labels in {-1, +1}).
    #[inline]
    pub fn curvature(&self, z: f64, y: f64) -> f64 {
        match self {
            Loss::Square => 2.0,
            Loss::Logistic => {
                let e = (-(y * z).abs()).exp();
                e / ((1.0 + e) * (1.0 + e))
            }
        }
    }

    /// `true` when the curvature does not depend on the point (the squared loss).
    pub fn constant_curvature(&self) -> bool {
        matches!(self, Loss::Square)
    }

    /// Parses `"square"` or `"logistic"`.
    pub fn from_name(name: &str) -> crate::Result<Self> {
        match name {
            "square" => Ok(Loss::Square),
            "logistic" => Ok(Loss::Logistic),
            other => Err(crate::DdlnError::invalid(
                "loss",
                format!("unknown loss `{other}`; expected `square` or `logistic`"),
            )),
        }
    }

    /// The name used in configs and summaries.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::Square => "square",
            Loss::Logistic => "logistic",
        }
    }

    /// The formula, as printed in summaries.
    pub fn convention(&self) -> &'static str {
        match self {
            Loss::Square => "L(theta) = sum_i (<x_i, theta> - y_i)^2 (no factor 1/2; gradient 2 X^T (X theta - y))",
            Loss::Logistic => "L(theta) = sum_i log(1 + exp(-y_i <x_i, theta>))",
        }
    }
}

/// The factor in front of the sum over samples: `sum` (the paper's, factor 1) or
/// `mean/2` (the field's, factor `1 / (2n)`). Gradient flow under a factor `c` is the
/// flow of the sum at time `c t`; a discrete step `eta` under `c` is the step `c eta` of
/// the sum. Limits and implicit biases do not depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum LossScaling {
    /// `L = sum_i ell_i` (default).
    #[default]
    #[serde(rename = "sum")]
    Sum,
    /// `L = (1 / (2n)) sum_i ell_i`.
    #[serde(rename = "mean/2")]
    HalfMean,
}

impl LossScaling {
    /// Every variant, in declaration order.
    pub const ALL: [LossScaling; 2] = [LossScaling::Sum, LossScaling::HalfMean];

    /// The name in configs, flags and summaries.
    pub fn name(&self) -> &'static str {
        match self {
            LossScaling::Sum => "sum",
            LossScaling::HalfMean => "mean/2",
        }
    }

    /// Parses `"sum"` or `"mean/2"`.
    pub fn from_name(name: &str) -> crate::Result<Self> {
        LossScaling::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                crate::DdlnError::invalid(
                    "loss_scaling",
                    format!("unknown loss scaling `{name}`; expected `sum` or `mean/2`"),
                )
            })
    }

    /// The factor `c` for `n` samples.
    pub fn factor(&self, n: usize) -> f64 {
        match self {
            LossScaling::Sum => 1.0,
            LossScaling::HalfMean => 1.0 / (2.0 * n as f64),
        }
    }
}
