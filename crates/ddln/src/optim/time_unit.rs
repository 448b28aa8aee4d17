//! The unit of a gradient-flow run's times: flow time, or the accelerated time of the
//! saddle-to-saddle limit (docs/math.md section 12, "Accelerated time"), in which a
//! run at any init scale has its jumps at times of order one.
//!
//! A run in accelerated units reads `t_end`, `t_eval`, `initial_step` and `max_step` in
//! that unit and reports its trajectory, final time, observer times and jumps in it. Flow
//! time is `S` times accelerated time, `S` the mean half-width of the run's dual box
//! (`log(1/alpha)` for two layers, `w_L alpha^-(L-2)` for the deep model from
//! `u^1 = 0`, `u^j = alpha`), which for `L >= 4` overflows f64 below `alpha ~ 1e-154`:
//! the small-init dynamics then integrate in their own `tau` and never form a flow time.

use serde::{Deserialize, Serialize};

use super::run::Run;
use super::settings::FlowSettings;
use crate::error::{DdlnError, Result};
use crate::observe::{Control, Observer, StepView};

/// The unit of a flow's times (serde and CLI names in parentheses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// `flow` (default): the time of `d theta / dt = -grad L`.
    #[default]
    Flow,
    /// `accelerated`: flow time divided by the mean half-width of the run's dual box, the
    /// time unit of the jumps' `time_accelerated` (a run at small init only: the deep
    /// model under assumption (A), the two-layer models, `u^L - v^L` from a positive init).
    Accelerated,
}

impl TimeUnit {
    /// Every variant, in declaration order.
    pub const ALL: [TimeUnit; 2] = [TimeUnit::Flow, TimeUnit::Accelerated];

    /// The name used in configs, on the command line and in Python.
    pub fn name(&self) -> &'static str {
        match self {
            TimeUnit::Flow => "flow",
            TimeUnit::Accelerated => "accelerated",
        }
    }

    /// The time axis of a plot in this unit.
    pub fn axis_label(&self) -> &'static str {
        match self {
            TimeUnit::Flow => "t",
            TimeUnit::Accelerated => {
                "accelerated time (flow time / mean half-width of the dual box)"
            }
        }
    }

    /// Parses one of the names of [`TimeUnit::ALL`].
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|u| u.name() == name)
            .ok_or_else(|| {
                DdlnError::invalid(
                    "time_unit",
                    format!("unknown time unit `{name}`; expected `flow` or `accelerated`"),
                )
            })
    }
}

/// How a run's reported times relate to flow time: flow time = `exp(ln_flow_per_unit)`
/// reported time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeFrame {
    /// `ln` of the flow time per reported unit (0 for flow time).
    pub ln_flow_per_unit: f64,
}

impl TimeFrame {
    /// Flow time itself.
    pub const FLOW: TimeFrame = TimeFrame {
        ln_flow_per_unit: 0.0,
    };

    /// The flow time per reported unit as a float, or an error naming the fix when it
    /// overflows or underflows (only the small-init dynamics run without it).
    pub fn flow_per_unit(&self, dynamics: &str) -> Result<f64> {
        let s = self.ln_flow_per_unit.exp();
        if s.is_finite() && s > 0.0 {
            Ok(s)
        } else {
            Err(DdlnError::invalid(
                "time_unit",
                format!(
                    "one accelerated time unit is e^{:.6e} of flow time, beyond f64, and the {dynamics} dynamics integrate in flow time; use dynamics = \"small_init\" (or \"auto\"), which integrates in its own time",
                    self.ln_flow_per_unit
                ),
            ))
        }
    }

    /// `settings` with its times (`t_end`, `t_eval`, `initial_step`, `max_step`) in flow
    /// time, `s` flow time per reported unit.
    pub fn to_flow_settings(settings: &FlowSettings, s: f64) -> FlowSettings {
        let mut flow = settings.clone();
        flow.t_end = settings.t_end * s;
        flow.t_eval = settings
            .t_eval
            .as_ref()
            .map(|t| t.iter().map(|&x| x * s).collect());
        flow.initial_step = settings.initial_step.map(|h| h * s);
        flow.max_step = settings.max_step.map(|h| h * s);
        flow
    }

    /// Rewrites a run integrated in flow time (with `flow_settings`, from
    /// [`Self::to_flow_settings`]) in the units of `settings`: the recorded times that are
    /// output times become the requested ones exactly, the others are divided by `s`.
    pub fn run_to_units(
        run: &mut Run,
        settings: &FlowSettings,
        flow_settings: &FlowSettings,
        s: f64,
    ) {
        let wanted = settings.output_times();
        let flown = flow_settings.output_times();
        for (k, t) in run.trajectory.t.iter_mut().enumerate() {
            *t = match (wanted.get(k), flown.get(k)) {
                (Some(&w), Some(&f)) if f == *t => w,
                _ => *t / s,
            };
        }
        run.t_final = if run.t_final == flow_settings.t_end {
            settings.t_end
        } else {
            run.t_final / s
        };
        run.stats.stiff_from = run.stats.stiff_from.map(|t| t / s);
        run.message = format!(
            "{} (times above in flow time; one accelerated unit is {s:e} of it)",
            run.message
        );
    }
}

/// Shows an observer the times of a run integrated in flow time in reported units.
pub struct UnitObserver<'a, O: Observer> {
    /// Flow time per reported unit.
    pub flow_per_unit: f64,
    /// The caller's observer.
    pub inner: &'a mut O,
}

impl<O: Observer> Observer for UnitObserver<'_, O> {
    fn observe(&mut self, view: &StepView) -> Control {
        self.inner.observe(&StepView {
            t: view.t / self.flow_per_unit,
            ..*view
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_names_name_the_field() {
        for u in TimeUnit::ALL {
            assert_eq!(TimeUnit::from_name(u.name()).unwrap(), u);
            assert_eq!(serde_json::to_value(u).unwrap(), u.name());
        }
        let e = TimeUnit::from_name("tau").unwrap_err().to_string();
        assert!(e.contains("time_unit") && e.contains("accelerated"), "{e}");
    }

    #[test]
    fn a_unit_beyond_f64_is_refused_for_flow_time_dynamics() {
        let frame = TimeFrame {
            ln_flow_per_unit: 2.0 * 200.0 * std::f64::consts::LN_10,
        };
        let e = frame.flow_per_unit("reduced").unwrap_err().to_string();
        assert!(e.contains("small_init") && e.contains("reduced"), "{e}");
        let s = TimeFrame {
            ln_flow_per_unit: 3.0f64.ln(),
        }
        .flow_per_unit("reduced")
        .unwrap();
        assert!((s - 3.0).abs() < 1e-15);
    }

    #[test]
    fn settings_are_scaled_and_the_output_times_come_back_exactly() {
        let settings = FlowSettings {
            t_end: 0.7,
            t_eval: Some(vec![0.0, 0.1, 0.3]),
            max_step: Some(0.05),
            ..FlowSettings::default()
        };
        let s = 1.0e7 / 3.0;
        let flow = TimeFrame::to_flow_settings(&settings, s);
        assert_eq!(flow.t_end, 0.7 * s);
        assert_eq!(flow.max_step, Some(0.05 * s));
        assert_eq!(flow.output_times().len(), settings.output_times().len());
    }
}
