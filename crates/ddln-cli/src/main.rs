//! `ddln`: train deep diagonal linear networks, check the paper's statements on every
//! run, and reproduce its figures.

mod commands;
mod exit;
mod experiments;
mod heatmap;
mod interrupt;
mod output;
mod plot;
mod progress;
mod report;

use clap::{Parser, Subcommand};
// The spec and its files live in `ddln-spec`, shared with the Python bindings.
use ddln_spec::{config, io};

/// Deep diagonal linear networks theta = u^1 ⊙ … ⊙ u^L trained by gradient flow or
/// gradient descent on L(theta) = sum_i (<x_i, theta> - y_i)^2, with the statements of
/// "Optimization Insights into Deep Diagonal Linear Networks" checked on every run.
#[derive(Debug, Parser)]
#[command(name = "ddln", version, about, long_about = None, after_help = exit::TABLE)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Threads for the gradient kernel and the linear algebra [default: all cores].
    /// Results are the same bits for any count; the count is recorded in each summary.
    #[arg(long, global = true)]
    threads: Option<usize>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train one network (gradient flow or descent) and write summary, trajectory and plots.
    Train(Box<commands::train::TrainArgs>),
    /// Predict where gradient flow from an init ends (theta_inf), next to the min-L1 and min-L2 interpolators.
    Bias(Box<commands::bias::BiasArgs>),
    /// Evaluate or plot the explicit entropy Q (mirror map) of an init.
    Entropy(Box<commands::entropy::EntropyArgs>),
    /// The vanishing-init limit of two-layer gradient flow: its saddles and jump times, without simulating.
    Saddles(Box<commands::saddles::SaddlesArgs>),
    /// Run a grid of trainings and predictions from one config into a resumable folder with one table.
    Sweep(Box<commands::sweep::SweepArgs>),
    /// Plot a sweep's table: heat maps over two axes, or curves over one.
    Plot(Box<commands::plot::PlotArgs>),
    /// Reproduce the paper's figures into a folder, with a summary of what each shows.
    Reproduce(commands::reproduce::ReproduceArgs),
}

fn main() {
    let cli = Cli::parse();
    if let Some(threads) = cli.threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build_global();
        if let Err(e) = pool {
            eprintln!("error: invalid value for `--threads`: {e}");
            std::process::exit(exit::ERROR);
        }
    }
    let result = match &cli.command {
        Command::Train(args) => commands::train::run(args),
        Command::Reproduce(args) => commands::reproduce::run(args),
        Command::Bias(args) => commands::bias::run(args),
        Command::Entropy(args) => commands::entropy::run(args).map(|()| exit::SUCCESS),
        Command::Saddles(args) => commands::saddles::run(args),
        Command::Sweep(args) => commands::sweep::run(args, cli.threads),
        Command::Plot(args) => commands::plot::run(args).map(|()| exit::SUCCESS),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(exit::ERROR);
        }
    }
}
