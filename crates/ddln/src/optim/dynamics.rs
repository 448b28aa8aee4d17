//! The choice of the variables gradient flow integrates: all layer entries, or the reduced
//! dynamics of the minimal layers under assumption (A) (docs/math.md section 4), or the
//! dual variable of the two-layer models (section 11).

use serde::{Deserialize, Serialize};

use crate::error::{DdlnError, Result};

/// Which variables gradient flow integrates (serde and CLI names in parentheses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Dynamics {
    /// `auto` (default): the small-init dynamics for the deep model with `L >= 3` from
    /// `u^1 = 0`, `u^j = alpha` when `alpha^L` is at most the plateau threshold (1e-12), from
    /// any other init under (A) when its gap scale is below `1e3 atol` or its gaps
    /// underflow, and for `u^L - v^L` (`L >= 3`) from a positive init whose largest entry
    /// is below `atol / rtol`; else the reduced dynamics for the deep model when the init
    /// satisfies assumption (A) (for two layers: and its largest entry is at least
    /// `atol / rtol`, 1e-2 at the defaults), else the dual dynamics for the two-layer
    /// models (`u ⊙ v`, `u^2 - v^2`), the layer ODE otherwise; the run's `solver` says
    /// which and why.
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
    /// `small_init`: the deep model with `L >= 3` from any init under (A), or
    /// `u^L - v^L` with `L >= 3` from a positive init, in one variable `z` per coordinate
    /// (e.g. `u^1 = alpha sinh z`, `u^j = alpha cosh z` from `u^1 = 0`, `u^j = alpha`;
    /// `u^-(L-2) = h (1 - tanh z)`, `v^-(L-2) = h (1 + tanh z)`: exact at any scale),
    /// plateaus skipped in closed form (docs/math.md section 12).
    SmallInit,
}

impl Dynamics {
    /// Every variant, in declaration order (the vocabulary the frontends build their
    /// enums from).
    pub const ALL: [Dynamics; 5] = [
        Dynamics::Auto,
        Dynamics::Layers,
        Dynamics::Reduced,
        Dynamics::Dual,
        Dynamics::SmallInit,
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
            Dynamics::SmallInit => "small_init",
        }
    }

    /// Parses one of the names of [`Dynamics::ALL`].
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| {
                let names: Vec<String> = Self::ALL
                    .iter()
                    .map(|d| format!("`{}`", d.name()))
                    .collect();
                DdlnError::invalid(
                    "dynamics",
                    format!(
                        "unknown dynamics `{name}`; expected one of {}",
                        names.join(", ")
                    ),
                )
            })
    }
}
