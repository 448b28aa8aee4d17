//! The far tail of a coordinate's mirror map, the part that decides theta when the dual
//! variable sits next to its box edge (small inits at depth `L >= 3`).
//!
//! Every map here integrates `int_v^inf dw / (w^a prod_k sqrt(w^2 + D_k))` with
//! `a + #gaps = L - 1`; with `u = 1/w` this is
//!
//! ```text
//! T(U) = int_0^U u^p g(u) du,   g(u) = prod_k (1 + D_k u^2)^{-1/2},   p = L - 3,   U = 1/v
//! ```
//!
//! `g` is analytic for `|u| < 1/sqrt(D_max)`, so on `[0, U]` with `U <= U_MAX_FRACTION /
//! sqrt(D_max)` a Gauss-Legendre rule is exact to roundoff. Written as `T = U^{p+1} I(U)`,
//! `I(U) = int_0^1 t^p g(U t) dt`, it never underflows before theta does.

use super::quadrature::GaussLegendre;

/// The far region: `U <= U_MAX_FRACTION / sqrt(D_max)`.
const U_MAX_FRACTION: f64 = 0.5;

/// `T(U)` for one coordinate's gaps.
#[derive(Debug, Clone)]
pub(crate) struct FarTail {
    p: i32,
    gaps: Vec<f64>,
    /// The largest `U` of the far region.
    u_max: f64,
}

impl FarTail {
    /// The tail with power `p = L - 3` and the gaps `D_k`.
    pub(crate) fn new(p: i32, gaps: &[f64]) -> Self {
        let d_max = gaps.iter().copied().fold(0.0, f64::max);
        FarTail {
            p,
            gaps: gaps.to_vec(),
            u_max: if d_max > 0.0 {
                U_MAX_FRACTION / d_max.sqrt()
            } else {
                f64::INFINITY
            },
        }
    }

    /// The smallest `v = 1/U` of the far region.
    pub(crate) fn v_min(&self) -> f64 {
        1.0 / self.u_max
    }

    #[inline]
    fn g(&self, u: f64) -> f64 {
        let u2 = u * u;
        self.gaps
            .iter()
            .map(|&d| 1.0 / (1.0 + d * u2).sqrt())
            .product()
    }

    /// `I(U) = int_0^1 t^p g(U t) dt`.
    fn i(&self, u: f64) -> f64 {
        GaussLegendre::get().integrate(0.0, 1.0, |t| t.powi(self.p) * self.g(u * t))
    }

    /// `T(1/v)` for `v >= v_min` (`int_v^inf` of the integrand in `w`).
    pub(crate) fn beyond(&self, v: f64) -> f64 {
        let u = 1.0 / v;
        u.powi(self.p + 1) * self.i(u)
    }

    /// `v >= v_min` with `T(1/v) = delta`, or `None` when `delta > T(u_max)` (the point is
    /// not in the far region). Newton on `ln U`, where `d ln T / d ln U = g(U) / I(U)`.
    pub(crate) fn v_at(&self, delta: f64) -> Option<f64> {
        if delta.is_nan() || delta <= 0.0 {
            return None;
        }
        let q = (self.p + 1) as f64;
        if self.u_max.is_finite() && delta > self.u_max.powi(self.p + 1) * self.i(self.u_max) {
            return None;
        }
        let ln_delta = delta.ln();
        let mut x = ((q * delta).ln() / q).min(self.u_max.ln());
        for _ in 0..60 {
            let u = x.exp();
            let i = self.i(u);
            let step = (q * x + i.ln() - ln_delta) * i / self.g(u);
            x -= step;
            if step.abs() <= 4.0 * f64::EPSILON * x.abs().max(1.0) {
                break;
            }
        }
        // exp(x) is only as accurate as eps |x|: two Newton steps on U itself,
        // U <- U (1 + (delta / U^{p+1} - I) / g), restore full relative accuracy.
        let mut u = x.exp();
        for _ in 0..2 {
            let ratio = delta / u.powi(self.p + 1);
            u *= 1.0 + (ratio - self.i(u)) / self.g(u);
        }
        Some(1.0 / u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One gap, `p = 0` (L = 3, the deep model with one other layer):
    /// `int_v^inf dw / (w sqrt(w^2 + D))` = `asinh(sqrt(D) / v) / sqrt(D)` (closed form);
    /// and `v_at` inverts `beyond` down to tails of 1e-300.
    #[test]
    fn matches_a_closed_form_and_inverts() {
        for (gap, v) in [(1.0f64, 2.0f64), (1e-16, 1e-7), (4.0, 1e10)] {
            let tail = FarTail::new(0, &[gap]);
            let exact = (gap.sqrt() / v).asinh() / gap.sqrt();
            let got = tail.beyond(v);
            assert!((got - exact).abs() <= 2e-16 * exact, "{got} vs {exact}");
        }
        let tail = FarTail::new(3, &[0.3, 1.0, 2.0]);
        for delta in [1e-3, 1e-40, 1e-300] {
            let v = tail.v_at(delta).unwrap();
            let back = tail.beyond(v);
            assert!((back - delta).abs() <= 1e-14 * delta, "{back} vs {delta}");
        }
        assert!(tail.v_at(10.0).is_none());
    }
}
