//! The data `(X, y)` and the loss: the function `L(theta)` that every trainer minimizes.

use std::sync::Mutex;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{check_finite, DdlnError, Result};
use crate::loss::{Loss, LossScaling, SampleLoss};
use crate::shared_data::SharedData;
pub use crate::vector::dot;

/// Below this many entries of `X` (`n * d`) the gradient runs on one thread under
/// [`Threading::Auto`]: 2^18 entries (2 MiB) take ~0.1 ms to stream, the order of the
/// cost of waking the pool and reducing the per-thread buffers.
pub const PARALLEL_MIN_ENTRIES: usize = 1 << 18;

/// Most row blocks of the threaded gradient (enough for 16 cores; each block adds one
/// `d`-vector to the reduction).
const MAX_BLOCKS: usize = 16;
/// Fewest rows per block (so that the reduction stays small next to the pass over X).
const ROWS_PER_BLOCK_MIN: usize = 16;

/// How the gradient kernel uses threads (the rayon global pool).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Threading {
    /// Row blocks when `n * d >= PARALLEL_MIN_ENTRIES` (default), run on the pool's threads.
    #[default]
    Auto,
    /// One pass on the calling thread, no blocks.
    Off,
    /// Row blocks whenever `n >= 2`.
    On,
}

/// Per-thread buffers of the threaded kernel: allocated on the first threaded call, then
/// reused (a gradient allocates nothing after that).
#[derive(Debug, Default)]
struct Workspace {
    /// `blocks x d` partial gradients.
    partial: Vec<f64>,
    /// Partial losses, one per block.
    losses: Vec<f64>,
}

/// A regression or classification problem `L(theta) = c sum_i ell(<x_i, theta>, y_i)`,
/// with `c` set by the [`LossScaling`] (1 by default).
///
/// `X` is stored row-major (`n` rows of length `d`) so that the gradient reads each row
/// once: the residual of a sample and its contribution to the gradient in one pass.
#[derive(Debug)]
pub struct Problem {
    /// Shared: clones of a problem (a sweep's cells, a resumed run) hold the one copy.
    x: SharedData,
    y: Vec<f64>,
    n: usize,
    d: usize,
    loss: Loss,
    scaling: LossScaling,
    /// `c`, the factor of `scaling` for these `n` samples.
    factor: f64,
    threading: Threading,
    workspace: Mutex<Workspace>,
}

/// Clones share `X` (one copy however many problems use it); `y` and the settings are copied.
impl Clone for Problem {
    fn clone(&self) -> Self {
        Problem {
            x: self.x.clone(),
            y: self.y.clone(),
            n: self.n,
            d: self.d,
            loss: self.loss,
            scaling: self.scaling,
            factor: self.factor,
            threading: self.threading,
            workspace: Mutex::new(Workspace::default()),
        }
    }
}

impl Problem {
    /// Builds a problem from `X` (row-major, `n x d`), `y` (length `n`) and a loss.
    ///
    /// `x` is a `Vec<f64>` (taken, not copied) or a [`SharedData`] lent by its owner (a
    /// numpy array, another problem's `X`): never copied either.
    ///
    /// Fails on empty data, shape mismatch, non-finite entries, or logistic labels
    /// outside {-1, +1}.
    pub fn new(
        x: impl Into<SharedData>,
        n: usize,
        d: usize,
        y: Vec<f64>,
        loss: Loss,
    ) -> Result<Self> {
        let x = x.into();
        if n == 0 || d == 0 {
            return Err(DdlnError::invalid(
                "X",
                format!("data is empty ({n} samples x {d} features); need at least one sample and one feature"),
            ));
        }
        if x.len() != n * d {
            return Err(DdlnError::shape(
                "X",
                format!("{n} x {d} = {} entries", n * d),
                format!("{} entries", x.len()),
            ));
        }
        if y.len() != n {
            return Err(DdlnError::shape(
                "y",
                format!("length {n} (one target per row of X)"),
                format!("length {}", y.len()),
            ));
        }
        check_finite("X", &x)?;
        check_finite("y", &y)?;
        if loss == Loss::Logistic {
            if let Some(i) = y.iter().position(|&v| v != 1.0 && v != -1.0) {
                return Err(DdlnError::invalid(
                    "y",
                    format!(
                        "the logistic loss needs labels in {{-1, +1}}; y[{i}] = {}",
                        y[i]
                    ),
                ));
            }
        }
        Ok(Problem {
            x,
            y,
            n,
            d,
            loss,
            scaling: LossScaling::Sum,
            factor: 1.0,
            threading: Threading::Auto,
            workspace: Mutex::new(Workspace::default()),
        })
    }

    /// Sets the factor in front of the sum (default [`LossScaling::Sum`]).
    pub fn with_scaling(mut self, scaling: LossScaling) -> Self {
        self.scaling = scaling;
        self.factor = scaling.factor(self.n);
        self
    }

