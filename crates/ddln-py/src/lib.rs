//! Python bindings of `ddln` (PyO3 + rust-numpy, abi3 for Python >= 3.11), imported as
//! `ddln._ddln` and re-exported by the pure-Python package `ddln`.
//!
//! One Rust module per core module; nothing is re-implemented here:
//!
//! | Python                                   | binding      | core                      |
//! |------------------------------------------|--------------|---------------------------|
//! | `ddln.gradient_flow`, `gradient_descent`, `Run` | `train.rs` | `ddln::train`, `optim` |
//! | `on_step`, Ctrl-C, progress bar          | `observe.rs` | `ddln::observe`           |
//! | `ddln.data.gaussian`, `sparse_recovery`  | `data.rs`    | `ddln::recipes`           |
//! | `ddln.init.scaled`                       | `init.rs`    | `ddln::recipes::InitRecipe` |
//! | `ddln.implicit_bias`, `rich_to_kernel_sweep` | `mirror.rs` | `ddln::mirror` |
//! | `ddln.entropy` | `entropy.rs` | `ddln::mirror::ModelMap` |
//! | `ddln.mirror_check` | `check.rs` | `ddln::mirror::mirror_check` |
//! | `gradient_flow(..., dynamics="reduced")` | `train.rs`   | `ddln::train` with `FlowSettings::dynamics` |
//! | `ddln.sweep` (local and Ray backends)  | `sweep.rs`   | `ddln_spec::sweep`        |
//! | `ddln.saddles` (vanishing-init limit)  | `saddles.rs` | `ddln::saddles`          |
//! | every error                              | `errors.rs`  | `ddln::error`             |
//! | numpy in / numpy out                     | `convert.rs` | —                         |

mod check;
mod convert;
mod data;
mod entropy;
mod errors;
mod init;
mod inputs;
mod mirror;
mod observe;
mod saddles;
mod sweep;
mod train;
mod vocab;

use pyo3::prelude::*;

/// The compiled core of the `ddln` package; use it through `import ddln`.
#[pymodule]
fn _ddln(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DdlnError", m.py().get_type::<errors::DdlnError>())?;
    // train.rs: the trainers and their result.
    m.add_class::<train::PyRun>()?;
    m.add_function(wrap_pyfunction!(train::gradient_flow, m)?)?;
    m.add_function(wrap_pyfunction!(train::gradient_descent, m)?)?;
    m.add_function(wrap_pyfunction!(train::_core_defaults, m)?)?;
    m.add_function(wrap_pyfunction!(vocab::_vocabulary, m)?)?;
    // data.rs and init.rs: seeded recipes (ddln.data, ddln.init).
    m.add_function(wrap_pyfunction!(data::gaussian, m)?)?;
    m.add_function(wrap_pyfunction!(data::sparse_recovery, m)?)?;
    m.add_function(wrap_pyfunction!(init::scaled, m)?)?;
    m.add_function(wrap_pyfunction!(init::preset, m)?)?;
    // mirror.rs: the mirror map (implicit bias, entropy, mirror check, sweep).
    m.add_class::<mirror::PyPrediction>()?;
    m.add_class::<entropy::PyEntropy>()?;
    m.add_function(wrap_pyfunction!(mirror::implicit_bias, m)?)?;
    m.add_function(wrap_pyfunction!(entropy::entropy, m)?)?;
    m.add_function(wrap_pyfunction!(check::mirror_check, m)?)?;
    m.add_function(wrap_pyfunction!(mirror::rich_to_kernel_sweep, m)?)?;
    // saddles.rs: the saddle-to-saddle limit and small-init flows (python/ddln/saddles.py).
    m.add_function(wrap_pyfunction!(saddles::_saddles, m)?)?;
    // sweep.rs: grids of runs into a resumable folder (python/ddln/sweep.py picks the backend).
    m.add_class::<sweep::PySweepSession>()?;
    m.add_function(wrap_pyfunction!(sweep::_sweep_local, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::_sweep_evaluate, m)?)?;
    Ok(())
}
