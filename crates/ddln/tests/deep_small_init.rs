//! The deep small-init flow (`L >= 3` from `u^1 = 0`, `u^j = alpha`, integrated in `z`
//! with its plateaus skipped in closed form) against independent references: the plain
//! layer ODE of the ordinary integrator at scales it can reach, and the two-layer limit
//! algorithm (itself checked against brute force in tests/saddles.rs) at scales far below
//! f64, where the flow's distance to the limit, `O(alpha^(L-2))`, is below roundoff.

use ddln::observe::{Control, Observer, StepView};
use ddln::recipes::sparse_recovery;
use ddln::saddles::{
    deep_small_init_flow, plateau_levels, saddle_to_saddle, simulate_deep_jumps, zero_first_init,
    SaddleSettings, Saddles, SkipSettings,
};
use ddln::{gradient_flow, FlowSettings, Loss, Model, Problem};

/// `w_L = int_0^inf sech^(L-2)`: pi/2 at L = 3, 1 at L = 4 (closed forms).
fn unit_edge(depth: usize) -> f64 {
    match depth {
        3 => std::f64::consts::FRAC_PI_2,
        4 => 1.0,
        _ => unreachable!("the tests use L = 3 and 4"),
    }
}

/// The first time the loss falls to each level, interpolated in `log L` between
/// accepted steps (written here, independent of the library's watcher).
struct FirstCrossings {
    levels: Vec<f64>,
    found: Vec<Option<f64>>,
    prev: Option<(f64, f64)>,
}

impl Observer for FirstCrossings {
    fn observe(&mut self, view: &StepView) -> Control {
        if let Some((t0, l0)) = self.prev {
            for (k, &level) in self.levels.iter().enumerate() {
                if self.found[k].is_none() && view.loss <= level && l0 > level {
                    let f = (l0.ln() - level.ln()) / (l0.ln() - view.loss.ln());
                    self.found[k] = Some(t0 + f * (view.t - t0));
                }
            }
        }
        self.prev = Some((view.t, view.loss));
        Control::Continue
    }
}

fn seeded(n: usize, d: usize, seed: u64) -> (Problem, Saddles) {
    let (x, y, _) = sparse_recovery(n, d, 3, seed).unwrap();
    let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let saddles = saddle_to_saddle(&problem, &SaddleSettings::default()).unwrap();
    (problem, saddles)
}

/// At scales the plain layer ODE reaches (plateaus of 10^3 to 10^6 in flow time), the
/// skipping flow crosses every plateau level at the layer ODE's times (both converged
/// integrations of the same flow: agreement to 1e-6 relative), while skipping plateaus.
#[test]
fn skipping_flow_is_the_layer_flow() {
    let (problem, saddles) = seeded(10, 20, 7);
    let levels = plateau_levels(&saddles);
    let tau_end = 1.2 * saddles.jumps.last().unwrap().time_accelerated;
    for (depth, alpha) in [(3, 1e-3f64), (3, 1e-5), (4, 1e-2), (4, 1e-3)] {
        let factor = alpha.powi(depth as i32 - 2) / unit_edge(depth);
        let flow = FlowSettings {
            t_end: tau_end / factor,
            ..FlowSettings::default()
        };
        let mut watch = FirstCrossings {
            levels: levels.clone(),
            found: vec![None; levels.len()],
            prev: None,
        };
        let init = zero_first_init(depth, problem.dim(), alpha);
        let layers = gradient_flow(&problem, Model::deep(depth), &init, &flow, &mut watch).unwrap();
        assert!(layers.status.is_success(), "{:?}", layers.status);
        let run = deep_small_init_flow(
            &problem,
            depth,
            -f64::ln(alpha),
            tau_end,
            &levels,
            &FlowSettings::default(),
            &SkipSettings::default(),
        )
        .unwrap();
        assert!(run.status.is_success(), "{:?} {}", run.status, run.message);
        for (k, (a, b)) in watch.found.iter().zip(&run.crossings).enumerate() {
            let (a, b) = (a.unwrap() * factor, b.unwrap());
            eprintln!("L={depth} alpha={alpha} level {k}: layers {a} skipping {b}");
            assert!(
                (a - b).abs() <= 1e-6 * a,
                "L={depth} alpha={alpha} level {k}: {a} vs {b}"
            );
        }
        eprintln!(
            "L={depth} alpha={alpha}: {} skips, {} steps (layer ODE {} steps)",
            run.skips, run.stats.steps, layers.stats.steps
        );
        if alpha.powi(depth as i32) < SkipSettings::default().plateau_theta {
            assert!(run.skips > 0, "L={depth} alpha={alpha}: no plateau skipped");
        }
    }
}

