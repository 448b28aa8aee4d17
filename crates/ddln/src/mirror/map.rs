//! The interface the predictor needs from a separable mirror map.

use super::entropy::Entropy;

/// A separable strictly convex potential `Q(theta) = sum_i Q_i(theta_i)`, given through
/// its dual map `Psi = (grad Q)^{-1}`.
pub trait MirrorMap {
    /// Number of coordinates.
    fn dim(&self) -> usize;
    /// `(Psi_i(xi), Psi_i'(xi))`; NaN when `xi` is outside the open interval
    /// [`MirrorMap::box_i`].
    fn psi_i(&self, i: usize, xi: f64) -> (f64, f64);
    /// The open interval of admissible `xi_i` (the range of `grad Q_i`); may be infinite.
    fn box_i(&self, i: usize) -> (f64, f64);
    /// `Q_i(theta)`.
    fn value_i(&self, i: usize, theta: f64) -> f64;
    /// The convex conjugate `Q_i^*(xi) = xi theta - Q_i(theta)` at `theta = Psi_i(xi)`
    /// (given): a map with a closed form for `Q^*` but not for `Q` overrides it.
    fn conjugate_i(&self, i: usize, xi: f64, theta: f64) -> f64 {
        xi * theta - self.value_i(i, theta)
    }
}

impl MirrorMap for Entropy {
    fn dim(&self) -> usize {
        Entropy::dim(self)
    }
    fn psi_i(&self, i: usize, xi: f64) -> (f64, f64) {
        Entropy::psi_i(self, i, xi)
    }
    fn box_i(&self, i: usize) -> (f64, f64) {
        let (lo, hi) = self.limits(i);
        (lo.min(hi), lo.max(hi))
    }
    fn value_i(&self, i: usize, theta: f64) -> f64 {
        Entropy::value_i(self, i, theta)
    }
}
