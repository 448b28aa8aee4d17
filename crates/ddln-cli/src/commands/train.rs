//! `ddln train`: one run on the user's data (or a seeded recipe), with every
//! diagnostic of the paper, written to an output folder.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use ddln::recipes::InitRecipe;
use ddln::{train, DescentSettings, FlowSettings, Loss, Method, RkMethod};

use crate::config::{DataSpec, InitSpec, ModelKind, TrainConfig};
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
    /// Design matrix X, an (n, d) .npy file.
    #[arg(long, requires = "y")]
    pub x: Option<PathBuf>,
    /// Targets y, an (n,) .npy file.
    #[arg(long, requires = "x")]
    pub y: Option<PathBuf>,
    /// Initial layers, an (L, d) .npy file: row j is u^j(0). L >= 2 layers.
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Recipe data: number of samples n (Gaussian X; y Gaussian, or X theta* with --k).
    #[arg(long)]
    pub n: Option<usize>,
    /// Recipe data: number of coordinates d.
    #[arg(long)]
    pub d: Option<usize>,
    /// Recipe data: sparsity of theta* (sparse recovery, y = X theta*).
    #[arg(long)]
    pub k: Option<usize>,
    /// Recipe data: seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Recipe init: depth L (number of layers).
    #[arg(long)]
    pub depth: Option<usize>,
    /// Recipe init: scale alpha of the entries (u = alpha * N(0, 1)).
    #[arg(long)]
    pub scale: Option<f64>,
    /// Recipe init: the first layer starts at zero (as in the paper's Figure 4).
    #[arg(long)]
    pub zero_first: bool,
    /// Recipe init: seed.
    #[arg(long)]
    pub init_seed: Option<u64>,
    /// Loss: `square` is the paper's sum_i (<x_i, theta> - y_i)^2 (no 1/2); `logistic` needs y in {-1, 1}.
    #[arg(long)]
    pub loss: Option<String>,
    /// Parameterization: `deep` (u^1 ⊙ … ⊙ u^L), `redundant` (u^L), `signed` (u^L - v^L).
    #[arg(long)]
    pub model: Option<String>,
    /// Power L of the redundant and signed models.
    #[arg(long)]
    pub power: Option<usize>,
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
    /// Flow: Runge-Kutta pair, `dopri5` (default) or `bs3`.
    #[arg(long)]
    pub integrator: Option<String>,
    /// Flow: number of evenly spaced recorded times (default 201).
    #[arg(long)]
    pub n_record: Option<usize>,
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
    /// Output folder (summary.json, config.toml, trajectory.npz, plots).
    #[arg(long, default_value = "run")]
    pub out: PathBuf,
    /// Also print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
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
        if let (Some(x), Some(y)) = (&self.x, &self.y) {
            config.data = DataSpec::Files {
                x: x.clone(),
                y: y.clone(),
            };
        } else if self.n.is_some() || self.d.is_some() || self.k.is_some() || self.seed.is_some() {
            let (n0, d0, seed0) = match config.data {
                DataSpec::Gaussian { n, d, seed } | DataSpec::Sparse { n, d, seed, .. } => {
                    (n, d, seed)
                }
                DataSpec::Files { .. } => (10, 5, 0),
            };
            let (n, d, seed) = (
                self.n.unwrap_or(n0),
                self.d.unwrap_or(d0),
                self.seed.unwrap_or(seed0),
            );
            config.data = match self.k {
                Some(k) => DataSpec::Sparse { n, d, k, seed },
                None => DataSpec::Gaussian { n, d, seed },
            };
        }
        if let Some(path) = &self.init {
            config.init = InitSpec::File { path: path.clone() };
        } else if self.depth.is_some()
            || self.scale.is_some()
            || self.zero_first
            || self.init_seed.is_some()
        {
            let mut recipe = match &config.init {
                InitSpec::Recipe(r) => *r,
                InitSpec::File { .. } => InitRecipe::default(),
            };
            recipe.depth = self.depth.unwrap_or(recipe.depth);
            recipe.scale = self.scale.unwrap_or(recipe.scale);
            recipe.zero_first |= self.zero_first;
            recipe.seed = self.init_seed.unwrap_or(recipe.seed);
            config.init = InitSpec::Recipe(recipe);
        }
        if let Some(loss) = &self.loss {
            config.loss = Loss::from_name(loss)?;
        }
        if let Some(model) = &self.model {
            config.model = match model.as_str() {
                "deep" => ModelKind::Deep,
                "redundant" => ModelKind::Redundant,
                "signed" => ModelKind::Signed,
                other => bail!(
                    "invalid value for `model`: `{other}`; expected deep, redundant or signed"
                ),
            };
        }
        config.power = self.power.or(config.power);
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
                if let Some(name) = &self.integrator {
                    s.integrator = RkMethod::from_name(name)?;
                }
            }
            Method::Descent(s) => {
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
    let summary = report::write_run(&args.out, &config, &loaded, &report)?;
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
