//! The random draws of a check: width assignments, random networks (the generic σ becomes a
//! random smooth function), the expansion point.

use std::collections::BTreeMap;

use rand::Rng;

use crate::claim::Resolved;
use crate::dsl::Width;
use ndarray::{Array1, Array2};

use crate::model::{Activation, Model, Network};
use crate::random::Rng as SeededRng;

/// Width assignments to test: the spec's numbers, and for each symbolic width several values
/// (at least what the claim needs), varied independently across the assignments.
pub fn width_sets(model: &Model, min_widths: &[usize]) -> Vec<Vec<usize>> {
    let widths = model.widths();
    let mut symbols: Vec<String> = vec![];
    for w in &widths {
        if let Width::Symbol(s) = w {
            if !symbols.contains(s) {
                symbols.push(s.clone());
            }
        }
    }
    if symbols.is_empty() {
        return vec![model.fixed_widths().expect("all fixed")];
    }
    // a symbol shared by several positions needs the largest of their minima
    let base: BTreeMap<&String, usize> = symbols
        .iter()
        .map(|s| {
            let m = widths
                .iter()
                .zip(min_widths)
                .filter(|(w, _)| matches!(w, Width::Symbol(t) if t == s))
                .map(|(_, m)| *m)
                .max()
                .unwrap_or(1);
            (s, m)
        })
        .collect();
    (0..3)
        .map(|k| {
            widths
                .iter()
                .map(|w| match w {
                    Width::Fixed(n) => *n,
                    Width::Symbol(s) => {
                        let i = symbols.iter().position(|t| t == s).unwrap();
                        base[s] + (k + i) % 3
                    }
                })
                .collect()
        })
        .collect()
}

/// A random network of the model at the given widths. The generic σ becomes one random smooth
/// function (shared by every σ layer); its body is returned for the report.
pub(super) fn random_network(
    model: &Model,
    widths: &[usize],
    rng: &mut SeededRng,
) -> (Network, Option<String>) {
    let sigma = model
        .layers
        .iter()
        .any(|l| l.activation == Some(Activation::Sigma))
        .then(|| {
            let c = |rng: &mut SeededRng, lo: f64, hi: f64| -> f64 {
                let v: f64 = rng.random_range(lo..hi);
                (v * 1000.0).round() / 1000.0
            };
            format!(
                "tanh({}*z + {}) + {}*sin(z) + {}*z^2",
                c(rng, 0.6, 1.4),
                c(rng, -0.5, 0.5),
                c(rng, 0.2, 0.8),
                c(rng, -0.3, 0.3)
            )
        });
    let sigma_act = sigma.as_ref().map(|body| Activation::Custom {
        name: "sigma".into(),
        body: crate::dsl::parse_spec("<sigma>", &format!("let f = {body}"))
            .expect("the random σ parses")
            .lets[0]
            .value
            .clone(),
    });
    let mut weights = vec![];
    let mut biases = vec![];
    for l in 1..widths.len() {
        let scale = 1.5 / (widths[l - 1] as f64).sqrt();
        weights.push(Array2::from_shape_fn((widths[l], widths[l - 1]), |_| {
            rng.random_range(-1.0..1.0) * scale
        }));
        biases.push(Array1::from_shape_fn(widths[l], |_| {
            rng.random_range(-0.8..0.8)
        }));
    }
    let activations = model
        .layers
        .iter()
        .map(|l| match &l.activation {
            Some(Activation::Sigma) => sigma_act.clone(),
            a => a.clone(),
        })
        .collect();
    (
        Network {
            name: model.name.clone(),
            weights,
            biases,
            activations,
        },
        sigma,
    )
}

/// The expansion point at the given input width.
pub(super) fn point(r: &Resolved, inputs: usize) -> Vec<f64> {
    match &r.claim.lhs.at {
        None => vec![0.0; inputs],
        Some(p) if p.len() == 1 => vec![p[0]; inputs],
        Some(p) => {
            let mut v = p.clone();
            v.resize(inputs, 0.0);
            v
        }
    }
}
