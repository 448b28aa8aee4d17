//! The choice of the variables gradient flow integrates: all layer entries, or the reduced
//! dynamics of the minimal layers under assumption (A) (docs/math.md section 4), or the
//! dual variable of the two-layer models (section 11).

use serde::{Deserialize, Serialize};

use crate::error::{DdlnError, Result};

/// Which variables gradient flow integrates (serde and CLI names in parentheses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Dynamics {
    /// `auto` (default): the reduced dynamics for the deep model when the init satisfies
    /// assumption (A) (for two layers: and its largest entry is at least `atol / rtol`,
    /// 1e-2 at the defaults), else the dual dynamics for the two-layer models (`u ⊙ v`,
    /// `u^2 - v^2`), the layer ODE otherwise; the run's `solver` says which and why.
    #[default]
    Auto,
    /// `layers`: all `rows x d` layer entries (any model, any init).
    Layers,
    /// `reduced`: the `d` minimal layers, `dv/dt = -P(v) g(phi(v))` (deep model under
    /// assumption (A) only; the same trajectories, docs/math.md section 4).
    Reduced,
    /// `dual`: the `d` dual variables `xi = -int grad L`, with the layers in closed form
    /// (the two-layer models `u ⊙ v` and `u^2 - v^2` only, any init; exact at any init
    /// scale, a plateau costs one step; docs/math.md section 11).
    Dual,
}

impl Dynamics {
    /// Every variant, in declaration order (the vocabulary the frontends build their
    /// enums from).
    pub const ALL: [Dynamics; 4] = [
        Dynamics::Auto,
        Dynamics::Layers,
        Dynamics::Reduced,
        Dynamics::Dual,
    ];
}

impl Dynamics {
    /// The name used in configs, on the command line and in Python.
    pub fn name(&self) -> &'static str {
        match self {
            Dynamics::Auto => "auto",
            Dynamics::Layers => "layers",
            Dynamics::Reduced => "reduced",
            Dynamics::Dual => "dual",
        }
    }

    /// Parses `"auto"`, `"layers"`, `"reduced"` or `"dual"`.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "auto" => Ok(Dynamics::Auto),
            "layers" => Ok(Dynamics::Layers),
            "reduced" => Ok(Dynamics::Reduced),
            "dual" => Ok(Dynamics::Dual),
            other => Err(DdlnError::invalid(
                "dynamics",
                format!(
                    "unknown dynamics `{other}`; expected `auto`, `layers`, `reduced` or `dual`"
                ),
            )),
        }
    }
}
