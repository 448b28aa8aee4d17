//! Where a descent run stopped: what [`super::resume_descent`] continues from.

use serde::{Deserialize, Serialize};

use super::sampler::SamplerState;
use super::step_identity::StepIdentity;
use crate::error::{DdlnError, Result};
use crate::param::Model;
use crate::problem::Problem;

/// Everything a descent run needs to continue exactly where it stopped: the iteration,
/// the time, the layers and the velocity, the sampler and the step identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DescentCheckpoint {
    /// [`Problem::fingerprint`] and model of the run: a checkpoint continues only the
    /// problem it was saved from.
    pub problem: String,
    /// The model's name.
    pub model: String,
    /// Iterations done since the start of the original run.
    pub step: u64,
    /// `t = sum of the step sizes so far`.
    pub t: f64,
    /// The layers, `rows x d`.
    pub state: Vec<f64>,
    /// The heavy-ball velocity `w_k - w_{k-1}`, `rows x d`.
    pub velocity: Vec<f64>,
    /// The mini-batch sampler.
    pub sampler: SamplerState,
    /// The step identity accumulated since the original init (two-layer models).
    pub identity: Option<StepIdentity>,
}

impl DescentCheckpoint {
    /// Checks that this checkpoint can continue a run of `model` on `problem` to `steps`
    /// iterations in all (same problem and model, more steps to go, a consistent state).
    pub fn check(&self, problem: &Problem, model: Model, steps: u64) -> Result<()> {
        if self.step >= steps {
            return Err(DdlnError::invalid(
                "steps",
                format!(
                    "the checkpoint is at iteration {}: resuming needs steps > {} (steps counts from the start of the original run)",
                    self.step, self.step
                ),
            ));
        }
        if self.velocity.len() != self.state.len() || !self.t.is_finite() {
            return Err(DdlnError::invalid(
                "checkpoint",
                "velocity and state differ in length, or t is not finite",
            ));
        }
        crate::error::check_finite("checkpoint.velocity", &self.velocity)?;
        if self.problem != problem.fingerprint() || self.model != model.name() {
            return Err(DdlnError::invalid(
                "resume",
                format!(
                    "the checkpoint belongs to another problem or model (saved for {} on data {}…; this run is {} on data {}…): resume with the data, loss, scaling and model of the run that saved it",
                    self.model,
                    self.problem.chars().take(12).collect::<String>(),
                    model.name(),
                    problem.fingerprint().chars().take(12).collect::<String>()
                ),
            ));
        }
        model.validate_init(&self.state, problem.dim())?;
        Ok(())
    }
}
