//! The range of `X`: numerical rank, the projection of `y`, and an equivalent
//! full-row-rank constraint `Xt theta = yt` (the same solutions when `y` is in the range).
//!
//! When `X` has full row rank and is well conditioned (the usual `n < d` design), `Xt = X`
//! and `yt = y` themselves, borrowed: the rank is settled by a Cholesky factorization of
//! `X X^T` and power iterations for its extreme eigenvalues (`n^2 d / 2` flops, a fraction
//! of an SVD). Otherwise a thin SVD gives `Xt = Sigma_r V_r^T`, `yt = U_r^T y`.

use std::borrow::Cow;

use faer::linalg::solvers::{Llt, Solve};
use faer::{Mat, MatRef, Side};

use crate::error::{DdlnError, Result};
use crate::memory::Estimate;
use crate::optim::linalg::gram_rows;
use crate::problem::Problem;

/// `X` is used as it is when the eigenvalues of `X X^T` satisfy `l_min >= this * l_max`
/// (condition number of `X` at most 1e5): far above the SVD's rank cutoff, so a design
/// the SVD would call rank deficient never takes the fast path.
const FAST_PATH_MIN_RATIO: f64 = 1e-10;
/// Power / inverse-power iterations for the extreme eigenvalues of `X X^T`.
const POWER_STEPS: usize = 40;

/// How the basis was obtained.
enum Factors {
    /// Full row rank: `Xt = X`; `X X^T` and its Cholesky factor.
    Gram(Mat<f64>, Llt<f64>),
    /// `U_r` (`n x r`), `V_r` (`d x r`), the kept singular values.
    Svd {
        u: Mat<f64>,
        v: Mat<f64>,
        s: Vec<f64>,
    },
}

/// `G0 = Xt Xt^T` and its Cholesky factor, shared by every Newton system of a prediction.
pub(crate) struct Gram<'a> {
    /// `G0`.
    pub matrix: Cow<'a, Mat<f64>>,
    /// Its Cholesky factor.
    pub factor: Cow<'a, Llt<f64>>,
}

/// Rank-revealing data of `X`.
pub(crate) struct RangeBasis<'a> {
    /// Numerical rank `r`.
    pub rank: usize,
    /// The row-major `r x d` matrix `Xt` (`X` itself on the fast path).
    pub xt: Cow<'a, [f64]>,
    /// `yt`.
    pub yt: Cow<'a, [f64]>,
    /// `||y - P_range(X) y||`: distance of `y` to the range of `X`.
    pub distance_to_range: f64,
    factors: Factors,
    y: &'a [f64],
}

/// `G z` for the symmetric `G`, by columns (`G` is column-major: a walk along its rows
/// would miss the cache at every entry, 10^8 misses per product at `n = 10^4`).
fn apply(g: &Mat<f64>, z: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; g.nrows()];
    for (j, &zj) in z.iter().enumerate() {
        out.iter_mut()
            .zip(g.col_as_slice(j))
            .for_each(|(o, &gij)| *o += gij * zj);
    }
    out
}

fn normalize(z: &mut [f64]) -> f64 {
    let norm = z.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        z.iter_mut().for_each(|v| *v /= norm);
    }
    norm
}

