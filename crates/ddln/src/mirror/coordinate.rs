//! One coordinate of the mirror map: `F(v) = int_{v0}^{v} dw / P(w)`, its inverse and
//! its limits `F(±inf)` (docs/math.md section 5).
//!
//! With `c = sqrt(D_min)` and `w = c sinh(sigma)`, the factor of `P` with the smallest
//! gap cancels `dw` exactly and
//!
//! ```text
//! F(v) = s int_{sigma0}^{sigma(v)} f,   f(sigma) = prod_{k} 1 / sqrt(c^2 sinh^2 sigma + D_k)
//! ```
//!
//! over the `L - 2` other gaps: `f` is smooth, analytic in the strip `|Im sigma| < pi/2`
//! (all its singularities lie on `Im sigma = ±pi/2`), and decays like
//! `e^{-(L-2)|sigma|}`, so `F(±inf)` is finite for `L >= 3`. For `L = 2`, `f = 1` and `F`
//! is an exact arcsinh difference. For `L >= 3` a table of `int f` on unit panels of
//! `sigma`, anchored at `sigma0 = sigma(v0)`, is built once (each panel by adaptive
//! Gauss-Legendre with an error estimate); an evaluation is then one 20-point rule on a
//! part of one panel. Anchoring at `sigma0` means every value is a sum of same-sign
//! terms: no cancellation, also for `v` close to `v0`.

use super::quadrature::{bracketed_newton, GaussLegendre};
use super::tail::FarTail;

/// Width of a panel in `sigma` (the strip of analyticity has half-width pi/2).
const PANEL: f64 = 1.0;
/// Relative tolerance of the adaptive rule on one panel.
const PANEL_RTOL: f64 = 1e-15;
/// Bisection depth of the adaptive rule on one panel.
const PANEL_DEPTH: u32 = 8;
/// The table stops once the remaining tail is below this, relative to the integral so far.
const TAIL_RTOL: f64 = 1e-19;
/// Safety bound on the number of panels per side.
const MAX_PANELS: usize = 100_000;

/// The one-dimensional mirror map of a coordinate.
#[derive(Debug, Clone)]
pub(crate) struct DualCoordinate {
    /// `s = sign(P)`.
    s: f64,
    /// `c = sqrt(D_min)`.
    c: f64,
    /// The other `L - 2` gaps.
    others: Vec<f64>,
    /// `sigma(v0)`.
    sigma0: f64,
    /// Index of the node `sigma0` in `cum`.
    k0: usize,
    /// `cum[k] = int_{sigma0}^{sigma0 + (k - k0) PANEL} f` (empty for L = 2).
    cum: Vec<f64>,
    /// `tail_hi[k] = int_{node k}^{inf} f`, summed from the far end (no cancellation).
    tail_hi: Vec<f64>,
    /// `tail_lo[k] = int_{-inf}^{node k} f`.
    tail_lo: Vec<f64>,
    /// The tail beyond the table's ends, in closed quadrature (None for L = 2).
    far: Option<FarTail>,
    /// Estimated relative error of the table.
    error_estimate: f64,
}

/// `c sinh(sigma)`, without overflow for large `|sigma|`.
#[inline]
pub(crate) fn c_sinh(c: f64, sigma: f64) -> f64 {
    if sigma.abs() < 30.0 {
        c * sigma.sinh()
    } else {
        sigma.signum() * (sigma.abs() + c.ln() - std::f64::consts::LN_2).exp()
    }
}

/// `asinh(v / c)`, without overflow when `v / c` does.
#[inline]
pub(crate) fn asinh_ratio(v: f64, c: f64) -> f64 {
    let x = v / c;
    if x.is_finite() {
        x.asinh()
    } else {
        v.signum() * (std::f64::consts::LN_2 + v.abs().ln() - c.ln())
    }
}

