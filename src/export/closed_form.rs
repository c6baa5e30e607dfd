//! Closed-form reports: the index form (any width) and the expanded closed forms of
//! [`crate::symbolic`] rendered as text, LaTeX, SymPy or Mathematica, and as the JSON schema of
//! `feynn taylor` with every coefficient's closed form attached.

use std::collections::BTreeMap;

use super::latex::broken_equation;
use super::{monomial_latex, monomial_text, TaylorSeries};
use crate::error::{Error, Result};
use crate::model::inn::InnSpec;
use crate::model::weights::TensorStore;
use crate::model::{Model, Network};
use crate::numeric::action_series::Convention;
use crate::numeric::{Expander, Options as NumericOptions, DEFAULT_MEMORY_LIMIT};
use crate::symbolic::{
    closed_forms_for, estimate, index_forms, net_spec, symbol_values, widths_text, ClosedForm,
    ClosedForms, IndexForm, InnClosedForms, Options, Style, MAX_TERMS, REPORT_MAX_COEFFICIENTS,
};

/// Closed-form report of the Taylor coefficients to `order`.
///
/// Text, LaTeX, SymPy, Mathematica: the index form (any width), and the expanded closed forms
/// when every width is concrete and there are at most [`REPORT_MAX_COEFFICIENTS`]
/// coefficients (otherwise the report says why they are left out). Json needs weights: the
/// numeric schema [`TaylorSeries`] of `feynn taylor`, where every coefficient also carries its
/// closed form (`expr`, SymPy syntax) and the top level the value of every symbol (`symbols`).
pub fn report(
    model: &Model,
    order: usize,
    store: Option<&TensorStore>,
    x0: Option<Vec<f64>>,
    style: Style,
) -> Result<String> {
    if style == Style::Json {
        let store = store.ok_or_else(|| {
            Error::invalid("closed forms as JSON carry the numeric coefficients, so they need weights", "give --weights FILE (or a `weights` line in the spec); without weights use --format text, latex, sympy or mathematica")
        })?;
        return json_report(model, order, store, x0);
    }
    // widths from the weights file when the spec leaves some symbolic
    let net = match store {
        Some(s) => Some(Network::from_store(model, s)?),
        None => None,
    };
    let widths: Option<Vec<usize>> = model
        .fixed_widths()
        .or_else(|| net.as_ref().map(|n| n.widths()));
    let forms = index_forms(model, order, style);
    let point = x0.clone().filter(|p| p.iter().any(|v| *v != 0.0));
    let expanded: std::result::Result<ClosedForms, String> = match &widths {
        None => Err("expanded closed forms need a number for every width (or weights); the index form above holds for any width".into()),
        Some(w) => {
            let spec = net_spec(model, Some(w), point.as_deref())?;
            let count = estimate::coefficient_count(&spec, order);
            let terms = estimate::predicted_terms(&spec, order);
            if count > REPORT_MAX_COEFFICIENTS as f64 {
                Err(format!("expanded closed forms left out: {count} coefficients (more than {REPORT_MAX_COEFFICIENTS}); lower --order, or get them all with --format json and weights"))
            } else if terms.is_nan() || terms > MAX_TERMS {
                Err(format!("expanded closed forms left out: about {terms:.2e} terms predicted (limit {MAX_TERMS:.0}); lower --order or use smaller widths"))
            } else {
                Ok(closed_forms_for(model, &spec, order, point.as_deref(), &Options { style, ..Options::default() })?)
            }
        }
    };
    Ok(match style {
        Style::Text => report_in(&TEXT, model, order, &forms, &expanded, point.as_deref()),
        Style::Latex => report_in(&LATEX, model, order, &forms, &expanded, point.as_deref()),
        Style::Sympy => report_in(&SYMPY, model, order, &forms, &expanded, point.as_deref()),
        Style::Mathematica => report_in(
            &MATHEMATICA,
            model,
            order,
            &forms,
            &expanded,
            point.as_deref(),
        ),
        Style::Json => unreachable!(),
    })
}

