//! Discrete trainers on the layers: gradient descent, mini-batch SGD and heavy-ball
//! momentum, `w_{k+1} = w_k - eta_k grad + beta (w_k - w_{k-1})`.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::run::{Run, RunStats, Status, Trajectory};
use super::step_identity::StepIdentity;
use crate::error::{check_positive, check_threshold, DdlnError, Result};
use crate::memory;
use crate::observe::{Control, Observer, StepView};
use crate::param::Model;
use crate::problem::Problem;

/// Step-size schedule `eta_k` as a function of the iteration `k`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// `eta_k = lr`.
    #[default]
    Constant,
    /// `eta_k = lr / (1 + decay k)`.
    InverseTime {
        /// Decay rate (>= 0).
        decay: f64,
    },
    /// `eta_k = lr gamma^k`.
    Exponential {
        /// Factor per step, in (0, 1].
        gamma: f64,
    },
}

impl Schedule {
    fn rate(&self, lr: f64, k: u64) -> f64 {
        match *self {
            Schedule::Constant => lr,
            Schedule::InverseTime { decay } => lr / (1.0 + decay * k as f64),
            Schedule::Exponential { gamma } => lr * gamma.powf(k as f64),
        }
    }
}

/// Settings of a discrete run. Defaults are documented on each field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DescentSettings {
    /// Step size `eta` (default 1e-3).
    pub lr: f64,
    /// Number of iterations (default 10000).
    pub steps: u64,
    /// Step-size schedule (default constant).
    pub schedule: Schedule,
    /// Heavy-ball momentum `beta` in [0, 1) (default 0: plain gradient descent).
    pub momentum: f64,
    /// Mini-batch size for SGD; `None` uses every sample (default).
    pub batch_size: Option<usize>,
    /// Seed of the mini-batch sampler (default 0).
    pub seed: u64,
    /// Record every this many iterations, and the last one (default 10).
    pub record_every: u64,
    /// Stop with status `Converged` once the loss is at most this (default: never).
    pub loss_tol: Option<f64>,
    /// Stop with status `Converged` once the layer-gradient norm is at most this (default: never).
    pub grad_tol: Option<f64>,
}

impl Default for DescentSettings {
    fn default() -> Self {
        DescentSettings {
            lr: 1e-3,
            steps: 10_000,
            schedule: Schedule::Constant,
            momentum: 0.0,
            batch_size: None,
            seed: 0,
            record_every: 10,
            loss_tol: None,
            grad_tol: None,
        }
    }
}

impl DescentSettings {
    /// Checks every setting against the problem size `n`.
    pub fn validate(&self, n: usize) -> Result<()> {
        check_positive("lr", self.lr)?;
        if self.steps == 0 {
            return Err(DdlnError::invalid("steps", "must be at least 1"));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(DdlnError::invalid(
                "momentum",
                format!("must be in [0, 1), got {}", self.momentum),
            ));
        }
        if let Some(b) = self.batch_size {
            if b == 0 || b > n {
                return Err(DdlnError::invalid(
                    "batch_size",
                    format!("must be between 1 and the number of samples {n}, got {b}"),
                ));
            }
        }
        if self.record_every == 0 {
            return Err(DdlnError::invalid("record_every", "must be at least 1"));
        }
        check_threshold("loss_tol", self.loss_tol)?;
        check_threshold("grad_tol", self.grad_tol)?;
        match self.schedule {
            Schedule::InverseTime { decay } if !(decay >= 0.0 && decay.is_finite()) => Err(
                DdlnError::invalid("schedule.decay", format!("must be >= 0, got {decay}")),
            ),
            Schedule::Exponential { gamma } if !(gamma > 0.0 && gamma <= 1.0) => Err(
                DdlnError::invalid("schedule.gamma", format!("must be in (0, 1], got {gamma}")),
            ),
            _ => Ok(()),
        }
    }
}