/// The Cholesky factor of `X X^T` when `X` has full row rank with
/// `l_min / l_max >= FAST_PATH_MIN_RATIO`; `None` otherwise.
fn well_conditioned_gram(x: &[f64], n: usize, d: usize) -> Option<(Mat<f64>, Llt<f64>)> {
    if n == 0 || n > d {
        return None;
    }
    let g = gram_rows(x, n, d, None);
    let llt = g.llt(Side::Lower).ok()?;
    // A fixed, sign-varied start: deterministic and not orthogonal to any eigenvector
    // in practice (an unlucky start only makes the estimate pessimistic: slow path).
    let start: Vec<f64> = (0..n)
        .map(|i| 1.0 + 0.5 * ((i * 7919) % 13) as f64 / 13.0)
        .collect();
    let mut z = start.clone();
    let mut l_max = 0.0;
    for _ in 0..POWER_STEPS {
        normalize(&mut z);
        z = apply(&g, &z);
        l_max = normalize(&mut z);
    }
    let mut z = start;
    let mut inv = 0.0;
    for _ in 0..POWER_STEPS {
        normalize(&mut z);
        let b = Mat::from_fn(n, 1, |i, _| z[i]);
        let sol = llt.solve(&b);
        z = (0..n).map(|i| sol[(i, 0)]).collect();
        inv = normalize(&mut z);
    }
    // inv -> 1 / l_min from below, so 1 / inv over-estimates l_min: the threshold keeps a
    // margin of many orders above the SVD's cutoff.
    let ratio = 1.0 / (inv * l_max);
    (ratio.is_finite() && ratio >= FAST_PATH_MIN_RATIO).then_some((g, llt))
}

impl<'a> RangeBasis<'a> {
    /// Singular values below `rank_rtol * sigma_max` count as zero.
    pub(crate) fn new(problem: &'a Problem, rank_rtol: f64) -> Result<Self> {
        let (n, d) = (problem.n_samples(), problem.dim());
        let y = problem.y();
        let mut gram = Estimate::new(&format!(
            "the Gram matrix of X ({n} x {d}) and the predictor's Newton matrix"
        ));
        gram.add("X X^T and its Cholesky factor", &[2, n, n])?
            .add(
                "Newton matrix, its preconditioner and their factors",
                &[5, n, n],
            )?
            .add("vectors", &[16, n.max(d)])?;
        let fast = if n <= d {
            gram.check("X")?;
            well_conditioned_gram(problem.x(), n, d)
        } else {
            None
        };
        if let Some((g, llt)) = fast {
            let mut basis = RangeBasis {
                rank: n,
                xt: Cow::Borrowed(problem.x()),
                yt: Cow::Borrowed(y),
                distance_to_range: 0.0,
                factors: Factors::Gram(g, llt),
                y,
            };
            basis.distance_to_range = basis.residual_of_min_norm(problem);
            return Ok(basis);
        }
        Self::memory(n, d)?.check("X")?;
        // X is borrowed: the SVD's own working copy is the only other n x d block.
        let x = MatRef::from_row_major_slice(problem.x(), n, d);
        let svd = x.thin_svd().map_err(|e| {
            DdlnError::invalid(
                "X",
                format!("the SVD of X did not converge ({e:?}); check X for extreme values"),
            )
        })?;
        let sv = svd.S().column_vector();
        let k = sv.nrows();
        let smax = if k > 0 { sv[0] } else { 0.0 };
        let rank = (0..k)
            .filter(|&j| sv[j] > rank_rtol * smax && sv[j] > 0.0)
            .count();
        let u = Mat::from_fn(n, rank, |i, j| svd.U()[(i, j)]);
        let v = Mat::from_fn(d, rank, |i, j| svd.V()[(i, j)]);
        let s: Vec<f64> = (0..rank).map(|j| sv[j]).collect();
        let mut xt = vec![0.0; rank * d];
        for a in 0..rank {
            for i in 0..d {
                xt[a * d + i] = s[a] * v[(i, a)];
            }
        }
        let yt: Vec<f64> = (0..rank)
            .map(|a| (0..n).map(|i| u[(i, a)] * y[i]).sum())
            .collect();
        let distance_to_range = (0..n)
            .map(|i| {
                let p: f64 = (0..rank).map(|a| u[(i, a)] * yt[a]).sum();
                (y[i] - p).powi(2)
            })
            .sum::<f64>()
            .sqrt();
        Ok(RangeBasis {
            rank,
            xt: Cow::Owned(xt),
            yt: Cow::Owned(yt),
            distance_to_range,
            factors: Factors::Svd { u, v, s },
            y,
        })
    }

