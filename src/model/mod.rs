//! Validated models: an MLP spec resolved from the DSL, and (with weights) a numeric network.
//!
//! Conventions (theory notes §2.1): a^(0) = x, z^(l) = W^(l) a^(l-1) + b^(l), a^(l) = f_l(z^(l))
//! for the hidden layers l = 1..L-1, and y = z^(L) (or y = σ(z^(L)) with an output activation).
//! W^(l) has shape [n_l, n_{l-1}], as in PyTorch.

pub mod activation;
pub mod import;
pub mod inn;
pub mod jet;
pub mod network;
pub mod weights;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use activation::{Activation, Builtin};
pub use network::Network;

use crate::budget;
use crate::dsl::{self, ActRef, Expr, SpecFile, Width};
use crate::error::{Error, Result, SpecError};

/// One affine layer and its activation (`None`: linear).
#[derive(Debug, Clone)]
pub struct LayerSpec {
    /// Number of units n_l.
    pub width: Width,
    /// The activation f_l (`None`: linear).
    pub activation: Option<Activation>,
    /// Symbol names of the weight matrix and the bias vector (default `W{l}`, `b{l}`).
    pub weight: String,
    /// Symbol name of the bias vector.
    pub bias: String,
    /// Tensor names in a weights file (default PyTorch `nn.Sequential` names `{2(l-1)}.weight`).
    pub weight_tensor: String,
    /// Tensor name of the bias (default `{2(l-1)}.bias`).
    pub bias_tensor: String,
}

/// A validated MLP spec. `layers` holds the hidden layers followed by the output layer.
#[derive(Debug, Clone)]
pub struct Model {
    /// Model name, as in the spec.
    pub name: String,
    /// Input dimension n_0 = d.
    pub input: Width,
    /// Hidden layers, then the output layer (layer l is `layers[l - 1]`).
    pub layers: Vec<LayerSpec>,
    /// The weights file named in the spec, resolved against the spec's folder.
    pub weights_file: Option<PathBuf>,
}

impl Model {
    /// H, the number of hidden layers (L - 1).
    pub fn hidden_layers(&self) -> usize {
        self.layers.len() - 1
    }
    /// The output layer L.
    pub fn output(&self) -> &LayerSpec {
        self.layers.last().expect("a model has an output layer")
    }
    /// The activation on the output, if any.
    pub fn output_activation(&self) -> Option<&Activation> {
        self.output().activation.as_ref()
    }
    /// Widths n_0 (input), n_1 .. n_L.
    pub fn widths(&self) -> Vec<Width> {
        std::iter::once(self.input.clone())
            .chain(self.layers.iter().map(|l| l.width.clone()))
            .collect()
    }
    /// Concrete widths, if every width is a number.
    pub fn fixed_widths(&self) -> Option<Vec<usize>> {
        self.widths()
            .iter()
            .map(|w| match w {
                Width::Fixed(n) => Some(*n),
                Width::Symbol(_) => None,
            })
            .collect()
    }
}

/// Read and validate a spec file.
pub fn load_spec_file(path: &Path) -> Result<Vec<Model>> {
    let source = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let models = parse_models(&path.display().to_string(), &source, path.parent())?;
    Ok(models)
}

/// Load one model: by name, or the first of the file.
pub fn load_model(path: &Path, name: Option<&str>) -> Result<Model> {
    let models = load_spec_file(path)?;
    if models.is_empty() && inn::file_has_inn(path) {
        return Err(Error::invalid(
            format!("{} defines only `inn` models (invertible networks)", path.display()),
            "for an inn use `feynn action`, `feynn diagrams --layer`, `feynn sample` (book/src/inn.md)",
        ));
    }
    select_model(models, name, &path.display().to_string())
}

/// Pick one model of a file by name, or the first.
pub fn select_model(models: Vec<Model>, name: Option<&str>, path: &str) -> Result<Model> {
    select(
        models,
        name,
        |m| &m.name,
        path,
        ("model", "model"),
        "add `model NAME { input D  layer W tanh  output 1 }`",
    )
}

