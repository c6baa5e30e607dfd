//! The broad unimodal class (issue 17, seed paper 001's first finding): train on a grid of
//! coupling sets × lattices × seeds × depths and compare the learned couplings with the true ones,
//! with the seed-to-seed spread as the error bar.
//!
//! Each (coupling set, lattice, seed) draws its own HMC samples (sampler seed = the seed) and
//! every depth is trained on them with the same seed, so the spread over seeds holds both the
//! sampling and the training noise. The sets run from far inside the unimodal class to close to
//! its boundary g² = (8/3) m² λ (or m² → 0 at g = 0), where the readout is expected to break.

use serde::{Deserialize, Serialize};

#[cfg(feature = "train")]
use super::study::{checks, learn, LearnConfig};
use crate::physics::lattice::LatticeTheory;
#[cfg(feature = "train")]
use crate::physics::lattice::COUPLING_NAMES;
#[cfg(feature = "train")]
use crate::physics::mcmc::HmcConfig;
use crate::provenance::Provenance;
use feynn::error::{Error, Result};

/// One coupling set (m², κ, g, λ) with a short name for the tables.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CouplingSet {
    pub name: String,
    pub m2: f64,
    pub kappa: f64,
    pub g: f64,
    pub lambda: f64,
}

impl CouplingSet {
    /// How close the single-site potential is to two minima: g² / ((8/3) m² λ), 1 at the boundary
    /// (for g = 0 the boundary is m² = 0, and this is 0).
    pub fn boundary_ratio(&self) -> f64 {
        if self.g == 0.0 {
            0.0
        } else {
            self.g * self.g / (8.0 / 3.0 * self.m2 * self.lambda)
        }
    }
}

/// The default grid: the `unimodal` preset and seven variations of it (interaction strength,
/// hopping, pure φ⁴, and three sets near the bimodal boundary: g² at 0.67 and 0.90 of
/// (8/3) m² λ, and m² = 0.1 at g = 0).
pub fn default_sets() -> Vec<CouplingSet> {
    let set = |name: &str, m2, kappa, g, lambda| CouplingSet {
        name: name.into(),
        m2,
        kappa,
        g,
        lambda,
    };
    vec![
        set("preset", 1.0, 0.5, 0.8, 1.2),
        set("pure-phi4", 1.0, 0.5, 0.0, 1.2),
        set("weak", 1.0, 0.5, 0.4, 0.6),
        set("strong", 1.0, 0.5, 1.2, 2.4),
        set("hop-1.0", 1.0, 1.0, 0.8, 1.2),
        set("small-m2", 0.3, 0.5, 0.8, 1.2),
        set("large-g", 1.0, 0.5, 1.7, 1.2),
        set("m2-0.1", 0.1, 0.5, 0.0, 1.2),
    ]
}

/// Parse `m2,kappa,g,lambda;m2,kappa,g,lambda;…` (names are `set1`, `set2`, …).
pub fn parse_sets(text: &str) -> Result<Vec<CouplingSet>> {
    let bad = |what: &str| {
        Error::invalid(
            format!("coupling sets `{text}`: {what}"),
            "write four numbers m²,κ,g,λ per set, sets separated by `;`, e.g. 1,0.5,0.8,1.2;1,0.5,0,1.2",
        )
    };
    let mut out = vec![];
    for (k, part) in text.split(';').filter(|p| !p.trim().is_empty()).enumerate() {
        let v: Vec<f64> = part
            .split(',')
            .map(|s| s.trim().parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| bad(&format!("`{part}` is not a list of numbers")))?;
        if v.len() != 4 {
            return Err(bad(&format!("`{part}` has {} numbers, not 4", v.len())));
        }
        out.push(CouplingSet {
            name: format!("set{}", k + 1),
            m2: v[0],
            kappa: v[1],
            g: v[2],
            lambda: v[3],
        });
    }
    if out.is_empty() {
        return Err(bad("no set"));
    }
    Ok(out)
}

/// What a grid runs: every set × lattice × seed × depth.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GridSettings {
    pub sets: Vec<CouplingSet>,
    /// Lattice shapes (`[L]` ring or `[Lx, Ly]` torus).
    pub lattices: Vec<Vec<usize>>,
    pub depths: Vec<usize>,
    pub seeds: Vec<u64>,
    /// HMC samples per (set, lattice, seed), 10 % of them held out.
    pub samples: usize,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub layer: String,
    pub model_samples: usize,
}

