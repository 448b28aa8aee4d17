//! `ddln train`: one run on the user's data (or a seeded recipe), with every
//! diagnostic of the paper, written to an output folder.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use ddln::mirror::PredictSettings;
use ddln::{
    train_from, DescentCheckpoint, DescentSettings, Dynamics, FlowSettings, Method, RkMethod,
    Status, TimeUnit,
};

use super::source::SourceArgs;
use crate::config::TrainConfig;
use crate::exit;
use crate::interrupt::{self, Interrupt};
use crate::output::Staging;
use crate::progress::Progress;
use crate::report::{self, CHECKPOINT_FILE};

/// Trainer choice on the command line (the names of `Method` in TOML and summary.json).
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum MethodArg {
    /// Gradient flow (paper eq. 5) by an adaptive integrator with error control.
    Flow,
    /// Gradient descent: explicit Euler steps of size --lr (SGD with --batch-size, heavy ball with --momentum).
    #[value(alias = "gd")]
    Descent,
}

/// The default of a flow setting, for `--help` (read from the core's one definition).
fn flow_default(pick: fn(&FlowSettings) -> String) -> String {
    pick(&FlowSettings::default())
}

/// The default of a descent setting, for `--help`.
fn descent_default(pick: fn(&DescentSettings) -> String) -> String {
    pick(&DescentSettings::default())
}

/// `Some(x)` as a default, `None` as "none".
fn or_none<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "none".into(), |v| v.to_string())
}

/// Options of `ddln train`. Flags override the values of `--config`; every default shown
/// is the core's.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct TrainArgs {
    /// TOML file with the whole setup (see configs/); flags given here override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data, init, loss and model.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Trainer [default: flow].
    #[arg(long, value_enum)]
    pub method: Option<MethodArg>,
    #[arg(long, allow_hyphen_values = true, help = format!("Flow: end of the time horizon [default: {}]", flow_default(|s| s.t_end.to_string())))]
    pub t_end: Option<f64>,
    #[arg(long, allow_hyphen_values = true, help = format!("Flow: relative tolerance of each step [default: {}]", flow_default(|s| format!("{:e}", s.rtol))))]
    pub rtol: Option<f64>,
    #[arg(long, allow_hyphen_values = true, help = format!("Flow: absolute tolerance of each step [default: {}]", flow_default(|s| format!("{:e}", s.atol))))]
    pub atol: Option<f64>,
    #[arg(long, allow_hyphen_values = true, help = format!(
        "Flow: integrator: `auto` (dopri5, switching to the stiff RODAS4 once the flow turns stiff), `dopri5`, `bs3` or `rodas` [default: {}]",
        flow_default(|s| s.integrator.name().into())
    ))]
    pub integrator: Option<String>,
    #[arg(long, allow_hyphen_values = true, help = format!(
        "Flow: the variables integrated: `auto` (`small_init` for the deep model with L >= 3 from u^1 = 0, u^j = alpha at alpha^L <= 1e-12 and from any other init under (A) whose gap scale c = max_i sqrt(min_j D_ij) is below 1e3 atol, and for u^L - v^L (L >= 3) from a positive init below atol / rtol; `reduced` for the deep model when the init satisfies assumption (A) and, for two layers, its largest entry is at least atol / rtol; else `dual` for the two-layer models; `layers` otherwise), `layers` (every layer entry), `reduced` (the d minimal layers; the others follow from the conservation law), `dual` (the d dual variables of u ⊙ v or u^2 - v^2, layers in closed form at any init scale) or `small_init` (the deep model with L >= 3 from any init under (A), or u^L - v^L with L >= 3 from a positive init, in z per coordinate: exact at any scale, plateaus skipped) [default: {}]",
        flow_default(|s| s.dynamics.name().into())
    ))]
    pub dynamics: Option<String>,
    #[arg(long, allow_hyphen_values = true, help = format!(
        "Flow: the unit of --t-end and of every reported time: `flow`, or `accelerated` (flow time over the mean half-width of the run's dual box, the jumps' `time_accelerated`: log(1/alpha) for two layers, w_L alpha^-(L-2) for the deep model from u^1 = 0, u^j = alpha; a run at small init only; with the small-init dynamics at any scale, also where flow time overflows f64) [default: {}]",
        flow_default(|s| s.time_unit.name().into())
    ))]
    pub time_unit: Option<String>,
    #[arg(long, allow_hyphen_values = true, help = format!("Flow: number of evenly spaced recorded times [default: {}]", flow_default(|s| s.n_record.to_string())))]
    pub n_record: Option<usize>,
    #[arg(long, allow_hyphen_values = true, help = format!("Flow: budget of accepted plus rejected steps [default: {}]", flow_default(|s| s.max_steps.to_string())))]
    pub max_steps: Option<u64>,
    #[arg(long, allow_hyphen_values = true, help = format!("Stop once the loss is at most this (status Converged) [default: {}]", flow_default(|s| or_none(s.loss_tol))))]
    pub loss_tol: Option<f64>,
    #[arg(long, allow_hyphen_values = true, help = format!("Descent: stop once the norm of the layer gradient is at most this (status Converged) [default: {}]", descent_default(|s| or_none(s.grad_tol))))]
    pub grad_tol: Option<f64>,
    #[arg(long, allow_hyphen_values = true, help = format!("Descent: step size eta [default: {}]", descent_default(|s| format!("{:e}", s.lr))))]
    pub lr: Option<f64>,
    #[arg(long, allow_hyphen_values = true, help = format!("Descent: number of iterations [default: {}]", descent_default(|s| s.steps.to_string())))]
    pub steps: Option<u64>,
    #[arg(long, allow_hyphen_values = true, help = format!("Descent: heavy-ball momentum beta in [0, 1) [default: {}]", descent_default(|s| s.momentum.to_string())))]
    pub momentum: Option<f64>,
    #[arg(long, allow_hyphen_values = true, help = format!("Descent: mini-batch size (SGD) [default: {} (full batch)]", descent_default(|s| or_none(s.batch_size))))]
    pub batch_size: Option<usize>,
    #[arg(long, allow_hyphen_values = true, help = format!("Descent: seed of the mini-batch sampler [default: {}]", descent_default(|s| s.seed.to_string())))]
    pub sampler_seed: Option<u64>,
    /// Descent: how SGD draws its batches: `replacement` (each sample uniform, as in the field's codes) or `epochs` (reshuffled passes); a given order is `[train.sampling] kind = "order", indices = [...]` in the config [default: replacement].
    #[arg(long)]
    pub sampling: Option<String>,
    /// Descent: continue the run saved in this folder (its config.toml, with the flags
    /// given here applied, and its checkpoint.json) up to --steps iterations in all,
    /// bit for bit as if it had never stopped.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    #[arg(long, allow_hyphen_values = true, help = format!("Descent: record every this many iterations [default: {}]", descent_default(|s| s.record_every.to_string())))]
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

