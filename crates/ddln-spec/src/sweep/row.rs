//! One row of a sweep's table, as the workers return it and the log keeps it.

use serde::{Deserialize, Serialize};

use super::spec::Task;

/// One row of the table, as committed to the folder's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Position in the table.
    pub row: usize,
    /// The job's id.
    pub id: String,
    /// The task.
    pub task: Task,
    /// How the task ended: the run's status (`Converged`, `Completed`, `Diverged`, …),
    /// the predictor's (`Converged`, `PrecisionLimited`, …), or `Error`.
    pub status: String,
    /// Detail of the status (empty when it succeeded).
    pub message: String,
    /// The measures, in the order of `sweep.measures` (`None`: does not apply).
    pub values: Vec<Option<f64>>,
}

/// The status of a job whose task returned an error.
pub const ERROR_STATUS: &str = "Error";

impl Row {
    /// `true` for a task that did what was asked (`Completed` or `Converged`); the rows
    /// `--retry-failed` computes again are the others.
    pub fn succeeded(&self) -> bool {
        matches!(self.status.as_str(), "Completed" | "Converged")
    }
}
