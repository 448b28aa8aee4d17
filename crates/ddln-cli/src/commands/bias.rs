//! `ddln bias`: where gradient flow from an init ends, without simulating it (the
//! minimizer of the init's entropy Q over the interpolators), next to the minimum-L1
//! and minimum-L2 interpolators and the small-init (weighted L1) limit.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use ddln::mirror::{
    min_l1, min_l2, model_small_init_limit, predict_model, LpSettings, PredictSettings,
};
use ddln::vector::{check_sparsity_rtol, distance, nonzeros, SPARSITY_RTOL};
use ddln::Loss;
use serde_json::json;

use super::source::SourceArgs;
use crate::config::TrainConfig;
use crate::exit;
use crate::io;
use crate::output::Staging;

/// Options of `ddln bias`.
#[derive(Debug, Args)]
pub struct BiasArgs {
    /// TOML file with the data and init (the [train] table is ignored); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data, init, loss and model.
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, allow_hyphen_values = true, help = format!("Newton stops once ||X theta - y|| <= tol ||y|| [default: {:e}]", PredictSettings::default().tol))]
    pub tol: Option<f64>,
    #[arg(long, allow_hyphen_values = true, help = format!("Newton iterations [default: {}]", PredictSettings::default().max_iter))]
    pub max_iter: Option<usize>,
    #[arg(long, allow_hyphen_values = true, help = format!("Tolerance of the linear programs (min-L1, weighted L1) [default: {:e}]", LpSettings::default().tol))]
    pub lp_tol: Option<f64>,
    #[arg(long, allow_hyphen_values = true, help = format!("An entry counts as non-zero when |theta_i| > this times max_i |theta_i| [default: {:e}]", SPARSITY_RTOL))]
    pub sparsity_tol: Option<f64>,
    /// Skip the baselines (min-L1, min-L2, the small-init limit): the prediction only.
    #[arg(long)]
    pub no_baselines: bool,
    /// Write bias.json and the solutions (.npy) into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `ddln bias`.
pub fn run(args: &BiasArgs) -> Result<i32> {
    let mut config = match &args.config {
        Some(path) => TrainConfig::from_toml_file(path)?,
        None => TrainConfig::default(),
    };
    args.source.apply(&mut config)?;
    let loaded = config.load()?;
    if loaded.problem.loss() != Loss::Square {
        bail!("invalid value for `loss`: the predictor solves min Q subject to X theta = y (squared loss)");
    }
    let sparsity_tol = args.sparsity_tol.unwrap_or(SPARSITY_RTOL);
    check_sparsity_rtol("sparsity_tol", sparsity_tol)?;
    // The output folder is checked and staged before computing; published as one set.
    let staging = args
        .out
        .as_ref()
        .map(|dir| Staging::begin(dir, "bias"))
        .transpose()?;
    let mut settings = PredictSettings::default();
    settings.tol = args.tol.unwrap_or(settings.tol);
    settings.max_iter = args.max_iter.unwrap_or(settings.max_iter);
    settings.validate()?;
    let lp = LpSettings {
        tol: args.lp_tol.unwrap_or(LpSettings::default().tol),
        ..LpSettings::default()
    };
    let prediction = predict_model(&loaded.problem, loaded.model, &loaded.init, &settings)?;
    let theta = &prediction.theta;
    let d = loaded.problem.dim();
    let mut result = json!({
        "status": prediction.status,
        "message": prediction.message,
        "iterations": prediction.iterations,
        "cg_iterations": prediction.cg_iterations,
        "theta_inf": theta,
        "entropy_value": prediction.entropy_value,
        "residual": prediction.residual,
        "relative_residual": prediction.relative_residual,
        "limit_order_log10": prediction.limit_order_log10,
        "model": loaded.model.name(),
        "nonzeros": { "rtol": sparsity_tol, "theta_inf": nonzeros(theta, sparsity_tol) },
        "settings": settings,
        "config": config,
    });
    let mut arrays = vec![("theta_inf.npy", theta.clone())];
    if let Some(star) = &loaded.theta_star {
        result["theta_star"] = json!(star);
        result["distances"] = json!({ "theta_inf_to_theta_star": distance(theta, star) });
    }
    if !args.no_baselines {
        let l1 = min_l1(&loaded.problem, &lp)?;
        let l2 = min_l2(&loaded.problem)?;
        let limit = model_small_init_limit(&loaded.problem, loaded.model, &loaded.init, &lp)?;
        let distances = json!({
            "theta_inf_to_min_l1": distance(theta, &l1.theta),
            "theta_inf_to_min_l2": distance(theta, &l2.theta),
            "theta_inf_to_small_init_limit": limit.as_ref().map(|l| distance(theta, &l.solution.theta)),
            "min_l1_to_min_l2": distance(&l1.theta, &l2.theta),
        });
        for (key, value) in distances.as_object().into_iter().flatten() {
            result["distances"][key] = value.clone();
        }
        result["nonzeros"]["min_l1"] = json!(nonzeros(&l1.theta, sparsity_tol));
        result["nonzeros"]["min_l2"] = json!(nonzeros(&l2.theta, sparsity_tol));
        arrays.push(("min_l1.npy", l1.theta.clone()));
        arrays.push(("min_l2.npy", l2.theta.clone()));
        result["min_l1"] = json!(l1);
        result["min_l2"] = json!(l2);
        result["small_init_limit"] = json!(limit);
    }
    if let Some(staging) = staging {
        let dir = staging.path();
        for (name, values) in &arrays {
            io::write_npy(&dir.join(name), values, &[d])?;
        }
        io::write_json(&dir.join("bias.json"), &result)?;
        staging.publish()?;
    }
    if args.json {
        exit::print_stdout(&serde_json::to_string_pretty(&result)?)?;
    } else if args.no_baselines {
        eprintln!(
            "{:?} after {} Newton steps (residual {:.3e}); baselines skipped",
            prediction.status, prediction.iterations, prediction.residual
        );
    } else {
        eprintln!(
            "{:?} after {} Newton steps (residual {:.3e}); |theta_inf - min L1| = {:.3e}, |theta_inf - min L2| = {:.3e}; non-zeros: theta_inf {}, min-L1 {}, min-L2 {}",
            prediction.status,
            prediction.iterations,
            prediction.residual,
            result["distances"]["theta_inf_to_min_l1"].as_f64().unwrap_or(f64::NAN),
            result["distances"]["theta_inf_to_min_l2"].as_f64().unwrap_or(f64::NAN),
            result["nonzeros"]["theta_inf"],
            result["nonzeros"]["min_l1"],
            result["nonzeros"]["min_l2"],
        );
    }
    Ok(exit::for_prediction(prediction.status))
}
