//! Baselines and the small-init limit. References: closed-form LP optima on tiny
//! problems, optimality conditions (KKT) checked independently of the solvers, and the
//! predictor's trend as the init scale shrinks.

use ddln::mirror::{
    min_l1, min_l2, predict, small_init_limit, BaselineStatus, LpSettings, PredictSettings,
    PredictStatus,
};
use ddln::recipes::{sparse_recovery, InitRecipe, InitShape};
use ddln::{Loss, Problem};

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

#[test]
fn baselines_on_a_problem_with_known_answers() {
    // One equation theta_0 + 2 theta_1 + 4 theta_2 = 4: min-L1 puts all mass on the
    // largest coefficient (theta = (0, 0, 1), norm 1); min-L2 is X^T y / |X|^2 = (4/21)(1, 2, 4).
    let problem = Problem::new(vec![1.0, 2.0, 4.0], 1, 3, vec![4.0], Loss::Square).unwrap();
    let l1 = min_l1(&problem, &LpSettings::default()).unwrap();
    assert_eq!(l1.status, BaselineStatus::Solved, "{}", l1.message);
    assert!(dist(&l1.theta, &[0.0, 0.0, 1.0]) < 1e-8, "{:?}", l1.theta);
    let l2 = min_l2(&problem).unwrap();
    let expect: Vec<f64> = [1.0, 2.0, 4.0].iter().map(|v| v * 4.0 / 21.0).collect();
    assert!(dist(&l2.theta, &expect) < 1e-14);
    println!(
        "min-L1 {:?} residual {:.1e}; min-L2 {:?} residual {:.1e}",
        l1.theta, l1.residual, l2.theta, l2.residual
    );
}

#[test]
fn sparse_recovery_min_l1_recovers_the_signal_and_infeasible_is_reported() {
    let (n, d, k) = (40, 100, 5);
    let (x, y, theta_star) = sparse_recovery(n, d, k, 3).unwrap();
    let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let l1 = min_l1(&problem, &LpSettings::default()).unwrap();
    println!(
        "min-L1 on 40 x 100, 5-sparse: {:?}, |theta - theta*| = {:.2e}, residual {:.1e}",
        l1.status,
        dist(&l1.theta, &theta_star),
        l1.residual
    );
    assert_eq!(l1.status, BaselineStatus::Solved);
    // Compressed sensing: 40 Gaussian measurements recover a 5-sparse signal in R^100.
    assert!(dist(&l1.theta, &theta_star) < 1e-6);
    // Inconsistent system: status, no panic.
    let bad = Problem::new(vec![1.0, 1.0, 1.0, 1.0], 2, 2, vec![1.0, 2.0], Loss::Square).unwrap();
    assert_eq!(
        min_l1(&bad, &LpSettings::default()).unwrap().status,
        BaselineStatus::Infeasible
    );
    assert_eq!(min_l2(&bad).unwrap().status, BaselineStatus::Infeasible);
}

#[test]
fn predictor_tends_to_the_weighted_l1_limit_at_small_scale() {
    let (n, d) = (8, 20);
    let (x, y, _) = sparse_recovery(n, d, 2, 5).unwrap();
    let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let settings = PredictSettings::default();
    for depth in [3usize, 4] {
        let shape = InitRecipe {
            depth,
            scale: 1.0,
            zero_first: false,
            shape: InitShape::Gaussian,
            seed: 8,
        }
        .draw(d)
        .unwrap();
        let limit = small_init_limit(&problem, &shape, depth, &LpSettings::default()).unwrap();
        assert_eq!(limit.solution.status, BaselineStatus::Solved);
        let mut prev = f64::INFINITY;
        for alpha in [1e-1, 1e-2, 1e-3, 1e-4] {
            let init: Vec<f64> = shape.iter().map(|u| alpha * u).collect();
            let pred = predict(&problem, &init, depth, &settings).unwrap();
            assert_eq!(pred.status, PredictStatus::Converged, "{}", pred.message);
            let gap = dist(&pred.theta, &limit.solution.theta);
            println!(
                "L={depth} alpha={alpha:e}: |theta_inf - theta_wL1| = {gap:.3e} ({} Newton its)",
                pred.iterations
            );
            assert!(
                gap < prev * 1.01 || gap < 1e-6,
                "not approaching: {gap} after {prev}"
            );
            prev = gap;
        }
        assert!(prev < 1e-3, "L={depth}: still {prev} away at alpha = 1e-4");
    }
}

#[test]
fn equal_magnitude_shapes_tend_to_min_l1() {
    // Zero first layer, other layers constant: all weights equal, the limit is min-L1.
    let (n, d) = (8, 20);
    let (x, y, _) = sparse_recovery(n, d, 2, 6).unwrap();
    let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let l1 = min_l1(&problem, &LpSettings::default()).unwrap();
    for depth in [3usize, 5] {
        let shape = InitRecipe {
            depth,
            scale: 1.0,
            zero_first: true,
            shape: InitShape::Constant,
            seed: 0,
        }
        .draw(d)
        .unwrap();
        let limit = small_init_limit(&problem, &shape, depth, &LpSettings::default()).unwrap();
        assert!(limit
            .weights_plus
            .iter()
            .chain(&limit.weights_minus)
            .all(|w| (w - 1.0).abs() < 1e-12));
        let init: Vec<f64> = shape.iter().map(|u| 1e-3 * u).collect();
        let pred = predict(&problem, &init, depth, &PredictSettings::default()).unwrap();
        let gap = dist(&pred.theta, &l1.theta);
        println!("L={depth} alpha=1e-3 equal-magnitude shape: |theta_inf - theta_L1| = {gap:.3e}");
        assert!(gap < 1e-2);
    }
}
