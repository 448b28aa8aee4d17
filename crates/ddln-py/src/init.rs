//! Binding of `ddln::recipes::InitRecipe`: `ddln.init.scaled`.

use pyo3::prelude::*;

use crate::convert::to_numpy;
use crate::errors::{invalid, Result};
use ddln::recipes::{InitRecipe, InitShape};

/// A seeded init of the deep model: the layers u^1, ..., u^L with entries
/// `scale * draw`, the first layer optionally zero (as in the paper's Figure 4).
///
/// Parameters
/// ----------
/// depth : int
///     Number of layers L (>= 2).
/// d : int
///     Number of coordinates (columns of X).
/// scale : float
///     The factor alpha multiplying every entry (> 0).
/// zero_first : bool
///     Set u^1 = 0. With a zero first layer, assumption (A) holds as soon as the other
///     layers have no zero entry.
/// shape : {"gaussian", "uniform", "constant"}
///     Distribution of the entries before scaling: standard normal, uniform on
///     [low, high], or all ones (then (A) needs zero_first).
/// seed : int
///     Seed of the ChaCha8 generator (same init as the Rust core for the same seed).
/// low, high : float
///     Bounds of the uniform draw (used with shape="uniform" only).
///
/// Returns
/// -------
/// ndarray of shape (depth, d)
///     Row j is the layer u^{j+1}; pass it as `init` to `gradient_flow`/`gradient_descent`.
#[pyfunction]
#[pyo3(signature = (depth, d, scale = 0.1, zero_first = false, shape = "gaussian", seed = 1, low = -1.0, high = 1.0))]
#[allow(clippy::too_many_arguments)]
pub fn scaled<'py>(
    py: Python<'py>,
    depth: usize,
    d: usize,
    scale: f64,
    zero_first: bool,
    shape: &str,
    seed: u64,
    low: f64,
    high: f64,
) -> Result<Bound<'py, PyAny>> {
    let shape = init_shape(shape, low, high)?;
    if d == 0 {
        return Err(invalid("d", "must be at least 1"));
    }
    let recipe = InitRecipe {
        depth,
        scale,
        zero_first,
        shape,
        seed,
    };
    let init = recipe.draw(d)?;
    to_numpy(py, init, &[depth, d])
}

/// The core's init shape named `shape` (`"gaussian"`, `"uniform"` on `[low, high]`,
/// `"constant"`).
pub fn init_shape(shape: &str, low: f64, high: f64) -> Result<InitShape> {
    match shape {
        "gaussian" => Ok(InitShape::Gaussian),
        "uniform" => Ok(InitShape::Uniform { low, high }),
        "constant" => Ok(InitShape::Constant),
        other => Err(invalid(
            "shape",
            format!("unknown init shape `{other}`; expected `gaussian`, `uniform` or `constant`"),
        )),
    }
}

/// A named model of the literature with its standard init, as keyword arguments of
/// `gradient_flow`, `gradient_descent` and `implicit_bias`:
/// `ddln.gradient_descent(X, y, **ddln.init.preset("woodworth", d, alpha=0.1), lr=...)`.
///
/// Parameters
/// ----------
/// name : {"uv", "woodworth", "power", "azulay"}
///     "uv": theta = u ⊙ v from u = alpha, v = 0 (the deep model, L = 2);
///     "woodworth": theta = u^2 - v^2 from u = v = alpha (the signed model, power 2);
///     "power": theta = u^N - v^N from u = v = alpha, w0 = alpha^N (signed, power N);
///     "azulay": theta = u+ ⊙ v+ - u- ⊙ v- from u± = alpha s, v± = alpha / s, which is
///     exactly the signed model with power 2 from u = v = alpha sqrt((s^2 + s^-2) / 2)
///     at half the step: pass lr = (the peer's lr) / 2.
/// d : int
///     Number of coordinates.
/// alpha : float
///     The init scale (> 0).
/// power : int or None
///     N for "power" only.
/// shape : float or None
///     s for "azulay" only (default 1).
///
/// Returns
/// -------
/// dict
///     {"init": ndarray (2, d), "model": str, "power": int or None}; the mapping onto
///     ddln's models is exact (the same arrays the CLI's --preset uses).
#[pyfunction]
// The literal is `ddln::presets::DEFAULT_ALPHA` (PyO3 shows only literals in signatures;
// tests/test_literature.py checks it against `_core_defaults()`).
#[pyo3(signature = (name, d, alpha = 0.1, power = None, shape = None))]
pub fn preset<'py>(
    py: Python<'py>,
    name: &str,
    d: usize,
    alpha: f64,
    power: Option<usize>,
    shape: Option<f64>,
) -> Result<Bound<'py, pyo3::types::PyDict>> {
    let preset = ddln::presets::Preset::from_name(name, alpha, power, shape)?;
    let dict = pyo3::types::PyDict::new(py);
    dict.set_item("init", to_numpy(py, preset.init(d), &[2, d])?)?;
    let (model, power) = match preset.model() {
        ddln::Model::Deep { .. } => ("deep", None),
        ddln::Model::Signed { power } => ("signed", Some(power)),
        ddln::Model::Redundant { power } => ("redundant", Some(power)),
    };
    dict.set_item("model", model)?;
    dict.set_item("power", power)?;
    Ok(dict)
}
