//! The appendix closed forms against (a) the general DDLN formulas of docs/math.md section 5
//! (L = 2), and (b) simulated trajectories of the layer ODE with xi(t) integrated
//! alongside at rtol 1e-12 (the independent reference for which version is right).
//! The printed numbers are quoted in docs/paper-errata.md.

#![allow(clippy::needless_range_loop)]

use ddln::mirror::{
    predict_with, MirrorMap, PredictSettings, PredictStatus, RedundantClosedForm,
    TwoLayerClosedForm,
};
use ddln::recipes::{gaussian_data, InitRecipe, InitShape};
use ddln::{gradient_flow, Dynamics, Entropy, FlowSettings, Loss, Model, Problem, RkMethod};

fn tight(t_end: f64, loss_tol: Option<f64>) -> FlowSettings {
    FlowSettings {
        t_end,
        track_xi: true,
        n_record: 21,
        loss_tol,
        rtol: 1e-12,
        atol: 1e-14,
        dynamics: Dynamics::Layers,
        integrator: RkMethod::Dopri5,
        ..FlowSettings::default()
    }
}

#[test]
fn two_layer_general_formula_equals_corrected_closed_form() {
    let d = 8;
    let mut worst = 0.0f64;
    for (seed, zero_first) in [(1u64, false), (2, false), (3, true)] {
        let init = InitRecipe {
            depth: 2,
            scale: 0.7,
            zero_first,
            shape: InitShape::Gaussian,
            seed,
        }
        .draw(d)
        .unwrap();
        let general = Entropy::new(&init, 2, d).unwrap();
        let closed = TwoLayerClosedForm::new(&init[..d], &init[d..]).unwrap();
        let theta: Vec<f64> = (0..d)
            .map(|i| [-3.0, -0.7, -0.01, 0.0, 1e-5, 0.4, 2.5, 40.0][i])
            .collect();
        let (mut g1, mut g2) = (vec![0.0; d], vec![0.0; d]);
        general.gradient(&theta, &mut g1);
        closed.gradient(&theta, &mut g2);
        let zeros = vec![0.0; d];
        let q_general = general.value(&theta) - general.value(&zeros);
        let q_closed = closed.value(&theta);
        let xi: Vec<f64> = (0..d)
            .map(|i| [-5.0, -1.0, -0.1, 0.0, 1e-6, 0.3, 2.0, 6.0][i])
            .collect();
        let (mut p1, mut p2) = (vec![0.0; d], vec![0.0; d]);
        general.psi(&xi, &mut p1);
        closed.psi(&xi, &mut p2);
        for i in 0..d {
            let eg = (g1[i] - g2[i]).abs() / g2[i].abs().max(1.0);
            let ep = (p1[i] - p2[i]).abs() / p2[i].abs().max(1e-300);
            worst = worst.max(eg).max(ep);
            assert!(eg < 1e-12, "grad Q: general {} closed {}", g1[i], g2[i]);
            assert!(ep < 1e-12, "Psi: general {} closed {}", p1[i], p2[i]);
        }
        let eq = (q_general - q_closed).abs() / q_closed.abs().max(1.0);
        worst = worst.max(eq);
        assert!(eq < 1e-12, "Q: general {q_general} closed {q_closed}");
    }
    println!(
        "L = 2: general formula vs corrected closed form, worst relative difference {worst:.1e}"
    );
}

#[test]
fn two_layer_printed_eq20_disagrees_with_the_flow() {
    let (n, d) = (4, 6);
    let (x, y) = gaussian_data(n, d, 11);
    let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let init = InitRecipe {
        depth: 2,
        scale: 0.8,
        seed: 12,
        ..InitRecipe::default()
    }
    .draw(d)
    .unwrap();
    let run = gradient_flow(&problem, Model::deep(2), &init, &tight(20.0, None), &mut ()).unwrap();
    let closed = TwoLayerClosedForm::new(&init[..d], &init[d..]).unwrap();
    let xi = run.trajectory.xi.as_ref().unwrap();
    let (mut g, mut gp) = (vec![0.0; d], vec![0.0; d]);
    let (mut worst_c, mut worst_p) = (0.0f64, 0.0f64);
    for r in 0..run.trajectory.len() {
        let th = &run.trajectory.theta[r * d..(r + 1) * d];
        closed.gradient(th, &mut g);
        closed.gradient_printed(th, &mut gp);
        for i in 0..d {
            worst_c = worst_c.max((g[i] - xi[r * d + i]).abs());
            worst_p = worst_p.max((gp[i] - xi[r * d + i]).abs());
        }
    }
    let last = run.trajectory.len() - 1;
    let th = &run.trajectory.theta[last * d..];
    closed.gradient(th, &mut g);
    closed.gradient_printed(th, &mut gp);
    println!("L = 2 at t = {}: theta_0 = {:.6}, xi_0(t) = {:.10}, corrected grad Q = {:.10}, printed eq. 20 grad Q = {:.10}", run.trajectory.t[last], th[0], xi[last * d], g[0], gp[0]);
    println!("L = 2: max_t |grad Q - xi(t)|: corrected {worst_c:.2e}, printed eq. 20 {worst_p:.3}");
    assert!(worst_c < 1e-9);
    assert!(worst_p > 1e-2);
}

