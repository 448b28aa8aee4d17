//! The mirror map of the deep model at a coordinate where `1 < m < L` layers tie for the
//! minimal magnitude (assumption (A) fails there; docs/math.md section 10, "Ties").
//!
//! Conservation keeps the tied layers at one magnitude `w > 0`; the other `L - m` have
//! `|u_k| = sqrt(w^2 + D_k)`, `D_k > 0`. With `s` the sign of the product of all layers,
//!
//! ```text
//! theta     = s w^m P(w),   P(w) = prod_k sqrt(w^2 + D_k)
//! dw / dxi  = s w^{m-1} P(w)                        (xi = -int g dt)
//! xi        = s G(r),   G(r) = int_{r0}^{r} h,   h(rho) = e^{(2-m) rho} / P(e^rho),   r = ln w
//! Psi'(xi)  = theta^2 / w^2 (m + sum_k w^2 / (w^2 + D_k))
//! Q^*(xi)   = (w^2 - w0^2) / 2                      (d(w^2/2)/dxi = theta)
//! ```
//!
//! `G(-inf) = -inf` (the integrand does not decay as `rho -> -inf` since `m >= 2`: `w`
//! never reaches 0 and theta keeps the sign `s`), and `G(+inf)` is finite (`h` decays
//! like `e^{-(L-2) rho}`). `G` is tabulated on unit panels of `rho` from `r0` to the right
//! until the tail is negligible, and to the left until `e^{2 rho} <= LEFT_RTOL D_min`;
//! beyond that `P(w) = P(0)` to relative `LEFT_RTOL` and `G` is in closed form.

use crate::error::{DdlnError, Result};

use super::map::MirrorMap;
use super::quadrature::{bracketed_newton, GaussLegendre};
use super::tail::FarTail;

/// Width of a panel in `rho = ln w`.
const PANEL: f64 = 1.0;
/// Relative tolerance of the adaptive rule on one panel.
const PANEL_RTOL: f64 = 1e-15;
/// Bisection depth of the adaptive rule on one panel.
const PANEL_DEPTH: u32 = 8;
/// The right side of the table stops once the tail is below this, relative to the total.
const TAIL_RTOL: f64 = 1e-19;
/// Left of `rho` with `e^{2 rho} <= LEFT_RTOL D_min`, `P(w)` is replaced by `P(0)`.
const LEFT_RTOL: f64 = 1e-18;
/// Safety bound on the number of panels per side.
const MAX_PANELS: usize = 100_000;

/// `ln sqrt(e^{2 rho} + g)` without overflow.
#[inline]
fn half_log_sum(rho: f64, g: f64) -> f64 {
    let lg = g.ln();
    if 2.0 * rho > lg {
        rho + 0.5 * (g * (-2.0 * rho).exp()).ln_1p()
    } else {
        0.5 * lg + 0.5 * (2.0 * rho - lg).exp().ln_1p()
    }
}

/// One tied coordinate.
#[derive(Debug, Clone)]
struct TiedCoordinate {
    /// Sign of theta.
    s: f64,
    /// Number of tied layers.
    m: usize,
    /// `D_k` of the other layers.
    gaps: Vec<f64>,
    /// `w(0)` and `r0 = ln w(0)`.
    w0: f64,
    r0: f64,
    /// `ln P(0)`.
    log_p0: f64,
    /// Index of `r0` in `cum`.
    k0: usize,
    /// `cum[k] = G(node k)`, `node k = r0 + (k - k0) PANEL`.
    cum: Vec<f64>,
    /// `tail[k] = int_{node k}^{inf} h` for `k >= k0`, summed from the far end (index
    /// `k - k0`): the distance to the box edge, without cancellation.
    tail: Vec<f64>,
    /// The tail beyond the last node, in `u = 1/w`.
    far: FarTail,
    /// Estimated relative error of the table.
    error_estimate: f64,
}

impl TiedCoordinate {
    fn new(s: f64, m: usize, w0: f64, gaps: Vec<f64>) -> Self {
        let log_p0 = gaps.iter().map(|g| 0.5 * g.ln()).sum();
        // int_w^inf dw / (w^{m-1} P(w)) in u = 1/w: u^{(m-1) + (L-m) - 2} = u^{L-3}.
        let far = FarTail::new((m + gaps.len()) as i32 - 3, &gaps);
        let mut c = TiedCoordinate {
            s,
            m,
            gaps,
            w0,
            r0: w0.ln(),
            log_p0,
            k0: 0,
            cum: Vec::new(),
            tail: Vec::new(),
            far,
            error_estimate: 0.0,
        };
        c.build_table();
        c
    }

