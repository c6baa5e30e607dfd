//! Sample cumulants κ1 (mean), κ2 (covariance), κ3 (third central moment) of point sets, and
//! their comparison (model samples vs data, theory note §3.9).

use serde::Serialize;

/// κ1, κ2 (N×N row-major), κ3 (N³ row-major) of a point set.
#[derive(Debug, Clone, Serialize)]
pub struct Cumulants {
    /// Dimension N of a point.
    pub n: usize,
    /// Number of points M.
    pub points: usize,
    /// κ1, the mean (length N).
    pub k1: Vec<f64>,
    /// κ2, the covariance (N×N row-major).
    pub k2: Vec<f64>,
    /// κ3, the third central moment (N³ row-major).
    pub k3: Vec<f64>,
}

/// The (biased, 1/M) sample cumulants of rows of length `n`; None for an empty set.
pub fn cumulants(points: &[Vec<f64>], n: usize) -> Option<Cumulants> {
    let m = points.len();
    if m == 0 {
        return None;
    }
    let mut k1 = vec![0.0; n];
    for p in points {
        for i in 0..n {
            k1[i] += p[i];
        }
    }
    k1.iter_mut().for_each(|v| *v /= m as f64);
    let mut k2 = vec![0.0; n * n];
    let mut k3 = vec![0.0; n * n * n];
    let mut d = vec![0.0; n];
    for p in points {
        for i in 0..n {
            d[i] = p[i] - k1[i];
        }
        for i in 0..n {
            for j in 0..n {
                let dij = d[i] * d[j];
                k2[i * n + j] += dij;
                for k in 0..n {
                    k3[(i * n + j) * n + k] += dij * d[k];
                }
            }
        }
    }
    k2.iter_mut().for_each(|v| *v /= m as f64);
    k3.iter_mut().for_each(|v| *v /= m as f64);
    Some(Cumulants {
        n,
        points: m,
        k1,
        k2,
        k3,
    })
}

/// One order's comparison: max |Δ|, ‖Δ‖/‖data‖ (Frobenius), and ‖Δ‖/‖κ2_data‖^{k/2}: the
/// difference in units of the data's spread, meaningful also where κ_k of the data vanishes
/// (κ1, κ3 of a symmetric distribution), where the relative error is noise over noise.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// Cumulant order k (1, 2 or 3).
    pub order: usize,
    /// max |Δ| over the entries.
    pub max_abs: f64,
    /// ‖Δ‖/‖data‖ (Frobenius).
    pub relative: f64,
    /// ‖Δ‖/‖κ2_data‖^{k/2}.
    pub scaled: f64,
}

/// Compare model and data cumulants, order by order.
pub fn compare(model: &Cumulants, data: &Cumulants) -> Vec<Diff> {
    let spread: f64 = data.k2.iter().map(|v| v * v).sum::<f64>().sqrt();
    [
        (1, &model.k1, &data.k1),
        (2, &model.k2, &data.k2),
        (3, &model.k3, &data.k3),
    ]
    .into_iter()
    .map(|(order, a, b)| {
        let diff: f64 = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt();
        let norm: f64 = b.iter().map(|y| y * y).sum::<f64>().sqrt();
        Diff {
            order,
            max_abs: a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max),
            relative: if norm > 0.0 { diff / norm } else { diff },
            scaled: if spread > 0.0 {
                diff / spread.powf(order as f64 / 2.0)
            } else {
                diff
            },
        }
    })
    .collect()
}
