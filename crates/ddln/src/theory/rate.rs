//! Theorem 2: `L(theta(t)) - L* <= exp(-2 sigma mu t) (L(theta(0)) - L*)` under (A) and
//! a Polyak-Lojasiewicz inequality with constant `mu`.

use faer::linalg::solvers::SelfAdjointEigen;
use faer::{MatRef, Side};
use serde::{Deserialize, Serialize};

use crate::error::{DdlnError, Result};
use crate::loss::Loss;
use crate::optim::linalg::gram_rows;
use crate::problem::Problem;

/// The PL data of the squared loss `||X theta - y||^2`.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct PlConstants {
    /// `mu = 2 c lambda_min^+(X X^T)`: twice the smallest non-zero eigenvalue of the Gram
    /// matrix (`X X^T` if `n <= d`, else `X^T X`; the non-zero spectra are equal), times
    /// the loss factor `c` ([`crate::LossScaling`]).
    pub mu: f64,
    /// `L* = min_theta ||X theta - y||^2` (0 when `y` is in the range of X).
    pub l_star: f64,
    /// Numerical rank of X (eigenvalues above `max(n, d) eps lambda_max`).
    pub rank: usize,
    /// Largest eigenvalue of the Gram matrix.
    pub lambda_max: f64,
}

/// `mu`, `L*` and the rank of the squared loss of `problem`.
///
/// `||grad L||^2 = 4 r^T X X^T r >= 4 lambda_min^+ (L - L*)` for `r = X theta - y`, so
/// the PL inequality `2 mu (L - L*) <= ||grad L||^2` holds with `mu = 2 lambda_min^+`.
pub fn pl_constants(problem: &Problem) -> Result<PlConstants> {
    if problem.loss() != Loss::Square {
        return Err(DdlnError::invalid(
            "loss",
            "the PL constant is computed for the squared loss only",
        ));
    }
    let (n, d) = (problem.n_samples(), problem.dim());
    // X is read in place (row-major): no copy of the design, whatever its size.
    let x = MatRef::from_row_major_slice(problem.x(), n, d);
    let wide = n <= d;
    let gram = if wide {
        gram_rows(problem.x(), n, d, None)
    } else {
        x.transpose() * x
    };
    let failed = |e| {
        DdlnError::invalid(
            "X",
            format!("eigendecomposition of the Gram matrix failed: {e:?}"),
        )
    };
    // The eigenvalues alone first (a third cheaper than with the vectors): at full row
    // rank y is in the range of X, L* = 0, and no eigenvector is needed.
    let values = gram.self_adjoint_eigenvalues(Side::Lower).map_err(failed)?;
    let lambda_max = values.iter().copied().fold(0.0, f64::max);
    let cutoff = n.max(d) as f64 * f64::EPSILON * lambda_max;
    let rank = values.iter().filter(|&&v| v > cutoff).count();
    let lambda_min_pos = values
        .iter()
        .copied()
        .filter(|&v| v > cutoff)
        .fold(f64::INFINITY, f64::min);
    let l_star = if rank == n {
        0.0
    } else {
        let eig = gram.self_adjoint_eigen(Side::Lower).map_err(failed)?;
        problem.loss_value(&min_norm_solution(problem, &eig, cutoff))
    };
    Ok(PlConstants {
        mu: if rank == 0 {
            0.0
        } else {
            2.0 * problem.factor() * lambda_min_pos
        },
        l_star,
        rank,
        lambda_max,
    })
}

/// The minimum-norm least-squares solution `X^+ y` through the eigenvectors of the Gram
/// matrix (`X X^T` when `n <= d`, else `X^T X`), eigenvalues at or below `cutoff` taken
/// as zero.
fn min_norm_solution(problem: &Problem, eig: &SelfAdjointEigen<f64>, cutoff: f64) -> Vec<f64> {
    let (n, d) = (problem.n_samples(), problem.dim());
    let (u, s) = (eig.U(), eig.S());
    let kept: Vec<usize> = (0..u.ncols()).filter(|&k| s[k] > cutoff).collect();
    let y = problem.y();
    let mut theta = vec![0.0; d];
    if n <= d {
        // theta = X^T w, w = sum_k q_k (q_k . y) / lambda_k: one pass over X.
        let mut w = vec![0.0; n];
        for &k in &kept {
            let coef: f64 = (0..n).map(|i| u[(i, k)] * y[i]).sum::<f64>() / s[k];
            w.iter_mut()
                .enumerate()
                .for_each(|(i, wi)| *wi += coef * u[(i, k)]);
        }
        crate::kernel::mat_t_vec_add(problem.x(), &w, &mut theta);
    } else {
        // theta = sum_k v_k (v_k . X^T y) / lambda_k, X^T y in one pass.
        let mut xty = vec![0.0; d];
        crate::kernel::mat_t_vec_add(problem.x(), y, &mut xty);
        for &k in &kept {
            let coef: f64 = (0..d).map(|j| u[(j, k)] * xty[j]).sum::<f64>() / s[k];
            theta
                .iter_mut()
                .enumerate()
                .for_each(|(j, t)| *t += coef * u[(j, k)]);
        }
    }
    theta
}

/// Tolerances of the bound check: the measured gap may exceed the bound by
/// `rtol * bound + atol_rel * (L(theta(0)) - L*)` (integration and rounding error).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateCheck {
    /// Relative slack on the bound (default 1e-6).
    pub rtol: f64,
    /// Slack relative to the initial gap (default 1e-10).
    pub atol_rel: f64,
}

