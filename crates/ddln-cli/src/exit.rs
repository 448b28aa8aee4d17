//! Exit codes of `ddln` (one definition, documented in the README and `ddln --help`)
//! and printing to stdout that ends quietly when the reader has gone (`ddln ... | head`).

use std::io::Write;

use ddln::mirror::PredictStatus;
use ddln::Status;

/// The run did what was asked (`Completed`, `Converged`, `SmallInitLimit`).
pub const SUCCESS: i32 = 0;
/// Bad input or an I/O failure: nothing was computed or nothing was written. (Code 2 is
/// clap's, for command-line syntax.)
pub const ERROR: i32 = 1;
/// The run diverged (`Diverged`); the last finite state is saved.
pub const DIVERGED: i32 = 3;
/// The step budget ran out (`MaxSteps`).
pub const MAX_STEPS: i32 = 4;
/// The adaptive step fell below f64 resolution (`StepSizeTooSmall`).
pub const STEP_SIZE_TOO_SMALL: i32 = 5;
/// The predictor could not resolve the limit in f64 (`PrecisionLimited`).
pub const PRECISION_LIMITED: i32 = 6;
/// The predictor did not converge (`NotInRange`, `MaxIterations`, `LineSearchFailed`).
pub const NOT_CONVERGED: i32 = 7;
/// Stopped by SIGINT or SIGTERM (or a callback); what was computed is saved.
pub const STOPPED: i32 = 130;

/// The exit code of a run that ended with `status`.
pub fn for_status(status: Status) -> i32 {
    match status {
        Status::Completed | Status::Converged => SUCCESS,
        Status::Diverged => DIVERGED,
        Status::MaxSteps => MAX_STEPS,
        Status::StepSizeTooSmall => STEP_SIZE_TOO_SMALL,
        Status::Stopped => STOPPED,
    }
}

/// The exit code of a prediction that ended with `status`.
pub fn for_prediction(status: PredictStatus) -> i32 {
    match status {
        PredictStatus::Converged | PredictStatus::SmallInitLimit => SUCCESS,
        PredictStatus::PrecisionLimited => PRECISION_LIMITED,
        PredictStatus::NotInRange
        | PredictStatus::MaxIterations
        | PredictStatus::LineSearchFailed => NOT_CONVERGED,
    }
}

/// The table printed by `ddln --help`.
pub const TABLE: &str = "Exit codes: 0 success (Completed, Converged, SmallInitLimit); 1 bad input or I/O error (nothing written); \
2 command-line syntax; 3 Diverged; 4 MaxSteps; 5 StepSizeTooSmall; 6 PrecisionLimited; 7 the predictor did not converge; \
130 stopped by SIGINT/SIGTERM (partial outputs saved).";

/// Prints `text` and a newline on stdout; a closed stdout (broken pipe) is not an error.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
