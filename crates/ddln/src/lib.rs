//! # ddln — deep diagonal linear networks
//!
//! A deep diagonal linear network (DDLN) writes `theta = u^1 ⊙ u^2 ⊙ … ⊙ u^L` and trains
//! the layers `u^j` by gradient flow or gradient descent on a loss such as
//! `||X theta - y||^2` (no factor 1/2: the paper's convention). This crate simulates the
//! training with error control and checks, on every run, the statements of the paper
//! "Optimization Insights into Deep Diagonal Linear Networks":
//!
//! * [`problem`] and [`loss`]: the data and `L(theta)`, gradient in one pass over X;
//! * [`param`]: the deep, redundant (`u^L`) and signed (`u^L - v^L`) parameterizations;
//! * [`optim`]: gradient flow (adaptive Runge-Kutta) and descent (GD, SGD, momentum);
//! * [`theory`]: conservation, the sign rule, assumption (A), Theorem 2's rate;
//! * [`mirror`]: the explicit mirror map (entropy Q of any init), the predicted end point
//!   of gradient flow, baselines, the reduced integration mode;
//! * [`train()`]: one call that runs and checks.
//!
//! ```
//! use ddln::{train, Method, Model, Problem, Loss, FlowSettings, RateCheck};
//! // X = identity (2 x 2), y = (1, 2); two layers, both non-zero at init.
//! let problem = Problem::new(vec![1.0, 0.0, 0.0, 1.0], 2, 2, vec![1.0, 2.0], Loss::Square).unwrap();
//! let init = vec![0.5, 0.5, 0.1, 0.2]; // rows: u^1, u^2
//! let method = Method::Flow(FlowSettings { t_end: 20.0, ..FlowSettings::default() });
//! let report = train(&problem, Model::deep(2), &init, &method, &RateCheck::default(), &mut ()).unwrap();
//! assert!(report.run.status.is_success());
//! assert!((report.run.final_theta[1] - 2.0).abs() < 1e-6);
//! assert!(report.diagnostics.conservation.unwrap().max_rel_residual < 1e-9);
//! ```

pub mod error;
pub mod kernel;
pub mod loss;
pub mod memory;
pub mod mirror;
pub mod observe;
pub mod optim;
pub mod par_kernel;
pub mod param;
pub mod presets;
pub mod problem;
pub mod recipes;
pub mod saddles;
pub mod shared_data;
pub mod theory;
pub mod train;
pub mod vector;

pub use error::{DdlnError, Result};
pub use loss::{Loss, LossScaling};
pub use mirror::{predict, Entropy, PredictSettings, PredictStatus, Prediction};
pub use observe::{Control, FnObserver, Observer, StepView};
pub use optim::{
    descent, gradient_flow, resume_descent, DescentCheckpoint, DescentSettings, Dynamics,
    FlowSettings, RkMethod, Run, RunStats, Sampling, Schedule, Status, TimeUnit, Trajectory,
};
pub use param::{Model, Reduced, TwoLayer};
pub use problem::{Problem, Threading};
pub use shared_data::{DataOwner, SharedData};
pub use theory::{Diagnostics, RateCheck};
pub use train::{train, train_from, Checked, Method, MirrorCheckReport, Report};