    /// `ln(w^m P(w))` at `rho = ln w`: `ln |theta|`.
    #[inline]
    fn log_abs_theta(&self, rho: f64) -> f64 {
        self.m as f64 * rho + self.gaps.iter().map(|&g| half_log_sum(rho, g)).sum::<f64>()
    }

    /// The integrand `h(rho) = e^{(2-m) rho} / P(e^rho)`.
    #[inline]
    fn h(&self, rho: f64) -> f64 {
        (2.0 * rho - self.log_abs_theta(rho)).exp()
    }

    /// `-d ln h / d rho`, increasing in `rho` (so the tail past `b` is at most `h(b) / rate(b)`).
    fn decay_rate(&self, rho: f64) -> f64 {
        let e = (2.0 * rho).exp();
        self.m as f64 - 2.0 + self.gaps.iter().map(|&g| e / (e + g)).sum::<f64>()
    }

    fn node(&self, k: usize) -> f64 {
        self.r0 + (k as f64 - self.k0 as f64) * PANEL
    }

    fn build_table(&mut self) {
        let rule = GaussLegendre::get();
        let d_min = self.gaps.iter().copied().fold(f64::INFINITY, f64::min);
        let left_end = 0.5 * (LEFT_RTOL * d_min).ln();
        let f = |x: f64| self.h(x);
        let mut max_err = 0.0f64;
        let mut integrate = |lo: f64, hi: f64, acc: f64| {
            let (piece, err) = rule.integrate_adaptive(lo, hi, &f, PANEL_RTOL, PANEL_DEPTH);
            max_err = max_err.max(err / (acc + piece).abs().max(f64::MIN_POSITIVE));
            piece
        };
        let mut right = Vec::new();
        let mut pieces = Vec::new();
        let mut acc = 0.0;
        let far_from = self.far.v_min().ln();
        for k in 0..MAX_PANELS {
            let a = self.r0 + k as f64 * PANEL;
            let b = a + PANEL;
            let piece = integrate(a, b, acc);
            acc += piece;
            right.push(acc);
            pieces.push(piece);
            // Done once the tail is negligible and the far quadrature holds beyond b.
            if !acc.is_finite()
                || (self.h(b) / self.decay_rate(b) <= TAIL_RTOL * acc && b >= far_from)
            {
                break;
            }
        }
        let last_node = self.r0 + pieces.len() as f64 * PANEL;
        let mut tail = vec![0.0; pieces.len() + 1];
        tail[pieces.len()] = self.far.beyond(last_node.exp());
        for k in (0..pieces.len()).rev() {
            tail[k] = tail[k + 1] + pieces[k];
        }
        let mut left = Vec::new();
        let mut acc = 0.0f64;
        let mut b = self.r0;
        while b > left_end && left.len() < MAX_PANELS && acc.is_finite() {
            let a = b - PANEL;
            acc += integrate(a, b, acc);
            left.push(-acc);
            b = a;
        }
        self.k0 = left.len();
        self.cum = left.into_iter().rev().collect();
        self.cum.push(0.0);
        self.cum.extend(right);
        self.tail = tail;
        self.error_estimate = max_err;
    }

    /// `G(-inf..)` left of the table: `G(r) = G_l - int_r^{r_l} e^{(2-m) rho} / P(0)`.
    fn g_left(&self, r: f64) -> f64 {
        let r_l = self.node(0);
        let tail = if self.m == 2 {
            (r_l - r) * (-self.log_p0).exp()
        } else {
            let k = self.m as f64 - 2.0;
            // (e^{-k r} - e^{-k r_l}) / (k P0) = e^{-k r_l} expm1(k (r_l - r)) / (k P0)
            (-k * r_l - self.log_p0).exp() * (k * (r_l - r)).exp_m1() / k
        };
        self.cum[0] - tail
    }

    /// `G(r)`.
    fn g(&self, r: f64) -> f64 {
        let rule = GaussLegendre::get();
        let last = self.cum.len() - 1;
        let pos = (r - self.r0) / PANEL + self.k0 as f64;
        if pos >= last as f64 {
            return self.cum[last] + (self.tail[last - self.k0] - self.far.beyond(r.exp()));
        }
        if pos < 0.0 {
            return self.g_left(r);
        }
        let f = |x: f64| self.h(x);
        if r >= self.r0 {
            let k = (pos.floor() as usize).clamp(self.k0, last - 1);
            self.cum[k] + rule.integrate_width(self.node(k), r - self.node(k), f)
        } else {
            let k = (pos.ceil() as usize).min(self.k0);
            self.cum[k] - rule.integrate_width(r, self.node(k) - r, f)
        }
    }

