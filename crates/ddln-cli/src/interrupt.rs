//! SIGINT and SIGTERM end a run cleanly: the first one asks the running computation to
//! stop at its next step (status `Stopped`), after which the command writes what it
//! computed and exits with [`crate::exit::STOPPED`]; a second one exits at once (the
//! staging folder is then cleaned by the next command).

use std::sync::atomic::{AtomicBool, Ordering};

use ddln::{Control, Observer, StepView};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once per process; later calls do nothing).
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(crate::exit::STOPPED);
        }
    });
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// An observer that stops the run once a signal arrived.
#[derive(Debug, Default, Clone, Copy)]
pub struct Interrupt;

impl Observer for Interrupt {
    fn observe(&mut self, _view: &StepView) -> Control {
        if requested() {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

/// The error an experiment returns when a signal asked it to stop (see [`check`]).
#[derive(Debug, Clone, Copy)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted by SIGINT or SIGTERM")
    }
}

impl std::error::Error for Interrupted {}

/// `Err(Interrupted)` once a signal arrived: long computations call it between steps.
pub fn check() -> anyhow::Result<()> {
    if requested() {
        Err(Interrupted.into())
    } else {
        Ok(())
    }
}
