//! The effective-model baseline of the double-exchange benchmark: a linear regression of the
//! energy on spin invariants (theory note `efnn.md` §2.3, the paper's v1 "effective model").
//!
//! The paper's model regresses on S_i·S_j and (S_i·S_j)(S_k·S_l) over site pairs inside 5×5
//! blocks of the 10×10 lattice, so its features exist only at N = 10. Ours is the same idea made
//! translation invariant, so that it runs at every N: each feature is a lattice sum (extensive,
//! like the energy) of one invariant shape,
//!
//! * 2-body: Σ_i S_i·S_{i+r} for the 12 displacements r with |rx|, |ry| ≤ 2 (one of ±r);
//! * 4-body: Σ_i (S_i·S_{i+a})(S_{i+b}·S_{i+b+c}) for the nearest-neighbour plaquette and chain
//!   shapes listed in [`FOUR_BODY`];
//! * the number of sites (the intercept per site).
//!
//! The coefficients are fitted by least squares (nalgebra's SVD on column-scaled features).
//! This is our construction after the paper's; it has 21 coefficients where the paper's has more.

use nalgebra::{DMatrix, DVector};
use ndarray::Array2;
use serde::Serialize;

use feynn::error::{Error, Result};

/// The 2-body displacements (rx, ry).
const TWO_BODY: [(i64, i64); 12] = [
    (1, 0),
    (0, 1),
    (1, 1),
    (1, -1),
    (2, 0),
    (0, 2),
    (2, 1),
    (1, 2),
    (2, -1),
    (1, -2),
    (2, 2),
    (2, -2),
];

/// The 4-body shapes: (a, b, c) in Σ_i (S_i·S_{i+a})(S_{i+b}·S_{i+b+c}).
const FOUR_BODY: [((i64, i64), (i64, i64), (i64, i64)); 8] = [
    // the same bond squared
    ((1, 0), (0, 0), (1, 0)),
    ((0, 1), (0, 0), (0, 1)),
    // two bonds sharing a site (corner and straight chain)
    ((1, 0), (0, 0), (0, 1)),
    ((1, 0), (1, 0), (1, 0)),
    ((0, 1), (0, 1), (0, 1)),
    // opposite sides of a plaquette
    ((1, 0), (0, 1), (1, 0)),
    ((0, 1), (1, 0), (0, 1)),
    // a bond and its continuation through a corner
    ((1, 0), (1, 0), (0, 1)),
];

/// Number of features (coefficients) of the model.
pub const FEATURES: usize = 1 + TWO_BODY.len() + FOUR_BODY.len();

/// A fitted effective model.
#[derive(Debug, Clone, Serialize)]
pub struct EffectiveModel {
    /// Coefficients of the features, in the order of [`feature_names`].
    pub coefficients: Vec<f64>,
}

/// The features' names (for the report).
pub fn feature_names() -> Vec<String> {
    let mut v = vec!["sites".to_string()];
    v.extend(TWO_BODY.iter().map(|(x, y)| format!("S_i·S_(i+({x},{y}))")));
    v.extend(FOUR_BODY.iter().map(|(a, b, c)| {
        format!(
            "(S_i·S_(i+({},{})))(S_(i+({},{}))·S_(i+({},{})))",
            a.0,
            a.1,
            b.0,
            b.1,
            b.0 + c.0,
            b.1 + c.1
        )
    }));
    v
}

/// The features of one configuration (component-major row [Sx(r), Sy(r), Sz(r)], r = y·N + x).
pub fn features(row: &[f64], n: usize) -> Vec<f64> {
    let s = n * n;
    let site = |x: i64, y: i64| -> usize {
        let (x, y) = (
            x.rem_euclid(n as i64) as usize,
            y.rem_euclid(n as i64) as usize,
        );
        y * n + x
    };
    let dot = |i: usize, j: usize| {
        row[i] * row[j] + row[s + i] * row[s + j] + row[2 * s + i] * row[2 * s + j]
    };
    let mut f = vec![0.0; FEATURES];
    f[0] = s as f64;
    for y in 0..n as i64 {
        for x in 0..n as i64 {
            let i = site(x, y);
            for (k, (rx, ry)) in TWO_BODY.iter().enumerate() {
                f[1 + k] += dot(i, site(x + rx, y + ry));
            }
            for (k, (a, b, c)) in FOUR_BODY.iter().enumerate() {
                let j = site(x + a.0, y + a.1);
                let p = site(x + b.0, y + b.1);
                let q = site(x + b.0 + c.0, y + b.1 + c.1);
                f[1 + TWO_BODY.len() + k] += dot(i, j) * dot(p, q);
            }
        }
    }
    f
}

