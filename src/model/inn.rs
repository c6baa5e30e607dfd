//! Invertible networks (INNs) in the data → latent direction (theory note `inn-action.md` §3.1):
//!
//! ```text
//! h^l = W^l y^{l-1} + b^l   (W^l square),   y^l_i = φ_{l,i}(h^l_i),   y^0 = x,  z = y^L ~ N(0, I)
//! ```
//!
//! φ is a polynomial with φ'(0) ≠ 0: the default `quad` is h + α h² (α per layer or per neuron),
//! `linear` is h, and any user polynomial in h is allowed. Layers are numbered l = 0 … L−1 from the
//! data side, as the weights-file names `{l}.weight`, `{l}.bias`, `{l}.alpha`.
//!
//! [`InnSpec`] is the validated spec; [`InnSpec::resolve`] binds the parameters (inline `param`
//! values, exact, or a [`TensorStore`]) into an [`Inn`] over any [`Scalar`]: `f64`, or
//! [`BigRational`] for exact results.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use crate::dsl::{self, ActRef, Expr, SpecFile, Value, Width};
use crate::error::{Error, Result, SpecError};
use crate::model::weights::TensorStore;

/// Numbers the INN action can be computed in: `f64`, or `BigRational` (exact).
pub trait Scalar:
    Clone + Debug + PartialOrd + num_traits::Num + Signed + Send + Sync + 'static
{
    /// A value given exactly as a rational number.
    fn from_rational(r: &BigRational) -> Self;
    /// A float read from a weights file (exact for `BigRational`: its binary value).
    fn from_f64(v: f64) -> Option<Self>;
    /// The nearest `f64`.
    fn to_f64(&self) -> f64;
    /// An integer.
    fn from_int(n: i64) -> Self;
    /// Text for output: shortest round-trip float, or `p/q`.
    fn show(&self) -> String;
    /// Bits of an exact value (numerator and denominator); 0 for floats. For the work budget.
    fn bits(&self) -> u64 {
        0
    }
}

impl Scalar for f64 {
    fn from_rational(r: &BigRational) -> Self {
        ToPrimitive::to_f64(r).unwrap_or(f64::NAN)
    }
    fn from_f64(v: f64) -> Option<Self> {
        Some(v)
    }
    fn to_f64(&self) -> f64 {
        *self
    }
    fn from_int(n: i64) -> Self {
        n as f64
    }
    fn show(&self) -> String {
        format!("{self:e}")
    }
}

