//! The run spec of `ddln`: the configuration shared by TOML files, CLI flags and Python
//! dicts ([`config`]), the files it reads and writes ([`io`]), and sweeps over it
//! ([`sweep`]). The CLI and the Python bindings are thin frontends over this crate.

pub mod config;
pub mod io;
pub mod sweep;
