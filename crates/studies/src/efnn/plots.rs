//! SVG figures of the EFNN chapter (plotters; text as SVG `<text>`).

use std::path::Path;

use plotters::prelude::*;

use feynn::error::{Error, Result};

fn perr(e: impl std::fmt::Display) -> Error {
    Error::invalid(
        format!("cannot draw a figure: {e}"),
        "this is a bug in the figure code; please report it",
    )
}

const COLOURS: [RGBColor; 6] = [RED, BLUE, GREEN, MAGENTA, BLACK, CYAN];

/// [`lines_svg`] written to `path`.
pub fn lines(
    path: &Path,
    title: &str,
    xdesc: &str,
    ydesc: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<()> {
    crate::plot::write_text(path, &lines_svg(title, xdesc, ydesc, series)?)
}

/// Lines with markers on a log-y axis: one series per label, points (x, y > 0), as SVG text.
pub fn lines_svg(
    title: &str,
    xdesc: &str,
    ydesc: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(perr)?;
        let pts = series.iter().flat_map(|(_, v)| v.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (x, y) in pts {
            x0 = x0.min(*x);
            x1 = x1.max(*x);
            if *y > 0.0 {
                y0 = y0.min(*y);
                y1 = y1.max(*y);
            }
        }
        if x0 > x1 || y0 > y1 {
            return Err(Error::invalid(
                format!("figure `{title}`: no positive data"),
                "a log-scale figure needs at least one point with y > 0",
            ));
        }
        let dx = 0.05 * (x1 - x0).max(1.0);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(70)
            .build_cartesian_2d((x0 - dx)..(x1 + dx), (y0 / 1.5..y1 * 1.5).log_scale())
            .map_err(perr)?;
        chart
            .configure_mesh()
            .x_desc(xdesc)
            .y_desc(ydesc)
            .y_label_formatter(&|v| format!("{v:.1e}"))
            .draw()
            .map_err(perr)?;
        for (k, (label, v)) in series.iter().enumerate() {
            let c = COLOURS[k % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(v.iter().copied(), c.stroke_width(2)))
                .map_err(perr)?
                .label(label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
            chart
                .draw_series(v.iter().map(|p| Circle::new(*p, 3, c.filled())))
                .map_err(perr)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(perr)?;
        root.present().map_err(perr)?;
    }
    Ok(svg)
}

/// [`scatter_svg`] written to `path`.
pub fn scatter(
    path: &Path,
    title: &str,
    xdesc: &str,
    ydesc: &str,
    pts: &[(f64, f64)],
) -> Result<()> {
    crate::plot::write_text(path, &scatter_svg(title, xdesc, ydesc, pts)?)
}

/// Scatter of learned against true values with the diagonal, as SVG text.
pub fn scatter_svg(title: &str, xdesc: &str, ydesc: &str, pts: &[(f64, f64)]) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (520, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(perr)?;
        let lo = pts.iter().map(|p| p.0.min(p.1)).fold(f64::MAX, f64::min);
        let hi = pts.iter().map(|p| p.0.max(p.1)).fold(f64::MIN, f64::max);
        let pad = 0.05 * (hi - lo).max(1e-9);
        let r = (lo - pad)..(hi + pad);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(50)
            .build_cartesian_2d(r.clone(), r)
            .map_err(perr)?;
        chart
            .configure_mesh()
            .x_desc(xdesc)
            .y_desc(ydesc)
            .draw()
            .map_err(perr)?;
        chart
            .draw_series(LineSeries::new(
                vec![(lo, lo), (hi, hi)],
                BLACK.stroke_width(1),
            ))
            .map_err(perr)?;
        chart
            .draw_series(pts.iter().map(|p| Circle::new(*p, 2, BLUE.filled())))
            .map_err(perr)?;
        root.present().map_err(perr)?;
    }
    Ok(svg)
}