impl Scalar for BigRational {
    fn bits(&self) -> u64 {
        self.numer().bits() + self.denom().bits()
    }
    fn from_rational(r: &BigRational) -> Self {
        r.clone()
    }
    fn from_f64(v: f64) -> Option<Self> {
        BigRational::from_float(v)
    }
    fn to_f64(&self) -> f64 {
        ToPrimitive::to_f64(self).unwrap_or(f64::NAN)
    }
    fn from_int(n: i64) -> Self {
        BigRational::from_integer(BigInt::from(n))
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

/// A layer's nonlinearity.
#[derive(Debug, Clone, PartialEq)]
pub enum Phi {
    /// h + α h², α a parameter (per layer or per neuron).
    Quad,
    /// h + α h² + β h³, α and β parameters (per layer or per neuron). With β > 0 and α² < 3β,
    /// φ' > 0 everywhere: invertible on all of ℝ, no branch (`feynn theory learn --layer cubic`).
    Cubic,
    /// h (an affine layer).
    Linear,
    /// A user polynomial Σ_r a_r h^r (ascending, exact), the same for every neuron.
    Poly {
        /// Name of the user activation.
        name: String,
        /// Coefficients a_0, a_1, … (ascending powers of h).
        coeffs: Vec<BigRational>,
    },
}

/// One validated layer: nonlinearity, parameter names and their tensor names.
#[derive(Debug, Clone)]
pub struct InnLayerSpec {
    /// The nonlinearity φ.
    pub phi: Phi,
    /// Parameter names (default `W{l}`, `b{l}`, `alpha{l}`, `beta{l}`; `alpha` only used by
    /// `quad` and `cubic`, `beta` only by `cubic`).
    pub weight: String,
    /// Name of the bias vector b.
    pub bias: String,
    /// Name of the quadratic coefficient α.
    pub alpha: String,
    /// Name of the cubic coefficient β.
    pub beta: String,
    /// Tensor names in a weights file (default `{l}.weight`, `{l}.bias`, `{l}.alpha`,
    /// `{l}.beta`).
    pub weight_tensor: String,
    /// Tensor name of b.
    pub bias_tensor: String,
    /// Tensor name of α.
    pub alpha_tensor: String,
    /// Tensor name of β.
    pub beta_tensor: String,
}

/// An exact parameter value written in the spec (`param W0 = [[1, 1/2], [0, 1]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ExactTensor {
    /// Tensor shape (row-major).
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<BigRational>,
}

impl InnLayerSpec {
    /// Whether the layer has the parameter α (`quad`, `cubic`).
    pub fn uses_alpha(&self) -> bool {
        matches!(self.phi, Phi::Quad | Phi::Cubic)
    }
}

/// A validated `inn` model.
#[derive(Debug, Clone)]
pub struct InnSpec {
    /// Model name, as in the spec.
    pub name: String,
    /// Path of the spec file it was read from.
    pub path: String,
    /// Data dimension N (every layer is N → N).
    pub dim: usize,
    /// Layers in the data → latent order.
    pub layers: Vec<InnLayerSpec>,
    /// The weights file named in the spec, resolved against the spec's folder.
    pub weights_file: Option<PathBuf>,
    /// Parameter values given in the spec, by parameter name; they win over a weights file.
    pub inline: BTreeMap<String, ExactTensor>,
}

/// A network with bound parameters.
#[derive(Debug, Clone)]
pub struct Inn<T> {
    /// Model name.
    pub name: String,
    /// Dimension N of data and latent space.
    pub n: usize,
    /// Layers in the data → latent order.
    pub layers: Vec<InnLayer<T>>,
}

/// One layer with bound parameters: z = φ(W y + b), neuron-wise φ.
#[derive(Debug, Clone)]
pub struct InnLayer<T> {
    /// W row-major: `w[i * n + j]` = W_ij (h_i = Σ_j W_ij y_j + b_i).
    pub w: Vec<T>,
    /// Bias b (length N).
    pub b: Vec<T>,
    /// Per neuron, the polynomial φ_i(h) = Σ_r `phi[i][r]` h^r (ascending coefficients).
    pub phi: Vec<Vec<T>>,
}

// ---------------------------------------------------------------------------------------------
// Exact reading of expressions

/// Parse a decimal literal (`12`, `0.125`, `1.5e-3`) exactly.
pub fn parse_decimal(text: &str) -> Option<BigRational> {
    let (mant, exp) = match text.find(['e', 'E']) {
        Some(p) => (&text[..p], text[p + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let digits = format!("{int}{frac}");
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let num: BigInt = digits.parse().ok()?;
    let e = exp - frac.len() as i32;
    if e.unsigned_abs() > 4000 {
        return None;
    }
    let ten = BigInt::from(10);
    Some(if e >= 0 {
        BigRational::from_integer(num * num_traits::pow(ten, e as usize))
    } else {
        BigRational::new(num, num_traits::pow(ten, (-e) as usize))
    })
}

fn poly_mul(a: &[BigRational], b: &[BigRational]) -> Vec<BigRational> {
    let mut out = vec![BigRational::zero(); a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

fn poly_add(a: &[BigRational], b: &[BigRational], sign: i64) -> Vec<BigRational> {
    let mut out = vec![BigRational::zero(); a.len().max(b.len())];
    for (i, x) in a.iter().enumerate() {
        out[i] += x;
    }
    let s = BigRational::from_integer(sign.into());
    for (i, y) in b.iter().enumerate() {
        out[i] += y * &s;
    }
    while out.len() > 1 && out.last().is_some_and(|c| c.is_zero()) {
        out.pop();
    }
    out
}

/// An expression as an exact polynomial in `var` (ascending coefficients). Names other than
/// `var` are looked up in `consts` (resolved `let`s). `Err` says why it is not a polynomial.
pub fn exact_polynomial(
    e: &Expr,
    var: Option<&str>,
    consts: &BTreeMap<String, Expr>,
) -> std::result::Result<Vec<BigRational>, String> {
    exact_poly_rec(e, var, consts, 0)
}

fn exact_poly_rec(
    e: &Expr,
    var: Option<&str>,
    consts: &BTreeMap<String, Expr>,
    depth: usize,
) -> std::result::Result<Vec<BigRational>, String> {
    if depth > 64 {
        return Err("constants refer to each other too deeply".into());
    }
    let rec = |x: &Expr| exact_poly_rec(x, var, consts, depth + 1);
    Ok(match e {
        Expr::Num(_, text) => {
            vec![parse_decimal(text).ok_or_else(|| format!("`{text}` is not a finite number"))?]
        }
        Expr::Var(v) if Some(v.as_str()) == var => vec![BigRational::zero(), BigRational::one()],
        Expr::Var(v) => match consts.get(v) {
            Some(c) => rec(c)?,
            None => {
                return Err(match var {
                    Some(x) => format!("`{v}` is neither the variable `{x}` nor a `let` constant"),
                    None => format!("`{v}` is not a `let` constant"),
                })
            }
        },
        Expr::Neg(a) => rec(a)?.into_iter().map(|c| -c).collect(),
        Expr::Add(a, b) => poly_add(&rec(a)?, &rec(b)?, 1),
        Expr::Sub(a, b) => poly_add(&rec(a)?, &rec(b)?, -1),
        Expr::Mul(a, b) => poly_mul(&rec(a)?, &rec(b)?),
        Expr::Div(a, b) => {
            let d = rec(b)?;
            if d.len() != 1 {
                return Err("division by an expression in the variable is not polynomial".into());
            }
            if d[0].is_zero() {
                return Err("division by zero".into());
            }
            rec(a)?.into_iter().map(|c| c / &d[0]).collect()
        }
        Expr::Pow(a, b) => {
            let p = rec(b)?;
            let ok = p.len() == 1 && p[0].is_integer() && !p[0].is_negative();
            let n = if ok {
                p[0].to_integer().to_usize()
            } else {
                None
            };
            let Some(n) = n.filter(|&n| n <= 64) else {
                return Err("powers must be whole numbers between 0 and 64".into());
            };
            let base = rec(a)?;
            let mut out = vec![BigRational::one()];
            for _ in 0..n {
                out = poly_mul(&out, &base);
            }
            out
        }
        Expr::Call(f, _) => return Err(format!("`{f}(…)` is not a polynomial")),
    })
}

fn exact_value(
    v: &Value,
    consts: &BTreeMap<String, Expr>,
) -> std::result::Result<ExactTensor, String> {
    match v {
        Value::Scalar(e) => {
            let p = exact_polynomial(e, None, consts)?;
            Ok(ExactTensor {
                shape: vec![],
                data: vec![p[0].clone()],
            })
        }
        Value::List(items) => {
            let parts: Vec<ExactTensor> = items
                .iter()
                .map(|i| exact_value(i, consts))
                .collect::<std::result::Result<_, _>>()?;
            let shape0 = parts[0].shape.clone();
            if parts.iter().any(|p| p.shape != shape0) {
                return Err("the rows of a list must all have the same shape".into());
            }
            let mut shape = vec![parts.len()];
            shape.extend(shape0);
            Ok(ExactTensor {
                shape,
                data: parts.into_iter().flat_map(|p| p.data).collect(),
            })
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation

/// Parse and validate the `inn` models of spec text. `base` resolves relative weight-file paths.
pub fn parse_inns(
    path: &str,
    source: &str,
    base: Option<&Path>,
) -> Result<Vec<InnSpec>, SpecError> {
    let file = dsl::parse_spec(path, source)?;
    file.inns
        .iter()
        .map(|m| validate_inn(&file, m, base))
        .collect()
}

/// Load one `inn` model: by name, or the first of the file.
pub fn load_inn(path: &Path, name: Option<&str>) -> Result<InnSpec> {
    let source = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let shown = path.display().to_string();
    let inns = parse_inns(&shown, &source, path.parent())?;
    crate::model::select(
        inns,
        name,
        |m| &m.name,
        &shown,
        ("inn model", "`inn` model"),
        "an invertible network reads `inn NAME { dim N  layer quad  layer quad  weights \"F\" }` (book/src/inn.md)",
    )
}

/// Whether a spec file holds an `inn` model (cheap syntactic check; errors come later).
pub fn file_has_inn(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| dsl::parse_spec("", &s).ok())
        .is_some_and(|f| !f.inns.is_empty())
}

/// Whether a command that takes either kind means an `inn` model of this file: `name` names an
/// inn (and no MLP), or no name is given and the file defines inn models and no MLP. A file
/// that does not parse answers false (the MLP loader then reports its error).
pub fn names_inn(path: &Path, name: Option<&str>) -> bool {
    let Some(f) = std::fs::read_to_string(path)
        .ok()
        .and_then(|s| dsl::parse_spec("", &s).ok())
    else {
        return false;
    };
    match name {
        Some(n) => f.inns.iter().any(|m| m.name == n) && !f.models.iter().any(|m| m.name == n),
        None => f.models.is_empty() && !f.inns.is_empty(),
    }
}

fn validate_inn(
    file: &SpecFile,
    m: &dsl::InnAst,
    base: Option<&Path>,
) -> Result<InnSpec, SpecError> {
    let (dim_w, dim_span) = m.dim.clone().ok_or_else(|| {
        file.error(
            m.span,
            format!("inn `{}` has no `dim` line", m.name),
            Some("add `dim N`, N the data dimension (every layer is N → N)".into()),
        )
    })?;
    let dim = match dim_w {
        Width::Fixed(n) => n,
        Width::Symbol(s) => {
            return Err(file.error(
                dim_span,
                format!("the dimension of an inn must be a number, not `{s}`"),
                Some("write e.g. `dim 4`".into()),
            ))
        }
    };
    if m.layers.is_empty() {
        return Err(file.error(
            m.span,
            format!("inn `{}` has no layers", m.name),
            Some("add `layer quad` lines (h = W y + b, then h + alpha*h^2)".into()),
        ));
    }
    let consts = super::Consts::resolve(file, file.lets.iter().chain(&m.lets))?;
    let mut layers = Vec::new();
    for (l, la) in m.layers.iter().enumerate() {
        let phi = match &la.phi {
            None => Phi::Quad,
            Some(ActRef::Named(n, _)) if n == "quad" => Phi::Quad,
            // a user `activation cubic(h) = …` shadows the built-in
            Some(ActRef::Named(n, _))
                if n == "cubic" && !file.activations.iter().any(|a| &a.name == n) =>
            {
                Phi::Cubic
            }
            Some(ActRef::Named(n, _)) if n == "linear" || n == "identity" => Phi::Linear,
            Some(ActRef::Named(n, span)) => {
                let def = file.activations.iter().find(|a| &a.name == n).ok_or_else(|| {
                    file.error(
                        *span,
                        format!("unknown nonlinearity `{n}` for an inn layer"),
                        Some("use `quad` (h + alpha*h^2), `cubic` (h + alpha*h^2 + beta*h^3), `linear`, an `activation NAME(h) = polynomial`, or an inline `(polynomial in h)`".into()),
                    )
                })?;
                consts.apply(file, &def.body, &def.var, *span)?;
                Phi::Poly {
                    name: n.clone(),
                    coeffs: poly_for(file, &def.body, &def.var, *span, &consts.map(&def.var))?,
                }
            }
            Some(ActRef::Inline(e, span)) => {
                let var = if e.free_vars().contains("z") && !e.free_vars().contains("h") {
                    "z"
                } else {
                    "h"
                };
                consts.apply(file, e, var, *span)?;
                Phi::Poly {
                    name: format!("phi{l}"),
                    coeffs: poly_for(file, e, var, *span, &consts.map(var))?,
                }
            }
        };
        let names = la.params.clone().unwrap_or_default();
        let weight = names.first().cloned().unwrap_or(format!("W{l}"));
        let bias = names.get(1).cloned().unwrap_or(format!("b{l}"));
        let alpha = names.get(2).cloned().unwrap_or(format!("alpha{l}"));
        let beta = names.get(3).cloned().unwrap_or(format!("beta{l}"));
        layers.push(InnLayerSpec {
            phi,
            weight,
            bias,
            alpha,
            beta,
            weight_tensor: format!("{l}.weight"),
            bias_tensor: format!("{l}.bias"),
            alpha_tensor: format!("{l}.alpha"),
            beta_tensor: format!("{l}.beta"),
        });
    }
    let mut pnames: BTreeMap<String, ()> = BTreeMap::new();
    for l in &layers {
        for p in [&l.weight, &l.bias, &l.alpha, &l.beta] {
            if pnames.insert(p.clone(), ()).is_some() {
                return Err(file.error(
                    m.span,
                    format!("parameter name `{p}` is used twice in inn `{}`", m.name),
                    Some(
                        "name each layer's parameters differently with `params(W, b, alpha)`"
                            .into(),
                    ),
                ));
            }
        }
    }
    let known = |layers: &[InnLayerSpec]| -> String {
        layers
            .iter()
            .flat_map(|l| {
                let mut v = vec![l.weight.clone(), l.bias.clone()];
                if l.uses_alpha() {
                    v.push(l.alpha.clone());
                }
                if l.phi == Phi::Cubic {
                    v.push(l.beta.clone());
                }
                v
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    for b in &m.binds {
        let hit = layers.iter_mut().find_map(|l| {
            if l.weight == b.param {
                Some(&mut l.weight_tensor)
            } else if l.bias == b.param {
                Some(&mut l.bias_tensor)
            } else if l.alpha == b.param && l.uses_alpha() {
                Some(&mut l.alpha_tensor)
            } else if l.beta == b.param && l.phi == Phi::Cubic {
                Some(&mut l.beta_tensor)
            } else {
                None
            }
        });
        match hit {
            Some(t) => *t = b.tensor.clone(),
            None => {
                return Err(file.error(
                    b.span,
                    format!("`{}` is not a parameter of inn `{}`", b.param, m.name),
                    Some(format!("parameters: {}", known(&layers))),
                ))
            }
        }
    }
    let mut inline = BTreeMap::new();
    for p in &m.params {
        if !pnames.contains_key(&p.name)
            || layers.iter().any(|l| {
                (l.alpha == p.name && !l.uses_alpha()) || (l.beta == p.name && l.phi != Phi::Cubic)
            })
        {
            return Err(file.error(
                p.span,
                format!("`{}` is not a parameter of inn `{}`", p.name, m.name),
                Some(format!("parameters: {}", known(&layers))),
            ));
        }
        let v = exact_value(&p.value, &consts.map("")).map_err(|msg| {
            file.error(
                p.span,
                format!("value of `{}`: {msg}", p.name),
                Some("a value is a number, an exact fraction like 1/10, or nested lists `[[1, 0], [0, 1]]`".into()),
            )
        })?;
        if inline.insert(p.name.clone(), v).is_some() {
            return Err(file.error(
                p.span,
                format!("`{}` is given twice", p.name),
                Some("keep one `param` line per parameter".into()),
            ));
        }
    }
    let weights_file = m.weights.as_ref().map(|(p, _)| match base {
        Some(dir) if Path::new(p).is_relative() => dir.join(p),
        _ => PathBuf::from(p),
    });
    Ok(InnSpec {
        name: m.name.clone(),
        path: file.path.clone(),
        dim,
        layers,
        weights_file,
        inline,
    })
}

fn poly_for(
    file: &SpecFile,
    e: &Expr,
    var: &str,
    span: dsl::Span,
    consts: &BTreeMap<String, Expr>,
) -> Result<Vec<BigRational>, SpecError> {
    let c = exact_polynomial(e, Some(var), consts).map_err(|msg| {
        file.error(
            span,
            format!("an inn nonlinearity must be a polynomial in `{var}`: {msg}"),
            Some("write e.g. `(h + 0.1*h^2 - 0.01*h^3)`; the action stays a (truncated) polynomial only for polynomial φ".into()),
        )
    })?;
    if c.get(1).is_none_or(|a| a.is_zero()) {
        return Err(file.error(
            span,
            format!("φ'(0) = 0 for `{e}`: the layer is not invertible at the origin"),
            Some("the linear coefficient must be non-zero, e.g. `h + 0.1*h^3`".into()),
        ));
    }
    Ok(c)
}

// ---------------------------------------------------------------------------------------------
// Binding parameters

impl InnSpec {
    /// Bind every parameter: inline `param` values first, then `store` (a weights file).
    /// Shapes are checked against N; α may be a scalar (per layer) or have N entries (per neuron).
    pub fn resolve<T: Scalar>(&self, store: Option<&TensorStore>) -> Result<Inn<T>> {
        let n = self.dim;
        let mut layers = Vec::new();
        for ls in &self.layers {
            let w = self.param::<T>(store, &ls.weight, &ls.weight_tensor, &[vec![n, n]])?;
            let b = self.param::<T>(store, &ls.bias, &ls.bias_tensor, &[vec![n]])?;
            let phi: Vec<Vec<T>> = match &ls.phi {
                Phi::Linear => vec![vec![T::zero(), T::one()]; n],
                Phi::Poly { coeffs, .. } => {
                    vec![coeffs.iter().map(T::from_rational).collect(); n]
                }
                Phi::Quad | Phi::Cubic => {
                    let per_neuron = [vec![], vec![1], vec![n]];
                    let a = self.param::<T>(store, &ls.alpha, &ls.alpha_tensor, &per_neuron)?;
                    let beta = match ls.phi {
                        Phi::Cubic => {
                            Some(self.param::<T>(store, &ls.beta, &ls.beta_tensor, &per_neuron)?)
                        }
                        _ => None,
                    };
                    let at = |v: &[T], i: usize| {
                        if v.len() == 1 {
                            v[0].clone()
                        } else {
                            v[i].clone()
                        }
                    };
                    (0..n)
                        .map(|i| {
                            let mut c = vec![T::zero(), T::one(), at(&a, i)];
                            if let Some(be) = &beta {
                                c.push(at(be, i));
                            }
                            c
                        })
                        .collect()
                }
            };
            layers.push(InnLayer { w, b, phi });
        }
        Ok(Inn {
            name: self.name.clone(),
            n,
            layers,
        })
    }

    fn param<T: Scalar>(
        &self,
        store: Option<&TensorStore>,
        name: &str,
        tensor: &str,
        shapes: &[Vec<usize>],
    ) -> Result<Vec<T>> {
        let show = |s: &[usize]| format!("{s:?}");
        let expected = shapes
            .iter()
            .map(|s| show(s))
            .collect::<Vec<_>>()
            .join(" or ");
        if let Some(v) = self.inline.get(name) {
            if !shapes.contains(&v.shape) {
                return Err(Error::Shape {
                    path: self.path.clone(),
                    tensor: format!("{name} (param line)"),
                    expected,
                    found: show(&v.shape),
                });
            }
            return Ok(v.data.iter().map(T::from_rational).collect());
        }
        let Some(store) = store else {
            return Err(Error::invalid(
                format!("inn `{}`: no value for parameter `{name}`", self.name),
                format!("give a weights file (--weights FILE or a `weights` line) with tensor `{tensor}`, or write `param {name} = …` in the spec"),
            ));
        };
        let Some(t) = store.get(tensor) else {
            let mut help = format!(
                "tensors in the file: {}",
                store.tensors.keys().cloned().collect::<Vec<_>>().join(", ")
            );
            if let Some(d) = store.skipped.get(tensor) {
                help = format!("`{tensor}` has dtype {d}; weights must be floating point");
            }
            return Err(Error::MissingTensor {
                path: store.path.clone(),
                tensor: tensor.to_string(),
                message: format!("no tensor `{tensor}` for parameter `{name}`"),
                help,
            });
        };
        if !shapes.contains(&t.shape) {
            return Err(Error::Shape {
                path: store.path.clone(),
                tensor: tensor.to_string(),
                expected,
                found: show(&t.shape),
            });
        }
        t.data
            .iter()
            .map(|&v| {
                T::from_f64(v)
                    .filter(|_| v.is_finite())
                    .ok_or_else(|| Error::NonFinite {
                        path: store.path.clone(),
                        tensor: tensor.to_string(),
                        message: format!("tensor `{tensor}` holds a non-finite value ({v})"),
                        help: "every weight must be a finite number".into(),
                    })
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Polynomials of one variable, forward and inverse maps (f64)

/// Σ_r c_r x^r.
pub fn poly_eval<T: Scalar>(c: &[T], x: &T) -> T {
    c.iter()
        .rev()
        .fold(T::zero(), |acc, a| acc * x.clone() + a.clone())
}

/// The derivative's coefficients.
pub fn poly_deriv<T: Scalar>(c: &[T]) -> Vec<T> {
    if c.len() <= 1 {
        return vec![T::zero()];
    }
    c.iter()
        .enumerate()
        .skip(1)
        .map(|(r, a)| a.clone() * T::from_int(r as i64))
        .collect()
}

/// The forward pass of one point: per layer the pre-activations h^l and φ'(h^l); and z.
#[derive(Debug, Clone)]
pub struct Forward {
    /// Pre-activations h^l per layer.
    pub h: Vec<Vec<f64>>,
    /// φ'(h^l) per layer.
    pub slope: Vec<Vec<f64>>,
    /// The latent point f(x).
    pub z: Vec<f64>,
}

impl Inn<f64> {
    /// Push a data point through the network.
    pub fn forward(&self, x: &[f64]) -> Forward {
        let n = self.n;
        let mut y = x.to_vec();
        let (mut hs, mut slopes) = (vec![], vec![]);
        for l in &self.layers {
            let h: Vec<f64> = (0..n)
                .map(|i| l.b[i] + (0..n).map(|j| l.w[i * n + j] * y[j]).sum::<f64>())
                .collect();
            slopes.push(
                (0..n)
                    .map(|i| poly_eval(&poly_deriv(&l.phi[i]), &h[i]))
                    .collect(),
            );
            y = (0..n).map(|i| poly_eval(&l.phi[i], &h[i])).collect();
            hs.push(h);
        }
        Forward {
            h: hs,
            slope: slopes,
            z: y,
        }
    }

    /// Whether φ is increasing at the origin (the branch the network lives on), per layer/neuron.
    pub fn branch_sign(&self, l: usize, i: usize) -> f64 {
        self.layers[l].phi[i][1].signum()
    }

    /// The exact action S(x) = −ln p(x) (change of variables), or None off the invertible branch.
    pub fn exact_action(&self, x: &[f64]) -> Option<f64> {
        let f = self.forward(x);
        let mut s = 0.5 * f.z.iter().map(|v| v * v).sum::<f64>()
            + 0.5 * self.n as f64 * (2.0 * std::f64::consts::PI).ln();
        for (l, layer) in self.layers.iter().enumerate() {
            s -= det(&layer.w, self.n).abs().ln();
            for (i, &d) in f.slope[l].iter().enumerate() {
                if d * self.branch_sign(l, i) <= 0.0 {
                    return None;
                }
                s -= d.abs().ln();
            }
        }
        Some(s)
    }

    /// The inverse map z → x through the branch of every layer; `None` where a latent point has
    /// no pre-image (the density defect of theory §3.8).
    pub fn inverse(&self, z: &[f64]) -> Option<Vec<f64>> {
        let n = self.n;
        let mut y = z.to_vec();
        for layer in self.layers.iter().rev() {
            let mut h = vec![0.0; n];
            for i in 0..n {
                h[i] = phi_inverse(&layer.phi[i], y[i])?;
            }
            let rhs: Vec<f64> = (0..n).map(|i| h[i] - layer.b[i]).collect();
            y = solve(&layer.w, n, &rhs)?;
        }
        Some(y)
    }
}

impl Inn<f64> {
    /// Draw `m` points from the model: z ~ N(0, I) (on the seeded [`crate::random::Rng`]), then the
    /// inverse network. Latent draws without a pre-image (theory §3.8) are redrawn; the second
    /// value counts them.
    pub fn sample(&self, m: usize, seed: u64) -> (Vec<Vec<f64>>, usize) {
        let mut rng = crate::random::seeded(seed);
        let mut normal = move || crate::random::standard_normal(&mut rng);
        let mut out = Vec::with_capacity(m);
        let mut rejected = 0usize;
        while out.len() < m {
            let z: Vec<f64> = (0..self.n).map(|_| normal()).collect();
            match self.inverse(&z) {
                Some(x) if x.iter().all(|v| v.is_finite()) => out.push(x),
                _ => {
                    rejected += 1;
                    // a network whose branch holds almost no latent mass would loop forever
                    if rejected > 100 * (m + 100) {
                        break;
                    }
                }
            }
        }
        (out, rejected)
    }
}

/// The branch of φ: the interval around 0 between the nearest real roots of φ'.
pub fn branch_interval(phi: &[f64]) -> (f64, f64) {
    let d = poly_deriv(phi);
    let mut lo = f64::NEG_INFINITY;
    let mut hi = f64::INFINITY;
    for r in poly_roots(&d) {
        if r.1.abs() < 1e-9 * (1.0 + r.0.abs()) {
            if r.0 > 0.0 && r.0 < hi {
                hi = r.0;
            }
            if r.0 < 0.0 && r.0 > lo {
                lo = r.0;
            }
        }
    }
    (lo, hi)
}

/// Solve φ(h) = y on the branch of φ (closed form for quadratics, bracketing + Newton otherwise).
pub fn phi_inverse(phi: &[f64], y: f64) -> Option<f64> {
    let deg = phi.iter().rposition(|c| *c != 0.0).unwrap_or(0);
    let t = y - phi[0];
    if deg <= 1 {
        return Some(t / phi[1]);
    }
    if deg == 2 {
        // a h² + b h − t = 0, root on the branch sign(2ah + b) = sign(b); stable form.
        let (a, b) = (phi[2], phi[1]);
        let disc = b * b + 4.0 * a * t;
        if disc < 0.0 {
            return None;
        }
        return Some(2.0 * t / (b + b.signum() * disc.sqrt()));
    }
    let (lo, hi) = branch_interval(phi);
    let s = phi[1].signum();
    let f = |h: f64| s * (poly_eval(phi, &h) - y);
    // bracket: expand from 0 towards the branch ends
    let (mut a, mut b) = (0.0f64, 0.0f64);
    let mut step = 1.0;
    while f(a) > 0.0 {
        let next = (a - step).max(lo);
        if next == a || step > 1e12 {
            return None;
        }
        a = next;
        step *= 2.0;
    }
    step = 1.0;
    while f(b) < 0.0 {
        let next = (b + step).min(hi);
        if next == b || step > 1e12 {
            return None;
        }
        b = next;
        step *= 2.0;
    }
    for _ in 0..200 {
        let m = 0.5 * (a + b);
        if f(m) > 0.0 {
            b = m
        } else {
            a = m
        }
        if b - a <= 1e-15 * (1.0 + m.abs()) {
            break;
        }
    }
    Some(0.5 * (a + b))
}

/// Complex roots (re, im) of a real polynomial (ascending coefficients), Durand–Kerner.
pub fn poly_roots(c: &[f64]) -> Vec<(f64, f64)> {
    let deg = match c.iter().rposition(|v| *v != 0.0) {
        Some(d) if d >= 1 => d,
        _ => return vec![],
    };
    let lead = c[deg];
    let a: Vec<f64> = c[..=deg].iter().map(|v| v / lead).collect();
    type C = (f64, f64);
    let mul = |x: C, y: C| (x.0 * y.0 - x.1 * y.1, x.0 * y.1 + x.1 * y.0);
    let div = |x: C, y: C| {
        let d = y.0 * y.0 + y.1 * y.1;
        ((x.0 * y.0 + x.1 * y.1) / d, (x.1 * y.0 - x.0 * y.1) / d)
    };
    let eval = |z: C| {
        let mut acc: C = (0.0, 0.0);
        for k in (0..=deg).rev() {
            acc = mul(acc, z);
            acc.0 += a[k];
        }
        acc
    };
    let radius = 1.0 + a[..deg].iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut z: Vec<C> = (0..deg)
        .map(|k| {
            let t = 0.4 + 2.0 * std::f64::consts::PI * k as f64 / deg as f64;
            (radius * t.cos(), radius * t.sin())
        })
        .collect();
    for _ in 0..500 {
        let mut moved = 0.0f64;
        for i in 0..deg {
            let mut den: C = (1.0, 0.0);
            for j in 0..deg {
                if i != j {
                    den = mul(den, (z[i].0 - z[j].0, z[i].1 - z[j].1));
                }
            }
            let d = div(eval(z[i]), den);
            z[i] = (z[i].0 - d.0, z[i].1 - d.1);
            moved = moved.max(d.0.abs() + d.1.abs());
        }
        if moved < 1e-15 {
            break;
        }
    }
    z
}

/// Determinant by Gaussian elimination with partial pivoting (exact for `BigRational`).
pub fn det<T: Scalar>(w: &[T], n: usize) -> T {
    let mut m = w.to_vec();
    let mut d = T::one();
    for c in 0..n {
        let p = (c..n).max_by(|&a, &b| {
            m[a * n + c]
                .abs()
                .partial_cmp(&m[b * n + c].abs())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let p = p.unwrap();
        if m[p * n + c].is_zero() {
            return T::zero();
        }
        if p != c {
            for k in 0..n {
                m.swap(p * n + k, c * n + k);
            }
            d = -d;
        }
        let piv = m[c * n + c].clone();
        d = d * piv.clone();
        for r in c + 1..n {
            let f = m[r * n + c].clone() / piv.clone();
            if f.is_zero() {
                continue;
            }
            for k in c..n {
                let v = m[c * n + k].clone() * f.clone();
                m[r * n + k] = m[r * n + k].clone() - v;
            }
        }
    }
    d
}

/// Solve W y = rhs (f64, partial pivoting); None if W is singular.
pub fn solve(w: &[f64], n: usize, rhs: &[f64]) -> Option<Vec<f64>> {
    let mut m = w.to_vec();
    let mut x = rhs.to_vec();
    for c in 0..n {
        let p = (c..n).max_by(|&a, &b| m[a * n + c].abs().total_cmp(&m[b * n + c].abs()))?;
        if m[p * n + c] == 0.0 {
            return None;
        }
        if p != c {
            for k in 0..n {
                m.swap(p * n + k, c * n + k);
            }
            x.swap(p, c);
        }
        for r in c + 1..n {
            let f = m[r * n + c] / m[c * n + c];
            for k in c..n {
                m[r * n + k] -= f * m[c * n + k];
            }
            x[r] -= f * x[c];
        }
    }
    for c in (0..n).rev() {
        let s: f64 = (c + 1..n).map(|k| m[c * n + k] * x[k]).sum();
        x[c] = (x[c] - s) / m[c * n + c];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_read_exactly() {
        assert_eq!(
            parse_decimal("0.1"),
            Some(BigRational::new(1.into(), 10.into()))
        );
        assert_eq!(
            parse_decimal("2.5e-2"),
            Some(BigRational::new(1.into(), 40.into()))
        );
        assert_eq!(
            parse_decimal("3e2"),
            Some(BigRational::from_integer(300.into()))
        );
    }

    #[test]
    fn parses_an_inn_with_inline_values() {
        let src = "activation cubic(u) = u + c*u^3\nlet c = 1/20\ninn t {\n dim 2\n layer quad\n layer cubic\n layer (h - h^2/4)\n param W0 = [[1, 1/2], [0, 1]]\n param alpha0 = [0.1, 0.2]\n}";
        let m = &parse_inns("t.fnn", src, None).unwrap()[0];
        assert_eq!(m.dim, 2);
        assert_eq!(m.layers.len(), 3);
        let r = |a: i64, b: i64| BigRational::new(a.into(), b.into());
        assert_eq!(
            m.layers[1].phi,
            Phi::Poly {
                name: "cubic".into(),
                coeffs: vec![r(0, 1), r(1, 1), r(0, 1), r(1, 20)]
            }
        );
        assert!(matches!(&m.layers[2].phi, Phi::Poly { coeffs, .. } if coeffs[2] == r(-1, 4)));
        assert_eq!(m.inline["W0"].shape, vec![2, 2]);
        assert_eq!(m.inline["W0"].data[1], r(1, 2));
        assert_eq!(m.layers[2].bias_tensor, "2.bias");
    }

    #[test]
    fn non_polynomial_nonlinearity_is_an_error_with_location() {
        let e = parse_inns("s.fnn", "inn t {\n dim 2\n layer (tanh(h))\n}", None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("s.fnn:3:8: an inn nonlinearity must be a polynomial"),
            "{e}"
        );
        let e = parse_inns("s.fnn", "inn t {\n dim 2\n layer (h^2)\n}", None).unwrap_err();
        assert!(e.to_string().contains("φ'(0) = 0"), "{e}");
    }

    #[test]
    fn missing_parameter_and_bad_shape_are_clear() {
        let m = &parse_inns(
            "s.fnn",
            "inn t { dim 2 layer quad param W0 = [1, 2] }",
            None,
        )
        .unwrap()[0];
        let e = m.resolve::<f64>(None).unwrap_err().to_string();
        assert!(e.contains("expected shape [2, 2], found [2]"), "{e}");
        let m = &parse_inns(
            "s.fnn",
            "inn t { dim 2 layer quad param W0 = [[1, 0], [0, 1]] }",
            None,
        )
        .unwrap()[0];
        let e = m.resolve::<f64>(None).unwrap_err().to_string();
        assert!(e.contains("no value for parameter `b0`"), "{e}");
    }

    #[test]
    fn inverse_undoes_forward() {
        let inn = Inn {
            name: "t".into(),
            n: 2,
            layers: vec![
                InnLayer {
                    w: vec![1.0, 0.5, -0.3, 1.2],
                    b: vec![0.1, -0.2],
                    phi: vec![vec![0.0, 1.0, 0.1], vec![0.0, 1.0, -0.2]],
                },
                InnLayer {
                    w: vec![0.9, 0.0, 0.4, 1.0],
                    b: vec![0.0, 0.3],
                    phi: vec![vec![0.0, 1.0, 0.0, 0.05]; 2],
                },
            ],
        };
        let x = [0.3, -0.4];
        let z = inn.forward(&x).z;
        let back = inn.inverse(&z).unwrap();
        assert!(
            (back[0] - x[0]).abs() < 1e-12 && (back[1] - x[1]).abs() < 1e-12,
            "{back:?}"
        );
    }
}

/// Load the spec and the weights file it needs (if any parameter lacks a `param` line).
pub fn load_with_weights(
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
