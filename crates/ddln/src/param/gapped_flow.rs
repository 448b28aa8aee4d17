//! The deep model `L >= 3` from any init satisfying assumption (A), at any init scale, in
//! one variable `z` per coordinate (docs/math.md section 12, any init under (A)).
//!
//! With `l` the minimal layer of coordinate `i`, `D_j = u^j(0)^2 - u^l(0)^2 > 0` its gaps,
//! `c^2 = min_j D_j` and `r_j = D_j / c^2 >= 1`, the conservation laws give
//!
//! ```text
//! u^l = c sinh z,   u^j = s_j c sqrt(sinh^2 z + r_j)   (j != l, one r_j = 1)
//! theta = s c^L sinh z prod_j sqrt(sinh^2 z + r_j),     s = prod_j s_j
//! dz/dt = -g R(z),  R = s c^(L-2) prod_j sqrt(sinh^2 z + r_j) / cosh z
//! sigma(z) = int_0^z f,  f = cosh z prod_j (sinh^2 z + r_j)^(-1/2),  d sigma/dt = -s c^(L-2) g
//! ```
//!
//! `f` is even, analytic in the strip `|Im z| < pi/2` and decays like `e^{-(L-2) z}`: the
//! box of `sigma` is `(-w, w)`, `w = int_0^inf f`. The distance to the upper edge
//! `T(z) = int_z^inf f` is a table of unit-strip Gauss-Legendre panels of width 1/2 summed
//! from the far end, and beyond `z_far` the closed tail in `s = e^{-z}`:
//!
//! ```text
//! T(z) = 2^(L-2) int_0^{e^-z} s^(L-3) G(s) ds,   G(s) = (1 + s^2) prod_j ((1 - s^2)^2 + 4 r_j s^2)^(-1/2)
//! ```
//!
//! whose poles sit at `|s| >= sqrt(r) - sqrt(r - 1)`; from `z_far = ln 2 + acosh(sqrt(r_max))`
//! on they are twice as far as the interval's end, and one 20-point rule is exact to
//! roundoff. Every scale enters through `ln c`, so nothing underflows before `theta` does.

use super::small_init_map::{box_of_ln_box, SmallInitMap};
use super::zero_first_flow::{ln_cosh, ln_sinh_abs};
use crate::error::{DdlnError, Result};
use crate::mirror::quadrature::{bracketed_newton, GaussLegendre};
use crate::theory::require_assumption_a;

/// Width of the table's panels in `z` (the poles of `f` are pi/2 off the real axis).
const PANEL: f64 = 0.5;
/// Above this `|z|`, `sinh^2 z` would overflow: the ratios are taken through logarithms.
const DIRECT_BELOW: f64 = 300.0;

/// `ln(sinh^2 z + r)` without overflow.
#[inline]
fn ln_sinh2_plus(z: f64, r: f64) -> f64 {
    if z.abs() < DIRECT_BELOW {
        let s = z.sinh();
        (s * s + r).ln()
    } else {
        let ls = ln_sinh_abs(z);
        2.0 * ls + (r * (-2.0 * ls).exp()).ln_1p()
    }
}

/// `sinh^2 z / (sinh^2 z + r)`.
#[inline]
fn sinh2_share(z: f64, r: f64) -> f64 {
    if z.abs() < DIRECT_BELOW {
        let s2 = z.sinh().powi(2);
        s2 / (s2 + r)
    } else {
        1.0 / (1.0 + r * (-2.0 * ln_sinh_abs(z)).exp())
    }
}

/// `cosh^2 z / (sinh^2 z + r)`.
#[inline]
fn cosh2_share(z: f64, r: f64) -> f64 {
    if z.abs() < DIRECT_BELOW {
        let s2 = z.sinh().powi(2);
        (1.0 + s2) / (s2 + r)
    } else {
        let e = (-2.0 * ln_sinh_abs(z)).exp();
        (1.0 + e) / (1.0 + r * e)
    }
}

