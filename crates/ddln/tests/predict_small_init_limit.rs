//! The predictor below f64 (`PredictStatus::SmallInitLimit`): where the mirror map cannot
//! be resolved, `predict_model` answers with the `alpha -> 0` limit, checked against an
//! independent reference, the end of the simulated small-init flow at the same scale;
//! and the limit's weights from the z-maps' dual boxes against the mirror map's tail
//! weights where both exist.

mod common;

use ddln::mirror::{
    predict_model, small_init_limit_of_model, small_init_weights, LpSettings, PredictSettings,
    PredictStatus,
};
use ddln::param::gapped_flow::GappedFlow;
use ddln::param::signed_power_flow::SignedPowerFlow;
use ddln::param::small_init_map::SmallInitMap;
use ddln::recipes::sparse_recovery;
use ddln::{gradient_flow, Dynamics, FlowSettings, Loss, Model, Problem};

fn seeded(n: usize, d: usize, seed: u64) -> Problem {
    let (x, y, _) = sparse_recovery(n, d, 3, seed).unwrap();
    Problem::new(x, n, d, y, Loss::Square).unwrap()
}

/// Flow time per unit of the small-init map's `tau` of `model` from `init`.
fn time_unit(model: Model, init: &[f64], d: usize) -> f64 {
    match model {
        Model::Deep { depth } => 1.0 / GappedFlow::new(init, depth, d).unwrap().tau_rate(),
        Model::Signed { power } => 1.0 / SignedPowerFlow::new(init, power, d).unwrap().tau_rate(),
        _ => unreachable!(),
    }
}

/// Deep L = 3 from a Gaussian init at 1e-200 (its gaps underflow), deep L = 4 from
/// `u^1 = 0` and Gaussian other layers at 1e-100 (Newton stops at f64's floor), and
/// `u^3 - v^3` from unequal positive entries at 1e-200: the prediction is the limit, of
/// order 1e-100 to 1e-200, and equals where the simulated flow ends (to 1e-6 relative;
/// the flow's own stationarity threshold is 1e-9 of the gradient).
#[test]
fn below_f64_the_prediction_is_where_the_flow_ends() {
    let problem = seeded(10, 20, 7);
    let d = problem.dim();
    let mut zero_first = common::random_init(4, d, 1e-100, 3);
    zero_first[..d].fill(0.0);
    let positive: Vec<f64> = common::random_init(2, d, 1.0, 8)
        .iter()
        .map(|v| 1e-200 * (0.5 + v.abs() % 1.0))
        .collect();
    let cases = [
        (Model::deep(3), common::random_init(3, d, 1e-200, 4)),
        (Model::deep(4), zero_first),
        (Model::Signed { power: 3 }, positive),
    ];
    for (model, init) in cases {
        let pred = predict_model(&problem, model, &init, &PredictSettings::default()).unwrap();
        assert_eq!(
            pred.status,
            PredictStatus::SmallInitLimit,
            "{}",
            pred.message
        );
        let order = pred.limit_order_log10.unwrap();
        assert!(order < -90.0, "{order}");
        let settings = FlowSettings {
            t_end: 1e3 * time_unit(model, &init, d),
            ..FlowSettings::default()
        };
        let run = gradient_flow(&problem, model, &init, &settings, &mut ()).unwrap();
        assert!(run.status.is_success(), "{}", run.message);
        assert_eq!(run.solver.as_ref().unwrap().dynamics, Dynamics::SmallInit);
        let size = run.final_theta.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let gap = common::max_rel_diff(&pred.theta, &run.final_theta, size);
        eprintln!(
            "{model:?}: order 1e{order:.0}, prediction to the flow's end {gap:.2e}; {}",
            pred.message
        );
        assert!(gap < 1e-6, "{model:?}: {gap}");
        assert!(pred.relative_residual < 1e-9);
    }
}

/// At a scale where the mirror map exists (Gaussian shapes at 0.05, L = 3 and 4) the
/// limit's weights from the z-maps' boxes are the mirror map's tail weights to 1e-12.
#[test]
fn the_weights_are_the_mirror_maps_tail_weights() {
    let problem = seeded(10, 20, 7);
    let d = problem.dim();
    let lp = LpSettings::default();
    for depth in [3usize, 4] {
        let init = common::random_init(depth, d, 0.05, 11);
        let (limit, _) = small_init_limit_of_model(&problem, Model::deep(depth), &init, &lp)
            .unwrap()
            .unwrap();
        let (plus, minus) = small_init_weights(&init, depth, d).unwrap();
        assert!(common::max_rel_diff(&limit.weights_plus, &plus, 0.0) < 1e-12);
        assert!(common::max_rel_diff(&limit.weights_minus, &minus, 0.0) < 1e-12);
    }
    // u^L - v^L from u = v: one weight everywhere (the box is symmetric and uniform).
    let (limit, order) = small_init_limit_of_model(
        &problem,
        Model::Signed { power: 4 },
        &vec![1e-3; 2 * d],
        &lp,
    )
    .unwrap()
    .unwrap();
    assert!(limit
        .weights_plus
        .iter()
        .chain(&limit.weights_minus)
        .all(|w| (w - 1.0).abs() < 1e-14));
    assert!((order - 2.0 * 1e-3f64.ln()).abs() < 1e-12);
}

/// Where the Newton predictor resolves the map nothing changes: at scale 1e-3 the status
/// is `Converged`; and an init with a tie (no limit) keeps its error.
#[test]
fn resolvable_inits_and_errors_are_unchanged() {
    let problem = seeded(10, 20, 7);
    let d = problem.dim();
    let init = common::random_init(3, d, 1e-3, 4);
    let pred = predict_model(&problem, Model::deep(3), &init, &PredictSettings::default()).unwrap();
    assert_eq!(pred.status, PredictStatus::Converged);
    assert!(pred.limit_order_log10.is_none());
    let tie = common::random_problem(3, 2, 1);
    let init = [0.0, 0.5, 0.0, 0.7, 0.9, 0.2];
    let err = predict_model(&tie, Model::deep(3), &init, &PredictSettings::default()).unwrap_err();
    assert!(err.to_string().contains("coordinate 0"), "{err}");
}
