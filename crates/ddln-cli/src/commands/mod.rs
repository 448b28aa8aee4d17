//! One file per subcommand.

pub mod reproduce;
pub mod train;
