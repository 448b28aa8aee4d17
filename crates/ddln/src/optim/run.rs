//! What a run returns: its [`Status`], the recorded [`Trajectory`], the work counters
//! ([`RunStats`]) and the final state ([`Run`]).

use serde::{Deserialize, Serialize};

use super::checkpoint::DescentCheckpoint;
use super::dynamics::Dynamics;
use super::step_identity::StepIdentity;
use super::tableau::RkMethod;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Reached the end of the horizon (`t_end`, or all descent steps).
    Completed,
    /// A stopping tolerance (loss or gradient) was met before the end.
    Converged,
    /// The step budget ran out before the end of the horizon.
    MaxSteps,
    /// The state or the loss became non-finite or overflowed; the last finite state is kept.
    Diverged,
    /// The adaptive step fell below what f64 can resolve at the current time.
    StepSizeTooSmall,
    /// An observer (callback, Ctrl-C) asked the run to stop.
    Stopped,
}

impl Status {
    /// Every variant, in declaration order (the vocabulary the frontends build their
    /// enums from).
    pub const ALL: [Status; 6] = [
        Status::Completed,
        Status::Converged,
        Status::MaxSteps,
        Status::Diverged,
        Status::StepSizeTooSmall,
        Status::Stopped,
    ];
}

impl Status {
    /// `true` for the statuses that mean the run did what was asked.
    pub fn is_success(&self) -> bool {
        matches!(self, Status::Completed | Status::Converged)
    }
}

/// The recorded trajectory: row `k` of each array belongs to time `t[k]`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trajectory {
    /// Recorded times.
    pub t: Vec<f64>,
    /// Trainable state at each recorded time, `len(t) x (rows * d)` row-major.
    pub states: Vec<f64>,
    /// `theta` at each recorded time, `len(t) x d`.
    pub theta: Vec<f64>,
    /// `L(theta)` at each recorded time.
    pub loss: Vec<f64>,
    /// The dual variable `xi(t) = -int_0^t grad L(theta(s)) ds`, `len(t) x d`, when tracked.
    pub xi: Option<Vec<f64>>,
}

impl Trajectory {
    /// Number of recorded times.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// `true` if nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }
}

/// Work done by a run.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RunStats {
    /// Evaluations of `grad L` (each one pass over X, or over a mini-batch for SGD).
    pub grad_evals: u64,
    /// Accepted steps (iterations for descent methods).
    pub steps: u64,
    /// Rejected steps of the adaptive integrator.
    pub rejected_steps: u64,
    /// Largest weighted local error estimate of an accepted step (<= 1 means every step
    /// met `rtol`/`atol`); `NaN` for descent methods.
    pub max_local_error: f64,
    /// Jacobian evaluations of the stiff integrator.
    pub jacobian_evals: u64,
    /// Factorizations of `I - h gamma J` (one per step tried by the stiff integrator).
    pub factorizations: u64,
    /// Linear solves with a factorization (one per stage of the stiff integrator).
    pub linear_solves: u64,
    /// Time at which `auto` switched from the explicit to the stiff method, if it did.
    pub stiff_from: Option<f64>,
}

impl RunStats {
    /// Adds the counters of a later phase of the same run.
    pub fn absorb(&mut self, later: &RunStats) {
        self.grad_evals += later.grad_evals;
        self.steps += later.steps;
        self.rejected_steps += later.rejected_steps;
        self.max_local_error = self.max_local_error.max(later.max_local_error);
        self.jacobian_evals += later.jacobian_evals;
        self.factorizations += later.factorizations;
        self.linear_solves += later.linear_solves;
    }
}

/// The outcome of a training run.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// How the run ended.
    pub status: Status,
    /// Time (flow time, or sum of step sizes) at which the run ended.
    pub t_final: f64,
    /// Human-readable detail of the status (where and why it stopped).
    pub message: String,
    /// The last finite state, `rows x d`.
    pub final_state: Vec<f64>,
    /// `theta` at the last finite state.
    pub final_theta: Vec<f64>,
    /// `L(theta)` at the last finite state.
    pub final_loss: f64,
    /// Recorded trajectory.
    pub trajectory: Trajectory,
    /// Work counters.
    pub stats: RunStats,
    /// Which dynamics and integrators a gradient-flow run used (`None` for descent).
    pub solver: Option<FlowSolver>,
    /// Descent on a two-layer model: the exact step identity accumulated along the run,
    /// or why it does not apply (`None` for gradient flow). Reported by
    /// [`crate::Report::implicit_bias`].
    #[serde(skip)]
    pub step_identity: Option<std::result::Result<StepIdentity, String>>,
    /// Descent runs that did not diverge: where to continue from
    /// ([`crate::optim::resume_descent`]).
    #[serde(skip)]
    pub checkpoint: Option<DescentCheckpoint>,
}

/// What a gradient-flow run integrated, with which methods, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FlowSolver {
    /// The variables integrated: `layers` or `reduced` (never `auto`).
    pub dynamics: Dynamics,
    /// Why these dynamics (what `auto` decided, or "as asked").
    pub dynamics_reason: String,
    /// The integrator asked for.
    pub integrator: RkMethod,
    /// The methods that ran, in order (`auto`: `dopri5`, then `rodas` after a switch).
    pub methods: Vec<RkMethod>,
    /// Why `auto` switched to the stiff method (time and step size), if it did.
    pub switch_reason: Option<String>,
}

/// Evenly spaced times `0, t_end/(n-1), ..., t_end` (`n >= 2`).
pub fn linspace(t_end: f64, n: usize) -> Vec<f64> {
    let n = n.max(2);
    (0..n)
        .map(|k| {
            if k + 1 == n {
                t_end
            } else {
                t_end * k as f64 / (n - 1) as f64
            }
        })
        .collect()
}