    /// The factor in front of the sum over samples.
    pub fn scaling(&self) -> LossScaling {
        self.scaling
    }

    /// A SHA-256 of everything that defines `L`: the shape, the bits of `X` and `y`, the
    /// loss and its scaling (hex). Equal problems have equal fingerprints on any machine.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update((self.n as u64).to_le_bytes());
        h.update((self.d as u64).to_le_bytes());
        for v in self.x.iter().chain(&self.y) {
            h.update(v.to_bits().to_le_bytes());
        }
        h.update(self.loss.name().as_bytes());
        h.update(self.scaling.name().as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `c`: the loss is `c sum_i ell_i`.
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// Multiplies a sum over samples (and its gradient) by `c`; nothing at all for the
    /// default factor 1, so that the paper's loss keeps its bits.
    fn scaled(&self, total: f64, grad: &mut [f64]) -> f64 {
        if self.factor == 1.0 {
            return total;
        }
        for g in grad.iter_mut() {
            *g *= self.factor;
        }
        total * self.factor
    }

    /// Sets how the gradient kernel uses threads (default [`Threading::Auto`]).
    pub fn with_threading(mut self, threading: Threading) -> Self {
        self.threading = threading;
        self
    }

    /// Sets how the gradient kernel uses threads (default [`Threading::Auto`]).
    pub fn set_threading(&mut self, threading: Threading) {
        self.threading = threading;
    }

    /// How the gradient kernel uses threads.
    pub fn threading(&self) -> Threading {
        self.threading
    }

    /// Number of row blocks the gradient uses: 1 for the plain serial pass. The blocks
    /// depend on `n` only, never on the number of threads, and their partial sums are
    /// added in a fixed order: a result is the same bits on 1 thread or 64 (the pool
    /// only decides how many blocks run at once).
    pub fn gradient_blocks(&self) -> usize {
        let blocks = (self.n / ROWS_PER_BLOCK_MIN)
            .clamp(2, MAX_BLOCKS)
            .min(self.n);
        match self.threading {
            Threading::Off => 1,
            Threading::On => blocks,
            Threading::Auto if self.n * self.d >= PARALLEL_MIN_ENTRIES => blocks,
            Threading::Auto => 1,
        }
    }

    /// Number of samples `n`.
    pub fn n_samples(&self) -> usize {
        self.n
    }

    /// Number of coordinates `d` of theta.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// The loss.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// `X`, row-major.
    pub fn x(&self) -> &[f64] {
        &self.x
    }

    /// `X` as the shared buffer (to build another problem on the same data without a copy).
    pub fn shared_x(&self) -> &SharedData {
        &self.x
    }

    /// Row `i` of `X`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// The targets `y`.
    pub fn y(&self) -> &[f64] {
        &self.y
    }

    /// `L(theta)`.
    pub fn loss_value(&self, theta: &[f64]) -> f64 {
        debug_assert_eq!(theta.len(), self.d);
        let total: f64 = (0..self.n)
            .map(|i| {
                let z = dot(self.row(i), theta);
                self.loss.value_and_slope(z, self.y[i]).0
            })
            .sum();
        self.scaled(total, &mut [])
    }

    /// Writes `grad L(theta)` into `grad` and returns `L(theta)`, reading X once.
    ///
    /// Row by row: the residual `<x_i, theta>`, then `grad += slope_i x_i` while the row
    /// is still in cache. Above a size threshold (see [`Threading`]) the rows are split
    /// into one block per thread, each accumulating into its own preallocated buffer,
    /// and the buffers are summed in a fixed order (the result does not depend on the
    /// scheduling). Allocates nothing after the first threaded call.
    pub fn loss_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        debug_assert_eq!(theta.len(), self.d);
        debug_assert_eq!(grad.len(), self.d);
        let blocks = self.gradient_blocks();
        if blocks > 1 {
            // A second caller on the same problem at the same time gets buffers of its
            // own (the same blocks, so the same bits).
            let total = match self.workspace.try_lock() {
                Ok(mut ws) => self.gradient_threaded(theta, grad, blocks, &mut ws),
                Err(_) => self.gradient_threaded(theta, grad, blocks, &mut Workspace::default()),
            };
            return self.scaled(total, grad);
        }
        let total = gradient_rows(&self.x, &self.y, self.d, self.loss, theta, grad);
        self.scaled(total, grad)
    }

