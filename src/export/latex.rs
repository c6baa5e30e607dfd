//! A complete LaTeX document (or a fragment): the model, its Feynman rules, every diagram up to
//! the order in TikZ, each Taylor term as the sum of its diagrams, and (with weights) the numbers.
//! It needs only amsmath, amssymb, geometry and tikz (Debian: texlive-latex-base,
//! texlive-latex-recommended, texlive-pictures).

use super::diagrams::{index_term, tikz};
use super::{latex_number, monomial_latex, TaylorSeries};
use crate::diagrams::{unlabelled, unlabelled_counts};
use crate::dsl::Width;
use crate::error::{Error, Result};
use crate::model::{Activation, Model};

/// Most topologies one order may list in a document.
pub const MAX_TOPOLOGIES: u64 = 400;

fn width_tex(w: &Width) -> String {
    match w {
        Width::Fixed(n) => n.to_string(),
        Width::Symbol(s) => s.clone(),
    }
}

fn tex_escape(s: &str) -> String {
    s.replace('\\', "\\textbackslash{}")
        .replace('_', "\\_")
        .replace('&', "\\&")
        .replace('%', "\\%")
        .replace('#', "\\#")
        .replace('$', "\\$")
        .replace('{', "\\{")
        .replace('}', "\\}")
}

fn param_tex(name: &str) -> String {
    // W1 → W^{(1)}-like readable symbols: keep the user's name, subscript trailing digits.
    let split = name
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(name.len());
    let (b, d) = name.split_at(split);
    let b = if b.len() > 1 {
        format!("\\mathrm{{{}}}", b.replace('_', "\\_"))
    } else {
        b.to_string()
    };
    if d.is_empty() {
        b
    } else {
        format!("{b}^{{({d})}}")
    }
}

fn activation_tex(a: &Activation) -> String {
    match a {
        Activation::Builtin(b) => match b.name() {
            "tanh" => "\\tanh".into(),
            "identity" => "\\mathrm{id}".into(),
            n => format!("\\operatorname{{{n}}}"),
        },
        Activation::Sigma => "\\sigma".into(),
        Activation::Custom { name, .. } => {
            format!("\\operatorname{{{}}}", name.replace('_', "\\_"))
        }
    }
}

fn closed_form_tex(a: &Activation, k: usize) -> Option<String> {
    let s = a.derivative_closed_form(k)?;
    let e = crate::dsl::parse_spec("<closed form>", &format!("let f = {s}"))
        .ok()?
        .lets
        .remove(0)
        .value;
    Some(e.latex())
}

/// Expanded closed forms of the coefficients, already in LaTeX (computed by the `symbolic`
/// module, which this one does not depend on).
#[derive(Debug, Clone, PartialEq)]
pub struct ExpandedTex {
    /// n_0 .. n_L the forms were expanded at.
    pub widths: Vec<usize>,
    /// Per output: its name and (multi-index, LaTeX) for every coefficient.
    pub outputs: Vec<(String, Vec<(Vec<u32>, String)>)>,
}

/// What a document holds besides the model, the rules and the diagrams.
#[derive(Debug, Clone, Copy, Default)]
pub struct Contents<'a> {
    /// Numeric coefficients of trained weights.
    pub numbers: Option<&'a TaylorSeries>,
    /// Expanded closed forms.
    pub expanded: Option<&'a ExpandedTex>,
    /// Rows per order in the tables of numbers.
    pub max_rows: usize,
}

/// Source characters per displayed line before a long sum is broken.
const LINE_CHARS: usize = 150;

