//! Gradient flow of the deep model in the variable `z` of a [`SmallInitMap`]
//! (docs/math.md section 12): `dz/dt = -g(theta(z)) R(z)`, exact at any init scale. Its Jacobian `-diag(g R') - diag(R) X^T diag(ell'') X diag(theta')` is
//! the stiff integrator's structured one.

use super::linalg::DiagLowRank;
use super::ode::{OdeSystem, StiffSystem};
use crate::param::small_init_map::SmallInitMap;
use crate::problem::Problem;

/// The z-ODE with its scratch buffers and structured Jacobian.
pub struct SmallInitSystem<'a, M: SmallInitMap> {
    problem: &'a Problem,
    flow: &'a M,
    theta: Vec<f64>,
    grad: Vec<f64>,
    /// The `z` at which `theta` and `grad` were last evaluated.
    z_grad: Vec<f64>,
    jac: DiagLowRank,
}

impl<'a, M: SmallInitMap> SmallInitSystem<'a, M> {
    /// The z-dynamics of `problem` for the maps `flow`.
    pub fn new(problem: &'a Problem, flow: &'a M) -> Self {
        let (n, d) = (problem.n_samples(), problem.dim());
        SmallInitSystem {
            problem,
            flow,
            theta: vec![0.0; d],
            grad: vec![0.0; d],
            z_grad: vec![f64::NAN; d],
            jac: DiagLowRank::new(n, d),
        }
    }

    /// `theta(z)` into `out`.
    pub fn theta(&self, z: &[f64], out: &mut [f64]) {
        for (i, (t, &zi)) in out.iter_mut().zip(z).enumerate() {
            *t = self.flow.theta(i, zi);
        }
    }
}

impl<M: SmallInitMap> OdeSystem for SmallInitSystem<'_, M> {
    fn dim(&self) -> usize {
        self.theta.len()
    }

    fn rhs(&mut self, _t: f64, z: &[f64], dz: &mut [f64]) -> f64 {
        // dz holds the rates until the gradient is known.
        for (i, ((t, rate), &zi)) in self.theta.iter_mut().zip(dz.iter_mut()).zip(z).enumerate() {
            (*t, *rate) = self.flow.theta_and_rate(i, zi);
        }
        let loss = self.problem.loss_and_gradient(&self.theta, &mut self.grad);
        self.z_grad.copy_from_slice(z);
        for (out, &g) in dz.iter_mut().zip(&self.grad) {
            *out *= -g;
        }
        loss
    }
}

impl<M: SmallInitMap> StiffSystem for SmallInitSystem<'_, M> {
    fn jacobian(&mut self, t: f64, z: &[f64]) -> u64 {
        let mut passes = 0;
        if z != self.z_grad.as_slice() {
            let mut scratch = vec![0.0; z.len()];
            self.rhs(t, z, &mut scratch);
            passes += 1;
        }
        self.problem.curvatures(&self.theta, &mut self.jac.w);
        if !self.problem.loss().constant_curvature() {
            passes += 1;
        }
        for (i, &zi) in z.iter().enumerate() {
            let (slope, rate, rate_slope) = self.flow.jacobian_entries(i, zi);
            self.jac.a[i] = -self.grad[i] * rate_slope;
            self.jac.b[i] = -rate;
            self.jac.c[i] = slope;
        }
        passes
    }

    fn factor(&mut self, h_gamma: f64) -> bool {
        self.jac.factor(self.problem.x(), h_gamma)
    }

    fn solve(&mut self, b: &mut [f64]) {
        self.jac.solve(self.problem.x(), b);
    }
}
