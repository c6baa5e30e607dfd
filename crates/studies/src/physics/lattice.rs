//! φ³ + φ⁴ lattice theories on periodic 1-D and 2-D lattices (theory note `inn-action.md` §5):
//!
//! ```text
//! S(x) = Σ_i [ (m²/2) x_i² + (g/3!) x_i³ + (λ/4!) x_i⁴ ] + (κ/2) Σ_bonds (x_i − x_j)²,   p ∝ e^{−S}
//! ```
//!
//! The bonds are the nearest-neighbour pairs (i, i+1 mod L) of every lattice direction, each taken
//! once per site and direction, literally as in Σ_i (x_i − x_{i+1})² (so L = 2 counts the pair
//! twice, L = 1 contributes nothing). Sites are numbered row-major, `x + Lx·y`.
//!
//! The Taylor tensors at any point are exact ([`LatticeTheory::tensors`]), in the convention of the
//! INN action (`S(x0+δ) = Σ_k A^(k) δ^k`, no 1/k!), so a learned action can be compared entry by
//! entry; [`fit_couplings`] projects learned tensors back onto (m², κ, g, λ).

use serde::{Deserialize, Serialize};

use feynn::error::{Error, Result};

/// A lattice theory: shape and couplings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatticeTheory {
    /// Lattice extents: `[L]` (1-D ring) or `[Lx, Ly]` (torus).
    pub shape: Vec<usize>,
    pub m2: f64,
    pub kappa: f64,
    pub g: f64,
    pub lambda: f64,
}

/// The couplings in the order used by [`fit_couplings`].
pub const COUPLING_NAMES: [&str; 4] = ["m2", "kappa", "g", "lambda"];

impl LatticeTheory {
    /// A validated theory: 1 or 2 directions, N = Π shape between 1 and 64, λ > 0 (or λ = 0 with
    /// a Gaussian, normalisable quadratic part), finite couplings.
    pub fn new(shape: Vec<usize>, m2: f64, kappa: f64, g: f64, lambda: f64) -> Result<Self> {
        let t = LatticeTheory {
            shape,
            m2,
            kappa,
            g,
            lambda,
        };
        let n = t.sites();
        if t.shape.is_empty() || t.shape.len() > 2 || t.shape.contains(&0) || n > 64 {
            return Err(Error::invalid(
                format!("lattice {:?} (N = {n}) is not supported", t.shape),
                "give `L` or `LXxLY` (e.g. `8` or `4x4`) with 1 ≤ N ≤ 64 sites",
            ));
        }
        if ![m2, kappa, g, lambda].iter().all(|v| v.is_finite()) {
            return Err(Error::invalid(
                "a coupling is not a finite number",
                "give finite m², κ, g, λ",
            ));
        }
        if lambda < 0.0 {
            return Err(Error::invalid(
                format!("λ = {lambda} < 0: e^{{−S}} is not normalisable"),
                "give λ > 0 (or λ = 0 with g = 0 and a positive quadratic part)",
            ));
        }
        if lambda == 0.0 {
            if g != 0.0 {
                return Err(Error::invalid(
                    "λ = 0 with g ≠ 0: the cubic term makes e^{−S} unnormalisable",
                    "give λ > 0",
                ));
            }
            let min_eig = t.quadratic_eigen_min();
            if min_eig <= 0.0 {
                return Err(Error::invalid(
                    format!("the Gaussian theory has a non-positive mode (smallest eigenvalue {min_eig:.3e} of m² + κ·Laplacian)"),
                    "raise m² or give λ > 0",
                ));
            }
        }
        Ok(t)
    }

    /// Number of sites N.
    pub fn sites(&self) -> usize {
        self.shape.iter().product()
    }

    /// Nearest-neighbour bonds (i, j), one per site and direction.
    pub fn bonds(&self) -> Vec<(usize, usize)> {
        let mut out = vec![];
        match self.shape[..] {
            [l] => {
                for i in 0..l {
                    out.push((i, (i + 1) % l));
                }
            }
            [lx, ly] => {
                for y in 0..ly {
                    for x in 0..lx {
                        let i = x + lx * y;
                        out.push((i, (x + 1) % lx + lx * y));
                        out.push((i, x + lx * ((y + 1) % ly)));
                    }
                }
            }
            _ => unreachable!("validated in new"),
        }
        out
    }

    /// The lattice Laplacian matrix Σ_bonds (e_i − e_j)(e_i − e_j)ᵀ (row-major N×N).
    pub fn laplacian(&self) -> Vec<f64> {
        let n = self.sites();
        let mut l = vec![0.0; n * n];
        for (i, j) in self.bonds() {
            l[i * n + i] += 1.0;
            l[j * n + j] += 1.0;
            l[i * n + j] -= 1.0;
            l[j * n + i] -= 1.0;
        }
        l
    }

