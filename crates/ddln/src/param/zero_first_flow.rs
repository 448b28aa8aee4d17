//! The deep model `L >= 3` from `u^1 = 0`, `u^j = alpha` (`j >= 2`) at any init scale,
//! in the variable `z` with `u^1 = alpha sinh z`, `u^j = alpha cosh z` (docs/math.md
//! section 12, deeper networks at any scale). The conservation laws keep
//! `(u^j)^2 - (u^1)^2 = alpha^2`, so every layer, `theta` and the flow are functions of
//! `z` alone:
//!
//! ```text
//! theta     = alpha^L sinh z cosh^(L-1) z
//! dz/dt     = -g R(z),    R(z) = (alpha cosh z)^(L-2)
//! sigma(z)  = alpha^(L-2) xi = int_0^z sech^(L-2)       (d sigma / d tau' = -g, tau' = alpha^(L-2) t)
//! ```
//!
//! Everything is evaluated from `lambda = log(1/alpha)` and logarithms, so `alpha` may
//! be any positive number, also one below f64 (`alpha = e^-10000`). The unit box of
//! `sigma` is `(-w, w)` with `w = int_0^inf sech^(L-2)`; the distance to its upper edge
//! `T(z) = int_z^inf sech^(L-2)` is computed directly (a series in `e^{-2z}` for large
//! `z`, Gauss-Legendre below), never as a difference, so a coordinate near the edge
//! keeps its full relative accuracy.

use super::small_init_map::SmallInitMap;
use crate::mirror::quadrature::{bracketed_newton, GaussLegendre};

/// Above this `z` the edge distance is summed as a series in `e^{-2z}` (ratio 0.018).
const SERIES_FROM: f64 = 2.0;
/// Width of the Gauss-Legendre panels below [`SERIES_FROM`] (the integrand's poles sit
/// pi/2 off the real axis: a 20-point rule per half unit is exact to roundoff).
const PANEL: f64 = 0.5;

/// `ln cosh z` without overflow.
#[inline]
pub fn ln_cosh(z: f64) -> f64 {
    let a = z.abs();
    a + (-2.0 * a).exp().ln_1p() - std::f64::consts::LN_2
}

/// `ln |sinh z|` without overflow (`-inf` at 0).
#[inline]
pub fn ln_sinh_abs(z: f64) -> f64 {
    let a = z.abs();
    if a < 1.0 {
        a.sinh().ln()
    } else {
        a + (-(-2.0 * a).exp()).ln_1p() - std::f64::consts::LN_2
    }
}

/// `alpha` when `init` (`depth x d`, row-major) is `u^1 = 0`, `u^j = alpha > 0` for
/// every `j >= 2` and coordinate, else `None`.
pub fn zero_first_alpha(init: &[f64], depth: usize, d: usize) -> Option<f64> {
    let (first, rest) = init.split_at(d.min(init.len()));
    let alpha = *rest.first()?;
    let form = depth >= 3
        && init.len() == depth * d
        && alpha > 0.0
        && first.iter().all(|&v| v == 0.0)
        && rest.iter().all(|&v| v == alpha);
    form.then_some(alpha)
}

/// The per-coordinate maps of depth `L` at `alpha = e^-lambda`.
#[derive(Debug, Clone)]
pub struct ZeroFirstFlow {
    depth: usize,
    lambda: f64,
    /// `w = T(0)`, the half-width of the unit box.
    edge: f64,
}

impl ZeroFirstFlow {
    /// Depth `depth >= 3`, `lambda = log(1/alpha) > 0` (checked by the caller).
    pub fn new(depth: usize, lambda: f64) -> Self {
        let mut flow = ZeroFirstFlow {
            depth,
            lambda,
            edge: 0.0,
        };
        flow.edge = flow.tail(0.0);
        flow
    }

    /// `L`.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// `lambda = log(1/alpha)`.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// `w`: the unit box is `sigma in (-w, w)` (`pi/2` at `L = 3`, 1 at `L = 4`).
    pub fn edge(&self) -> f64 {
        self.edge
    }

    /// `n = L - 2`, the power of `sech` in the map.
    fn power(&self) -> f64 {
        (self.depth - 2) as f64
    }

    /// `theta(z) = alpha^L sinh z cosh^(L-1) z` (0 at `z = 0`; underflows to 0 or a
    /// subnormal only where it is below 1e-308).
    #[inline]
    pub fn theta(&self, z: f64) -> f64 {
        let l = self.depth as f64;
        if z == 0.0 {
            return 0.0;
        }
        z.signum() * (-l * self.lambda + ln_sinh_abs(z) + (l - 1.0) * ln_cosh(z)).exp()
    }

