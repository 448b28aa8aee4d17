//! The dual dynamics of the two-layer models (`dynamics = dual`, the default for them)
//! against independent references: the layer ODE integrated by the explicit pair at a
//! tight tolerance (moderate inits), the saddle-to-saddle limit algorithm (itself checked
//! against a brute-force search in tests/saddles.rs) at tiny inits, and the work counters
//! for the claim that a plateau costs no steps.

use ddln::optim::Dynamics;
use ddln::recipes::{gaussian_data, sparse_recovery};
use ddln::saddles::{saddle_to_saddle, SaddleSettings};
use ddln::{gradient_flow, FlowSettings, Loss, Model, Problem, RkMethod};

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / scale)
        .fold(0.0, f64::max)
}

/// Mixed-sign Gaussian inits (no assumption needed) of both models, squared and logistic
/// loss: the dual run's recorded layers, theta and xi against the layer ODE by dopri5 at
/// rtol 1e-12, on the same output grid.
#[test]
fn dual_runs_are_the_layer_flow() {
    let (n, d) = (6, 9);
    let (x, y) = gaussian_data(n, d, 3);
    let init: Vec<f64> = gaussian_data(2, d, 4).0.iter().map(|v| 0.4 * v).collect();
    for loss in [Loss::Square, Loss::Logistic] {
        let y: Vec<f64> = match loss {
            Loss::Logistic => y.iter().map(|v| v.signum()).collect(),
            _ => y.clone(),
        };
        let problem = Problem::new(x.clone(), n, d, y, loss).unwrap();
        for model in [Model::deep(2), Model::Signed { power: 2 }] {
            let base = FlowSettings {
                t_end: 8.0,
                n_record: 17,
                track_xi: true,
                dynamics: Dynamics::Dual,
                ..FlowSettings::default()
            };
            let dual = gradient_flow(&problem, model, &init, &base, &mut ()).unwrap();
            let solver = dual.solver.as_ref().unwrap();
            assert_eq!(
                solver.dynamics,
                Dynamics::Dual,
                "{}",
                solver.dynamics_reason
            );
            let reference = FlowSettings {
                rtol: 1e-12,
                atol: 1e-14,
                integrator: RkMethod::Dopri5,
                dynamics: Dynamics::Layers,
                ..base.clone()
            };
            let layers = gradient_flow(&problem, model, &init, &reference, &mut ()).unwrap();
            let tag = format!("{} {loss:?}", model.name());
            assert!(
                max_rel(&dual.trajectory.states, &layers.trajectory.states) < 1e-8,
                "{tag}"
            );
            assert!(
                max_rel(&dual.trajectory.theta, &layers.trajectory.theta) < 1e-8,
                "{tag}"
            );
            let (xd, xl) = (dual.trajectory.xi.unwrap(), layers.trajectory.xi.unwrap());
            assert!(max_rel(&xd, &xl) < 1e-8, "{tag}");
            assert!(
                (dual.final_loss - layers.final_loss).abs() < 1e-9 * layers.final_loss.max(1e-3)
            );
        }
    }
}

/// Init scale 1e-300 (the field's `u = sqrt(2) alpha`, `v = 0`): the run completes with
/// finite layers, its theta midway between jumps (in accelerated time `t / log(1/alpha)`)
/// is the algorithm's saddle to 1 / log(1/alpha) accuracy, and the steps taken at 1e-300
/// by RODAS4 are within 15% of those at 1e-100 although the plateaus are 3 times longer
/// in flow time (measured: 3517 and 3808 steps, accepted and rejected, at 1e-100 and
/// 1e-300, nearly all of them in the jumps and the final convergence; a plateau takes
/// one to four steps).
#[test]
fn tiny_inits_follow_the_saddles_at_the_cost_of_the_jumps() {
    let (n, d, k) = (10, 20, 3);
    let (x, y, _) = sparse_recovery(n, d, k, 7).unwrap();
    let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let saddles = saddle_to_saddle(&problem, &SaddleSettings::default()).unwrap();
    let jumps = &saddles.jumps;
    assert!(jumps.len() >= 3);
    let mut steps = Vec::new();
    for exponent in [100.0f64, 300.0] {
        let alpha = 10f64.powf(-exponent);
        let lambda = exponent * 10f64.ln();
        let mut init = vec![std::f64::consts::SQRT_2 * alpha; d];
        init.extend(vec![0.0; d]);
        // Midpoints of the plateaus after each jump but the last, then the end.
        let mut tilde: Vec<f64> = jumps
            .windows(2)
            .map(|w| 0.5 * (w[0].time_accelerated + w[1].time_accelerated))
            .collect();
        tilde.push(1.5 * jumps.last().unwrap().time_accelerated);
        let settings = FlowSettings {
            t_end: *tilde.last().unwrap() * lambda,
            t_eval: Some(tilde.iter().map(|t| t * lambda).collect()),
            ..FlowSettings::default()
        };
        let run = gradient_flow(&problem, Model::deep(2), &init, &settings, &mut ()).unwrap();
        assert!(run.final_state.iter().all(|v| v.is_finite()));
        assert!(run.status.is_success(), "{:?}: {}", run.status, run.message);
        for (k, jump) in jumps.iter().enumerate().take(tilde.len() - 1) {
            let theta = &run.trajectory.theta[k * d..(k + 1) * d];
            let err = max_rel(theta, &jump.theta);
            assert!(err < 3.0 / lambda, "alpha 1e-{exponent}, saddle {k}: {err}");
        }
        let rodas = FlowSettings {
            integrator: RkMethod::Rodas,
            ..settings
        };
        let run = gradient_flow(&problem, Model::deep(2), &init, &rodas, &mut ()).unwrap();
        steps.push(run.stats.steps + run.stats.rejected_steps);
    }
    eprintln!("steps at alpha = 1e-100, 1e-300: {steps:?}");
    assert!(steps[1] as f64 <= 1.15 * steps[0] as f64, "{steps:?}");
}

