//! The literature's named models, as presets that map exactly onto `ddln`'s models and
//! inits (each says how). With `loss_scaling = "mean/2"` a peer's step size gives the
//! peer's iterates (Azulay's two-branch model: at half the step, see [`Preset::Azulay`]).

use serde::{Deserialize, Serialize};

use crate::error::{check_positive, DdlnError, Result};
use crate::param::Model;

/// The default init scale of a preset (the field's usual `0.1`).
pub const DEFAULT_ALPHA: f64 = 0.1;

/// A named model of the literature with its standard init of scale `alpha`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum Preset {
    /// `theta = u ⊙ v` from `u = alpha`, `v = 0` (the EPFL diagonal-network notebooks).
    Uv {
        /// `u(0)` in every coordinate.
        alpha: f64,
    },
    /// `theta = u^2 - v^2` from `u = v = alpha` (Woodworth et al. 2020).
    Woodworth {
        /// `u(0) = v(0)`.
        alpha: f64,
    },
    /// `theta = u^N - v^N` from `u = v = alpha`, so `w0 = alpha^N` (Woodworth et al.
    /// 2020 for depth N; Li et al. 2021).
    Power {
        /// `u(0) = v(0)`.
        alpha: f64,
        /// `N >= 2`.
        power: usize,
    },
    /// `theta = u+ ⊙ v+ - u- ⊙ v-` from `u±(0) = alpha s`, `v±(0) = alpha / s` (Azulay et
    /// al. 2021; `s` the shape, 1 balanced). With `p± = u± + v±`, `m± = u± - v±` one GD
    /// step of size `eta` multiplies `p+`, `m-` by `1 - eta g` and `m+`, `p-` by
    /// `1 + eta g`, and `theta = (p+^2 + m-^2 - m+^2 - p-^2) / 4`: exactly `a^2 - b^2` with
    /// `a^2 = (p+^2 + m-^2) / 4`, `b^2 = (m+^2 + p-^2) / 4`, i.e. the signed model with
    /// power 2 from `u = v = alpha sqrt((s^2 + s^-2) / 2)` at step `eta / 2` (time `t / 2`
    /// for the flow), iterate for iterate in theta.
    Azulay {
        /// The scale `alpha` (`u± v± = alpha^2`).
        alpha: f64,
        /// The shape `s > 0`.
        shape: f64,
    },
}

