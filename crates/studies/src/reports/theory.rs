//! The theory chapter's figures and tables from its reports: `theory-learn` (`learn.json`),
//! `theory-sweep` (`sweep.json`) and `theory-grid` (`grid.json`). The studies
//! (`theory::artifacts`) write their files through these functions.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::{nan_or, unknown, view, Kind};
use crate::theory::{grid, plots};
use feynn::error::{Error, Result};

/// A number that may be NaN (written as `null`).
#[derive(Deserialize, Clone, Copy)]
#[serde(transparent)]
struct N(#[serde(deserialize_with = "nan_or")] f64);

/// A matrix of a learning run's figures, by rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamedMatrix {
    /// The title above its heat map (`learned A2`, `true A2`, `learned A4_iijj`, `true A4_iijj`).
    pub name: String,
    pub rows: Vec<Vec<f64>>,
}

impl NamedMatrix {
    /// A named copy of `m`.
    pub fn of(name: &str, m: &Array2<f64>) -> NamedMatrix {
        NamedMatrix {
            name: name.into(),
            rows: m.rows().into_iter().map(|r| r.to_vec()).collect(),
        }
    }

    fn array(&self) -> Result<Array2<f64>> {
        let n = self.rows.len();
        let c = self.rows.first().map_or(0, Vec::len);
        if n == 0 || self.rows.iter().any(|r| r.len() != c) {
            return Err(Error::invalid(
                format!("matrix `{}` is empty or ragged", self.name),
                "the report is damaged",
            ));
        }
        Ok(Array2::from_shape_fn((n, c), |(i, j)| self.rows[i][j]))
    }
}

#[derive(Deserialize)]
struct LearnResult {
    /// Learned and true A^(2), A^(4)_iijj (in reports since issue 17).
    #[serde(default)]
    matrices: Option<Vec<NamedMatrix>>,
    /// (data, model) pairs of κ2, κ3 entries (in reports since issue 17).
    #[serde(default)]
    cumulant_pairs: Option<Vec<(N, N)>>,
}

#[derive(Deserialize)]
struct Learn {
    result: LearnResult,
}

fn missing(what: &str) -> Error {
    Error::invalid(
        format!("the report has no {what}"),
        "learn reports hold the figures' data since issue 17: run `feynn theory learn --out-dir` again",
    )
}

/// A `theory-learn` report's output: `a2` (learned and true A^(2)), `a4` (learned and true
/// A^(4)_iijj), `cumulants` (κ2, κ3 of the model against the data).
pub fn learn(report: &serde_json::Value, output: &str) -> Result<String> {
    let r: Learn = view(report, "theory-learn")?;
    match output {
        "a2" | "a4" => {
            let m = r
                .result
                .matrices
                .as_ref()
                .ok_or_else(|| missing("matrices"))?;
            if m.len() != 4 {
                return Err(Error::invalid(
                    format!("{} matrices, not 4", m.len()),
                    "the A^(2) and A^(4) figures need a run with a true theory",
                ));
            }
            let (a, b) = if output == "a2" {
                (&m[0], &m[1])
            } else {
                (&m[2], &m[3])
            };
            let (x, y) = (a.array()?, b.array()?);
            crate::plot::heatmaps_svg(&[(&a.name, &x), (&b.name, &y)])
        }
        "cumulants" => {
            let p = r
                .result
                .cumulant_pairs
                .as_ref()
                .ok_or_else(|| missing("cumulant pairs"))?;
            let pts: Vec<(f64, f64)> = p.iter().map(|(d, m)| (d.0, m.0)).collect();
            crate::efnn::plots::scatter_svg(
                "cumulants κ2, κ3: model samples vs data",
                "data",
                "model",
                &pts,
            )
        }
        _ => Err(unknown(Kind::TheoryLearn, output)),
    }
}

fn pair<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<[f64; 2], D::Error> {
    let [a, b] = <[Option<f64>; 2]>::deserialize(d)?;
    Ok([a.unwrap_or(f64::NAN), b.unwrap_or(f64::NAN)])
}

/// The seeds of one sweep cell: [mean, sd] of each error (sd NaN for one seed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepMean {
    pub depth: usize,
    pub samples: usize,
    pub seeds: usize,
    #[serde(deserialize_with = "pair")]
    pub a2: [f64; 2],
    #[serde(deserialize_with = "pair")]
    pub a3: [f64; 2],
    #[serde(deserialize_with = "pair")]
    pub a4: [f64; 2],
    #[serde(deserialize_with = "pair")]
    pub couplings: [f64; 2],
    pub seconds: f64,
}

