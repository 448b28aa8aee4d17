//! Where gradient descent and SGD end on the two-layer models (docs/math.md section 11).
//!
//! References, each independent of the predictor's construction:
//! * the converged iterates of the run itself (the prediction is a dual Newton solve on
//!   quantities accumulated along the steps; the iterates never enter it);
//! * a long gradient flow at rtol 1e-12 for the flow limit of the signed model;
//! * the deep model's general entropy (quadrature construction, docs/math.md section 4)
//!   for the flow limit of `u ⊙ v`.

mod common;

use ddln::mirror::{predict, predict_with, Hyperbolic, PredictSettings, PredictStatus};
use ddln::recipes::sparse_recovery;
use ddln::vector::distance;
use ddln::{
    descent, train, DescentSettings, LossScaling, Method, Model, Problem, RateCheck, Report,
    TwoLayer,
};

/// The field's sparse-recovery setup: n = 20, d = 30, 3-sparse theta*, loss
/// `||X theta - y||^2 / (2n)`.
fn epfl_problem() -> Problem {
    let (n, d) = (20, 30);
    let (x, y, _) = sparse_recovery(n, d, 3, 0).unwrap();
    Problem::new(x, n, d, y, ddln::Loss::Square)
        .unwrap()
        .with_scaling(LossScaling::HalfMean)
}

fn descend(problem: &Problem, model: Model, init: &[f64], settings: DescentSettings) -> Report {
    let method = Method::Descent(settings);
    train(
        problem,
        model,
        init,
        &method,
        &RateCheck::default(),
        &mut (),
    )
    .unwrap()
}

/// GD at step 1/30 from `u = 0.1, v = 0` (the field's setup), run to a loss of 1e-24:
/// the limit predicted from the effective init is within 1e-5 of the final iterate
/// (measured: ~3e-10), while gradient flow's limit from the same init is ~1e-3 away;
/// the step identity holds to the rounding of the iterates: each step rounds `a` and
/// `b` by ~eps, so after `k` steps the residual is up to ~k eps (measured 0.7 k eps at
/// k ~ 2e5, allowed 10 k eps; a wrong identity would miss by O(eta^3 g^3) ~ 1e-6 per step).
#[test]
fn gd_limit_is_predicted_by_the_effective_init() {
    let problem = epfl_problem();
    let d = problem.dim();
    let mut init = vec![0.1; d];
    init.extend(vec![0.0; d]);
    let report = descend(
        &problem,
        Model::deep(2),
        &init,
        DescentSettings {
            lr: 1.0 / 30.0,
            steps: 200_000,
            record_every: 1000,
            loss_tol: Some(1e-24),
            ..DescentSettings::default()
        },
    );
    let table = report
        .implicit_bias
        .expect("descent reports its implicit bias");
    assert!(table.applies, "{:?}", table.reason);
    let bias = table.check.unwrap();
    assert_eq!(bias.prediction_status, PredictStatus::Converged);
    eprintln!(
        "steps {} distance {:e} residual {:e} scale residual {:e} flow gap {:e}",
        bias.identity.steps,
        bias.distance_to_final,
        bias.identity.max_residual,
        bias.identity.max_scale_residual,
        bias.flow_limit_to_final
    );
    assert!(bias.distance_to_final <= 1e-5, "{}", bias.distance_to_final);
    assert!(
        bias.flow_limit_to_final > 1e-4,
        "{}",
        bias.flow_limit_to_final
    );
    let rounding = 10.0 * bias.identity.steps as f64 * f64::EPSILON;
    assert!(
        bias.identity.max_residual <= rounding,
        "{}",
        bias.identity.max_residual
    );
    assert!(bias.identity.max_scale_residual <= rounding);
    assert!(bias.identity.checked > 10);
    // The steps shrink the init: every effective init is below 0.1.
    assert!(bias.effective_init.iter().all(|&a| a < 0.1 && a > 0.0));
}

