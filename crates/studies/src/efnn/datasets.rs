//! Data sets of the benchmark systems as [`Dataset`]s (`feynn efnn data`), reproducible from a
//! seed for any thread count (sample k uses its own random stream), with the generator's
//! settings in the `metadata` JSON (3-spin: the couplings too).

use ndarray::{Array1, Array2};
use rayon::prelude::*;

use crate::data::Dataset;
use crate::physics::double_exchange::{uniform_spins, DoubleExchange};
use crate::physics::spins::{stream_rng, SpinValues, ThreeSpin};

fn bar(len: usize, show: bool, what: &str) -> Option<indicatif::ProgressBar> {
    show.then(|| {
        let b = indicatif::ProgressBar::new(len as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{{elapsed_precise}} [{{bar:30}}] {what} {{pos}}/{{len}} (eta {{eta}})"
            ))
            .unwrap()
            .progress_chars("=> "),
        );
        b
    })
}

/// `samples` rows (configuration, energy) drawn in parallel by `row(k)`, with a progress bar, as
/// inputs [samples, features] and targets.
fn rows_in_parallel(
    samples: usize,
    features: usize,
    progress: bool,
    what: &str,
    row: impl Fn(usize) -> (Vec<f64>, f64) + Sync,
) -> (Array2<f64>, Array1<f64>) {
    let b = bar(samples, progress, what);
    let rows: Vec<(Vec<f64>, f64)> = (0..samples)
        .into_par_iter()
        .map(|k| {
            let r = row(k);
            if let Some(b) = &b {
                b.inc(1);
            }
            r
        })
        .collect();
    if let Some(b) = b {
        b.finish_and_clear();
    }
    let inputs = Array2::from_shape_fn((samples, features), |(r, i)| rows[r].0[i]);
    let targets = Array1::from_iter(rows.iter().map(|r| r.1));
    (inputs, targets)
}

/// `samples` configurations of the 3-spin model with its energies; metadata holds the couplings.
pub fn three_spin(
    model: &ThreeSpin,
    values: SpinValues,
    samples: usize,
    seed: u64,
    progress: bool,
) -> Dataset {
    let l = model.sites;
    let (inputs, targets) = rows_in_parallel(samples, l, progress, "configurations", |k| {
        let s = model.sample(values, seed, k as u64);
        let e = model.energy(&s);
        (s, e)
    });
    let metadata = serde_json::json!({
        "system": match values { SpinValues::Binary => "three-spin", SpinValues::Continuous => "three-spin-continuous" },
        "sites": l,
        "seed": seed,
        "energy": "E = -sum_{i<j<k} J_ijk s_i s_j s_k",
        "triplets": model.triplets,
        "couplings": model.couplings,
    });
    Dataset {
        inputs,
        targets,
        extra: Default::default(),
        metadata: Some(metadata.to_string()),
    }
}

/// `samples` spin configurations uniform on the sphere and their grand potentials by exact
/// diagonalisation; rows are [Sx, Sy, Sz] of the N×N torus (component-major).
pub fn double_exchange(
    model: &DoubleExchange,
    samples: usize,
    seed: u64,
    progress: bool,
) -> Dataset {
    let (inputs, targets) = rows_in_parallel(
        samples,
        3 * model.sites(),
        progress,
        "diagonalisations",
        |k| {
            let mut rng = stream_rng(seed, k as u64 + 1);
            let s = uniform_spins(model.n, &mut rng);
            let e = model.energy(&s);
            (s, e)
        },
    );
    let metadata = serde_json::json!({
        "system": "double-exchange",
        "n": model.n, "t": model.t, "J": model.j, "mu": model.mu, "T": model.temp,
        "seed": seed,
        "layout": "rows are [Sx(r), Sy(r), Sz(r)], r = y*N + x; spins uniform on the sphere",
        "energy": "E = -T sum_n ln(1 + exp(-eps_n/T)), eps_n eigenvalues of the 2N^2 x 2N^2 Hamiltonian",
    });
    Dataset {
        inputs,
        targets,
        extra: Default::default(),
        metadata: Some(metadata.to_string()),
    }
}

/// The 3-spin couplings stored in a data set's metadata, if it is a 3-spin data set.
pub fn three_spin_from_metadata(meta: &str) -> Option<ThreeSpin> {
    let v: serde_json::Value = serde_json::from_str(meta).ok()?;
    let sites = v.get("sites")?.as_u64()? as usize;
    let triplets: Vec<[usize; 3]> = serde_json::from_value(v.get("triplets")?.clone()).ok()?;
    let couplings: Vec<f64> = serde_json::from_value(v.get("couplings")?.clone()).ok()?;
    (triplets.len() == couplings.len()).then_some(ThreeSpin {
        sites,
        triplets,
        couplings,
    })
}
