//! The entropy `Q` of a DDLN init: gradient flow on the layers is the mirror flow
//! `d/dt grad Q(theta(t)) = -grad L(theta(t))` (docs/math.md section 5).
//!
//! Coordinate-wise, with `v = phi^{-1}(theta)` ([`Reduced::phi_inv`]):
//!
//! ```text
//! grad Q_i(theta) = F_i(v)                          (= xi_i(t) along the flow)
//! Q_i(theta)      = theta F_i(v) - (v^2 - v0^2)/2   (so Q(theta(0)) = 0)
//! Q_i''(theta)    = 1 / M_ii(v)
//! Psi_i(xi)       = phi_i(F_i^{-1}(xi))             (theta from the dual variable)
//! ```
//!
//! **The dual box.** For `L >= 3`, `F_i` is bounded: `xi_i` ranges over the open interval
//! `(F_i(-inf), F_i(+inf))` (ordered), [`Entropy::dual_box`]. Outside it no finite
//! `theta` has that gradient: [`Entropy::psi`] returns NaN there (and at its ends, which
//! correspond to `theta = ±inf`). For `L = 2` the box is the whole line.

use crate::error::Result;

use super::coordinate::DualCoordinate;
use crate::param::Reduced;

/// The entropy (mirror potential) of a DDLN init satisfying assumption (A).
#[derive(Debug, Clone)]
pub struct Entropy {
    reduced: Reduced,
    coords: Vec<DualCoordinate>,
}

impl Entropy {
    /// The entropy of the init `depth x d` (row-major, row = layer).
    ///
    /// Errors as [`Reduced::new`]: [`crate::DdlnError::AssumptionA`] naming the
    /// coordinates where the minimal layer is not unique, shape and finiteness errors.
    pub fn new(init: &[f64], depth: usize, d: usize) -> Result<Self> {
        let reduced = Reduced::new(init, depth, d)?;
        let coords = (0..d)
            .map(|i| DualCoordinate::new(reduced.sign(i), reduced.v0()[i], reduced.gaps(i)))
            .collect();
        Ok(Entropy { reduced, coords })
    }

    /// The reduced data (P, phi, M, the layers from v).
    pub fn reduced(&self) -> &Reduced {
        &self.reduced
    }

    /// Number of coordinates `d`.
    pub fn dim(&self) -> usize {
        self.reduced.dim()
    }

    /// Number of layers `L`.
    pub fn depth(&self) -> usize {
        self.reduced.depth()
    }

    /// `F_i(v) = int_{v0_i}^{v} dw / P_i(w)` (relative accuracy ~1e-14; `F_i(±inf)`
    /// for `v = ±inf`).
    pub fn f(&self, i: usize, v: f64) -> f64 {
        self.coords[i].f_of_v(v, self.reduced.v0()[i])
    }

    /// `F_i^{-1}(xi)`: the minimal layer `v` at which the dual variable is `xi`; NaN
    /// outside the open dual box.
    pub fn f_inv(&self, i: usize, xi: f64) -> f64 {
        self.coords[i].f_inv(xi)
    }

    /// `(F_i(-inf), F_i(+inf))` (infinite for `L = 2`; not ordered when `s_i < 0`).
    pub fn limits(&self, i: usize) -> (f64, f64) {
        self.coords[i].limits()
    }

    /// The open dual box `(lo_i, hi_i)` per coordinate: the range of `grad Q_i`.
    pub fn dual_box(&self) -> Vec<(f64, f64)> {
        self.coords.iter().map(|c| c.dual_box()).collect()
    }

    /// `lim_{theta -> +inf} grad Q_i` and `lim_{theta -> -inf} -grad Q_i`: the weights
    /// `(t_i^+, t_i^-)` of the L1-like tail of `Q_i` (infinite for `L = 2`).
    pub fn tail_weights(&self, i: usize) -> (f64, f64) {
        let (lo, hi) = self.coords[i].dual_box();
        (hi, -lo)
    }

