//! One file per subcommand.

pub mod bias;
pub mod entropy;
pub mod reproduce;
pub mod source;
pub mod train;
