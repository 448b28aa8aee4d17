//! The stiff path on the layer system (signed, redundant, deep inits with ties): the
//! structured solve of `I - h gamma J` against central finite differences of the
//! right-hand side, and RODAS4 / `auto` runs against Dormand-Prince at rtol 1e-12 (a
//! finer integration of the same ODE by an independent method).

mod common;

use common::{max_rel_diff, random_init, random_problem};
use ddln::optim::{LayerSystem, OdeSystem, StiffSystem};
use ddln::{gradient_flow, Dynamics, FlowSettings, Loss, Model, Problem, RkMethod, Run};

fn settings(t_end: f64, integrator: RkMethod, rtol: f64) -> FlowSettings {
    FlowSettings {
        t_end,
        rtol,
        atol: rtol * 1e-2,
        n_record: 51,
        integrator,
        dynamics: Dynamics::Layers,
        max_steps: 20_000_000,
        ..FlowSettings::default()
    }
}

fn run(p: &Problem, model: Model, init: &[f64], s: &FlowSettings) -> Run {
    let run = gradient_flow(p, model, init, s, &mut ()).unwrap();
    assert!(run.status.is_success(), "{:?}: {}", run.status, run.message);
    run
}

/// One seeded Gaussian row (the redundant model's state).
fn one_row(d: usize, scale: f64, seed: u64) -> Vec<f64> {
    random_init(2, d, scale, seed)[..d].to_vec()
}

/// `(I - h gamma J) x = b` solved by the structure, checked as `x - h gamma J x = b` with
/// `J x` from central differences of `f` along `x` (error O(eps^2) ~ 1e-10 relative).
#[test]
fn structured_solve_matches_finite_differences() {
    let (n, d) = (4, 7);
    let p = random_problem(n, d, 3);
    let cases: Vec<(Model, Vec<f64>)> = vec![
        (Model::Signed { power: 2 }, random_init(2, d, 0.8, 4)),
        (Model::Signed { power: 3 }, random_init(2, d, 0.8, 5)),
        (Model::Redundant { power: 3 }, one_row(d, 0.8, 6)),
        (Model::Redundant { power: 4 }, one_row(d, 0.8, 7)),
        (Model::deep(2), random_init(2, d, 0.8, 8)),
        (Model::deep(4), random_init(4, d, 0.8, 9)),
    ];
    for (model, state) in cases {
        for track_xi in [false, true] {
            let mut sys = LayerSystem::new(&p, model, track_xi);
            let m = sys.dim();
            let mut y = state.clone();
            y.resize(m, 0.3);
            let mut f = vec![0.0; m];
            sys.rhs(0.0, &y, &mut f);
            sys.jacobian(0.0, &y);
            let hg = 0.05;
            assert!(sys.factor(hg));
            let b: Vec<f64> = (0..m)
                .map(|k| ((k * 7 + 3) % 11) as f64 / 11.0 - 0.4)
                .collect();
            let mut x = b.clone();
            sys.solve(&mut x);
            let eps = 1e-5;
            let shifted = |sign: f64, sys: &mut LayerSystem| {
                let yp: Vec<f64> = y.iter().zip(&x).map(|(a, b)| a + sign * eps * b).collect();
                let mut fp = vec![0.0; m];
                sys.rhs(0.0, &yp, &mut fp);
                fp
            };
            let fp = shifted(1.0, &mut sys);
            let fm = shifted(-1.0, &mut sys);
            let residual = (0..m)
                .map(|k| {
                    let jx = (fp[k] - fm[k]) / (2.0 * eps);
                    (x[k] - hg * jx - b[k]).abs()
                })
                .fold(0.0, f64::max);
            println!("{model:?} xi={track_xi}: residual {residual:.1e}");
            assert!(
                residual < 1e-7,
                "{model:?}, track_xi {track_xi}: {residual:e}"
            );
        }
    }
}