/// SGD (mini-batches of 5) and GD on the signed model `u^2 - v^2` from `u = v = alpha`:
/// the same identity, the same 1e-5 agreement with the converged iterate.
#[test]
fn sgd_and_signed_limits_are_predicted() {
    let problem = epfl_problem();
    let d = problem.dim();
    let cases = [
        (Model::deep(2), [0.1, 0.0], Some(5)),
        (Model::Signed { power: 2 }, [0.1, 0.1], None),
        (Model::Signed { power: 2 }, [0.1, 0.1], Some(4)),
    ];
    for (model, [u0, v0], batch_size) in cases {
        eprintln!("{model:?} batch {batch_size:?}");
        let mut init = vec![u0; d];
        init.extend(vec![v0; d]);
        let report = descend(
            &problem,
            model,
            &init,
            DescentSettings {
                lr: 0.02,
                steps: 400_000,
                record_every: 4000,
                batch_size,
                seed: 3,
                loss_tol: Some(1e-22),
                ..DescentSettings::default()
            },
        );
        let bias = report.implicit_bias.unwrap().check.unwrap();
        eprintln!(
            "  steps {} loss {:e} distance {:e} residual {:e} flow gap {:e}",
            bias.identity.steps,
            report.run.final_loss,
            bias.distance_to_final,
            bias.identity.max_residual,
            bias.flow_limit_to_final
        );
        assert!(
            report.run.final_loss <= 1e-12,
            "{model:?} {batch_size:?}: loss {}",
            report.run.final_loss
        );
        assert!(
            bias.distance_to_final <= 1e-5,
            "{model:?} {batch_size:?}: {}",
            bias.distance_to_final
        );
        let rounding = 10.0 * bias.identity.steps as f64 * f64::EPSILON;
        assert!(
            bias.identity.max_residual <= rounding,
            "{}",
            bias.identity.max_residual
        );
    }
}

/// Momentum and the deeper models: the table says why it does not apply.
#[test]
fn the_table_says_when_it_does_not_apply() {
    let problem = epfl_problem();
    let d = problem.dim();
    let init = common::random_init(3, d, 0.3, 1);
    let report = descend(&problem, Model::deep(3), &init, DescentSettings::default());
    let table = report.implicit_bias.unwrap();
    assert!(!table.applies);
    assert!(table.reason.unwrap().contains("two-layer"));
    let init = common::random_init(2, d, 0.3, 1);
    let momentum = DescentSettings {
        momentum: 0.5,
        ..DescentSettings::default()
    };
    let table = descend(&problem, Model::deep(2), &init, momentum)
        .implicit_bias
        .unwrap();
    assert!(table.reason.unwrap().contains("momentum"));
}

/// The flow limit of `u ⊙ v` through the hyperbolic entropy against the general entropy
/// of the deep model (a second construction): equal to 1e-10 relative.
#[test]
fn hyperbolic_and_general_entropy_agree_for_two_layers() {
    let problem = epfl_problem();
    let d = problem.dim();
    let init = common::random_init(2, d, 0.2, 7);
    let settings = PredictSettings::default();
    let general = predict(&problem, &init, 2, &settings).unwrap();
    let map = Hyperbolic::of_init(TwoLayer::Product, &init, d).unwrap();
    let hyperbolic = predict_with(&problem, &map, &settings).unwrap();
    assert_eq!(general.status, PredictStatus::Converged);
    let scale = general.theta.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!(distance(&general.theta, &hyperbolic.theta) <= 1e-10 * scale);
}

/// Gradient flow on `u^2 - v^2` (mixed signs, unequal `u(0)`, `v(0)`), run at rtol
/// 1e-12 to a loss below 1e-20, ends where the hyperbolic entropy predicts: 1e-8.
#[test]
fn signed_flow_limit_matches_a_long_flow() {
    let (n, d) = (6, 12);
    let problem = common::random_problem(n, d, 11);
    let init = common::random_init(2, d, 0.3, 5);
    let flow_end = common::long_flow(&problem, Model::Signed { power: 2 }, &init);
    let map = Hyperbolic::of_init(TwoLayer::SignedSquare, &init, d).unwrap();
    let predicted = predict_with(&problem, &map, &PredictSettings::default()).unwrap();
    let scale = predicted.theta.iter().map(|v| v * v).sum::<f64>().sqrt();
    let gap = distance(&predicted.theta, &flow_end);
    assert!(gap <= 1e-8 * scale, "{gap}");
}

