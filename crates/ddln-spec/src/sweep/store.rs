//! A sweep's folder: the record of its config, a lock, and the log of committed rows.
//!
//! Each finished job is committed as one line of `rows.jsonl`, appended with a single
//! `write`: a run killed at any moment leaves complete lines and at most one partial last
//! line, which the next open discards. The log is the truth; `table.csv`,
//! `table.parquet` and `summary.json` are derived from it (each written atomically).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::json;

use super::plan::Plan;
use super::row::Row;
use crate::io;

/// The record of the config a folder holds.
pub const RECORD: &str = "sweep.json";
/// The log of committed rows.
pub const LOG: &str = "rows.jsonl";
/// The lock held while a sweep writes the folder.
pub const LOCK: &str = ".lock";
/// Where per-job trajectories go.
pub const TRAJECTORIES: &str = "trajectories";

/// An open sweep folder, locked for this process.
pub struct SweepDir {
    root: PathBuf,
    log: File,
    // Held for the lifetime of the folder handle; the OS releases it if the process dies.
    _lock: File,
}

impl SweepDir {
    /// Opens (or creates) the folder of `plan`: refuses a folder another sweep is
    /// writing, one that holds a different sweep, or one that holds other files. Returns
    /// the committed rows (the last one of each id).
    pub fn open(root: &Path, plan: &Plan) -> Result<(SweepDir, HashMap<String, Row>)> {
        io::ensure_dir(root)?;
        let record_path = root.join(RECORD);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join(LOCK))
            .with_context(|| format!("cannot create the lock {}", root.join(LOCK).display()))?;
        if lock.try_lock().is_err() {
            bail!(
                "another sweep is writing to {} (it holds {LOCK}); wait for it to finish or choose another --out",
                root.display()
            );
        }
        if record_path.exists() {
            let text = fs::read_to_string(&record_path)
                .with_context(|| format!("cannot read {}", record_path.display()))?;
            let record: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a sweep record", record_path.display()))?;
            let theirs = record["fingerprint"].as_str().unwrap_or("");
            if theirs != plan.fingerprint {
                bail!(
                    "{} holds a sweep of a different config (fingerprint {theirs}, this config {}); choose another --out, or delete the folder to start over",
                    root.display(),
                    plan.fingerprint
                );
            }
        } else {
            let others: Vec<String> = fs::read_dir(root)?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != LOCK)
                .collect();
            if !others.is_empty() {
                bail!(
                    "{} is not empty and holds no sweep (it has {}); choose an empty or new --out",
                    root.display(),
                    others.join(", ")
                );
            }
            io::write_json(&record_path, &record(plan))?;
            let toml = toml::to_string(&plan.spec.source)?;
            io::write_text(&root.join("config.toml"), &toml)?;
        }
        let log_path = root.join(LOG);
        let mut log = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        let rows = read_log(&mut log, &log_path, plan)?;
        Ok((
            SweepDir {
                root: root.to_path_buf(),
                log,
                _lock: lock,
            },
            rows,
        ))
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Commits a row: one line, one write.
    pub fn commit(&mut self, row: &Row) -> Result<()> {
        let mut line = serde_json::to_string(row)?;
        line.push('\n');
        self.log
            .write_all(line.as_bytes())
            .with_context(|| format!("cannot append to {}", self.root.join(LOG).display()))
    }

    /// Flushes the log to disk (the end of a sweep; a killed process loses nothing the
    /// OS has, only a power cut loses what was not synced).
    pub fn sync(&self) -> Result<()> {
        Ok(self.log.sync_data()?)
    }
}

fn record(plan: &Plan) -> serde_json::Value {
    json!({
        "fingerprint": plan.fingerprint,
        "ddln_version": env!("CARGO_PKG_VERSION"),
        "axes": plan.axis_names(),
        "tasks": plan.spec.tasks,
        "measures": plan.spec.measures,
        "settings": plan.spec.settings,
        "rows": plan.jobs.len(),
        "points": plan.points.len(),
        "config": plan.spec.source,
    })
}

/// Reads the committed rows; a partial last line (a kill mid-write) is cut off.
fn read_log(log: &mut File, path: &Path, plan: &Plan) -> Result<HashMap<String, Row>> {
    let mut text = String::new();
    log.seek(SeekFrom::Start(0))?;
    log.read_to_string(&mut text)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut rows = HashMap::new();
    let mut good = 0;
    for line in text.split_inclusive('\n') {
        if !line.ends_with('\n') {
            break;
        }
        let row: Row = match serde_json::from_str(line) {
            Ok(r) => r,
            Err(_) if good + line.len() == text.len() => break,
            Err(e) => bail!(
                "{} is damaged at byte {good}: {e}; delete the folder to start over",
                path.display()
            ),
        };
        let known = plan.jobs.get(row.row).is_some_and(|j| j.id == row.id);
        if !known {
            bail!(
                "{} holds row {} with id {}, which this config does not make; delete the folder to start over",
                path.display(),
                row.row,
                row.id
            );
        }
        good += line.len();
        rows.insert(row.id.clone(), row);
    }
    if good < text.len() {
        log.set_len(good as u64)
            .with_context(|| format!("cannot cut the partial last line of {}", path.display()))?;
    }
    Ok(rows)
}

/// Writes the loss trajectory of a job as `trajectories/<id>.csv` (`t,loss`), atomically.
pub fn write_trajectory(root: &Path, id: &str, t: &[f64], loss: &[f64]) -> Result<()> {
    let dir = root.join(TRAJECTORIES);
    io::ensure_dir(&dir)?;
    let mut text = String::from("t,loss\n");
    for (a, b) in t.iter().zip(loss) {
        text.push_str(&format!("{a:?},{b:?}\n"));
    }
    io::write_text(&dir.join(format!("{id}.csv")), &text)
}
