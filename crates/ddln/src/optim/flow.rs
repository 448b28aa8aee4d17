//! Gradient flow (paper eq. 5), `dw/dt = -J_G(w)^T grad L(G(w))`: its settings, the
//! choice of the variables it integrates ([`Dynamics`]: all layers, the reduced
//! dynamics of the minimal layers under assumption (A), or the dual variable of the
//! two-layer models), and the one driver that runs each through the integrator dispatch and records the same [`Run`], optionally with
//! the dual variable `xi(t) = -int_0^t grad L(theta(s)) ds` alongside (for the mirror check).

use super::dynamics::Dynamics;
use super::integrate::integrate;
use super::layer_system::LayerSystem;
use super::linalg::DiagLowRank;
use super::ode::{Hooks, StiffSystem};
use super::reduced_system::ReducedSystem;
use super::run::{FlowSolver, Run, Trajectory};
use super::settings::FlowSettings;
use super::skip_flow::SkipSettings;
use super::small_init_run::small_init_run;
use super::time_unit::{TimeFrame, TimeUnit, UnitObserver};
use super::two_layer_system::TwoLayerSystem;
use crate::error::{DdlnError, Result};
use crate::memory::{self, Estimate};
use crate::observe::{Control, Observer, StepView};
use crate::param::gapped_flow::{ln_gap_scale, GappedFlow};
use crate::param::signed_power_flow::SignedPowerFlow;
use crate::param::two_layer_flow::TwoLayerFlow;
use crate::param::zero_first_flow::{zero_first_alpha, ZeroFirstFlow};
use crate::param::{Model, Reduced, TwoLayer};
use crate::problem::Problem;
use crate::theory::assumption_a;

/// The integrated state's relation to the layers: identical, rebuilt from `v`, or in
/// closed form from `xi`.
#[derive(Clone, Copy)]
enum StateMap<'a> {
    Layers(Model),
    Reduced(&'a Reduced),
    Dual(&'a TwoLayerFlow),
}

impl StateMap<'_> {
    /// Length of the integrated model state (without `xi`).
    fn len(&self, d: usize) -> usize {
        match self {
            StateMap::Layers(model) => model.rows() * d,
            StateMap::Reduced(_) | StateMap::Dual(_) => d,
        }
    }

    /// Whether the state is `xi` itself (nothing to append for `track_xi`).
    fn is_xi(&self) -> bool {
        matches!(self, StateMap::Dual(_))
    }

    fn layers(&self, state: &[f64], out: &mut [f64]) {
        match self {
            StateMap::Layers(_) => out.copy_from_slice(state),
            StateMap::Reduced(r) => r.layers(state, out),
            StateMap::Dual(f) => f.layers(state, out),
        }
    }

    fn theta(&self, state: &[f64], out: &mut [f64]) {
        match self {
            StateMap::Layers(model) => model.theta(state, out),
            StateMap::Reduced(r) => r.theta(state, out),
            StateMap::Dual(f) => f.theta(state, out),
        }
    }

    fn dynamics(&self) -> Dynamics {
        match self {
            StateMap::Layers(_) => Dynamics::Layers,
            StateMap::Reduced(_) => Dynamics::Reduced,
            StateMap::Dual(_) => Dynamics::Dual,
        }
    }
}

/// The variables chosen for a run (resolving [`Dynamics::Auto`]).
enum Chosen {
    Layers,
    Reduced(Reduced),
    Dual(TwoLayerFlow),
    SmallInit(ZeroFirstFlow),
    SmallInitGapped(GappedFlow),
    SmallInitSigned(SignedPowerFlow),
}

impl Chosen {
    fn dynamics(&self) -> Dynamics {
        match self {
            Chosen::Layers => Dynamics::Layers,
            Chosen::Reduced(_) => Dynamics::Reduced,
            Chosen::Dual(_) => Dynamics::Dual,
            Chosen::SmallInit(_) | Chosen::SmallInitGapped(_) | Chosen::SmallInitSigned(_) => {
                Dynamics::SmallInit
            }
        }
    }
}

