//! `feynn action`: the action S = −ln p of an invertible network to order K, from its weights.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use feynn::export::{monomial_text, taylor_latex, Coefficient, OutputCoefficients, TaylorJson};
use feynn::model::inn::{load_inn, Inn, InnSpec, Scalar};
use feynn::model::weights::TensorStore;
use feynn::numeric::action::{action, multinomial, Action, ActionOptions};
use feynn::numeric::inn_checks::{diagnose, Diagnostics};
use feynn::{Error, Result};
use num_rational::BigRational;
use serde::Serialize;

use super::OutArg;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Format {
    Text,
    Json,
    Latex,
    Sympy,
}

/// How coefficients are reported.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Tensor {
    /// Monomial coefficients of S(x0+δ) (the `feynn taylor` convention).
    Monomial,
    /// A^(k) at sorted indices: S = Σ_k A^(k)_{i1…ik} δ_{i1}⋯δ_{ik} (no 1/k!).
    A,
    /// S^(k) = k! A^(k) = ∂^k S(x0): S = Σ_k (1/k!) S^(k) δ^k.
    S,
}

/// Which sign the action carries.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Sign {
    /// S = −ln p (p ∝ e^{−S}; feynn's convention).
    Minus,
    /// S = +ln p (p ∝ e^{S}; used in parts of the literature).
    Plus,
}

#[derive(clap::Args)]
pub struct Args {
    /// The spec (.fnn) with an `inn` model.
    pub spec: PathBuf,
    /// Which inn model of the file (default: the first).
    #[arg(long)]
    pub model: Option<String>,
    /// Weights (.safetensors, .npz, .json: `{l}.weight`, `{l}.bias`, `{l}.alpha`); default: the
    /// spec's `weights` line. Not needed when every parameter has a `param` line.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Truncation order K.
    #[arg(long, default_value_t = 4)]
    pub order: usize,
    /// Expansion point x0, comma-separated (default: the origin).
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Coefficient convention of text/json output.
    #[arg(long, value_enum, default_value = "monomial")]
    pub tensor: Tensor,
    /// Sign convention: S = −ln p (default) or S = +ln p.
    #[arg(long, value_enum, default_value = "minus")]
    pub sign: Sign,
    /// Exact rational arithmetic (parameters from `param` lines are exact; floats from a
    /// weights file are taken at their exact binary value; --at is read as decimals).
    #[arg(long)]
    pub exact: bool,
    /// Drop the log-det series: ½|f(x)|² only — not the log-density (a check, with a warning).
    #[arg(long)]
    pub no_logdet: bool,
    /// Data points (.csv, .npy, .npz) on which to check the invertible branch.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Exit with code 1 when a diagnostic warns.
    #[arg(long)]
    pub strict: bool,
    /// Closed forms in the parameters W, b, α (Symbolica; small N and few layers; text, latex
    /// or sympy). Parameters need no values.
    #[arg(long)]
    pub symbolic: bool,
    /// Rows per order in text output.
    #[arg(long, default_value_t = 12)]
    pub max_rows: usize,
    /// Refuse requests predicted to need more memory than this (bytes, or 8G, 512M, …).
    #[arg(long, default_value_t = feynn::numeric::DEFAULT_MEMORY_LIMIT, value_parser = feynn::budget::parse_bytes)]
    pub memory_limit: f64,
    #[command(flatten)]
    pub out: OutArg,
}

/// `feynn action --format json`: the `feynn taylor` schema plus the conventions and diagnostics.
#[derive(Serialize)]
pub struct ActionJson {
    #[serde(flatten)]
    pub taylor: TaylorJson,
    pub convention: String,
    pub tensor: String,
    pub logdet: bool,
    pub exact: bool,
    pub diagnostics: Diagnostics,
}

/// Load the spec and the weights file it needs (if any parameter lacks a `param` line).
pub(crate) fn load(
    spec: &Path,
    model: Option<&str>,
    weights: Option<&Path>,
) -> Result<(InnSpec, Option<TensorStore>)> {
    let m = load_inn(spec, model)?;
    let wpath = weights
        .map(Path::to_path_buf)
        .or_else(|| m.weights_file.clone());
    let store = match wpath {
        Some(p) => Some(TensorStore::load(&p)?),
        None => None,
    };
    Ok((m, store))
}