/// Far below f64 (`alpha = 1e-300`, and `e^-10000`, not a float) the flow is the limit:
/// its jump times match the algorithm's to 1e-6 (the limit's error `alpha^(L-2)` is
/// zero in f64; what is left is the skip's threshold), on problems with n < d and n > d,
/// at a cost that does not grow with `log(1/alpha)`.
#[test]
fn flows_at_tiny_inits_are_the_limit() {
    for (n, d, seed) in [(10, 20, 7), (12, 40, 3), (30, 12, 5)] {
        let (problem, saddles) = seeded(n, d, seed);
        for depth in [3, 4] {
            let mut steps = Vec::new();
            for lambda in [
                100.0 * std::f64::consts::LN_10,
                300.0 * std::f64::consts::LN_10,
                1e4,
            ] {
                let sim = simulate_deep_jumps(
                    &problem,
                    &saddles,
                    depth,
                    lambda,
                    &FlowSettings::default(),
                )
                .unwrap();
                assert!(sim.status.is_success(), "{:?}", sim.status);
                assert!(
                    sim.jump_times.iter().all(|t| t.is_some()),
                    "a jump was missed"
                );
                eprintln!(
                    "{n}x{d} L={depth} lambda={lambda:.0}: worst error {:.2e}, {} steps, {} skips",
                    sim.worst_error, sim.steps, sim.skips
                );
                assert!(
                    sim.worst_error < 1e-6,
                    "{n}x{d} L={depth}: {}",
                    sim.worst_error
                );
                steps.push(sim.steps);
            }
            assert!(
                steps[2] <= 2 * steps[0],
                "{n}x{d} L={depth}: steps {steps:?}"
            );
        }
    }
}

