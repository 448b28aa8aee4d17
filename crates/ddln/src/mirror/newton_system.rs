//! The predictor's Newton system `H z = b`, `H = Xt diag(m) Xt^T` (`r x r`, `Xt` row-major
//! `r x d`; docs/math.md section 7, "Solving the Newton systems").
//!
//! Directly, `H` costs `r^2 d` flops (the weighted Gram) and a Cholesky factorization.
//! When `r` is large and `d >> r`, the weights of all but the `r` largest (`S`) usually lie
//! within a narrow band: then conjugate gradients are preconditioned by
//!
//! ```text
//! P = Xt_S diag(m_S) Xt_S^T + mbar Xt_R Xt_R^T = mbar G0 + Xt_S diag(m_S - mbar) Xt_S^T
//! ```
//!
//! (`R` the other coordinates, `G0 = Xt Xt^T` formed once, `mbar` the geometric mean of
//! the extreme weights on `R`): `r^3` flops instead of `r^2 d`, and the spectrum of
//! `P^{-1} H` lies in `[min(1, m_min/mbar), max(1, m_max/mbar)]` over `R`, so CG needs
//! at most about `sqrt(m_max/m_min)` iterations of two passes over `Xt`. Where that bound
//! is more than twice what still pays, or CG does not reach its tolerance within what
//! pays, the direct solve runs. Both solve the same system to a relative residual of [`CG_RTOL`] or
//! better, so the Newton iterates agree to the predictor's tolerance.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

use super::range::gram_rows;

/// CG stops at `||H z - b|| <= CG_RTOL ||b||`.
pub(crate) const CG_RTOL: f64 = 1e-12;
/// The preconditioned path is tried from this rank on (below it the direct solve is cheap).
const MIN_RANK: usize = 200;
/// ... and when `d` is at least this many times `r`.
const MIN_ASPECT: usize = 4;
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
    g0: Option<&Mat<f64>>,
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
    crate::kernel::mat_t_vec_add(xt, z, scratch);
    scratch.iter_mut().zip(m).for_each(|(s, w)| *s *= w);
    crate::kernel::mat_vec(xt, scratch, out);
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
    g0: &Mat<f64>,
    budget: usize,
) -> Option<(Vec<f64>, Solved)> {
    let mut order: Vec<usize> = (0..d).collect();
    order.select_nth_unstable_by(r - 1, |&i, &j| m[j].total_cmp(&m[i]));
    let (kept, rest) = order.split_at_mut(r);
    // Ascending: the gather below walks each row of Xt forwards.
    kept.sort_unstable();
    let (lo, hi) = rest.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &i| {
        (lo.min(m[i]), hi.max(m[i]))
    });
    if !(lo > 0.0 && hi.is_finite()) {
        return None;
    }
    // CG on a clustered spectrum usually needs far fewer iterations than the band's
    // bound: worth a try up to twice the budget.
    let bound = 0.5 * (hi / lo).sqrt() * (2.0 / CG_RTOL).ln();
    if bound > 2.0 * budget as f64 {
        return None;
    }
    let mbar = (lo * hi).sqrt();
    let kept_rows: Vec<f64> = (0..r)
        .flat_map(|a| kept.iter().map(move |&i| xt[a * d + i]))
        .collect();
    let weights: Vec<f64> = kept.iter().map(|&i| m[i] - mbar).collect();
    let low_rank = gram_rows(&kept_rows, r, r, Some(&weights));
    let p = Mat::from_fn(r, r, |a, c| mbar * g0[(a, c)] + low_rank[(a, c)]);
    let llt = p.llt(Side::Lower).ok()?;
    let precondition = |v: &[f64]| -> Vec<f64> {
        let sol = llt.solve(Mat::from_fn(r, 1, |a, _| v[a]));
        (0..r).map(|a| sol[(a, 0)]).collect()
    };
    let b_norm = crate::vector::norm(b);
    let mut z = vec![0.0; r];
    if b_norm == 0.0 {
        return Some((z, Solved::Cg(0)));
    }
    let mut scratch = vec![0.0; d];
    let mut hp = vec![0.0; r];
    let mut res = b.to_vec();
    let mut pre = precondition(&res);
    let mut dir = pre.clone();
    let mut rho: f64 = res.iter().zip(&pre).map(|(a, b)| a * b).sum();
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
        pre = precondition(&res);
        let rho_new: f64 = res.iter().zip(&pre).map(|(a, b)| a * b).sum();
        let beta = rho_new / rho;
        rho = rho_new;
        dir.iter_mut()
            .zip(&pre)
            .for_each(|(p, q)| *p = q + beta * *p);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The preconditioned path against the direct solve (Cholesky of the full weighted
    /// Gram) on a 240 x 1200 system with weights of the predictor's shape: 30 large ones
    /// spread over six decades, the rest within a factor 10.
    #[test]
    fn cg_agrees_with_the_direct_solve() {
        let (r, d) = (240usize, 1200usize);
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
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
        let g0 = gram_rows(&xt, r, d, None);
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
