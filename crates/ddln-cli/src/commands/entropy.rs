//! `ddln entropy`: the entropy Q of an init (the mirror map of Theorem 1, explicit, and
//! of the literature's models): values, gradients and Hessian diagonals at given points,
//! and plots of its shape.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use ddln::mirror::{Entropy, MirrorMap, ModelMap};
use ddln::recipes::{InitRecipe, InitShape};
use ddln::Model;
use serde_json::json;

use crate::exit;
use crate::io;
use crate::output::Staging;
use crate::plot::{self, Chart, Series, PALETTE};

/// Options of `ddln entropy`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct EntropyArgs {
    /// Initial layers, a (rows, d) .npy file: row j = u^j(0) for the deep model (a unique
    /// minimal layer, or ties at a nonzero magnitude), u(0) and v(0) for `signed`, u(0)
    /// for `redundant`.
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Parameterization of --init: `deep`, `redundant` (u^L) or `signed` (u^L - v^L) [default: deep].
    #[arg(long, default_value = "deep")]
    pub model: String,
    /// Power L of the redundant and signed models [default: none; required for them].
    #[arg(long)]
    pub power: Option<usize>,
    /// Without --init: recipe depth L.
    #[arg(long, default_value_t = 3)]
    pub depth: usize,
    /// Without --init: recipe dimension d.
    #[arg(long, default_value_t = 1)]
    pub d: usize,
    /// Without --init: recipe scale alpha.
    #[arg(long, default_value_t = 0.1)]
    pub scale: f64,
    /// Without --init: first layer zero (else Gaussian entries).
    #[arg(long)]
    pub zero_first: bool,
    /// Without --init: recipe seed.
    #[arg(long, default_value_t = 1)]
    pub init_seed: u64,
    /// Points where to evaluate Q: a (d,) or (m, d) .npy file.
    #[arg(long)]
    pub theta: Option<PathBuf>,
    /// Draw Q_i for --coordinate against |theta| and theta^2, and Q for depths 2..8, into this folder.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Coordinate drawn by --plot (0-based).
    #[arg(long, default_value_t = 0)]
    pub coordinate: usize,
    /// Half-width of the plotted theta range.
    #[arg(long, default_value_t = 2.0)]
    pub range: f64,
    /// Print the values as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `ddln entropy`.
pub fn run(args: &EntropyArgs) -> Result<()> {
    let (init, depth, d) = match &args.init {
        Some(path) => {
            let (data, rows, cols) = io::read_matrix(path, "init")?;
            (data, rows, cols)
        }
        None => {
            let recipe = InitRecipe {
                depth: args.depth,
                scale: args.scale,
                zero_first: args.zero_first,
                seed: args.init_seed,
                ..InitRecipe::default()
            };
            (recipe.draw(args.d)?, args.depth, args.d)
        }
    };
    if args.init.is_none() && (args.model != "deep" || args.power.is_some()) {
        bail!("invalid value for `model`: the recipe init is the deep model's; pass --init for the {} model", args.model);
    }
    let model = Model::from_name(&args.model, depth, args.power)?;
    if depth != model.rows() {
        bail!(
            "shape mismatch in `init`: the {} model needs {} row(s), got {depth}",
            args.model,
            model.rows()
        );
    }
    let map = ModelMap::new(model, &init, d)?;
    let dual_box: Vec<(f64, f64)> = (0..d).map(|i| map.box_i(i)).collect();
    let mut result =
        json!({"model": args.model, "depth": model.depth(), "dim": d, "dual_box": dual_box});
    if let Some(path) = &args.theta {
        let a = io::read_npy(path, "theta")?;
        let ok = matches!(a.shape.as_slice(), [c] if *c == d)
            || matches!(a.shape.as_slice(), [_, c] if *c == d);
        if !ok {
            bail!(
                "shape mismatch in `theta`: {} has shape {:?}; expected ({d},) or (m, {d})",
                path.display(),
                a.shape
            );
        }
        ddln::error::check_finite("theta", &a.data)?;
        let (mut values, mut grads, mut hess) = (Vec::new(), Vec::new(), Vec::new());
        for point in a.data.chunks(d) {
            let at = |f: &dyn Fn(usize, f64) -> f64| -> Vec<f64> {
                point.iter().enumerate().map(|(i, &t)| f(i, t)).collect()
            };
            values.push(at(&|i, t| map.value_i(i, t)).iter().sum::<f64>());
            grads.push(at(&|i, t| map.gradient_i(i, t)));
            hess.push(at(&|i, t| map.hessian_i(i, t)));
        }
        if !args.json {
            for (k, v) in values.iter().enumerate() {
                eprintln!("Q(theta_{k}) = {v:.16e}");
            }
            eprintln!("(--json prints the gradients and Hessian diagonals too)");
        }
        result["value"] = json!(values);
        result["gradient"] = json!(grads);
        result["hessian_diag"] = json!(hess);
    }
    if let Some(out) = &args.plot {
        if args.coordinate >= d {
            bail!(
                "invalid value for `coordinate`: {} is not below d = {d}",
                args.coordinate
            );
        }
        if !(args.range.is_finite() && args.range > 0.0) {
            bail!("invalid value for `range`: must be a finite number > 0");
        }
        let staging = Staging::begin(out, "entropy")?;
        let dir = staging.path();
        plot_coordinate(&map, model.depth(), args, dir)?;
        plot_depths(args.scale, args.range, dir)?;
        staging.publish()?;
        result["plots"] = json!([
            "entropy_coordinate.png",
            "entropy_coordinate.svg",
            "entropy_depths.png",
            "entropy_depths.svg"
        ]);
    }
    if args.json || (args.theta.is_none() && args.plot.is_none()) {
        exit::print_stdout(&serde_json::to_string_pretty(&result)?)?;
    }
    Ok(())
}

