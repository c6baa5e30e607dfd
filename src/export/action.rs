//! Renderings of the INN action ([`crate::numeric::action_series::ActionSeries`]): a text table
//! with diagnostics, the JSON schema of `feynn taylor` with the conventions, LaTeX, and a SymPy
//! script.

use super::{monomial_text, taylor_latex, TaylorSeries};
use crate::error::{Error, Result};
use crate::numeric::action_series::{ActionSeries, TensorConvention};

/// The JSON of `feynn action --format json`.
pub fn action_json(act: &ActionSeries) -> String {
    serde_json::to_string(act).unwrap() + "\n"
}

fn monomial_only(act: &ActionSeries, what: &str) -> Result<()> {
    if act.tensor != TensorConvention::Monomial {
        return Err(Error::invalid(
            format!("--format {what} writes the polynomial S(x0+δ), in monomial coefficients"),
            "drop --tensor (tensor conventions are for text and json output)",
        ));
    }
    Ok(())
}

/// LaTeX of the polynomial S(x0+δ) (monomial coefficients only).
pub fn action_latex(act: &ActionSeries) -> Result<String> {
    monomial_only(act, "latex")?;
    Ok(format!(
        "% {}\n{}",
        act.convention.text(),
        taylor_latex(&act.series, 24)
    ))
}

/// A SymPy script defining S as a polynomial in d0, d1, … (δ = x − x0; monomial coefficients only).
pub fn action_sympy(act: &ActionSeries) -> Result<String> {
    monomial_only(act, "sympy")?;
    Ok(sympy_script(&act.series, act.convention.text()))
}

/// The text table of the action: per order the largest coefficients (at most `max_rows`), then
/// the diagnostics.
pub fn action_text(act: &ActionSeries, max_rows: usize) -> String {
    let t = &act.series;
    let d = &act.diagnostics;
    let convention = act.convention.text();
    let what = match act.tensor {
        TensorConvention::Monomial => "monomial coefficients of S(x0+δ)",
        TensorConvention::A => "A^(k) at sorted indices, S = Σ A^(k) δ^k",
        TensorConvention::S => "S^(k) = k! A^(k) = ∂^k S(x0) at sorted indices",
    };
    let mut s = format!(
        "inn {}: action {convention} to order {} at x0 = {:?} — {what}{}\n",
        t.model,
        t.order,
        t.point,
        if !act.logdet {
            " (log-det left out)"
        } else {
            ""
        }
    );
    let rows = &t.outputs[0].coefficients;
    for k in 0..=t.order {
        let r = super::largest_of_order(rows, k, false);
        let total = r.len();
        s += &format!(
            "order {k} ({total} coefficient{}):\n",
            if total == 1 { "" } else { "s" }
        );
        for c in r.iter().take(max_rows) {
            let label = match act.tensor {
                TensorConvention::Monomial => monomial_text(&c.index),
                _ => format!("{:?}", c.index),
            };
            match &c.expr {
                Some(e) => s += &format!("  {label:>24}  {:+.12e}  = {e}\n", c.value),
                None => s += &format!("  {label:>24}  {:+.12e}\n", c.value),
            }
        }
        if total > max_rows {
            s += &format!("  … {} more (all with --format json)\n", total - max_rows);
        }
    }
    s += "diagnostics:\n";
    s += &format!(
        "  min φ'(h0) per layer (branch: > 0): {}\n",
        fmt_list(&d.slope_at_point)
    );
    s += &format!(
        "  log-det series radius in h per layer: {}; in x ≈ {:.4}\n",
        fmt_list(&d.logdet_radius_h),
        d.logdet_radius_x
    );
    if let Some(m) = d.top_order_min {
        s += &format!(
            "  top order: min A^({0})·u^{0} over sampled unit u = {m:.4e} ({1})\n",
            t.order,
            if m > 0.0 {
                "positive: normalisable"
            } else {
                "NOT positive"
            }
        );
    }
    if let Some(db) = &d.data {
        s += &format!(
            "  data: {} points, {} outside the branch; min φ'(h) per layer {}\n",
            db.points,
            db.outside,
            fmt_list(&db.min_slope)
        );
    }
    s
}

fn fmt_list(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.4}")).collect();
    format!("[{}]", parts.join(", "))
}

/// A SymPy script defining S as a polynomial in d0, d1, … (δ = x − x0).
fn sympy_script(t: &TaylorSeries, convention: &str) -> String {
    let n = t.inputs;
    let names: Vec<String> = (0..n).map(|i| format!("d{i}")).collect();
    let mut s = format!(
        "# inn {}: action {convention} to order {} at x0 = {:?}; d_i = x_i - x0_i\nfrom sympy import *\n{} = symbols('{}')\nS = (",
        t.model,
        t.order,
        t.point,
        names.join(", ") + if n == 1 { "," } else { "" },
        names.join(" ")
    );
    let mut first = true;
    for c in &t.outputs[0].coefficients {
        let coef = match &c.expr {
            Some(e) if c.index.is_empty() => format!("sympify('{e}')"),
            Some(e) => format!("Rational({})", e.replace('/', ", ")),
            None => format!("{:e}", c.value),
        };
        if c.expr.is_none() && c.value == 0.0 {
            continue;
        }
        if c.expr.as_deref() == Some("0") {
            continue;
        }
        let mono: Vec<String> = {
            let mut v = Vec::new();
            let mut i = 0;
            while i < c.index.len() {
                let mut j = i;
                while j < c.index.len() && c.index[j] == c.index[i] {
                    j += 1;
                }
                let nm = &names[c.index[i] as usize];
                v.push(if j - i == 1 {
                    nm.clone()
                } else {
                    format!("{nm}**{}", j - i)
                });
                i = j;
            }
            v
        };
        let term = if mono.is_empty() {
            format!("({coef})")
        } else {
            format!("({coef})*{}", mono.join("*"))
        };
        s += &format!("{}{term}", if first { "" } else { "\n     + " });
        first = false;
    }
    if first {
        s += "0";
    }
    s += ")\n";
    s
}
