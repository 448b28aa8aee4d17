//! Line charts as PNG and SVG with plotters, using a bundled font (no system fonts).

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::io;

static FONT: Once = Once::new();
const FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn register_font() {
    FONT.call_once(|| {
        // The bundled font is valid by construction; a failure would show as missing text.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES);
    });
}

/// A colour-blind-safe palette (Okabe & Ito).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

/// One curve.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend entry.
    pub label: String,
    /// Abscissae.
    pub x: Vec<f64>,
    /// Ordinates.
    pub y: Vec<f64>,
    /// Colour.
    pub color: RGBColor,
    /// Dashed (bounds, references) or solid (measurements).
    pub dashed: bool,
    /// Draw point markers as well.
    pub markers: bool,
    /// Draw only the markers, no line.
    pub points_only: bool,
}

impl Series {
    /// A solid curve.
    pub fn solid(label: impl Into<String>, x: Vec<f64>, y: Vec<f64>, color: RGBColor) -> Self {
        Series {
            label: label.into(),
            x,
            y,
            color,
            dashed: false,
            markers: false,
            points_only: false,
        }
    }

    /// Markers only (e.g. simulated checks of a computed curve).
    pub fn points(label: impl Into<String>, x: Vec<f64>, y: Vec<f64>, color: RGBColor) -> Self {
        Series {
            label: label.into(),
            x,
            y,
            color,
            dashed: false,
            markers: true,
            points_only: true,
        }
    }

    /// A dashed curve.
    pub fn dashed(label: impl Into<String>, x: Vec<f64>, y: Vec<f64>, color: RGBColor) -> Self {
        Series {
            label: label.into(),
            x,
            y,
            color,
            dashed: true,
            markers: false,
            points_only: false,
        }
    }
}

/// A chart: title, axis labels, scales and curves.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// Title.
    pub title: String,
    /// Horizontal axis label.
    pub x_label: String,
    /// Vertical axis label.
    pub y_label: String,
    /// Logarithmic horizontal axis.
    pub log_x: bool,
    /// Logarithmic vertical axis.
    pub log_y: bool,
    /// Curves.
    pub series: Vec<Series>,
    /// The corner of the legend (where the data leave room).
    pub legend: Corner,
}

/// A corner of the plotting area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Corner {
    /// Upper right (default).
    #[default]
    UpperRight,
    /// Lower left.
    LowerLeft,
    /// Lower right.
    LowerRight,
}

/// A figure that draws itself on any plotters backend.
pub trait Figure {
    /// Pixel size of the PNG (and of the SVG's view box).
    const SIZE: (u32, u32);
    /// Draws the figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

impl Figure for Chart {
    const SIZE: (u32, u32) = (900, 600);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        draw(self, root)
    }
}

/// Writes `stem.png` and `stem.svg` (each atomically).
pub fn save<F: Figure>(figure: &F, stem: &Path) -> Result<()> {
    register_font();
    let png = stem.with_extension("png");
    let tmp_png = stem.with_file_name(format!(
        ".{}.tmp{}.png",
        stem.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    {
        let root = BitMapBackend::new(&tmp_png, F::SIZE).into_drawing_area();
        figure.draw(&root)?;
        root.present()
            .map_err(|e| anyhow!("cannot render {}: {e}", png.display()))?;
    }
    std::fs::rename(&tmp_png, &png)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, F::SIZE).into_drawing_area();
        figure.draw(&root)?;
        root.present()
            .map_err(|e| anyhow!("cannot render svg: {e}"))?;
    }
    io::write_text(&stem.with_extension("svg"), &svg)
}

fn range(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && (!log || *v > 0.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return if log { (1e-16, 1.0) } else { (0.0, 1.0) };
    }
    if log {
        (lo / 1.5, hi * 1.5)
    } else if hi > lo {
        let pad = 0.05 * (hi - lo);
        (lo - pad, hi + pad)
    } else {
        (lo - 1.0, hi + 1.0)
    }
}

