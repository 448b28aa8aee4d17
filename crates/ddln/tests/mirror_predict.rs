//! The predictor against simulated gradient flow (the reference: the reduced ODE
//! integrated to convergence by the adaptive RK integrator, itself checked against the
//! layer ODE in `mirror_flow.rs`), and its failure statuses.

use std::time::Instant;

use ddln::mirror::{predict, PredictSettings, PredictStatus};
use ddln::recipes::{gaussian_data, InitRecipe, InitShape};
use ddln::{gradient_flow, Dynamics, FlowSettings, Loss, Model, Problem};

fn rel_dist(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt();
    let den: f64 = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    num / den
}

#[test]
fn predictor_matches_simulated_limits_on_random_problems() {
    // (n, d, L, scale, zero_first)
    let cases: &[(usize, usize, usize, f64, bool)] = &[
        (5, 10, 2, 1.0, false),
        (6, 12, 2, 0.1, true),
        (5, 10, 2, 0.01, false),
        (7, 14, 3, 1.0, true),
        (5, 10, 3, 0.1, false),
        (6, 12, 3, 0.01, true),
        (8, 16, 4, 0.5, false),
        (5, 12, 4, 0.1, true),
        (6, 10, 4, 0.05, false),
        (5, 10, 5, 1.0, false),
        (7, 15, 5, 0.3, true),
        (6, 12, 5, 0.15, false),
        (5, 10, 6, 1.0, true),
        (6, 14, 6, 0.4, false),
        (8, 16, 6, 0.25, false),
        (5, 11, 7, 1.0, false),
        (6, 12, 7, 0.5, true),
        (7, 13, 7, 0.35, false),
        (5, 10, 8, 1.0, true),
        (6, 12, 8, 0.6, false),
        (8, 20, 8, 0.45, false),
        (10, 20, 3, 0.2, false),
    ];
    let settings = PredictSettings::default();
    let mut worst = 0.0f64;
    let (mut t_sim, mut t_pred) = (0.0, 0.0);
    for (k, &(n, d, depth, scale, zero_first)) in cases.iter().enumerate() {
        let (x, y) = gaussian_data(n, d, 500 + k as u64);
        let problem = Problem::new(x, n, d, y.clone(), Loss::Square).unwrap();
        let init = InitRecipe {
            depth,
            scale,
            zero_first,
            shape: InitShape::Gaussian,
            seed: 900 + k as u64,
        }
        .draw(d)
        .unwrap();
        let y2: f64 = y.iter().map(|v| v * v).sum();
        let flow = FlowSettings {
            t_end: 1e9,
            n_record: 2,
            loss_tol: Some(1e-18 * y2),
            rtol: 1e-11,
            atol: 1e-15,
            max_steps: 2_000_000,
            ..FlowSettings::default()
        };
        let start = Instant::now();
        let run = gradient_flow(
            &problem,
            Model::deep(depth),
            &init,
            &reduced(&flow),
            &mut (),
        )
        .unwrap();
        let sim_s = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let pred = predict(&problem, &init, depth, &settings).unwrap();
        let pred_s = start.elapsed().as_secs_f64();
        t_sim += sim_s;
        t_pred += pred_s;
        let dist = rel_dist(&run.final_theta, &pred.theta);
        println!(
            "case {k:2}: n={n} d={d} L={depth} scale={scale} zero_first={zero_first}: |theta_sim - theta_pred|/|theta_pred| = {dist:.2e}; sim {:?} t={:.2e} loss {:.1e} ({} steps, {sim_s:.3}s); predictor {:?} in {} its, rel residual {:.1e} ({pred_s:.4}s)",
            run.status, run.t_final, run.final_loss, run.stats.steps, pred.status, pred.iterations, pred.relative_residual
        );
        assert_eq!(
            run.status,
            ddln::Status::Converged,
            "case {k}: {}",
            run.message
        );
        assert_eq!(
            pred.status,
            PredictStatus::Converged,
            "case {k}: {}",
            pred.message
        );
        worst = worst.max(dist);
        assert!(
            dist < 1e-6,
            "case {k}: simulated and predicted limits differ by {dist:e}"
        );
    }
    println!("worst relative distance {worst:.2e}; total simulation {t_sim:.2}s, total predictor {t_pred:.3}s");
}

#[test]
fn y_outside_the_range_gets_a_status() {
    // Two identical rows of X with different targets: y is not in range(X).
    let x = vec![1.0, 2.0, 0.5, -1.0, 1.0, 2.0, 0.5, -1.0];
    let problem = Problem::new(x, 2, 4, vec![1.0, 2.0], Loss::Square).unwrap();
    let init = InitRecipe {
        depth: 3,
        scale: 0.5,
        ..InitRecipe::default()
    }
    .draw(4)
    .unwrap();
    let pred = predict(&problem, &init, 3, &PredictSettings::default()).unwrap();
    println!("{:?}: {}", pred.status, pred.message);
    assert_eq!(pred.status, PredictStatus::NotInRange);
    // The least-squares residual: |1 - 2| / sqrt(2).
    assert!(
        (pred.residual - 0.5f64.sqrt()).abs() < 1e-9,
        "residual {}",
        pred.residual
    );
}

#[test]
fn bad_init_is_an_error() {
    let (x, y) = gaussian_data(3, 4, 1);
    let problem = Problem::new(x, 3, 4, y, Loss::Square).unwrap();
    let mut init = vec![0.3; 8];
    init[4] = 0.9; // coordinate 0 fine; 1..3 tie between layers
    match predict(&problem, &init, 2, &PredictSettings::default()) {
        Err(ddln::DdlnError::AssumptionA { coordinates }) => assert_eq!(coordinates, vec![1, 2, 3]),
        other => panic!("expected AssumptionA, got {other:?}"),
    }
}

/// `settings` with the reduced dynamics (deep model under assumption (A)).
fn reduced(settings: &FlowSettings) -> FlowSettings {
    FlowSettings {
        dynamics: Dynamics::Reduced,
        ..settings.clone()
    }
}
