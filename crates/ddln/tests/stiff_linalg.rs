//! The pieces of the stiff integrator against independent references: the analytic
//! Jacobian of the reduced dynamics against central finite differences of the
//! right-hand side, the Woodbury solve against a dense LU of the assembled matrix, and
//! RODAS4's order of convergence against closed-form solutions.

mod common;

use ddln::optim::linalg::{DiagLowRank, SolveMode};
use ddln::optim::ReducedSystem;
use ddln::optim::{integrate_stiff, Hooks, OdeSystem, RosenbrockTableau, StiffSystem};
use ddln::{Loss, Problem, Reduced};

fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// Reference: central differences `(f(v + eps e_k) - f(v - eps e_k)) / (2 eps)` of the
/// right-hand side (no Jacobian code involved), agreeing to 1e-6 relative (the O(eps^2)
/// truncation at eps = 1e-6 times the scale of the third derivative).
#[test]
fn reduced_jacobian_matches_finite_differences() {
    for (n, d, depth, loss) in [
        (4, 9, 3, Loss::Square),
        (12, 5, 2, Loss::Square),
        (6, 8, 4, Loss::Logistic),
    ] {
        let mut r = lcg((n * 100 + d) as u64);
        let x: Vec<f64> = (0..n * d).map(|_| r()).collect();
        let y: Vec<f64> = (0..n)
            .map(|_| {
                let v = r();
                if loss == Loss::Logistic {
                    v.signum()
                } else {
                    v
                }
            })
            .collect();
        let problem = Problem::new(x, n, d, y, loss).unwrap();
        let init: Vec<f64> = (0..depth * d).map(|_| 0.3 + 0.5 * r()).collect();
        let reduced = Reduced::new(&init, depth, d).unwrap();
        let mut sys = ReducedSystem::new(&problem, &reduced, false);
        let v: Vec<f64> = reduced.v0().iter().map(|&v| v + 0.2 * r()).collect();
        let mut f = vec![0.0; d];
        sys.rhs(0.0, &v, &mut f);
        sys.jacobian(0.0, &v);
        let mut worst = 0.0f64;
        let eps = 1e-6;
        for k in 0..d {
            let mut e = vec![0.0; d];
            e[k] = 1.0;
            let mut jv = vec![0.0; d];
            sys.jacobian_parts().apply(problem.x(), &e, &mut jv);
            let (mut vp, mut vm) = (v.clone(), v.clone());
            vp[k] += eps;
            vm[k] -= eps;
            let (mut fp, mut fm) = (vec![0.0; d], vec![0.0; d]);
            sys.rhs(0.0, &vp, &mut fp);
            sys.rhs(0.0, &vm, &mut fm);
            let scale = jv.iter().fold(1e-3f64, |m: f64, a: &f64| m.max(a.abs()));
            for i in 0..d {
                let fd = (fp[i] - fm[i]) / (2.0 * eps);
                worst = worst.max((fd - jv[i]).abs() / scale);
            }
            // Restore the cached point for the next column.
            sys.rhs(0.0, &v, &mut f);
        }
        println!("n={n} d={d} L={depth} {loss:?}: max rel diff {worst:.1e}");
        assert!(worst < 1e-6, "Jacobian vs finite differences: {worst:e}");
    }
}

