//! The explicit mirror map of a DDLN (docs/math.md sections 4, 5, 7, 8).
//!
//! * the reduced form of an init under assumption (A) ([`crate::param::Reduced`]: every
//!   layer a function of the minimal one, `v`) is the parameterization all of it builds on;
//! * [`entropy`]: `F`, `Psi`, `Q`, `grad Q`, `Q''` and the dual box of any init;
//! * [`closed_form`]: the paper's appendix A.1-A.3 formulas, as verified
//!   (see `docs/paper-errata.md`);
//! * [`mod@predict`]: where gradient flow ends, `argmin {Q : X theta = y}`, by dual Newton,
//!   and its small-init limit, a weighted L1 problem;
//! * [`baselines`]: minimum-L1 and minimum-L2 interpolators;
//! * [`mod@li_conditions`]: the commuting and regular conditions of Li et al. (2022);
//! * [`hyperbolic`], [`discrete`]: the two-layer models' hyperbolic entropy, and where
//!   gradient descent and SGD end from the effective init their steps accumulate;
//! * [`mod@momentum_bias`]: where heavy ball ends, from its momentum gradient flow;
//! * [`sweep`]: distance of the predicted limit to the baselines across depths and scales.

pub mod baselines;
mod cg_preconditioner;
pub mod check;
pub mod closed_form;
mod coordinate;
pub mod discrete;
mod dual_point;
pub mod entropy;
mod homotopy;
pub mod hyperbolic;
pub mod li_conditions;
mod map;
pub mod model_map;
pub mod momentum_bias;
mod newton_system;
pub mod power;
pub mod predict;
pub mod predict_limit;
pub(crate) mod quadrature;
pub(crate) mod range;
pub mod small_init;
pub mod sweep;
mod tail;
pub mod tied;

pub use baselines::{
    min_l1, min_l2, weighted_l1, BaselineStatus, Certificate, Interpolator, LpSettings,
};
pub use check::{mirror_check, MirrorCheck};
pub use closed_form::{RedundantClosedForm, TwoLayerClosedForm};
pub use discrete::{discrete_bias, DiscreteBias};
pub use entropy::Entropy;
pub use hyperbolic::Hyperbolic;
pub use li_conditions::{li_conditions, LiReport};
pub use map::MirrorMap;
pub use model_map::{predict_model, ModelMap, Part};
pub use momentum_bias::{momentum_bias, momentum_bias_applies, MomentumBias};
pub use power::PowerMap;
pub use predict::{predict, predict_with, PredictSettings, PredictStatus, Prediction};
pub use predict_limit::{model_small_init_limit, small_init_limit_of_model};
pub use small_init::{small_init_limit, small_init_weights, SmallInitLimit};
pub use sweep::{rich_to_kernel_sweep, Sweep, SweepPoint};
pub use tied::TiedMap;
