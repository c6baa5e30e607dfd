//! Closed forms of the Taylor coefficients with [Symbolica](https://symbolica.io) (feature
//! `symbolic`, on by default).
//!
//! Two kinds of closed form:
//!
//! * **Index form**, for any width (widths may be symbols): the order-n term
//!   T_n(h) = Σ_α c_α h^α as a sum over unlabelled topologies with their symmetry factors
//!   1/|Aut|, written with propagators D^(l,m), vertices f_m^(k)(z^(m)) and sums over neurons
//!   ([`index_forms`]). Plain strings; Symbolica is not needed for it.
//! * **Expanded closed forms**, for concrete widths: every c_α = ∂^α y/α! as a polynomial in
//!   the weight and bias symbols (`W2_1_3` = W^(2)\[1,3\], `b1_2` = b^(1)\[2\], 1-based, named after
//!   the model's parameters) and in activation values at the expansion point, e.g.
//!   `tanh(b1_1)` at x0 = 0; deeper layers nest (`tanh(b2_1 + W2_1_1*tanh(b1_1) + …)`).
//!   Derivatives of built-in activations are rewritten in closed form
//!   ([`crate::model::Activation::derivative_closed_form`]); the generic `sigma` keeps
//!   symbols `dsigma(l, k, u)` = σ_l^(k)(u); custom activations are differentiated by Symbolica.
//!   A nonzero expansion point enters as symbols `p_1 … p_d`.
//!
//! The expanded forms come by two independent routes ([`Route`]): (i) the diagram sum,
//! c_α = (1/α!) Σ_d value_d over the labelled diagrams, with symbolic propagators and vertices;
//! (ii) a direct truncated series expansion of the network in the displacement h, layer by
//! layer, reading off monomial coefficients. [`compare_routes`] expands (i) − (ii). Both carry
//! the vertex values as symbols V_{l,j,k} = f_l^(k)(z^(l)_j(x0)), so that their algebra stays
//! polynomial, and substitute the closed forms at the end.
//!
//! Sizes are predicted before anything runs ([`predicted_terms`]); requests above
//! [`Options::max_terms`] (default [`MAX_TERMS`]) are refused with [`Error::TooLarge`].
//!
//! # Symbolica's license and the one-thread rule
//!
//! Symbolica is source-available. Without a license key it runs in restricted mode: it prints a
//! license banner on stdout (this crate never hides it) and allows **one Symbolica thread per
//! user**; a second thread that touches Symbolica, in any process, aborts. Hence every
//! Symbolica call of this crate runs on one persistent worker thread
//! ([`on_symbolica_thread`]); any number of caller threads may use this module at once, but do
//! not run two processes that use it at the same time. A license key in the environment
//! variable `SYMBOLICA_LICENSE` (read by Symbolica itself) lifts the restrictions. The banner
//! shares stdout with whatever the caller prints there; the CLI's `-o FILE` keeps results apart.

mod check;
pub mod estimate;
mod index;
mod inn;
mod net;
mod print;
mod routes;
mod syms;
mod worker;

use std::collections::{BTreeMap, BTreeSet};

use symbolica::atom::{Atom, AtomCore};

pub use check::check_claim;
pub use index::{index_forms, mathematica_term, sympy_term, IndexForm, IndexFormTerm};
pub use inn::{evaluate_inn_closed_forms, inn_closed_forms, InnClosedForms, MAX_INN_COEFFICIENTS};
pub use net::NetSpec;
pub use worker::on_symbolica_thread;

use crate::diagrams::labelled_counts;
use crate::dsl::Width;
use crate::error::{Error, Result};
use crate::model::{Model, Network};
use crate::notation::output_name;

/// Output style of closed forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Plain text.
    Text,
    /// LaTeX.
    Latex,
    /// SymPy syntax.
    Sympy,
    /// Mathematica syntax.
    Mathematica,
    /// JSON (text expressions inside `feynn taylor --format json`).
    Json,
}

/// How the expanded closed forms are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Sum over labelled diagrams with symbolic propagators and vertices.
    Diagrams,
    /// Truncated series expansion of the network, no diagrams.
    Series,
}

/// Default ceiling on the predicted number of expanded terms (all coefficients together).
pub const MAX_TERMS: f64 = 2.0e6;
/// Ceiling on the labelled diagrams of one order for the diagram route.
pub const MAX_DIAGRAMS: u64 = 200_000;
/// [`report`] shows expanded forms only up to this many coefficients.
pub const REPORT_MAX_COEFFICIENTS: usize = 200;

