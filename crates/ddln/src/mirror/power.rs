//! The mirror map of the power models `theta = u^L - v^L` (signed) and `theta = u^L`
//! (redundant), any `L >= 2`, any signs (docs/math.md section 10).
//!
//! Along gradient flow, `xi = -int g dt`, each nonzero entry `w` of a coordinate (`u`
//! with `epsilon = +1`, `v` with `epsilon = -1`) is a "branch" contributing
//! `epsilon w^L = tau |w|^L` with `tau = epsilon sign(w0)^L`, and
//!
//! ```text
//! L >= 3:  |w|^{2-L} = |w0|^{2-L} - L (L-2) tau xi,   tau |w|^L = tau A^{-L/(L-2)},   A = |w|^{2-L}
//! L  = 2:  |w|^2 = w0^2 exp(4 tau xi)
//! Psi_i(xi)  = sum over branches of tau |w(xi)|^L
//! Q_i^*(xi)  = sum over branches of (w(xi)^2 - w0^2) / (2L)       (so that (Q_i^*)' = Psi_i)
//! ```
//!
//! With `u0 = v0 = alpha` this is the "depth-D" potential of Woodworth et al. (2020).

use crate::error::{check_finite, DdlnError, Result};
use crate::param::Model;

use super::map::MirrorMap;

/// One entry of a coordinate: `tau` and `|w0|`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Branch {
    tau: f64,
    w0: f64,
}

/// The separable mirror map of a signed or redundant power model.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerMap {
    power: usize,
    /// Up to two branches per coordinate.
    branches: Vec<Vec<Branch>>,
    /// `Psi(xi) = sum_branches branch(rate xi)`: 1 for the power models, `1/L` for a
    /// balanced coordinate of the deep model (it moves `L` times slower in `xi`).
    rate: f64,
}

impl PowerMap {
    /// The map of `model` (signed or redundant) from `init` (`rows x d`). Fails for the
    /// deep model, and at a coordinate whose entries are all zero (theta stays 0 there).
    pub fn new(model: Model, init: &[f64], d: usize) -> Result<Self> {
        model.validate_init(init, d)?;
        let (power, signs): (usize, &[f64]) = match model {
            Model::Signed { power } => (power, &[1.0, -1.0]),
            Model::Redundant { power } => (power, &[1.0]),
            Model::Deep { .. } => {
                return Err(DdlnError::invalid(
                    "model",
                    "the power map is for the signed and redundant models; the deep model has its own entropy",
                ))
            }
        };
        check_finite("init", init)?;
        let mut branches = vec![Vec::new(); d];
        for (row, &epsilon) in signs.iter().enumerate() {
            for (i, b) in branches.iter_mut().enumerate() {
                let w0 = init[row * d + i];
                if w0 != 0.0 {
                    let sign_l = if w0 < 0.0 && power % 2 == 1 {
                        -1.0
                    } else {
                        1.0
                    };
                    b.push(Branch {
                        tau: epsilon * sign_l,
                        w0: w0.abs(),
                    });
                }
            }
        }
        let dead: Vec<usize> = (0..d).filter(|&i| branches[i].is_empty()).collect();
        if !dead.is_empty() {
            return Err(DdlnError::invalid(
                "init",
                format!("every entry of coordinates {dead:?} is zero: theta stays 0 there and the gradient flow has no mirror map; perturb the init"),
            ));
        }
        Ok(PowerMap {
            power,
            branches,
            rate: 1.0,
        })
    }

    /// The map of the deep model with `depth` layers at *balanced* coordinates, where
    /// every layer has the same magnitude `w0_i > 0` (docs/math.md section 10, ties with
    /// `m = L`): `theta_i = sign_i w_i^L` with `dw/dt = -sign_i w^{L-1} g`, the redundant
    /// model's branch at `xi / L`. `sign_i` is the sign of the product of the layers.
    pub fn balanced(depth: usize, signs: &[f64], magnitudes: &[f64]) -> Result<Self> {
        if let Some(i) = magnitudes.iter().position(|w| !(w.is_finite() && *w > 0.0)) {
            return Err(DdlnError::invalid(
                "init",
                format!("coordinate {i} is balanced at |u| = {}: theta stays 0 there and has no mirror map", magnitudes[i]),
            ));
        }
        Ok(PowerMap {
            power: depth,
            branches: signs
                .iter()
                .zip(magnitudes)
                .map(|(&tau, &w0)| vec![Branch { tau, w0 }])
                .collect(),
            rate: 1.0 / depth as f64,
        })
    }

    fn l(&self) -> f64 {
        self.power as f64
    }

    /// `(|w(xi)|, tau |w|^L, d(tau |w|^L)/d xi)` of one branch; NaN outside its box.
    fn branch(&self, b: Branch, xi: f64) -> (f64, f64, f64) {
        let l = self.l();
        if self.power == 2 {
            let w = b.w0 * (2.0 * b.tau * xi).exp();
            let w2 = w * w;
            return (w, b.tau * w2, 4.0 * w2);
        }
        self.branch_of_a(b, b.w0.powf(2.0 - l) - l * (l - 2.0) * b.tau * xi)
    }

