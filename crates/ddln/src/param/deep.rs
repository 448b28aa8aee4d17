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
