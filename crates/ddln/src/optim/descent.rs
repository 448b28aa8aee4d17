//! Discrete trainers on the layers: gradient descent, mini-batch SGD and heavy-ball
//! momentum, `w_{k+1} = w_k - eta_k grad + beta (w_k - w_{k-1})`.

use serde::{Deserialize, Serialize};

use super::checkpoint::DescentCheckpoint;
use super::run::{Run, RunStats, Status, Trajectory};
use super::sampler::{Sampler, Sampling};
use super::schedule::Schedule;
use super::step_identity::StepIdentity;
use crate::error::{check_positive, check_threshold, DdlnError, Result};
use crate::memory;
use crate::observe::{Control, Observer, StepView};
use crate::param::Model;
use crate::problem::Problem;

/// Settings of a discrete run. Defaults are documented on each field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DescentSettings {
    /// Step size `eta` (default 1e-3).
    pub lr: f64,
    /// Number of iterations (default 10000); a resumed run stops at this iteration
    /// count, counted from the start of the original run.
    pub steps: u64,
    /// Step-size schedule (default constant).
    pub schedule: Schedule,
    /// Heavy-ball momentum `beta` in [0, 1) (default 0: plain gradient descent).
    pub momentum: f64,
    /// Mini-batch size for SGD; `None` uses every sample (default).
    pub batch_size: Option<usize>,
    /// How mini-batches are drawn (default: with replacement).
    pub sampling: Sampling,
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
            sampling: Sampling::Replacement,
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
        self.sampling.validate(n)?;
        self.schedule.validate()
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
    run_descent(problem, model, init, None, settings, observer)
}

/// Continues a descent run from `checkpoint` (saved by a run with the same problem,
/// model and settings) up to `settings.steps` iterations in all: the iterates are the
/// bits an uninterrupted run computes. The trajectory starts at the checkpoint.
pub fn resume_descent<O: Observer>(
    problem: &Problem,
    model: Model,
    checkpoint: &DescentCheckpoint,
    settings: &DescentSettings,
    observer: &mut O,
) -> Result<Run> {
    checkpoint.check(problem, model, settings.steps)?;
    run_descent(
        problem,
        model,
        &checkpoint.state,
        Some(checkpoint),
        settings,
        observer,
    )
}

fn run_descent<O: Observer>(
    problem: &Problem,
    model: Model,
    init: &[f64],
    checkpoint: Option<&DescentCheckpoint>,
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
    let mut velocity = checkpoint.map_or_else(|| vec![0.0; len], |c| c.velocity.clone());
    let mut theta = vec![0.0; d];
    let mut grad_theta = vec![0.0; d];
    let mut grad_state = vec![0.0; len];
    let mut sampler = match checkpoint {
        Some(c) => Sampler::restore(&settings.sampling, n, settings.seed, &c.sampler)?,
        None => Sampler::new(&settings.sampling, n, settings.seed),
    };
    let mut batch: Vec<usize> = Vec::with_capacity(settings.batch_size.unwrap_or(0));
    let first = checkpoint.map_or(0, |c| c.step);
    let records = ((settings.steps - first) / settings.record_every).saturating_add(2) as usize;
    let per_record = model.rows() * d + d + 2;
    let recorded = memory::entries("steps", &[records, per_record])?;
    memory::check_fits("record_every", "the recorded trajectory", recorded)?;
    let mut traj = Trajectory::default();
    let mut stats = RunStats {
        max_local_error: f64::NAN,
        ..RunStats::default()
    };
    let mut t = checkpoint.map_or(0.0, |c| c.t);
    let mut t_good = t;
    let mut identity = match checkpoint {
        Some(DescentCheckpoint {
            identity: Some(saved),
            ..
        }) => Ok(saved.clone()),
        Some(_) => StepIdentity::start(model, init, d, settings.momentum)
            .and(Err("the checkpoint carries no step identity".to_string())),
        None => StepIdentity::start(model, init, d, settings.momentum),
    };

    let record = |traj: &mut Trajectory, t: f64, state: &[f64], theta: &[f64], loss: f64| {
        traj.t.push(t);
        traj.states.extend_from_slice(state);
        traj.theta.extend_from_slice(theta);
        traj.loss.push(loss);
    };

    let mut status = Status::Completed;
    let mut message = format!("ran all {} steps", settings.steps);
    let mut k_end = first;
    let mut checked_at = checkpoint.map(|c| c.step);
    for k in first..=settings.steps {
        k_end = k;
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
            if k > first && traj.t.last() != Some(&t) {
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
            // A resumed run's first iterate was checked at the end of the saved run.
            if let (Ok(identity), true) = (identity.as_mut(), checkpoint.is_none() || k > first) {
                identity.check(&state, &theta);
                checked_at = Some(k);
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
            sampler.next_batch(&mut batch, b);
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
    let checkpoint = if status == Status::Diverged {
        // The steps accumulated up to the non-finite iterate, one past the kept state.
        identity = Err(format!("the run diverged: {message}"));
        None
    } else {
        if let (Ok(identity), false) = (identity.as_mut(), checked_at == Some(k_end)) {
            identity.check(&state, &theta);
        }
        Some(DescentCheckpoint {
            problem: problem.fingerprint(),
            model: model.name(),
            step: k_end,
            t,
            state: state.clone(),
            velocity,
            sampler: sampler.state(),
            identity: identity.as_ref().ok().cloned(),
        })
    };
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
        checkpoint,
    })
}
