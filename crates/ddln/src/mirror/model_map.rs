//! The mirror map of any model's gradient flow: the deep model's entropy ([`Entropy`],
//! at coordinates where assumption (A) holds), the closed form of its balanced
//! coordinates (every layer of the same magnitude: [`PowerMap::balanced`]), its partial
//! ties ([`TiedMap`]), or the power models' closed form ([`PowerMap`]).

use crate::error::Result;
use crate::param::Model;
use crate::problem::Problem;
use crate::theory::assumption_a;

use super::entropy::Entropy;
use super::map::MirrorMap;
use super::power::PowerMap;
use super::predict::{predict_with, PredictSettings, PredictStatus, Prediction};
use super::predict_limit::limit_prediction;
use super::tied::TiedMap;

/// The mirror map of a model from its init.
#[derive(Debug, Clone)]
pub enum ModelMap {
    /// `theta = u^1 ⊙ … ⊙ u^L`.
    Deep(Entropy),
    /// `theta = u^L - v^L` or `theta = u^L`.
    Power(PowerMap),
    /// The deep model where (A) fails at some coordinates: each coordinate lives in one
    /// of the parts (`which[i] = (part, index in it)`).
    Mixed {
        /// The coordinates where (A) holds.
        entropy: Option<Entropy>,
        /// The balanced coordinates (all layers of one magnitude).
        balanced: Option<PowerMap>,
        /// The coordinates with a tie of `1 < m < L` minimal layers.
        tied: Option<TiedMap>,
        /// Where coordinate `i` lives.
        which: Vec<(Part, usize)>,
    },
}

/// The part of a [`ModelMap::Mixed`] that holds a coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A unique minimal layer: the entropy of section 5.
    Entropy,
    /// Every layer of the same magnitude.
    Balanced,
    /// `1 < m < L` layers tied for the minimal magnitude.
    Tied,
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

    /// Applies `f` to the part of the map that holds coordinate `i`, at its index.
    fn part<T>(&self, i: usize, f: impl Fn(&dyn MirrorMap, usize) -> T) -> T {
        match self {
            ModelMap::Mixed {
                entropy,
                balanced,
                tied,
                which,
            } => {
                let (part, j) = which[i];
                // A coordinate is only ever assigned to a part that exists.
                let map: &dyn MirrorMap = match part {
                    Part::Entropy => entropy.as_ref().expect("entropy part"),
                    Part::Balanced => balanced.as_ref().expect("balanced part"),
                    Part::Tied => tied.as_ref().expect("tied part"),
                };
                f(map, j)
            }
            ModelMap::Deep(m) => f(m, i),
            ModelMap::Power(m) => f(m, i),
        }
    }
}

/// The deep model's map when (A) fails at `ties`: balanced coordinates (all layers of one
/// magnitude) by the power map, partial ties by [`TiedMap`], the rest by the entropy.
fn deep_with_ties(init: &[f64], depth: usize, d: usize, ties: &[usize]) -> Result<ModelMap> {
    let entry = |j: usize, i: usize| init[j * d + i];
    let mut which = Vec::with_capacity(d);
    let (mut free, mut signs, mut magnitudes) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tied_at, mut tied_layers) = (Vec::new(), Vec::new());
    for i in 0..d {
        if !ties.contains(&i) {
            which.push((Part::Entropy, free.len()));
            free.push(i);
        } else if (1..depth).all(|j| entry(j, i).abs() == entry(0, i).abs()) {
            which.push((Part::Balanced, signs.len()));
            signs.push((0..depth).map(|j| entry(j, i).signum()).product());
            magnitudes.push(entry(0, i).abs());
        } else {
            which.push((Part::Tied, tied_at.len()));
            tied_at.push(i);
            tied_layers.push((0..depth).map(|j| entry(j, i)).collect::<Vec<f64>>());
        }
    }
    let balanced = if signs.is_empty() {
        None
    } else {
        Some(PowerMap::balanced(depth, &signs, &magnitudes)?)
    };
    if free.is_empty() && tied_at.is_empty() {
        return Ok(ModelMap::Power(
            balanced.expect("every coordinate balanced"),
        ));
    }
    let tied = if tied_at.is_empty() {
        None
    } else {
        Some(TiedMap::new(&tied_at, &tied_layers)?)
    };
    let entropy = if free.is_empty() {
        None
    } else {
        let sub: Vec<f64> = (0..depth)
            .flat_map(|j| free.iter().map(move |&i| entry(j, i)))
            .collect();
        Some(Entropy::new(&sub, depth, free.len())?)
    };
    Ok(ModelMap::Mixed {
        entropy,
        balanced,
        tied,
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
        self.part(i, |m, j| m.psi_i(j, xi))
    }
    fn box_i(&self, i: usize) -> (f64, f64) {
        self.part(i, |m, j| m.box_i(j))
    }
    fn value_i(&self, i: usize, theta: f64) -> f64 {
        self.part(i, |m, j| m.value_i(j, theta))
    }
    fn conjugate_i(&self, i: usize, xi: f64, theta: f64) -> f64 {
        self.part(i, |m, j| m.conjugate_i(j, xi, theta))
    }
    fn gradient_i(&self, i: usize, theta: f64) -> f64 {
        self.part(i, |m, j| m.gradient_i(j, theta))
    }
    fn psi_edge_i(&self, i: usize, upper: bool, gap: f64) -> (f64, f64) {
        self.part(i, |m, j| m.psi_edge_i(j, upper, gap))
    }
    fn resolves_edges(&self) -> bool {
        true
    }
    fn hessian_i(&self, i: usize, theta: f64) -> f64 {
        self.part(i, |m, j| m.hessian_i(j, theta))
    }
}

impl ModelMap {
    /// Largest estimated relative error of the quadrature tables behind the map (0 where
    /// it is in closed form).
    pub fn quadrature_error_estimate(&self) -> f64 {
        match self {
            ModelMap::Deep(m) => m.quadrature_error_estimate(),
            ModelMap::Power(_) => 0.0,
            ModelMap::Mixed { entropy, tied, .. } => {
                let e = entropy
                    .as_ref()
                    .map_or(0.0, Entropy::quadrature_error_estimate);
                e.max(
                    tied.as_ref()
                        .map_or(0.0, TiedMap::quadrature_error_estimate),
                )
            }
        }
    }
}

/// Where gradient flow on `model` from `init` ends on the squared-loss `problem`.
///
/// Where f64 cannot resolve the mirror map (the Newton predictor is
/// `PrecisionLimited`, or the init's gaps underflow) and the init is small enough that
/// the `alpha -> 0` limit is the answer to within `settings.floor_rtol` (its order
/// `c^(L-2)`), the answer is that limit, with status
/// [`PredictStatus::SmallInitLimit`] ([`super::predict_limit`]).
pub fn predict_model(
    problem: &Problem,
    model: Model,
    init: &[f64],
    settings: &PredictSettings,
) -> Result<Prediction> {
    let attempt = ModelMap::new(model, init, problem.dim())
        .and_then(|map| predict_with(problem, &map, settings));
    let why = match &attempt {
        Ok(p) if p.status == PredictStatus::PrecisionLimited => {
            "the Newton predictor reached f64's floor"
        }
        Ok(_) => return attempt,
        Err(_) => "the map's gaps or edges are not floats",
    };
    match limit_prediction(problem, model, init, settings, why)? {
        Some(limit) => Ok(limit),
        None => attempt,
    }
}