/// `asinh(v / c) - asinh(v0 / c)` without cancellation.
fn sigma_delta(v: f64, v0: f64, c: f64) -> f64 {
    if v == v0 {
        return 0.0;
    }
    let (a, b) = (v / c, v0 / c);
    if a.abs().max(b.abs()) > 1e150 || !(a.is_finite() && b.is_finite()) {
        return asinh_ratio(v, c) - asinh_ratio(v0, c);
    }
    let (sa, sb) = ((1.0 + a * a).sqrt(), (1.0 + b * b).sqrt());
    // asinh(a) - asinh(b) = asinh(a sqrt(1+b^2) - b sqrt(1+a^2)); the argument is
    // computed without cancellation in both sign cases.
    let arg = if a * b >= 0.0 {
        ((v - v0) / c) * ((v + v0) / c) / (a * sb + b * sa)
    } else {
        a * sb - b * sa
    };
    arg.asinh()
}

impl DualCoordinate {
    /// The map for sign `s`, initial minimal layer `v0` and the `L - 1` gaps.
    pub(crate) fn new(s: f64, v0: f64, gaps: &[f64]) -> Self {
        let (imin, &dmin) = gaps
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .expect("at least one gap");
        let others: Vec<f64> = gaps
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != imin)
            .map(|(_, &g)| g)
            .collect();
        let c = dmin.sqrt();
        let sigma0 = asinh_ratio(v0, c);
        let far = (!others.is_empty()).then(|| FarTail::new(others.len() as i32 - 1, gaps));
        let mut coord = DualCoordinate {
            s,
            c,
            others,
            sigma0,
            k0: 0,
            cum: Vec::new(),
            tail_hi: Vec::new(),
            tail_lo: Vec::new(),
            far,
            error_estimate: 0.0,
        };
        if !coord.others.is_empty() {
            coord.build_table();
        }
        coord
    }

    /// The integrand `f(sigma)`.
    #[inline]
    fn f(&self, sigma: f64) -> f64 {
        let w = c_sinh(self.c, sigma);
        let w2 = w * w;
        self.others.iter().map(|&g| 1.0 / (w2 + g).sqrt()).product()
    }

    /// `-d ln f / d|sigma|` at `sigma`: the local decay rate of the tail.
    fn decay_rate(&self, sigma: f64) -> f64 {
        let a = sigma.abs();
        if a == 0.0 {
            return 0.0;
        }
        let w = c_sinh(self.c, a);
        let coth = 1.0 / a.tanh();
        self.others
            .iter()
            .map(|&g| coth / (1.0 + g / (w * w)))
            .sum()
    }

    fn build_table(&mut self) {
        let rule = GaussLegendre::get();
        let f = |x: f64| self.f(x);
        let tail_rate = 0.5 * self.others.len() as f64;
        let v_far = self.far.as_ref().map_or(0.0, FarTail::v_min);
        let mut max_err = 0.0f64;
        let mut side = |dir: f64| -> (Vec<f64>, Vec<f64>) {
            // Cumulative integrals from sigma0 outwards (signed by dir), and the panels.
            let mut out = Vec::new();
            let mut pieces = Vec::new();
            let mut acc = 0.0;
            let mut k = 0;
            loop {
                let a = self.sigma0 + dir * (k as f64) * PANEL;
                let b = self.sigma0 + dir * ((k + 1) as f64) * PANEL;
                let (lo, hi) = if dir > 0.0 { (a, b) } else { (b, a) };
                let (piece, err) = rule.integrate_adaptive(lo, hi, &f, PANEL_RTOL, PANEL_DEPTH);
                acc += piece;
                max_err = max_err.max(err / acc.abs().max(f64::MIN_POSITIVE));
                out.push(dir * acc);
                pieces.push(piece);
                k += 1;
                let rate = if b * dir > 0.0 {
                    self.decay_rate(b)
                } else {
                    0.0
                };
                // Done once the tail is negligible and the far quadrature holds beyond b.
                let tail_done = rate >= tail_rate
                    && self.f(b) / rate <= TAIL_RTOL * acc
                    && c_sinh(self.c, b).abs() >= v_far;
                if tail_done || k >= MAX_PANELS || piece == 0.0 && b * dir > 0.0 {
                    return (out, pieces);
                }
            }
        };
        let (right, right_pieces) = side(1.0);
        let (left, left_pieces) = side(-1.0);
        self.k0 = left.len();
        self.cum = left.into_iter().rev().collect();
        self.cum.push(0.0);
        self.cum.extend(right);
        self.error_estimate = max_err;
        // Panel k spans nodes k and k + 1, left to right.
        let pieces: Vec<f64> = left_pieces.into_iter().rev().chain(right_pieces).collect();
        let last = self.cum.len() - 1;
        let (far_lo, far_hi) = self.far_tails();
        self.tail_hi = vec![0.0; last + 1];
        self.tail_hi[last] = far_hi;
        for k in (0..last).rev() {
            self.tail_hi[k] = self.tail_hi[k + 1] + pieces[k];
        }
        self.tail_lo = vec![0.0; last + 1];
        self.tail_lo[0] = far_lo;
        for (k, piece) in pieces.iter().enumerate() {
            self.tail_lo[k + 1] = self.tail_lo[k] + piece;
        }
    }

    /// `int` of `f` beyond the first and the last node (the far quadrature).
    fn far_tails(&self) -> (f64, f64) {
        let far = self.far.as_ref().expect("a table has a far tail");
        let last = self.cum.len() - 1;
        let v = |k: usize| c_sinh(self.c, self.node(k)).abs();
        (far.beyond(v(0)), far.beyond(v(last)))
    }

    /// Node `k` of the table.
    #[inline]
    fn node(&self, k: usize) -> f64 {
        self.sigma0 + (k as f64 - self.k0 as f64) * PANEL
    }

    /// `G = int_{sigma0}^{sigma0 + delta} f`, with `delta = sigma - sigma0` given
    /// accurately (it carries the information when `v` is close to `v0`).
    fn g(&self, delta: f64) -> f64 {
        let rule = GaussLegendre::get();
        let last = self.cum.len() - 1;
        let pos = delta / PANEL + self.k0 as f64;
        if pos >= last as f64 || pos <= 0.0 {
            // Beyond the table: the far tail from the end node to v.
            let (far_lo, far_hi) = (self.tail_lo[0], self.tail_hi[last]);
            let far = self.far.as_ref().expect("a table has a far tail");
            let v = c_sinh(self.c, self.sigma0 + delta).abs();
            return if pos > 0.0 {
                self.cum[last] + (far_hi - far.beyond(v))
            } else {
                self.cum[0] - (far_lo - far.beyond(v))
            };
        }
        let f = |x: f64| self.f(x);
        if delta >= 0.0 {
            let k = (pos.floor() as usize).min(last - 1);
            let width = delta - (k - self.k0) as f64 * PANEL;
            self.cum[k] + rule.integrate_width(self.node(k), width, f)
        } else {
            let k = (pos.ceil() as usize).max(1);
            let width = (self.k0 - k) as f64 * PANEL + delta;
            self.cum[k] + rule.integrate_width(self.node(k), width, f)
        }
    }

    /// `F(v) = int_{v0}^{v} dw / P(w)`.
    pub(crate) fn f_of_v(&self, v: f64, v0: f64) -> f64 {
        let delta = sigma_delta(v, v0, self.c);
        if self.cum.is_empty() {
            return self.s * delta;
        }
        self.s * self.g(delta)
    }

    /// `(F(-inf), F(+inf))` (infinite for `L = 2`).
    pub(crate) fn limits(&self) -> (f64, f64) {
        match (self.cum.first(), self.cum.last()) {
            (Some(&lo), Some(&hi)) => (
                self.s * (lo - self.tail_lo[0]),
                self.s * (hi + self.tail_hi[self.cum.len() - 1]),
            ),
            _ => (-self.s * f64::INFINITY, self.s * f64::INFINITY),
        }
    }

    /// The open interval of `xi` values `F` attains, ordered.
    pub(crate) fn dual_box(&self) -> (f64, f64) {
        let (a, b) = self.limits();
        (a.min(b), a.max(b))
    }

    /// `F^{-1}(xi)`; NaN when `xi` is not inside the open dual box.
    pub(crate) fn f_inv(&self, xi: f64) -> f64 {
        let target = self.s * xi;
        if self.cum.is_empty() {
            return c_sinh(self.c, self.sigma0 + target);
        }
        let last = self.cum.len() - 1;
        if target >= self.cum[last] {
            return self.v_near_edge(true, self.cum[last] + self.tail_hi[last] - target);
        }
        if target <= self.cum[0] {
            return self.v_near_edge(false, target - (self.cum[0] - self.tail_lo[0]));
        }
        // cum[k] <= target < cum[k + 1]
        let k = self.cum.partition_point(|&g| g <= target) - 1;
        let rule = GaussLegendre::get();
        let f = |x: f64| self.f(x);
        let sigma = if target >= 0.0 {
            self.solve_panel(k, target, (self.cum[k], self.cum[k + 1]), |sigma| {
                self.cum[k] + rule.integrate(self.node(k), sigma, f)
            })
        } else {
            self.solve_panel(k, target, (self.cum[k], self.cum[k + 1]), |sigma| {
                self.cum[k + 1] - rule.integrate(sigma, self.node(k + 1), f)
            })
        };
        c_sinh(self.c, sigma)
    }

    /// The minimal layer `v` at which the tail of `F` beyond it, towards `+inf` (`right`)
    /// or `-inf`, is `gap`: the point at distance `gap` from that end of the dual box,
    /// found without forming `edge - gap` (small inits: `gap` far below the edge's ulp).
    /// NaN for `gap <= 0`.
    pub(crate) fn v_near_edge(&self, right: bool, gap: f64) -> f64 {
        if gap.is_nan() || gap <= 0.0 {
            return f64::NAN;
        }
        let Some(far) = self.far.as_ref() else {
            return f64::NAN;
        };
        let last = self.cum.len() - 1;
        let sign = if right { 1.0 } else { -1.0 };
        let (tails, end) = if right {
            (&self.tail_hi, self.tail_hi[last])
        } else {
            (&self.tail_lo, self.tail_lo[0])
        };
        if gap <= end {
            let v = far.v_at(gap).unwrap_or_else(|| far.v_min());
            return sign * v;
        }
        let rule = GaussLegendre::get();
        let f = |x: f64| self.f(x);
        let sigma = if right {
            if gap >= tails[0] {
                return self.f_inv(self.s * (self.cum[0] - (gap - tails[0])));
            }
            // tail_hi decreases: tail_hi[k + 1] <= gap < tail_hi[k]; as a function of
            // sigma the residual -(tail(sigma) - gap) increases.
            let k = tails.partition_point(|&t| t > gap) - 1;
            self.solve_panel(k, -gap, (-tails[k], -tails[k + 1]), |sigma| {
                -(tails[k + 1] + rule.integrate(sigma, self.node(k + 1), f))
            })
        } else {
            if gap >= tails[last] {
                return self.f_inv(self.s * (self.cum[last] + (gap - tails[last])));
            }
            // tail_lo increases: tail_lo[k] < gap <= tail_lo[k + 1].
            let k = tails.partition_point(|&t| t < gap) - 1;
            self.solve_panel(k, gap, (tails[k], tails[k + 1]), |sigma| {
                tails[k] + rule.integrate(self.node(k), sigma, f)
            })
        };
        c_sinh(self.c, sigma)
    }

    /// `sigma` in panel `k` with `value(sigma) = target`, for `value` increasing with
    /// slope `f` from `ends.0` at node `k` to `ends.1` at node `k + 1`: Newton steps kept
    /// inside the shrinking bracket, else bisection.
    fn solve_panel(
        &self,
        k: usize,
        target: f64,
        ends: (f64, f64),
        value: impl Fn(f64) -> f64,
    ) -> f64 {
        let (v_lo, v_hi) = ends;
        bracketed_newton(
            (self.node(k), self.node(k + 1)),
            (target - v_lo) / (v_hi - v_lo),
            |sigma| value(sigma) - target,
            |sigma| self.f(sigma),
            0.0,
        )
    }

    /// Estimated relative error of the quadrature table (0 for `L = 2`).
    pub(crate) fn error_estimate(&self) -> f64 {
        self.error_estimate
    }
}
