//! numpy in, numpy out: every array crosses the boundary here.
//!
//! Inputs of any real dtype (bool, integer, float16/32/64, longdouble) and any layout
//! (strided views, Fortran order, nested lists) are converted once into a contiguous
//! float64 array. The design matrix is then lent to the core in place
//! ([`shared_real_array`]: never copied); the small inputs are copied into a `Vec<f64>`.
//! Outputs are handed to numpy without a copy (`PyArray::from_vec`) and reshaped.

use ddln::{DataOwner, SharedData};
use numpy::{PyArray1, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;

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
        expect_ndim(&self.shape, field, ndim, expected)
    }
}

/// The core's shape error unless `shape` has `ndim` dimensions.
fn expect_ndim(shape_of: &[usize], field: &str, ndim: usize, expected: &str) -> Result<()> {
    if shape_of.len() == ndim {
        Ok(())
    } else {
        Err(shape(
            field,
            expected,
            format!("shape {}", shape_str(shape_of)),
        ))
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
    let array = contiguous_f64(obj, field)?;
    let view = array
        .try_readonly()
        .map_err(|e| Error::Type(e.to_string()))?;
    let data = view
        .as_slice()
        .map_err(|e| Error::Type(format!("`{field}`: {e}")))?
        .to_vec();
    Ok(RealArray {
        data,
        shape: array.shape().to_vec(),
    })
}

/// A real array read in place: the buffer of a C-contiguous, aligned float64 array is
/// lent to the core without a copy (the design matrix, the one input worth not copying);
/// any other input is converted once, and the converted array is lent the same way.
pub struct SharedArray {
    /// Entries in C order, shared with numpy.
    pub data: SharedData,
    /// numpy shape.
    pub shape: Vec<usize>,
}

impl SharedArray {
    /// Fails with the core's shape error unless the array has `ndim` dimensions.
    pub fn expect_ndim(&self, field: &str, ndim: usize, expected: &str) -> Result<()> {
        expect_ndim(&self.shape, field, ndim, expected)
    }
}

/// Reads `obj` like [`real_array`], lending its buffer instead of copying it.
pub fn shared_real_array(obj: &Bound<'_, PyAny>, field: &str) -> Result<SharedArray> {
    let array = contiguous_f64(obj, field)?;
    let len = array.len();
    let ptr = array.data() as *const f64;
    let shape = array.shape().to_vec();
    let data = SharedData::from_owner(NumpyBuffer {
        _array: array.unbind(),
        ptr,
        len,
    });
    Ok(SharedArray { data, shape })
}

/// A float64 numpy array kept alive for as long as the core holds its entries.
struct NumpyBuffer {
    /// The reference that keeps the buffer alive (released when the core lets go).
    _array: Py<PyArrayDyn<f64>>,
    ptr: *const f64,
    len: usize,
}

// SAFETY: `ptr` points into the buffer that `_array` keeps alive: numpy never moves or
// frees the data of an array while a reference to it is held (`resize` refuses), and
// the core only reads it. Reading from several threads is then sound; the caller must
// not write to the array until the call that received it returns (as with any numpy
// routine that releases the GIL).
unsafe impl Send for NumpyBuffer {}
// SAFETY: as for `Send`: shared reads of memory nobody writes.
unsafe impl Sync for NumpyBuffer {}

impl DataOwner for NumpyBuffer {
    fn data(&self) -> &[f64] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr` is aligned (checked in `contiguous_f64`), valid for `len` reads
        // while `_array` lives, and never written meanwhile (see the `Send` impl).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// `obj` as a C-contiguous, aligned, native float64 array: itself when it is one,
/// otherwise one conversion by numpy.
fn contiguous_f64<'py>(
    obj: &Bound<'py, PyAny>,
    field: &str,
) -> Result<Bound<'py, PyArrayDyn<f64>>> {
    if let Some(array) = obj
        .cast::<PyArrayDyn<f64>>()
        .ok()
        .filter(|a| a.is_c_contiguous() && is_aligned(a))
    {
        return Ok(array.clone());
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
    // `require` with "A" also realigns a misaligned buffer (ascontiguousarray keeps it).
    let requirements = vec!["C", "A"];
    let contiguous = np.call_method1("require", (array, np.getattr("float64")?, requirements))?;
    let contiguous = contiguous
        .cast_into::<PyArrayDyn<f64>>()
        .map_err(|e| Error::Py(e.into()))?;
    Ok(contiguous)
}

/// Whether the array's data pointer is aligned for `f64` (numpy allows unaligned views).
fn is_aligned(array: &Bound<'_, PyArrayDyn<f64>>) -> bool {
    (array.data() as usize).is_multiple_of(std::mem::align_of::<f64>())
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
