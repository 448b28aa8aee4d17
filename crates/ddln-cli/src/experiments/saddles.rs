//! Saddle to saddle (Pesme & Flammarion 2023): on a seeded sparse-recovery problem, the
//! jump times and saddles of the vanishing-init limit (the algorithm, without
//! simulating) next to two-layer gradient flow simulated at init scales down to 1e-256
//! (the dual flow in accelerated time); the staircase of the loss for all of them.

use std::path::Path;

use anyhow::Result;
use ddln::mirror::{min_l1, LpSettings};
use ddln::recipes::sparse_recovery;
use ddln::saddles::{
    saddle_to_saddle, simulate_deep_jumps, simulate_jumps, SaddleSettings, SmallInitModel,
};
use ddln::{FlowSettings, Loss, Problem};
use plotters::style::RGBColor;
use serde_json::json;

use super::{log_log_slope, Claim, Experiment, Options, Outcome};
use crate::interrupt;
use crate::plot::{self, Chart, Corner, Series, PALETTE};

/// The experiment.
pub struct Saddles;

const EXPONENTS: [f64; 8] = [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];
/// Depths >= 3 and their init scales (the last two fit the order of convergence).
const DEEP: [(usize, [f64; 3]); 2] = [(3, [0.1, 0.01, 0.001]), (4, [0.3, 0.1, 0.01])];
/// The init scale far below f64's reach of the layers (`alpha^(L-2)` down to 1e-600)
/// at which the deep flows are the limit to the skip's tolerance.
const DEEP_TINY_LOG10: f64 = -300.0;
const SEED: u64 = 7;

