//! What a run leaves in its output folder: `summary.json`, `config.toml`,
//! `trajectory.npz` and the plots.

use std::path::Path;

use anyhow::Result;
use ddln::{Method, Model, Report, TimeUnit};
use serde_json::{json, Value};

use crate::config::{InitSpec, Loaded, TrainConfig};
use crate::io;
use crate::plot::{self, Chart, Series, PALETTE};

/// The summary of a run as JSON: results, work, and the paper's diagnostics (the
/// per-time arrays of the Theorem-2 check live in `trajectory.npz`).
pub fn summary(config: &TrainConfig, loaded: &Loaded, report: &Report) -> Value {
    let run = &report.run;
    let d = loaded.problem.dim();
    let mut diagnostics = serde_json::to_value(&report.diagnostics).unwrap_or(Value::Null);
    if let Some(rate) = diagnostics.get_mut("rate").and_then(Value::as_object_mut) {
        rate.remove("gap");
        rate.remove("bound");
    }
    let tolerances = match &config.train {
        Method::Flow(s) => json!({"rtol": s.rtol, "atol": s.atol, "integrator": s.integrator}),
        Method::Descent(s) => json!({"lr": s.lr, "steps": s.steps}),
    };
    let theta_star_error = loaded.theta_star.as_ref().map(|star| {
        run.final_theta
            .iter()
            .zip(star)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt()
    });
    json!({
        "ddln_version": env!("CARGO_PKG_VERSION"),
        "threads": rayon::current_num_threads(),
        "method": config.train.name(),
        "model": loaded.model.name(),
        "loss_convention": loaded.problem.loss().convention(),
        "loss_scaling": loaded.problem.scaling().name(),
        "preset": match &config.init {
            InitSpec::Preset(p) => Some(p.describe()),
            _ => None,
        },
        "loss_factor": loaded.problem.factor(),
        "n_samples": loaded.problem.n_samples(),
        "dim": d,
        "status": run.status,
        "message": run.message,
        "t_final": run.t_final,
        "time_unit": time_unit(config),
        "final_loss": run.final_loss,
        "final_theta": run.final_theta,
        "final_layers": run.final_state.chunks(d).collect::<Vec<_>>(),
        "stats": run.stats,
        "solver": run.solver,
        "theta_star": loaded.theta_star,
        "distance_to_theta_star": theta_star_error,
        "tolerances": tolerances,
        "diagnostics": diagnostics,
        "mirror_check": report.mirror_check,
        "implicit_bias": report.implicit_bias,
        "momentum_bias": report.momentum_bias,
        "jumps": report.jumps,
        "config": config,
    })
}

/// The file of a descent run's checkpoint in its folder (what `--resume` reads).
pub const CHECKPOINT_FILE: &str = "checkpoint.json";

/// Writes every output of a run into `dir` (created if needed), or only `summary.json`
/// when `summary_only`.
pub fn write_run(
    dir: &Path,
    config: &TrainConfig,
    loaded: &Loaded,
    report: &Report,
    summary_only: bool,
) -> Result<Value> {
    io::ensure_dir(dir)?;
    let summary = summary(config, loaded, report);
    if summary_only {
        io::write_json(&dir.join("summary.json"), &summary)?;
        return Ok(summary);
    }
    let run = &report.run;
    let traj = &run.trajectory;
    let d = loaded.problem.dim();
    let rows = loaded.model.rows();
    let n_t = traj.len();
    let mut arrays: Vec<(&str, &[f64], Vec<usize>)> = vec![
        ("t", &traj.t, vec![n_t]),
        ("theta", &traj.theta, vec![n_t, d]),
        ("layers", &traj.states, vec![n_t, rows, d]),
        ("loss", &traj.loss, vec![n_t]),
    ];
    if let Some(xi) = &traj.xi {
        arrays.push(("xi", xi, vec![n_t, d]));
    }
    if let Some(rate) = &report.diagnostics.rate {
        arrays.push(("gap", &rate.gap, vec![n_t]));
        arrays.push(("bound", &rate.bound, vec![n_t]));
    }
    io::write_npz(&dir.join("trajectory.npz"), &arrays)?;
    io::write_text(
        &dir.join("config.toml"),
        &toml::to_string_pretty(&config.pointing_to_copies())?,
    )?;
    // The inputs themselves, so the run can be repeated even if the originals move.
    let (n, x) = (loaded.problem.n_samples(), loaded.problem.x());
    io::write_npy(&dir.join("X.npy"), x, &[n, d])?;
    io::write_npy(&dir.join("y.npy"), loaded.problem.y(), &[n])?;
    io::write_npy(&dir.join("init.npy"), &loaded.init, &[rows, d])?;
    if let Some(checkpoint) = &run.checkpoint {
        // Shortest round-trip decimals: the state reads back to the same bits.
        io::write_json(&dir.join(CHECKPOINT_FILE), checkpoint)?;
    }
    plot_run(dir, config, loaded, report)?;
    io::write_json(&dir.join("summary.json"), &summary)?;
    Ok(summary)
}

/// The unit of a run's times (descent runs: the sum of step sizes, in flow units).
fn time_unit(config: &TrainConfig) -> TimeUnit {
    match &config.train {
        Method::Flow(s) => s.time_unit,
        Method::Descent(_) => TimeUnit::Flow,
    }
}