    /// `ln |theta(z)|`.
    #[inline]
    pub fn ln_theta_abs(&self, z: f64) -> f64 {
        let l = self.depth as f64;
        -l * self.lambda + ln_sinh_abs(z) + (l - 1.0) * ln_cosh(z)
    }

    /// `d theta / dz = alpha^L cosh^L z (1 + (L-1) tanh^2 z)`.
    #[inline]
    pub fn slope(&self, z: f64) -> f64 {
        let l = self.depth as f64;
        let t = z.tanh();
        (l * (ln_cosh(z) - self.lambda)).exp() * (1.0 + (l - 1.0) * t * t)
    }

    /// `R(z) = (alpha cosh z)^(L-2)`: `dz/dt = -g R(z)`.
    #[inline]
    pub fn rate(&self, z: f64) -> f64 {
        (self.power() * (ln_cosh(z) - self.lambda)).exp()
    }

    /// `dR/dz = (L-2) tanh z R(z)`.
    #[inline]
    pub fn rate_slope(&self, z: f64) -> f64 {
        self.power() * z.tanh() * self.rate(z)
    }

    /// The `depth x d` layers of the state `z` (row-major) into `out`.
    pub fn all_layers(&self, z: &[f64], out: &mut [f64]) {
        let d = z.len();
        for (i, &zi) in z.iter().enumerate() {
            let (first, other) = self.layers(zi);
            out[i] = first;
            for j in 1..self.depth {
                out[j * d + i] = other;
            }
        }
    }

    /// The layers of one coordinate: `u^1 = alpha sinh z`, `u^j = alpha cosh z`.
    pub fn layers(&self, z: f64) -> (f64, f64) {
        let first = z.signum() * (ln_sinh_abs(z) - self.lambda).exp();
        let first = if z == 0.0 { 0.0 } else { first };
        (first, (ln_cosh(z) - self.lambda).exp())
    }

    /// `sech^n z`.
    #[inline]
    fn sech_power(&self, z: f64) -> f64 {
        (-self.power() * ln_cosh(z)).exp()
    }

    /// `T(z) = int_z^inf sech^(L-2)` for `z >= 0`: the distance of `sigma(z)` to the
    /// upper edge `w`, to full relative accuracy at any `z`.
    pub fn tail(&self, z: f64) -> f64 {
        debug_assert!(z >= 0.0);
        if z >= SERIES_FROM {
            return self.tail_series(z);
        }
        let rule = GaussLegendre::get();
        let panels = ((SERIES_FROM - z) / PANEL).ceil().max(1.0) as usize;
        let width = (SERIES_FROM - z) / panels as f64;
        let mut sum = self.tail_series(SERIES_FROM);
        for k in (0..panels).rev() {
            let a = z + k as f64 * width;
            sum += rule.integrate_width(a, width, |x| self.sech_power(x));
        }
        sum
    }

    /// `T(z) = 2^n sum_k (-1)^k C(n+k-1, k) e^{-(n+2k) z} / (n + 2k)` (from
    /// `sech^n z = 2^n e^{-nz} (1 + e^{-2z})^{-n}`), for `z >= SERIES_FROM`.
    fn tail_series(&self, z: f64) -> f64 {
        self.ln_tail_series(z).exp()
    }

    /// `ln T(z)` for `z >= 0`, finite where `T` itself underflows.
    pub fn ln_tail(&self, z: f64) -> f64 {
        if z >= SERIES_FROM {
            self.ln_tail_series(z)
        } else {
            self.tail(z).ln()
        }
    }

    /// `ln` of the series of [`Self::tail_series`].
    fn ln_tail_series(&self, z: f64) -> f64 {
        let n = self.power();
        let q = (-2.0 * z).exp();
        let lead = n * (std::f64::consts::LN_2 - z);
        let (mut coef, mut qk, mut sum) = (1.0, 1.0, 0.0);
        for k in 0..400 {
            let kf = k as f64;
            let term = coef * qk / (n + 2.0 * kf);
            sum += if k % 2 == 0 { term } else { -term };
            if term <= 1e-18 * sum.abs() {
                break;
            }
            coef *= (n + kf) / (kf + 1.0);
            qk *= q;
        }
        lead + sum.ln()
    }

    /// Distances of `sigma(z)` to the lower and the upper edge, each accurate.
    pub fn edge_distances(&self, z: f64) -> (f64, f64) {
        let near = self.tail(z.abs());
        let far = 2.0 * self.edge - near;
        if z >= 0.0 {
            (far, near)
        } else {
            (near, far)
        }
    }

    /// The `z >= 0` with `T(z) = dist` (`0 < dist`; 0 when `dist >= w`).
    pub fn z_of_tail(&self, dist: f64) -> f64 {
        if dist >= self.edge {
            return 0.0;
        }
        self.z_of_ln_tail(dist.ln())
    }

