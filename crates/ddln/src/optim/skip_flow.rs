//! Gradient flow of the deep model `L >= 3` at any init scale, with its plateaus skipped
//! (docs/math.md section 12, deeper networks at any scale), for any [`SmallInitMap`]:
//! `u^1 = 0`, `u^j = alpha` ([`crate::param::zero_first_flow::ZeroFirstFlow`]) or any
//! init under (A) ([`crate::param::gapped_flow::GappedFlow`]).
//!
//! Between jumps a depth-`L` flow sits at a saddle for a flow time of order
//! `alpha^-(L-2)` (`1e600` at `L = 4`, `alpha = 1e-300`: not even a float), while the
//! coordinates off the saddle's support creep towards the edge of their dual box. Both
//! halves are exact here:
//!
//! - the flow itself is integrated in `z` ([`SmallInitSystem`], flow time `t`), where
//!   nothing underflows;
//! - once every coordinate is negligible, leaving or settled at the saddle
//!   ([`SkipSettings`]), the gradient is constant until the next coordinate becomes
//!   non-negligible, so the negligible coordinates move on their dual lines
//!   (`sigma = alpha^(L-2) xi`, [`SmallInitMap::speed`]): the next one to reach `|theta| = 2 plateau_theta` is
//!   found in closed form and the run jumps there ("skip").
//!
//! Time is kept as the map's `tau` ([`SmallInitMap::tau_rate`]; from `u^1 = 0`,
//! `tau = alpha^(L-2) t / w`, the unit-box time of the limit algorithm, `w` the box's
//! half-width). The cost of a run is the number of jumps times the steps
//! of one jump, whatever `alpha` is.

use faer::{Mat, Side};
use serde::{Deserialize, Serialize};

use super::integrate::integrate;
use super::ode::Hooks;
use super::run::{RunStats, Status};
use super::settings::FlowSettings;
use super::small_init_system::SmallInitSystem;
use crate::error::{check_positive, Result};
use crate::observe::{Control, Observer, StepView};
use crate::param::small_init_map::SmallInitMap;
use crate::problem::Problem;

/// When a deep small-init flow skips a plateau.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SkipSettings {
    /// A coordinate with `|theta_i|` at most this is negligible: off the saddle, moving
    /// on a line in its dual while the plateau lasts (1e-12).
    pub plateau_theta: f64,
    /// The others are settled when the Newton step to the least-squares point of their
    /// support is at most this times `|theta_i|`; coordinates below this times
    /// `max |theta|` that the gradient pushes towards 0 are leaving (1e-8).
    pub settle_rtol: f64,
    /// The flow is at a stationary point (the limit's last saddle, a minimizer of the
    /// loss) once `max_i |grad_i L|` is at most this times its value at the init, and
    /// is held there to the end (1e-9).
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

impl SkipSettings {
    /// Checks every threshold is positive and finite.
    pub fn validate(&self) -> Result<()> {
        check_positive("plateau_theta", self.plateau_theta)?;
        check_positive("settle_rtol", self.settle_rtol)?;
        check_positive("stationary_rtol", self.stationary_rtol)
    }
}

/// How a skipping integration ended.
#[derive(Debug, Clone)]
pub struct SkipOutcome {
    /// How it ended.
    pub status: Status,
    /// Detail for the user.
    pub message: String,
    /// The `tau` reached.
    pub tau: f64,
    /// The state `z` there.
    pub z: Vec<f64>,
    /// Plateaus skipped.
    pub skips: usize,
    /// Work counters of the integrated stretches.
    pub stats: RunStats,
}

/// Callbacks of a skipping integration, all in `tau` and `z`.
pub struct SkipHooks<'a, O: Observer> {
    /// Called at each output time with `(tau, z, loss)`.
    pub record: &'a mut dyn FnMut(f64, &[f64], f64),
    /// Sees every accepted step and both ends of every skip (`t` is `tau`).
    pub observer: &'a mut O,
    /// Stop with [`Status::Converged`] once the loss is at most this.
    pub stop_loss: Option<f64>,
}

