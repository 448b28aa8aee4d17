//! Gradient flow of a DDLN in the reduced variables (docs/math.md section 4): the
//! `d`-dimensional ODE `dv/dt = -P(v) g(phi(v))` of the minimal layers instead of the
//! `L d` layer ODE, with its structured Jacobian for the stiff integrator.

use super::linalg::DiagLowRank;
use super::ode::{OdeSystem, StiffSystem};
use crate::kernel;
use crate::param::Reduced;
use crate::problem::Problem;

/// The v-ODE with its scratch buffers (an evaluation allocates nothing), and its
/// Jacobian for the stiff integrator.
///
/// With `f_i(v) = -P_i(v_i) g_i(phi(v))` and `g = X^T ell'(X theta)`:
///
/// ```text
/// J = diag(a) + diag(b) X^T diag(w) X diag(c),
/// a_i = -P_i'(v_i) g_i,  P_i' = P_i sum_j v_i / (v_i^2 + D_ij),
/// b_i = -P_i,  c_i = phi_i'(v_i) = M_ii / P_i,  w = ell''(X theta)
/// ```
///
/// a diagonal plus a rank-`n` term, factored by [`DiagLowRank`] (Woodbury when `n < d`).
/// With `xi` tracked, `d xi/dt = -g` adds the block `-X^T diag(w) X diag(c)` below `J`,
/// solved by one more product after the `v` block.
pub struct ReducedSystem<'a> {
    problem: &'a Problem,
    reduced: &'a Reduced,
    track_xi: bool,
    theta: Vec<f64>,
    grad: Vec<f64>,
    p: Vec<f64>,
    /// The `v` at which `theta` and `grad` were last evaluated.
    v_grad: Vec<f64>,
    jac: DiagLowRank,
    h_gamma: f64,
    tmp_n: Vec<f64>,
    tmp_d: Vec<f64>,
}

impl<'a> ReducedSystem<'a> {
    /// The reduced dynamics of `problem` for the data `reduced`, with `xi` appended to the
    /// state when `track_xi`.
    pub fn new(problem: &'a Problem, reduced: &'a Reduced, track_xi: bool) -> Self {
        let (n, d) = (problem.n_samples(), problem.dim());
        ReducedSystem {
            problem,
            reduced,
            track_xi,
            theta: vec![0.0; d],
            grad: vec![0.0; d],
            p: vec![0.0; d],
            v_grad: vec![f64::NAN; d],
            jac: DiagLowRank::new(n, d),
            h_gamma: 0.0,
            tmp_n: vec![0.0; n],
            tmp_d: vec![0.0; d],
        }
    }

    /// The structured Jacobian of the `v` block as of the last [`StiffSystem::jacobian`].
    pub fn jacobian_parts(&mut self) -> &mut DiagLowRank {
        &mut self.jac
    }
}

impl StiffSystem for ReducedSystem<'_> {
    fn jacobian(&mut self, t: f64, y: &[f64]) -> u64 {
        let d = self.theta.len();
        let v = &y[..d];
        let mut passes = 0;
        if v != self.v_grad.as_slice() {
            let mut scratch = std::mem::take(&mut self.tmp_d);
            self.rhs(t, y, &mut scratch[..0]);
            self.tmp_d = scratch;
            passes += 1;
        }
        self.problem.curvatures(&self.theta, &mut self.jac.w);
        if !self.problem.loss().constant_curvature() {
            passes += 1;
        }
        for (i, &vi) in v.iter().enumerate() {
            let p = self.p[i];
            let v2 = vi * vi;
            let log_slope: f64 = self.reduced.gaps(i).iter().map(|&g| vi / (v2 + g)).sum();
            self.jac.a[i] = -p * log_slope * self.grad[i];
            self.jac.b[i] = -p;
            self.jac.c[i] = self.reduced.metric(i, vi) / p;
        }
        passes
    }

    fn factor(&mut self, h_gamma: f64) -> bool {
        self.h_gamma = h_gamma;
        self.jac.factor(self.problem.x(), h_gamma)
    }

    fn solve(&mut self, b: &mut [f64]) {
        let d = self.theta.len();
        let x = self.problem.x();
        let (bv, bxi) = b.split_at_mut(d);
        self.jac.solve(x, bv);
        if self.track_xi {
            // xi part: r2 - h gamma X^T diag(w) X (c ⊙ x1).
            for ((t, &c), &u) in self.tmp_d.iter_mut().zip(&self.jac.c).zip(bv.iter()) {
                *t = c * u;
            }
            kernel::mat_vec(x, &self.tmp_d, &mut self.tmp_n);
            for (s, &w) in self.tmp_n.iter_mut().zip(&self.jac.w) {
                *s *= -self.h_gamma * w;
            }
            kernel::mat_t_vec_add(x, &self.tmp_n, bxi);
        }
    }
}

impl OdeSystem for ReducedSystem<'_> {
    fn dim(&self) -> usize {
        self.theta.len() * if self.track_xi { 2 } else { 1 }
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> f64 {
        let d = self.theta.len();
        let v = &y[..d];
        for (i, (&vi, (p, t))) in v
            .iter()
            .zip(self.p.iter_mut().zip(self.theta.iter_mut()))
            .enumerate()
        {
            *p = self.reduced.p(i, vi);
            *t = vi * *p;
        }
        let loss = self.problem.loss_and_gradient(&self.theta, &mut self.grad);
        self.v_grad.copy_from_slice(v);
        if dy.is_empty() {
            return loss;
        }
        let (dv, dxi) = dy.split_at_mut(d);
        for ((x, &p), &g) in dv.iter_mut().zip(&self.p).zip(&self.grad) {
            *x = -p * g;
        }
        if self.track_xi {
            for (x, &g) in dxi.iter_mut().zip(&self.grad) {
                *x = -g;
            }
        }
        loss
    }
}
