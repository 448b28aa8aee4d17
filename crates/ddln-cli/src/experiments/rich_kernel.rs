//! The rich-to-kernel picture (Woodworth et al. 2020; Chou et al. 2023), computed with
//! the implicit-bias predictor: on a seeded sparse-recovery problem, the distance of
//! gradient flow's limit theta_inf(alpha) to the minimum-L1 and minimum-L2 interpolators
//! as the init scale alpha runs over decades, one curve per depth; a few points are
//! confirmed by simulating the flow to convergence.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use ddln::mirror::{predict, rich_to_kernel_sweep, LpSettings, PredictSettings, PredictStatus};
use ddln::recipes::{sparse_recovery, InitRecipe, InitShape};
use ddln::vector::{distance, norm};
use ddln::{gradient_flow, Dynamics, FlowSettings, Loss, Model, Problem, Status};
use serde_json::json;

use super::{logspace, Claim, Experiment, Options, Outcome};
use crate::interrupt::{self, Interrupt};
use crate::plot::{self, Chart, Corner, Series, PALETTE};
use plotters::style::RGBColor;

/// The experiment.
pub struct RichKernel;

const DEPTHS: [usize; 4] = [2, 3, 4, 6];
const SEED: u64 = 0;
/// Simulated limits must agree with the predictor to this relative distance.
const AGREEMENT_RTOL: f64 = 1e-6;

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
        let shape = InitRecipe {
            depth: 2,
            scale: 1.0,
            zero_first: true,
            shape: InitShape::Constant,
            seed: 0,
        };
        let settings = PredictSettings::default();
        let start = Instant::now();
        let sweep = rich_to_kernel_sweep(
            &problem,
            &shape,
            &DEPTHS,
            &scales,
            &settings,
            &LpSettings::default(),
        )?;
        let predict_seconds = start.elapsed().as_secs_f64();
        interrupt::check()?;
        let l1_l2 = distance(&sweep.min_l1.theta, &sweep.min_l2.theta);

        // Confirm a few points by simulating gradient flow (reduced dynamics) to convergence.
        let confirm: &[(usize, f64)] = if options.quick {
            &[(2, 0.01), (3, 0.1), (4, 1.0)]
        } else {
            &[
                (2, 0.01),
                (2, 1.0),
                (3, 0.1),
                (3, 1.0),
                (4, 0.3),
                (4, 1.0),
                (6, 0.5),
                (6, 1.0),
            ]
        };
        let flow = FlowSettings {
            t_end: 1e6,
            rtol: 1e-11,
            atol: 1e-14,
            n_record: 2,
            loss_tol: Some(1e-20 * norm(problem.y()).powi(2)),
            max_steps: 2_000_000,
            ..FlowSettings::default()
        };
        let mut confirmations = Vec::new();
        let mut worst = 0.0f64;
        let mut all_converged = true;
        {
            for &(depth, alpha) in confirm {
                interrupt::check()?;
                let init = InitRecipe {
                    depth,
                    scale: alpha,
                    ..shape
                }
                .draw(d)?;
                let t0 = Instant::now();
                let run = gradient_flow(
                    &problem,
                    Model::deep(depth),
                    &init,
                    &reduced(&flow),
                    &mut Interrupt,
                )?;
                interrupt::check()?;
                let sim_seconds = t0.elapsed().as_secs_f64();
                let t1 = Instant::now();
                let pred = predict(&problem, &init, depth, &settings)?;
                let pred_seconds = t1.elapsed().as_secs_f64();
                let rel = distance(&run.final_theta, &pred.theta) / norm(&pred.theta);
                let converged =
                    run.status == Status::Converged && pred.status == PredictStatus::Converged;
                all_converged &= converged;
                worst = worst.max(rel);
                confirmations.push(json!({
                    "depth": depth, "scale": alpha, "relative_distance": rel,
                    "simulation_status": run.status, "simulation_seconds": sim_seconds,
                    "grad_evals": run.stats.grad_evals, "t_final": run.t_final,
                    "predictor_status": pred.status, "predictor_seconds": pred_seconds,
                    "dist_l1": distance(&run.final_theta, &sweep.min_l1.theta),
                }));
            }
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
        let floor = LpSettings::default().tol * norm(&sweep.min_l1.theta);
        let dropped = sweep
            .points
            .iter()
            .filter(|p| p.status != PredictStatus::Converged)
            .count();
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
            let pts: Vec<_> = sweep.points.iter().filter(|p| p.depth == depth).collect();
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
            let pts: Vec<_> = sweep
                .points
                .iter()
                .filter(|p| p.depth == depth && p.status == PredictStatus::Converged)
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
        let by_status = |s: PredictStatus| sweep.points.iter().filter(|p| p.status == s).count();
        let (converged, limited) = (
            by_status(PredictStatus::Converged),
            by_status(PredictStatus::PrecisionLimited),
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
                statement: "The predictor gives an answer or says f64 cannot resolve the limit, at every (depth, alpha)".into(),
                holds: converged + limited == sweep.points.len(),
                evidence: format!(
                    "{converged} converged, {limited} PrecisionLimited (tiny inits at large depth: |xi| ~ alpha^-(L-2) exceeds f64 resolution), of {} points, in {predict_seconds:.2} s",
                    sweep.points.len()
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
            files: vec!["rich_kernel/rich_kernel.png".into(), "rich_kernel/rich_kernel.svg".into()],
            details: json!({
                "n": n, "d": d, "k": k, "seed": SEED, "depths": DEPTHS, "scales": scales,
                "init_shape": shape, "predictor": settings, "sweep": sweep.points,
                "min_l1_objective": sweep.min_l1.objective, "min_l2_objective": sweep.min_l2.objective,
                "theta_star_to_min_l1": distance(&theta_star, &sweep.min_l1.theta),
                "confirmations": confirmations, "flow": flow,
            }),
        })
    }
}

/// `settings` with the reduced dynamics (deep model under assumption (A)).
fn reduced(settings: &FlowSettings) -> FlowSettings {
    FlowSettings {
        dynamics: Dynamics::Reduced,
        ..settings.clone()
    }
}
