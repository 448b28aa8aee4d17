//! The signed power model `theta = u^L - v^L` (`L >= 3`) from any positive init at any
//! scale, in one variable `z` per coordinate (docs/math.md section 12, "The signed
//! power model at any scale").
//!
//! Gradient flow on `(u, v)` moves `u^-(L-2)` and `v^-(L-2)` by opposite, equal amounts
//! (`d u^-(L-2)/dt = L (L-2) g = -d v^-(L-2)/dt`), so their mean `h` is conserved and
//!
//! ```text
//! u^-(L-2) = h (1 - tanh z),   v^-(L-2) = h (1 + tanh z),   beta = h^(-1/(L-2)),
//! theta    = 2 beta^L cosh^p z sinh(p z),                    p = L / (L-2),
//! dz/dt    = -g R(z),   R(z) = L (L-2) beta^(L-2) cosh^2 z,
//! ```
//!
//! with `tanh z` the dual line: `d tanh z / dt = -L (L-2) beta^(L-2) g`, inside the
//! box `(-1, 1)` whose edges are where `u` or `v` blows up. Everything is evaluated from
//! `ln beta` and logarithms, so the init may be far below f64.

use super::small_init_map::{box_of_ln_box, SmallInitMap};
use super::zero_first_flow::{ln_cosh, ln_sinh_abs};
use crate::error::{DdlnError, Result};
use crate::mirror::quadrature::bracketed_newton;

/// The fast paths evaluate `cosh z`, `cosh^p z` and `sinh(p z)` directly for
/// `(p + 1) |z|` up to this (no overflow; the products stay below 1e200).
const DIRECT_Z: f64 = 300.0;

/// The per-coordinate maps of the signed power model from a positive init.
#[derive(Debug, Clone)]
pub struct SignedPowerFlow {
    power: usize,
    /// `ln beta_i`, `beta_i = h_i^(-1/(L-2))` (`beta = alpha` from `u = v = alpha`).
    ln_beta: Vec<f64>,
    /// `(beta_i^L, beta_i^(L-2))` where both are normal floats, else `None` (the
    /// logarithmic paths then).
    powers: Vec<Option<(f64, f64)>>,
    /// `p` when it is an integer (`L = 3, 4`): `cosh^p` by multiplication.
    integer_p: Option<i32>,
    /// `max_i ln beta_i`: the fastest coordinate sets the unit of `tau`.
    ln_beta_ref: f64,
    /// The init's `z`: `(L-2)/2 ln(u_i / v_i)`.
    z0: Vec<f64>,
}

