//! The `train` configuration: one serde definition shared by TOML files and CLI flags.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ddln::presets::Preset;
use ddln::recipes::{check_design_size, gaussian_data, sparse_recovery, InitRecipe};
use ddln::theory::RateCheck;
use ddln::{FlowSettings, Loss, LossScaling, Method, Model, Problem};
use serde::{Deserialize, Serialize};

use crate::io;

/// Where the data comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum DataSpec {
    /// `X` (n x d) and `y` (n) from `.npy` files.
    Files {
        /// Path of X.
        x: PathBuf,
        /// Path of y.
        y: PathBuf,
    },
    /// Gaussian X and y.
    Gaussian {
        /// Samples.
        n: usize,
        /// Features.
        d: usize,
        /// Seed.
        seed: u64,
    },
    /// Sparse recovery: Gaussian X, k-sparse ±1 theta*, y = X theta*.
    Sparse {
        /// Samples.
        n: usize,
        /// Features.
        d: usize,
        /// Non-zeros of theta*.
        k: usize,
        /// Seed.
        seed: u64,
    },
}

/// Where the init comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum InitSpec {
    /// An `(L, d)` array in a `.npy` file (row = layer).
    File {
        /// Path of the init.
        path: PathBuf,
    },
    /// A seeded recipe.
    Recipe(InitRecipe),
    /// A named model of the literature with its standard init (it sets the model too).
    Preset(Preset),
}

/// Which parameterization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// `theta = u^1 ⊙ … ⊙ u^L` (L = number of init rows).
    #[default]
    Deep,
    /// `theta = u^power` (init has one row).
    Redundant,
    /// `theta = u^power - v^power` (init has two rows).
    Signed,
}

/// A complete, repeatable training setup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// The data.
    pub data: DataSpec,
    /// The loss (default `square`, the paper's `sum_i (<x_i, theta> - y_i)^2`).
    #[serde(default)]
    pub loss: Loss,
    /// The factor in front of the sum over samples (default `sum`; `mean/2` is the
    /// field's `1 / (2n)`).
    #[serde(default)]
    pub loss_scaling: LossScaling,
    /// The parameterization (default `deep`).
    #[serde(default)]
    pub model: ModelKind,
    /// The power `L` of the redundant and signed models (default: the recipe's depth).
    #[serde(default)]
    pub power: Option<usize>,
    /// The init.
    pub init: InitSpec,
    /// The trainer and its settings.
    pub train: Method,
    /// Tolerances of the Theorem-2 check.
    #[serde(default)]
    pub rate_check: RateCheck,
}

/// `(n, d, seed)` of the Gaussian recipe data used when a config gives none.
pub const DEFAULT_RECIPE_DATA: (usize, usize, u64) = (10, 5, 0);

impl Default for TrainConfig {
    fn default() -> Self {
        let (n, d, seed) = DEFAULT_RECIPE_DATA;
        TrainConfig {
            data: DataSpec::Gaussian { n, d, seed },
            loss: Loss::Square,
            loss_scaling: LossScaling::Sum,
            model: ModelKind::Deep,
            power: None,
            init: InitSpec::Recipe(InitRecipe::default()),
            train: Method::Flow(FlowSettings::default()),
            rate_check: RateCheck::default(),
        }
    }
}

/// The data of a setup, loaded and validated.
pub struct Data {
    /// The problem.
    pub problem: Problem,
    /// The sparse ground truth when the data came from the sparse recipe.
    pub theta_star: Option<Vec<f64>>,
}

/// Everything a run needs, loaded and validated.
pub struct Loaded {
    /// The problem.
    pub problem: Problem,
    /// The model.
    pub model: Model,
    /// The init, `rows x d`.
    pub init: Vec<f64>,
    /// The sparse ground truth when the data came from the sparse recipe.
    pub theta_star: Option<Vec<f64>>,
}

