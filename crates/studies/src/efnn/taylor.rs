//! The Taylor route to a network's couplings: the energy expanded around a point s0 with the
//! core Taylor machinery, E(s0 + h) = Σ_{|α| ≤ K} c_α h^α, c_α = ∂^α E(s0)/α!.
//!
//! The fully connected architectures of [`super::arch`] run unchanged on a [`TaylorNet`], a
//! [`Backend`] whose activations are truncated multivariate Taylor series in h (one row per
//! neuron, one column per monomial of [`Basis`], graded lexicographic order, as in
//! [`feynn::numeric`]): a linear layer is one matrix product, tanh is applied by Horner's rule
//! ([`Basis::compose`]) with its derivatives from a univariate [`Jet`], and the element-wise
//! product of the EFNN multiplies series. The result is exact to rounding: no finite differences.
//!
//! For distinct i < j < k the coefficients c_i, c_ij, c_ijk are the mixed partial derivatives
//! ∂_iE, ∂_i∂_jE and ∂_i∂_j∂_kE at s0: the effective 1-, 2- and 3-body couplings *at that point*.
//! For a multilinear energy E = Σ_A c_A Π_{i∈A} s_i (the true 3-spin energy, or the exact
//! expansion of [`super::readout`] of any function on {0,1}^L) the mixed derivative is
//! ∂_A E(s0) = Σ_{B ⊇ A} c_B Π_{l ∈ B∖A} s0_l: at s0 = 0 it is c_A itself; at another point the
//! top order present is still c_A, lower orders pick up higher-body terms. A trained network is
//! not multilinear off the cube, so it also has coefficients with repeated indices (s_i², s_i²s_j,
//! s_i³), which on 0/1 spins coincide with lower orders ([`TaylorReport::rms_repeated_by_order`]).
//!
//! Convolutional models are not expanded: with 3N² inputs the order-3 basis has ~(3N²)³/6
//! monomials per neuron.

use ndarray::{concatenate, Array2, Axis};

use super::arch::{network, Backend};
use super::forward::EfnnNet;
use super::readout::{learned_report, CouplingReport};
use super::spec::Geometry;
use crate::physics::spins::ThreeSpin;
use feynn::error::{Error, Result};
use feynn::model::jet::Jet;
use feynn::numeric::basis::{Basis, ComposeBuffers};
use feynn::numeric::DEFAULT_MEMORY_LIMIT;

/// The Backend of the Taylor route: activations are [features, monomials] series of one
/// configuration.
pub struct TaylorNet<'a> {
    /// The weights (and scaling tensors, applied by [`TaylorExpansion::of_net`]).
    pub net: &'a EfnnNet,
    /// The monomials of the series, with their order.
    pub basis: &'a Basis,
}

fn conv_refused() -> Error {
    Error::invalid(
        "the Taylor route expands fully connected models only",
        "a lattice model has 3N² inputs; read its couplings from energies (`feynn efnn eval`)",
    )
}

impl Backend for TaylorNet<'_> {
    type T = Array2<f64>;

    fn linear(&self, x: &Array2<f64>, prefix: &str) -> Result<Array2<f64>> {
        let w = self.net.arr(&format!("{prefix}.weight"))?;
        let b = self.net.arr(&format!("{prefix}.bias"))?;
        let w = w
            .into_dimensionality::<ndarray::Ix2>()
            .expect("a 2-D weight (shapes checked)");
        let b = b
            .into_dimensionality::<ndarray::Ix1>()
            .expect("a 1-D bias (shapes checked)");
        let mut y = w.dot(x);
        y.column_mut(0).scaled_add(1.0, &b);
        Ok(y)
    }
    fn conv(&self, _: &Array2<f64>, _: &str) -> Result<Array2<f64>> {
        Err(conv_refused())
    }
    fn bilinear(&self, _: &Array2<f64>, _: &str) -> Result<Array2<f64>> {
        Err(conv_refused())
    }
    fn tanh(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        let mut y = x.as_standard_layout().to_owned();
        let mut buf = ComposeBuffers::new(self.basis.len());
        for mut row in y.rows_mut() {
            let c = Jet::variable(row[0], self.basis.order).tanh().0;
            self.basis
                .compose(&c, row.as_slice_mut().expect("standard layout"), &mut buf);
        }
        Ok(y)
    }
    fn mul(&self, a: &Array2<f64>, b: &Array2<f64>) -> Result<Array2<f64>> {
        let mut y = Array2::zeros(a.raw_dim());
        for ((mut out, ra), rb) in y.rows_mut().into_iter().zip(a.rows()).zip(b.rows()) {
            let p = self
                .basis
                .mul_series(&ra.to_vec(), rb.as_standard_layout().as_slice().unwrap());
            out.assign(&ndarray::Array1::from(p));
        }
        Ok(y)
    }
    fn add(&self, a: &Array2<f64>, b: &Array2<f64>) -> Result<Array2<f64>> {
        Ok(a + b)
    }
    fn cat(&self, xs: &[Array2<f64>]) -> Result<Array2<f64>> {
        let views: Vec<_> = xs.iter().map(|x| x.view()).collect();
        Ok(concatenate(Axis(0), &views).expect("same number of monomials"))
    }
    fn sum(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        Ok(x.sum_axis(Axis(0)).insert_axis(Axis(0)))
    }
}