impl SignedPowerFlow {
    /// The maps of `init` (`2 x d`, rows `u` then `v`) at power `power >= 3`; every entry
    /// must be positive and finite (the flow keeps `u, v > 0`).
    pub fn new(init: &[f64], power: usize, d: usize) -> Result<Self> {
        if power < 3 {
            return Err(DdlnError::invalid(
                "power",
                format!("the small-init maps of u^L - v^L need L >= 3, got L = {power}; for L = 2 use the `dual` dynamics"),
            ));
        }
        if init.len() != 2 * d {
            return Err(DdlnError::shape(
                "init",
                format!("2 x d = 2 x {d} entries (rows u, v)"),
                format!("{} entries", init.len()),
            ));
        }
        if let Some(k) = init.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
            let (row, i) = (if k < d { "u" } else { "v" }, k % d);
            return Err(DdlnError::invalid(
                "init",
                format!(
                    "the small-init dynamics of u^L - v^L need positive finite u(0) and v(0); {row}[{i}] = {:e}; use `layers` for inits with zero or negative entries",
                    init[k]
                ),
            ));
        }
        let n = (power - 2) as f64;
        let (mut ln_beta, mut z0) = (Vec::with_capacity(d), Vec::with_capacity(d));
        for i in 0..d {
            // ln u^-(L-2) and ln v^-(L-2); ln h is their log-mean-exp.
            let (a, b) = (-n * init[i].ln(), -n * init[d + i].ln());
            let top = a.max(b);
            let ln_h = top + (0.5 * ((a - top).exp() + (b - top).exp())).ln();
            ln_beta.push(-ln_h / n);
            z0.push(0.5 * (b - a));
        }
        let ln_beta_ref = ln_beta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let powers = ln_beta
            .iter()
            .map(|&b| {
                let (bl, bn) = ((power as f64 * b).exp(), (n * b).exp());
                (bl.is_normal() && bn.is_normal()).then_some((bl, bn))
            })
            .collect();
        let integer_p = power
            .is_multiple_of(power - 2)
            .then_some((power / (power - 2)) as i32);
        Ok(SignedPowerFlow {
            power,
            ln_beta,
            powers,
            integer_p,
            ln_beta_ref,
            z0,
        })
    }

    /// `(beta^L, beta^(L-2), cosh z, cosh^p z, sinh(p z))` where they are floats and
    /// nothing overflows (`None` elsewhere): the fast paths, one `cosh` and one `sinh`.
    #[inline]
    fn direct(&self, i: usize, z: f64) -> Option<(f64, f64, f64, f64, f64)> {
        let (bl, bn) = self.powers[i]?;
        let p = self.p();
        if (p + 1.0) * z.abs() > DIRECT_Z {
            return None;
        }
        let c = z.cosh();
        let cp = match self.integer_p {
            Some(k) => c.powi(k),
            None => c.powf(p),
        };
        Some((bl, bn, c, cp, (p * z).sinh()))
    }

    /// `L - 2`.
    fn n(&self) -> f64 {
        (self.power - 2) as f64
    }

    /// `p = L / (L - 2)`.
    fn p(&self) -> f64 {
        self.power as f64 / self.n()
    }

    /// `ln beta_i`.
    pub fn ln_beta(&self, i: usize) -> f64 {
        self.ln_beta[i]
    }

    /// `ln |theta_i(z)|` (`-inf` at 0), finite where `theta_i` itself underflows.
    #[inline]
    pub fn ln_theta_abs(&self, i: usize, z: f64) -> f64 {
        let p = self.p();
        self.power as f64 * self.ln_beta[i]
            + p * ln_cosh(z)
            + std::f64::consts::LN_2
            + ln_sinh_abs(p * z)
    }

    /// The box of `xi_i` (flow units, 0 at the init): `(-v0^-(L-2), u0^-(L-2)) / (L (L-2))`,
    /// the values at which `v` or `u` blows up.
    pub fn dual_box(&self) -> Vec<(f64, f64)> {
        box_of_ln_box(self.ln_dual_box())
    }

    /// `(ln(-lo_i), ln hi_i)` of [`Self::dual_box`], finite at any scale.
    pub fn ln_dual_box(&self) -> Vec<(f64, f64)> {
        let ln_scale = (self.power as f64 * self.n()).ln();
        (0..self.z0.len())
            .map(|i| {
                let ln_h = -self.n() * self.ln_beta[i] - ln_scale;
                let (lower, upper) = self.edge_distances(i, self.z0[i]);
                (ln_h + lower.ln(), ln_h + upper.ln())
            })
            .collect()
    }

    /// `ln beta_ref = max_i ln beta_i`: the init's scale (`alpha` from `u = v = alpha`).
    pub fn ln_scale(&self) -> f64 {
        self.ln_beta_ref
    }
}

impl SmallInitMap for SignedPowerFlow {
    fn depth(&self) -> usize {
        self.power
    }

    fn rows(&self) -> usize {
        2
    }

    fn log_gain(&self) -> f64 {
        2.0 * self.p()
    }

    fn ln_tau_rate(&self) -> f64 {
        (self.power as f64 * self.n()).ln() + self.n() * self.ln_beta_ref
    }

    fn start(&self, i: usize) -> f64 {
        self.z0[i]
    }

    #[inline]
    fn theta(&self, i: usize, z: f64) -> f64 {
        if z == 0.0 {
            return 0.0;
        }
        if let Some((bl, _, _, cp, sp)) = self.direct(i, z) {
            return 2.0 * bl * cp * sp;
        }
        z.signum() * self.ln_theta_abs(i, z).exp()
    }

    #[inline]
    fn theta_and_rate(&self, i: usize, z: f64) -> (f64, f64) {
        match self.direct(i, z) {
            Some((bl, bn, c, cp, sp)) => (
                2.0 * bl * cp * sp,
                self.power as f64 * self.n() * bn * c * c,
            ),
            None => (self.theta(i, z), self.rate(i, z)),
        }
    }

