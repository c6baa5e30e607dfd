//! The couplings a fully connected network has learned, read by one or all routes (Möbius and
//! Walsh–Fourier on 0/1 spins, Taylor at a point) and compared with the J_ijk of a 3-spin data set,
//! with the correlations between the routes: the report of `feynn efnn couplings`.

use serde::Serialize;

use super::datasets;
use super::forward::EfnnNet;
use super::readout::{compare, compare_walsh, correlation, CouplingReport, Expansion};
use super::taylor::{compare_taylor, TaylorExpansion, TaylorReport};
use crate::data::Dataset;
use feynn::{Error, Result};

/// How the couplings are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Exact multilinear expansion in the 0/1 spins (Möbius inversion), at s = 0.
    Mobius,
    /// Exact Walsh–Fourier expansion in σ = 2s − 1, at the centre s = ½.
    Walsh,
    /// Taylor coefficients of the network at a point, any spins.
    Taylor,
    /// All three (Möbius and Walsh only for 0/1 spins) and the correlations between them.
    All,
}

/// The expansion point of the Taylor route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// s = 0.
    Zero,
    /// The mean configuration of the data set.
    Mean,
}

impl At {
    fn name(self) -> &'static str {
        match self {
            At::Zero => "zero",
            At::Mean => "mean",
        }
    }
}

/// The learned couplings by each requested route, against the data set's true ones.
#[derive(Debug, Clone, Serialize)]
pub struct Couplings {
    #[serde(skip)]
    pub route: Option<Route>,
    /// The point of the Taylor route (`zero` or `mean`).
    pub at: &'static str,
    pub mobius: Option<CouplingReport>,
    pub walsh: Option<CouplingReport>,
    pub taylor: Option<TaylorReport>,
    /// Correlation of the learned J_ijk between each pair of routes read.
    pub correlation_between_routes: std::collections::BTreeMap<String, f64>,
}

