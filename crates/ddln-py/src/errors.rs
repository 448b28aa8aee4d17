//! Every error that crosses into Python is converted here, and only here.
//!
//! * [`ddln::DdlnError`] (a setup mistake: shape, non-finite entry, invalid setting)
//!   becomes `ddln.DdlnError`, a subclass of `ValueError`, with the core's message as is.
//! * A non-numeric array becomes `TypeError`.
//! * A Python exception (raised by a callback, or `KeyboardInterrupt` from Ctrl-C) is
//!   re-raised unchanged.
//!
//! Numerical outcomes (divergence, step-size underflow, a stop requested by a callback)
//! are not errors: they are the `status` of the returned run.

use pyo3::create_exception;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::PyErr;

create_exception!(
    ddln,
    DdlnError,
    PyValueError,
    "A setup mistake reported by the ddln core (shape mismatch, non-finite entry, setting out of range). Subclass of ValueError."
);

/// The error type of every binding function.
#[derive(Debug)]
pub enum Error {
    /// A setup error of the core.
    Core(ddln::DdlnError),
    /// An argument that is not an array of real numbers (or not of the expected kind).
    Type(String),
    /// A Python exception to re-raise as is.
    Py(PyErr),
}

/// Shorthand for results of binding functions.
pub type Result<T> = std::result::Result<T, Error>;

impl From<ddln::DdlnError> for Error {
    fn from(e: ddln::DdlnError) -> Self {
        Error::Core(e)
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Error::Py(e)
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> Self {
        match e {
            Error::Core(e) => DdlnError::new_err(e.to_string()),
            Error::Type(message) => PyTypeError::new_err(message),
            Error::Py(e) => e,
        }
    }
}

/// A [`ddln::DdlnError::Invalid`] for a binding-level setting (same message format as the core).
pub fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::Core(ddln::DdlnError::invalid(field, message))
}

/// A [`ddln::DdlnError::Shape`] for a binding-level shape check (same message format as the core).
pub fn shape(field: &str, expected: impl Into<String>, got: impl Into<String>) -> Error {
    Error::Core(ddln::DdlnError::shape(field, expected, got))
}