/// Integrates from the init's `z` ([`SmallInitMap::start`]) to `tau_out`'s last entry,
/// recording at every `tau_out` (ascending, `>= 0`). `settings`' `rtol`, integrator and
/// step budget apply (its `t_end` and `atol` do not: `z` is held to `rtol` over
/// [`SmallInitMap::log_gain`] absolutely, `rtol` on every `theta_i` that matters).
pub fn integrate_skipping<M: SmallInitMap, O: Observer>(
    problem: &Problem,
    flow: &M,
    tau_out: &[f64],
    settings: &FlowSettings,
    skip: &SkipSettings,
    hooks: SkipHooks<'_, O>,
) -> SkipOutcome {
    let d = problem.dim();
    let tau_end = tau_out.last().copied().unwrap_or(0.0);
    // tau per unit of flow time (0 when it underflows: a stretch then lasts no tau).
    let tau_rate = flow.tau_rate();
    let entry = Entry::new(flow, d, skip.plateau_theta);
    let mut sys = SmallInitSystem::new(problem, flow);
    let mut z: Vec<f64> = (0..d).map(|i| flow.start(i)).collect();
    let mut theta = vec![0.0; d];
    sys.theta(&z, &mut theta);
    let mut grad = vec![0.0; d];
    let mut stats = RunStats::default();
    let (mut tau, mut skips, mut next_out) = (0.0f64, 0, 0);
    let mut just_skipped = false;
    let mut flat = settings.clone();
    // An absolute error e in z is a relative error of at most log_gain e in theta.
    flat.atol = settings.rtol / flow.log_gain();
    flat.rtol = 0.0;
    let loss0 = problem.loss_and_gradient(&theta, &mut grad);
    let grad_floor = skip.stationary_rtol * max_abs(&grad);
    let SkipHooks {
        record,
        observer,
        stop_loss,
    } = hooks;
    let mut show = |tau: f64, step: u64, z: &[f64], loss: f64| {
        let view = StepView {
            t: tau,
            step,
            state: z,
            loss,
        };
        observer.observe(&view) == Control::Stop
    };
    while next_out < tau_out.len() && tau_out[next_out] <= 0.0 {
        record(0.0, &z, loss0);
        next_out += 1;
    }
    if show(0.0, 0, &z, loss0) {
        return outcome(
            Status::Stopped,
            "stopped by an observer at tau = 0".into(),
            0.0,
            z,
            0,
            stats,
        );
    }
    let (status, message) = loop {
        sys.theta(&z, &mut theta);
        let loss = problem.loss_and_gradient(&theta, &mut grad);
        if stop_loss.is_some_and(|tol| loss <= tol) {
            break (
                Status::Converged,
                format!("loss {loss:e} <= loss_tol at tau = {tau}"),
            );
        }
        if max_abs(&grad) <= grad_floor {
            while next_out < tau_out.len() {
                record(tau_out[next_out], &z, loss);
                next_out += 1;
            }
            let msg = format!(
                "at a stationary point from tau = {tau} (max |grad L| = {:e}), held to tau = {tau_end}",
                max_abs(&grad)
            );
            tau = tau.max(tau_end);
            break (Status::Completed, msg);
        }
        let movable = if just_skipped {
            None
        } else {
            settled(problem, &theta, skip)
        };
        if let Some(movable) = movable {
            let next = next_entry(flow, &z, &movable, &grad, &entry);
            let dt = next.as_ref().map_or(f64::INFINITY, |n| n.0);
            let step = dt.min(tau_end - tau);
            // Outputs inside the skip: the movable coordinates on their lines.
            let mut at = z.clone();
            while next_out < tau_out.len() && tau_out[next_out] < tau + step {
                at.copy_from_slice(&z);
                advance(
                    flow,
                    &mut at,
                    &movable,
                    &grad,
                    tau_out[next_out] - tau,
                    &entry,
                );
                sys.theta(&at, &mut theta);
                record(tau_out[next_out], &at, problem.loss_value(&theta));
                next_out += 1;
            }
            advance(flow, &mut z, &movable, &grad, step, &entry);
            if let (Some((_, entering)), true) = (&next, step == dt) {
                for &i in entering {
                    z[i] = entry.z[i] * -(flow.speed(i) * grad[i]).signum();
                }
            }
            tau += step;
            skips += 1;
            sys.theta(&z, &mut theta);
            let loss = problem.loss_value(&theta);
            while next_out < tau_out.len() && tau_out[next_out] <= tau {
                record(tau_out[next_out], &z, loss);
                next_out += 1;
            }
            if show(tau, stats.steps, &z, loss) {
                break (
                    Status::Stopped,
                    format!("stopped by an observer at tau = {tau}"),
                );
            }
            if tau >= tau_end {
                break (Status::Completed, format!("reached tau = {tau}"));
            }
            just_skipped = true;
            continue;
        }
        just_skipped = false;
        let used = stats.steps + stats.rejected_steps;
        if used >= settings.max_steps {
            let msg = format!(
                "step budget max_steps = {} used up at tau = {tau}",
                settings.max_steps
            );
            break (Status::MaxSteps, msg);
        }
        flat.max_steps = settings.max_steps - used;
        let t_end = if tau_rate > 0.0 {
            ((tau_end - tau) / tau_rate).min(1e300)
        } else {
            1e300
        };
        // This stretch's outputs in its own flow time, then its end (not recorded
        // unless it is an output).
        let mut times: Vec<f64> = tau_out[next_out..]
            .iter()
            .map(|&o| (o - tau) / tau_rate)
            .take_while(|&t| t < t_end)
            .collect();
        let outputs = times.len();
        times.push(t_end);
        flat.t_end = t_end;
        let (tau0, mut calls) = (tau, 0usize);
        // Every output left after them is tau_end, reached exactly at an uncapped t_end.
        let last_is_output = tau_rate > 0.0 && t_end < 1e300 && next_out + outputs < tau_out.len();
        let mut local_record = |t: f64, y: &[f64], loss: f64| {
            if calls < outputs || last_is_output {
                record(tau0 + t * tau_rate, y, loss);
                next_out += 1;
            }
            calls += 1;
        };
        let mut watch = SettleWatch {
            problem,
            flow,
            skip,
            tau0,
            tau_rate,
            show: &mut show,
            theta: vec![0.0; d],
            previous: vec![f64::NAN; d],
            grad: vec![0.0; d],
            grad_floor,
            settled: false,
            stopped: false,
        };
        let hooks = Hooks {
            record: &mut local_record,
            observer: &mut watch,
            observed_len: d,
            stop_loss,
        };
        let out = integrate(&mut sys, settings.integrator, &mut z, &times, &flat, hooks);
        stats.absorb(&out.stats);
        tau = tau0 + out.t * tau_rate;
        match out.status {
            Status::Stopped if watch.settled => continue,
            Status::Stopped if watch.stopped => {
                break (
                    Status::Stopped,
                    format!("stopped by an observer at tau = {tau}"),
                )
            }
            Status::Completed => break (Status::Completed, format!("reached tau = {tau}")),
            status => break (status, format!("{} (tau = {tau})", out.message)),
        }
    };
    if status == Status::Completed {
        sys.theta(&z, &mut theta);
        let loss = problem.loss_value(&theta);
        for &o in &tau_out[next_out.min(tau_out.len())..] {
            record(o, &z, loss);
        }
    }
    outcome(status, message, tau, z, skips, stats)
}