/// Read the couplings of `net` by `route` and compare them with the J_ijk stored in `d`
/// (`data_name` names the data set in errors).
pub fn read_couplings(
    net: &EfnnNet,
    d: &Dataset,
    data_name: &str,
    route: Route,
    at_point: At,
) -> Result<Couplings> {
    let meta = d
        .metadata
        .as_deref()
        .and_then(datasets::three_spin_from_metadata)
        .ok_or_else(|| {
            Error::invalid(
                format!("{} holds no 3-spin couplings", data_name),
                "use a data set of `feynn efnn data three-spin` or `continuous`",
            )
        })?;
    if d.is_empty() {
        return Err(Error::invalid(
            format!("{} holds no configurations", data_name),
            "use a data set of `feynn efnn data`",
        ));
    }
    let inputs = match net.spec.geometry {
        crate::efnn::Geometry::Dense { inputs, .. } => inputs,
        crate::efnn::Geometry::Conv { .. } => {
            return Err(Error::invalid(
                format!("efnn `{}` is a lattice model", net.spec.name),
                "couplings are read from fully connected models of the 3-spin systems",
            ))
        }
    };
    if meta.sites != inputs
        || d.inputs.ncols() != inputs
        || meta.triplets.iter().flatten().any(|&i| i >= inputs)
    {
        return Err(Error::invalid(
            format!(
                "the data hold {} spins ({} features), the model {inputs} inputs",
                meta.sites,
                d.inputs.ncols()
            ),
            "use the data set the model was trained on",
        ));
    }
    let binary = d.inputs.iter().all(|v| *v == 0.0 || *v == 1.0);
    let exact = match route {
        Route::Mobius | Route::Walsh if !binary => {
            return Err(Error::invalid(
                "the spins are not 0/1",
                "the exact (mobius, walsh) readouts are for `three-spin` (binary) data; use --route taylor",
            ))
        }
        Route::Mobius | Route::Walsh => Some(Expansion::of(meta.sites, |x| net.energies(x))?),
        Route::All if binary => Some(Expansion::of(meta.sites, |x| net.energies(x))?),
        _ => None,
    };
    let mobius = match route {
        Route::Mobius | Route::All => exact.as_ref().map(|e| compare(e, &meta)),
        _ => None,
    };
    let walsh = match route {
        Route::Walsh | Route::All => exact.as_ref().map(|e| compare_walsh(e, &meta)),
        _ => None,
    };
    let taylor = if matches!(route, Route::Taylor | Route::All) {
        let point = match at_point {
            At::Zero => vec![0.0; inputs],
            At::Mean => d.inputs.mean_axis(ndarray::Axis(0)).unwrap().to_vec(),
        };
        let e = TaylorExpansion::of_net(&net, &point, 3)?;
        Some(compare_taylor(&e, &meta)?)
    } else {
        None
    };
    let learned: Vec<(&str, &Vec<f64>)> = [
        ("mobius", mobius.as_ref().map(|r| &r.learned)),
        ("walsh", walsh.as_ref().map(|r| &r.learned)),
        ("taylor", taylor.as_ref().map(|r| &r.report.learned)),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let mut between = vec![];
    for (i, (a, la)) in learned.iter().enumerate() {
        for (b, lb) in &learned[i + 1..] {
            between.push((format!("{a}-{b}"), correlation(la, lb)));
        }
    }
    Ok(Couplings {
        route: Some(route),
        at: at_point.name(),
        mobius,
        walsh,
        taylor,
        correlation_between_routes: between.into_iter().collect(),
    })
}

impl Couplings {
    /// The JSON of `feynn efnn couplings --format json`: one route's report (the Taylor one with
    /// `route` and `at`), or all of them with the correlations between routes.
    pub fn to_json(&self) -> serde_json::Value {
        match self.route {
            Some(Route::Mobius) => serde_json::to_value(&self.mobius).unwrap(),
            Some(Route::Walsh) => serde_json::to_value(&self.walsh).unwrap(),
            Some(Route::Taylor) => {
                let mut v = serde_json::to_value(&self.taylor).unwrap();
                v["route"] = "taylor".into();
                v["at"] = self.at.into();
                v
            }
            _ => serde_json::to_value(self).unwrap(),
        }
    }

    /// The text report.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for (name, rep, what) in [
            (
                "mobius",
                &self.mobius,
                "exact expansion in 0/1 spins: derivatives of the multilinear extension at s = 0",
            ),
            (
                "walsh",
                &self.walsh,
                "exact expansion in ±1 spins: derivatives of the multilinear extension at s = ½",
            ),
        ] {
            if let Some(rep) = rep {
                s += &format!("{name} ({what}):\n");
                s += &format!(
                    "  3-body: correlation(J_learned, J) = {:.4}, ‖J_learned − J‖/‖J‖ = {:.4}\n",
                    rep.correlation, rep.relative_error
                );
                for (k, rms, n) in rep.rms_by_order.iter().take(6) {
                    s += &format!("  order {k:2}: RMS coefficient {rms:.4e} ({n} terms)\n");
                }
            }
        }
        if let Some(t) = &self.taylor {
            let rep = &t.report;
            s += &format!(
                "taylor (derivatives of the network at s = {}, order 3):\n",
                self.at
            );
            s += &format!(
                "  3-body: correlation(J_learned, J) = {:.4}, ‖J_learned − J‖/‖J‖ = {:.4}\n",
                rep.correlation, rep.relative_error
            );
            for (k, rms, n) in &rep.rms_by_order {
                s += &format!("  degree {k}, distinct indices: RMS {rms:.4e} ({n} terms)\n");
            }
            for (k, rms, n) in &t.rms_repeated_by_order {
                s += &format!("  degree {k}, repeated index:   RMS {rms:.4e} ({n} terms)\n");
            }
        }
        for (pair, r) in &self.correlation_between_routes {
            s += &format!("correlation of the learned J_ijk, {pair}: {r:.4}\n");
        }
        s
    }
}
