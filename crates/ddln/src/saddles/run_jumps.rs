//! The jumps of any gradient-flow run at small init (docs/math.md section 12, "A run's
//! jumps"): the limit algorithm in the run's own dual box gives the jump times in flow
//! time and the saddles; the run, watched step by step, gives the times at which its loss
//! crosses the geometric means of successive plateau losses (located between two
//! accepted steps, both reported) and its theta and loss in the middle of each plateau.
//!
//! The box: for the two-layer models `u ⊙ v` and `u^2 - v^2` (any init with
//! `a0, b0 != 0`), `theta_i` reaches order one when `xi_i` reaches
//! [`TwoLayerFlow::dual_edges`]; for the deep model with `L >= 3` under assumption (A),
//! the mirror map's dual box ([`Entropy::dual_box`]), which `xi` can approach but never
//! leave; for `u^L - v^L` with `L >= 3` from a positive init, where `u` or `v` blows up
//! ([`SignedPowerFlow::dual_box`]). The time unit of `time_accelerated` is the mean
//! half-width of the box: `log(1/alpha)` (two layers) or `w_L alpha^{-(L-2)}` (deep, `u^1 = 0`, `u^j = alpha`) for
//! the standard inits, so it is the `t~` and `tau` of the limit algorithm.

use serde::Serialize;

use crate::mirror::Entropy;
use crate::observe::{Control, Observer, StepView};
use crate::optim::Run;
use crate::optim::TimeUnit;
use crate::param::gapped_flow::GappedFlow;
use crate::param::signed_power_flow::SignedPowerFlow;
use crate::param::small_init_map::box_of_ln_box;
use crate::param::two_layer_flow::TwoLayerFlow;
use crate::param::{Model, TwoLayer};
use crate::problem::Problem;

use super::dual_flow::Crossings;
use super::{plateau_levels, saddle_to_saddle_in_box, SaddleSettings, SaddleStatus, Saddles};

/// A run is at small init when every coordinate's dual box reaches at least this far from
/// the init on both sides (for two layers: `alpha <= exp(-5) = 6.7e-3`); its jumps are
/// reported then.
pub const SMALL_INIT_EDGE: f64 = 5.0;

/// The dual box of a run's init and its time unit.
#[derive(Debug, Clone, Serialize)]
pub struct RunBox {
    /// `(lo_i, hi_i)` per coordinate, in `xi` (infinite where a half-width overflows).
    pub edges: Vec<(f64, f64)>,
    /// `(ln(-lo_i), ln hi_i)`, finite at any init scale.
    pub ln_edges: Vec<(f64, f64)>,
    /// The mean half-width: flow time per unit of accelerated time (infinite where it
    /// overflows f64, e.g. `L = 4` below `alpha ~ 1e-154`).
    pub time_scale: f64,
    /// `ln` of [`RunBox::time_scale`], finite at any init scale.
    pub ln_time_scale: f64,
    /// Where the box comes from, in words.
    pub source: String,
}

impl RunBox {
    /// The box in the units of `unit`: `xi` itself (flow time), or `xi` over
    /// [`RunBox::time_scale`] (accelerated time, computed from the logarithms).
    pub fn edges_in(&self, unit: TimeUnit) -> Vec<(f64, f64)> {
        match unit {
            TimeUnit::Flow => self.edges.clone(),
            TimeUnit::Accelerated => self
                .ln_edges
                .iter()
                .map(|&(lo, hi)| {
                    (
                        -(lo - self.ln_time_scale).exp(),
                        (hi - self.ln_time_scale).exp(),
                    )
                })
                .collect(),
        }
    }
}

/// Per coordinate `(lo_i, hi_i)`, or `(ln(-lo_i), ln hi_i)`.
type Edges = Vec<(f64, f64)>;

/// A box given by its edges, with `(ln(-lo), ln hi)`.
fn with_ln(edges: Edges) -> (Option<Edges>, Edges) {
    let ln = edges
        .iter()
        .map(|&(lo, hi)| ((-lo).ln(), hi.ln()))
        .collect();
    (Some(edges), ln)
}

