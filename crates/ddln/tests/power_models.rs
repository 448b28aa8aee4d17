//! The mirror maps of the signed `u^L - v^L` and redundant `u^L` models (docs/math.md
//! section 10) predict where gradient flow ends. Reference: the flow itself on the
//! layers, at rtol 1e-12, run until the loss is below 1e-24 (an independent path:
//! integration of the layer ODE, no mirror map inside).

mod common;

use ddln::mirror::{
    predict_model, predict_with, Hyperbolic, PowerMap, PredictSettings, PredictStatus,
};
use ddln::vector::{distance, norm};
use ddln::{gradient_flow, Dynamics, FlowSettings, Model, Problem, TwoLayer};

fn long_flow(problem: &Problem, model: Model, init: &[f64]) -> Vec<f64> {
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

fn check(problem: &Problem, model: Model, init: &[f64], rtol: f64) {
    let predicted = predict_model(problem, model, init, &PredictSettings::default()).unwrap();
    assert_eq!(
        predicted.status,
        PredictStatus::Converged,
        "{}",
        predicted.message
    );
    let flow = long_flow(problem, model, init);
    let gap = distance(&predicted.theta, &flow) / norm(&flow);
    eprintln!("{model:?}: relative gap {gap:e}");
    assert!(gap <= rtol, "{model:?}: {gap:e}");
}

/// Signed L = 2, 3, 4 from unequal `u(0)`, `v(0)` of mixed signs: 1e-8 relative.
#[test]
fn signed_predictions_match_long_flows() {
    let (n, d) = (5, 10);
    let problem = common::random_problem(n, d, 21);
    for power in [2, 3, 4] {
        let init = common::random_init(2, d, 0.4, 30 + power as u64);
        check(&problem, Model::Signed { power }, &init, 1e-8);
    }
}

/// Redundant `u^L` (L = 3, 4) from a positive init, on data whose limit is positive
/// (y = X theta* with theta* > 0): 1e-8 relative.
#[test]
fn redundant_predictions_match_long_flows() {
    let (n, d) = (4, 9);
    let base = common::random_problem(n, d, 5);
    let star: Vec<f64> = (0..d).map(|i| 0.5 + 0.1 * i as f64).collect();
    let x = base.x().to_vec();
    let y: Vec<f64> = (0..n)
        .map(|r| ddln::vector::dot(&x[r * d..(r + 1) * d], &star))
        .collect();
    let problem = Problem::new(x, n, d, y, ddln::Loss::Square).unwrap();
    for power in [3, 4] {
        let init: Vec<f64> = (0..d).map(|i| 0.2 + 0.05 * i as f64).collect();
        check(&problem, Model::Redundant { power }, &init, 1e-8);
    }
}

/// Signed L = 2 through the power map (a sum of two exponentials) and through the
/// hyperbolic entropy (`2|u v| sinh(log|u/v| + 4 xi)`): two formulas, one limit (1e-12).
#[test]
fn power_map_and_hyperbolic_agree_at_l2() {
    let (n, d) = (6, 14);
    let problem = common::random_problem(n, d, 8);
    let init = common::random_init(2, d, 0.3, 9);
    let settings = PredictSettings::default();
    let power = PowerMap::new(Model::Signed { power: 2 }, &init, d).unwrap();
    let hyperbolic = Hyperbolic::of_init(TwoLayer::SignedSquare, &init, d).unwrap();
    let a = predict_with(&problem, &power, &settings).unwrap();
    let b = predict_with(&problem, &hyperbolic, &settings).unwrap();
    assert!(distance(&a.theta, &b.theta) <= 1e-12 * norm(&a.theta));
}
