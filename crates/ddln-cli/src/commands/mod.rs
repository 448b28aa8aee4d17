//! One file per subcommand.

pub mod bias;
pub mod entropy;
pub mod plot;
pub mod reproduce;
pub mod saddles;
pub mod source;
pub mod sweep;
pub mod train;
