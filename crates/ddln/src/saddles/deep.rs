//! The staircase at depth `L >= 3` (docs/math.md section 12, deeper networks): gradient
//! flow from `u^1 = 0`, `u^j = alpha` (`j >= 2`) at any `alpha` ([`deep_small_init_flow`]),
//! its time rescaled to `tau = t alpha^(L-2) / w_L`, against the two-layer limit algorithm.
//!
//! Every coordinate has the mirror map of the unit shape scaled (section 7, small inits):
//! `xi_i = alpha^{-(L-2)} F_U(v_i / alpha)`, bounded by `alpha^{-(L-2)} w_L`, `w_L =
//! F_U(inf) = int_0^inf (1 + w^2)^{-(L-1)/2} dw`. In `s = xi alpha^(L-2) / w_L` and `tau`,
//! `ds/dtau = -grad L(theta)`, and theta is negligible until `|s_i|` reaches 1: the
//! vanishing-init picture of the two-layer network with the same unit box, so the same
//! algorithm predicts the jumps.

use serde::Serialize;

use crate::error::{check_positive, Result};
use crate::optim::{FlowSettings, Status};
use crate::problem::Problem;

use super::deep_flow::deep_small_init_flow;
use super::{jump_errors, plateau_levels, Saddles};
use crate::optim::SkipSettings;

/// A depth-`L` flow at small init next to the limit algorithm.
#[derive(Debug, Clone, Serialize)]
pub struct DeepJumps {
    /// `L`.
    pub depth: usize,
    /// `lambda = log(1/alpha)`.
    pub lambda: f64,
    /// `w_L`, the edge of the unit shape's dual box.
    pub unit_edge: f64,
    /// `log(tau / t) = -(L-2) lambda - log w_L` (`tau / t` itself underflows below
    /// `alpha^(L-2) = 1e-308`).
    pub ln_time_factor: f64,
    /// The rescaled times `tau` at which the loss crosses the geometric means of the
    /// algorithm's successive plateau losses (`None`: not crossed).
    pub jump_times: Vec<Option<f64>>,
    /// `|simulated - algorithm| / algorithm` per jump.
    pub relative_errors: Vec<f64>,
    /// The largest of them.
    pub worst_error: f64,
    /// Recorded `tau`.
    pub tau: Vec<f64>,
    /// The loss there.
    pub loss: Vec<f64>,
    /// How the flow ended.
    pub status: Status,
    /// Accepted steps of the flow.
    pub steps: u64,
    /// Plateaus skipped in closed form.
    pub skips: usize,
}

/// The init `u^1 = 0`, `u^j = alpha` of `depth x d`.
pub fn zero_first_init(depth: usize, d: usize, alpha: f64) -> Vec<f64> {
    let mut init = vec![0.0; d];
    init.extend(std::iter::repeat_n(alpha, (depth - 1) * d));
    init
}

/// Simulates depth `depth >= 3` from [`zero_first_init`] at `alpha = e^-lambda` (any
/// `lambda > 0`) to 1.5 times the last jump of `saddles` (in `tau`), plateaus skipped
/// ([`deep_small_init_flow`] with the default [`SkipSettings`]), and measures its jump
/// times against them. `settings.t_end` is ignored; its tolerances, integrator and step
/// budget apply.
pub fn simulate_deep_jumps(
    problem: &Problem,
    saddles: &Saddles,
    depth: usize,
    lambda: f64,
    settings: &FlowSettings,
) -> Result<DeepJumps> {
    check_positive("lambda", lambda)?;
    let tau_end = 1.5 * saddles.jumps.last().map_or(1.0, |j| j.time_accelerated);
    let levels = plateau_levels(saddles);
    let run = deep_small_init_flow(
        problem,
        depth,
        lambda,
        tau_end,
        &levels,
        settings,
        &SkipSettings::default(),
    )?;
    let (relative_errors, worst_error) = jump_errors(&run.crossings, saddles);
    Ok(DeepJumps {
        depth,
        lambda,
        unit_edge: run.unit_edge,
        ln_time_factor: -((depth - 2) as f64) * lambda - run.unit_edge.ln(),
        worst_error,
        relative_errors,
        jump_times: run.crossings,
        tau: run.tau,
        loss: run.loss,
        status: run.status,
        steps: run.stats.steps,
        skips: run.skips,
    })
}
