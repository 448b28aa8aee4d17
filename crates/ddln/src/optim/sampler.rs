//! How SGD picks the samples of each mini-batch, and the sampler's state (so that a run
//! resumed from a checkpoint draws the same batches as one that never stopped).

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{DdlnError, Result};

/// The sampling of mini-batches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Sampling {
    /// Each sample of a batch drawn uniformly, independently, with replacement (the
    /// field's SGD; default).
    #[default]
    Replacement,
    /// Reshuffled epochs: every sample once per pass, in a new random order each pass.
    Epochs,
    /// The samples in this order, `batch_size` at a time, starting over at the end.
    Order {
        /// Sample indices, each in `0..n`.
        indices: Vec<usize>,
    },
}

impl Sampling {
    /// Checks the sampling against the number of samples `n`.
    pub fn validate(&self, n: usize) -> Result<()> {
        if let Sampling::Order { indices } = self {
            if indices.is_empty() {
                return Err(DdlnError::invalid(
                    "sampling.indices",
                    "is empty; give at least one sample index",
                ));
            }
            if let Some(j) = indices.iter().position(|&i| i >= n) {
                return Err(DdlnError::invalid(
                    "sampling.indices",
                    format!(
                        "indices[{j}] = {} is not a sample: indices must be in 0..{n} (0-based rows of X)",
                        indices[j]
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Where the sampler is: enough to draw the same batches after a resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplerState {
    /// Words of the ChaCha8 stream consumed so far (decimal: JSON numbers stop at 2^53).
    pub word_pos: String,
    /// Position in the current epoch or in the given order.
    pub cursor: usize,
    /// The current epoch's permutation (empty unless sampling by epochs).
    pub epoch: Vec<usize>,
}

/// The mini-batch sampler.
#[derive(Debug)]
pub struct Sampler {
    sampling: Sampling,
    n: usize,
    rng: rand::rngs::ChaCha8Rng,
    cursor: usize,
    epoch: Vec<usize>,
}

impl Sampler {
    /// A fresh sampler for `n` samples from `seed`.
    pub fn new(sampling: &Sampling, n: usize, seed: u64) -> Self {
        let epoch = match sampling {
            Sampling::Epochs => (0..n).collect(),
            _ => Vec::new(),
        };
        Sampler {
            sampling: sampling.clone(),
            n,
            rng: rand::rngs::ChaCha8Rng::seed_from_u64(seed),
            // An epoch starts with a shuffle.
            cursor: if matches!(sampling, Sampling::Epochs) {
                n
            } else {
                0
            },
            epoch,
        }
    }

    /// The sampler of `seed` moved to a saved state.
    pub fn restore(sampling: &Sampling, n: usize, seed: u64, state: &SamplerState) -> Result<Self> {
        let mut sampler = Sampler::new(sampling, n, seed);
        let word_pos: u128 = state.word_pos.parse().map_err(|_| {
            DdlnError::invalid(
                "checkpoint.sampler.word_pos",
                format!("`{}` is not a word count", state.word_pos),
            )
        })?;
        let epoch_ok = match sampling {
            Sampling::Epochs => {
                let mut sorted = state.epoch.clone();
                sorted.sort_unstable();
                sorted.iter().copied().eq(0..n) && state.cursor <= n
            }
            Sampling::Order { indices } => state.epoch.is_empty() && state.cursor < indices.len(),
            Sampling::Replacement => state.epoch.is_empty(),
        };
        if !epoch_ok {
            return Err(DdlnError::invalid(
                "checkpoint.sampler",
                "does not belong to this sampling and number of samples (was the run's sampling or data changed?)",
            ));
        }
        sampler.rng.set_word_pos(word_pos);
        sampler.cursor = state.cursor;
        sampler.epoch = state.epoch.clone();
        Ok(sampler)
    }

    /// The state to save.
    pub fn state(&self) -> SamplerState {
        SamplerState {
            word_pos: self.rng.get_word_pos().to_string(),
            cursor: self.cursor,
            epoch: self.epoch.clone(),
        }
    }

    /// Fills `batch` with the next `size` sample indices.
    pub fn next_batch(&mut self, batch: &mut Vec<usize>, size: usize) {
        batch.clear();
        match &self.sampling {
            Sampling::Replacement => {
                for _ in 0..size {
                    batch.push(self.rng.random_range(0..self.n));
                }
            }
            Sampling::Epochs => {
                while batch.len() < size {
                    if self.cursor == self.n {
                        self.epoch.shuffle(&mut self.rng);
                        self.cursor = 0;
                    }
                    batch.push(self.epoch[self.cursor]);
                    self.cursor += 1;
                }
            }
            Sampling::Order { indices } => {
                for _ in 0..size {
                    batch.push(indices[self.cursor]);
                    self.cursor = (self.cursor + 1) % indices.len();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sampler restored from its saved state continues with the same batches (the
    /// reference: the same sampler never stopped), for every sampling.
    #[test]
    fn restored_samplers_continue_the_stream() {
        let n = 7;
        for sampling in [
            Sampling::Replacement,
            Sampling::Epochs,
            Sampling::Order {
                indices: vec![3, 1, 4, 1, 5],
            },
        ] {
            let mut straight = Sampler::new(&sampling, n, 9);
            let mut first = Sampler::new(&sampling, n, 9);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for _ in 0..5 {
                straight.next_batch(&mut a, 3);
                first.next_batch(&mut b, 3);
                assert_eq!(a, b);
            }
            let mut resumed = Sampler::restore(&sampling, n, 9, &first.state()).unwrap();
            for _ in 0..6 {
                straight.next_batch(&mut a, 3);
                resumed.next_batch(&mut b, 3);
                assert_eq!(a, b, "{sampling:?}");
                assert!(b.iter().all(|&i| i < n));
            }
        }
        // Epochs visit every sample once per pass.
        let mut s = Sampler::new(&Sampling::Epochs, n, 1);
        let mut batch = Vec::new();
        s.next_batch(&mut batch, n);
        batch.sort_unstable();
        assert_eq!(batch, (0..n).collect::<Vec<_>>());
    }
}
