//! The one integrator dispatch: an [`RkMethod`] (`dopri5`, `bs3`, `rodas`, `auto`) applied
//! to any system that provides a structured Jacobian. The switching policy of `auto` lives
//! here.

use super::ode::{Hooks, Outcome, StiffSystem};
use super::rk::integrate_explicit;
use super::rosenbrock::{integrate_stiff, RosenbrockTableau};
use super::settings::FlowSettings;
use super::tableau::RkMethod;
use crate::observe::Observer;

/// Integrates a system that provides a Jacobian with any [`RkMethod`]: the explicit pairs
/// by [`super::rk::integrate_explicit`], `rodas` by [`integrate_stiff`] with RODAS4, and `auto` by
/// Dormand-Prince with stiffness detection, continued by RODAS4 from the time the
/// explicit step became stability-bound (recorded in [`RunStats::stiff_from`]).
pub fn integrate<S: StiffSystem, O: Observer>(
    sys: &mut S,
    method: RkMethod,
    y: &mut [f64],
    t_eval: &[f64],
    settings: &FlowSettings,
    mut hooks: Hooks<'_, O>,
) -> Outcome {
    let rodas = RosenbrockTableau::rodas4();
    match method.tableau() {
        None => {
            let mut out = integrate_stiff(sys, &rodas, y, 0.0, t_eval, settings, &mut hooks);
            out.methods = vec![RkMethod::Rodas];
            out
        }
        Some(tableau) => {
            let detect = method == RkMethod::Auto;
            let explicit = if detect { RkMethod::Dopri5 } else { method };
            let mut first =
                integrate_explicit(sys, &tableau, y, t_eval, settings, &mut hooks, detect);
            let Some(t_switch) = first.stiff_at else {
                first.methods = vec![explicit];
                return first;
            };
            let used = first.stats.steps + first.stats.rejected_steps;
            let rest_start = t_eval.partition_point(|&t| t <= t_switch);
            let mut rest = settings.clone();
            rest.max_steps = settings.max_steps.saturating_sub(used).max(1);
            if first.last_step.is_finite() && first.last_step > 0.0 {
                rest.initial_step = Some(first.last_step);
            }
            let mut second = integrate_stiff(
                sys,
                &rodas,
                y,
                t_switch,
                &t_eval[rest_start..],
                &rest,
                &mut hooks,
            );
            let mut stats = first.stats;
            stats.absorb(&second.stats);
            stats.stiff_from = Some(t_switch);
            second.stats = stats;
            second.methods = vec![explicit, RkMethod::Rodas];
            second.switch_reason = Some(first.message);
            second
        }
    }
}
