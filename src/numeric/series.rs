//! [`TaylorSeries`]: the Taylor coefficients of a model at a point, the result of the numeric
//! engine (and, with closed forms attached, of the symbolic one). [`crate::export`] renders it as
//! JSON (this type's serde form is the schema of `feynn taylor --format json`), text and LaTeX.

use serde::Serialize;

use super::Expansion;
use crate::notation::output_name;

/// One Taylor coefficient: `index` lists the 0-based input positions of the monomial with
/// repetition, sorted (`[]` is the constant term, `[0,0,2]` is x0²·x2).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Coefficient {
    pub index: Vec<u32>,
    pub value: f64,
    /// The closed form (SymPy syntax), with `--symbolic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct OutputCoefficients {
    pub name: String,
    pub coefficients: Vec<Coefficient>,
}

/// `{"model":NAME,"order":N,"point":[…],"inputs":d,"outputs":[{"name":…,"coefficients":[…]}]}`
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct TaylorSeries {
    pub model: String,
    pub order: usize,
    pub point: Vec<f64>,
    pub inputs: usize,
    pub outputs: Vec<OutputCoefficients>,
    /// With `--symbolic`: the numeric value of every symbol used in `expr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbols: Option<std::collections::BTreeMap<String, f64>>,
}

impl TaylorSeries {
    pub fn from_expansion(model: &str, e: &Expansion, monomials: &[Vec<u32>]) -> TaylorSeries {
        let outputs = e.coefficients.nrows();
        TaylorSeries {
            model: model.to_string(),
            order: e.order,
            point: e.point.clone(),
            inputs: e.point.len(),
            outputs: (0..outputs)
                .map(|o| OutputCoefficients {
                    name: output_name(o, outputs),
                    coefficients: monomials
                        .iter()
                        .zip(e.coefficients.row(o))
                        .map(|(m, &v)| Coefficient {
                            index: m.clone(),
                            value: v,
                            expr: None,
                        })
                        .collect(),
                })
                .collect(),
            symbols: None,
        }
    }
}

