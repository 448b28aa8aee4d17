//! The reduced form of a DDLN under assumption (A) (docs/math.md section 4, paper eq. 8).
//!
//! Per coordinate `i`, with `l_i` the unique layer of minimal `|u_i^k(0)|`:
//! `v_i = u_i^{l_i}`, `D_ij = u_i^j(0)^2 - v_i(0)^2 > 0` and `s_ij = sign(u_i^j(0))` for
//! `j != l_i`. Then every layer, `theta` and the metric are functions of `v` alone:
//!
//! ```text
//! u_i^j  = s_ij sqrt(v_i^2 + D_ij)                    (j != l_i)
//! P_i(v) = s_i prod_{j != l_i} sqrt(v^2 + D_ij),      s_i = prod_{j != l_i} s_ij
//! theta_i = phi_i(v) = v P_i(v)                      (strictly increasing in s_i v)
//! M_ii(v) = P_i(v)^2 (1 + sum_j v^2 / (v^2 + D_ij))   (= Psi_i' = 1 / Q_i'')
//! ```

use crate::error::{DdlnError, Result};
use crate::theory::require_assumption_a;

/// Largest number of Newton steps in [`Reduced::phi_inv`] (it needs about 6).
const PHI_INV_MAX_STEPS: usize = 200;

/// The per-coordinate data of an init satisfying assumption (A).
#[derive(Debug, Clone, PartialEq)]
pub struct Reduced {
    depth: usize,
    d: usize,
    minimal_layer: Vec<usize>,
    v0: Vec<f64>,
    sign: Vec<f64>,
    /// `d x depth`: `sign(u_i^j(0))` (entry of the minimal layer unused, set to 1).
    layer_sign: Vec<f64>,
    /// `d x depth`: `D_ij` (entry of the minimal layer set to 0).
    gaps: Vec<f64>,
    /// `d x (depth - 1)`: the `D_ij` with `j != l_i`, in layer order.
    other_gaps: Vec<f64>,
}

impl Reduced {
    /// Builds the reduced data from an init of `depth x d` entries (row-major, row = layer).
    ///
    /// Errors: shape or non-finite entries ([`DdlnError::Shape`], [`DdlnError::NonFinite`]);
    /// a tie for the minimal `|u_i^k(0)|` ([`DdlnError::AssumptionA`] naming the
    /// coordinates); a gap `D_ij` that underflows f64 ([`DdlnError::Invalid`]).
    pub fn new(init: &[f64], depth: usize, d: usize) -> Result<Self> {
        if depth < 2 {
            return Err(DdlnError::invalid(
                "depth",
                format!("must be >= 2 (a network needs at least two layers), got {depth}"),
            ));
        }
        let report = require_assumption_a(init, depth, d)?;
        let mut v0 = vec![0.0; d];
        let mut sign = vec![1.0; d];
        let mut layer_sign = vec![1.0; d * depth];
        let mut gaps = vec![0.0; d * depth];
        let mut other_gaps = Vec::with_capacity(d * (depth - 1));
        let mut tiny = Vec::new();
        for i in 0..d {
            let l = report.minimal_layer[i];
            let m = init[l * d + i];
            v0[i] = m;
            for j in (0..depth).filter(|&j| j != l) {
                let u = init[j * d + i];
                // (|u| - |m|)(|u| + |m|): exact difference, > 0 whenever |u| > |m|.
                let gap = (u.abs() - m.abs()) * (u.abs() + m.abs());
                if !(gap.is_normal() && gap > 0.0) {
                    tiny.push(i);
                }
                let s = if u > 0.0 { 1.0 } else { -1.0 };
                layer_sign[i * depth + j] = s;
                sign[i] *= s;
                gaps[i * depth + j] = gap;
                other_gaps.push(gap);
            }
        }
        if !tiny.is_empty() {
            tiny.dedup();
            return Err(DdlnError::invalid(
                "init",
                format!("at coordinates {tiny:?} a gap u_i^j(0)^2 - min_k u_i^k(0)^2 underflows f64; rescale the init (entries above 1e-150 in magnitude)"),
            ));
        }
        Ok(Reduced {
            depth,
            d,
            minimal_layer: report.minimal_layer,
            v0,
            sign,
            layer_sign,
            gaps,
            other_gaps,
        })
    }

    /// Number of layers `L`.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Number of coordinates `d`.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// The minimal layer `l_i` of each coordinate (0-based).
    pub fn minimal_layer(&self) -> &[usize] {
        &self.minimal_layer
    }

    /// `v(0)`: the minimal layer at init, per coordinate.
    pub fn v0(&self) -> &[f64] {
        &self.v0
    }

