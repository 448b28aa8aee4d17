//! The grid of a sweep, resolved: every point's run spec, loaded and checked before
//! anything runs, and the jobs (point x task) with the ids that name them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::{anyhow, bail, Context, Result};
use ddln::{FlowSettings, Method, Problem};
use serde_json::json;
use sha2::{Digest, Sha256};
use toml::{Table, Value};

use super::baselines::Baselines;
use super::spec::{SweepSpec, Task};
use crate::config::{DataSpec, TrainConfig};

/// One point of the grid.
#[derive(Debug, Clone)]
pub struct Point {
    /// The values of the axes ([`SweepSpec::axis_names`]) at this point.
    pub coords: Vec<Value>,
    /// The run spec of the point.
    pub config: TrainConfig,
    /// Which entry of [`Plan::data`] holds its problem.
    pub data: usize,
}

/// One row of the table: a task at a point.
#[derive(Debug, Clone)]
pub struct Job {
    /// Position in the table (grid order, then task order).
    pub row: usize,
    /// The point ([`Plan::points`]).
    pub point: usize,
    /// The task.
    pub task: Task,
    /// The method a `flow` or `descent` job runs.
    pub method: Method,
    /// Hash of the job's full resolved spec (task, settings, data content).
    pub id: String,
    /// Whether its trajectory is written.
    pub trajectory: bool,
}

/// A problem shared by the points that use the same data, with what is derived from it
/// once (the interpolators, the test set).
pub struct DataEntry {
    /// The problem.
    pub problem: Problem,
    /// The sparse ground truth (sparse-recovery data).
    pub theta_star: Option<Vec<f64>>,
    /// Content hash of `X`, `y`, loss and scaling.
    pub fingerprint: String,
    /// The interpolators, computed on first use.
    pub baselines: OnceLock<std::result::Result<Arc<Baselines>, String>>,
    /// The seeded test design of `test_error`, drawn on first use.
    pub test_x: OnceLock<Vec<f64>>,
}

/// A sweep, resolved and checked.
pub struct Plan {
    /// The parsed config.
    pub spec: SweepSpec,
    /// The points, in grid order (first axis outermost).
    pub points: Vec<Point>,
    /// The jobs, in table order (sampled and selected tasks only).
    pub jobs: Vec<Job>,
    /// The distinct problems of the points.
    pub data: Vec<DataEntry>,
    /// Hash of the columns and every job id: equal for configs that make the same table.
    pub fingerprint: String,
}

impl Plan {
    /// Resolves every point of `spec` (relative data and init paths from `base_dir`),
    /// loads and checks it; an invalid point is an error that names it.
    pub fn new(spec: SweepSpec, base_dir: &Path) -> Result<Plan> {
        let names = spec.axis_names();
        let n_points = spec.n_points()?;
        let mut points = Vec::with_capacity(n_points);
        let mut data: Vec<DataEntry> = Vec::new();
        let mut data_index: HashMap<String, usize> = HashMap::new();
        for index in 0..n_points {
            let coords = spec.coords(index);
            let describe = || describe_point(index, &names, &coords);
            let mut table = spec.base.clone();
            for (path, value) in names.iter().zip(&coords) {
                if path == super::spec::SEED_AXIS && spec.seeds.is_some() {
                    shift_seeds(&mut table, value.as_integer().unwrap_or(0));
                } else {
                    set_path(&mut table, path, value.clone())
                        .with_context(|| format!("sweep axis `{path}`"))?;
                }
            }
            let mut config: TrainConfig = Value::Table(table)
                .try_into()
                .map_err(|e| anyhow!("invalid config at {}: {e}", describe()))?;
            config.resolve_paths(base_dir);
            let key = serde_json::to_string(&json!({
                "data": config.data, "loss": config.loss, "scaling": config.loss_scaling,
            }))?;
            let slot = match data_index.get(&key) {
                Some(&slot) => slot,
                None => {
                    let loaded = config
                        .load_data()
                        .with_context(|| format!("invalid data at {}", describe()))?;
                    data.push(DataEntry {
                        fingerprint: loaded.problem.fingerprint(),
                        problem: loaded.problem,
                        theta_star: loaded.theta_star,
                        baselines: OnceLock::new(),
                        test_x: OnceLock::new(),
                    });
                    data_index.insert(key, data.len() - 1);
                    data.len() - 1
                }
            };
            config
                .load_init(&data[slot].problem)
                .with_context(|| format!("invalid point {}", describe()))?;
            points.push(Point {
                coords,
                config,
                data: slot,
            });
        }
        let jobs = jobs_of(&spec, &points, &data, &names)?;
        let mut hasher = Sha256::new();
        hasher.update(names.join("\n"));
        hasher.update(
            spec.measures
                .iter()
                .map(|m| m.name())
                .collect::<Vec<_>>()
                .join(","),
        );
        for job in &jobs {
            hasher.update(&job.id);
        }
        let fingerprint = hex(&hasher.finalize()[..16]);
        Ok(Plan {
            spec,
            points,
            jobs,
            data,
            fingerprint,
        })
    }

    /// The column names of the axes.
    pub fn axis_names(&self) -> Vec<String> {
        self.spec.axis_names()
    }
}

