//! `theta = u^{⊙L}`: the deep redundant network of the paper's appendix A.3.

/// `theta_i = u_i^L`.
pub(super) fn theta(power: usize, state: &[f64], theta: &mut [f64]) {
    for (t, &u) in theta.iter_mut().zip(state) {
        *t = u.powi(power as i32);
    }
}

/// `out_i = L u_i^{L-1} g_i`.
pub(super) fn pullback(power: usize, state: &[f64], g: &[f64], out: &mut [f64]) {
    let p = power as f64;
    for ((o, &u), &gi) in out.iter_mut().zip(state).zip(g) {
        *o = p * u.powi(power as i32 - 1) * gi;
    }
}

/// Gradient `L u^{L-1}` and Hessian `L (L-1) u^{L-2}` of `theta_i` in its one entry.
pub(super) fn jet(power: usize, u: f64, grad: &mut [f64], hess: &mut [f64]) {
    let p = power as f64;
    grad[0] = p * u.powi(power as i32 - 1);
    hess[0] = p * (p - 1.0) * u.powi(power as i32 - 2);
}
