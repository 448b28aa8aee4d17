//! What the integrators share: the system traits ([`OdeSystem`], [`StiffSystem`]), the
//! per-step callbacks ([`Hooks`]) and how an integration ended ([`Outcome`]). Imports
//! nothing from the integrators themselves; their error control is read from
//! [`super::FlowSettings`].

use super::run::{RunStats, Status};
use super::tableau::RkMethod;
use crate::observe::Observer;

/// A system `dy/dt = f(t, y)` whose evaluations also yield the loss at `y`.
pub trait OdeSystem {
    /// Length of `y`.
    fn dim(&self) -> usize;
    /// Writes `f(t, y)` into `dy` and returns the loss at `y`.
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> f64;
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
