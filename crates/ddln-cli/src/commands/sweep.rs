//! `ddln sweep`: a grid of runs from one config into a folder that a rerun resumes, with
//! one table of the results. The local backend runs here; `--backend ray` hands the
//! same plan to the Python package's Ray driver (the rows are computed by the same code).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use ddln_spec::sweep::{local::run_local, plan_from_file, Session, Summary};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::exit;
use crate::interrupt;

/// Where the jobs run.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Backend {
    /// This machine's cores (one job per core).
    Local,
    /// A Ray cluster (`--address`), through the Python package `ddln` with `ray` installed.
    Ray,
}

/// Options of `ddln sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// TOML file: a run spec (as for `ddln train`) plus a [sweep] table of axes.
    #[arg(long)]
    pub config: PathBuf,
    /// The sweep's folder (created; a rerun continues where it stopped).
    #[arg(long)]
    pub out: PathBuf,
    /// Where the jobs run [default: local].
    #[arg(long, value_enum, default_value_t = Backend::Local)]
    pub backend: Backend,
    /// Ray: the cluster's address (`auto`: the running cluster) [default: a local cluster].
    #[arg(long)]
    pub address: Option<String>,
    /// Compute again the committed rows that did not succeed.
    #[arg(long)]
    pub retry_failed: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The Python interpreter that runs the Ray driver (override with `DDLN_PYTHON`).
const PYTHON_ENV: &str = "DDLN_PYTHON";

/// Runs `ddln sweep`.
pub fn run(args: &SweepArgs, threads: Option<usize>) -> Result<i32> {
    if args.backend == Backend::Ray {
        return run_ray(args);
    }
    if args.address.is_some() {
        bail!("invalid option `--address`: it is for `--backend ray`");
    }
    let plan = plan_from_file(&args.config)?;
    let mut session = Session::open(plan, &args.out, args.retry_failed)?;
    let pending = session.pending().len();
    let total = session.plan.jobs.len();
    if session.resumed() > 0 {
        eprintln!(
            "{}: {} of {total} rows already committed, {pending} to compute",
            args.out.display(),
            session.resumed()
        );
    }
    interrupt::install();
    let bar = progress_bar(pending as u64, args.quiet);
    let info = run_local(
        &mut session,
        threads.unwrap_or(0),
        |row, _, _| {
            bar.inc(1);
            if !row.succeeded() {
                bar.set_message(format!("last not ok: {} {}", row.id, row.status));
            }
        },
        interrupt::requested,
    )?;
    bar.finish_and_clear();
    let summary = session.finish(info)?;
    report(args, &summary)
}

fn progress_bar(len: u64, quiet: bool) -> ProgressBar {
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} rows, ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn report(args: &SweepArgs, summary: &Summary) -> Result<i32> {
    if args.json {
        exit::print_stdout(&serde_json::to_string_pretty(summary)?)?;
    }
    let statuses: Vec<String> = summary
        .by_status
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    eprintln!(
        "{}: {} of {} rows committed ({} computed now, {} resumed; {}) in {:.2} s on {} {} worker(s); table.csv, table.parquet",
        args.out.display(),
        summary.rows_committed,
        summary.rows_total,
        summary.computed,
        summary.resumed,
        statuses.join(", "),
        summary.run.wall_s,
        summary.run.workers,
        summary.run.backend,
    );
    if summary.run.stopped {
        eprintln!("stopped: rerun the same command to continue");
        return Ok(exit::STOPPED);
    }
    Ok(exit::SUCCESS)
}

/// `--backend ray`: the Python package's driver (`python -m ddln.ray_sweep`).
fn run_ray(args: &SweepArgs) -> Result<i32> {
    let python = std::env::var(PYTHON_ENV).unwrap_or_else(|_| "python3".into());
    let mut cmd = Command::new(&python);
    cmd.args(["-m", "ddln.ray_sweep", "--config"])
        .arg(&args.config)
        .arg("--out")
        .arg(&args.out);
    if let Some(address) = &args.address {
        cmd.args(["--address", address]);
    }
    if args.retry_failed {
        cmd.arg("--retry-failed");
    }
    if args.json {
        cmd.arg("--json");
    }
    let status = cmd.status().with_context(|| {
        format!("cannot start `{python}` for the Ray backend; install the Python package (pip install ddln ray) or set {PYTHON_ENV} to its interpreter")
    })?;
    Ok(status.code().unwrap_or(exit::ERROR))
}