pub fn run(a: Args) -> Result<ExitCode> {
    if a.symbolic {
        return symbolic(&a);
    }
    let (spec, store) = load(&a.spec, a.model.as_deref(), a.weights.as_deref())?;
    let inn: Inn<f64> = spec.resolve(store.as_ref())?;
    let x0 = super::taylor::parse_point(a.at.as_deref(), inn.n)?;
    let opts = ActionOptions {
        order: a.order,
        logdet: !a.no_logdet,
        memory_limit: a.memory_limit,
        keep_stages: false,
    };
    let fl = action(&inn, &x0, &opts)?;
    let data = match &a.data {
        Some(p) => Some(super::sample::read_data(p, inn.n)?),
        None => None,
    };
    let mut diag = diagnose(&inn, &fl, data.as_deref());
    if a.no_logdet {
        diag.warnings.insert(0, "--no-logdet: the result is ½|f(x)|² + const only, not −ln p (the Jacobian's log-det series is left out)".into());
    }
    let rows = if a.exact {
        let ie: Inn<BigRational> = spec.resolve(store.as_ref())?;
        let x0e: Vec<BigRational> = exact_point(a.at.as_deref(), inn.n)?;
        let ex = action(&ie, &x0e, &opts)?;
        rows_of(&ex, &a)
    } else {
        rows_of(&fl, &a)
    };
    let convention = match a.sign {
        Sign::Minus => "S=-ln p",
        Sign::Plus => "S=+ln p",
    };
    let taylor = TaylorJson {
        model: spec.name.clone(),
        order: a.order,
        point: x0.clone(),
        inputs: inn.n,
        outputs: vec![OutputCoefficients {
            name: "S".into(),
            coefficients: rows,
        }],
        symbols: None,
    };
    let text = match a.format {
        Format::Json => {
            let j = ActionJson {
                taylor,
                convention: convention.into(),
                tensor: format!("{:?}", a.tensor).to_lowercase(),
                logdet: !a.no_logdet,
                exact: a.exact,
                diagnostics: diag.clone(),
            };
            serde_json::to_string(&j).unwrap() + "\n"
        }
        Format::Latex => {
            if a.tensor != Tensor::Monomial {
                return Err(Error::invalid(
                    "--format latex writes the polynomial S(x0+δ), in monomial coefficients",
                    "drop --tensor (tensor conventions are for text and json output)",
                ));
            }
            format!("% {convention}\n{}", taylor_latex(&taylor, 24))
        }
        Format::Sympy => {
            if a.tensor != Tensor::Monomial {
                return Err(Error::invalid(
                    "--format sympy writes the polynomial S(x0+δ), in monomial coefficients",
                    "drop --tensor (tensor conventions are for text and json output)",
                ));
            }
            sympy(&taylor, convention)
        }
        Format::Text => text_table(&taylor, &a, convention, &diag),
    };
    a.out.write(&text)?;
    for w in &diag.warnings {
        eprintln!("warning: {w}");
    }
    Ok(if a.strict && !diag.warnings.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn exact_point(at: Option<&str>, n: usize) -> Result<Vec<BigRational>> {
    let Some(s) = at else {
        return Ok(vec![BigRational::from_integer(0.into()); n]);
    };
    let vals: Vec<BigRational> = s
        .split(',')
        .map(|v| {
            let t = v.trim();
            let (neg, body) = t.strip_prefix('-').map_or((false, t), |b| (true, b));
            let q = match body.split_once('/') {
                Some((p, q)) => feynn::model::inn::parse_decimal(p)
                    .zip(feynn::model::inn::parse_decimal(q))
                    .filter(|(_, q)| *q != BigRational::from_integer(0.into()))
                    .map(|(p, q)| p / q),
                None => feynn::model::inn::parse_decimal(body),
            };
            q.map(|q| if neg { -q } else { q }).ok_or_else(|| {
                Error::invalid(
                    format!("--at: `{t}` is not an exact decimal or fraction"),
                    "with --exact write the point as decimals or fractions, e.g. --at 1/10,-0.25",
                )
            })
        })
        .collect::<Result<_>>()?;
    if vals.len() == 1 && n > 1 {
        return Ok(vec![vals[0].clone(); n]);
    }
    if vals.len() != n {
        return Err(Error::invalid(
            format!(
                "--at has {} values, the network dimension is {n}",
                vals.len()
            ),
            "give one value per dimension (or a single value for all)",
        ));
    }
    Ok(vals)
}

/// The coefficients in the requested convention; with exact arithmetic each carries its
/// rational value (SymPy syntax) in `expr`.
fn rows_of<T: Scalar>(act: &Action<T>, a: &Args) -> Vec<Coefficient> {
    let sign = if a.sign == Sign::Plus { -1 } else { 1 };
    let exact = std::any::TypeId::of::<T>() == std::any::TypeId::of::<BigRational>();
    act.monomials()
        .into_iter()
        .map(|idx| {
            let k = idx.len();
            // k! in T: no integer overflow at high orders
            let factor: T = match a.tensor {
                Tensor::Monomial => T::from_int(multinomial(&idx) as i64),
                Tensor::A => T::one(),
                Tensor::S => (1..=k as i64).fold(T::one(), |f, j| f * T::from_int(j)),
            };
            let v = act.entry(&idx).clone() * factor * T::from_int(sign);
            let (value, expr) = if k == 0 {
                let value = sign as f64 * act.a0();
                let expr = exact.then(|| constant_expr(act, sign));
                (value, expr)
            } else {
                (v.to_f64(), exact.then(|| v.show()))
            };
            Coefficient {
                index: idx,
                value,
                expr,
            }
        })
        .collect()
}

/// A^(0) in closed form: rational part + N/2 log(2π) − Σ log|arg| (SymPy `sympify` syntax).
fn constant_expr<T: Scalar>(act: &Action<T>, sign: i64) -> String {
    let mut s = act.tensors[0][0].show();
    s += &if act.n % 2 == 0 {
        format!(" + {}*log(2*pi)", act.n / 2)
    } else {
        format!(" + {}*log(2*pi)/2", act.n)
    };
    for arg in &act.log_args {
        let v = arg.abs();
        if v != T::one() {
            s += &format!(" - log({})", v.show());
        }
    }
    if sign < 0 {
        format!("-({s})")
    } else {
        s
    }
}

fn text_table(t: &TaylorJson, a: &Args, convention: &str, d: &Diagnostics) -> String {
    let what = match a.tensor {
        Tensor::Monomial => "monomial coefficients of S(x0+δ)",
        Tensor::A => "A^(k) at sorted indices, S = Σ A^(k) δ^k",
        Tensor::S => "S^(k) = k! A^(k) = ∂^k S(x0) at sorted indices",
    };
    let mut s = format!(
        "inn {}: action {convention} to order {} at x0 = {:?} — {what}{}\n",
        t.model,
        t.order,
        t.point,
        if a.no_logdet {
            " (log-det left out)"
        } else {
            ""
        }
    );
    let rows = &t.outputs[0].coefficients;
    for k in 0..=t.order {
        let mut r: Vec<&Coefficient> = rows.iter().filter(|c| c.index.len() == k).collect();
        let total = r.len();
        r.sort_by(|x, y| y.value.abs().total_cmp(&x.value.abs()));
        s += &format!(
            "order {k} ({total} coefficient{}):\n",
            if total == 1 { "" } else { "s" }
        );
        for c in r.iter().take(a.max_rows) {
            let label = match a.tensor {
                Tensor::Monomial => monomial_text(&c.index),
                _ => format!("{:?}", c.index),
            };
            match &c.expr {
                Some(e) => s += &format!("  {label:>24}  {:+.12e}  = {e}\n", c.value),
                None => s += &format!("  {label:>24}  {:+.12e}\n", c.value),
            }
        }
        if total > a.max_rows {
            s += &format!("  … {} more (all with --format json)\n", total - a.max_rows);
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
fn sympy(t: &TaylorJson, convention: &str) -> String {
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

/// `--symbolic`: the action's monomial coefficients in closed form.
#[cfg(feature = "symbolic")]
fn symbolic(a: &Args) -> Result<ExitCode> {
    use feynn::export::latex::broken_equation;
    use feynn::export::monomial_latex;
    use feynn::symbolic::{inn_closed_forms, Style};
    if a.tensor != Tensor::Monomial || a.exact || a.no_logdet || a.format == Format::Json {
        return Err(Error::invalid(
            "--symbolic writes the monomial coefficients of S(x0+δ) as text, latex or sympy",
            "drop --tensor/--exact/--no-logdet, and use --format text, latex or sympy",
        ));
    }
    let spec = load_inn(&a.spec, a.model.as_deref())?;
    let x0 = super::taylor::parse_point(a.at.as_deref(), spec.dim)?;
    let style = match a.format {
        Format::Latex => Style::Latex,
        Format::Sympy => Style::Sympy,
        _ => Style::Text,
    };
    let forms = inn_closed_forms(&spec, a.order, &x0, style)?;
    let (sign, convention) = match a.sign {
        Sign::Minus => ("", "S = -ln p"),
        Sign::Plus => ("-", "S = +ln p"),
    };
    let names: Vec<String> = spec
        .layers
        .iter()
        .map(|l| match l.phi {
            feynn::model::inn::Phi::Quad => {
                format!("{}_i_j, {}_i, {}_i", l.weight, l.bias, l.alpha)
            }
            feynn::model::inn::Phi::Cubic => {
                format!(
                    "{}_i_j, {}_i, {}_i, {}_i",
                    l.weight, l.bias, l.alpha, l.beta
                )
            }
            _ => format!("{}_i_j, {}_i", l.weight, l.bias),
        })
        .collect();
    let mut out = String::new();
    match a.format {
        Format::Latex => {
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
                a.order,
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
    a.out.write(&out)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "symbolic"))]
fn symbolic(_: &Args) -> Result<ExitCode> {
    Err(Error::invalid(
        "--symbolic needs Symbolica",
        "build feynn with the default feature `symbolic`",
    ))
}