    /// What the SVD path and a Newton solve on it allocate for `X` of `n x d`
    /// (`k = min(n, d)`): the SVD's working copy of X and its factors, `Xt`, and the
    /// `k x k` Newton matrix.
    pub(crate) fn memory(n: usize, d: usize) -> Result<Estimate> {
        let k = n.min(d);
        let mut estimate = Estimate::new(&format!(
            "the SVD of X ({n} x {d}) and the predictor's Newton matrix"
        ));
        estimate
            .add("working copy of X", &[n, d])?
            .add("U", &[n, k])?
            .add("V (twice: V and Sigma V^T)", &[2, d, k])?
            .add("Newton matrix", &[k, k])?
            .add("vectors", &[16, n.max(d)])?;
        Ok(estimate)
    }

    /// How the basis was computed, for messages.
    pub(crate) fn method(&self) -> &'static str {
        match self.factors {
            Factors::Gram(..) => "Cholesky of X X^T (full row rank)",
            Factors::Svd { .. } => "thin SVD",
        }
    }

    /// `Xt Xt^T` (`r x r`) and its Cholesky factor: `X X^T` on the fast path (formed
    /// once, borrowed), `Sigma_r^2` otherwise (diagonal).
    pub(crate) fn gram(&self) -> Option<Gram<'_>> {
        match &self.factors {
            Factors::Gram(g, llt) => Some(Gram {
                matrix: Cow::Borrowed(g),
                factor: Cow::Borrowed(llt),
            }),
            Factors::Svd { s, .. } => {
                let g = Mat::from_fn(
                    self.rank,
                    self.rank,
                    |a, b| if a == b { s[a] * s[a] } else { 0.0 },
                );
                let llt = g.llt(Side::Lower).ok()?;
                Some(Gram {
                    matrix: Cow::Owned(g),
                    factor: Cow::Owned(llt),
                })
            }
        }
    }

    /// The dual vector in the original coordinates, `U_r nu` (`nu` itself when `Xt = X`).
    pub(crate) fn lift_dual(&self, nu: &[f64]) -> Vec<f64> {
        match &self.factors {
            Factors::Gram(..) => nu.to_vec(),
            Factors::Svd { u, .. } => (0..u.nrows())
                .map(|i| (0..self.rank).map(|a| u[(i, a)] * nu[a]).sum())
                .collect(),
        }
    }

    /// The minimum-norm least-squares solution: `X^T (X X^T)^{-1} y` on the fast path,
    /// `V_r Sigma_r^{-1} U_r^T y` otherwise.
    pub(crate) fn min_norm_solution(&self) -> Vec<f64> {
        match &self.factors {
            Factors::Gram(_, llt) => {
                let n = self.rank;
                let d = self.xt.len() / n.max(1);
                let b = Mat::from_fn(n, 1, |i, _| self.y[i]);
                let z = llt.solve(&b);
                let mut theta = vec![0.0; d];
                for (a, row) in self.xt.chunks_exact(d).enumerate() {
                    let za = z[(a, 0)];
                    theta.iter_mut().zip(row).for_each(|(t, x)| *t += za * x);
                }
                theta
            }
            Factors::Svd { v, s, .. } => {
                let d = v.nrows();
                (0..d)
                    .map(|i| (0..self.rank).map(|a| v[(i, a)] * self.yt[a] / s[a]).sum())
                    .collect()
            }
        }
    }

    /// `||y - X theta_min||` for the minimum-norm solution (the fast path's distance of
    /// `y` to the range: roundoff for a full-row-rank X).
    fn residual_of_min_norm(&self, problem: &Problem) -> f64 {
        residual_norm(problem, &self.min_norm_solution())
    }
}

/// `||X theta - y||`.
pub(crate) fn residual_norm(problem: &Problem, theta: &[f64]) -> f64 {
    let d = problem.dim();
    problem
        .x()
        .chunks_exact(d)
        .zip(problem.y())
        .map(|(row, &yi)| (crate::problem::dot(row, theta) - yi).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// `||v||_2`.
pub(crate) use crate::vector::norm;
