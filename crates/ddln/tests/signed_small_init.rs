//! The signed power model `u^L - v^L` (`L >= 3`) at any init scale, integrated in `z`
//! with its plateaus skipped, against independent references: the plain ODE on `(u, v)`
//! at scales it can reach, and far below f64 the weighted-L1 limit of the implicit bias
//! (weights `u_i(0)^-(L-2)`, `v_i(0)^-(L-2)` up to a common factor) solved by the
//! interior-point LP.

mod common;

use ddln::mirror::{weighted_l1, LpSettings};
use ddln::param::signed_power_flow::SignedPowerFlow;
use ddln::param::small_init_map::SmallInitMap;
use ddln::recipes::sparse_recovery;
use ddln::{gradient_flow, Dynamics, FlowSettings, Loss, Model, Problem};

fn seeded(n: usize, d: usize, seed: u64) -> Problem {
    let (x, y, _) = sparse_recovery(n, d, 3, seed).unwrap();
    Problem::new(x, n, d, y, Loss::Square).unwrap()
}

/// A positive `2 x d` shape: `u = v = 1`, or entries in `[0.5, 1.5)` drawn from a
/// Gaussian init's magnitudes.
fn shape(d: usize, equal: bool, seed: u64) -> Vec<f64> {
    if equal {
        return vec![1.0; 2 * d];
    }
    common::random_init(2, d, 1.0, seed)
        .iter()
        .map(|v| 0.5 + (v.abs() % 1.0))
        .collect()
}

/// Flow time per unit of the map's `tau`.
fn time_unit(init: &[f64], power: usize, d: usize) -> f64 {
    1.0 / SignedPowerFlow::new(init, power, d).unwrap().tau_rate()
}

/// At L = 3, scale 1e-3 and L = 4, scale 1e-2 (plateaus of 3e2 to 1e3 in flow time,
/// where the ODE on `(u, v)` is a converged reference), from `u = v = alpha` and from
/// unequal positive inits, the small-init dynamics record the plain ODE's losses (to
/// 1e-6 of the loss off the fronts; measured 1e-12 to 7e-11), its final theta (to 1e-7;
/// measured 2e-15 to 1.3e-8) and its layers.
#[test]
fn positive_inits_follow_the_layer_flow() {
    let problem = seeded(10, 20, 7);
    let d = problem.dim();
    for (power, scale) in [(3usize, 1e-3), (4, 1e-2)] {
        for equal in [true, false] {
            let init: Vec<f64> = shape(d, equal, 5).iter().map(|v| v * scale).collect();
            let model = Model::Signed { power };
            let settings = FlowSettings {
                t_end: 30.0 * time_unit(&init, power, d),
                n_record: 300,
                dynamics: Dynamics::SmallInit,
                ..FlowSettings::default()
            };
            let fast = gradient_flow(&problem, model, &init, &settings, &mut ()).unwrap();
            // The layers start at `scale`: the reference holds them to 1e-12 relatively.
            let layers = FlowSettings {
                dynamics: Dynamics::Layers,
                atol: 1e-12 * scale,
                ..settings.clone()
            };
            let plain = gradient_flow(&problem, model, &init, &layers, &mut ()).unwrap();
            assert!(fast.status.is_success(), "{}", fast.message);
            assert!(plain.status.is_success(), "{}", plain.message);
            let loss0 = plain.trajectory.loss[0];
            let worst = fast
                .trajectory
                .loss
                .iter()
                .zip(&plain.trajectory.loss)
                .fold(0.0f64, |m, (a, b)| {
                    m.max((a - b).abs() / (b + 1e-3 * loss0))
                });
            let theta_diff = fast
                .final_theta
                .iter()
                .zip(&plain.final_theta)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            let layer_diff = common::max_rel_diff(&fast.final_state, &plain.final_state, scale);
            eprintln!(
                "L={power} scale={scale:e} equal={equal}: worst loss difference {worst:.2e}, final theta {theta_diff:.2e}, layers {layer_diff:.2e}, steps {} vs {}; {}",
                fast.stats.steps, plain.stats.steps, fast.message
            );
            assert!(worst < 1e-6, "{worst}");
            // A run at a stationary point is held there (`max |grad L|` at most 1e-9 of
            // its start, `SkipSettings::stationary_rtol`): theta to about 1e-8.
            assert!(theta_diff < 1e-7, "{theta_diff}");
            assert!(layer_diff < 1e-6, "{layer_diff}");
        }
    }
}

