//! The field's standard two-layer setup, shared by the discrete-algorithm experiments:
//! `theta = u ⊙ v` from `u = 0.1`, `v = 0` on a seeded 3-sparse recovery problem
//! (n = 20, d = 30) with the field's loss `||X theta - y||^2 / (2n)`.

use anyhow::Result;
use ddln::recipes::sparse_recovery;
use ddln::{train, DescentSettings, Loss, LossScaling, Method, Model, Problem, RateCheck, Report};

use crate::interrupt::Interrupt;

/// Samples.
pub const N: usize = 20;
/// Coordinates.
pub const D: usize = 30;
/// Non-zeros of theta*.
pub const K: usize = 3;
/// Seed of the data.
pub const DATA_SEED: u64 = 0;
/// `u(0)`; `v(0) = 0`.
pub const U0: f64 = 0.1;

/// The problem (mean/2 loss) and its ground truth.
pub fn problem() -> Result<(Problem, Vec<f64>)> {
    let (x, y, star) = sparse_recovery(N, D, K, DATA_SEED)?;
    let problem = Problem::new(x, N, D, y, Loss::Square)?.with_scaling(LossScaling::HalfMean);
    Ok((problem, star))
}

/// `(u, v) = (0.1, 0)`, as the `2 x d` init of the deep model with two layers.
pub fn init() -> Vec<f64> {
    let mut init = vec![U0; D];
    init.extend(vec![0.0; D]);
    init
}

/// The population test error of theta for Gaussian inputs `x ~ N(0, I)` in the mean/2
/// convention: `E[(<x, theta> - <x, theta*>)^2] / 2 = ||theta - theta*||^2 / 2` (exact,
/// no test sample).
pub fn test_error(theta: &[f64], star: &[f64]) -> f64 {
    0.5 * theta
        .iter()
        .zip(star)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
}

/// A descent run of `settings` on the setup, with its implicit-bias table (Ctrl-C stops it).
pub fn descend(problem: &Problem, settings: DescentSettings) -> Result<Report> {
    Ok(train(
        problem,
        Model::deep(2),
        &init(),
        &Method::Descent(settings),
        &RateCheck::default(),
        &mut Interrupt,
    )?)
}
