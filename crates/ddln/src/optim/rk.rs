//! An adaptive explicit Runge-Kutta integrator for any [`Tableau`], with step-size
//! control on a mixed relative/absolute error norm and exact landing on output times.
//!
//! All work arrays are allocated once before the loop; a step allocates nothing.

use super::control::{axpy, checkpoint, error_norm, finish, plan_step, Controller};
use super::ode::{Hooks, OdeSystem, Outcome};
use super::run::{RunStats, Status};
use super::settings::FlowSettings;
use super::tableau::Tableau;
use crate::observe::Observer;

/// Hairer's stiffness test for an explicit FSAL pair (Solving ODEs II, section IV.2;
/// `dopri5.f`): after an accepted step, `h |f(y_new) - f(y_s)| / |y_new - y_s|`, with
/// `y_s` the last stage point before `y_new` (both at `c = 1`), estimates `h |lambda|` of
/// the dominant eigenvalue. The step is stability-bound when it exceeds
/// [`Tableau::stability_bound`]; [`STIFF_STEPS`] such steps without [`NONSTIFF_STEPS`]
/// non-bound steps in between declare the problem stiff.
pub const STIFF_STEPS: u32 = 15;
/// Consecutive non-stability-bound steps that reset the stiffness count (see [`STIFF_STEPS`]).
pub const NONSTIFF_STEPS: u32 = 6;

/// Integrates `sys` from `y` at `t = 0` by the explicit pair `tableau`, recording at each
/// time of `t_eval` (sorted, in `[0, t_end]`, ending at `t_end`), with the steps clipped to
/// land on those times; optionally stopping (status `Stopped`, [`Outcome::stiff_at`] set) when
/// Hairer's stiffness test fires (see [`STIFF_STEPS`]); needs a tableau with a
/// [`Tableau::stability_bound`].
pub fn integrate_explicit<S: OdeSystem, O: Observer>(
    sys: &mut S,
    tableau: &Tableau,
    y: &mut [f64],
    t_eval: &[f64],
    settings: &FlowSettings,
    hooks: &mut Hooks<'_, O>,
    detect_stiffness: bool,
) -> Outcome {
    let detect = if detect_stiffness {
        tableau.stability_bound
    } else {
        None
    };
    let mut y_sti = vec![0.0; if detect.is_some() { sys.dim() } else { 0 }];
    let (mut stiff_count, mut nonstiff_count) = (0u32, 0u32);
    let n = sys.dim();
    let stages = tableau.stages();
    let t_end = *t_eval.last().expect("t_eval is never empty");
    let mut k: Vec<Vec<f64>> = vec![vec![0.0; n]; stages];
    let mut y_stage = vec![0.0; n];
    let mut y_new = vec![0.0; n];
    let mut stats = RunStats::default();
    let control = Controller {
        exponent: 1.0 / (tableau.embedded_order as f64 + 1.0),
        max_growth: 5.0,
    };

    let mut t = 0.0;
    let mut loss = sys.rhs(t, y, &mut k[0]);
    stats.grad_evals += 1;
    let mut next_out = 0;
    if let Some((status, msg)) = checkpoint(hooks, t_eval, &mut next_out, t, y, loss, 0, true, true)
    {
        return finish(status, t, msg, stats);
    }

    let mut h = match settings.initial_step {
        Some(h) => h,
        None => {
            stats.grad_evals += 1;
            initial_step(
                sys,
                tableau.order,
                y,
                &k[0],
                settings,
                &mut y_stage,
                &mut y_new,
            )
        }
    };
    let max_step = settings.max_step.unwrap_or(f64::INFINITY);
    let mut last_reject_nonfinite = false;
    let mut just_rejected = false;

    while t < t_end {
        let target = t_eval[next_out];
        let planned = plan_step(
            t,
            &mut h,
            target,
            max_step,
            settings,
            &stats,
            last_reject_nonfinite,
        );
        let (h_try, lands) = match planned {
            Ok(step) => step,
            Err((status, msg)) => return finish(status, t, msg, stats),
        };

        // Stages 2..s; stage 1 is the derivative at the current point.
        let mut new_loss = f64::NAN;
        for s in 1..stages {
            y_stage.copy_from_slice(y);
            for (j, &a) in tableau.a[s].iter().enumerate() {
                if a != 0.0 {
                    axpy(h_try * a, &k[j], &mut y_stage);
                }
            }
            new_loss = sys.rhs(t + tableau.c[s] * h_try, &y_stage, &mut k[s]);
            stats.grad_evals += 1;
            if detect.is_some() && s + 2 == stages {
                y_sti.copy_from_slice(&y_stage);
            }
        }
        if tableau.fsal {
            y_new.copy_from_slice(&y_stage);
        } else {
            y_new.copy_from_slice(y);
            for (j, &b) in tableau.b.iter().enumerate() {
                if b != 0.0 {
                    axpy(h_try * b, &k[j], &mut y_new);
                }
            }
        }
        let err = error_norm(&tableau.e, &k, h_try, y, &y_new, settings);

        if err <= 1.0 {
            t = if lands { target } else { t + h_try };
            y.copy_from_slice(&y_new);
            if tableau.fsal {
                k.swap(0, stages - 1);
                loss = new_loss;
            } else {
                loss = sys.rhs(t, y, &mut k[0]);
                stats.grad_evals += 1;
            }
            stats.steps += 1;
            stats.max_local_error = stats.max_local_error.max(err);
            last_reject_nonfinite = false;
            if let Some(bound) = detect {
                // k[0] is now f(y_new); k[stages - 2] is f at the stage point y_sti.
                let (mut num, mut den) = (0.0, 0.0);
                for i in 0..n {
                    num += (k[0][i] - k[stages - 2][i]).powi(2);
                    den += (y[i] - y_sti[i]).powi(2);
                }
                if den > 0.0 && h_try * (num / den).sqrt() > bound {
                    nonstiff_count = 0;
                    stiff_count += 1;
                } else {
                    nonstiff_count += 1;
                    if nonstiff_count >= NONSTIFF_STEPS {
                        stiff_count = 0;
                    }
                }
            }
            let step = stats.steps;
            if let Some((status, msg)) =
                checkpoint(hooks, t_eval, &mut next_out, t, y, loss, step, true, false)
            {
                return finish(status, t, msg, stats);
            }
            h = control.accepted(err, h, h_try, lands, just_rejected);
            just_rejected = false;
            if stiff_count >= STIFF_STEPS && t < t_end {
                let msg = format!(
                    "stiffness detected at t = {t} (step size h = {h_try:e} is stability-bound)"
                );
                let mut out = finish(Status::Stopped, t, msg, stats);
                out.stiff_at = Some(t);
                out.last_step = h;
                return out;
            }
        } else {
            stats.rejected_steps += 1;
            last_reject_nonfinite = !err.is_finite();
            h = control.rejected(err, h_try);
            just_rejected = true;
        }
    }
    let msg = format!("reached t_end = {t_end} in {} steps", stats.steps);
    finish(Status::Completed, t, msg, stats)
}

