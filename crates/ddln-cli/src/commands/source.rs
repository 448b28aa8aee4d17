//! Flags shared by the commands that need data and an init: files, or seeded recipes.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use ddln::presets::{Preset, DEFAULT_ALPHA};
use ddln::recipes::InitRecipe;
use ddln::{Loss, LossScaling};

use crate::config::{DataSpec, InitSpec, ModelKind, TrainConfig, DEFAULT_RECIPE_DATA};

/// Where the data and the init come from, and which loss and model.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Design matrix X, an (n, d) .npy file.
    #[arg(long, requires = "y")]
    pub x: Option<PathBuf>,
    /// Targets y, an (n,) .npy file.
    #[arg(long, requires = "x")]
    pub y: Option<PathBuf>,
    /// Initial layers, an (L, d) .npy file: row j is u^j(0). L >= 2 layers.
    #[arg(long)]
    pub init: Option<PathBuf>,
    #[arg(long, help = format!("Recipe data: number of samples n (Gaussian X; y Gaussian, or X theta* with --k) [default: {}]", DEFAULT_RECIPE_DATA.0))]
    pub n: Option<usize>,
    #[arg(long, help = format!("Recipe data: number of coordinates d [default: {}]", DEFAULT_RECIPE_DATA.1))]
    pub d: Option<usize>,
    /// Recipe data: sparsity of theta* (sparse recovery, y = X theta*) [default: none, y Gaussian].
    #[arg(long)]
    pub k: Option<usize>,
    #[arg(long, help = format!("Recipe data: seed [default: {}]", DEFAULT_RECIPE_DATA.2))]
    pub seed: Option<u64>,
    #[arg(long, help = format!("Recipe init: depth L (number of layers) [default: {}]", InitRecipe::default().depth))]
    pub depth: Option<usize>,
    #[arg(long, allow_hyphen_values = true, help = format!("Recipe init: scale alpha of the entries (u = alpha * N(0, 1)) [default: {}]", InitRecipe::default().scale))]
    pub scale: Option<f64>,
    /// Recipe init: the first layer starts at zero (as in the paper's Figure 4).
    #[arg(long)]
    pub zero_first: bool,
    #[arg(long, help = format!("Recipe init: seed [default: {}]", InitRecipe::default().seed))]
    pub init_seed: Option<u64>,
    #[arg(long, help = format!("Loss: `square` is the paper's sum_i (<x_i, theta> - y_i)^2 (no 1/2); `logistic` needs y in {{-1, 1}} [default: {}]", Loss::default().name()))]
    pub loss: Option<String>,
    #[arg(long, help = format!("Factor in front of the sum over samples: `sum` (the paper's, 1) or `mean/2` (the field's 1/(2n): a peer's step size gives the peer's iterates) [default: {}]", LossScaling::default().name()))]
    pub loss_scaling: Option<String>,
    /// Parameterization: `deep` (u^1 ⊙ … ⊙ u^L), `redundant` (u^L), `signed` (u^L - v^L) [default: deep].
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long, help = format!("A named model of the literature with its init of scale --alpha (it sets the model): {} [default: none]", Preset::NAMES.join(", ")))]
    pub preset: Option<String>,
    #[arg(long, allow_hyphen_values = true, default_value_t = DEFAULT_ALPHA, help = "With --preset: the init scale alpha (uv: u = alpha, v = 0; woodworth and power: u = v = alpha)")]
    pub alpha: f64,
    /// With --preset azulay: the shape s of u± = alpha s, v± = alpha / s [default: 1].
    #[arg(long)]
    pub shape: Option<f64>,
    /// Power L of the redundant and signed models [default: the recipe depth].
    #[arg(long)]
    pub power: Option<usize>,
}

impl SourceArgs {
    /// Applies the given flags on top of `config`.
    pub fn apply(&self, config: &mut TrainConfig) -> Result<()> {
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
                DataSpec::Files { .. } => DEFAULT_RECIPE_DATA,
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
        if let Some(name) = &self.preset {
            config.init =
                InitSpec::Preset(Preset::from_name(name, self.alpha, self.power, self.shape)?);
            // The preset sets the model and its power.
            config.model = ModelKind::Deep;
            config.power = None;
            self.apply_loss(config)?;
            return Ok(());
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
                InitSpec::File { .. } | InitSpec::Preset(_) => InitRecipe::default(),
            };
            recipe.depth = self.depth.unwrap_or(recipe.depth);
            recipe.scale = self.scale.unwrap_or(recipe.scale);
            recipe.zero_first |= self.zero_first;
            recipe.seed = self.init_seed.unwrap_or(recipe.seed);
            config.init = InitSpec::Recipe(recipe);
        }
        self.apply_loss(config)?;
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
        Ok(())
    }

    /// The loss and its scaling.
    fn apply_loss(&self, config: &mut TrainConfig) -> Result<()> {
        if let Some(loss) = &self.loss {
            config.loss = Loss::from_name(loss)?;
        }
        if let Some(scaling) = &self.loss_scaling {
            config.loss_scaling = LossScaling::from_name(scaling)?;
        }
        Ok(())
    }
}
