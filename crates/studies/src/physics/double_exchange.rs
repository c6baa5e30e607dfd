//! The quantum double-exchange model on an N×N torus (EFNN benchmark, theory note §3.3).
//!
//! Electrons hop between nearest neighbours (t) and couple to frozen classical unit spins S_i by a
//! Hund coupling J; the label of a spin configuration is the fermionic grand potential at
//! temperature T and chemical potential μ of the single-particle Hamiltonian
//!
//! ```text
//! Γ = [ −tH − (J/2)Sᶻ − μ       −(J/2)(Sˣ − iSʸ) ]
//!     [ −(J/2)(Sˣ + iSʸ)        −tH + (J/2)Sᶻ − μ ]      (2N² × 2N², spin-up block first)
//! E(S) = −T Σ_n ln(1 + e^{−ε_n/T}),
//! ```
//!
//! H the adjacency matrix of the periodic square lattice, ε_n the eigenvalues of Γ. The
//! eigenvalues come from nalgebra's Hermitian eigensolver (`SymmetricEigen` over complex entries:
//! Householder tridiagonalisation, then implicit QR); the sum uses a stable softplus.
//!
//! Sites are numbered r = y·N + x. A configuration is stored component-major, as the flat
//! array [Sˣ(r), Sʸ(r), Sᶻ(r)] of length 3N², i.e. the [3, N, N] image of the convolutional EFNN.
//!
//! **Sampling.** Spins are uniform on the sphere: Sᶻ = u ~ U(−1, 1), φ ~ U(0, 2π). The authors'
//! generator draws θ ~ U(0, π) and φ ~ U(0, 2π) after re-seeding numpy with the same seed, so
//! φ = 2θ exactly: a one-parameter curve on the sphere, and (even without the defect) θ uniform
//! is not the uniform measure. That is not reproduced here.

use nalgebra::{Complex, DMatrix};
use rand::Rng;

/// Parameters of the double-exchange model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoubleExchange {
    /// Linear size N of the N×N torus (N ≥ 1).
    pub n: usize,
    /// Hopping t.
    pub t: f64,
    /// Hund coupling J.
    pub j: f64,
    /// Chemical potential μ.
    pub mu: f64,
    /// Temperature T > 0.
    pub temp: f64,
}

/// ln(1 + e^x) without overflow or loss of precision.
pub fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

impl DoubleExchange {
    /// The paper's parameters t = 1, J = 16, μ = −8.3, T = 0.1 on an `n`×`n` torus.
    pub fn paper(n: usize) -> DoubleExchange {
        DoubleExchange {
            n,
            t: 1.0,
            j: 16.0,
            mu: -8.3,
            temp: 0.1,
        }
    }

    /// Number of sites N².
    pub fn sites(&self) -> usize {
        self.n * self.n
    }

    /// The nearest neighbours right (x+1) and up (y+1) of site r on the torus. For N = 2 both
    /// directions wrap onto the same site, which then appears twice in H (the bond counted once
    /// per direction, as the periodic adjacency of a 2-ring is 2 on the off-diagonal).
    fn forward_neighbours(&self, r: usize) -> [usize; 2] {
        let n = self.n;
        let (x, y) = (r % n, r / n);
        [y * n + (x + 1) % n, ((y + 1) % n) * n + x]
    }

    /// The Hermitian matrix Γ for `spins` (component-major, length 3N²; not checked for unit
    /// length).
    pub fn hamiltonian(&self, spins: &[f64]) -> DMatrix<Complex<f64>> {
        let s = self.sites();
        assert_eq!(spins.len(), 3 * s, "a configuration has 3N² components");
        let mut g = DMatrix::<Complex<f64>>::zeros(2 * s, 2 * s);
        let c = |v: f64| Complex::new(v, 0.0);
        if self.n > 1 {
            for r in 0..s {
                for q in self.forward_neighbours(r) {
                    for b in [0, s] {
                        g[(b + r, b + q)] -= c(self.t);
                        g[(b + q, b + r)] -= c(self.t);
                    }
                }
            }
        } else {
            // N = 1: the site is its own neighbour in both directions, H = [4].
            for b in [0, s] {
                g[(b, b)] -= c(4.0 * self.t);
            }
        }
        let h = self.j / 2.0;
        for r in 0..s {
            let (sx, sy, sz) = (spins[r], spins[s + r], spins[2 * s + r]);
            g[(r, r)] += c(-h * sz - self.mu);
            g[(s + r, s + r)] += c(h * sz - self.mu);
            g[(r, s + r)] = Complex::new(-h * sx, h * sy);
            g[(s + r, r)] = Complex::new(-h * sx, -h * sy);
        }
        g
    }

    /// The 2N² single-particle energies ε_n, ascending.
    pub fn eigenvalues(&self, spins: &[f64]) -> Vec<f64> {
        let mut e: Vec<f64> = self
            .hamiltonian(spins)
            .symmetric_eigenvalues()
            .iter()
            .copied()
            .collect();
        e.sort_by(f64::total_cmp);
        e
    }

    /// E = −T Σ ln(1 + e^{−ε/T}) of the given single-particle energies.
    pub fn grand_potential(&self, eps: &[f64]) -> f64 {
        -self.temp * eps.iter().map(|e| softplus(-e / self.temp)).sum::<f64>()
    }

    /// The label E(S) of a configuration (exact diagonalisation).
    pub fn energy(&self, spins: &[f64]) -> f64 {
        self.grand_potential(&self.eigenvalues(spins))
    }
}

/// N² unit spins uniform on the sphere, component-major (length 3N²).
pub fn uniform_spins(n: usize, rng: &mut impl Rng) -> Vec<f64> {
    let s = n * n;
    let mut out = vec![0.0; 3 * s];
    for r in 0..s {
        let z: f64 = rng.random_range(-1.0..=1.0);
        let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
        let rho = (1.0 - z * z).max(0.0).sqrt();
        out[r] = rho * phi.cos();
        out[s + r] = rho * phi.sin();
        out[2 * s + r] = z;
    }
    out
}

/// N² spins all equal to `dir` (normalised), component-major.
pub fn uniform_direction(n: usize, dir: [f64; 3]) -> Vec<f64> {
    let norm = (dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]).sqrt();
    let s = n * n;
    let mut out = vec![0.0; 3 * s];
    for a in 0..3 {
        for r in 0..s {
            out[a * s + r] = dir[a] / norm;
        }
    }
    out
}