impl SweepSpec {
    /// The axis values of grid point `index` (mixed radix, first axis outermost).
    pub fn coords(&self, mut index: usize) -> Vec<Value> {
        let mut radices: Vec<usize> = self.axes.iter().map(|a| a.values.len()).collect();
        if let Some(s) = self.seeds {
            radices.push(s as usize);
        }
        let mut digits = vec![0; radices.len()];
        for (digit, radix) in digits.iter_mut().zip(&radices).rev() {
            *digit = index % radix;
            index /= radix;
        }
        let mut coords = Vec::new();
        for (axis, &k) in self.axes.iter().zip(&digits) {
            coords.extend(axis.values[k].iter().cloned());
        }
        if self.seeds.is_some() {
            coords.push(Value::Integer(digits[digits.len() - 1] as i64));
        }
        coords
    }
}

fn jobs_of(
    spec: &SweepSpec,
    points: &[Point],
    data: &[DataEntry],
    names: &[String],
) -> Result<Vec<Job>> {
    let mut jobs: Vec<Job> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (p, point) in points.iter().enumerate() {
        for &task in &spec.tasks {
            let method = method_for(task, &point.config).with_context(|| {
                format!("invalid point {}", describe_point(p, names, &point.coords))
            })?;
            let mut resolved = point.config.clone();
            resolved.train = method.clone();
            if let DataSpec::Files { .. } = resolved.data {
                // Files are named by their content, not by where they lie.
                resolved.data = DataSpec::Files {
                    x: PathBuf::from("X.npy"),
                    y: PathBuf::from("y.npy"),
                };
            }
            let id = hex(&Sha256::digest(serde_json::to_vec(&json!({
                "task": task, "config": resolved, "data": data[point.data].fingerprint,
                "settings": spec.settings, "version": ID_SCHEMA,
            }))?)[..8]);
            let selected = match (spec.select.get(&task), spec.sample.get(&task)) {
                (None, None) => true,
                (select, sample) => {
                    select.is_some_and(|list| {
                        list.iter().any(|pat| matches(pat, names, &point.coords))
                    }) || sample.is_some_and(|&frac| unit_fraction(&id) < frac)
                }
            };
            if !selected {
                continue;
            }
            if let Some(&other) = seen.get(&id) {
                bail!(
                    "invalid sweep: points {} and {} resolve to the same run spec (an axis repeats a value?)",
                    describe_point(jobs[other].point, names, &points[jobs[other].point].coords),
                    describe_point(p, names, &point.coords)
                );
            }
            seen.insert(id.clone(), jobs.len());
            let trajectory = task != Task::Bias
                && spec
                    .trajectories
                    .iter()
                    .any(|pat| matches(pat, names, &point.coords));
            jobs.push(Job {
                row: jobs.len(),
                point: p,
                task,
                method,
                id,
                trajectory,
            });
        }
    }
    Ok(jobs)
}

/// Bumped when the meaning of a job's inputs changes, so old ids are not reused.
const ID_SCHEMA: u32 = 1;

fn method_for(task: Task, config: &TrainConfig) -> Result<Method> {
    Ok(match (task, &config.train) {
        (Task::Flow, Method::Flow(s)) => Method::Flow(s.clone()),
        (Task::Flow | Task::Bias, _) => Method::Flow(FlowSettings::default()),
        (Task::Descent, Method::Descent(s)) => Method::Descent(s.clone()),
        (Task::Descent, Method::Flow(_)) => {
            bail!("the task `descent` needs [train] with method = \"descent\" (and its step)")
        }
    })
}

/// `true` when every key of `pattern` names an axis whose value at the point equals it
/// (numbers to 1e-12 relative, so `0.01` matches a logspace's `10^-2`).
fn matches(pattern: &Table, names: &[String], coords: &[Value]) -> bool {
    pattern.iter().all(|(key, want)| {
        names
            .iter()
            .position(|n| n == key)
            .is_some_and(|k| same_value(&coords[k], want))
    })
}

fn same_value(a: &Value, b: &Value) -> bool {
    let num = |v: &Value| v.as_float().or(v.as_integer().map(|i| i as f64));
    match (num(a), num(b)) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
        _ => a == b,
    }
}

/// The id's first 52 bits as a number in [0, 1): which points a `sample` keeps.
fn unit_fraction(id: &str) -> f64 {
    u64::from_str_radix(&id[..13], 16).unwrap_or(0) as f64 / (1u64 << 52) as f64
}

fn describe_point(index: usize, names: &[String], coords: &[Value]) -> String {
    let parts: Vec<String> = names
        .iter()
        .zip(coords)
        .map(|(n, v)| format!("{n} = {v}"))
        .collect();
    format!("point {index} ({})", parts.join(", "))
}

/// Sets the setting at a dotted path, creating the tables on the way.
fn set_path(table: &mut Table, path: &str, value: Value) -> Result<()> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts
        .pop()
        .filter(|s| !s.is_empty())
        .context("an empty setting name")?;
    let mut here = table;
    for part in parts {
        let entry = here
            .entry(part)
            .or_insert_with(|| Value::Table(Table::new()));
        here = entry.as_table_mut().with_context(|| {
            format!("`{part}` is not a table of settings, so `{path}` names no setting")
        })?;
    }
    here.insert(last.to_string(), value);
    Ok(())
}

/// Adds `offset` to every integer setting named `seed` (data, init, trainer).
fn shift_seeds(table: &mut Table, offset: i64) {
    for (key, value) in table.iter_mut() {
        match value {
            Value::Integer(s) if key == "seed" => *s += offset,
            Value::Table(t) => shift_seeds(t, offset),
            _ => {}
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