    /// Smallest eigenvalue of m² + κ·Laplacian (the Gaussian part's stiffness).
    fn quadratic_eigen_min(&self) -> f64 {
        let n = self.sites();
        let l = self.laplacian();
        let k = nalgebra::DMatrix::from_fn(n, n, |i, j| {
            self.kappa * l[i * n + j] + if i == j { self.m2 } else { 0.0 }
        });
        k.symmetric_eigenvalues().min()
    }

    /// The action S(x).
    pub fn action(&self, x: &[f64]) -> f64 {
        let site: f64 = x
            .iter()
            .map(|&v| {
                let v2 = v * v;
                0.5 * self.m2 * v2 + self.g / 6.0 * v2 * v + self.lambda / 24.0 * v2 * v2
            })
            .sum();
        let hop: f64 = self
            .bonds()
            .iter()
            .map(|&(i, j)| (x[i] - x[j]).powi(2))
            .sum();
        site + 0.5 * self.kappa * hop
    }

    /// S(x) and ∇S(x) (into `grad`), with a precomputed bond list (the sampler's inner loop).
    pub fn action_grad(&self, bonds: &[(usize, usize)], x: &[f64], grad: &mut [f64]) -> f64 {
        let mut s = 0.0;
        for (gi, &v) in grad.iter_mut().zip(x) {
            let v2 = v * v;
            s += 0.5 * self.m2 * v2 + self.g / 6.0 * v2 * v + self.lambda / 24.0 * v2 * v2;
            *gi = self.m2 * v + 0.5 * self.g * v2 + self.lambda / 6.0 * v2 * v;
        }
        for &(i, j) in bonds {
            let d = x[i] - x[j];
            s += 0.5 * self.kappa * d * d;
            grad[i] += self.kappa * d;
            grad[j] -= self.kappa * d;
        }
        s
    }

    /// The exact Taylor tensors A^(0..=4) of S at `x0` (dense, row-major, no 1/k!):
    /// A¹ = ∇S, A² = ½ ∂²S, A³_iii = (g + λ x0_i)/6, A⁴_iiii = λ/24.
    pub fn tensors(&self, x0: &[f64]) -> Vec<Vec<f64>> {
        let n = self.sites();
        let mut grad = vec![0.0; n];
        let a0 = self.action_grad(&self.bonds(), x0, &mut grad);
        let mut a2: Vec<f64> = self
            .laplacian()
            .iter()
            .map(|v| 0.5 * self.kappa * v)
            .collect();
        let mut a3 = vec![0.0; n * n * n];
        let mut a4 = vec![0.0; n * n * n * n];
        for (i, &v) in x0.iter().enumerate() {
            a2[i * n + i] += 0.5 * (self.m2 + self.g * v + 0.5 * self.lambda * v * v);
            a3[i * (n * n + n + 1)] = (self.g + self.lambda * v) / 6.0;
            a4[i * (n * n * n + n * n + n + 1)] = self.lambda / 24.0;
        }
        vec![vec![a0], grad, a2, a3, a4]
    }

    /// Whether the single-site potential (m²/2)x² + (g/6)x³ + (λ/24)x⁴ has one minimum
    /// (g² < (8/3) m² λ with m² > 0, theory §5), i.e. the theory is in the unimodal class.
    pub fn unimodal_site(&self) -> bool {
        self.m2 > 0.0 && self.g * self.g < 8.0 / 3.0 * self.m2 * self.lambda
    }
}

/// Parse a lattice shape: `8` or `4x4`.
pub fn parse_shape(text: &str) -> Result<Vec<usize>> {
    let parts: std::result::Result<Vec<usize>, _> = text
        .split(['x', 'X'])
        .map(|p| p.trim().parse::<usize>())
        .collect();
    match parts {
        Ok(v) if (1..=2).contains(&v.len()) && !v.contains(&0) => Ok(v),
        _ => Err(Error::invalid(
            format!("`{text}` is not a lattice shape"),
            "write `L` (a ring of L sites) or `LXxLY` (a torus), e.g. `8` or `4x4`",
        )),
    }
}

