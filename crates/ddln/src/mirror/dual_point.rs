//! The predictor's dual point and the evaluation of `Psi` at it (docs/math.md section 7,
//! "Next to the box edge").

use super::map::MirrorMap;

/// A coordinate is evaluated from its distance to a box edge, not from `xi`, once that
/// distance is below this fraction of the edge (where `xi` itself loses digits of it).
const EDGE_RTOL: f64 = 1.0 / 1024.0;

/// The dual point: `xi = Xt^T nu` and, carried alongside it, the distances to the box
/// edges `gap_lo = xi - lo`, `gap_hi = hi - xi` (infinite for an open end). Each Newton
/// step adds the same increment to all three, so a distance keeps its own relative
/// accuracy however close to the edge it gets (small inits at depth `L >= 3` put `xi`
/// within `alpha^{L-2}` of the edge, far below the edge's ulp).
#[derive(Debug, Clone)]
pub(super) struct DualPoint {
    pub(super) xi: Vec<f64>,
    pub(super) gap_lo: Vec<f64>,
    pub(super) gap_hi: Vec<f64>,
}

impl DualPoint {
    pub(super) fn origin(boxes: &[(f64, f64)]) -> Self {
        DualPoint {
            xi: vec![0.0; boxes.len()],
            gap_lo: boxes.iter().map(|b| -b.0).collect(),
            gap_hi: boxes.iter().map(|b| b.1).collect(),
        }
    }

    /// `self = from + t dxi`.
    pub(super) fn step(&mut self, from: &DualPoint, t: f64, dxi: &[f64]) {
        for (i, &di) in dxi.iter().enumerate() {
            let dx = t * di;
            self.xi[i] = from.xi[i] + dx;
            self.gap_lo[i] = from.gap_lo[i] + dx;
            self.gap_hi[i] = from.gap_hi[i] - dx;
        }
    }

    /// The number `Psi_i` is evaluated from: `xi_i`, or the gap to the nearer edge.
    pub(super) fn magnitude(&self, i: usize, resolves_edges: bool) -> f64 {
        let x = self.xi[i].abs();
        if resolves_edges {
            x.min(self.gap_lo[i]).min(self.gap_hi[i])
        } else {
            x
        }
    }
}

/// Evaluates `Psi` at `point`: `theta`, `Psi'`; `false` if any entry is not finite.
pub(super) fn eval<M: MirrorMap>(
    map: &M,
    point: &DualPoint,
    theta: &mut [f64],
    m: &mut [f64],
) -> bool {
    let mut ok = true;
    for i in 0..point.xi.len() {
        let (lo, hi) = (point.gap_lo[i], point.gap_hi[i]);
        let edge_rel = |gap: f64| gap.is_finite() && gap <= EDGE_RTOL * (gap + point.xi[i].abs());
        let (t, dm) = if hi <= lo && edge_rel(hi) {
            map.psi_edge_i(i, true, hi)
        } else if lo < hi && edge_rel(lo) {
            map.psi_edge_i(i, false, lo)
        } else {
            map.psi_i(i, point.xi[i])
        };
        theta[i] = t;
        m[i] = dm;
        ok &= t.is_finite() && dm.is_finite();
    }
    ok
}
