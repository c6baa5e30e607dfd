//! The Born-series study (issue 5, theory notes §3–4): training data of shallow attractive
//! potentials, and the iterative NN perturbation theory of Kaspschak & Meißner.
//!
//! * [`generate`]: potentials of the [`Family`] mix with their exact a₀ and first two Born terms,
//!   as a [`Dataset`] (`feynn born data`).
//! * [`iterate`] (feature `train`): train network 1 on a₀, Taylor-expand it at U = 0 with the
//!   core engine, eliminate the leading order from the targets, train network 2 on the residual,
//!   expand it, and build the proxy c₀ + g·U + ½UᵀH₂U; optionally a third iteration for the third
//!   order (`feynn born iterate`).

use std::collections::BTreeMap;

use ndarray::{Array1, Array2};
use rayon::prelude::*;

use crate::data::Dataset;
use crate::physics::families::{sample_scaled, Family, Scaling};
use crate::physics::{born, scattering_length};
use feynn::error::{Error, Result};

/// Settings of a generated data set.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DataSettings {
    /// N, the number of equal steps of [0, R].
    pub steps: usize,
    /// R.
    pub range: f64,
    pub samples: usize,
    #[serde(serialize_with = "family_names")]
    pub families: Vec<Family>,
    /// Every potential is at most this fraction (< 1) of its unitary-limit depth.
    pub depth: f64,
    /// The fraction is depth·u^depth_power with u uniform in [0, 1): 1 is uniform, larger
    /// values put more potentials near U = 0.
    pub depth_power: f64,
    /// Half of the potentials repulsive (the sign flipped), so that U = 0 lies inside the data
    /// (see [`Scaling::both_signs`]); false: every potential attractive (the paper).
    pub both_signs: bool,
    pub seed: u64,
}

fn family_names<S: serde::Serializer>(f: &[Family], s: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(f.len()))?;
    for x in f {
        seq.serialize_element(x.name())?;
    }
    seq.end()
}

/// Generate a data set: `inputs` [samples, N] (U_1..U_N), `targets` [samples] (exact a₀ by
/// transfer matrices), `born1`, `born2` (the first two Born terms, closed form), `family` (code
/// of [`Family::code`]) and `metadata` (the settings as JSON, with the family names).
///
/// Sample i comes from family `families[i mod len]` with its own random stream, so the file is
/// the same for any thread count. `tick` is called once per finished sample (progress bars).
pub fn generate(s: &DataSettings, tick: &(dyn Fn() + Sync)) -> Result<Dataset> {
    if s.steps == 0 || s.samples == 0 {
        return Err(Error::invalid(
            "steps and samples must be positive",
            "e.g. --steps 64 --samples 1000",
        ));
    }
    if !(s.range > 0.0 && s.range.is_finite()) {
        return Err(Error::invalid(
            format!("the range must be positive, got {}", s.range),
            "e.g. --range 1",
        ));
    }
    if !(s.depth > 0.0 && s.depth < 1.0) {
        return Err(Error::invalid(
            format!("the depth must lie in (0, 1), got {}", s.depth),
            "depth is the largest fraction of the unitary-limit depth; 1 would allow a bound state",
        ));
    }
    if !(s.depth_power > 0.0 && s.depth_power.is_finite()) {
        return Err(Error::invalid(
            format!("the depth power must be positive, got {}", s.depth_power),
            "1 draws the depth fraction uniformly, 2 favours shallow potentials",
        ));
    }
    if s.families.is_empty() {
        return Err(Error::invalid(
            "no potential family given",
            "e.g. --family steps,gaussian",
        ));
    }
    let rows: Vec<(Vec<f64>, Family, f64)> = (0..s.samples as u64)
        .into_par_iter()
        .map(|i| {
            let scaling = Scaling {
                depth: s.depth,
                power: s.depth_power,
                both_signs: s.both_signs,
            };
            let (u, f) = sample_scaled(&s.families, s.steps, s.range, scaling, s.seed, i);
            let a0 = scattering_length(&u, s.range);
            tick();
            (u, f, a0)
        })
        .collect();
    let n = s.steps;
    let inputs = Array2::from_shape_fn((s.samples, n), |(i, j)| rows[i].0[j]);
    let targets = Array1::from_iter(rows.iter().map(|r| r.2));
    let k = born::k_matrix(n, s.range);
    let g = Array1::from_vec(born::first_order(n, s.range));
    let born1 = inputs.dot(&g);
    let born2 = Array1::from_iter(inputs.rows().into_iter().map(|u| -u.dot(&k.dot(&u))));
    let family = Array1::from_iter(rows.iter().map(|r| r.1.code() as f64));
    let mut extra = BTreeMap::new();
    extra.insert("born1".to_string(), born1);
    extra.insert("born2".to_string(), born2);
    extra.insert("family".to_string(), family);
    let meta = serde_json::json!({
        "kind": "feynn born data",
        "settings": s,
        "units": "hbar^2/2mu = 1; inputs U_n on (r_{n-1}, r_n], r_n = n R/N; targets a0 (attraction: a0 < 0)",
        "family_codes": Family::ALL.iter().map(|f| f.name()).collect::<Vec<_>>(),
    });
    Ok(Dataset {
        inputs,
        targets,
        extra,
        metadata: Some(meta.to_string()),
    })
}

/// The range R stored in a data file's metadata (None if the file has none).
pub fn range_of(data: &Dataset) -> Option<f64> {
    let m: serde_json::Value = serde_json::from_str(data.metadata.as_deref()?).ok()?;
    m["settings"]["range"].as_f64()
}

/// Relative L2 (Frobenius) distance ‖a − b‖/‖b‖.
pub fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let n: f64 = b.iter().map(|y| y * y).sum();
    (d / n).sqrt()
}

#[cfg(feature = "train")]
mod artifacts;
#[cfg(feature = "train")]
mod iterate;
#[cfg(feature = "train")]
pub use artifacts::{write_artifacts, Artifacts};
#[cfg(feature = "train")]
pub use iterate::*;
#[cfg(feature = "train")]
mod seeds;
#[cfg(feature = "train")]
pub use seeds::{
    iterate_seeds, merge_seeds, seeds_table, write_seeds, SeedRow, SeedsReport, Summary,
};
