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

/// Write `sweep.json` and the heat maps of a sweep into `dir` (`available` caps the sample counts).
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
    let json = serde_json::json!({ "theory": theory, "cells": cells });
    std::fs::write(&p, serde_json::to_string_pretty(&json).unwrap() + "\n").map_err(io(&p))?;
    let rows: Vec<String> = depths.iter().map(|d| format!("L = {d}")).collect();
    let cols: Vec<String> = sample_counts.iter().map(|m| format!("M = {m}")).collect();
    for (file, title, get) in [
        (
            "sweep-a4.svg",
            "relative error of A^(4)",
            (|c: &crate::theory::study::SweepCell| c.a4) as fn(&_) -> f64,
        ),
        ("sweep-a3.svg", "relative error of A^(3)", |c| c.a3),
        (
            "sweep-couplings.svg",
            "relative error of the fitted (g, λ)",
            |c| c.couplings,
        ),
    ] {
        let values: Vec<Vec<f64>> = depths
            .iter()
            .map(|d| {
                sample_counts
                    .iter()
                    .map(|m| {
                        cells
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
