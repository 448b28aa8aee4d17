//! The deep small-init flow from Gaussian inits under (A) (per-coordinate gaps, any signs,
//! any minimal layer), integrated in `z` with its plateaus skipped, against independent
//! references: the plain layer ODE at scales it can reach, and at scales far below f64
//! the weighted-L1 limit of the implicit bias solved by an interior-point LP (its
//! distance to the flow, `O(alpha^(L-2))`, is below roundoff there).

mod common;

use ddln::mirror::{small_init_limit, LpSettings};
use ddln::param::gapped_flow::GappedFlow;
use ddln::recipes::sparse_recovery;
use ddln::{gradient_flow, Dynamics, FlowSettings, Loss, Model, Problem};

fn seeded(n: usize, d: usize, seed: u64) -> Problem {
    let (x, y, _) = sparse_recovery(n, d, 3, seed).unwrap();
    Problem::new(x, n, d, y, Loss::Square).unwrap()
}

/// Flow time per unit of the map's `tau` (`c^-(L-2)`, `c` the largest gap scale).
fn time_unit(init: &[f64], depth: usize, d: usize) -> f64 {
    let flow = GappedFlow::new(init, depth, d).unwrap();
    (-((depth - 2) as f64) * flow.ln_scale()).exp()
}

/// At L = 3, scale 1e-5 and L = 4, scale 1e-3 (plateaus of 1e5 to 1e6 in flow time,
/// where the layer ODE is a converged reference) the small-init dynamics record the
/// layer ODE's losses (agreement to 1e-6 of the loss off the fronts), its final theta
/// and, on every coordinate above the plateau threshold, its layers. `auto` keeps the
/// faster reduced dynamics there and picks the small-init ones below 1e3 atol of gap
/// scale.
#[test]
fn gaussian_inits_follow_the_layer_flow() {
    let problem = seeded(10, 20, 7);
    let d = problem.dim();
    for (depth, scale, seed) in [(3usize, 1e-5, 4u64), (4, 1e-3, 9)] {
        let init = common::random_init(depth, d, scale, seed);
        let auto = |scale: f64| {
            let init: Vec<f64> = common::random_init(depth, d, scale, seed);
            let short = FlowSettings {
                t_end: 1e-30,
                ..FlowSettings::default()
            };
            let run = gradient_flow(&problem, Model::deep(depth), &init, &short, &mut ()).unwrap();
            run.solver.unwrap().dynamics
        };
        assert_eq!(auto(scale), Dynamics::Reduced);
        assert_eq!(auto(1e-11), Dynamics::SmallInit);
        let settings = FlowSettings {
            t_end: 40.0 * time_unit(&init, depth, d),
            n_record: 300,
            dynamics: Dynamics::SmallInit,
            ..FlowSettings::default()
        };
        let fast = gradient_flow(&problem, Model::deep(depth), &init, &settings, &mut ()).unwrap();
        // The layers start at `scale`: the reference holds them to 1e-12 relatively.
        let layers = FlowSettings {
            dynamics: Dynamics::Layers,
            atol: 1e-12 * scale,
            ..settings.clone()
        };
        let plain = gradient_flow(&problem, Model::deep(depth), &init, &layers, &mut ()).unwrap();
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
        eprintln!(
            "L={depth} scale={scale:e}: worst loss difference {worst:.2e}, final theta {theta_diff:.2e}, steps {} vs {}; {}",
            fast.stats.steps, plain.stats.steps, fast.message
        );
        assert!(worst < 1e-6, "{worst}");
        assert!(theta_diff < 1e-7, "{theta_diff}");
        // Coordinates below the plateau threshold move on frozen-gradient lines in a
        // skip: their theta is held to that threshold absolutely, not their layers.
        let last = fast.trajectory.states.len() - depth * d;
        for i in (0..d).filter(|&i| plain.final_theta[i].abs() > 1e-10) {
            for j in 0..depth {
                let (a, b) = (
                    fast.trajectory.states[last + j * d + i],
                    plain.trajectory.states[last + j * d + i],
                );
                assert!((a - b).abs() < 1e-6 * b.abs(), "{i} {j}: {a} vs {b}");
            }
        }
    }
}

/// Far below f64's reach for the reduced dynamics (at L = 3, gaps of 1e-400 to 1e-600
/// underflow; at L = 4 down to 1e-150, where flow time is still a float)
/// the flow ends at the weighted-L1 limit of the implicit bias (weights from the init's
/// shape, solved by the interior-point LP), on problems with n < d, at a cost that does
/// not grow with `log(1/alpha)`.
#[test]
fn gaussian_inits_far_below_f64_reach_the_weighted_l1_limit() {
    let lp = LpSettings {
        homotopy: false,
        ..LpSettings::default()
    };
    for (n, d, seed) in [(10, 20, 7), (12, 40, 3)] {
        let problem = seeded(n, d, seed);
        for depth in [3usize, 4] {
            let shape = common::random_init(depth, d, 1.0, 20 + seed);
            let limit = small_init_limit(&problem, &shape, depth, &lp).unwrap();
            let mut steps = Vec::new();
            // Flow time runs to c^-(L-2) times the jumps' tau: a float up to 1e308.
            let scales: &[f64] = if depth == 3 {
                &[1e-100, 1e-200, 1e-300]
            } else {
                &[1e-50, 1e-100, 1e-150]
            };
            for &scale in scales {
                let init: Vec<f64> = shape.iter().map(|v| v * scale).collect();
                let t_end = 1e3 * time_unit(&init, depth, d);
                let (error, run) = common::small_init_end(
                    &problem,
                    Model::deep(depth),
                    &init,
                    t_end,
                    &limit.solution.theta,
                );
                eprintln!(
                    "{n}x{d} L={depth} scale={scale:e}: distance to the weighted-L1 limit {error:.2e}, loss {:.2e}, {} steps; {}",
                    run.final_loss, run.stats.steps, run.message
                );
                assert!(error < 1e-6, "{n}x{d} L={depth} {scale:e}: {error}");
                steps.push(run.stats.steps);
            }
            assert!(steps[2] <= 2 * steps[0], "{steps:?}");
        }
    }
}

/// A run's `jumps` at a Gaussian init of scale 1e-200 (gaps 1e-400): the box comes from
/// the z-map and the run crosses the plateau levels at the times of the limit algorithm
/// in that box (the algorithm is checked against brute force in tests/saddles.rs; the
/// limit's own error, `O(alpha^(L-2))`, is zero in f64 here) to 1e-6.
#[test]
fn jumps_of_a_run_far_below_f64() {
    let problem = seeded(10, 20, 7);
    let d = problem.dim();
    let init = common::random_init(3, d, 1e-200, 24);
    let t_end = 400.0 * time_unit(&init, 3, d);
    let (source, count, worst) = common::run_jumps(&problem, Model::deep(3), &init, t_end);
    assert!(source.contains("z-map"));
    assert!(count >= 3);
    assert!(worst < 1e-6, "{worst}");
}
