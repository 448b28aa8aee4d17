//! numpy in, numpy out: every array crosses the boundary here.
//!
//! Inputs of any real dtype (bool, integer, float16/32/64, longdouble) and any layout
//! (strided views, Fortran order, nested lists) are converted once into a contiguous
//! `Vec<f64>`; a C-contiguous float64 array is copied straight from its buffer.
//! Outputs are handed to numpy without a copy (`PyArray::from_vec`) and reshaped.

use numpy::{PyArray1, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{shape, Error, Result};

/// A real array read from Python: its entries (row-major) and its shape.
#[derive(Debug, Clone)]
pub struct RealArray {
    /// Entries in C order.
    pub data: Vec<f64>,
    /// numpy shape.
    pub shape: Vec<usize>,
}

impl RealArray {
    /// Fails with the core's shape error unless the array has `ndim` dimensions.
    pub fn expect_ndim(&self, field: &str, ndim: usize, expected: &str) -> Result<()> {
        if self.shape.len() == ndim {
            Ok(())
        } else {
            Err(shape(
                field,
                expected,
                format!("shape {}", shape_str(&self.shape)),
            ))
        }
    }
}

/// `(3, 4)`-style rendering of a shape, as numpy prints it.
pub fn shape_str(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Reads `obj` (a numpy array or anything `numpy.asarray` accepts) as a real array.
///
/// Non-numeric input (strings, complex numbers, objects) is a `TypeError` naming `field`.
/// NaN and infinities are passed through: the core rejects them with its own message.
pub fn real_array(obj: &Bound<'_, PyAny>, field: &str) -> Result<RealArray> {
    if let Some(array) = obj
        .cast::<PyArrayDyn<f64>>()
        .ok()
        .filter(|a| a.is_c_contiguous())
    {
        let view = array
            .try_readonly()
            .map_err(|e| Error::Type(e.to_string()))?;
        if let Ok(slice) = view.as_slice() {
            return Ok(RealArray {
                data: slice.to_vec(),
                shape: array.shape().to_vec(),
            });
        }
    }
    let py = obj.py();
    let np = py.import("numpy")?;
    let array = np.call_method1("asarray", (obj,)).map_err(|e| {
        Error::Type(format!(
            "`{field}` could not be read as an array of real numbers: {e}"
        ))
    })?;
    let dtype = array.getattr("dtype")?;
    let kind: String = dtype.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "b" | "i" | "u" | "f") {
        return Err(Error::Type(format!(
            "`{field}` must hold real numbers (a bool, integer or float dtype), got dtype {}",
            dtype.str()?
        )));
    }
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", np.getattr("float64")?)?;
    let contiguous = np.call_method("ascontiguousarray", (array,), Some(&kwargs))?;
    let contiguous = contiguous
        .cast_into::<PyArrayDyn<f64>>()
        .map_err(|e| Error::Py(e.into()))?;
    let view = contiguous.readonly();
    let data = view
        .as_slice()
        .map_err(|e| Error::Type(format!("`{field}`: {e}")))?
        .to_vec();
    Ok(RealArray {
        data,
        shape: contiguous.shape().to_vec(),
    })
}

/// Reads an optional array argument.
pub fn optional_real_array(
    obj: Option<&Bound<'_, PyAny>>,
    field: &str,
) -> Result<Option<RealArray>> {
    match obj {
        Some(o) if !o.is_none() => real_array(o, field).map(Some),
        _ => Ok(None),
    }
}

/// Hands `data` to numpy (no copy) as an array of the given shape.
pub fn to_numpy<'py>(
    py: Python<'py>,
    data: Vec<f64>,
    shape: &[usize],
) -> Result<Bound<'py, PyAny>> {
    let flat = PyArray1::from_vec(py, data);
    if shape.len() == 1 {
        return Ok(flat.into_any());
    }
    Ok(flat.reshape(shape.to_vec())?.into_any())
}
