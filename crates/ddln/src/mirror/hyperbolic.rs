//! The hyperbolic entropy with a scale and a tilt per coordinate (docs/math.md section
//! 11): the potential of gradient flow, and of each step of gradient descent, on the
//! two-layer models `u ⊙ v` and `u^2 - v^2`.
//!
//! ```text
//! Psi_i(xi)   = beta_i sinh(phi_i + r xi)
//! grad Q_i(t) = (asinh(t / beta_i) - phi_i) / r
//! Q_i(t)      = (beta_i / r) [s (asinh s - phi_i) - sqrt(1 + s^2) + cosh phi_i],  s = t / beta_i
//! ```
//!
//! `Q_i` is zero and minimal at `theta_i = beta_i sinh(phi_i)`. With `beta = alpha^2`
//! and `phi = 0` it is Woodworth et al.'s entropy of `u^2 - v^2` from `u = v = alpha`
//! (up to the factor `1/r`, which moves no minimizer).

use crate::error::{check_finite, DdlnError, Result};
use crate::param::TwoLayer;

use super::map::MirrorMap;

/// A separable hyperbolic entropy.
#[derive(Debug, Clone, PartialEq)]
pub struct Hyperbolic {
    beta: Vec<f64>,
    phi: Vec<f64>,
    rate: f64,
}

impl Hyperbolic {
    /// From the scales `beta > 0`, the tilts `phi` and the rate `r > 0`.
    pub fn new(beta: Vec<f64>, phi: Vec<f64>, rate: f64) -> Result<Self> {
        if beta.len() != phi.len() {
            return Err(DdlnError::shape(
                "tilt",
                format!("length {} (one per coordinate)", beta.len()),
                format!("length {}", phi.len()),
            ));
        }
        check_finite("tilt", &phi)?;
        if let Some(i) = beta.iter().position(|b| !(b.is_finite() && *b > 0.0)) {
            return Err(DdlnError::invalid(
                "scale",
                format!(
                    "must be finite and > 0 at every coordinate; coordinate {i} has {}",
                    beta[i]
                ),
            ));
        }
        if !(rate.is_finite() && rate > 0.0) {
            return Err(DdlnError::invalid(
                "rate",
                format!("must be > 0, got {rate}"),
            ));
        }
        Ok(Hyperbolic { beta, phi, rate })
    }

    /// The potential of gradient flow on the two-layer model `form` from `init`
    /// (`2 x d`: rows `u`, `v`). Fails where `beta_0 = 0` (`|u| = |v|` for `u ⊙ v`, a
    /// zero entry for `u^2 - v^2`): theta then keeps one sign and this entropy degenerates.
    pub fn of_init(form: TwoLayer, init: &[f64], d: usize) -> Result<Self> {
        if init.len() != 2 * d {
            return Err(DdlnError::shape(
                "init",
                format!("(2, {d}): rows u and v"),
                format!("{} entries", init.len()),
            ));
        }
        check_finite("init", init)?;
        let (u, v) = init.split_at(d);
        let beta: Vec<f64> = (0..d).map(|i| form.scale(u[i], v[i])).collect();
        let flat: Vec<usize> = (0..d).filter(|&i| beta[i] == 0.0).collect();
        if !flat.is_empty() {
            return Err(DdlnError::invalid(
                "init",
                format!(
                    "the potential scale beta_0 is zero at coordinates {flat:?} ({}): theta keeps one sign there and the hyperbolic entropy degenerates; perturb the init",
                    match form {
                        TwoLayer::Product => "|u| = |v|",
                        TwoLayer::SignedSquare => "u = 0 or v = 0",
                    }
                ),
            ));
        }
        let phi = (0..d).map(|i| form.tilt(u[i], v[i])).collect();
        Hyperbolic::new(beta, phi, form.flow_rate())
    }

    /// The scales `beta`.
    pub fn scale(&self) -> &[f64] {
        &self.beta
    }

    /// The tilts `phi`.
    pub fn tilt(&self) -> &[f64] {
        &self.phi
    }

    /// `grad Q_i(theta)`.
    pub fn gradient_i(&self, i: usize, theta: f64) -> f64 {
        ((theta / self.beta[i]).asinh() - self.phi[i]) / self.rate
    }
}

impl MirrorMap for Hyperbolic {
    fn dim(&self) -> usize {
        self.beta.len()
    }
    fn psi_i(&self, i: usize, xi: f64) -> (f64, f64) {
        let a = self.phi[i] + self.rate * xi;
        (self.beta[i] * a.sinh(), self.rate * self.beta[i] * a.cosh())
    }
    fn box_i(&self, _i: usize) -> (f64, f64) {
        (f64::NEG_INFINITY, f64::INFINITY)
    }
    fn value_i(&self, i: usize, theta: f64) -> f64 {
        let (b, p) = (self.beta[i], self.phi[i]);
        let s = theta / b;
        b / self.rate * (s * (s.asinh() - p) - s.hypot(1.0) + p.cosh())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `value_i` differentiated by central differences is `gradient_i`, `psi_i` inverts
    /// it, and its derivative matches a difference quotient of `psi_i`.
    #[test]
    fn value_gradient_and_psi_are_consistent() {
        let h = Hyperbolic::new(vec![0.02, 1.5], vec![-0.4, 1.1], 4.0).unwrap();
        for i in 0..2 {
            for &t in &[-2.0, -0.01, 0.0, 0.3, 5.0] {
                let e = 1e-6 * (1.0 + f64::abs(t));
                let fd = (h.value_i(i, t + e) - h.value_i(i, t - e)) / (2.0 * e);
                let g = h.gradient_i(i, t);
                assert!((fd - g).abs() <= 1e-7 * (1.0 + g.abs()), "{i} {t}");
                let (back, slope) = h.psi_i(i, g);
                assert!((back - t).abs() <= 1e-12 * (1.0 + t.abs()));
                let e = 1e-6;
                let fd = (h.psi_i(i, g + e).0 - h.psi_i(i, g - e).0) / (2.0 * e);
                assert!((fd - slope).abs() <= 1e-6 * slope);
            }
            let t0 = h.scale()[i] * h.tilt()[i].sinh();
            assert!(h.value_i(i, t0).abs() <= 1e-15);
        }
    }
}
