//! The staircase at depth `L >= 3` (docs/math.md section 12, deeper networks): gradient
//! flow from `u^1 = 0`, `u^j = alpha` (`j >= 2`) simulated on the layers, its time
//! rescaled to `tau = t alpha^(L-2) / w_L`, against the two-layer limit algorithm.
//!
//! Every coordinate has the mirror map of the unit shape scaled (section 7, small inits):
//! `xi_i = alpha^{-(L-2)} F_U(v_i / alpha)`, bounded by `alpha^{-(L-2)} w_L`, `w_L =
//! F_U(inf) = int_0^inf (1 + w^2)^{-(L-1)/2} dw`. In `s = xi alpha^(L-2) / w_L` and `tau`,
//! `ds/dtau = -grad L(theta)`, and theta is negligible until `|s_i|` reaches 1: the
//! vanishing-init picture of the two-layer network with the same unit box, so the same
//! algorithm predicts the jumps.

use serde::Serialize;

use crate::error::{check_positive, DdlnError, Result};
use crate::mirror::Entropy;
use crate::optim::{gradient_flow, FlowSettings, Status};
use crate::param::Model;
use crate::problem::Problem;

use super::dual_flow::Crossings;
use super::{jump_errors, plateau_levels, Saddles};

/// A depth-`L` flow at small init next to the limit algorithm.
#[derive(Debug, Clone, Serialize)]
pub struct DeepJumps {
    /// `L`.
    pub depth: usize,
    /// The init scale.
    pub alpha: f64,
    /// `w_L`, the edge of the unit shape's dual box.
    pub unit_edge: f64,
    /// `tau / t = alpha^(L-2) / w_L`.
    pub time_factor: f64,
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
}

/// The init `u^1 = 0`, `u^j = alpha` of `depth x d`.
pub fn zero_first_init(depth: usize, d: usize, alpha: f64) -> Vec<f64> {
    let mut init = vec![0.0; d];
    init.extend(std::iter::repeat_n(alpha, (depth - 1) * d));
    init
}

/// Simulates depth `depth >= 3` from [`zero_first_init`] at `alpha` to 1.5 times the
/// last jump of `saddles` (in `tau`) and measures its jump times against them.
/// `settings.t_end` is replaced; its tolerances, integrator and `n_record` apply.
pub fn simulate_deep_jumps(
    problem: &Problem,
    saddles: &Saddles,
    depth: usize,
    alpha: f64,
    settings: &FlowSettings,
) -> Result<DeepJumps> {
    check_positive("alpha", alpha)?;
    if depth < 3 {
        return Err(DdlnError::invalid(
            "depth",
            format!("the deep staircase needs L >= 3 (got {depth}); L = 2 has its own flow (small_init_flow)"),
        ));
    }
    let d = problem.dim();
    let mut unit = vec![0.0];
    unit.extend(std::iter::repeat_n(1.0, depth - 1));
    let unit_edge = Entropy::new(&unit, depth, 1)?.dual_box()[0].1;
    let time_factor = alpha.powi(depth as i32 - 2) / unit_edge;
    let tau_end = 1.5 * saddles.jumps.last().map_or(1.0, |j| j.time_accelerated);
    let mut flow = settings.clone();
    flow.t_end = tau_end / time_factor;
    let levels = plateau_levels(saddles);
    let mut crossings = Crossings::new(&levels);
    let run = gradient_flow(
        problem,
        Model::deep(depth),
        &zero_first_init(depth, d, alpha),
        &flow,
        &mut crossings,
    )?;
    let jump_times: Vec<Option<f64>> = crossings
        .found
        .iter()
        .map(|c| c.map(|t| t * time_factor))
        .collect();
    let (relative_errors, worst_error) = jump_errors(&jump_times, saddles);
    Ok(DeepJumps {
        depth,
        alpha,
        unit_edge,
        time_factor,
        worst_error,
        relative_errors,
        jump_times,
        tau: run.trajectory.t.iter().map(|t| t * time_factor).collect(),
        loss: run.trajectory.loss.clone(),
        status: run.status,
        steps: run.stats.steps,
    })
}
