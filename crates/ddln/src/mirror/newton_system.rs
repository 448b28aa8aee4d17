//! The predictor's Newton system `H z = b`, `H = Xt diag(m) Xt^T` (`r x r`, `Xt` row-major
//! `r x d`; docs/math.md section 7, "Solving the Newton systems").
//!
//! Directly, `H` costs `r^2 d` flops (the weighted Gram) and a Cholesky factorization.
//! When `r` is large and `d >> r`, the weights of all but the `k` largest (`S`) usually lie
//! within a narrow band: then conjugate gradients are preconditioned by
//!
//! ```text
//! P = Xt_S diag(m_S) Xt_S^T + mbar Xt_R Xt_R^T = mbar G0 + Xt_S diag(m_S - mbar) Xt_S^T
//! ```
//!
//! (`R` the other coordinates, `G0 = Xt Xt^T` formed and factored once, `mbar` the
//! geometric mean of the extreme weights on `R`; built as in [`Preconditioner`]), and the
//! spectrum of `P^{-1} H` lies in `[min(1, m_min/mbar), max(1, m_max/mbar)]` over `R`, so
//! CG needs at most about `sqrt(m_max/m_min)` iterations of two passes over `Xt`. `k` is
//! the one of least expected cost ([`kept_count`]); where no `k` is expected to converge
//! within what still pays, or CG does not reach its tolerance within it, the direct solve
//! runs. Both solve the same system to a relative residual of [`CG_RTOL`] or better, so
//! the Newton iterates agree to the predictor's tolerance.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

use super::cg_preconditioner::{build_flops, Preconditioner, Selection};
use super::range::Gram;
use crate::optim::linalg::gram_rows;

/// CG stops at `||H z - b|| <= CG_RTOL ||b||`.
pub(crate) const CG_RTOL: f64 = 1e-12;
/// The preconditioned path is tried from this rank on (below it the direct solve is cheap).
const MIN_RANK: usize = 200;
/// ... and when `d` is at least this many times `r`.
const MIN_ASPECT: usize = 4;
/// CG's iterations on the predictor's systems, as a fraction of the band's bound
/// `sqrt(max/min) ln(2 / CG_RTOL) / 2` (measured 10 to 12 of bounds 22 to 27, with the
/// weights clustered: 1000 x 10^4 sparse recovery, two layers).
const EXPECTED_OF_BOUND: f64 = 0.5;
/// One CG iteration (two memory-bound passes over `Xt`) costs about `1 / (r / this)` of
/// forming the weighted Gram (`r^2 d` flops of GEMM): measured 12 iterations per Gram at
/// `r = 1000`, `d = 10^4` on two cores.
const CG_PER_GRAM: usize = 80;

/// Whether systems of rank `r` over `d` coordinates may take the preconditioned path
/// (the caller then passes `Xt Xt^T`).
pub(crate) fn may_precondition(r: usize, d: usize) -> bool {
    r >= MIN_RANK && d >= MIN_ASPECT * r
}

/// How the last system was solved (for the prediction's counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Solved {
    /// Weighted Gram and Cholesky.
    Direct,
    /// Preconditioned CG, with its iterations.
    Cg(usize),
}

/// Solves `Xt diag(m) Xt^T z = b`; `g0 = Xt Xt^T` when the caller has it (the
/// preconditioned path needs it). `None` when `H` cannot be factored even with a ridge.
pub(crate) fn newton_solve(
    xt: &[f64],
    r: usize,
    d: usize,
    m: &[f64],
    b: &[f64],
    g0: Option<&Gram>,
) -> Option<(Vec<f64>, Solved)> {
    if let Some(g0) = g0.filter(|_| may_precondition(r, d)) {
        // The iterations CG may take and still cost less than the direct solve: the
        // Gram's r^2 d flops run at the GEMM's speed, an iteration's two passes over Xt
        // at the memory's, about r / CG_PER_GRAM iterations per Gram.
        let budget = (r / CG_PER_GRAM).max(10);
        if let Some(found) = preconditioned_cg(xt, r, d, m, b, g0, budget) {
            return Some(found);
        }
    }
    let h = gram_rows(xt, r, d, Some(m));
    spd_solve(&h, b).map(|z| (z, Solved::Direct))
}