impl Preset {
    /// Every preset name, for messages and frontends.
    pub const NAMES: [&'static str; 4] = ["uv", "woodworth", "power", "azulay"];

    /// Builds a preset from its name and parameters (`power` only for `power`, `shape`
    /// only for `azulay`, default 1).
    pub fn from_name(
        name: &str,
        alpha: f64,
        power: Option<usize>,
        shape: Option<f64>,
    ) -> Result<Self> {
        if shape.is_some() && name != "azulay" {
            return Err(DdlnError::invalid(
                "preset.shape",
                format!("only the preset `azulay` has a shape; drop it for `{name}`"),
            ));
        }
        let preset = match (name, power) {
            ("azulay", None) => Preset::Azulay {
                alpha,
                shape: shape.unwrap_or(1.0),
            },
            ("uv", None) => Preset::Uv { alpha },
            ("woodworth", None) => Preset::Woodworth { alpha },
            ("power", Some(power)) => Preset::Power { alpha, power },
            ("power", None) => {
                return Err(DdlnError::invalid(
                    "preset.power",
                    "the preset `power` needs the power N (u^N - v^N), e.g. power = 3",
                ))
            }
            ("uv" | "woodworth" | "azulay", Some(_)) => {
                return Err(DdlnError::invalid(
                    "preset.power",
                    format!("the preset `{name}` has a fixed power; drop `power`"),
                ))
            }
            (other, _) => {
                return Err(DdlnError::invalid(
                    "preset",
                    format!(
                        "unknown preset `{other}`; expected one of {}",
                        Preset::NAMES.join(", ")
                    ),
                ))
            }
        };
        preset.validate()?;
        Ok(preset)
    }

    /// Checks `alpha > 0` and the power.
    pub fn validate(&self) -> Result<()> {
        let (Preset::Uv { alpha }
        | Preset::Woodworth { alpha }
        | Preset::Power { alpha, .. }
        | Preset::Azulay { alpha, .. }) = *self;
        check_positive("preset.alpha", alpha)?;
        if let Preset::Azulay { shape, .. } = *self {
            check_positive("preset.shape", shape)?;
        }
        if let Preset::Power { power, .. } = *self {
            if power < 2 {
                return Err(DdlnError::invalid(
                    "preset.power",
                    format!("must be >= 2, got {power}"),
                ));
            }
        }
        Ok(())
    }

    /// The `ddln` model it is.
    pub fn model(&self) -> Model {
        match *self {
            Preset::Uv { .. } => Model::deep(2),
            Preset::Woodworth { .. } | Preset::Azulay { .. } => Model::Signed { power: 2 },
            Preset::Power { power, .. } => Model::Signed { power },
        }
    }

    /// The init, `rows x d`.
    pub fn init(&self, d: usize) -> Vec<f64> {
        match *self {
            Preset::Uv { alpha } => [vec![alpha; d], vec![0.0; d]].concat(),
            Preset::Woodworth { alpha } | Preset::Power { alpha, .. } => vec![alpha; 2 * d],
            Preset::Azulay { .. } => vec![self.azulay_scale(); 2 * d],
        }
    }

    /// `alpha sqrt((s^2 + s^-2) / 2)`: the signed model's `u(0) = v(0)` of Azulay's init.
    fn azulay_scale(&self) -> f64 {
        match *self {
            Preset::Azulay { alpha, shape } => {
                let (a, b) = (alpha * shape, alpha / shape);
                ((a * a + b * b) / 2.0).sqrt()
            }
            _ => f64::NAN,
        }
    }

    /// The factor from the peer's step size to `ddln`'s: 1/2 for Azulay's two-branch
    /// model (see [`Preset::Azulay`]), 1 otherwise.
    pub fn step_factor(&self) -> f64 {
        match self {
            Preset::Azulay { .. } => 0.5,
            _ => 1.0,
        }
    }

    /// How it maps onto `ddln`, for summaries.
    pub fn describe(&self) -> String {
        match *self {
            Preset::Uv { alpha } => format!(
                "u ⊙ v (EPFL notebooks) = the deep model with L = 2, init rows u = {alpha}, v = 0"
            ),
            Preset::Woodworth { alpha } => format!(
                "u^2 - v^2 (Woodworth et al. 2020) = the signed model with power 2, init u = v = {alpha}"
            ),
            Preset::Power { alpha, power } => format!(
                "u^{power} - v^{power} with w0 = alpha^{power} (Woodworth et al. 2020; Li et al. 2021) = the signed model with power {power}, init u = v = {alpha}"
            ),
            Preset::Azulay { alpha, shape } => format!(
                "u+ ⊙ v+ - u- ⊙ v- from u± = {alpha} x {shape}, v± = {alpha} / {shape} (Azulay et al. 2021) = the signed model with power 2, init u = v = {}, at half the step size (lr = the peer's lr / 2; flow time t / 2)",
                self.azulay_scale()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// theta(0) of each preset against its formula in the literature: `alpha * 0 = 0`
    /// for `u ⊙ v`, `alpha^N - alpha^N = 0` for the signed ones, and the shapes.
    #[test]
    fn presets_are_the_literature_models() {
        for (preset, rows) in [
            (Preset::Uv { alpha: 0.1 }, 2),
            (Preset::Woodworth { alpha: 0.3 }, 2),
            (
                Preset::Power {
                    alpha: 0.2,
                    power: 3,
                },
                2,
            ),
        ] {
            let init = preset.init(4);
            assert_eq!(init.len(), rows * 4);
            let mut theta = vec![1.0; 4];
            preset.model().theta(&init, &mut theta);
            assert!(theta.iter().all(|&t| t == 0.0));
        }
        assert!(Preset::from_name("azulay", 0.1, None, Some(-1.0)).is_err());
        assert!(Preset::from_name("uv", 0.1, None, Some(2.0)).is_err());
        assert!(Preset::from_name("power", 0.1, None, None).is_err());
        assert!(Preset::from_name("uv", -0.1, None, None).is_err());
    }
}
