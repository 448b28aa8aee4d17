//! The paper's squared loss, one sample: `(z - y)^2`.

/// `((z - y)^2, 2 (z - y))`.
#[inline(always)]
pub(super) fn value_and_slope(z: f64, y: f64) -> (f64, f64) {
    let r = z - y;
    (r * r, 2.0 * r)
}
