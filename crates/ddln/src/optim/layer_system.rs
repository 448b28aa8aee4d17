//! Gradient flow on the layers of any model (paper eq. 5), `dw/dt = -C(w)^T g(G(w))` with
//! `C = dG/dw`, optionally with `xi(t) = -int_0^t g ds` alongside, and its structured
//! Jacobian for the stiff integrator (docs/math.md section 13).
//!
//! Each `theta_i` depends only on the `r = rows` entries of coordinate `i`, so
//!
//! ```text
//! J = -blockdiag(g_i H_i) - C^T X^T W X C,      W = diag(ell''(X theta))
//! ```
//!
//! with `H_i` the `r x r` Hessian of `theta_i` and `c_i` its gradient. `I - h gamma J` is
//! solved with one `r x r` LU per coordinate and the diagonal-plus-rank-`n` system
//! `I + h gamma diag(e) X^T W X` (`e_i = c_i^T A_i^{-1} c_i`), factored by [`DiagLowRank`]:
//! a solve costs four passes over `X`, a factorization one `n x n` product.

use super::linalg::{lu_in_place, lu_solve, DiagLowRank};
use super::ode::{OdeSystem, StiffSystem};
use crate::kernel;
use crate::param::Model;
use crate::problem::Problem;

/// The layer ODE of `model` on `problem`, with scratch buffers (an evaluation allocates
/// nothing) and the per-coordinate blocks of its Jacobian.
pub struct LayerSystem<'a> {
    problem: &'a Problem,
    model: Model,
    rows: usize,
    track_xi: bool,
    theta: Vec<f64>,
    /// `g = grad L(theta)` at `w_grad`.
    grad: Vec<f64>,
    w_grad: Vec<f64>,
    /// `d x rows`: `c_i`, coordinate-major.
    c: Vec<f64>,
    /// `d x rows x rows`: `H_i`, then (after [`StiffSystem::factor`]) the LU of `A_i`.
    blocks: Vec<f64>,
    hess: Vec<f64>,
    piv: Vec<usize>,
    /// `d x rows`: `A_i^{-1} c_i`.
    q: Vec<f64>,
    /// `g` at the Jacobian's point.
    g_jac: Vec<f64>,
    low: DiagLowRank,
    h_gamma: f64,
    entries: Vec<f64>,
    s: Vec<f64>,
    ks: Vec<f64>,
    tmp_n: Vec<f64>,
}

impl<'a> LayerSystem<'a> {
    /// The layer ODE of `model` on `problem`, with `xi` appended to the state when
    /// `track_xi`.
    pub fn new(problem: &'a Problem, model: Model, track_xi: bool) -> Self {
        let (n, d) = (problem.n_samples(), problem.dim());
        let rows = model.rows();
        LayerSystem {
            problem,
            model,
            rows,
            track_xi,
            theta: vec![0.0; d],
            grad: vec![0.0; d],
            w_grad: vec![f64::NAN; rows * d],
            c: vec![0.0; d * rows],
            blocks: vec![0.0; d * rows * rows],
            hess: vec![0.0; d * rows * rows],
            piv: vec![0; d * rows],
            q: vec![0.0; d * rows],
            g_jac: vec![0.0; d],
            low: DiagLowRank::new(n, d),
            h_gamma: 0.0,
            entries: vec![0.0; rows],
            s: vec![0.0; d],
            ks: vec![0.0; d],
            tmp_n: vec![0.0; n],
        }
    }

    /// Length of the layer part of the state (`rows x d`).
    pub fn state_len(&self) -> usize {
        self.rows * self.theta.len()
    }
}

impl OdeSystem for LayerSystem<'_> {
    fn dim(&self) -> usize {
        self.state_len() + if self.track_xi { self.theta.len() } else { 0 }
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> f64 {
        let state_len = self.state_len();
        let state = &y[..state_len];
        self.model.theta(state, &mut self.theta);
        let loss = self.problem.loss_and_gradient(&self.theta, &mut self.grad);
        self.w_grad.copy_from_slice(state);
        if dy.is_empty() {
            return loss;
        }
        let (dstate, dxi) = dy.split_at_mut(state_len);
        // -(C^T g): negation is exact, so this is bit for bit C^T (-g).
        self.model.pullback(state, &self.grad, dstate);
        for v in dstate.iter_mut() {
            *v = -*v;
        }
        if self.track_xi {
            for (x, &g) in dxi.iter_mut().zip(&self.grad) {
                *x = -g;
            }
        }
        loss
    }
}

