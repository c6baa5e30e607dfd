//! Index form of the Taylor terms for any width (plain strings; no Symbolica needed).
//!
//! The order-n term of y_o(x0 + h) is T_n = Σ_T (1/|Aut T|) value_T(h, …, h), summed over the
//! unlabelled topologies T ([`crate::diagrams::unlabelled`]); each topology is rendered from
//! [`crate::export::diagrams::index_term`].

use crate::diagrams::index::{index_term, Factor, IndexTerm};
use crate::diagrams::unlabelled;
use crate::dsl::Width;
use crate::model::Model;

use super::Style;

/// One topology's contribution in index form.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexFormTerm {
    /// Compact tree text, e.g. `[2](x1,[1](x2,x3))`.
    pub tree: String,
    /// |Aut|: the symmetry factor is 1/|Aut| (exact).
    pub automorphisms: num_bigint::BigUint,
    /// The term in the requested style.
    pub expr: String,
}

/// The index form of one order.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexForm {
    /// The Taylor order n.
    pub order: usize,
    /// One term per unlabelled topology.
    pub terms: Vec<IndexFormTerm>,
}

impl IndexForm {
    /// The whole order as one expression (terms joined by `+`; `0` when there are none).
    pub fn sum(&self) -> String {
        if self.terms.is_empty() {
            "0".into()
        } else {
            self.terms
                .iter()
                .map(|t| t.expr.as_str())
                .collect::<Vec<_>>()
                .join(" + ")
        }
    }
}

fn width_text(w: &Width) -> String {
    w.to_string()
}

/// The index forms of orders 0..=order. Text and LaTeX use [`IndexTerm::text`] and
/// [`IndexTerm::latex`]; SymPy and Mathematica write explicit functions (see
/// [`sympy_term`], [`mathematica_term`]). Json is treated as SymPy.
pub fn index_forms(model: &Model, order: usize, style: Style) -> Vec<IndexForm> {
    let l = model.layers.len();
    let h = model.hidden_layers();
    let widths: Vec<String> = model.widths().iter().map(width_text).collect();
    let out_act = model.output_activation().is_some();
    let mut forms = vec![IndexForm {
        order: 0,
        terms: vec![IndexFormTerm {
            tree: "y".into(),
            automorphisms: num_bigint::BigUint::from(1u32),
            expr: order_zero(style),
        }],
    }];
    for n in 1..=order {
        let terms = unlabelled(n, h, out_act)
            .iter()
            .map(|t| {
                let term = index_term(t, l, "o");
                let expr = match style {
                    Style::Text => term.text(),
                    Style::Latex => term.latex(),
                    Style::Sympy | Style::Json => sympy_term(&term, &widths),
                    Style::Mathematica => mathematica_term(&term, &widths),
                };
                IndexFormTerm {
                    tree: t.tree.text(),
                    automorphisms: t.automorphisms.clone(),
                    expr,
                }
            })
            .collect();
        forms.push(IndexForm { order: n, terms });
    }
    forms
}

fn order_zero(style: Style) -> String {
    match style {
        Style::Text => "y[o](x0)".into(),
        Style::Latex => "y_{o}(x_0)".into(),
        Style::Sympy | Style::Json => "y(o)".into(),
        Style::Mathematica => "y[o]".into(),
    }
}

/// The layer whose neurons an index runs over (`j3` → the layer of the vertex it labels).
fn index_layer(term: &IndexTerm, idx: &str) -> usize {
    term.factors
        .iter()
        .find_map(|f| match f {
            Factor::Vertex { layer, idx: i, .. } if i == idx => Some(*layer),
            _ => None,
        })
        .expect("every summed index labels a vertex")
}

/// SymPy: `Rational(1, 2)*Sum(D(3, 1, o, j1)*dsigma(1, 2, z(1, j1))*Dh(1, j1)**2, (j1, 1, n1))`.
///
/// `D(l, m, r, c)` = D^(l,m)_{rc}; `Dh(m, r)` = (D^(m,0) h)_r = Σ_i D^(m,0)_{ri} h_i;
/// `dsigma(m, k, u)` = f_m^(k)(u); `z(m, j)` = z^(m)_j at x0; `o` the output index.
pub fn sympy_term(term: &IndexTerm, widths: &[String]) -> String {
    let parts = term.grouped_factors(
        &|to, from, r, c| format!("D({to}, {from}, {r}, {c})"),
        &|m, k, j| format!("dsigma({m}, {k}, z({m}, {j}))"),
        &|to, r| format!("Dh({to}, {r})"),
        &|s, c| format!("{s}**{c}"),
    );
    wrap_sums(
        term,
        widths,
        parts.join("*"),
        |body, lim| format!("Sum({body}, {lim})"),
        |j, n| format!("({j}, 1, {n})"),
        |aut, body| format!("Rational(1, {aut})*{body}"),
    )
}

/// `Sum`/`Sum[]` over the term's neuron indices with their widths, then the symmetry factor.
fn wrap_sums(
    term: &IndexTerm,
    widths: &[String],
    body: String,
    sum: impl Fn(&str, &str) -> String,
    limit: impl Fn(&str, &str) -> String,
    factor: impl Fn(&num_bigint::BigUint, &str) -> String,
) -> String {
    let body = if term.sums.is_empty() {
        body
    } else {
        let limits: Vec<String> = term
            .sums
            .iter()
            .map(|j| limit(j, &widths[index_layer(term, j)]))
            .collect();
        sum(&body, &limits.join(", "))
    };
    if num_traits::One::is_one(&term.aut) {
        body
    } else {
        factor(&term.aut, &body)
    }
}

/// Mathematica: `1/2 Sum[Dp[3, 1, o, j1] Derivative[2][sigma1][z[1, j1]] Dh[1, j1]^2, {j1, 1, n1}]`
/// (`D` is a built-in of the Wolfram Language, so propagators are `Dp`).
pub fn mathematica_term(term: &IndexTerm, widths: &[String]) -> String {
    let parts = term.grouped_factors(
        &|to, from, r, c| format!("Dp[{to}, {from}, {r}, {c}]"),
        &|m, k, j| format!("Derivative[{k}][sigma{m}][z[{m}, {j}]]"),
        &|to, r| format!("Dh[{to}, {r}]"),
        &|s, c| format!("{s}^{c}"),
    );
    wrap_sums(
        term,
        widths,
        parts.join(" "),
        |body, lim| format!("Sum[{body}, {lim}]"),
        |j, n| format!("{{{j}, 1, {n}}}"),
        |aut, body| format!("1/{aut} {body}"),
    )
}