/// `ln(u^2 - m^2)` as `ln(|u| - |m|) + ln(|u| + |m|)`: no product that could underflow.
#[inline]
fn ln_gap(u: f64, m: f64) -> f64 {
    (u.abs() - m.abs()).ln() + (u.abs() + m.abs()).ln()
}

/// `max_i ln c_i`, `c_i = sqrt(min_j D_ij)`, of an init under (A) with minimal layers
/// `minimal_layer` (`depth x d`, row-major): [`GappedFlow::ln_scale`] without building
/// the maps (`-inf` when a gap is not positive).
pub fn ln_gap_scale(init: &[f64], depth: usize, d: usize, minimal_layer: &[usize]) -> f64 {
    (0..d)
        .map(|i| {
            let m = init[minimal_layer[i] * d + i];
            (0..depth)
                .filter(|&j| j != minimal_layer[i])
                .map(|j| 0.5 * ln_gap(init[j * d + i], m))
                .fold(f64::INFINITY, f64::min)
        })
        .fold(f64::NEG_INFINITY, f64::max)
}

/// The per-coordinate maps of an init under (A) at depth `L >= 3`.
#[derive(Debug, Clone)]
pub struct GappedFlow {
    depth: usize,
    d: usize,
    /// `ln c_i`.
    ln_c: Vec<f64>,
    /// `max_i ln c_i`: `tau = e^{(L-2) ln_c_ref} t`.
    ln_c_ref: f64,
    /// `s_i`.
    sign: Vec<f64>,
    /// The minimal layer `l_i`.
    minimal_layer: Vec<usize>,
    /// `d x depth`: `sign(u_i^j(0))` (1 at the minimal layer).
    layer_sign: Vec<f64>,
    /// `d x depth`: `r_ij` (0 at the minimal layer).
    ratios: Vec<f64>,
    /// The init's `z_i`.
    z0: Vec<f64>,
    /// `T_i` at the nodes `k PANEL`, `k = 0..=K_i`; `tables[i][K_i]` is the far form's.
    tables: Vec<Vec<f64>>,
}

impl GappedFlow {
    /// The maps of `init` (`depth x d`, row-major, row = layer).
    ///
    /// Errors: `depth < 3`, shape, non-finite entries, assumption (A) failing (naming the
    /// coordinates), or a gap whose `|u^j| - |u^l|` is not a normal f64 (it cannot be
    /// resolved).
    pub fn new(init: &[f64], depth: usize, d: usize) -> Result<Self> {
        if depth < 3 {
            return Err(DdlnError::invalid(
                "depth",
                format!("the small-init dynamics need L >= 3, got {depth}"),
            ));
        }
        let report = require_assumption_a(init, depth, d)?;
        let mut flow = GappedFlow {
            depth,
            d,
            ln_c: vec![0.0; d],
            ln_c_ref: f64::NEG_INFINITY,
            sign: vec![1.0; d],
            minimal_layer: report.minimal_layer,
            layer_sign: vec![1.0; d * depth],
            ratios: vec![0.0; d * depth],
            z0: vec![0.0; d],
            tables: Vec::with_capacity(d),
        };
        let mut unresolved = Vec::new();
        let mut ln_gaps = vec![0.0; depth];
        for i in 0..d {
            let l = flow.minimal_layer[i];
            let m = init[l * d + i];
            let mut ln_min = f64::INFINITY;
            for j in (0..depth).filter(|&j| j != l) {
                let u = init[j * d + i];
                let diff = u.abs() - m.abs();
                if !diff.is_normal() {
                    unresolved.push(i);
                }
                ln_gaps[j] = ln_gap(u, m);
                ln_min = ln_min.min(ln_gaps[j]);
                if u < 0.0 {
                    flow.layer_sign[i * depth + j] = -1.0;
                    flow.sign[i] = -flow.sign[i];
                }
            }
            let ln_c = 0.5 * ln_min;
            flow.ln_c[i] = ln_c;
            flow.ln_c_ref = flow.ln_c_ref.max(ln_c);
            for j in (0..depth).filter(|&j| j != l) {
                let r = (ln_gaps[j] - ln_min).exp();
                if !r.is_finite() {
                    unresolved.push(i);
                }
                flow.ratios[i * depth + j] = r;
            }
            flow.z0[i] = if m == 0.0 {
                0.0
            } else {
                (m.signum() * (m.abs().ln() - ln_c).exp()).asinh()
            };
        }
        if !unresolved.is_empty() {
            unresolved.dedup();
            return Err(DdlnError::invalid(
                "init",
                format!(
                    "coordinates {unresolved:?}: a layer's |u^j| - min_k |u^k| is not a normal f64 (or the gaps' ratio overflows), so the gap cannot be resolved; scale the init up or separate the layers"
                ),
            ));
        }
        for i in 0..d {
            let table = flow.build_table(i);
            flow.tables.push(table);
        }
        Ok(flow)
    }

