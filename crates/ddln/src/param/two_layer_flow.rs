//! Gradient flow of the two-layer models in closed form along the dual variable
//! `xi(t) = -int_0^t grad L(theta(s)) ds` (docs/math.md section 11): per coordinate, in
//! the product coordinates `(a, b)` of [`TwoLayer`],
//!
//! ```text
//! a(xi) = a0 exp(m xi),   b(xi) = b0 exp(-m xi),   theta = (kappa / 2) (a^2 - b^2),
//! d theta / d xi = m kappa (a^2 + b^2)
//! ```
//!
//! for every init (no assumption needed). Everything is evaluated from `log|a0|` and
//! `log|b0|`, so an init of 1e-300 is as accurate as one of 1: nothing that matters
//! underflows (a term below 1e-308 is zero to f64 accuracy next to the others), nothing
//! overflows before theta itself would.

use super::two_layer::TwoLayer;

/// The closed-form two-layer flow of one init, as a function of `xi`.
#[derive(Debug, Clone)]
pub struct TwoLayerFlow {
    form: TwoLayer,
    /// Per coordinate `(sign a0, log|a0|, sign b0, log|b0|)` (`log 0 = -inf`).
    coords: Vec<[f64; 4]>,
}

fn signed_log(x: f64) -> (f64, f64) {
    (if x < 0.0 { -1.0 } else { 1.0 }, x.abs().ln())
}

impl TwoLayerFlow {
    /// The flow of `form` from `init` (`2 x d`, row-major: `u` then `v`).
    ///
    /// Panics if `init.len() != 2 d`.
    pub fn new(form: TwoLayer, init: &[f64], d: usize) -> Self {
        assert_eq!(init.len(), 2 * d, "a two-layer init has 2 x d entries");
        let coords = (0..d)
            .map(|i| {
                let (u, v) = (init[i], init[d + i]);
                let (a, b) = match form {
                    TwoLayer::Product => (u + v, u - v),
                    TwoLayer::SignedSquare => (u, v),
                };
                let (sa, la) = signed_log(a);
                let (sb, lb) = signed_log(b);
                [sa, la, sb, lb]
            })
            .collect();
        TwoLayerFlow { form, coords }
    }

    /// The flow of the field's standard init at scale `alpha = exp(-lambda)` in every
    /// coordinate (`(u, v) = (sqrt(2) alpha, 0)` for `u ⊙ v`, `(alpha, alpha)` for
    /// `u^2 - v^2`), from `lambda` alone: `alpha` may be far below f64 (1e-10000).
    pub fn standard_small_init(form: TwoLayer, lambda: f64, d: usize) -> Self {
        // a0 = b0 = sqrt(2) alpha (product) or alpha (signed).
        let log_a0 = match form {
            TwoLayer::Product => 0.5 * 2f64.ln() - lambda,
            TwoLayer::SignedSquare => -lambda,
        };
        TwoLayerFlow {
            form,
            coords: vec![[1.0, log_a0, 1.0, log_a0]; d],
        }
    }

    /// Per coordinate, the dual box `(lo_i, hi_i)` of the small-init picture: `theta_i`
    /// reaches order one when `xi_i` reaches `hi_i = log(1/alpha_a)/m` (upwards) or
    /// `lo_i = -log(1/alpha_b)/m`, where `alpha_a`, `alpha_b` are the scales of the
    /// standard init with the same `|a0|`, `|b0|` (`|a0| / sqrt(2)` for `u ⊙ v`, `|a0|`
    /// for `u^2 - v^2`; `log(1/alpha)` and `log(1/alpha)/2` for the standard inits, the
    /// section-12 convention). Infinite where `a0` or `b0` is zero (that side is never
    /// reached).
    pub fn dual_edges(&self) -> Vec<(f64, f64)> {
        let m = self.m();
        let shift = match self.form {
            TwoLayer::Product => 0.5 * 2f64.ln(),
            TwoLayer::SignedSquare => 0.0,
        };
        self.coords
            .iter()
            .map(|&[_, la, _, lb]| ((lb - shift) / m, -(la - shift) / m))
            .collect()
    }

    /// The model.
    pub fn form(&self) -> TwoLayer {
        self.form
    }

    /// `m`: `xi` moves `log|a|` and `log|b|` at rate `±m`.
    fn m(&self) -> f64 {
        self.form.step_factor()
    }

    /// `log(kappa / 2)`.
    fn log_half_kappa(&self) -> f64 {
        match self.form {
            TwoLayer::Product => -(4.0f64.ln()),
            TwoLayer::SignedSquare => 0.0,
        }
    }

