//! The experiments `ddln reproduce` runs: one file per figure, listed in [`all`].

mod figure3;
mod figure4;
mod rich_kernel;

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

/// Every experiment, in the order of the paper.
pub fn all() -> Vec<Box<dyn Experiment>> {
    vec![
        Box::new(figure3::Figure3),
        Box::new(figure4::Figure4),
        Box::new(rich_kernel::RichKernel),
    ]
}
