//! The one notation of everything a person reads: inputs x1…xd and outputs y1…ym numbered
//! from 1 (JSON keeps 0-based indices, the schema's). Every renderer — text, LaTeX, diagrams,
//! claims — names inputs and outputs through these functions.

/// Output names: `y` for one output, `y0`, `y1`, … otherwise.
pub fn output_name(o: usize, outputs: usize) -> String {
    if outputs == 1 {
        "y".into()
    } else {
        format!("y{o}")
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
