//! `ddln.sweep`: the core's sweep machinery (`ddln_spec::sweep`) for the pure-Python
//! front (`python/ddln/sweep.py`), which picks the backend. The local backend runs here
//! on a thread pool; the Ray backend opens a [`PySweepSession`] in the driver, computes
//! batches of jobs with [`_sweep_evaluate`] in the workers, and commits their rows in the
//! driver, so that both write the same table through the same code.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ddln_spec::sweep::table::Cells;
use ddln_spec::sweep::{
    evaluate, local::run_local, plan_from_json, Plan, Row, RunInfo, Session, Table,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{Error, Result};

/// A spec-level error (the message names the setting, the point and the fix).
fn spec_error(e: anyhow::Error) -> Error {
    Error::Py(crate::errors::DdlnError::new_err(format!("{e:#}")))
}

/// The table as a dict of lists (numbers with NaN for empty cells, text, booleans);
/// `ddln.sweep` turns the lists into numpy arrays.
fn table_dict<'py>(py: Python<'py>, table: &Table) -> Result<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for col in &table.columns {
        match &col.cells {
            Cells::Int(v) if v.iter().all(Option::is_some) => dict.set_item(
                &col.name,
                v.iter().map(|x| x.unwrap_or(0)).collect::<Vec<i64>>(),
            )?,
            Cells::Int(v) => dict.set_item(
                &col.name,
                v.iter()
                    .map(|x| x.map_or(f64::NAN, |i| i as f64))
                    .collect::<Vec<f64>>(),
            )?,
            Cells::Float(v) => dict.set_item(
                &col.name,
                v.iter()
                    .map(|x| x.unwrap_or(f64::NAN))
                    .collect::<Vec<f64>>(),
            )?,
            Cells::Text(v) => dict.set_item(
                &col.name,
                v.iter()
                    .map(|x| x.clone().unwrap_or_default())
                    .collect::<Vec<String>>(),
            )?,
            Cells::Bool(v) => dict.set_item(
                &col.name,
                v.iter().map(|x| x.unwrap_or(false)).collect::<Vec<bool>>(),
            )?,
        }
    }
    Ok(dict)
}

fn plan_of(config_json: &str, base_dir: &str) -> Result<Plan> {
    plan_from_json(config_json, Path::new(base_dir)).map_err(spec_error)
}

/// Runs a sweep on this machine's cores; returns `(summary JSON, table)`. Ctrl-C stops
/// it after the rows in flight (they are not committed) and raises `KeyboardInterrupt`
/// once the table of what was committed is written.
#[pyfunction]
#[pyo3(signature = (config_json, base_dir, out, threads=0, retry_failed=false, progress=false))]
pub fn _sweep_local<'py>(
    py: Python<'py>,
    config_json: &str,
    base_dir: &str,
    out: &str,
    threads: usize,
    retry_failed: bool,
    progress: bool,
) -> Result<(String, Bound<'py, PyDict>)> {
    let plan = py.detach(|| plan_of(config_json, base_dir))?;
    let mut session = Session::open(plan, Path::new(out), retry_failed).map_err(spec_error)?;
    let start = Instant::now();
    let mut last = Instant::now();
    let interrupted = Mutex::new(None);
    let info = py.detach(|| {
        run_local(
            &mut session,
            threads,
            |_, done, total| {
                if progress && (last.elapsed().as_secs_f64() >= 1.0 || done == total) {
                    last = Instant::now();
                    let rate = done as f64 / start.elapsed().as_secs_f64().max(1e-9);
                    eprintln!(
                        "ddln.sweep: {done}/{total} rows, ETA {:.0} s",
                        (total - done) as f64 / rate
                    );
                }
            },
            || {
                Python::attach(|py| match py.check_signals() {
                    Ok(()) => false,
                    Err(e) => {
                        *interrupted.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                        true
                    }
                })
            },
        )
    });
    let info = info.map_err(spec_error)?;
    let summary = session.finish(info).map_err(spec_error)?;
    if let Some(e) = interrupted.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(Error::Py(e));
    }
    let text = serde_json::to_string(&summary).map_err(|e| spec_error(e.into()))?;
    Ok((text, table_dict(py, &session.table())?))
}

