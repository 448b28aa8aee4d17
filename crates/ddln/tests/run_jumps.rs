//! The jumps reported for a flow at small init (`Report::jumps`), against independent
//! references: the unit-box limit algorithm (itself checked against a brute-force search
//! in tests/saddles.rs) on the problem with its columns rescaled by the box (a box
//! `(-w_i, w_i)` on `X` is the unit box on `X diag(1/w)`, with `theta = theta' / w`), and
//! the run's own loss curve.

use ddln::recipes::{sparse_recovery, InitRecipe, InitShape};
use ddln::saddles::{run_box, saddle_to_saddle, zero_first_init, SaddleSettings};
use ddln::{train, FlowSettings, Loss, Method, Model, Problem, RateCheck, Report};

fn problem(seed: u64) -> Problem {
    let (n, d, k) = (10, 20, 3);
    let (x, y, _) = sparse_recovery(n, d, k, seed).unwrap();
    Problem::new(x, n, d, y, Loss::Square).unwrap()
}

fn flow(t_end: f64) -> Method {
    Method::Flow(FlowSettings {
        t_end,
        ..FlowSettings::default()
    })
}

/// Gradient flow of `model` from `init` to `t_end` at the default settings, checked.
fn run_flow(p: &Problem, model: Model, init: &[f64], t_end: f64) -> Report {
    train(p, model, init, &flow(t_end), &RateCheck::default(), &mut ()).unwrap()
}

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    let top = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / top
}

fn standard_two_layer(d: usize, alpha: f64) -> Vec<f64> {
    let mut init = vec![std::f64::consts::SQRT_2 * alpha; d];
    init.extend(vec![0.0; d]);
    init
}

/// The field's init `u = sqrt(2) alpha, v = 0`: the run's box is `±log(1/alpha)`, so its
/// jumps are the unit algorithm's in `t~` (to rounding); the run crosses the plateau
/// levels at those times with the error of the limit, `O(1/log(1/alpha))` (measured
/// 0.092 at 1e-10, 0.031 at 1e-30), and sits at the saddles mid-plateau.
#[test]
fn standard_inits_jump_where_the_unit_algorithm_says() {
    let p = problem(7);
    let d = p.dim();
    let unit = saddle_to_saddle(&p, &SaddleSettings::default()).unwrap();
    let t_last = unit.jumps.last().unwrap().time_accelerated;
    let mut worst = Vec::new();
    for exponent in [10.0f64, 30.0] {
        let lambda = exponent * 10f64.ln();
        let init = standard_two_layer(d, 10f64.powf(-exponent));
        let report = run_flow(&p, Model::deep(2), &init, 1.5 * t_last * lambda);
        let jumps = report
            .jumps
            .unwrap()
            .check
            .expect("small init: the jumps apply");
        assert!((jumps.time_scale / lambda - 1.0).abs() < 1e-12);
        assert_eq!(jumps.jumps.len(), unit.jumps.len());
        for (k, (a, b)) in jumps.jumps.iter().zip(&unit.jumps).enumerate() {
            assert!((a.time_accelerated - b.time_accelerated).abs() < 1e-12 * b.time_accelerated);
            assert!(max_rel(&a.theta, &b.theta) < 1e-9);
            assert_eq!(a.active, b.active);
            if let Some((t0, t1)) = a.simulated_bracket {
                let t = a.simulated_time.unwrap();
                assert!(t0 <= t && t <= t1);
            }
            // Plateaus long enough to settle on (the first lasts 0.005 in t~).
            if exponent == 30.0 && (k == 1 || k == 2) {
                let err = a.saddle_error.unwrap();
                assert!(err < 3.0 / lambda, "saddle {k}: {err}");
            }
        }
        worst.push(jumps.worst_time_error);
    }
    assert!(worst[1] < 0.05 && worst[1] < 0.5 * worst[0], "{worst:?}");
}

/// The algorithm runs only to the run's horizon: a flow ending between the second and
/// third jump reports two jumps and the status `Horizon`.
#[test]
fn jumps_stop_at_the_run_horizon() {
    let p = problem(7);
    let d = p.dim();
    let unit = saddle_to_saddle(&p, &SaddleSettings::default()).unwrap();
    let lambda = 30.0 * 10f64.ln();
    let t_end = 0.5 * (unit.jumps[1].time_accelerated + unit.jumps[2].time_accelerated) * lambda;
    let init = standard_two_layer(d, 1e-30);
    let report = run_flow(&p, Model::deep(2), &init, t_end);
    let jumps = report.jumps.unwrap().check.unwrap();
    assert_eq!(jumps.jumps.len(), 2);
    assert_eq!(jumps.status, ddln::saddles::SaddleStatus::Horizon);
}

