//! Helpers shared by the CLI's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use npyz::WriterBuilder;

/// Writes an `.npy` file of any plain dtype (f64 inputs, or a wrong dtype on purpose).
pub fn write_array<T: npyz::AutoSerialize + Copy>(path: &Path, data: &[T], shape: &[u64]) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(file)
        .begin_nd()
        .unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
}

pub fn write_f64(path: &Path, data: &[f64], shape: &[u64]) {
    write_array(path, data, shape);
}

/// Runs the `ddln` binary under test with `args`.
pub fn ddln(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ddln"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A fresh, empty scratch folder for the test `name` (per process, so parallel test
/// binaries do not collide).
pub fn tmpdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ddln-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
