//! The passes over a row-major `X` that every gradient, Jacobian solve and residual makes:
//! `out = X v`, `out += X^T z` and the fused gradient `sum_i ell'(<x_i, theta>, y_i) x_i`.
//!
//! Rows are taken four at a time, so that one sweep shares the loads of `v` (or of the
//! accumulator) between four rows while those rows stay in the L1 cache. The arithmetic
//! is the row-at-a-time one in the same order: each `<x_i, v>` is
//! [`crate::vector::dot`]'s four-lane sum, and the accumulator receives
//! `((acc + s_0 x_0) + s_1 x_1) + ...` row after row. Results are therefore the same bit
//! for bit as the simple loops, whatever the blocking or the instruction set; AVX2 (no FMA,
//! which would round differently) is used when the CPU has it, detected at run time.

use crate::loss::{Loss, SampleLoss};
use crate::vector::dot;

/// Lanes of the dot-product accumulators (the association of [`crate::vector::dot`]).
const LANES: usize = 4;

/// Returns `$avx2(args)` when the CPU has AVX2 and `$generic(args)` otherwise (the same
/// source compiled for the two instruction sets).
macro_rules! dispatch {
    ($avx2:ident, $generic:ident, ($($arg:expr),*)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above).
                return unsafe { $avx2($($arg),*) };
            }
        }
        $generic($($arg),*)
    }};
}

/// `out_i = <x_i, v>` for the `out.len()` rows of `x` (row length `v.len() >= 1`).
pub fn mat_vec(x: &[f64], v: &[f64], out: &mut [f64]) {
    debug_assert_eq!(x.len(), v.len() * out.len());
    dispatch!(mat_vec_avx2, mat_vec_generic, (x, v, out))
}

/// `out += sum_i z_i x_i` over the `z.len()` rows of `x` (row length `out.len() >= 1`).
pub fn mat_t_vec_add(x: &[f64], z: &[f64], out: &mut [f64]) {
    debug_assert_eq!(x.len(), z.len() * out.len());
    dispatch!(mat_t_vec_add_avx2, mat_t_vec_add_generic, (x, z, out))
}