/// The Taylor coefficients of an energy at `point`, all |α| ≤ order.
#[derive(Debug, Clone)]
pub struct TaylorExpansion {
    /// The expansion point s0.
    pub point: Vec<f64>,
    /// The monomials (columns of `coefficients`).
    pub basis: Basis,
    /// c_α = ∂^α E(s0)/α!, one per monomial of `basis`.
    pub coefficients: Vec<f64>,
}

fn check_point(point: &[f64], sites: usize) -> Result<()> {
    if point.len() != sites {
        return Err(Error::invalid(
            format!(
                "the expansion point has {} coordinates, the model {sites} inputs",
                point.len()
            ),
            "give one value per spin",
        ));
    }
    if let Some(i) = point.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(
            format!("coordinate {i} of the expansion point is not finite"),
            "use finite numbers",
        ));
    }
    Ok(())
}

impl TaylorExpansion {
    /// Expand any energy written in series arithmetic: `energy` receives the basis and the input
    /// series s0 + h ([L, monomials]: row i is s0_i + h_i) and returns the energy's series.
    pub fn of(
        point: &[f64],
        order: usize,
        width: usize,
        energy: impl FnOnce(&Basis, Array2<f64>) -> Result<Vec<f64>>,
    ) -> Result<TaylorExpansion> {
        let l = point.len();
        check_point(point, l)?;
        if l == 0 {
            return Err(Error::invalid("no inputs to expand in", "L ≥ 1"));
        }
        let basis = Basis::new(l, order, width.max(1), DEFAULT_MEMORY_LIMIT)?;
        let mut x = Array2::zeros((l, basis.len()));
        for (i, &v) in point.iter().enumerate() {
            x[[i, 0]] = v;
            if order >= 1 {
                x[[i, basis.index_of(&[i as u32]).expect("degree-1 monomial")]] = 1.0;
            }
        }
        let coefficients = energy(&basis, x)?;
        if let Some(i) = coefficients.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(
                format!(
                    "the Taylor coefficient of {:?} is not finite",
                    basis.monomials[i]
                ),
                "the network overflows at this expansion point",
            ));
        }
        Ok(TaylorExpansion {
            point: point.to_vec(),
            basis,
            coefficients,
        })
    }

    /// Expand a fully connected network (any architecture) at `point` (raw spins, before the
    /// network's input standardisation), output scaling included.
    pub fn of_net(net: &EfnnNet, point: &[f64], order: usize) -> Result<TaylorExpansion> {
        let Geometry::Dense { inputs, width } = net.spec.geometry else {
            return Err(conv_refused());
        };
        check_point(point, inputs)?;
        // DenseNet concatenates up to L + n·M features; the width only sizes the memory check.
        let widest = inputs + net.spec.depth * width;
        TaylorExpansion::of(point, order, widest, |basis, mut x| {
            // x' = (s − μ)/σ: a shift of the constant and a scale of every row.
            if let (Some(m), Some(s)) = (
                net.tensors.get("scale.x_mean"),
                net.tensors.get("scale.x_std"),
            ) {
                for (i, mut row) in x.rows_mut().into_iter().enumerate() {
                    row[0] -= m.data[i];
                    row.mapv_inplace(|v| v / s.data[i]);
                }
            }
            let raw = network(&net.spec, &TaylorNet { net, basis }, &x)?;
            let (a, b) = match net.tensors.get("scale.y") {
                Some(t) => (t.data[0], t.data[1]),
                None => (1.0, 0.0),
            };
            let mut e: Vec<f64> = raw.row(0).iter().map(|v| a * v).collect();
            e[0] += b;
            Ok(e)
        })
    }

    /// The expansion order K.
    pub fn order(&self) -> usize {
        self.basis.order
    }

    /// c_α for the multi-index `idx` (site indices, repetition = powers, any order), or None if
    /// its degree exceeds the order or a site is out of range.
    pub fn get(&self, idx: &[usize]) -> Option<f64> {
        let mut m: Vec<u32> = idx.iter().map(|&i| i as u32).collect();
        m.sort_unstable();
        self.basis.index_of(&m).map(|i| self.coefficients[i])
    }

    /// The effective couplings at the point: c_i, c_ij (i < j) and c_ijk (i < j < k), all
    /// lexicographic. Needs order ≥ 3.
    pub fn couplings(&self) -> TaylorCouplings {
        let l = self.point.len();
        let g = |idx: &[usize]| self.get(idx).unwrap_or(0.0);
        let pairs: Vec<[usize; 2]> = (0..l)
            .flat_map(|i| (i + 1..l).map(move |j| [i, j]))
            .collect();
        let triplets = crate::physics::spins::triplets(l);
        TaylorCouplings {
            point: self.point.clone(),
            constant: self.coefficients[0],
            c1: (0..l).map(|i| g(&[i])).collect(),
            c2: pairs.iter().map(|p| g(p)).collect(),
            c3: triplets.iter().map(|t| g(t)).collect(),
            pairs,
            triplets,
        }
    }

    /// RMS and count of the coefficients of degree k, split into mixed ones (distinct indices,
    /// the multilinear monomials) and those with a repeated index.
    pub fn rms_of_degree(&self, k: usize) -> ((f64, usize), (f64, usize)) {
        let (mut mixed, mut rep) = ((0.0, 0usize), (0.0, 0usize));
        for (m, v) in self.basis.monomials.iter().zip(&self.coefficients) {
            if m.len() != k {
                continue;
            }
            let acc = if m.windows(2).any(|w| w[0] == w[1]) {
                &mut rep
            } else {
                &mut mixed
            };
            acc.0 += v * v;
            acc.1 += 1;
        }
        let r = |(s, c): (f64, usize)| ((s / c.max(1) as f64).sqrt(), c);
        (r(mixed), r(rep))
    }
}

