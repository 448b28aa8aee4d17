//! Sign-constrained least squares: `min ||X_A diag(sigma) w - y||^2` over `w >= 0`, the
//! problem solved at every saddle of the vanishing-init limit. Clarabel (interior point)
//! solves the QP; its support is then polished to the exact solution by least squares on
//! the support (a minimum-norm SVD solve) and Lawson–Hanson moves until the KKT
//! conditions hold to roundoff.

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};

use crate::error::{DdlnError, Result};
use crate::loss::Loss;
use crate::mirror::baselines::RANK_RTOL;
use crate::mirror::range::RangeBasis;
use crate::problem::Problem;

/// The solution of one sign-constrained least-squares problem.
#[derive(Debug, Clone)]
pub(crate) struct SignedLs {
    /// `w >= 0`, one entry per active coordinate.
    pub w: Vec<f64>,
    /// Why the minimizer is not unique (dependent columns on the support), if it is not.
    pub degenerate: Option<String>,
}

/// Solves `min ||M w - y||^2, w >= 0` for `M = X[:, active] diag(signs)`; `support_rtol`
/// separates the QP's zeros from its non-zeros (relative to `max w`). With `warm` (a
/// guess of the support, positions in `active`: the last saddle's support and the
/// coordinates that just entered) the Lawson–Hanson moves start there and the QP is
/// solved only if they do not settle; the answer is the same KKT point either way.
pub(crate) fn sign_constrained_ls(
    problem: &Problem,
    active: &[usize],
    signs: &[f64],
    support_rtol: f64,
    warm: Option<&[usize]>,
) -> Result<SignedLs> {
    if let Some(start) = warm {
        let (n, d) = (problem.n_samples(), problem.dim());
        let mm = signed_columns(problem.x(), n, d, active, signs);
        if let Ok(found) = lawson_hanson(problem, &mm, active.len(), start.to_vec()) {
            return Ok(found);
        }
    }
    cold(problem, active, signs, support_rtol)
}

/// `M = X[:, active] diag(signs)`, row-major `n x m`.
fn signed_columns(x: &[f64], n: usize, d: usize, active: &[usize], signs: &[f64]) -> Vec<f64> {
    let m = active.len();
    (0..n)
        .flat_map(|i| (0..m).map(move |k| (i, k)))
        .map(|(i, k)| signs[k] * x[i * d + active[k]])
        .collect()
}

/// From the QP's support.
fn cold(problem: &Problem, active: &[usize], signs: &[f64], support_rtol: f64) -> Result<SignedLs> {
    let (n, d) = (problem.n_samples(), problem.dim());
    let m = active.len();
    let x = problem.x();
    let y = problem.y();
    let mm = signed_columns(x, n, d, active, signs);
    let w_qp = qp(&mm, n, m, y)?;
    let wmax = w_qp.iter().cloned().fold(0.0f64, f64::max);
    let support: Vec<usize> = (0..m).filter(|&k| w_qp[k] > support_rtol * wmax).collect();
    lawson_hanson(problem, &mm, m, support)
}