    /// `rho` with `G(rho) = target`, `target < upper()`.
    fn g_inv(&self, target: f64) -> f64 {
        let last = self.cum.len() - 1;
        if target >= self.cum[last] {
            return self.rho_near_edge(self.upper() - target);
        }
        if target < self.cum[0] {
            let r_l = self.node(0);
            let gap = self.cum[0] - target;
            if self.m == 2 {
                return r_l - gap * self.log_p0.exp();
            }
            let k = self.m as f64 - 2.0;
            // e^{-k r} = e^{-k r_l} (1 + k P0 gap e^{k r_l})
            return r_l - (k * gap * (self.log_p0 + k * r_l).exp()).ln_1p() / k;
        }
        let k = (self.cum.partition_point(|&g| g <= target) - 1).min(last - 1);
        let rule = GaussLegendre::get();
        let f = |x: f64| self.h(x);
        let from_right = target < 0.0;
        let residual = |rho: f64| -> f64 {
            if from_right {
                self.cum[k + 1] - rule.integrate(rho, self.node(k + 1), f) - target
            } else {
                self.cum[k] + rule.integrate(self.node(k), rho, f) - target
            }
        };
        let frac = (target - self.cum[k]) / (self.cum[k + 1] - self.cum[k]);
        bracketed_newton((self.node(k), self.node(k + 1)), frac, residual, f, 1.0)
    }

    /// `rho = ln w` at which `|theta| = e^{log_theta}` (Newton on a function with slope in
    /// `[m, L]`).
    fn rho_of_log_theta(&self, log_theta: f64) -> f64 {
        let mut rho = (log_theta - self.log_p0) / self.m as f64;
        for _ in 0..200 {
            let res = self.log_abs_theta(rho) - log_theta;
            let e = (2.0 * rho).exp();
            let slope = self.m as f64 + self.gaps.iter().map(|&g| e / (e + g)).sum::<f64>();
            let step = res / slope;
            rho -= step;
            if step.abs() <= 2.0 * f64::EPSILON * rho.abs().max(1.0) {
                break;
            }
        }
        rho
    }

    /// The box edge `G(+inf)` (the table plus the far tail).
    fn upper(&self) -> f64 {
        self.cum[self.cum.len() - 1] + self.tail[self.tail.len() - 1]
    }

    /// `rho` at which the tail of `G` beyond it is `gap > 0`: the point at distance `gap`
    /// from the box edge, found without forming `edge - gap`.
    fn rho_near_edge(&self, gap: f64) -> f64 {
        let end = self.tail[self.tail.len() - 1];
        if gap <= end {
            return self.far.v_at(gap).unwrap_or_else(|| self.far.v_min()).ln();
        }
        if gap >= self.tail[0] {
            // Left of r0: not near the edge.
            return self.g_inv(self.upper() - gap);
        }
        // tail decreases: tail[j + 1] <= gap < tail[j], node k0 + j.
        let j = self.tail.partition_point(|&t| t > gap) - 1;
        let k = self.k0 + j;
        let rule = GaussLegendre::get();
        let f = |x: f64| self.h(x);
        let residual =
            |rho: f64| gap - (self.tail[j + 1] + rule.integrate(rho, self.node(k + 1), f));
        let frac = (self.tail[j] - gap) / (self.tail[j] - self.tail[j + 1]);
        bracketed_newton((self.node(k), self.node(k + 1)), frac, residual, f, 1.0)
    }

    fn psi(&self, xi: f64) -> (f64, f64) {
        let target = self.s * xi;
        if target.is_nan() || target >= self.upper() {
            return (f64::NAN, f64::NAN);
        }
        self.psi_at(self.g_inv(target))
    }

    /// `(Psi, Psi')` at `rho = ln w`.
    fn psi_at(&self, rho: f64) -> (f64, f64) {
        let log_theta = self.log_abs_theta(rho);
        let e = (2.0 * rho).exp();
        let factor = self.m as f64 + self.gaps.iter().map(|&g| e / (e + g)).sum::<f64>();
        (
            self.s * log_theta.exp(),
            (2.0 * log_theta - 2.0 * rho).exp() * factor,
        )
    }

    fn conjugate(&self, rho: f64) -> f64 {
        // (w^2 - w0^2) / 2 with w - w0 = w0 expm1(rho - r0).
        let w = rho.exp();
        0.5 * self.w0 * (rho - self.r0).exp_m1() * (w + self.w0)
    }
}

/// The tied coordinates of a deep init: one [`TiedCoordinate`] each.
#[derive(Debug, Clone)]
pub struct TiedMap {
    coords: Vec<TiedCoordinate>,
}

