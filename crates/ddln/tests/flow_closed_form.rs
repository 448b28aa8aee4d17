//! L = 2 gradient flow against closed forms.
//!
//! Reference 1 (fully independent of the integrator): with X = I the coordinates
//! decouple and, for theta = u v, `d theta/dt = -(u^2 + v^2) g = -sqrt(4 theta^2 + Delta^2)
//! * 2 (theta - y)` with `Delta = |u0^2 - v0^2|` (conservation). Separating variables gives
//! `t(theta)` in closed form (`t_of_theta` below); theta(t) is found by bisection.
//!
//! Reference 2: the paper's eq. 17, `theta = |u0^2 - v0^2|/2 sinh(2 xi + log|(u0+v0)/(u0-v0)|)`,
//! with xi integrated alongside the layers.

mod common;

use ddln::{gradient_flow, Dynamics, FlowSettings, Loss, Model, Problem, RkMethod};

/// Time for the scalar flow to go from `th0` to `th` (same side of `y`, no crossing of `y`).
/// From `int dth / ((th - y) sqrt(th^2 + b^2)) = -ln|(y th + b^2 + c sqrt(th^2 + b^2)) / (th - y)| / c`,
/// `c = sqrt(y^2 + b^2)`, `b = Delta / 2`, and `dt = -dth / (4 (th - y) sqrt(th^2 + b^2))`.
fn t_of_theta(th: f64, th0: f64, y: f64, delta: f64) -> f64 {
    let b2 = delta * delta / 4.0;
    let c = (y * y + b2).sqrt();
    let prim = |x: f64| {
        ((y * x + b2 + c * (x * x + b2).sqrt()) / (x - y))
            .abs()
            .ln()
    };
    (prim(th) - prim(th0)) / (4.0 * c)
}

/// Inverts `t_of_theta` by bisection between `th0` and `y` (theta moves monotonically to y).
fn theta_at(t: f64, th0: f64, y: f64, delta: f64) -> f64 {
    let (mut lo, mut hi) = (th0, y);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_of_theta(mid, th0, y, delta) < t {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn l2_identity_design_matches_separable_closed_form() {
    // Small init: theta grows from ~1e-6 to ~1 (six orders of magnitude); coordinate 2
    // has y < 0 < theta0, so its minimal layer crosses zero on the way.
    let d = 3;
    let y = vec![1.0, 0.5, -0.7];
    let u0 = [1e-3, 2e-3, 3e-3];
    let v0 = [2e-3, -1e-3, 1.5e-3];
    let mut x = vec![0.0; d * d];
    for i in 0..d {
        x[i * d + i] = 1.0;
    }
    let problem = Problem::new(x, d, d, y.clone(), Loss::Square).unwrap();
    let init: Vec<f64> = u0.iter().chain(&v0).copied().collect();
    let settings = FlowSettings {
        t_end: 12.0,
        n_record: 121,
        rtol: 1e-12,
        atol: 1e-15,
        dynamics: Dynamics::Layers,
        integrator: RkMethod::Dopri5,
        ..FlowSettings::default()
    };
    let run = gradient_flow(&problem, Model::deep(2), &init, &settings, &mut ()).unwrap();
    assert!(run.status.is_success(), "{}", run.message);
    let mut worst: f64 = 0.0;
    let mut span = (f64::INFINITY, 0.0f64);
    for (k, &t) in run.trajectory.t.iter().enumerate() {
        for i in 0..d {
            let th0 = u0[i] * v0[i];
            let delta = (u0[i] * u0[i] - v0[i] * v0[i]).abs();
            let exact = theta_at(t, th0, y[i], delta);
            let got = run.trajectory.theta[k * d + i];
            worst = worst.max((got - exact).abs() / exact.abs());
            if i == 0 {
                span = (span.0.min(exact.abs()), span.1.max(exact.abs()));
            }
        }
    }
    assert!(
        span.1 / span.0 > 1e5,
        "the horizon must cover orders of magnitude: {span:?}"
    );
    eprintln!("closed-form deviation {worst:e}");
    assert!(
        worst < 1e-9,
        "max relative deviation from the closed form: {worst:e}"
    );
}

#[test]
fn l2_random_design_matches_paper_eq17() {
    let (n, d) = (10, 5);
    let problem = common::random_problem(n, d, 7);
    let init = common::random_init(2, d, 0.3, 11);
    let settings = FlowSettings {
        t_end: 30.0,
        n_record: 61,
        track_xi: true,
        rtol: 1e-12,
        atol: 1e-15,
        dynamics: Dynamics::Layers,
        integrator: RkMethod::Dopri5,
        ..FlowSettings::default()
    };
    let run = gradient_flow(&problem, Model::deep(2), &init, &settings, &mut ()).unwrap();
    assert!(run.status.is_success());
    let xi = run.trajectory.xi.as_ref().unwrap();
    let mut worst: f64 = 0.0;
    for k in 0..run.trajectory.len() {
        for i in 0..d {
            let (u, v) = (init[i], init[d + i]);
            let psi = (u * u - v * v).abs() / 2.0
                * (2.0 * xi[k * d + i] + ((u + v) / (u - v)).abs().ln()).sinh();
            let got = run.trajectory.theta[k * d + i];
            worst = worst.max((got - psi).abs() / psi.abs().max(1e-3));
        }
    }
    eprintln!("eq. 17 deviation {worst:e}");
    assert!(worst < 1e-9, "eq. 17 deviation {worst:e}");
}