    /// `2 p beta^L cosh^(p-1) z cosh((p+1) z)`.
    #[inline]
    fn slope(&self, i: usize, z: f64) -> f64 {
        let p = self.p();
        (self.power as f64 * self.ln_beta[i]
            + (p - 1.0) * ln_cosh(z)
            + ln_cosh((p + 1.0) * z)
            + (2.0 * p).ln())
        .exp()
    }

    #[inline]
    fn rate(&self, i: usize, z: f64) -> f64 {
        self.power as f64 * self.n() * (self.n() * self.ln_beta[i] + 2.0 * ln_cosh(z)).exp()
    }

    /// `2 tanh z R(z)`.
    #[inline]
    fn rate_slope(&self, i: usize, z: f64) -> f64 {
        2.0 * z.tanh() * self.rate(i, z)
    }

    fn speed(&self, i: usize) -> f64 {
        (self.n() * (self.ln_beta[i] - self.ln_beta_ref)).exp()
    }

    /// `(1 + tanh z, 1 - tanh z)`, the smaller one as `2 e^-2|z| / (1 + e^-2|z|)`.
    fn edge_distances(&self, _i: usize, z: f64) -> (f64, f64) {
        let q = (-2.0 * z.abs()).exp();
        let (near, far) = (2.0 * q / (1.0 + q), 2.0 / (1.0 + q));
        if z >= 0.0 {
            (far, near)
        } else {
            (near, far)
        }
    }

    /// `tanh z = 1 - dist` (upper) or `-1 + dist` (lower): `z = ±(ln(2 - dist) - ln dist) / 2`.
    fn z_at_edge_distance(&self, _i: usize, dist: f64, upper: bool) -> f64 {
        let dist = dist.clamp(f64::MIN_POSITIVE, 2.0 - f64::EPSILON);
        let z = 0.5 * ((2.0 - dist).ln() - dist.ln());
        if upper {
            z
        } else {
            -z
        }
    }

    fn z_of_theta(&self, i: usize, theta_abs: f64) -> f64 {
        let target = theta_abs.ln();
        let (l, p) = (self.power as f64, self.p());
        // ln theta ~ L ln beta + 2 p z - p ln 2 for large z: the bracket's start.
        let guess =
            ((target - l * self.ln_beta[i] + p * std::f64::consts::LN_2) / (2.0 * p)).max(1e-3);
        let hi = guess.max(1.0) + 40.0;
        bracketed_newton(
            (0.0, hi),
            guess / hi,
            |z| self.ln_theta_abs(i, z) - target,
            |z| p * (z.tanh() + 1.0 / (p * z).tanh()),
            f64::MIN_POSITIVE,
        )
    }

    /// `h (tanh z - tanh z0) / (L (L-2))`, the difference as
    /// `sinh(z - z0) / (cosh z cosh z0)`.
    fn xi(&self, i: usize, z: f64) -> f64 {
        let moved = z - self.z0[i];
        if moved == 0.0 {
            return 0.0;
        }
        let ln = ln_sinh_abs(moved)
            - ln_cosh(z)
            - ln_cosh(self.z0[i])
            - self.n() * self.ln_beta[i]
            - (self.power as f64 * self.n()).ln();
        moved.signum() * ln.exp()
    }