/// Tick labels: powers of ten as `1e-6` on log axes, short decimals otherwise.
/// A tick label on an axis spanning `span`: a value that is zero up to rounding of the
/// axis arithmetic prints as 0, and enough digits to tell ticks about `span / 10` apart.
fn tick(v: f64, log: bool, span: f64) -> String {
    if log {
        // Within a decade only 1, 2 and 5 are labelled, so that dense minor ticks on a
        // short log axis do not run into each other.
        let mantissa = (v / 10f64.powf(v.log10().floor())).round() as i64;
        return if matches!(mantissa, 1 | 2 | 5 | 10) {
            format!("{v:.0e}")
        } else {
            String::new()
        };
    }
    let step = (span / 10.0).abs();
    if v.abs() <= 1e-9 * span.abs() {
        return "0".into();
    }
    if v.abs() >= 1e4 || v.abs() < 1e-3 {
        let digits = ((v.abs() / step).log10().ceil().max(1.0) as usize).min(6);
        return format!("{v:.digits$e}", digits = digits.saturating_sub(1).max(1));
    }
    let digits = if step > 0.0 {
        ((-step.log10()).ceil() + 1.0).clamp(0.0, 10.0) as usize
    } else {
        3
    };
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn draw<DB: DrawingBackend>(chart: &Chart, root: &DrawingArea<DB, Shift>) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let xs = range(
        chart.series.iter().flat_map(|s| s.x.iter().copied()),
        chart.log_x,
    );
    let ys = range(
        chart.series.iter().flat_map(|s| s.y.iter().copied()),
        chart.log_y,
    );
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(&chart.title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(75);
    macro_rules! body {
        ($ctx:expr) => {{
            let mut ctx = $ctx;
            let x_fmt = |v: &f64| tick(*v, chart.log_x, xs.1 - xs.0);
            let y_fmt = |v: &f64| tick(*v, chart.log_y, ys.1 - ys.0);
            ctx.configure_mesh()
                .x_label_formatter(&x_fmt)
                .y_label_formatter(&y_fmt)
                .x_desc(chart.x_label.as_str())
                .y_desc(chart.y_label.as_str())
                .label_style(("sans-serif", 15))
                .axis_desc_style(("sans-serif", 17))
                .draw()
                .map_err(|e| anyhow!("{e}"))?;
            for s in &chart.series {
                let pts: Vec<(f64, f64)> =
                    s.x.iter()
                        .zip(&s.y)
                        .map(|(&x, &y)| (x, y))
                        .filter(|(x, y)| {
                            x.is_finite()
                                && y.is_finite()
                                && (!chart.log_y || *y > 0.0)
                                && (!chart.log_x || *x > 0.0)
                        })
                        .collect();
                let style = ShapeStyle::from(&s.color).stroke_width(2);
                let color = s.color;
                let anno = if s.points_only {
                    ctx.draw_series(
                        pts.iter()
                            .map(|&p| Circle::new(p, 5, color.stroke_width(2))),
                    )
                    .map_err(|e| anyhow!("{e}"))?
                } else if s.dashed {
                    ctx.draw_series(DashedLineSeries::new(pts.clone(), 8, 5, style))
                        .map_err(|e| anyhow!("{e}"))?
                } else {
                    ctx.draw_series(LineSeries::new(pts.clone(), style))
                        .map_err(|e| anyhow!("{e}"))?
                };
                // The swatch draws what the curve is: a line, a dashed line, points, or a
                // line with markers, so that every legend entry can be told apart.
                let (dashed, points, markers) = (s.dashed, s.points_only, s.markers);
                // An unlabeled series is keyed by another entry (same colour or style).
                if !s.label.is_empty() {
                    anno.label(s.label.as_str()).legend(move |(x, y)| {
                        // One element type for every kind: unused parts are a single point
                        // (draws nothing) or a transparent circle.
                        let line = color.stroke_width(2);
                        let (first, second): (Vec<(i32, i32)>, Vec<(i32, i32)>) = if points {
                            (vec![(10, 0)], vec![(10, 0)])
                        } else if dashed {
                            (vec![(0, 0), (7, 0)], vec![(12, 0), (20, 0)])
                        } else {
                            (vec![(0, 0), (20, 0)], vec![(20, 0)])
                        };
                        let dot = if points {
                            Circle::new((10, 0), 4, line)
                        } else if markers {
                            Circle::new((10, 0), 3, color.filled())
                        } else {
                            Circle::new((10, 0), 0, TRANSPARENT.stroke_width(0))
                        };
                        EmptyElement::at((x, y))
                            + PathElement::new(first, line)
                            + PathElement::new(second, line)
                            + dot
                    });
                }
                if s.markers && !s.points_only {
                    ctx.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
                        .map_err(|e| anyhow!("{e}"))?;
                }
            }
            ctx.configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 14))
                .position(match chart.legend {
                    Corner::UpperRight => SeriesLabelPosition::UpperRight,
                    Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
                    Corner::LowerRight => SeriesLabelPosition::LowerRight,
                })
                .draw()
                .map_err(|e| anyhow!("{e}"))?;
        }};
    }
    match (chart.log_x, chart.log_y) {
        (false, false) => body!(builder
            .build_cartesian_2d(xs.0..xs.1, ys.0..ys.1)
            .map_err(|e| anyhow!("{e}"))?),
        (false, true) => body!(builder
            .build_cartesian_2d(xs.0..xs.1, (ys.0..ys.1).log_scale())
            .map_err(|e| anyhow!("{e}"))?),
        (true, false) => body!(builder
            .build_cartesian_2d((xs.0..xs.1).log_scale(), ys.0..ys.1)
            .map_err(|e| anyhow!("{e}"))?),
        (true, true) => body!(builder
            .build_cartesian_2d((xs.0..xs.1).log_scale(), (ys.0..ys.1).log_scale())
            .map_err(|e| anyhow!("{e}"))?),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::tick;

    /// Hand-checked labels: rounding noise at zero, close ticks on a narrow axis, large
    /// and small values, log axes.
    #[test]
    fn tick_labels() {
        assert_eq!(tick(-1.1e-16, false, 1.0), "0");
        assert_eq!(tick(0.25, false, 1.0), "0.25");
        assert_eq!(tick(1.001, false, 0.01), "1.001");
        assert_eq!(tick(1.0015, false, 0.001), "1.0015");
        assert_eq!(tick(50.0, false, 300.0), "50");
        assert_eq!(tick(1e-5, false, 1e-4), "1.0e-5");
        assert_eq!(tick(1e3, true, 1.0), "1e3");
        assert_eq!(tick(0.05, true, 1.0), "5e-2");
        assert_eq!(tick(0.07, true, 1.0), "");
        assert_eq!(tick(2e-7, true, 1.0), "2e-7");
    }
}