/// Reference: the dense `d x d` matrix `I - h gamma J` assembled entry by entry and solved
/// by the dense LU path; the Woodbury path must agree to 1e-10 relative, and both must
/// leave a residual `||(I - h gamma J) u - r|| / ||r||` below 1e-12. Three cases: a
/// positive definite capacitance matrix (Cholesky), one made indefinite by diagonal
/// entries with `1 - h gamma a < 0` (LU), and samples of zero curvature.
#[test]
fn woodbury_solve_matches_dense_solve() {
    let (n, d) = (7, 23);
    let mut r = lcg(5);
    let x: Vec<f64> = (0..n * d).map(|_| r()).collect();
    for (case, a_scale, zero_w, want) in [
        ("definite", 2.0, false, "cholesky"),
        ("indefinite", 8.0, false, "lu"),
        ("zero curvatures", 2.0, true, "cholesky"),
    ] {
        let mut wood = DiagLowRank::with_mode(n, d, SolveMode::Woodbury);
        let mut dense = DiagLowRank::with_mode(n, d, SolveMode::Dense);
        for m in [&mut wood, &mut dense] {
            let mut r = lcg(9);
            for j in 0..d {
                m.a[j] = a_scale * r();
                m.b[j] = -(1.0 + r().abs());
                m.c[j] = 0.5 + r().abs();
            }
            for i in 0..n {
                m.w[i] = if zero_w && i % 3 == 0 {
                    0.0
                } else {
                    1.0 + r().abs()
                };
            }
        }
        let h_gamma = 0.37;
        assert!(
            wood.factor(&x, h_gamma) && dense.factor(&x, h_gamma),
            "{case}"
        );
        assert_eq!(wood.factorization(), want, "{case}");
        let rhs: Vec<f64> = (0..d).map(|_| r()).collect();
        let (mut u1, mut u2) = (rhs.clone(), rhs.clone());
        wood.solve(&x, &mut u1);
        dense.solve(&x, &mut u2);
        let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
        let diff: Vec<f64> = u1.iter().zip(&u2).map(|(a, b)| a - b).collect();
        assert!(
            norm(&diff) <= 1e-10 * norm(&u2),
            "{case}: {:e}",
            norm(&diff) / norm(&u2)
        );
        for u in [&u1, &u2] {
            let mut ju = vec![0.0; d];
            wood.apply(&x, u, &mut ju);
            let res: Vec<f64> = (0..d).map(|j| u[j] - h_gamma * ju[j] - rhs[j]).collect();
            assert!(
                norm(&res) <= 1e-12 * norm(&rhs),
                "{case}: {:e}",
                norm(&res) / norm(&rhs)
            );
        }
    }
}

/// `y1' = -y1^2` (y1 = 1 / (1 + t)) and `y2' = -2 y2` (y2 = exp(-2t)): a nonlinear and a
/// linear component with closed-form solutions, Jacobian `diag(-2 y1, -2)`.
struct TwoComponent {
    j: [f64; 2],
    w: [f64; 2],
}

impl OdeSystem for TwoComponent {
    fn dim(&self) -> usize {
        2
    }
    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> f64 {
        dy[0] = -y[0] * y[0];
        dy[1] = -2.0 * y[1];
        0.0
    }
}

impl StiffSystem for TwoComponent {
    fn jacobian(&mut self, _t: f64, y: &[f64]) -> u64 {
        self.j = [-2.0 * y[0], -2.0];
        0
    }
    fn factor(&mut self, h_gamma: f64) -> bool {
        self.w = [1.0 - h_gamma * self.j[0], 1.0 - h_gamma * self.j[1]];
        true
    }
    fn solve(&mut self, b: &mut [f64]) {
        b[0] /= self.w[0];
        b[1] /= self.w[1];
    }
}

/// Reference: the closed-form solutions above. With fixed steps (tolerances so loose that
/// every step is accepted), halving h must divide the error at t = 1 by about 2^4 = 16.
#[test]
fn rodas4_converges_with_order_four() {
    let tableau = RosenbrockTableau::rodas4();
    let mut errors = Vec::new();
    for steps in [10usize, 20, 40] {
        let h = 1.0 / steps as f64;
        let settings = ddln::FlowSettings {
            rtol: 1e3,
            atol: 1e3,
            initial_step: Some(h),
            max_step: Some(h),
            ..ddln::FlowSettings::default()
        };
        let mut sys = TwoComponent {
            j: [0.0; 2],
            w: [1.0; 2],
        };
        let mut y = vec![1.0, 1.0];
        let mut record = |_t: f64, _y: &[f64], _l: f64| {};
        let mut hooks = Hooks {
            record: &mut record,
            observer: &mut (),
            observed_len: 2,
            stop_loss: None,
        };
        let out = integrate_stiff(
            &mut sys,
            &tableau,
            &mut y,
            0.0,
            &[1.0],
            &settings,
            &mut hooks,
        );
        assert_eq!(out.stats.steps as usize, steps);
        let err = (y[0] - 0.5).abs().max((y[1] - (-2.0f64).exp()).abs());
        errors.push(err);
    }
    let rates: Vec<f64> = errors.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
    println!("errors {errors:?}, observed orders {rates:?}");
    for r in rates {
        assert!((3.6..4.6).contains(&r), "observed order {r}");
    }
}
