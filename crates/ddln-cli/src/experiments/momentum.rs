//! The momentum lambda rule (Papazov, Pesme and Flammarion 2024): heavy-ball GD with
//! step `gamma` and momentum `beta` on `u ⊙ v` follows, as `beta -> 1` at fixed
//! `lambda = gamma / (1 - beta)^2`, the momentum gradient flow
//! `lambda w'' + w' = -grad L` in the time `k gamma / (1 - beta)`; its limit (integrated
//! with error control) is the predicted end point of the family, and the runs approach
//! it as `beta -> 1`, like `1 - beta`; against the flow of the heavy ball's own
//! `lambda_eff = (1 + beta) gamma / (2 (1 - beta)^2)` (the update expanded to second order)
//! the gap is `O(gamma)`. Plain GD with step lambda (`beta = 0`) is shown for comparison.

use std::path::Path;

use anyhow::{bail, Result};
use ddln::optim::momentum_flow;
use ddln::vector::distance;
use ddln::{DescentSettings, FlowSettings, Model, Status};
use serde_json::json;

use super::field::{self, D, K, N};
use super::{log_log_slope, Claim, Experiment, Options, Outcome};
use crate::interrupt;
use crate::io;
use crate::plot::{self, Chart, Corner, Series, PALETTE};

/// The experiment.
pub struct Momentum;

const LOSS_TOL: f64 = 1e-20;
/// Effective time `k gamma / (1 - beta)` allowed to converge.
const HORIZON: f64 = 20_000.0;

/// Where the momentum gradient flow with parameter `lambda` ends, from the setup's init.
fn flow_limit(problem: &ddln::Problem, lambda: f64) -> Result<Vec<f64>> {
    let flow = FlowSettings {
        t_end: HORIZON,
        rtol: 1e-11,
        atol: 1e-14,
        loss_tol: Some(LOSS_TOL),
        ..FlowSettings::default()
    };
    let (w, status, message) =
        momentum_flow(problem, Model::deep(2), &field::init(), lambda, &flow)?;
    if status != Status::Converged {
        bail!("the momentum flow at lambda = {lambda} did not converge: {message}");
    }
    interrupt::check()?;
    let mut theta = vec![0.0; D];
    Model::deep(2).theta(&w, &mut theta);
    Ok(theta)
}

/// One run of the family.
struct Point {
    lambda: f64,
    beta: f64,
    gamma: f64,
    theta: Vec<f64>,
    test_error: f64,
}

