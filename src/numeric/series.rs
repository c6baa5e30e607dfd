//! [`TaylorSeries`]: the Taylor coefficients of a model at a point, the result of the numeric
//! engine (and, with closed forms attached, of the symbolic one). [`crate::export`] renders it as
//! JSON (this type's serde form is the schema of `feynn taylor --format json`), text and LaTeX.

use serde::Serialize;

use super::Expansion;
use crate::notation::output_name;

/// One Taylor coefficient: `index` lists the 0-based input positions of the monomial with
/// repetition, sorted (`[]` is the constant term, `[0,0,2]` is x1²·x3).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Coefficient {
    /// 0-based input positions of the monomial, with repetition, sorted.
    pub index: Vec<u32>,
    /// The coefficient c_α = ∂^α y(x0)/α!.
    pub value: f64,
    /// The closed form (SymPy syntax), with `--symbolic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
}

/// The Taylor coefficients of one output.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct OutputCoefficients {
    /// Output name (`y1`, `y2`, …).
    pub name: String,
    /// Its coefficients, one per monomial of total degree ≤ order.
    pub coefficients: Vec<Coefficient>,
}

/// `{"model":NAME,"order":N,"point":[…],"inputs":d,"outputs":[{"name":…,"coefficients":[…]}]}`
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct TaylorSeries {
    /// Model name.
    pub model: String,
    /// Highest total degree.
    pub order: usize,
    /// Expansion point x0 (x1…xd).
    pub point: Vec<f64>,
    /// Input dimension d.
    pub inputs: usize,
    /// One entry per output, y1 first.
    pub outputs: Vec<OutputCoefficients>,
    /// With `--symbolic`: the numeric value of every symbol used in `expr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbols: Option<std::collections::BTreeMap<String, f64>>,
}

impl TaylorSeries {
    /// The series of an [`Expansion`], whose columns follow `monomials` (0-based sorted multi-indices).
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
