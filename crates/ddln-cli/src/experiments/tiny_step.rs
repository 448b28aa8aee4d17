//! "Tiny-step GD is not gradient flow": the field's proxy for gradient flow (10^4 steps
//! of size 0.03 on the mean/2 loss) against the exact flow and its limit, and the bias of
//! converged GD shrinking like O(step).

use std::path::Path;

use anyhow::{bail, Result};
use ddln::mirror::{predict, PredictSettings, PredictStatus};
use ddln::vector::distance;
use ddln::{gradient_flow, DescentSettings, FlowSettings, Model, Status};
use serde_json::json;

use super::field::{self, D, K, N};
use super::{log_log_slope, Claim, Experiment, Options, Outcome};
use crate::interrupt::{self, Interrupt};
use crate::io;
use crate::plot::{self, Chart, Series, PALETTE};

/// The experiment.
pub struct TinyStep;

/// The field's proxy: this many steps of this size.
const PROXY_STEPS: u64 = 10_000;
const PROXY_LR: f64 = 0.03;
/// Converged runs stop once the mean/2 loss is below this.
const LOSS_TOL: f64 = 1e-22;
/// The flow time by which every converged run has reached `LOSS_TOL` (measured: ~5000).
const HORIZON: f64 = 20_000.0;

impl Experiment for TinyStep {
    fn name(&self) -> &'static str {
        "tiny_step"
    }

    fn run(&self, dir: &Path, options: Options) -> Result<Outcome> {
        let (problem, star) = field::problem()?;
        let init = field::init();
        let limit = predict(&problem, &init, 2, &PredictSettings::default())?;
        if limit.status != PredictStatus::Converged {
            bail!("the flow's limit did not converge: {}", limit.message);
        }
        let limit_error = field::test_error(&limit.theta, &star);

        // The proxy, and the exact flow at the same time t = 10^4 x 0.03 = 300.
        let proxy = field::descend(
            &problem,
            DescentSettings {
                lr: PROXY_LR,
                steps: PROXY_STEPS,
                record_every: PROXY_STEPS,
                ..DescentSettings::default()
            },
        )?;
        interrupt::check()?;
        let t_proxy = proxy.run.t_final;
        let flow = gradient_flow(
            &problem,
            Model::deep(2),
            &init,
            &FlowSettings {
                t_end: t_proxy,
                rtol: 1e-12,
                atol: 1e-14,
                n_record: 2,
                ..FlowSettings::default()
            },
            &mut Interrupt,
        )?;
        interrupt::check()?;
        let proxy_error = field::test_error(&proxy.run.final_theta, &star);
        let flow_error = field::test_error(&flow.final_theta, &star);

        // GD run to convergence at decreasing steps.
        let steps: Vec<f64> = if options.quick {
            vec![0.1, 0.05, 0.025]
        } else {
            vec![0.1, 0.05, 0.025, 0.0125, 0.00625]
        };
        let mut bias = Vec::new();
        let mut errors = Vec::new();
        let mut worst_prediction: f64 = 0.0;
        let mut points = Vec::new();
        for &lr in &steps {
            let report = field::descend(
                &problem,
                DescentSettings {
                    lr,
                    steps: (HORIZON / lr) as u64,
                    record_every: (HORIZON / lr) as u64 / 50,
                    loss_tol: Some(LOSS_TOL),
                    ..DescentSettings::default()
                },
            )?;
            interrupt::check()?;
            let Some(table) = report.implicit_bias.and_then(|t| t.check) else {
                bail!("GD at step {lr} has no implicit-bias table");
            };
            if report.run.status != Status::Converged {
                bail!("GD at step {lr} did not converge: {}", report.run.message);
            }
            let gap = distance(&report.run.final_theta, &limit.theta);
            worst_prediction = worst_prediction.max(table.distance_to_final);
            bias.push(gap);
            errors.push(field::test_error(&report.run.final_theta, &star));
            points.push(json!({
                "lr": lr, "steps": report.run.stats.steps, "final_loss": report.run.final_loss,
                "distance_to_flow_limit": gap, "test_error": errors.last(),
                "predicted_to_final": table.distance_to_final,
                "mean_gain": table.gain.iter().sum::<f64>() / D as f64,
                "identity_residual": table.identity.max_residual,
            }));
        }
        let slope = log_log_slope(&steps, &bias);
        let proxy_gap = distance(&proxy.run.final_theta, &limit.theta);
        let converged_gap_at_proxy_step = {
            // The bias of converged GD at the proxy's step, interpolated on the O(step) law.
            let c = bias[0] / steps[0];
            c * PROXY_LR
        };

        io::ensure_dir(dir)?;
        let mut chart = Chart {
            title: format!(
                "GD is not gradient flow: u ⊙ v, n = {N}, d = {D}, k = {K}, mean/2 loss"
            ),
            x_label: "step size".into(),
            y_label: "||theta_GD - theta_flow limit||".into(),
            log_x: true,
            log_y: true,
            ..Chart::default()
        };
        chart.series.push(Series::points(
            "GD run to convergence",
            steps.clone(),
            bias.clone(),
            PALETTE[0],
        ));
        let c = bias[0] / steps[0];
        let line_x = vec![steps[steps.len() - 1], PROXY_LR.max(steps[0])];
        chart.series.push(Series::dashed(
            "O(step): c x step",
            line_x.clone(),
            line_x.iter().map(|s| c * s).collect(),
            PALETTE[7],
        ));
        chart.series.push(Series::points(
            "the field's proxy (1e4 steps of 0.03)",
            vec![PROXY_LR],
            vec![proxy_gap],
            PALETTE[3],
        ));
        plot::save(&chart, &dir.join("tiny_step"))?;
        io::write_npz(
            &dir.join("tiny_step.npz"),
            &[
                ("lr", &steps, vec![steps.len()]),
                ("distance_to_flow_limit", &bias, vec![bias.len()]),
                ("test_error", &errors, vec![errors.len()]),
                ("flow_limit", &limit.theta, vec![D]),
                ("proxy_theta", &proxy.run.final_theta, vec![D]),
            ],
        )?;

        let pct = |a: f64, b: f64| 100.0 * (a - b) / b;
        let claims = vec![
            Claim {
                statement: "The field's proxy for gradient flow (1e4 GD steps of 0.03) is not the flow: it ends farther from the flow's limit than converged GD at that step".into(),
                holds: proxy_gap > converged_gap_at_proxy_step,
                evidence: format!(
                    "test error: proxy {proxy_error:.6e} ({:+.2}% vs the flow's limit {limit_error:.6e}); exact flow at the same t = {t_proxy}: {flow_error:.6e} ({:+.2}%); ||proxy - limit|| = {proxy_gap:.3e}, converged GD at 0.03 ~ {converged_gap_at_proxy_step:.3e}",
                    pct(proxy_error, limit_error),
                    pct(flow_error, limit_error)
                ),
            },
            Claim {
                statement: "Converged GD is biased by O(step): its distance to the flow's limit shrinks like the step".into(),
                holds: (0.85..=1.15).contains(&slope),
                evidence: format!(
                    "log-log slope {slope:.3} over steps {steps:?}; distances {:?}",
                    bias.iter().map(|b| format!("{b:.3e}")).collect::<Vec<_>>()
                ),
            },
            Claim {
                statement: "The effective init of the steps predicts where each converged GD run ends".into(),
                holds: worst_prediction <= 1e-6,
                evidence: format!("largest ||theta_predicted - theta_GD|| = {worst_prediction:.3e}"),
            },
        ];
        Ok(Outcome {
            name: self.name().into(),
            title: "Tiny-step GD is not gradient flow (u ⊙ v, the field's sparse-recovery setup)"
                .into(),
            claims,
            files: vec![
                "tiny_step/tiny_step.png".into(),
                "tiny_step/tiny_step.svg".into(),
                "tiny_step/tiny_step.npz".into(),
            ],
            details: json!({
                "n": N, "d": D, "k": K, "data_seed": field::DATA_SEED, "u0": field::U0,
                "loss_scaling": "mean/2", "flow_limit_test_error": limit_error,
                "proxy": {"lr": PROXY_LR, "steps": PROXY_STEPS, "t": t_proxy,
                          "test_error": proxy_error, "distance_to_flow_limit": proxy_gap},
                "flow_at_proxy_time": {"test_error": flow_error, "status": flow.status},
                "converged_gd": points, "slope": slope, "loss_tol": LOSS_TOL,
            }),
        })
    }
}
