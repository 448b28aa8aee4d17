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

/// Runs `$body` (an expression over the function's arguments) compiled for AVX2 when the
/// CPU has it, and for the baseline instruction set otherwise.
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

/// `out_i = <x_i, v>` for the `out.len()` rows of `x` (row length `v.len()`).
pub fn mat_vec(x: &[f64], v: &[f64], out: &mut [f64]) {
    debug_assert_eq!(x.len(), v.len() * out.len());
    dispatch!(mat_vec_avx2, mat_vec_generic, (x, v, out))
}

/// `out += sum_i z_i x_i` over the `z.len()` rows of `x` (row length `out.len()`).
pub fn mat_t_vec_add(x: &[f64], z: &[f64], out: &mut [f64]) {
    debug_assert_eq!(x.len(), z.len() * out.len());
    dispatch!(mat_t_vec_add_avx2, mat_t_vec_add_generic, (x, z, out))
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
    mat_vec_generic(x, v, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn mat_t_vec_add_avx2(x: &[f64], z: &[f64], out: &mut [f64]) {
    mat_t_vec_add_generic(x, z, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gradient_avx2(x: &[f64], y: &[f64], loss: Loss, theta: &[f64], grad: &mut [f64]) -> f64 {
    gradient_generic(x, y, loss, theta, grad)
}

#[inline(always)]
fn mat_vec_generic(x: &[f64], v: &[f64], out: &mut [f64]) {
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

#[inline(always)]
fn gradient_generic(x: &[f64], y: &[f64], loss: Loss, theta: &[f64], grad: &mut [f64]) -> f64 {
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
        for l in 0..LANES {
            acc[0][l] += c0[l] * vc[l];
            acc[1][l] += c1[l] * vc[l];
            acc[2][l] += c2[l] * vc[l];
            acc[3][l] += c3[l] * vc[l];
        }
    }
    let rows = [r0, r1, r2, r3];
    let mut out = [0.0; 4];
    for k in 0..4 {
        let tail: f64 = rows[k][body..]
            .iter()
            .zip(&v[body..])
            .map(|(a, b)| a * b)
            .sum();
        let a = acc[k];
        out[k] = (a[0] + a[1]) + (a[2] + a[3]) + tail;
    }
    out
}

/// `out = (((out + s_0 x_0) + s_1 x_1) + s_2 x_2) + s_3 x_3` for the four rows of `block`.
#[inline(always)]
fn axpy4(block: &[f64], s: [f64; 4], out: &mut [f64]) {
    let d = out.len();
    let (r0, rest) = block.split_at(d);
    let (r1, rest) = rest.split_at(d);
    let (r2, r3) = rest.split_at(d);
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
            mat_vec_generic(&x, &v, &mut out);
            assert_eq!(out, xv, "baseline X v, n = {n}, d = {d}");

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
        }
    }
}