    /// `(a^2, b^2)` scaled by `kappa / 2`, from the logs.
    fn squares(&self, i: usize, xi: f64) -> (f64, f64) {
        let [_, la, _, lb] = self.coords[i];
        let (m, k) = (self.m(), self.log_half_kappa());
        (
            (2.0 * (la + m * xi) + k).exp(),
            (2.0 * (lb - m * xi) + k).exp(),
        )
    }

    /// The relative error of theta per unit error of `xi`, at most: `2 m`.
    pub fn sensitivity(&self) -> f64 {
        2.0 * self.m()
    }

    /// Writes `theta(xi)`.
    pub fn theta(&self, xi: &[f64], out: &mut [f64]) {
        for (i, (t, &x)) in out.iter_mut().zip(xi).enumerate() {
            let (a2, b2) = self.squares(i, x);
            *t = a2 - b2;
        }
    }

    /// Writes `d theta_i / d xi_i = 2 m (kappa / 2) (a^2 + b^2)` (the metric `M_ii`).
    pub fn slope(&self, xi: &[f64], out: &mut [f64]) {
        let two_m = 2.0 * self.m();
        for (i, (s, &x)) in out.iter_mut().zip(xi).enumerate() {
            let (a2, b2) = self.squares(i, x);
            *s = two_m * (a2 + b2);
        }
    }

    /// Writes the layers (`2 x d`, `u` then `v`) at `xi`.
    pub fn layers(&self, xi: &[f64], out: &mut [f64]) {
        let d = self.coords.len();
        let m = self.m();
        let (us, vs) = out.split_at_mut(d);
        for (i, &x) in xi.iter().enumerate() {
            let [sa, la, sb, lb] = self.coords[i];
            let a = sa * (la + m * x).exp();
            let b = sb * (lb - m * x).exp();
            (us[i], vs[i]) = match self.form {
                TwoLayer::Product => (0.5 * (a + b), 0.5 * (a - b)),
                TwoLayer::SignedSquare => (a, b),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::param::Model;

    /// The layers at `xi` against the matrix exponential of the layer ODE at constant
    /// slope `g = -1` (`xi = t`): `u' = v`, `v' = u` (product) and `u' = 2u`, `v' = -2v`
    /// (signed), written from cosh/sinh and exp (a second formula); theta and the slope
    /// against the model's own `theta` and metric `M_ii` at those layers.
    #[test]
    fn closed_form_matches_the_matrix_exponential() {
        let (u0, v0, xi) = (0.3, -0.7, 0.45);
        let product = TwoLayerFlow::new(TwoLayer::Product, &[u0, v0], 1);
        let mut layers = [0.0; 2];
        product.layers(&[xi], &mut layers);
        let (c, s) = (f64::cosh(xi), f64::sinh(xi));
        assert!((layers[0] - (c * u0 + s * v0)).abs() < 1e-15);
        assert!((layers[1] - (s * u0 + c * v0)).abs() < 1e-15);
        let signed = TwoLayerFlow::new(TwoLayer::SignedSquare, &[u0, v0], 1);
        signed.layers(&[xi], &mut layers);
        assert!((layers[0] - u0 * (2.0 * xi).exp()).abs() < 1e-15);
        assert!((layers[1] - v0 * (-2.0 * xi).exp()).abs() < 1e-15);
        for (flow, model) in [
            (&product, Model::deep(2)),
            (&signed, Model::Signed { power: 2 }),
        ] {
            let (mut theta, mut from_layers, mut slope, mut metric) = ([0.0], [0.0], [0.0], [0.0]);
            flow.layers(&[xi], &mut layers);
            flow.theta(&[xi], &mut theta);
            model.theta(&layers, &mut from_layers);
            assert!((theta[0] - from_layers[0]).abs() < 1e-15);
            flow.slope(&[xi], &mut slope);
            model.metric_diagonal(&layers, &mut metric);
            assert!((slope[0] - metric[0]).abs() < 1e-14 * metric[0]);
        }
    }

    /// At an init of 1e-300 the logs keep full relative accuracy where the plain products
    /// underflow: theta at xi = 345 against the same coordinate written with the init
    /// 1e-150 and xi shifted by log(1e150) (the flow's invariance, an independent form).
    #[test]
    fn tiny_inits_keep_their_digits() {
        let flow = TwoLayerFlow::new(TwoLayer::Product, &[1e-300, 0.0], 1);
        let big = TwoLayerFlow::new(TwoLayer::Product, &[1e-150, 0.0], 1);
        let shift = 150.0 * 10f64.ln();
        let (mut t1, mut t2) = ([0.0], [0.0]);
        flow.theta(&[345.0 + shift], &mut t1);
        big.theta(&[345.0], &mut t2);
        assert!(t1[0].is_finite() && t1[0] > 1e-10);
        assert!((t1[0] - t2[0]).abs() <= 1e-12 * t2[0]);
    }
}
