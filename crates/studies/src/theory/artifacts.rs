//! The files of the theory studies: `theory learn` (learn.json, the learned network, figures) and
//! `theory sweep` (sweep.json, heat maps).

use std::collections::BTreeMap;
use std::path::Path;

use crate::physics::lattice::LatticeTheory;
pub use crate::reports::theory::{sweep_markdown, SweepGrid, SweepMean};
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
    let json = serde_json::json!({
        "kind": "theory-learn",
        "provenance": crate::provenance::Provenance::now(),
        "settings": cfg.record(),
        "result": r,
        "checks": checks,
    });
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
    // the figures are drawn from the report, as `feynn reports` draws them again
    let mut files = vec![("cumulants", "theory-cumulants.svg")];
    if r.matrices.len() == 4 {
        files.extend([("a2", "theory-a2.svg"), ("a4", "theory-a4.svg")]);
    }
    for (output, file) in files {
        let svg = crate::reports::theory::learn(&json, output)?;
        crate::plot::write_text(&dir.join(file), &svg)?;
    }
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
        "grid": SweepGrid {
            depths: depths.to_vec(),
            sample_counts: sample_counts.to_vec(),
            available,
        },
        "cells": cells,
        "summary": summary,
    });
    std::fs::write(&p, serde_json::to_string_pretty(&json).unwrap() + "\n").map_err(io(&p))?;
    // the table and figures are drawn from the report, as `feynn reports` draws them again
    for (output, file) in [
        ("table", "sweep.md"),
        ("a4", "sweep-a4.svg"),
        ("a3", "sweep-a3.svg"),
        ("couplings", "sweep-couplings.svg"),
    ] {
        let text = crate::reports::theory::sweep(&json, output)?;
        crate::plot::write_text(&dir.join(file), &text)?;
    }
    Ok(())
}

/// Merge the `sweep.json` reports of sweeps run apart (e.g. one process per seed, or a depth run
/// later) into one: their cells concatenated, the union of their depths and sample counts (every
/// report must have the same theory), written by [`write_sweep`] into `dir`.
pub fn merge_sweeps(dir: &Path, reports: &[std::path::PathBuf]) -> Result<Vec<SweepCell>> {
    #[derive(serde::Deserialize)]
    struct Sweep {
        theory: LatticeTheory,
        grid: Option<SweepGrid>,
        cells: Vec<SweepCell>,
    }
    let mut out: Option<(LatticeTheory, SweepGrid)> = None;
    let mut cells = vec![];
    for p in reports {
        let text = std::fs::read_to_string(p).map_err(io(p))?;
        let r: Sweep = serde_json::from_str(&text).map_err(|e| {
            Error::invalid(
                format!("{}: not a sweep report: {e}", p.display()),
                "give sweep.json files written by `feynn theory sweep`",
            )
        })?;
        let grid = r.grid.ok_or_else(|| {
            Error::invalid(
                format!(
                    "{}: the report does not say its depths and sample counts",
                    p.display()
                ),
                "merge reports of this feynn version",
            )
        })?;
        out = match out {
            Some((t, _)) if t != r.theory => {
                return Err(Error::invalid(
                    format!("{}: another theory than the first report's", p.display()),
                    "merge only sweeps of one theory",
                ))
            }
            Some((t, g)) => {
                let union = |a: &[usize], b: &[usize]| {
                    let mut v: Vec<usize> = a.iter().chain(b).copied().collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                };
                let grid = SweepGrid {
                    depths: union(&g.depths, &grid.depths),
                    sample_counts: union(&g.sample_counts, &grid.sample_counts),
                    available: g.available.max(grid.available),
                };
                Some((t, grid))
            }
            None => Some((r.theory, grid)),
        };
        cells.extend(r.cells);
    }
    let (theory, g) =
        out.ok_or_else(|| Error::invalid("nothing to merge", "give at least one sweep.json"))?;
    write_sweep(
        dir,
        &theory,
        &cells,
        &g.depths,
        &g.sample_counts,
        g.available,
    )?;
    Ok(cells)
}

/// Mean ± sd over the seeds per (depth, samples), by sample count, then depth.
pub fn sweep_summary(cells: &[SweepCell]) -> Vec<SweepMean> {
    let mut keys: Vec<(usize, usize)> = vec![];
    for c in cells {
        if !keys.contains(&(c.depth, c.samples)) {
            keys.push((c.depth, c.samples));
        }
    }
    keys.sort_unstable_by_key(|&(depth, samples)| (samples, depth));
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

/// Write `grid.json` (every run, the cells, provenance and settings), `grid.md` (the cells) and
/// `grid-couplings.svg` (learned vs true m², κ, g, λ, mean ± sd over the seeds) into `dir`.
pub fn write_grid(dir: &Path, report: &crate::theory::grid::GridReport) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let p = dir.join("grid.json");
    std::fs::write(&p, serde_json::to_string_pretty(report).unwrap() + "\n").map_err(io(&p))?;
    // the table and figure are drawn from the report, as `feynn reports` draws them again
    let json = serde_json::to_value(report).expect("numbers and strings");
    for (output, file) in [("table", "grid.md"), ("couplings", "grid-couplings.svg")] {
        let text = crate::reports::theory::grid(&json, output)?;
        crate::plot::write_text(&dir.join(file), &text)?;
    }
    Ok(())
}
