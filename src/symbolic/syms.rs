//! Symbols of the closed forms and how they print in each style (Symbolica thread only).
//!
//! Names (text and SymPy): the weight W^(l)[i,j] of a layer whose weight is called `W2` is
//! `W2_i_j` (1-based row i, column j), the bias b^(l)[i] is `b2_i`, a coordinate of a nonzero
//! expansion point is `p_i` (1-based). Activation values are function calls on the
//! pre-activation at x0: `tanh(b1_1)`, `sigmoid(...)`, `softplus(...)`; the generic σ of layer l
//! stays a function `dsigma(l, k, u)` = σ_l^(k)(u). Mathematica gets `W2[i,j]`, `b2[i]`,
//! `p[i]`, `Derivative[k][sigma2][u]`, `LogisticSigmoid[u]`; LaTeX gets `W^{(2)}_{i,j}`,
//! `\sigma_{2}''(u)`.

use std::cell::RefCell;
use std::collections::HashMap;

use symbolica::atom::{AtomCore, AtomView, Symbol};
use symbolica::printer::{PrintOptions, PrintState};
use symbolica::symbol;

/// The internal variable of activation templates: f^(k) is stored as an expression in `z`.
pub const Z: &str = "feynn_z";

thread_local! {
    static PARAMS: RefCell<HashMap<String, Symbol>> = RefCell::new(HashMap::new());
    /// Mathematica spelling of each parameter symbol: `W2[1,3]`.
    static MMA: RefCell<HashMap<Symbol, String>> = RefCell::new(HashMap::new());
}

/// The Mathematica name of a parameter symbol (`W2_1_3` → `W2[1,3]`).
pub fn mathematica_name(s: Symbol) -> Option<String> {
    MMA.with(|m| m.borrow().get(&s).cloned())
}

/// Symbols with custom printing, defined once on the Symbolica thread before any parsing.
pub struct Special {
    /// The logistic sigmoid.
    pub sigmoid: Symbol,
    /// softplus.
    pub softplus: Symbol,
    /// dsigma(l, k, u): the k-th derivative of the generic σ of layer l.
    pub dsigma: Symbol,
    /// The activation variable z.
    pub z: Symbol,
}

thread_local! {
    static SPECIAL: Special = define_special();
}

/// Run `f` with the special symbols (defining them on first use).
pub fn special<R>(f: impl FnOnce(&Special) -> R) -> R {
    SPECIAL.with(f)
}

fn arg_string(a: AtomView<'_>, i: usize, opt: &PrintOptions) -> Option<String> {
    let AtomView::Fun(f) = a else { return None };
    (i < f.get_nargs()).then(|| {
        let mut s = String::new();
        let _ = f.get(i).format(&mut s, opt, PrintState::new());
        s
    })
}

fn small_int(a: AtomView<'_>, i: usize) -> Option<usize> {
    let AtomView::Fun(f) = a else { return None };
    if i >= f.get_nargs() {
        return None;
    }
    f.get(i).to_owned().to_canonical_string().parse().ok()
}

fn primes_latex(k: usize) -> String {
    match k {
        0 => String::new(),
        1 => "'".into(),
        2 => "''".into(),
        3 => "'''".into(),
        k => format!("^{{({k})}}"),
    }
}

fn define_special() -> Special {
    let sigmoid = symbol!(
        "sigmoid",
        print = |a, opt, _s| {
            let u = arg_string(a, 0, opt)?;
            opt.mode
                .is_latex()
                .then(|| format!("{{\\operatorname{{sigmoid}}\\!\\left({u}\\right)}}"))
        }
    );
    let softplus = symbol!(
        "softplus",
        print = |a, opt, _s| {
            let u = arg_string(a, 0, opt)?;
            opt.mode
                .is_latex()
                .then(|| format!("{{\\operatorname{{softplus}}\\!\\left({u}\\right)}}"))
        }
    );
    // dsigma(l, k, u) = σ_l^(k)(u)
    let dsigma = symbol!(
        "dsigma",
        print = |a, opt, _s| {
            let l = small_int(a, 0)?;
            let k = small_int(a, 1)?;
            let u = arg_string(a, 2, opt)?;
            opt.mode.is_latex().then(|| {
                format!(
                    "{{\\sigma_{{{l}}}{}\\!\\left({u}\\right)}}",
                    primes_latex(k)
                )
            })
        }
    );
    let z = symbol!(Z);
    Special {
        sigmoid,
        softplus,
        dsigma,
        z,
    }
}

/// How a parameter symbol prints outside text/SymPy.
#[derive(Clone)]
struct ParamPrint {
    /// `W^{(2)}` (LaTeX base)
    latex: String,
    indices: Vec<usize>,
}

fn sanitise_mma(base: &str) -> String {
    let s: String = base.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    match s.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => s,
        _ => format!("p{s}"),
    }
}

fn latex_base(base: &str) -> String {
    let letters = base.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &base[letters.len()..];
    let letters = if letters.is_empty() { base } else { letters };
    let name = if letters.chars().count() == 1 {
        letters.to_string()
    } else {
        format!("\\mathrm{{{}}}", letters.replace('_', "\\_"))
    };
    if digits.is_empty() || letters == base {
        name
    } else {
        format!("{name}^{{({digits})}}")
    }
}

/// The symbol `{base}_{i}_{j}…` (indices 1-based), created on first use.
pub fn param(base: &str, indices: &[usize]) -> Symbol {
    let name = std::iter::once(base.to_string())
        .chain(indices.iter().map(|i| i.to_string()))
        .collect::<Vec<_>>()
        .join("_");
    PARAMS.with(|p| {
        if let Some(s) = p.borrow().get(&name) {
            return *s;
        }
        let pp = ParamPrint {
            latex: latex_base(base),
            indices: indices.to_vec(),
        };
        let s = symbol!(
            &name,
            print = move |_a, opt, _s| {
                let idx = pp
                    .indices
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                opt.mode
                    .is_latex()
                    .then(|| format!("{{{}_{{{idx}}}}}", pp.latex))
            }
        );
        let idx = indices
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        MMA.with(|m| {
            m.borrow_mut()
                .insert(s, format!("{}[{idx}]", sanitise_mma(base)))
        });
        p.borrow_mut().insert(name, s);
        s
    })
}

/// A plain internal symbol (never printed in results), e.g. the displacement h_i.
pub fn internal(name: &str) -> Symbol {
    symbol!(name)
}
