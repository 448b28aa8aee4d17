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
    /// `Psi_i` at the point `gap > 0` inside the upper (`upper`) or lower end of the box,
    /// from the gap itself: where `hi - gap` rounds to `hi` (small inits at depth
    /// `L >= 3`), a map with a tail in closed form still resolves it. By default
    /// `psi_i(hi - gap)`.
    fn psi_edge_i(&self, i: usize, upper: bool, gap: f64) -> (f64, f64) {
        let (lo, hi) = self.box_i(i);
        self.psi_i(i, if upper { hi - gap } else { lo + gap })
    }
    /// Whether [`MirrorMap::psi_edge_i`] resolves any gap (not just `hi - gap` in f64).
    fn resolves_edges(&self) -> bool {
        false
    }
    /// `grad Q_i(theta) = Psi_i^{-1}(theta)`: by default a safeguarded Newton inversion
    /// of `Psi_i` inside the box (which holds 0); NaN when `theta` is not in the range of
    /// `Psi_i` (e.g. of the wrong sign where the sign is conserved).
    fn gradient_i(&self, i: usize, theta: f64) -> f64 {
        invert_psi(self, i, theta)
    }
    /// `Q_i''(theta) = 1 / Psi_i'(grad Q_i(theta))`.
    fn hessian_i(&self, i: usize, theta: f64) -> f64 {
        1.0 / self.psi_i(i, self.gradient_i(i, theta)).1
    }
}

/// `xi` with `Psi_i(xi) = theta`: an open end of the box is first replaced by a point
/// where `Psi_i` passes `theta`, then Newton steps that stay in the bracket, else
/// bisection.
fn invert_psi<M: MirrorMap + ?Sized>(map: &M, i: usize, theta: f64) -> f64 {
    let (mut lo, mut hi) = map.box_i(i);
    let passes = |xi: f64, above: bool| {
        let t = map.psi_i(i, xi).0;
        if above {
            t >= theta
        } else {
            t <= theta
        }
    };
    let mut reach = 1.0;
    while lo.is_infinite() {
        if passes(-reach, false) || reach > 1e300 {
            lo = -reach;
        }
        reach *= 2.0;
    }
    reach = 1.0;
    while hi.is_infinite() {
        if passes(reach, true) || reach > 1e300 {
            hi = reach;
        }
        reach *= 2.0;
    }
    let (t_lo, t_hi) = (map.psi_i(i, lo).0, map.psi_i(i, hi).0);
    if (t_lo.is_finite() && theta < t_lo) || (t_hi.is_finite() && theta > t_hi) {
        return f64::NAN;
    }
    let mut x = 0.0;
    for _ in 0..400 {
        let (t, slope) = map.psi_i(i, x);
        if t == theta {
            return x;
        }
        if t.is_finite() && t < theta {
            lo = x;
        } else {
            hi = x;
        }
        let newton = x - (t - theta) / slope;
        let next = if t.is_finite() && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if next == x || hi - lo <= 2.0 * f64::EPSILON * x.abs() {
            return next;
        }
        x = next;
    }
    x
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
    fn gradient_i(&self, i: usize, theta: f64) -> f64 {
        Entropy::gradient_i(self, i, theta)
    }
    fn psi_edge_i(&self, i: usize, upper: bool, gap: f64) -> (f64, f64) {
        Entropy::psi_edge_i(self, i, upper, gap)
    }
    fn resolves_edges(&self) -> bool {
        true
    }
    fn hessian_i(&self, i: usize, theta: f64) -> f64 {
        Entropy::hessian_i(self, i, theta)
    }
}
