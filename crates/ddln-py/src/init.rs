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