/// A number written as `null` when NaN (serde_json) reads back as NaN.
fn nan_or<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn nan_or_array<'de, D: serde::Deserializer<'de>, const K: usize>(
    d: D,
) -> std::result::Result<[f64; K], D::Error> {
    let v = Vec::<Option<f64>>::deserialize(d)?;
    let n = v.len();
    let v: Vec<f64> = v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect();
    v.try_into()
        .map_err(|_| serde::de::Error::invalid_length(n, &"the array's length"))
}

/// One trained network of the grid.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GridRun {
    pub set: String,
    pub lattice: String,
    pub seed: u64,
    pub depth: usize,
    /// (m², κ, g, λ), true and learned (the learned action at the data mean projected onto the
    /// theory's operators).
    #[serde(deserialize_with = "nan_or_array")]
    pub truth: [f64; 4],
    #[serde(deserialize_with = "nan_or_array")]
    pub learned: [f64; 4],
    /// Relative Frobenius errors of A^(2), A^(3), A^(4) at the data mean.
    #[serde(deserialize_with = "nan_or")]
    pub a2: f64,
    #[serde(deserialize_with = "nan_or")]
    pub a3: f64,
    #[serde(deserialize_with = "nan_or")]
    pub a4: f64,
    /// Model vs data cumulants κ1–κ3 (‖Δκ_k‖/‖κ2‖^{k/2}) and the data halves' difference.
    #[serde(deserialize_with = "nan_or_array")]
    pub cumulants: [f64; 3],
    #[serde(deserialize_with = "nan_or_array")]
    pub cumulants_noise: [f64; 3],
    /// Every check of `theory learn` passed; the names of the ones that failed.
    pub pass: bool,
    pub failed: Vec<String>,
    #[serde(deserialize_with = "nan_or")]
    pub val_nll: f64,
    #[serde(deserialize_with = "nan_or")]
    pub hmc_acceptance: f64,
    #[serde(deserialize_with = "nan_or")]
    pub hmc_tau: f64,
    pub seconds: f64,
}

/// Mean and standard deviation (n − 1) over the seeds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct MeanSd {
    pub mean: f64,
    pub sd: f64,
}

impl MeanSd {
    fn nan() -> MeanSd {
        MeanSd {
            mean: f64::NAN,
            sd: f64::NAN,
        }
    }

    fn of(v: &[f64]) -> MeanSd {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = if v.len() > 1 {
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            f64::NAN
        };
        MeanSd { mean, sd }
    }
}

/// The seeds of one (set, lattice, depth) summarised.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GridCell {
    pub set: String,
    pub lattice: String,
    pub depth: usize,
    pub seeds: usize,
    pub boundary_ratio: f64,
    pub truth: [f64; 4],
    /// Learned m², κ, g, λ over the seeds.
    pub learned: [MeanSd; 4],
    pub a2: MeanSd,
    pub a4: MeanSd,
    /// |Δ(g, λ)| / |(g, λ)| over the seeds.
    pub g_lambda_error: MeanSd,
    /// κ3 of model samples vs the data's, ‖Δκ3‖/‖κ2‖^{3/2}, and the data halves' difference
    /// (the sampling noise of that comparison).
    #[serde(default = "MeanSd::nan")]
    pub kappa3: MeanSd,
    #[serde(default = "MeanSd::nan")]
    pub kappa3_noise: MeanSd,
    /// Seeds whose every check passed.
    pub passed: usize,
}

/// The report of a grid: `grid.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GridReport {
    pub kind: String,
    pub provenance: Provenance,
    /// The provenance of the reports this one merged (empty for a run).
    #[serde(default)]
    pub merged_from: Vec<Provenance>,
    pub settings: GridSettings,
    pub runs: Vec<GridRun>,
    /// Recomputed from the runs when a report is read back (their sd is null for one seed).
    #[serde(skip_deserializing, default)]
    pub cells: Vec<GridCell>,
    pub seconds: f64,
}

