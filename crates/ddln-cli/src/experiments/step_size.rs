//! The step-size picture of Even, Pesme, Gunasekar and Flammarion (2023): on the field's
//! sparse-recovery setup, GD and SGD (batch 1, with replacement) run to convergence at
//! step sizes up to divergence; for each, the test error of the limit, the gain of the
//! steps, and the limit predicted from the effective init the steps accumulated.

use std::path::Path;

use anyhow::{bail, Result};
use ddln::mirror::{predict, PredictSettings};
use ddln::vector::distance;
use ddln::{DescentSettings, Status};
use serde_json::json;

use super::field::{self, D, K, N};
use super::{logspace, Claim, Experiment, Options, Outcome};
use crate::interrupt;
use crate::io;
use crate::plot::{self, Chart, Corner, Series, PALETTE};

/// The experiment.
pub struct StepSize;

/// Runs stop once the mean/2 loss is below this.
const LOSS_TOL: f64 = 1e-20;
/// Flow time allowed to converge: GD, and SGD with batch 1 (slower at large steps).
const HORIZON: f64 = 20_000.0;
const SGD_HORIZON: f64 = 100_000.0;
const SGD_SEED: u64 = 0;

/// One run of the sweep.
struct Point {
    lr: f64,
    status: Status,
    test_error: f64,
    predicted_error: f64,
    predicted_to_final: f64,
    mean_gain: f64,
}

fn sweep(lrs: &[f64], batch: Option<usize>) -> Result<Vec<Point>> {
    let (problem, star) = field::problem()?;
    let horizon = if batch.is_some() {
        SGD_HORIZON
    } else {
        HORIZON
    };
    let mut points = Vec::new();
    for &lr in lrs {
        let steps = (horizon / lr) as u64;
        let report = field::descend(
            &problem,
            DescentSettings {
                lr,
                steps,
                batch_size: batch,
                seed: SGD_SEED,
                record_every: (steps / 200).max(1),
                loss_tol: Some(LOSS_TOL),
                ..DescentSettings::default()
            },
        )?;
        interrupt::check()?;
        let status = report.run.status;
        let table = report.implicit_bias.and_then(|t| t.check);
        let (predicted_error, predicted_to_final, mean_gain) = match (&table, status) {
            (Some(t), Status::Converged) => (
                field::test_error(&t.theta_predicted, &star),
                t.distance_to_final,
                t.gain.iter().sum::<f64>() / D as f64,
            ),
            _ => (f64::NAN, f64::NAN, f64::NAN),
        };
        points.push(Point {
            lr,
            status,
            test_error: field::test_error(&report.run.final_theta, &star),
            predicted_error,
            predicted_to_final,
            mean_gain,
        });
    }
    Ok(points)
}

