//! Gradient flow of the deep model `L >= 3` from `u^1 = 0`, `u^j = alpha` at any init
//! scale, with its plateaus skipped (docs/math.md section 12, deeper networks at any
//! scale).
//!
//! Between jumps a depth-`L` flow sits at a saddle for a flow time of order
//! `alpha^-(L-2)` (`1e600` at `L = 4`, `alpha = 1e-300`: not even a float), while the
//! coordinates off the saddle's support creep towards the edge of their dual box. Both
//! halves are exact here:
//!
//! - the flow itself is integrated in `z` ([`ZeroFirstSystem`], flow time `t`), where
//!   nothing underflows;
//! - once every coordinate is either negligible (`|theta_i| <= plateau_theta`) or settled
//!   at the saddle (its Newton displacement to the least-squares point of the support
//!   below `settle_rtol |theta_i|`), the gradient is constant until the next coordinate
//!   becomes non-negligible, so the negligible coordinates move on lines in
//!   `sigma = alpha^(L-2) xi` (`d sigma / d tau' = -g`, `tau' = alpha^(L-2) t`): the next
//!   one to reach `|theta| = plateau_theta` is found in closed form and the run jumps
//!   there ("skip").
//!
//! Time is kept as `tau = tau' / w` (the unit-box time of the limit algorithm), the
//! integrated stretches adding `alpha^(L-2) t / w`. The cost of a run is the number of
//! jumps times the steps of one jump, whatever `alpha` is.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use serde::Serialize;

use crate::error::{check_positive, DdlnError, Result};
use crate::observe::{Control, Observer, StepView};
use crate::optim::{integrate, FlowSettings, Hooks, RunStats, Status, ZeroFirstSystem};
use crate::param::zero_first_flow::ZeroFirstFlow;
use crate::problem::Problem;

use super::dual_flow::Crossings;

/// When a deep small-init flow skips a plateau.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SkipSettings {
    /// A coordinate with `|theta_i|` at most this is negligible: off the saddle, moving
    /// on a line in its dual while the plateau lasts (1e-12).
    pub plateau_theta: f64,
    /// The others are settled when the Newton step to the least-squares point of their
    /// support is at most this times `|theta_i|` (1e-8).
    pub settle_rtol: f64,
    /// The run ends at a stationary point (the limit's last saddle, a minimizer of the
    /// loss) once `max_i |grad_i L|` is at most this times its value at the init (1e-9).
    pub stationary_rtol: f64,
}

impl Default for SkipSettings {
    fn default() -> Self {
        SkipSettings {
            plateau_theta: 1e-12,
            settle_rtol: 1e-8,
            stationary_rtol: 1e-9,
        }
    }
}

/// A simulated deep small-init flow in the unit-box time `tau`.
#[derive(Debug, Clone, Serialize)]
pub struct DeepSmallInitRun {
    /// `L`.
    pub depth: usize,
    /// `lambda = log(1/alpha)`.
    pub lambda: f64,
    /// `w`, the half-width of the unit box.
    pub unit_edge: f64,
    /// How the run ended.
    pub status: Status,
    /// Detail of the status.
    pub message: String,
    /// `tau` at every accepted step and both ends of every skip.
    pub tau: Vec<f64>,
    /// The loss there.
    pub loss: Vec<f64>,
    /// `theta` at the end.
    pub final_theta: Vec<f64>,
    /// The dual in the unit box, `s = sigma / w`, at the end.
    pub final_dual: Vec<f64>,
    /// The `tau` at which the loss first fell to each of the asked levels.
    pub crossings: Vec<Option<f64>>,
    /// Plateaus skipped.
    pub skips: usize,
    /// Work counters of the integrated stretches.
    pub stats: RunStats,
}

