//! Gauss-Legendre quadrature on an interval, with an embedded error estimate.
//!
//! Written by hand rather than taken from the `integrate` crate: that crate's adaptive
//! method is Simpson's rule (order 4, it would need millions of points for 1e-13) and its
//! Gauss-Legendre rule is a fixed rule without an error estimate. The integrands of
//! [`super::entropy`] are analytic in a strip of half-width pi/2 around the real axis
//! (after the sinh substitution), where a 20-point Gauss-Legendre rule on panels of
//! width 1 converges like `6.4^{-40}`: far below f64 resolution.

use std::sync::OnceLock;

/// Number of nodes of the rule.
pub(crate) const NODES: usize = 20;

/// Nodes and weights of the `NODES`-point Gauss-Legendre rule on `[-1, 1]`.
pub(crate) struct GaussLegendre {
    nodes: [f64; NODES],
    weights: [f64; NODES],
}

impl GaussLegendre {
    /// The rule, computed once (Newton's method on the Legendre recurrence).
    pub(crate) fn get() -> &'static GaussLegendre {
        static RULE: OnceLock<GaussLegendre> = OnceLock::new();
        RULE.get_or_init(|| compute(NODES))
    }

    /// `int_a^b f` by the rule mapped to `[a, b]` (`a > b` gives the negative).
    #[inline]
    pub(crate) fn integrate(&self, a: f64, b: f64, f: impl Fn(f64) -> f64) -> f64 {
        let half = 0.5 * (b - a);
        let mid = 0.5 * (a + b);
        let mut sum = 0.0;
        for (x, w) in self.nodes.iter().zip(&self.weights) {
            sum += w * f(mid + half * x);
        }
        half * sum
    }

    /// `int_a^{a + width} f`, with the width given exactly (no rounding of `b - a`).
    #[inline]
    pub(crate) fn integrate_width(&self, a: f64, width: f64, f: impl Fn(f64) -> f64) -> f64 {
        let half = 0.5 * width;
        let mid = a + half;
        let mut sum = 0.0;
        for (x, w) in self.nodes.iter().zip(&self.weights) {
            sum += w * f(mid + half * x);
        }
        half * sum
    }

    /// `int_a^b f` and an error estimate: the rule on `[a, b]` against the rule on both
    /// halves, each half bisected again (up to `max_depth` times) until the two agree to
    /// `rel_tol` relative. Returns `(integral, estimated absolute error)`.
    pub(crate) fn integrate_adaptive(
        &self,
        a: f64,
        b: f64,
        f: &impl Fn(f64) -> f64,
        rel_tol: f64,
        max_depth: u32,
    ) -> (f64, f64) {
        let whole = self.integrate(a, b, f);
        self.refine(a, b, whole, f, rel_tol, max_depth)
    }

    fn refine(
        &self,
        a: f64,
        b: f64,
        whole: f64,
        f: &impl Fn(f64) -> f64,
        rel_tol: f64,
        depth: u32,
    ) -> (f64, f64) {
        let m = 0.5 * (a + b);
        let left = self.integrate(a, m, f);
        let right = self.integrate(m, b, f);
        let halves = left + right;
        let err = (halves - whole).abs();
        if err <= rel_tol * halves.abs() || depth == 0 {
            return (halves, err);
        }
        let (l, el) = self.refine(a, m, left, f, rel_tol, depth - 1);
        let (r, er) = self.refine(m, b, right, f, rel_tol, depth - 1);
        (l + r, el + er)
    }
}

fn compute(n: usize) -> GaussLegendre {
    let mut nodes = [0.0; NODES];
    let mut weights = [0.0; NODES];
    for i in 0..n {
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=n {
                let kf = k as f64;
                let p2 = ((2.0 * kf - 1.0) * x * p1 - (kf - 1.0) * p0) / kf;
                p0 = p1;
                p1 = p2;
            }
            dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
            let dx = p1 / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        nodes[i] = x;
        weights[i] = 2.0 / ((1.0 - x * x) * dp * dp);
    }
    GaussLegendre { nodes, weights }
}

/// The root in `[lo, hi]` of the increasing `residual` (derivative `slope`), started
/// `frac` of the way from `lo` (0.5 when not finite): Newton steps kept inside the
/// shrinking bracket, else bisection, until a step or the bracket is below
/// `4 eps max(|x|, floor)`.
pub(crate) fn bracketed_newton(
    (mut lo, mut hi): (f64, f64),
    frac: f64,
    residual: impl Fn(f64) -> f64,
    slope: impl Fn(f64) -> f64,
    floor: f64,
) -> f64 {
    let start = if frac.is_finite() {
        frac.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let mut x = lo + start * (hi - lo);
    for _ in 0..100 {
        let r = residual(x);
        if r == 0.0 {
            break;
        }
        if r > 0.0 {
            hi = x;
        } else {
            lo = x;
        }
        let mut next = x - r / slope(x);
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        let step = (next - x).abs();
        x = next;
        let scale = 4.0 * f64::EPSILON * x.abs().max(floor);
        if step <= scale || hi - lo <= scale {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_polynomials_and_exp_exactly() {
        let rule = GaussLegendre::get();
        // Degree 39 is integrated exactly by 20 points.
        let v = rule.integrate(-1.0, 1.0, |x| x.powi(38));
        assert!((v - 2.0 / 39.0).abs() < 1e-15);
        let w: f64 = rule.weights.iter().sum();
        assert!((w - 2.0).abs() < 1e-14);
        let e = rule.integrate(0.0, 3.0, f64::exp);
        assert!((e - (3f64.exp() - 1.0)).abs() < 1e-13 * e);
    }
}