impl TrainConfig {
    /// Reads a TOML file; unknown keys and wrong types are errors that name the key.
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config {}", path.display()))?;
        let mut config: TrainConfig = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("invalid config {}: {e}", path.display()))?;
        config.resolve_paths(path.parent().unwrap_or(Path::new(".")));
        Ok(config)
    }

    /// This setup with its input files replaced by the copies a run folder holds
    /// (`X.npy`, `y.npy`, `init.npy`, relative to the folder's `config.toml`), so that the
    /// saved config repeats the run from any working directory, whatever the originals
    /// were called or wherever they move.
    pub fn pointing_to_copies(&self) -> TrainConfig {
        let mut saved = self.clone();
        if let DataSpec::Files { .. } = saved.data {
            saved.data = DataSpec::Files {
                x: PathBuf::from("X.npy"),
                y: PathBuf::from("y.npy"),
            };
        }
        if let InitSpec::File { .. } = saved.init {
            saved.init = InitSpec::File {
                path: PathBuf::from("init.npy"),
            };
        }
        saved
    }

    /// Makes relative data and init paths relative to the config file's folder.
    pub fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let DataSpec::Files { x, y } = &mut self.data {
            fix(x);
            fix(y);
        }
        if let InitSpec::File { path } = &mut self.init {
            fix(path);
        }
    }

    /// Loads the data and init and checks them against each other.
    pub fn load(&self) -> Result<Loaded> {
        let data = self.load_data()?;
        let (model, init) = self.load_init(&data.problem)?;
        Ok(Loaded {
            problem: data.problem,
            model,
            init,
            theta_star: data.theta_star,
        })
    }

    /// The data of this setup (the `data`, `loss` and `loss_scaling` settings), checked.
    pub fn load_data(&self) -> Result<Data> {
        let (x, n, d, y, theta_star) = match &self.data {
            DataSpec::Files { x, y } => {
                let (xm, n, d) = io::read_matrix(x, "X")?;
                let yv = io::read_vector(y, "y")?;
                (xm, n, d, yv, None)
            }
            DataSpec::Gaussian { n, d, seed } => {
                check_design_size(*n, *d)?;
                let (x, y) = gaussian_data(*n, *d, *seed);
                (x, *n, *d, y, None)
            }
            DataSpec::Sparse { n, d, k, seed } => {
                let (x, y, t) = sparse_recovery(*n, *d, *k, *seed)?;
                (x, *n, *d, y, Some(t))
            }
        };
        let problem = Problem::new(x, n, d, y, self.loss)?.with_scaling(self.loss_scaling);
        Ok(Data {
            problem,
            theta_star,
        })
    }

    /// The model and init of this setup on `problem` (from [`TrainConfig::load_data`]),
    /// checked against each other and against the trainer's settings.
    pub fn load_init(&self, problem: &Problem) -> Result<(Model, Vec<f64>)> {
        let (n, d) = (problem.n_samples(), problem.dim());
        let (init, rows) = match &self.init {
            InitSpec::File { path } => {
                let a = io::read_npy(path, "init")?;
                match a.shape.as_slice() {
                    [r, c] if *c == d => (a.data, *r),
                    [c] if *c == d => (a.data, 1),
                    other => bail!(
                        "shape mismatch in `init`: {} has shape {other:?}; expected (L, {d}): one row per layer, one column per feature of X",
                        path.display()
                    ),
                }
            }
            InitSpec::Preset(preset) => {
                preset.validate()?;
                let preset_kind = match preset.model() {
                    Model::Deep { .. } => ModelKind::Deep,
                    Model::Signed { .. } => ModelKind::Signed,
                    Model::Redundant { .. } => ModelKind::Redundant,
                };
                // `model` is the default `deep` unless the user set it: only a contrary,
                // explicit choice (or a power) conflicts with the preset.
                if (self.model != ModelKind::Deep && self.model != preset_kind)
                    || self.power.is_some_and(|p| p != preset.model().depth())
                {
                    bail!(
                        "invalid value for `model`: the preset is {}; drop `model` and `power` (the preset sets them)",
                        preset.describe()
                    );
                }
                (preset.init(d), 2)
            }
            InitSpec::Recipe(recipe) => {
                let drawn = recipe.draw(d)?;
                let rows = match self.model {
                    ModelKind::Deep => recipe.depth,
                    ModelKind::Redundant => 1,
                    ModelKind::Signed => 2,
                };
                (drawn[..rows * d].to_vec(), rows)
            }
        };
        let recipe_depth = match &self.init {
            InitSpec::Recipe(r) => Some(r.depth),
            InitSpec::File { .. } | InitSpec::Preset(_) => None,
        };
        let model = match (&self.init, self.model) {
            (InitSpec::Preset(preset), _) => preset.model(),
            (_, model_kind) => self.model_of(model_kind, rows, recipe_depth)?,
        };
        model.validate_init(&init, d)?;
        match &self.train {
            Method::Flow(s) => s.validate()?,
            Method::Descent(s) => s.validate(n)?,
        }
        Ok((model, init))
    }

    /// The model of a file or recipe init with `rows` rows.
    fn model_of(&self, kind: ModelKind, rows: usize, recipe_depth: Option<usize>) -> Result<Model> {
        Ok(match kind {
            ModelKind::Deep => Model::Deep { depth: rows },
            ModelKind::Redundant | ModelKind::Signed => {
                let power = self.power.or(recipe_depth).context(
                    "`power` is required for the redundant and signed models with an init file",
                )?;
                let expected = if self.model == ModelKind::Redundant {
                    1
                } else {
                    2
                };
                if rows != expected {
                    bail!("shape mismatch in `init`: the {:?} model needs {expected} row(s), got {rows}", self.model);
                }
                if self.model == ModelKind::Redundant {
                    Model::Redundant { power }
                } else {
                    Model::Signed { power }
                }
            }
        })
    }
}