/// The small-init dynamics of `init` at depth `L >= 3`: from `u^1 = 0`, `u^j = alpha`
/// when it starts on a plateau (`alpha^L` at most the skip's threshold) or `alpha^2`
/// underflows; from any other init under (A) as [`gapped_choice`] says; the reason.
fn small_init_choice(init: &[f64], depth: usize, d: usize, atol: f64) -> Option<(Chosen, String)> {
    let Some(alpha) = zero_first_alpha(init, depth, d) else {
        return gapped_choice(init, depth, d, atol);
    };
    let threshold = SkipSettings::default().plateau_theta;
    let ln_theta = depth as f64 * alpha.ln();
    let why = if (alpha * alpha).is_normal() {
        if ln_theta > threshold.ln() {
            return None;
        }
        format!("alpha^L = {:.1e} is below the plateau threshold {threshold:e}: its plateaus are skipped", ln_theta.exp())
    } else {
        format!("alpha^2 = {alpha:e}^2 underflows f64")
    };
    Some((
        Chosen::SmallInit(ZeroFirstFlow::new(depth, -alpha.ln())),
        format!("small_init (auto): deep model from u^1 = 0, u^j = alpha = {alpha:e}, and {why}"),
    ))
}

/// Below `REDUCED_SCALE_PER_ATOL * atol` of gap scale the reduced dynamics (state `v`
/// of that size, held to `atol` absolutely) lose accuracy: measured at L = 3 with the
/// default atol 1e-12, final theta off by 1e-8 at scale 1e-10 and no run at 1e-14; from
/// 1e-8 up they agree with the small-init dynamics to 1e-13 and run 6-8x faster.
const REDUCED_SCALE_PER_ATOL: f64 = 1e3;

/// [`small_init_choice`] for an init under (A) that is not `u^1 = 0`, `u^j = alpha`:
/// chosen when its gap scale is below [`REDUCED_SCALE_PER_ATOL`] `atol` or its gaps
/// underflow.
fn gapped_choice(init: &[f64], depth: usize, d: usize, atol: f64) -> Option<(Chosen, String)> {
    if depth < 3 {
        return None;
    }
    let report = assumption_a(init, depth, d);
    if !report.holds {
        return None;
    }
    // The scale first: the maps' tables are built only when they are chosen.
    let scale = ln_gap_scale(init, depth, d, &report.minimal_layer).exp();
    let limit = REDUCED_SCALE_PER_ATOL * atol;
    let reduced = Reduced::new(init, depth, d);
    if reduced.is_ok() && scale > limit {
        return None;
    }
    let flow = GappedFlow::new(init, depth, d).ok()?;
    let why = match reduced {
        Ok(_) => format!(
            "its gap scale c = max_i sqrt(min_j D_ij) = {scale:.1e} is below {REDUCED_SCALE_PER_ATOL:e} atol = {limit:.1e}, where the reduced dynamics lose accuracy: its plateaus are skipped"
        ),
        Err(_) => "its gaps D_ij underflow f64 (the reduced dynamics cannot hold them)".into(),
    };
    Some((
        Chosen::SmallInitGapped(flow),
        format!("small_init (auto): deep model from an init under (A), and {why}"),
    ))
}

/// The small-init dynamics of `u^L - v^L` (`L >= 3`) from a positive init whose largest
/// entry is below `atol / rtol`, where the layers' absolute tolerance would swamp their
/// relative accuracy (the rule of the two-layer models). Measured on 40 x 100: from 1e-2
/// up the ODE on `(u, v)` is 1.4-3.5x faster; at 1e-3 the two are within 2x; at 1e-5
/// and `L = 4` the layers crawl through the plateaus (21 s against 1.1 s).
fn signed_choice(
    init: &[f64],
    power: usize,
    d: usize,
    settings: &FlowSettings,
) -> Option<(Chosen, String)> {
    let scale = init.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let resolved = settings.atol / settings.rtol;
    if power < 3 || scale >= resolved {
        return None;
    }
    let flow = SignedPowerFlow::new(init, power, d).ok()?;
    Some((
        Chosen::SmallInitSigned(flow),
        format!("small_init (auto): u^{power} - v^{power} from a positive init whose largest entry {scale:.1e} is below atol / rtol = {resolved:.1e}, where the layers' absolute tolerance would swamp their relative accuracy; in z per coordinate it is exact at any scale, plateaus skipped"),
    ))
}

/// Shows the caller's observer the full layers (rebuilt into a fixed buffer when the
/// state is reduced).
struct LayerObserver<'a, O: Observer> {
    map: StateMap<'a>,
    layers: Vec<f64>,
    inner: &'a mut O,
}

impl<O: Observer> Observer for LayerObserver<'_, O> {
    fn observe(&mut self, view: &StepView) -> Control {
        if let StateMap::Layers(_) = self.map {
            return self.inner.observe(view);
        }
        self.map.layers(view.state, &mut self.layers);
        self.inner.observe(&StepView {
            state: &self.layers,
            ..*view
        })
    }
}