/// Options of [`closed_forms`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// How the forms are computed.
    pub route: Route,
    /// Output style.
    pub style: Style,
    /// Refuse (Error::TooLarge) when more expanded terms than this are predicted.
    pub max_terms: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            route: Route::Diagrams,
            style: Style::Text,
            max_terms: MAX_TERMS,
        }
    }
}

/// One expanded coefficient c_α.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedForm {
    /// Sorted 0-based input positions with repetition (as in [`crate::export::Coefficient`]).
    pub index: Vec<u32>,
    /// The expression in the requested style.
    pub expr: String,
    /// Number of terms of the expanded expression.
    pub terms: usize,
}

/// The closed forms of one output.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputForms {
    /// Output name (`y1`, `y2`, …).
    pub name: String,
    /// One closed form per monomial.
    pub coefficients: Vec<ClosedForm>,
}

/// The expanded closed forms of every output, |α| ≤ order, in the monomial order of
/// [`crate::numeric::Basis`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedForms {
    /// Model name.
    pub model: String,
    /// Highest total degree.
    pub order: usize,
    /// n_0 .. n_L
    pub widths: Vec<usize>,
    /// The expansion point, when it is not the origin (then symbols p_1..p_d stand for it).
    pub point: Option<Vec<f64>>,
    /// One entry per output, y1 first.
    pub outputs: Vec<OutputForms>,
    /// Names (text/SymPy) of the parameter and point symbols the expressions use.
    pub symbols: BTreeSet<String>,
}

/// (i) − (ii) for one coefficient, expanded.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteCheck {
    /// 0-based output.
    pub output: usize,
    /// 0-based sorted multi-index of the monomial.
    pub index: Vec<u32>,
    /// The expanded difference (text); `0` when the routes agree.
    pub difference: String,
    /// Terms of the diagram route's expression (to see that it is not trivially 0).
    pub terms: usize,
}

/// The symbolic description of a model with concrete widths. `widths` overrides the model's
/// (e.g. the sizes found in a weights file); `x0` with a nonzero coordinate brings in p_i.
pub fn net_spec(model: &Model, widths: Option<&[usize]>, x0: Option<&[f64]>) -> Result<NetSpec> {
    let widths = match widths {
        Some(w) => w.to_vec(),
        None => model.fixed_widths().ok_or_else(|| {
            let syms: Vec<String> = model.widths().iter().filter_map(|w| if let Width::Symbol(s) = w { Some(s.clone()) } else { None }).collect();
            Error::invalid(
                format!("expanded closed forms need concrete widths; model `{}` has symbolic width(s) {}", model.name, syms.join(", ")),
                "give every width a number (the index form works for any width), or give weights",
            )
        })?,
    };
    if widths.len() != model.layers.len() + 1 {
        return Err(Error::invalid(
            format!(
                "{} widths given for a model with {} layers",
                widths.len(),
                model.layers.len()
            ),
            "give n_0 .. n_L",
        ));
    }
    if let Some(p) = x0 {
        if p.len() != widths[0] {
            return Err(Error::invalid(
                format!(
                    "the expansion point has {} coordinates, the network {} inputs",
                    p.len(),
                    widths[0]
                ),
                "give one value per input",
            ));
        }
    }
    Ok(NetSpec {
        widths,
        weight_names: model.layers.iter().map(|l| l.weight.clone()).collect(),
        bias_names: model.layers.iter().map(|l| l.bias.clone()).collect(),
        activations: model.layers.iter().map(|l| l.activation.clone()).collect(),
        point_symbols: x0.is_some_and(|p| p.iter().any(|v| *v != 0.0)),
    })
}

/// Predicted expanded terms (all coefficients of orders 0..=order).
pub fn predicted_terms(spec: &NetSpec, order: usize) -> f64 {
    estimate::predicted_terms(spec, order)
}