/// The one rule by which every loader picks an item of a spec file: by `name`, or the first.
/// `what` names the kind in the two messages (`(no-such, none-at-all)`, e.g. `("inn model",
/// "`inn` model")`); `none_hint` says how to write one.
pub fn select<T>(
    items: Vec<T>,
    name: Option<&str>,
    name_of: impl Fn(&T) -> &str,
    path: &str,
    what: (&str, &str),
    none_hint: &str,
) -> Result<T> {
    let names: Vec<String> = items.iter().map(|m| name_of(m).to_string()).collect();
    match name {
        None => items
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid(format!("{path} defines no {}", what.1), none_hint)),
        Some(n) => items.into_iter().find(|m| name_of(m) == n).ok_or_else(|| {
            Error::invalid(
                format!("{path} has no {} `{n}`", what.0),
                format!("{}s in this file: {}", what.0, names.join(", ")),
            )
        }),
    }
}

/// Parse and validate spec text. `base` resolves relative weight-file paths.
pub fn parse_models(
    path: &str,
    source: &str,
    base: Option<&Path>,
) -> Result<Vec<Model>, SpecError> {
    let file = dsl::parse_spec(path, source)?;
    validate(&file, base)
}

fn validate(file: &SpecFile, base: Option<&Path>) -> Result<Vec<Model>, SpecError> {
    let mut seen_acts: BTreeMap<&str, dsl::Span> = BTreeMap::new();
    for a in &file.activations {
        if Builtin::from_name(&a.name).is_some() || a.name == "sigma" {
            return Err(file.error(
                a.span,
                format!("`{}` is a built-in activation", a.name),
                Some("choose another name".into()),
            ));
        }
        if seen_acts.insert(&a.name, a.span).is_some() {
            return Err(file.error(
                a.span,
                format!("activation `{}` is defined twice", a.name),
                None,
            ));
        }
        check_expr(file, &a.body, a.span)?;
    }
    let mut models = Vec::new();
    let mut names = BTreeMap::new();
    for m in &file.models {
        if names.insert(m.name.clone(), ()).is_some() {
            return Err(file.error(
                m.span,
                format!("model `{}` is defined twice", m.name),
                Some("give each model its own name".into()),
            ));
        }
        models.push(validate_model(file, m, base)?);
    }
    Ok(models)
}

fn check_expr(file: &SpecFile, e: &Expr, span: dsl::Span) -> Result<(), SpecError> {
    match e {
        Expr::Call(f, args) => {
            match dsl::expr::FUNCTIONS.iter().find(|(n, _)| n == f) {
                None => {
                    let known: Vec<&str> = dsl::expr::FUNCTIONS.iter().map(|(n, _)| *n).collect();
                    return Err(file.error(
                        span,
                        format!("unknown function `{f}`"),
                        Some(format!("known functions: {}", known.join(", "))),
                    ));
                }
                Some((_, arity)) if *arity != args.len() => {
                    return Err(file.error(
                        span,
                        format!("`{f}` takes {arity} argument(s), got {}", args.len()),
                        None,
                    ));
                }
                _ => {}
            }
            args.iter().try_for_each(|a| check_expr(file, a, span))
        }
        Expr::Neg(a) => check_expr(file, a, span),
        Expr::Add(a, b) | Expr::Sub(a, b) | Expr::Mul(a, b) | Expr::Div(a, b) | Expr::Pow(a, b) => {
            check_expr(file, a, span)?;
            check_expr(file, b, span)
        }
        _ => Ok(()),
    }
}