/// Couplings (m², κ, g, λ) that best explain learned Taylor tensors at `x0`: linear least squares
/// over every entry of the derivative tensors ∂^k S = k!·A^(k), k = 2, 3, 4 (each coupling
/// enters them linearly, see [`LatticeTheory::tensors`]). `tensors[k]` is A^(k), dense row-major.
pub fn fit_couplings(shape: &[usize], x0: &[f64], tensors: &[Vec<f64>]) -> Result<[f64; 4]> {
    // each basis theory has one coupling set to 1; its tensors minus those of the zero theory
    let zero = LatticeTheory {
        shape: shape.to_vec(),
        m2: 0.0,
        kappa: 0.0,
        g: 0.0,
        lambda: 0.0,
    };
    if tensors.len() < 5 {
        return Err(Error::invalid(
            "fitting the couplings needs the action to order 4",
            "compute the action with --order 4",
        ));
    }
    let mut cols: Vec<Vec<f64>> = vec![];
    for c in 0..4 {
        let mut t = zero.clone();
        match c {
            0 => t.m2 = 1.0,
            1 => t.kappa = 1.0,
            2 => t.g = 1.0,
            _ => t.lambda = 1.0,
        }
        cols.push(derivative_entries(&t.tensors(x0)));
    }
    let target = derivative_entries(tensors);
    let rows = target.len();
    let a = nalgebra::DMatrix::from_fn(rows, 4, |r, c| cols[c][r]);
    let b = nalgebra::DVector::from_vec(target);
    let sol = a
        .svd(true, true)
        .solve(&b, 1e-12)
        .map_err(|e| Error::invalid(format!("coupling fit failed: {e}"), "this is a bug"))?;
    Ok([sol[0], sol[1], sol[2], sol[3]])
}

/// The entries of k!·A^(k) for k = 2, 3, 4, concatenated.
fn derivative_entries(tensors: &[Vec<f64>]) -> Vec<f64> {
    let fact = [1.0, 1.0, 2.0, 6.0, 24.0];
    (2..=4)
        .flat_map(|k| tensors[k].iter().map(move |v| v * fact[k]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn theory() -> LatticeTheory {
        LatticeTheory::new(vec![3, 2], 0.7, 0.3, -0.4, 1.2).unwrap()
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let t = theory();
        let x: Vec<f64> = (0..6).map(|i| 0.3 * i as f64 - 0.7).collect();
        let mut g = vec![0.0; 6];
        let s = t.action_grad(&t.bonds(), &x, &mut g);
        assert!((s - t.action(&x)).abs() < 1e-14);
        for i in 0..6 {
            let h = 1e-5;
            let (mut p, mut m) = (x.clone(), x.clone());
            p[i] += h;
            m[i] -= h;
            let fd = (t.action(&p) - t.action(&m)) / (2.0 * h);
            assert!((fd - g[i]).abs() < 1e-8, "{i}: {fd} vs {}", g[i]);
        }
    }

    #[test]
    fn tensors_reproduce_the_action_exactly() {
        // S is a quartic polynomial, so its order-4 Taylor polynomial at any point is S itself
        let t = theory();
        let n = 6;
        let x0: Vec<f64> = (0..n).map(|i| 0.2 * i as f64 - 0.4).collect();
        let d: Vec<f64> = (0..n).map(|i| 0.9 - 0.35 * i as f64).collect();
        let a = t.tensors(&x0);
        let mut s = a[0][0];
        for (k, ak) in a.iter().enumerate().skip(1) {
            for (f, v) in ak.iter().enumerate() {
                let mut prod = *v;
                let mut r = f;
                for _ in 0..k {
                    prod *= d[r % n];
                    r /= n;
                }
                s += prod;
            }
        }
        let x: Vec<f64> = x0.iter().zip(&d).map(|(a, b)| a + b).collect();
        assert!((s - t.action(&x)).abs() < 1e-12, "{s} vs {}", t.action(&x));
    }

    #[test]
    fn couplings_fit_back_exactly() {
        let t = theory();
        let x0 = vec![0.1, -0.2, 0.3, 0.0, 0.5, -0.1];
        let c = fit_couplings(&t.shape, &x0, &t.tensors(&x0)).unwrap();
        for (a, b) in c.iter().zip([t.m2, t.kappa, t.g, t.lambda]) {
            assert!((a - b).abs() < 1e-10, "{c:?}");
        }
    }

    #[test]
    fn bonds_and_validation() {
        assert_eq!(
            LatticeTheory::new(vec![4], 1.0, 1.0, 0.0, 1.0)
                .unwrap()
                .bonds(),
            vec![(0, 1), (1, 2), (2, 3), (3, 0)]
        );
        assert_eq!(
            LatticeTheory::new(vec![2, 2], 1.0, 1.0, 0.0, 1.0)
                .unwrap()
                .bonds()
                .len(),
            8
        );
        assert!(LatticeTheory::new(vec![4], -1.0, 0.1, 0.0, 0.0).is_err());
        assert!(LatticeTheory::new(vec![4], 1.0, 0.1, 1.0, 0.0).is_err());
        assert!(LatticeTheory::new(vec![4], 1.0, 0.1, 0.0, -1.0).is_err());
        assert!(LatticeTheory::new(vec![100], 1.0, 0.1, 0.0, 1.0).is_err());
        assert_eq!(parse_shape("4x3").unwrap(), vec![4, 3]);
        assert!(parse_shape("4x").is_err());
    }
}
