//! `ddln.saddles` (core `ddln::saddles`): the vanishing-init limit of two-layer flow and
//! flows simulated at any init scale, returned as JSON text that `python/ddln/saddles.py`
//! turns into a dict with numpy arrays.

use ddln::saddles::{
    saddle_to_saddle, simulate_deep_jumps, simulate_jumps, SaddleSettings, SmallInitModel,
};
use ddln::{FlowSettings, Loss, LossScaling, Problem};
use pyo3::prelude::*;
use serde_json::json;

use crate::convert::{real_array, shared_real_array};
use crate::errors::{invalid, Result};

/// The limit algorithm on `(X, y)` and, for each `E` in `simulate`, the flow at
/// `alpha = 10^-E` next to it (two layers, or depth `depth >= 3` from `u^1 = 0`,
/// `u^j = alpha`); `None` settings take the core's defaults.
#[pyfunction]
#[pyo3(signature = (X, y, loss_scaling="sum", model="product", simulate=None, grad_rtol=None, tie_rtol=None, max_jumps=None, depth=2))]
#[allow(non_snake_case, clippy::too_many_arguments)]
pub fn _saddles(
    py: Python<'_>,
    X: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    loss_scaling: &str,
    model: &str,
    simulate: Option<Vec<f64>>,
    grad_rtol: Option<f64>,
    tie_rtol: Option<f64>,
    max_jumps: Option<usize>,
    depth: usize,
) -> Result<String> {
    let x = shared_real_array(X, "X")?;
    x.expect_ndim("X", 2, "a 2-D array (n samples, d features)")?;
    let (n, d) = (x.shape[0], x.shape[1]);
    let y = real_array(y, "y")?;
    y.expect_ndim("y", 1, &format!("a 1-D array of length {n}"))?;
    let problem = Problem::new(x.data, n, d, y.data, Loss::Square)?
        .with_scaling(LossScaling::from_name(loss_scaling)?);
    let model = match model {
        "product" => SmallInitModel::Product,
        "signed_square" => SmallInitModel::SignedSquare,
        other => {
            return Err(invalid(
                "model",
                format!("unknown small-init model `{other}`; expected `product` (u ⊙ v from u = sqrt(2) alpha, v = 0) or `signed_square` (u^2 - v^2 from u = v = alpha)"),
            ))
        }
    };
    let simulate = simulate.unwrap_or_default();
    let defaults = SaddleSettings::default();
    let settings = SaddleSettings {
        grad_rtol: grad_rtol.unwrap_or(defaults.grad_rtol),
        tie_rtol: tie_rtol.unwrap_or(defaults.tie_rtol),
        max_jumps: max_jumps.unwrap_or(defaults.max_jumps),
        ..defaults
    };
    if depth < 2 || (depth > 2 && model != SmallInitModel::Product) {
        return Err(invalid(
            "depth",
            format!("{depth}: give 2, or L >= 3 with model=\"product\" (the deep model from u^1 = 0, u^j = alpha)"),
        ));
    }
    for &e in &simulate {
        if !(e.is_finite() && e > 0.0) {
            return Err(invalid(
                "simulate",
                format!("{e}: give E > 0 for alpha = 10^-E"),
            ));
        }
    }
    py.detach(|| {
        let saddles = saddle_to_saddle(&problem, &settings)?;
        let mut simulated = Vec::new();
        for &e in &simulate {
            if depth >= 3 {
                let sim = simulate_deep_jumps(
                    &problem,
                    &saddles,
                    depth,
                    e * 10f64.ln(),
                    &FlowSettings::default(),
                )?;
                let mut row = serde_json::to_value(&sim)
                    .map_err(|err| invalid("simulate", err.to_string()))?;
                row["alpha_log10"] = json!(-e);
                simulated.push(row);
                continue;
            }
            let sim = simulate_jumps(
                &problem,
                &saddles,
                model,
                e * 10f64.ln(),
                &FlowSettings::default(),
            )?;
            simulated.push(json!({
                "alpha_log10": -e, "lambda": sim.lambda, "jump_times": sim.jump_times,
                "relative_errors": sim.relative_errors, "worst_error": sim.worst_error,
                "status": sim.run.status, "t": sim.run.t, "loss": sim.run.loss,
                "final_theta": sim.run.final_theta, "steps": sim.run.stats.steps,
            }));
        }
        let out = json!({
            "jumps": saddles.jumps, "initial_loss": saddles.initial_loss,
            "status": saddles.status, "time_unit": saddles.time_unit,
            "settings": settings, "simulated": simulated,
        });
        Ok(out.to_string())
    })
}
