//! The linear algebra of the stiff integrator: a dense LU that allocates nothing after
//! construction, and the solver for `I - h gamma J` when `J` is a diagonal plus a
//! rank-`n` term built from `X` (the Jacobian of gradient flow for losses of the form
//! `sum_i ell(<x_i, theta>, y_i)`), and the weighted Gram matrix `A diag(s) A^T` of a
//! row-major matrix (shared with the predictor and the rate check).

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::linalg::solvers::{Llt, PartialPivLu, Solve};
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};

use crate::error::Result;
use crate::memory::Estimate;
use crate::par_kernel;
use crate::problem::dot;

/// LU factorization with partial pivoting of an `n x n` row-major matrix, in place.
#[derive(Debug, Clone)]
pub struct DenseLu {
    n: usize,
    /// The matrix before [`DenseLu::factor`], its L (unit, below) and U factors after.
    pub a: Vec<f64>,
    piv: Vec<usize>,
}

impl DenseLu {
    /// Buffers for an `n x n` matrix.
    pub fn new(n: usize) -> Self {
        DenseLu {
            n,
            a: vec![0.0; n * n],
            piv: vec![0; n],
        }
    }

    /// Factors `a` in place. Returns `false` when a pivot is zero or non-finite.
    ///
    /// Compiled for AVX2 when the CPU has it (no FMA: the factors are the same bit for
    /// bit either way).
    pub fn factor(&mut self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above).
                return unsafe { lu_in_place_avx2(self.n, &mut self.a, &mut self.piv) };
            }
        }
        lu_in_place(self.n, &mut self.a, &mut self.piv)
    }

    /// Solves `A x = b` in place with the factors of the last successful [`DenseLu::factor`].
    pub fn solve(&self, b: &mut [f64]) {
        lu_solve(self.n, &self.a, &self.piv, b);
    }
}