/// `gradient_flow` picks the small-init dynamics by itself for `u^1 = 0`, `u^j = alpha`
/// with `alpha^L <= 1e-12` and reports the same run as the layer ODE (output times in
/// flow time, full layers): at `L = 3`, `alpha = 1e-6` every recorded loss off the jumps
/// and the final theta agree; at `alpha = 1e-200` (gaps `1e-400`: no other dynamics
/// holds it) the run crosses the plateau levels at the algorithm's times in flow time.
#[test]
fn gradient_flow_chooses_small_init_and_matches_the_layers() {
    let (problem, saddles) = seeded(10, 20, 7);
    let levels = plateau_levels(&saddles);
    let tau_end = 1.2 * saddles.jumps.last().unwrap().time_accelerated;
    let (depth, alpha) = (3, 1e-6);
    let factor = alpha / unit_edge(depth);
    let settings = FlowSettings {
        t_end: tau_end / factor,
        n_record: 400,
        ..FlowSettings::default()
    };
    let init = zero_first_init(depth, problem.dim(), alpha);
    let fast = gradient_flow(&problem, Model::deep(depth), &init, &settings, &mut ()).unwrap();
    let solver = fast.solver.as_ref().unwrap();
    assert_eq!(
        solver.dynamics,
        ddln::Dynamics::SmallInit,
        "{}",
        solver.dynamics_reason
    );
    // The layers start at 1e-6: the reference holds them to 1e-24 absolutely (the
    // default atol = 1e-12 would be a relative 1e-6 on them).
    let layers_settings = FlowSettings {
        dynamics: ddln::Dynamics::Layers,
        atol: 1e-24,
        ..settings.clone()
    };
    let plain = gradient_flow(
        &problem,
        Model::deep(depth),
        &init,
        &layers_settings,
        &mut (),
    )
    .unwrap();
    assert!(fast.status.is_success() && plain.status.is_success());
    assert_eq!(fast.trajectory.t, plain.trajectory.t);
    // Relative to the loss, and to L(0) on the fronts and the final decay (a time error
    // of 1e-10 relative there moves the loss by its slope): measured 1e-16 on plateaus,
    // 8e-12 absolute at most.
    let loss0 = plain.trajectory.loss[0];
    let mut worst: f64 = 0.0;
    for (a, b) in fast.trajectory.loss.iter().zip(&plain.trajectory.loss) {
        worst = worst.max((a - b).abs() / (b + 1e-3 * loss0));
    }
    eprintln!(
        "worst loss difference on the grid: {worst:.2e}; {}",
        fast.message
    );
    assert!(worst < 1e-6, "{worst}");
    let theta_diff = fast
        .final_theta
        .iter()
        .zip(&plain.final_theta)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(theta_diff < 1e-7, "{theta_diff}");
    assert!(fast.stats.steps < plain.stats.steps);

    let alpha = 1e-200;
    let factor = alpha / unit_edge(depth);
    let settings = FlowSettings {
        t_end: tau_end / factor,
        ..FlowSettings::default()
    };
    let init = zero_first_init(depth, problem.dim(), alpha);
    let mut watch = FirstCrossings {
        levels: levels.clone(),
        found: vec![None; levels.len()],
        prev: None,
    };
    let run = gradient_flow(&problem, Model::deep(depth), &init, &settings, &mut watch).unwrap();
    assert!(run.status.is_success(), "{}", run.message);
    assert!(run.trajectory.states.iter().all(|v| v.is_finite()));
    for (found, jump) in watch.found.iter().zip(&saddles.jumps) {
        let tau = found.unwrap() * factor;
        assert!((tau - jump.time_accelerated).abs() < 1e-6 * jump.time_accelerated);
    }
}

/// A design with a duplicated column (a tie: the two coordinates enter together and the
/// least-squares point of their support is not unique) and zero targets: the flow at
/// alpha = 1e-300 ends, its jump times are the algorithm's (which reports the tie), and
/// with y = 0 it stays at 0 (a stationary point from the start).
#[test]
fn ties_and_zero_targets() {
    let (n, d) = (10, 20);
    let (mut x, _, _) = sparse_recovery(n, d, 3, 7).unwrap();
    for r in 0..n {
        x[r * d + 5] = x[r * d + 13];
    }
    let theta_star: Vec<f64> = (0..d)
        .map(|i| if i == 13 || i == 2 { 1.0 } else { 0.0 })
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|r| (0..d).map(|i| x[r * d + i] * theta_star[i]).sum())
        .collect();
    let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let saddles = saddle_to_saddle(&problem, &SaddleSettings::default()).unwrap();
    let sim = simulate_deep_jumps(&problem, &saddles, 3, 690.0, &FlowSettings::default()).unwrap();
    assert!(sim.status.is_success(), "{:?}", sim.status);
    let ties: Vec<bool> = saddles.jumps.iter().map(|j| j.tie).collect();
    eprintln!(
        "tie: algorithm ties {ties:?}, simulated {:?}",
        sim.jump_times
    );
    assert!(
        ties.iter().any(|&t| t),
        "the duplicated column enters as a tie"
    );
    assert!(!sim.jump_times.is_empty() && sim.jump_times.iter().all(|t| t.is_some()));
    eprintln!(
        "tie: worst error {:.2e}, {} steps, {} skips",
        sim.worst_error, sim.steps, sim.skips
    );
    assert!(sim.worst_error < 1e-6, "{}", sim.worst_error);

    let zero = Problem::new(problem.x().to_vec(), n, d, vec![0.0; n], Loss::Square).unwrap();
    let run = deep_small_init_flow(
        &zero,
        3,
        690.0,
        1.0,
        &[],
        &FlowSettings::default(),
        &SkipSettings::default(),
    )
    .unwrap();
    assert!(run.status.is_success() && run.final_theta.iter().all(|&t| t == 0.0));
}
