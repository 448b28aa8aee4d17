//! The vanishing-init limit of two-layer gradient flow: saddle-to-saddle jumps
//! (Pesme & Flammarion 2023, Algorithm 1), in ddln's loss convention. docs/math.md
//! section 12 derives it.
//!
//! For `theta = u ⊙ v` with `u(0) = sqrt(2) alpha`, `v(0) = 0` (the deep model with
//! `L = 2`), `theta_i = alpha^2 sinh(2 xi_i)` with `xi = -int grad L dt`. In the
//! accelerated time `t~ = t / log(1/alpha)` the rescaled dual `s = xi / log(1/alpha)`
//! obeys `ds/dt~ = -grad L(theta)` and `theta_i` is negligible while `|s_i| < 1`: as
//! `alpha -> 0` the flow sits at a saddle while `s` drifts, and jumps when a coordinate
//! of `s` reaches `±1`, to the minimizer of the loss over the sign pattern of `s`. For
//! `theta = u^2 - v^2` with `u(0) = v(0) = alpha` the same holds with
//! `t~ = 2 t / log(1/alpha)`.

mod constrained_ls;
mod deep;
mod deep_flow;
mod dual_flow;
mod run_jumps;

use serde::{Deserialize, Serialize};

use crate::error::{check_positive, DdlnError, Result};
pub use crate::optim::SkipSettings;
use crate::problem::Problem;
use constrained_ls::sign_constrained_ls;
pub use deep::{simulate_deep_jumps, zero_first_init, DeepJumps};
pub use deep_flow::{deep_small_init_flow, DeepSmallInitRun};
pub use dual_flow::{small_init_flow, SmallInitModel, SmallInitRun};
pub use run_jumps::{run_box, JumpWatch, RunBox, RunJump, RunJumps, SMALL_INIT_EDGE};

/// Tolerances of the limit algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SaddleSettings {
    /// A gradient entry counts as zero below this times `max_i |grad_i L(0)|` (1e-9).
    pub grad_rtol: f64,
    /// Coordinates whose dual reaches `±1` within this relative time of the first one
    /// enter together, reported as a tie (1e-9).
    pub tie_rtol: f64,
    /// The QP's entries below this times its largest one are zeros of the saddle (1e-6).
    pub support_rtol: f64,
    /// Jumps at most (the algorithm ends far earlier on every non-degenerate problem).
    pub max_jumps: usize,
}

impl Default for SaddleSettings {
    fn default() -> Self {
        SaddleSettings {
            grad_rtol: 1e-9,
            tie_rtol: 1e-9,
            support_rtol: 1e-6,
            max_jumps: 1000,
        }
    }
}

impl SaddleSettings {
    /// Checks the tolerances.
    pub fn validate(&self) -> Result<()> {
        check_positive("grad_rtol", self.grad_rtol)?;
        check_positive("tie_rtol", self.tie_rtol)?;
        check_positive("support_rtol", self.support_rtol)?;
        if self.max_jumps == 0 {
            return Err(DdlnError::invalid("max_jumps", "must be at least 1"));
        }
        Ok(())
    }
}

/// One jump: the time it happens and the saddle the flow sits at until the next one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Jump {
    /// Accelerated time `t~` of the jump.
    pub time_accelerated: f64,
    /// The saddle after the jump.
    pub theta: Vec<f64>,
    /// `L(theta)` at the saddle (the plateau's loss until the next jump).
    pub loss: f64,
    /// The non-zero coordinates of the saddle.
    pub active: Vec<usize>,
    /// Their signs (`+1` or `-1`).
    pub signs: Vec<i8>,
    /// The coordinates whose dual reached `±1` at this jump.
    pub entered: Vec<usize>,
    /// The coordinates whose dual left `±1` since the last jump.
    pub left: Vec<usize>,
    /// More than one coordinate entered at once.
    pub tie: bool,
    /// Why the saddle is not unique (dependent columns), if it is not.
    pub degenerate: Option<String>,
    /// The dual `s` at the jump.
    pub dual: Vec<f64>,
}

/// How the algorithm ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaddleStatus {
    /// The gradient vanishes where no coordinate can enter: the last saddle is where the
    /// vanishing-init flow ends.
    Finished,
    /// `max_jumps` jumps were made.
    MaxJumps,
    /// The next jump comes after the horizon asked for (a run's `t_end`): it and the
    /// ones after it are not computed.
    Horizon,
}

