//! Reading the couplings a network has learned, for 0/1 spins: the exact routes.
//!
//! Any function f on {0,1}^L has exactly one multilinear expansion
//! f(s) = Σ_{A ⊆ {1..L}} c_A Π_{i∈A} s_i, with c_A = Σ_{B⊆A} (−1)^{|A|−|B|} f(1_B) (Möbius
//! inversion on the subset lattice). Evaluating the network on all 2^L configurations and
//! inverting gives its effective 1-, 2-, 3-, …-body couplings *on the data's domain*, exactly.
//! The same function has exactly one expansion in the centred spins σ_i = 2s_i − 1 ∈ {±1}, the
//! Walsh–Fourier expansion f = Σ_A w_A Π_{i∈A} σ_i, w_A = 2^{−L} Σ_s f(s) Π_{i∈A} σ_i, with
//! w_A = Σ_{B ⊇ A} 2^{−|B|} c_B ([`Expansion::walsh`]).
//!
//! Both are derivatives of the multilinear extension f̃ (the unique multilinear function equal
//! to f on the corners): c_A = ∂_A f̃(0) (anchored at the empty configuration) and
//! 2^{|A|} w_A = ∂_A f̃(½, …, ½) (at the centre of the cube, an average over all 2^L
//! configurations with equal weight, which is the data's distribution). For the true energy
//! −Σ J_ijk s_i s_j s_k both give −J_ijk for the triplets and zero otherwise. The Taylor route
//! ([`super::taylor`]) differentiates the network's own extension off the cube instead; the
//! network was never trained there.

use feynn::error::{Error, Result};

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

    /// The Walsh–Fourier coefficients w_A of the ±1 spins σ = 2s − 1, indexed by the bitmask of
    /// A: w_A = Σ_{B ⊇ A} 2^{−|B|} c_B (a weighted superset sum, O(L·2^L)).
    pub fn walsh(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self
            .coefficients
            .iter()
            .enumerate()
            .map(|(m, c)| c * 0.5f64.powi(m.count_ones() as i32))
            .collect();
        let len = v.len();
        let mut bit = 1;
        while bit < len {
            for m in 0..len {
                if m & bit == 0 {
                    v[m] += v[m | bit];
                }
            }
            bit <<= 1;
        }
        v
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

/// Learned J_ijk (= −c_ijk) against the true ones: the correlation, the scale, the relative error
/// ‖J_learned − J‖/‖J‖, and the RMS of the coefficients of every body order 0..=L.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CouplingReport {
    pub correlation: f64,
    /// The least-squares slope of J_learned on J (through the origin): 1 if the magnitudes are
    /// right, whatever the correlation.
    pub scale: f64,
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

/// Compare the Walsh–Fourier 3-body coefficients of `e` with the couplings of `model`: the
/// learned J_ijk = −8 w_ijk = −∂_i∂_j∂_k f̃ at the centre of the cube. `rms_by_order` is over
/// 2^{|A|} w_A (the centred derivatives, comparable with the Taylor route at the mean).
pub fn compare_walsh(e: &Expansion, model: &crate::physics::spins::ThreeSpin) -> CouplingReport {
    let w = e.walsh();
    let mask = |a: &[usize]| a.iter().fold(0usize, |m, i| m | (1 << i));
    let learned: Vec<f64> = model.triplets.iter().map(|t| -8.0 * w[mask(t)]).collect();
    let rms = (0..=e.sites as u32)
        .map(|k| {
            let (mut s, mut c) = (0.0, 0usize);
            for (m, v) in w.iter().enumerate() {
                if m.count_ones() == k {
                    s += (v * f64::from(1u32 << k)).powi(2);
                    c += 1;
                }
            }
            (k, (s / c.max(1) as f64).sqrt(), c)
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
    let dot: f64 = learned
        .iter()
        .zip(&model.couplings)
        .map(|(a, b)| a * b)
        .sum();
    CouplingReport {
        correlation: correlation(&learned, &model.couplings),
        scale: dot / den,
        relative_error: (num / den).sqrt(),
        rms_by_order,
        learned,
    }
}
