//! Sample cumulants κ1 (mean), κ2 (covariance), κ3 (third central moment) of point sets, and
//! their comparison (model samples vs data, theory note §3.9).

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::inn::Inn;

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

/// Draw `m` points from an invertible network, refusing a singular layer or a branch that holds
/// almost none of the latent mass; the notes say how many latent draws were redrawn.
pub fn draw(inn: &Inn<f64>, m: usize, seed: u64) -> Result<(Vec<Vec<f64>>, Vec<String>)> {
    if m == 0 {
        return Err(Error::invalid(
            "-n 0: nothing to draw",
            "give the number of points, e.g. -n 1000",
        ));
    }
    let (mf, nf) = (m as f64, inn.n as f64);
    // the points, their copy for the output, and the text of a CSV (≤ 26 bytes a value)
    crate::budget::memory(
        format!("{m} samples of {} variables", inn.n),
        mf * nf * (8.0 + 8.0 + 26.0) + mf * 24.0,
        crate::budget::DEFAULT_MEMORY_LIMIT,
        "lower -n",
    )?;
    crate::budget::work(
        format!("{m} samples through {} inverse layers", inn.layers.len()),
        mf * (inn.layers.len() as f64) * nf * nf * 20.0,
        "lower -n",
    )?;
    for (l, layer) in inn.layers.iter().enumerate() {
        if crate::model::inn::det(&layer.w, inn.n) == 0.0 {
            return Err(Error::invalid(
                format!(
                    "layer {l}: the weight matrix is singular, so the network cannot be inverted"
                ),
                "an inn layer needs an invertible square W",
            ));
        }
    }
    let (pts, rejected) = inn.sample(m, seed);
    if pts.len() < m {
        return Err(Error::invalid(
            format!("inn `{}`: {rejected} latent draws had no pre-image and only {} of {m} points were found", inn.name, pts.len()),
            "the invertible branch (1 + 2αh > 0) holds almost none of the latent mass; check α and the biases",
        ));
    }
    let mut notes = vec![];
    if rejected > 0 {
        notes.push(format!(
            "note: {rejected} latent draws had no pre-image (density defect, {:.3}% of draws) and were redrawn",
            100.0 * rejected as f64 / (rejected + m) as f64
        ));
    }
    Ok((pts, notes))
}

/// The cumulants of model samples against those of a data set (`feynn cumulants`).
#[derive(Debug, Clone, Serialize)]
pub struct CumulantComparison {
    /// κ1–κ3 of the model's samples.
    pub model: Cumulants,
    /// κ1–κ3 of the data.
    pub data: Cumulants,
    /// Per order, the largest and the relative (Frobenius) difference.
    pub differences: Vec<Diff>,
    /// The inn's name.
    #[serde(skip)]
    pub name: String,
    /// Where the data came from.
    #[serde(skip)]
    pub data_name: String,
    /// The seed of the model samples.
    #[serde(skip)]
    pub seed: u64,
    /// Warnings and notes for the user (data off the branch, redrawn latents).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Draw `samples` points from `inn` and compare their cumulants with those of `data`.
pub fn compare_with_data(
    inn: &Inn<f64>,
    data: &[Vec<f64>],
    data_name: &str,
    samples: usize,
    seed: u64,
) -> Result<CumulantComparison> {
    let bytes = 8.0 * (inn.n as f64).powi(3) * 2.0;
    if bytes > 2.0 * 1024.0 * 1024.0 * 1024.0 {
        return Err(Error::TooLarge {
            what: format!("third cumulants of N = {} variables", inn.n),
            predicted: crate::error::human_bytes(bytes),
            limit: "2.0 GiB".into(),
            help: "κ3 has N³ entries; compare a subset of the variables".into(),
        });
    }
    let mut warnings = vec![];
    // data the model cannot produce (off the invertible branch) make the comparison one-sided
    let db = super::inn_checks::data_branch(inn, data);
    if db.outside > 0 {
        warnings.push(format!(
            "warning: {} of {} data points lie outside the invertible branch (first: row {}); the model gives them zero density",
            db.outside,
            db.points,
            db.first_outside.unwrap_or(0)
        ));
    }
    let dc = cumulants(data, inn.n).ok_or_else(|| {
        Error::invalid(format!("{data_name}: no data points"), "one point per row")
    })?;
    let (pts, notes) = draw(inn, samples, seed)?;
    warnings.extend(notes);
    let mc = cumulants(&pts, inn.n).unwrap();
    let differences = compare(&mc, &dc);
    Ok(CumulantComparison {
        model: mc,
        data: dc,
        differences,
        name: inn.name.clone(),
        data_name: data_name.to_string(),
        seed,
        warnings,
    })
}