fn point_text(p: Option<&[f64]>) -> String {
    match p {
        None => "x0 = 0".into(),
        Some(p) => format!(
            "x0 = p = ({})",
            p.iter()
                .map(|v| format!("{v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn legend(model: &Model) -> String {
    let l = &model.layers[0];
    let mut s = format!(
        "{w}_i_j = W^(1)[i,j] (row i, column j, 1-based), {b}_i = b^(1)[i]",
        w = l.weight,
        b = l.bias
    );
    if model
        .layers
        .iter()
        .any(|l| matches!(l.activation, Some(crate::model::Activation::Sigma)))
    {
        s += ", dsigma(l,k,u) = k-th derivative of the activation of layer l at u";
    }
    s
}

/// What differs between the four languages of a closed-form report: comments, how the index
/// form and a coefficient are written, and the block around each output's coefficients.
struct Lang {
    /// Wrap a comment line (without the newline).
    comment: fn(&str) -> String,
    /// The first line's text after `model NAME: `.
    title: &'static str,
    /// Lines explaining the index form (already commented where the language needs it).
    index_legend: fn(usize) -> String,
    /// The index form of every order.
    index_form: fn(&[IndexForm]) -> String,
    /// The heading of the expanded closed forms (widths, legend).
    expanded_heading: fn(&str, &str) -> String,
    /// Before and after one output's coefficients.
    output_block: fn(&str) -> (String, String),
    /// One coefficient's line(s), without the separator.
    coefficient: fn(&str, &ClosedForm) -> String,
    /// Between two coefficients of an output.
    separator: &'static str,
}

const TEXT: Lang = Lang {
    comment: |c| c.to_string(),
    title: "closed forms of the Taylor coefficients c_α = ∂^α y/α!",
    index_legend: |l| {
        format!("index form (any width): y[o](x0 + h) = Σ_n T_n(h); D(l,m) = ∂z^(l)/∂a^(m) (D(l,0) acts on h), f_l^(k) = activation derivatives at z^(l)(x0), sums over the neurons j of each vertex, o = output neuron, L = {l}\n")
    },
    index_form: |forms| {
        let mut s = String::new();
        for f in forms {
            for (i, t) in f.terms.iter().enumerate() {
                let head = if i == 0 {
                    format!("  T_{} = ", f.order)
                } else {
                    format!("  {:width$} + ", "", width = 4 + f.order.to_string().len())
                };
                s += &format!("{head}{}\n", t.expr);
            }
            if f.terms.is_empty() {
                s += &format!("  T_{} = 0\n", f.order);
            }
        }
        s
    },
    expanded_heading: |w, legend| format!("expanded closed forms (widths {w}; {legend}):\n"),
    output_block: |name| (format!("{name}:\n"), String::new()),
    coefficient: |_, c| format!("  c[{}] = {}\n", monomial_text(&c.index), c.expr),
    separator: "",
};

const LATEX: Lang = Lang {
    comment: |c| format!("% {c}"),
    title: "Taylor coefficients c_alpha = d^alpha y / alpha!",
    index_legend: |_| "% index form: y_o(x_0 + h) = sum_n T_n(h)\n".into(),
    index_form: |forms| {
        let lines: Vec<String> = forms
            .iter()
            .map(|f| {
                let body = terms_joined(f, " \\\\\n&\\quad + ");
                format!("T_{{{}}} &= {body}", f.order)
            })
            .collect();
        format!(
            "\\begin{{align*}}\n{}\n\\end{{align*}}\n",
            lines.join(" \\\\\n")
        )
    },
    expanded_heading: |w, _| format!("% expanded closed forms (widths {w})\n"),
    output_block: |_| ("\\begin{align*}\n".into(), "\n\\end{align*}\n".into()),
    coefficient: |out, c| {
        broken_equation(
            &format!("c^{{{}}}_{{{}}}", out, monomial_latex(&c.index)),
            &c.expr,
        )
    },
    separator: " \\\\\n",
};

const SYMPY: Lang = Lang {
    comment: |c| format!("# {c}"),
    title: "Taylor coefficients c_alpha = d^alpha y / alpha!",
    index_legend: |_| {
        "# SymPy syntax: read each right-hand side with sympy.parse_expr.\n\
         # Index form, y(o) at x0 + h = sum of T_n: D(l, m, r, c) = propagator D^(l,m)_rc, Dh(m, r) = (D^(m,0) h)_r,\n\
         # dsigma(m, k, u) = k-th derivative of the activation of layer m at u, z(m, j) = z^(m)_j at x0, o = output neuron.\n"
            .into()
    },
    index_form: |forms| {
        forms
            .iter()
            .map(|f| format!("T_{} = {}\n", f.order, f.sum()))
            .collect()
    },
    expanded_heading: |w, legend| {
        format!("# Expanded closed forms (widths {w}); c_<output>_<input positions>; {legend}\n")
    },
    output_block: |_| (String::new(), String::new()),
    coefficient: |out, c| {
        let name = std::iter::once(format!("c_{out}"))
            .chain(c.index.iter().map(|i| i.to_string()))
            .collect::<Vec<_>>()
            .join("_");
        format!("{name} = {}\n", c.expr)
    },
    separator: "",
};

const MATHEMATICA: Lang = Lang {
    comment: |c| format!("(* {c} *)"),
    title: "Taylor coefficients c_alpha = d^alpha y / alpha!",
    index_legend: |_| {
        "(* Index form, y[o] at x0 + h = Sum of T[n]: Dp[l, m, r, c] = propagator D^(l,m)_rc, Dh[m, r] = (D^(m,0).h)_r, sigma<m> = activation of layer m, z[m, j] = z^(m)_j at x0 *)\n".into()
    },
    index_form: |forms| {
        forms
            .iter()
            .map(|f| {
                let body = terms_joined(f, " + ");
                format!("T[{}] = {body};\n", f.order)
            })
            .collect()
    },
    expanded_heading: |w, _| {
        format!("(* Expanded closed forms (widths {w}); c[\"output\", {{input positions}}]; W2[i, j] = W^(2)[i,j], b2[i] = b^(2)[i] *)\n")
    },
    output_block: |_| (String::new(), String::new()),
    coefficient: |out, c| {
        let idx = c
            .index
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        format!("c[\"{out}\", {{{idx}}}] = {};\n", c.expr)
    },
    separator: "",
};

/// The terms of one order's index form joined by `sep`, or `0` when it has none.
fn terms_joined(f: &IndexForm, sep: &str) -> String {
    if f.terms.is_empty() {
        return "0".to_string();
    }
    f.terms
        .iter()
        .map(|t| t.expr.as_str())
        .collect::<Vec<_>>()
        .join(sep)
}

/// The one closed-form printer: the index form of every order, then the expanded closed forms
/// (or why they are left out), in `lang`.
fn report_in(
    lang: &Lang,
    model: &Model,
    order: usize,
    forms: &[IndexForm],
    expanded: &std::result::Result<ClosedForms, String>,
    point: Option<&[f64]>,
) -> String {
    let mut s = (lang.comment)(&format!(
        "model {}: {} to order {order} at {}",
        model.name,
        lang.title,
        point_text(point)
    )) + "\n";
    s += &(lang.index_legend)(model.layers.len());
    s += &(lang.index_form)(forms);
    match expanded {
        Ok(cf) => {
            s += &(lang.expanded_heading)(&widths_text(&cf.widths), &legend(model));
            for out in &cf.outputs {
                let (open, close) = (lang.output_block)(&out.name);
                s += &open;
                let lines: Vec<String> = out
                    .coefficients
                    .iter()
                    .map(|c| (lang.coefficient)(&out.name, c))
                    .collect();
                s += &lines.join(lang.separator);
                s += &close;
            }
        }
        Err(why) => s += &((lang.comment)(why) + "\n"),
    }
    s
}

fn json_report(
    model: &Model,
    order: usize,
    store: &TensorStore,
    x0: Option<Vec<f64>>,
) -> Result<String> {
    let net = Network::from_store(model, store)?;
    let x0 = x0.unwrap_or_else(|| vec![0.0; net.inputs()]);
    let expander = Expander::new(
        &net,
        &NumericOptions {
            order,
            memory_limit: DEFAULT_MEMORY_LIMIT,
        },
    )?;
    let expansion = expander.expand(&x0)?;
    let mut json = TaylorSeries::from_expansion(&model.name, &expansion, expander.monomials());
    let spec = net_spec(model, Some(&net.widths()), Some(&x0))?;
    let forms = closed_forms_for(
        model,
        &spec,
        order,
        Some(&x0),
        &Options {
            style: Style::Sympy,
            ..Options::default()
        },
    )?;
    for (jo, fo) in json.outputs.iter_mut().zip(&forms.outputs) {
        let by_index: BTreeMap<&[u32], &str> = fo
            .coefficients
            .iter()
            .map(|c| (c.index.as_slice(), c.expr.as_str()))
            .collect();
        for c in &mut jo.coefficients {
            c.expr = by_index.get(c.index.as_slice()).map(|e| e.to_string());
        }
    }
    let values = symbol_values(model, &net, Some(&x0));
    json.symbols = Some(
        values
            .into_iter()
            .filter(|(k, _)| forms.symbols.contains(k))
            .collect(),
    );
    Ok(serde_json::to_string(&json).expect("the JSON schema serialises") + "\n")
}

/// The closed forms of an INN's action (from [`crate::symbolic::inn_closed_forms`]) as text (or
/// SymPy-style text) or a LaTeX `align*`, in the sign `convention`.
pub fn inn_report(
    spec: &InnSpec,
    order: usize,
    forms: &InnClosedForms,
    convention: Convention,
    style: Style,
) -> String {
    let (sign, convention) = match convention {
        Convention::Minus => ("", "S = -ln p"),
        Convention::Plus => ("-", "S = +ln p"),
    };
    let names: Vec<String> = spec
        .layers
        .iter()
        .map(|l| match l.phi {
            crate::model::inn::Phi::Quad => {
                format!("{}_i_j, {}_i, {}_i", l.weight, l.bias, l.alpha)
            }
            crate::model::inn::Phi::Cubic => {
                format!(
                    "{}_i_j, {}_i, {}_i, {}_i",
                    l.weight, l.bias, l.alpha, l.beta
                )
            }
            _ => format!("{}_i_j, {}_i", l.weight, l.bias),
        })
        .collect();
    let mut out = String::new();
    match style {
        Style::Latex => {
            out += &format!("% {convention}: monomial coefficients of S(x_0+\\delta), closed forms\n\\begin{{align*}}\n");
            let eqs: Vec<String> = forms
                .coefficients
                .iter()
                .map(|c| {
                    let m = if c.index.is_empty() {
                        "1".into()
                    } else {
                        monomial_latex(&c.index)
                    };
                    let e = if sign.is_empty() {
                        c.expr.clone()
                    } else {
                        format!("-\\left({}\\right)", c.expr)
                    };
                    broken_equation(&format!("c_{{{m}}}"), &e)
                })
                .collect();
            out += &eqs.join("\\\\\n");
            out += "\n\\end{align*}\n";
        }
        _ => {
            out += &format!(
                "inn {}: closed forms of the action ({convention}) to order {} at x0 = {}: monomial coefficients of S(x0+δ) in {} (1-based; pi, log(…) as usual)\n",
                spec.name,
                order,
                if forms.point.is_some() { "(p_1, …) with p_i the point's coordinates" } else { "0" },
                names.join("; ")
            );
            for c in &forms.coefficients {
                let e = if sign.is_empty() {
                    c.expr.clone()
                } else {
                    format!("-({})", c.expr)
                };
                out += &format!("  c[{}] = {e}\n", monomial_text(&c.index));
            }
        }
    }
    out
}
