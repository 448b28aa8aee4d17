//! The observer that a Python run installs in the core: the `on_step` callback, Ctrl-C,
//! and the progress bar. It runs with the GIL released and re-attaches to the
//! interpreter only to call back into Python.

use std::time::{Duration, Instant};

use ddln::{Control, Observer, StepView};
use pyo3::prelude::*;

/// How often (in wall time) pending signals are checked and the progress bar redrawn.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Read the clock only every this many steps (a step of a small problem takes ~100 ns).
const CLOCK_STRIDE: u64 = 16;

/// What "done" means for the progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Horizon {
    /// Gradient flow: fraction `t / t_end`.
    Time(f64),
    /// Descent: fraction `step / steps`.
    Steps(u64),
}

/// Sees every accepted step of a run started from Python.
pub struct PyObserver {
    callback: Option<Py<PyAny>>,
    every: u64,
    horizon: Horizon,
    progress: bool,
    last_poll: Instant,
    seen: u64,
    drawn: bool,
    /// The Python exception that stopped the run (raised by the callback, or
    /// `KeyboardInterrupt` from a pending SIGINT); re-raised by the binding.
    pub error: Option<PyErr>,
    /// The last step seen (for the final progress line).
    last: (f64, u64, f64),
}

impl PyObserver {
    /// An observer calling `callback(t, loss)` every `every` steps, optionally drawing a
    /// progress bar towards `horizon`.
    pub fn new(callback: Option<Py<PyAny>>, every: u64, horizon: Horizon, progress: bool) -> Self {
        PyObserver {
            callback,
            every: every.max(1),
            horizon,
            progress,
            last_poll: Instant::now(),
            seen: 0,
            drawn: false,
            error: None,
            last: (0.0, 0, f64::NAN),
        }
    }

    /// Calls the callback; `Ok(false)` when it asked to stop.
    fn call_back(&self, view: &StepView) -> PyResult<bool> {
        let Some(callback) = &self.callback else {
            return Ok(true);
        };
        Python::attach(|py| {
            let out = callback.call1(py, (view.t, view.loss))?;
            if out.is_none(py) {
                Ok(true)
            } else {
                out.is_truthy(py)
            }
        })
    }

    /// Checks pending signals (Ctrl-C) and redraws the progress bar.
    fn poll(&self, view: &StepView) -> PyResult<()> {
        Python::attach(|py| {
            py.check_signals()?;
            if self.progress {
                draw(py, self.horizon, view.t, view.step, view.loss, false)?;
            }
            Ok(())
        })
    }

    /// Draws the last state of the bar and ends its line (call once the run is over).
    pub fn finish(&self, py: Python<'_>) -> PyResult<()> {
        if self.progress && self.drawn {
            let (t, step, loss) = self.last;
            draw(py, self.horizon, t, step, loss, true)?;
        }
        Ok(())
    }
}

impl Observer for PyObserver {
    fn observe(&mut self, view: &StepView) -> Control {
        self.last = (view.t, view.step, view.loss);
        if self.callback.is_some() && view.step.is_multiple_of(self.every) {
            match self.call_back(view) {
                Ok(true) => {}
                Ok(false) => return Control::Stop,
                Err(e) => {
                    self.error = Some(e);
                    return Control::Stop;
                }
            }
        }
        self.seen += 1;
        let first_draw = self.progress && !self.drawn;
        if first_draw || self.seen.is_multiple_of(CLOCK_STRIDE) {
            let now = Instant::now();
            if first_draw || now.duration_since(self.last_poll) >= POLL_INTERVAL {
                self.last_poll = now;
                self.drawn = self.progress;
                if let Err(e) = self.poll(view) {
                    self.error = Some(e);
                    return Control::Stop;
                }
            }
        }
        Control::Continue
    }
}

/// Writes `\r[#####-----]  50.0%  t = ...  loss = ...` to Python's `sys.stderr`
/// (so that it shows in notebooks too), with a newline when `last`.
fn draw(
    py: Python<'_>,
    horizon: Horizon,
    t: f64,
    step: u64,
    loss: f64,
    last: bool,
) -> PyResult<()> {
    const WIDTH: usize = 30;
    let fraction = match horizon {
        Horizon::Time(t_end) => t / t_end,
        Horizon::Steps(steps) => step as f64 / steps as f64,
    }
    .clamp(0.0, 1.0);
    let filled = (fraction * WIDTH as f64).round() as usize;
    let line = format!(
        "\r[{}{}] {:5.1}%  step {step}  t = {t:.4e}  loss = {loss:.6e}{}",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        100.0 * fraction,
        if last { "\n" } else { "" }
    );
    let stderr = py.import("sys")?.getattr("stderr")?;
    if stderr.is_none() {
        return Ok(());
    }
    stderr.call_method1("write", (line,))?;
    stderr.call_method0("flush")?;
    Ok(())
}