/// Eq. 30 as printed, as a mirror map: grad Q = u0^{L-2} - theta^{-(L-2)/L}.
struct PrintedRedundant {
    a: Vec<f64>,
    l: f64,
}

impl MirrorMap for PrintedRedundant {
    fn dim(&self) -> usize {
        self.a.len()
    }
    fn psi_i(&self, i: usize, xi: f64) -> (f64, f64) {
        let base = self.a[i] - xi;
        if base.is_nan() || base <= 0.0 {
            return (f64::NAN, f64::NAN);
        }
        let e = -self.l / (self.l - 2.0);
        let t = base.powf(e);
        (t, -e * t / base)
    }
    fn box_i(&self, i: usize) -> (f64, f64) {
        (f64::NEG_INFINITY, self.a[i])
    }
    fn value_i(&self, i: usize, t: f64) -> f64 {
        self.a[i] * t - 0.5 * self.l * t.powf(2.0 / self.l)
    }
}

#[test]
fn redundant_corrected_eq30_matches_the_flow_and_its_limit() {
    use rand::{RngExt, SeedableRng};
    let (n, d) = (3, 6);
    for power in [3usize, 4] {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(power as u64);
        let x: Vec<f64> = (0..n * d).map(|_| rng.random_range(0.1..1.0)).collect();
        let theta_star: Vec<f64> = (0..d).map(|_| rng.random_range(0.2..1.0)).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| (0..d).map(|j| x[i * d + j] * theta_star[j]).sum())
            .collect();
        let u0: Vec<f64> = (0..d).map(|_| rng.random_range(0.3..1.2)).collect();
        let problem = Problem::new(x, n, d, y.clone(), Loss::Square).unwrap();
        let y2: f64 = y.iter().map(|v| v * v).sum();
        let run = gradient_flow(
            &problem,
            Model::Redundant { power },
            &u0,
            &tight(1e6, Some(1e-26 * y2)),
            &mut (),
        )
        .unwrap();
        let closed = RedundantClosedForm::new(&u0, power).unwrap();
        let xi = run.trajectory.xi.as_ref().unwrap();
        let (mut g, mut gp) = (vec![0.0; d], vec![0.0; d]);
        let (mut worst_c, mut worst_p) = (0.0f64, 0.0f64);
        for r in 0..run.trajectory.len() {
            let th = &run.trajectory.theta[r * d..(r + 1) * d];
            closed.gradient(th, &mut g);
            closed.gradient_printed(th, &mut gp);
            for i in 0..d {
                worst_c = worst_c.max((g[i] - xi[r * d + i]).abs());
                worst_p = worst_p.max((gp[i] - xi[r * d + i]).abs());
            }
        }
        let last = run.trajectory.len() - 1;
        let th_end = run.final_theta.clone();
        closed.gradient(&th_end, &mut g);
        closed.gradient_printed(&th_end, &mut gp);
        println!(
            "u^{power}: {:?} at t = {:.1} (loss {:.1e}); coordinate 0: xi(t) = {:.10}, corrected grad Q = {:.10}, printed eq. 30 grad Q = {:.10}",
            run.status, run.t_final, run.final_loss, xi[last * d], g[0], gp[0]
        );
        println!(
            "u^{power}: max_t |grad Q - xi(t)|: corrected {worst_c:.2e}, printed {worst_p:.3}"
        );
        assert!(worst_c < 1e-8, "corrected mirror map off by {worst_c:e}");
        // Implicit bias: the predictor with the corrected Q against the simulated limit,
        // and with the printed Q.
        let pred = predict_with(&problem, &closed, &PredictSettings::default()).unwrap();
        assert_eq!(pred.status, PredictStatus::Converged, "{}", pred.message);
        let printed = PrintedRedundant {
            a: u0.iter().map(|u| u.powi(power as i32 - 2)).collect(),
            l: power as f64,
        };
        let pred_p = predict_with(&problem, &printed, &PredictSettings::default()).unwrap();
        let dist = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .map(|(p, q)| (p - q).powi(2))
                .sum::<f64>()
                .sqrt()
                / b.iter().map(|q| q * q).sum::<f64>().sqrt()
        };
        let dc = dist(&pred.theta, &th_end);
        let dp = dist(&pred_p.theta, &th_end);
        println!("u^{power}: simulated limit {th_end:.6?}");
        println!("u^{power}: argmin corrected Q {:.6?} (rel. distance {dc:.1e}); argmin printed Q {:.6?} ({:?}, rel. distance {dp:.2e})", pred.theta, pred_p.theta, pred_p.status);
        assert!(dc < 1e-6);
        assert!(dp > 1e-3);
    }
}
