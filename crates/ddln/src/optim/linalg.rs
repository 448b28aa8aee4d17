//! The linear algebra of the stiff integrator: a dense LU that allocates nothing after
//! construction, and the solver for `I - h gamma J` when `J` is a diagonal plus a
//! rank-`n` term built from `X` (the Jacobian of gradient flow for losses of the form
//! `sum_i ell(<x_i, theta>, y_i)`), and the weighted Gram matrix `A diag(s) A^T` of a
//! row-major matrix (shared with the predictor and the rate check).

use std::borrow::Cow;

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, MatMut, MatRef, Par};

use crate::error::Result;
use crate::kernel;
use crate::memory::Estimate;
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

/// The lower triangle of `A A^T` for the row-major `r x d` matrix `A` (mirrored).
pub(crate) fn gram_rows(a: &[f64], r: usize, d: usize, scale: Option<&[f64]>) -> Mat<f64> {
    let scaled: Cow<[f64]> = match scale {
        Some(m) => Cow::Owned(
            a.chunks_exact(d)
                .flat_map(|row| row.iter().zip(m).map(|(x, w)| x * w))
                .collect(),
        ),
        None => Cow::Borrowed(a),
    };
    // A row-major r x d matrix is the column-major d x r one: G = A^T B.
    let lhs = MatRef::from_column_major_slice(a, d, r);
    let rhs = MatRef::from_column_major_slice(&scaled, d, r);
    let mut g = Mat::<f64>::zeros(r, r);
    triangular::matmul(
        g.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Replace,
        lhs.transpose(),
        BlockStructure::Rectangular,
        rhs,
        BlockStructure::Rectangular,
        1.0,
        gram_parallelism(r, d),
    );
    for i in 0..r {
        for j in i + 1..r {
            g[(i, j)] = g[(j, i)];
        }
    }
    g
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

/// `J = diag(a) + diag(b) X^T diag(w) X diag(c)` for a row-major `n x d` matrix `X`, and
/// the factorization of `I - h gamma J` by the Woodbury identity (`n x n`) or densely.
///
/// With `Delta = diag(1 - h gamma a)`, `U = h gamma diag(b) X^T`, `V = diag(w) X diag(c)`:
/// `(Delta - U V)^{-1} = Delta^{-1} + Delta^{-1} U K^{-1} V Delta^{-1}` with the
/// capacitance matrix `K = I_n - V Delta^{-1} U = I_n - h gamma diag(w) X diag(c b / delta) X^T`.
/// A solve then costs two passes over `X` (like one gradient) plus an `n x n`
/// triangular solve; a factorization costs `n^2 d` (one matrix product) plus `n^3 / 3`.
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
    /// Per-sample curvature `w` (length `n`).
    pub w: Vec<f64>,
    h_gamma: f64,
    delta: Vec<f64>,
    /// `d x n` column-major: column `i` is `x_i ⊙ (c b / delta)` (Woodbury).
    scaled: Vec<f64>,
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
                .add("Jacobian factors (X scaled)", &[n, d])?
                .add("Jacobian LU (n x n)", &[n, n])?;
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
        let (lu_dim, scaled, gram) = match mode {
            SolveMode::Woodbury => (n, n * d, 0),
            SolveMode::Dense => (d, 0, d * d),
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
            scaled: vec![0.0; scaled],
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
        let (n, d) = (self.n, self.d);
        self.h_gamma = h_gamma;
        for (dl, &a) in self.delta.iter_mut().zip(&self.a) {
            *dl = 1.0 - h_gamma * a;
        }
        if self.delta.iter().any(|&v| v == 0.0 || !v.is_finite()) {
            return false;
        }
        match self.mode {
            SolveMode::Woodbury => {
                for j in 0..d {
                    self.coef[j] = h_gamma * self.b[j] / self.delta[j];
                    self.tmp_d[j] = self.c[j] * self.b[j] / self.delta[j];
                }
                // scaled = diag(c b / delta) X^T  (d x n, column-major = row-major rows of X)
                for (col, row) in self.scaled.chunks_exact_mut(d).zip(x.chunks_exact(d)) {
                    for ((s, &xij), &e) in col.iter_mut().zip(row).zip(&self.tmp_d) {
                        *s = xij * e;
                    }
                }
                let xt = MatRef::from_column_major_slice(x, d, n);
                let sc = MatRef::from_column_major_slice(&self.scaled, d, n);
                // lu.a (row-major n x n) = X diag(cb/delta) X^T, written as a column-major
                // matrix (the product is symmetric in the index roles: entry (i, k) is
                // sum_j x_ij e_j x_kj either way).
                // Only the lower half is computed (half the flops), then mirrored.
                let mut k = MatMut::from_column_major_slice_mut(&mut self.lu.a, n, n);
                triangular::matmul(
                    k.as_mut(),
                    BlockStructure::TriangularLower,
                    Accum::Replace,
                    xt.transpose(),
                    BlockStructure::Rectangular,
                    sc,
                    BlockStructure::Rectangular,
                    1.0,
                    gram_parallelism(n, d),
                );
                for i in 0..n {
                    for j in i + 1..n {
                        self.lu.a[j * n + i] = self.lu.a[i * n + j];
                    }
                }
                // K = I - h gamma diag(w) (X diag(e) X^T): row i scaled by w_i.
                for (i, row) in self.lu.a.chunks_exact_mut(n).enumerate() {
                    let s = -h_gamma * self.w[i];
                    for v in row.iter_mut() {
                        *v *= s;
                    }
                    row[i] += 1.0;
                }
            }
            SolveMode::Dense => {
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
            }
        }
        self.lu.factor()
    }

    /// Solves `(I - h_gamma J) u = r` in place (after a successful [`DiagLowRank::factor`]).
    pub fn solve(&mut self, x: &[f64], r: &mut [f64]) {
        match self.mode {
            SolveMode::Dense => self.lu.solve(r),
            SolveMode::Woodbury => {
                // r' = r / delta; s = diag(w) X (c ⊙ r'); z = K^{-1} s;
                // u = r' + (h gamma b / delta) ⊙ X^T z.
                for ((v, &dl), (t, &cj)) in r
                    .iter_mut()
                    .zip(&self.delta)
                    .zip(self.tmp_d.iter_mut().zip(&self.c))
                {
                    *v /= dl;
                    *t = cj * *v;
                }
                kernel::mat_vec(x, &self.tmp_d, &mut self.tmp_n);
                for (s, &wi) in self.tmp_n.iter_mut().zip(&self.w) {
                    *s *= wi;
                }
                self.lu.solve(&mut self.tmp_n);
                self.tmp_d.fill(0.0);
                kernel::mat_t_vec_add(x, &self.tmp_n, &mut self.tmp_d);
                for ((v, &t), &k) in r.iter_mut().zip(&self.tmp_d).zip(&self.coef) {
                    *v += k * t;
                }
            }
        }
    }
}
