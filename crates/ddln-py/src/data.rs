//! Bindings of `ddln::recipes` data generators: `ddln.data.gaussian`, `ddln.data.sparse_recovery`.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert::to_numpy;
use crate::errors::Result;

/// Standard Gaussian data as in the paper's figures ("X and y generated randomly").
///
/// Parameters
/// ----------
/// n : int
///     Number of samples (rows of X).
/// d : int
///     Number of features (columns of X, coordinates of theta).
/// seed : int
///     Seed of the ChaCha8 generator; the same seed gives the same arrays as the Rust
///     core and the CLI.
///
/// Returns
/// -------
/// (X, y) : (ndarray of shape (n, d), ndarray of shape (n,))
///     Independent standard normal entries (X drawn first, row by row, then y).
#[pyfunction]
#[pyo3(signature = (n, d, seed = 0))]
pub fn gaussian<'py>(
    py: Python<'py>,
    n: usize,
    d: usize,
    seed: u64,
) -> Result<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    ddln::recipes::check_design_size(n, d)?;
    let (x, y) = ddln::recipes::gaussian_data(n, d, seed);
    Ok((to_numpy(py, x, &[n, d])?, to_numpy(py, y, &[n])?))
}

/// A noiseless sparse-recovery problem: X standard Gaussian (n x d), theta* with k
/// non-zero entries equal to +1 or -1 at random positions, and y = X theta*.
///
/// Parameters
/// ----------
/// n, d : int
///     Number of samples and of features (both >= 1).
/// k : int
///     Number of non-zero entries of theta* (0 <= k <= d).
/// seed : int
///     Seed of the ChaCha8 generator (same arrays as the Rust core for the same seed).
/// return_theta : bool
///     If True, also return theta*.
///
/// Returns
/// -------
/// (X, y) or (X, y, theta_star)
///     X of shape (n, d), y of shape (n,), theta_star of shape (d,).
///
/// Raises
/// ------
/// ValueError
///     (ddln.DdlnError) if n or d is 0, or k > d.
#[pyfunction]
#[pyo3(signature = (n, d, k, seed = 0, return_theta = false))]
pub fn sparse_recovery<'py>(
    py: Python<'py>,
    n: usize,
    d: usize,
    k: usize,
    seed: u64,
    return_theta: bool,
) -> Result<Bound<'py, PyTuple>> {
    let (x, y, theta) = ddln::recipes::sparse_recovery(n, d, k, seed)?;
    let x = to_numpy(py, x, &[n, d])?;
    let y = to_numpy(py, y, &[n])?;
    let tuple = if return_theta {
        PyTuple::new(py, [x, y, to_numpy(py, theta, &[d])?])?
    } else {
        PyTuple::new(py, [x, y])?
    };
    Ok(tuple)
}
