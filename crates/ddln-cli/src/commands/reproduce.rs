//! `ddln reproduce`: every experiment of the paper into one folder, with a summary
//! (`summary.json`, `summary.txt`) of what each figure shows, in numbers.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use ddln::Status;
use serde_json::json;

use crate::exit;
use crate::experiments::{self, Options};
use crate::interrupt;
use crate::io;
use crate::output::Staging;

/// Options of `ddln reproduce`.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Output folder (one sub-folder per figure, plus summary.json and summary.txt).
    #[arg(long, default_value = "paper")]
    pub out: PathBuf,
    /// Smallest setting, for CI: shorter horizons and fewer recorded times.
    #[arg(long)]
    pub quick: bool,
    /// Run only these experiments (e.g. --only figure3).
    #[arg(long)]
    pub only: Vec<String>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `ddln reproduce`; returns the exit code (0, or [`exit::STOPPED`] when a signal
/// stopped it between experiments: the finished experiments are published with a summary
/// that says so).
pub fn run(args: &ReproduceArgs) -> Result<i32> {
    let known: Vec<&str> = experiments::all().iter().map(|e| e.name()).collect();
    if let Some(bad) = args.only.iter().find(|o| !known.contains(&o.as_str())) {
        bail!(
            "invalid value for `--only`: no experiment named `{bad}`; the experiments are {}",
            known.join(", ")
        );
    }
    let staging = Staging::begin(&args.out, "reproduce")?;
    interrupt::install();
    let options = Options { quick: args.quick };
    let mut outcomes = Vec::new();
    let mut text = String::from("ddln reproduce: the paper's figures, checked\n\n");
    let mut stopped_before = None;
    for experiment in experiments::all() {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == experiment.name()) {
            continue;
        }
        if interrupt::requested() {
            stopped_before = Some(experiment.name());
            break;
        }
        let start = Instant::now();
        if !args.quiet {
            eprintln!("running {} ...", experiment.name());
        }
        let outcome = match experiment.run(&staging.path().join(experiment.name()), options) {
            Ok(outcome) => outcome,
            Err(e) if e.is::<interrupt::Interrupted>() => {
                // Its partial files are dropped: only complete experiments are published.
                let _ = std::fs::remove_dir_all(staging.path().join(experiment.name()));
                stopped_before = Some(experiment.name());
                break;
            }
            Err(e) => return Err(e),
        };
        let seconds = start.elapsed().as_secs_f64();
        text.push_str(&format!("{} ({seconds:.1} s)\n", outcome.title));
        for claim in &outcome.claims {
            text.push_str(&format!(
                "  [{}] {}\n        {}\n",
                if claim.holds { "holds" } else { "FAILS" },
                claim.statement,
                claim.evidence
            ));
        }
        text.push_str(&format!("  files: {}\n\n", outcome.files.join(", ")));
        outcomes.push(json!({"outcome": outcome, "seconds": seconds}));
    }
    let all_hold = outcomes.iter().all(|o| {
        o["outcome"]["claims"]
            .as_array()
            .is_some_and(|c| c.iter().all(|c| c["holds"] == true))
    });
    let status = if let Some(name) = stopped_before {
        text.push_str(&format!(
            "Stopped by a signal at `{name}`: the experiments above are complete; `{name}` and the rest are not in this folder.\n"
        ));
        Status::Stopped
    } else {
        text.push_str(if all_hold {
            "Every claim holds.\n"
        } else {
            "Some claims FAIL: see above.\n"
        });
        Status::Completed
    };
    io::write_json(
        &staging.path().join("summary.json"),
        &json!({
            "quick": args.quick, "status": status, "stopped_before": stopped_before,
            "all_claims_hold": all_hold && stopped_before.is_none(), "experiments": outcomes,
        }),
    )?;
    io::write_text(&staging.path().join("summary.txt"), &text)?;
    staging.publish()?;
    if !args.quiet {
        exit::print_stdout(text.trim_end())?;
    }
    Ok(exit::for_status(status))
}