    /// The `z >= 0` with `ln T(z) = ln_dist` (`ln_dist < ln w`).
    pub fn z_of_ln_tail(&self, ln_dist: f64) -> f64 {
        let n = self.power();
        // T ~ 2^n e^{-nz} / n for large z (an upper bound): the bracket's start.
        let guess = ((n * std::f64::consts::LN_2 - n.ln() - ln_dist) / n).max(0.0);
        let hi = guess + 40.0;
        // ln T is decreasing in z: solve ln dist - ln T(z) = 0 (increasing).
        bracketed_newton(
            (0.0, hi),
            guess / hi,
            |z| ln_dist - self.ln_tail(z),
            |z| (-n * ln_cosh(z) - self.ln_tail(z)).exp(),
            1.0,
        )
    }

    /// The `z` at distance `dist > 0` from the lower (`upper == false`) or upper edge.
    pub fn z_at_edge_distance(&self, dist: f64, upper: bool) -> f64 {
        let near_edge = dist <= self.edge;
        let z = if near_edge {
            self.z_of_tail(dist)
        } else {
            -self.z_of_tail(2.0 * self.edge - dist)
        };
        if upper {
            z
        } else {
            -z
        }
    }

    /// `sigma(z) = int_0^z sech^(L-2)`.
    pub fn sigma(&self, z: f64) -> f64 {
        let (lower, upper) = self.edge_distances(z);
        if z >= 0.0 {
            self.edge - upper
        } else {
            lower - self.edge
        }
    }

    /// The `z > 0` with `theta(z) = theta_abs` (`theta_abs > 0`).
    pub fn z_of_theta(&self, theta_abs: f64) -> f64 {
        let target = theta_abs.ln();
        let l = self.depth as f64;
        // theta ~ alpha^L e^{L z} / 2^L for large z.
        let guess = ((target + l * self.lambda) / l + std::f64::consts::LN_2).max(1e-3);
        let hi = guess.max(1.0) + 40.0;
        bracketed_newton(
            (0.0, hi),
            guess / hi,
            |z| self.ln_theta_abs(z) - target,
            |z| 1.0 / z.tanh() + (l - 1.0) * z.tanh(),
            // theta is proportional to z near 0: z is needed to relative accuracy.
            f64::MIN_POSITIVE,
        )
    }
}

impl SmallInitMap for ZeroFirstFlow {
    fn depth(&self) -> usize {
        self.depth
    }

    fn ln_tau_rate(&self) -> f64 {
        -self.power() * self.lambda - self.edge.ln()
    }

    fn start(&self, _i: usize) -> f64 {
        0.0
    }

    #[inline]
    fn theta(&self, _i: usize, z: f64) -> f64 {
        ZeroFirstFlow::theta(self, z)
    }

    #[inline]
    fn slope(&self, _i: usize, z: f64) -> f64 {
        ZeroFirstFlow::slope(self, z)
    }

    #[inline]
    fn rate(&self, _i: usize, z: f64) -> f64 {
        ZeroFirstFlow::rate(self, z)
    }

    #[inline]
    fn rate_slope(&self, _i: usize, z: f64) -> f64 {
        ZeroFirstFlow::rate_slope(self, z)
    }

    /// The unit box's time: `d sigma / d tau = -w g`.
    fn speed(&self, _i: usize) -> f64 {
        self.edge
    }

    fn edge_distances(&self, _i: usize, z: f64) -> (f64, f64) {
        ZeroFirstFlow::edge_distances(self, z)
    }

    fn z_at_edge_distance(&self, _i: usize, dist: f64, upper: bool) -> f64 {
        ZeroFirstFlow::z_at_edge_distance(self, dist, upper)
    }

    fn z_of_theta(&self, _i: usize, theta_abs: f64) -> f64 {
        ZeroFirstFlow::z_of_theta(self, theta_abs)
    }

    fn xi(&self, _i: usize, z: f64) -> f64 {
        self.sigma(z) * (self.power() * self.lambda).exp()
    }

