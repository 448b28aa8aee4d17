//! `ddln train`: one run on the user's data (or a seeded recipe), with every
//! diagnostic of the paper, written to an output folder.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use ddln::mirror::{mirror_check, PredictSettings};
use ddln::{train, DescentSettings, Dynamics, FlowSettings, Method, Model, RkMethod};

use super::source::SourceArgs;
use crate::config::TrainConfig;
use crate::progress::Progress;
use crate::report;

/// Trainer choice on the command line.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum MethodArg {
    /// Gradient flow (paper eq. 5) by an adaptive Runge-Kutta method with error control.
    Flow,
    /// Gradient descent: explicit Euler steps of size --lr (SGD with --batch-size, heavy ball with --momentum).
    Gd,
}

/// Options of `ddln train`. Flags override the values of `--config`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct TrainArgs {
    /// TOML file with the whole setup (see configs/); flags given here override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data, init, loss and model.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Trainer.
    #[arg(long, value_enum)]
    pub method: Option<MethodArg>,
    /// Flow: end of the time horizon.
    #[arg(long)]
    pub t_end: Option<f64>,
    /// Flow: relative tolerance of each step (default 1e-10).
    #[arg(long)]
    pub rtol: Option<f64>,
    /// Flow: absolute tolerance of each step (default 1e-12).
    #[arg(long)]
    pub atol: Option<f64>,
    /// Flow: integrator: `auto` (default: dopri5, switching to the stiff RODAS4 once the
    /// flow turns stiff), `dopri5`, `bs3` or `rodas`.
    #[arg(long)]
    pub integrator: Option<String>,
    /// Flow: number of evenly spaced recorded times (default 201).
    #[arg(long)]
    pub n_record: Option<usize>,
    /// Flow: the variables integrated: `auto` (default: `reduced` for the deep model when
    /// the init satisfies assumption (A), `layers` otherwise), `layers` (every layer entry)
    /// or `reduced` (the d minimal layers; the others follow from the conservation law).
    #[arg(long)]
    pub dynamics: Option<String>,
    /// GD: stop once the norm of the layer gradient is at most this (status Converged).
    #[arg(long)]
    pub grad_tol: Option<f64>,
    /// Stop once the loss is at most this (status Converged).
    #[arg(long)]
    pub loss_tol: Option<f64>,
    /// GD: step size eta.
    #[arg(long)]
    pub lr: Option<f64>,
    /// GD: number of iterations.
    #[arg(long)]
    pub steps: Option<u64>,
    /// GD: heavy-ball momentum beta in [0, 1).
    #[arg(long)]
    pub momentum: Option<f64>,
    /// GD: mini-batch size (SGD); default full batch.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// GD: record every this many iterations.
    #[arg(long)]
    pub record_every: Option<u64>,
    /// Flow, deep model: integrate xi(t) = -int grad L alongside and report the mirror-flow
    /// residual max_t |grad Q(theta(t)) - xi(t)| and the distance to the predicted limit.
    #[arg(long)]
    pub mirror_check: bool,
    /// Output folder (summary.json, config.toml, trajectory.npz, plots).
    #[arg(long, default_value = "run")]
    pub out: PathBuf,
    /// Also print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write summary.json only (no trajectory, inputs, config or plots): the cheapest
    /// output, e.g. for many runs.
    #[arg(long)]
    pub summary_only: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl TrainArgs {
    /// The config file (or defaults) with every given flag applied.
    pub fn resolve(&self) -> Result<TrainConfig> {
        let mut config = match &self.config {
            Some(path) => TrainConfig::from_toml_file(path)?,
            None => TrainConfig::default(),
        };
        self.source.apply(&mut config)?;
        match self.method {
            Some(MethodArg::Flow) if !matches!(config.train, Method::Flow(_)) => {
                config.train = Method::Flow(FlowSettings::default())
            }
            Some(MethodArg::Gd) if !matches!(config.train, Method::Descent(_)) => {
                config.train = Method::Descent(DescentSettings::default())
            }
            _ => {}
        }
        match &mut config.train {
            Method::Flow(s) => {
                if self.lr.is_some()
                    || self.steps.is_some()
                    || self.momentum.is_some()
                    || self.batch_size.is_some()
                {
                    bail!("--lr, --steps, --momentum and --batch-size belong to --method gd");
                }
                s.t_end = self.t_end.unwrap_or(s.t_end);
                s.rtol = self.rtol.unwrap_or(s.rtol);
                s.atol = self.atol.unwrap_or(s.atol);
                s.n_record = self.n_record.unwrap_or(s.n_record);
                s.loss_tol = self.loss_tol.or(s.loss_tol);
                s.track_xi |= self.mirror_check;
                if let Some(name) = &self.dynamics {
                    s.dynamics = Dynamics::from_name(name)?;
                }
                if self.grad_tol.is_some() {
                    bail!("--grad-tol belongs to --method gd (the flow stops on --loss-tol or --t-end)");
                }
                if let Some(name) = &self.integrator {
                    s.integrator = RkMethod::from_name(name)?;
                }
            }
            Method::Descent(s) => {
                if self.mirror_check {
                    bail!("--mirror-check compares gradient flow with its mirror map: use it with --method flow");
                }
                if self.t_end.is_some()
                    || self.rtol.is_some()
                    || self.atol.is_some()
                    || self.integrator.is_some()
                {
                    bail!("--t-end, --rtol, --atol and --integrator belong to --method flow (GD runs --steps of size --lr)");
                }
                s.lr = self.lr.unwrap_or(s.lr);
                s.steps = self.steps.unwrap_or(s.steps);
                s.momentum = self.momentum.unwrap_or(s.momentum);
                s.batch_size = self.batch_size.or(s.batch_size);
                s.record_every = self.record_every.unwrap_or(s.record_every);
                s.loss_tol = self.loss_tol.or(s.loss_tol);
                s.grad_tol = self.grad_tol.or(s.grad_tol);
                if self.dynamics.is_some() {
                    bail!("--dynamics is an integration mode of --method flow");
                }
            }
        }
        Ok(config)
    }
}

