//! A trained EFNN spec against a data set: loading both (`feynn efnn eval`, `feynn efnn
//! couplings`) and the error metrics of its predictions.

use std::path::Path;

use super::bench::{metrics, Metrics};
use super::forward::EfnnNet;
use super::EfnnSpec;
use crate::data::Dataset;
use feynn::{Error, Result};

/// Load the `efnn` model `model` of `spec` (weights from `weights` or the spec's own line) and
/// the rows `test_from..` of the data set `data`.
pub fn load(
    spec: &Path,
    model: Option<&str>,
    weights: Option<&Path>,
    data: &Path,
    test_from: usize,
) -> Result<(EfnnNet, Dataset)> {
    let s: EfnnSpec = super::load_efnn(spec, model)?.ok_or_else(|| {
        Error::invalid(
            format!("{} has no `efnn` block", spec.display()),
            "see book/src/efnn.md for the spec",
        )
    })?;
    let w = weights
        .map(Path::to_path_buf)
        .or_else(|| s.weights_file.clone())
        .ok_or_else(|| {
            Error::invalid(
                format!("efnn `{}` names no weights file", s.name),
                "give --weights FILE",
            )
        })?;
    let d = Dataset::read(data)?;
    let net = EfnnNet::load(s, &w)?;
    if test_from >= d.len() {
        return Err(Error::invalid(
            format!(
                "--test-from {test_from} leaves no rows of the {} in {}",
                d.len(),
                data.display()
            ),
            "use a smaller index",
        ));
    }
    let d = if test_from > 0 {
        d.select(&(test_from..d.len()).collect::<Vec<_>>())
    } else {
        d
    };
    Ok((net, d))
}

/// The metrics of the network's energies on the data set (the paper's relative error divides
/// by the mean label of the evaluated rows; per site counts spins, or lattice sites of a
/// convolutional network's three-component rows).
pub fn evaluate(net: &EfnnNet, d: &Dataset) -> Result<Metrics> {
    let pred = net.energies(&d.inputs)?;
    let sites = if net.spec.is_conv() {
        (d.inputs.ncols() / 3) as f64
    } else {
        d.inputs.ncols() as f64
    };
    let truth: Vec<f64> = d.targets.iter().copied().collect();
    let mean = truth.iter().sum::<f64>() / truth.len().max(1) as f64;
    Ok(metrics(&pred.to_vec(), &truth, mean, sites))
}

/// One line of text for `samples` evaluated rows.
pub fn metrics_text(m: &Metrics, samples: usize) -> String {
    format!(
        "{samples} samples: RMSE {:.4e}, relative {:.4e} (mean predictor {:.4e}), RMSE per site {:.4e}, RMSE/std {:.4}\n",
        m.rmse, m.relative, m.mean_relative, m.rmse_per_site, m.rmse_over_std
    )
}