fn validate_model(
    file: &SpecFile,
    m: &dsl::ModelAst,
    base: Option<&Path>,
) -> Result<Model, SpecError> {
    let (input, _) = m.input.clone().ok_or_else(|| {
        file.error(
            m.span,
            format!("model `{}` has no `input` line", m.name),
            Some("add `input D`, D the number of inputs".into()),
        )
    })?;
    let output = m.output.as_ref().ok_or_else(|| {
        file.error(
            m.span,
            format!("model `{}` has no `output` line", m.name),
            Some("add `output 1` (linear) or `output 1 sigmoid`".into()),
        )
    })?;
    // Constants visible to activations: the model's `let`s shadow the file's.
    let consts = Consts::resolve(file, file.lets.iter().chain(&m.lets))?;
    let mut layers = Vec::new();
    let all: Vec<&dsl::LayerAst> = m.layers.iter().chain(std::iter::once(output)).collect();
    for (i, l) in all.iter().enumerate() {
        let idx = i + 1;
        let activation = match &l.act {
            None => None,
            Some(ActRef::Named(n, span)) => Some(resolve_activation(file, n, *span, &consts)?),
            Some(ActRef::Inline(e, span)) => {
                check_expr(file, e, *span)?;
                Some(custom(file, format!("act{idx}"), "z", e, *span, &consts)?)
            }
        };
        if i + 1 < all.len() && activation.is_none() {
            return Err(file.error(l.span, "a hidden layer needs an activation", Some("e.g. `layer 32 tanh`; built-ins: tanh, sigmoid, softplus, silu, gelu, sin, identity, sigma".into())));
        }
        let (weight, bias) = l
            .params
            .clone()
            .unwrap_or((format!("W{idx}"), format!("b{idx}")));
        let lin = 2 * (idx - 1);
        layers.push(LayerSpec {
            width: l.width.clone(),
            activation,
            weight,
            bias,
            weight_tensor: format!("{lin}.weight"),
            bias_tensor: format!("{lin}.bias"),
        });
    }
    // Parameter names must be distinct: they are symbols in closed forms.
    let mut pnames: BTreeMap<String, ()> = BTreeMap::new();
    for l in &layers {
        for p in [&l.weight, &l.bias] {
            if pnames.insert(p.clone(), ()).is_some() {
                return Err(file.error(
                    m.span,
                    format!("parameter name `{p}` is used twice in model `{}`", m.name),
                    Some("name each layer's parameters differently with `params(W, b)`".into()),
                ));
            }
        }
    }
    for b in &m.binds {
        let layer = layers
            .iter_mut()
            .find(|l| l.weight == b.param || l.bias == b.param);
        match layer {
            Some(l) if l.weight == b.param => l.weight_tensor = b.tensor.clone(),
            Some(l) => l.bias_tensor = b.tensor.clone(),
            None => {
                let known: Vec<String> = layers
                    .iter()
                    .flat_map(|l| [l.weight.clone(), l.bias.clone()])
                    .collect();
                return Err(file.error(
                    b.span,
                    format!("`{}` is not a parameter of model `{}`", b.param, m.name),
                    Some(format!("parameters: {}", known.join(", "))),
                ));
            }
        }
    }
    let weights_file = m.weights.as_ref().map(|(p, _)| match base {
        Some(dir) if Path::new(p).is_relative() => dir.join(p),
        _ => PathBuf::from(p),
    });
    Ok(Model {
        name: m.name.clone(),
        input,
        layers,
        weights_file,
    })
}

/// A `let` constant: its value with earlier constants substituted (None when that value would
/// be larger than the budget allows), and the size and depth of that value.
struct Const {
    value: Option<Expr>,
    nodes: f64,
    depth: usize,
}

/// The `let` constants visible in a model, each resolved once.
///
/// Values are substituted in one pass (a chain of 1,200 lets used to take seconds), and the
/// size and depth of every substituted value are predicted before it is built: a chain of
/// doubling lets (`let b = a + a`, `let c = b + b`, …) grows as 2^k and is only built while it
/// stays within [`budget::MAX_EXPR_NODES`] nodes and [`budget::MAX_EXPR_DEPTH`] levels; using a
/// larger one is an error at the use, an unused one costs nothing.
pub(crate) struct Consts(BTreeMap<String, Const>);

