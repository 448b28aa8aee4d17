//! Proposition 1 of the paper on simulated flows: conservation (claim 1) and the sign
//! rule (claim 2). The references are the statements themselves: the flow conserves
//! `u^j^2 - u^k^2` exactly, so any residual is integration error.

mod common;

use ddln::theory::LayerWatch;
use ddln::{gradient_flow, train, Dynamics, FlowSettings, Method, Model, RateCheck, RkMethod};
use proptest::prelude::*;

fn tight(t_end: f64) -> FlowSettings {
    FlowSettings {
        t_end,
        rtol: 1e-12,
        atol: 1e-14,
        dynamics: Dynamics::Layers,
        integrator: RkMethod::Dopri5,
        ..FlowSettings::default()
    }
}

#[test]
fn conservation_residual_is_tiny_for_many_depths() {
    for (case, &depth) in [2usize, 3, 4, 6, 10].iter().enumerate() {
        let (n, d) = (8, 6);
        let problem = common::random_problem(n, d, 100 + case as u64);
        // Scale so that theta = O(1): |u| ~ 1 keeps products meaningful for depth 10.
        let init = common::random_init(depth, d, 1.0, 200 + case as u64);
        let report = train(
            &problem,
            Model::deep(depth),
            &init,
            &Method::Flow(tight(5.0)),
            &RateCheck::default(),
            &mut (),
        )
        .unwrap();
        let c = report.diagnostics.conservation.unwrap();
        eprintln!(
            "L = {depth}: conservation residual {:e} (relative {:e}) over {} states",
            c.max_abs_residual, c.max_rel_residual, c.states_checked
        );
        assert!(report.run.status.is_success(), "{}", report.run.message);
        assert!(c.states_checked > 10);
        assert!(c.max_rel_residual <= 1e-10, "L = {depth}: {c:?}");
    }
}

#[test]
fn watch_detects_a_broken_invariant() {
    // The check itself must be able to fail: perturb one layer of a state by 1e-3.
    let init = vec![1.0, 2.0, 0.5, 0.3];
    let mut watch = LayerWatch::new(&init, 2, 2);
    let mut state = init.clone();
    state[0] += 1e-3;
    watch.check(&state);
    let c = watch.conservation();
    // (1.001^2 - 1) - 0 = 2.001e-3 for coordinate 0.
    assert!((c.max_abs_residual - 2.001e-3).abs() < 1e-12);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Random problems and Gaussian inits (mixed signs): only the minimal layer of a
    /// coordinate ever changes sign, checked at every accepted step.
    #[test]
    fn only_the_minimal_layer_changes_sign(seed in 0u64..10_000, depth in 2usize..7, scale in 0.2f64..1.5) {
        let (n, d) = (6, 5);
        let problem = common::random_problem(n, d, seed);
        let init = common::random_init(depth, d, scale, seed + 1);
        let settings = FlowSettings { t_end: 20.0, rtol: 1e-9, atol: 1e-12, dynamics: Dynamics::Layers, integrator: RkMethod::Dopri5, ..FlowSettings::default() };
        let report = train(&problem, Model::deep(depth), &init, &Method::Flow(settings), &RateCheck::default(), &mut ()).unwrap();
        let a = report.diagnostics.assumption_a.unwrap();
        prop_assert!(a.holds);
        let signs = report.diagnostics.sign_changes.unwrap();
        prop_assert!(signs.agrees_with_proposition, "{:?}", signs.violations);
        for (i, layers) in signs.crossed.iter().enumerate() {
            for &j in layers {
                prop_assert_eq!(j, a.minimal_layer[i]);
            }
        }
    }
}

#[test]
fn sign_crossings_do_happen_and_are_reported() {
    // Coordinate 0 has y = -1 but theta(0) > 0: theta must cross zero, and the only
    // layer allowed to do it is the minimal one (layer 2 here, |0.05| < |0.5|, |0.8|).
    let problem = ddln::Problem::new(vec![1.0], 1, 1, vec![-1.0], ddln::Loss::Square).unwrap();
    let init = vec![0.5, 0.8, 0.05];
    let report = train(
        &problem,
        Model::deep(3),
        &init,
        &Method::Flow(tight(30.0)),
        &RateCheck::default(),
        &mut (),
    )
    .unwrap();
    let signs = report.diagnostics.sign_changes.unwrap();
    assert_eq!(signs.crossed[0], vec![2]);
    assert!(signs.agrees_with_proposition);
    assert!((report.run.final_theta[0] + 1.0).abs() < 1e-8);
    // Same flow again with the plain integrator: the layers stay away from zero except layer 2.
    let run = gradient_flow(&problem, Model::deep(3), &init, &tight(30.0), &mut ()).unwrap();
    assert!(run.final_state[0] > 0.0 && run.final_state[1] > 0.0 && run.final_state[2] < 0.0);
}

#[test]
fn reduced_mode_follows_the_layer_flow() {
    // Same trajectories from two different ODEs: L*d layer entries vs d minimal layers.
    let problem = common::random_problem(6, 4, 17);
    let init = common::random_init(4, 4, 0.7, 18);
    let full = gradient_flow(&problem, Model::deep(4), &init, &tight(10.0), &mut ()).unwrap();
    let settings = FlowSettings {
        dynamics: Dynamics::Reduced,
        ..tight(10.0)
    };
    let reduced = gradient_flow(&problem, Model::deep(4), &init, &settings, &mut ()).unwrap();
    let worst = common::max_rel_diff(&reduced.trajectory.states, &full.trajectory.states, 1e-3);
    assert!(worst < 1e-9, "{worst:e}");
    let err = gradient_flow(
        &problem,
        Model::Redundant { power: 3 },
        &init[..4],
        &settings,
        &mut (),
    )
    .unwrap_err();
    assert!(err.to_string().contains("reduced"));
}