impl TiedMap {
    /// The map at coordinates whose layers (`depth` magnitudes and signs in `layers[i]`)
    /// have `1 < m < depth` tied minimal magnitudes. Fails where the tie is at 0 (theta
    /// stays 0) or the table overflows f64 (an init far below f64's range).
    pub fn new(coordinates: &[usize], layers: &[Vec<f64>]) -> Result<Self> {
        let mut coords = Vec::with_capacity(layers.len());
        for (&i, values) in coordinates.iter().zip(layers) {
            let w0 = values.iter().map(|u| u.abs()).fold(f64::INFINITY, f64::min);
            if !(w0 > 0.0 && w0.is_finite()) {
                return Err(DdlnError::invalid(
                    "init",
                    format!("coordinate {i} has several layers tied at |u| = {w0}: theta stays 0 there and has no mirror map; perturb the init"),
                ));
            }
            let m = values.iter().filter(|u| u.abs() == w0).count();
            let gaps: Vec<f64> = values
                .iter()
                .map(|u| u.abs())
                .filter(|&a| a != w0)
                .map(|a| (a - w0) * (a + w0))
                .collect();
            let s = values.iter().map(|u| u.signum()).product();
            let c = TiedCoordinate::new(s, m, w0, gaps);
            if !c.cum.iter().all(|g| g.is_finite()) {
                return Err(DdlnError::invalid(
                    "init",
                    format!("coordinate {i}: the tied layers' mirror map overflows f64 (|u| = {w0:e}); use a larger init"),
                ));
            }
            coords.push(c);
        }
        Ok(TiedMap { coords })
    }

    /// Largest estimated relative error of the quadrature tables.
    pub fn quadrature_error_estimate(&self) -> f64 {
        self.coords
            .iter()
            .map(|c| c.error_estimate)
            .fold(0.0, f64::max)
    }
}

