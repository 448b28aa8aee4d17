//! Gradient flow of a DDLN integrated in the reduced variables: the `d`-dimensional ODE
//! `dv/dt = -P(v) g(phi(v))` instead of the `L d` layer ODE, with every layer rebuilt at
//! the recorded times, so that the result is a drop-in [`Run`].

use crate::error::Result;
use crate::observe::{Control, Observer, StepView};
use crate::optim::{integrate, Hooks, OdeSystem};
use crate::optim::{FlowSettings, Run, Trajectory};
use crate::problem::Problem;

use super::reduced::Reduced;

/// The v-ODE with its scratch buffers (an evaluation allocates nothing).
struct ReducedSystem<'a> {
    problem: &'a Problem,
    reduced: &'a Reduced,
    track_xi: bool,
    theta: Vec<f64>,
    grad: Vec<f64>,
    p: Vec<f64>,
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

/// Shows the caller's observer the full layers, rebuilt from `v` into a fixed buffer.
struct LayerObserver<'a, O: Observer> {
    reduced: &'a Reduced,
    layers: Vec<f64>,
    inner: &'a mut O,
}

impl<O: Observer> Observer for LayerObserver<'_, O> {
    fn observe(&mut self, view: &StepView) -> Control {
        self.reduced.layers(view.state, &mut self.layers);
        self.inner.observe(&StepView {
            state: &self.layers,
            ..*view
        })
    }
}

/// Gradient flow of the DDLN with `depth` layers from `init` (`depth x d`, row-major),
/// integrated in the reduced variable `v` (the minimal layer of each coordinate).
///
/// Same settings and same [`Run`] as [`crate::gradient_flow`] with [`crate::Model::deep`]:
/// states are the full layers (rebuilt by `u^j = s_j sqrt(v^2 + D_j)`), `xi` is tracked
/// when `settings.track_xi`, the observer sees the full layers. `RunStats::grad_evals`
/// counts the same passes over X. Fails with [`crate::DdlnError::AssumptionA`] when the
/// init violates (A) (the reduction needs it), or on a malformed init or settings.
pub fn reduced_flow<O: Observer>(
    problem: &Problem,
    depth: usize,
    init: &[f64],
    settings: &FlowSettings,
    observer: &mut O,
) -> Result<Run> {
    let d = problem.dim();
    let reduced = Reduced::new(init, depth, d)?;
    settings.validate()?;
    let mut system = ReducedSystem {
        problem,
        reduced: &reduced,
        track_xi: settings.track_xi,
        theta: vec![0.0; d],
        grad: vec![0.0; d],
        p: vec![0.0; d],
    };
    let mut y = reduced.v0().to_vec();
    if settings.track_xi {
        y.resize(2 * d, 0.0);
    }
    let times = settings.output_times();
    let mut traj = Trajectory {
        xi: settings.track_xi.then(Vec::new),
        ..Trajectory::default()
    };
    let mut layers = vec![0.0; depth * d];
    let mut theta = vec![0.0; d];
    let mut record = |t: f64, y: &[f64], loss: f64| {
        let (v, xi) = y.split_at(d);
        reduced.layers(v, &mut layers);
        reduced.theta(v, &mut theta);
        traj.t.push(t);
        traj.states.extend_from_slice(&layers);
        traj.theta.extend_from_slice(&theta);
        traj.loss.push(loss);
        if let Some(rec) = traj.xi.as_mut() {
            rec.extend_from_slice(xi);
        }
    };
    let mut layer_observer = LayerObserver {
        reduced: &reduced,
        layers: vec![0.0; depth * d],
        inner: observer,
    };
    let tableau = settings.integrator.tableau();
    let hooks = Hooks {
        record: &mut record,
        observer: &mut layer_observer,
        observed_len: d,
        stop_loss: settings.loss_tol,
    };
    let outcome = integrate(&mut system, &tableau, &mut y, &times, &settings.rk(), hooks);
    let mut final_state = vec![0.0; depth * d];
    reduced.layers(&y[..d], &mut final_state);
    let mut final_theta = vec![0.0; d];
    reduced.theta(&y[..d], &mut final_theta);
    let final_loss = problem.loss_value(&final_theta);
    Ok(Run {
        status: outcome.status,
        t_final: outcome.t,
        message: outcome.message,
        final_state,
        final_theta,
        final_loss,
        trajectory: traj,
        stats: outcome.stats,
    })
}
