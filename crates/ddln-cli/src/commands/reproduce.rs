//! `ddln reproduce`: every experiment of the paper into one folder, with a summary
//! (`summary.json`, `summary.txt`) of what each figure shows, in numbers.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::experiments::{self, Options};
use crate::io;

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

/// Runs `ddln reproduce`.
pub fn run(args: &ReproduceArgs) -> Result<()> {
    io::ensure_dir(&args.out)?;
    let options = Options { quick: args.quick };
    let mut outcomes = Vec::new();
    let mut text = String::from("ddln reproduce: the paper's figures, checked\n\n");
    for experiment in experiments::all() {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == experiment.name()) {
            continue;
        }
        let start = Instant::now();
        if !args.quiet {
            eprintln!("running {} ...", experiment.name());
        }
        let outcome = experiment.run(&args.out.join(experiment.name()), options)?;
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
    text.push_str(if all_hold {
        "Every claim holds.\n"
    } else {
        "Some claims FAIL: see above.\n"
    });
    io::write_json(
        &args.out.join("summary.json"),
        &json!({"quick": args.quick, "all_claims_hold": all_hold, "experiments": outcomes}),
    )?;
    io::write_text(&args.out.join("summary.txt"), &text)?;
    if !args.quiet {
        print!("{text}");
    }
    Ok(())
}