/// A flag's value as the JSON of the setting it overrides (`None`: not given).
fn given<T: serde::Serialize>(value: &Option<T>) -> Option<serde_json::Value> {
    value.as_ref().and_then(|v| serde_json::to_value(v).ok())
}

/// Sets the given `(setting, value)` pairs on `settings` through serde, so that the
/// names are the settings' own (an unknown one is an error) and every frontend applies
/// its overrides the same way. Names of flags that belong to the other method are
/// reported with the method they need.
fn overlay<T: serde::Serialize + serde::de::DeserializeOwned>(
    settings: &T,
    flags: &[(&str, Option<serde_json::Value>)],
    foreign: &[(&str, bool)],
    method: &str,
    other: &str,
) -> Result<T> {
    let wrong: Vec<String> = foreign
        .iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| format!("--{}", name.replace('_', "-")))
        .collect();
    if !wrong.is_empty() {
        let verb = if wrong.len() == 1 {
            "belongs"
        } else {
            "belong"
        };
        bail!(
            "{} {verb} to --method {other}, not --method {method}",
            wrong.join(", ")
        );
    }
    let mut value = serde_json::to_value(settings)?;
    let table = value
        .as_object_mut()
        .expect("settings serialize as a table");
    for (name, v) in flags {
        if let Some(v) = v {
            table.insert((*name).to_string(), v.clone());
        }
    }
    Ok(serde_json::from_value(value)?)
}

