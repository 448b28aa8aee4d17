//! The settings of a gradient-flow run: horizon, error control, integrator, dynamics and
//! recording, defined once (serde, documented defaults, `validate`). The integrators read
//! their error control from here.

use serde::{Deserialize, Serialize};

use super::dynamics::Dynamics;
use super::run::linspace;
use super::tableau::RkMethod;
use super::time_unit::TimeUnit;
use crate::error::{check_finite, check_positive, check_threshold, DdlnError, Result};
use crate::memory;

/// Settings of a gradient-flow run. Defaults are documented on each field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlowSettings {
    /// End of the time horizon (default 50).
    pub t_end: f64,
    /// Relative tolerance per step (default 1e-10).
    pub rtol: f64,
    /// Absolute tolerance per step (default 1e-12).
    pub atol: f64,
    /// Largest number of accepted plus rejected steps (default 10^7).
    pub max_steps: u64,
    /// First step size; `None` picks it from the derivatives at the start (default).
    pub initial_step: Option<f64>,
    /// Upper bound on the step size; `None` for no bound (default).
    pub max_step: Option<f64>,
    /// Integrator (default `auto`: Dormand-Prince 5(4), switching to RODAS4 where the
    /// problem turns stiff); see [`RkMethod`].
    pub integrator: RkMethod,
    /// Number of evenly spaced recorded times in `[0, t_end]` when `t_eval` is not given (default 201).
    pub n_record: usize,
    /// Explicit recorded times (sorted, in `[0, t_end]`); `t_end` is always recorded too.
    pub t_eval: Option<Vec<f64>>,
    /// Stop with status `Converged` once the loss is at most this (default: never).
    pub loss_tol: Option<f64>,
    /// Integrate `xi(t) = -int_0^t grad L ds` alongside and record it (default false).
    pub track_xi: bool,
    /// The variables integrated (default `auto`: reduced where assumption (A) allows).
    pub dynamics: Dynamics,
    /// The unit of `t_end`, `t_eval`, `initial_step`, `max_step` and of every reported
    /// time (default `flow`; `accelerated`: the jumps' time unit, see [`TimeUnit`]).
    pub time_unit: TimeUnit,
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            t_end: 50.0,
            rtol: 1e-10,
            atol: 1e-12,
            max_steps: 10_000_000,
            initial_step: None,
            max_step: None,
            integrator: RkMethod::default(),
            n_record: 201,
            t_eval: None,
            loss_tol: None,
            track_xi: false,
            dynamics: Dynamics::Auto,
            time_unit: TimeUnit::Flow,
        }
    }
}

impl FlowSettings {
    /// Checks the horizon, tolerances and recorded times.
    pub fn validate(&self) -> Result<()> {
        check_positive("t_end", self.t_end)?;
        check_positive("rtol", self.rtol)?;
        check_positive("atol", self.atol)?;
        if self.rtol < 1e-15 {
            return Err(DdlnError::invalid(
                "rtol",
                format!(
                    "{} is below what f64 arithmetic can deliver; use rtol >= 1e-15",
                    self.rtol
                ),
            ));
        }
        if self.rtol > 1.0 {
            return Err(DdlnError::invalid(
                "rtol",
                format!(
                    "{} allows errors larger than the solution; use rtol <= 1",
                    self.rtol
                ),
            ));
        }
        if self.max_steps == 0 {
            return Err(DdlnError::invalid("max_steps", "must be at least 1"));
        }
        if let Some(h) = self.initial_step {
            check_positive("initial_step", h)?;
        }
        if let Some(h) = self.max_step {
            check_positive("max_step", h)?;
        }
        if self.n_record < 2 {
            return Err(DdlnError::invalid("n_record", "must be at least 2"));
        }
        memory::check_fits("n_record", "the recorded times", self.n_record)?;
        if let Some(times) = &self.t_eval {
            check_finite("t_eval", times)?;
            if let Some(k) = times.windows(2).position(|w| w[1] < w[0]) {
                return Err(DdlnError::invalid(
                    "t_eval",
                    format!(
                        "times must be sorted ascending; t_eval[{}] < t_eval[{k}]",
                        k + 1
                    ),
                ));
            }
            if let Some(&bad) = times.iter().find(|&&t| t < 0.0 || t > self.t_end) {
                return Err(DdlnError::invalid(
                    "t_eval",
                    format!("time {bad} is outside [0, t_end = {}]", self.t_end),
                ));
            }
        }
        check_threshold("loss_tol", self.loss_tol)?;
        Ok(())
    }

    /// The recorded times: `t_eval` (or `n_record` evenly spaced ones), ending at `t_end`.
    pub fn output_times(&self) -> Vec<f64> {
        let mut times = match &self.t_eval {
            Some(t) => t.clone(),
            None => linspace(self.t_end, self.n_record),
        };
        if times.last() != Some(&self.t_end) {
            times.push(self.t_end);
        }
        times
    }
}
