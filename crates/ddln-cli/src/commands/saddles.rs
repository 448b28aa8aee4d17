//! `ddln saddles`: the vanishing-init limit of two-layer gradient flow, the sequence of
//! saddles it visits and the (accelerated) times of its jumps, without simulating.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use ddln::saddles::{
    saddle_to_saddle, simulate_deep_jumps, simulate_jumps, SaddleSettings, SaddleStatus,
    SmallInitModel,
};
use ddln::FlowSettings;
use ddln::Model;
use serde_json::json;

use super::source::SourceArgs;
use crate::config::{ModelKind, TrainConfig};
use crate::exit;

/// Options of `ddln saddles`.
#[derive(Debug, Args)]
pub struct SaddlesArgs {
    /// TOML file with the data (and optionally the init, to convert times); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data, init, loss and model. Without an init the model is u ⊙ v from u = sqrt(2) alpha, v = 0.
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, allow_hyphen_values = true, help = format!("Gradient entries below this times max |grad L(0)| count as zero [default: {:e}]", SaddleSettings::default().grad_rtol))]
    pub grad_rtol: Option<f64>,
    #[arg(long, allow_hyphen_values = true, help = format!("Coordinates reaching ±1 within this relative time enter together (a tie) [default: {:e}]", SaddleSettings::default().tie_rtol))]
    pub tie_rtol: Option<f64>,
    #[arg(long, help = format!("At most this many jumps [default: {}]", SaddleSettings::default().max_jumps))]
    pub max_jumps: Option<usize>,
    /// Also simulate u ⊙ v (or u^2 - v^2 with that init) at alpha = 10^-E and compare its
    /// jump times (repeatable; E may exceed 308: alpha enters through log(1/alpha) only).
    #[arg(long, value_name = "E", allow_hyphen_values = true)]
    pub simulate: Vec<f64>,
    /// Depth of the simulated flows: 2 (above), or L >= 3 for the deep model from
    /// u^1 = 0, u^j = alpha, with times in tau = t alpha^(L-2) / w_L (plateaus skipped).
    #[arg(long, value_name = "L", default_value_t = 2)]
    pub simulate_depth: usize,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The init scale alpha and the small-init model of a two-layer setup, or an error
/// saying what form is expected.
fn small_init_form(model: Model, init: &[f64], d: usize) -> Result<(f64, SmallInitModel)> {
    let constant = |row: &[f64]| row.iter().all(|&v| v == row[0]);
    let expected = "ddln saddles needs the two-layer small-init form: the deep model with L = 2, one layer constant sqrt(2) alpha > 0 and the other 0 (u ⊙ v from u = sqrt(2) alpha, v = 0), or the signed model u^2 - v^2 with u = v = alpha > 0 (power 2)";
    match model {
        Model::Deep { depth: 2 } => {
            let (a, b) = init.split_at(d);
            let (c, zero) = if b.iter().all(|&v| v == 0.0) {
                (a, b)
            } else {
                (b, a)
            };
            if zero.iter().all(|&v| v == 0.0) && constant(c) && c[0] > 0.0 {
                Ok((c[0] / std::f64::consts::SQRT_2, SmallInitModel::Product))
            } else {
                bail!("invalid value for `init`: {expected}")
            }
        }
        Model::Signed { power: 2 } => {
            if constant(init) && init[0] > 0.0 {
                Ok((init[0], SmallInitModel::SignedSquare))
            } else {
                bail!("invalid value for `init`: {expected}")
            }
        }
        _ => bail!("invalid value for `model`: {expected}"),
    }
}

/// The deep flow at `alpha = 10^-e` against the algorithm, printed unless `json`.
fn simulate_deep(
    problem: &ddln::Problem,
    saddles: &ddln::saddles::Saddles,
    depth: usize,
    e: f64,
    json: bool,
) -> Result<serde_json::Value> {
    let lambda = e * 10f64.ln();
    let sim = simulate_deep_jumps(problem, saddles, depth, lambda, &FlowSettings::default())?;
    if !json {
        eprintln!(
            "simulated L = {depth} at alpha = 1e-{e}: jump times (tau) {:?}, worst relative error {:.3e}, {} steps, {} plateaus skipped ({:?})",
            sim.jump_times, sim.worst_error, sim.steps, sim.skips, sim.status
        );
    }
    let mut row = serde_json::to_value(&sim)?;
    row["alpha_log10"] = json!(-e);
    row["time_unit"] = json!("tau = t alpha^(L-2) / w_L");
    Ok(row)
}