/// The saddle-to-saddle sequence of a problem.
#[derive(Debug, Clone, Serialize)]
pub struct Saddles {
    /// The jumps, in time order.
    pub jumps: Vec<Jump>,
    /// `L(0)`: the loss of the first plateau.
    pub initial_loss: f64,
    /// How the algorithm ended.
    pub status: SaddleStatus,
    /// What `time_accelerated` is.
    pub time_unit: &'static str,
}

/// What the accelerated time is, for reports.
pub const TIME_UNIT: &str = "t~ = t / log(1/alpha) for u ⊙ v (the deep model, L = 2) with u(0) = sqrt(2) alpha, v(0) = 0; t~ = 2 t / log(1/alpha) for u^2 - v^2 with u(0) = v(0) = alpha; t is the flow time of the problem's loss";

/// The limit algorithm: jump times, saddles, losses, active sets (squared loss).
pub fn saddle_to_saddle(problem: &Problem, settings: &SaddleSettings) -> Result<Saddles> {
    let unit = vec![(-1.0, 1.0); problem.dim()];
    saddle_to_saddle_in_box(problem, &unit, f64::INFINITY, settings)
}

/// The limit algorithm with the dual box `edges[i] = (lo_i, hi_i)`, `lo_i < 0 < hi_i`: a
/// free coordinate enters when its dual reaches `hi_i` (positive) or `lo_i` (negative).
/// The unit box is [`saddle_to_saddle`]; a run's own box (docs/math.md section 12, a
/// run's jumps) gives its jump times in flow time. Jumps after `horizon` (in the box's
/// time) are not computed ([`SaddleStatus::Horizon`]; `f64::INFINITY` for all).
pub fn saddle_to_saddle_in_box(
    problem: &Problem,
    edges: &[(f64, f64)],
    horizon: f64,
    settings: &SaddleSettings,
) -> Result<Saddles> {
    settings.validate()?;
    if edges.len() != problem.dim() {
        return Err(DdlnError::shape(
            "edges",
            format!("{} pairs (lo, hi), one per coordinate", problem.dim()),
            format!("{} pairs", edges.len()),
        ));
    }
    if let Some(i) = edges.iter().position(|&(lo, hi)| !(lo < 0.0 && hi > 0.0)) {
        return Err(DdlnError::invalid(
            "edges",
            format!(
                "coordinate {i}: the box ({}, {}) must have lo < 0 < hi (an infinite end is never reached)",
                edges[i].0, edges[i].1
            ),
        ));
    }
    if problem.loss() != crate::loss::Loss::Square {
        return Err(DdlnError::invalid(
            "loss",
            "the saddle-to-saddle limit is derived for the squared loss",
        ));
    }
    let d = problem.dim();
    let mut theta = vec![0.0; d];
    let mut grad = vec![0.0; d];
    let initial_loss = problem.loss_and_gradient(&theta, &mut grad);
    let g0 = grad.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    if g0 == 0.0 {
        return Err(DdlnError::invalid(
            "y",
            "the gradient at theta = 0 is zero (y = 0, or y orthogonal to every column of X): gradient flow from a vanishing init never leaves 0; there are no saddles",
        ));
    }
    let tol = settings.grad_rtol * g0;
    let mut s = vec![0.0f64; d];
    let mut at_bound = vec![false; d];
    let mut t = 0.0;
    let mut jumps: Vec<Jump> = Vec::new();
    let mut status = SaddleStatus::Finished;
    loop {
        problem.loss_and_gradient(&theta, &mut grad);
        // A zero coordinate at the boundary whose gradient points inward leaves it.
        let mut left = Vec::new();
        for i in 0..d {
            if at_bound[i] && theta[i] == 0.0 && grad[i] * s[i] > tol {
                at_bound[i] = false;
                left.push(i);
            }
        }
        // Time for each free coordinate's dual to reach ±1 at the current slope.
        let hit = |i: usize| -> f64 {
            let g = grad[i];
            if at_bound[i] || g.abs() <= tol {
                f64::INFINITY
            } else if g < 0.0 {
                (edges[i].1 - s[i]) / -g
            } else {
                (s[i] - edges[i].0) / g
            }
        };
        let times: Vec<f64> = (0..d).map(hit).collect();
        let delta = times.iter().cloned().fold(f64::INFINITY, f64::min);
        if !delta.is_finite() {
            break;
        }
        if jumps.len() >= settings.max_jumps {
            status = SaddleStatus::MaxJumps;
            break;
        }
        if t + delta > horizon {
            status = SaddleStatus::Horizon;
            break;
        }
        if delta <= 0.0 {
            return Err(DdlnError::invalid(
                "X",
                format!("a degenerate step at t~ = {t}: a dual already at its edge moved outward"),
            ));
        }
        let entered: Vec<usize> = (0..d)
            .filter(|&i| times[i] <= delta * (1.0 + settings.tie_rtol))
            .collect();
        t += delta;
        for i in 0..d {
            if !at_bound[i] {
                s[i] -= delta * grad[i];
            }
        }
        for &i in &entered {
            s[i] = if s[i] > 0.0 { edges[i].1 } else { edges[i].0 };
            at_bound[i] = true;
        }
        let active: Vec<usize> = (0..d).filter(|&i| at_bound[i]).collect();
        let signs: Vec<f64> = active.iter().map(|&i| s[i].signum()).collect();
        // The last saddle's support and the entered coordinates: usually the new support
        // up to a move or two.
        let warm: Vec<usize> = (0..active.len())
            .filter(|&k| theta[active[k]] != 0.0 || entered.contains(&active[k]))
            .collect();
        let ls = sign_constrained_ls(
            problem,
            &active,
            &signs,
            settings.support_rtol,
            (!jumps.is_empty()).then_some(warm.as_slice()),
        )?;
        theta = vec![0.0; d];
        for (k, &i) in active.iter().enumerate() {
            theta[i] = signs[k] * ls.w[k];
        }
        let support: Vec<usize> = (0..d).filter(|&i| theta[i] != 0.0).collect();
        jumps.push(Jump {
            time_accelerated: t,
            loss: problem.loss_value(&theta),
            signs: support
                .iter()
                .map(|&i| if theta[i] > 0.0 { 1 } else { -1 })
                .collect(),
            active: support,
            tie: entered.len() > 1,
            entered,
            left,
            degenerate: ls.degenerate,
            dual: s.clone(),
            theta: theta.clone(),
        });
    }
    Ok(Saddles {
        jumps,
        initial_loss,
        status,
        time_unit: TIME_UNIT,
    })
}

