//! The preconditioner of the predictor's conjugate gradients (docs/math.md section 7,
//! "Solving the Newton systems"): `P = mbar G0 + Xt_S diag(m_S - mbar) Xt_S^T` for the
//! `k` coordinates `S` of largest weight, `G0 = Xt Xt^T`, applied as `P^{-1}`.

use faer::linalg::solvers::{Llt, Solve};
use faer::{Mat, Side};

use super::range::Gram;
use crate::optim::linalg::gram_rows;

/// `P^{-1}` (module docs), built whichever way costs fewer flops for `k` kept weights:
/// `P` formed and factored (`r^2 k / 2 + r^3 / 3`), or the Woodbury identity on `G0`'s
/// factor (`2 r^2 k + r k^2`, nothing `r x r` formed: the way for `k << r`).
pub(crate) enum Preconditioner<'a> {
    /// The Cholesky factor of `P = mbar G0 + Xt_S diag(m_S - mbar) Xt_S^T`.
    Formed(Llt<f64>),
    /// With `V = Xt_S diag(w_S)^{1/2}` (`w_S = m_S - mbar >= 0`), `Z = G0^{-1} V` and
    /// `C = I + V^T Z / mbar` (`k x k`): `P^{-1} v = a - Z C^{-1} V^T a / mbar`, where
    /// `a = G0^{-1} v / mbar`.
    Woodbury {
        g0: &'a Llt<f64>,
        mbar: f64,
        v: Mat<f64>,
        z: Mat<f64>,
        c: Llt<f64>,
    },
}

/// Flops of building [`Preconditioner`] for `k` of rank `r`: (formed, Woodbury).
pub(crate) fn build_flops(r: f64, k: f64) -> (f64, f64) {
    (
        r * r * k / 2.0 + r * r * r / 3.0,
        2.0 * r * r * k + r * k * k,
    )
}

/// What `P` is built from: the weights `m` over the row-major `r x d` matrix `xt`, the
/// (ascending) coordinates `kept` exactly and the others at `mbar`.
#[derive(Clone, Copy)]
pub(crate) struct Selection<'s> {
    pub xt: &'s [f64],
    pub d: usize,
    pub m: &'s [f64],
    pub kept: &'s [usize],
    pub mbar: f64,
}

impl<'a> Preconditioner<'a> {
    /// `P` for `selection`; `None` when a factorization fails.
    pub(crate) fn new(selection: &Selection, g0: &'a Gram) -> Option<Self> {
        let k = selection.kept.len() as f64;
        let (formed, woodbury) = build_flops(g0.matrix.nrows() as f64, k);
        if formed <= woodbury {
            Self::formed(selection, g0)
        } else {
            Self::woodbury(selection, g0)
        }
    }

    /// [`Preconditioner::Formed`].
    fn formed(selection: &Selection, g0: &Gram) -> Option<Self> {
        let (xt, d, kept, mbar) = (selection.xt, selection.d, selection.kept, selection.mbar);
        let r = g0.matrix.nrows();
        // Xt_S (row-major r x k) and the lower triangle of its weighted Gram.
        let kept_rows: Vec<f64> = (0..r)
            .flat_map(|a| kept.iter().map(move |&i| xt[a * d + i]))
            .collect();
        let weights: Vec<f64> = kept.iter().map(|&i| selection.m[i] - mbar).collect();
        let low_rank = gram_rows(&kept_rows, r, kept.len(), Some(&weights));
        let g = &g0.matrix;
        let p = Mat::from_fn(r, r, |a, c| mbar * g[(a, c)] + low_rank[(a, c)]);
        p.llt(Side::Lower).ok().map(Preconditioner::Formed)
    }