/// Runs `ddln train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let config = args.resolve()?;
    // Everything is loaded and validated before the output folder is touched.
    let loaded = config.load()?;
    let (end, by_step) = match &config.train {
        Method::Flow(s) => (s.t_end, false),
        Method::Descent(s) => (s.steps as f64, true),
    };
    let mut progress = Progress::new(end, by_step, args.quiet);
    let report = train(
        &loaded.problem,
        loaded.model,
        &loaded.init,
        &config.train,
        &config.rate_check,
        &mut progress,
    )?;
    progress.finish();
    for warning in &report.diagnostics.warnings {
        eprintln!("warning: {warning}");
    }
    let mut extras = serde_json::Map::new();
    if args.mirror_check {
        extras.insert(
            "mirror_check".into(),
            mirror_check_summary(&loaded, &report),
        );
    }
    let summary = report::write_run(
        &args.out,
        &config,
        &loaded,
        &report,
        extras,
        args.summary_only,
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        eprintln!(
            "{:?}: {} (final loss {:.6e}); results in {}",
            report.run.status,
            report.run.message,
            report.run.final_loss,
            args.out.display()
        );
    }
    if !report.run.status.is_success() {
        eprintln!(
            "the run ended with status {:?}; its last finite state is saved",
            report.run.status
        );
    }
    Ok(())
}

/// The mirror check of a flow run as JSON, or the reason it does not apply.
fn mirror_check_summary(
    loaded: &crate::config::Loaded,
    report: &ddln::Report,
) -> serde_json::Value {
    let Model::Deep { depth } = loaded.model else {
        return serde_json::json!({"applies": false, "reason": "the mirror map is derived for the deep model"});
    };
    match mirror_check(
        &loaded.problem,
        &loaded.init,
        depth,
        &report.run,
        &PredictSettings::default(),
    ) {
        Ok(check) => {
            let mut value = serde_json::to_value(&check).unwrap_or_default();
            if let Some(map) = value.as_object_mut() {
                map.insert("applies".into(), true.into());
            }
            value
        }
        Err(e) => serde_json::json!({"applies": false, "reason": e.to_string()}),
    }
}