impl Experiment for StepSize {
    fn name(&self) -> &'static str {
        "step_size"
    }

    fn run(&self, dir: &Path, options: Options) -> Result<Outcome> {
        let (problem, star) = field::problem()?;
        let flow_limit = predict(&problem, &field::init(), 2, &PredictSettings::default())?;
        let flow_error = field::test_error(&flow_limit.theta, &star);
        let lrs = if options.quick {
            logspace(-1.3, 0.1, 5)
        } else {
            logspace(-1.6, 0.1, 12)
        };
        let gd = sweep(&lrs, None)?;
        let sgd = sweep(&lrs, Some(1))?;
        let converged = |p: &&Point| p.status == Status::Converged;
        let gd_ok: Vec<&Point> = gd.iter().filter(converged).collect();
        let sgd_ok: Vec<&Point> = sgd.iter().filter(converged).collect();
        if gd_ok.len() < 2 {
            bail!("fewer than two GD step sizes converged");
        }
        // The threshold: the first step of the grid at which GD no longer converges.
        let threshold = gd
            .iter()
            .find(|p| p.status != Status::Converged)
            .map(|p| p.lr);
        let beyond_all_fail = match threshold {
            Some(t) => gd
                .iter()
                .filter(|p| p.lr >= t)
                .all(|p| p.status != Status::Converged),
            None => false,
        };
        let worst_prediction = gd_ok
            .iter()
            .chain(&sgd_ok)
            .map(|p| p.predicted_to_final)
            .fold(0.0, f64::max);
        let gains_grow = gd_ok.windows(2).all(|w| w[1].mean_gain > w[0].mean_gain);
        // Where both converged, at the same step.
        let pairs: Vec<(&Point, &Point)> = gd_ok
            .iter()
            .filter_map(|g| sgd_ok.iter().find(|s| s.lr == g.lr).map(|s| (*g, *s)))
            .collect();
        let sgd_better = !pairs.is_empty()
            && pairs
                .iter()
                .all(|(g, s)| s.test_error < g.test_error && s.mean_gain > g.mean_gain);

        io::ensure_dir(dir)?;
        let xs = |pts: &[&Point]| pts.iter().map(|p| p.lr).collect::<Vec<_>>();
        let mut errors = Chart {
            title: format!("Limit's test error vs step (u ⊙ v, n = {N}, d = {D}, k = {K})"),
            x_label: "step size (mean/2 loss)".into(),
            y_label: "test error ||theta - theta*||^2 / 2".into(),
            log_x: true,
            log_y: true,
            legend: Corner::LowerLeft,
            ..Chart::default()
        };
        errors.series.push(Series::points(
            "GD",
            xs(&gd_ok),
            gd_ok.iter().map(|p| p.test_error).collect(),
            PALETTE[0],
        ));
        errors.series.push(Series::dashed(
            "GD: limit from the effective init",
            xs(&gd_ok),
            gd_ok.iter().map(|p| p.predicted_error).collect(),
            PALETTE[0],
        ));
        errors.series.push(Series::points(
            "SGD (batch 1)",
            xs(&sgd_ok),
            sgd_ok.iter().map(|p| p.test_error).collect(),
            PALETTE[3],
        ));
        errors.series.push(Series::dashed(
            "SGD: limit from the effective init",
            xs(&sgd_ok),
            sgd_ok.iter().map(|p| p.predicted_error).collect(),
            PALETTE[3],
        ));
        errors.series.push(Series::solid(
            "gradient flow's limit",
            vec![lrs[0], lrs[lrs.len() - 1]],
            vec![flow_error; 2],
            PALETTE[7],
        ));
        if let Some(t) = threshold {
            errors.title = format!("{}; GD fails from {t:.2}", errors.title);
        }
        plot::save(&errors, &dir.join("test_error"))?;
        let mut gains = Chart {
            title: "Gain of the steps: log(beta_0 / beta_inf), mean over coordinates".into(),
            x_label: "step size (mean/2 loss)".into(),
            y_label: "mean gain".into(),
            log_x: true,
            log_y: true,
            ..Chart::default()
        };
        gains.series.push(Series::solid(
            "GD",
            xs(&gd_ok),
            gd_ok.iter().map(|p| p.mean_gain).collect(),
            PALETTE[0],
        ));
        gains.series.push(Series::dashed(
            "SGD (batch 1)",
            xs(&sgd_ok),
            sgd_ok.iter().map(|p| p.mean_gain).collect(),
            PALETTE[3],
        ));
        plot::save(&gains, &dir.join("gain"))?;
        let column = |pts: &[Point], f: fn(&Point) -> f64| pts.iter().map(f).collect::<Vec<f64>>();
        let m = lrs.len();
        io::write_npz(
            &dir.join("step_size.npz"),
            &[
                ("lr", &lrs, vec![m]),
                ("gd_test_error", &column(&gd, |p| p.test_error), vec![m]),
                (
                    "gd_predicted_error",
                    &column(&gd, |p| p.predicted_error),
                    vec![m],
                ),
                ("gd_gain", &column(&gd, |p| p.mean_gain), vec![m]),
                ("sgd_test_error", &column(&sgd, |p| p.test_error), vec![m]),
                (
                    "sgd_predicted_error",
                    &column(&sgd, |p| p.predicted_error),
                    vec![m],
                ),
                ("sgd_gain", &column(&sgd, |p| p.mean_gain), vec![m]),
            ],
        )?;
        let table = |pts: &[Point]| {
            pts.iter()
                .map(|p| {
                    json!({"lr": p.lr, "status": p.status, "test_error": p.test_error,
                    "predicted_test_error": p.predicted_error, "mean_gain": p.mean_gain,
                    "predicted_to_final": p.predicted_to_final})
                })
                .collect::<Vec<_>>()
        };
        let claims = vec![
            Claim {
                statement: "The effective init predicts the limit of every converged GD and SGD run (Even et al. 2023, Theorem 1, in its exact form)".into(),
                holds: worst_prediction <= 1e-6,
                evidence: format!(
                    "largest ||theta_predicted - theta_final|| = {worst_prediction:.3e} over {} GD and {} SGD runs",
                    gd_ok.len(),
                    sgd_ok.len()
                ),
            },
            Claim {
                statement: "The gain of GD grows with the step size".into(),
                holds: gains_grow,
                evidence: format!(
                    "mean gain {:?} at steps {:?}",
                    gd_ok.iter().map(|p| format!("{:.3e}", p.mean_gain)).collect::<Vec<_>>(),
                    gd_ok.iter().map(|p| format!("{:.3}", p.lr)).collect::<Vec<_>>()
                ),
            },
            Claim {
                statement: "At every step where both converge, SGD (batch 1) gains more than GD and its limit has the lower test error (a smaller effective init: Even et al. 2023)".into(),
                holds: sgd_better,
                evidence: pairs
                    .iter()
                    .map(|(g, s)| format!("step {:.3}: gain {:.3e} vs {:.3e}, test error {:.3e} vs {:.3e}", g.lr, s.mean_gain, g.mean_gain, s.test_error, g.test_error))
                    .collect::<Vec<_>>()
                    .join("; "),
            },
            Claim {
                statement: "GD converges up to a step-size threshold and fails beyond it".into(),
                holds: beyond_all_fail,
                evidence: match threshold {
                    Some(t) => format!(
                        "largest converged step {:.4}, first failing {t:.4} ({:?})",
                        gd_ok.last().map_or(f64::NAN, |p| p.lr),
                        gd.iter().find(|p| p.lr == t).map(|p| p.status)
                    ),
                    None => "every step of the grid converged".into(),
                },
            },
        ];
        Ok(Outcome {
            name: self.name().into(),
            title: "Step sizes of GD and SGD (Even et al. 2023): test error, gain, effective init"
                .into(),
            claims,
            files: vec![
                "step_size/test_error.png".into(),
                "step_size/test_error.svg".into(),
                "step_size/gain.png".into(),
                "step_size/gain.svg".into(),
                "step_size/step_size.npz".into(),
            ],
            details: json!({
                "n": N, "d": D, "k": K, "data_seed": field::DATA_SEED, "u0": field::U0,
                "loss_scaling": "mean/2", "loss_tol": LOSS_TOL, "sgd_seed": SGD_SEED,
                "flow_limit_test_error": flow_error, "threshold": threshold,
                "gd": table(&gd), "sgd": table(&sgd),
                "flow_limit_to_min_step_gd": gd_ok.first().map(|p| p.test_error - flow_error),
                "distance_flow_limit_to_star": distance(&flow_limit.theta, &star),
            }),
        })
    }
}