impl Experiment for Saddles {
    fn name(&self) -> &'static str {
        "saddles"
    }

    fn run(&self, dir: &Path, _options: Options) -> Result<Outcome> {
        let (n, d, k) = (10, 20, 3);
        let (x, y, _) = sparse_recovery(n, d, k, SEED)?;
        let problem = Problem::new(x, n, d, y, Loss::Square)?;
        let saddles = saddle_to_saddle(&problem, &SaddleSettings::default())?;
        let jumps = &saddles.jumps;
        let l1 = min_l1(&problem, &LpSettings::default())?;
        let last = &jumps[jumps.len() - 1];
        let to_l1 = last
            .theta
            .iter()
            .zip(&l1.theta)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let floor = 1e-20 * saddles.initial_loss;
        let t_end = 1.5 * last.time_accelerated;
        let settings = FlowSettings {
            n_record: 401,
            ..FlowSettings::default()
        };
        let mut rows = Vec::new();
        let mut chart = Chart {
            title: format!("Saddle to saddle: sparse recovery n = {n}, d = {d}, k = {k}, u ⊙ v from u = sqrt(2) alpha"),
            x_label: "accelerated time t / log(1/alpha)".into(),
            y_label: "loss (floored at 1e-8 L(0) for display)".into(),
            log_y: true,
            legend: Corner::LowerLeft,
            ..Chart::default()
        };
        let display_floor = 1e-8 * saddles.initial_loss;
        for (c, &e) in EXPONENTS.iter().enumerate() {
            interrupt::check()?;
            let lambda = e * 10f64.ln();
            let sim = simulate_jumps(
                &problem,
                &saddles,
                SmallInitModel::Product,
                lambda,
                &settings,
            )?;
            let (run, errors) = (&sim.run, &sim.relative_errors);
            // The plateau loss halfway between two jumps against the saddle's loss.
            let mut plateau = 0.0f64;
            for w in jumps.windows(2).filter(|w| w[1].loss > floor) {
                let mid = 0.5 * (w[0].time_accelerated + w[1].time_accelerated);
                let idx = run.t.partition_point(|&t| t < mid).min(run.t.len() - 1);
                plateau = plateau.max((run.loss[idx] - w[0].loss).abs() / w[0].loss);
            }
            chart.series.push(Series::solid(
                format!("alpha = 1e-{e}"),
                run.t.clone(),
                run.loss.iter().map(|l| l.max(display_floor)).collect(),
                PALETTE[c % PALETTE.len()],
            ));
            rows.push(json!({
                "alpha": format!("1e-{e}"), "lambda": lambda, "status": run.status,
                "jump_times": sim.jump_times, "relative_errors": errors,
                "worst_error": sim.worst_error,
                "plateau_loss_error": plateau,
                "steps": run.stats.steps + run.stats.rejected_steps,
                "grad_evals": run.stats.grad_evals,
            }));
        }
        // The algorithm's staircase.
        let (mut sx, mut sy) = (vec![0.0], vec![saddles.initial_loss]);
        for j in jumps {
            sx.extend([j.time_accelerated, j.time_accelerated]);
            sy.extend([*sy.last().unwrap_or(&0.0), j.loss.max(display_floor)]);
        }
        sx.push(t_end);
        sy.push(last.loss.max(display_floor));
        chart.series.push(Series::dashed(
            "the limit (algorithm)",
            sx,
            sy,
            RGBColor(0, 0, 0),
        ));
        crate::io::ensure_dir(dir)?;
        plot::save(&chart, &dir.join("staircase"))?;
        let deep = deep_staircases(
            &problem,
            &saddles,
            &chart.series[chart.series.len() - 1],
            dir,
        )?;

        let worst = |i: usize| rows[i]["worst_error"].as_f64().unwrap_or(f64::NAN);
        let at = |e: f64| EXPONENTS.iter().position(|&x| x == e).unwrap_or(0);
        let (e16, e64) = (worst(at(16.0)), worst(at(64.0)));
        let from = at(8.0);
        let lambdas: Vec<f64> = EXPONENTS[from..].iter().map(|e| e * 10f64.ln()).collect();
        let errs: Vec<f64> = (from..EXPONENTS.len()).map(worst).collect();
        let slope = log_log_slope(&lambdas, &errs);
        let steps: Vec<u64> = rows
            .iter()
            .map(|r| r["steps"].as_u64().unwrap_or(0))
            .collect();
        let plateau_256 = rows[EXPONENTS.len() - 1]["plateau_loss_error"]
            .as_f64()
            .unwrap_or(f64::NAN);
        let claims = vec![
            Claim {
                statement: "The limit algorithm ends at the minimum-L1 interpolator (the alpha -> 0 limit of u ⊙ v for n < d)".into(),
                holds: to_l1 < 1e-7,
                evidence: format!(
                    "{} jumps, active sets {:?}; max |last saddle - min-L1 (LP)| = {to_l1:.2e}",
                    jumps.len(),
                    jumps.iter().map(|j| j.active.clone()).collect::<Vec<_>>()
                ),
            },
            Claim {
                statement: "Simulated jump times (loss crossing the geometric mean of two plateau losses) are within 2% of the algorithm's at alpha = 1e-64, and the error at least halves from 1e-16 to 1e-64".into(),
                holds: e64 < 0.02 && e64 <= 0.5 * e16,
                evidence: format!("worst relative error {e16:.3e} at 1e-16, {e64:.3e} at 1e-64"),
            },
            Claim {
                statement: "The error falls like 1 / log(1/alpha) (fitted order -1 in log(1/alpha), alpha <= 1e-8)".into(),
                holds: (-1.2..=-0.8).contains(&slope),
                evidence: format!("fitted order {slope:.3}; worst errors {:?}", errs.iter().map(|e| format!("{e:.2e}")).collect::<Vec<_>>()),
            },
            Claim {
                statement: "On each plateau the flow sits at the algorithm's saddle (loss halfway between jumps, alpha = 1e-256)".into(),
                holds: plateau_256 < 1e-3,
                evidence: format!("largest relative gap of the plateau loss {plateau_256:.2e}"),
            },
            Claim {
                statement: "The simulation's cost does not grow with log(1/alpha): steps sized by the jumps, not the plateaus".into(),
                holds: steps[EXPONENTS.len() - 1] < 3 * steps[at(16.0)],
                evidence: format!("steps (accepted + rejected) from 1e-2 to 1e-256: {steps:?}"),
            },
            deep.claim,
        ];
        Ok(Outcome {
            name: self.name().into(),
            title: "Saddle-to-saddle dynamics at vanishing init (Pesme & Flammarion 2023): the limit algorithm against flows down to alpha = 1e-256, and at depths 3 and 4".into(),
            claims,
            files: vec![
                "saddles/staircase.png".into(),
                "saddles/staircase.svg".into(),
                "saddles/staircase_deep.png".into(),
                "saddles/staircase_deep.svg".into(),
            ],
            details: json!({
                "n": n, "d": d, "k": k, "seed": SEED, "initial_loss": saddles.initial_loss,
                "jumps": jumps, "time_unit": saddles.time_unit, "simulations": rows,
                "deep_simulations": deep.rows, "flow": settings,
            }),
        })
    }
}