impl TrainArgs {
    /// The config file (or defaults) with every given flag applied.
    pub fn resolve(&self) -> Result<TrainConfig> {
        let mut config = match (&self.config, &self.resume) {
            (Some(path), _) => TrainConfig::from_toml_file(path)?,
            (None, Some(dir)) => TrainConfig::from_toml_file(&dir.join("config.toml"))?,
            (None, None) => TrainConfig::default(),
        };
        self.source.apply(&mut config)?;
        match self.method {
            Some(MethodArg::Flow) if !matches!(config.train, Method::Flow(_)) => {
                config.train = Method::Flow(FlowSettings::default())
            }
            Some(MethodArg::Descent) if !matches!(config.train, Method::Descent(_)) => {
                config.train = Method::Descent(DescentSettings::default())
            }
            _ => {}
        }
        let descent_flags = [
            ("lr", given(&self.lr)),
            ("steps", given(&self.steps)),
            ("momentum", given(&self.momentum)),
            ("batch_size", given(&self.batch_size)),
            ("seed", given(&self.sampler_seed)),
            (
                "sampling",
                self.sampling
                    .as_ref()
                    .map(|kind| serde_json::json!({ "kind": kind })),
            ),
            ("record_every", given(&self.record_every)),
            ("grad_tol", given(&self.grad_tol)),
        ];
        let integrator = self
            .integrator
            .as_deref()
            .map(RkMethod::from_name)
            .transpose()?;
        let dynamics = self
            .dynamics
            .as_deref()
            .map(Dynamics::from_name)
            .transpose()?;
        let time_unit = self
            .time_unit
            .as_deref()
            .map(TimeUnit::from_name)
            .transpose()?;
        let flow_flags = [
            ("t_end", given(&self.t_end)),
            ("time_unit", given(&time_unit)),
            ("rtol", given(&self.rtol)),
            ("atol", given(&self.atol)),
            ("n_record", given(&self.n_record)),
            ("max_steps", given(&self.max_steps)),
            ("integrator", given(&integrator)),
            ("dynamics", given(&dynamics)),
        ];
        let is_given =
            |flags: &[(&'static str, Option<serde_json::Value>)]| -> Vec<(&'static str, bool)> {
                flags.iter().map(|(n, v)| (*n, v.is_some())).collect()
            };
        match &mut config.train {
            Method::Flow(s) => {
                let mut flags = flow_flags.to_vec();
                flags.push(("loss_tol", given(&self.loss_tol)));
                let mut foreign = is_given(&descent_flags);
                for f in foreign.iter_mut().filter(|f| f.0 == "seed") {
                    f.0 = "sampler_seed";
                }
                *s = overlay(s, &flags, &foreign, "flow", "descent")?;
                s.track_xi |= self.mirror_check;
            }
            Method::Descent(s) => {
                if self.mirror_check {
                    bail!("--mirror-check compares gradient flow with its mirror map: use it with --method flow");
                }
                let mut flags = descent_flags.to_vec();
                flags.push(("loss_tol", given(&self.loss_tol)));
                *s = overlay(s, &flags, &is_given(&flow_flags), "descent", "flow")?;
            }
        }
        Ok(config)
    }
}

/// Reads `dir/checkpoint.json`, naming the file in every error.
fn read_checkpoint(dir: &std::path::Path) -> Result<DescentCheckpoint> {
    let path = dir.join(CHECKPOINT_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read {} ({e}): --resume needs the folder of a descent run written by `ddln train` (without --summary-only)",
            path.display()
        )
    })?;
    serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not a ddln checkpoint: {e}", path.display()))
}

/// Runs `ddln train`; returns the exit code of the run's status.
pub fn run(args: &TrainArgs) -> Result<i32> {
    let config = args.resolve()?;
    // Everything is loaded and validated, and the output folder checked, before any
    // computing; the outputs are staged and published as one set.
    let loaded = config.load()?;
    let checkpoint = args.resume.as_deref().map(read_checkpoint).transpose()?;
    if let Some(c) = &checkpoint {
        let Method::Descent(settings) = &config.train else {
            bail!("--resume continues a descent run; this config is a gradient-flow run");
        };
        c.check(&loaded.problem, loaded.model, settings.steps)?;
    }
    let staging = Staging::begin(&args.out, "train")?;
    interrupt::install();
    let (end, by_step) = match &config.train {
        Method::Flow(s) => (s.t_end, false),
        Method::Descent(s) => (s.steps as f64, true),
    };
    let mut observer = (Progress::new(end, by_step, args.quiet), Interrupt);
    let mut report = train_from(
        &loaded.problem,
        loaded.model,
        &loaded.init,
        checkpoint.as_ref(),
        &config.train,
        &config.rate_check,
        &mut observer,
    )?;
    observer.0.finish();
    if let (Some(c), Some(dir)) = (&checkpoint, &args.resume) {
        report.run.message = format!(
            "resumed at iteration {} (t = {}) from {}; {}",
            c.step,
            c.t,
            dir.display(),
            report.run.message
        );
    }
    if interrupt::requested() && report.run.status == Status::Stopped {
        report.run.message = format!(
            "interrupted (SIGINT or SIGTERM) at t = {}; the outputs hold the run up to there",
            report.run.t_final
        );
    }
    for warning in &report.diagnostics.warnings {
        eprintln!("warning: {warning}");
    }
    if args.mirror_check {
        report.check_mirror(
            &loaded.problem,
            loaded.model,
            &loaded.init,
            &PredictSettings::default(),
        );
    }
    let summary = report::write_run(staging.path(), &config, &loaded, &report, args.summary_only)?;
    staging.publish()?;
    if args.json {
        exit::print_stdout(&serde_json::to_string_pretty(&summary)?)?;
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
    Ok(exit::for_status(report.run.status))
}
