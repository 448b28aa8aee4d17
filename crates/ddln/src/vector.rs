//! Small dense-vector helpers shared across the crate (and its users).

/// `<a, b>`, with four accumulators so the compiler can vectorize it.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, ra) = a.split_at(a.len() - a.len() % 4);
    let (cb, rb) = b.split_at(ca.len());
    for (x, y) in ca.chunks_exact(4).zip(cb.chunks_exact(4)) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Euclidean norm `||a||`.
pub fn norm(a: &[f64]) -> f64 {
    a.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// Euclidean distance `||a - b||`.
pub fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Default of the relative sparsity threshold of [`nonzeros`]: an entry counts as
/// non-zero when `|theta_i| > 1e-6 max_j |theta_j|`.
pub const SPARSITY_RTOL: f64 = 1e-6;

/// Entries with `|theta_i| > rtol * max_j |theta_j|` (0 for the zero vector).
pub fn nonzeros(theta: &[f64], rtol: f64) -> usize {
    let max = theta.iter().map(|v| v.abs()).fold(0.0, f64::max);
    theta
        .iter()
        .filter(|v| max > 0.0 && v.abs() > rtol * max)
        .count()
}

/// Checks a relative sparsity threshold: finite and in `[0, 1)`.
pub fn check_sparsity_rtol(field: &str, rtol: f64) -> crate::error::Result<()> {
    if rtol.is_finite() && (0.0..1.0).contains(&rtol) {
        Ok(())
    } else {
        Err(crate::error::DdlnError::invalid(
            field,
            format!("must be a finite number in [0, 1), got {rtol}"),
        ))
    }
}
