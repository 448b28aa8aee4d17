//! Theorem 2 along simulated flows: the measured gap `L(theta(t)) - L*` stays below
//! `exp(-2 sigma mu t)(L(theta(0)) - L*)`. `mu` and `L*` are checked against a second,
//! independent computation (normal equations and inverse iteration written here).

mod common;

use ddln::recipes::{gaussian_data, InitRecipe};
use ddln::theory::{pl_constants, rate_report, RateCheck};
use ddln::{train, Dynamics, FlowSettings, Loss, Method, Model, Problem, RkMethod};

/// Solves `A x = b` (A symmetric positive definite, small) by Gaussian elimination.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| a[i][k].abs().total_cmp(&a[j][k].abs()))
            .unwrap();
        a.swap(k, p);
        b.swap(k, p);
        let pivot_row = a[k].clone();
        for i in k + 1..n {
            let f = a[i][k] / pivot_row[k];
            for (aij, akj) in a[i][k..].iter_mut().zip(&pivot_row[k..]) {
                *aij -= f * akj;
            }
            b[i] -= f * b[k];
        }
    }
    let mut x = vec![0.0; n];
    for k in (0..n).rev() {
        x[k] = (b[k] - (k + 1..n).map(|j| a[k][j] * x[j]).sum::<f64>()) / a[k][k];
    }
    x
}

/// The smallest eigenvalue of the SPD matrix `gram`: inverse iteration, then the Rayleigh
/// quotient at the converged (unit) eigenvector.
fn smallest_eigenvalue(gram: &[Vec<f64>], iterations: usize) -> f64 {
    let n = gram.len();
    let mut v = vec![1.0; n];
    for _ in 0..iterations {
        let w = solve(gram.to_vec(), v.clone());
        let norm = w.iter().map(|a| a * a).sum::<f64>().sqrt();
        v = w.iter().map(|a| a / norm).collect();
    }
    (0..n)
        .map(|i| v[i] * (0..n).map(|j| gram[i][j] * v[j]).sum::<f64>())
        .sum()
}

#[test]
fn pl_constants_match_normal_equations_and_inverse_iteration() {
    let (n, d) = (10, 8);
    let (x, y) = gaussian_data(n, d, 42);
    let problem = Problem::new(x.clone(), n, d, y.clone(), Loss::Square).unwrap();
    let pl = pl_constants(&problem).unwrap();
    let gram: Vec<Vec<f64>> = (0..d)
        .map(|i| {
            (0..d)
                .map(|j| (0..n).map(|r| x[r * d + i] * x[r * d + j]).sum())
                .collect()
        })
        .collect();
    let xty: Vec<f64> = (0..d)
        .map(|i| (0..n).map(|r| x[r * d + i] * y[r]).sum())
        .collect();
    let theta = solve(gram.clone(), xty);
    let l_star = problem.loss_value(&theta);
    assert!(
        (pl.l_star - l_star).abs() <= 1e-10 * l_star,
        "{} vs {}",
        pl.l_star,
        l_star
    );
    // The smallest eigenvalue of X^T X.
    let lambda = smallest_eigenvalue(&gram, 200);
    assert!(
        (pl.mu - 2.0 * lambda).abs() <= 1e-9 * pl.mu,
        "mu {} vs 2 lambda_min {}",
        pl.mu,
        2.0 * lambda
    );
}

/// Wide designs (`n < d`), against closed forms: at full row rank `L* = 0` and the rank is
/// `n`; with two equal rows and different targets the best fit takes their mean, so
/// `L* = (y_a - y_b)^2 / 2` and the rank drops to `n - 1`. `mu` at full rank against
/// inverse iteration on `X X^T` (written here).
#[test]
fn pl_constants_of_wide_designs_match_closed_forms() {
    let (n, d) = (6, 15);
    let (mut x, mut y) = gaussian_data(n, d, 7);
    let problem = Problem::new(x.clone(), n, d, y.clone(), Loss::Square).unwrap();
    let pl = pl_constants(&problem).unwrap();
    assert_eq!((pl.rank, pl.l_star), (n, 0.0));
    let gram: Vec<Vec<f64>> = (0..n)
        .map(|a| {
            (0..n)
                .map(|b| (0..d).map(|j| x[a * d + j] * x[b * d + j]).sum())
                .collect()
        })
        .collect();
    let lambda = smallest_eigenvalue(&gram, 300);
    assert!(
        (pl.mu - 2.0 * lambda).abs() <= 1e-9 * pl.mu,
        "mu {} vs 2 lambda_min {}",
        pl.mu,
        2.0 * lambda
    );
    // Row 4 repeats row 1 with another target.
    let row: Vec<f64> = x[d..2 * d].to_vec();
    x[4 * d..5 * d].copy_from_slice(&row);
    y[4] = y[1] + 0.75;
    let problem = Problem::new(x, n, d, y.clone(), Loss::Square).unwrap();
    let pl = pl_constants(&problem).unwrap();
    let want = (y[4] - y[1]).powi(2) / 2.0;
    assert_eq!(pl.rank, n - 1);
    assert!(
        (pl.l_star - want).abs() <= 1e-10 * want,
        "L* {} vs {want}",
        pl.l_star
    );
}

