//! Assumption (A): in every coordinate the minimal `|u_i^k(0)|` over layers is unique.

use serde::Serialize;

use crate::error::{check_finite, DdlnError, Result};

/// Assumption (A) on an init of the deep model.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AssumptionReport {
    /// Whether (A) holds in every coordinate.
    pub holds: bool,
    /// For each coordinate `i`, the first layer (0-based) attaining `min_k |u_i^k(0)|`.
    pub minimal_layer: Vec<usize>,
    /// Coordinates where that minimum is attained by two layers or more.
    pub violating_coordinates: Vec<usize>,
}

/// Checks (A) for an init of `depth x d` entries (row-major, row = layer).
pub fn assumption_a(init: &[f64], depth: usize, d: usize) -> AssumptionReport {
    let mut minimal_layer = Vec::with_capacity(d);
    let mut violating = Vec::new();
    for i in 0..d {
        let abs = |j: usize| init[j * d + i].abs();
        let argmin = (0..depth).fold(0, |best, j| if abs(j) < abs(best) { j } else { best });
        let ties = (0..depth).filter(|&j| abs(j) == abs(argmin)).count();
        if ties > 1 {
            violating.push(i);
        }
        minimal_layer.push(argmin);
    }
    AssumptionReport {
        holds: violating.is_empty(),
        minimal_layer,
        violating_coordinates: violating,
    }
}

/// The minimal layers of an init (`depth x d`, row-major) that must satisfy (A): errors
/// for a wrong shape ([`DdlnError::Shape`]), non-finite entries
/// ([`DdlnError::NonFinite`]) or a tie for the minimal `|u_i^k(0)|`
/// ([`DdlnError::AssumptionA`], naming the coordinates).
pub fn require_assumption_a(init: &[f64], depth: usize, d: usize) -> Result<AssumptionReport> {
    if d == 0 || init.len() != depth * d {
        return Err(DdlnError::shape(
            "init",
            format!("({depth}, {d}) = {} entries: one row per layer", depth * d),
            format!("{} entries", init.len()),
        ));
    }
    check_finite("init", init)?;
    let report = assumption_a(init, depth, d);
    if !report.holds {
        return Err(DdlnError::AssumptionA {
            coordinates: report.violating_coordinates,
        });
    }
    Ok(report)
}
