//! The closed forms of the paper's appendix, as verified (see `docs/paper-errata.md`).
//!
//! * A.1-A.2, `theta = u ⊙ v` (L = 2): eq. 17 `Psi` is right. Eq. 20 as printed has
//!   `grad Q = arcsinh(2 theta/Delta0) - (1/2) log|(u0+v0)/(u0-v0)|`, but
//!   `Psi^{-1}(theta) = (1/2)[arcsinh(2 theta/Delta0) - log|(u0+v0)/(u0-v0)|]`: the first
//!   sum needs the factor 1/4, not 1/2. [`TwoLayerClosedForm`] implements the corrected
//!   version (and the printed one, for comparison).
//! * A.3, `theta = u^{⊙L}` (L >= 3, positive data and init): `Psi^{-1}(theta) =
//!   u0^{-(L-2)} - theta^{-(L-2)/L} = L(L-2) xi`, so the mirror map is
//!   `grad Q = Psi^{-1} / (L(L-2))` and eq. 30 should read
//!   `Q = (1/(L(L-2))) sum_i [u0_i^{-(L-2)} theta_i - (L/2) theta_i^{2/L}]` (printed:
//!   exponent `+(L-2)` and no factor). [`RedundantClosedForm`] implements it.

use crate::error::{check_finite, DdlnError, Result};

use super::map::MirrorMap;

/// Appendix A.1-A.2: the entropy of `theta = u ⊙ v` from `(u(0), v(0))`.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoLayerClosedForm {
    /// `Delta0 = |u0^2 - v0^2|`.
    delta0: Vec<f64>,
    /// `log|(u0 + v0) / (u0 - v0)|`.
    ell: Vec<f64>,
}

impl TwoLayerClosedForm {
    /// From the two layers at init. Fails with [`DdlnError::AssumptionA`] where
    /// `|u0_i| = |v0_i|` (then `Delta0 = 0` and eq. 17 is undefined).
    pub fn new(u0: &[f64], v0: &[f64]) -> Result<Self> {
        if u0.len() != v0.len() {
            return Err(DdlnError::shape(
                "v0",
                format!("length {} (same as u0)", u0.len()),
                format!("length {}", v0.len()),
            ));
        }
        check_finite("u0", u0)?;
        check_finite("v0", v0)?;
        let bad: Vec<usize> = (0..u0.len())
            .filter(|&i| u0[i].abs() == v0[i].abs())
            .collect();
        if !bad.is_empty() {
            return Err(DdlnError::AssumptionA { coordinates: bad });
        }
        let delta0 = u0
            .iter()
            .zip(v0)
            .map(|(&u, &v)| ((u.abs() - v.abs()) * (u.abs() + v.abs())).abs())
            .collect();
        let ell = u0
            .iter()
            .zip(v0)
            .map(|(&u, &v)| ((u + v) / (u - v)).abs().ln())
            .collect();
        Ok(TwoLayerClosedForm { delta0, ell })
    }

    /// Eq. 17: `theta_i = (Delta0_i / 2) sinh(2 xi_i + ell_i)`.
    pub fn psi(&self, xi: &[f64], out: &mut [f64]) {
        for (i, (o, &x)) in out.iter_mut().zip(xi).enumerate() {
            *o = 0.5 * self.delta0[i] * (2.0 * x + self.ell[i]).sinh();
        }
    }

    /// Corrected `grad Q = Psi^{-1}`: `(1/2)[arcsinh(2 theta/Delta0) - ell]`.
    pub fn gradient(&self, theta: &[f64], out: &mut [f64]) {
        for (i, (o, &t)) in out.iter_mut().zip(theta).enumerate() {
            *o = 0.5 * ((2.0 * t / self.delta0[i]).asinh() - self.ell[i]);
        }
    }

    /// The gradient of eq. 20 as printed: `arcsinh(2 theta/Delta0) - ell / 2`.
    pub fn gradient_printed(&self, theta: &[f64], out: &mut [f64]) {
        for (i, (o, &t)) in out.iter_mut().zip(theta).enumerate() {
            *o = (2.0 * t / self.delta0[i]).asinh() - 0.5 * self.ell[i];
        }
    }

    /// Corrected eq. 20 (factor 1/4), normalized so that `Q(0) = 0`.
    pub fn value(&self, theta: &[f64]) -> f64 {
        (0..theta.len()).map(|i| self.value_i(i, theta[i])).sum()
    }

    /// Eq. 20 as printed (factor 1/2).
    pub fn value_printed(&self, theta: &[f64]) -> f64 {
        (0..theta.len())
            .map(|i| 2.0 * self.bracket(i, theta[i]) - 0.5 * self.ell[i] * theta[i])
            .sum()
    }

    /// `(1/4)(2 t arcsinh(2t/D) - sqrt(4t^2 + D^2) + D)`.
    fn bracket(&self, i: usize, t: f64) -> f64 {
        let d = self.delta0[i];
        0.25 * (2.0 * t * (2.0 * t / d).asinh() - (4.0 * t * t + d * d).sqrt() + d)
    }
}

