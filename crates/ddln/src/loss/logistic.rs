//! The logistic loss, one sample: `log(1 + exp(-y z))`, evaluated without overflow.

/// `(log(1 + exp(-m)), -y / (1 + exp(m)))` with margin `m = y z`.
#[inline(always)]
pub(super) fn value_and_slope(z: f64, y: f64) -> (f64, f64) {
    let m = y * z;
    // softplus(-m) = max(-m, 0) + log1p(exp(-|m|)) never overflows.
    let value = (-m).max(0.0) + (-m.abs()).exp().ln_1p();
    // sigma(-m) = 1 / (1 + exp(m)), written so that exp never overflows.
    let sigma_neg = if m >= 0.0 {
        let e = (-m).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + m.exp())
    };
    (value, -y * sigma_neg)
}