    fn all_layers(&self, z: &[f64], out: &mut [f64]) {
        ZeroFirstFlow::all_layers(self, z, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `int_z^b sech^n` by the trapezoid rule on a fine grid with its Euler-Maclaurin end
    /// correction, plus the closed-form tail beyond `b` (`2^n e^{-nb} / n` to first
    /// order): a second, independent sum.
    fn tail_by_trapezoid(n: f64, z: f64) -> f64 {
        let b = z + 40.0;
        let m = 400_000;
        let h = (b - z) / m as f64;
        let f = |x: f64| (1.0 / x.cosh()).powf(n);
        let mut s = 0.5 * (f(z) + f(b));
        for k in 1..m {
            s += f(z + k as f64 * h);
        }
        let df = |x: f64| -n * f(x) * x.tanh();
        s * h - h * h / 12.0 * (df(b) - df(z)) + 2f64.powf(n) * (-n * b).exp() / n
    }

    #[test]
    fn edges_are_the_closed_forms() {
        // int_0^inf sech = pi/2, int_0^inf sech^2 = 1, int_0^inf sech^3 = pi/4.
        assert!((ZeroFirstFlow::new(3, 1.0).edge() - std::f64::consts::FRAC_PI_2).abs() < 1e-15);
        assert!((ZeroFirstFlow::new(4, 1.0).edge() - 1.0).abs() < 1e-15);
        assert!((ZeroFirstFlow::new(5, 1.0).edge() - std::f64::consts::FRAC_PI_4).abs() < 1e-15);
    }

    /// `exp(x)` is correct to about `|x| eps` relatively: both sides carry that error.
    fn exp_resolution(z: f64) -> f64 {
        1e-15 * (1.0 + 2.0 * z)
    }

    #[test]
    fn tails_match_closed_forms_and_a_trapezoid_sum() {
        for &z in &[0.0, 0.3, 1.7, 2.0, 2.5, 9.0, 40.0, 300.0] {
            // L = 3: int_z^inf sech = 2 atan(e^{-z}); L = 4: 1 - tanh z = 2 / (e^{2z} + 1).
            let f3 = ZeroFirstFlow::new(3, 1.0).tail(z);
            let exact3 = 2.0 * (-z).exp().atan();
            assert!(
                (f3 - exact3).abs() <= exp_resolution(z) * exact3,
                "{z}: {f3} vs {exact3}"
            );
            let f4 = ZeroFirstFlow::new(4, 1.0).tail(z);
            let exact4 = 2.0 * (-2.0 * z).exp() / (1.0 + (-2.0 * z).exp());
            assert!(
                (f4 - exact4).abs() <= exp_resolution(z) * exact4,
                "{z}: {f4} vs {exact4}"
            );
        }
        for &(depth, z) in &[(6usize, 0.4), (6, 2.3), (9, 1.1)] {
            let f = ZeroFirstFlow::new(depth, 1.0).tail(z);
            let reference = tail_by_trapezoid((depth - 2) as f64, z);
            assert!((f - reference).abs() <= 1e-9 * reference, "{depth} {z}");
        }
    }

    #[test]
    fn inverses_and_layers_at_any_scale() {
        for &depth in &[3usize, 4, 7] {
            for &lambda in &[2.0, 690.0, 1e4] {
                let flow = ZeroFirstFlow::new(depth, lambda);
                for &z in &[0.05, 1.0, 3.0, 50.0, 800.0] {
                    let back = flow.z_of_ln_tail(flow.ln_tail(z));
                    assert!((back - z).abs() <= 1e-12 * z.max(1.0), "{depth} {z} {back}");
                }
                // z is held to its own resolution: theta to L eps z relatively.
                let z = flow.z_of_theta(1e-12);
                let resolution = 8.0 * depth as f64 * f64::EPSILON * z.max(1.0);
                assert!(
                    (flow.theta(z) / 1e-12 - 1.0).abs() < resolution,
                    "{depth} {lambda}"
                );
            }
        }
        // theta = u^1 (u^j)^(L-1) and the conservation (u^j)^2 - (u^1)^2 = alpha^2 at a
        // representable alpha.
        let flow = ZeroFirstFlow::new(4, 0.1f64.ln().abs());
        let (a, b) = flow.layers(0.7);
        assert!((a * b.powi(3) - flow.theta(0.7)).abs() < 1e-15 * flow.theta(0.7));
        assert!((b * b - a * a - 0.01).abs() < 1e-16);
    }

    #[test]
    fn slopes_are_derivatives() {
        // Central differences (step 1e-6, error ~1e-12 relative).
        let flow = ZeroFirstFlow::new(5, 3.0);
        for &z in &[-2.0, 0.3, 4.0] {
            let h = 1e-6;
            let fd = (flow.theta(z + h) - flow.theta(z - h)) / (2.0 * h);
            assert!((fd - flow.slope(z)).abs() < 1e-8 * flow.slope(z).abs());
            let fd = (flow.rate(z + h) - flow.rate(z - h)) / (2.0 * h);
            assert!((fd - flow.rate_slope(z)).abs() < 1e-8 * flow.rate(z));
            // d sigma / dz = -dT/dz = sech^(L-2) (T where it is small: its own roundoff).
            let fd = if z > 0.0 {
                (flow.tail(z - h) - flow.tail(z + h)) / (2.0 * h)
            } else {
                (flow.sigma(z + h) - flow.sigma(z - h)) / (2.0 * h)
            };
            let exact = (-3.0 * ln_cosh(z)).exp();
            assert!((fd - exact).abs() < 1e-7 * exact, "{z}: {fd} vs {exact}");
        }
    }
}