fn plot_run(dir: &Path, config: &TrainConfig, loaded: &Loaded, report: &Report) -> Result<()> {
    let traj = &report.run.trajectory;
    let d = loaded.problem.dim();
    let time_axis = time_unit(config).axis_label();
    let mut loss_chart = Chart {
        title: "Loss along the run".into(),
        x_label: time_axis.into(),
        y_label: "L(theta(t)) - L*".into(),
        log_y: true,
        ..Chart::default()
    };
    match &report.diagnostics.rate {
        Some(rate) => {
            loss_chart.series.push(Series::solid(
                "measured gap",
                traj.t.clone(),
                rate.gap.clone(),
                PALETTE[0],
            ));
            loss_chart.series.push(Series::dashed(
                "Theorem 2 bound",
                traj.t.clone(),
                rate.bound.clone(),
                PALETTE[3],
            ));
        }
        None => {
            loss_chart.y_label = "L(theta(t))".into();
            loss_chart.series.push(Series::solid(
                "loss",
                traj.t.clone(),
                traj.loss.clone(),
                PALETTE[0],
            ));
        }
    }
    plot::save(&loss_chart, &dir.join("loss"))?;
    let shown = largest_coordinates(&traj.theta, d, 8);
    let title = if shown.len() == d {
        format!("theta_i(t), all {d} coordinates")
    } else {
        format!(
            "theta_i(t): the {} of {d} coordinates largest in max_t |theta_i|",
            shown.len()
        )
    };
    let theta_chart = Chart {
        title,
        x_label: time_axis.into(),
        y_label: "theta_i".into(),
        series: shown
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                Series::solid(
                    format!("theta_{}", i + 1),
                    traj.t.clone(),
                    column(&traj.theta, d, i),
                    PALETTE[k % 8],
                )
            })
            .collect(),
        ..Chart::default()
    };
    plot::save(&theta_chart, &dir.join("theta"))?;
    if let Model::Deep { depth } = loaded.model {
        let coordinate = largest_coordinates(&report.run.final_theta, d, 1)[0];
        let mut chart = nodes_chart(
            &traj.t,
            &traj.states,
            depth,
            d,
            coordinate,
            report,
            &format!(
                "Nodes u_{0}^j(t) of coordinate {0} (largest final |theta_i|)",
                coordinate + 1
            ),
        );
        chart.x_label = time_axis.into();
        plot::save(&chart, &dir.join("layers"))?;
    }
    Ok(())
}

/// The (at most) `count` coordinates with the largest `max_k |data[k][i]|` over the rows
/// of a row-major array of width `d`, largest first (ties: lower index first). The
/// coordinates that matter in sparse recovery are a handful among thousands.
pub fn largest_coordinates(data: &[f64], d: usize, count: usize) -> Vec<usize> {
    let mut peak = vec![0.0f64; d];
    for row in data.chunks_exact(d) {
        for (p, &v) in peak.iter_mut().zip(row) {
            if v.is_finite() {
                *p = p.max(v.abs());
            }
        }
    }
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| peak[b].total_cmp(&peak[a]).then(a.cmp(&b)));
    order.truncate(count.min(d));
    order
}

/// Entry `i` of each row of a row-major `rows x width` array.
pub fn column(data: &[f64], width: usize, i: usize) -> Vec<f64> {
    data.chunks(width).map(|row| row[i]).collect()
}

/// The chart of the layers' entries of one coordinate (the paper's Figure 3), the
/// minimal layer marked in its legend entry.
pub fn nodes_chart(
    t: &[f64],
    states: &[f64],
    depth: usize,
    d: usize,
    coordinate: usize,
    report: &Report,
    title: &str,
) -> Chart {
    let minimal = report
        .diagnostics
        .assumption_a
        .as_ref()
        .map(|a| a.minimal_layer[coordinate]);
    let crossed = report
        .diagnostics
        .sign_changes
        .as_ref()
        .map(|s| s.crossed[coordinate].clone())
        .unwrap_or_default();
    let series = (0..depth)
        .map(|j| {
            let values: Vec<f64> = states
                .chunks(depth * d)
                .map(|s| s[j * d + coordinate])
                .collect();
            let mut label = format!("layer {}", j + 1);
            if minimal == Some(j) {
                label.push_str(" (minimal |u(0)|)");
            }
            if crossed.contains(&j) {
                label.push_str(", crosses 0");
            }
            Series::solid(label, t.to_vec(), values, PALETTE[j % 8])
        })
        .collect();
    Chart {
        title: title.into(),
        x_label: "t".into(),
        y_label: format!("u_{}^j(t)", coordinate + 1),
        series,
        ..Chart::default()
    }
}

#[cfg(test)]
mod tests {
    use super::largest_coordinates;

    /// A hand-made 3 x 4 trajectory: peaks |.| per coordinate are 1, 5, 2, 5.
    #[test]
    fn largest_coordinates_by_peak_magnitude() {
        let data = [
            1.0,
            0.0,
            2.0,
            0.0,
            -1.0,
            -5.0,
            0.0,
            3.0,
            0.5,
            1.0,
            f64::NAN,
            5.0,
        ];
        assert_eq!(largest_coordinates(&data, 4, 3), vec![1, 3, 2]);
        assert_eq!(largest_coordinates(&data, 4, 10), vec![1, 3, 2, 0]);
    }
}
