//! `theta = u^1 ⊙ … ⊙ u^L`: the deep diagonal linear network.

/// `theta_i = prod_j u_i^j`.
pub(super) fn theta(depth: usize, state: &[f64], theta: &mut [f64]) {
    let d = theta.len();
    theta.copy_from_slice(&state[..d]);
    for layer in state[d..depth * d].chunks_exact(d) {
        for (t, &u) in theta.iter_mut().zip(layer) {
            *t *= u;
        }
    }
}

/// `out_i^j = g_i prod_{k != j} u_i^k` by suffix then prefix products (no division).
pub(super) fn pullback(depth: usize, state: &[f64], g: &[f64], out: &mut [f64]) {
    let d = g.len();
    for i in 0..d {
        let mut suffix = 1.0;
        for j in (0..depth).rev() {
            out[j * d + i] = suffix;
            suffix *= state[j * d + i];
        }
        let mut prefix = g[i];
        for j in 0..depth {
            out[j * d + i] *= prefix;
            prefix *= state[j * d + i];
        }
    }
}

/// Gradient `c_j = prod_{m != j} u_m` and Hessian `H_jk = prod_{m != j, k} u_m` (zero
/// diagonal) of `theta_i` in the `depth` entries `u` of one coordinate; `hess` is
/// `depth x depth` row-major. Prefix and suffix products: no division.
pub(super) fn jet(u: &[f64], grad: &mut [f64], hess: &mut [f64]) {
    let depth = u.len();
    let mut suffix = 1.0;
    for j in (0..depth).rev() {
        grad[j] = suffix;
        suffix *= u[j];
    }
    let mut prefix = 1.0;
    for j in 0..depth {
        grad[j] *= prefix;
        // H_jk for k > j: prefix (m < j) * middle (j < m < k) * rest (m > k); O(L^3) per
        // coordinate, small next to a pass over X for the depths in use.
        hess[j * depth + j] = 0.0;
        let mut middle = prefix;
        for k in j + 1..depth {
            let mut rest = 1.0;
            for &um in &u[k + 1..] {
                rest *= um;
            }
            hess[j * depth + k] = middle * rest;
            hess[k * depth + j] = middle * rest;
            middle *= u[k];
        }
        prefix *= u[j];
    }
}