/// `auto` on two layers: the reduced dynamics under (A) at scales their tolerances
/// resolve, the dual dynamics for an init below atol / rtol (1e-30) or off (A) (a
/// coordinate with `|u| = |v|`), and for `u^2 - v^2`.
#[test]
fn auto_takes_the_dual_dynamics_where_the_reduced_do_not_apply() {
    let (x, y) = gaussian_data(4, 3, 1);
    let problem = Problem::new(x, 4, 3, y, Loss::Square).unwrap();
    let chosen = |model: Model, init: &[f64]| {
        let run = gradient_flow(&problem, model, init, &FlowSettings::default(), &mut ()).unwrap();
        let solver = run.solver.unwrap();
        (solver.dynamics, solver.dynamics_reason)
    };
    let (dynamics, _) = chosen(Model::deep(2), &[0.3, 0.2, 0.1, 0.0, 0.0, 0.0]);
    assert_eq!(dynamics, Dynamics::Reduced);
    let (dynamics, why) = chosen(Model::deep(2), &[1e-30, 1e-30, 1e-30, 0.0, 0.0, 0.0]);
    assert_eq!(dynamics, Dynamics::Dual);
    assert!(why.contains("atol / rtol"), "{why}");
    // Asked for, the reduced dynamics refuse an init whose gaps underflow.
    let reduced = FlowSettings {
        dynamics: Dynamics::Reduced,
        ..FlowSettings::default()
    };
    let tiny = [1e-300, 1e-300, 1e-300, 0.0, 0.0, 0.0];
    let err = gradient_flow(&problem, Model::deep(2), &tiny, &reduced, &mut ()).unwrap_err();
    assert!(err.to_string().contains("underflows"), "{err}");
    let (dynamics, why) = chosen(Model::deep(2), &[0.3, 0.2, 0.1, 0.3, 0.0, 0.0]);
    assert_eq!(dynamics, Dynamics::Dual);
    assert!(why.contains("assumption (A)"), "{why}");
    let (dynamics, _) = chosen(Model::Signed { power: 2 }, &[0.3; 6]);
    assert_eq!(dynamics, Dynamics::Dual);
}

/// `dynamics = dual` asked for a model without the closed form is an error naming the
/// field; `auto` keeps the reduced dynamics for deeper networks.
#[test]
fn dual_is_for_two_layers() {
    let (x, y) = gaussian_data(4, 3, 1);
    let problem = Problem::new(x, 4, 3, y, Loss::Square).unwrap();
    let init = vec![0.5; 9];
    let asked = FlowSettings {
        dynamics: Dynamics::Dual,
        ..FlowSettings::default()
    };
    let err = gradient_flow(&problem, Model::deep(3), &init, &asked, &mut ()).unwrap_err();
    assert!(err.to_string().contains("dynamics"), "{err}");
    let mut init3 = vec![0.0; 3];
    init3.extend(vec![0.5; 6]);
    let auto = gradient_flow(
        &problem,
        Model::deep(3),
        &init3,
        &FlowSettings::default(),
        &mut (),
    )
    .unwrap();
    assert_eq!(auto.solver.unwrap().dynamics, Dynamics::Reduced);
}