impl Experiment for Momentum {
    fn name(&self) -> &'static str {
        "momentum"
    }

    fn run(&self, dir: &Path, options: Options) -> Result<Outcome> {
        let (problem, star) = field::problem()?;
        let (lambdas, betas): (Vec<f64>, Vec<f64>) = if options.quick {
            (vec![0.1, 0.3], vec![0.0, 0.5, 0.75])
        } else {
            (vec![0.05, 0.1, 0.2, 0.4], vec![0.0, 0.5, 0.75, 0.875])
        };
        let mut points = Vec::new();
        let mut predicted = Vec::new();
        for &lambda in &lambdas {
            predicted.push(flow_limit(&problem, lambda)?);
            for &beta in &betas {
                let gamma = lambda * (1.0 - beta) * (1.0 - beta);
                let steps = (HORIZON * (1.0 - beta) / gamma) as u64;
                let report = field::descend(
                    &problem,
                    DescentSettings {
                        lr: gamma,
                        momentum: beta,
                        steps,
                        record_every: (steps / 100).max(1),
                        loss_tol: Some(LOSS_TOL),
                        ..DescentSettings::default()
                    },
                )?;
                interrupt::check()?;
                if report.run.status != Status::Converged {
                    bail!(
                        "heavy ball at gamma = {gamma}, beta = {beta} did not converge: {}",
                        report.run.message
                    );
                }
                points.push(Point {
                    lambda,
                    beta,
                    gamma,
                    test_error: field::test_error(&report.run.final_theta, &star),
                    theta: report.run.final_theta,
                });
            }
        }
        // Per lambda: distance of each run to the momentum flow's limit.
        let group = |l: f64| points.iter().filter(move |p| p.lambda == l);
        let mut spreads = Vec::new();
        let mut rows = Vec::new();
        let mut corrected: Vec<(f64, f64)> = Vec::new();
        for (j, &lambda) in lambdas.iter().enumerate() {
            let mut gaps = Vec::new();
            for p in group(lambda) {
                let gap = distance(&p.theta, &predicted[j]);
                gaps.push((p.gamma, gap));
                // The heavy ball's own continuous limit: lambda_eff = (1 + beta)/2 lambda
                // (Taylor expansion of the update to second order in the step).
                let effective = 0.5 * (1.0 + p.beta) * lambda;
                let gap_eff = distance(&p.theta, &flow_limit(&problem, effective)?);
                corrected.push((p.beta, gap_eff));
                rows.push(json!({"lambda": lambda, "beta": p.beta, "gamma": p.gamma,
                    "distance_to_prediction": gap, "lambda_eff": effective,
                    "distance_to_lambda_eff_limit": gap_eff, "test_error": p.test_error}));
            }
            spreads.push(gaps);
        }
        let between: f64 = predicted
            .windows(2)
            .map(|w| distance(&w[0], &w[1]))
            .fold(f64::INFINITY, f64::min);
        // The momentum runs (beta > 0) of each lambda, against their flow's limit.
        let within = spreads
            .iter()
            .flat_map(|g| g.iter().skip(1).map(|(_, d)| *d))
            .fold(0.0, f64::max);
        let shrinks = spreads
            .iter()
            .all(|g| g.windows(2).all(|w| w[1].1 < w[0].1));
        // The order in 1 - beta = sqrt(gamma / lambda), fitted over the momentum runs.
        let orders: Vec<f64> = spreads
            .iter()
            .zip(&lambdas)
            .map(|(g, &l)| {
                let (x, y): (Vec<f64>, Vec<f64>) = g
                    .iter()
                    .skip(1)
                    .map(|(gamma, d)| ((gamma / l).sqrt(), *d))
                    .unzip();
                log_log_slope(&x, &y)
            })
            .collect();
        let ratio_max = spreads
            .iter()
            .zip(&lambdas)
            .flat_map(|(g, &l)| {
                g.iter()
                    .skip(1)
                    .map(move |(gamma, d)| d / (gamma / l).sqrt())
            })
            .fold(0.0, f64::max);

        // With the heavy ball's own lambda_eff the gap is second order in 1 - beta, i.e.
        // O(gamma) at fixed lambda: the order in gamma per lambda.
        let per_lambda = betas.len();
        let corrected_orders: Vec<f64> = corrected
            .chunks(per_lambda)
            .zip(&lambdas)
            .map(|(c, &l)| {
                let (x, y): (Vec<f64>, Vec<f64>) = c
                    .iter()
                    .map(|(b, g)| (l * (1.0 - b) * (1.0 - b), *g))
                    .unzip();
                log_log_slope(&x, &y)
            })
            .collect();
        io::ensure_dir(dir)?;
        let mut chart = Chart {
            title: format!(
                "Heavy ball on u ⊙ v (n = {N}, d = {D}, k = {K}); at 1 - beta = 1: GD, step lambda"
            ),
            x_label: "1 - beta = sqrt(gamma / lambda)".into(),
            y_label: "||theta_inf(gamma, beta) - momentum-flow limit||".into(),
            log_x: true,
            log_y: true,
            legend: Corner::LowerRight,
            ..Chart::default()
        };
        for (j, &lambda) in lambdas.iter().enumerate() {
            let pts: Vec<(f64, f64)> = spreads[j]
                .iter()
                .map(|(gamma, d)| ((gamma / lambda).sqrt(), *d))
                .collect();
            chart.series.push(Series::points(
                format!("lambda = {lambda}"),
                pts.iter().map(|p| p.0).collect(),
                pts.iter().map(|p| p.1).collect(),
                PALETTE[j % PALETTE.len()],
            ));
        }
        chart.series.push(Series::points(
            "to the lambda_eff limit (all lambdas)",
            corrected.iter().map(|(b, _)| 1.0 - b).collect(),
            corrected.iter().map(|(_, g)| *g).collect(),
            PALETTE[7],
        ));
        let (g_lo, g_hi) = (1.0 - betas[betas.len() - 1], 1.0);
        chart.series.push(Series::dashed(
            "O(1 - beta)",
            vec![g_lo, g_hi],
            vec![ratio_max * g_lo, ratio_max * g_hi],
            PALETTE[7],
        ));
        chart.series.push(Series::solid(
            "closest limits of two lambdas",
            vec![g_lo, g_hi],
            vec![between, between],
            PALETTE[4],
        ));
        plot::save(&chart, &dir.join("momentum"))?;

        let claims = vec![
            Claim {
                statement: "Equal lambda, equal limit: heavy-ball runs (beta >= 0.5) end closer to their lambda's momentum-flow limit than the limits of two different lambdas are to each other".into(),
                holds: within < between,
                evidence: format!(
                    "largest distance of a momentum run to its lambda's limit {within:.3e}; closest limits of two lambdas {between:.3e}"
                ),
            },
            Claim {
                statement: "At fixed lambda the runs approach the momentum flow's limit as beta -> 1, at the rate 1 - beta = sqrt(gamma / lambda)".into(),
                holds: shrinks && orders.iter().all(|o| (0.8..=1.3).contains(o)),
                evidence: spreads
                    .iter()
                    .zip(&lambdas)
                    .map(|(g, l)| format!(
                        "lambda {l}: {}",
                        g.iter().map(|(gamma, d)| format!("gamma {gamma:.4} -> {d:.2e}")).collect::<Vec<_>>().join(", ")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
                    + &format!("; fitted order in 1 - beta: {orders:.3?}"),
            },
            Claim {
                statement: "Against the flow of the heavy ball's own lambda_eff = (1 + beta) gamma / (2 (1 - beta)^2), the gap is O(gamma) at fixed lambda".into(),
                holds: corrected_orders.iter().all(|o| (0.85..=1.2).contains(o)),
                evidence: format!(
                    "fitted order in gamma per lambda: {corrected_orders:.3?}; gaps {}",
                    corrected.iter().map(|(b, g)| format!("beta {b}: {g:.2e}")).collect::<Vec<_>>().join(", ")
                ),
            },
        ];
        Ok(Outcome {
            name: self.name().into(),
            title: "Momentum: the lambda rule of Papazov, Pesme and Flammarion (2024)".into(),
            claims,
            files: vec![
                "momentum/momentum.png".into(),
                "momentum/momentum.svg".into(),
            ],
            details: json!({
                "n": N, "d": D, "k": K, "data_seed": field::DATA_SEED, "u0": field::U0,
                "loss_scaling": "mean/2", "loss_tol": LOSS_TOL, "runs": rows,
                "largest_gap_over_one_minus_beta": ratio_max, "orders": orders,
                "orders_in_gamma_with_lambda_eff": corrected_orders,
            }),
        })
    }
}