/// The dual box of `model` from `init`, or why the jumps are not reported.
pub fn run_box(model: Model, init: &[f64], d: usize) -> std::result::Result<RunBox, String> {
    // The edges where they are floats, and their logarithms.
    let ((exact, ln_edges), source) = if let Some(form) = TwoLayer::of(model) {
        let flow = TwoLayerFlow::new(form, init, d);
        (
            with_ln(flow.dual_edges()),
            format!(
                "two layers ({}): theta_i is of order one where xi_i = log(1/alpha_i) / m",
                form.name()
            ),
        )
    } else if let Model::Deep { depth } = model {
        match Entropy::new(init, depth, d) {
            Ok(entropy) => (
                with_ln(entropy.dual_box()),
                format!("the dual box of the mirror map of the depth-{depth} init"),
            ),
            // Gaps below f64: the same box from the z-map, which holds them as logarithms.
            Err(e) => match GappedFlow::new(init, depth, d) {
                Ok(flow) => (
                    (None, flow.ln_dual_box()),
                    format!(
                        "the dual box of the depth-{depth} init's z-map (its gaps are below f64)"
                    ),
                ),
                Err(_) => {
                    return Err(format!(
                        "the jumps of a deep network need assumption (A) for its dual box: {e}"
                    ))
                }
            },
        }
    } else if let Model::Signed { power } = model {
        match SignedPowerFlow::new(init, power, d) {
            Ok(flow) => (
                (None, flow.ln_dual_box()),
                format!("u^{power} - v^{power}: u or v blows up where xi_i reaches u_i(0)^-{} / {} or -v_i(0)^-{} / {}", power - 2, power * (power - 2), power - 2, power * (power - 2)),
            ),
            Err(e) => return Err(format!("the jumps of u^L - v^L need a positive init: {e}")),
        }
    } else {
        return Err(format!(
            "the jumps are computed for the deep model (under assumption (A) for L >= 3) and u^L - v^L (positive inits for L >= 3); this is {}",
            model.name()
        ));
    };
    for (i, &(lo, hi)) in ln_edges.iter().enumerate() {
        let reach = hi.min(lo).exp();
        if reach.is_nan() || reach < SMALL_INIT_EDGE {
            return Err(format!(
                "the init is not small: the dual box reaches {reach:.3} from the init at coordinate {i} (jumps are reported when every coordinate's box reaches at least {SMALL_INIT_EDGE}, e.g. alpha <= 6.7e-3 for two layers)"
            ));
        }
    }
    let ln_finite: Vec<f64> = ln_edges
        .iter()
        .flat_map(|&(lo, hi)| [hi, lo])
        .filter(|w| w.is_finite())
        .collect();
    if ln_finite.is_empty() {
        return Err(
            "no edge of the dual box is finite: the init is zero (no coordinate can move)".into(),
        );
    }
    let edges = exact.unwrap_or_else(|| box_of_ln_box(ln_edges.clone()));
    let finite: Vec<f64> = edges
        .iter()
        .flat_map(|&(lo, hi)| [hi, -lo])
        .filter(|w| w.is_finite())
        .collect();
    let (time_scale, ln_time_scale) = if finite.len() == ln_finite.len() {
        let mean = finite.iter().sum::<f64>() / finite.len() as f64;
        (mean, mean.ln())
    } else {
        // The mean of half-widths beyond f64, from their logarithms.
        let top = ln_finite.iter().fold(f64::NEG_INFINITY, |m, &w| m.max(w));
        let sum: f64 = ln_finite.iter().map(|w| (w - top).exp()).sum();
        let ln_mean = top + (sum / ln_finite.len() as f64).ln();
        (ln_mean.exp(), ln_mean)
    };
    Ok(RunBox {
        edges,
        ln_edges,
        ln_time_scale,
        time_scale,
        source,
    })
}

