//! The two two-layer models, `theta = u ⊙ v` (deep, L = 2) and `theta = u^2 - v^2`
//! (signed, L = 2), in the coordinates `(a, b)` where a gradient step is a product
//! (docs/math.md section 11):
//!
//! ```text
//! a' = (1 - x) a,   b' = (1 + x) b,   x = m eta g     (g = dL/dtheta_i)
//! theta = beta sinh(phi),   beta = kappa |a b|,   phi = log|a / b|
//! ```
//!
//! | model          | a       | b       | m | kappa | beta          |
//! |----------------|---------|---------|---|-------|---------------|
//! | `u ⊙ v`        | `u + v` | `u - v` | 1 | 1/2   | `|u^2 - v^2| / 2` |
//! | `u^2 - v^2`    | `u`     | `v`     | 2 | 2     | `2 |u v|`     |

use serde::{Deserialize, Serialize};

use super::Model;

/// A model whose gradient steps are products in `(a, b)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TwoLayer {
    /// `theta = u ⊙ v`: the deep model with two layers.
    Product,
    /// `theta = u^2 - v^2`: the signed model with power 2.
    SignedSquare,
}

impl TwoLayer {
    /// The two-layer form of `model`, if it has one.
    pub fn of(model: Model) -> Option<TwoLayer> {
        match model {
            Model::Deep { depth: 2 } => Some(TwoLayer::Product),
            Model::Signed { power: 2 } => Some(TwoLayer::SignedSquare),
            _ => None,
        }
    }

    /// `m`: a gradient step of size `eta` on `theta_i` with slope `g` multiplies `a` by
    /// `1 - m eta g` and `b` by `1 + m eta g`.
    pub fn step_factor(&self) -> f64 {
        match self {
            TwoLayer::Product => 1.0,
            TwoLayer::SignedSquare => 2.0,
        }
    }

    /// `r` in `theta = beta sinh(phi0 + r xi)` along gradient flow, `xi = -int g dt`
    /// (`phi = log|a/b|` moves by `-2 m g dt`).
    pub fn flow_rate(&self) -> f64 {
        2.0 * self.step_factor()
    }

    /// `beta = kappa |a b|` of the entries `(u, v)` of one coordinate, from the factored
    /// form (no cancellation in `u^2 - v^2`).
    pub fn scale(&self, u: f64, v: f64) -> f64 {
        match self {
            TwoLayer::Product => 0.5 * ((u - v) * (u + v)).abs(),
            TwoLayer::SignedSquare => 2.0 * (u * v).abs(),
        }
    }

    /// `phi = log|a / b|` of the entries `(u, v)` of one coordinate.
    pub fn tilt(&self, u: f64, v: f64) -> f64 {
        match self {
            TwoLayer::Product => ((u + v) / (u - v)).abs().ln(),
            TwoLayer::SignedSquare => (u / v).abs().ln(),
        }
    }

    /// The init scale `alpha` of the field's standard init with potential scale `beta`:
    /// `(u, v) = (alpha, 0)` for `u ⊙ v` (`beta = alpha^2 / 2`), `(alpha, alpha)` for
    /// `u^2 - v^2` (`beta = 2 alpha^2`).
    pub fn init_scale_of(&self, beta: f64) -> f64 {
        match self {
            TwoLayer::Product => (2.0 * beta).sqrt(),
            TwoLayer::SignedSquare => (0.5 * beta).sqrt(),
        }
    }

    /// The name of the model in summaries.
    pub fn name(&self) -> &'static str {
        match self {
            TwoLayer::Product => "u ⊙ v",
            TwoLayer::SignedSquare => "u^2 - v^2",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `theta = beta sinh(phi)` against the model's own `theta` (a second formula), and
    /// one gradient step against the product rule `a' = (1 - x) a`, `b' = (1 + x) b`
    /// computed from the model's pullback (the descent update).
    #[test]
    fn scale_tilt_and_steps_match_the_model() {
        for (form, model) in [
            (TwoLayer::Product, Model::deep(2)),
            (TwoLayer::SignedSquare, Model::Signed { power: 2 }),
        ] {
            for &(u, v) in &[(0.3, -0.7), (1.5, 0.2), (-0.4, -0.1), (0.05, 2.0)] {
                let mut theta = [0.0];
                model.theta(&[u, v], &mut theta);
                let beta = form.scale(u, v);
                let phi = form.tilt(u, v);
                assert!((beta * phi.sinh() - theta[0]).abs() <= 1e-14 * (1.0 + theta[0].abs()));
                let (eta, g) = (0.01, 0.8);
                let mut grad = [0.0; 2];
                model.pullback(&[u, v], &[g], &mut grad);
                let (u1, v1) = (u - eta * grad[0], v - eta * grad[1]);
                let x = form.step_factor() * eta * g;
                let (a0, b0, a1, b1) = match form {
                    TwoLayer::Product => (u + v, u - v, u1 + v1, u1 - v1),
                    TwoLayer::SignedSquare => (u, v, u1, v1),
                };
                assert!((a1 - (1.0 - x) * a0).abs() <= 1e-15 * (1.0 + a0.abs()));
                assert!((b1 - (1.0 + x) * b0).abs() <= 1e-15 * (1.0 + b0.abs()));
            }
        }
    }
}