    /// `max_i ln c_i`, the log of the largest scale of a coordinate's gaps.
    pub fn ln_scale(&self) -> f64 {
        self.ln_c_ref
    }

    /// The `L - 1` ratios `r_ij` of coordinate `i` (layer order, the minimal layer left out).
    fn others(&self, i: usize) -> impl Iterator<Item = f64> + '_ {
        let l = self.minimal_layer[i];
        let row = &self.ratios[i * self.depth..(i + 1) * self.depth];
        row.iter()
            .enumerate()
            .filter(move |&(j, _)| j != l)
            .map(|(_, &r)| r)
    }

    /// `sum_j ln(sinh^2 z + r_ij)`.
    #[inline]
    fn ln_product(&self, i: usize, z: f64) -> f64 {
        self.others(i).map(|r| ln_sinh2_plus(z, r)).sum()
    }

    /// `ln f_i(z)`, the dual line's integrand.
    #[inline]
    fn ln_f(&self, i: usize, z: f64) -> f64 {
        ln_cosh(z) - 0.5 * self.ln_product(i, z)
    }

    /// `z_far` of coordinate `i`: from there on the far form holds.
    fn z_far(&self, i: usize) -> f64 {
        let r_max = self.others(i).fold(1.0, f64::max);
        std::f64::consts::LN_2 + r_max.sqrt().acosh()
    }

    /// `ln T_i(z)` in the far form (`z >= z_far`).
    fn ln_far_tail(&self, i: usize, z: f64) -> f64 {
        let n = (self.depth - 2) as f64;
        let s = (-z).exp();
        let p = (self.depth - 3) as i32;
        let integral = GaussLegendre::get().integrate(0.0, 1.0, |t| {
            let st = s * t;
            let q = st * st;
            let g: f64 = self
                .others(i)
                .map(|r| 1.0 / ((1.0 - q) * (1.0 - q) + 4.0 * r * q).sqrt())
                .product();
            t.powi(p) * (1.0 + q) * g
        });
        n * (std::f64::consts::LN_2 - z) + integral.ln()
    }

    fn build_table(&self, i: usize) -> Vec<f64> {
        let k_far = (self.z_far(i) / PANEL).ceil() as usize;
        let mut table = vec![0.0; k_far + 1];
        table[k_far] = self.ln_far_tail(i, k_far as f64 * PANEL).exp();
        let rule = GaussLegendre::get();
        for k in (0..k_far).rev() {
            let panel = rule.integrate_width(k as f64 * PANEL, PANEL, |z| self.ln_f(i, z).exp());
            table[k] = table[k + 1] + panel;
        }
        table
    }

    /// `T_i(z) = int_z^inf f_i` for `z >= 0`, to full relative accuracy.
    pub fn tail(&self, i: usize, z: f64) -> f64 {
        let table = &self.tables[i];
        let k_far = table.len() - 1;
        if z >= k_far as f64 * PANEL {
            return self.ln_far_tail(i, z).exp();
        }
        let k = ((z / PANEL).floor() as usize).min(k_far - 1);
        let end = (k + 1) as f64 * PANEL;
        table[k + 1] + GaussLegendre::get().integrate(z, end, |x| self.ln_f(i, x).exp())
    }

    /// `ln T_i(z)`, finite where `T_i` underflows.
    pub fn ln_tail(&self, i: usize, z: f64) -> f64 {
        if z >= (self.tables[i].len() - 1) as f64 * PANEL {
            self.ln_far_tail(i, z)
        } else {
            self.tail(i, z).ln()
        }
    }

    /// `w_i = T_i(0)`: the box of `sigma_i` is `(-w_i, w_i)`.
    pub fn edge(&self, i: usize) -> f64 {
        self.tables[i][0]
    }

    /// The open interval of `xi_i` values (flow units, 0 at the init), ordered, per
    /// coordinate: the mirror map's dual box (infinite where `c_i^-(L-2)` overflows).
    pub fn dual_box(&self) -> Vec<(f64, f64)> {
        box_of_ln_box(self.ln_dual_box())
    }

    /// `(ln(-lo_i), ln hi_i)` of [`Self::dual_box`], finite at any scale.
    pub fn ln_dual_box(&self) -> Vec<(f64, f64)> {
        let n = (self.depth - 2) as f64;
        (0..self.d)
            .map(|i| {
                let ln_k = -n * self.ln_c[i];
                let (lower, upper) = self.edge_distances(i, self.z0[i]);
                let (lower, upper) = (ln_k + lower.ln(), ln_k + upper.ln());
                if self.sign[i] > 0.0 {
                    (lower, upper)
                } else {
                    (upper, lower)
                }
            })
            .collect()
    }

    /// `(sinh z, sinh^2 z, prod_j (sinh^2 z + r_ij))` where no product overflows
    /// (`|z| < 340 / L`), for the fast paths: one `sinh` for every factor.
    #[inline]
    fn local(&self, i: usize, z: f64) -> Option<(f64, f64, f64)> {
        if z.abs() * self.depth as f64 >= 340.0 {
            return None;
        }
        let s = z.sinh();
        let s2 = s * s;
        Some((s, s2, self.others(i).map(|r| s2 + r).product()))
    }

    /// `ln |theta_i(z)|`.
    pub fn ln_theta_abs(&self, i: usize, z: f64) -> f64 {
        self.depth as f64 * self.ln_c[i] + ln_sinh_abs(z) + 0.5 * self.ln_product(i, z)
    }

    /// The `z >= 0` with `ln T_i(z) = ln_dist`.
    fn z_of_ln_tail(&self, i: usize, ln_dist: f64) -> f64 {
        let n = (self.depth - 2) as f64;
        // T <= 2^n e^{-nz} / n (G <= 1): the root lies below this.
        let guess = ((n * std::f64::consts::LN_2 - n.ln() - ln_dist) / n).max(0.0);
        let hi = guess + 40.0 + self.z_far(i);
        bracketed_newton(
            (0.0, hi),
            guess / hi,
            |z| ln_dist - self.ln_tail(i, z),
            |z| (self.ln_f(i, z) - self.ln_tail(i, z)).exp(),
            1.0,
        )
    }

    /// `sigma_i(z) = int_0^z f_i`.
    fn sigma(&self, i: usize, z: f64) -> f64 {
        let (lower, upper) = self.edge_distances(i, z);
        if z >= 0.0 {
            self.edge(i) - upper
        } else {
            lower - self.edge(i)
        }
    }
}

