//! Weighted basis pursuit `min sum_i w_i^+ theta_i^+ + w_i^- theta_i^- s.t. X theta = y`
//! by the LASSO homotopy (docs/math.md section 7): follow the minimizers of
//! `||y - X theta||^2 / 2 + lambda * weighted-L1(theta)` from `lambda = max` down to 0.
//! Between breakpoints the path is linear in `lambda`; each breakpoint costs two passes
//! over `X` and a solve with the Gram matrix of the active columns, so a sparse solution
//! costs a few passes per non-zero, not an LP over `2d` variables. The end of the path
//! carries its own certificate: the dual `nu = X_A (X_A^T X_A)^{-1} omega_A` is feasible
//! (`-w^- <= X^T nu <= w^+`) and `y^T nu` equals the objective. A tie, a singular active
//! Gram matrix (duplicate columns) or a certificate that does not close returns `None`,
//! and the caller solves the LP instead.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

use crate::kernel;
use crate::problem::Problem;

/// A homotopy solution with its certificate.
#[derive(Debug, Clone)]
pub(crate) struct HomotopySolution {
    /// The solution.
    pub theta: Vec<f64>,
    /// The dual certificate `nu` (`n`).
    pub nu: Vec<f64>,
    /// Breakpoints followed.
    pub breakpoints: usize,
}

/// Ties within this relative step are degenerate (the LP decides).
const TIE_RTOL: f64 = 1e-10;

/// Follows the path; `None` when it meets a degeneracy (see the module docs).
pub(crate) fn weighted_l1_homotopy(
    problem: &Problem,
    w_plus: &[f64],
    w_minus: &[f64],
    max_breakpoints: usize,
) -> Option<HomotopySolution> {
    let (n, d) = (problem.n_samples(), problem.dim());
    let (x, y) = (problem.x(), problem.y());
    let correlations = |theta: &[f64], active: &[usize]| -> Vec<f64> {
        let mut r = y.to_vec();
        for (row, ri) in r.iter_mut().enumerate() {
            *ri -= active
                .iter()
                .map(|&j| x[row * d + j] * theta[j])
                .sum::<f64>();
        }
        let mut c = vec![0.0; d];
        kernel::mat_t_vec_add(x, &r, &mut c);
        c
    };
    let mut theta = vec![0.0; d];
    let mut c = correlations(&theta, &[]);
    // lambda_0 and the first coordinate: the largest weighted correlation.
    let score = |j: usize, c: &[f64]| (c[j] / w_plus[j]).max(-c[j] / w_minus[j]);
    let first = (0..d).max_by(|&a, &b| score(a, &c).total_cmp(&score(b, &c)))?;
    let mut lambda = score(first, &c);
    if lambda.is_nan() || lambda <= 0.0 {
        return None;
    }
    if (0..d)
        .filter(|&j| score(j, &c) >= lambda * (1.0 - TIE_RTOL))
        .count()
        > 1
    {
        return None;
    }
    let mut active = vec![first];
    let mut sign = vec![0i8; d];
    sign[first] = if c[first] > 0.0 { 1 } else { -1 };
    let omega = |j: usize, sign: &[i8]| if sign[j] > 0 { w_plus[j] } else { -w_minus[j] };
    for step in 0..max_breakpoints {
        let om: Vec<f64> = active.iter().map(|&j| omega(j, &sign)).collect();
        let dir = gram_solve(x, n, d, &active, &om)?;
        // u = X_A dir, a = X^T u.
        let u: Vec<f64> = (0..n)
            .map(|row| {
                active
                    .iter()
                    .zip(&dir)
                    .map(|(&j, &v)| x[row * d + j] * v)
                    .sum()
            })
            .collect();
        let mut a = vec![0.0; d];
        kernel::mat_t_vec_add(x, &u, &mut a);
        // The next breakpoint: a coordinate enters, one leaves, or lambda reaches 0.
        let mut best = (lambda, usize::MAX, 0i8);
        let mut candidates = Vec::new();
        for j in 0..d {
            if sign[j] != 0 {
                continue;
            }
            let up = w_plus[j] - a[j];
            if up > 0.0 {
                candidates.push(((lambda * w_plus[j] - c[j]) / up, j, 1i8));
            }
            let lo = w_minus[j] + a[j];
            if lo > 0.0 {
                candidates.push(((lambda * w_minus[j] + c[j]) / lo, j, -1i8));
            }
        }
        for (k, &j) in active.iter().enumerate() {
            if theta[j] * dir[k] < 0.0 {
                candidates.push((-theta[j] / dir[k], j, 0i8));
            }
        }
        // On the last segment every inactive correlation is proportional to its slope
        // (the residual vanishes at lambda = 0), so its candidates sit at lambda itself:
        // those are the end of the path, not breakpoints.
        let end = lambda * (1.0 - 1e-9);
        candidates.retain(|&(g, _, _)| g > 0.0 && g < end);
        for &(g, j, s) in &candidates {
            if g < best.0 {
                best = (g, j, s);
            }
        }
        let gamma = best.0;
        let mut near: Vec<usize> = candidates
            .iter()
            .filter(|(g, _, _)| (*g - gamma).abs() <= TIE_RTOL * lambda)
            .map(|&(_, j, _)| j)
            .collect();
        near.dedup();
        let near = near.len();
        if best.1 != usize::MAX && near > 1 {
            return None;
        }
        for (k, &j) in active.iter().enumerate() {
            theta[j] += gamma * dir[k];
        }
        lambda -= gamma;
        if best.1 == usize::MAX {
            // lambda = 0: polish to the exact interpolator on the support and certify.
            return certify(problem, w_plus, w_minus, &active, &sign, step + 1);
        }
        let j = best.1;
        if best.2 == 0 {
            theta[j] = 0.0;
            sign[j] = 0;
            active.retain(|&k| k != j);
        } else {
            sign[j] = best.2;
            active.push(j);
            if active.len() > n {
                return None;
            }
        }
        // Exact correlations each breakpoint: no drift along long paths.
        c = correlations(&theta, &active);
    }
    None
}