/// Integrates depth `depth >= 3` from `u^1 = 0`, `u^j = e^-lambda` to unit-box time
/// `tau_end` (`settings.t_end` is ignored; its tolerances, integrator and step budget
/// apply), noting when the loss crosses `levels`.
pub fn deep_small_init_flow(
    problem: &Problem,
    depth: usize,
    lambda: f64,
    tau_end: f64,
    levels: &[f64],
    settings: &FlowSettings,
    skip: &SkipSettings,
) -> Result<DeepSmallInitRun> {
    check_positive("lambda", lambda)?;
    check_positive("tau_end", tau_end)?;
    check_positive("plateau_theta", skip.plateau_theta)?;
    check_positive("settle_rtol", skip.settle_rtol)?;
    check_positive("stationary_rtol", skip.stationary_rtol)?;
    settings.validate()?;
    if depth < 3 {
        return Err(DdlnError::invalid(
            "depth",
            format!("the deep small-init flow needs L >= 3 (got {depth}); two layers have small_init_flow"),
        ));
    }
    if problem.loss() != crate::loss::Loss::Square {
        return Err(DdlnError::invalid(
            "loss",
            "the small-init flow is derived for the squared loss",
        ));
    }
    let d = problem.dim();
    let flow = ZeroFirstFlow::new(depth, lambda);
    let w = flow.edge();
    // tau per unit of flow time: alpha^(L-2) / w (0 when it underflows: the integrated
    // stretches then last no tau at f64 resolution).
    let tau_rate = (-((depth - 2) as f64) * lambda).exp() / w;
    let entry = Entry::new(&flow, skip.plateau_theta);
    let mut sys = ZeroFirstSystem::new(problem, &flow);
    let mut z = vec![0.0; d];
    let mut theta = vec![0.0; d];
    let mut grad = vec![0.0; d];
    let mut trace = Trace {
        tau: Vec::new(),
        loss: Vec::new(),
        crossings: Crossings::new(levels),
    };
    let mut stats = RunStats::default();
    let mut tau = 0.0;
    let mut skips = 0;
    let mut just_skipped = false;
    let mut flat = settings.clone();
    // An absolute error e in z is a relative error of at most L e in theta.
    flat.atol = settings.rtol / depth as f64;
    flat.rtol = settings.rtol / (depth as f64 * lambda.max(1.0));
    let loss0 = problem.loss_and_gradient(&theta, &mut grad);
    let grad_floor = skip.stationary_rtol * max_abs(&grad);
    trace.note(0.0, 0, &z, loss0);
    let (status, message) = loop {
        sys.theta(&z, &mut theta);
        let loss = problem.loss_and_gradient(&theta, &mut grad);
        if max_abs(&grad) <= grad_floor {
            break (
                Status::Completed,
                format!(
                    "at a stationary point at tau = {tau} (max |grad L| = {:e})",
                    max_abs(&grad)
                ),
            );
        }
        let movable = if just_skipped {
            None
        } else {
            settled(problem, &theta, skip)
        };
        if let Some(movable) = movable {
            let Some((dt, entering)) = next_entry(&flow, &z, &movable, &grad, &entry) else {
                break (
                    Status::Completed,
                    format!("at a stationary point at tau = {tau}"),
                );
            };
            let step = dt.min(tau_end - tau);
            advance(&flow, &mut z, &movable, &grad, step, &entry);
            if step == dt {
                for &i in &entering {
                    z[i] = entry.z * -grad[i].signum();
                }
            }
            trace.note(tau, 0, &z, loss);
            tau += step;
            skips += 1;
            sys.theta(&z, &mut theta);
            trace.note(tau, 0, &z, problem.loss_value(&theta));
            if tau >= tau_end {
                break (Status::Completed, format!("reached tau = {tau}"));
            }
            just_skipped = true;
            continue;
        }
        just_skipped = false;
        let used = stats.steps + stats.rejected_steps;
        if used >= settings.max_steps {
            break (
                Status::MaxSteps,
                format!(
                    "step budget max_steps = {} used up at tau = {tau}",
                    settings.max_steps
                ),
            );
        }
        flat.max_steps = settings.max_steps - used;
        let t_end = if tau_rate > 0.0 {
            ((tau_end - tau) / tau_rate).min(1e300)
        } else {
            1e300
        };
        flat.t_end = t_end;
        let mut watch = SettleWatch {
            problem,
            flow: &flow,
            skip,
            tau0: tau,
            tau_rate,
            trace: &mut trace,
            theta: vec![0.0; d],
            previous: vec![f64::NAN; d],
            grad: vec![0.0; d],
            grad_floor,
            settled: false,
        };
        let mut ignore = |_: f64, _: &[f64], _: f64| {};
        let hooks = Hooks {
            record: &mut ignore,
            observer: &mut watch,
            observed_len: d,
            stop_loss: settings.loss_tol,
        };
        let outcome = integrate(
            &mut sys,
            settings.integrator,
            &mut z,
            &[t_end],
            &flat,
            hooks,
        );
        stats.absorb(&outcome.stats);
        tau += outcome.t * tau_rate;
        match outcome.status {
            Status::Stopped if watch.settled => continue,
            Status::Completed => break (Status::Completed, format!("reached tau = {tau}")),
            status => break (status, format!("{} (tau = {tau})", outcome.message)),
        }
    };
    sys.theta(&z, &mut theta);
    Ok(DeepSmallInitRun {
        depth,
        lambda,
        unit_edge: w,
        status,
        message,
        tau: trace.tau,
        loss: trace.loss,
        final_theta: theta,
        final_dual: z.iter().map(|&zi| flow.sigma(zi) / w).collect(),
        crossings: trace.crossings.found,
        skips,
        stats,
    })
}