impl StiffSystem for LayerSystem<'_> {
    fn jacobian(&mut self, t: f64, y: &[f64]) -> u64 {
        let (d, r) = (self.theta.len(), self.rows);
        let state = &y[..r * d];
        let mut passes = 0;
        if state != self.w_grad.as_slice() {
            self.rhs(t, y, &mut []);
            passes += 1;
        }
        self.problem.curvatures(&self.theta, &mut self.low.w);
        if !self.problem.loss().constant_curvature() {
            passes += 1;
        }
        for i in 0..d {
            for (j, e) in self.entries.iter_mut().enumerate() {
                *e = state[j * d + i];
            }
            self.model.coordinate_jet(
                &self.entries,
                &mut self.c[i * r..(i + 1) * r],
                &mut self.hess[i * r * r..(i + 1) * r * r],
            );
        }
        self.g_jac.copy_from_slice(&self.grad);
        passes
    }

    fn factor(&mut self, h_gamma: f64) -> bool {
        let (d, r) = (self.theta.len(), self.rows);
        self.h_gamma = h_gamma;
        for i in 0..d {
            let scale = h_gamma * self.g_jac[i];
            let a = &mut self.blocks[i * r * r..(i + 1) * r * r];
            for (aij, &hij) in a.iter_mut().zip(&self.hess[i * r * r..(i + 1) * r * r]) {
                *aij = scale * hij;
            }
            for j in 0..r {
                a[j * r + j] += 1.0;
            }
            let piv = &mut self.piv[i * r..(i + 1) * r];
            if !lu_in_place(r, a, piv) {
                return false;
            }
            let c = &self.c[i * r..(i + 1) * r];
            let q = &mut self.q[i * r..(i + 1) * r];
            q.copy_from_slice(c);
            lu_solve(r, a, piv, q);
            let e: f64 = c.iter().zip(q.iter()).map(|(a, b)| a * b).sum();
            self.low.a[i] = 0.0;
            self.low.b[i] = -e;
            self.low.c[i] = 1.0;
        }
        self.low.factor(self.problem.x(), h_gamma)
    }

    fn solve(&mut self, b: &mut [f64]) {
        let (d, r) = (self.theta.len(), self.rows);
        let x = self.problem.x();
        let (bw, bxi) = b.split_at_mut(r * d);
        // z = A^{-1} b per coordinate (in place), s = C z.
        for i in 0..d {
            for (j, e) in self.entries.iter_mut().enumerate() {
                *e = bw[j * d + i];
            }
            lu_solve(
                r,
                &self.blocks[i * r * r..(i + 1) * r * r],
                &self.piv[i * r..(i + 1) * r],
                &mut self.entries,
            );
            let c = &self.c[i * r..(i + 1) * r];
            self.s[i] = c.iter().zip(&self.entries).map(|(a, b)| a * b).sum();
            for (j, &e) in self.entries.iter().enumerate() {
                bw[j * d + i] = e;
            }
        }
        // (I + h gamma diag(e) X^T W X) s = C z, then K s = X^T W X s.
        self.low.solve(x, &mut self.s);
        kernel::mat_vec(x, &self.s, &mut self.tmp_n);
        for (v, &w) in self.tmp_n.iter_mut().zip(&self.low.w) {
            *v *= w;
        }
        self.ks.fill(0.0);
        kernel::mat_t_vec_add(x, &self.tmp_n, &mut self.ks);
        // x = z - h gamma A^{-1} C^T (K s); the xi block: x_xi = b_xi - h gamma K (C x).
        for i in 0..d {
            let f = self.h_gamma * self.ks[i];
            for j in 0..r {
                bw[j * d + i] -= f * self.q[i * r + j];
            }
        }
        if self.track_xi {
            for (v, &k) in bxi.iter_mut().zip(&self.ks) {
                *v -= self.h_gamma * k;
            }
        }
    }
}
