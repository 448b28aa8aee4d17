//! The range of `X` through a thin SVD: numerical rank, the projection of `y`, and the
//! equivalent full-row-rank constraint `Xt theta = yt` with `Xt = Sigma_r V_r^T`,
//! `yt = U_r^T y` (the same solutions when `y` is in the range).

use faer::{Mat, MatRef};

use crate::memory::Estimate;

use crate::error::{DdlnError, Result};
use crate::problem::Problem;

/// Rank-revealing data of `X`.
pub(crate) struct RangeBasis {
    /// Numerical rank `r`.
    pub rank: usize,
    /// `U_r` (`n x r`).
    pub u: Mat<f64>,
    /// `V_r` (`d x r`).
    pub v: Mat<f64>,
    /// The `r` kept singular values.
    pub s: Vec<f64>,
    /// `Xt = Sigma_r V_r^T`, row-major `r x d`.
    pub xt: Vec<f64>,
    /// `yt = U_r^T y`.
    pub yt: Vec<f64>,
    /// `||y - U_r U_r^T y||`: distance of `y` to the range of `X`.
    pub distance_to_range: f64,
}

impl RangeBasis {
    /// Singular values below `rank_rtol * sigma_max` count as zero.
    pub(crate) fn new(problem: &Problem, rank_rtol: f64) -> Result<Self> {
        let (n, d) = (problem.n_samples(), problem.dim());
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
        let y = problem.y();
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
            u,
            v,
            s,
            xt,
            yt,
            distance_to_range,
        })
    }

    /// What the basis and a Newton solve on it allocate for `X` of `n x d` (`k = min(n, d)`):
    /// the SVD's working copy of X and its factors, `Xt`, and the `k x k` Newton matrix.
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

    /// The minimum-norm least-squares solution `V_r Sigma_r^{-1} U_r^T y`.
    pub(crate) fn min_norm_solution(&self) -> Vec<f64> {
        let d = self.v.nrows();
        (0..d)
            .map(|i| {
                (0..self.rank)
                    .map(|a| self.v[(i, a)] * self.yt[a] / self.s[a])
                    .sum()
            })
            .collect()
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