/// The depth-3 and depth-4 staircases and their claim.
struct Deep {
    claim: Claim,
    rows: Vec<serde_json::Value>,
}

/// Flows at depths 3 and 4 from `u^1 = 0`, `u^j = alpha` (down to 1e-300), in the depth's time
/// `tau = t alpha^(L-2) / w_L`, against the same algorithm (`limit`: its staircase).
fn deep_staircases(
    problem: &Problem,
    saddles: &ddln::saddles::Saddles,
    limit: &Series,
    dir: &Path,
) -> Result<Deep> {
    let display_floor = 1e-8 * saddles.initial_loss;
    let mut chart = Chart {
        title: "The same staircase at depths 3 and 4 (u^1 = 0, u^j = alpha), in the depth's time"
            .into(),
        x_label: "tau = t alpha^(L-2) / w_L".into(),
        y_label: "loss (floored at 1e-8 L(0) for display)".into(),
        log_y: true,
        legend: Corner::LowerLeft,
        ..Chart::default()
    };
    let (mut rows, mut orders, mut finest) = (Vec::new(), Vec::new(), Vec::new());
    let mut tiniest = Vec::new();
    let mut color = 0;
    for (depth, alphas) in DEEP {
        let mut worst = Vec::new();
        let tiny = 10f64.powf(DEEP_TINY_LOG10);
        for (k, lambda) in alphas
            .iter()
            .map(|a| -a.ln())
            .chain([-DEEP_TINY_LOG10 * std::f64::consts::LN_10])
            .enumerate()
        {
            interrupt::check()?;
            let sim =
                simulate_deep_jumps(problem, saddles, depth, lambda, &FlowSettings::default())?;
            let alpha = alphas.get(k).copied().unwrap_or(tiny);
            let label = if k < alphas.len() {
                format!("L = {depth}, alpha = {alpha}")
            } else {
                format!("L = {depth}, alpha = 1e{DEEP_TINY_LOG10}")
            };
            chart.series.push(Series::solid(
                label,
                sim.tau.clone(),
                sim.loss.iter().map(|l| l.max(display_floor)).collect(),
                PALETTE[color % PALETTE.len()],
            ));
            color += 1;
            rows.push(json!({
                "depth": depth, "alpha_log10": -lambda / std::f64::consts::LN_10, "unit_edge": sim.unit_edge,
                "jump_times": sim.jump_times, "relative_errors": sim.relative_errors,
                "worst_error": sim.worst_error, "status": sim.status, "steps": sim.steps,
                "skips": sim.skips,
            }));
            if k < alphas.len() {
                worst.push(sim.worst_error);
            } else {
                tiniest.push((depth, sim.worst_error, sim.steps));
            }
        }
        let (a, b) = (alphas[1], alphas[2]);
        orders.push((depth, (worst[1] / worst[2]).log10() / (a / b).log10()));
        finest.push((depth, b, worst[2]));
    }
    chart.series.push(limit.clone());
    plot::save(&chart, &dir.join("staircase_deep"))?;
    let holds = orders
        .iter()
        .all(|&(depth, order)| (order - (depth - 2) as f64).abs() < 0.3)
        && finest.iter().all(|&(_, _, e)| e < 5e-3)
        && tiniest.iter().all(|&(_, e, _)| e < 1e-6);
    let claim = Claim {
        statement: format!("At depths 3 and 4 gradient flow, in the time t alpha^(L-2) / w_L, jumps at the algorithm's times, with an error falling like alpha^(L-2), and within 1e-6 of them at alpha = 1e{DEEP_TINY_LOG10}"),
        holds,
        evidence: format!(
            "fitted orders in alpha {}; worst errors at the smallest alpha {}; at alpha = 1e{DEEP_TINY_LOG10}: {}",
            orders
                .iter()
                .map(|(l, o)| format!("L = {l}: {o:.2}"))
                .collect::<Vec<_>>()
                .join(", "),
            finest
                .iter()
                .map(|(l, a, e)| format!("L = {l}, alpha = {a}: {e:.2e}"))
                .collect::<Vec<_>>()
                .join(", "),
            tiniest
                .iter()
                .map(|(l, e, steps)| format!("L = {l}: {e:.2e} ({steps} steps)"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Ok(Deep { claim, rows })
}
