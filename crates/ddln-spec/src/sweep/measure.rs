//! The measures a sweep keeps per point: one stable name each, the column of the table.

use anyhow::{anyhow, Result};
use serde::{Deserialize, Serialize};

/// A measure of a point (a column of the sweep table; empty where it does not apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// `L(theta)` at the end of the run (task `bias`: at the predicted limit).
    FinalLoss,
    /// `||theta - theta*||` (sparse-recovery data).
    DistThetaStar,
    /// `||theta - theta_L1||` to the minimum-L1 interpolator.
    DistL1,
    /// `||theta - theta_L2||` to the minimum-L2 interpolator.
    DistL2,
    /// Entries with `|theta_i| > sparsity_tol * max_j |theta_j|`.
    Nnz,
    /// Mean squared error `mean_i (<x_i, theta> - <x_i, theta*>)^2` on a seeded Gaussian
    /// test set (sparse-recovery data).
    TestError,
    /// First time (flow time, or sum of steps) the loss is at most `loss_level` times the
    /// initial loss, at the resolution of the accepted steps (flow and descent).
    TLoss,
    /// `||theta - theta_pred|| / ||theta_pred||` to the implicit-bias prediction of the run
    /// (flow: the limit of its init; descent: of its effective init).
    RelDistPredicted,
    /// Accepted steps (flow), iterations (descent) or Newton steps (bias).
    Iterations,
    /// Evaluations of `grad L` (flow and descent).
    GradEvals,
    /// Seconds the task took (not bit-reproducible, unlike every other column).
    WallS,
}

impl Measure {
    /// Every measure, in column order (the default of `sweep.measures`).
    pub const DEFAULT: [Measure; 11] = [
        Measure::FinalLoss,
        Measure::DistThetaStar,
        Measure::DistL1,
        Measure::DistL2,
        Measure::Nnz,
        Measure::TestError,
        Measure::TLoss,
        Measure::RelDistPredicted,
        Measure::Iterations,
        Measure::GradEvals,
        Measure::WallS,
    ];

    /// The column name (and the name in `sweep.measures`).
    pub fn name(self) -> &'static str {
        match self {
            Measure::FinalLoss => "final_loss",
            Measure::DistThetaStar => "dist_theta_star",
            Measure::DistL1 => "dist_l1",
            Measure::DistL2 => "dist_l2",
            Measure::Nnz => "nnz",
            Measure::TestError => "test_error",
            Measure::TLoss => "t_loss",
            Measure::RelDistPredicted => "rel_dist_predicted",
            Measure::Iterations => "iterations",
            Measure::GradEvals => "grad_evals",
            Measure::WallS => "wall_s",
        }
    }

    /// `true` for counts (integer columns).
    pub fn is_count(self) -> bool {
        matches!(
            self,
            Measure::Nnz | Measure::Iterations | Measure::GradEvals
        )
    }

    pub(crate) fn parse(name: &str) -> Result<Measure> {
        Measure::DEFAULT
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                anyhow!(
                    "invalid value for `sweep.measures`: unknown measure `{name}`; expected one of {}",
                    Measure::DEFAULT.map(Measure::name).join(", ")
                )
            })
    }
}