fn outcome(
    status: Status,
    message: String,
    tau: f64,
    z: Vec<f64>,
    skips: usize,
    stats: RunStats,
) -> SkipOutcome {
    SkipOutcome {
        status,
        message,
        tau,
        z,
        skips,
        stats,
    }
}

/// `max_i |v_i|`.
fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Where a skip puts the coordinate that ends it: per coordinate, the `z > 0` with
/// `|theta(z)| = 2 plateau_theta` (inside the support, so the next stretch integrates it)
/// and its distance to the edge.
struct Entry {
    z: Vec<f64>,
    dist: Vec<f64>,
}

impl Entry {
    fn new<M: SmallInitMap>(flow: &M, d: usize, plateau_theta: f64) -> Self {
        let z: Vec<f64> = (0..d)
            .map(|i| flow.z_of_theta(i, 2.0 * plateau_theta))
            .collect();
        let dist = z
            .iter()
            .enumerate()
            .map(|(i, &zi)| flow.edge_distances(i, zi).1)
            .collect();
        Entry { z, dist }
    }
}

/// The coordinates a skip moves on their dual lines, when the state is settled (`None`
/// otherwise): the negligible ones (`|theta_i| <= plateau_theta`) and the leaving ones
/// (at most `settle_rtol max |theta|`, pushed towards 0 by the gradient: their decay,
/// algebraic in `t`, takes no time in `tau`). Settled: every other coordinate of the
/// support `A` has a Newton step `delta` to the least-squares point of `A`
/// (`X_A^T X_A delta = X_A^T r`, `r = X theta - y`) below `settle_rtol |theta_i|` plus
/// `plateau_theta` (the minimum-norm step when `X_A` has dependent columns), and no
/// small coordinate is growing.
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
    let m = support.len();
    if m == 0 {
        return Some(movable);
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
    let delta = min_norm_solve(&gram, &rhs)?;
    let settled = support
        .iter()
        .enumerate()
        .all(|(a, &i)| delta[a].abs() <= skip.settle_rtol * theta[i].abs() + skip.plateau_theta);
    settled.then_some(movable)
}

