//! `ddln.entropy`: the mirror potential Q of gradient flow from an init, for every model
//! (core `ModelMap`: the deep model's entropy, its ties, the power models' closed form).

use ddln::mirror::{MirrorMap, ModelMap};
use ddln::Model;
use pyo3::prelude::*;
use pyo3::types::PyFloat;

use crate::convert::{real_array, shape_str, to_numpy, RealArray};
use crate::errors::{shape, Result};

/// Points of a 1-D `(d,)` array or a batch `(m, d)`: the entries and `Some(m)` for a batch.
fn points(obj: &Bound<'_, PyAny>, field: &str, d: usize) -> Result<(Vec<f64>, Option<usize>)> {
    let RealArray { data, shape: s } = real_array(obj, field)?;
    match s.as_slice() {
        [n] if *n == d => Ok((data, None)),
        [m, n] if *n == d => Ok((data, Some(*m))),
        _ => Err(shape(
            field,
            format!("a 1-D array of length d = {d} or a 2-D array (m, {d})"),
            format!("shape {}", shape_str(&s)),
        )),
    }
}

/// The mirror potential Q of gradient flow from an init: gradient flow on the layers is
/// the mirror flow d/dt grad Q(theta) = -grad L(theta) (docs/math.md sections 5 and 10).
///
/// For the deep model under assumption (A), with v = phi^{-1}(theta) the minimal layer
/// and F_i(v) = int_{v0_i}^v dw / P_i(w):
///
///     grad Q_i(theta) = F_i(v)                      (= xi_i(t) along gradient flow)
///     Q_i(theta)      = theta F_i(v) - (v^2 - v0_i^2) / 2     (Q(theta(0)) = 0)
///     Q_i''(theta)    = 1 / M_ii(v)
///     Psi_i(xi)       = (grad Q_i)^{-1}(xi)
///
/// Tied and balanced coordinates of the deep model and the signed and redundant models
/// have their own closed forms (section 10). For depth L >= 3, grad Q_i is bounded:
/// xi_i ranges over the open interval `dual_box[i]`; psi is NaN outside it. Where the
/// sign of theta_i is conserved (a tie, the redundant model), Q_i is +inf for the other
/// sign and its gradient NaN. Every method takes one point (d,) or a batch (m, d).
///
/// Attributes
/// ----------
/// depth : int
///     L (the power of the signed and redundant models).
/// dim : int
///     d.
/// model : str
///     "deep", "redundant" or "signed".
/// dual_box : ndarray (d, 2)
///     Per coordinate, the open interval (lo_i, hi_i) of admissible xi_i (infinite for L = 2).
/// quadrature_error_estimate : float
///     Largest estimated relative error of the quadrature behind Q (0 in closed form).
#[pyclass(frozen, module = "ddln", name = "Entropy")]
pub struct PyEntropy {
    inner: ModelMap,
    model: Model,
}

impl PyEntropy {
    /// Applies `f(i, x_i)` to every entry of a `(d,)` or `(m, d)` array.
    fn map_points<'py>(
        &self,
        py: Python<'py>,
        obj: &Bound<'py, PyAny>,
        field: &str,
        f: impl Fn(&ModelMap, usize, f64) -> f64 + Send + Sync,
    ) -> Result<Bound<'py, PyAny>> {
        let d = self.inner.dim();
        let (data, batch) = points(obj, field, d)?;
        let map = &self.inner;
        let out: Vec<f64> = py.detach(|| {
            data.iter()
                .enumerate()
                .map(|(k, &x)| f(map, k % d, x))
                .collect()
        });
        match batch {
            Some(m) => to_numpy(py, out, &[m, d]),
            None => to_numpy(py, out, &[d]),
        }
    }
}

