//! The mirror map of any model's gradient flow: the deep model's entropy
//! ([`Entropy`], needs assumption (A)) or the power models' closed form ([`PowerMap`]).

use crate::error::Result;
use crate::param::Model;
use crate::problem::Problem;

use super::entropy::Entropy;
use super::map::MirrorMap;
use super::power::PowerMap;
use super::predict::{predict_with, PredictSettings, Prediction};

/// The mirror map of a model from its init.
#[derive(Debug, Clone)]
pub enum ModelMap {
    /// `theta = u^1 ⊙ … ⊙ u^L`.
    Deep(Entropy),
    /// `theta = u^L - v^L` or `theta = u^L`.
    Power(PowerMap),
}

impl ModelMap {
    /// The map of gradient flow on `model` from `init` (`rows x d`).
    pub fn new(model: Model, init: &[f64], d: usize) -> Result<Self> {
        match model {
            Model::Deep { depth } => {
                model.validate_init(init, d)?;
                Ok(ModelMap::Deep(Entropy::new(init, depth, d)?))
            }
            _ => Ok(ModelMap::Power(PowerMap::new(model, init, d)?)),
        }
    }
}

impl MirrorMap for ModelMap {
    fn dim(&self) -> usize {
        match self {
            ModelMap::Deep(m) => m.dim(),
            ModelMap::Power(m) => m.dim(),
        }
    }
    fn psi_i(&self, i: usize, xi: f64) -> (f64, f64) {
        match self {
            ModelMap::Deep(m) => MirrorMap::psi_i(m, i, xi),
            ModelMap::Power(m) => m.psi_i(i, xi),
        }
    }
    fn box_i(&self, i: usize) -> (f64, f64) {
        match self {
            ModelMap::Deep(m) => m.box_i(i),
            ModelMap::Power(m) => m.box_i(i),
        }
    }
    fn value_i(&self, i: usize, theta: f64) -> f64 {
        match self {
            ModelMap::Deep(m) => MirrorMap::value_i(m, i, theta),
            ModelMap::Power(m) => m.value_i(i, theta),
        }
    }
    fn conjugate_i(&self, i: usize, xi: f64, theta: f64) -> f64 {
        match self {
            ModelMap::Deep(m) => m.conjugate_i(i, xi, theta),
            ModelMap::Power(m) => m.conjugate_i(i, xi, theta),
        }
    }
}

/// Where gradient flow on `model` from `init` ends on the squared-loss `problem`.
pub fn predict_model(
    problem: &Problem,
    model: Model,
    init: &[f64],
    settings: &PredictSettings,
) -> Result<Prediction> {
    let map = ModelMap::new(model, init, problem.dim())?;
    predict_with(problem, &map, settings)
}