impl Consts {
    pub(crate) fn resolve<'a>(
        file: &SpecFile,
        lets: impl Iterator<Item = &'a dsl::LetDef>,
    ) -> Result<Consts, SpecError> {
        let mut c = Consts(BTreeMap::new());
        for l in lets {
            check_expr(file, &l.value, l.span)?;
            if l.value.free_vars().contains(&l.name) && !c.0.contains_key(&l.name) {
                return Err(file.error(
                    l.span,
                    format!("`let {}` refers to itself", l.name),
                    Some(format!(
                        "a constant's value may use only constants defined before it; `{}` is not defined yet",
                        l.name
                    )),
                ));
            }
            let (nodes, depth) = c.cost(&l.value, None);
            let value = (nodes <= budget::MAX_EXPR_NODES && depth <= budget::MAX_EXPR_DEPTH)
                .then(|| c.subst(&l.value, None));
            c.0.insert(
                l.name.clone(),
                Const {
                    value,
                    nodes,
                    depth,
                },
            );
        }
        Ok(c)
    }

    /// Nodes (saturating) and depth of `e` once constants other than `except` are substituted.
    fn cost(&self, e: &Expr, except: Option<&str>) -> (f64, usize) {
        match e {
            Expr::Var(v) if Some(v.as_str()) != except => match self.0.get(v) {
                Some(c) => (c.nodes, c.depth),
                None => (1.0, 1),
            },
            Expr::Num(..) | Expr::Var(_) => (1.0, 1),
            Expr::Neg(a) => {
                let (n, d) = self.cost(a, except);
                (n + 1.0, d.saturating_add(1))
            }
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Pow(a, b) => {
                let (na, da) = self.cost(a, except);
                let (nb, db) = self.cost(b, except);
                (na + nb + 1.0, da.max(db).saturating_add(1))
            }
            Expr::Call(_, args) => args.iter().fold((1.0, 1), |(n, d), a| {
                let (na, da) = self.cost(a, except);
                (n + na, d.max(da.saturating_add(1)))
            }),
        }
    }

    fn subst(&self, e: &Expr, except: Option<&str>) -> Expr {
        let s = |x: &Expr| Box::new(self.subst(x, except));
        match e {
            Expr::Var(v) if Some(v.as_str()) != except => match self.0.get(v) {
                Some(Const { value: Some(x), .. }) => x.clone(),
                _ => e.clone(),
            },
            Expr::Num(..) | Expr::Var(_) => e.clone(),
            Expr::Neg(a) => Expr::Neg(s(a)),
            Expr::Add(a, b) => Expr::Add(s(a), s(b)),
            Expr::Sub(a, b) => Expr::Sub(s(a), s(b)),
            Expr::Mul(a, b) => Expr::Mul(s(a), s(b)),
            Expr::Div(a, b) => Expr::Div(s(a), s(b)),
            Expr::Pow(a, b) => Expr::Pow(s(a), s(b)),
            Expr::Call(f, args) => Expr::Call(
                f.clone(),
                args.iter().map(|a| self.subst(a, except)).collect(),
            ),
        }
    }

    /// `body` with every constant except `var` substituted; refused (at `span`) when the result
    /// would exceed the expression budget.
    pub(crate) fn apply(
        &self,
        file: &SpecFile,
        body: &Expr,
        var: &str,
        span: dsl::Span,
    ) -> Result<Expr, SpecError> {
        let (nodes, depth) = self.cost(body, Some(var));
        if nodes > budget::MAX_EXPR_NODES || depth > budget::MAX_EXPR_DEPTH {
            let big: Vec<&str> = body
                .free_vars()
                .iter()
                .filter_map(|v| self.0.get_key_value(v.as_str()))
                .filter(|(_, c)| c.value.is_none())
                .map(|(k, _)| k.as_str())
                .collect();
            return Err(file.error(
                span,
                format!(
                    "with its constants substituted this expression would have {} nodes and {depth} levels; the limits are {} nodes and {} levels",
                    if nodes.is_finite() { format!("{nodes:.0}") } else { "more than 10^308".into() },
                    budget::MAX_EXPR_NODES,
                    budget::MAX_EXPR_DEPTH
                ),
                Some(if big.is_empty() {
                    "simplify the expression".into()
                } else {
                    format!("the constant(s) {} grow too large (each `let` that uses a constant twice doubles it)", big.join(", "))
                }),
            ));
        }
        Ok(self.subst(body, Some(var)))
    }

    /// The constants within budget, by name, except `var` (for the inn polynomial reader).
    pub(crate) fn map(&self, var: &str) -> BTreeMap<String, Expr> {
        self.0
            .iter()
            .filter(|(k, _)| k.as_str() != var)
            .filter_map(|(k, c)| c.value.clone().map(|v| (k.clone(), v)))
            .collect()
    }
}

