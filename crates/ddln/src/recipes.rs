//! Seeded recipes for data and inits, so that every experiment can be repeated from
//! its config alone. All draws use ChaCha8 seeded with the given `seed`.

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::error::{check_positive, DdlnError, Result};

type Rng = rand::rngs::ChaCha8Rng;

/// `n x d` standard Gaussian `X` (row-major) and standard Gaussian `y`, as in the
/// paper's figures ("X and y generated randomly").
pub fn gaussian_data(n: usize, d: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    debug_assert!(n.checked_mul(d).is_some(), "call check_design_size first");
    let mut rng = Rng::seed_from_u64(seed);
    let x = (0..n * d).map(|_| rng.sample(StandardNormal)).collect();
    let y = (0..n).map(|_| rng.sample(StandardNormal)).collect();
    (x, y)
}

/// Checks that an `n x d` design fits in memory before it is drawn (an error naming the
/// sizes and the memory they need; [`gaussian_data`] assumes it was called).
pub fn check_design_size(n: usize, d: usize) -> Result<()> {
    let entries = crate::memory::entries("n x d", &[n, d])?;
    crate::memory::check_fits("n x d", "the design matrix X", entries)
}

/// A noiseless sparse-recovery problem: `X` standard Gaussian (`n x d`), `theta*` with
/// `k` non-zero entries equal to ±1 at random positions, `y = X theta*`.
///
/// Returns `(X, y, theta*)`.
pub fn sparse_recovery(
    n: usize,
    d: usize,
    k: usize,
    seed: u64,
) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    check_design_size(n, d)?;
    if n == 0 || d == 0 {
        return Err(DdlnError::invalid(
            "n, d",
            "need at least one sample and one feature",
        ));
    }
    if k > d {
        return Err(DdlnError::invalid(
            "k",
            format!("sparsity {k} exceeds the dimension d = {d}"),
        ));
    }
    let mut rng = Rng::seed_from_u64(seed);
    let x: Vec<f64> = (0..n * d).map(|_| rng.sample(StandardNormal)).collect();
    let mut support: Vec<usize> = (0..d).collect();
    support.shuffle(&mut rng);
    let mut theta = vec![0.0; d];
    for &i in &support[..k] {
        theta[i] = if rng.random::<bool>() { 1.0 } else { -1.0 };
    }
    let y = x
        .chunks_exact(d)
        .map(|row| row.iter().zip(&theta).map(|(a, b)| a * b).sum())
        .collect();
    Ok((x, y, theta))
}

/// How the entries of an init are drawn before scaling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum InitShape {
    /// Standard Gaussian entries (mixed signs).
    #[default]
    Gaussian,
    /// Uniform entries in `[low, high]`.
    Uniform {
        /// Lower end.
        low: f64,
        /// Upper end.
        high: f64,
    },
    /// Every entry equal to 1 (needs `zero_first` for assumption (A) to hold).
    Constant,
}

/// A seeded init recipe: `depth x d` entries `scale * draw`, the first layer optionally zero.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InitRecipe {
    /// Number of layers `L` (default 4).
    pub depth: usize,
    /// Scale `alpha` multiplying every entry (default 0.1).
    pub scale: f64,
    /// Set the first layer to zero, as in the paper's Figure 4 (default false).
    pub zero_first: bool,
    /// Distribution of the entries before scaling (default Gaussian).
    pub shape: InitShape,
    /// Seed (default 1).
    pub seed: u64,
}

impl Default for InitRecipe {
    fn default() -> Self {
        InitRecipe {
            depth: 4,
            scale: 0.1,
            zero_first: false,
            shape: InitShape::Gaussian,
            seed: 1,
        }
    }
}

impl InitRecipe {
    /// Draws the init for `d` coordinates: `depth x d`, row-major (row = layer).
    pub fn draw(&self, d: usize) -> Result<Vec<f64>> {
        if self.depth < 2 {
            return Err(DdlnError::invalid(
                "depth",
                format!("must be >= 2, got {}", self.depth),
            ));
        }
        let entries = crate::memory::entries("depth x d", &[self.depth, d])?;
        crate::memory::check_fits("depth x d", "the init", entries)?;
        check_positive("scale", self.scale)?;
        let mut rng = Rng::seed_from_u64(self.seed);
        let mut init: Vec<f64> = match self.shape {
            InitShape::Gaussian => (0..self.depth * d)
                .map(|_| rng.sample::<f64, _>(StandardNormal))
                .collect(),
            InitShape::Uniform { low, high } => {
                if !(low.is_finite() && high.is_finite() && low < high) {
                    return Err(DdlnError::invalid(
                        "shape",
                        format!("uniform needs finite low < high, got [{low}, {high}]"),
                    ));
                }
                (0..self.depth * d)
                    .map(|_| rng.random_range(low..high))
                    .collect()
            }
            InitShape::Constant => vec![1.0; self.depth * d],
        };
        for u in init.iter_mut() {
            *u *= self.scale;
        }
        if self.zero_first {
            init[..d].fill(0.0);
        }
        Ok(init)
    }
}