/// Shape as text: `8` or `4x4`.
pub fn shape_text(shape: &[usize]) -> String {
    shape
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// Refuse an empty grid or a theory that is not valid (before anything is sampled).
pub fn check_grid(s: &GridSettings) -> Result<Vec<Vec<LatticeTheory>>> {
    if s.sets.is_empty() || s.lattices.is_empty() || s.depths.is_empty() || s.seeds.is_empty() {
        return Err(Error::invalid(
            "empty grid",
            "give at least one coupling set, lattice, depth and seed",
        ));
    }
    if s.depths.contains(&0) || s.samples < 10 {
        return Err(Error::invalid(
            "a depth of 0 or fewer than 10 samples",
            "depths are positive, --samples at least 10",
        ));
    }
    s.sets
        .iter()
        .map(|c| {
            s.lattices
                .iter()
                .map(|shape| LatticeTheory::new(shape.clone(), c.m2, c.kappa, c.g, c.lambda))
                .collect()
        })
        .collect()
}

/// Run the grid; `on_run` sees each trained network as it finishes.
#[cfg(feature = "train")]
pub fn run(
    s: &GridSettings,
    hmc: &HmcConfig,
    cfg: &LearnConfig,
    mut on_run: impl FnMut(&GridRun),
) -> Result<GridReport> {
    let theories = check_grid(s)?;
    let provenance = Provenance::now();
    let t0 = std::time::Instant::now();
    let mut runs = vec![];
    for (set, row) in s.sets.iter().zip(&theories) {
        for theory in row {
            for &seed in &s.seeds {
                let h = HmcConfig {
                    samples: s.samples,
                    seed,
                    ..hmc.clone()
                };
                let (x, diag) = super::sample(theory, &h)?;
                for &depth in &s.depths {
                    let mut c = cfg.clone();
                    c.depth = depth;
                    c.train.seed = seed;
                    let (r, _, _) = learn(&x, Some(theory), &c)?;
                    let err = |k: usize| {
                        r.orders
                            .iter()
                            .find(|o| o.order == k)
                            .map_or(f64::NAN, |o| o.relative)
                    };
                    let cum = |v: &[feynn::numeric::cumulants::Diff]| {
                        let mut out = [f64::NAN; 3];
                        for d in v.iter().filter(|d| (1..=3).contains(&d.order)) {
                            out[d.order - 1] = d.scaled;
                        }
                        out
                    };
                    let ch = checks(&r, false);
                    let mut learned = [f64::NAN; 4];
                    for (k, name) in COUPLING_NAMES.iter().enumerate() {
                        if let Some(c) = r.couplings.iter().find(|c| c.name == *name) {
                            learned[k] = c.learned;
                        }
                    }
                    let run = GridRun {
                        set: set.name.clone(),
                        lattice: shape_text(&theory.shape),
                        seed,
                        depth,
                        truth: [theory.m2, theory.kappa, theory.g, theory.lambda],
                        learned,
                        a2: err(2),
                        a3: err(3),
                        a4: err(4),
                        cumulants: cum(&r.cumulants),
                        cumulants_noise: cum(&r.cumulants_noise),
                        pass: ch.iter().all(|c| c.pass),
                        failed: ch
                            .iter()
                            .filter(|c| !c.pass)
                            .map(|c| c.name.clone())
                            .collect(),
                        val_nll: r.fit.val_nll,
                        hmc_acceptance: diag.acceptance,
                        hmc_tau: diag.tau,
                        seconds: r.seconds,
                    };
                    on_run(&run);
                    runs.push(run);
                }
            }
        }
    }
    let cells = summarise(&s.sets, &runs);
    Ok(GridReport {
        kind: "theory-grid".into(),
        provenance,
        merged_from: vec![],
        settings: s.clone(),
        runs,
        cells,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Merge the runs of several grid reports (e.g. one per process) into one, with the cells
/// recomputed; the settings' sets, lattices, depths and seeds are the union, in order.
pub fn merge(reports: Vec<GridReport>) -> Result<GridReport> {
    let mut it = reports.into_iter();
    let mut out = it
        .next()
        .ok_or_else(|| Error::invalid("nothing to merge", "give at least one grid.json"))?;
    out.merged_from = vec![out.provenance.clone()];
    for r in it {
        let s = &mut out.settings;
        if (s.samples, s.epochs, s.batch, &s.layer)
            != (
                r.settings.samples,
                r.settings.epochs,
                r.settings.batch,
                &r.settings.layer,
            )
        {
            return Err(Error::invalid(
                "the grids to merge were run with different samples, epochs, batch or layer",
                "merge only runs of the same settings",
            ));
        }
        for c in r.settings.sets {
            if !s.sets.iter().any(|x| x.name == c.name) {
                s.sets.push(c);
            }
        }
        for l in r.settings.lattices {
            if !s.lattices.contains(&l) {
                s.lattices.push(l);
            }
        }
        for d in r.settings.depths {
            if !s.depths.contains(&d) {
                s.depths.push(d);
            }
        }
        for k in r.settings.seeds {
            if !s.seeds.contains(&k) {
                s.seeds.push(k);
            }
        }
        out.merged_from.push(r.provenance);
        out.runs.extend(r.runs);
        out.seconds += r.seconds;
    }
    out.provenance = Provenance::now();
    out.cells = summarise(&out.settings.sets, &out.runs);
    Ok(out)
}

/// |Δ(g, λ)| / |(g, λ)| of one run.
pub fn g_lambda_error(r: &GridRun) -> f64 {
    let d = ((r.learned[2] - r.truth[2]).powi(2) + (r.learned[3] - r.truth[3]).powi(2)).sqrt();
    d / (r.truth[2].powi(2) + r.truth[3].powi(2)).sqrt().max(1e-300)
}

/// Mean ± sd over the seeds of every (set, lattice, depth), in the order of first appearance.
pub fn summarise(sets: &[CouplingSet], runs: &[GridRun]) -> Vec<GridCell> {
    let mut keys: Vec<(String, String, usize)> = vec![];
    for r in runs {
        let k = (r.set.clone(), r.lattice.clone(), r.depth);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.into_iter()
        .map(|(set, lattice, depth)| {
            let rs: Vec<&GridRun> = runs
                .iter()
                .filter(|r| r.set == set && r.lattice == lattice && r.depth == depth)
                .collect();
            let of = |f: &dyn Fn(&GridRun) -> f64| {
                MeanSd::of(&rs.iter().map(|r| f(r)).collect::<Vec<_>>())
            };
            GridCell {
                boundary_ratio: sets
                    .iter()
                    .find(|s| s.name == set)
                    .map_or(f64::NAN, CouplingSet::boundary_ratio),
                truth: rs[0].truth,
                learned: [0, 1, 2, 3].map(|k| of(&|r| r.learned[k])),
                a2: of(&|r| r.a2),
                a4: of(&|r| r.a4),
                g_lambda_error: of(&g_lambda_error),
                kappa3: of(&|r| r.cumulants[2]),
                kappa3_noise: of(&|r| r.cumulants_noise[2]),
                passed: rs.iter().filter(|r| r.pass).count(),
                seeds: rs.len(),
                set,
                lattice,
                depth,
            }
        })
        .collect()
}

/// The cells as a Markdown table (the book includes it).
pub fn markdown(cells: &[GridCell]) -> String {
    use std::fmt::Write;
    let pm = |m: &MeanSd, p: usize| {
        if m.sd.is_finite() {
            format!("{:.p$} ± {:.p$}", m.mean, m.sd)
        } else {
            format!("{:.p$}", m.mean)
        }
    };
    let mut s = String::from(
        "| set | lattice | depth | b | true (m², κ, g, λ) | m² | κ | g | λ | A^(2) err | A^(4) err | (g, λ) err | κ3 model vs data (data halves) | checks passed |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for c in cells {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.2} | ({}, {}, {}, {}) | {} | {} | {} | {} | {} | {} | {} | {:.3} ({:.3}) | {}/{} |",
            c.set,
            c.lattice,
            c.depth,
            c.boundary_ratio,
            c.truth[0],
            c.truth[1],
            c.truth[2],
            c.truth[3],
            pm(&c.learned[0], 3),
            pm(&c.learned[1], 3),
            pm(&c.learned[2], 3),
            pm(&c.learned[3], 3),
            pm(&c.a2, 3),
            pm(&c.a4, 3),
            pm(&c.g_lambda_error, 3),
            c.kappa3.mean,
            c.kappa3_noise.mean,
            c.passed,
            c.seeds
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_parse_and_refuse() {
        let s = parse_sets("1,0.5,0.8,1.2; 0.3,0.5,0.8,1.2").unwrap();
        assert_eq!(s.len(), 2);
        assert!((s[1].boundary_ratio() - 0.64 / 0.96).abs() < 1e-12);
        assert!(parse_sets("1,0.5,0.8").is_err());
        assert!(parse_sets("1,a,0.8,1").is_err());
        assert!(parse_sets(" ; ").is_err());
    }

    #[test]
    fn default_sets_are_unimodal_and_valid() {
        for s in default_sets() {
            let t = LatticeTheory::new(vec![8], s.m2, s.kappa, s.g, s.lambda).unwrap();
            assert!(t.unimodal_site(), "{}", s.name);
            assert!(s.boundary_ratio() < 1.0);
        }
        assert!(default_sets().len() >= 8);
    }

    #[test]
    fn mean_and_sample_sd() {
        let m = MeanSd::of(&[1.0, 2.0, 3.0]);
        assert_eq!(m.mean, 2.0);
        assert!((m.sd - 1.0).abs() < 1e-15);
        assert!(MeanSd::of(&[4.0]).sd.is_nan());
    }
}