/// One jump of a run: the algorithm's prediction next to what the run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunJump {
    /// The algorithm's jump time, in the run's time unit.
    pub time: f64,
    /// The same in accelerated time (`time / time_scale`).
    pub time_accelerated: f64,
    /// The saddle after the jump.
    pub theta: Vec<f64>,
    /// The loss there (the plateau's loss).
    pub loss: f64,
    /// Its non-zero coordinates and their signs.
    pub active: Vec<usize>,
    /// `+1` or `-1` per active coordinate.
    pub signs: Vec<i8>,
    /// More than one coordinate entered at once.
    pub tie: bool,
    /// Why the saddle is not unique, if it is not.
    pub degenerate: Option<String>,
    /// When the run's loss crossed the geometric mean of this plateau's loss and the
    /// previous one (interpolated in `log L`; `None`: not crossed, or a plateau of zero
    /// loss, which has no such level).
    pub simulated_time: Option<f64>,
    /// The accepted steps `(t0, t1)` between which that crossing happened: the located
    /// time is exact to `t1 - t0`.
    pub simulated_bracket: Option<(f64, f64)>,
    /// `|simulated_time - time| / time`.
    pub time_error: Option<f64>,
    /// The run's loss in the middle of the plateau (at the accepted step nearest the
    /// midpoint of this jump and the next; the run's end for the last jump).
    pub simulated_loss: Option<f64>,
    /// The run's theta there.
    pub simulated_theta: Option<Vec<f64>>,
    /// `max_i |simulated_theta_i - theta_i| / max_i |theta_i|`.
    pub saddle_error: Option<f64>,
}

/// The jumps of a run.
#[derive(Debug, Clone, Serialize)]
pub struct RunJumps {
    /// The unit of `time`, `simulated_time` and `simulated_bracket`: the run's.
    pub time_unit: TimeUnit,
    /// Flow time per unit of `time_accelerated` (`null` in JSON where it overflows f64).
    pub time_scale: f64,
    /// `ln` of `time_scale`, finite at any init scale.
    pub ln_time_scale: f64,
    /// Where the box comes from.
    pub box_source: String,
    /// The loss before the first jump.
    pub initial_loss: f64,
    /// How the algorithm ended.
    pub status: SaddleStatus,
    /// The jumps in time order.
    pub jumps: Vec<RunJump>,
    /// The largest `time_error` over the crossed levels.
    pub worst_time_error: f64,
}

/// Watches a run at small init for its jumps ([`JumpWatch::new`] before the run,
/// [`JumpWatch::finish`] after).
pub struct JumpWatch {
    model: Model,
    /// The unit of the run's times (and of the algorithm's, in the box of that unit).
    unit: TimeUnit,
    run_box: RunBox,
    saddles: Saddles,
    /// For each jump, the index of its level (jumps to a plateau of zero loss have none).
    level_of_jump: Vec<Option<usize>>,
    crossings: Crossings,
    /// The plateau midpoints (flow time) and the loss and theta sampled there.
    midpoints: Vec<f64>,
    samples: Vec<Option<(f64, Vec<f64>)>>,
    /// The last accepted step: time, loss, theta.
    previous: Option<(f64, f64, Vec<f64>)>,
    theta: Vec<f64>,
}