/// Refuse what would not finish: too many labelled diagrams, or too many predicted terms.
fn check_size(spec: &NetSpec, order: usize, max_terms: f64) -> Result<()> {
    let hidden = spec.layers() - 1;
    crate::diagrams::count::counts_budget(order, hidden, crate::budget::DEFAULT_MEMORY_LIMIT)?;
    let counts = labelled_counts(order, hidden, spec.output_activation());
    if let Some(big) = counts
        .iter()
        .find(|c| **c > num_bigint::BigUint::from(MAX_DIAGRAMS))
    {
        return Err(Error::TooLarge {
            what: format!("the order-{order} closed forms ({hidden} hidden layers)"),
            predicted: format!("{big} labelled diagrams in one order"),
            limit: format!("{MAX_DIAGRAMS}"),
            help: "lower --order; the index form and the numbers work at any order".into(),
        });
    }
    let terms = estimate::predicted_terms(spec, order);
    if terms.is_nan() || terms > max_terms {
        return Err(Error::TooLarge {
            what: format!("the expanded order-{order} closed forms of widths {}", widths_text(&spec.widths)),
            predicted: format!("{terms:.3e} terms"),
            limit: format!("{max_terms:.0} terms"),
            help: "lower --order, use smaller widths, or read the index form (any width) and the numbers instead".into(),
        });
    }
    Ok(())
}

/// Widths as `n0-n1-…-nL`.
pub fn widths_text(w: &[usize]) -> String {
    w.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

/// Coefficients of orders 0..=order by one route, on the Symbolica thread.
fn compute(snet: &net::SymNet, order: usize, route: Route) -> Vec<routes::Coefficients> {
    match route {
        Route::Diagrams => {
            let r = routes::DiagramRoute::new(snet, order);
            std::iter::once(r.order_zero())
                .chain((1..=order).map(|n| r.order(n)))
                .collect()
        }
        Route::Series => {
            let r = routes::SeriesRoute::new(snet, order);
            (0..=order).map(|n| r.order(n)).collect()
        }
    }
}

/// Stripped names of the non-function symbols of an expression.
fn used_symbols(a: &Atom) -> impl Iterator<Item = String> {
    a.get_all_symbols(false)
        .into_iter()
        .filter(|s| *s != symbolica::atom::Symbol::PI && *s != symbolica::atom::Symbol::E)
        .map(|s| s.get_stripped_name().to_string())
        .collect::<Vec<_>>()
        .into_iter()
}

/// The expanded closed forms of every coefficient with |α| ≤ order. Refused with
/// [`Error::TooLarge`] before anything runs when the prediction exceeds `opts.max_terms`.
pub fn closed_forms(
    model: &Model,
    order: usize,
    x0: Option<&[f64]>,
    opts: &Options,
) -> Result<ClosedForms> {
    let spec = net_spec(model, None, x0)?;
    closed_forms_for(model, &spec, order, x0, opts)
}

/// [`closed_forms`] for a prepared [`NetSpec`] (e.g. widths taken from a weights file).
pub fn closed_forms_for(
    model: &Model,
    spec: &NetSpec,
    order: usize,
    x0: Option<&[f64]>,
    opts: &Options,
) -> Result<ClosedForms> {
    check_size(spec, order, opts.max_terms)?;
    let (spec2, opts2) = (spec.clone(), *opts);
    let outputs = spec.outputs();
    let (per_output, symbols) = on_symbolica_thread(
        move || -> Result<(Vec<Vec<ClosedForm>>, BTreeSet<String>)> {
            let snet = net::SymNet::new(&spec2, order.max(1))?;
            let orders = compute(&snet, order, opts2.route);
            let mut per_output: Vec<Vec<ClosedForm>> = vec![vec![]; outputs];
            let mut symbols = BTreeSet::new();
            let mut printer = print::Printer::new(opts2.style);
            for coeffs in orders {
                for (o, list) in coeffs.into_iter().enumerate() {
                    for (index, atom) in list {
                        let atom = snet.substitute(&atom);
                        symbols.extend(used_symbols(&atom));
                        per_output[o].push(ClosedForm {
                            index,
                            expr: printer.print(&atom),
                            terms: atom.nterms(),
                        });
                    }
                }
            }
            Ok((per_output, symbols))
        },
    )?;
    Ok(ClosedForms {
        model: model.name.clone(),
        order,
        widths: spec.widths.clone(),
        point: x0
            .filter(|p| p.iter().any(|v| *v != 0.0))
            .map(|p| p.to_vec()),
        outputs: per_output
            .into_iter()
            .enumerate()
            .map(|(o, coefficients)| OutputForms {
                name: output_name(o, outputs),
                coefficients,
            })
            .collect(),
        symbols,
    })
}

/// Both routes for every coefficient, and their expanded difference (which must be `0`).
pub fn compare_routes(model: &Model, order: usize, x0: Option<&[f64]>) -> Result<Vec<RouteCheck>> {
    let spec = net_spec(model, None, x0)?;
    check_size(&spec, order, MAX_TERMS)?;
    on_symbolica_thread(move || -> Result<Vec<RouteCheck>> {
        let snet = net::SymNet::new(&spec, order.max(1))?;
        let a = compute(&snet, order, Route::Diagrams);
        let b = compute(&snet, order, Route::Series);
        let mut out = Vec::new();
        for (ca, cb) in a.into_iter().zip(b) {
            for (o, (la, lb)) in ca.into_iter().zip(cb).enumerate() {
                for ((ia, xa), (ib, xb)) in la.into_iter().zip(lb) {
                    assert_eq!(ia, ib, "routes list the monomials in one order");
                    // in the vertex symbols, and in the closed forms themselves
                    let diff_v = (&xa - &xb).expand();
                    let (fa, fb) = (snet.substitute(&xa), snet.substitute(&xb));
                    let diff = if diff_v.is_zero() {
                        (&fa - &fb).expand()
                    } else {
                        diff_v
                    };
                    out.push(RouteCheck {
                        output: o,
                        index: ia,
                        difference: print::print(&diff, Style::Text),
                        terms: fa.nterms(),
                    });
                }
            }
        }
        Ok(out)
    })
}

/// Numbers per output: (α, c_α) in the monomial order of [`crate::numeric::Basis`].
pub type Values = Vec<Vec<(Vec<u32>, f64)>>;

/// The numeric value of every parameter symbol (and p_i for a nonzero point), by text name.
pub fn symbol_values(model: &Model, net: &Network, x0: Option<&[f64]>) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    for (l, layer) in model.layers.iter().enumerate() {
        for ((i, j), v) in net.weights[l].indexed_iter() {
            m.insert(format!("{}_{}_{}", layer.weight, i + 1, j + 1), *v);
        }
        for (i, v) in net.biases[l].iter().enumerate() {
            m.insert(format!("{}_{}", layer.bias, i + 1), *v);
        }
    }
    if let Some(p) = x0.filter(|p| p.iter().any(|v| *v != 0.0)) {
        for (i, v) in p.iter().enumerate() {
            m.insert(format!("p_{}", i + 1), *v);
        }
    }
    m
}

