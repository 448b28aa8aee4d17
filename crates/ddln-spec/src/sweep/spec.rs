//! The `[sweep]` table of a config: axes over the settings of the run spec, the tasks run
//! at each point and the measures kept. Parsed once, checked before anything runs.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Context, Result};
use ddln::mirror::{LpSettings, PredictSettings};
use ddln::vector::{check_sparsity_rtol, SPARSITY_RTOL};
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use super::measure::Measure;

/// What is computed at a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Gradient flow (the `[train]` settings when its method is `flow`, else the defaults).
    Flow,
    /// Gradient descent, SGD or momentum (needs `[train]` with `method = "descent"`).
    Descent,
    /// The implicit-bias predictor: where gradient flow from the init ends.
    Bias,
}

impl Task {
    /// Every task, in the order of the docs.
    pub const ALL: [Task; 3] = [Task::Flow, Task::Descent, Task::Bias];

    /// The name used in configs and in the table's `task` column.
    pub fn name(self) -> &'static str {
        match self {
            Task::Flow => "flow",
            Task::Descent => "descent",
            Task::Bias => "bias",
        }
    }

    fn parse(name: &str) -> Result<Task> {
        Task::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| anyhow!("invalid value for `sweep.tasks`: unknown task `{name}`; expected one of flow, descent, bias"))
    }
}

/// Settings of the measures (what "sparse", "converged" and "test set" mean).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MeasureSettings {
    /// `nnz` counts entries with `|theta_i| > sparsity_tol * max_j |theta_j|`.
    pub sparsity_tol: f64,
    /// `t_loss` is the first time the loss is at most `loss_level` times the initial loss.
    pub loss_level: f64,
    /// Samples of the seeded test set of `test_error` (sparse-recovery data).
    pub test_n: usize,
    /// Seed of the test set's design (independent of the training data's seed).
    pub test_seed: u64,
    /// The predictor's settings (task `bias`, and `rel_dist_predicted`).
    pub predict: PredictSettings,
    /// The linear programs of `dist_l1`.
    pub lp: LpSettings,
}

/// Default `loss_level` of `t_loss`.
pub const DEFAULT_LOSS_LEVEL: f64 = 1e-6;
/// Default size of the test set.
pub const DEFAULT_TEST_N: usize = 1000;
/// Default seed of the test set.
pub const DEFAULT_TEST_SEED: u64 = 1_000_003;

impl Default for MeasureSettings {
    fn default() -> Self {
        MeasureSettings {
            sparsity_tol: SPARSITY_RTOL,
            loss_level: DEFAULT_LOSS_LEVEL,
            test_n: DEFAULT_TEST_N,
            test_seed: DEFAULT_TEST_SEED,
            predict: PredictSettings::default(),
            lp: LpSettings::default(),
        }
    }
}

impl MeasureSettings {
    fn validate(&self) -> Result<()> {
        check_sparsity_rtol("sweep.sparsity_tol", self.sparsity_tol)?;
        if !(self.loss_level > 0.0 && self.loss_level < 1.0) {
            bail!(
                "invalid value for `sweep.loss_level`: {} is not in (0, 1) (a fraction of the initial loss)",
                self.loss_level
            );
        }
        if self.test_n == 0 {
            bail!("invalid value for `sweep.test_n`: need at least one test sample");
        }
        self.predict.validate()?;
        Ok(())
    }
}

/// One axis of the grid: one setting, or several varying together (`zip`).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The dotted paths of the settings (one, or a zipped group).
    pub paths: Vec<String>,
    /// `values[k][j]`: the value of `paths[j]` at position `k`.
    pub values: Vec<Vec<Value>>,
}

/// The name of the axis that `seeds = N` adds (innermost).
pub const SEED_AXIS: &str = "seed";

