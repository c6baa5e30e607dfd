//! Reading the couplings a network has learned, for 0/1 spins.
//!
//! Any function f on {0,1}^L has exactly one multilinear expansion
//! f(s) = Σ_{A ⊆ {1..L}} c_A Π_{i∈A} s_i, with c_A = Σ_{B⊆A} (−1)^{|A|−|B|} f(1_B) (Möbius
//! inversion on the subset lattice). Evaluating the network on all 2^L configurations and
//! inverting gives its effective 1-, 2-, 3-, …-body couplings *on the data's domain*, exactly.
//!
//! A Taylor expansion at s = 0 would not: the network is trained on the corners of the cube only,
//! so its derivatives at 0 describe how it interpolates between corners (∂³E/∂s_i∂s_j∂s_k
//! also picks up s_i² s_j s_k-type terms, which on {0,1} equal lower-order ones). The Möbius
//! coefficients are what the network actually computes on 0/1 spins, and for the true energy
//! −Σ J_ijk s_i s_j s_k they are c_ijk = −J_ijk and zero otherwise.

use crate::error::{Error, Result};

/// The largest L for which the 2^L configurations are enumerated.
pub const MAX_SPINS: usize = 24;

/// In-place Möbius inversion: `v[mask]` = f(s) with s_i = bit i of `mask` becomes c_A (A = mask).
pub fn mobius(v: &mut [f64]) {
    let len = v.len();
    assert!(len.is_power_of_two(), "2^L values");
    let mut bit = 1;
    while bit < len {
        for m in 0..len {
            if m & bit != 0 {
                v[m] -= v[m ^ bit];
            }
        }
        bit <<= 1;
    }
}

/// The multilinear expansion of an energy on {0,1}^L, by body order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Expansion {
    pub sites: usize,
    /// All 2^L coefficients c_A, indexed by the bitmask of A.
    #[serde(skip)]
    pub coefficients: Vec<f64>,
}

impl Expansion {
    /// Expand `energy` (a batch function on rows of 0/1 spins) over all 2^L configurations,
    /// evaluated in batches of 4096.
    pub fn of(
        sites: usize,
        mut energy: impl FnMut(&ndarray::Array2<f64>) -> Result<ndarray::Array1<f64>>,
    ) -> Result<Expansion> {
        if sites == 0 || sites > MAX_SPINS {
            return Err(Error::invalid(
                format!("cannot enumerate 2^{sites} configurations"),
                format!("the exact expansion is for 1 ≤ L ≤ {MAX_SPINS}"),
            ));
        }
        let total = 1usize << sites;
        let mut v = Vec::with_capacity(total);
        let chunk = 4096usize;
        let mut start = 0;
        while start < total {
            let end = (start + chunk).min(total);
            let x = ndarray::Array2::from_shape_fn((end - start, sites), |(r, i)| {
                (((start + r) >> i) & 1) as f64
            });
            v.extend(energy(&x)?.iter().copied());
            start = end;
        }
        mobius(&mut v);
        Ok(Expansion {
            sites,
            coefficients: v,
        })
    }

    /// c_A for the set `a` (distinct site indices).
    pub fn coefficient(&self, a: &[usize]) -> f64 {
        self.coefficients[a.iter().fold(0usize, |m, i| m | (1 << i))]
    }

    /// Root-mean-square of the coefficients of body order `k` and their count.
    pub fn rms_of_order(&self, k: u32) -> (f64, usize) {
        let (mut s, mut c) = (0.0, 0usize);
        for (m, v) in self.coefficients.iter().enumerate() {
            if m.count_ones() == k {
                s += v * v;
                c += 1;
            }
        }
        ((s / c.max(1) as f64).sqrt(), c)
    }
}

/// Pearson correlation of two equally long slices.
pub fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// Learned J_ijk (= −c_ijk) against the true ones: the correlation, the relative error
/// ‖J_learned − J‖/‖J‖, and the RMS of the coefficients of every body order 0..=L.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CouplingReport {
    pub correlation: f64,
    pub relative_error: f64,
    pub learned: Vec<f64>,
    /// (order, RMS of its coefficients, number of coefficients).
    pub rms_by_order: Vec<(u32, f64, usize)>,
}

/// Compare the 3-body coefficients of `e` with the couplings of `model`.
pub fn compare(e: &Expansion, model: &crate::physics::spins::ThreeSpin) -> CouplingReport {
    let learned: Vec<f64> = model.triplets.iter().map(|t| -e.coefficient(t)).collect();
    let rms = (0..=e.sites as u32)
        .map(|k| {
            let (r, c) = e.rms_of_order(k);
            (k, r, c)
        })
        .collect();
    learned_report(learned, model, rms)
}

/// The report of learned couplings J_learned (one per triplet of `model`, lexicographic)
/// against the true ones, with the given RMS-by-order table.
pub fn learned_report(
    learned: Vec<f64>,
    model: &crate::physics::spins::ThreeSpin,
    rms_by_order: Vec<(u32, f64, usize)>,
) -> CouplingReport {
    let num: f64 = learned
        .iter()
        .zip(&model.couplings)
        .map(|(a, b)| (a - b).powi(2))
        .sum();
    let den: f64 = model.couplings.iter().map(|b| b * b).sum();
    CouplingReport {
        correlation: correlation(&learned, &model.couplings),
        relative_error: (num / den).sqrt(),
        rms_by_order,
        learned,
    }
}