impl SmallInitMap for GappedFlow {
    fn depth(&self) -> usize {
        self.depth
    }

    fn ln_tau_rate(&self) -> f64 {
        (self.depth - 2) as f64 * self.ln_c_ref
    }

    fn start(&self, i: usize) -> f64 {
        self.z0[i]
    }

    #[inline]
    fn theta(&self, i: usize, z: f64) -> f64 {
        if z == 0.0 {
            return 0.0;
        }
        self.sign[i] * z.signum() * self.ln_theta_abs(i, z).exp()
    }

    #[inline]
    fn slope(&self, i: usize, z: f64) -> f64 {
        let l = self.depth as f64;
        let shares: f64 = self.others(i).map(|r| sinh2_share(z, r)).sum();
        let ln = l * self.ln_c[i] + 0.5 * self.ln_product(i, z) + ln_cosh(z);
        self.sign[i] * ln.exp() * (1.0 + shares)
    }

    #[inline]
    fn rate(&self, i: usize, z: f64) -> f64 {
        let n = (self.depth - 2) as f64;
        let ln = n * self.ln_c[i] + 0.5 * self.ln_product(i, z) - ln_cosh(z);
        self.sign[i] * ln.exp()
    }

    #[inline]
    fn rate_slope(&self, i: usize, z: f64) -> f64 {
        let shares: f64 = self.others(i).map(|r| cosh2_share(z, r)).sum();
        self.rate(i, z) * z.tanh() * (shares - 1.0)
    }

