//! Sweeps: a grid over the settings of the run spec, every point's tasks computed on all
//! cores (or by workers elsewhere), committed one by one to a folder that a rerun resumes,
//! and one table of the results (`table.csv`, `table.parquet`).
//!
//! The pieces: [`spec`] parses the `[sweep]` table, [`plan`] resolves and checks every
//! point before anything runs, [`evaluate`] computes one job, [`store`] keeps the folder
//! (lock, record, log), [`table`] writes the table, [`local`] runs the jobs on a thread
//! pool. A [`Session`] ties them together for any backend.

pub mod baselines;
pub mod evaluate;
pub mod local;
pub mod measure;
pub mod plan;
pub mod row;
pub mod spec;
pub mod store;
pub mod table;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde::Serialize;

pub use evaluate::evaluate;
pub use measure::Measure;
pub use plan::Plan;
pub use row::Row;
pub use spec::{logspace, SweepSpec, Task};
pub use store::SweepDir;
pub use table::Table;

/// Reads a sweep config from a TOML file (relative paths inside are relative to it).
pub fn plan_from_file(path: &Path) -> Result<Plan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config {}", path.display()))?;
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("invalid config {}: {e}", path.display()))?;
    let origin = path.display().to_string();
    let base = path.parent().filter(|p| !p.as_os_str().is_empty());
    Plan::new(
        SweepSpec::parse(table, &origin)?,
        base.unwrap_or(Path::new(".")),
    )
}

/// Reads a sweep config given as JSON text (a Python dict), relative paths from `base_dir`.
pub fn plan_from_json(text: &str, base_dir: &Path) -> Result<Plan> {
    let table: toml::Table =
        serde_json::from_str(text).map_err(|e| anyhow::anyhow!("invalid sweep config: {e}"))?;
    Plan::new(SweepSpec::parse(table, "(dict)")?, base_dir)
}

/// How a sweep ran, for its summary.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// `local` or `ray`.
    pub backend: String,
    /// Worker threads (local) or worker slots (ray) used.
    pub workers: usize,
    /// Seconds this invocation took.
    pub wall_s: f64,
    /// `true` when it was asked to stop before every job ran.
    pub stopped: bool,
}

/// What `summary.json` says about the folder after a run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `ddln`'s version.
    pub ddln_version: &'static str,
    /// Hash of the config's columns and jobs.
    pub fingerprint: String,
    /// Rows the config makes.
    pub rows_total: usize,
    /// Rows in the table now.
    pub rows_committed: usize,
    /// Rows this invocation computed.
    pub computed: usize,
    /// Rows found committed by an earlier invocation (not computed again).
    pub resumed: usize,
    /// Rows of an earlier invocation computed again (`retry_failed`).
    pub retried: usize,
    /// Committed rows by status.
    pub by_status: BTreeMap<String, usize>,
    /// `true` when every row is committed.
    pub complete: bool,
    /// How this invocation ran.
    pub run: RunInfo,
}

/// A sweep folder opened for a plan: what is done, what is left, and where rows go.
pub struct Session {
    /// The plan (shared with the workers).
    pub plan: Arc<Plan>,
    dir: SweepDir,
    rows: HashMap<String, Row>,
    resumed: usize,
    retried: usize,
    computed: usize,
}

impl Session {
    /// Opens `out` for `plan` (see [`SweepDir::open`]); with `retry_failed`, committed
    /// rows that did not succeed count as not done.
    pub fn open(plan: Plan, out: &Path, retry_failed: bool) -> Result<Session> {
        let (dir, mut rows) = SweepDir::open(out, &plan)?;
        let mut retried = 0;
        if retry_failed {
            let before = rows.len();
            rows.retain(|_, r| r.succeeded());
            retried = before - rows.len();
        }
        Ok(Session {
            plan: Arc::new(plan),
            dir,
            resumed: rows.len(),
            rows,
            retried,
            computed: 0,
        })
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        self.dir.root()
    }

    /// Indices (into `plan.jobs`) of the jobs not committed yet, in table order.
    pub fn pending(&self) -> Vec<usize> {
        (0..self.plan.jobs.len())
            .filter(|&j| !self.rows.contains_key(&self.plan.jobs[j].id))
            .collect()
    }

    /// Rows found committed when the folder was opened.
    pub fn resumed(&self) -> usize {
        self.resumed
    }

    /// Commits a computed row (it must be one of the plan's jobs).
    pub fn commit(&mut self, row: Row) -> Result<()> {
        let known = self.plan.jobs.get(row.row).is_some_and(|j| j.id == row.id);
        if !known {
            anyhow::bail!(
                "row {} with id {} is not a job of this sweep",
                row.row,
                row.id
            );
        }
        self.dir.commit(&row)?;
        self.rows.insert(row.id.clone(), row);
        self.computed += 1;
        Ok(())
    }

    /// The table of the committed rows.
    pub fn table(&self) -> Table {
        Table::build(&self.plan, &self.rows)
    }

    /// Writes `table.csv`, `table.parquet` and `summary.json` (each atomically) and
    /// returns the summary.
    pub fn finish(&mut self, run: RunInfo) -> Result<Summary> {
        self.dir.sync()?;
        let table = self.table();
        let root = self.root().to_path_buf();
        table.write_csv(&root.join("table.csv"))?;
        table.write_parquet(&root.join("table.parquet"))?;
        let mut by_status = BTreeMap::new();
        for row in self.rows.values() {
            *by_status.entry(row.status.clone()).or_insert(0) += 1;
        }
        let summary = Summary {
            ddln_version: env!("CARGO_PKG_VERSION"),
            fingerprint: self.plan.fingerprint.clone(),
            rows_total: self.plan.jobs.len(),
            rows_committed: self.rows.len(),
            computed: self.computed,
            resumed: self.resumed,
            retried: self.retried,
            by_status,
            complete: self.rows.len() == self.plan.jobs.len(),
            run,
        };
        crate::io::write_json(&root.join("summary.json"), &summary)?;
        Ok(summary)
    }
}