fn grid(center: f64, half: f64, m: usize) -> Vec<f64> {
    (0..=m)
        .map(|k| center - half + 2.0 * half * k as f64 / m as f64)
        .collect()
}

/// Q_i of the given init around theta_i(0), with |.| and (.)^2 scaled to the same end values.
fn plot_coordinate(
    map: &ModelMap,
    depth: usize,
    args: &EntropyArgs,
    dir: &std::path::Path,
) -> Result<()> {
    let i = args.coordinate;
    let theta0 = map.psi_i(i, 0.0).0;
    // Where the sign of theta is conserved Q is +inf on the other side: drawn as a gap.
    let xs: Vec<f64> = grid(theta0, args.range, 400)
        .into_iter()
        .filter(|&t| map.value_i(i, t).is_finite())
        .collect();
    let q: Vec<f64> = xs.iter().map(|&t| map.value_i(i, t)).collect();
    let end = q
        .first()
        .copied()
        .unwrap_or(1.0)
        .max(q.last().copied().unwrap_or(1.0));
    let abs: Vec<f64> = xs
        .iter()
        .map(|t| end * (t - theta0).abs() / args.range)
        .collect();
    let sq: Vec<f64> = xs
        .iter()
        .map(|t| end * ((t - theta0) / args.range).powi(2))
        .collect();
    let chart = Chart {
        title: format!(
            "Entropy Q_{} of the init (L = {depth}) around theta_{}(0) = {theta0:.3e}",
            i + 1,
            i + 1
        ),
        x_label: format!("theta_{}", i + 1),
        y_label: "Q_i(theta_i)".into(),
        series: vec![
            Series::solid("Q_i", xs.clone(), q, PALETTE[0]),
            Series::dashed("|theta - theta(0)| (scaled)", xs.clone(), abs, PALETTE[1]),
            Series::dashed("(theta - theta(0))^2 (scaled)", xs, sq, PALETTE[2]),
        ],
        ..Chart::default()
    };
    plot::save(&chart, &dir.join("entropy_coordinate"))
}

/// Q for depths 2..8 at one scale (first layer zero, others equal to alpha), each divided
/// by its value at theta = range: deeper networks look more like |theta|.
fn plot_depths(scale: f64, range: f64, dir: &std::path::Path) -> Result<()> {
    // Normalized, every depth >= 3 is within a few percent of |theta| (the L1 shape) and
    // the curves coincide; their distance to it, |theta|/range - Q(theta)/Q(range) (>= 0
    // for a convex Q with Q(0) = 0), separates them by orders of magnitude.
    let xs: Vec<f64> = grid(0.0, range, 400)
        .into_iter()
        .filter(|&t| t > 0.0 && t < range)
        .collect();
    let mut series = Vec::new();
    for (k, depth) in (2..=8).enumerate() {
        let recipe = InitRecipe {
            depth,
            scale,
            zero_first: true,
            shape: InitShape::Constant,
            seed: 0,
        };
        let entropy = Entropy::new(&recipe.draw(1)?, depth, 1)?;
        let end = entropy.value_i(0, range);
        let gap: Vec<f64> = xs
            .iter()
            .map(|&t| t / range - entropy.value_i(0, t) / end)
            .collect();
        series.push(Series::solid(
            format!("L = {depth}"),
            xs.clone(),
            gap,
            PALETTE[k % 7],
        ));
    }
    series.push(Series::dashed(
        "quadratic (theta/range)^2, for reference",
        xs.clone(),
        xs.iter().map(|t| t / range - (t / range).powi(2)).collect(),
        PALETTE[7],
    ));
    let chart = Chart {
        title: format!(
            "Distance of Q to the L1 shape by depth, init scale {scale} (first layer 0)"
        ),
        x_label: "theta".into(),
        y_label: "|theta|/range - Q(theta)/Q(range)".into(),
        log_y: true,
        series,
        ..Chart::default()
    };
    plot::save(&chart, &dir.join("entropy_depths"))
}