impl Default for RateCheck {
    fn default() -> Self {
        RateCheck {
            rtol: 1e-6,
            atol_rel: 1e-10,
        }
    }
}

/// Theorem 2 evaluated along a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RateReport {
    /// `sigma = min_i prod_{k != l_i} (u_i^k(0)^2 - u_i^{l_i}(0)^2)`.
    pub sigma: f64,
    /// The PL constant.
    pub mu: f64,
    /// `L*`.
    pub l_star: f64,
    /// `L(theta(0)) - L*`.
    pub initial_gap: f64,
    /// The guaranteed rate `2 sigma mu`.
    pub rate: f64,
    /// Measured gap `L(theta(t)) - L*` at the recorded times.
    pub gap: Vec<f64>,
    /// The bound `exp(-2 sigma mu t) (L(theta(0)) - L*)` at the recorded times.
    pub bound: Vec<f64>,
    /// Whether the gap stayed below the bound (within [`RateCheck`]) at every recorded
    /// time; `false` when nothing could be checked (see `verdict`).
    pub holds: bool,
    /// `holds`, `violated`, or `not checked` (no recorded time `t > 0` with a finite loss).
    pub verdict: Verdict,
    /// Recorded times `t > 0` with a finite loss, the ones the bound was checked on.
    pub times_checked: usize,
    /// Largest `gap / bound` over the recorded times `t > 0`.
    pub max_gap_over_bound: f64,
    /// First recorded time where the bound was exceeded, if any.
    pub first_violation_t: Option<f64>,
    /// Late-time measured decay rate: slope of `-log(gap)` over the last quarter of the
    /// recorded times where the gap is above `1e-10 max(L(theta(0)) - L*, L*)` (rounding
    /// level); `None` if fewer than 8 such times.
    pub measured_rate: Option<f64>,
}

/// The outcome of a check of one of the paper's statements on a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Checked on the run's data, and it held.
    Holds,
    /// Checked, and it failed somewhere (see the report for where).
    Violated,
    /// The run has no data to check it on (e.g. it diverged before its first record).
    NotChecked,
}

/// `sigma` of Theorem 2 for a deep-model init satisfying (A).
pub fn sigma(init: &[f64], depth: usize, d: usize, minimal_layer: &[usize]) -> f64 {
    (0..d)
        .map(|i| {
            let l = minimal_layer[i];
            let m = init[l * d + i].powi(2);
            (0..depth)
                .filter(|&k| k != l)
                .map(|k| init[k * d + i].powi(2) - m)
                .product::<f64>()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Compares the measured gap with the bound at the recorded times `t` with losses `loss`.
pub fn rate_report(
    sigma: f64,
    pl: &PlConstants,
    t: &[f64],
    loss: &[f64],
    check: &RateCheck,
) -> RateReport {
    let initial_gap = loss[0] - pl.l_star;
    let rate = 2.0 * sigma * pl.mu;
    let gap: Vec<f64> = loss.iter().map(|l| l - pl.l_star).collect();
    let bound: Vec<f64> = t.iter().map(|&s| (-rate * s).exp() * initial_gap).collect();
    let slack = check.atol_rel * initial_gap.abs();
    let mut first_violation_t = None;
    let mut max_ratio: f64 = 0.0;
    let times_checked = (0..t.len())
        .filter(|&k| t[k] > 0.0 && gap[k].is_finite())
        .count();
    for k in 0..t.len() {
        // At t = 0 the ratio is 1 by construction: it says nothing.
        if bound[k] > 0.0 && t[k] > 0.0 {
            max_ratio = max_ratio.max(gap[k] / bound[k]);
        }
        let exceeded = gap[k] > bound[k] * (1.0 + check.rtol) + slack || !gap[k].is_finite();
        if exceeded && first_violation_t.is_none() {
            first_violation_t = Some(t[k]);
        }
    }
    RateReport {
        sigma,
        mu: pl.mu,
        l_star: pl.l_star,
        initial_gap,
        rate,
        holds: first_violation_t.is_none() && times_checked > 0,
        verdict: match (first_violation_t, times_checked) {
            (Some(_), _) => Verdict::Violated,
            (None, 0) => Verdict::NotChecked,
            (None, _) => Verdict::Holds,
        },
        times_checked,
        max_gap_over_bound: max_ratio,
        first_violation_t,
        measured_rate: late_decay_rate(t, &gap, 1e-10 * initial_gap.abs().max(pl.l_star)),
        gap,
        bound,
    }
}

/// Least-squares slope of `-log(gap)` against `t` over the last quarter of the points
/// whose gap is above `floor` (below it, `L - L*` is rounding noise of L and L*).
fn late_decay_rate(t: &[f64], gap: &[f64], floor: f64) -> Option<f64> {
    let usable: Vec<usize> = (0..t.len()).filter(|&k| gap[k] > floor).collect();
    if usable.len() < 8 {
        return None;
    }
    let tail = &usable[usable.len() - usable.len() / 4..];
    let m = tail.len() as f64;
    let mean_t = tail.iter().map(|&k| t[k]).sum::<f64>() / m;
    let mean_l = tail.iter().map(|&k| gap[k].ln()).sum::<f64>() / m;
    let cov: f64 = tail
        .iter()
        .map(|&k| (t[k] - mean_t) * (gap[k].ln() - mean_l))
        .sum();
    let var: f64 = tail.iter().map(|&k| (t[k] - mean_t).powi(2)).sum();
    (var > 0.0).then(|| -cov / var)
}