impl MirrorMap for TwoLayerClosedForm {
    fn dim(&self) -> usize {
        self.delta0.len()
    }
    fn psi_i(&self, i: usize, xi: f64) -> (f64, f64) {
        let a = 2.0 * xi + self.ell[i];
        (0.5 * self.delta0[i] * a.sinh(), self.delta0[i] * a.cosh())
    }
    fn box_i(&self, _i: usize) -> (f64, f64) {
        (f64::NEG_INFINITY, f64::INFINITY)
    }
    fn value_i(&self, i: usize, theta: f64) -> f64 {
        self.bracket(i, theta) - 0.5 * self.ell[i] * theta
    }
}

/// Appendix A.3: the entropy of `theta = u^{⊙L}` (`L >= 3`) from a positive `u(0)`, on
/// `theta > 0` (positive data and init keep `u > 0`).
#[derive(Debug, Clone, PartialEq)]
pub struct RedundantClosedForm {
    /// `u0_i^{-(L-2)}`.
    a: Vec<f64>,
    /// `u0_i^{L-2}` (what eq. 30 prints).
    a_printed: Vec<f64>,
    power: usize,
}

impl RedundantClosedForm {
    /// From `u(0) > 0` and the power `L >= 3`.
    pub fn new(u0: &[f64], power: usize) -> Result<Self> {
        if power < 3 {
            return Err(DdlnError::invalid(
                "power",
                format!("appendix A.3 needs L >= 3 (L = 2 is the DDLN case), got {power}"),
            ));
        }
        check_finite("u0", u0)?;
        if let Some(i) = u0.iter().position(|&u| u <= 0.0) {
            return Err(DdlnError::invalid(
                "u0",
                format!("appendix A.3 assumes a positive init; u0[{i}] = {}", u0[i]),
            ));
        }
        let e = power as i32 - 2;
        Ok(RedundantClosedForm {
            a: u0.iter().map(|&u| u.powi(-e)).collect(),
            a_printed: u0.iter().map(|&u| u.powi(e)).collect(),
            power,
        })
    }

    fn l(&self) -> f64 {
        self.power as f64
    }

    /// `L (L - 2)`.
    fn k(&self) -> f64 {
        self.l() * (self.l() - 2.0)
    }

    /// Eq. 29: `theta = (u0^{-(L-2)} - L(L-2) xi)^{-L/(L-2)}`; NaN where the base is <= 0.
    pub fn psi(&self, xi: &[f64], out: &mut [f64]) {
        for (i, (o, &x)) in out.iter_mut().zip(xi).enumerate() {
            *o = self.psi_i(i, x).0;
        }
    }

    /// Corrected mirror map `grad Q = (u0^{-(L-2)} - theta^{-(L-2)/L}) / (L(L-2))`.
    pub fn gradient(&self, theta: &[f64], out: &mut [f64]) {
        let p = -(self.l() - 2.0) / self.l();
        for (i, (o, &t)) in out.iter_mut().zip(theta).enumerate() {
            *o = (self.a[i] - t.powf(p)) / self.k();
        }
    }

    /// The gradient of eq. 30 as printed: `u0^{L-2} - theta^{-(L-2)/L}`.
    pub fn gradient_printed(&self, theta: &[f64], out: &mut [f64]) {
        let p = -(self.l() - 2.0) / self.l();
        for (i, (o, &t)) in out.iter_mut().zip(theta).enumerate() {
            *o = self.a_printed[i] - t.powf(p);
        }
    }

    /// Corrected eq. 30.
    pub fn value(&self, theta: &[f64]) -> f64 {
        (0..theta.len()).map(|i| self.value_i(i, theta[i])).sum()
    }

    /// Eq. 30 as printed.
    pub fn value_printed(&self, theta: &[f64]) -> f64 {
        let l = self.l();
        theta
            .iter()
            .zip(&self.a_printed)
            .map(|(&t, &a)| a * t - 0.5 * l * t.powf(2.0 / l))
            .sum()
    }
}

impl MirrorMap for RedundantClosedForm {
    fn dim(&self) -> usize {
        self.a.len()
    }
    fn psi_i(&self, i: usize, xi: f64) -> (f64, f64) {
        let l = self.l();
        let base = self.a[i] - self.k() * xi;
        if base.is_nan() || base <= 0.0 {
            return (f64::NAN, f64::NAN);
        }
        let theta = base.powf(-l / (l - 2.0));
        // d theta / d xi = L^2 base^{-L/(L-2) - 1}
        (theta, l * l * theta / base)
    }
    fn box_i(&self, i: usize) -> (f64, f64) {
        (f64::NEG_INFINITY, self.a[i] / self.k())
    }
    fn value_i(&self, i: usize, theta: f64) -> f64 {
        let l = self.l();
        (self.a[i] * theta - 0.5 * l * theta.powf(2.0 / l)) / self.k()
    }
}
