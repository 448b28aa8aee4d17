//! Binding of `ddln::mirror::mirror_check`: a gradient-flow `Run` against the mirror flow
//! of its init (`ddln.mirror_check`).

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{shape, Result};
use crate::inputs::setup;
use crate::mirror::{mirror_check_dict, predict_settings};
use crate::train::PyRun;

/// How well a gradient-flow run follows the mirror flow of its init (Theorem 1).
///
/// Checks grad Q(theta(t)) = xi(t) at every recorded time, with xi(t) =
/// -int_0^t grad L(theta(s)) ds integrated alongside the run (track_xi=True), and
/// compares the run's end point with the predicted limit theta_inf (squared loss).
/// `gradient_flow(..., mirror_check=True)` does the same with default predictor settings.
///
/// Parameters
/// ----------
/// X, y, init : array_like
///     The run's data and its init (L, d) (deep model, assumption (A)).
/// run : Run
///     A gradient_flow run of the deep model with track_xi=True.
/// tol, max_iter, boundary_fraction, max_halvings, rank_rtol, range_rtol, floor_rtol
///     Predictor settings, as for implicit_bias.
/// loss : {"square", "logistic"}
///     The run's loss (the prediction needs the squared loss; None otherwise).
///
/// Returns
/// -------
/// dict
///     max_abs_residual (max_t ||grad Q(theta(t)) - xi(t)||_inf), max_rel_residual (each
///     time divided by max(1, ||xi(t)||_inf)), times_checked,
///     relative_distance_to_prediction (||theta_final - theta_inf|| / ||theta_inf||, None
///     for the logistic loss) and prediction (a Prediction without baselines, or None).
///
/// Raises
/// ------
/// ValueError (ddln.DdlnError)
///     A run without xi, of another model, with other shapes than X and init, or an
///     init violating assumption (A).
#[pyfunction]
#[pyo3(signature = (
    X, y, init, run, *, tol = 1e-11, max_iter = 500, boundary_fraction = 0.99,
    max_halvings = 60, rank_rtol = 1e-12, range_rtol = 1e-9, floor_rtol = 1e-6, loss = "square"
))]
#[allow(non_snake_case, clippy::too_many_arguments)]
pub fn mirror_check<'py>(
    py: Python<'py>,
    X: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    init: &Bound<'py, PyAny>,
    run: PyRef<'py, PyRun>,
    tol: f64,
    max_iter: usize,
    boundary_fraction: f64,
    max_halvings: usize,
    rank_rtol: f64,
    range_rtol: f64,
    floor_rtol: f64,
    loss: &str,
) -> Result<Bound<'py, PyDict>> {
    let setup = setup(X, y, init, loss, "sum", "deep", None)?;
    let settings = predict_settings(
        tol,
        max_iter,
        boundary_fraction,
        max_halvings,
        rank_rtol,
        range_rtol,
        floor_rtol,
    )?;
    let core_run = run.core_flow()?;
    if run.shape() != (setup.rows, setup.d) {
        return Err(shape(
            "run",
            format!("layers of shape ({}, {}) like init", setup.rows, setup.d),
            format!("a run of shape {:?}", run.shape()),
        ));
    }
    let (problem, init, depth) = (&setup.problem, &setup.init, setup.rows);
    let check =
        py.detach(|| ddln::mirror::mirror_check(problem, init, depth, core_run, &settings))?;
    mirror_check_dict(py, check)
}