/// Depth 3 and 4 from `u^1 = 0`, `u^j = alpha`: the box is the mirror map's,
/// `±w_L alpha^{-(L-2)}`, so the jump times in `tau` are the unit algorithm's, and the
/// run's crossings approach them like `alpha^(L-2)` (measured 1.95e-3 at L = 3,
/// alpha = 1e-3; 1.97e-4 at L = 4, alpha = 1e-2; tests/saddles.rs measures the same with
/// its own time scaling).
#[test]
fn deep_runs_report_their_staircase() {
    let p = problem(7);
    let d = p.dim();
    let unit = saddle_to_saddle(&p, &SaddleSettings::default()).unwrap();
    let t_last = unit.jumps.last().unwrap().time_accelerated;
    for (depth, alpha, bound) in [(3usize, 1e-3f64, 4e-3), (4, 1e-2, 4e-4)] {
        let init = zero_first_init(depth, d, alpha);
        let scale = run_box(Model::deep(depth), &init, d).unwrap().time_scale;
        let report = run_flow(&p, Model::deep(depth), &init, 1.5 * t_last * scale);
        let jumps = report.jumps.unwrap().check.unwrap();
        for (a, b) in jumps.jumps.iter().zip(&unit.jumps) {
            assert!((a.time_accelerated - b.time_accelerated).abs() < 1e-9 * b.time_accelerated);
        }
        assert!(
            jumps.worst_time_error < bound,
            "L = {depth}: {}",
            jumps.worst_time_error
        );
    }
}

/// A box that differs per coordinate, `u0_i` of a Gaussian size and `v0 = 0` (box
/// `±log(sqrt(2)/|u0_i|)`): the boxed algorithm against the unit algorithm on
/// `X diag(1/w)`, whose times are the same flow times and whose saddles are `w ⊙ theta`.
#[test]
fn a_box_is_the_unit_box_on_rescaled_columns() {
    let p = problem(8);
    let (n, d) = (p.n_samples(), p.dim());
    let shape = InitRecipe {
        depth: 2,
        scale: 1e-20,
        zero_first: false,
        shape: InitShape::Gaussian,
        seed: 5,
    }
    .draw(d)
    .unwrap();
    let mut init: Vec<f64> = shape[..d].iter().map(|v| v.abs() + 1e-21).collect();
    init.extend(vec![0.0; d]);
    let b = run_box(Model::deep(2), &init, d).unwrap();
    let w: Vec<f64> = b
        .edges
        .iter()
        .map(|&(lo, hi)| {
            assert!((lo + hi).abs() < 1e-12 * hi, "symmetric: {lo} {hi}");
            hi
        })
        .collect();
    let x = p.x();
    let scaled: Vec<f64> = (0..n * d).map(|k| x[k] / w[k % d]).collect();
    let rescaled = Problem::new(scaled, n, d, p.y().to_vec(), Loss::Square).unwrap();
    let unit = saddle_to_saddle(&rescaled, &SaddleSettings::default()).unwrap();
    let boxed = ddln::saddles::saddle_to_saddle_in_box(
        &p,
        &b.edges,
        f64::INFINITY,
        &SaddleSettings::default(),
    )
    .unwrap();
    assert_eq!(unit.jumps.len(), boxed.jumps.len());
    for (u, q) in unit.jumps.iter().zip(&boxed.jumps) {
        assert!((u.time_accelerated - q.time_accelerated).abs() < 1e-10 * u.time_accelerated);
        let theta: Vec<f64> = q.theta.iter().zip(&w).map(|(t, w)| t * w).collect();
        assert!(max_rel(&theta, &u.theta) < 1e-8);
    }
    // And the run follows the boxed prediction.
    let t_end = 1.5 * boxed.jumps.last().unwrap().time_accelerated;
    let report = run_flow(&p, Model::deep(2), &init, t_end);
    let jumps = report.jumps.unwrap().check.unwrap();
    assert!(jumps.worst_time_error < 0.05, "{}", jumps.worst_time_error);
}

/// Where the jumps do not apply the report says why: an init that is not small, another
/// loss, a model without a box, `u^L - v^L` from an init with a zero entry; descent runs
/// have no jumps entry.
#[test]
fn the_jumps_say_when_they_do_not_apply() {
    let p = problem(7);
    let d = p.dim();
    let reason = |problem: &Problem, model: Model, init: &[f64]| {
        let report = run_flow(problem, model, init, 1.0);
        let checked = report.jumps.unwrap();
        assert!(!checked.applies);
        checked.reason.unwrap()
    };
    assert!(reason(&p, Model::deep(2), &standard_two_layer(d, 0.3)).contains("not small"));
    assert!(reason(&p, Model::Redundant { power: 3 }, &vec![1e-3; d]).contains("deep model"));
    let mut zero_v = vec![1e-3; 2 * d];
    zero_v[d] = 0.0;
    assert!(reason(&p, Model::Signed { power: 3 }, &zero_v).contains("positive init"));
    let labels: Vec<f64> = p.y().iter().map(|v| v.signum()).collect();
    let logistic = Problem::new(p.x().to_vec(), p.n_samples(), d, labels, Loss::Logistic).unwrap();
    assert!(
        reason(&logistic, Model::deep(2), &standard_two_layer(d, 1e-8)).contains("squared loss")
    );
    let descent = Method::Descent(ddln::DescentSettings {
        steps: 10,
        lr: 1e-3,
        ..Default::default()
    });
    let report = train(
        &p,
        Model::deep(2),
        &standard_two_layer(d, 1e-8),
        &descent,
        &RateCheck::default(),
        &mut (),
    )
    .unwrap();
    assert!(report.jumps.is_none());
}