/// Solves `H z = rhs` for the SPD `H` by Cholesky, adding a growing ridge if needed.
pub(crate) fn spd_solve(h: &Mat<f64>, rhs: &[f64]) -> Option<Vec<f64>> {
    let r = h.nrows();
    let b = Mat::from_fn(r, 1, |a, _| rhs[a]);
    let max_diag = (0..r).map(|a| h[(a, a)]).fold(0.0, f64::max);
    let mut ridge = 0.0;
    for _ in 0..6 {
        let hr = Mat::from_fn(r, r, |a, c| h[(a, c)] + if a == c { ridge } else { 0.0 });
        if let Ok(llt) = hr.llt(Side::Lower) {
            let z = llt.solve(&b);
            let out: Vec<f64> = (0..r).map(|a| z[(a, 0)]).collect();
            if out.iter().all(|v| v.is_finite()) {
                return Some(out);
            }
        }
        ridge = if ridge == 0.0 {
            1e-14 * max_diag
        } else {
            ridge * 100.0
        };
        if ridge.is_nan() || ridge <= 0.0 {
            return None;
        }
    }
    None
}

/// `out = Xt diag(m) Xt^T z`: two passes over `Xt` (the flow's SIMD kernels).
fn apply(xt: &[f64], m: &[f64], z: &[f64], scratch: &mut [f64], out: &mut [f64]) {
    scratch.fill(0.0);
    crate::par_kernel::mat_t_vec_add(xt, z, scratch);
    scratch.iter_mut().zip(m).for_each(|(s, w)| *s *= w);
    crate::par_kernel::mat_vec(xt, scratch, out);
}

/// CG on `H` preconditioned by `P` (module docs); `None` when the band of the remaining
/// weights is too wide for CG to converge in about `budget` iterations, or it does not
/// converge in them.
fn preconditioned_cg(
    xt: &[f64],
    r: usize,
    d: usize,
    m: &[f64],
    b: &[f64],
    g0: &Gram,
    budget: usize,
) -> Option<(Vec<f64>, Solved)> {
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_unstable_by(|&i, &j| m[j].total_cmp(&m[i]));
    let lo = m[order[d - 1]];
    if !(lo > 0.0 && m[order[0]].is_finite()) {
        return None;
    }
    let k = kept_count(&order, m, r, d, budget)?;
    let hi = m[order[k]];
    let mbar = (lo * hi).sqrt();
    let kept = &mut order[..k];
    // Ascending: the gather walks each row of Xt forwards.
    kept.sort_unstable();
    let selection = Selection {
        xt,
        d,
        m,
        kept,
        mbar,
    };
    let pre = Preconditioner::new(&selection, g0)?;
    let b_norm = crate::vector::norm(b);
    let mut z = vec![0.0; r];
    if b_norm == 0.0 {
        return Some((z, Solved::Cg(0)));
    }
    let mut scratch = vec![0.0; d];
    let mut hp = vec![0.0; r];
    let mut res = b.to_vec();
    let mut pre_res = pre.apply(&res);
    let mut dir = pre_res.clone();
    let mut rho: f64 = res.iter().zip(&pre_res).map(|(a, b)| a * b).sum();
    for it in 1..=budget {
        apply(xt, m, &dir, &mut scratch, &mut hp);
        let curv: f64 = dir.iter().zip(&hp).map(|(a, b)| a * b).sum();
        if curv.is_nan() || curv <= 0.0 {
            return None;
        }
        let step = rho / curv;
        z.iter_mut().zip(&dir).for_each(|(x, p)| *x += step * p);
        res.iter_mut().zip(&hp).for_each(|(x, h)| *x -= step * h);
        if crate::vector::norm(&res) <= CG_RTOL * b_norm {
            return Some((z, Solved::Cg(it)));
        }
        pre_res = pre.apply(&res);
        let rho_new: f64 = res.iter().zip(&pre_res).map(|(a, b)| a * b).sum();
        let beta = rho_new / rho;
        rho = rho_new;
        dir.iter_mut()
            .zip(&pre_res)
            .for_each(|(p, q)| *p = q + beta * *p);
    }
    None
}