/// Hairer, Norsett & Wanner's starting step (Solving ODEs I, II.4): balance the first
/// step's error estimate from `f(y0)` and one trial Euler step.
fn initial_step<S: OdeSystem>(
    sys: &mut S,
    order: u32,
    y0: &[f64],
    f0: &[f64],
    settings: &FlowSettings,
    y1: &mut [f64],
    f1: &mut [f64],
) -> f64 {
    let n = y0.len() as f64;
    let scale = |i: usize| settings.atol + settings.rtol * y0[i].abs();
    let rms =
        |v: &dyn Fn(usize) -> f64| ((0..y0.len()).map(|i| v(i).powi(2)).sum::<f64>() / n).sqrt();
    let d0 = rms(&|i| y0[i] / scale(i));
    let d1 = rms(&|i| f0[i] / scale(i));
    let h0 = if d0 < 1e-5 || d1 < 1e-5 {
        1e-6
    } else {
        0.01 * d0 / d1
    };
    for i in 0..y0.len() {
        y1[i] = y0[i] + h0 * f0[i];
    }
    sys.rhs(h0, y1, f1);
    let d2 = rms(&|i| (f1[i] - f0[i]) / scale(i)) / h0;
    let h1 = if d1.max(d2) <= 1e-15 {
        (h0 * 1e-3).max(1e-6)
    } else {
        (0.01 / d1.max(d2)).powf(1.0 / (order as f64 + 1.0))
    };
    let h = (100.0 * h0).min(h1);
    if h.is_finite() && h > 0.0 {
        h
    } else {
        1e-6
    }
}