    #[inline]
    fn theta_and_rate(&self, i: usize, z: f64) -> (f64, f64) {
        let Some((_, s2, p)) = self.local(i, z) else {
            return (self.theta(i, z), SmallInitMap::rate(self, i, z));
        };
        let (l, ln_c) = (self.depth as f64, self.ln_c[i]);
        // theta = s c^L sinh z sqrt(P), R = s c^(L-2) sqrt(P / (1 + sinh^2 z)).
        let theta = if z == 0.0 {
            0.0
        } else {
            self.sign[i] * z.signum() * (l * ln_c + 0.5 * (s2 * p).ln()).exp()
        };
        let rate = self.sign[i] * ((l - 2.0) * ln_c + 0.5 * (p / (1.0 + s2)).ln()).exp();
        (theta, rate)
    }

    #[inline]
    fn jacobian_entries(&self, i: usize, z: f64) -> (f64, f64, f64) {
        let Some((s, s2, p)) = self.local(i, z) else {
            return (
                self.slope(i, z),
                SmallInitMap::rate(self, i, z),
                SmallInitMap::rate_slope(self, i, z),
            );
        };
        let (l, ln_c) = (self.depth as f64, self.ln_c[i]);
        let (mut sinh_shares, mut cosh_shares) = (0.0, 0.0);
        for r in self.others(i) {
            sinh_shares += s2 / (s2 + r);
            cosh_shares += (1.0 + s2) / (s2 + r);
        }
        let c2 = 1.0 + s2;
        let slope = self.sign[i] * (l * ln_c + 0.5 * (p * c2).ln()).exp() * (1.0 + sinh_shares);
        let rate = self.sign[i] * ((l - 2.0) * ln_c + 0.5 * (p / c2).ln()).exp();
        let tanh = s / c2.sqrt();
        (slope, rate, rate * tanh * (cosh_shares - 1.0))
    }

    fn speed(&self, i: usize) -> f64 {
        self.sign[i] * ((self.depth - 2) as f64 * (self.ln_c[i] - self.ln_c_ref)).exp()
    }

    fn edge_distances(&self, i: usize, z: f64) -> (f64, f64) {
        let near = self.tail(i, z.abs());
        let far = 2.0 * self.edge(i) - near;
        if z >= 0.0 {
            (far, near)
        } else {
            (near, far)
        }
    }

    fn z_at_edge_distance(&self, i: usize, dist: f64, upper: bool) -> f64 {
        let w = self.edge(i);
        let z_of = |dist: f64| {
            if dist >= w {
                0.0
            } else {
                self.z_of_ln_tail(i, dist.ln())
            }
        };
        let z = if dist <= w {
            z_of(dist)
        } else {
            -z_of(2.0 * w - dist)
        };
        if upper {
            z
        } else {
            -z
        }
    }

