//! One call that trains and checks: the run plus every diagnostic of the paper that
//! applies to it. This is what the CLI and the Python bindings call.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::loss::Loss;
use crate::mirror::reduced_flow;
use crate::observe::Observer;
use crate::optim::{descent, gradient_flow, DescentSettings, FlowSettings, Run};
use crate::param::Model;
use crate::problem::Problem;
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

/// A run and its diagnostics.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The run.
    pub run: Run,
    /// The paper's statements checked on it.
    pub diagnostics: Diagnostics,
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
    checked(
        problem,
        model,
        init,
        method,
        rate_check,
        observer,
        |both| match method {
            Method::Flow(s) => gradient_flow(problem, model, init, s, both),
            Method::Descent(s) => descent(problem, model, init, s, both),
        },
    )
}

/// [`train`] with gradient flow integrated in the reduced variables
/// ([`crate::mirror::reduced_flow`]: the `d`-dimensional v-dynamics instead of the `L d`
/// layer system), with the same [`Report`] and diagnostics. The deep model only; the
/// init must satisfy assumption (A) ([`crate::DdlnError::AssumptionA`] otherwise).
pub fn train_reduced<O: Observer>(
    problem: &Problem,
    depth: usize,
    init: &[f64],
    settings: &FlowSettings,
    rate_check: &RateCheck,
    observer: &mut O,
) -> Result<Report> {
    let model = Model::Deep { depth };
    let method = Method::Flow(settings.clone());
    checked(
        problem,
        model,
        init,
        &method,
        rate_check,
        observer,
        |both| reduced_flow(problem, depth, init, settings, both),
    )
}

/// Runs `trainer` with a [`LayerWatch`] beside the caller's observer (deep model), then
/// checks the paper's statements on the run.
fn checked<O: Observer, F>(
    problem: &Problem,
    model: Model,
    init: &[f64],
    method: &Method,
    rate_check: &RateCheck,
    observer: &mut O,
    trainer: F,
) -> Result<Report>
where
    F: FnOnce(&mut (Option<&mut LayerWatch>, &mut O)) -> Result<Run>,
{
    let d = problem.dim();
    model.validate_init(init, d)?;
    let mut watch = match model {
        Model::Deep { depth } => Some(LayerWatch::new(init, depth, d)),
        _ => None,
    };
    let run = {
        let mut both = (watch.as_mut(), observer);
        trainer(&mut both)?
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
            diagnostics.rate = Some(theory::rate_report(
                sigma,
                &pl,
                &run.trajectory.t,
                &run.trajectory.loss,
                rate_check,
            ));
        }
        diagnostics.assumption_a = Some(a);
    } else {
        diagnostics.warnings.push(format!(
            "the paper's diagnostics (conservation, assumption (A), Theorem 2) are stated for the deep model; this run uses {}",
            model.name()
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
    Ok(Report { run, diagnostics })
}

impl<T: Observer> Observer for Option<T> {
    fn observe(&mut self, view: &crate::observe::StepView) -> crate::observe::Control {
        match self {
            Some(o) => o.observe(view),
            None => crate::observe::Control::Continue,
        }
    }
}
