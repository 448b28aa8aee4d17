//! The inputs every binding checks the same way: data, model and init, converted from
//! numpy and validated by the core before anything runs.

use ddln::{Loss, LossScaling, Model, Problem};
use pyo3::prelude::*;

use crate::convert::{real_array, shape_str, shared_real_array};
use crate::errors::{shape, Result};

/// The data, the model and the init of a run, checked.
pub struct Setup {
    /// The problem (X, y, loss).
    pub problem: Problem,
    /// The parameterization.
    pub model: Model,
    /// The init, `rows x d` row-major.
    pub init: Vec<f64>,
    /// Rows of the init (L for the deep model).
    pub rows: usize,
    /// Coordinates.
    pub d: usize,
}

/// Reads and checks X, y, the init, the loss (and its scaling) and the model (the CLI's shape messages).
#[allow(non_snake_case)]
pub fn setup(
    X: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    init: &Bound<'_, PyAny>,
    loss: &str,
    loss_scaling: &str,
    model: &str,
    power: Option<usize>,
) -> Result<Setup> {
    let x = shared_real_array(X, "X")?;
    x.expect_ndim("X", 2, "a 2-D array (n samples, d features)")?;
    let y = real_array(y, "y")?;
    let (n, d) = (x.shape[0], x.shape[1]);
    y.expect_ndim(
        "y",
        1,
        &format!("a 1-D array of length {n} (one target per row of X)"),
    )?;
    let init = real_array(init, "init")?;
    let rows_meaning = "rows = L layers for model='deep', 1 for 'redundant', 2 for 'signed'";
    init.expect_ndim(
        "init",
        2,
        &format!("a 2-D array (rows, {d}): {rows_meaning}"),
    )?;
    let rows = init.shape[0];
    let model = Model::from_name(model, rows, power)?;
    if rows != model.rows() || init.shape[1] != d {
        return Err(shape(
            "init",
            format!(
                "({}, {d}): {rows_meaning}, one column per feature of X",
                model.rows()
            ),
            format!("shape {}", shape_str(&init.shape)),
        ));
    }
    let problem = Problem::new(x.data, n, d, y.data, Loss::from_name(loss)?)?
        .with_scaling(LossScaling::from_name(loss_scaling)?);
    Ok(Setup {
        problem,
        model,
        init: init.data,
        rows,
        d,
    })
}