/// [`mat_t_vec_add`] on the columns `col0 .. col0 + out.len()` of the rows (of length
/// `stride`) of `x`: the same bits for those entries as the whole pass.
pub fn mat_t_vec_add_cols(x: &[f64], stride: usize, col0: usize, z: &[f64], out: &mut [f64]) {
    debug_assert_eq!(x.len(), z.len() * stride);
    debug_assert!(col0 + out.len() <= stride);
    dispatch!(
        mat_t_vec_add_cols_avx2,
        mat_t_vec_add_cols_generic,
        (x, stride, col0, z, out)
    )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn mat_t_vec_add_cols_avx2(
    x: &[f64],
    stride: usize,
    col0: usize,
    z: &[f64],
    out: &mut [f64],
) {
    mat_t_vec_add_cols_generic(x, stride, col0, z, out)
}

#[inline(always)]
fn mat_t_vec_add_cols_generic(x: &[f64], stride: usize, col0: usize, z: &[f64], out: &mut [f64]) {
    let width = out.len();
    let cols = |i: usize| &x[i * stride + col0..i * stride + col0 + width];
    let mut zs = z.chunks_exact(4);
    let mut i = 0;
    for s in &mut zs {
        axpy4_rows(
            [cols(i), cols(i + 1), cols(i + 2), cols(i + 3)],
            [s[0], s[1], s[2], s[3]],
            out,
        );
        i += 4;
    }
    for &s in zs.remainder() {
        axpy1(cols(i), s, out);
        i += 1;
    }
}

/// `grad = sum_i ell'(<x_i, theta>, y_i) x_i` over the rows of `x` (one pass: each block
/// of rows is read for its residuals, then accumulated while still in cache); returns
/// `sum_i ell(<x_i, theta>, y_i)`.
pub fn gradient(x: &[f64], y: &[f64], loss: Loss, theta: &[f64], grad: &mut [f64]) -> f64 {
    debug_assert_eq!(x.len(), y.len() * theta.len());
    dispatch!(gradient_avx2, gradient_generic, (x, y, loss, theta, grad))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn mat_vec_avx2(x: &[f64], v: &[f64], out: &mut [f64]) {
    mat_vec_with(x, v, out, |b, v| unsafe { dot4_avx2(b, v) })
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn mat_t_vec_add_avx2(x: &[f64], z: &[f64], out: &mut [f64]) {
    mat_t_vec_add_generic(x, z, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gradient_avx2(x: &[f64], y: &[f64], loss: Loss, theta: &[f64], grad: &mut [f64]) -> f64 {
    gradient_with(x, y, loss, theta, grad, |b, v| unsafe { dot4_avx2(b, v) })
}

fn mat_vec_generic(x: &[f64], v: &[f64], out: &mut [f64]) {
    mat_vec_with(x, v, out, dot4)
}

#[inline(always)]
fn mat_vec_with(x: &[f64], v: &[f64], out: &mut [f64], dot4: impl Fn(&[f64], &[f64]) -> [f64; 4]) {
    let d = v.len();
    let mut blocks = x.chunks_exact(4 * d);
    let mut outs = out.chunks_exact_mut(4);
    for (block, o) in (&mut blocks).zip(&mut outs) {
        o.copy_from_slice(&dot4(block, v));
    }
    for (row, o) in blocks
        .remainder()
        .chunks_exact(d)
        .zip(outs.into_remainder())
    {
        *o = dot(row, v);
    }
}

#[inline(always)]
fn mat_t_vec_add_generic(x: &[f64], z: &[f64], out: &mut [f64]) {
    let d = out.len();
    let mut blocks = x.chunks_exact(4 * d);
    let mut zs = z.chunks_exact(4);
    for (block, s) in (&mut blocks).zip(&mut zs) {
        axpy4(block, [s[0], s[1], s[2], s[3]], out);
    }
    for (row, &s) in blocks.remainder().chunks_exact(d).zip(zs.remainder()) {
        axpy1(row, s, out);
    }
}

fn gradient_generic(x: &[f64], y: &[f64], loss: Loss, theta: &[f64], grad: &mut [f64]) -> f64 {
    gradient_with(x, y, loss, theta, grad, dot4)
}

#[inline(always)]
fn gradient_with(
    x: &[f64],
    y: &[f64],
    loss: Loss,
    theta: &[f64],
    grad: &mut [f64],
    dot4: impl Fn(&[f64], &[f64]) -> [f64; 4],
) -> f64 {
    let d = theta.len();
    grad.fill(0.0);
    let mut total = 0.0;
    let mut blocks = x.chunks_exact(4 * d);
    let mut ys = y.chunks_exact(4);
    for (block, yb) in (&mut blocks).zip(&mut ys) {
        let z = dot4(block, theta);
        let mut slopes = [0.0; 4];
        for k in 0..4 {
            let (value, slope) = loss.value_and_slope(z[k], yb[k]);
            total += value;
            slopes[k] = slope;
        }
        axpy4(block, slopes, grad);
    }
    for (row, &yi) in blocks.remainder().chunks_exact(d).zip(ys.remainder()) {
        let (value, slope) = loss.value_and_slope(dot(row, theta), yi);
        total += value;
        axpy1(row, slope, grad);
    }
    total
}

/// `<x_k, v>` for the four rows of `block`, each with [`dot`]'s association.
#[inline(always)]
fn dot4(block: &[f64], v: &[f64]) -> [f64; 4] {
    let d = v.len();
    let (r0, rest) = block.split_at(d);
    let (r1, rest) = rest.split_at(d);
    let (r2, r3) = rest.split_at(d);
    let body = d - d % LANES;
    let mut acc = [[0.0; LANES]; 4];
    for ((((vc, c0), c1), c2), c3) in v[..body]
        .chunks_exact(LANES)
        .zip(r0[..body].chunks_exact(LANES))
        .zip(r1[..body].chunks_exact(LANES))
        .zip(r2[..body].chunks_exact(LANES))
        .zip(r3[..body].chunks_exact(LANES))
    {
        // One row's lanes at a time: each line below is one vector multiply and add.
        lane_madd(&mut acc[0], c0, vc);
        lane_madd(&mut acc[1], c1, vc);
        lane_madd(&mut acc[2], c2, vc);
        lane_madd(&mut acc[3], c3, vc);
    }
    finish_dot4(block, v, acc)
}

/// Adds the tail (the last `d % LANES` entries) and sums the lanes as [`dot`] does.
#[inline(always)]
fn finish_dot4(block: &[f64], v: &[f64], acc: [[f64; LANES]; 4]) -> [f64; 4] {
    let d = v.len();
    let body = d - d % LANES;
    let mut out = [0.0; 4];
    for (k, (row, a)) in block.chunks_exact(d).zip(acc).enumerate() {
        let tail: f64 = row[body..].iter().zip(&v[body..]).map(|(a, b)| a * b).sum();
        out[k] = (a[0] + a[1]) + (a[2] + a[3]) + tail;
    }
    out
}

/// [`dot4`] with AVX2 intrinsics (the compiler's own vectorization of it interleaves the
/// rows into half-width vectors); lane `l` of each accumulator is the same sum.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot4_avx2(block: &[f64], v: &[f64]) -> [f64; 4] {
    use std::arch::x86_64::*;
    let d = v.len();
    assert_eq!(block.len(), 4 * d);
    let body = d - d % LANES;
    let (pv, p0) = (v.as_ptr(), block.as_ptr());
    let mut acc = [_mm256_setzero_pd(); 4];
    let mut j = 0;
    while j < body {
        // SAFETY: j + LANES <= body <= d, and row k spans block[k d .. (k + 1) d].
        unsafe {
            let vv = _mm256_loadu_pd(pv.add(j));
            for (k, a) in acc.iter_mut().enumerate() {
                let row = _mm256_loadu_pd(p0.add(k * d + j));
                *a = _mm256_add_pd(*a, _mm256_mul_pd(row, vv));
            }
        }
        j += LANES;
    }
    let mut lanes = [[0.0; LANES]; 4];
    for (out, a) in lanes.iter_mut().zip(acc) {
        // SAFETY: `out` holds LANES = 4 f64.
        unsafe { _mm256_storeu_pd(out.as_mut_ptr(), a) };
    }
    finish_dot4(block, v, lanes)
}

/// `acc[l] += a[l] * b[l]` for the `LANES` lanes.
#[inline(always)]
fn lane_madd(acc: &mut [f64; LANES], a: &[f64], b: &[f64]) {
    let (a, b): (&[f64; LANES], &[f64; LANES]) = (a.try_into().unwrap(), b.try_into().unwrap());
    let prod = [a[0] * b[0], a[1] * b[1], a[2] * b[2], a[3] * b[3]];
    *acc = [
        acc[0] + prod[0],
        acc[1] + prod[1],
        acc[2] + prod[2],
        acc[3] + prod[3],
    ];
}

/// `out = (((out + s_0 x_0) + s_1 x_1) + s_2 x_2) + s_3 x_3` for the four rows of `block`.
#[inline(always)]
fn axpy4(block: &[f64], s: [f64; 4], out: &mut [f64]) {
    let d = out.len();
    let (r0, rest) = block.split_at(d);
    let (r1, rest) = rest.split_at(d);
    let (r2, r3) = rest.split_at(d);
    axpy4_rows([r0, r1, r2, r3], s, out);
}

/// `out += s_0 r_0 + ... + s_3 r_3` entry by entry, in that order.
#[inline(always)]
fn axpy4_rows([r0, r1, r2, r3]: [&[f64]; 4], s: [f64; 4], out: &mut [f64]) {
    for ((((o, &a), &b), &c), &e) in out.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
        *o = (((*o + s[0] * a) + s[1] * b) + s[2] * c) + s[3] * e;
    }
}

#[inline(always)]
fn axpy1(row: &[f64], s: f64, out: &mut [f64]) {
    for (o, &a) in out.iter_mut().zip(row) {
        *o += s * a;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The simple row-at-a-time loops, the reference the blocked kernels must equal bit
    /// for bit (same association, any row count including the remainder rows).
    fn reference(x: &[f64], v: &[f64], z: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
        let xv: Vec<f64> = x.chunks_exact(d).map(|row| dot(row, v)).collect();
        let mut xtz = vec![0.5; d];
        for (row, &s) in x.chunks_exact(d).zip(z) {
            for (o, &a) in xtz.iter_mut().zip(row) {
                *o += s * a;
            }
        }
        (xv, xtz)
    }

    #[test]
    fn blocked_passes_equal_row_loops_bit_for_bit() {
        for (n, d) in [(1, 1), (3, 5), (4, 4), (7, 9), (9, 13), (12, 3)] {
            let x: Vec<f64> = (0..n * d).map(|k| ((k * 37 % 101) as f64).sin()).collect();
            let v: Vec<f64> = (0..d).map(|k| (k as f64 * 0.7).cos()).collect();
            let z: Vec<f64> = (0..n).map(|k| (k as f64 * 1.3).sin()).collect();
            let (xv, xtz) = reference(&x, &v, &z, d);
            let mut out = vec![0.0; n];
            mat_vec(&x, &v, &mut out);
            assert_eq!(out, xv, "X v, n = {n}, d = {d}");
            let mut acc = vec![0.5; d];
            mat_t_vec_add(&x, &z, &mut acc);
            assert_eq!(acc, xtz, "X^T z, n = {n}, d = {d}");
            // The baseline (non-AVX2) instantiations give the same bits.
            mat_vec_generic(&x, &v, &mut out);
            assert_eq!(out, xv, "baseline X v, n = {n}, d = {d}");
            let mut acc = vec![0.5; d];
            mat_t_vec_add_generic(&x, &z, &mut acc);
            assert_eq!(acc, xtz, "baseline X^T z, n = {n}, d = {d}");
            // Any block of columns equals those entries of the whole pass.
            for (col0, width) in [(0, d), (d / 3, d - d / 3), (d / 2, d.div_ceil(4))] {
                let mut part = vec![0.5; width];
                mat_t_vec_add_cols(&x, d, col0, &z, &mut part);
                assert_eq!(part, xtz[col0..col0 + width], "columns {col0}.., {n} x {d}");
            }

            // Gradient of the squared loss: residuals then accumulation, by hand.
            let y: Vec<f64> = (0..n).map(|k| k as f64 * 0.1).collect();
            let mut want = vec![0.0; d];
            let mut want_loss = 0.0;
            for (row, &yi) in x.chunks_exact(d).zip(&y) {
                let (value, slope) = Loss::Square.value_and_slope(dot(row, &v), yi);
                want_loss += value;
                for (o, &a) in want.iter_mut().zip(row) {
                    *o += slope * a;
                }
            }
            let mut grad = vec![f64::NAN; d];
            let got_loss = gradient(&x, &y, Loss::Square, &v, &mut grad);
            assert_eq!(grad, want, "gradient, n = {n}, d = {d}");
            assert_eq!(got_loss, want_loss);
            let got_loss = gradient_generic(&x, &y, Loss::Square, &v, &mut grad);
            assert_eq!(grad, want, "baseline gradient, n = {n}, d = {d}");
            assert_eq!(got_loss, want_loss);
        }
    }
}