impl JumpWatch {
    /// The watch for a flow of `model` from `init` on `problem` to time `t_end` in
    /// `unit` (the jumps after it are not computed), or why there is none (another loss
    /// or model, an init that is not small, no saddles, a flow time beyond f64).
    pub fn new(
        problem: &Problem,
        model: Model,
        init: &[f64],
        t_end: f64,
        unit: TimeUnit,
    ) -> std::result::Result<Self, String> {
        if problem.loss() != crate::loss::Loss::Square {
            return Err("the saddle-to-saddle limit is derived for the squared loss".into());
        }
        let d = problem.dim();
        let run_box = run_box(model, init, d)?;
        if unit == TimeUnit::Flow && !run_box.time_scale.is_finite() {
            return Err(format!(
                "one accelerated time unit is e^{:.6e} of flow time, beyond f64: no flow time reaches a jump; run with time_unit = \"accelerated\"",
                run_box.ln_time_scale
            ));
        }
        let saddles = saddle_to_saddle_in_box(
            problem,
            &run_box.edges_in(unit),
            t_end,
            &SaddleSettings::default(),
        )
        .map_err(|e| e.to_string())?;
        let levels = plateau_levels(&saddles);
        let floor = 1e-20 * saddles.initial_loss;
        let mut next = 0;
        let level_of_jump = saddles
            .jumps
            .iter()
            .map(|j| {
                (j.loss > floor).then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect();
        let times: Vec<f64> = saddles.jumps.iter().map(|j| j.time_accelerated).collect();
        let midpoints: Vec<f64> = times.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect();
        Ok(JumpWatch {
            model,
            unit,
            samples: vec![None; midpoints.len()],
            previous: None,
            midpoints,
            crossings: Crossings::new(&levels),
            level_of_jump,
            saddles,
            run_box,
            theta: vec![0.0; d],
        })
    }

    /// The jumps, with what `run` (the run this watch saw) did.
    pub fn finish(self, run: &Run) -> RunJumps {
        // The run's time per accelerated unit.
        let scale = match self.unit {
            TimeUnit::Flow => self.run_box.time_scale,
            TimeUnit::Accelerated => 1.0,
        };
        let relative = |a: &[f64], b: &[f64]| {
            let top = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let diff = a
                .iter()
                .zip(b)
                .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
            if top > 0.0 {
                diff / top
            } else {
                diff
            }
        };
        let last = self.saddles.jumps.len().saturating_sub(1);
        let jumps: Vec<RunJump> = self
            .saddles
            .jumps
            .iter()
            .enumerate()
            .map(|(k, j)| {
                let level = self.level_of_jump[k];
                let simulated_time = level.and_then(|l| self.crossings.found[l]);
                let sample = if k < last {
                    self.samples[k].clone()
                } else if run.t_final > j.time_accelerated {
                    Some((run.final_loss, run.final_theta.clone()))
                } else {
                    None
                };
                RunJump {
                    time: j.time_accelerated,
                    time_accelerated: j.time_accelerated / scale,
                    theta: j.theta.clone(),
                    loss: j.loss,
                    active: j.active.clone(),
                    signs: j.signs.clone(),
                    tie: j.tie,
                    degenerate: j.degenerate.clone(),
                    simulated_time,
                    simulated_bracket: level.and_then(|l| self.crossings.brackets[l]),
                    time_error: simulated_time
                        .map(|t| (t - j.time_accelerated).abs() / j.time_accelerated),
                    saddle_error: sample.as_ref().map(|(_, th)| relative(th, &j.theta)),
                    simulated_loss: sample.as_ref().map(|s| s.0),
                    simulated_theta: sample.map(|s| s.1),
                }
            })
            .collect();
        let worst_time_error = jumps
            .iter()
            .filter_map(|j| j.time_error)
            .fold(0.0, f64::max);
        RunJumps {
            time_unit: self.unit,
            time_scale: self.run_box.time_scale,
            ln_time_scale: self.run_box.ln_time_scale,
            box_source: self.run_box.source,
            initial_loss: self.saddles.initial_loss,
            status: self.saddles.status,
            jumps,
            worst_time_error,
        }
    }
}

impl Observer for JumpWatch {
    fn observe(&mut self, view: &StepView) -> Control {
        self.crossings.observe(view);
        self.model.theta(view.state, &mut self.theta);
        for (k, &mid) in self.midpoints.iter().enumerate() {
            if self.samples[k].is_none() && view.t >= mid {
                // Of the two accepted steps around the midpoint, the nearer one: a
                // plateau may be crossed in a single step of the dual dynamics.
                let before_is_nearer = self
                    .previous
                    .as_ref()
                    .is_some_and(|(t, _, _)| mid - t < view.t - mid);
                self.samples[k] = Some(match (&self.previous, before_is_nearer) {
                    (Some((_, loss, theta)), true) => (*loss, theta.clone()),
                    _ => (view.loss, self.theta.clone()),
                });
            }
        }
        match &mut self.previous {
            Some((t, loss, theta)) => {
                *t = view.t;
                *loss = view.loss;
                theta.copy_from_slice(&self.theta);
            }
            None => self.previous = Some((view.t, view.loss, self.theta.clone())),
        }
        Control::Continue
    }
}
