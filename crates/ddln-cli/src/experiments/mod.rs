//! The experiments `ddln reproduce` runs: one file per figure, listed in [`all`].

mod field;
mod figure3;
mod figure4;
mod momentum;
mod rich_kernel;
mod saddles;
mod step_size;
mod tiny_step;

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

/// A statement an experiment checks, with the numbers behind the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// What the paper (or we) claim.
    pub statement: String,
    /// Whether the run supports it.
    pub holds: bool,
    /// The numbers.
    pub evidence: String,
}

/// What one experiment reports.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Short name, also the name of its sub-folder.
    pub name: String,
    /// One-line description.
    pub title: String,
    /// Claims and their verdicts.
    pub claims: Vec<Claim>,
    /// Files written, relative to the output folder.
    pub files: Vec<String>,
    /// Experiment-specific numbers (settings, seeds, measured quantities).
    pub details: serde_json::Value,
}

/// Shared options of every experiment.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Smallest setting (CI): shorter horizons, fewer recorded times.
    pub quick: bool,
}

/// An experiment of `ddln reproduce`.
pub trait Experiment {
    /// Short name (folder name).
    fn name(&self) -> &'static str;
    /// Runs it, writing files into `dir`.
    fn run(&self, dir: &Path, options: Options) -> Result<Outcome>;
}

/// Every experiment: the paper's, then the field's.
pub fn all() -> Vec<Box<dyn Experiment>> {
    vec![
        Box::new(figure3::Figure3),
        Box::new(figure4::Figure4),
        Box::new(rich_kernel::RichKernel),
        Box::new(saddles::Saddles),
        Box::new(tiny_step::TinyStep),
        Box::new(step_size::StepSize),
        Box::new(momentum::Momentum),
    ]
}

/// `m` points `10^lo .. 10^hi`, evenly spaced in the exponent (the sweep's `logspace`).
pub(crate) use ddln_spec::sweep::logspace;

/// The least-squares slope of `log y` against `log x` (the order of a power law).
pub(crate) fn log_log_slope(x: &[f64], y: &[f64]) -> f64 {
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let m = lx.len() as f64;
    let (mx, my) = (lx.iter().sum::<f64>() / m, ly.iter().sum::<f64>() / m);
    let cov: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let var: f64 = lx.iter().map(|a| (a - mx).powi(2)).sum();
    cov / var
}