/// The sweep summary as a Markdown table (the book includes it).
pub fn sweep_markdown(summary: &[SweepMean]) -> String {
    let pm = |v: [f64; 2]| {
        if v[1].is_finite() {
            format!("{:.3} ± {:.3}", v[0], v[1])
        } else {
            format!("{:.3}", v[0])
        }
    };
    let mut s = String::from(
        "| depth | M | seeds | A^(2) | A^(3) | A^(4) | (g, λ) | time per run |\n|---|---|---|---|---|---|---|---|\n",
    );
    for c in summary {
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} s |\n",
            c.depth,
            c.samples,
            c.seeds,
            pm(c.a2),
            pm(c.a3),
            pm(c.a4),
            pm(c.couplings),
            c.seconds
        );
    }
    s
}

/// What a sweep ran (in `sweep.json` since issue 17): the requested depths and sample counts,
/// and the samples drawn (a larger requested count is capped to it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepGrid {
    pub depths: Vec<usize>,
    pub sample_counts: Vec<usize>,
    pub available: usize,
}

#[derive(Deserialize)]
struct Sweep {
    summary: Vec<SweepMean>,
    #[serde(default)]
    grid: Option<SweepGrid>,
}

/// A `theory-sweep` report's output: `table` (`sweep.md`), or the heat map of the seed means of
/// `a3`, `a4` or `couplings` over depth × samples.
pub fn sweep(report: &serde_json::Value, output: &str) -> Result<String> {
    let r: Sweep = view(report, "theory-sweep")?;
    let (title, get): (&str, fn(&SweepMean) -> f64) = match output {
        "table" => return Ok(sweep_markdown(&r.summary)),
        "a4" => ("relative error of A^(4)", |c| c.a4[0]),
        "a3" => ("relative error of A^(3)", |c| c.a3[0]),
        "couplings" => ("relative error of the fitted (g, λ)", |c| c.couplings[0]),
        _ => return Err(unknown(Kind::TheorySweep, output)),
    };
    // older reports lack the grid: the depths and sample counts in order of first appearance
    let g = r.grid.clone().unwrap_or_else(|| {
        let mut depths = vec![];
        let mut counts = vec![];
        for c in &r.summary {
            if !depths.contains(&c.depth) {
                depths.push(c.depth);
            }
            if !counts.contains(&c.samples) {
                counts.push(c.samples);
            }
        }
        SweepGrid {
            depths,
            sample_counts: counts,
            available: usize::MAX,
        }
    });
    sweep_heatmap(&g, &r.summary, title, get)
}

/// The heat map of one error of a sweep's summary: depths down, sample counts across.
pub fn sweep_heatmap(
    g: &SweepGrid,
    summary: &[SweepMean],
    title: &str,
    get: fn(&SweepMean) -> f64,
) -> Result<String> {
    let rows: Vec<String> = g.depths.iter().map(|d| format!("L = {d}")).collect();
    let cols: Vec<String> = g.sample_counts.iter().map(|m| format!("M = {m}")).collect();
    let values: Vec<Vec<f64>> = g
        .depths
        .iter()
        .map(|d| {
            g.sample_counts
                .iter()
                .map(|m| {
                    summary
                        .iter()
                        .find(|c| c.depth == *d && c.samples == (*m).min(g.available))
                        .map_or(f64::NAN, get)
                })
                .collect()
        })
        .collect();
    plots::grid_svg(title, "depth", "samples", &rows, &cols, &values)
}

/// A `theory-grid` report's output: `table` (`grid.md`) or `couplings` (learned vs true m², κ,
/// g, λ, mean ± sd over the seeds, one series per lattice and depth). The cells are recomputed
/// from the report's runs by the study's own [`grid::summarise`] and written by its
/// [`grid::markdown`].
pub fn grid(report: &serde_json::Value, output: &str) -> Result<String> {
    let r: grid::GridReport = view(report, "theory-grid")?;
    let cells = grid::summarise(&r.settings.sets, &r.runs);
    match output {
        "table" => Ok(grid::markdown(&cells)),
        "couplings" => grid_figure(&cells),
        _ => Err(unknown(Kind::TheoryGrid, output)),
    }
}

/// The figure of a grid's cells: one panel per coupling, one series per (lattice, depth).
fn grid_figure(cells: &[grid::GridCell]) -> Result<String> {
    let mut keys: Vec<(String, usize)> = vec![];
    for c in cells {
        if !keys.contains(&(c.lattice.clone(), c.depth)) {
            keys.push((c.lattice.clone(), c.depth));
        }
    }
    let panels: Vec<(String, Vec<plots::ErrorSeries>)> = ["m²", "κ", "g", "λ"]
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let series = keys
                .iter()
                .map(|(lattice, depth)| {
                    let pts = cells
                        .iter()
                        .filter(|c| &c.lattice == lattice && c.depth == *depth)
                        .map(|c| (c.truth[k], c.learned[k].mean, c.learned[k].sd))
                        .collect();
                    (format!("lattice {lattice}, depth {depth}"), pts)
                })
                .collect();
            (name.to_string(), series)
        })
        .collect();
    plots::learned_vs_true_svg("learned vs true couplings (mean ± sd over seeds)", &panels)
}