/// Resolves [`Dynamics::Auto`]: the variables used, and why.
fn choose_dynamics(
    model: Model,
    init: &[f64],
    d: usize,
    settings: &FlowSettings,
    square_loss: bool,
) -> Result<(Chosen, String)> {
    let dynamics = settings.dynamics;
    let two_layer = TwoLayer::of(model);
    // Where the reduced dynamics apply at a scale their tolerances resolve they are the
    // faster (a square root per coordinate against the dual's exponentials; 2x at
    // 100 x 1000); the dual dynamics take every other two-layer run: u^2 - v^2, inits off
    // (A), and inits below atol / rtol, where the absolute tolerance on the layers
    // would swamp the relative one (at 1e-100 the reduced flow misses its jumps).
    if let (Dynamics::Auto, Some(form)) = (dynamics, two_layer) {
        let scale = init.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let resolved = settings.atol / settings.rtol;
        let why = match model {
            Model::Deep { .. } if scale < resolved => format!(
                "the init's largest entry {scale:.1e} is below atol / rtol = {resolved:.1e}, where the layers' absolute tolerance would swamp their relative accuracy"
            ),
            Model::Deep { depth } => match Reduced::new(init, depth, d) {
                Ok(r) => {
                    return Ok((
                        Chosen::Reduced(r),
                        "reduced (auto): deep model and the init satisfies assumption (A)".into(),
                    ))
                }
                Err(e) => format!("the reduced dynamics do not apply ({e})"),
            },
            _ => format!("{} has no reduced dynamics", model.name()),
        };
        return Ok((
            Chosen::Dual(TwoLayerFlow::new(form, init, d)),
            format!(
                "dual (auto): {why}; the two-layer layers are in closed form along xi at any init scale"
            ),
        ));
    }
    if let (Dynamics::Auto, Model::Deep { depth }, true) = (dynamics, model, square_loss) {
        if let Some(choice) = small_init_choice(init, depth, d, settings.atol) {
            return Ok(choice);
        }
    }
    if let (Dynamics::Auto, Model::Signed { power }, true) = (dynamics, model, square_loss) {
        if let Some(choice) = signed_choice(init, power, d, settings) {
            return Ok(choice);
        }
    }
    match (dynamics, model) {
        (Dynamics::Layers, _) => Ok((Chosen::Layers, "layers: as asked".into())),
        (Dynamics::SmallInit, Model::Deep { depth }) => match zero_first_alpha(init, depth, d) {
            Some(alpha) => Ok((
                Chosen::SmallInit(ZeroFirstFlow::new(depth, -alpha.ln())),
                "small_init: as asked".into(),
            )),
            None if depth >= 3 => Ok((
                Chosen::SmallInitGapped(GappedFlow::new(init, depth, d)?),
                "small_init: as asked".into(),
            )),
            None => Err(DdlnError::invalid(
                "dynamics",
                format!("the small-init dynamics need the deep model with L >= 3, got L = {depth}; use `reduced`, `layers` or `auto`"),
            )),
        },
        (Dynamics::SmallInit, Model::Signed { power }) if power >= 3 => Ok((
            Chosen::SmallInitSigned(SignedPowerFlow::new(init, power, d)?),
            "small_init: as asked".into(),
        )),
        (Dynamics::SmallInit, _) => Err(DdlnError::invalid(
            "dynamics",
            format!("the small-init dynamics exist for the deep model and u^L - v^L with L >= 3; this is {}; use `dual` (two layers), `layers` or `auto`", model.name()),
        )),
        (Dynamics::Dual, _) => match two_layer {
            Some(form) => Ok((
                Chosen::Dual(TwoLayerFlow::new(form, init, d)),
                "dual: as asked".into(),
            )),
            None => Err(DdlnError::invalid(
                "dynamics",
                format!(
                    "the dual dynamics exist for the two-layer models (deep with 2 layers, signed with power 2); this is {}; use `layers`, `reduced` or `auto`",
                    model.name()
                ),
            )),
        },
        (Dynamics::Reduced, Model::Deep { depth }) => Ok((
            Chosen::Reduced(Reduced::new(init, depth, d)?),
            "reduced: as asked".into(),
        )),
        (Dynamics::Reduced, _) => Err(DdlnError::invalid(
            "dynamics",
            "the reduced dynamics exist for the deep model only; use `layers` or `auto`",
        )),
        (Dynamics::Auto, Model::Deep { depth }) => match Reduced::new(init, depth, d) {
            Ok(r) => Ok((
                Chosen::Reduced(r),
                "reduced (auto): deep model and the init satisfies assumption (A)".into(),
            )),
            Err(e) => Ok((
                Chosen::Layers,
                format!("layers (auto): the reduced dynamics do not apply ({e})"),
            )),
        },
        (Dynamics::Auto, _) => Ok((
            Chosen::Layers,
            format!(
                "layers (auto): the reduced dynamics are for the deep model; this is {}",
                model.name()
            ),
        )),
    }
}