/// How many of the largest weights (`order` sorts them descending) the preconditioner
/// keeps exactly: the `k` (0, 8, 16, 32, ... or `r`) of least expected cost, CG's
/// iterations (each two passes over `Xt`, a solve with `G0`'s factor and `4 r k` flops)
/// plus building `P^{-1}` (`2 r^2 k + r k^2` flops at the GEMM's speed); `None` when no
/// `k` is expected to converge within `budget`.
fn kept_count(order: &[usize], m: &[f64], r: usize, d: usize, budget: usize) -> Option<usize> {
    let lo = m[order[d - 1]];
    let (r_f, d_f) = (r as f64, d as f64);
    let expected =
        |k: usize| EXPECTED_OF_BOUND * 0.5 * (m[order[k]] / lo).sqrt() * (2.0 / CG_RTOL).ln();
    let cost = |k: usize| {
        let k_f = k as f64;
        let iteration = 1.0 + (r_f + 2.0 * k_f) / d_f;
        let (formed, woodbury) = build_flops(r_f, k_f);
        // A flop of GEMM costs 1 / (CG_PER_GRAM r d) of an iteration (CG_PER_GRAM's docs).
        let build = formed.min(woodbury) / (CG_PER_GRAM as f64 * r_f * d_f);
        expected(k) * iteration + build
    };
    let candidates = std::iter::once(0)
        .chain((3..).map(|j| 1usize << j).take_while(|&k| k < r))
        .chain(std::iter::once(r));
    candidates
        .filter(|&k| k < d && expected(k) <= budget as f64)
        .min_by(|&a, &b| cost(a).total_cmp(&cost(b)))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A seeded sequence uniform in [-0.5, 0.5) (a 64-bit LCG): test data, no dependency.
    pub(in crate::mirror) fn uniform_sequence(mut seed: u64) -> impl FnMut() -> f64 {
        move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        }
    }

    /// The preconditioned path against the direct solve (Cholesky of the full weighted
    /// Gram) on a 240 x 1200 system with weights of the predictor's shape: 30 large ones
    /// spread over six decades, the rest within a factor 10.
    #[test]
    fn cg_agrees_with_the_direct_solve() {
        let (r, d) = (240usize, 1200usize);
        let mut next = uniform_sequence(7);
        let xt: Vec<f64> = (0..r * d).map(|_| next()).collect();
        let m: Vec<f64> = (0..d)
            .map(|i| {
                if i % 40 == 0 {
                    10f64.powf(6.0 * (i as f64 / d as f64))
                } else {
                    1e-3 * 10f64.powf(next() + 0.5)
                }
            })
            .collect();
        let b: Vec<f64> = (0..r).map(|_| next()).collect();
        let matrix = gram_rows(&xt, r, d, None);
        let factor = matrix.llt(Side::Lower).unwrap();
        let g0 = Gram {
            matrix: std::borrow::Cow::Owned(matrix),
            factor: std::borrow::Cow::Owned(factor),
        };
        let (cg, how) = preconditioned_cg(&xt, r, d, &m, &b, &g0, 200).unwrap();
        assert!(matches!(how, Solved::Cg(_)), "{how:?}");
        let direct = spd_solve(&gram_rows(&xt, r, d, Some(&m)), &b).unwrap();
        // What the predictor calls gives the same answer whichever path it takes.
        let (either, _) = newton_solve(&xt, r, d, &m, &b, Some(&g0)).unwrap();
        let scale = direct.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let err = cg
            .iter()
            .zip(&direct)
            .fold(0.0f64, |a, (x, y)| a.max((x - y).abs()));
        assert!(err <= 1e-8 * scale, "{err:e} vs {scale:e} ({how:?})");
        let err = either
            .iter()
            .zip(&direct)
            .fold(0.0f64, |a, (x, y)| a.max((x - y).abs()));
        assert!(err <= 1e-8 * scale, "{err:e} vs {scale:e}");
    }
}