/// Lawson–Hanson moves on `M` (`n x m`) from `support` until the KKT conditions hold.
fn lawson_hanson(
    problem: &Problem,
    mm: &[f64],
    m: usize,
    mut support: Vec<usize>,
) -> Result<SignedLs> {
    let n = problem.n_samples();
    let y = problem.y();
    support.sort_unstable();
    support.dedup();
    let mty: Vec<f64> = (0..m)
        .map(|k| (0..n).map(|i| mm[i * m + k] * y[i]).sum())
        .collect();
    let kkt_tol = 1e-10 * mty.iter().fold(1.0f64, |a, v| a.max(v.abs()));
    // Lawson–Hanson from the QP's support: each move adds a violator or drops a negative.
    for _ in 0..(4 * m + 4) {
        let (w_s, rank) = ls_on(mm, n, m, y, &support, problem.loss())?;
        let degenerate = if rank < support.len() {
            Some(format!(
                "the {} columns of X on the support span only {rank} dimensions (duplicate or dependent columns): the saddle is not unique; the minimum-norm one is reported (the one a symmetric init follows)",
                support.len()
            ))
        } else {
            None
        };
        if let Some(pos) = (0..support.len())
            .filter(|&p| w_s[p] <= 0.0)
            .min_by(|&a, &b| w_s[a].total_cmp(&w_s[b]))
        {
            support.remove(pos);
            continue;
        }
        let mut w = vec![0.0; m];
        for (p, &k) in support.iter().enumerate() {
            w[k] = w_s[p];
        }
        // Gradient of ||M w - y||^2 / 2 off the support must be >= 0 (no descent direction).
        let r: Vec<f64> = (0..n)
            .map(|i| (0..m).map(|k| mm[i * m + k] * w[k]).sum::<f64>() - y[i])
            .collect();
        let violator = (0..m)
            .filter(|k| !support.contains(k))
            .map(|k| (k, (0..n).map(|i| mm[i * m + k] * r[i]).sum::<f64>()))
            .filter(|&(_, g)| g < -kkt_tol)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match violator {
            Some((k, _)) => {
                support.push(k);
                support.sort_unstable();
            }
            None => return Ok(SignedLs { w, degenerate }),
        }
    }
    Err(DdlnError::invalid(
        "X",
        "the sign-constrained least squares did not settle (cycling supports: a degenerate design)",
    ))
}

/// Least squares on the columns `support` of `M`: the minimum-norm solution and the rank.
fn ls_on(
    mm: &[f64],
    n: usize,
    m: usize,
    y: &[f64],
    support: &[usize],
    loss: Loss,
) -> Result<(Vec<f64>, usize)> {
    if support.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let s = support.len();
    let sub: Vec<f64> = (0..n)
        .flat_map(|i| support.iter().map(move |&k| mm[i * m + k]))
        .collect();
    let problem = Problem::new(sub, n, s, y.to_vec(), loss)?;
    let basis = RangeBasis::new(&problem, RANK_RTOL)?;
    Ok((basis.min_norm_solution(), basis.rank))
}

/// The QP `min w^T (M^T M) w - 2 (M^T y)^T w, w >= 0` by Clarabel.
fn qp(mm: &[f64], n: usize, m: usize, y: &[f64]) -> Result<Vec<f64>> {
    // Upper triangle of P = 2 M^T M, column by column.
    let mut colptr = vec![0];
    let mut rowval = Vec::new();
    let mut nzval = Vec::new();
    for j in 0..m {
        for i in 0..=j {
            let v: f64 = (0..n).map(|r| mm[r * m + i] * mm[r * m + j]).sum();
            rowval.push(i);
            nzval.push(2.0 * v);
        }
        colptr.push(rowval.len());
    }
    let p = CscMatrix::new(m, m, colptr, rowval, nzval);
    let q: Vec<f64> = (0..m)
        .map(|k| -2.0 * (0..n).map(|i| mm[i * m + k] * y[i]).sum::<f64>())
        .collect();
    // -w <= 0.
    let a = CscMatrix::new(m, m, (0..=m).collect(), (0..m).collect(), vec![-1.0; m]);
    let b = vec![0.0; m];
    let cones = [SupportedConeT::NonnegativeConeT(m)];
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .tol_gap_abs(1e-10)
        .tol_gap_rel(1e-10)
        .tol_feas(1e-10)
        .build()
        .map_err(|e| DdlnError::invalid("tol", format!("rejected by Clarabel: {e:?}")))?;
    let mut solver = DefaultSolver::new(&p, &q, &a, &b, &cones, settings)
        .map_err(|e| DdlnError::invalid("X", format!("Clarabel could not set up the QP: {e}")))?;
    solver.solve();
    // Whatever the solver's status, its iterate is only a starting support: the
    // Lawson–Hanson polish makes the answer exact (from the empty support if need be).
    let x = &solver.solution.x;
    if matches!(
        solver.solution.status,
        SolverStatus::Solved
            | SolverStatus::AlmostSolved
            | SolverStatus::MaxIterations
            | SolverStatus::InsufficientProgress
    ) && x.iter().all(|v| v.is_finite())
    {
        Ok(x.iter().map(|v| v.max(0.0)).collect())
    } else {
        Ok(vec![0.0; m])
    }
}