/// The expanded closed forms of a network evaluated at its weights (with Symbolica's
/// evaluator): `[output][k]` in the monomial order of [`crate::numeric::Basis`].
pub fn evaluate_closed_forms(
    model: &Model,
    net: &Network,
    order: usize,
    x0: &[f64],
    route: Route,
) -> Result<Values> {
    let spec = net_spec(model, Some(&net.widths()), Some(x0))?;
    check_size(&spec, order, MAX_TERMS)?;
    let values = symbol_values(model, net, Some(x0));
    on_symbolica_thread(move || -> Result<Values> {
        let snet = net::SymNet::new(&spec, order.max(1))?;
        let orders = compute(&snet, order, route);
        // every parameter symbol of the net, by name
        let mut map: std::collections::HashMap<Atom, f64> = std::collections::HashMap::new();
        let mut add = |a: &Atom| {
            let name = used_symbols(a).next().expect("a parameter symbol");
            if let Some(v) = values.get(&name) {
                map.insert(a.clone(), *v);
            }
        };
        snet.w.iter().flatten().flatten().for_each(&mut add);
        snet.b.iter().flatten().for_each(&mut add);
        snet.x0.iter().filter(|a| !a.is_zero()).for_each(&mut add);
        let mut out: Values = vec![vec![]; spec.outputs()];
        for coeffs in orders {
            for (o, list) in coeffs.into_iter().enumerate() {
                for (index, atom) in list {
                    let e = syms::special(|sp| net::elementary(&snet.substitute(&atom), sp));
                    let v = e.evaluate(&map).map_err(|err| {
                        Error::invalid(
                            format!("cannot evaluate the closed form of c_{index:?}: {err:?}"),
                            "the generic `sigma` has no numbers",
                        )
                    })?;
                    out[o].push((index, v));
                }
            }
        }
        Ok(out)
    })
}
