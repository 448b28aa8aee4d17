//! Shared helpers for the integration tests: seeded random problems and inits.
#![allow(dead_code)]

use ddln::recipes::{gaussian_data, InitRecipe, InitShape};
use ddln::{Loss, Problem};

/// A Gaussian least-squares problem `n x d`.
pub fn random_problem(n: usize, d: usize, seed: u64) -> Problem {
    let (x, y) = gaussian_data(n, d, seed);
    Problem::new(x, n, d, y, Loss::Square).unwrap()
}

/// A Gaussian init `depth x d` scaled by `scale`.
pub fn random_init(depth: usize, d: usize, scale: f64, seed: u64) -> Vec<f64> {
    InitRecipe {
        depth,
        scale,
        zero_first: false,
        shape: InitShape::Gaussian,
        seed,
    }
    .draw(d)
    .unwrap()
}

/// `max_k |a_k - b_k| / max(|b_k|, floor)`.
pub fn max_rel_diff(a: &[f64], b: &[f64], floor: f64) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(floor))
        .fold(0.0, f64::max)
}
