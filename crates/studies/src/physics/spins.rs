//! The classical 3-spin infinite-range model (EFNN benchmark, theory note `efnn.md` §3.1–3.2).
//!
//! E(s) = − Σ_{i<j<k} J_ijk s_i s_j s_k over all C(L,3) triplets, with J_ijk ~ N(mean, std²)
//! i.i.d. The spins are either binary, s_i ∈ {0, 1} (the "3-spin" benchmark), or continuous,
//! s_i ~ U(−1, 1) (the code's "Heisenberg" benchmark, which is this scalar model).
//!
//! Random numbers come from ChaCha8 streams: the couplings from stream 0 of `seed`, sample `k`
//! from stream k + 1, so a data set is the same for any thread count.

use feynn::random::Rng as SeededRng;
use rand::Rng;

/// How the spins of a configuration are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpinValues {
    /// s_i ∈ {0, 1}, each with probability ½.
    Binary,
    /// s_i ~ Uniform(−1, 1).
    Continuous,
}

pub use feynn::random::standard_normal;

/// The generator of stream `stream` of `seed`.
pub fn stream_rng(seed: u64, stream: u64) -> SeededRng {
    let mut r = feynn::random::seeded(seed);
    r.set_stream(stream);
    r
}

/// A 3-spin model: the triplets (i < j < k, lexicographic) and their couplings.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreeSpin {
    /// Number of spins L.
    pub sites: usize,
    /// All C(L, 3) triplets i < j < k in lexicographic order.
    pub triplets: Vec<[usize; 3]>,
    /// J_ijk, one per triplet.
    pub couplings: Vec<f64>,
}

/// All triplets i < j < k of 0..l in lexicographic order.
pub fn triplets(l: usize) -> Vec<[usize; 3]> {
    let mut t = vec![];
    for i in 0..l {
        for j in i + 1..l {
            for k in j + 1..l {
                t.push([i, j, k]);
            }
        }
    }
    t
}

impl ThreeSpin {
    /// Couplings J_ijk ~ N(`mean`, `std`²) for all triplets of `sites` spins, from stream 0 of
    /// `seed`.
    pub fn random(sites: usize, mean: f64, std: f64, seed: u64) -> ThreeSpin {
        let triplets = triplets(sites);
        let mut rng = stream_rng(seed, 0);
        let couplings = triplets
            .iter()
            .map(|_| mean + std * standard_normal(&mut rng))
            .collect();
        ThreeSpin {
            sites,
            triplets,
            couplings,
        }
    }

    /// E(s) = − Σ J_ijk s_i s_j s_k.
    pub fn energy(&self, s: &[f64]) -> f64 {
        debug_assert_eq!(s.len(), self.sites);
        -self
            .triplets
            .iter()
            .zip(&self.couplings)
            .map(|([i, j, k], c)| c * s[*i] * s[*j] * s[*k])
            .sum::<f64>()
    }

    /// Configuration `index` of a data set drawn with `seed` (stream index + 1).
    pub fn sample(&self, values: SpinValues, seed: u64, index: u64) -> Vec<f64> {
        let mut rng = stream_rng(seed, index + 1);
        (0..self.sites)
            .map(|_| match values {
                SpinValues::Binary => f64::from(rng.random::<bool>() as u8),
                SpinValues::Continuous => rng.random_range(-1.0..1.0),
            })
            .collect()
    }
}