/// Number of coordinates whose theta changes sign along the recorded trajectory.
fn theta_sign_changes(run: &Run, d: usize) -> usize {
    let th = &run.trajectory.theta;
    let n_t = run.trajectory.len();
    (0..d)
        .filter(|&i| (1..n_t).any(|k| th[k * d + i] * th[(k - 1) * d + i] < 0.0))
        .count()
}

/// RODAS4 at rtol 1e-10 and `auto` on the layer system follow Dormand-Prince at rtol
/// 1e-12 for the signed (L = 2, 3), redundant (L = 3, 4) and deep models with tied
/// minimal layers, through sign changes of theta.
#[test]
fn stiff_layer_runs_follow_the_explicit_reference() {
    let (n, d) = (5, 8);
    let p0 = random_problem(n, d, 11);
    // Targets of the opposite sign of a reference point, so that coordinates cross zero.
    let signed_init = random_init(2, d, 0.6, 12);
    let mut theta0 = vec![0.0; d];
    Model::Signed { power: 2 }.theta(&signed_init, &mut theta0);
    let flip: Vec<f64> = theta0.iter().map(|t| -2.0 * t - 0.3).collect();
    let mut y = vec![0.0; n];
    ddln::kernel::mat_vec(p0.x(), &flip, &mut y);
    let p = Problem::new(p0.x().to_vec(), n, d, y, Loss::Square).unwrap();
    // Deep, L = 3, with ties of the minimal |u| at every other coordinate (and a fully
    // balanced coordinate 0).
    let mut tied = random_init(3, d, 0.7, 13);
    for i in (0..d).step_by(2) {
        tied[d + i] = -tied[i];
    }
    tied[2 * d] = tied[0];
    let cases: Vec<(Model, Vec<f64>, bool)> = vec![
        (Model::Signed { power: 2 }, signed_init.clone(), true),
        (
            Model::Signed { power: 3 },
            signed_init.iter().map(|v| v.abs() + 0.2).collect(),
            true,
        ),
        (Model::Redundant { power: 3 }, one_row(d, 0.9, 14), false),
        (
            Model::Redundant { power: 4 },
            one_row(d, 0.9, 15).iter().map(|v| v.abs() + 0.3).collect(),
            false,
        ),
        (Model::deep(3), tied, false),
    ];
    for (model, init, expect_crossing) in cases {
        let t_end = 5.0;
        let reference = run(&p, model, &init, &settings(t_end, RkMethod::Dopri5, 1e-12));
        if expect_crossing {
            assert!(
                theta_sign_changes(&reference, d) > 0,
                "{model:?}: no crossing"
            );
        }
        for method in [RkMethod::Rodas, RkMethod::Auto] {
            let stiff = run(&p, model, &init, &settings(t_end, method, 1e-10));
            assert_eq!(stiff.solver.as_ref().unwrap().dynamics, Dynamics::Layers);
            let dt = max_rel_diff(&stiff.trajectory.theta, &reference.trajectory.theta, 1e-2);
            let ds = max_rel_diff(&stiff.trajectory.states, &reference.trajectory.states, 1e-2);
            println!(
                "{model:?} {method:?}: theta {dt:.1e}, layers {ds:.1e}, steps {} vs {}",
                stiff.stats.steps, reference.stats.steps
            );
            assert!(
                dt < 1e-7 && ds < 1e-7,
                "{model:?} {method:?}: {dt:e} {ds:e}"
            );
        }
    }
}

