//! The data `(X, y)` and the loss: the function `L(theta)` that every trainer minimizes.

use crate::error::{check_finite, DdlnError, Result};
use crate::loss::{Loss, SampleLoss};
pub use crate::vector::dot;

/// A regression or classification problem `L(theta) = sum_i ell(<x_i, theta>, y_i)`.
///
/// `X` is stored row-major (`n` rows of length `d`) so that the gradient reads each row
/// once: the residual of a sample and its contribution to the gradient in one pass.
#[derive(Debug, Clone)]
pub struct Problem {
    x: Vec<f64>,
    y: Vec<f64>,
    n: usize,
    d: usize,
    loss: Loss,
}

impl Problem {
    /// Builds a problem from `X` (row-major, `n x d`), `y` (length `n`) and a loss.
    ///
    /// Fails on empty data, shape mismatch, non-finite entries, or logistic labels
    /// outside {-1, +1}.
    pub fn new(x: Vec<f64>, n: usize, d: usize, y: Vec<f64>, loss: Loss) -> Result<Self> {
        if n == 0 || d == 0 {
            return Err(DdlnError::invalid(
                "X",
                format!("data is empty ({n} samples x {d} features); need at least one sample and one feature"),
            ));
        }
        if x.len() != n * d {
            return Err(DdlnError::shape(
                "X",
                format!("{n} x {d} = {} entries", n * d),
                format!("{} entries", x.len()),
            ));
        }
        if y.len() != n {
            return Err(DdlnError::shape(
                "y",
                format!("length {n} (one target per row of X)"),
                format!("length {}", y.len()),
            ));
        }
        check_finite("X", &x)?;
        check_finite("y", &y)?;
        if loss == Loss::Logistic {
            if let Some(i) = y.iter().position(|&v| v != 1.0 && v != -1.0) {
                return Err(DdlnError::invalid(
                    "y",
                    format!(
                        "the logistic loss needs labels in {{-1, +1}}; y[{i}] = {}",
                        y[i]
                    ),
                ));
            }
        }
        Ok(Problem { x, y, n, d, loss })
    }

    /// Number of samples `n`.
    pub fn n_samples(&self) -> usize {
        self.n
    }

    /// Number of coordinates `d` of theta.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// The loss.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// `X`, row-major.
    pub fn x(&self) -> &[f64] {
        &self.x
    }

    /// Row `i` of `X`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// The targets `y`.
    pub fn y(&self) -> &[f64] {
        &self.y
    }

    /// `L(theta)`.
    pub fn loss_value(&self, theta: &[f64]) -> f64 {
        debug_assert_eq!(theta.len(), self.d);
        (0..self.n)
            .map(|i| {
                let z = dot(self.row(i), theta);
                self.loss.value_and_slope(z, self.y[i]).0
            })
            .sum()
    }

    /// Writes `grad L(theta)` into `grad` and returns `L(theta)`, reading X once.
    pub fn loss_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        debug_assert_eq!(theta.len(), self.d);
        debug_assert_eq!(grad.len(), self.d);
        grad.fill(0.0);
        let mut total = 0.0;
        for (row, &yi) in self.x.chunks_exact(self.d).zip(&self.y) {
            let (value, slope) = self.loss.value_and_slope(dot(row, theta), yi);
            total += value;
            for (g, &xij) in grad.iter_mut().zip(row) {
                *g += slope * xij;
            }
        }
        total
    }
}

impl Problem {
    /// Mini-batch estimate: `scale * sum_{i in rows}` of the per-sample terms, value and
    /// gradient, reading each chosen row once. With `scale = n / |rows|` it is unbiased.
    pub fn loss_and_gradient_rows(
        &self,
        theta: &[f64],
        rows: &[usize],
        scale: f64,
        grad: &mut [f64],
    ) -> f64 {
        grad.fill(0.0);
        let mut total = 0.0;
        for &i in rows {
            let row = self.row(i);
            let (value, slope) = self.loss.value_and_slope(dot(row, theta), self.y[i]);
            total += value;
            for (g, &xij) in grad.iter_mut().zip(row) {
                *g += scale * slope * xij;
            }
        }
        scale * total
    }
}