/// A small-init flow simulated next to the limit algorithm.
#[derive(Debug, Clone, Serialize)]
pub struct SimulatedJumps {
    /// `log(1/alpha)`.
    pub lambda: f64,
    /// The accelerated times at which the simulated loss crosses the geometric mean of
    /// two successive plateau losses of the algorithm (one per jump to a plateau of
    /// positive loss; `None`: not crossed by `t_end`).
    pub jump_times: Vec<Option<f64>>,
    /// `|simulated - algorithm| / algorithm` per jump.
    pub relative_errors: Vec<f64>,
    /// The largest of them.
    pub worst_error: f64,
    /// The run.
    pub run: SmallInitRun,
}

/// The levels between the plateaus of `saddles`: geometric means of successive losses,
/// for the jumps that end on a plateau of loss above `1e-20 L(0)`.
pub fn plateau_levels(saddles: &Saddles) -> Vec<f64> {
    let floor = 1e-20 * saddles.initial_loss;
    let mut levels = Vec::new();
    let mut before = saddles.initial_loss;
    for j in saddles.jumps.iter().filter(|j| j.loss > floor) {
        levels.push((before * j.loss).sqrt());
        before = j.loss;
    }
    levels
}

/// Simulates the two-layer flow at `lambda = log(1/alpha)` to 1.5 times the last jump
/// and measures its jump times against the algorithm's.
pub fn simulate_jumps(
    problem: &Problem,
    saddles: &Saddles,
    model: SmallInitModel,
    lambda: f64,
    settings: &crate::optim::FlowSettings,
) -> Result<SimulatedJumps> {
    let t_end = 1.5 * saddles.jumps.last().map_or(1.0, |j| j.time_accelerated);
    let run = small_init_flow(
        problem,
        model,
        lambda,
        t_end,
        &plateau_levels(saddles),
        settings,
    )?;
    let (relative_errors, worst_error) = jump_errors(&run.crossings, saddles);
    Ok(SimulatedJumps {
        lambda,
        jump_times: run.crossings.clone(),
        worst_error,
        relative_errors,
        run,
    })
}

/// `|simulated - algorithm| / algorithm` per jump (NaN where not crossed) and the largest.
pub(crate) fn jump_errors(times: &[Option<f64>], saddles: &Saddles) -> (Vec<f64>, f64) {
    let errors: Vec<f64> = times
        .iter()
        .zip(&saddles.jumps)
        .map(|(c, j)| {
            c.map_or(f64::NAN, |t| {
                (t - j.time_accelerated).abs() / j.time_accelerated
            })
        })
        .collect();
    let worst = errors.iter().cloned().fold(0.0, f64::max);
    (errors, worst)
}
