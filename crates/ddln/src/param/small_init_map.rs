//! What the skipping small-init integrator needs of a per-coordinate map `z -> layers`
//! (docs/math.md section 12): `theta_i(z)`, the speed `dz/dt = -g_i R_i(z)`, and the
//! coordinate's dual line, a variable that moves at a constant speed in `tau` while the
//! gradient is constant, inside a box whose two edges are where `theta_i` blows up.
//!
//! Every quantity is evaluated from logarithms, so the init scale may be far below f64.

/// A per-coordinate small-init map. `i` indexes the coordinate.
pub trait SmallInitMap {
    /// The depth `L >= 3` (the power of the signed model).
    fn depth(&self) -> usize;

    /// Rows of the model's state: `L` layers, or `u` and `v` of the signed model.
    fn rows(&self) -> usize {
        self.depth()
    }

    /// A bound on `|d ln theta_i / dz|` away from `theta_i = 0`: an absolute error `e` in
    /// `z` is a relative error of at most this times `e` in `theta_i`.
    fn log_gain(&self) -> f64 {
        self.depth() as f64
    }

    /// `ln` of `tau` per unit of flow time (finite at any scale).
    fn ln_tau_rate(&self) -> f64;

    /// `tau` per unit of flow time (0 when it underflows).
    fn tau_rate(&self) -> f64 {
        self.ln_tau_rate().exp()
    }

    /// The init's `z` of coordinate `i`.
    fn start(&self, i: usize) -> f64;

    /// `theta_i(z)`.
    fn theta(&self, i: usize, z: f64) -> f64;

    /// `d theta_i / dz`.
    fn slope(&self, i: usize, z: f64) -> f64;

    /// `R_i(z)` with `dz/dt = -g_i R_i(z)` (its sign is the sign of `theta_i` for `z > 0`).
    fn rate(&self, i: usize, z: f64) -> f64;

    /// `d R_i / dz`.
    fn rate_slope(&self, i: usize, z: f64) -> f64;

    /// `(theta_i(z), R_i(z))` together (a map may share their work).
    fn theta_and_rate(&self, i: usize, z: f64) -> (f64, f64) {
        (self.theta(i, z), self.rate(i, z))
    }

    /// `(d theta_i / dz, R_i(z), d R_i / dz)` together.
    fn jacobian_entries(&self, i: usize, z: f64) -> (f64, f64, f64) {
        (self.slope(i, z), self.rate(i, z), self.rate_slope(i, z))
    }

    /// The dual line: `d sigma_i / d tau = -speed_i g_i`.
    fn speed(&self, i: usize) -> f64;

    /// Distances of `sigma_i(z)` to the lower and the upper edge of its box, each to full
    /// relative accuracy (the upper edge is `z -> +inf`).
    fn edge_distances(&self, i: usize, z: f64) -> (f64, f64);

    /// The `z` at distance `dist > 0` from the lower (`upper == false`) or upper edge.
    fn z_at_edge_distance(&self, i: usize, dist: f64, upper: bool) -> f64;

    /// The `z > 0` with `|theta_i(z)| = theta_abs > 0` (`|theta_i|` is even in `z`).
    fn z_of_theta(&self, i: usize, theta_abs: f64) -> f64;

    /// The mirror coordinate `xi_i` (flow units, 0 at the init) at `z`.
    fn xi(&self, i: usize, z: f64) -> f64;

    /// The `rows x d` layers of the state `z` (row-major) into `out`.
    fn all_layers(&self, z: &[f64], out: &mut [f64]);
}

/// The dual box `(lo_i, hi_i)` from its logarithms `(ln(-lo_i), ln hi_i)` (infinite where
/// a half-width overflows).
pub fn box_of_ln_box(ln_box: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    ln_box
        .into_iter()
        .map(|(lo, hi)| (-lo.exp(), hi.exp()))
        .collect()
}
