//! The layer diagrams of an invertible network with their sizes: which diagram of which layer
//! made how much of the action tensor A^(m) at a point (`feynn diagrams INN --layer L`).

use num_bigint::BigUint;
use serde::Serialize;

use crate::diagrams::inn::{big_json, budget, layer_counts, layer_diagrams, InnDiagram};
use crate::error::{Error, Result};
use crate::model::inn::{Inn, InnSpec, Phi};
use crate::model::weights::TensorStore;
use crate::numeric::action::{action, layer_contribution, ActionOptions};

/// One diagram of a layer, with the size of its contribution when the parameters have values.
#[derive(Debug, Clone, Serialize)]
pub struct LayerRow {
    /// The diagram.
    #[serde(flatten)]
    pub diagram: InnDiagram,
    /// Its text form.
    pub text: String,
    /// Frobenius norm of its contribution to A^(m) of the layer's input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub norm: Option<f64>,
    /// The norm is shared by all shapes from the same source order.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub group_norm: bool,
}

/// The diagrams of one layer at one order.
#[derive(Debug, Clone, Serialize)]
pub struct LayerSection {
    /// The layer (0 = the one acting on the data).
    pub layer: usize,
    /// The layer's map, e.g. `h + αh²`.
    pub kind: String,
    /// Labelled diagrams (S-convention) of the order (exact).
    #[serde(serialize_with = "big_json")]
    pub labelled: BigUint,
    /// Diagram shapes of the order.
    pub shapes: usize,
    /// The diagrams.
    pub rows: Vec<LayerRow>,
}

/// The layer diagrams of an invertible network at one order (see [`layer_listing`]).
#[derive(Debug, Clone, Serialize)]
pub struct LayerListing {
    /// The model's name.
    pub model: String,
    /// The action order m.
    pub order: usize,
    /// Whether the rows carry norms (the parameters had values).
    pub with_norms: bool,
    /// One section per listed layer.
    pub layers: Vec<LayerSection>,
}

/// Counts of the layer diagrams, per layer and order 1..=m.
#[derive(Debug, Clone, Serialize)]
pub struct LayerCount {
    /// The layer.
    pub layer: usize,
    /// The order.
    pub order: usize,
    /// Labelled diagrams (S-convention), exact.
    #[serde(serialize_with = "big_json")]
    pub labelled: BigUint,
    /// Diagram shapes.
    pub shapes: usize,
}

fn degree(spec: &InnSpec, l: usize) -> usize {
    match &spec.layers[l].phi {
        Phi::Quad => 2,
        Phi::Cubic => 3,
        Phi::Linear => 1,
        Phi::Poly { coeffs, .. } => coeffs.len() - 1,
    }
}

fn kind(spec: &InnSpec, l: usize) -> String {
    match &spec.layers[l].phi {
        Phi::Quad => "h + αh²".to_string(),
        Phi::Cubic => "h + αh² + βh³".to_string(),
        Phi::Linear => "linear".to_string(),
        Phi::Poly { name, .. } => format!("polynomial {name}"),
    }
}

/// The layers to list: `layer`, or all of them; refuses a layer that does not exist, order 0,
/// and (through the budget) an order whose diagrams would not fit.
fn layers_of(
    spec: &InnSpec,
    layer: Option<usize>,
    order: usize,
    count: bool,
) -> Result<Vec<usize>> {
    let nl = spec.layers.len();
    if order == 0 {
        return Err(Error::invalid(
            "--order 0 has no diagrams",
            "give the action order m ≥ 1",
        ));
    }
    let layers: Vec<usize> = match layer {
        Some(l) if l >= nl => {
            return Err(Error::invalid(
                format!(
                    "inn `{}` has layers 0..{} — there is no layer {l}",
                    spec.name,
                    nl - 1
                ),
                "layer 0 acts on the data; the last layer produces the latent variable",
            ))
        }
        Some(l) => vec![l],
        None => (0..nl).collect(),
    };
    for &l in &layers {
        budget(order, degree(spec, l), count)?;
    }
    Ok(layers)
}

/// Counts of the layer diagrams of `layer` (or every layer) for orders 1..=order.
pub fn layer_count_table(
    spec: &InnSpec,
    layer: Option<usize>,
    order: usize,
) -> Result<Vec<LayerCount>> {
    let mut rows = vec![];
    for l in layers_of(spec, layer, order, true)? {
        for m in 1..=order {
            let (labelled, shapes) = layer_counts(m, degree(spec, l));
            rows.push(LayerCount {
                layer: l,
                order: m,
                labelled,
                shapes,
            });
        }
    }
    Ok(rows)
}

/// The layer diagrams of `layer` (or every layer) at `order`; with numbers (a weights store or
/// every parameter inline) each row carries the norm of its contribution at the point `at`
/// (text as for `--at`; the origin by default).
pub fn layer_listing(
    spec: &InnSpec,
    store: Option<&TensorStore>,
    layer: Option<usize>,
    order: usize,
    at: Option<&str>,
) -> Result<LayerListing> {
    let layers = layers_of(spec, layer, order, false)?;
    let numbers = store.is_some() || !spec.inline.is_empty();
    let act = if numbers {
        let inn: Inn<f64> = spec.resolve(store)?;
        let x0 = crate::points::parse_point(at, inn.n)?;
        let opts = ActionOptions {
            order,
            keep_stages: true,
            ..Default::default()
        };
        let act = action(&inn, &x0, &opts)?;
        Some((inn, act))
    } else {
        None
    };
    let mut sections = vec![];
    for l in layers {
        let ds = layer_diagrams(l, order, degree(spec, l));
        let mut rows = vec![];
        for d in &ds {
            let group =
                d.source.is_some() && ds.iter().filter(|x| x.source == d.source).count() > 1;
            let norm = match &act {
                Some((inn, act)) => {
                    let t = layer_contribution(inn, act, l, d.source, order)?;
                    Some(t.iter().map(|v| v * v).sum::<f64>().sqrt())
                }
                None => None,
            };
            rows.push(LayerRow {
                text: d.text(),
                diagram: d.clone(),
                norm,
                group_norm: group,
            });
        }
        let (labelled, shapes) = layer_counts(order, degree(spec, l));
        sections.push(LayerSection {
            layer: l,
            kind: kind(spec, l),
            labelled,
            shapes,
            rows,
        });
    }
    Ok(LayerListing {
        model: spec.name.clone(),
        order,
        with_norms: act.is_some(),
        layers: sections,
    })
}
