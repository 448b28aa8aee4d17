//! What the measures compare against, computed once per problem of a sweep: the minimum-
//! L1 and minimum-L2 interpolators (only when a measure needs them).

use std::sync::Arc;

use ddln::mirror::{min_l1, min_l2, Interpolator, LpSettings};
use ddln::Problem;

/// The interpolators of one problem.
#[derive(Debug, Clone)]
pub struct Baselines {
    /// The minimum-L1 interpolator.
    pub l1: Interpolator,
    /// The minimum-L2 interpolator.
    pub l2: Interpolator,
}

impl Baselines {
    /// Solves both problems; the error text is kept for every point that needs them.
    pub fn compute(problem: &Problem, lp: &LpSettings) -> Result<Arc<Baselines>, String> {
        let l1 = min_l1(problem, lp).map_err(|e| format!("min-L1 interpolator: {e}"))?;
        let l2 = min_l2(problem).map_err(|e| format!("min-L2 interpolator: {e}"))?;
        Ok(Arc::new(Baselines { l1, l2 }))
    }
}
