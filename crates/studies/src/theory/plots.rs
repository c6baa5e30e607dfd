//! Figures of the theory-learning experiments (plotters, SVG; text as SVG `<text>`).

use std::path::Path;

use plotters::prelude::*;

use feynn::error::{Error, Result};

fn perr(e: impl std::fmt::Display) -> Error {
    Error::invalid(
        format!("cannot draw a figure: {e}"),
        "this is a bug in the figure code; please report it",
    )
}

/// [`grid_svg`] written to `path`.
pub fn grid(
    path: &Path,
    title: &str,
    row_desc: &str,
    col_desc: &str,
    rows: &[String],
    cols: &[String],
    values: &[Vec<f64>],
) -> Result<()> {
    crate::plot::write_text(
        path,
        &grid_svg(title, row_desc, col_desc, rows, cols, values)?,
    )
}

/// A labelled grid of values (rows × columns) as a heat map on a log colour scale, each cell
/// with its value written in it (the depth × samples sweep), as SVG text.
pub fn grid_svg(
    title: &str,
    row_desc: &str,
    col_desc: &str,
    rows: &[String],
    cols: &[String],
    values: &[Vec<f64>],
) -> Result<String> {
    let mut svg = String::new();
    {
        let (cw, ch) = (110i32, 44i32);
        let (x0, y0) = (120i32, 70i32);
        let w = (x0 + cw * cols.len() as i32 + 30) as u32;
        let h = (y0 + ch * rows.len() as i32 + 60) as u32;
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(perr)?;
        let finite: Vec<f64> = values
            .iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite() && *v > 0.0)
            .collect();
        let lo = finite.iter().copied().fold(f64::MAX, f64::min).ln();
        let hi = finite.iter().copied().fold(f64::MIN, f64::max).ln();
        let colour = |v: f64| {
            if !(v.is_finite() && v > 0.0) {
                return RGBColor(200, 200, 200);
            }
            // white (smallest error) to red (largest)
            let t = if hi > lo {
                (v.ln() - lo) / (hi - lo)
            } else {
                0.5
            };
            let f = (255.0 * (1.0 - 0.85 * t)) as u8;
            RGBColor(255, f, f)
        };
        let text =
            |s: String, x: i32, y: i32, size: i32| Text::new(s, (x, y), ("sans-serif", size));
        root.draw(&text(title.into(), 10, 20, 17)).map_err(perr)?;
        root.draw(&text(col_desc.into(), x0, 48, 14))
            .map_err(perr)?;
        root.draw(&text(row_desc.into(), 10, 48, 14))
            .map_err(perr)?;
        for (c, label) in cols.iter().enumerate() {
            root.draw(&text(label.clone(), x0 + c as i32 * cw + 8, y0 - 6, 13))
                .map_err(perr)?;
        }
        for (r, label) in rows.iter().enumerate() {
            let y = y0 + r as i32 * ch;
            root.draw(&text(label.clone(), 20, y + ch / 2 + 4, 13))
                .map_err(perr)?;
            for c in 0..cols.len() {
                let v = values[r].get(c).copied().unwrap_or(f64::NAN);
                let x = x0 + c as i32 * cw;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cw, y + ch)],
                    colour(v).filled(),
                ))
                .map_err(perr)?;
                root.draw(&Rectangle::new([(x, y), (x + cw, y + ch)], BLACK))
                    .map_err(perr)?;
                let label = if v.is_finite() {
                    format!("{v:.3}")
                } else {
                    "–".into()
                };
                root.draw(&text(label, x + 12, y + ch / 2 + 5, 14))
                    .map_err(perr)?;
            }
        }
        root.draw(&text(
            "colour: log scale, white = smallest, red = largest".into(),
            10,
            h as i32 - 20,
            12,
        ))
        .map_err(perr)?;
        root.present().map_err(perr)?;
    }
    Ok(svg)
}

/// One series of [`learned_vs_true`]: a label and points (true, learned mean, learned sd).
pub type ErrorSeries = (String, Vec<(f64, f64, f64)>);

/// [`learned_vs_true_svg`] written to `path`.
pub fn learned_vs_true(
    path: &Path,
    title: &str,
    panels: &[(String, Vec<ErrorSeries>)],
) -> Result<()> {
    crate::plot::write_text(path, &learned_vs_true_svg(title, panels)?)
}

/// Learned against true values with error bars, one panel per quantity (2 × 2), the diagonal
/// drawn; series are shifted sideways a little so equal true values stay readable. SVG text.
pub fn learned_vs_true_svg(title: &str, panels: &[(String, Vec<ErrorSeries>)]) -> Result<String> {
    const COLOURS: [RGBColor; 6] = [RED, BLUE, GREEN, MAGENTA, BLACK, CYAN];
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 760)).into_drawing_area();
        root.fill(&WHITE).map_err(perr)?;
        let root = root.titled(title, ("sans-serif", 18)).map_err(perr)?;
        let areas = root.split_evenly((2, 2));
        for ((name, series), area) in panels.iter().zip(areas.iter()) {
            let pts = series.iter().flat_map(|(_, v)| v.iter());
            let (mut lo, mut hi) = (f64::MAX, f64::MIN);
            for &(t, m, s) in pts {
                let s = if s.is_finite() { s } else { 0.0 };
                if t.is_finite() && m.is_finite() {
                    lo = lo.min(t).min(m - s);
                    hi = hi.max(t).max(m + s);
                }
            }
            if lo > hi {
                continue;
            }
            let pad = 0.08 * (hi - lo).max(0.1);
            let (lo, hi) = (lo - pad, hi + pad);
            let mut chart = ChartBuilder::on(area)
                .caption(name.as_str(), ("sans-serif", 15))
                .margin(10)
                .x_label_area_size(32)
                .y_label_area_size(48)
                .build_cartesian_2d(lo..hi, lo..hi)
                .map_err(perr)?;
            chart
                .configure_mesh()
                .x_desc("true")
                .y_desc("learned")
                .draw()
                .map_err(perr)?;
            chart
                .draw_series(LineSeries::new(vec![(lo, lo), (hi, hi)], BLACK.mix(0.4)))
                .map_err(perr)?;
            let shift = 0.012 * (hi - lo);
            let k0 = series.len() as f64 / 2.0 - 0.5;
            for (k, (label, v)) in series.iter().enumerate() {
                let c = COLOURS[k % COLOURS.len()];
                let dx = (k as f64 - k0) * shift;
                chart
                    .draw_series(v.iter().filter(|p| p.1.is_finite()).map(|&(t, m, s)| {
                        let s = if s.is_finite() { s } else { 0.0 };
                        ErrorBar::new_vertical(t + dx, m - s, m, m + s, c.filled(), 6)
                    }))
                    .map_err(perr)?
                    .label(label.as_str())
                    .legend(move |(x, y)| Circle::new((x + 10, y), 3, c.filled()));
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", 11))
                .draw()
                .map_err(perr)?;
        }
        root.present().map_err(perr)?;
    }
    Ok(svg)
}