    /// [`PowerMap::branch`] from `A = |w|^{2-L}` (`L >= 3`).
    fn branch_of_a(&self, b: Branch, a: f64) -> (f64, f64, f64) {
        let l = self.l();
        if a.is_nan() || a <= 0.0 {
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let w = a.powf(-1.0 / (l - 2.0));
        let wl = w.powi(self.power as i32);
        // d/dxi A^{-L/(L-2)} tau = L^2 A^{-L/(L-2) - 1}, i.e. L^2 |w|^L / A.
        (w, b.tau * wl, l * l * wl / a)
    }
}

impl MirrorMap for PowerMap {
    fn dim(&self) -> usize {
        self.branches.len()
    }

    fn psi_i(&self, i: usize, xi: f64) -> (f64, f64) {
        let (t, s) = self.branches[i].iter().fold((0.0, 0.0), |(t, s), &b| {
            let (_, bt, bs) = self.branch(b, self.rate * xi);
            (t + bt, s + bs)
        });
        (t, self.rate * s)
    }

    fn resolves_edges(&self) -> bool {
        true
    }

    fn psi_edge_i(&self, i: usize, upper: bool, gap: f64) -> (f64, f64) {
        let (lo, hi) = self.box_i(i);
        let xi = if upper { hi - gap } else { lo + gap };
        if self.power == 2 || gap.is_nan() || gap <= 0.0 {
            return self.psi_i(i, xi);
        }
        let l = self.l();
        let (t, s) = self.branches[i].iter().fold((0.0, 0.0), |(t, s), &b| {
            // The branch whose edge is this end of the box: A = L (L-2) rate gap, exactly.
            let edge = b.w0.powf(2.0 - l) / (l * (l - 2.0)) / self.rate;
            let at_this_end = if upper {
                b.tau > 0.0 && edge == hi
            } else {
                b.tau < 0.0 && -edge == lo
            };
            let (_, bt, bs) = if at_this_end {
                self.branch_of_a(b, l * (l - 2.0) * self.rate * gap)
            } else {
                self.branch(b, self.rate * xi)
            };
            (t + bt, s + bs)
        });
        (t, self.rate * s)
    }

    fn box_i(&self, i: usize) -> (f64, f64) {
        if self.power == 2 {
            return (f64::NEG_INFINITY, f64::INFINITY);
        }
        let l = self.l();
        let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
        for b in &self.branches[i] {
            // A > 0  <=>  tau xi < |w0|^{2-L} / (L (L-2)).
            let edge = b.w0.powf(2.0 - l) / (l * (l - 2.0));
            if b.tau > 0.0 {
                hi = hi.min(edge);
            } else {
                lo = lo.max(-edge);
            }
        }
        (lo / self.rate, hi / self.rate)
    }

    fn value_i(&self, i: usize, theta: f64) -> f64 {
        let xi = self.gradient_i(i, theta);
        if xi.is_nan() {
            // theta outside the range of Psi_i (a conserved sign): outside Q's domain.
            return f64::INFINITY;
        }
        xi * theta - self.conjugate_i(i, xi, theta)
    }

    fn conjugate_i(&self, i: usize, xi: f64, _theta: f64) -> f64 {
        // int_0^xi Psi = (1 / rate) int_0^{rate xi} of the branches.
        let l = self.l();
        self.branches[i]
            .iter()
            .map(|&b| {
                let (w, _, _) = self.branch(b, self.rate * xi);
                (w - b.w0) * (w + b.w0) / (2.0 * l)
            })
            .sum::<f64>()
            / self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// For mixed signs and L = 2..5: `Psi'` against central differences of `Psi`, the
    /// conjugate's derivative against `Psi` (both second formulas), and `value_i`
    /// inverting `Psi` (`Q(Psi(xi)) + Q^*(xi) = xi Psi(xi)` and `Q(theta0) = 0`).
    #[test]
    fn psi_conjugate_and_value_are_consistent() {
        let init = [0.7, -0.4, 0.3, 1.1, 0.5, -0.9];
        for power in 2..=5 {
            let map = PowerMap::new(Model::Signed { power }, &init, 3).unwrap();
            for i in 0..3 {
                let (lo, hi) = map.box_i(i);
                for &frac in &[-0.9, -0.3, 0.0, 0.4, 0.8] {
                    let xi = if frac < 0.0 {
                        lo.max(-2.0) * -frac
                    } else {
                        hi.min(2.0) * frac
                    };
                    let h = 1e-6;
                    let (t, s) = map.psi_i(i, xi);
                    let fd = (map.psi_i(i, xi + h).0 - map.psi_i(i, xi - h).0) / (2.0 * h);
                    assert!(
                        (fd - s).abs() <= 1e-6 * s.abs().max(1e-3),
                        "L={power} i={i} xi={xi}"
                    );
                    let dc = (map.conjugate_i(i, xi + h, 0.0) - map.conjugate_i(i, xi - h, 0.0))
                        / (2.0 * h);
                    assert!((dc - t).abs() <= 1e-6 * t.abs().max(1e-3));
                    let q = map.value_i(i, t);
                    let conj = map.conjugate_i(i, xi, t);
                    assert!((q + conj - xi * t).abs() <= 1e-9 * (1.0 + (xi * t).abs()));
                }
                assert!(map.value_i(i, map.psi_i(i, 0.0).0).abs() <= 1e-14);
            }
        }
    }
}