/// The exact interpolator on the final support and its dual certificate, or `None`.
fn certify(
    problem: &Problem,
    w_plus: &[f64],
    w_minus: &[f64],
    active: &[usize],
    sign: &[i8],
    breakpoints: usize,
) -> Option<HomotopySolution> {
    let (n, d) = (problem.n_samples(), problem.dim());
    let (x, y) = (problem.x(), problem.y());
    let xty: Vec<f64> = active
        .iter()
        .map(|&j| (0..n).map(|r| x[r * d + j] * y[r]).sum())
        .collect();
    let coef = gram_solve(x, n, d, active, &xty)?;
    // A coordinate whose path ends at 0 exactly (y lies in the span of the others) comes
    // out at roundoff level: it is a zero of the solution, and the rest is solved again.
    let big = coef.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let support: Vec<usize> = active
        .iter()
        .zip(&coef)
        .filter(|(_, v)| v.abs() > 1e-12 * big)
        .map(|(&j, _)| j)
        .collect();
    let coef = if support.len() < active.len() {
        let xty: Vec<f64> = support
            .iter()
            .map(|&j| (0..n).map(|r| x[r * d + j] * y[r]).sum())
            .collect();
        gram_solve(x, n, d, &support, &xty)?
    } else {
        coef
    };
    let mut theta = vec![0.0; d];
    for (&j, &v) in support.iter().zip(&coef) {
        if v * f64::from(sign[j]) <= 0.0 {
            return None;
        }
        theta[j] = v;
    }
    let om: Vec<f64> = active
        .iter()
        .map(|&j| if sign[j] > 0 { w_plus[j] } else { -w_minus[j] })
        .collect();
    let dir = gram_solve(x, n, d, active, &om)?;
    let nu: Vec<f64> = (0..n)
        .map(|r| {
            active
                .iter()
                .zip(&dir)
                .map(|(&j, &v)| x[r * d + j] * v)
                .sum()
        })
        .collect();
    Some(HomotopySolution {
        theta,
        nu,
        breakpoints,
    })
}

/// Solves `(X_A^T X_A) z = rhs` by Cholesky; `None` if the Gram matrix is singular.
fn gram_solve(x: &[f64], n: usize, d: usize, active: &[usize], rhs: &[f64]) -> Option<Vec<f64>> {
    let m = active.len();
    let cols = Mat::from_fn(n, m, |r, k| x[r * d + active[k]]);
    let gram = cols.transpose() * &cols;
    let llt = gram.llt(Side::Lower).ok()?;
    let b = Mat::from_fn(m, 1, |k, _| rhs[k]);
    let z = llt.solve(&b);
    let out: Vec<f64> = (0..m).map(|k| z[(k, 0)]).collect();
    // A Gram matrix that Cholesky accepts but that is numerically singular (duplicate
    // columns) shows as a huge solution: the LP decides instead.
    let scale = (0..m).map(|k| gram[(k, k)]).fold(0.0f64, f64::max);
    let min_pivot = (0..m)
        .map(|k| llt.L()[(k, k)].powi(2))
        .fold(f64::INFINITY, f64::min);
    (out.iter().all(|v| v.is_finite()) && min_pivot > 1e-10 * scale).then_some(out)
}
