//! Trainers: gradient flow with error control ([`gradient_flow`]) and the discrete
//! methods gradient descent, SGD and heavy-ball momentum ([`descent`]).
//!
//! Numerical outcomes are a [`Status`]; setup mistakes are a [`crate::DdlnError`].

mod checkpoint;
mod control;
mod descent;
mod dynamics;
mod flow;
mod integrate;
mod layer_system;
pub mod linalg;
mod momentum_flow;
mod ode;
mod reduced_system;
mod rk;
pub mod rosenbrock;
mod run;
mod sampler;
mod schedule;
mod settings;
mod skip_flow;
mod small_init_run;
mod small_init_system;
pub mod step_identity;
pub mod tableau;
mod time_unit;
mod two_layer_system;

pub use checkpoint::DescentCheckpoint;
pub use descent::{descent, resume_descent, DescentSettings};
pub use dynamics::Dynamics;
pub use flow::{gradient_flow, gradient_flow_in};
pub use integrate::integrate;
pub use layer_system::LayerSystem;
pub use momentum_flow::momentum_flow;
pub use ode::{Hooks, OdeSystem, Outcome, StiffSystem};
pub use reduced_system::ReducedSystem;
pub use rk::{integrate_explicit, NONSTIFF_STEPS, STIFF_STEPS};
pub use rosenbrock::{integrate_stiff, RosenbrockTableau};
pub use run::{linspace, Run, RunStats, Status, Trajectory};
pub use sampler::{Sampler, SamplerState, Sampling};
pub use schedule::Schedule;
pub use settings::FlowSettings;
pub use skip_flow::{integrate_skipping, SkipHooks, SkipOutcome, SkipSettings};
pub use small_init_system::SmallInitSystem;
pub use step_identity::StepIdentity;
pub use tableau::{RkMethod, Tableau};
pub use time_unit::{TimeFrame, TimeUnit, UnitObserver};
pub use two_layer_system::TwoLayerSystem;
