//! The paper's statements, checked on a run: conservation and the sign rule
//! (Proposition 1), assumption (A), and the linear rate of Theorem 2.

mod assumption;
mod conservation;
pub mod rate;

pub use assumption::{assumption_a, require_assumption_a, AssumptionReport};
pub use conservation::{ConservationReport, LayerWatch, SignReport};
pub use rate::{pl_constants, rate_report, PlConstants, RateCheck, RateReport, Verdict};

use serde::Serialize;

/// Every diagnostic of a run that applies to its model and loss.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Diagnostics {
    /// Assumption (A) and the minimal layer of each coordinate (deep model only).
    pub assumption_a: Option<AssumptionReport>,
    /// Conservation of `u^j(t)^2 - u^j(0)^2` across layers (deep model only).
    pub conservation: Option<ConservationReport>,
    /// Which layers crossed zero, and whether that agrees with Proposition 1.2.
    pub sign_changes: Option<SignReport>,
    /// Theorem 2: sigma, mu, L*, and the bound against the measured gap (squared loss).
    pub rate: Option<RateReport>,
    /// Which guarantees do not apply to this run, and why.
    pub warnings: Vec<String>,
}
