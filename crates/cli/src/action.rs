//! `feynn action`: the action S = −ln p of an invertible network to order K, from its weights.

use std::path::PathBuf;
use std::process::ExitCode;

#[cfg(feature = "symbolic")]
use feynn::model::inn::load_inn;
use feynn::{Error, Result};

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
    #[command(flatten)]
    pub m: crate::ModelArgs,
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

pub fn run(a: Args) -> Result<ExitCode> {
    use feynn::export::action as render;
    use feynn::numeric::action_series::{
        action_series, ActionRequest, Convention, TensorConvention,
    };
    if a.symbolic {
        return symbolic(&a);
    }
    let (spec, store) = feynn::model::inn::load_with_weights(
        &a.m.spec,
        a.m.model.as_deref(),
        a.m.weights.as_deref(),
    )?;
    let req = ActionRequest {
        order: a.order,
        at: a.at.clone(),
        convention: match a.sign {
            Sign::Minus => Convention::Minus,
            Sign::Plus => Convention::Plus,
        },
        tensor: match a.tensor {
            Tensor::Monomial => TensorConvention::Monomial,
            Tensor::A => TensorConvention::A,
            Tensor::S => TensorConvention::S,
        },
        exact: a.exact,
        logdet: !a.no_logdet,
        data: a.data.clone(),
        memory_limit: a.memory_limit,
    };
    let act = action_series(&spec, store.as_ref(), &req)?;
    let text = match a.format {
        Format::Json => render::action_json(&act),
        Format::Latex => render::action_latex(&act)?,
        Format::Sympy => render::action_sympy(&act)?,
        Format::Text => render::action_text(&act, a.max_rows),
    };
    a.out.write(&text)?;
    for w in &act.diagnostics.warnings {
        eprintln!("warning: {w}");
    }
    Ok(if a.strict && !act.diagnostics.warnings.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--symbolic`: the action's monomial coefficients in closed form.
#[cfg(feature = "symbolic")]
fn symbolic(a: &Args) -> Result<ExitCode> {
    use feynn::symbolic::{inn_closed_forms, Style};
    if a.tensor != Tensor::Monomial || a.exact || a.no_logdet || a.format == Format::Json {
        return Err(Error::invalid(
            "--symbolic writes the monomial coefficients of S(x0+δ) as text, latex or sympy",
            "drop --tensor/--exact/--no-logdet, and use --format text, latex or sympy",
        ));
    }
    let spec = load_inn(&a.m.spec, a.m.model.as_deref())?;
    let x0 = feynn::points::parse_point(a.at.as_deref(), spec.dim)?;
    let style = match a.format {
        Format::Latex => Style::Latex,
        Format::Sympy => Style::Sympy,
        _ => Style::Text,
    };
    let forms = inn_closed_forms(&spec, a.order, &x0, style)?;
    let convention = match a.sign {
        Sign::Minus => feynn::numeric::action_series::Convention::Minus,
        Sign::Plus => feynn::numeric::action_series::Convention::Plus,
    };
    let out = feynn::export::closed_form::inn_report(&spec, a.order, &forms, convention, style);
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