    /// `u = beta (cosh z e^z)^(1/(L-2))`, `v = beta (cosh z e^-z)^(1/(L-2))`.
    fn all_layers(&self, z: &[f64], out: &mut [f64]) {
        let d = z.len();
        let n = self.n();
        for (i, &zi) in z.iter().enumerate() {
            let c = ln_cosh(zi);
            out[i] = (self.ln_beta[i] + (c + zi) / n).exp();
            out[d + i] = (self.ln_beta[i] + (c - zi) / n).exp();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A positive `2 x d` init of scale `scale` with distinct `u_i`, `v_i`.
    fn init(d: usize, scale: f64) -> Vec<f64> {
        (0..2 * d)
            .map(|k| scale * (0.5 + 0.37 * ((k * 7 + 3) % 11) as f64 / 11.0))
            .collect()
    }

    fn power_theta(power: usize, u: f64, v: f64) -> f64 {
        u.powi(power as i32) - v.powi(power as i32)
    }

    /// The maps rebuild the init at `z0`, keep `u^-(L-2) + v^-(L-2)` (the conservation
    /// law) along `z`, and give `theta = u^L - v^L` computed from the layers directly.
    #[test]
    fn layers_rebuild_the_init_and_keep_the_conservation_law() {
        let d = 6;
        for power in [3usize, 4, 5] {
            let u0 = init(d, 0.3);
            let flow = SignedPowerFlow::new(&u0, power, d).unwrap();
            let z0: Vec<f64> = (0..d).map(|i| flow.start(i)).collect();
            let mut layers = vec![0.0; 2 * d];
            flow.all_layers(&z0, &mut layers);
            for (a, b) in layers.iter().zip(&u0) {
                assert!((a - b).abs() <= 1e-14 * b, "{a} vs {b}");
            }
            let n = (power - 2) as i32;
            for i in 0..d {
                let held = u0[i].powi(-n) + u0[d + i].powi(-n);
                for z in [-3.0, -0.4, 0.0, 0.7, 2.5] {
                    let mut zs = z0.clone();
                    zs[i] = z;
                    flow.all_layers(&zs, &mut layers);
                    let (u, v) = (layers[i], layers[d + i]);
                    let sum = u.powi(-n) + v.powi(-n);
                    assert!((sum - held).abs() <= 1e-13 * held, "{sum} vs {held}");
                    let direct = power_theta(power, u, v);
                    let mapped = flow.theta(i, z);
                    assert!(
                        (mapped - direct).abs() <= 1e-13 * u.max(v).powi(power as i32),
                        "L={power} z={z}: {mapped} vs {direct}"
                    );
                }
            }
        }
    }

    /// `dz/dt = -g R(z)` is gradient flow on `(u, v)`: `du/dz R = L u^(L-1)` and
    /// `dv/dz R = -L v^(L-1)` (derivatives by central differences of the layer map);
    /// `slope` and `rate_slope` are the central differences of `theta` and `R`.
    #[test]
    fn the_z_flow_is_the_layer_flow_and_its_derivatives_are_the_differences() {
        let d = 4;
        for power in [3usize, 4, 6] {
            let u0 = init(d, 0.5);
            let flow = SignedPowerFlow::new(&u0, power, d).unwrap();
            let l = power as f64;
            for i in 0..d {
                for z in [-1.5, -0.2, 0.3, 1.1, 2.0] {
                    let h = 1e-6;
                    let layers_at = |z: f64| {
                        let mut zs = vec![0.0; d];
                        zs[i] = z;
                        let mut out = vec![0.0; 2 * d];
                        flow.all_layers(&zs, &mut out);
                        (out[i], out[d + i])
                    };
                    let ((up, vp), (um, vm), (u, v)) =
                        (layers_at(z + h), layers_at(z - h), layers_at(z));
                    let r = flow.rate(i, z);
                    let du = (up - um) / (2.0 * h) * r;
                    let dv = (vp - vm) / (2.0 * h) * r;
                    assert!((du - l * u.powf(l - 1.0)).abs() <= 1e-7 * du.abs(), "{du}");
                    assert!((dv + l * v.powf(l - 1.0)).abs() <= 1e-7 * dv.abs(), "{dv}");
                    let slope = (flow.theta(i, z + h) - flow.theta(i, z - h)) / (2.0 * h);
                    assert!((slope - flow.slope(i, z)).abs() <= 1e-7 * slope.abs());
                    let rs = (flow.rate(i, z + h) - flow.rate(i, z - h)) / (2.0 * h);
                    assert!((rs - flow.rate_slope(i, z)).abs() <= 1e-7 * r);
                    // xi moves tanh z by L (L-2) beta^(L-2) per unit (its definition).
                    let dxi = (flow.xi(i, z + h) - flow.xi(i, z - h)) / (2.0 * h);
                    let want = (-((power - 2) as f64) * flow.ln_beta(i)).exp()
                        / (l * (l - 2.0) * z.cosh().powi(2));
                    assert!((dxi - want).abs() <= 1e-7 * want, "{dxi} vs {want}");
                }
            }
        }
    }

    /// The fast paths (`cosh`, `sinh` and powers of `beta`) are the logarithmic formulas,
    /// and hand over to them where `beta^L` is not a float or `z` is large.
    #[test]
    fn direct_paths_are_the_logarithmic_formulas() {
        let d = 4;
        for power in [3usize, 4, 5] {
            for scale in [0.3, 1e-20, 1e-150] {
                let flow = SignedPowerFlow::new(&init(d, scale), power, d).unwrap();
                for i in 0..d {
                    for z in [-80.0f64, -3.0, -1e-3, 0.0, 2e-9, 0.6, 4.0, 95.0, 200.0] {
                        let slow = if z == 0.0 {
                            0.0
                        } else {
                            z.signum() * flow.ln_theta_abs(i, z).exp()
                        };
                        let (theta, rate) = flow.theta_and_rate(i, z);
                        if slow.is_infinite() {
                            assert_eq!(theta, slow);
                            continue;
                        }
                        assert!(
                            (theta - slow).abs() <= 1e-13 * slow.abs(),
                            "{theta} vs {slow}"
                        );
                        assert_eq!(theta, flow.theta(i, z));
                        let r = flow.rate(i, z);
                        assert!((rate - r).abs() <= 1e-13 * r, "{rate} vs {r}");
                    }
                }
            }
        }
    }

    /// The inverses: `z_of_theta` and `z_at_edge_distance` undo `theta` and the edge
    /// distances, also at scales and distances far below f64's range.
    #[test]
    fn inverses_hold_at_any_scale() {
        let d = 3;
        for power in [3usize, 4] {
            for scale in [1.0, 1e-100, 1e-300] {
                let flow = SignedPowerFlow::new(&init(d, scale), power, d).unwrap();
                for i in 0..d {
                    for target in [1e-12, 2e-12, 1.0, 37.0] {
                        let z = flow.z_of_theta(i, target);
                        let back = flow.ln_theta_abs(i, z);
                        assert!((back - target.ln()).abs() <= 1e-13 * (1.0 + z), "{back}");
                    }
                    for dist in [1e-300, 1e-20, 0.3, 1.0, 1.7] {
                        for upper in [true, false] {
                            let z = flow.z_at_edge_distance(i, dist, upper);
                            let (lo, hi) = flow.edge_distances(i, z);
                            let got = if upper { hi } else { lo };
                            // z is a float: 2 |z| eps is the conditioning of e^-2z.
                            let tol = 4.0 * f64::EPSILON * (1.0 + 2.0 * z.abs());
                            assert!((got - dist).abs() <= tol * dist, "{got} vs {dist}");
                            assert!((lo + hi - 2.0).abs() <= 1e-15);
                        }
                    }
                }
            }
        }
    }

    /// The dual box from `u = v = alpha` is `(-1, 1) alpha^-(L-2) / (L (L-2))`, and the
    /// time unit of `tau` is its half-width.
    #[test]
    fn dual_box_of_the_standard_init() {
        let d = 3;
        let alpha = 1e-3;
        let flow = SignedPowerFlow::new(&vec![alpha; 2 * d], 4, d).unwrap();
        let edge = alpha.powi(-2) / 8.0;
        for (lo, hi) in flow.dual_box() {
            assert!((hi - edge).abs() <= 1e-13 * edge && (lo + edge).abs() <= 1e-13 * edge);
        }
        assert!((flow.tau_rate() * edge - 1.0).abs() <= 1e-13);
        assert_eq!(flow.start(0), 0.0);
    }

    #[test]
    fn bad_inits_are_errors() {
        let d = 2;
        assert!(SignedPowerFlow::new(&init(d, 1.0), 2, d).is_err());
        assert!(SignedPowerFlow::new(&init(d, 1.0)[..3], 3, d).is_err());
        let mut zero = init(d, 1.0);
        zero[3] = 0.0;
        let e = SignedPowerFlow::new(&zero, 3, d).unwrap_err().to_string();
        assert!(e.contains("v[1]"), "{e}");
        zero[3] = f64::NAN;
        assert!(SignedPowerFlow::new(&zero, 3, d).is_err());
    }
}
