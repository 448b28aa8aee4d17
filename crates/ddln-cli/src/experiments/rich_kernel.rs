//! The rich-to-kernel picture (Woodworth et al. 2020; Chou et al. 2023), computed with
//! the implicit-bias predictor: on a seeded sparse-recovery problem, the distance of
//! gradient flow's limit theta_inf(alpha) to the minimum-L1 and minimum-L2 interpolators
//! as the init scale alpha runs over decades, one curve per depth; a few points are
//! confirmed by simulating the flow to convergence.

use std::path::Path;

use anyhow::{bail, Result};
use ddln::mirror::{min_l1, min_l2, LpSettings};
use ddln::recipes::sparse_recovery;
use ddln::vector::{distance, norm};
use ddln::{Loss, Problem};
use ddln_spec::sweep::local::run_local;
use ddln_spec::sweep::{Plan, Session, SweepSpec};
use serde_json::json;

use super::{Claim, Experiment, Options, Outcome};
use crate::interrupt::{self, Interrupted};
use crate::plot::{self, Chart, Corner, Series, PALETTE};
use ddln_spec::sweep::logspace;
use plotters::style::RGBColor;

/// The experiment.
pub struct RichKernel;

const DEPTHS: [usize; 4] = [2, 3, 4, 6];
const SEED: u64 = 0;
/// Simulated limits must agree with the predictor to this relative distance.
const AGREEMENT_RTOL: f64 = 1e-6;

/// One bias row of the sweep's table.
struct Point {
    depth: usize,
    scale: f64,
    dist_l1: f64,
    dist_l2: f64,
    status: String,
}

/// The sweep config of the experiment (written to `sweep/config.toml` by the sweep):
/// the predictor at every (depth, scale), the flow at the `confirm` points.
fn sweep_config(
    n: usize,
    d: usize,
    k: usize,
    scales: &[f64],
    confirm: &[(usize, f64)],
    loss_tol: f64,
) -> Result<toml::Table> {
    let select: Vec<toml::Value> = confirm
        .iter()
        .map(|&(depth, scale)| {
            toml::Value::Table(toml::Table::from_iter([
                ("init.depth".to_string(), toml::Value::Integer(depth as i64)),
                ("init.scale".to_string(), toml::Value::Float(scale)),
            ]))
        })
        .collect();
    let config = json!({
        "data": {"kind": "sparse", "n": n, "d": d, "k": k, "seed": SEED},
        // First layer 0, the others alpha: assumption (A), the reduced dynamics apply.
        "init": {"kind": "recipe", "depth": 2, "scale": 1.0, "zero_first": true,
                 "shape": {"kind": "constant"}, "seed": 0},
        "train": {"method": "flow", "t_end": 1e6, "rtol": 1e-11, "atol": 1e-14, "n_record": 2,
                  "loss_tol": loss_tol, "max_steps": 2_000_000, "dynamics": "reduced"},
        "sweep": {
            "tasks": ["bias", "flow"],
            "measures": ["dist_l1", "dist_l2", "rel_dist_predicted", "iterations", "grad_evals", "wall_s"],
            "init.depth": DEPTHS,
            "init.scale": scales,
        },
    });
    let mut table: toml::Table = serde_json::from_value(config)?;
    if let Some(toml::Value::Table(sweep)) = table.get_mut("sweep") {
        sweep.insert(
            "select".into(),
            toml::Value::Table(toml::Table::from_iter([(
                "flow".to_string(),
                toml::Value::Array(select),
            )])),
        );
    }
    Ok(table)
}