/// `max_i |v_i|`.
fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Where a skip puts the coordinate that ends it: `z` with `theta(z) = 2 plateau_theta`
/// (inside the support, so the next stretch integrates it) and its distance `T(z)` to
/// the edge.
struct Entry {
    z: f64,
    dist: f64,
}

impl Entry {
    fn new(flow: &ZeroFirstFlow, plateau_theta: f64) -> Self {
        let z = flow.z_of_theta(2.0 * plateau_theta);
        Entry {
            z,
            dist: flow.tail(z),
        }
    }
}

/// The coordinates a skip moves on their dual lines, when the state is settled (`None`
/// otherwise): the negligible ones (`|theta_i| <= plateau_theta`) and the leaving ones
/// (at most `settle_rtol max |theta|`, pushed towards 0 by the gradient: their decay,
/// algebraic in `t`, takes no time in `tau`). Settled: every other coordinate of the
/// support `A` has a Newton step `delta` to the least-squares point of `A`
/// (`X_A^T X_A delta = X_A^T r`, `r = X theta - y`) below `settle_rtol |theta_i|` plus
/// `plateau_theta`, and no small coordinate is growing. A singular `X_A^T X_A` never
/// counts as settled.
fn settled(problem: &Problem, theta: &[f64], skip: &SkipSettings) -> Option<Vec<bool>> {
    let d = theta.len();
    let small = skip.settle_rtol * max_abs(theta);
    let mut movable: Vec<bool> = theta
        .iter()
        .map(|t| t.abs() <= skip.plateau_theta)
        .collect();
    let residual: Vec<f64> = (0..problem.n_samples())
        .map(|r| {
            let row = problem.row(r);
            row.iter().zip(theta).map(|(x, t)| x * t).sum::<f64>() - problem.y()[r]
        })
        .collect();
    // x_i^T r: the gradient up to a positive factor.
    let column_dot = |i: usize| -> f64 {
        residual
            .iter()
            .enumerate()
            .map(|(r, res)| problem.row(r)[i] * res)
            .sum()
    };
    for i in 0..d {
        if movable[i] || theta[i].abs() > small {
            continue;
        }
        if column_dot(i) * theta[i] > 0.0 {
            movable[i] = true;
        } else {
            return None;
        }
    }
    let support: Vec<usize> = (0..d).filter(|&i| !movable[i]).collect();
    let (n, m) = (problem.n_samples(), support.len());
    if m == 0 {
        return Some(movable);
    }
    if m > n {
        return None;
    }
    let mut gram = Mat::<f64>::zeros(m, m);
    let mut rhs = Mat::<f64>::zeros(m, 1);
    for (r, res) in residual.iter().enumerate() {
        let row = problem.row(r);
        for (a, &i) in support.iter().enumerate() {
            rhs[(a, 0)] += row[i] * res;
            for (b, &j) in support.iter().enumerate().take(a + 1) {
                gram[(a, b)] += row[i] * row[j];
            }
        }
    }
    let llt = gram.llt(Side::Lower).ok()?;
    let delta = llt.solve(&rhs);
    let settled = support.iter().enumerate().all(|(a, &i)| {
        delta[(a, 0)].abs() <= skip.settle_rtol * theta[i].abs() + skip.plateau_theta
    });
    settled.then_some(movable)
}

