//! Data sets of the benchmark systems as [`Dataset`]s (`feynn efnn data`), reproducible from a
//! seed for any thread count (sample k uses its own random stream), with the generator's
//! settings in the `metadata` JSON (3-spin: the couplings too).

use ndarray::{Array1, Array2};
use rayon::prelude::*;

use crate::data::Dataset;
use crate::physics::double_exchange::{uniform_spins, DoubleExchange};
use crate::physics::spins::{stream_rng, SpinValues, ThreeSpin};

/// `samples` rows (configuration, energy) drawn in parallel by `row(k)`, with a progress bar, as
/// inputs [samples, features] and targets.
fn rows_in_parallel(
    samples: usize,
    features: usize,
    progress: bool,
    what: &str,
    row: impl Fn(usize) -> (Vec<f64>, f64) + Sync,
) -> (Array2<f64>, Array1<f64>) {
    let b = crate::progress::Progress::start(samples as u64, what, progress);
    let rows: Vec<(Vec<f64>, f64)> = (0..samples)
        .into_par_iter()
        .map(|k| {
            let r = row(k);
            b.inc(1);
            r
        })
        .collect();
    drop(b);
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

/// The benchmark systems of `feynn efnn data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    /// Classical 3-spin infinite-range model, s ∈ {0, 1}.
    ThreeSpin,
    /// The same Hamiltonian with s ~ U(−1, 1) (the code's "Heisenberg" benchmark).
    Continuous,
    /// Quantum double-exchange model on an N×N torus (exact diagonalisation).
    DoubleExchange,
}

/// What to generate: the system, the sample count, its size and the seed.
#[derive(Clone, Copy, Debug)]
pub struct DataRequest {
    /// The system.
    pub system: System,
    /// Number of configurations (≥ 1).
    pub samples: usize,
    /// Number of spins L of the 3-spin models (≥ 3).
    pub sites: usize,
    /// Lattice size N of the double-exchange model (2 ≤ N ≤ 64).
    pub size: usize,
    /// Seed of the couplings and configurations.
    pub seed: u64,
    /// Report progress (see [`crate::progress`]).
    pub progress: bool,
}

/// Generate the data set of a request, refusing sizes the systems do not have.
pub fn generate(r: &DataRequest) -> feynn::Result<Dataset> {
    use feynn::Error;
    if r.samples == 0 {
        return Err(Error::invalid(
            "--samples must be at least 1",
            "e.g. --samples 20000",
        ));
    }
    Ok(match r.system {
        System::ThreeSpin | System::Continuous => {
            if r.sites < 3 {
                return Err(Error::invalid(
                    format!("--sites {} has no triplet", r.sites),
                    "use L ≥ 3",
                ));
            }
            let m = ThreeSpin::random(r.sites, 1.0, 2.0, r.seed);
            let v = if r.system == System::ThreeSpin {
                SpinValues::Binary
            } else {
                SpinValues::Continuous
            };
            three_spin(&m, v, r.samples, r.seed, r.progress)
        }
        System::DoubleExchange => {
            if r.size < 2 || r.size > 64 {
                return Err(Error::invalid(
                    format!("--size {} is out of range", r.size),
                    "use 2 ≤ N ≤ 64 (the matrix is 2N² × 2N²)",
                ));
            }
            double_exchange(
                &DoubleExchange::paper(r.size),
                r.samples,
                r.seed,
                r.progress,
            )
        }
    })
}