/// Runs gradient flow of `model` from `init` (`rows x d`, row-major) on `problem`.
///
/// The [`Run`] is the same whatever the dynamics: states are the full layers, `xi` is
/// recorded when `settings.track_xi`, the observer sees the full layers, and
/// [`Run::solver`] says which dynamics and methods ran. Setup mistakes are errors; how the
/// run ended is the status.
pub fn gradient_flow<O: Observer>(
    problem: &Problem,
    model: Model,
    init: &[f64],
    settings: &FlowSettings,
    observer: &mut O,
) -> Result<Run> {
    if settings.time_unit != TimeUnit::Flow {
        return Err(DdlnError::invalid(
            "time_unit",
            "gradient_flow runs in flow time; a run in accelerated time goes through `ddln::train`, which takes the unit from the run's dual box (or `gradient_flow_in` with its frame)",
        ));
    }
    gradient_flow_in(problem, model, init, settings, TimeFrame::FLOW, observer)
}

/// [`gradient_flow`] with the times of `settings` and of the [`Run`] in the units of
/// `frame` (`settings.time_unit` is taken as given by `frame`).
pub fn gradient_flow_in<O: Observer>(
    problem: &Problem,
    model: Model,
    init: &[f64],
    settings: &FlowSettings,
    frame: TimeFrame,
    observer: &mut O,
) -> Result<Run> {
    let d = problem.dim();
    model.validate_init(init, d)?;
    settings.validate()?;
    let square_loss = problem.loss() == crate::loss::Loss::Square;
    let (chosen, reason) = choose_dynamics(model, init, d, settings, square_loss)?;
    flow_memory(problem, model, !matches!(chosen, Chosen::Layers))?.check("X")?;
    if frame == TimeFrame::FLOW || chosen.dynamics() == Dynamics::SmallInit {
        return flow_of(
            problem, model, init, settings, frame, chosen, reason, observer,
        );
    }
    // Flow-time dynamics in another unit: integrate in flow time, report in the unit.
    let s = frame.flow_per_unit(chosen.dynamics().name())?;
    let flow_settings = TimeFrame::to_flow_settings(settings, s);
    let mut shown = UnitObserver {
        flow_per_unit: s,
        inner: observer,
    };
    let mut run = flow_of(
        problem,
        model,
        init,
        &flow_settings,
        TimeFrame::FLOW,
        chosen,
        reason,
        &mut shown,
    )?;
    TimeFrame::run_to_units(&mut run, settings, &flow_settings, s);
    Ok(run)
}

/// Runs the chosen dynamics (`frame` is used by the small-init dynamics only; the others
/// run in flow time).
#[allow(clippy::too_many_arguments)]
fn flow_of<O: Observer>(
    problem: &Problem,
    model: Model,
    init: &[f64],
    settings: &FlowSettings,
    frame: TimeFrame,
    chosen: Chosen,
    reason: String,
    observer: &mut O,
) -> Result<Run> {
    let square_loss = problem.loss() == crate::loss::Loss::Square;
    let d = problem.dim();
    match &chosen {
        Chosen::SmallInit(_) | Chosen::SmallInitGapped(_) | Chosen::SmallInitSigned(_)
            if !square_loss =>
        {
            Err(DdlnError::invalid(
                "dynamics",
                "the small-init dynamics skip plateaus by least squares: they need the squared loss; use `reduced` or `layers`",
            ))
        }
        Chosen::SmallInit(flow) => {
            small_init_run(problem, flow, settings, frame, reason, observer)
        }
        Chosen::SmallInitGapped(flow) => {
            small_init_run(problem, flow, settings, frame, reason, observer)
        }
        Chosen::SmallInitSigned(flow) => {
            small_init_run(problem, flow, settings, frame, reason, observer)
        }
        Chosen::Dual(f) => {
            let mut sys = TwoLayerSystem::new(problem, f);
            // Error control in xi: an absolute error e of xi is a relative error of at
            // most 2 m e in theta and the layers, so rtol / (2 m) absolute on xi is rtol
            // relative on every coordinate (also the tiny ones).
            let mut dual = settings.clone();
            dual.atol = settings.rtol / f.sensitivity();
            dual.rtol = 0.0;
            drive(
                &mut sys,
                problem,
                model,
                StateMap::Dual(f),
                vec![0.0; d],
                &dual,
                reason,
                observer,
            )
        }
        Chosen::Reduced(r) => {
            let mut sys = ReducedSystem::new(problem, r, settings.track_xi);
            let y0 = r.v0().to_vec();
            drive(
                &mut sys,
                problem,
                model,
                StateMap::Reduced(r),
                y0,
                settings,
                reason,
                observer,
            )
        }
        Chosen::Layers => {
            let mut sys = LayerSystem::new(problem, model, settings.track_xi);
            let y0 = init.to_vec();
            drive(
                &mut sys,
                problem,
                model,
                StateMap::Layers(model),
                y0,
                settings,
                reason,
                observer,
            )
        }
    }
}

