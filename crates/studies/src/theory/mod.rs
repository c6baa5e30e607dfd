//! Learning interacting theories from data (seed paper 001, theory note `inn-action.md` §3.7–3.9,
//! §5, §8): sample a lattice theory, train an invertible network on the samples by maximum
//! likelihood, read its action back with the exact recursion, and compare with the truth.
//!
//! * [`samples`]: HMC samples of a [`LatticeTheory`] as `.npz` (inputs = samples, targets = S,
//!   metadata = theory and sampler diagnostics), and reading them back.
//! * [`compare_orders`]: learned vs true action tensors per order (relative Frobenius error,
//!   diagonal and off-diagonal parts apart).
//! * [`fit`] (feature `train`): maximum-likelihood training of `quad` INNs with candle.
//! * [`study`] (feature `train`): the pipeline `feynn theory learn` runs, and the depth ×
//!   samples sweep.
//! * [`grid`] (its `run` needs feature `train`): the broad unimodal class — coupling sets × lattices × seeds ×
//!   depths, learned couplings with the seeds' spread.
//! * [`plots`]: the figures (coupling matrices, cumulant scatter, sweep heat map).

#[cfg(feature = "train")]
pub mod artifacts;
#[cfg(feature = "train")]
pub mod fit;
pub mod grid;
pub mod plots;
#[cfg(feature = "train")]
pub mod study;

use std::path::Path;

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::physics::lattice::LatticeTheory;
use crate::physics::mcmc::{self, Diagnostics, HmcConfig};
use feynn::error::{Error, Result};

/// Named theories used by the experiments (ring of `sites` sites).
pub fn preset(name: &str, shape: Vec<usize>) -> Result<LatticeTheory> {
    match name {
        // g² = 0.64 < (8/3) m² λ = 3.2: one minimum per site
        "unimodal" => LatticeTheory::new(shape, 1.0, 0.5, 0.8, 1.2),
        // m² < 0: two minima per site at x = ±√(−6m²/λ) = ±√2
        "bimodal" => LatticeTheory::new(shape, -1.0, 0.2, 0.0, 3.0),
        "gaussian" => LatticeTheory::new(shape, 1.0, 0.5, 0.0, 0.0),
        _ => Err(Error::invalid(
            format!("no theory preset `{name}`"),
            "use unimodal, bimodal or gaussian, or give --m2 --kappa --g --lambda",
        )),
    }
}

/// The metadata stored with a sample file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SampleMeta {
    pub kind: String,
    pub theory: LatticeTheory,
    pub sampler: serde_json::Value,
    pub diagnostics: serde_json::Value,
}

/// Draw samples of `theory` by HMC.
pub fn sample(theory: &LatticeTheory, cfg: &HmcConfig) -> Result<(Array2<f64>, Diagnostics)> {
    let (pts, diag) = mcmc::hmc(&mcmc::LatticeTarget::new(theory), None, cfg)?;
    let n = theory.sites();
    let arr = Array2::from_shape_vec((pts.len(), n), pts.concat()).expect("rows of length N");
    Ok((arr, diag))
}

/// Write samples as `.npz`: `inputs` [M, N], `targets` = S(x) [M], `metadata` (JSON).
pub fn write_samples(
    path: &Path,
    theory: &LatticeTheory,
    x: &Array2<f64>,
    cfg: &HmcConfig,
    diag: &Diagnostics,
) -> Result<()> {
    let targets: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| theory.action(&r.to_vec()))
        .collect();
    let meta = SampleMeta {
        kind: "lattice-theory-samples".into(),
        theory: theory.clone(),
        sampler: serde_json::to_value(cfg).unwrap(),
        diagnostics: serde_json::to_value(diag).unwrap(),
    };
    Dataset {
        inputs: x.clone(),
        targets,
        extra: Default::default(),
        metadata: Some(serde_json::to_string(&meta).unwrap()),
    }
    .write(path)
}

