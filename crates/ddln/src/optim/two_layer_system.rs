//! Gradient flow of the two-layer models in the dual variable (docs/math.md section 11):
//! the `d`-dimensional ODE `d xi/dt = -grad L(theta(xi))` with `theta(xi)` in closed form
//! ([`TwoLayerFlow`]). On a plateau `grad L` is constant, `xi` moves on a line and one
//! step crosses it whatever its length (`log(1/alpha)` at init scale `alpha`); the
//! Jacobian `-X^T diag(ell'') X diag(d theta/d xi)` is the structured one of the stiff
//! integrator.

use super::linalg::DiagLowRank;
use super::ode::{OdeSystem, StiffSystem};
use crate::param::two_layer_flow::TwoLayerFlow;
use crate::problem::Problem;

/// The xi-ODE with its scratch buffers and structured Jacobian.
pub struct TwoLayerSystem<'a> {
    problem: &'a Problem,
    flow: &'a TwoLayerFlow,
    theta: Vec<f64>,
    grad: Vec<f64>,
    /// The `xi` at which `theta` and `grad` were last evaluated.
    xi_grad: Vec<f64>,
    jac: DiagLowRank,
}

impl<'a> TwoLayerSystem<'a> {
    /// The dual dynamics of `problem` for the closed-form flow `flow`.
    pub fn new(problem: &'a Problem, flow: &'a TwoLayerFlow) -> Self {
        let (n, d) = (problem.n_samples(), problem.dim());
        let mut jac = DiagLowRank::new(n, d);
        jac.a.fill(0.0);
        jac.b.fill(-1.0);
        TwoLayerSystem {
            problem,
            flow,
            theta: vec![0.0; d],
            grad: vec![0.0; d],
            xi_grad: vec![f64::NAN; d],
            jac,
        }
    }
}

impl OdeSystem for TwoLayerSystem<'_> {
    fn dim(&self) -> usize {
        self.theta.len()
    }

    fn rhs(&mut self, _t: f64, xi: &[f64], dxi: &mut [f64]) -> f64 {
        self.flow.theta(xi, &mut self.theta);
        let loss = self.problem.loss_and_gradient(&self.theta, &mut self.grad);
        self.xi_grad.copy_from_slice(xi);
        for (x, &g) in dxi.iter_mut().zip(&self.grad) {
            *x = -g;
        }
        loss
    }
}

impl StiffSystem for TwoLayerSystem<'_> {
    fn jacobian(&mut self, t: f64, xi: &[f64]) -> u64 {
        let mut passes = 0;
        if xi != self.xi_grad.as_slice() {
            let mut scratch = vec![0.0; xi.len()];
            self.rhs(t, xi, &mut scratch);
            passes += 1;
        }
        self.problem.curvatures(&self.theta, &mut self.jac.w);
        if !self.problem.loss().constant_curvature() {
            passes += 1;
        }
        self.flow.slope(xi, &mut self.jac.c);
        passes
    }

    fn factor(&mut self, h_gamma: f64) -> bool {
        self.jac.factor(self.problem.x(), h_gamma)
    }

    fn solve(&mut self, b: &mut [f64]) {
        self.jac.solve(self.problem.x(), b);
    }
}
