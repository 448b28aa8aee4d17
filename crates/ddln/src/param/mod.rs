//! Parameterizations `theta = G(w)` of the coordinates by trainable layers.
//!
//! Every model stores its trainable state as `rows x d` numbers, row-major: row `j` is
//! the layer (or vector) `j`. That is the layout of an init file of shape `(L, d)`.

mod deep;
pub mod gapped_flow;
pub mod reduced;
mod redundant;
mod signed;
pub mod signed_power_flow;
pub mod small_init_map;
pub mod two_layer;
pub mod two_layer_flow;
pub mod zero_first_flow;

pub use reduced::Reduced;
pub use two_layer::TwoLayer;

use serde::{Deserialize, Serialize};

use crate::error::{check_finite, DdlnError, Result};

/// How `theta` is built from the trainable layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Model {
    /// The deep diagonal linear network `theta = u^1 ⊙ u^2 ⊙ … ⊙ u^L` (`depth = L >= 2`).
    Deep {
        /// Number of layers `L`.
        depth: usize,
    },
    /// The deep redundant network `theta = u^{⊙L}` of the paper's appendix A.3 (one vector).
    Redundant {
        /// The power `L >= 2`.
        power: usize,
    },
    /// The signed power network `theta = u^{⊙L} - v^{⊙L}` common in the literature.
    Signed {
        /// The power `L >= 2`.
        power: usize,
    },
}

impl Model {
    /// The DDLN with `depth` layers.
    pub fn deep(depth: usize) -> Self {
        Model::Deep { depth }
    }

    /// The names [`Model::from_name`] takes.
    pub const NAMES: [&'static str; 3] = ["deep", "redundant", "signed"];

    /// The model called `name` (one of [`Model::NAMES`]) for an init of `rows` rows: the
    /// deep model takes its depth from the rows, the power models need `power`.
    pub fn from_name(name: &str, rows: usize, power: Option<usize>) -> Result<Self> {
        match (name, power) {
            ("deep", None) => Ok(Model::Deep { depth: rows }),
            ("deep", Some(_)) => Err(DdlnError::invalid(
                "power",
                "applies to the `redundant` and `signed` models only; the deep model takes its depth L from the rows of the init",
            )),
            ("redundant", Some(power)) => Ok(Model::Redundant { power }),
            ("signed", Some(power)) => Ok(Model::Signed { power }),
            ("redundant" | "signed", None) => Err(DdlnError::invalid(
                "power",
                format!("the `{name}` model needs the power L (e.g. power = 3)"),
            )),
            (other, _) => Err(DdlnError::invalid(
                "model",
                format!(
                    "unknown model `{other}`; expected one of {}",
                    Self::NAMES.map(|n| format!("`{n}`")).join(", ")
                ),
            )),
        }
    }

    /// Number of stored rows (layers or vectors) of the trainable state.
    pub fn rows(&self) -> usize {
        match *self {
            Model::Deep { depth } => depth,
            Model::Redundant { .. } => 1,
            Model::Signed { .. } => 2,
        }
    }

    /// The depth `L` (number of factors in each coordinate of theta).
    pub fn depth(&self) -> usize {
        match *self {
            Model::Deep { depth } => depth,
            Model::Redundant { power } | Model::Signed { power } => power,
        }
    }

    /// A short name for summaries.
    pub fn name(&self) -> String {
        match *self {
            Model::Deep { depth } => format!("deep (theta = u^1 ⊙ … ⊙ u^{depth})"),
            Model::Redundant { power } => format!("redundant (theta = u^{power})"),
            Model::Signed { power } => format!("signed (theta = u^{power} - v^{power})"),
        }
    }

    /// Checks the depth and an init of `rows() x d` finite numbers.
    pub fn validate_init(&self, init: &[f64], d: usize) -> Result<()> {
        let depth = self.depth();
        if depth < 2 {
            let field = match self {
                Model::Deep { .. } => "depth",
                _ => "power",
            };
            return Err(DdlnError::invalid(
                field,
                format!("must be >= 2 (a network needs at least two factors per coordinate), got {depth}"),
            ));
        }
        if init.len() != self.rows() * d {
            return Err(DdlnError::shape(
                "init",
                format!(
                    "({}, {d}) = {} entries: one row per layer, one column per feature of X",
                    self.rows(),
                    self.rows() * d
                ),
                format!("{} entries", init.len()),
            ));
        }
        check_finite("init", init)
    }

    /// Writes `theta = G(state)` (length `d`).
    pub fn theta(&self, state: &[f64], theta: &mut [f64]) {
        match *self {
            Model::Deep { depth } => deep::theta(depth, state, theta),
            Model::Redundant { power } => redundant::theta(power, state, theta),
            Model::Signed { power } => signed::theta(power, state, theta),
        }
    }

    /// Writes the gradient with respect to the state, `J_G(state)^T g`, where `g` is the
    /// gradient with respect to theta. Never divides by a layer: zero layers are fine.
    pub fn pullback(&self, state: &[f64], g: &[f64], out: &mut [f64]) {
        match *self {
            Model::Deep { depth } => deep::pullback(depth, state, g, out),
            Model::Redundant { power } => redundant::pullback(power, state, g, out),
            Model::Signed { power } => signed::pullback(power, state, g, out),
        }
    }

    /// Writes the gradient `grad` (length `rows()`) and the Hessian `hess` (`rows() x
    /// rows()`, row-major) of `theta_i` in its own entries `entries` (the `rows()` numbers
    /// `state[j d + i]`, `j = 0..rows()`). `theta_i` depends on no other entry, so these
    /// blocks make up the whole first and second derivative of `G` (docs/math.md section 13).
    pub fn coordinate_jet(&self, entries: &[f64], grad: &mut [f64], hess: &mut [f64]) {
        match *self {
            Model::Deep { .. } => deep::jet(entries, grad, hess),
            Model::Redundant { power } => redundant::jet(power, entries[0], grad, hess),
            Model::Signed { power } => signed::jet(power, entries, grad, hess),
        }
    }

    /// Writes `M_ii = sum_j (d theta_i / d w_i^j)^2`, the diagonal of `J_G J_G^T`, so that
    /// gradient flow on the layers moves theta by `d theta/dt = -M grad L` (paper eq. 12).
    pub fn metric_diagonal(&self, state: &[f64], metric: &mut [f64]) {
        let d = metric.len();
        let rows = self.rows();
        // Pull back unit vectors coordinate-wise: J_G is block diagonal, one block per i.
        let ones = vec![1.0; d];
        let mut jac = vec![0.0; rows * d];
        self.pullback(state, &ones, &mut jac);
        for (i, m) in metric.iter_mut().enumerate() {
            *m = (0..rows).map(|j| jac[j * d + i].powi(2)).sum();
        }
    }
}
