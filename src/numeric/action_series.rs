//! The action of an invertible network as a result: its coefficients in the requested sign and
//! tensor convention (floating point or exact rationals), with the branch and convergence
//! diagnostics — what `feynn action` prints; [`crate::export::action`] renders it.

use std::path::PathBuf;

use num_rational::BigRational;
use serde::Serialize;

use super::action::{action, multinomial, Action, ActionOptions};
use super::inn_checks::{diagnose, Diagnostics};
use super::series::{Coefficient, OutputCoefficients, TaylorSeries};
use crate::error::{Error, Result};
use crate::model::inn::{Inn, InnSpec, Scalar};
use crate::model::weights::TensorStore;

/// Which sign the action carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Convention {
    /// S = −ln p (p ∝ e^{−S}; feynn's convention).
    Minus,
    /// S = +ln p (p ∝ e^{S}; used in parts of the literature).
    Plus,
}

impl Convention {
    /// `S=-ln p` or `S=+ln p`.
    pub fn text(self) -> &'static str {
        match self {
            Convention::Minus => "S=-ln p",
            Convention::Plus => "S=+ln p",
        }
    }
}

/// How coefficients are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TensorConvention {
    /// Monomial coefficients of S(x0+δ) (the `feynn taylor` convention).
    Monomial,
    /// A^(k) at sorted indices: S = Σ_k A^(k)_{i1…ik} δ_{i1}⋯δ_{ik} (no 1/k!).
    A,
    /// S^(k) = k! A^(k) = ∂^k S(x0).
    S,
}

impl TensorConvention {
    /// `monomial`, `a` or `s` (the JSON field).
    pub fn name(self) -> &'static str {
        match self {
            TensorConvention::Monomial => "monomial",
            TensorConvention::A => "a",
            TensorConvention::S => "s",
        }
    }
}

/// What to compute.
#[derive(Debug, Clone)]
pub struct ActionRequest {
    /// Truncation order K.
    pub order: usize,
    /// Expansion point as text (comma-separated; with `exact`, decimals or fractions);
    /// `None` is the origin.
    pub at: Option<String>,
    /// The sign convention.
    pub convention: Convention,
    /// The coefficient convention.
    pub tensor: TensorConvention,
    /// Exact rational arithmetic.
    pub exact: bool,
    /// Include the log-det series (false: ½|f(x)|² only, a check).
    pub logdet: bool,
    /// Data points on which to check the invertible branch.
    pub data: Option<PathBuf>,
    /// Refuse requests predicted to need more memory than this many bytes.
    pub memory_limit: f64,
}

/// The action to order K at a point, with diagnostics.
#[derive(Debug, Clone, Serialize)]
pub struct ActionSeries {
    /// The coefficients (one output, `S`).
    #[serde(flatten)]
    pub series: TaylorSeries,
    /// `S=-ln p` or `S=+ln p`.
    #[serde(serialize_with = "convention_text")]
    pub convention: Convention,
    /// The coefficient convention.
    #[serde(serialize_with = "tensor_name")]
    pub tensor: TensorConvention,
    /// Whether the log-det series is included.
    pub logdet: bool,
    /// Whether the coefficients are exact rationals (then each carries `expr`).
    pub exact: bool,
    /// Branch and convergence diagnostics.
    pub diagnostics: Diagnostics,
}

fn convention_text<S: serde::Serializer>(
    c: &Convention,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(c.text())
}

fn tensor_name<S: serde::Serializer>(
    t: &TensorConvention,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(t.name())
}

/// The action of `spec` (parameters from `store` where the spec has no `param` line).
pub fn action_series(
    spec: &InnSpec,
    store: Option<&TensorStore>,
    req: &ActionRequest,
) -> Result<ActionSeries> {
    let inn: Inn<f64> = spec.resolve(store)?;
    let x0 = crate::points::parse_point(req.at.as_deref(), inn.n)?;
    let opts = ActionOptions {
        order: req.order,
        logdet: req.logdet,
        memory_limit: req.memory_limit,
        keep_stages: false,
    };
    let fl = action(&inn, &x0, &opts)?;
    let data = match &req.data {
        Some(p) => Some(crate::points::read_data(p, inn.n)?),
        None => None,
    };
    let mut diag = diagnose(&inn, &fl, data.as_deref());
    if !req.logdet {
        diag.warnings.insert(0, "--no-logdet: the result is ½|f(x)|² + const only, not −ln p (the Jacobian's log-det series is left out)".into());
    }
    let rows = if req.exact {
        let ie: Inn<BigRational> = spec.resolve(store)?;
        let x0e: Vec<BigRational> = exact_point(req.at.as_deref(), inn.n)?;
        let ex = action(&ie, &x0e, &opts)?;
        rows_of(&ex, req)
    } else {
        rows_of(&fl, req)
    };
    Ok(ActionSeries {
        series: TaylorSeries {
            model: spec.name.clone(),
            order: req.order,
            point: x0,
            inputs: inn.n,
            outputs: vec![OutputCoefficients {
                name: "S".into(),
                coefficients: rows,
            }],
            symbols: None,
        },
        convention: req.convention,
        tensor: req.tensor,
        logdet: req.logdet,
        exact: req.exact,
        diagnostics: diag,
    })
}

/// The expansion point in exact rationals: decimals or fractions, one per dimension or one for all.
pub fn exact_point(at: Option<&str>, n: usize) -> Result<Vec<BigRational>> {
    let Some(s) = at else {
        return Ok(vec![BigRational::from_integer(0.into()); n]);
    };
    let vals: Vec<BigRational> = s
        .split(',')
        .map(|v| {
            let t = v.trim();
            let (neg, body) = t.strip_prefix('-').map_or((false, t), |b| (true, b));
            let q = match body.split_once('/') {
                Some((p, q)) => crate::model::inn::parse_decimal(p)
                    .zip(crate::model::inn::parse_decimal(q))
                    .filter(|(_, q)| *q != BigRational::from_integer(0.into()))
                    .map(|(p, q)| p / q),
                None => crate::model::inn::parse_decimal(body),
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
fn rows_of<T: Scalar>(act: &Action<T>, req: &ActionRequest) -> Vec<Coefficient> {
    let sign = if req.convention == Convention::Plus {
        -1
    } else {
        1
    };
    let exact = std::any::TypeId::of::<T>() == std::any::TypeId::of::<BigRational>();
    act.monomials()
        .into_iter()
        .map(|idx| {
            let k = idx.len();
            // k! in T: no integer overflow at high orders
            let factor: T = match req.tensor {
                TensorConvention::Monomial => T::from_int(multinomial(&idx) as i64),
                TensorConvention::A => T::one(),
                TensorConvention::S => (1..=k as i64).fold(T::one(), |f, j| f * T::from_int(j)),
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