/// Far below f64 (L = 3 at 1e-100, 1e-200, 1e-300, where `u^3` underflows; L = 4 down to
/// 1e-150, where flow time is still a float) the flow ends at the weighted-L1 limit of
/// its shape, on problems with n < d, at a cost that does not grow with `log(1/alpha)`.
#[test]
fn inits_far_below_f64_reach_the_weighted_l1_limit() {
    let lp = LpSettings {
        homotopy: false,
        ..LpSettings::default()
    };
    for (n, d, seed) in [(10, 20, 7), (12, 40, 3)] {
        let problem = seeded(n, d, seed);
        for power in [3usize, 4] {
            for equal in [true, false] {
                let shape = shape(d, equal, 30 + seed);
                let e = -((power - 2) as i32);
                let (w_plus, w_minus): (Vec<f64>, Vec<f64>) = (0..d)
                    .map(|i| (shape[i].powi(e), shape[d + i].powi(e)))
                    .unzip();
                let limit = weighted_l1(&problem, &w_plus, &w_minus, &lp).unwrap();
                let scales: &[f64] = if power == 3 {
                    &[1e-100, 1e-200, 1e-300]
                } else {
                    &[1e-50, 1e-100, 1e-150]
                };
                let mut steps = Vec::new();
                for &scale in scales {
                    let init: Vec<f64> = shape.iter().map(|v| v * scale).collect();
                    let t_end = 1e3 * time_unit(&init, power, d);
                    let model = Model::Signed { power };
                    let (error, run) =
                        common::small_init_end(&problem, model, &init, t_end, &limit.theta);
                    eprintln!(
                        "{n}x{d} L={power} equal={equal} scale={scale:e}: distance to the weighted-L1 limit {error:.2e}, loss {:.2e}, {} steps; {}",
                        run.final_loss, run.stats.steps, run.message
                    );
                    assert!(error < 1e-6, "{n}x{d} L={power} {scale:e}: {error}");
                    steps.push(run.stats.steps);
                }
                assert!(steps[2] <= 2 * steps[0], "{steps:?}");
            }
        }
    }
}

/// A run's `jumps` from `u = v = 1e-200` at L = 3 (`theta = 1e-600`): the box is where
/// `u` or `v` blows up, and the run crosses the plateau levels at the times of the limit
/// algorithm in that box (checked against brute force in tests/saddles.rs; the limit's
/// own error, `O(alpha)`, is zero in f64 here) to 1e-6.
#[test]
fn jumps_of_a_run_far_below_f64() {
    let problem = seeded(10, 20, 7);
    let d = problem.dim();
    let init = vec![1e-200; 2 * d];
    let t_end = 400.0 * time_unit(&init, 3, d);
    let (source, count, worst) =
        common::run_jumps(&problem, Model::Signed { power: 3 }, &init, t_end);
    assert!(source.contains("blows up"));
    assert!(count >= 3);
    assert!(worst < 1e-6, "{worst}");
}

/// Bad input: the small-init dynamics of `u^L - v^L` asked for an init with a zero or
/// negative entry, for `L = 2`, or for the logistic loss are errors that name the field
/// and the fix; `auto` keeps such inits on the layer ODE.
#[test]
fn inits_outside_the_map_are_clear_errors() {
    let problem = seeded(10, 20, 7);
    let d = problem.dim();
    let asked = FlowSettings {
        t_end: 1.0,
        dynamics: Dynamics::SmallInit,
        ..FlowSettings::default()
    };
    let mut init = vec![1e-6; 2 * d];
    init[d + 2] = -1e-6;
    let err = gradient_flow(&problem, Model::Signed { power: 3 }, &init, &asked, &mut ())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("init") && err.contains("v[2]") && err.contains("`layers`"),
        "{err}"
    );
    let auto = FlowSettings {
        dynamics: Dynamics::Auto,
        ..asked.clone()
    };
    let run = gradient_flow(&problem, Model::Signed { power: 3 }, &init, &auto, &mut ()).unwrap();
    assert_eq!(run.solver.unwrap().dynamics, Dynamics::Layers);
    let err = gradient_flow(
        &problem,
        Model::Signed { power: 2 },
        &vec![1e-6; 2 * d],
        &asked,
        &mut (),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("dynamics") && err.contains("`dual`"), "{err}");
    let labels: Vec<f64> = problem.y().iter().map(|v| v.signum()).collect();
    let logistic = Problem::new(problem.x().to_vec(), 10, d, labels, Loss::Logistic).unwrap();
    let err = gradient_flow(
        &logistic,
        Model::Signed { power: 3 },
        &vec![1e-6; 2 * d],
        &asked,
        &mut (),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("squared loss"), "{err}");
}