/// Runs `ddln saddles`.
pub fn run(args: &SaddlesArgs) -> Result<i32> {
    let mut config = match &args.config {
        Some(path) => TrainConfig::from_toml_file(path)?,
        None => TrainConfig::default(),
    };
    args.source.apply(&mut config)?;
    let no_init = config.init == TrainConfig::default().init && config.model == ModelKind::Deep;
    let data = config.load_data()?;
    let problem = data.problem;
    let d = problem.dim();
    let scale = if no_init {
        None
    } else {
        let (model, init) = config.load_init(&problem)?;
        Some(small_init_form(model, &init, d)?)
    };
    let mut settings = SaddleSettings::default();
    settings.grad_rtol = args.grad_rtol.unwrap_or(settings.grad_rtol);
    settings.tie_rtol = args.tie_rtol.unwrap_or(settings.tie_rtol);
    settings.max_jumps = args.max_jumps.unwrap_or(settings.max_jumps);
    let saddles = saddle_to_saddle(&problem, &settings)?;
    // Flow times at the given alpha (leading order): t = t~ log(1/alpha) / c.
    let times: Option<Vec<f64>> = scale.map(|(alpha, model)| {
        let per = model.time_per_accelerated((1.0 / alpha).ln());
        saddles
            .jumps
            .iter()
            .map(|j| j.time_accelerated * per)
            .collect()
    });
    let model = scale.map_or(SmallInitModel::Product, |(_, m)| m);
    if args.simulate_depth < 2 {
        bail!(
            "invalid value for `--simulate-depth`: {}; give L >= 2",
            args.simulate_depth
        );
    }
    let mut simulated = Vec::new();
    for &e in &args.simulate {
        if !(e.is_finite() && e > 0.0) {
            bail!("invalid value for `--simulate`: {e}; give E > 0 for alpha = 10^-E");
        }
        let lambda = e * 10f64.ln();
        if args.simulate_depth >= 3 {
            simulated.push(simulate_deep(
                &problem,
                &saddles,
                args.simulate_depth,
                e,
                args.json,
            )?);
            continue;
        }
        let sim = simulate_jumps(&problem, &saddles, model, lambda, &FlowSettings::default())?;
        if !args.json {
            eprintln!(
                "simulated at alpha = 1e-{e}: jump times {:?}, worst relative error {:.3e}, {} steps ({:?})",
                sim.jump_times,
                sim.worst_error,
                sim.run.stats.steps + sim.run.stats.rejected_steps,
                sim.run.status
            );
        }
        simulated.push(json!({
            "alpha_log10": -e, "lambda": lambda, "jump_times": sim.jump_times,
            "relative_errors": sim.relative_errors, "worst_error": sim.worst_error,
            "status": sim.run.status, "steps": sim.run.stats.steps, "final_theta": sim.run.final_theta,
        }));
    }
    if args.json {
        let mut out = json!({
            "simulated": simulated,
            "jumps": saddles.jumps,
            "initial_loss": saddles.initial_loss,
            "status": saddles.status,
            "time_unit": saddles.time_unit,
            "loss_scaling": problem.scaling().name(),
            "settings": settings,
            "alpha": scale.map(|s| s.0),
            "flow_times_leading_order": times,
        });
        if let Some(star) = &data.theta_star {
            out["theta_star"] = json!(star);
        }
        exit::print_stdout(&serde_json::to_string_pretty(&out)?)?;
    } else {
        eprintln!(
            "{} jumps ({:?}); initial loss {:.6e}; time unit: {}",
            saddles.jumps.len(),
            saddles.status,
            saddles.initial_loss,
            saddles.time_unit
        );
        for (k, j) in saddles.jumps.iter().enumerate() {
            let flow_time = times
                .as_ref()
                .map_or(String::new(), |t| format!(", t = {:.6e}", t[k]));
            eprintln!(
                "jump {}: t~ = {:.10e}{flow_time}; loss {:.6e}; active {:?} signs {:?}{}{}",
                k + 1,
                j.time_accelerated,
                j.loss,
                j.active,
                j.signs,
                if j.tie { "; tie" } else { "" },
                j.degenerate
                    .as_deref()
                    .map_or(String::new(), |m| format!("; degenerate: {m}")),
            );
        }
    }
    Ok(match saddles.status {
        // `ddln saddles` asks for every jump (no horizon): Horizon cannot occur here.
        SaddleStatus::Finished | SaddleStatus::Horizon => exit::SUCCESS,
        SaddleStatus::MaxJumps => exit::MAX_STEPS,
    })
}