/// The plans workers computed jobs of, by config: a worker process plans once per sweep.
static WORKER_PLAN: Mutex<Option<(String, Arc<Plan>)>> = Mutex::new(None);

/// Computes jobs `jobs` (indices into the plan's jobs) of a sweep and returns their rows
/// as JSON lines (the Ray backend's worker side; trajectories are written into `out`).
#[pyfunction]
pub fn _sweep_evaluate(
    py: Python<'_>,
    config_json: &str,
    base_dir: &str,
    out: &str,
    jobs: Vec<usize>,
) -> Result<Vec<String>> {
    py.detach(|| {
        let key = format!("{base_dir}\n{config_json}");
        let plan = {
            let mut cached = WORKER_PLAN.lock().unwrap_or_else(|p| p.into_inner());
            match cached.as_ref() {
                Some((k, plan)) if *k == key => plan.clone(),
                _ => {
                    let plan = Arc::new(plan_of(config_json, base_dir)?);
                    *cached = Some((key, plan.clone()));
                    plan
                }
            }
        };
        let never = std::sync::atomic::AtomicBool::new(false);
        let mut lines = Vec::with_capacity(jobs.len());
        for j in jobs {
            let job = plan.jobs.get(j).ok_or_else(|| {
                spec_error(anyhow::anyhow!(
                    "job {j} is not in this sweep ({} jobs)",
                    plan.jobs.len()
                ))
            })?;
            let row = evaluate(&plan, job, &never, Some(Path::new(out)))
                .map_err(spec_error)?
                .expect("a job that is never stopped returns its row");
            lines.push(serde_json::to_string(&row).map_err(|e| spec_error(e.into()))?);
        }
        Ok(lines)
    })
}

/// A sweep folder opened by a driver that computes its jobs elsewhere (Ray).
#[pyclass(name = "SweepSession", module = "ddln._ddln")]
pub struct PySweepSession {
    session: Session,
}

#[pymethods]
impl PySweepSession {
    /// Opens (or resumes) the folder `out` for the sweep config (JSON text).
    #[new]
    #[pyo3(signature = (config_json, base_dir, out, retry_failed=false))]
    fn new(
        py: Python<'_>,
        config_json: &str,
        base_dir: &str,
        out: &str,
        retry_failed: bool,
    ) -> Result<Self> {
        let plan = py.detach(|| plan_of(config_json, base_dir))?;
        let session = Session::open(plan, Path::new(out), retry_failed).map_err(spec_error)?;
        Ok(PySweepSession { session })
    }

    /// Indices of the jobs not committed yet, in table order.
    fn pending(&self) -> Vec<usize> {
        self.session.pending()
    }

    /// Number of rows the config makes.
    fn total(&self) -> usize {
        self.session.plan.jobs.len()
    }

    /// Rows found committed when the folder was opened.
    fn resumed(&self) -> usize {
        self.session.resumed()
    }

    /// Commits rows computed by `_sweep_evaluate` (JSON lines).
    fn commit(&mut self, lines: Vec<String>) -> Result<()> {
        for line in lines {
            let row: Row = serde_json::from_str(&line).map_err(|e| {
                spec_error(anyhow::anyhow!("a worker returned an invalid row: {e}"))
            })?;
            self.session.commit(row).map_err(spec_error)?;
        }
        Ok(())
    }

    /// Writes the table and `summary.json`; returns the summary as JSON.
    #[pyo3(signature = (backend, workers, wall_s, stopped=false))]
    fn finish(
        &mut self,
        backend: &str,
        workers: usize,
        wall_s: f64,
        stopped: bool,
    ) -> Result<String> {
        let info = RunInfo {
            backend: backend.into(),
            workers,
            wall_s,
            stopped,
        };
        let summary = self.session.finish(info).map_err(spec_error)?;
        serde_json::to_string(&summary).map_err(|e| spec_error(e.into()))
    }

    /// The table of the committed rows (a dict of lists).
    fn table<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyDict>> {
        table_dict(py, &self.session.table())
    }
}