impl MirrorMap for TiedMap {
    fn dim(&self) -> usize {
        self.coords.len()
    }
    fn psi_i(&self, i: usize, xi: f64) -> (f64, f64) {
        self.coords[i].psi(xi)
    }
    fn box_i(&self, i: usize) -> (f64, f64) {
        let c = &self.coords[i];
        if c.s > 0.0 {
            (f64::NEG_INFINITY, c.upper())
        } else {
            (-c.upper(), f64::INFINITY)
        }
    }
    fn value_i(&self, i: usize, theta: f64) -> f64 {
        let c = &self.coords[i];
        if c.s * theta < 0.0 {
            return f64::INFINITY;
        }
        if theta == 0.0 {
            // w -> 0: xi theta -> 0 and Q^* -> -w0^2 / 2.
            return 0.5 * c.w0 * c.w0;
        }
        let rho = c.rho_of_log_theta(theta.abs().ln());
        self.gradient_i(i, theta) * theta - c.conjugate(rho)
    }
    fn conjugate_i(&self, i: usize, xi: f64, _theta: f64) -> f64 {
        let c = &self.coords[i];
        c.conjugate(c.g_inv(c.s * xi))
    }
    fn psi_edge_i(&self, i: usize, upper: bool, gap: f64) -> (f64, f64) {
        let c = &self.coords[i];
        // The finite end of the box: upper for s > 0, lower for s < 0.
        if upper != (c.s > 0.0) || gap.is_nan() || gap <= 0.0 {
            return (f64::NAN, f64::NAN);
        }
        c.psi_at(c.rho_near_edge(gap))
    }
    fn resolves_edges(&self) -> bool {
        true
    }
    fn gradient_i(&self, i: usize, theta: f64) -> f64 {
        let c = &self.coords[i];
        if c.s * theta <= 0.0 {
            // theta = 0 is reached only as xi -> -s inf; the other sign never.
            return if theta == 0.0 {
                -c.s * f64::INFINITY
            } else {
                f64::NAN
            };
        }
        c.s * c.g(c.rho_of_log_theta(theta.abs().ln()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maps() -> Vec<TiedMap> {
        // (layers of one coordinate): ties of 2 of 3, 2 of 4, 3 of 4, 3 of 5, mixed signs.
        let cases: Vec<Vec<f64>> = vec![
            vec![0.3, -0.3, 0.8],
            vec![0.2, 0.2, 0.5, -1.1],
            vec![-0.4, 0.4, 0.4, 0.9],
            vec![0.25, 0.25, -0.25, 0.6, 0.7],
            vec![1e-3, 1e-3, 0.5],
        ];
        cases
            .into_iter()
            .map(|c| TiedMap::new(&[0], &[c]).unwrap())
            .collect()
    }

    /// `G` against a direct ODE-free second formula: `Psi(xi)` solves
    /// `dw/dxi = s w^{m-1} P(w)`, checked by central differences of `w^2/2 = Q^* + w0^2/2`
    /// (its derivative must be `theta`), `Psi'` by central differences of `Psi`, and
    /// `value_i` inverting `Psi` (`Q(Psi(xi)) + Q^*(xi) = xi Psi(xi)`, `Q(theta0) = 0`).
    #[test]
    fn psi_conjugate_and_value_are_consistent() {
        for map in maps() {
            let c = &map.coords[0];
            let (lo, hi) = map.box_i(0);
            for &xi in &[-3.0f64, -0.7, -1e-6, 0.0, 1e-6, 0.3, 0.9] {
                let xi = xi * if c.s > 0.0 { 1.0 } else { -1.0 };
                let xi = xi.clamp(lo.max(-50.0) * 0.9, hi.min(50.0) * 0.9);
                let (t, slope) = map.psi_i(0, xi);
                assert!(t * c.s > 0.0, "theta keeps the sign of the product");
                let h = 1e-5;
                let fd = (map.psi_i(0, xi + h).0 - map.psi_i(0, xi - h).0) / (2.0 * h);
                assert!(
                    (fd - slope).abs() <= 1e-7 * slope.abs(),
                    "Psi' {fd} vs {slope}"
                );
                let dc =
                    (map.conjugate_i(0, xi + h, 0.0) - map.conjugate_i(0, xi - h, 0.0)) / (2.0 * h);
                assert!((dc - t).abs() <= 1e-7 * t.abs(), "Q*' {dc} vs {t}");
                let back = map.gradient_i(0, t);
                assert!(
                    (back - xi).abs() <= 1e-12 * (1.0 + xi.abs()),
                    "grad Q(Psi(xi)) = {back} vs {xi}"
                );
                let q = map.value_i(0, t);
                let conj = map.conjugate_i(0, xi, t);
                assert!((q + conj - xi * t).abs() <= 1e-11 * (1.0 + (xi * t).abs()));
            }
            let theta0 = map.psi_i(0, 0.0).0;
            let expected = c.s
                * c.w0.powi(c.m as i32)
                * c.gaps
                    .iter()
                    .map(|g| (c.w0 * c.w0 + g).sqrt())
                    .product::<f64>();
            assert!((theta0 - expected).abs() <= 1e-15 * expected.abs());
            assert!(map.value_i(0, theta0).abs() <= 1e-15);
        }
    }

    /// `Psi` from the distance `g` to the box edge, two of three layers tied: the tail is
    /// `asinh(sqrt(D) / w) / sqrt(D)` (closed form), so `w = sqrt(D) / sinh(g sqrt(D))` and
    /// `theta = w^2 sqrt(w^2 + D)`; for gaps down to 1e-30 (theta ~ 1e90), both signs.
    #[test]
    fn psi_from_the_edge_matches_the_closed_form() {
        for (w0, gap, sign) in [(0.3f64, 0.55f64, 1.0f64), (1e-3, 0.25, -1.0)] {
            let u = (w0 * w0 + gap).sqrt();
            let map = TiedMap::new(&[0], &[vec![sign * w0, w0, u]]).unwrap();
            for g in [0.5, 1e-3, 1e-12, 1e-30] {
                let w = gap.sqrt() / (g * gap.sqrt()).sinh();
                let theta = sign * w * w * (w * w + gap).sqrt();
                let (t, _) = map.psi_edge_i(0, sign > 0.0, g);
                assert!(
                    (t - theta).abs() <= 1e-12 * theta.abs(),
                    "g {g}: {t} vs {theta}"
                );
            }
        }
    }

    /// `G(+inf)` against the closed form of `int_0^inf dw / (w^{m-1} sqrt(w^2 + D))`
    /// for `m = 2`, one other layer: `asinh(sqrt(D) / w0) / sqrt(D)` (substitute `w = sqrt(D) / sinh t`).
    #[test]
    fn upper_limit_matches_closed_form() {
        for (w0, gap) in [(0.3f64, 0.55f64), (1e-3, 0.25), (2.0, 1e-4)] {
            let u = (w0 * w0 + gap).sqrt();
            let map = TiedMap::new(&[0], &[vec![w0, w0, u]]).unwrap();
            let exact = (gap.sqrt() / w0).asinh() / gap.sqrt();
            let got = map.box_i(0).1;
            assert!((got - exact).abs() <= 1e-14 * exact, "{got} vs {exact}");
        }
    }
}