/// The skip to the next entry: its length in `tau` and the coordinates that enter then
/// (`None`: no negligible coordinate moves, a stationary point).
fn next_entry(
    flow: &ZeroFirstFlow,
    z: &[f64],
    movable: &[bool],
    grad: &[f64],
    entry: &Entry,
) -> Option<(f64, Vec<usize>)> {
    // d sigma / d tau = -w g in the unit-box time.
    let w = flow.edge();
    let mut best: Option<f64> = None;
    let mut times = vec![f64::INFINITY; z.len()];
    for i in 0..z.len() {
        if !movable[i] || grad[i] == 0.0 {
            continue;
        }
        let (lower, upper) = flow.edge_distances(z[i]);
        let dist = if grad[i] < 0.0 { upper } else { lower };
        times[i] = (dist - entry.dist).max(0.0) / (w * grad[i].abs());
        best = Some(best.map_or(times[i], |b: f64| b.min(times[i])));
    }
    let best = best?;
    // Coordinates reaching the entry within roundoff of the first enter with it.
    let entering = (0..z.len())
        .filter(|&i| times[i] <= best * (1.0 + 1e-12) + f64::MIN_POSITIVE)
        .collect();
    Some((best, entering))
}

/// Moves every movable coordinate by `tau` on its line `sigma -= w g tau`, measured
/// from the edge it is nearer afterwards (each distance is kept accurate).
fn advance(
    flow: &ZeroFirstFlow,
    z: &mut [f64],
    movable: &[bool],
    grad: &[f64],
    tau: f64,
    entry: &Entry,
) {
    let w = flow.edge();
    for i in 0..z.len() {
        if !movable[i] || grad[i] == 0.0 {
            continue;
        }
        let (lower, upper) = flow.edge_distances(z[i]);
        let shift = w * grad[i] * tau;
        let (lower, upper) = (lower - shift, upper + shift);
        z[i] = if upper <= lower {
            if upper <= entry.dist {
                entry.z
            } else {
                flow.z_at_edge_distance(upper, true)
            }
        } else if lower <= entry.dist {
            -entry.z
        } else {
            flow.z_at_edge_distance(lower, false)
        };
    }
}

/// The recorded `(tau, loss)` and the level crossings seen so far.
struct Trace {
    tau: Vec<f64>,
    loss: Vec<f64>,
    crossings: Crossings,
}

impl Trace {
    fn note(&mut self, tau: f64, step: u64, state: &[f64], loss: f64) {
        self.tau.push(tau);
        self.loss.push(loss);
        let view = StepView {
            t: tau,
            step,
            state,
            loss,
        };
        self.crossings.observe(&view);
    }
}

/// Sees every accepted step of an integrated stretch: records `(tau, loss)`, feeds the
/// crossings, and stops the stretch once the state is settled or stationary (checked
/// only when no coordinate above `settle_rtol max |theta|` moved by more than
/// `sqrt(settle_rtol)` relatively in the last step: the checks cost passes over `X`).
struct SettleWatch<'a> {
    problem: &'a Problem,
    flow: &'a ZeroFirstFlow,
    skip: &'a SkipSettings,
    tau0: f64,
    tau_rate: f64,
    trace: &'a mut Trace,
    theta: Vec<f64>,
    previous: Vec<f64>,
    grad: Vec<f64>,
    /// [`SkipSettings::stationary_rtol`] times `max |grad L|` at the init.
    grad_floor: f64,
    /// Stopped because the state is settled or stationary (the caller tells which).
    settled: bool,
}

impl Observer for SettleWatch<'_> {
    fn observe(&mut self, view: &StepView) -> Control {
        let tau = self.tau0 + view.t * self.tau_rate;
        self.trace.note(tau, view.step, view.state, view.loss);
        for (t, &zi) in self.theta.iter_mut().zip(view.state) {
            *t = self.flow.theta(zi);
        }
        let small = (self.skip.settle_rtol * max_abs(&self.theta)).max(self.skip.plateau_theta);
        let quiet = self
            .theta
            .iter()
            .zip(&self.previous)
            .filter(|(t, _)| t.abs() > small)
            .all(|(t, p)| (t - p).abs() <= self.skip.settle_rtol.sqrt() * t.abs());
        self.previous.copy_from_slice(&self.theta);
        if view.step > 0 && quiet {
            let done = settled(self.problem, &self.theta, self.skip).is_some() || {
                self.problem.loss_and_gradient(&self.theta, &mut self.grad);
                max_abs(&self.grad) <= self.grad_floor
            };
            if done {
                self.settled = true;
                return Control::Stop;
            }
        }
        Control::Continue
    }
}
