//! Error metrics of the EFNN benchmarks (theory note §5.1).
//!
//! The paper's relative error √MSE/|mean E| falls like 1/N on a lattice for any model whose local
//! errors are uncorrelated (E ∝ N², its spread ∝ N), even for predicting the mean. So every
//! report also gives the RMSE per site, RMSE/std(E) (1 for the mean predictor) and the mean
//! predictor's own numbers.

/// Errors of predictions against labels.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// √MSE.
    pub rmse: f64,
    /// √MSE / |mean of the reference energies| (the paper's metric).
    pub relative: f64,
    /// √MSE / sites.
    pub rmse_per_site: f64,
    /// √MSE / std(E) of the evaluated labels.
    pub rmse_over_std: f64,
    /// The predict-the-mean baseline (mean of the reference energies): its √MSE.
    pub mean_rmse: f64,
    /// The same baseline under the paper's metric.
    pub mean_relative: f64,
}

/// Metrics of `pred` against `truth`; `ref_mean` is the mean energy the paper divides by (of the
/// training labels, or of the evaluated ones for the lattice transfer), `sites` the number of
/// sites (1 if per-site makes no sense).
pub fn metrics(pred: &[f64], truth: &[f64], ref_mean: f64, sites: f64) -> Metrics {
    let n = truth.len() as f64;
    let mse = pred
        .iter()
        .zip(truth)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f64>()
        / n;
    let mean = truth.iter().sum::<f64>() / n;
    let var = truth.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / n;
    let mean_mse = truth.iter().map(|t| (ref_mean - t).powi(2)).sum::<f64>() / n;
    let rmse = mse.sqrt();
    Metrics {
        rmse,
        relative: rmse / ref_mean.abs(),
        rmse_per_site: rmse / sites,
        rmse_over_std: rmse / var.sqrt(),
        mean_rmse: mean_mse.sqrt(),
        mean_relative: mean_mse.sqrt() / ref_mean.abs(),
    }
}