/// The minimum-norm solution of `G x = b` for the symmetric positive semi-definite `G`
/// (lower triangle given), eigenvalues below `1e-12` of the largest taken as zero: the
/// Newton step along the support's dependent columns (duplicates, ties) is zero, as the
/// flow's conservation laws keep it. `None` when the eigensolver fails.
fn min_norm_solve(gram: &Mat<f64>, rhs: &Mat<f64>) -> Option<Vec<f64>> {
    let m = gram.nrows();
    let eig = gram.self_adjoint_eigen(Side::Lower).ok()?;
    let (u, values) = (eig.U(), eig.S());
    let largest = (0..m).map(|k| values[k]).fold(0.0, f64::max);
    let mut x = vec![0.0; m];
    for k in (0..m).filter(|&k| values[k] > 1e-12 * largest) {
        let coef = (0..m).map(|a| u[(a, k)] * rhs[(a, 0)]).sum::<f64>() / values[k];
        for (a, xa) in x.iter_mut().enumerate() {
            *xa += coef * u[(a, k)];
        }
    }
    Some(x)
}

/// The skip to the next entry: its length in `tau` and the coordinates that enter then
/// (`None`: no negligible coordinate moves, a stationary point).
fn next_entry<M: SmallInitMap>(
    flow: &M,
    z: &[f64],
    movable: &[bool],
    grad: &[f64],
    entry: &Entry,
) -> Option<(f64, Vec<usize>)> {
    let mut best: Option<f64> = None;
    let mut times = vec![f64::INFINITY; z.len()];
    for i in 0..z.len() {
        if !movable[i] || grad[i] == 0.0 {
            continue;
        }
        // d sigma / d tau = -speed g.
        let velocity = -flow.speed(i) * grad[i];
        let (lower, upper) = flow.edge_distances(i, z[i]);
        let dist = if velocity > 0.0 { upper } else { lower };
        times[i] = (dist - entry.dist[i]).max(0.0) / velocity.abs();
        best = Some(best.map_or(times[i], |b: f64| b.min(times[i])));
    }
    let best = best?;
    // Coordinates reaching the entry within roundoff of the first enter with it.
    let entering = (0..z.len())
        .filter(|&i| times[i] <= best * (1.0 + 1e-12) + f64::MIN_POSITIVE)
        .collect();
    Some((best, entering))
}

/// Moves every movable coordinate by `tau` on its line `sigma -= speed g tau`, measured
/// from the edge it is nearer afterwards (each distance is kept accurate).
fn advance<M: SmallInitMap>(
    flow: &M,
    z: &mut [f64],
    movable: &[bool],
    grad: &[f64],
    tau: f64,
    entry: &Entry,
) {
    for i in 0..z.len() {
        if !movable[i] || grad[i] == 0.0 {
            continue;
        }
        let (lower, upper) = flow.edge_distances(i, z[i]);
        let shift = flow.speed(i) * grad[i] * tau;
        let (lower, upper) = (lower - shift, upper + shift);
        z[i] = if upper <= lower {
            if upper <= entry.dist[i] {
                entry.z[i]
            } else {
                flow.z_at_edge_distance(i, upper, true)
            }
        } else if lower <= entry.dist[i] {
            -entry.z[i]
        } else {
            flow.z_at_edge_distance(i, lower, false)
        };
    }
}

/// Shows `(tau, step, z, loss)` to the caller's observer; `true` when it asks to stop.
type ShowStep<'b> = dyn FnMut(f64, u64, &[f64], f64) -> bool + 'b;

/// Sees every accepted step of an integrated stretch: shows it (in `tau`) to the
/// caller's observer, and stops the stretch once the state is settled or stationary
/// (checked only when no coordinate above `settle_rtol max |theta|` moved by more than
/// `sqrt(settle_rtol)` relatively in the last step: the checks cost passes over `X`).
struct SettleWatch<'a, 'b, M: SmallInitMap> {
    problem: &'a Problem,
    flow: &'a M,
    skip: &'a SkipSettings,
    tau0: f64,
    tau_rate: f64,
    show: &'a mut ShowStep<'b>,
    theta: Vec<f64>,
    previous: Vec<f64>,
    grad: Vec<f64>,
    /// [`SkipSettings::stationary_rtol`] times `max |grad L|` at the init.
    grad_floor: f64,
    /// Stopped because the state is settled or stationary.
    settled: bool,
    /// Stopped because the caller's observer asked.
    stopped: bool,
}

impl<M: SmallInitMap> Observer for SettleWatch<'_, '_, M> {
    fn observe(&mut self, view: &StepView) -> Control {
        let tau = self.tau0 + view.t * self.tau_rate;
        if view.step > 0 && (self.show)(tau, view.step, view.state, view.loss) {
            self.stopped = true;
            return Control::Stop;
        }
        for (i, (t, &zi)) in self.theta.iter_mut().zip(view.state).enumerate() {
            *t = self.flow.theta(i, zi);
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
