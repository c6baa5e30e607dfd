//! Output formats: the JSON schema of `feynn taylor`, text tables, LaTeX, and diagram exports.

pub mod diagrams;
pub mod latex;
pub mod torch;

use serde::Serialize;

use crate::numeric::Expansion;

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
pub struct TaylorJson {
    pub model: String,
    pub order: usize,
    pub point: Vec<f64>,
    pub inputs: usize,
    pub outputs: Vec<OutputCoefficients>,
    /// With `--symbolic`: the numeric value of every symbol used in `expr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbols: Option<std::collections::BTreeMap<String, f64>>,
}

/// Output names: `y` for one output, `y0`, `y1`, … otherwise.
pub fn output_name(o: usize, outputs: usize) -> String {
    if outputs == 1 {
        "y".into()
    } else {
        format!("y{o}")
    }
}

impl TaylorJson {
    pub fn from_expansion(model: &str, e: &Expansion, monomials: &[Vec<u32>]) -> TaylorJson {
        let outputs = e.coefficients.nrows();
        TaylorJson {
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

/// The monomial as text, inputs numbered from 1 like the weights' columns (`x1^2*x3` for the
/// sorted positions [0, 0, 2]); `1` for the constant.
pub fn monomial_text(m: &[u32]) -> String {
    if m.is_empty() {
        return "1".into();
    }
    let mut parts = Vec::new();
    let mut i = 0;
    while i < m.len() {
        let mut j = i;
        while j < m.len() && m[j] == m[i] {
            j += 1;
        }
        parts.push(if j - i == 1 {
            format!("x{}", m[i] + 1)
        } else {
            format!("x{}^{}", m[i] + 1, j - i)
        });
        i = j;
    }
    parts.join("*")
}

/// The monomial in LaTeX: `x_{1}^{2} x_{3}`.
pub fn monomial_latex(m: &[u32]) -> String {
    monomial_text(m)
        .split('*')
        .map(|p| match p.split_once('^') {
            Some((v, e)) => format!("x_{{{}}}^{{{e}}}", &v[1..]),
            None if p == "1" => "1".into(),
            None => format!("x_{{{}}}", &p[1..]),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A text table: per output and order, the coefficients largest first, at most `max_rows` each.
pub fn taylor_text(t: &TaylorJson, max_rows: usize) -> String {
    let mut s = format!(
        "model {}: Taylor coefficients c_α = ∂^α y/α! to order {} at x0 = {}\n",
        t.model,
        t.order,
        fmt_point(&t.point)
    );
    for out in &t.outputs {
        for n in 0..=t.order {
            let mut rows: Vec<&Coefficient> = out
                .coefficients
                .iter()
                .filter(|c| c.index.len() == n)
                .collect();
            let total = rows.len();
            rows.sort_by(|a, b| b.value.abs().total_cmp(&a.value.abs()));
            s += &format!(
                "{} order {n} ({total} coefficient{}):\n",
                out.name,
                if total == 1 { "" } else { "s" }
            );
            for c in rows.iter().take(max_rows) {
                s += &format!("  {:>24}  {:+.12e}\n", monomial_text(&c.index), c.value);
            }
            if total > max_rows {
                s += &format!(
                    "  … {} more (largest shown; all with --format json)\n",
                    total - max_rows
                );
            }
        }
    }
    s
}

fn fmt_point(p: &[f64]) -> String {
    if p.iter().all(|&v| v == 0.0) {
        return "0".into();
    }
    let shown: Vec<String> = p.iter().take(8).map(|v| format!("{v}")).collect();
    format!(
        "({}{})",
        shown.join(", "),
        if p.len() > 8 { ", …" } else { "" }
    )
}

/// The Taylor polynomial in LaTeX (amsmath `align*`, one order a line group).
pub fn taylor_latex(t: &TaylorJson, max_terms: usize) -> String {
    let mut s = String::new();
    for out in &t.outputs {
        s += "\\begin{align*}\n";
        s += &format!("{}(x_0 + x) &= ", out.name);
        let mut first = true;
        for n in 0..=t.order {
            let mut rows: Vec<&Coefficient> = out
                .coefficients
                .iter()
                .filter(|c| c.index.len() == n && c.value != 0.0)
                .collect();
            rows.sort_by(|a, b| b.value.abs().total_cmp(&a.value.abs()));
            for (k, c) in rows.iter().take(max_terms).enumerate() {
                let sign = if c.value < 0.0 {
                    "-"
                } else if first {
                    ""
                } else {
                    "+"
                };
                let mono = if c.index.is_empty() {
                    String::new()
                } else {
                    format!("\\, {}", monomial_latex(&c.index))
                };
                s += &format!("{sign} {}{mono} ", latex_number(c.value.abs()));
                first = false;
                if k % 4 == 3 {
                    s += "\\\\\n&\\quad ";
                }
            }
            if rows.len() > max_terms {
                s += &format!(
                    "+ \\dots \\text{{({} more at order {n})}} ",
                    rows.len() - max_terms
                );
            }
            if n < t.order {
                s += "\\\\\n&\\quad ";
            }
        }
        s += "\n\\end{align*}\n";
    }
    s
}

/// A number in LaTeX: 1.23\times10^{-4}.
pub fn latex_number(v: f64) -> String {
    let s = format!("{v:.6e}");
    match s.split_once('e') {
        Some((m, "0")) => m.to_string(),
        Some((m, e)) => format!("{m}\\times 10^{{{e}}}"),
        None => s,
    }
}