/// Read samples: the points and, if the file was written by [`write_samples`], the theory.
pub fn read_samples(path: &Path) -> Result<(Array2<f64>, Option<LatticeTheory>)> {
    let d = Dataset::read(path)?;
    let theory = d
        .metadata
        .as_deref()
        .and_then(|m| serde_json::from_str::<SampleMeta>(m).ok())
        .map(|m| m.theory);
    if d.inputs.nrows() < 2 {
        return Err(Error::invalid(
            format!("{}: fewer than two samples", path.display()),
            "sample more points",
        ));
    }
    Ok((d.inputs, theory))
}

/// The samples of a study and the theory they are compared with. With a `file` of
/// [`write_samples`]: its first `at_most` rows, and its own theory unless `overridden` (couplings
/// given by the user: then `theory`, dropped if its lattice has another size). Without a file:
/// `cfg.samples` points drawn from `theory` by HMC, with the sampler's diagnostics.
pub fn obtain(
    file: Option<&Path>,
    at_most: usize,
    theory: Result<LatticeTheory>,
    overridden: bool,
    cfg: &HmcConfig,
) -> Result<(Array2<f64>, Option<LatticeTheory>, Option<Diagnostics>)> {
    match file {
        Some(p) => {
            let (x, t) = read_samples(p)?;
            let t = if overridden || t.is_none() {
                let t = theory?;
                (t.sites() == x.ncols()).then_some(t)
            } else {
                t
            };
            let m = at_most.min(x.nrows());
            Ok((x.slice(ndarray::s![..m, ..]).to_owned(), t, None))
        }
        None => {
            let t = theory?;
            let (x, d) = sample(&t, cfg)?;
            Ok((x, Some(t), Some(d)))
        }
    }
}

/// Learned vs true tensor of one order.
#[derive(Debug, Clone, Serialize)]
pub struct OrderError {
    pub order: usize,
    /// ‖A_learned − A_true‖ / ‖A_true‖ (Frobenius over all N^k entries).
    pub relative: f64,
    /// The same over the diagonal entries (all indices equal) only.
    pub diagonal: f64,
    /// ‖off-diagonal part of A_learned − A_true‖ / ‖A_true‖ (the true off-diagonal part of A³, A⁴
    /// of a lattice theory is zero, so it is measured against the whole tensor).
    pub off_diagonal: f64,
    pub true_norm: f64,
}

/// Compare tensors order by order (`learned[k]`, `truth[k]` dense row-major N^k), k = 1..=K.
pub fn compare_orders(n: usize, learned: &[Vec<f64>], truth: &[Vec<f64>]) -> Vec<OrderError> {
    (1..learned.len().min(truth.len()))
        .map(|k| {
            let step: usize = (0..k).map(|e| n.pow(e as u32)).sum();
            let (mut all, mut diag, mut diag_true, mut off, mut norm) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (f, (a, b)) in learned[k].iter().zip(&truth[k]).enumerate() {
                let d2 = (a - b).powi(2);
                all += d2;
                norm += b * b;
                if f % step == 0 && f / step < n {
                    diag += d2;
                    diag_true += b * b;
                } else {
                    off += d2;
                }
            }
            let rel = |x: f64, y: f64| if y > 0.0 { (x / y).sqrt() } else { x.sqrt() };
            OrderError {
                order: k,
                relative: rel(all, norm),
                diagonal: rel(diag, diag_true),
                off_diagonal: rel(off, norm),
                true_norm: norm.sqrt(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagonal_entries_are_found() {
        // N = 3, k = 3: the diagonal flat indices are 0, 13, 26
        let n = 3;
        let mut t = vec![0.0; 27];
        let mut l = t.clone();
        for i in 0..3 {
            t[i * 13] = 1.0;
            l[i * 13] = 1.1;
        }
        l[5] = 0.3;
        let e = &compare_orders(
            n,
            &[vec![], vec![], vec![], l],
            &[vec![], vec![], vec![], t],
        )[2];
        assert_eq!(e.order, 3);
        assert!((e.diagonal - 0.1).abs() < 1e-12);
        assert!((e.off_diagonal - 0.3 / 3f64.sqrt()).abs() < 1e-12);
    }
}
