//! Runs in accelerated time (`time_unit = "accelerated"`) against independent references:
//! the unit-box limit algorithm (checked against brute force in tests/saddles.rs), whose
//! jump times are the accelerated times of a flow from `u^1 = 0`, `u^j = alpha` in the
//! limit; the same run in flow time where flow time is a float; the closed form
//! `w_L alpha^-(L-2)` of the time unit.

mod common;

use ddln::observe::{Control, Observer, StepView};
use ddln::recipes::sparse_recovery;
use ddln::saddles::{saddle_to_saddle, zero_first_init, SaddleSettings};
use ddln::{
    gradient_flow, train, Dynamics, FlowSettings, Loss, Method, Model, Problem, RateCheck, TimeUnit,
};

fn seeded(n: usize, d: usize, seed: u64) -> Problem {
    let (x, y, _) = sparse_recovery(n, d, 3, seed).unwrap();
    Problem::new(x, n, d, y, Loss::Square).unwrap()
}

fn accelerated(t_end: f64) -> FlowSettings {
    FlowSettings {
        t_end,
        time_unit: TimeUnit::Accelerated,
        ..FlowSettings::default()
    }
}

/// The first time the loss falls to each level, interpolated in `log L` between the
/// observed steps (written here, independent of the library's jump watcher).
struct FirstCrossings {
    levels: Vec<f64>,
    found: Vec<Option<f64>>,
    prev: Option<(f64, f64)>,
}

