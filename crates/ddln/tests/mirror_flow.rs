//! The mirror relation along simulated trajectories and the reduced integration mode.
//! Reference: the layer ODE of the paper (eq. 5) integrated by `gradient_flow` at
//! rtol 1e-12, with xi(t) = -int_0^t grad L integrated alongside — independent of the
//! formulas for F, phi^{-1} and of the reduction.

use ddln::recipes::{gaussian_data, InitRecipe, InitShape};
use ddln::{gradient_flow, Dynamics, Entropy, FlowSettings, Loss, Model, Problem, RkMethod};

fn problem(n: usize, d: usize, seed: u64) -> Problem {
    let (x, y) = gaussian_data(n, d, seed);
    Problem::new(x, n, d, y, Loss::Square).unwrap()
}

fn init(depth: usize, d: usize, scale: f64, zero_first: bool, seed: u64) -> Vec<f64> {
    InitRecipe {
        depth,
        scale,
        zero_first,
        shape: InitShape::Gaussian,
        seed,
    }
    .draw(d)
    .unwrap()
}

fn tight(t_end: f64) -> FlowSettings {
    FlowSettings {
        t_end,
        track_xi: true,
        n_record: 41,
        rtol: 1e-12,
        atol: 1e-14,
        dynamics: Dynamics::Layers,
        integrator: RkMethod::Dopri5,
        ..FlowSettings::default()
    }
}

#[test]
fn grad_q_equals_xi_along_layer_trajectories() {
    let mut worst = 0.0f64;
    for (k, &(depth, scale, zero_first)) in [
        (2usize, 0.7, false),
        (2, 0.5, true),
        (3, 0.8, false),
        (4, 0.9, true),
        (5, 1.0, false),
        (6, 1.0, false),
    ]
    .iter()
    .enumerate()
    {
        let (n, d) = (6, 10);
        let p = problem(n, d, 30 + k as u64);
        let u0 = init(depth, d, scale, zero_first, 40 + k as u64);
        let run = gradient_flow(&p, Model::deep(depth), &u0, &tight(10.0), &mut ()).unwrap();
        assert!(run.status.is_success(), "{}", run.message);
        let e = Entropy::new(&u0, depth, d).unwrap();
        let xi = run.trajectory.xi.as_ref().unwrap();
        let mut g = vec![0.0; d];
        let mut case_worst = 0.0f64;
        for r in 0..run.trajectory.len() {
            let theta = &run.trajectory.theta[r * d..(r + 1) * d];
            let xi_r = &xi[r * d..(r + 1) * d];
            e.gradient(theta, &mut g);
            let scale = xi_r.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for i in 0..d {
                case_worst = case_worst.max((g[i] - xi_r[i]).abs() / scale);
            }
        }
        println!(
            "L={depth} scale={scale} zero_first={zero_first}: max_t |grad Q(theta(t)) - xi(t)| / max(1, |xi|) = {case_worst:.2e}, final loss {:.2e}",
            run.final_loss
        );
        worst = worst.max(case_worst);
        assert!(case_worst < 1e-9, "mirror relation off by {case_worst:e}");
    }
    println!("worst {worst:.2e}");
}

#[test]
fn reduced_mode_matches_the_layer_flow() {
    let mut worst = 0.0f64;
    for (k, &(depth, scale, zero_first)) in [
        (2usize, 0.6, false),
        (3, 0.5, true),
        (4, 0.8, false),
        (7, 1.0, false),
    ]
    .iter()
    .enumerate()
    {
        let (n, d) = (5, 8);
        let p = problem(n, d, 60 + k as u64);
        let u0 = init(depth, d, scale, zero_first, 70 + k as u64);
        let settings = tight(8.0);
        let layer = gradient_flow(&p, Model::deep(depth), &u0, &settings, &mut ()).unwrap();
        let reduced =
            gradient_flow(&p, Model::deep(depth), &u0, &reduced(&settings), &mut ()).unwrap();
        assert_eq!(layer.trajectory.len(), reduced.trajectory.len());
        assert_eq!(reduced.final_state.len(), depth * d);
        let diff = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .fold(0.0f64, |m, (x, y)| m.max((x - y).abs() / (1.0 + y.abs())))
        };
        let ds = diff(&reduced.trajectory.states, &layer.trajectory.states);
        let dt = diff(&reduced.trajectory.theta, &layer.trajectory.theta);
        let dx = diff(
            reduced.trajectory.xi.as_ref().unwrap(),
            layer.trajectory.xi.as_ref().unwrap(),
        );
        println!(
            "L={depth}: layers {ds:.1e}, theta {dt:.1e}, xi {dx:.1e}; grad evals reduced {} vs layer {}",
            reduced.stats.grad_evals, layer.stats.grad_evals
        );
        worst = worst.max(ds).max(dt).max(dx);
        assert!(ds < 1e-9 && dt < 1e-9 && dx < 1e-9);
    }
    println!("worst {worst:.1e}");
}

/// `train` with the reduced integrator (`FlowSettings::reduced`): same report shape, the
/// same trajectory to the integration tolerance, and the diagnostics of the deep model.
#[test]
fn train_reduced_matches_train() {
    use ddln::{train, Method, RateCheck};
    let (depth, d) = (3, 6);
    let p = problem(4, d, 81);
    let u0 = init(depth, d, 0.5, true, 82);
    let settings = tight(5.0);
    let check = RateCheck::default();
    let layer = train(
        &p,
        Model::deep(depth),
        &u0,
        &Method::Flow(settings.clone()),
        &check,
        &mut (),
    )
    .unwrap();
    let reduced_settings = Method::Flow(FlowSettings {
        dynamics: Dynamics::Reduced,
        ..settings.clone()
    });
    let train_reduced = |u: &[f64]| {
        train(
            &p,
            Model::deep(depth),
            u,
            &reduced_settings,
            &check,
            &mut (),
        )
    };
    let reduced = train_reduced(&u0).unwrap();
    assert_eq!(layer.run.trajectory.t, reduced.run.trajectory.t);
    for (a, b) in reduced
        .run
        .trajectory
        .states
        .iter()
        .zip(&layer.run.trajectory.states)
    {
        assert!((a - b).abs() <= 1e-9 * (1.0 + b.abs()), "{a} vs {b}");
    }
    let diag = &reduced.diagnostics;
    assert!(diag.assumption_a.as_ref().unwrap().holds);
    assert!(diag.conservation.is_some() && diag.rate.is_some());
    // The reduction needs (A): a tie in the minimal layer is a setup error.
    let mut tie = u0.clone();
    tie[d] = 0.0; // u^2_0 = u^1_0 = 0: two minimal layers at coordinate 0
    assert!(train_reduced(&tie).is_err());
}

/// `settings` with the reduced dynamics (deep model under assumption (A)).
fn reduced(settings: &FlowSettings) -> FlowSettings {
    FlowSettings {
        dynamics: Dynamics::Reduced,
        ..settings.clone()
    }
}
