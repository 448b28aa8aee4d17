//! Setup errors: the caller asked for something impossible. Numerical outcomes of a
//! run (divergence, step-size underflow, ...) are a [`crate::Status`], not an error.

use thiserror::Error;

/// Everything that can be wrong with the input to `ddln`, before any number is computed.
///
/// Each variant names the offending field and says what was expected, so that the CLI,
/// the TOML reader and the Python bindings can show the message as is.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DdlnError {
    /// An array does not have the expected shape.
    #[error("shape mismatch in `{field}`: expected {expected}, got {got}")]
    Shape {
        /// Name of the offending input.
        field: String,
        /// The shape that was expected, in words.
        expected: String,
        /// The shape that was received.
        got: String,
    },
    /// An array holds NaN or an infinite value.
    #[error("`{field}` contains a non-finite value ({value}) at index {index}; all entries must be finite numbers")]
    NonFinite {
        /// Name of the offending input.
        field: String,
        /// Flat index of the first bad entry.
        index: usize,
        /// The bad value.
        value: f64,
    },
    /// A setting is outside its admissible range.
    #[error("invalid value for `{field}`: {message}")]
    Invalid {
        /// Name of the offending setting.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The initialization violates assumption (A): for some coordinates the minimal
    /// |u_i^k(0)| is attained by more than one layer.
    #[error("assumption (A) fails at coordinates {coordinates:?}: the minimal |u_i^k(0)| over layers k is attained more than once there, so the mirror map of the paper is not defined; perturb those entries of the init")]
    AssumptionA {
        /// Coordinates where the argmin is not unique.
        coordinates: Vec<usize>,
    },
}

/// Shorthand for results whose error is [`DdlnError`].
pub type Result<T> = std::result::Result<T, DdlnError>;

impl DdlnError {
    /// An [`DdlnError::Invalid`] with the given field and message.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DdlnError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A [`DdlnError::Shape`] with the given field, expectation and actual shape.
    pub fn shape(
        field: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> Self {
        DdlnError::Shape {
            field: field.into(),
            expected: expected.into(),
            got: got.into(),
        }
    }
}

/// Fails with [`DdlnError::NonFinite`] at the first NaN or infinite entry of `values`.
pub fn check_finite(field: &str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(DdlnError::NonFinite {
            field: field.to_string(),
            index,
            value: values[index],
        }),
    }
}

/// Fails with [`DdlnError::Invalid`] unless `value` is finite and strictly positive.
pub fn check_positive(field: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(DdlnError::invalid(
            field,
            format!("must be a finite number > 0, got {value}"),
        ))
    }
}

/// Checks an optional stopping threshold: absent, or a finite number `>= 0`.
pub fn check_threshold(field: &str, value: Option<f64>) -> Result<()> {
    match value {
        Some(v) if !(v.is_finite() && v >= 0.0) => Err(DdlnError::invalid(
            field,
            format!("must be a finite number >= 0 (or absent), got {v}"),
        )),
        _ => Ok(()),
    }
}
