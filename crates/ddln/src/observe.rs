//! Observers see every accepted step of a run and may stop it (progress bars, Python
//! callbacks, Ctrl-C, diagnostics that need every step rather than the recorded ones).

/// What an observer sees after each accepted step.
#[derive(Debug, Clone, Copy)]
pub struct StepView<'a> {
    /// Time: flow time for gradient flow, the sum of step sizes for descent methods.
    pub t: f64,
    /// Number of accepted steps (iterations) so far.
    pub step: u64,
    /// The trainable state (layers), `rows x d` row-major.
    pub state: &'a [f64],
    /// The loss at `state`.
    pub loss: f64,
}

/// Whether a run goes on after an observer has seen a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Keep going.
    Continue,
    /// Stop now; the run ends with status [`crate::Status::Stopped`].
    Stop,
}

/// Sees each accepted step; return [`Control::Stop`] to end the run.
pub trait Observer {
    /// Called after every accepted step (and once for the initial state, with `step = 0`).
    fn observe(&mut self, view: &StepView) -> Control;
}

/// The observer that watches nothing.
impl Observer for () {
    fn observe(&mut self, _: &StepView) -> Control {
        Control::Continue
    }
}

/// Wraps a closure as an observer.
pub struct FnObserver<F>(pub F);

impl<F: FnMut(&StepView) -> Control> Observer for FnObserver<F> {
    fn observe(&mut self, view: &StepView) -> Control {
        (self.0)(view)
    }
}

/// Several observers in turn; the run stops if any of them asks to.
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn observe(&mut self, view: &StepView) -> Control {
        let a = self.0.observe(view);
        let b = self.1.observe(view);
        if a == Control::Stop || b == Control::Stop {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

impl<T: Observer + ?Sized> Observer for &mut T {
    fn observe(&mut self, view: &StepView) -> Control {
        (**self).observe(view)
    }
}