    fn z_of_theta(&self, i: usize, theta_abs: f64) -> f64 {
        let target = theta_abs.ln();
        let l = self.depth as f64;
        let guess = ((target - l * self.ln_c[i]) / l + std::f64::consts::LN_2).max(1e-3);
        let hi = guess.max(1.0) + 40.0;
        bracketed_newton(
            (0.0, hi),
            guess / hi,
            |z| self.ln_theta_abs(i, z) - target,
            |z| (1.0 + self.others(i).map(|r| sinh2_share(z, r)).sum::<f64>()) / z.tanh(),
            f64::MIN_POSITIVE,
        )
    }

    fn xi(&self, i: usize, z: f64) -> f64 {
        let n = (self.depth - 2) as f64;
        let moved = self.sigma(i, z) - self.sigma(i, self.z0[i]);
        self.sign[i] * moved * (-n * self.ln_c[i]).exp()
    }

    fn all_layers(&self, z: &[f64], out: &mut [f64]) {
        let d = self.d;
        for (i, &zi) in z.iter().enumerate() {
            let ln_c = self.ln_c[i];
            let l = self.minimal_layer[i];
            for j in 0..self.depth {
                out[j * d + i] = if j == l {
                    if zi == 0.0 {
                        0.0
                    } else {
                        zi.signum() * (ln_c + ln_sinh_abs(zi)).exp()
                    }
                } else {
                    let r = self.ratios[i * self.depth + j];
                    self.layer_sign[i * self.depth + j] * (ln_c + 0.5 * ln_sinh2_plus(zi, r)).exp()
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::param::zero_first_flow::ZeroFirstFlow;

    /// A `depth x d` init with mixed signs, distinct magnitudes and a near tie between
    /// two layers (gap ratios up to ~1e4), times `scale`.
    fn shaped_init(depth: usize, scale: f64) -> (Vec<f64>, usize) {
        let rows: [&[f64]; 4] = [
            &[0.3, -1.2, 0.01, 0.9],
            &[-0.7, 0.4, 1.5, -0.91],
            &[1.1, -0.8, -0.6, 2.0],
            &[0.5, 0.45, 0.2, -1.3],
        ];
        let d = rows[0].len();
        let init = rows[..depth]
            .iter()
            .flat_map(|r| r.iter().map(|v| v * scale))
            .collect();
        (init, d)
    }

    /// `int_z^inf f` by the trapezoid rule on `[z, z + 40]` with the Euler-Maclaurin end
    /// correction, plus `2^n e^{-n b} / n` beyond (the integrand's leading term): a sum
    /// independent of the table and the far form.
    fn tail_by_trapezoid(flow: &GappedFlow, i: usize, z: f64) -> f64 {
        let n = (flow.depth - 2) as f64;
        let b = z + 40.0;
        let m = 400_000;
        let h = (b - z) / m as f64;
        let f = |x: f64| {
            x.cosh()
                / flow
                    .others(i)
                    .map(|r| (x.sinh().powi(2) + r).sqrt())
                    .product::<f64>()
        };
        let df = |x: f64| (f(x + 1e-5) - f(x - 1e-5)) / 2e-5;
        let mut s = 0.5 * (f(z) + f(b));
        for k in 1..m {
            s += f(z + k as f64 * h);
        }
        s * h - h * h / 12.0 * (df(b) - df(z)) + 2f64.powf(n) * (-n * b).exp() / n
    }

    #[test]
    fn equal_gaps_are_the_zero_first_map() {
        for depth in [3usize, 4, 5] {
            let alpha: f64 = 0.1;
            let d = 2;
            let mut init = vec![alpha; depth * d];
            init[..d].fill(0.0);
            let gapped = GappedFlow::new(&init, depth, d).unwrap();
            let zero_first = ZeroFirstFlow::new(depth, -alpha.ln());
            for &z in &[-3.0, -0.2, 0.0, 0.4, 2.5, 30.0] {
                let pairs = [
                    (gapped.theta(1, z), zero_first.theta(z)),
                    (gapped.slope(1, z), zero_first.slope(z)),
                    (SmallInitMap::rate(&gapped, 1, z), zero_first.rate(z)),
                    (
                        SmallInitMap::rate_slope(&gapped, 1, z),
                        zero_first.rate_slope(z),
                    ),
                ];
                for (a, b) in pairs {
                    assert!((a - b).abs() <= 1e-13 * b.abs(), "{depth} {z}: {a} vs {b}");
                }
                let (a, b) = (gapped.tail(1, z.abs()), zero_first.tail(z.abs()));
                assert!((a - b).abs() <= 1e-13 * b, "{depth} {z}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn tails_match_a_trapezoid_sum() {
        for depth in [3usize, 4] {
            let (init, d) = shaped_init(depth, 1.0);
            let flow = GappedFlow::new(&init, depth, d).unwrap();
            for i in 0..d {
                for &z in &[0.0, 0.3, 1.7, 4.0, 9.0] {
                    let got = flow.tail(i, z);
                    let reference = tail_by_trapezoid(&flow, i, z);
                    assert!(
                        (got - reference).abs() <= 1e-9 * reference,
                        "{depth} {i} {z}: {got} vs {reference}"
                    );
                }
            }
        }
    }

    #[test]
    fn layers_rebuild_the_init_and_obey_the_flow() {
        for depth in [3usize, 4] {
            let (init, d) = shaped_init(depth, 0.01);
            let flow = GappedFlow::new(&init, depth, d).unwrap();
            let z0: Vec<f64> = (0..d).map(|i| flow.start(i)).collect();
            let mut layers = vec![0.0; depth * d];
            flow.all_layers(&z0, &mut layers);
            for (a, b) in layers.iter().zip(&init) {
                assert!((a - b).abs() <= 1e-14 * b.abs(), "{a} vs {b}");
            }
            for i in 0..d {
                let product: f64 = (0..depth).map(|j| init[j * d + i]).product();
                let t = flow.theta(i, z0[i]);
                assert!((t - product).abs() <= 1e-14 * product.abs());
                // dz/dt = -g R and du^l/dt = -g prod_{j != l} u^j with u^l = c sinh z:
                // R c cosh z = prod_{j != l} u^j, at a z away from the init.
                let z = z0[i] + 0.8;
                flow.all_layers(&vec![z; d], &mut layers);
                let l = flow.minimal_layer[i];
                let others: f64 = (0..depth)
                    .filter(|&j| j != l)
                    .map(|j| layers[j * d + i])
                    .product();
                let r = SmallInitMap::rate(&flow, i, z) * (flow.ln_c[i].exp() * z.cosh());
                assert!(
                    (r - others).abs() <= 1e-13 * others.abs(),
                    "{r} vs {others}"
                );
                // The conservation laws: (u^j)^2 - (u^l)^2 = D_j at every z.
                for j in (0..depth).filter(|&j| j != l) {
                    let (u, m) = (init[j * d + i], init[l * d + i]);
                    let conserved = layers[j * d + i].powi(2) - layers[l * d + i].powi(2);
                    assert!(((conserved - (u * u - m * m)) / (u * u - m * m)).abs() < 1e-10);
                }
            }
        }
    }

    /// The shared-`sinh` fast paths against the per-factor formulas (a second
    /// evaluation of the same functions).
    #[test]
    fn fast_paths_are_the_formulas() {
        let (init, d) = shaped_init(4, 1e-30);
        let flow = GappedFlow::new(&init, 4, d).unwrap();
        for i in 0..d {
            for &z in &[-40.0, -1.3, 0.0, 0.2, 7.0, 80.0, 200.0] {
                let (theta, rate) = flow.theta_and_rate(i, z);
                let (slope, rate2, rate_slope) = flow.jacobian_entries(i, z);
                let pairs = [
                    (theta, flow.theta(i, z)),
                    (rate, SmallInitMap::rate(&flow, i, z)),
                    (rate2, SmallInitMap::rate(&flow, i, z)),
                    (slope, flow.slope(i, z)),
                    (rate_slope, SmallInitMap::rate_slope(&flow, i, z)),
                ];
                for (a, b) in pairs {
                    assert!((a - b).abs() <= 1e-13 * b.abs(), "{i} {z}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn slopes_are_derivatives() {
        // Central differences (step 1e-6, error ~1e-12 relative).
        let (init, d) = shaped_init(4, 0.3);
        let flow = GappedFlow::new(&init, 4, d).unwrap();
        let h = 1e-6;
        for i in 0..d {
            for &z in &[-2.0, 0.3, 4.0] {
                let fd = (flow.theta(i, z + h) - flow.theta(i, z - h)) / (2.0 * h);
                let exact = flow.slope(i, z);
                assert!((fd - exact).abs() < 1e-7 * exact.abs(), "{fd} vs {exact}");
                let rate = |z| SmallInitMap::rate(&flow, i, z);
                let fd = (rate(z + h) - rate(z - h)) / (2.0 * h);
                let exact = SmallInitMap::rate_slope(&flow, i, z);
                assert!((fd - exact).abs() < 1e-7 * rate(z).abs(), "{fd} vs {exact}");
                let fd = (flow.tail(i, z.abs() - h) - flow.tail(i, z.abs() + h)) / (2.0 * h);
                let exact = flow.ln_f(i, z).exp();
                assert!((fd - exact).abs() < 1e-7 * exact, "{fd} vs {exact}");
            }
        }
    }

    #[test]
    fn inverses_at_any_scale() {
        for &(depth, scale) in &[(3usize, 1.0), (4, 1e-100), (4, 1e-300)] {
            let (init, d) = shaped_init(depth, scale);
            let flow = GappedFlow::new(&init, depth, d).unwrap();
            for i in 0..d {
                let z = flow.z_of_theta(i, 1e-12);
                let resolution = 8.0 * depth as f64 * f64::EPSILON * z.max(1.0);
                assert!((flow.theta(i, z).abs() / 1e-12 - 1.0).abs() < resolution);
                for &z in &[0.05, 1.0, 3.0, 50.0, 800.0] {
                    for upper in [true, false] {
                        let zs = if upper { z } else { -z };
                        let (lower, up) = flow.edge_distances(i, zs);
                        let dist = if upper { up } else { lower };
                        if dist == 0.0 {
                            continue;
                        }
                        let back = flow.z_at_edge_distance(i, dist, upper);
                        assert!((back - zs).abs() <= 1e-11 * z.max(1.0), "{zs} {back}");
                    }
                }
            }
        }
    }

    /// The dual box against the mirror map's (`Entropy`: adaptive panels in the
    /// minimal layer's own variable and a far tail in `1/v`, built independently).
    #[test]
    fn dual_box_is_the_mirror_maps() {
        for depth in [3usize, 4] {
            let (init, d) = shaped_init(depth, 0.05);
            let flow = GappedFlow::new(&init, depth, d).unwrap();
            let entropy = crate::mirror::Entropy::new(&init, depth, d).unwrap();
            let report = crate::theory::assumption_a(&init, depth, d);
            let cheap = ln_gap_scale(&init, depth, d, &report.minimal_layer);
            assert_eq!(cheap, flow.ln_scale());
            for ((a, b), (c, e)) in flow.dual_box().into_iter().zip(entropy.dual_box()) {
                assert!((a - c).abs() <= 1e-12 * c.abs(), "{a} vs {c}");
                assert!((b - e).abs() <= 1e-12 * e.abs(), "{b} vs {e}");
            }
        }
    }

    #[test]
    fn unresolvable_gaps_and_small_depths_are_errors() {
        let (init, d) = shaped_init(3, 1.0);
        assert!(GappedFlow::new(&init, 2, d).is_err());
        let mut tiny = init.clone();
        tiny[0] = 1e-310;
        tiny[d] = 2e-310;
        tiny[2 * d] = 3e-310;
        let err = GappedFlow::new(&tiny, 3, d).unwrap_err().to_string();
        assert!(err.contains("coordinates [0]"), "{err}");
    }
}