/// Split a LaTeX sum at its top-level `+`/`-` signs (outside braces, parentheses and brackets,
/// which also covers `\left(`…`\right)`).
pub fn top_level_terms(tex: &str) -> Vec<String> {
    let mut terms = vec![];
    let mut cur = String::new();
    let mut depth = 0i32;
    for c in tex.chars() {
        match c {
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            '+' | '-' if depth == 0 && !cur.trim().is_empty() => {
                terms.push(cur.trim().to_string());
                cur.clear();
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        terms.push(cur.trim().to_string());
    }
    terms
}

/// `lhs &= t1 + t2 \\ &\quad + t3 …`: a long sum broken into lines for an align* block.
pub fn broken_equation(lhs: &str, tex: &str) -> String {
    let mut s = format!("{lhs} &= ");
    let mut line = 0;
    for (i, t) in top_level_terms(tex).iter().enumerate() {
        if i > 0 && line + t.len() > LINE_CHARS {
            s += "\\\\\n&\\quad ";
            line = 0;
        }
        if i > 0 && !t.starts_with('-') && !t.starts_with('+') {
            s += "+ ";
        }
        s += t;
        s += " ";
        line += t.len();
    }
    s
}

/// The document body: model, rules, diagrams, coefficients.
pub fn body(model: &Model, order: usize, contents: &Contents) -> Result<String> {
    let (numbers, max_rows) = (contents.numbers, contents.max_rows);
    let h = model.hidden_layers();
    let l = model.layers.len();
    let out_act = model.output_activation().is_some();
    crate::diagrams::count::counts_budget(order, h, crate::budget::DEFAULT_MEMORY_LIMIT)?;
    let counts = unlabelled_counts(order, h, out_act);
    for n in 1..=order {
        let c = &counts[n];
        if *c > num_bigint::BigUint::from(MAX_TOPOLOGIES) {
            return Err(Error::TooLarge {
                what: format!("a document with every diagram of order {n}"),
                predicted: format!("{c} topologies"),
                limit: format!("{MAX_TOPOLOGIES} per order"),
                help: "lower --order".into(),
            });
        }
    }
    let widths = model.widths();
    let mut s = String::new();
    s += &format!(
        "\\section{{The model \\texttt{{{}}}}}\n",
        tex_escape(&model.name)
    );
    s += &format!(
        "An MLP with input $x\\in\\mathbb{{R}}^{{{}}}$, {h} hidden layer{} and {} output{}:\n\\begin{{align*}}\na^{{(0)}} &= x,\\\\\n",
        width_tex(&widths[0]),
        if h == 1 { "" } else { "s" },
        width_tex(&widths[l]),
        if widths[l] == Width::Fixed(1) { "" } else { "s" }
    );
    for (i, layer) in model.layers.iter().enumerate() {
        let k = i + 1;
        s += &format!(
            "z^{{({k})}} &= {} \\, a^{{({})}} + {}, \\qquad {} \\in \\mathbb{{R}}^{{{}\\times {}}},\\\\\n",
            param_tex(&layer.weight),
            k - 1,
            param_tex(&layer.bias),
            param_tex(&layer.weight),
            width_tex(&widths[k]),
            width_tex(&widths[k - 1])
        );
        match &layer.activation {
            Some(a) if k < l => s += &format!("a^{{({k})}} &= \\sigma_{{{k}}}\\big(z^{{({k})}}\\big), \\qquad \\sigma_{{{k}}} = {},\\\\\n", activation_tex(a)),
            Some(a) => s += &format!("y &= \\sigma_{{{k}}}\\big(z^{{({k})}}\\big), \\qquad \\sigma_{{{k}}} = {}.\n", activation_tex(a)),
            None => s += &format!("y &= z^{{({k})}}.\n"),
        }
    }
    s += "\\end{align*}\n";
    let customs: Vec<(usize, &Activation)> = model
        .layers
        .iter()
        .enumerate()
        .filter_map(|(i, la)| la.activation.as_ref().map(|a| (i + 1, a)))
        .filter(|(_, a)| matches!(a, Activation::Custom { .. }))
        .collect();
    if !customs.is_empty() {
        s += "with the user-defined activations\n\\begin{align*}\n";
        for (k, a) in &customs {
            if let Activation::Custom { body, .. } = a {
                s += &format!("\\sigma_{{{k}}}(z) &= {}\\\\\n", body.latex());
            }
        }
        s += "\\end{align*}\n";
    }

    s += "\\section{Feynman rules}\n";
    s += "\\paragraph{Propagators.} For $0\\le m<l\\le L$ the propagator is the dressed Jacobian $D^{(l,m)} = \\partial z^{(l)}/\\partial a^{(m)}$:\n\\begin{align*}\nD^{(m+1,m)} &= W^{(m+1)}, & D^{(l,m)} &= W^{(l)}\\,\\operatorname{diag}\\big(\\sigma_{l-1}'(z^{(l-1)})\\big)\\,D^{(l-1,m)} \\quad (l\\ge m+2),\n\\end{align*}\n";
    s += &format!("here with $L = {l}$ and $W^{{(l)}}$ the weight of layer $l$. $D^{{(m,0)}}$ is an external leg, $D^{{({l},m)}}$ the line into the output.\n");
    s += "\\paragraph{Vertices.} A vertex on neuron $j$ of hidden layer $m$ with $k\\ge 2$ incoming lines is $\\sigma_m^{(k)}\\big(z^{(m)}_j\\big)$";
    if out_act {
        s += &format!("; the output activation makes the output a vertex too, $\\sigma_{{{l}}}^{{(k)}}\\big(z^{{({l})}}\\big)$ with $k\\ge1$");
    }
    s += ".\n";
    let mut forms = String::new();
    for (i, layer) in model.layers.iter().enumerate() {
        if let Some(a) = &layer.activation {
            for k in 1..=order.max(2) {
                if let Some(f) = closed_form_tex(a, k) {
                    forms += &format!("\\sigma_{{{}}}^{{({k})}}(z) &= {f}\\\\\n", i + 1);
                }
            }
        }
    }
    if !forms.is_empty() {
        s += &format!(
            "In closed form:\n\\begin{{align*}}\n{}\\end{{align*}}\n",
            forms.trim_end_matches("\\\\\n")
        );
    }
    s += "\\paragraph{The rule.} $\\partial^n y/\\partial x_{i_1}\\cdots\\partial x_{i_n}$ is the sum over rooted trees with $n$ labelled leaves, vertices of at least two children in hidden layers, every child strictly below its parent; the value is the product of the propagators on the lines and the vertex factors, summed over the neurons of the vertices. For the Taylor term, unlabelled topologies $T$ carry the symmetry factor $1/|\\mathrm{Aut}\\,T|$:\n\\[\n\\frac{1}{n!}\\,\\partial^n y[h,\\dots,h] = \\sum_T \\frac{1}{|\\mathrm{Aut}\\,T|}\\,\\mathrm{value}_T(h,\\dots,h), \\qquad \\big(D^{(m,0)}h\\big)_j = \\sum_i D^{(m,0)}_{j i} h_i .\n\\]\n";

    s += "\\section{Diagrams and Taylor terms}\n";
    s += "Diagrams are drawn layer by layer: inputs at the bottom, each vertex at its layer's height, the output on top; the symmetry factor stands beside each.\n";
    for n in 1..=order {
        let topos = unlabelled(n, h, out_act);
        s += &format!(
            "\\subsection*{{Order {n}: {} diagram{}}}\n",
            topos.len(),
            if topos.len() == 1 { "" } else { "s" }
        );
        s += "\\begin{center}\n";
        for (i, t) in topos.iter().enumerate() {
            let label = if num_traits::One::is_one(&t.automorphisms) {
                String::new()
            } else {
                format!("\\tfrac{{1}}{{{}}}", t.automorphisms)
            };
            s += &tikz(&t.tree, l, &label);
            s += if i % 4 == 3 {
                "\n\n\\medskip\n"
            } else {
                "\\quad\n"
            };
        }
        s += "\\end{center}\n";
        s += "\\begin{align*}\n";
        s += &format!("\\frac{{1}}{{{n}!}}\\,\\partial^{{{n}}} y[h,\\dots,h] ");
        for (i, t) in topos.iter().enumerate() {
            let parts = index_term(t, l, "o").latex_parts();
            s += if i == 0 { "&= " } else { "\\\\\n&\\quad + " };
            for (k, p) in parts.iter().enumerate() {
                if k > 0 && k % 4 == 0 {
                    s += "\\\\\n&\\qquad\\quad ";
                }
                s += p;
                s += "\\, ";
            }
        }
        s += "\n\\end{align*}\n";
    }

    if let Some(e) = contents.expanded {
        s += "\\section{Expanded closed forms}\n";
        s += &format!(
            "Every coefficient $c_\\alpha = \\partial^\\alpha y(x_0)/\\alpha!$ written out in the weights and biases (widths ${}$; $W^{{(l)}}_{{i,j}}$ row $i$, column $j$), expanded by Symbolica.\n",
            e.widths.iter().map(|w| w.to_string()).collect::<Vec<_>>().join("\\text{-}")
        );
        for (name, coeffs) in &e.outputs {
            s += &format!("\\subsection*{{Output ${name}$}}\n\\begin{{align*}}\n");
            let eqs: Vec<String> = coeffs
                .iter()
                .map(|(idx, tex)| {
                    let mono = if idx.is_empty() {
                        "1".to_string()
                    } else {
                        monomial_latex(idx)
                    };
                    broken_equation(&format!("c_{{{mono}}}"), tex)
                })
                .collect();
            s += &eqs.join("\\\\\n");
            s += "\n\\end{align*}\n";
        }
    }

    if let Some(t) = numbers {
        s += "\\section{Numeric coefficients}\n";
        s += &format!("Taylor coefficients $c_\\alpha = \\partial^\\alpha y(x_0)/\\alpha!$ of the trained weights at $x_0 = {}$, largest first.\n", if t.point.iter().all(|&v| v == 0.0) { "0".to_string() } else { "(\\dots)".to_string() });
        for out in &t.outputs {
            for n in 0..=t.order {
                let rows = super::largest_of_order(&out.coefficients, n, false);
                let total = rows.len();
                s += &format!("\\paragraph{{${}$, order {n}}} ({total} coefficient{})\n\\begin{{center}}\\begin{{tabular}}{{lr}}\n\\hline monomial & $c_\\alpha$\\\\ \\hline\n", out.name, if total == 1 { "" } else { "s" });
                for c in rows.iter().take(max_rows) {
                    s += &format!(
                        "${}$ & ${}{}$\\\\\n",
                        monomial_latex(&c.index),
                        if c.value < 0.0 { "-" } else { "" },
                        latex_number(c.value.abs())
                    );
                }
                if total > max_rows {
                    s += &format!(
                        "\\multicolumn{{2}}{{c}}{{\\dots\\ {} more}}\\\\\n",
                        total - max_rows
                    );
                }
                s += "\\hline\\end{tabular}\\end{center}\n";
            }
        }
    }
    Ok(s)
}

/// A self-contained document around [`body`].
pub fn document(model: &Model, order: usize, contents: &Contents) -> Result<String> {
    let b = body(model, order, contents)?;
    Ok(format!(
        "\\documentclass[11pt]{{article}}\n\\usepackage[margin=2cm]{{geometry}}\n\\usepackage{{amsmath,amssymb}}\n\\usepackage{{tikz}}\n\\allowdisplaybreaks\n\\title{{Feynman rules and Taylor coefficients of \\texttt{{{}}}}}\n\\author{{written by feynn}}\n\\date{{}}\n\\begin{{document}}\n\\maketitle\n{b}\\end{{document}}\n",
        tex_escape(&model.name)
    ))
}
