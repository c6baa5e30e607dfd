//! What a refuted claim misses: a counterexample, and the discrepancy fitted by the order's
//! diagram topologies (small rational multiples name the missing or doubled diagrams).

use super::draws::{point, random_network};
use super::eval::{eval_rhs, lhs_factor};
use super::*;
use crate::claim::Resolved;
use crate::diagrams::Topology;
use crate::error::Result;
use crate::export::diagrams::index_term;
use crate::export::output_name;
use crate::model::{Model, Network};
use crate::numeric::attribution::attribute_one;

pub(super) fn counterexample(
    model: &Model,
    net: &Network,
    sigma: Option<String>,
    x0: &[f64],
    left: f64,
    right: f64,
) -> Counterexample {
    let mut parameters = vec![];
    for (l, layer) in model.layers.iter().enumerate() {
        let w = &net.weights[l];
        parameters.push(ParamValues {
            name: layer.weight.clone(),
            shape: w.shape().to_vec(),
            values: w.iter().copied().collect(),
        });
        parameters.push(ParamValues {
            name: layer.bias.clone(),
            shape: vec![net.biases[l].len()],
            values: net.biases[l].to_vec(),
        });
    }
    Counterexample {
        widths: net.widths(),
        point: x0.to_vec(),
        parameters,
        sigma,
        left,
        right,
    }
}

/// Fit claim − model over fresh draws by the contributions of the order's topologies.
pub(super) fn analyse(
    model: &Model,
    r: &Resolved,
    widths: &[usize],
    seed: u64,
) -> Result<Option<DiagramAnalysis>> {
    let n = r.alpha.len();
    if n == 0 {
        return Ok(None);
    }
    let mut rng = crate::random::seeded(seed);
    let mut rows: Vec<Vec<f64>> = vec![];
    let mut rhs: Vec<f64> = vec![];
    let mut topos: Vec<Topology> = vec![];
    let factor = lhs_factor(r);
    let mut draws = 0;
    loop {
        let (net, _) = random_network(model, widths, &mut rng);
        let x0 = point(r, widths[0]);
        let parts = attribute_one(&net, &x0, &r.alpha, r.claim.lhs.output)?;
        let right = eval_rhs(&r.rhs, &net, &x0)?;
        let left: f64 = parts.iter().map(|(_, v)| v).sum::<f64>() * factor;
        rows.push(parts.iter().map(|(_, v)| v * factor).collect());
        rhs.push(right - left);
        if topos.is_empty() {
            topos = parts.into_iter().map(|(t, _)| t).collect();
        }
        draws += 1;
        if draws >= topos.len() + 6 {
            break;
        }
    }
    let m = topos.len();
    let a = nalgebra::DMatrix::from_fn(rows.len(), m, |i, j| rows[i][j]);
    let b = nalgebra::DVector::from_vec(rhs.clone());
    // scale columns so that vanishing diagrams (e.g. f'' = 0) do not spoil the fit
    let norms: Vec<f64> = (0..m).map(|j| a.column(j).norm()).collect();
    let big = norms.iter().cloned().fold(0.0, f64::max);
    let keep: Vec<usize> = (0..m)
        .filter(|&j| norms[j] > 1e-12 * big.max(1e-300))
        .collect();
    let scaled = nalgebra::DMatrix::from_fn(rows.len(), keep.len(), |i, k| {
        a[(i, keep[k])] / norms[keep[k]]
    });
    let svd = scaled.svd(true, true);
    let sol = match svd.solve(&b, 1e-10) {
        Ok(s) => s,
        Err(_) => return Ok(None),
    };
    let mut c = vec![0.0; m];
    for (k, &j) in keep.iter().enumerate() {
        c[j] = sol[k] / norms[j];
    }
    let rounded: Vec<f64> = c.iter().map(|&x| simple_fraction(x).0).collect();
    let fit = &a * nalgebra::DVector::from_vec(rounded.clone());
    let resid = (&fit - &b).norm();
    let explained = resid <= 1e-6 * b.norm().max(1e-300);
    let output_layer = model.layers.len();
    let out_name = output_name(r.claim.lhs.output, *widths.last().unwrap());
    let mismatches = topos
        .iter()
        .zip(&rounded)
        .filter(|(_, c)| c.abs() > 1e-9)
        .map(|(t, &c)| {
            let term = index_term(t, output_layer, &out_name);
            let (_, frac) = simple_fraction(1.0 + c);
            let kind = match 1.0 + c {
                x if x.abs() < 1e-9 => "missing".to_string(),
                x if (x + 1.0).abs() < 1e-9 => "sign flipped".to_string(),
                x if (x - 2.0).abs() < 1e-9 => {
                    "counted twice (a symmetry factor 1/2 missing?)".to_string()
                }
                x if x > 1.0 => "in excess".to_string(),
                _ => "partly missing".to_string(),
            };
            DiagramMismatch {
                text: term.text(),
                latex: term.latex(),
                claim_multiple: frac,
                kind,
            }
        })
        .collect();
    Ok(Some(DiagramAnalysis {
        explained,
        mismatches,
        topologies: m,
    }))
}

/// The nearest fraction p/q with q ≤ 24 when within 1e-6, else the number itself.
fn simple_fraction(x: f64) -> (f64, String) {
    for q in 1..=24i64 {
        let p = (x * q as f64).round();
        if (p / q as f64 - x).abs() <= 1e-6 * x.abs().max(1.0) {
            let v = p / q as f64;
            return (
                v,
                if q == 1 {
                    format!("{p}")
                } else {
                    format!("{p}/{q}")
                },
            );
        }
    }
    (x, format!("{x:.6}"))
}
