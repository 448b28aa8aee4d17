//! A [`Run`] of the deep small-init dynamics ([`Dynamics::SmallInit`]): the skipping
//! integration of [`super::skip_flow`] in the map's `tau`, reported in the run's time
//! unit (flow or accelerated time, [`TimeFrame`]) with the full layers, like every other
//! gradient-flow run.

use super::dynamics::Dynamics;
use super::run::{FlowSolver, Run, Trajectory};
use super::settings::FlowSettings;
use super::skip_flow::{integrate_skipping, SkipHooks, SkipSettings};
use super::time_unit::TimeFrame;
use crate::error::{DdlnError, Result};
use crate::memory;
use crate::observe::{Control, Observer, StepView};
use crate::param::small_init_map::SmallInitMap;
use crate::problem::Problem;

/// Shows the caller's observer the run's times and the full layers.
struct UnitTimeObserver<'a, M: SmallInitMap, O: Observer> {
    flow: &'a M,
    /// `tau` per reported unit.
    tau_rate: f64,
    layers: Vec<f64>,
    inner: &'a mut O,
}

impl<M: SmallInitMap, O: Observer> Observer for UnitTimeObserver<'_, M, O> {
    fn observe(&mut self, view: &StepView) -> Control {
        self.flow.all_layers(view.state, &mut self.layers);
        self.inner.observe(&StepView {
            t: if self.tau_rate > 0.0 {
                view.t / self.tau_rate
            } else {
                0.0
            },
            step: view.step,
            state: &self.layers,
            loss: view.loss,
        })
    }
}

/// Runs the small-init dynamics of `flow` on `problem` to `settings.t_end` (in the units
/// of `frame`).
pub(super) fn small_init_run<M: SmallInitMap, O: Observer>(
    problem: &Problem,
    flow: &M,
    settings: &FlowSettings,
    frame: TimeFrame,
    dynamics_reason: String,
    observer: &mut O,
) -> Result<Run> {
    let d = problem.dim();
    let layers_len = flow.rows() * d;
    // tau per reported unit. In flow time it is 0 when alpha^(L-2) underflows: then no
    // representable flow time reaches the first jump, and the run stays on its first
    // plateau. In accelerated time it is of order one at any scale.
    let tau_rate = (flow.ln_tau_rate() + frame.ln_flow_per_unit).exp();
    if frame != TimeFrame::FLOW && !(tau_rate.is_finite() && tau_rate > 0.0) {
        return Err(DdlnError::invalid(
            "time_unit",
            format!(
                "the small-init map's time per accelerated unit, e^{:e}, is not a float: the dual box is degenerate; use time_unit = \"flow\"",
                flow.ln_tau_rate() + frame.ln_flow_per_unit
            ),
        ));
    }
    let times = settings.output_times();
    let tau_out: Vec<f64> = times.iter().map(|t| t * tau_rate).collect();
    let per_record = layers_len + d * if settings.track_xi { 2 } else { 1 } + 2;
    let recorded = memory::entries("n_record", &[times.len(), per_record])?;
    memory::check_fits("n_record", "the recorded trajectory", recorded)?;
    let mut traj = Trajectory {
        t: Vec::with_capacity(times.len()),
        states: Vec::with_capacity(times.len() * layers_len),
        theta: Vec::with_capacity(times.len() * d),
        loss: Vec::with_capacity(times.len()),
        xi: settings
            .track_xi
            .then(|| Vec::with_capacity(times.len() * d)),
    };
    let mut layers = vec![0.0; layers_len];
    let mut record = |tau: f64, z: &[f64], loss: f64| {
        // The output times themselves, not tau / tau_rate rounded back.
        let t = times.get(traj.t.len()).copied();
        traj.t.push(t.unwrap_or(tau / tau_rate));
        flow.all_layers(z, &mut layers);
        traj.states.extend_from_slice(&layers);
        traj.theta
            .extend(z.iter().enumerate().map(|(i, &zi)| flow.theta(i, zi)));
        traj.loss.push(loss);
        if let Some(xi) = traj.xi.as_mut() {
            xi.extend(z.iter().enumerate().map(|(i, &zi)| flow.xi(i, zi)));
        }
    };
    let mut shown = UnitTimeObserver {
        flow,
        tau_rate,
        layers: vec![0.0; layers_len],
        inner: observer,
    };
    let hooks = SkipHooks {
        record: &mut record,
        observer: &mut shown,
        stop_loss: settings.loss_tol,
    };
    let skip = SkipSettings::default();
    let out = integrate_skipping(problem, flow, &tau_out, settings, &skip, hooks);
    let mut final_state = vec![0.0; layers_len];
    flow.all_layers(&out.z, &mut final_state);
    let final_theta: Vec<f64> = out
        .z
        .iter()
        .enumerate()
        .map(|(i, &z)| flow.theta(i, z))
        .collect();
    let final_loss = problem.loss_value(&final_theta);
    let reached = tau_out.last().copied().unwrap_or(0.0);
    let t_final = if out.tau >= reached {
        settings.t_end
    } else {
        out.tau / tau_rate
    };
    Ok(Run {
        status: out.status,
        t_final,
        message: format!(
            "{} (t = {t_final:e}; {} plateaus skipped)",
            out.message, out.skips
        ),
        final_state,
        final_theta,
        final_loss,
        trajectory: traj,
        solver: Some(FlowSolver {
            dynamics: Dynamics::SmallInit,
            dynamics_reason,
            integrator: settings.integrator,
            methods: Vec::new(),
            switch_reason: None,
        }),
        stats: out.stats,
        step_identity: None,
        checkpoint: None,
    })
}
