//! The mirror map of any model's gradient flow: the deep model's entropy ([`Entropy`],
//! at coordinates where assumption (A) holds), the closed form of its balanced
//! coordinates (every layer of the same magnitude: [`PowerMap::balanced`]), or the power
//! models' closed form ([`PowerMap`]).

use crate::error::{DdlnError, Result};
use crate::param::Model;
use crate::problem::Problem;
use crate::theory::assumption_a;

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
    /// The deep model with some balanced coordinates: `which[i] = (balanced, index)`
    /// into `entropy` (the coordinates under (A)) or `balanced`. (All balanced: `Power`.)
    Mixed {
        /// The coordinates where (A) holds.
        entropy: Entropy,
        /// The balanced coordinates.
        balanced: PowerMap,
        /// Where coordinate `i` lives.
        which: Vec<(bool, usize)>,
    },
}

impl ModelMap {
    /// The map of gradient flow on `model` from `init` (`rows x d`).
    pub fn new(model: Model, init: &[f64], d: usize) -> Result<Self> {
        match model {
            Model::Deep { depth } => {
                model.validate_init(init, d)?;
                let a = assumption_a(init, depth, d);
                if a.holds {
                    return Ok(ModelMap::Deep(Entropy::new(init, depth, d)?));
                }
                deep_with_ties(init, depth, d, &a.violating_coordinates)
            }
            _ => Ok(ModelMap::Power(PowerMap::new(model, init, d)?)),
        }
    }
}

impl ModelMap {
    /// Applies `f` to the part of a mixed map that holds coordinate `i`, at its index.
    fn part<T>(&self, i: usize, f: impl Fn(&dyn MirrorMap, usize) -> T) -> T {
        match self {
            ModelMap::Mixed {
                entropy,
                balanced,
                which,
            } => match which[i] {
                (true, j) => f(balanced, j),
                (false, j) => f(entropy, j),
            },
            ModelMap::Deep(m) => f(m, i),
            ModelMap::Power(m) => f(m, i),
        }
    }
}

/// The deep model's map when (A) fails at `ties`: each of those coordinates must be
/// balanced (all layers of one magnitude); ties of fewer layers are refused.
fn deep_with_ties(init: &[f64], depth: usize, d: usize, ties: &[usize]) -> Result<ModelMap> {
    let entry = |j: usize, i: usize| init[j * d + i];
    let partial: Vec<usize> = ties
        .iter()
        .copied()
        .filter(|&i| (1..depth).any(|j| entry(j, i).abs() != entry(0, i).abs()))
        .collect();
    if !partial.is_empty() {
        return Err(DdlnError::invalid(
            "init",
            format!(
                "assumption (A) fails at coordinates {partial:?} with a tie of fewer than all {depth} layers: the predictor handles a unique minimal layer or a balanced coordinate (all layers of equal magnitude); perturb the init there"
            ),
        ));
    }
    let mut which = Vec::with_capacity(d);
    let (mut free, mut signs, mut magnitudes) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..d {
        if ties.contains(&i) {
            which.push((true, signs.len()));
            signs.push((0..depth).map(|j| entry(j, i).signum()).product());
            magnitudes.push(entry(0, i).abs());
        } else {
            which.push((false, free.len()));
            free.push(i);
        }
    }
    let balanced = PowerMap::balanced(depth, &signs, &magnitudes)?;
    if free.is_empty() {
        return Ok(ModelMap::Power(balanced));
    }
    let sub: Vec<f64> = (0..depth)
        .flat_map(|j| free.iter().map(move |&i| entry(j, i)))
        .collect();
    Ok(ModelMap::Mixed {
        entropy: Entropy::new(&sub, depth, free.len())?,
        balanced,
        which,
    })
}

impl MirrorMap for ModelMap {
    fn dim(&self) -> usize {
        match self {
            ModelMap::Deep(m) => m.dim(),
            ModelMap::Power(m) => m.dim(),
            ModelMap::Mixed { which, .. } => which.len(),
        }
    }
    fn psi_i(&self, i: usize, xi: f64) -> (f64, f64) {
        match self {
            ModelMap::Deep(m) => MirrorMap::psi_i(m, i, xi),
            ModelMap::Power(m) => m.psi_i(i, xi),
            ModelMap::Mixed { .. } => self.part(i, |m, j| m.psi_i(j, xi)),
        }
    }
    fn box_i(&self, i: usize) -> (f64, f64) {
        match self {
            ModelMap::Deep(m) => m.box_i(i),
            ModelMap::Power(m) => m.box_i(i),
            ModelMap::Mixed { .. } => self.part(i, |m, j| m.box_i(j)),
        }
    }
    fn value_i(&self, i: usize, theta: f64) -> f64 {
        match self {
            ModelMap::Deep(m) => MirrorMap::value_i(m, i, theta),
            ModelMap::Power(m) => m.value_i(i, theta),
            ModelMap::Mixed { .. } => self.part(i, |m, j| m.value_i(j, theta)),
        }
    }
    fn conjugate_i(&self, i: usize, xi: f64, theta: f64) -> f64 {
        match self {
            ModelMap::Deep(m) => m.conjugate_i(i, xi, theta),
            ModelMap::Power(m) => m.conjugate_i(i, xi, theta),
            ModelMap::Mixed { .. } => self.part(i, |m, j| m.conjugate_i(j, xi, theta)),
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