    fn gradient_threaded(
        &self,
        theta: &[f64],
        grad: &mut [f64],
        blocks: usize,
        ws: &mut Workspace,
    ) -> f64 {
        let d = self.d;
        if ws.partial.len() != blocks * d {
            ws.partial = vec![0.0; blocks * d];
            ws.losses = vec![0.0; blocks];
        }
        let rows_per_block = self.n.div_ceil(blocks);
        let (x, y, loss) = (&self.x, &self.y, self.loss);
        ws.partial
            .par_chunks_mut(d)
            .zip(ws.losses.par_iter_mut())
            .enumerate()
            .for_each(|(k, (part, total))| {
                let r0 = (k * rows_per_block).min(self.n);
                let r1 = ((k + 1) * rows_per_block).min(self.n);
                *total = gradient_rows(&x[r0 * d..r1 * d], &y[r0..r1], d, loss, theta, part);
            });
        let (first, rest) = ws.partial.split_at(d);
        grad.copy_from_slice(first);
        for part in rest.chunks_exact(d) {
            for (g, &p) in grad.iter_mut().zip(part) {
                *g += p;
            }
        }
        ws.losses.iter().sum()
    }
}

/// The serial kernel on a block of rows: `grad = sum_i slope_i x_i`, returns the loss.
fn gradient_rows(
    x: &[f64],
    y: &[f64],
    d: usize,
    loss: Loss,
    theta: &[f64],
    grad: &mut [f64],
) -> f64 {
    debug_assert_eq!(theta.len(), d);
    crate::kernel::gradient(x, y, loss, theta, grad)
}

impl Problem {
    /// Writes the per-sample curvatures `c ell''(<x_i, theta>, y_i)` (length `n`), so that
    /// the Hessian is `X^T diag(w) X`. One pass over X, none for the squared loss.
    pub fn curvatures(&self, theta: &[f64], w: &mut [f64]) {
        if self.loss.constant_curvature() {
            w.fill(self.factor * self.loss.curvature(0.0, 0.0));
            return;
        }
        for ((wi, row), &yi) in w.iter_mut().zip(self.x.chunks_exact(self.d)).zip(&self.y) {
            *wi = self.factor * self.loss.curvature(dot(row, theta), yi);
        }
    }

    /// Mini-batch estimate: `scale * c * sum_{i in rows}` of the per-sample terms, value
    /// and gradient, reading each chosen row once. With `scale = n / |rows|` it is unbiased.
    pub fn loss_and_gradient_rows(
        &self,
        theta: &[f64],
        rows: &[usize],
        scale: f64,
        grad: &mut [f64],
    ) -> f64 {
        grad.fill(0.0);
        let scale = scale * self.factor;
        let mut total = 0.0;
        for &i in rows {
            let row = self.row(i);
            let (value, slope) = self.loss.value_and_slope(dot(row, theta), self.y[i]);
            total += value;
            for (g, &xij) in grad.iter_mut().zip(row) {
                *g += scale * slope * xij;
            }
        }
        scale * total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The threaded kernel against the serial one (the reference: one thread, row order),
    /// equal up to the reordering of a sum: 1e-12 relative.
    /// A problem's clones hold its one copy of `X`, and a problem built on another's
    /// shared `X` too (the buffer's address is the reference).
    #[test]
    fn clones_and_rebuilt_problems_share_x() {
        let p = Problem::new(vec![1.0, 2.0, 3.0, 4.0], 2, 2, vec![1.0, 0.0], Loss::Square).unwrap();
        let c = p.clone();
        assert!(c.shared_x().same_buffer(p.shared_x()));
        assert_eq!(c.x().as_ptr(), p.x().as_ptr());
        let q = Problem::new(p.shared_x().clone(), 2, 2, vec![0.0, 1.0], Loss::Square).unwrap();
        assert_eq!(q.x().as_ptr(), p.x().as_ptr());
    }

    #[test]
    fn threaded_gradient_matches_serial() {
        let (n, d) = (37, 11);
        let x: Vec<f64> = (0..n * d)
            .map(|k| ((k * 7919) % 101) as f64 / 50.0 - 1.0)
            .collect();
        let y: Vec<f64> = (0..n).map(|i| (i % 5) as f64 - 2.0).collect();
        let theta: Vec<f64> = (0..d).map(|i| 0.1 * i as f64 - 0.3).collect();
        for loss in [Loss::Square, Loss::Logistic] {
            let y = if loss == Loss::Logistic {
                y.iter()
                    .map(|&v| if v >= 0.0 { 1.0 } else { -1.0 })
                    .collect()
            } else {
                y.clone()
            };
            let serial = Problem::new(x.clone(), n, d, y.clone(), loss)
                .unwrap()
                .with_threading(Threading::Off);
            let threaded = serial.clone().with_threading(Threading::On);
            let (mut g1, mut g2) = (vec![0.0; d], vec![0.0; d]);
            let l1 = serial.loss_and_gradient(&theta, &mut g1);
            let l2 = threaded.loss_and_gradient(&theta, &mut g2);
            assert!((l1 - l2).abs() <= 1e-12 * l1.abs());
            for (a, b) in g1.iter().zip(&g2) {
                assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()));
            }
        }
    }
}
