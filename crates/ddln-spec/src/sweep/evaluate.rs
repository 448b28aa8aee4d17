//! One job of a sweep, computed: the task at the point, then its measures. A job's row
//! depends on its spec alone (never on the core count or on the other jobs), so the
//! table is the same bits however the jobs were scheduled.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Result;
use ddln::mirror::{predict_model, PredictStatus};
use ddln::recipes::gaussian_data;
use ddln::vector::{distance, nonzeros, norm};
use ddln::{train, Control, Observer, Status, StepView};
use serde::Serialize;

use super::baselines::Baselines;
use super::measure::Measure;
use super::plan::{DataEntry, Job, Plan};
pub use super::row::{Row, ERROR_STATUS};
use super::spec::Task;

/// What a task produced, before the measures.
struct Outcome {
    status: String,
    message: String,
    theta: Vec<f64>,
    iterations: Option<u64>,
    grad_evals: Option<u64>,
    t_loss: Option<f64>,
    rel_dist_predicted: Option<f64>,
    trajectory: Option<(Vec<f64>, Vec<f64>)>,
}

/// Computes `job`; `None` when `stop` was raised while it ran (nothing to commit).
/// Trajectories asked for are written into `dir/trajectories` before the row returns.
pub fn evaluate(
    plan: &Plan,
    job: &Job,
    stop: &AtomicBool,
    dir: Option<&Path>,
) -> Result<Option<Row>> {
    let point = &plan.points[job.point];
    let entry = &plan.data[point.data];
    let start = Instant::now();
    let outcome = run_task(plan, job, entry, stop);
    let wall = start.elapsed().as_secs_f64();
    let outcome = match outcome {
        Ok(Some(o)) => o,
        Ok(None) => return Ok(None),
        Err(e) => {
            return Ok(Some(Row {
                row: job.row,
                id: job.id.clone(),
                task: job.task,
                status: ERROR_STATUS.into(),
                message: format!("{e:#}"),
                values: plan
                    .spec
                    .measures
                    .iter()
                    .map(|m| (*m == Measure::WallS).then_some(wall))
                    .collect(),
            }))
        }
    };
    if let (Some(dir), Some((t, loss))) = (dir, &outcome.trajectory) {
        super::store::write_trajectory(dir, &job.id, t, loss)?;
    }
    let values = plan
        .spec
        .measures
        .iter()
        .map(|&m| measure(plan, entry, &outcome, m, wall))
        .collect();
    Ok(Some(Row {
        row: job.row,
        id: job.id.clone(),
        task: job.task,
        status: outcome.status,
        message: outcome.message,
        values,
    }))
}

fn run_task(
    plan: &Plan,
    job: &Job,
    entry: &DataEntry,
    stop: &AtomicBool,
) -> Result<Option<Outcome>> {
    let point = &plan.points[job.point];
    let problem = &entry.problem;
    let (model, init) = point.config.load_init(problem)?;
    let predict_settings = &plan.spec.settings.predict;
    if job.task == Task::Bias {
        let p = predict_model(problem, model, &init, predict_settings)?;
        return Ok(Some(Outcome {
            status: name_of(&p.status),
            message: if p.status == PredictStatus::Converged {
                String::new()
            } else {
                p.message.clone()
            },
            theta: p.theta,
            iterations: Some(p.iterations as u64),
            grad_evals: None,
            t_loss: None,
            rel_dist_predicted: None,
            trajectory: None,
        }));
    }
    let mut watch = Watch {
        stop,
        level: plan.spec.settings.loss_level,
        threshold: None,
        t_loss: None,
    };
    let report = train(
        problem,
        model,
        &init,
        &job.method,
        &point.config.rate_check,
        &mut watch,
    )?;
    let run = &report.run;
    if run.status == Status::Stopped && stop.load(Ordering::Relaxed) {
        return Ok(None);
    }
    let predicted = if plan.spec.measures.contains(&Measure::RelDistPredicted) {
        match job.task {
            Task::Descent => report
                .implicit_bias
                .as_ref()
                .and_then(|c| c.check.as_ref())
                .filter(|b| b.prediction_status == PredictStatus::Converged)
                .map(|b| b.theta_predicted.clone()),
            _ => predict_model(problem, model, &init, predict_settings)
                .ok()
                .filter(|p| p.status.resolved())
                .map(|p| p.theta),
        }
    } else {
        None
    };
    let theta = run.final_theta.clone();
    Ok(Some(Outcome {
        status: name_of(&run.status),
        message: if run.status.is_success() {
            String::new()
        } else {
            run.message.clone()
        },
        rel_dist_predicted: predicted.map(|p| distance(&theta, &p) / norm(&p)),
        theta,
        iterations: Some(run.stats.steps),
        grad_evals: Some(run.stats.grad_evals),
        t_loss: watch.t_loss,
        trajectory: job
            .trajectory
            .then(|| (run.trajectory.t.clone(), run.trajectory.loss.clone())),
    }))
}

fn measure(plan: &Plan, entry: &DataEntry, o: &Outcome, m: Measure, wall: f64) -> Option<f64> {
    let settings = &plan.spec.settings;
    let finite = o.theta.iter().all(|v| v.is_finite());
    let theta = &o.theta;
    let baselines = || -> Option<&Baselines> {
        entry
            .baselines
            .get_or_init(|| Baselines::compute(&entry.problem, &settings.lp))
            .as_ref()
            .ok()
            .map(|b| b.as_ref())
    };
    match m {
        Measure::FinalLoss => finite.then(|| entry.problem.loss_value(theta)),
        Measure::DistThetaStar => entry
            .theta_star
            .as_ref()
            .filter(|_| finite)
            .map(|s| distance(theta, s)),
        Measure::DistL1 => baselines()
            .filter(|_| finite)
            .map(|b| distance(theta, &b.l1.theta)),
        Measure::DistL2 => baselines()
            .filter(|_| finite)
            .map(|b| distance(theta, &b.l2.theta)),
        Measure::Nnz => finite.then(|| nonzeros(theta, settings.sparsity_tol) as f64),
        Measure::TestError => entry.theta_star.as_ref().filter(|_| finite).map(|star| {
            let d = entry.problem.dim();
            let x = entry
                .test_x
                .get_or_init(|| gaussian_data(settings.test_n, d, settings.test_seed).0);
            let diff: Vec<f64> = theta.iter().zip(star).map(|(a, b)| a - b).collect();
            let sum: f64 = x
                .chunks_exact(d)
                .map(|row| {
                    row.iter()
                        .zip(&diff)
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                        .powi(2)
                })
                .sum();
            sum / settings.test_n as f64
        }),
        Measure::TLoss => o.t_loss,
        Measure::RelDistPredicted => o.rel_dist_predicted,
        Measure::Iterations => o.iterations.map(|v| v as f64),
        Measure::GradEvals => o.grad_evals.map(|v| v as f64),
        Measure::WallS => Some(wall),
    }
}

/// A status's name as the core serializes it.
fn name_of<T: Serialize>(status: &T) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "Unknown".into())
}

/// Stops a run when the sweep is asked to stop, and notes when the loss first reaches
/// `level` times its initial value.
struct Watch<'a> {
    stop: &'a AtomicBool,
    level: f64,
    threshold: Option<f64>,
    t_loss: Option<f64>,
}

impl Observer for Watch<'_> {
    fn observe(&mut self, view: &StepView) -> Control {
        let threshold = *self.threshold.get_or_insert(self.level * view.loss);
        if self.t_loss.is_none() && view.step > 0 && view.loss <= threshold {
            self.t_loss = Some(view.t);
        }
        if self.stop.load(Ordering::Relaxed) {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}