    /// `s_i = prod_{j != l_i} sign(u_i^j(0))`.
    pub fn sign(&self, i: usize) -> f64 {
        self.sign[i]
    }

    /// The `L - 1` gaps `D_ij`, `j != l_i`, of coordinate `i`, in layer order.
    pub fn gaps(&self, i: usize) -> &[f64] {
        let k = self.depth - 1;
        &self.other_gaps[i * k..(i + 1) * k]
    }

    /// `P_i(v) = s_i prod_{j != l_i} sqrt(v^2 + D_ij)` (never zero).
    #[inline]
    pub fn p(&self, i: usize, v: f64) -> f64 {
        let v2 = v * v;
        self.sign[i]
            * self
                .gaps(i)
                .iter()
                .map(|&g| (v2 + g).sqrt())
                .product::<f64>()
    }

    /// `phi_i(v) = v P_i(v)`: theta as a function of the minimal layer.
    #[inline]
    pub fn phi(&self, i: usize, v: f64) -> f64 {
        v * self.p(i, v)
    }

    /// `M_ii(v) = P^2 (1 + sum_j v^2 / (v^2 + D_ij))`: the metric of the theta dynamics,
    /// `d theta/dt = -M g`, equal to `Psi_i'` and to `1 / Q_i''`.
    #[inline]
    pub fn metric(&self, i: usize, v: f64) -> f64 {
        let v2 = v * v;
        let mut p2 = 1.0;
        let mut sum = 1.0;
        for &g in self.gaps(i) {
            p2 *= v2 + g;
            sum += v2 / (v2 + g);
        }
        p2 * sum
    }

    /// `phi_i^{-1}(theta)`: the unique `v` with `v P_i(v) = theta`.
    ///
    /// Newton's method on `h(x) = x + (1/2) sum_j ln(e^{2x} + D_j) - ln|theta|` with
    /// `x = ln|v|`, which is increasing and convex with `h' >= 1`, started above the root
    /// (so it decreases monotonically onto it), then one or two Newton steps on
    /// `phi(v) - theta` itself for an error of a few ulps.
    pub fn phi_inv(&self, i: usize, theta: f64) -> f64 {
        if theta == 0.0 || theta.is_nan() {
            return theta * self.sign[i];
        }
        let a = theta.abs();
        let sgn = theta.signum() * self.sign[i];
        let gaps = self.gaps(i);
        let ln_a = a.ln();
        let big_l = self.depth as f64;
        let ln_prod_gaps: f64 = gaps.iter().map(|g| g.ln()).sum();
        let mut x = (ln_a / big_l).min(ln_a - 0.5 * ln_prod_gaps);
        for _ in 0..PHI_INV_MAX_STEPS {
            let mut h = x - ln_a;
            let mut dh = 1.0;
            for &g in gaps {
                let lg = g.ln();
                // ln(e^{2x} + g) without overflow, and its x-derivative / 2.
                if 2.0 * x > lg {
                    let r = g * (-2.0 * x).exp();
                    h += 0.5 * (2.0 * x + r.ln_1p());
                    dh += 1.0 / (1.0 + r);
                } else {
                    let r = (2.0 * x - lg).exp();
                    h += 0.5 * (lg + r.ln_1p());
                    dh += r / (1.0 + r);
                }
            }
            let step = h / dh;
            x -= step;
            if step.abs() <= 4.0 * f64::EPSILON * x.abs().max(1.0) {
                break;
            }
        }
        let mut v = x.exp();
        // Polish on phi itself where it is representable.
        for _ in 0..2 {
            let p = self.p(i, v).abs();
            let f = v * p - a;
            let df = self.metric(i, v) / p;
            if !(f.is_finite() && df.is_finite() && df > 0.0) {
                break;
            }
            let next = v - f / df;
            if next > 0.0 && next.is_finite() {
                v = next;
            }
        }
        sgn * v
    }

    /// Writes every layer (`depth x d`, row-major) for the minimal-layer values `v`.
    pub fn layers(&self, v: &[f64], out: &mut [f64]) {
        let (d, depth) = (self.d, self.depth);
        for (i, &vi) in v.iter().enumerate() {
            let v2 = vi * vi;
            for j in 0..depth {
                out[j * d + i] = if j == self.minimal_layer[i] {
                    vi
                } else {
                    self.layer_sign[i * depth + j] * (v2 + self.gaps[i * depth + j]).sqrt()
                };
            }
        }
    }

    /// Writes `theta_i = phi_i(v_i)`.
    pub fn theta(&self, v: &[f64], out: &mut [f64]) {
        for (i, (t, &vi)) in out.iter_mut().zip(v).enumerate() {
            *t = self.phi(i, vi);
        }
    }
}