/// The loss scaling is a change of step size: GD under `mean/2` with step `eta` is GD
/// under `sum` with step `eta / (2n)`, iterate for iterate (to the rounding of the
/// different products, 1e-13 relative over 1000 steps).
#[test]
fn mean_half_scaling_rescales_the_step() {
    let (n, d) = (12, 7);
    let base = common::random_problem(n, d, 2);
    let half_mean = base.clone().with_scaling(LossScaling::HalfMean);
    let init = common::random_init(3, d, 0.5, 3);
    let settings = |lr| DescentSettings {
        lr,
        steps: 1000,
        record_every: 1000,
        ..DescentSettings::default()
    };
    let a = descent(&half_mean, Model::deep(3), &init, &settings(0.05), &mut ()).unwrap();
    let b = descent(
        &base,
        Model::deep(3),
        &init,
        &settings(0.05 / (2.0 * n as f64)),
        &mut (),
    )
    .unwrap();
    assert!(common::max_rel_diff(&a.final_state, &b.final_state, 1e-3) <= 1e-13);
    let value = half_mean.loss_value(&a.final_theta);
    assert!((value - base.loss_value(&a.final_theta) / (2.0 * n as f64)).abs() <= 1e-15 * value);
}

/// Heavy ball on the field's setup at fixed `lambda = gamma / (1 - beta)^2 = 0.2`, run to
/// a loss of 1e-20: the momentum flow with the heavy ball's `lambda_eff` (Dormand-Prince
/// on `lambda w'' + w' = -grad L`, a different algorithm from the discrete loop) ends
/// near the last iterate, and the gap is first order in `gamma` (the reference: the
/// order of the expansion, docs/math.md section 11): quartering `gamma` divides it by
/// at least 2.5; plain gradient flow's limit stays farther away than the prediction.
#[test]
fn heavy_ball_limit_is_predicted_by_its_momentum_flow() {
    let problem = epfl_problem();
    let mut init = vec![0.1; 30];
    init.extend(vec![0.0; 30]);
    let lambda = 0.2;
    let mut gaps = Vec::new();
    for beta in [0.5, 0.75] {
        let gamma = lambda * (1.0 - beta) * (1.0 - beta);
        let steps = (20_000.0 * (1.0 - beta) / gamma) as u64;
        let settings = DescentSettings {
            lr: gamma,
            momentum: beta,
            steps,
            record_every: steps,
            loss_tol: Some(1e-20),
            ..DescentSettings::default()
        };
        let report = descend(&problem, Model::deep(2), &init, settings);
        assert_eq!(
            report.run.status,
            ddln::Status::Converged,
            "{}",
            report.run.message
        );
        let table = report.momentum_bias.unwrap();
        let bias = table.check.expect("applies to full-batch heavy ball");
        assert!((bias.lambda - lambda).abs() <= 1e-12);
        assert_eq!(bias.prediction_status, ddln::Status::Converged);
        let flow_gap = bias.flow_limit_to_final.unwrap();
        eprintln!(
            "beta {beta}: gap to the lambda_eff flow {:e}, to gradient flow {flow_gap:e}",
            bias.distance_to_final
        );
        assert!(bias.distance_to_final < 0.5 * flow_gap);
        gaps.push(bias.distance_to_final);
    }
    assert!(gaps[0] >= 2.5 * gaps[1], "O(gamma): {gaps:?}");
    // Not for a schedule, and not for plain GD.
    let scheduled = DescentSettings {
        momentum: 0.5,
        steps: 10,
        schedule: ddln::Schedule::InverseTime { decay: 0.1 },
        ..DescentSettings::default()
    };
    let table = descend(&problem, Model::deep(2), &init, scheduled)
        .momentum_bias
        .unwrap();
    assert!(table.reason.unwrap().contains("constant step"));
    let plain = DescentSettings {
        steps: 10,
        ..DescentSettings::default()
    };
    assert!(descend(&problem, Model::deep(2), &init, plain)
        .momentum_bias
        .is_none());
}
