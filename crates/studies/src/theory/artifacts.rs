//! The files of the theory studies: `theory learn` (learn.json, the learned network, figures) and
//! `theory sweep` (sweep.json, heat maps).

use std::collections::BTreeMap;
use std::path::Path;

use crate::physics::lattice::LatticeTheory;
use crate::theory::study::{Check, LearnConfig, LearnResult, SweepCell};
use feynn::model::weights::Tensor;
use feynn::{Error, Result};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.display().to_string(),
        source: e,
    }
}

/// Write `learn.json`, `learned.safetensors`, `learned.fnn` and the figures of a `learn` run into
/// `dir` (`dim` is the lattice's number of sites).
pub fn write_learn(
    dir: &Path,
    r: &LearnResult,
    checks: &[Check],
    tensors: &BTreeMap<String, Tensor>,
    cfg: &LearnConfig,
    dim: usize,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let json = serde_json::json!({ "result": r, "checks": checks });
    let p = dir.join("learn.json");
    std::fs::write(&p, serde_json::to_string_pretty(&json).unwrap() + "\n").map_err(io(&p))?;
    feynn::model::weights::write_safetensors(&dir.join("learned.safetensors"), &tensors)?;
    let arch = crate::theory::fit::InnArch {
        dim: dim,
        depth: cfg.depth,
        kind: cfg.kind,
        branch_penalty: cfg.branch_penalty,
    };
    let spec = crate::theory::fit::spec_text(
        "learned",
        &arch,
        "learned.safetensors",
        &format!(
            "INN trained by `feynn theory learn`; its action at the data mean:\n//   feynn action learned.fnn --order 4 --at {}",
            r.point.iter().map(|v| format!("{v:.6}")).collect::<Vec<_>>().join(",")
        ),
    );
    let p = dir.join("learned.fnn");
    std::fs::write(&p, spec).map_err(io(&p))?;
    let m = &r.matrices;
    if m.len() == 4 {
        crate::plot::heatmaps(
            &dir.join("theory-a2.svg"),
            &[(&m[0].0, &m[0].1), (&m[1].0, &m[1].1)],
        )?;
        crate::plot::heatmaps(
            &dir.join("theory-a4.svg"),
            &[(&m[2].0, &m[2].1), (&m[3].0, &m[3].1)],
        )?;
    }
    crate::efnn::plots::scatter(
        &dir.join("theory-cumulants.svg"),
        "cumulants κ2, κ3: model samples vs data",
        "data",
        "model",
        &r.cumulant_pairs,
    )?;
    Ok(())
}

/// Write `sweep.json` (provenance, every cell of every seed, and per (depth, samples) the mean ±
/// sd over the seeds) and the heat maps of the seed means into `dir` (`available` caps the sample
/// counts).
pub fn write_sweep(
    dir: &Path,
    theory: &LatticeTheory,
    cells: &[SweepCell],
    depths: &[usize],
    sample_counts: &[usize],
    available: usize,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let p = dir.join("sweep.json");
    let summary = sweep_summary(cells);
    let json = serde_json::json!({
        "kind": "theory-sweep",
        "provenance": crate::provenance::Provenance::now(),
        "theory": theory,
        "cells": cells,
        "summary": summary,
    });
    std::fs::write(&p, serde_json::to_string_pretty(&json).unwrap() + "\n").map_err(io(&p))?;
    let p = dir.join("sweep.md");
    std::fs::write(&p, sweep_markdown(&summary)).map_err(io(&p))?;
    let rows: Vec<String> = depths.iter().map(|d| format!("L = {d}")).collect();
    let cols: Vec<String> = sample_counts.iter().map(|m| format!("M = {m}")).collect();
    for (file, title, get) in [
        (
            "sweep-a4.svg",
            "relative error of A^(4)",
            (|c: &SweepMean| c.a4[0]) as fn(&_) -> f64,
        ),
        ("sweep-a3.svg", "relative error of A^(3)", |c| c.a3[0]),
        (
            "sweep-couplings.svg",
            "relative error of the fitted (g, λ)",
            |c| c.couplings[0],
        ),
    ] {
        let values: Vec<Vec<f64>> = depths
            .iter()
            .map(|d| {
                sample_counts
                    .iter()
                    .map(|m| {
                        summary
                            .iter()
                            .find(|c| c.depth == *d && c.samples == (*m).min(available))
                            .map_or(f64::NAN, get)
                    })
                    .collect()
            })
            .collect();
        crate::theory::plots::grid(
            &dir.join(file),
            title,
            "depth",
            "samples",
            &rows,
            &cols,
            &values,
        )?;
    }
    Ok(())
}

/// The seeds of one sweep cell: [mean, sd] of each error (sd NaN for one seed).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SweepMean {
    pub depth: usize,
    pub samples: usize,
    pub seeds: usize,
    pub a2: [f64; 2],
    pub a3: [f64; 2],
    pub a4: [f64; 2],
    pub couplings: [f64; 2],
    pub seconds: f64,
}

/// Mean ± sd over the seeds per (depth, samples), in the order of first appearance.
pub fn sweep_summary(cells: &[SweepCell]) -> Vec<SweepMean> {
    let mut keys: Vec<(usize, usize)> = vec![];
    for c in cells {
        if !keys.contains(&(c.depth, c.samples)) {
            keys.push((c.depth, c.samples));
        }
    }
    let stat = |v: Vec<f64>| {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let sd = if v.len() > 1 {
            (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            f64::NAN
        };
        [m, sd]
    };
    keys.into_iter()
        .map(|(depth, samples)| {
            let cs: Vec<&SweepCell> = cells
                .iter()
                .filter(|c| c.depth == depth && c.samples == samples)
                .collect();
            SweepMean {
                depth,
                samples,
                seeds: cs.len(),
                a2: stat(cs.iter().map(|c| c.a2).collect()),
                a3: stat(cs.iter().map(|c| c.a3).collect()),
                a4: stat(cs.iter().map(|c| c.a4).collect()),
                couplings: stat(cs.iter().map(|c| c.couplings).collect()),
                seconds: cs.iter().map(|c| c.seconds).sum::<f64>() / cs.len() as f64,
            }
        })
        .collect()
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

/// Write `grid.json` (every run, the cells, provenance and settings), `grid.md` (the cells) and
/// `grid-couplings.svg` (learned vs true m², κ, g, λ, mean ± sd over the seeds) into `dir`.
pub fn write_grid(dir: &Path, report: &crate::theory::grid::GridReport) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let p = dir.join("grid.json");
    std::fs::write(&p, serde_json::to_string_pretty(report).unwrap() + "\n").map_err(io(&p))?;
    let p = dir.join("grid.md");
    std::fs::write(&p, crate::theory::grid::markdown(&report.cells)).map_err(io(&p))?;
    grid_figure(&dir.join("grid-couplings.svg"), &report.cells)
}

/// The figure of a grid's cells: one panel per coupling, one series per (lattice, depth).
pub fn grid_figure(path: &Path, cells: &[crate::theory::grid::GridCell]) -> Result<()> {
    let mut keys: Vec<(String, usize)> = vec![];
    for c in cells {
        if !keys.contains(&(c.lattice.clone(), c.depth)) {
            keys.push((c.lattice.clone(), c.depth));
        }
    }
    let panels: Vec<(String, Vec<crate::theory::plots::ErrorSeries>)> = ["m²", "κ", "g", "λ"]
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
    crate::theory::plots::learned_vs_true(
        path,
        "learned vs true couplings (mean ± sd over seeds)",
        &panels,
    )
}
