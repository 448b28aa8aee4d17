//! The mirror maps of the signed `u^L - v^L` and redundant `u^L` models (docs/math.md
//! section 10) predict where gradient flow ends. Reference: the flow itself on the
//! layers, at rtol 1e-12, run until the loss is below 1e-24 (an independent path:
//! integration of the layer ODE, no mirror map inside).

mod common;

use ddln::mirror::{
    predict_model, predict_with, Hyperbolic, PowerMap, PredictSettings, PredictStatus,
};
use ddln::vector::{distance, norm};
use ddln::{Model, Problem, TwoLayer};

fn check(problem: &Problem, model: Model, init: &[f64], rtol: f64) {
    let predicted = predict_model(problem, model, init, &PredictSettings::default()).unwrap();
    assert_eq!(
        predicted.status,
        PredictStatus::Converged,
        "{}",
        predicted.message
    );
    let flow = common::long_flow(problem, model, init);
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

/// Balanced inits of the deep model (all layers of one magnitude at a coordinate, mixed
/// signs; assumption (A) fails there), alone and mixed with coordinates under (A):
/// the predicted limit against a long layer flow, 1e-8 relative. A balanced coordinate
/// keeps the sign of its product, so the data are `y = X theta*` with `theta*` of those
/// signs (an interpolator the flow can reach).
#[test]
fn balanced_deep_predictions_match_long_flows() {
    let (n, d) = (5, 10);
    let x = common::random_problem(n, d, 13).x().to_vec();
    for depth in [2, 3, 4] {
        let base = common::random_init(depth, d, 0.5, 40 + depth as u64);
        // Fully balanced: |u^j_i| = |u^1_i| for every j, signs kept.
        let balanced: Vec<f64> = (0..depth * d)
            .map(|k| base[k].signum() * base[k % d].abs())
            .collect();
        let sign = |i: usize| {
            (0..depth)
                .map(|j| base[j * d + i].signum())
                .product::<f64>()
        };
        let star: Vec<f64> = (0..d).map(|i| sign(i) * (0.5 + 0.1 * i as f64)).collect();
        let y: Vec<f64> = (0..n)
            .map(|r| ddln::vector::dot(&x[r * d..(r + 1) * d], &star))
            .collect();
        let problem = Problem::new(x.clone(), n, d, y, ddln::Loss::Square).unwrap();
        check(&problem, Model::deep(depth), &balanced, 1e-8);
        // Mixed: even coordinates balanced, odd ones as drawn (unique minimal layer).
        let mixed: Vec<f64> = (0..depth * d)
            .map(|k| {
                if (k % d) % 2 == 0 {
                    balanced[k]
                } else {
                    base[k]
                }
            })
            .collect();
        check(&problem, Model::deep(depth), &mixed, 1e-8);
    }
}

/// Ties of `1 < m < L` minimal layers (2 of 3, 2 of 4, 3 of 4, 2 and 3 of 5, mixed signs),
/// mixed with coordinates where (A) holds and balanced ones: the predicted limit against
/// a long layer flow, 1e-8 relative. theta keeps the sign of the product at a tied
/// coordinate, so `y = X theta*` with `theta*` of those signs.
#[test]
fn partial_tie_predictions_match_long_flows() {
    let (n, d) = (5, 10);
    let x = common::random_problem(n, d, 17).x().to_vec();
    for (depth, m) in [(3, 2), (4, 2), (4, 3), (5, 2), (5, 3)] {
        let base = common::random_init(depth, d, 0.5, 70 + (depth * m) as u64);
        // Coordinates 0, 3, 6, 9 tie their first m layers at |u^1| (the others above
        // it); coordinate 1 is balanced when m is 3; the others are as drawn.
        let init: Vec<f64> = (0..depth * d)
            .map(|k| {
                let (j, i) = (k / d, k % d);
                let w = base[i].abs();
                let floor = w + 0.2 + 0.1 * j as f64;
                let sign = base[k].signum();
                if (i % 3 == 0 && j < m) || (i == 1 && m == 3) {
                    sign * w
                } else if i % 3 == 0 {
                    sign * base[k].abs().max(floor)
                } else {
                    base[k]
                }
            })
            .collect();
        let sign = |i: usize| {
            (0..depth)
                .map(|j| init[j * d + i].signum())
                .product::<f64>()
        };
        let star: Vec<f64> = (0..d).map(|i| sign(i) * (0.4 + 0.1 * i as f64)).collect();
        let y: Vec<f64> = (0..n)
            .map(|r| ddln::vector::dot(&x[r * d..(r + 1) * d], &star))
            .collect();
        let problem = Problem::new(x.clone(), n, d, y, ddln::Loss::Square).unwrap();
        check(&problem, Model::deep(depth), &init, 1e-8);
    }
}

/// A tie at 0 is refused with the coordinate named (theta stays 0 there).
#[test]
fn ties_at_zero_are_refused() {
    let problem = common::random_problem(3, 2, 1);
    let init = [0.0, 0.5, 0.0, 0.7, 0.9, 0.2]; // coordinate 0: layers 1, 2 tie at 0
    let err =
        predict_model(&problem, Model::deep(3), &init, &PredictSettings::default()).unwrap_err();
    assert!(err.to_string().contains("coordinate 0"), "{err}");
}
