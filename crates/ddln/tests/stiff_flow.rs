//! Stiff (RODAS4) and automatic integration of the reduced dynamics against the explicit
//! reference: the reduced dynamics with Dormand-Prince at rtol 1e-12 (itself checked against the
//! layer ODE in `mirror_flow.rs`), through sign changes of the minimal layer.

mod common;

use common::{max_rel_diff, random_init, random_problem};
use ddln::{gradient_flow, Dynamics, FlowSettings, Model, RkMethod};

fn settings(t_end: f64, integrator: RkMethod, rtol: f64) -> FlowSettings {
    FlowSettings {
        t_end,
        rtol,
        atol: rtol * 1e-2,
        n_record: 101,
        integrator,
        ..FlowSettings::default()
    }
}

/// Coordinates whose minimal layer `v_i` changes sign somewhere along the recorded
/// trajectory (states are `depth x d` per time; the minimal layer is the smallest |u|).
fn sign_changes(states: &[f64], times: usize, depth: usize, d: usize, init: &[f64]) -> usize {
    let minimal: Vec<usize> = (0..d)
        .map(|i| {
            (0..depth)
                .min_by(|&a, &b| init[a * d + i].abs().total_cmp(&init[b * d + i].abs()))
                .unwrap()
        })
        .collect();
    (0..d)
        .filter(|&i| {
            let v0 = init[minimal[i] * d + i];
            (0..times).any(|k| states[k * depth * d + minimal[i] * d + i] * v0 < 0.0)
        })
        .count()
}

/// RODAS4 at rtol 1e-10 agrees with dopri5 at rtol 1e-12 to 1e-8 on theta at every
/// recorded time (global error a few times the local tolerance), for L = 2, 3, 4, with
/// minimal layers that change sign.
#[test]
fn rodas_matches_dopri5_through_sign_changes() {
    let (n, d) = (8, 20);
    for depth in [2, 3, 4] {
        let p = random_problem(n, d, 11 + depth as u64);
        let init = random_init(depth, d, 0.5, 40 + depth as u64);
        let reference = gradient_flow(
            &p,
            Model::deep(depth),
            &init,
            &reduced(&settings(20.0, RkMethod::Dopri5, 1e-12)),
            &mut (),
        )
        .unwrap();
        let stiff = gradient_flow(
            &p,
            Model::deep(depth),
            &init,
            &reduced(&settings(20.0, RkMethod::Rodas, 1e-10)),
            &mut (),
        )
        .unwrap();
        assert!(stiff.status.is_success(), "{}", stiff.message);
        let changes = sign_changes(
            &reference.trajectory.states,
            reference.trajectory.len(),
            depth,
            d,
            &init,
        );
        let diff = max_rel_diff(&stiff.trajectory.theta, &reference.trajectory.theta, 1e-2);
        let s = &stiff.stats;
        println!(
            "L={depth}: {changes} sign changes; theta diff {diff:.1e}; rodas {} steps ({} rejected), {} jac, {} fact, {} solves, {} grads; dopri5 {} grads",
            s.steps, s.rejected_steps, s.jacobian_evals, s.factorizations, s.linear_solves, s.grad_evals, reference.stats.grad_evals
        );
        assert!(changes > 0, "the test must cross a sign change");
        assert!(diff < 1e-8, "L={depth}: rodas vs dopri5 {diff:e}");
        assert_eq!(s.factorizations, s.steps + s.rejected_steps);
        assert_eq!(s.linear_solves, 6 * s.factorizations);
    }
}

/// Small init (scale 1e-2, L = 3): a long plateau, then a fast fit whose explicit steps
/// are stability-bound. `auto` must switch to RODAS4 (stats.stiff_from set) and still
/// match the dopri5 reference to 1e-8, with fewer gradient evaluations.
#[test]
fn auto_switches_when_stiff_and_matches() {
    let (n, d, depth) = (10, 30, 3);
    let p = random_problem(n, d, 3);
    let init = random_init(depth, d, 0.1, 8);
    let t_end = 4000.0;
    let reference = gradient_flow(
        &p,
        Model::deep(depth),
        &init,
        &reduced(&settings(t_end, RkMethod::Dopri5, 1e-12)),
        &mut (),
    )
    .unwrap();
    let auto = gradient_flow(
        &p,
        Model::deep(depth),
        &init,
        &reduced(&settings(t_end, RkMethod::Auto, 1e-10)),
        &mut (),
    )
    .unwrap();
    let diff = max_rel_diff(&auto.trajectory.theta, &reference.trajectory.theta, 1e-2);
    println!(
        "auto: switched at {:?}, {} grads ({} steps); dopri5 reference {} grads; diff {diff:.1e}",
        auto.stats.stiff_from, auto.stats.grad_evals, auto.stats.steps, reference.stats.grad_evals
    );
    assert!(auto.status.is_success(), "{}", auto.message);
    assert!(
        auto.stats.stiff_from.is_some(),
        "auto did not detect stiffness"
    );
    assert!(diff < 1e-8, "auto vs dopri5 {diff:e}");
    assert!(auto.stats.grad_evals < reference.stats.grad_evals);
}

/// With `xi` tracked, the augmented Jacobian (the `-X^T diag(w) X diag(c)` block) keeps
/// RODAS4's accuracy: xi agrees with the dopri5 reference to 1e-8.
#[test]
fn rodas_tracks_xi() {
    let (n, d, depth) = (6, 15, 3);
    let p = random_problem(n, d, 21);
    let init = random_init(depth, d, 0.5, 22);
    let mut s_ref = settings(10.0, RkMethod::Dopri5, 1e-12);
    s_ref.track_xi = true;
    let mut s_stiff = settings(10.0, RkMethod::Rodas, 1e-10);
    s_stiff.track_xi = true;
    let reference =
        gradient_flow(&p, Model::deep(depth), &init, &reduced(&s_ref), &mut ()).unwrap();
    let stiff = gradient_flow(&p, Model::deep(depth), &init, &reduced(&s_stiff), &mut ()).unwrap();
    let dx = max_rel_diff(
        stiff.trajectory.xi.as_ref().unwrap(),
        reference.trajectory.xi.as_ref().unwrap(),
        1e-2,
    );
    println!("xi diff {dx:.1e}");
    assert!(dx < 1e-8, "xi: {dx:e}");
}

/// `settings` with the reduced dynamics (deep model under assumption (A)).
fn reduced(settings: &FlowSettings) -> FlowSettings {
    FlowSettings {
        dynamics: Dynamics::Reduced,
        ..settings.clone()
    }
}
