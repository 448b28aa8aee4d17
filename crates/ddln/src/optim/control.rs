//! Step-size control and bookkeeping shared by the explicit Runge-Kutta and the
//! Rosenbrock integrators.

use super::ode::{Hooks, Outcome};
use super::run::{RunStats, Status};
use super::settings::FlowSettings;
use crate::observe::{Control, Observer, StepView};

/// An [`Outcome`] that did not hand over to another integrator.
pub(super) fn finish(status: Status, t: f64, message: String, stats: RunStats) -> Outcome {
    Outcome {
        status,
        t,
        message,
        stats,
        stiff_at: None,
        last_step: f64::NAN,
        methods: Vec::new(),
        switch_reason: None,
    }
}

/// The bookkeeping at every state an integrator keeps (the start, then each accepted
/// step): records the output times reached, shows the state to the observer when
/// `observe`, and checks the stopping conditions (a non-finite loss when `check_finite`,
/// then `loss_tol`). Returns the status and message that end the run, if any.
#[allow(clippy::too_many_arguments)]
pub(super) fn checkpoint<O: Observer>(
    hooks: &mut Hooks<'_, O>,
    t_eval: &[f64],
    next_out: &mut usize,
    t: f64,
    y: &[f64],
    loss: f64,
    step: u64,
    observe: bool,
    check_finite: bool,
) -> Option<(Status, String)> {
    while *next_out < t_eval.len() && t_eval[*next_out] <= t {
        (hooks.record)(t, y, loss);
        *next_out += 1;
    }
    if observe {
        let view = StepView {
            t,
            step,
            state: &y[..hooks.observed_len],
            loss,
        };
        if hooks.observer.observe(&view) == Control::Stop {
            return Some((
                Status::Stopped,
                format!("stopped by an observer at t = {t}"),
            ));
        }
    }
    if check_finite && !loss.is_finite() {
        let msg = if step == 0 {
            format!("the loss is not finite at the initial state (t = {t})")
        } else {
            format!("the loss overflowed at t = {t}")
        };
        return Some((Status::Diverged, msg));
    }
    if hooks.stop_loss.is_some_and(|tol| loss <= tol) {
        let msg = format!("loss {loss:e} <= loss_tol at t = {t}");
        return Some((Status::Converged, msg));
    }
    None
}

/// `y += alpha x`.
#[inline]
pub(super) fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// Root-mean-square of the local error estimate `h sum_j e_j k_j`, each component scaled
/// by `atol + rtol max(|y_i|, |y_new_i|)`. Infinite if anything is non-finite.
pub(super) fn error_norm(
    e: &[f64],
    k: &[Vec<f64>],
    h: f64,
    y: &[f64],
    y_new: &[f64],
    settings: &FlowSettings,
) -> f64 {
    let n = y.len();
    let mut sum = 0.0;
    for i in 0..n {
        let mut err = 0.0;
        for (j, &ej) in e.iter().enumerate() {
            if ej != 0.0 {
                err += ej * k[j][i];
            }
        }
        let scale = settings.atol + settings.rtol * y[i].abs().max(y_new[i].abs());
        let r = h * err / scale;
        sum += r * r;
    }
    let norm = (sum / n as f64).sqrt();
    if norm.is_finite() && y_new.iter().all(|v| v.is_finite()) {
        norm
    } else {
        f64::INFINITY
    }
}

/// The elementary controller `h_new = h 0.9 err^(-exponent)`, with bounded growth and
/// shrinkage (Hairer, Norsett & Wanner, Solving ODEs I, II.4).
pub(super) struct Controller {
    /// `1 / (q + 1)` for an embedded estimate of order `q`.
    pub exponent: f64,
    /// Largest growth factor after an accepted step that followed an accepted step.
    pub max_growth: f64,
}

impl Controller {
    /// The next step size after an accepted step of size `h_try`, where `h` was the
    /// natural step before clipping to land on an output time.
    pub fn accepted(&self, err: f64, h: f64, h_try: f64, lands: bool, just_rejected: bool) -> f64 {
        let grow = if just_rejected { 1.0 } else { self.max_growth };
        let factor = (0.9 * err.powf(-self.exponent)).clamp(0.2, grow);
        // A step clipped to land on an output time says little about the natural step
        // size: never let it shrink the next one.
        if lands && h_try < h {
            h.max(h_try * factor)
        } else {
            h_try * factor
        }
    }

    /// The retry step size after rejecting a step of size `h_try`.
    pub fn rejected(&self, err: f64, h_try: f64) -> f64 {
        let factor = if err.is_finite() {
            (0.9 * err.powf(-self.exponent)).clamp(0.1, 0.9)
        } else {
            0.1
        };
        h_try * factor
    }
}

/// Plans the next trial step from the current time `t` and natural step `h` (capped at
/// `max_step` in place): clipped to land exactly on the output time `target` when it is
/// within reach. Returns `(h_try, lands)`, or the status and message that end the run
/// first (step budget used up; step below f64 resolution, or overflow at every step size).
pub(super) fn plan_step(
    t: f64,
    h: &mut f64,
    target: f64,
    max_step: f64,
    settings: &FlowSettings,
    stats: &RunStats,
    last_reject_nonfinite: bool,
) -> Result<(f64, bool), (Status, String)> {
    if stats.steps + stats.rejected_steps >= settings.max_steps {
        let msg = format!(
            "step budget max_steps = {} used up at t = {t}",
            settings.max_steps
        );
        return Err((Status::MaxSteps, msg));
    }
    *h = h.min(max_step);
    let (h_try, lands) = if t + *h >= target || target - t - *h <= 1e-12 * target.abs() {
        (target - t, true)
    } else {
        (*h, false)
    };
    if h_try <= 16.0 * f64::EPSILON * t.abs().max(f64::MIN_POSITIVE) {
        let (status, why) = if last_reject_nonfinite {
            (Status::Diverged, "the state overflows for every step size")
        } else {
            (
                Status::StepSizeTooSmall,
                "the error control asks for a step below f64 resolution",
            )
        };
        return Err((status, format!("{why} at t = {t} (h = {h_try:e})")));
    }
    Ok((h_try, lands))
}