/// What a flow allocates besides its recorded trajectory: the stiff solver's linear
/// algebra, the layer system's per-coordinate blocks, and the integrators' stages.
fn flow_memory(problem: &Problem, model: Model, reduced: bool) -> Result<Estimate> {
    let (n, d) = (problem.n_samples(), problem.dim());
    let rows = if reduced { 1 } else { model.rows() };
    let mut estimate = Estimate::new(&format!(
        "a flow on X ({n} x {d}) with {rows} row(s) of state"
    ));
    DiagLowRank::memory(n, d, &mut estimate)?;
    estimate
        .add("per-coordinate Jacobian blocks", &[2, d, rows, rows])?
        .add("integrator stages and state", &[16, d, rows])?;
    Ok(estimate)
}

/// The one flow driver: integrates `sys` from `y0` by the dispatch, recording the layers,
/// theta, the loss (and xi) at the output times.
#[allow(clippy::too_many_arguments)]
fn drive<S: StiffSystem, O: Observer>(
    sys: &mut S,
    problem: &Problem,
    model: Model,
    map: StateMap<'_>,
    mut y: Vec<f64>,
    settings: &FlowSettings,
    dynamics_reason: String,
    observer: &mut O,
) -> Result<Run> {
    let d = problem.dim();
    let state_len = map.len(d);
    let layers_len = model.rows() * d;
    let append_xi = settings.track_xi && !map.is_xi();
    if append_xi {
        y.resize(state_len + d, 0.0);
    }
    let times = settings.output_times();
    // Sized up front: recording never reallocates inside the integration loop.
    let n_out = times.len();
    let per_record = layers_len + d * if settings.track_xi { 2 } else { 1 } + 2;
    let recorded = memory::entries("n_record", &[n_out, per_record])?;
    memory::check_fits("n_record", "the recorded trajectory", recorded)?;
    let mut traj = Trajectory {
        t: Vec::with_capacity(n_out),
        states: Vec::with_capacity(n_out * layers_len),
        theta: Vec::with_capacity(n_out * d),
        loss: Vec::with_capacity(n_out),
        xi: settings.track_xi.then(|| Vec::with_capacity(n_out * d)),
    };
    let mut layers = vec![0.0; layers_len];
    let mut theta = vec![0.0; d];
    let mut record = |t: f64, y: &[f64], loss: f64| {
        let (state, xi) = y.split_at(state_len);
        let xi = if map.is_xi() { state } else { xi };
        map.layers(state, &mut layers);
        map.theta(state, &mut theta);
        traj.t.push(t);
        traj.states.extend_from_slice(&layers);
        traj.theta.extend_from_slice(&theta);
        traj.loss.push(loss);
        if let Some(rec) = traj.xi.as_mut() {
            rec.extend_from_slice(xi);
        }
    };
    let mut layer_observer = LayerObserver {
        map,
        layers: vec![
            0.0;
            if matches!(map, StateMap::Layers(_)) {
                0
            } else {
                layers_len
            }
        ],
        inner: observer,
    };
    let hooks = Hooks {
        record: &mut record,
        observer: &mut layer_observer,
        observed_len: state_len,
        stop_loss: settings.loss_tol,
    };
    let outcome = integrate(sys, settings.integrator, &mut y, &times, settings, hooks);
    let mut final_state = vec![0.0; layers_len];
    map.layers(&y[..state_len], &mut final_state);
    let mut final_theta = vec![0.0; d];
    map.theta(&y[..state_len], &mut final_theta);
    let final_loss = problem.loss_value(&final_theta);
    let dynamics = map.dynamics();
    Ok(Run {
        status: outcome.status,
        t_final: outcome.t,
        message: outcome.message,
        final_state,
        final_theta,
        final_loss,
        trajectory: traj,
        solver: Some(FlowSolver {
            dynamics,
            dynamics_reason,
            integrator: settings.integrator,
            methods: outcome.methods,
            switch_reason: outcome.switch_reason,
        }),
        stats: outcome.stats,
        step_identity: None,
        checkpoint: None,
    })
}