/// Runs gradient descent (or SGD / momentum, per `settings`) on the layers of `model`.
///
/// The time axis of the trajectory is `t_k = eta_0 + ... + eta_{k-1}`, so that a run
/// with small steps is comparable with gradient flow at the same `t`.
pub fn descent<O: Observer>(
    problem: &Problem,
    model: Model,
    init: &[f64],
    settings: &DescentSettings,
    observer: &mut O,
) -> Result<Run> {
    let d = problem.dim();
    let n = problem.n_samples();
    model.validate_init(init, d)?;
    settings.validate(n)?;
    let len = init.len();
    let mut state = init.to_vec();
    let mut last_good = init.to_vec();
    let mut velocity = vec![0.0; len];
    let mut theta = vec![0.0; d];
    let mut grad_theta = vec![0.0; d];
    let mut grad_state = vec![0.0; len];
    let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(settings.seed);
    let mut order: Vec<usize> = (0..n).collect();
    let mut cursor = n;
    let mut batch: Vec<usize> = Vec::with_capacity(settings.batch_size.unwrap_or(0));
    let records = (settings.steps / settings.record_every).saturating_add(2) as usize;
    let per_record = model.rows() * d + d + 2;
    let recorded = memory::entries("steps", &[records, per_record])?;
    memory::check_fits("record_every", "the recorded trajectory", recorded)?;
    let mut traj = Trajectory::default();
    let mut stats = RunStats {
        max_local_error: f64::NAN,
        ..RunStats::default()
    };
    let mut t = 0.0;
    let mut t_good = 0.0;
    let mut identity = StepIdentity::start(model, init, d, settings.momentum);

    let record = |traj: &mut Trajectory, t: f64, state: &[f64], theta: &[f64], loss: f64| {
        traj.t.push(t);
        traj.states.extend_from_slice(state);
        traj.theta.extend_from_slice(theta);
        traj.loss.push(loss);
    };

    let mut status = Status::Completed;
    let mut message = format!("ran all {} steps", settings.steps);
    for k in 0..=settings.steps {
        model.theta(&state, &mut theta);
        let full_loss_needed =
            settings.batch_size.is_none() || k % settings.record_every == 0 || k == settings.steps;
        let loss = match settings.batch_size {
            None => problem.loss_and_gradient(&theta, &mut grad_theta),
            Some(_) if full_loss_needed => problem.loss_value(&theta),
            Some(_) => f64::NAN,
        };
        if settings.batch_size.is_none() {
            stats.grad_evals += 1;
        }
        // A mini-batch iteration off the record grid has no full loss (NaN by design).
        let loss_ok = if loss.is_nan() {
            settings.batch_size.is_some()
        } else {
            loss.is_finite() && loss <= 1e300
        };
        if !loss_ok || !state.iter().all(|v| v.is_finite()) {
            status = Status::Diverged;
            message = format!(
                "the state or loss stopped being finite at iteration {k} (t = {t}); kept iteration {}",
                k.saturating_sub(1)
            );
            state.copy_from_slice(&last_good);
            t = t_good;
            // The trajectory ends at the last finite state, recorded or not.
            if k > 0 && traj.t.last() != Some(&t) {
                model.theta(&state, &mut theta);
                let good_loss = problem.loss_value(&theta);
                record(&mut traj, t, &state, &theta, good_loss);
            }
            break;
        }
        last_good.copy_from_slice(&state);
        t_good = t;
        if k % settings.record_every == 0 || k == settings.steps {
            record(&mut traj, t, &state, &theta, loss);
            if let Ok(identity) = identity.as_mut() {
                identity.check(&state, &theta);
            }
        }
        let view = StepView {
            t,
            step: k,
            state: &state,
            loss,
        };
        if observer.observe(&view) == Control::Stop {
            status = Status::Stopped;
            message = format!("stopped by an observer at iteration {k}");
            if traj.t.last() != Some(&t) {
                let stop_loss = if loss.is_nan() {
                    problem.loss_value(&theta)
                } else {
                    loss
                };
                record(&mut traj, t, &state, &theta, stop_loss);
            }
            break;
        }
        if settings.loss_tol.is_some_and(|tol| loss <= tol) {
            status = Status::Converged;
            message = format!("loss {loss:e} <= loss_tol at iteration {k}");
            break;
        }
        if k == settings.steps {
            break;
        }
        if let Some(b) = settings.batch_size {
            batch.clear();
            while batch.len() < b {
                if cursor == n {
                    order.shuffle(&mut rng);
                    cursor = 0;
                }
                batch.push(order[cursor]);
                cursor += 1;
            }
            problem.loss_and_gradient_rows(&theta, &batch, n as f64 / b as f64, &mut grad_theta);
            stats.grad_evals += 1;
        }
        model.pullback(&state, &grad_theta, &mut grad_state);
        if let Some(tol) = settings.grad_tol {
            let norm = grad_state.iter().map(|g| g * g).sum::<f64>().sqrt();
            if norm <= tol {
                if k % settings.record_every != 0 {
                    record(&mut traj, t, &state, &theta, loss);
                }
                status = Status::Converged;
                message = format!("gradient norm {norm:e} <= grad_tol at iteration {k}");
                break;
            }
        }
        let eta = settings.schedule.rate(settings.lr, k);
        if let Ok(identity) = identity.as_mut() {
            identity.advance(eta, &grad_theta);
        }
        for ((w, v), g) in state.iter_mut().zip(velocity.iter_mut()).zip(&grad_state) {
            *v = settings.momentum * *v - eta * g;
            *w += *v;
        }
        t += eta;
        stats.steps += 1;
    }
    model.theta(&state, &mut theta);
    if status == Status::Diverged {
        // The steps accumulated up to the non-finite iterate, one past the kept state.
        identity = Err(format!("the run diverged: {message}"));
    } else if let Ok(identity) = identity.as_mut() {
        identity.check(&state, &theta);
    }
    let final_loss = problem.loss_value(&theta);
    Ok(Run {
        status,
        t_final: t,
        message,
        final_state: state,
        final_theta: theta,
        final_loss,
        trajectory: traj,
        stats,
        solver: None,
        step_identity: Some(identity),
    })
}
