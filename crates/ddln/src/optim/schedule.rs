//! Step-size schedules `eta_k` of the discrete trainers.

use serde::{Deserialize, Serialize};

use crate::error::{DdlnError, Result};

/// Step-size schedule `eta_k` as a function of the iteration `k` (counted from the
/// start of the run, also across a resume).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// `eta_k = lr`.
    #[default]
    Constant,
    /// `eta_k = lr / (1 + decay k)`.
    InverseTime {
        /// Decay rate (>= 0).
        decay: f64,
    },
    /// `eta_k = lr gamma^k`.
    Exponential {
        /// Factor per step, in (0, 1].
        gamma: f64,
    },
    /// Piecewise constant: `eta_k = lr factors[j]` for `boundaries[j-1] <= k < boundaries[j]`
    /// (e.g. `boundaries = [1000, 5000]`, `factors = [1, 0.1, 0.01]`).
    Piecewise {
        /// Strictly increasing iterations at which the factor changes (>= 1).
        boundaries: Vec<u64>,
        /// One factor more than boundaries, each finite and > 0.
        factors: Vec<f64>,
    },
}

impl Schedule {
    /// `eta_k` for the base step `lr`.
    pub fn rate(&self, lr: f64, k: u64) -> f64 {
        match self {
            Schedule::Constant => lr,
            Schedule::InverseTime { decay } => lr / (1.0 + decay * k as f64),
            Schedule::Exponential { gamma } => lr * gamma.powf(k as f64),
            Schedule::Piecewise {
                boundaries,
                factors,
            } => lr * factors[boundaries.partition_point(|&b| b <= k)],
        }
    }

    /// Checks the parameters (field names as in the config: `schedule.decay`, ...).
    pub fn validate(&self) -> Result<()> {
        match self {
            Schedule::Constant => Ok(()),
            Schedule::InverseTime { decay } if !(*decay >= 0.0 && decay.is_finite()) => Err(
                DdlnError::invalid("schedule.decay", format!("must be >= 0, got {decay}")),
            ),
            Schedule::Exponential { gamma } if !(*gamma > 0.0 && *gamma <= 1.0) => Err(
                DdlnError::invalid("schedule.gamma", format!("must be in (0, 1], got {gamma}")),
            ),
            Schedule::Piecewise {
                boundaries,
                factors,
            } => {
                if factors.len() != boundaries.len() + 1 {
                    return Err(DdlnError::invalid(
                        "schedule.factors",
                        format!(
                            "a piecewise-constant schedule needs one factor more than boundaries: {} boundaries, {} factors",
                            boundaries.len(),
                            factors.len()
                        ),
                    ));
                }
                if let Some(w) = boundaries.windows(2).position(|w| w[0] >= w[1]) {
                    return Err(DdlnError::invalid(
                        "schedule.boundaries",
                        format!(
                            "must be strictly increasing; boundaries[{w}] = {} is followed by {}",
                            boundaries[w],
                            boundaries[w + 1]
                        ),
                    ));
                }
                if boundaries.first() == Some(&0) {
                    return Err(DdlnError::invalid(
                        "schedule.boundaries",
                        "must be >= 1 (factors[0] applies from iteration 0)",
                    ));
                }
                if let Some(j) = factors.iter().position(|f| !(f.is_finite() && *f > 0.0)) {
                    return Err(DdlnError::invalid(
                        "schedule.factors",
                        format!("must be finite and > 0; factors[{j}] = {}", factors[j]),
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The piecewise rate at and around each boundary, against the definition.
    #[test]
    fn piecewise_rate_switches_at_the_boundaries() {
        let s = Schedule::Piecewise {
            boundaries: vec![3, 5],
            factors: vec![1.0, 0.5, 0.25],
        };
        s.validate().unwrap();
        let rates: Vec<f64> = (0..7).map(|k| s.rate(2.0, k)).collect();
        assert_eq!(rates, [2.0, 2.0, 2.0, 1.0, 1.0, 0.5, 0.5]);
        for bad in [
            Schedule::Piecewise {
                boundaries: vec![3],
                factors: vec![1.0],
            },
            Schedule::Piecewise {
                boundaries: vec![3, 3],
                factors: vec![1.0; 3],
            },
            Schedule::Piecewise {
                boundaries: vec![2],
                factors: vec![1.0, -0.1],
            },
            Schedule::Piecewise {
                boundaries: vec![0],
                factors: vec![1.0, 1.0],
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
