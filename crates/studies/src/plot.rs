//! SVG figures of the Born study (plotters, SVG backend; text as SVG `<text>`, no font files).

use std::path::Path;

use ndarray::Array2;
use plotters::prelude::*;

use feynn::error::{Error, Result};

fn perr(e: impl std::fmt::Display) -> Error {
    Error::invalid(
        format!("cannot draw a figure: {e}"),
        "this is a bug in the figure code; please report it",
    )
}

/// Write a rendered figure (or any text) to `path`; a failure is an [`Error::Write`] naming it.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::Write {
        path: path.display().to_string(),
        source: e,
    })
}

/// Learned gradients (one line per labelled series) against the exact g_n, over n = 1..N, written
/// to `path` ([`gradient_svg`]).
pub fn gradient_plot(path: &Path, exact: &[f64], learned: &[(&str, &[f64])]) -> Result<()> {
    write_text(path, &gradient_svg(exact, learned)?)
}

/// Learned gradients (one line per labelled series) against the exact g_n, over n = 1..N, as SVG
/// text.
pub fn gradient_svg(exact: &[f64], learned: &[(&str, &[f64])]) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(perr)?;
        let n = exact.len();
        let all = exact
            .iter()
            .chain(learned.iter().flat_map(|(_, v)| v.iter()));
        let (lo, hi) = all.fold((0.0f64, 0.0f64), |(a, b), v| (a.min(*v), b.max(*v)));
        let pad = 0.05 * (hi - lo).max(1e-12);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "gradient of a0 at U = 0: learned vs exact g_n",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0.5f64..n as f64 + 0.5, (lo - pad)..(hi + pad))
            .map_err(perr)?;
        chart
            .configure_mesh()
            .x_desc("step n")
            .y_desc("∂a0/∂U_n")
            .draw()
            .map_err(perr)?;
        chart
            .draw_series(LineSeries::new(
                exact.iter().enumerate().map(|(i, v)| ((i + 1) as f64, *v)),
                BLACK.stroke_width(2),
            ))
            .map_err(perr)?
            .label("exact g_n")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
        let colours = [RED, BLUE, GREEN, MAGENTA];
        for (k, (label, v)) in learned.iter().enumerate() {
            let c = colours[k % colours.len()];
            chart
                .draw_series(
                    v.iter()
                        .enumerate()
                        .map(|(i, y)| Circle::new(((i + 1) as f64, *y), 3, c.filled())),
                )
                .map_err(perr)?
                .label(*label)
                .legend(move |(x, y)| Circle::new((x + 10, y), 3, c.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(perr)?;
        root.present().map_err(perr)?;
    }
    Ok(svg)
}

/// [`heatmaps_svg`] written to `path`.
pub fn heatmaps(path: &Path, mats: &[(&str, &Array2<f64>)]) -> Result<()> {
    write_text(path, &heatmaps_svg(mats)?)
}

/// Matrices side by side as heat maps on one shared colour scale (blue: negative, white: 0,
/// red: positive), each with its title, as SVG text. The scale is set by the last matrix (the
/// reference); larger values of the others saturate, so a wrong matrix still shows as wrong.
pub fn heatmaps_svg(mats: &[(&str, &Array2<f64>)]) -> Result<String> {
    let mut svg = String::new();
    {
        let cell = 5u32;
        let n = mats[0].1.nrows() as u32;
        let side = n * cell;
        let w = mats.len() as u32 * (side + 40) + 40;
        let root = SVGBackend::with_string(&mut svg, (w, side + 90)).into_drawing_area();
        root.fill(&WHITE).map_err(perr)?;
        let scale = mats[mats.len() - 1]
            .1
            .iter()
            .fold(0.0f64, |a, v| a.max(v.abs()))
            .max(1e-300);
        let colour = |v: f64| {
            let t = (v / scale).clamp(-1.0, 1.0);
            let f = |x: f64| (255.0 * (1.0 - x.abs())) as u8;
            if t < 0.0 {
                RGBColor(f(t), f(t), 255)
            } else {
                RGBColor(255, f(t), f(t))
            }
        };
        for (k, (title, m)) in mats.iter().enumerate() {
            let x0 = 40 + k as i32 * (side as i32 + 40);
            let y0 = 50;
            root.draw(&Text::new(title.to_string(), (x0, 20), ("sans-serif", 16)))
                .map_err(perr)?;
            // colours are quantised to 17 levels and equal neighbours in a row merged into one
            // rectangle: smooth matrices then give small files
            for (i, row) in m.rows().into_iter().enumerate() {
                let q: Vec<i32> = row
                    .iter()
                    .map(|v| ((v / scale).clamp(-1.0, 1.0) * 8.0).round() as i32)
                    .collect();
                let mut j = 0;
                while j < q.len() {
                    let mut e = j + 1;
                    while e < q.len() && q[e] == q[j] {
                        e += 1;
                    }
                    let (x, y) = (x0 + (j as u32 * cell) as i32, y0 + (i as u32 * cell) as i32);
                    let x1 = x0 + (e as u32 * cell) as i32;
                    root.draw(&Rectangle::new(
                        [(x, y), (x1, y + cell as i32)],
                        colour(q[j] as f64 / 8.0 * scale).filled(),
                    ))
                    .map_err(perr)?;
                    j = e;
                }
            }
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + side as i32, y0 + side as i32)],
                BLACK,
            ))
            .map_err(perr)?;
        }
        root.draw(&Text::new(
        format!("shared scale (the last matrix): blue −{scale:.2e} … white 0 … red +{scale:.2e}, saturated beyond; row m, column n (1..{n})"),
        (40, (side + 70) as i32),
        ("sans-serif", 13),
    ))
    .map_err(perr)?;
        root.present().map_err(perr)?;
    }
    Ok(svg)
}