/// Solves `A x = b` in place from the factors that [`lu_in_place`] left in `a`, `piv`.
pub(crate) fn lu_solve(n: usize, a: &[f64], piv: &[usize], b: &mut [f64]) {
    for (k, &p) in piv.iter().enumerate().take(n) {
        b.swap(k, p);
    }
    for i in 0..n {
        let s = dot(&a[i * n..i * n + i], &b[..i]);
        b[i] -= s;
    }
    for i in (0..n).rev() {
        let s = dot(&a[i * n + i + 1..(i + 1) * n], &b[i + 1..]);
        b[i] = (b[i] - s) / a[i * n + i];
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn lu_in_place_avx2(n: usize, a: &mut [f64], piv: &mut [usize]) -> bool {
    lu_in_place(n, a, piv)
}

/// Row-major LU with partial pivoting of the `n x n` matrix `a`, in place. Returns
/// `false` when a pivot is zero or non-finite.
#[inline(always)]
pub(crate) fn lu_in_place(n: usize, a: &mut [f64], piv: &mut [usize]) -> bool {
    for k in 0..n {
        let (mut p, mut best) = (k, a[k * n + k].abs());
        for i in k + 1..n {
            let v = a[i * n + k].abs();
            if v > best {
                p = i;
                best = v;
            }
        }
        if !(best.is_finite() && best > 0.0) {
            return false;
        }
        piv[k] = p;
        if p != k {
            for j in 0..n {
                a.swap(k * n + j, p * n + j);
            }
        }
        let inv = 1.0 / a[k * n + k];
        let (upper, lower) = a.split_at_mut((k + 1) * n);
        let pivot_row = &upper[k * n + k + 1..k * n + n];
        for row in lower.chunks_exact_mut(n) {
            let l = row[k] * inv;
            row[k] = l;
            if l != 0.0 {
                for (x, &u) in row[k + 1..].iter_mut().zip(pivot_row) {
                    *x -= l * u;
                }
            }
        }
    }
    true
}

/// Columns of `A` scaled at a time by [`gram_rows`]: a block of about 2^22 entries
/// (32 MB), never fewer than this many columns (the product's inner dimension, long
/// enough for the GEMM's full speed).
const GRAM_MIN_BLOCK: usize = 256;

/// `A diag(s) A^T` (`A A^T` without `scale`) for the row-major `r x d` matrix `A`: the
/// lower triangle computed, the upper mirrored.
///
/// With a scale, the columns are scaled a block at a time into one `r x block` buffer and
/// the block products accumulated, so no scaled copy of `A` is ever held (at
/// `r = 10^4`, `d = 10^5` that copy alone would be 8 GB).
pub(crate) fn gram_rows(a: &[f64], r: usize, d: usize, scale: Option<&[f64]>) -> Mat<f64> {
    gram_rows_blocked(a, r, d, scale, gram_block(r, d))
}

/// [`gram_rows`] with `block` columns scaled at a time.
fn gram_rows_blocked(
    a: &[f64],
    r: usize,
    d: usize,
    scale: Option<&[f64]>,
    block: usize,
) -> Mat<f64> {
    let mut g = Mat::<f64>::zeros(r, r);
    let mut scratch = vec![0.0; if scale.is_some() { r * block } else { 0 }];
    gram_rows_into(a, r, d, scale, &mut scratch, g.as_mut());
    g
}

/// [`gram_rows`] into `g` (`r x r`), scaling `scratch.len() / r` columns at a time in
/// `scratch` (unused without a scale): the stiff solver's factorizations reuse both.
pub(crate) fn gram_rows_into(
    a: &[f64],
    r: usize,
    d: usize,
    scale: Option<&[f64]>,
    scratch: &mut [f64],
    mut g: MatMut<'_, f64>,
) {
    // A row-major r x d matrix is the column-major d x r one: G = A^T B.
    let lhs = MatRef::from_column_major_slice(a, d, r);
    let par = gram_parallelism(r, d);
    let mut product = |lhs: MatRef<'_, f64>, rhs: MatRef<'_, f64>, accum| {
        triangular::matmul(
            g.as_mut(),
            BlockStructure::TriangularLower,
            accum,
            lhs.transpose(),
            BlockStructure::Rectangular,
            rhs,
            BlockStructure::Rectangular,
            1.0,
            par,
        )
    };
    match scale {
        None => product(lhs, lhs, Accum::Replace),
        Some(s) => {
            let block = (scratch.len() / r.max(1)).max(1);
            for start in (0..d).step_by(block) {
                let width = block.min(d - start);
                let buf = &mut scratch[..r * width];
                for (out, row) in buf.chunks_exact_mut(width).zip(a.chunks_exact(d)) {
                    let cols = &row[start..start + width];
                    for ((o, &x), &w) in out.iter_mut().zip(cols).zip(&s[start..start + width]) {
                        *o = x * w;
                    }
                }
                let accum = if start == 0 {
                    Accum::Replace
                } else {
                    Accum::Add
                };
                product(
                    lhs.subrows(start, width),
                    MatRef::from_column_major_slice(buf, width, r),
                    accum,
                );
            }
        }
    }
    for i in 0..r {
        for j in i + 1..r {
            g[(i, j)] = g[(j, i)];
        }
    }
}

/// Columns per block of [`gram_rows`] for an `r x d` matrix.
pub(crate) fn gram_block(r: usize, d: usize) -> usize {
    ((1usize << 22) / r.max(1))
        .max(GRAM_MIN_BLOCK)
        .min(d.max(1))
}

/// Threads for the `n x n` product `X diag(e) X^T`: all of the pool once the product is
/// large enough (`n^2 d` above 5e7 multiply-adds) to amortize the fork (measured: at
/// `n = 100, d = 1000` two threads are slower than one on a shared 2-core machine).
pub(crate) fn gram_parallelism(n: usize, d: usize) -> Par {
    if n * n * d >= 50_000_000 {
        Par::rayon(0)
    } else {
        Par::Seq
    }
}

/// How [`DiagLowRank`] solves `I - h gamma J`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolveMode {
    /// Woodbury identity: an `n x n` LU (chosen when `n < d`).
    Woodbury,
    /// Dense `d x d` LU (chosen when `n >= d`).
    Dense,
}

/// The factored capacitance matrix of [`DiagLowRank`]'s Woodbury solve.
#[derive(Debug, Clone)]
enum Capacitance {
    /// Not factored yet (or the last factorization failed).
    None,
    /// Cholesky: `K` is positive definite (every weight of the low-rank term of
    /// `I - h gamma J` of one sign, the case of a gradient flow's stable directions).
    Llt(Llt<f64>),
    /// LU with partial pivoting: `K` is symmetric but indefinite.
    Lu(PartialPivLu<f64>),
}

/// `J = diag(a) + diag(b) X^T diag(w) X diag(c)` for a row-major `n x d` matrix `X` and
/// curvatures `w >= 0` (the losses are convex), and the factorization of `I - h gamma J`
/// by the Woodbury identity (`n x n`) or densely.
///
/// With `Delta = diag(1 - h gamma a)`, `S = diag(w)^{1/2}`, `U = h gamma diag(b) X^T S`
/// and `V = S X diag(c)`: `(Delta - U V)^{-1} = Delta^{-1} + Delta^{-1} U K^{-1} V Delta^{-1}`
/// with the symmetric capacitance matrix
/// `K = I_n - V Delta^{-1} U = I_n - h gamma S X diag(c b / delta) X^T S`, factored by
/// Cholesky when it is positive definite and by LU otherwise. A solve then costs two
/// passes over `X` (like one gradient) plus two `n x n` triangular solves; a
/// factorization costs `n^2 d` flops (one matrix product, half of it computed) plus
/// `n^3 / 3`, and holds nothing of size `n x d` (the product scales `X` a block of
/// columns at a time).
#[derive(Debug, Clone)]
pub struct DiagLowRank {
    n: usize,
    d: usize,
    mode: SolveMode,
    /// Diagonal part `a` (length `d`).
    pub a: Vec<f64>,
    /// Left scaling `b` (length `d`).
    pub b: Vec<f64>,
    /// Right scaling `c` (length `d`).
    pub c: Vec<f64>,
    /// Per-sample curvature `w >= 0` (length `n`).
    pub w: Vec<f64>,
    h_gamma: f64,
    delta: Vec<f64>,
    /// `sqrt(w)` (Woodbury).
    sqrt_w: Vec<f64>,
    /// `K` before its factorization, and the column block its product scales (Woodbury).
    k: Mat<f64>,
    block: Vec<f64>,
    capacitance: Capacitance,
    /// `d x d` row-major `X^T diag(w) X` (dense mode), rebuilt when `w` changes.
    gram: Vec<f64>,
    gram_w: Vec<f64>,
    lu: DenseLu,
    /// `h gamma b / delta` (Woodbury back-substitution).
    coef: Vec<f64>,
    tmp_n: Vec<f64>,
    tmp_d: Vec<f64>,
}

impl DiagLowRank {
    /// Buffers for `X` of `n x d`; the mode is Woodbury when `n < d`, dense otherwise.
    pub fn new(n: usize, d: usize) -> Self {
        let mode = if n < d {
            SolveMode::Woodbury
        } else {
            SolveMode::Dense
        };
        Self::with_mode(n, d, mode)
    }

    /// Adds what [`DiagLowRank::new`] allocates for `X` of `n x d` to `estimate`.
    pub(crate) fn memory(n: usize, d: usize, estimate: &mut Estimate) -> Result<()> {
        if n < d {
            estimate
                .add("Jacobian capacitance (n x n) and its factor", &[2, n, n])?
                .add("Jacobian column block", &[n, gram_block(n, d)])?;
        } else {
            estimate
                .add("Jacobian Gram (d x d)", &[d, d])?
                .add("Jacobian LU (d x d)", &[d, d])?;
        }
        estimate.add("Jacobian vectors", &[8, d + n])?;
        Ok(())
    }

    /// Buffers for `X` of `n x d` and a forced solve mode (tests compare the two).
    pub fn with_mode(n: usize, d: usize, mode: SolveMode) -> Self {
        let (lu_dim, gram, k) = match mode {
            SolveMode::Woodbury => (0, 0, n),
            SolveMode::Dense => (d, d * d, 0),
        };
        DiagLowRank {
            n,
            d,
            mode,
            a: vec![0.0; d],
            b: vec![0.0; d],
            c: vec![0.0; d],
            w: vec![0.0; n],
            h_gamma: 0.0,
            delta: vec![0.0; d],
            sqrt_w: vec![0.0; n],
            k: Mat::zeros(k, k),
            block: vec![0.0; if k > 0 { n * gram_block(n, d) } else { 0 }],
            capacitance: Capacitance::None,
            gram: vec![0.0; gram],
            gram_w: vec![f64::NAN; if gram > 0 { n } else { 0 }],
            lu: DenseLu::new(lu_dim),
            coef: vec![0.0; d],
            tmp_n: vec![0.0; n],
            tmp_d: vec![0.0; d],
        }
    }

    /// The solve mode.
    pub fn mode(&self) -> SolveMode {
        self.mode
    }

    /// How the last [`DiagLowRank::factor`] factored: `"cholesky"` or `"lu"` (Woodbury's
    /// capacitance), `"dense lu"`, or `"none"` when it failed (for tests and diagnostics).
    pub fn factorization(&self) -> &'static str {
        match (&self.mode, &self.capacitance) {
            (SolveMode::Dense, _) => "dense lu",
            (_, Capacitance::Llt(_)) => "cholesky",
            (_, Capacitance::Lu(_)) => "lu",
            (_, Capacitance::None) => "none",
        }
    }

    /// `out = J v`, in two passes over `x` (for tests and diagnostics).
    pub fn apply(&mut self, x: &[f64], v: &[f64], out: &mut [f64]) {
        let d = self.d;
        for (i, row) in x.chunks_exact(d).enumerate() {
            let mut s = 0.0;
            for ((&xij, &cj), &vj) in row.iter().zip(&self.c).zip(v) {
                s += xij * cj * vj;
            }
            self.tmp_n[i] = self.w[i] * s;
        }
        out.fill(0.0);
        for (row, &t) in x.chunks_exact(d).zip(&self.tmp_n) {
            for (o, &xij) in out.iter_mut().zip(row) {
                *o += t * xij;
            }
        }
        for (j, o) in out.iter_mut().enumerate() {
            *o = self.a[j] * v[j] + self.b[j] * *o;
        }
    }

    /// Factors `I - h_gamma J` for the current `a, b, c, w`. Returns `false` when the
    /// matrix is numerically singular (the caller should shrink the step).
    pub fn factor(&mut self, x: &[f64], h_gamma: f64) -> bool {
        self.h_gamma = h_gamma;
        self.capacitance = Capacitance::None;
        for (dl, &a) in self.delta.iter_mut().zip(&self.a) {
            *dl = 1.0 - h_gamma * a;
        }
        if self.delta.iter().any(|&v| v == 0.0 || !v.is_finite()) {
            return false;
        }
        match self.mode {
            SolveMode::Woodbury => self.factor_capacitance(x, h_gamma),
            SolveMode::Dense => self.factor_dense(x, h_gamma),
        }
    }

    /// The Woodbury path of [`DiagLowRank::factor`]: `K` formed and factored.
    fn factor_capacitance(&mut self, x: &[f64], h_gamma: f64) -> bool {
        let (n, d) = (self.n, self.d);
        for j in 0..d {
            self.coef[j] = h_gamma * self.b[j] / self.delta[j];
            self.tmp_d[j] = self.c[j] * self.b[j] / self.delta[j];
        }
        for (s, &w) in self.sqrt_w.iter_mut().zip(&self.w) {
            *s = w.sqrt();
        }
        if !self.sqrt_w.iter().all(|s| s.is_finite()) {
            return false;
        }
        // K = I - h gamma S (X diag(cb/delta) X^T) S.
        let k = &mut self.k;
        gram_rows_into(x, n, d, Some(&self.tmp_d), &mut self.block, k.as_mut());
        for j in 0..n {
            let sj = -h_gamma * self.sqrt_w[j];
            for i in 0..n {
                k[(i, j)] *= sj * self.sqrt_w[i];
            }
            k[(j, j)] += 1.0;
        }
        if let Ok(llt) = k.llt(Side::Lower) {
            self.capacitance = Capacitance::Llt(llt);
            return true;
        }
        let lu = k.partial_piv_lu();
        let u = lu.U();
        let regular = (0..n).all(|i| u[(i, i)] != 0.0 && u[(i, i)].is_finite());
        if regular {
            self.capacitance = Capacitance::Lu(lu);
        }
        regular
    }

    /// The dense path of [`DiagLowRank::factor`]: `I - h gamma J` formed (`d x d`) and
    /// factored.
    fn factor_dense(&mut self, x: &[f64], h_gamma: f64) -> bool {
        let d = self.d;
        if self.gram_w != self.w {
            self.gram.fill(0.0);
            for (row, &wi) in x.chunks_exact(d).zip(&self.w) {
                for j in 0..d {
                    let s = wi * row[j];
                    let g = &mut self.gram[j * d..(j + 1) * d];
                    for (gk, &xk) in g.iter_mut().zip(row) {
                        *gk += s * xk;
                    }
                }
            }
            self.gram_w.copy_from_slice(&self.w);
        }
        for i in 0..d {
            let s = -h_gamma * self.b[i];
            let row = &mut self.lu.a[i * d..(i + 1) * d];
            for ((v, &g), &cj) in row
                .iter_mut()
                .zip(&self.gram[i * d..(i + 1) * d])
                .zip(&self.c)
            {
                *v = s * g * cj;
            }
            row[i] += self.delta[i];
        }
        self.lu.factor()
    }

    /// Solves `(I - h_gamma J) u = r` in place (after a successful [`DiagLowRank::factor`]).
    pub fn solve(&mut self, x: &[f64], r: &mut [f64]) {
        match self.mode {
            SolveMode::Dense => self.lu.solve(r),
            SolveMode::Woodbury => {
                // r' = r / delta; s = S X (c ⊙ r'); z = S K^{-1} s;
                // u = r' + (h gamma b / delta) ⊙ X^T z.
                for ((v, &dl), (t, &cj)) in r
                    .iter_mut()
                    .zip(&self.delta)
                    .zip(self.tmp_d.iter_mut().zip(&self.c))
                {
                    *v /= dl;
                    *t = cj * *v;
                }
                par_kernel::mat_vec(x, &self.tmp_d, &mut self.tmp_n);
                for (s, &sw) in self.tmp_n.iter_mut().zip(&self.sqrt_w) {
                    *s *= sw;
                }
                let z = MatMut::from_column_major_slice_mut(&mut self.tmp_n, self.n, 1);
                match &self.capacitance {
                    Capacitance::Llt(f) => f.solve_in_place(z),
                    Capacitance::Lu(f) => f.solve_in_place(z),
                    // No factorization: a non-finite result, which the integrator
                    // rejects like any other failed step.
                    Capacitance::None => self.tmp_n.fill(f64::NAN),
                }
                for (s, &sw) in self.tmp_n.iter_mut().zip(&self.sqrt_w) {
                    *s *= sw;
                }
                self.tmp_d.fill(0.0);
                par_kernel::mat_t_vec_add(x, &self.tmp_n, &mut self.tmp_d);
                for ((v, &t), &k) in r.iter_mut().zip(&self.tmp_d).zip(&self.coef) {
                    *v += k * t;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blocked weighted Gram against plain triple loops written here (the reference):
    /// blocks of 1, 3 and 7 columns and the whole width, to 1e-13 relative.
    #[test]
    fn blocked_gram_equals_the_plain_sum() {
        let (r, d) = (6usize, 20usize);
        let a: Vec<f64> = (0..r * d).map(|k| ((k * 37 % 101) as f64).sin()).collect();
        let s: Vec<f64> = (0..d).map(|j| (j as f64 * 0.7).cos() * 3.0).collect();
        for block in [1usize, 3, 7, d] {
            let g = gram_rows_blocked(&a, r, d, Some(&s), block);
            for i in 0..r {
                for k in 0..r {
                    let want: f64 = (0..d).map(|j| a[i * d + j] * s[j] * a[k * d + j]).sum();
                    assert!(
                        (g[(i, k)] - want).abs() <= 1e-13 * want.abs().max(1.0),
                        "block {block}, ({i}, {k}): {} vs {want}",
                        g[(i, k)]
                    );
                }
            }
        }
    }
}
