//! The passes of [`crate::kernel`] split over the rayon pool, for the predictor's large
//! `Xt` (each conjugate-gradient iteration is two passes over it, at the memory's speed):
//! `X v` by blocks of rows, `X^T z` by blocks of columns. Every entry is computed exactly
//! as the serial pass computes it, so the results are the same bits on any number of
//! threads.

use rayon::prelude::*;

use crate::kernel;
use crate::problem::PARALLEL_MIN_ENTRIES;

/// Fewest rows (`X v`) or columns (`X^T z`) per task: long enough streams that the
/// pool's overhead stays small next to them.
const MIN_CHUNK: usize = 256;

/// How many entries each of the pool's threads takes along a dimension of `len`.
fn chunk(len: usize) -> usize {
    len.div_ceil(rayon::current_num_threads().max(1))
        .max(MIN_CHUNK)
        .next_multiple_of(4)
}

/// Whether an `n x d` pass is worth splitting.
fn worth_splitting(n: usize, d: usize) -> bool {
    n * d >= PARALLEL_MIN_ENTRIES && rayon::current_num_threads() > 1
}

/// `out = X v` ([`kernel::mat_vec`]), rows split over the pool.
pub fn mat_vec(x: &[f64], v: &[f64], out: &mut [f64]) {
    let (n, d) = (out.len(), v.len());
    if !worth_splitting(n, d) {
        return kernel::mat_vec(x, v, out);
    }
    let rows = chunk(n);
    out.par_chunks_mut(rows)
        .zip(x.par_chunks(rows * d))
        .for_each(|(o, block)| kernel::mat_vec(block, v, o));
}

/// `out += X^T z` ([`kernel::mat_t_vec_add`]), columns split over the pool.
pub fn mat_t_vec_add(x: &[f64], z: &[f64], out: &mut [f64]) {
    let (n, d) = (z.len(), out.len());
    if !worth_splitting(n, d) {
        return kernel::mat_t_vec_add(x, z, out);
    }
    let cols = chunk(d);
    out.par_chunks_mut(cols)
        .enumerate()
        .for_each(|(c, o)| kernel::mat_t_vec_add_cols(x, d, c * cols, z, o));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The split passes against the serial ones (the reference): the same bits, on sizes
    /// above and below the splitting threshold and with ragged last chunks.
    #[test]
    fn split_passes_equal_the_serial_ones_bit_for_bit() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        for (n, d) in [(5, 7), (130, 2100), (517, 1031)] {
            let x: Vec<f64> = (0..n * d).map(|k| ((k * 37 % 101) as f64).sin()).collect();
            let v: Vec<f64> = (0..d).map(|k| (k as f64 * 0.7).cos()).collect();
            let z: Vec<f64> = (0..n).map(|k| (k as f64 * 1.3).sin()).collect();
            let mut serial = vec![0.0; n];
            kernel::mat_vec(&x, &v, &mut serial);
            let mut acc_serial = vec![0.5; d];
            kernel::mat_t_vec_add(&x, &z, &mut acc_serial);
            let (split, acc_split) = pool.install(|| {
                let mut out = vec![0.0; n];
                mat_vec(&x, &v, &mut out);
                let mut acc = vec![0.5; d];
                mat_t_vec_add(&x, &z, &mut acc);
                (out, acc)
            });
            assert_eq!(split, serial, "X v, {n} x {d}");
            assert_eq!(acc_split, acc_serial, "X^T z, {n} x {d}");
        }
    }
}
