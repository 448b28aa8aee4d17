//! One call that trains and checks: the run plus every diagnostic of the paper that
//! applies to it. This is what the CLI and the Python bindings call.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::loss::Loss;
use crate::mirror::{
    discrete_bias, mirror_check, momentum_bias, momentum_bias_applies, DiscreteBias, MirrorCheck,
    MomentumBias, PredictSettings,
};
use crate::observe::Observer;
use crate::optim::{
    descent, gradient_flow_in, resume_descent, DescentCheckpoint, DescentSettings, FlowSettings,
    Run, TimeFrame, TimeUnit,
};
use crate::param::Model;
use crate::problem::Problem;
use crate::saddles::{run_box, JumpWatch, RunJumps};
use crate::theory::{self, Diagnostics, LayerWatch, RateCheck};

/// Which trainer to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum Method {
    /// Gradient flow by an adaptive Runge-Kutta method.
    Flow(FlowSettings),
    /// Gradient descent, SGD or momentum.
    Descent(DescentSettings),
}

impl Method {
    /// `"flow"` or `"descent"`.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Flow(_) => "flow",
            Method::Descent(_) => "descent",
        }
    }
}

/// A run and its diagnostics: what the CLI writes and Python returns.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The run.
    pub run: Run,
    /// The paper's statements checked on it.
    pub diagnostics: Diagnostics,
    /// The run against the mirror flow of its init, when asked ([`Report::check_mirror`]).
    pub mirror_check: Option<MirrorCheckReport>,
    /// Descent runs: the effective init the steps accumulated, the limit it predicts and
    /// the step identity along the run ([`crate::mirror::discrete`]), or why not.
    pub implicit_bias: Option<Checked<DiscreteBias>>,
    /// Heavy-ball runs: the limit of the momentum gradient flow from the init
    /// ([`crate::mirror::momentum_bias`]), or why not.
    pub momentum_bias: Option<Checked<MomentumBias>>,
    /// Flows: the saddle-to-saddle jumps of a run at small init, predicted in the run's
    /// dual box and measured on the run ([`crate::saddles::RunJumps`]), or why not.
    pub jumps: Option<Checked<RunJumps>>,
}

/// A check on a run, or why it does not apply.
#[derive(Debug, Clone, Serialize)]
pub struct Checked<T> {
    /// `true` when the check ran.
    pub applies: bool,
    /// Why it does not apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The outcome, when it applies.
    #[serde(flatten)]
    pub check: Option<T>,
}

impl<T> Checked<T> {
    /// The outcome, or the reason it does not apply.
    pub fn from_result(outcome: std::result::Result<T, String>) -> Self {
        match outcome {
            Ok(check) => Checked {
                applies: true,
                reason: None,
                check: Some(check),
            },
            Err(reason) => Checked {
                applies: false,
                reason: Some(reason),
                check: None,
            },
        }
    }
}

/// The mirror check of a run (another model, an init violating (A), no recorded `xi`:
/// the reason it does not apply).
pub type MirrorCheckReport = Checked<MirrorCheck>;

impl Report {
    /// Checks the run (recorded with `track_xi`) against the mirror flow of `init`
    /// (Theorem 1, docs/math.md section 5) and keeps the outcome in
    /// [`Report::mirror_check`]; a check that does not apply says why.
    pub fn check_mirror(
        &mut self,
        problem: &Problem,
        model: Model,
        init: &[f64],
        settings: &PredictSettings,
    ) {
        let outcome = match model {
            Model::Deep { depth } => {
                mirror_check(problem, init, depth, &self.run, settings).map_err(|e| e.to_string())
            }
            _ => Err("the mirror map is derived for the deep model".to_string()),
        };
        self.mirror_check = Some(Checked::from_result(outcome));
    }
}

/// Trains `model` from `init` on `problem` and checks the paper's statements on the run:
/// Proposition 1 at every accepted step, assumption (A), and Theorem 2 at the recorded times.
pub fn train<O: Observer>(
    problem: &Problem,
    model: Model,
    init: &[f64],
    method: &Method,
    rate_check: &RateCheck,
    observer: &mut O,
) -> Result<Report> {
    train_from(problem, model, init, None, method, rate_check, observer)
}