impl FirstCrossings {
    fn new(levels: Vec<f64>) -> Self {
        let found = vec![None; levels.len()];
        FirstCrossings {
            levels,
            found,
            prev: None,
        }
    }
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

/// Depth 4 from `u^1 = 0`, `u^j = alpha` at alpha = 1e-200 and 1e-300: flow time per
/// accelerated unit, `alpha^-2` (w_4 = 1), is beyond f64, so no flow-time horizon
/// reaches a jump. In accelerated time the run crosses every plateau level at the unit
/// algorithm's jump times (the limit's own error, O(alpha^2), is zero in f64) to 1e-6,
/// ends at its last saddle, reports its jumps in the same unit, and costs the same steps
/// at both scales.
#[test]
fn depth_four_far_below_f64_jumps_at_the_limit_times() {
    let problem = seeded(10, 20, 7);
    let d = problem.dim();
    let saddles = saddle_to_saddle(&problem, &SaddleSettings::default()).unwrap();
    let levels: Vec<f64> = saddles
        .jumps
        .iter()
        .scan(saddles.initial_loss, |prev, j| {
            let level = (*prev * j.loss).sqrt();
            *prev = j.loss;
            Some(level)
        })
        .filter(|l| *l > 1e-20 * saddles.initial_loss)
        .collect();
    let t_last = saddles.jumps.last().unwrap().time_accelerated;
    let last_saddle = &saddles.jumps.last().unwrap().theta;
    let mut steps = Vec::new();
    for exponent in [200.0f64, 300.0] {
        let init = zero_first_init(4, d, 10f64.powf(-exponent));
        let method = Method::Flow(accelerated(1.5 * t_last));
        let mut watch = FirstCrossings::new(levels.clone());
        let report = train(
            &problem,
            Model::deep(4),
            &init,
            &method,
            &RateCheck::default(),
            &mut watch,
        )
        .unwrap();
        let run = &report.run;
        assert!(run.status.is_success(), "{}", run.message);
        assert_eq!(run.solver.as_ref().unwrap().dynamics, Dynamics::SmallInit);
        assert_eq!(run.t_final, 1.5 * t_last);
        assert_eq!(*run.trajectory.t.last().unwrap(), 1.5 * t_last);
        let mut worst = 0.0f64;
        for (k, found) in watch.found.iter().enumerate() {
            let t = found.expect("every level is crossed");
            let want = saddles.jumps[k].time_accelerated;
            worst = worst.max((t - want).abs() / want);
            assert!((t - want).abs() < 1e-6 * want, "jump {k}: {t} vs {want}");
        }
        let error = common::max_rel_diff(&run.final_theta, last_saddle, 0.0);
        eprintln!(
            "alpha = 1e-{exponent}: {} levels crossed, worst time error {worst:.2e}, final theta vs last saddle {error:.2e}, {} steps",
            levels.len(),
            run.stats.steps
        );
        assert!(error < 1e-6, "final theta vs the last saddle: {error}");
        let jumps = report.jumps.unwrap().check.expect("jumps at small init");
        assert_eq!(jumps.time_unit, TimeUnit::Accelerated);
        assert!(jumps.time_scale.is_infinite());
        // w_4 alpha^-2 with w_4 = int_0^inf sech^2 = 1.
        let ln_unit = 2.0 * exponent * 10f64.ln();
        assert!((jumps.ln_time_scale - ln_unit).abs() < 1e-12 * ln_unit);
        assert!(jumps.worst_time_error < 1e-6, "{}", jumps.worst_time_error);
        for (a, b) in jumps.jumps.iter().zip(&saddles.jumps) {
            assert!((a.time - b.time_accelerated).abs() < 1e-10 * b.time_accelerated);
            assert_eq!(a.time, a.time_accelerated);
        }
        assert!(report
            .diagnostics
            .warnings
            .iter()
            .any(|w| w.contains("Theorem 2 is not checked")));
        steps.push(run.stats.steps);
    }
    assert!(steps[1] <= steps[0] + steps[0] / 20, "{steps:?}");
}

/// Where flow time is a float, a run in accelerated time is the run in flow time with
/// every time divided by the unit (here the reduced dynamics of a Gaussian init at
/// scale 1e-2 and the small-init dynamics at 1e-100, depth 3): the same losses and
/// thetas at the corresponding times, the requested times reported exactly.
#[test]
fn accelerated_runs_are_flow_runs_rescaled() {
    let problem = seeded(10, 20, 3);
    let d = problem.dim();
    for (scale, dynamics) in [(1e-2, Dynamics::Reduced), (1e-100, Dynamics::SmallInit)] {
        let init = common::random_init(3, d, scale, 5);
        let unit = ddln::saddles::run_box(Model::deep(3), &init, d)
            .unwrap()
            .time_scale;
        let t_acc = [0.0, 0.25, 0.5, 1.0, 2.0, 3.0];
        let acc = FlowSettings {
            t_eval: Some(t_acc.to_vec()),
            ..accelerated(3.0)
        };
        let flow = FlowSettings {
            t_end: 3.0 * unit,
            t_eval: Some(t_acc.iter().map(|t| t * unit).collect()),
            ..FlowSettings::default()
        };
        let run = |s: &FlowSettings| {
            train(
                &problem,
                Model::deep(3),
                &init,
                &Method::Flow(s.clone()),
                &RateCheck::default(),
                &mut (),
            )
            .unwrap()
        };
        let (a, f) = (run(&acc), run(&flow));
        assert_eq!(a.run.solver.as_ref().unwrap().dynamics, dynamics);
        assert_eq!(a.run.trajectory.t, t_acc.to_vec());
        assert_eq!(a.run.t_final, 3.0);
        let top = f.run.trajectory.loss[0];
        for (k, (la, lf)) in a
            .run
            .trajectory
            .loss
            .iter()
            .zip(&f.run.trajectory.loss)
            .enumerate()
        {
            assert!(
                (la - lf).abs() <= 1e-8 * top,
                "{scale:e} t[{k}]: {la} vs {lf}"
            );
        }
        let diff = common::max_rel_diff(&a.run.final_theta, &f.run.final_theta, 0.0);
        eprintln!("{scale:e}: unit {unit:e}, final theta differs by {diff:.2e}");
        assert!(diff < 1e-7, "{scale:e}: {diff}");
        // Theorem 2 is checked in flow time in both.
        let (ra, rf) = (a.diagnostics.rate.unwrap(), f.diagnostics.rate.unwrap());
        assert_eq!(ra.holds, rf.holds);
    }
}

/// Bad input: accelerated time for an init that is not small, for dynamics that run in
/// flow time when the unit is beyond f64, and through `gradient_flow` (which has no
/// box): errors naming `time_unit` and the fix; nothing is run.
#[test]
fn accelerated_time_needs_a_small_init_and_a_unit_it_can_use() {
    let problem = seeded(10, 20, 7);
    let d = problem.dim();
    let big = common::random_init(3, d, 1.0, 5);
    let method = Method::Flow(accelerated(1.0));
    let e = train(
        &problem,
        Model::deep(3),
        &big,
        &method,
        &RateCheck::default(),
        &mut (),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("time_unit") && e.contains("not small"), "{e}");

    let tiny = zero_first_init(4, d, 1e-200);
    let layers = Method::Flow(FlowSettings {
        dynamics: Dynamics::Layers,
        ..accelerated(1.0)
    });
    let e = train(
        &problem,
        Model::deep(4),
        &tiny,
        &layers,
        &RateCheck::default(),
        &mut (),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("time_unit") && e.contains("small_init"), "{e}");

    let e = gradient_flow(&problem, Model::deep(4), &tiny, &accelerated(1.0), &mut ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("time_unit") && e.contains("train"), "{e}");
}
