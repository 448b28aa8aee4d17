//! A progress bar on stderr for long runs, hidden when stderr is not a terminal.

use ddln::{Control, Observer, StepView};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Observer that advances a bar with the run's time (flow) or iteration (descent).
pub struct Progress {
    bar: ProgressBar,
    end: f64,
    by_step: bool,
}

impl Progress {
    /// A bar running to `end` (flow time, or number of iterations when `by_step`).
    pub fn new(end: f64, by_step: bool, quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(1000),
            if quiet {
                ProgressDrawTarget::hidden()
            } else {
                ProgressDrawTarget::stderr()
            },
        );
        bar.set_style(
            // The ETA extrapolates the progress rate: exact for descent (iterations), a
            // guide for a flow (its time per step changes between plateaus and jumps).
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {percent}% (eta {eta}) {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress { bar, end, by_step }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Progress {
    fn observe(&mut self, view: &StepView) -> Control {
        // Hidden bars (quiet, or stderr not a terminal) cost nothing: no formatting.
        if !self.bar.is_hidden() && view.step.is_multiple_of(64) {
            let done = if self.by_step {
                view.step as f64
            } else {
                view.t
            };
            self.bar
                .set_position((1000.0 * done / self.end).clamp(0.0, 1000.0) as u64);
            self.bar
                .set_message(format!("t = {:.4e}, loss = {:.3e}", view.t, view.loss));
        }
        Control::Continue
    }
}
