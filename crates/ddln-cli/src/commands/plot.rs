//! `ddln plot DIR`: figures from a sweep's table. `--x A --y B --color M` draws a heat map
//! of measure M over axes A and B; `--x A --y M [--by B]` draws M against A, one curve per
//! value of B. Rows that share the plotted coordinates (seeds, other axes) are averaged.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use ddln_spec::sweep::table::CsvTable;

use crate::heatmap::HeatMap;
use crate::plot::{self, Chart, Series, PALETTE};

/// Options of `ddln plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// The sweep's folder (it holds table.csv).
    pub dir: PathBuf,
    /// Column on the horizontal axis (a full name like `init.scale`, or its last part).
    #[arg(long)]
    pub x: String,
    /// Column on the vertical axis: an axis (heat map, with --color) or a measure (lines).
    #[arg(long)]
    pub y: String,
    /// Heat map: the measure that colours the cells.
    #[arg(long)]
    pub color: Option<String>,
    /// Lines: one curve per value of this column.
    #[arg(long)]
    pub by: Option<String>,
    /// Only the rows of this task (flow, descent, bias) [default: the first task in the table].
    #[arg(long)]
    pub task: Option<String>,
    /// Output path without extension; writes .png and .svg [default: DIR/plots/NAME].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `ddln plot`.
pub fn run(args: &PlotArgs) -> Result<()> {
    let table = CsvTable::read(&args.dir.join("table.csv"))?;
    let task_col = table.column("task")?;
    let task = match &args.task {
        Some(t) => t.clone(),
        None => match table.rows.first() {
            Some(row) => row[task_col].clone(),
            None => bail!("{} has no rows yet", args.dir.join("table.csv").display()),
        },
    };
    let rows: Vec<&Vec<String>> = table.rows.iter().filter(|r| r[task_col] == task).collect();
    if rows.is_empty() {
        bail!("invalid value for `--task`: the table has no rows of task `{task}`");
    }
    let x = table.column(&args.x)?;
    let y = table.column(&args.y)?;
    let name = match (&args.color, &args.by) {
        (Some(c), _) => format!(
            "{}_{}_{}",
            short(&table.header[x]),
            short(&table.header[y]),
            c
        ),
        (None, Some(b)) => format!("{}_by_{}", short(&table.header[y]), b),
        (None, None) => short(&table.header[y]).to_string(),
    };
    let stem = match &args.out {
        Some(p) => p.clone(),
        None => {
            let dir = args.dir.join("plots");
            crate::io::ensure_dir(&dir)?;
            dir.join(name)
        }
    };
    if let Some(color) = &args.color {
        if args.by.is_some() {
            bail!("invalid option `--by`: a heat map (--color) has no curves");
        }
        let c = table.column(color)?;
        let map = heat_map(&table, &rows, x, y, c, &task)?;
        plot::save(&map, &stem)?;
    } else {
        let by = args.by.as_deref().map(|b| table.column(b)).transpose()?;
        let chart = lines(&table, &rows, x, y, by, &task)?;
        plot::save(&chart, &stem)?;
    }
    eprintln!("wrote {0}.png and {0}.svg", stem.display());
    Ok(())
}

fn short(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

fn number(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok()
}

/// Sorted distinct values of a column (numbers numerically, otherwise as text).
fn levels(rows: &[&Vec<String>], k: usize) -> Vec<String> {
    let mut v: Vec<String> = rows.iter().map(|r| r[k].clone()).collect();
    v.sort_by(|a, b| match (number(a), number(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    });
    v.dedup();
    v
}

/// The mean of the finite values (None if there are none).
fn mean(values: &[f64]) -> Option<f64> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    (!finite.is_empty()).then(|| finite.iter().sum::<f64>() / finite.len() as f64)
}

/// Values span at least two decades, all positive: a log scale shows them.
fn spans_decades(values: impl Iterator<Item = f64>) -> bool {
    let (lo, hi) = values.fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    lo > 0.0 && hi / lo >= 100.0
}

fn heat_map(
    table: &CsvTable,
    rows: &[&Vec<String>],
    x: usize,
    y: usize,
    c: usize,
    task: &str,
) -> Result<HeatMap> {
    let (xs, ys) = (levels(rows, x), levels(rows, y));
    let mut groups: BTreeMap<(usize, usize), Vec<f64>> = BTreeMap::new();
    for r in rows {
        let i = xs.iter().position(|v| *v == r[x]).unwrap_or(0);
        let j = ys.iter().position(|v| *v == r[y]).unwrap_or(0);
        groups.entry((j, i)).or_default().extend(number(&r[c]));
    }
    let cells: Vec<Vec<Option<f64>>> = (0..ys.len())
        .map(|j| {
            (0..xs.len())
                .map(|i| groups.get(&(j, i)).and_then(|v| mean(v)))
                .collect()
        })
        .collect();
    let per_cell = rows.len() / (xs.len() * ys.len()).max(1);
    let log_color = spans_decades(cells.iter().flatten().flatten().copied());
    let fmt = |v: &String| {
        number(v).map_or(v.clone(), |n| {
            format!("{n:.3}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        })
    };
    let tick = |v: &String| match number(v) {
        Some(n) if n != 0.0 && (n.abs() < 1e-2 || n.abs() >= 1e4) => format!("{n:.1e}"),
        _ => fmt(v),
    };
    Ok(HeatMap {
        title: format!(
            "{} ({task}{})",
            table.header[c],
            if per_cell > 1 {
                format!(", mean of {per_cell} rows per cell")
            } else {
                String::new()
            }
        ),
        x_label: table.header[x].clone(),
        y_label: table.header[y].clone(),
        color_label: table.header[c].clone(),
        x_ticks: xs.iter().map(tick).collect(),
        y_ticks: ys.iter().map(tick).collect(),
        cells,
        log_color,
    })
}

fn lines(
    table: &CsvTable,
    rows: &[&Vec<String>],
    x: usize,
    y: usize,
    by: Option<usize>,
    task: &str,
) -> Result<Chart> {
    let curves = by.map_or_else(|| vec![String::new()], |b| levels(rows, b));
    if curves.len() > PALETTE.len() * 3 {
        bail!(
            "invalid option `--by`: {} values is too many curves for one chart",
            curves.len()
        );
    }
    let xs = levels(rows, x);
    if xs.iter().any(|v| number(v).is_none()) {
        bail!("invalid option `--x`: `{}` is not numeric", table.header[x]);
    }
    let mut chart = Chart {
        title: format!("{} against {} ({task})", table.header[y], table.header[x]),
        x_label: table.header[x].clone(),
        y_label: table.header[y].clone(),
        ..Chart::default()
    };
    for (k, curve) in curves.iter().enumerate() {
        let mut px = Vec::new();
        let mut py = Vec::new();
        for xv in &xs {
            let vals: Vec<f64> = rows
                .iter()
                .filter(|r| r[x] == *xv && by.is_none_or(|b| r[b] == *curve))
                .filter_map(|r| number(&r[y]))
                .collect();
            if let (Some(m), Some(xn)) = (mean(&vals), number(xv)) {
                px.push(xn);
                py.push(m);
            }
        }
        let label = by.map_or_else(String::new, |b| {
            format!("{} = {curve}", short(&table.header[b]))
        });
        let mut series = Series::solid(label, px, py, PALETTE[k % PALETTE.len()]);
        series.markers = true;
        chart.series.push(series);
    }
    chart.log_x = spans_decades(chart.series.iter().flat_map(|s| s.x.iter().copied()));
    chart.log_y = spans_decades(chart.series.iter().flat_map(|s| s.y.iter().copied()));
    Ok(chart)
}