/// The kernel regime of the signed model (L = 2, u0 = v0 = 10): the flow is stiff as soon
/// as it has fitted the large directions. RODAS4 and `auto` reach the end point to rtol
/// 1e-8 in under 1% of the steps Dormand-Prince needs (reference: Dormand-Prince at
/// rtol 1e-12 to the same end time, an independent method at a finer tolerance).
#[test]
fn signed_kernel_regime_is_cheap_for_the_stiff_path() {
    let (n, d) = (5, 10);
    let p = random_problem(n, d, 21);
    let init = vec![10.0; 2 * d];
    let t_end = 200.0;
    let reference = run(
        &p,
        Model::Signed { power: 2 },
        &init,
        &settings(t_end, RkMethod::Dopri5, 1e-12),
    );
    let explicit = run(
        &p,
        Model::Signed { power: 2 },
        &init,
        &settings(t_end, RkMethod::Dopri5, 1e-8),
    );
    let scale = ddln::vector::norm(&reference.final_theta);
    for method in [RkMethod::Rodas, RkMethod::Auto] {
        let stiff = run(
            &p,
            Model::Signed { power: 2 },
            &init,
            &settings(t_end, method, 1e-8),
        );
        let err = ddln::vector::distance(&stiff.final_theta, &reference.final_theta) / scale;
        let steps = stiff.stats.steps + stiff.stats.rejected_steps;
        let explicit_steps = explicit.stats.steps + explicit.stats.rejected_steps;
        println!(
            "{method:?}: error {err:.1e}, {steps} steps vs {explicit_steps} explicit; solver {:?}",
            stiff.solver
        );
        assert!(err < 1e-7, "{method:?}: {err:e}");
        assert!(
            (steps as f64) < 0.01 * explicit_steps as f64,
            "{method:?}: {steps} vs {explicit_steps}"
        );
        if method == RkMethod::Auto {
            let solver = stiff.solver.unwrap();
            assert_eq!(solver.methods, vec![RkMethod::Dopri5, RkMethod::Rodas]);
            assert!(solver.switch_reason.unwrap().contains("stiffness detected"));
        }
    }
}

/// `dynamics = auto` picks the reduced dynamics for a deep init satisfying (A), the dual
/// dynamics for `u^2 - v^2` and the layers otherwise, and says why; the two agree (the layer ODE at rtol 1e-12 is the
/// reference).
#[test]
fn auto_dynamics_choose_and_explain() {
    let (n, d) = (4, 6);
    let p = random_problem(n, d, 31);
    let init = random_init(3, d, 0.7, 32);
    let auto = run(
        &p,
        Model::deep(3),
        &init,
        &FlowSettings {
            t_end: 5.0,
            n_record: 51,
            ..FlowSettings::default()
        },
    );
    let solver = auto.solver.clone().unwrap();
    assert_eq!(solver.dynamics, Dynamics::Reduced);
    assert!(solver.dynamics_reason.contains("assumption (A)"));
    let layers = run(
        &p,
        Model::deep(3),
        &init,
        &settings(5.0, RkMethod::Dopri5, 1e-12),
    );
    let diff = max_rel_diff(&auto.trajectory.states, &layers.trajectory.states, 1e-2);
    assert!(diff < 1e-7, "{diff:e}");
    let mut tied = init.clone();
    // A balanced coordinate: all layers equal, so the minimal |u| is not unique.
    tied[d] = tied[0];
    tied[2 * d] = tied[0];
    let auto_tied = run(
        &p,
        Model::deep(3),
        &tied,
        &FlowSettings {
            t_end: 5.0,
            n_record: 51,
            ..FlowSettings::default()
        },
    );
    let solver = auto_tied.solver.unwrap();
    assert_eq!(solver.dynamics, Dynamics::Layers);
    assert!(
        solver.dynamics_reason.contains("assumption"),
        "{}",
        solver.dynamics_reason
    );
    let signed = run(
        &p,
        Model::Signed { power: 2 },
        &init[..2 * d],
        &FlowSettings {
            t_end: 5.0,
            n_record: 51,
            ..FlowSettings::default()
        },
    );
    // u^2 - v^2 has its layers in closed form along xi (the dual dynamics); u^3 - v^3
    // integrates the layers.
    assert_eq!(signed.solver.unwrap().dynamics, Dynamics::Dual);
    let cubic = run(
        &p,
        Model::Signed { power: 3 },
        &init[..2 * d],
        &FlowSettings {
            t_end: 5.0,
            n_record: 51,
            ..FlowSettings::default()
        },
    );
    assert_eq!(cubic.solver.unwrap().dynamics, Dynamics::Layers);
}
