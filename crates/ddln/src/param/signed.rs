//! `theta = u^{⊙L} - v^{⊙L}`: the signed power network; state rows are `u` then `v`.

/// `theta_i = u_i^L - v_i^L`.
pub(super) fn theta(power: usize, state: &[f64], theta: &mut [f64]) {
    let d = theta.len();
    let (u, v) = state.split_at(d);
    for ((t, &ui), &vi) in theta.iter_mut().zip(u).zip(v) {
        *t = ui.powi(power as i32) - vi.powi(power as i32);
    }
}

/// `out = (L u^{L-1} g, -L v^{L-1} g)`.
pub(super) fn pullback(power: usize, state: &[f64], g: &[f64], out: &mut [f64]) {
    let d = g.len();
    let p = power as f64;
    let e = power as i32 - 1;
    for i in 0..d {
        out[i] = p * state[i].powi(e) * g[i];
        out[d + i] = -p * state[d + i].powi(e) * g[i];
    }
}

/// Gradient `(L u^{L-1}, -L v^{L-1})` and diagonal Hessian
/// `diag(L (L-1) u^{L-2}, -L (L-1) v^{L-2})` of `theta_i` in its entries `(u_i, v_i)`.
pub(super) fn jet(power: usize, uv: &[f64], grad: &mut [f64], hess: &mut [f64]) {
    let p = power as f64;
    let e = power as i32;
    let (u, v) = (uv[0], uv[1]);
    grad[0] = p * u.powi(e - 1);
    grad[1] = -p * v.powi(e - 1);
    hess[0] = p * (p - 1.0) * u.powi(e - 2);
    hess[1] = 0.0;
    hess[2] = 0.0;
    hess[3] = -p * (p - 1.0) * v.powi(e - 2);
}