/// The lattice size N of rows with `cols` = 3N² entries.
pub fn size_of(cols: usize) -> Result<usize> {
    let n = ((cols / 3) as f64).sqrt().round() as usize;
    if n == 0 || 3 * n * n != cols {
        return Err(Error::invalid(
            format!("rows of {cols} numbers are not 3N² spin components"),
            "the effective model reads double-exchange data (feynn efnn data double-exchange)",
        ));
    }
    Ok(n)
}

impl EffectiveModel {
    /// Least-squares fit of the energies `targets` on the features of `inputs` ([samples, 3N²]).
    pub fn fit(inputs: &Array2<f64>, targets: &[f64]) -> Result<EffectiveModel> {
        let n = size_of(inputs.ncols())?;
        let m = inputs.nrows();
        if m < FEATURES || targets.len() != m {
            return Err(Error::invalid(
                format!("{m} configurations for {FEATURES} coefficients"),
                "give more training configurations",
            ));
        }
        let rows: Vec<Vec<f64>> = inputs
            .rows()
            .into_iter()
            .map(|r| features(&r.to_vec(), n))
            .collect();
        // scale the columns to unit norm: the site count and the sums differ by orders
        let mut scale = vec![0.0; FEATURES];
        for r in &rows {
            for (s, v) in scale.iter_mut().zip(r) {
                *s += v * v;
            }
        }
        let scale: Vec<f64> = scale.iter().map(|s| s.sqrt().max(1e-300)).collect();
        let a = DMatrix::from_fn(m, FEATURES, |i, j| rows[i][j] / scale[j]);
        let b = DVector::from_column_slice(targets);
        let x = a
            .svd(true, true)
            .solve(&b, 1e-12)
            .map_err(|e| Error::invalid(format!("least squares failed: {e}"), "check the data"))?;
        Ok(EffectiveModel {
            coefficients: (0..FEATURES).map(|j| x[j] / scale[j]).collect(),
        })
    }

    /// Energies of `inputs` ([samples, 3N²], any N).
    pub fn energies(&self, inputs: &Array2<f64>) -> Result<Vec<f64>> {
        let n = size_of(inputs.ncols())?;
        Ok(inputs
            .rows()
            .into_iter()
            .map(|r| {
                features(&r.to_vec(), n)
                    .iter()
                    .zip(&self.coefficients)
                    .map(|(f, c)| f * c)
                    .sum()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::double_exchange::{uniform_direction, uniform_spins};
    use rand::SeedableRng;

    #[test]
    fn ferromagnet_features_count_bonds() {
        // all spins parallel: every S_i·S_j = 1, so each feature is N² (the sites too)
        let n = 5;
        let f = features(&uniform_direction(n, [0.3, -0.2, 0.9]), n);
        for v in f {
            assert!((v - 25.0).abs() < 1e-12, "{v}");
        }
    }

    #[test]
    fn a_planted_linear_model_is_recovered() {
        // N = 6: every displacement and shape is distinct on the torus (at N = 4, (2, 2) ≡ (2, −2))
        let n = 6;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let rows: Vec<Vec<f64>> = (0..200).map(|_| uniform_spins(n, &mut rng)).collect();
        let truth: Vec<f64> = (0..FEATURES).map(|k| 0.1 * k as f64 - 0.7).collect();
        let y: Vec<f64> = rows
            .iter()
            .map(|r| features(r, n).iter().zip(&truth).map(|(f, c)| f * c).sum())
            .collect();
        let x = Array2::from_shape_vec((200, 3 * n * n), rows.concat()).unwrap();
        let m = EffectiveModel::fit(&x, &y).unwrap();
        for (a, b) in m.coefficients.iter().zip(&truth) {
            assert!((a - b).abs() < 1e-8, "{a} vs {b}");
        }
        assert!(size_of(10).is_err());
        assert!(EffectiveModel::fit(&x.slice(ndarray::s![..5, ..]).to_owned(), &y[..5]).is_err());
    }
}
