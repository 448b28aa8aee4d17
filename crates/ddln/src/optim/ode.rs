//! What the integrators share: the system traits ([`OdeSystem`], [`StiffSystem`]), the
//! error-control settings ([`RkSettings`]), the per-step callbacks ([`Hooks`]) and how an
//! integration ended ([`Outcome`]). Imports nothing from the integrators themselves.

use serde::{Deserialize, Serialize};

use super::run::{RunStats, Status};
use super::tableau::RkMethod;
use crate::error::{check_positive, DdlnError, Result};
use crate::observe::Observer;

/// A system `dy/dt = f(t, y)` whose evaluations also yield the loss at `y`.
pub trait OdeSystem {
    /// Length of `y`.
    fn dim(&self) -> usize;
    /// Writes `f(t, y)` into `dy` and returns the loss at `y`.
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> f64;
}

/// Error control of the adaptive integrator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RkSettings {
    /// Relative tolerance per step (default 1e-10).
    pub rtol: f64,
    /// Absolute tolerance per step (default 1e-12).
    pub atol: f64,
    /// Largest number of accepted plus rejected steps (default 10^7).
    pub max_steps: u64,
    /// First step size; `None` picks it from the derivatives at the start (Hairer's rule).
    pub initial_step: Option<f64>,
    /// Upper bound on the step size; `None` for no bound.
    pub max_step: Option<f64>,
}

impl Default for RkSettings {
    fn default() -> Self {
        RkSettings {
            rtol: 1e-10,
            atol: 1e-12,
            max_steps: 10_000_000,
            initial_step: None,
            max_step: None,
        }
    }
}

impl RkSettings {
    /// Checks every tolerance and bound.
    pub fn validate(&self) -> Result<()> {
        check_positive("rtol", self.rtol)?;
        check_positive("atol", self.atol)?;
        if self.rtol < 1e-15 {
            return Err(DdlnError::invalid(
                "rtol",
                format!(
                    "{} is below what f64 arithmetic can deliver; use rtol >= 1e-15",
                    self.rtol
                ),
            ));
        }
        if self.max_steps == 0 {
            return Err(DdlnError::invalid("max_steps", "must be at least 1"));
        }
        if let Some(h) = self.initial_step {
            check_positive("initial_step", h)?;
        }
        if let Some(h) = self.max_step {
            check_positive("max_step", h)?;
        }
        Ok(())
    }
}

/// How an integration ended: the status, the time reached, a message and work counters.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// Time of the last accepted state.
    pub t: f64,
    /// Detail for the user.
    pub message: String,
    /// Work counters.
    pub stats: RunStats,
    /// Set when stiffness detection stopped the run (status `Stopped`) at this time.
    pub stiff_at: Option<f64>,
    /// The step size the controller proposed last (`NaN` if none).
    pub last_step: f64,
    /// The methods that ran, in order (filled in by the dispatch).
    pub methods: Vec<RkMethod>,
    /// Why the dispatch switched from the explicit to the stiff method, if it did.
    pub switch_reason: Option<String>,
}

/// Callbacks of one integration: record at output times, observe every accepted step.
pub struct Hooks<'a, O: Observer> {
    /// Called at each output time with `(t, y, loss)`.
    pub record: &'a mut dyn FnMut(f64, &[f64], f64),
    /// Sees every accepted step; the view's `state` is `y[..observed_len]`.
    pub observer: &'a mut O,
    /// Length of the prefix of `y` shown to the observer.
    pub observed_len: usize,
    /// Stop with [`Status::Converged`] once the loss is at most this.
    pub stop_loss: Option<f64>,
}

/// A system whose linearization the stiff integrator can factor and solve with.
///
/// The integrator calls, in this order per step: [`StiffSystem::jacobian`] right after
/// [`OdeSystem::rhs`] at the same `y` (so it may reuse that evaluation), then
/// [`StiffSystem::factor`] once per step size tried, then [`StiffSystem::solve`] once per
/// stage.
pub trait StiffSystem: OdeSystem {
    /// Evaluates and keeps the Jacobian `J = df/dy` at `y`. Returns the number of passes
    /// over the data it cost (gradient evaluations), for the work counters.
    fn jacobian(&mut self, t: f64, y: &[f64]) -> u64;
    /// Factors `I - h_gamma J`. Returns `false` when it is numerically singular.
    fn factor(&mut self, h_gamma: f64) -> bool;
    /// Solves `(I - h_gamma J) x = b` in place with the last factorization.
    fn solve(&mut self, b: &mut [f64]);
}