#[pymethods]
impl PyEntropy {
    /// Q(theta) = sum_i Q_i(theta_i): a float for theta of shape (d,), an ndarray (m,)
    /// for a batch (m, d). Zero at the init's theta.
    fn value<'py>(&self, py: Python<'py>, theta: &Bound<'py, PyAny>) -> Result<Py<PyAny>> {
        let d = self.inner.dim();
        let (data, batch) = points(theta, "theta", d)?;
        let map = &self.inner;
        let values: Vec<f64> = py.detach(|| {
            data.chunks(d)
                .map(|t| t.iter().enumerate().map(|(i, &x)| map.value_i(i, x)).sum())
                .collect()
        });
        Ok(match batch {
            Some(m) => to_numpy(py, values, &[m])?.unbind(),
            None => PyFloat::new(py, values[0]).into_any().unbind(),
        })
    }

    /// grad Q(theta) (= xi at the point of the flow where theta is): shape (d,) or (m, d).
    fn gradient<'py>(
        &self,
        py: Python<'py>,
        theta: &Bound<'py, PyAny>,
    ) -> Result<Bound<'py, PyAny>> {
        self.map_points(py, theta, "theta", |m, i, t| m.gradient_i(i, t))
    }

    /// The diagonal of the Hessian of Q, Q_i''(theta_i): shape (d,) or (m, d).
    fn hessian_diag<'py>(
        &self,
        py: Python<'py>,
        theta: &Bound<'py, PyAny>,
    ) -> Result<Bound<'py, PyAny>> {
        self.map_points(py, theta, "theta", |m, i, t| m.hessian_i(i, t))
    }

    /// theta = Psi(xi) = (grad Q)^{-1}(xi): shape (d,) or (m, d); NaN where xi_i is not
    /// inside the open dual box (L >= 3).
    fn psi<'py>(&self, py: Python<'py>, xi: &Bound<'py, PyAny>) -> Result<Bound<'py, PyAny>> {
        self.map_points(py, xi, "xi", |m, i, x| m.psi_i(i, x).0)
    }

    /// The open dual box (lo_i, hi_i) per coordinate, shape (d, 2).
    #[getter]
    fn dual_box<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        let d = self.inner.dim();
        let flat = (0..d)
            .flat_map(|i| {
                let (lo, hi) = self.inner.box_i(i);
                [lo, hi]
            })
            .collect();
        to_numpy(py, flat, &[d, 2])
    }

    /// Number of layers L (the power of the signed and redundant models).
    #[getter]
    fn depth(&self) -> usize {
        self.model.depth()
    }

    /// Number of coordinates d.
    #[getter]
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    /// The model: "deep", "redundant" or "signed".
    #[getter]
    fn model(&self) -> &'static str {
        match self.model {
            Model::Deep { .. } => "deep",
            Model::Redundant { .. } => "redundant",
            Model::Signed { .. } => "signed",
        }
    }

    /// Largest estimated relative error of the quadrature tables behind Q.
    #[getter]
    fn quadrature_error_estimate(&self) -> f64 {
        self.inner.quadrature_error_estimate()
    }

    fn __repr__(&self) -> String {
        format!(
            "Entropy(model={:?}, depth={}, dim={})",
            self.model(),
            self.model.depth(),
            self.inner.dim()
        )
    }
}

/// The mirror potential Q of gradient flow from `init`.
///
/// Parameters
/// ----------
/// init : array_like (rows, d)
///     The deep model: the layers u^1(0), ..., u^L(0) (L >= 2); at every coordinate one
///     layer has the strictly smallest |u_i^k(0)| (assumption (A)) or several tie for it
///     at a nonzero magnitude. The signed model: rows u(0), v(0); the redundant model:
///     the row u(0).
/// model : {"deep", "redundant", "signed"}
///     The parameterization.
/// power : int, optional
///     The power L of the redundant and signed models (required for them).
///
/// Returns
/// -------
/// Entropy
///     Q.value(theta), Q.gradient(theta), Q.hessian_diag(theta), Q.psi(xi), Q.dual_box.
///
/// Raises
/// ------
/// ValueError (ddln.DdlnError)
///     A tie at 0 or a coordinate whose entries are all zero (theta stays 0), a wrong
///     shape, NaN/inf entries.
#[pyfunction]
#[pyo3(signature = (init, *, model = "deep", power = None))]
pub fn entropy(init: &Bound<'_, PyAny>, model: &str, power: Option<usize>) -> Result<PyEntropy> {
    let init = real_array(init, "init")?;
    init.expect_ndim("init", 2, "a 2-D array (rows, d coordinates)")?;
    let (rows, d) = (init.shape[0], init.shape[1]);
    let model = Model::from_name(model, rows, power)?;
    if rows != model.rows() {
        return Err(shape(
            "init",
            format!("({}, {d}) for the {} model", model.rows(), model.name()),
            format!("shape {}", shape_str(&init.shape)),
        ));
    }
    Ok(PyEntropy {
        inner: ModelMap::new(model, &init.data, d)?,
        model,
    })
}
