//! The momentum gradient flow `lambda w'' + w' = -grad_w L(G(w))`: the continuous limit
//! of heavy-ball descent with step `gamma` and momentum `beta` at fixed
//! `lambda = gamma / (1 - beta)^2` as `beta -> 1`, in the time `t = k gamma / (1 - beta)`
//! (Papazov, Pesme and Flammarion 2024; docs/math.md section 11). Integrated as the
//! first-order system `w' = p`, `p' = (-grad - p) / lambda` with error control.

use super::ode::{Hooks, OdeSystem};
use super::rk::integrate_explicit;
use super::run::Status;
use super::settings::FlowSettings;
use super::tableau::Tableau;
use crate::error::{check_positive, Result};
use crate::param::Model;
use crate::problem::Problem;

struct MomentumSystem<'a> {
    problem: &'a Problem,
    model: Model,
    lambda: f64,
    theta: Vec<f64>,
    grad_theta: Vec<f64>,
    grad: Vec<f64>,
}

impl OdeSystem for MomentumSystem<'_> {
    fn dim(&self) -> usize {
        2 * self.grad.len()
    }
    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) -> f64 {
        let len = self.grad.len();
        let (w, p) = y.split_at(len);
        self.model.theta(w, &mut self.theta);
        let loss = self
            .problem
            .loss_and_gradient(&self.theta, &mut self.grad_theta);
        self.model.pullback(w, &self.grad_theta, &mut self.grad);
        if dy.is_empty() {
            return loss;
        }
        let (dw, dp) = dy.split_at_mut(len);
        dw.copy_from_slice(p);
        for ((d, &g), &pi) in dp.iter_mut().zip(&self.grad).zip(p) {
            *d = (-g - pi) / self.lambda;
        }
        loss
    }
}

/// Where the momentum gradient flow from `init` (at rest) ends: the layers at `t_end`
/// (or once the loss is at most `settings.loss_tol`), with the status of the integration.
pub fn momentum_flow(
    problem: &Problem,
    model: Model,
    init: &[f64],
    lambda: f64,
    settings: &FlowSettings,
) -> Result<(Vec<f64>, Status, String)> {
    check_positive("lambda", lambda)?;
    settings.validate()?;
    let d = problem.dim();
    model.validate_init(init, d)?;
    let len = init.len();
    let mut system = MomentumSystem {
        problem,
        model,
        lambda,
        theta: vec![0.0; d],
        grad_theta: vec![0.0; d],
        grad: vec![0.0; len],
    };
    let mut y = [init.to_vec(), vec![0.0; len]].concat();
    let mut record = |_t: f64, _y: &[f64], _loss: f64| {};
    let mut hooks = Hooks {
        record: &mut record,
        observer: &mut (),
        observed_len: len,
        stop_loss: settings.loss_tol,
    };
    let outcome = integrate_explicit(
        &mut system,
        &Tableau::dormand_prince_54(),
        &mut y,
        &[0.0, settings.t_end],
        settings,
        &mut hooks,
        false,
    );
    y.truncate(len);
    Ok((y, outcome.status, outcome.message))
}