/// [`train`], continuing a descent run from `checkpoint` when given (its state is then
/// the init: the diagnostics are those of the continued segment).
pub fn train_from<O: Observer>(
    problem: &Problem,
    model: Model,
    init: &[f64],
    checkpoint: Option<&DescentCheckpoint>,
    method: &Method,
    rate_check: &RateCheck,
    observer: &mut O,
) -> Result<Report> {
    let init = checkpoint.map_or(init, |c| c.state.as_slice());
    let d = problem.dim();
    model.validate_init(init, d)?;
    let mut watch = match model {
        Model::Deep { depth } => Some(LayerWatch::new(init, depth, d)),
        _ => None,
    };
    let mut jump_watch = match method {
        Method::Flow(s) => Some(JumpWatch::new(problem, model, init, s.t_end, s.time_unit)),
        Method::Descent(_) => None,
    };
    let frame = match method {
        Method::Flow(s) => time_frame(model, init, d, s.time_unit)?,
        Method::Descent(_) => TimeFrame::FLOW,
    };
    let run = {
        let jumps = jump_watch.as_mut().and_then(|w| w.as_mut().ok());
        let mut both = ((watch.as_mut(), jumps), observer);
        match (method, checkpoint) {
            (Method::Flow(_), Some(_)) => {
                return Err(crate::DdlnError::invalid(
                    "resume",
                    "a checkpoint continues a descent run; gradient flow has none",
                ))
            }
            (Method::Flow(s), None) => gradient_flow_in(problem, model, init, s, frame, &mut both)?,
            (Method::Descent(s), None) => descent(problem, model, init, s, &mut both)?,
            (Method::Descent(s), Some(c)) => resume_descent(problem, model, c, s, &mut both)?,
        }
    };
    let mut diagnostics = Diagnostics::default();
    if let (Model::Deep { depth }, Some(watch)) = (model, &watch) {
        let a = theory::assumption_a(init, depth, d);
        if !a.holds {
            diagnostics.warnings.push(format!(
                "assumption (A) fails at coordinates {:?}: Proposition 1.2, the reduced dynamics, the mirror flow (Theorem 1) and the rate of Theorem 2 are not guaranteed there (sigma = 0)",
                a.violating_coordinates
            ));
        }
        diagnostics.conservation = Some(watch.conservation());
        diagnostics.sign_changes = Some(watch.signs(&a.minimal_layer, init));
        if problem.loss() == Loss::Square && !run.trajectory.is_empty() {
            let pl = theory::pl_constants(problem)?;
            let sigma = if a.holds {
                theory::rate::sigma(init, depth, d, &a.minimal_layer)
            } else {
                0.0
            };
            // Theorem 2 is a statement in flow time.
            match flow_times(frame, &run.trajectory.t) {
                Some(t) => {
                    diagnostics.rate = Some(theory::rate_report(
                        sigma,
                        &pl,
                        &t,
                        &run.trajectory.loss,
                        rate_check,
                    ))
                }
                None => diagnostics.warnings.push(
                    "Theorem 2 is not checked: the run's accelerated times are flow times beyond f64".into(),
                ),
            }
        }
        diagnostics.assumption_a = Some(a);
    } else {
        diagnostics.warnings.push(format!(
            "the paper's diagnostics (conservation, assumption (A), Theorem 2) are stated for the deep model; this run uses {}",
            model.name()
        ));
    }
    let mut theta0 = vec![0.0; d];
    model.theta(init, &mut theta0);
    let underflowed: Vec<usize> = (0..d)
        .filter(|&i| run.final_theta[i] == 0.0 && theta0[i] != 0.0)
        .collect();
    if !underflowed.is_empty() {
        diagnostics.warnings.push(format!(
            "theta is exactly 0 at the end at coordinates {underflowed:?} although it was not at t = 0: the value underflowed f64 (a product of small layers); the true value is not 0"
        ));
    }
    if problem.loss() != Loss::Square {
        diagnostics.warnings.push(
            "Theorem 2 needs a PL inequality; it is checked for the squared loss only".into(),
        );
    }
    if let Method::Descent(_) = method {
        diagnostics.warnings.push(
            "Proposition 1 and Theorem 2 are statements about gradient flow; descent follows them up to O(step size)".into(),
        );
    }
    let implicit_bias = run.step_identity.as_ref().map(|identity| {
        Checked::from_result(identity.clone().and_then(|identity| {
            if problem.loss() != Loss::Square {
                return Err(
                    "the limit is predicted over the interpolators: squared loss only".into(),
                );
            }
            discrete_bias(
                problem,
                &identity,
                &run.final_theta,
                &PredictSettings::default(),
            )
            .map_err(|e| e.to_string())
        }))
    });
    let momentum_bias = match method {
        Method::Descent(s) if s.momentum > 0.0 => Some(Checked::from_result(
            if let Some(why) = momentum_bias_applies(problem, s) {
                Err(why.to_string())
            } else if checkpoint.is_some() {
                Err("a resumed run starts with a velocity: the momentum limit is predicted for the run from its init".into())
            } else {
                momentum_bias(problem, model, init, s, s.steps, &run.final_theta)
                    .map_err(|e| e.to_string())
            },
        )),
        _ => None,
    };
    let jumps = jump_watch.map(|w| Checked::from_result(w.map(|w| w.finish(&run))));
    Ok(Report {
        run,
        diagnostics,
        mirror_check: None,
        implicit_bias,
        momentum_bias,
        jumps,
    })
}

/// The frame of a flow's times: flow time, or the accelerated time of the run's dual box.
fn time_frame(model: Model, init: &[f64], d: usize, unit: TimeUnit) -> Result<TimeFrame> {
    match unit {
        TimeUnit::Flow => Ok(TimeFrame::FLOW),
        TimeUnit::Accelerated => run_box(model, init, d)
            .map(|b| TimeFrame {
                ln_flow_per_unit: b.ln_time_scale,
            })
            .map_err(|why| {
                crate::DdlnError::invalid(
                    "time_unit",
                    format!(
                        "accelerated time is the time unit of the saddle-to-saddle limit, set by the run's dual box, and this run has none: {why}; use time_unit = \"flow\""
                    ),
                )
            }),
    }
}

/// A run's recorded times in flow time (`None` where they are beyond f64).
fn flow_times(frame: TimeFrame, t: &[f64]) -> Option<Vec<f64>> {
    if frame == TimeFrame::FLOW {
        return Some(t.to_vec());
    }
    let per = frame.flow_per_unit("").ok()?;
    Some(t.iter().map(|x| x * per).collect())
}

impl<T: Observer> Observer for Option<T> {
    fn observe(&mut self, view: &crate::observe::StepView) -> crate::observe::Control {
        match self {
            Some(o) => o.observe(view),
            None => crate::observe::Control::Continue,
        }
    }
}