/// A parsed sweep config: the run spec and its `[sweep]` table.
#[derive(Debug, Clone)]
pub struct SweepSpec {
    /// The run spec without `[sweep]` (the point every axis starts from).
    pub base: Table,
    /// Tasks run at each point, in table order.
    pub tasks: Vec<Task>,
    /// Measures kept, in column order.
    pub measures: Vec<Measure>,
    /// The axes, outermost first.
    pub axes: Vec<Axis>,
    /// `seeds = N`: each point is repeated with every seed of the spec shifted by
    /// `0..N` (an innermost axis named `seed`).
    pub seeds: Option<u64>,
    /// A task runs only on this fraction of the points (chosen by their id).
    pub sample: BTreeMap<Task, f64>,
    /// A task runs only at the points matching one of these axis values.
    pub select: BTreeMap<Task, Vec<Table>>,
    /// Points whose trajectories are written (matching axis values).
    pub trajectories: Vec<Table>,
    /// What the measures mean.
    pub settings: MeasureSettings,
    /// The whole config as given (with `[sweep]`), for the folder's record.
    pub source: Table,
}

const RESERVED: [&str; 8] = [
    "tasks",
    "measures",
    "seeds",
    "sample",
    "select",
    "trajectories",
    "zip",
    "settings",
];

impl SweepSpec {
    /// Parses a config that holds a `[sweep]` table; `origin` names it in errors.
    pub fn parse(mut source: Table, origin: &str) -> Result<SweepSpec> {
        let given = source.clone();
        let sweep = match source.remove("sweep") {
            Some(Value::Table(t)) => t,
            Some(_) => bail!("invalid config {origin}: `sweep` must be a table"),
            None => bail!("invalid config {origin}: no [sweep] table (the axes of the grid); see the README's sweep section"),
        };
        let mut base = source;
        base.entry("train")
            .or_insert_with(|| Value::Table(Table::from_iter([("method".into(), "flow".into())])));
        let mut spec = SweepSpec {
            base,
            tasks: vec![Task::Flow],
            measures: Measure::DEFAULT.to_vec(),
            axes: Vec::new(),
            seeds: None,
            sample: BTreeMap::new(),
            select: BTreeMap::new(),
            trajectories: Vec::new(),
            settings: MeasureSettings::default(),
            source: given,
        };
        for (key, value) in sweep {
            let field = format!("sweep.{key}");
            match key.as_str() {
                "tasks" => spec.tasks = parse_names(&value, &field, Task::parse)?,
                "measures" => spec.measures = parse_names(&value, &field, Measure::parse)?,
                "seeds" => {
                    let n = value
                        .as_integer()
                        .filter(|n| *n >= 1)
                        .with_context(|| format!("invalid value for `{field}`: expected a positive integer (the number of seeds), got {value}"))?;
                    spec.seeds = Some(n as u64);
                }
                "sample" => {
                    for (task, frac) in table_of(&value, &field)? {
                        let p = frac.as_float().or(frac.as_integer().map(|i| i as f64));
                        let p = p.filter(|p| *p > 0.0 && *p <= 1.0).with_context(|| {
                            format!("invalid value for `{field}.{task}`: expected a fraction in (0, 1], got {frac}")
                        })?;
                        spec.sample.insert(Task::parse(task)?, p);
                    }
                }
                "select" => {
                    for (task, points) in table_of(&value, &field)? {
                        let list = tables_of(points, &format!("{field}.{task}"))?;
                        spec.select.insert(Task::parse(task)?, list);
                    }
                }
                "trajectories" => spec.trajectories = tables_of(&value, &field)?,
                "zip" => {
                    let groups = value.as_array().with_context(|| {
                        format!("invalid value for `{field}`: expected a list of tables of axes that vary together")
                    })?;
                    for group in groups {
                        spec.axes.push(zipped_axis(group, &field)?);
                    }
                }
                "settings" => {
                    spec.settings = value
                        .try_into()
                        .map_err(|e| anyhow!("invalid value for `{field}`: {e}"))?;
                }
                _ => spec.axes.push(Axis {
                    values: axis_values(&value, &field)?
                        .into_iter()
                        .map(|v| vec![v])
                        .collect(),
                    paths: vec![key],
                }),
            }
        }
        spec.check(origin)?;
        Ok(spec)
    }