    /// [`Preconditioner::Woodbury`].
    fn woodbury(selection: &Selection, g0: &'a Gram) -> Option<Self> {
        let Selection {
            xt,
            d,
            m,
            kept,
            mbar,
        } = *selection;
        let r = g0.matrix.nrows();
        let k = kept.len();
        // Xt_S diag(w_S)^{1/2}, r x k.
        let sqrt_w: Vec<f64> = kept
            .iter()
            .map(|&i| (m[i] - mbar).max(0.0).sqrt())
            .collect();
        let v = Mat::from_fn(r, k, |a, j| xt[a * d + kept[j]] * sqrt_w[j]);
        let g0 = &*g0.factor;
        let z = g0.solve(&v);
        let vz = v.transpose() * &z;
        let c = Mat::from_fn(k, k, |i, j| vz[(i, j)] / mbar + f64::from(i == j));
        let c = c.llt(Side::Lower).ok()?;
        Some(Preconditioner::Woodbury { g0, mbar, v, z, c })
    }

    /// `P^{-1} rhs`.
    pub(crate) fn apply(&self, rhs: &[f64]) -> Vec<f64> {
        let r = rhs.len();
        let column = |a: &Mat<f64>| (0..r).map(|i| a[(i, 0)]).collect();
        match self {
            Preconditioner::Formed(llt) => column(&llt.solve(Mat::from_fn(r, 1, |i, _| rhs[i]))),
            Preconditioner::Woodbury { g0, mbar, v, z, c } => {
                let a = g0.solve(Mat::from_fn(r, 1, |i, _| rhs[i] / mbar));
                let correction = z * c.solve(v.transpose() * &a);
                (0..r)
                    .map(|i| a[(i, 0)] - correction[(i, 0)] / mbar)
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    /// Both ways of building `P^{-1}` against a dense solve of `P` formed entry by entry
    /// in the test (`mbar sum_i x_i x_i^T + sum_S (m_i - mbar) x_i x_i^T`, Cholesky):
    /// the same vector to 1e-10, for several numbers of kept weights.
    #[test]
    fn formed_and_woodbury_equal_a_dense_solve_of_p() {
        let (r, d) = (40usize, 200usize);
        let mut next = crate::mirror::newton_system::tests::uniform_sequence(11);
        let xt: Vec<f64> = (0..r * d).map(|_| next()).collect();
        let mbar = 1.3;
        // Kept weights at or above mbar, as the CG's selection gives them.
        let m: Vec<f64> = (0..d)
            .map(|i| mbar + 10f64.powi((i % 7) as i32) * next().abs())
            .collect();
        let rhs: Vec<f64> = (0..r).map(|_| next()).collect();
        let matrix = gram_rows(&xt, r, d, None);
        let factor = matrix.llt(Side::Lower).unwrap();
        let g0 = Gram {
            matrix: Cow::Owned(matrix),
            factor: Cow::Owned(factor),
        };
        for k in [1usize, 5, 40, 90] {
            let kept: Vec<usize> = (0..d).step_by(d / k).take(k).collect();
            let selection = Selection {
                xt: &xt,
                d,
                m: &m,
                kept: &kept,
                mbar,
            };
            let weight = |i: usize| if kept.contains(&i) { m[i] } else { mbar };
            let p = Mat::from_fn(r, r, |a, c| {
                (0..d)
                    .map(|i| weight(i) * xt[a * d + i] * xt[c * d + i])
                    .sum::<f64>()
            });
            let want = p
                .llt(Side::Lower)
                .unwrap()
                .solve(Mat::from_fn(r, 1, |a, _| rhs[a]));
            let scale = (0..r).fold(0.0f64, |s, a| s.max(want[(a, 0)].abs()));
            for (name, pre) in [
                ("formed", Preconditioner::formed(&selection, &g0)),
                ("woodbury", Preconditioner::woodbury(&selection, &g0)),
            ] {
                let got = pre.unwrap().apply(&rhs);
                let err = (0..r).fold(0.0f64, |e, a| e.max((got[a] - want[(a, 0)]).abs()));
                assert!(
                    err <= 1e-10 * scale,
                    "{name}, k = {k}: {err:e} vs {scale:e}"
                );
            }
        }
    }
}
