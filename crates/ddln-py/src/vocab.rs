//! The core's vocabulary in Python: every status, integrator, dynamics and time-unit name, read from
//! the core's enums (`ALL` and their serde names), and the conversion of a status to a
//! member of the string-valued Python enums that `ddln._enums` builds from them.

use ddln::mirror::{BaselineStatus, PredictStatus};
use ddln::{Dynamics, RkMethod, Status, TimeUnit};
use pyo3::prelude::*;
use serde::Serialize;

use crate::errors::{invalid, Result};

/// The serde name of a core enum value (the name in TOML, JSON and Python).
pub fn name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

fn names<T: Serialize>(values: &[T]) -> Vec<String> {
    values.iter().map(name).collect()
}

/// `{"Status": [...], "PredictStatus": [...], "BaselineStatus": [...], "Integrator":
/// [...], "Dynamics": [...], "TimeUnit": [...]}` as JSON, for `ddln._enums`.
#[pyfunction]
pub fn _vocabulary() -> Result<String> {
    let value = serde_json::json!({
        "Status": names(&Status::ALL),
        "PredictStatus": names(&PredictStatus::ALL),
        "BaselineStatus": names(&BaselineStatus::ALL),
        "Integrator": names(&RkMethod::ALL),
        "Dynamics": names(&Dynamics::ALL),
        "TimeUnit": names(&TimeUnit::ALL),
    });
    serde_json::to_string(&value).map_err(|e| invalid("vocabulary", e.to_string()))
}

/// The member of the Python enum `ddln.<enum_name>` for a core value.
pub fn member<T: Serialize>(py: Python<'_>, enum_name: &str, value: &T) -> PyResult<Py<PyAny>> {
    let cls = py.import("ddln._enums")?.getattr(enum_name)?;
    Ok(cls.call1((name(value),))?.unbind())
}
