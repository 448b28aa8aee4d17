//! Numeric check of the conditions of Li et al. (2022) used by Theorem 1 (docs/math.md
//! section 8, paper appendix A.4), for `G_i(w) = prod_j w_i^j`.
//!
//! The check is generic: it builds the dense gradients `grad G_i` (length `L d`) and
//! Hessians `hess G_i` (`L d x L d`) without using their block structure, so it tests the
//! structure rather than assuming it. Cost `O(d^2 (L d)^2)`: meant for small `d`.

use faer::Mat;
use serde::Serialize;

use crate::error::{check_finite, check_positive, DdlnError, Result};

/// The outcome of the check at one point `w`.
#[derive(Debug, Clone, Serialize)]
pub struct LiReport {
    /// `max_{i1, i2} max |hess G_i1 grad G_i2 - hess G_i2 grad G_i1|` (0 when commuting).
    pub commutator: f64,
    /// Singular values of the Jacobian `J_G(w)` (`d x L d`), largest first.
    pub singular_values: Vec<f64>,
    /// Numerical rank of `J_G` (singular values above `rank_rtol * max(1, sigma_max)`).
    pub rank: usize,
    /// `rank == d`: the parameterization is regular at `w`.
    pub regular: bool,
    /// Number of zero entries among the `L` layers of each coordinate (`w` is on the
    /// manifold M of the paper when all are <= 1).
    pub zero_layers: Vec<usize>,
}

/// Checks commuting and regularity at `w` (`depth x d`, row-major, row = layer).
/// `rank_rtol` is the relative singular-value cutoff (e.g. 1e-12).
pub fn li_conditions(w: &[f64], depth: usize, d: usize, rank_rtol: f64) -> Result<LiReport> {
    if w.len() != depth * d || d == 0 || depth < 2 {
        return Err(DdlnError::shape(
            "w",
            format!("({depth}, {d}) with depth >= 2, d >= 1"),
            format!("{} entries", w.len()),
        ));
    }
    check_finite("w", w)?;
    check_positive("rank_rtol", rank_rtol)?;
    let n = depth * d;
    // Flat index of layer j, coordinate i in the paper's ordering (coordinate-major).
    let at = |i: usize, j: usize| i * depth + j;
    let value = |i: usize, j: usize| w[j * d + i];
    let prod_except = |i: usize, skip: &[usize]| -> f64 {
        (0..depth)
            .filter(|j| !skip.contains(j))
            .map(|j| value(i, j))
            .product()
    };
    let grads: Vec<Vec<f64>> = (0..d)
        .map(|i| {
            let mut g = vec![0.0; n];
            for j in 0..depth {
                g[at(i, j)] = prod_except(i, &[j]);
            }
            g
        })
        .collect();
    let hess = |i: usize| -> Vec<f64> {
        let mut h = vec![0.0; n * n];
        for j in 0..depth {
            for k in 0..depth {
                if j != k {
                    h[at(i, j) * n + at(i, k)] = prod_except(i, &[j, k]);
                }
            }
        }
        h
    };
    let hessians: Vec<Vec<f64>> = (0..d).map(hess).collect();
    let matvec = |h: &[f64], v: &[f64]| -> Vec<f64> {
        (0..n)
            .map(|r| (0..n).map(|c| h[r * n + c] * v[c]).sum())
            .collect()
    };
    let mut commutator = 0.0f64;
    for i1 in 0..d {
        for i2 in 0..d {
            let a = matvec(&hessians[i1], &grads[i2]);
            let b = matvec(&hessians[i2], &grads[i1]);
            for (x, y) in a.iter().zip(&b) {
                commutator = commutator.max((x - y).abs());
            }
        }
    }
    let jac = Mat::from_fn(d, n, |i, c| grads[i][c]);
    let singular_values = jac
        .singular_values()
        .map_err(|e| DdlnError::invalid("w", format!("the SVD of J_G did not converge ({e:?})")))?;
    let smax = singular_values.first().copied().unwrap_or(0.0);
    let rank = singular_values
        .iter()
        .filter(|&&s| s > rank_rtol * smax.max(1.0))
        .count();
    let zero_layers = (0..d)
        .map(|i| (0..depth).filter(|&j| value(i, j) == 0.0).count())
        .collect();
    Ok(LiReport {
        commutator,
        singular_values,
        rank,
        regular: rank == d,
        zero_layers,
    })
}