    fn check(&self, origin: &str) -> Result<()> {
        if self.tasks.is_empty() {
            bail!("invalid value for `sweep.tasks` in {origin}: name at least one task (flow, descent, bias)");
        }
        for (i, t) in self.tasks.iter().enumerate() {
            if self.tasks[..i].contains(t) {
                bail!(
                    "invalid value for `sweep.tasks` in {origin}: `{}` is listed twice",
                    t.name()
                );
            }
        }
        for task in self.sample.keys().chain(self.select.keys()) {
            if !self.tasks.contains(task) {
                bail!("invalid config {origin}: `sweep.sample` or `sweep.select` names the task `{}`, which is not in `sweep.tasks`", task.name());
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for path in self.axes.iter().flat_map(|a| &a.paths) {
            if seen.contains(&path.as_str()) || (self.seeds.is_some() && path == SEED_AXIS) {
                bail!("invalid config {origin}: the axis `{path}` is given twice");
            }
            if RESERVED.contains(&path.as_str()) || path == "sweep" || path.starts_with("sweep.") {
                bail!("invalid config {origin}: `{path}` cannot be an axis");
            }
            seen.push(path);
        }
        for pattern in self
            .trajectories
            .iter()
            .chain(self.select.values().flatten())
        {
            for key in pattern.keys() {
                let is_axis =
                    seen.contains(&key.as_str()) || (self.seeds.is_some() && key == SEED_AXIS);
                if !is_axis {
                    bail!("invalid config {origin}: `{key}` in `sweep.select` or `sweep.trajectories` is not an axis of the sweep");
                }
            }
        }
        self.settings.validate()
    }

    /// The column names of the axes, in order (with `seed` last when `seeds` is set).
    pub fn axis_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.axes.iter().flat_map(|a| a.paths.clone()).collect();
        if self.seeds.is_some() {
            names.push(SEED_AXIS.into());
        }
        names
    }

    /// Number of grid points (before tasks).
    pub fn n_points(&self) -> Result<usize> {
        let mut n: usize = self.seeds.map_or(1, |s| s as usize);
        for axis in &self.axes {
            n = n
                .checked_mul(axis.values.len())
                .context("the sweep has more points than fit in memory")?;
        }
        Ok(n)
    }
}

fn parse_names<T>(value: &Value, field: &str, parse: impl Fn(&str) -> Result<T>) -> Result<Vec<T>> {
    let list = value
        .as_array()
        .with_context(|| format!("invalid value for `{field}`: expected a list of names"))?;
    list.iter()
        .map(|v| {
            v.as_str()
                .with_context(|| format!("invalid value for `{field}`: {v} is not a name"))
                .and_then(&parse)
        })
        .collect()
}

fn table_of<'a>(value: &'a Value, field: &str) -> Result<&'a Table> {
    value
        .as_table()
        .with_context(|| format!("invalid value for `{field}`: expected a table"))
}

fn tables_of(value: &Value, field: &str) -> Result<Vec<Table>> {
    let list = value.as_array().with_context(|| {
        format!("invalid value for `{field}`: expected a list of tables of axis values")
    })?;
    list.iter()
        .map(|v| {
            v.as_table()
                .cloned()
                .with_context(|| format!("invalid value for `{field}`: {v} is not a table"))
        })
        .collect()
}

