//! Shared helpers for the integration tests: seeded random problems and inits.
#![allow(dead_code)]

use ddln::recipes::{gaussian_data, InitRecipe, InitShape};
use ddln::{gradient_flow, Dynamics, FlowSettings, Loss, Model, Problem, Run};

/// A Gaussian least-squares problem `n x d`.
pub fn random_problem(n: usize, d: usize, seed: u64) -> Problem {
    let (x, y) = gaussian_data(n, d, seed);
    Problem::new(x, n, d, y, Loss::Square).unwrap()
}

/// A Gaussian init `depth x d` scaled by `scale`.
pub fn random_init(depth: usize, d: usize, scale: f64, seed: u64) -> Vec<f64> {
    InitRecipe {
        depth,
        scale,
        zero_first: false,
        shape: InitShape::Gaussian,
        seed,
    }
    .draw(d)
    .unwrap()
}

/// `max_k |a_k - b_k| / max(|b_k|, floor)`.
pub fn max_rel_diff(a: &[f64], b: &[f64], floor: f64) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(floor))
        .fold(0.0, f64::max)
}

/// Gradient flow on the layers at rtol 1e-12 until the loss is below 1e-26: the limit
/// the predictors are checked against (an integration with no mirror map inside).
pub fn long_flow(problem: &Problem, model: Model, init: &[f64]) -> Vec<f64> {
    let flow = FlowSettings {
        t_end: 1e7,
        rtol: 1e-12,
        atol: 1e-16,
        loss_tol: Some(1e-26),
        dynamics: Dynamics::Layers,
        ..FlowSettings::default()
    };
    let run = gradient_flow(problem, model, init, &flow, &mut ()).unwrap();
    assert!(
        run.final_loss <= 1e-20,
        "{model:?}: loss {:e} ({})",
        run.final_loss,
        run.message
    );
    run.final_theta
}

/// Gradient flow of `model` from `init` to `t_end` at the default settings, which must
/// succeed with the small-init dynamics; the largest distance of its final theta to
/// `limit` (relative to `max |limit|`) and the run.
pub fn small_init_end(
    problem: &Problem,
    model: Model,
    init: &[f64],
    t_end: f64,
    limit: &[f64],
) -> (f64, Run) {
    let settings = FlowSettings {
        t_end,
        ..FlowSettings::default()
    };
    let run = gradient_flow(problem, model, init, &settings, &mut ()).unwrap();
    assert!(run.status.is_success(), "{}", run.message);
    assert_eq!(run.solver.as_ref().unwrap().dynamics, Dynamics::SmallInit);
    let size = limit.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let error = run
        .final_theta
        .iter()
        .zip(limit)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
        / size;
    (error, run)
}

/// The checked `jumps` of a flow of `model` from `init` to `t_end` (default settings):
/// where the box comes from, how many jumps, and the worst relative time error.
pub fn run_jumps(
    problem: &Problem,
    model: Model,
    init: &[f64],
    t_end: f64,
) -> (String, usize, f64) {
    let method = ddln::Method::Flow(FlowSettings {
        t_end,
        ..FlowSettings::default()
    });
    let report = ddln::train(
        problem,
        model,
        init,
        &method,
        &ddln::RateCheck::default(),
        &mut (),
    )
    .unwrap();
    let checked = report.jumps.expect("jumps are checked");
    let jumps = checked.check.expect("jumps reported at small init");
    eprintln!(
        "{}: {} jumps, worst time error {:.2e}",
        jumps.box_source,
        jumps.jumps.len(),
        jumps.worst_time_error
    );
    (jumps.box_source, jumps.jumps.len(), jumps.worst_time_error)
}