    /// `Q_i(theta)`.
    pub fn value_i(&self, i: usize, theta: f64) -> f64 {
        let v = self.reduced.phi_inv(i, theta);
        let v0 = self.reduced.v0()[i];
        theta * self.f(i, v) - 0.5 * (v - v0) * (v + v0)
    }

    /// `grad Q_i(theta) = F_i(phi_i^{-1}(theta))`.
    pub fn gradient_i(&self, i: usize, theta: f64) -> f64 {
        self.f(i, self.reduced.phi_inv(i, theta))
    }

    /// `Q_i''(theta) = 1 / M_ii(phi_i^{-1}(theta))`.
    pub fn hessian_i(&self, i: usize, theta: f64) -> f64 {
        1.0 / self.reduced.metric(i, self.reduced.phi_inv(i, theta))
    }

    /// `(Psi_i(xi), Psi_i'(xi)) = (theta, M_ii)` at the dual point `xi`; NaN outside the box.
    pub fn psi_i(&self, i: usize, xi: f64) -> (f64, f64) {
        let v = self.f_inv(i, xi);
        (self.reduced.phi(i, v), self.reduced.metric(i, v))
    }

    /// `(Psi_i, Psi_i')` at distance `gap` inside the upper (`upper`) or lower end of the
    /// dual box, from the tail of `F` beyond the point (accurate however small `gap` is
    /// relative to the edge); NaN for `gap <= 0` or `L = 2`.
    pub fn psi_edge_i(&self, i: usize, upper: bool, gap: f64) -> (f64, f64) {
        let c = &self.coords[i];
        // With s < 0 the upper end of the box is F(-inf).
        let right = upper == (self.reduced.sign(i) > 0.0);
        let v = c.v_near_edge(right, gap);
        (self.reduced.phi(i, v), self.reduced.metric(i, v))
    }

    /// `Q(theta) = sum_i Q_i(theta_i)`, zero at the init's theta.
    ///
    /// Panics if `theta.len() != d`.
    pub fn value(&self, theta: &[f64]) -> f64 {
        assert_eq!(theta.len(), self.dim(), "theta must have length d");
        theta
            .iter()
            .enumerate()
            .map(|(i, &t)| self.value_i(i, t))
            .sum()
    }

    /// Writes `grad Q(theta)`. Panics if a length differs from `d`.
    pub fn gradient(&self, theta: &[f64], out: &mut [f64]) {
        assert_eq!(theta.len(), self.dim(), "theta must have length d");
        assert_eq!(out.len(), self.dim(), "out must have length d");
        for (i, (o, &t)) in out.iter_mut().zip(theta).enumerate() {
            *o = self.gradient_i(i, t);
        }
    }

    /// Writes the diagonal of the Hessian of `Q`, `1 / M_ii`. Panics if a length differs
    /// from `d`.
    pub fn hessian_diag(&self, theta: &[f64], out: &mut [f64]) {
        assert_eq!(theta.len(), self.dim(), "theta must have length d");
        assert_eq!(out.len(), self.dim(), "out must have length d");
        for (i, (o, &t)) in out.iter_mut().zip(theta).enumerate() {
            *o = self.hessian_i(i, t);
        }
    }

    /// Writes `theta = Psi(xi) = (grad Q)^{-1}(xi)`; entries are NaN where `xi_i` is not
    /// inside the open dual box (`L >= 3`). Panics if a length differs from `d`.
    pub fn psi(&self, xi: &[f64], out: &mut [f64]) {
        assert_eq!(xi.len(), self.dim(), "xi must have length d");
        assert_eq!(out.len(), self.dim(), "out must have length d");
        for (i, (o, &x)) in out.iter_mut().zip(xi).enumerate() {
            *o = self.psi_i(i, x).0;
        }
    }

    /// Largest estimated relative error of the quadrature tables behind `F`.
    pub fn quadrature_error_estimate(&self) -> f64 {
        self.coords
            .iter()
            .map(|c| c.error_estimate())
            .fold(0.0, f64::max)
    }
}