fn figure4_inits(d: usize) -> Vec<Vec<f64>> {
    let base = InitRecipe {
        depth: 6,
        scale: 1.0,
        zero_first: true,
        seed: 4,
        ..InitRecipe::default()
    }
    .draw(d)
    .unwrap();
    [1.0, 1.4, 1.8]
        .iter()
        .map(|f| base.iter().map(|u| u * f).collect())
        .collect()
}

#[test]
fn bound_holds_on_the_figure4_setup_and_rates_grow_with_scale() {
    let (n, d) = (10, 8);
    let (x, y) = gaussian_data(n, d, 3);
    let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let settings = FlowSettings {
        t_end: 5.0,
        n_record: 101,
        rtol: 1e-11,
        atol: 1e-14,
        dynamics: Dynamics::Layers,
        integrator: RkMethod::Dopri5,
        ..FlowSettings::default()
    };
    let mut sigmas = Vec::new();
    for init in figure4_inits(d) {
        let report = train(
            &problem,
            Model::deep(6),
            &init,
            &Method::Flow(settings.clone()),
            &RateCheck::default(),
            &mut (),
        )
        .unwrap();
        let rate = report.diagnostics.rate.unwrap();
        assert!(rate.holds, "max gap/bound {}", rate.max_gap_over_bound);
        assert!(rate.sigma > 0.0 && rate.mu > 0.0);
        eprintln!(
            "sigma {:e} mu {:e} guaranteed rate {:e} measured late rate {:?}",
            rate.sigma, rate.mu, rate.rate, rate.measured_rate
        );
        // The check can fail: claim a rate whose bound at t_end is 1000x below the
        // measured gap there, and it must.
        let pl = pl_constants(&problem).unwrap();
        let gap_end = *rate.gap.last().unwrap();
        let claimed_rate = (1000.0 * rate.initial_gap / gap_end).ln() / settings.t_end;
        let claimed_mu = claimed_rate / (2.0 * rate.sigma);
        let wrong = rate_report(
            rate.sigma,
            &ddln::theory::PlConstants {
                mu: claimed_mu,
                ..pl
            },
            &report.run.trajectory.t,
            &report.run.trajectory.loss,
            &RateCheck::default(),
        );
        assert!(!wrong.holds);
        sigmas.push(rate.sigma);
    }
    // sigma is a product of 5 squared entries: scaling the init by f scales it by f^10.
    assert!((sigmas[1] / sigmas[0] - 1.4f64.powi(10)).abs() < 1e-9 * 1.4f64.powi(10));
    assert!((sigmas[2] / sigmas[0] - 1.8f64.powi(10)).abs() < 1e-9 * 1.8f64.powi(10));
}

#[test]
fn bound_holds_on_random_problems() {
    for seed in 0..12u64 {
        let (n, d) = if seed % 2 == 0 { (6, 9) } else { (12, 5) };
        let depth = 2 + (seed as usize % 4);
        let problem = common::random_problem(n, d, 50 + seed);
        let init = common::random_init(depth, d, 0.8, 80 + seed);
        let settings = FlowSettings {
            t_end: 10.0,
            rtol: 1e-11,
            atol: 1e-14,
            dynamics: Dynamics::Layers,
            integrator: RkMethod::Dopri5,
            ..FlowSettings::default()
        };
        let report = train(
            &problem,
            Model::deep(depth),
            &init,
            &Method::Flow(settings),
            &RateCheck::default(),
            &mut (),
        )
        .unwrap();
        let rate = report.diagnostics.rate.unwrap();
        assert!(
            rate.holds,
            "seed {seed}: first violation at {:?}, max ratio {}",
            rate.first_violation_t, rate.max_gap_over_bound
        );
    }
}
