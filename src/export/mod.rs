//! Rendering: every domain result of the library (Taylor series, closed forms, diagrams, the
//! INN action, check reports) to text, JSON, LaTeX, SymPy and Mathematica, and specs to PyTorch
//! modules. The computing
//! layers produce domain types and never import this module.

pub mod action;
#[cfg(feature = "symbolic")]
pub mod closed_form;
pub mod diagrams;
pub mod inn;
pub mod latex;
pub mod torch;

pub use crate::notation::{monomial_latex, monomial_text, output_name};
pub use crate::numeric::series::{Coefficient, OutputCoefficients, TaylorSeries};

/// The former name of [`TaylorSeries`], kept for one release.
pub type TaylorJson = TaylorSeries;

/// The coefficients of one order, largest |value| first (the one top-k rule of every table);
/// `nonzero` drops exact zeros.
pub fn largest_of_order(
    coefficients: &[Coefficient],
    order: usize,
    nonzero: bool,
) -> Vec<&Coefficient> {
    let mut rows: Vec<&Coefficient> = coefficients
        .iter()
        .filter(|c| c.index.len() == order && (!nonzero || c.value != 0.0))
        .collect();
    rows.sort_by(|a, b| b.value.abs().total_cmp(&a.value.abs()));
    rows
}

/// A text table: per output and order, the coefficients largest first, at most `max_rows` each.
pub fn taylor_text(t: &TaylorSeries, max_rows: usize) -> String {
    let mut s = format!(
        "model {}: Taylor coefficients c_α = ∂^α y/α! to order {} at x0 = {}\n",
        t.model,
        t.order,
        fmt_point(&t.point)
    );
    for out in &t.outputs {
        for n in 0..=t.order {
            let rows = largest_of_order(&out.coefficients, n, false);
            let total = rows.len();
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
pub fn taylor_latex(t: &TaylorSeries, max_terms: usize) -> String {
    let mut s = String::new();
    for out in &t.outputs {
        s += "\\begin{align*}\n";
        s += &format!("{}(x_0 + x) &= ", out.name);
        let mut first = true;
        for n in 0..=t.order {
            let rows = largest_of_order(&out.coefficients, n, true);
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