impl Experiment for RichKernel {
    fn name(&self) -> &'static str {
        "rich_kernel"
    }

    fn run(&self, dir: &Path, options: Options) -> Result<Outcome> {
        let (n, d, k) = if options.quick {
            (20, 40, 3)
        } else {
            (40, 100, 5)
        };
        let (x, y, theta_star) = sparse_recovery(n, d, k, SEED)?;
        let problem = Problem::new(x, n, d, y, Loss::Square)?;
        let scales = if options.quick {
            logspace(-8.0, 2.0, 11)
        } else {
            logspace(-8.0, 2.0, 41)
        };
        // Confirm a few points by simulating gradient flow (reduced dynamics) to
        // convergence; the scales are grid values.
        let at = |e: f64| 10f64.powf(e);
        let confirm: Vec<(usize, f64)> = if options.quick {
            vec![(2, at(-2.0)), (3, at(-1.0)), (4, at(0.0))]
        } else {
            vec![
                (2, at(-2.0)),
                (2, at(0.0)),
                (3, at(-1.0)),
                (3, at(0.0)),
                (4, at(-0.5)),
                (4, at(0.0)),
                (6, at(-0.25)),
                (6, at(0.0)),
            ]
        };
        let loss_tol = 1e-20 * norm(problem.y()).powi(2);
        let config = sweep_config(n, d, k, &scales, &confirm, loss_tol)?;
        crate::io::ensure_dir(dir)?;
        let plan = Plan::new(SweepSpec::parse(config, "rich_kernel")?, dir)?;
        let mut session = Session::open(plan, &dir.join("sweep"), false)?;
        let info = run_local(&mut session, 0, |_, _, _| {}, interrupt::requested)?;
        let summary = session.finish(info)?;
        if summary.run.stopped {
            return Err(Interrupted.into());
        }
        if !summary.complete {
            bail!(
                "the rich-to-kernel sweep left {} rows uncomputed",
                summary.rows_total - summary.rows_committed
            );
        }
        let table = session.table();
        let text = |name: &str| table.text(name).unwrap_or_default();
        let float = |name: &str| table.floats(name).unwrap_or_default();
        let (tasks, statuses) = (text("task"), text("status"));
        let (depths, row_scales) = (float("init.depth"), float("init.scale"));
        let (to_l1, to_l2, rel_pred) = (
            float("dist_l1"),
            float("dist_l2"),
            float("rel_dist_predicted"),
        );
        let (grad_evals, wall) = (float("grad_evals"), float("wall_s"));
        let of_task =
            |task: &str| -> Vec<usize> { (0..table.rows).filter(|&i| tasks[i] == task).collect() };
        let (bias_rows, flow_rows) = (of_task("bias"), of_task("flow"));
        let points: Vec<Point> = bias_rows
            .iter()
            .copied()
            .map(|i| Point {
                depth: depths[i] as usize,
                scale: row_scales[i],
                dist_l1: to_l1[i],
                dist_l2: to_l2[i],
                status: statuses[i].clone(),
            })
            .collect();
        let predict_seconds: f64 = bias_rows.iter().copied().map(|i| wall[i]).sum();
        let l1 = min_l1(&problem, &LpSettings::default())?;
        let l2 = min_l2(&problem)?;
        let l1_l2 = distance(&l1.theta, &l2.theta);
        let mut confirmations = Vec::new();
        let mut worst = 0.0f64;
        let mut all_converged = true;
        for i in flow_rows.iter().copied() {
            let (depth, scale) = (depths[i] as usize, row_scales[i]);
            let pred_seconds = bias_rows
                .iter()
                .copied()
                .find(|&b| depths[b] as usize == depth && row_scales[b] == scale)
                .map_or(f64::NAN, |b| wall[b]);
            let converged = statuses[i] == "Converged" && rel_pred[i].is_finite();
            all_converged &= converged;
            worst = worst.max(rel_pred[i]);
            confirmations.push(json!({
                "depth": depth, "scale": scale, "relative_distance": rel_pred[i],
                "simulation_status": statuses[i], "simulation_seconds": wall[i],
                "grad_evals": grad_evals[i], "predictor_seconds": pred_seconds,
                "dist_l1": to_l1[i],
            }));
        }

        let mut chart = Chart {
            title: format!("Rich to kernel: sparse recovery n = {n}, d = {d}, k = {k}"),
            x_label: "init scale alpha (first layer 0, others alpha)".into(),
            y_label: "distance of theta_inf to the interpolator".into(),
            log_x: true,
            log_y: true,
            legend: Corner::LowerLeft,
            ..Chart::default()
        };
        // Distances below the LP solver's tolerance (relative to ||min-L1||) are its floor,
        // not data; points where f64 cannot resolve the limit are left out, and said so.
        let floor = LpSettings::default().tol * norm(&l1.theta);
        let dropped = points.iter().filter(|p| p.status != "Converged").count();
        if dropped > 0 {
            chart.title = format!(
                "Rich to kernel (n = {n}, d = {d}, k = {k}); {dropped} points beyond f64 not drawn"
            );
        }
        // The legend keys line styles once, then one colour per depth.
        let black = PALETTE[7];
        chart
            .series
            .push(Series::solid("solid: to min-L1", vec![], vec![], black));
        chart
            .series
            .push(Series::dashed("dashed: to min-L2", vec![], vec![], black));
        chart
            .series
            .push(Series::points("simulated flow", vec![], vec![], black));
        chart.series.push(Series::dashed(
            "LP tolerance x ||min-L1|| (solver floor)",
            vec![scales[0], scales[scales.len() - 1]],
            vec![floor, floor],
            RGBColor(150, 150, 150),
        ));
        for (c, &depth) in DEPTHS.iter().enumerate() {
            let pts: Vec<_> = points
                .iter()
                .filter(|p| p.depth == depth && p.status == "Converged")
                .collect();
            let xs: Vec<f64> = pts.iter().map(|p| p.scale).collect();
            chart.series.push(Series::solid(
                format!("L = {depth}"),
                xs.clone(),
                pts.iter().map(|p| p.dist_l1).collect(),
                PALETTE[c],
            ));
            chart.series.push(Series::dashed(
                String::new(),
                xs,
                pts.iter().map(|p| p.dist_l2).collect(),
                PALETTE[c],
            ));
            let sims: Vec<&serde_json::Value> = confirmations
                .iter()
                .filter(|v| v["depth"] == depth)
                .collect();
            chart.series.push(Series::points(
                String::new(),
                sims.iter()
                    .map(|v| v["scale"].as_f64().unwrap_or(f64::NAN))
                    .collect(),
                sims.iter()
                    .map(|v| v["dist_l1"].as_f64().unwrap_or(f64::NAN))
                    .collect(),
                PALETTE[c],
            ));
        }
        crate::io::ensure_dir(dir)?;
        plot::save(&chart, &dir.join("rich_kernel"))?;

        // Claims: small scales reach min-L1, large scales min-L2, and deeper networks reach
        // min-L1 from larger scales ("deeper is sparser").
        let largest = scales[scales.len() - 1];
        let mut ends = Vec::new();
        let (mut rich, mut kernel) = (true, true);
        let mut thresholds = Vec::new();
        for &depth in &DEPTHS {
            let pts: Vec<_> = points
                .iter()
                .filter(|p| p.depth == depth && p.status == "Converged")
                .collect();
            let best =
                pts.iter()
                    .map(|p| (p.dist_l1, p.scale))
                    .fold(
                        (f64::INFINITY, f64::NAN),
                        |a, b| if b.0 < a.0 { b } else { a },
                    );
            let at_largest = pts
                .iter()
                .find(|p| p.scale == largest)
                .map_or(f64::NAN, |p| p.dist_l2);
            kernel &= at_largest < 0.05 * l1_l2;
            rich &= best.0 < 0.05 * l1_l2;
            // Largest scale from which the limit is within 1e-3 of min-L1 (relative to |L1 - L2|).
            let reach = pts
                .iter()
                .filter(|p| p.dist_l1 < 1e-3 * l1_l2)
                .map(|p| p.scale)
                .fold(f64::NAN, f64::max);
            thresholds.push(reach);
            ends.push(format!("L = {depth}: min |.-L1| = {:.2e} (alpha {:.0e}), |.-L2| = {at_largest:.2e} at alpha {largest}", best.0, best.1));
        }
        // Non-decreasing with depth (the grid may put neighbours on one point), strictly from
        // the shallowest to the deepest.
        let deeper_sparser = thresholds.iter().all(|t| t.is_finite())
            && thresholds.windows(2).all(|w| w[0] <= w[1])
            && thresholds[0] < thresholds[thresholds.len() - 1];
        let by_status = |s: &str| points.iter().filter(|p| p.status == s).count();
        let (converged, limited, limit) = (
            by_status("Converged"),
            by_status("PrecisionLimited"),
            by_status("SmallInitLimit"),
        );
        let claims = vec![
            Claim {
                statement: "Every depth: small inits end at the minimum-L1 interpolator (within 5% of |min-L1 - min-L2|)".into(),
                holds: rich,
                evidence: format!("|min-L1 - min-L2| = {l1_l2:.3e}; {}", ends.join("; ")),
            },
            Claim {
                statement: "Every depth: large inits end at the minimum-L2 interpolator (kernel regime)".into(),
                holds: kernel,
                evidence: format!("distance to min-L2 at alpha = {largest}: see above"),
            },
            Claim {
                statement: "Deeper is sparser: the largest init scale (on the grid) whose limit is within 1e-3 |min-L1 - min-L2| of min-L1 grows with depth".into(),
                holds: deeper_sparser,
                evidence: DEPTHS
                    .iter()
                    .zip(&thresholds)
                    .map(|(l, t)| format!("L = {l}: alpha <= {t:.1e}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            Claim {
                statement: "The predictor converges at every (depth, alpha), tiny inits included (the dual variable sits within alpha^(L-2) of its box edge, relative, and is carried as its distance to it)".into(),
                holds: converged == points.len(),
                evidence: format!(
                    "{converged} converged, {limit} SmallInitLimit, {limited} PrecisionLimited, of {} points, in {predict_seconds:.2} s of predictor time",
                    points.len()
                ),
            },
            Claim {
                statement: format!("Simulated gradient flow ends where the predictor says (relative distance <= {AGREEMENT_RTOL:e})"),
                holds: all_converged && worst <= AGREEMENT_RTOL,
                evidence: format!(
                    "worst relative distance {worst:.3e} over {} simulated points: {}",
                    confirmations.len(),
                    confirmations
                        .iter()
                        .map(|c| format!("L={} alpha={}: {:.1e} ({:.2} s simulated vs {:.4} s predicted)", c["depth"], c["scale"], c["relative_distance"].as_f64().unwrap_or(f64::NAN), c["simulation_seconds"].as_f64().unwrap_or(f64::NAN), c["predictor_seconds"].as_f64().unwrap_or(f64::NAN)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        ];
        Ok(Outcome {
            name: self.name().into(),
            title: "Rich-to-kernel transition of the implicit bias, by depth (predictor, confirmed by simulation)".into(),
            claims,
            files: vec![
                "rich_kernel/rich_kernel.png".into(),
                "rich_kernel/rich_kernel.svg".into(),
                "rich_kernel/sweep/table.csv".into(),
                "rich_kernel/sweep/table.parquet".into(),
            ],
            details: json!({
                "n": n, "d": d, "k": k, "seed": SEED, "depths": DEPTHS, "scales": scales,
                "sweep": "rich_kernel/sweep (config.toml, table.csv, table.parquet, summary.json)",
                "sweep_summary": summary,
                "min_l1_objective": l1.objective, "min_l2_objective": l2.objective,
                "theta_star_to_min_l1": distance(&theta_star, &l1.theta),
                "confirmations": confirmations,
            }),
        })
    }
}
