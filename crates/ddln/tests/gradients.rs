//! Layer gradients against central finite differences of the loss (the reference is
//! the loss value alone, evaluated at perturbed layers).

mod common;

use ddln::{Loss, Model, Problem};
use proptest::prelude::*;

fn loss_of_state(problem: &Problem, model: Model, state: &[f64]) -> f64 {
    let mut theta = vec![0.0; problem.dim()];
    model.theta(state, &mut theta);
    problem.loss_value(&theta)
}

fn check_fd(problem: &Problem, model: Model, state: &[f64]) -> Result<(), TestCaseError> {
    let d = problem.dim();
    let mut theta = vec![0.0; d];
    let mut g = vec![0.0; d];
    model.theta(state, &mut theta);
    let loss = problem.loss_and_gradient(&theta, &mut g);
    let mut analytic = vec![0.0; state.len()];
    model.pullback(state, &g, &mut analytic);
    let h = 1e-6;
    for k in 0..state.len() {
        let mut plus = state.to_vec();
        let mut minus = state.to_vec();
        plus[k] += h;
        minus[k] -= h;
        let fd = (loss_of_state(problem, model, &plus) - loss_of_state(problem, model, &minus))
            / (2.0 * h);
        // Central differences: truncation O(h^2 * third derivative) plus rounding
        // O(eps L / h) (the loss itself can be ~1e4 for large powers).
        let tol = 1e-6 * (1.0 + fd.abs()) + 100.0 * f64::EPSILON * loss.abs() / h;
        prop_assert!(
            (fd - analytic[k]).abs() <= tol,
            "entry {}: fd {} vs analytic {}",
            k,
            fd,
            analytic[k]
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn deep_gradient_matches_finite_differences(seed in 0u64..100_000, depth in 2usize..7, zero_layer in proptest::option::of(0usize..6)) {
        let (n, d) = (5, 4);
        let problem = common::random_problem(n, d, seed);
        let mut init = common::random_init(depth, d, 0.8, seed ^ 0xABCD);
        if let Some(z) = zero_layer {
            // A layer exactly zero: the gradient must not divide by it.
            let z = z % depth;
            init[z * d..(z + 1) * d].fill(0.0);
        }
        check_fd(&problem, Model::deep(depth), &init)?;
    }

    #[test]
    fn redundant_and_signed_gradients_match_finite_differences(seed in 0u64..100_000, power in 2usize..6) {
        let (n, d) = (5, 4);
        let problem = common::random_problem(n, d, seed);
        let u = common::random_init(2, d, 0.8, seed + 3);
        check_fd(&problem, Model::Redundant { power }, &u[..d])?;
        check_fd(&problem, Model::Signed { power }, &u)?;
    }

    #[test]
    fn logistic_gradient_matches_finite_differences(seed in 0u64..100_000) {
        let (n, d) = (6, 3);
        let p = common::random_problem(n, d, seed);
        let labels: Vec<f64> = p.y().iter().map(|v| if *v >= 0.0 { 1.0 } else { -1.0 }).collect();
        let problem = Problem::new(p.x().to_vec(), n, d, labels, Loss::Logistic).unwrap();
        let init = common::random_init(3, d, 1.0, seed + 5);
        check_fd(&problem, Model::deep(3), &init)?;
    }
}

#[test]
fn logistic_loss_is_stable_for_huge_margins() {
    // log(1 + exp(-m)) for m = -800 is 800 (exp overflows naively); slope -y sigma(-m) = -y.
    let problem = Problem::new(vec![1.0], 1, 1, vec![1.0], Loss::Logistic).unwrap();
    let mut g = [0.0];
    let value = problem.loss_and_gradient(&[-800.0], &mut g);
    assert_eq!(value, 800.0);
    assert_eq!(g[0], -1.0);
}