fn zipped_axis(group: &Value, field: &str) -> Result<Axis> {
    let table = table_of(group, field)?;
    if table.is_empty() {
        bail!("invalid value for `{field}`: an empty group");
    }
    let mut paths = Vec::new();
    let mut columns: Vec<Vec<Value>> = Vec::new();
    for (path, value) in table {
        let values = axis_values(value, &format!("{field}.{path}"))?;
        if let Some(first) = columns.first() {
            if first.len() != values.len() {
                bail!(
                    "invalid value for `{field}`: the zipped axes `{}` ({} values) and `{path}` ({} values) differ in length",
                    paths[0], first.len(), values.len()
                );
            }
        }
        paths.push(path.clone());
        columns.push(values);
    }
    let len = columns[0].len();
    let values = (0..len)
        .map(|k| columns.iter().map(|c| c[k].clone()).collect())
        .collect();
    Ok(Axis { paths, values })
}

/// The values of one axis: a list, or `{ logspace = [a, b, n] }` (`n` values from `10^a`
/// to `10^b`), `{ linspace = [a, b, n] }`, `{ range = [a, b] }` / `[a, b, step]`
/// (integers `a, a + step, ... < b`).
fn axis_values(value: &Value, field: &str) -> Result<Vec<Value>> {
    let values = match value {
        Value::Array(list) => list.clone(),
        Value::Table(t) if t.len() == 1 => {
            let (kind, args) = t.iter().next().expect("one entry");
            let nums = args
                .as_array()
                .with_context(|| format!("invalid value for `{field}.{kind}`: expected a list of numbers"))?;
            let float = |k: usize| -> Result<f64> {
                nums[k]
                    .as_float()
                    .or(nums[k].as_integer().map(|i| i as f64))
                    .filter(|x| x.is_finite())
                    .with_context(|| format!("invalid value for `{field}.{kind}`: {} is not a finite number", nums[k]))
            };
            let int = |k: usize| -> Result<i64> {
                nums[k].as_integer().with_context(|| {
                    format!("invalid value for `{field}.{kind}`: {} is not an integer", nums[k])
                })
            };
            match (kind.as_str(), nums.len()) {
                ("logspace", 3) => spaced(float(0)?, float(1)?, int(2)?, field)?
                    .into_iter()
                    .map(|e| Value::Float(10f64.powf(e)))
                    .collect(),
                ("linspace", 3) => spaced(float(0)?, float(1)?, int(2)?, field)?
                    .into_iter()
                    .map(Value::Float)
                    .collect(),
                ("range", 2 | 3) => {
                    let step = if nums.len() == 3 { int(2)? } else { 1 };
                    if step <= 0 {
                        bail!("invalid value for `{field}.range`: the step must be positive, got {step}");
                    }
                    let (a, b) = (int(0)?, int(1)?);
                    (0..)
                        .map(|k| a + k * step)
                        .take_while(|v| *v < b)
                        .map(Value::Integer)
                        .collect()
                }
                _ => bail!("invalid value for `{field}`: expected a list, {{ logspace = [a, b, n] }}, {{ linspace = [a, b, n] }} or {{ range = [a, b] }}"),
            }
        }
        _ => bail!("invalid value for `{field}`: expected a list, {{ logspace = [a, b, n] }}, {{ linspace = [a, b, n] }} or {{ range = [a, b] }}"),
    };
    if values.is_empty() {
        bail!("invalid value for `{field}`: the axis is empty (give at least one value)");
    }
    Ok(values)
}

/// `n` evenly spaced numbers from `a` to `b` (both included).
fn spaced(a: f64, b: f64, n: i64, field: &str) -> Result<Vec<f64>> {
    match n {
        n if n < 1 => {
            bail!("invalid value for `{field}`: the number of values must be at least 1, got {n}")
        }
        1 => Ok(vec![a]),
        n => Ok((0..n)
            .map(|k| a + (b - a) * k as f64 / (n - 1) as f64)
            .collect()),
    }
}

/// `m` values from `10^lo` to `10^hi`, evenly spaced in the exponent: the grid of
/// `{ logspace = [lo, hi, m] }`.
pub fn logspace(lo: f64, hi: f64, m: usize) -> Vec<f64> {
    spaced(lo, hi, m as i64, "logspace")
        .unwrap_or_default()
        .into_iter()
        .map(|e| 10f64.powf(e))
        .collect()
}
