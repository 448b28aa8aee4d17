//! Heat maps (phase diagrams), saved as PNG and SVG by [`crate::plot::save`]: one cell per pair of grid values, a colour
//! scale on the right (logarithmic when the values span decades).

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::Figure;

/// A heat map over two grid axes.
#[derive(Debug, Clone)]
pub struct HeatMap {
    /// Title.
    pub title: String,
    /// Horizontal axis label.
    pub x_label: String,
    /// Vertical axis label.
    pub y_label: String,
    /// Colour scale label.
    pub color_label: String,
    /// Tick labels of the columns (left to right).
    pub x_ticks: Vec<String>,
    /// Tick labels of the rows (bottom to top).
    pub y_ticks: Vec<String>,
    /// `cells[row][column]` (`None`: no data, drawn grey).
    pub cells: Vec<Vec<Option<f64>>>,
    /// Logarithmic colour scale.
    pub log_color: bool,
}

/// Viridis anchors (perceptually uniform, colour-blind safe), interpolated linearly.
const VIRIDIS: [(u8, u8, u8); 5] = [
    (68, 1, 84),
    (59, 82, 139),
    (33, 145, 140),
    (94, 201, 98),
    (253, 231, 37),
];

fn colour(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let k = (t.floor() as usize).min(VIRIDIS.len() - 2);
    let f = t - k as f64;
    let mix = |a: u8, b: u8| (a as f64 + f * (b as f64 - a as f64)).round() as u8;
    let (a, b) = (VIRIDIS[k], VIRIDIS[k + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

impl HeatMap {
    /// The colour scale's ends (in log10 when logarithmic).
    fn limits(&self) -> (f64, f64) {
        let vals = self
            .cells
            .iter()
            .flatten()
            .flatten()
            .filter_map(|&v| self.scaled(v));
        let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if !lo.is_finite() {
            (0.0, 1.0)
        } else if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, hi + 0.5)
        }
    }

    fn scaled(&self, v: f64) -> Option<f64> {
        match (self.log_color, v.is_finite()) {
            (true, true) if v > 0.0 => Some(v.log10()),
            (false, true) => Some(v),
            _ => None,
        }
    }
}

impl Figure for HeatMap {
    const SIZE: (u32, u32) = (1000, 650);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        draw(self, root)
    }
}

fn draw<DB: DrawingBackend>(map: &HeatMap, root: &DrawingArea<DB, Shift>) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{e}");
    root.fill(&WHITE).map_err(err)?;
    let (main, bar) = root.split_horizontally(850);
    let (nx, ny) = (map.x_ticks.len(), map.y_ticks.len());
    let (lo, hi) = map.limits();
    let mut chart = ChartBuilder::on(&main)
        .caption(&map.title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..nx as f64, 0.0..ny as f64)
        .map_err(err)?;
    // Label at most ~12 columns and rows, so that long grids stay readable.
    let x_every = nx.div_ceil(12).max(1);
    let y_every = ny.div_ceil(12).max(1);
    let x_fmt = |v: &f64| label_at(&map.x_ticks, *v, x_every);
    let y_fmt = |v: &f64| label_at(&map.y_ticks, *v, y_every);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(nx * 2 + 1)
        .y_labels(ny * 2 + 1)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_desc(map.x_label.as_str())
        .y_desc(map.y_label.as_str())
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(err)?;
    let grey = RGBColor(200, 200, 200);
    chart
        .draw_series(map.cells.iter().enumerate().flat_map(|(r, row)| {
            row.iter().enumerate().map(move |(c, v)| {
                let fill = v
                    .and_then(|v| map.scaled(v))
                    .map_or(grey, |s| colour((s - lo) / (hi - lo)));
                Rectangle::new(
                    [(c as f64, r as f64), (c as f64 + 1.0, r as f64 + 1.0)],
                    fill.filled(),
                )
            })
        }))
        .map_err(err)?;
    // The colour bar: 100 bands from lo (bottom) to hi (top).
    let mut scale = ChartBuilder::on(&bar)
        .margin_top(50)
        .margin_bottom(65)
        .margin_right(10)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, lo..hi)
        .map_err(err)?;
    let log = map.log_color;
    let bar_fmt = move |v: &f64| {
        if log {
            format!("{:.1e}", 10f64.powf(*v))
        } else {
            format!("{v:.3}")
        }
    };
    scale
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_label_formatter(&bar_fmt)
        .y_desc(map.color_label.as_str())
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    let bands = 100;
    scale
        .draw_series((0..bands).map(|k| {
            let a = lo + (hi - lo) * k as f64 / bands as f64;
            let b = lo + (hi - lo) * (k + 1) as f64 / bands as f64;
            Rectangle::new(
                [(0.0, a), (1.0, b)],
                colour((k as f64 + 0.5) / bands as f64).filled(),
            )
        }))
        .map_err(err)?;
    Ok(())
}

/// The label of the cell whose centre is at `v` (`k + 0.5`), every `every` cells.
fn label_at(ticks: &[String], v: f64, every: usize) -> String {
    let k = (v - 0.5).round();
    if (v - 0.5 - k).abs() > 1e-9 || k < 0.0 {
        return String::new();
    }
    let k = k as usize;
    if k.is_multiple_of(every) {
        ticks.get(k).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}