/// The effective couplings of a Taylor expansion (mixed coefficients, lexicographic order).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaylorCouplings {
    /// The expansion point s0.
    pub point: Vec<f64>,
    /// E(s0).
    pub constant: f64,
    /// c_i = ∂_i E(s0).
    pub c1: Vec<f64>,
    /// The pairs i < j of `c2`.
    pub pairs: Vec<[usize; 2]>,
    /// c_ij = ∂_i∂_j E(s0).
    pub c2: Vec<f64>,
    /// The triplets i < j < k of `c3`.
    pub triplets: Vec<[usize; 3]>,
    /// c_ijk = ∂_i∂_j∂_k E(s0).
    pub c3: Vec<f64>,
}

/// The Taylor route's learned J_ijk = −c_ijk against the true couplings.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaylorReport {
    /// Correlation, relative error, learned J, and the RMS of the *mixed* coefficients of
    /// degrees 0..=3 (the multilinear monomials).
    #[serde(flatten)]
    pub report: CouplingReport,
    /// (degree, RMS, count) of the coefficients with a repeated index, degrees 2 and 3: what
    /// the network does off the cube {0,1}^L (zero for a multilinear energy).
    pub rms_repeated_by_order: Vec<(u32, f64, usize)>,
    /// All mixed coefficients.
    pub couplings: TaylorCouplings,
}

/// Compare the Taylor couplings of `e` (order ≥ 3) with the couplings of `model`.
pub fn compare_taylor(e: &TaylorExpansion, model: &ThreeSpin) -> Result<TaylorReport> {
    if e.order() < 3 || e.point.len() != model.sites {
        return Err(Error::invalid(
            format!(
                "an order-{} expansion in {} spins cannot be compared with a {}-spin model",
                e.order(),
                e.point.len(),
                model.sites
            ),
            "expand to order 3 in the model's spins",
        ));
    }
    let learned: Vec<f64> = model
        .triplets
        .iter()
        .map(|t| {
            e.get(t).map(|c| -c).ok_or_else(|| {
                Error::invalid(
                    format!("triplet {t:?} is not a triplet of {} spins", model.sites),
                    "the coupling list does not fit the model",
                )
            })
        })
        .collect::<Result<_>>()?;
    let mixed: Vec<(u32, f64, usize)> = (0..=3usize)
        .map(|k| {
            let ((r, c), _) = e.rms_of_degree(k);
            (k as u32, r, c)
        })
        .collect();
    let repeated = (2..=3usize)
        .map(|k| {
            let (_, (r, c)) = e.rms_of_degree(k);
            (k as u32, r, c)
        })
        .collect();
    Ok(TaylorReport {
        report: learned_report(learned, model, mixed),
        rms_repeated_by_order: repeated,
        couplings: e.couplings(),
    })
}

/// The true 3-spin energy −Σ J_ijk s_i s_j s_k in series arithmetic (for checks of the route).
pub fn three_spin_series(model: &ThreeSpin, basis: &Basis, s: &Array2<f64>) -> Vec<f64> {
    let row = |i: usize| s.row(i).to_vec();
    let mut e = vec![0.0; basis.len()];
    for ([i, j, k], c) in model.triplets.iter().zip(&model.couplings) {
        let p = basis.mul_series(&basis.mul_series(&row(*i), &row(*j)), &row(*k));
        for (a, b) in e.iter_mut().zip(&p) {
            *a -= c * b;
        }
    }
    e
}