fn custom(
    file: &SpecFile,
    name: String,
    var: &str,
    body: &Expr,
    span: dsl::Span,
    consts: &Consts,
) -> Result<Activation, SpecError> {
    let body = consts.apply(file, body, var, span)?;
    // Normalise the variable to `z`.
    let body = if var == "z" {
        body
    } else {
        body.substitute(var, &Expr::Var("z".into()))
    };
    Ok(Activation::Custom { name, body })
}

fn resolve_activation(
    file: &SpecFile,
    name: &str,
    span: dsl::Span,
    consts: &Consts,
) -> Result<Activation, SpecError> {
    if let Some(b) = Builtin::from_name(name) {
        return Ok(Activation::Builtin(b));
    }
    if name == "sigma" {
        return Ok(Activation::Sigma);
    }
    if let Some(def) = file.activations.iter().find(|a| a.name == name) {
        return custom(file, def.name.clone(), &def.var, &def.body, span, consts);
    }
    let mut known: Vec<String> = Builtin::ALL.iter().map(|b| b.name().to_string()).collect();
    known.push("sigma".into());
    const NON_SMOOTH: &[&str] = &[
        "relu",
        "leaky_relu",
        "leakyrelu",
        "relu6",
        "elu",
        "selu",
        "hardtanh",
        "hardswish",
        "hardsigmoid",
        "abs",
        "step",
        "sign",
    ];
    if NON_SMOOTH.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(file.error(
            span,
            format!("`{name}` is not smooth, so it has no Taylor series (feynn expands in derivatives of every order)"),
            Some(format!(
                "use a smooth activation instead, e.g. softplus (a smooth relu) or gelu; known activations: {}",
                known.join(", ")
            )),
        ));
    }
    known.extend(file.activations.iter().map(|a| a.name.clone()));
    let near = known
        .iter()
        .min_by_key(|k| edit_distance(k, name))
        .filter(|k| edit_distance(k, name) <= 2);
    let help = match near {
        Some(k) => format!(
            "did you mean `{k}`? known activations: {}",
            known.join(", ")
        ),
        None => format!(
            "known activations: {}; or define one: `activation {name}(z) = ...`",
            known.join(", ")
        ),
    };
    Err(file.error(span, format!("unknown activation `{name}`"), Some(help)))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + (ca != *cb) as usize)
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_pytorch_sequential_names() {
        let ms = parse_models(
            "t",
            "model m { input 3 layer 4 tanh layer 5 silu output 2 }",
            None,
        )
        .unwrap();
        let m = &ms[0];
        assert_eq!(m.hidden_layers(), 2);
        assert_eq!(m.layers[1].weight, "W2");
        assert_eq!(m.layers[2].weight_tensor, "4.weight");
        assert_eq!(m.fixed_widths(), Some(vec![3, 4, 5, 2]));
    }

    #[test]
    fn unknown_activation_suggests_the_nearest() {
        let e = parse_models(
            "s.fnn",
            "model m {\n input 3\n layer 4 tahn\n output 1 }",
            None,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("s.fnn:3:10: unknown activation `tahn`"),
            "{e}"
        );
        assert!(e.help.unwrap().contains("did you mean `tanh`"));
    }

    #[test]
    fn missing_output_is_an_error() {
        let e = parse_models("s.fnn", "model m { input 3 layer 4 tanh }", None).unwrap_err();
        assert!(e.to_string().contains("has no `output` line"));
    }

    #[test]
    fn user_activation_takes_constants() {
        let ms = parse_models("t", "activation quad(u) = u + a*u^2\nlet a = 0.5\nmodel m { input 1 layer 1 quad output 1 }", None).unwrap();
        let act = ms[0].layers[0].activation.as_ref().unwrap();
        let d = act.derivatives(2.0, 2).unwrap();
        assert_eq!(d, vec![4.0, 3.0, 1.0]);
    }
}
