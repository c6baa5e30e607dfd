//! Cross-checking hand derivations: `feynn check SPEC --claim "LHS = RHS"`.
//!
//! The left side names a derivative or Taylor coefficient of the model; the right side is the
//! user's formula in the spec's parameters, with sums over neuron indices
//! ([`parse`] has the language). The check runs in two stages:
//!
//! 1. **Symbolic** (feature `symbolic`, concrete widths): both sides become Symbolica
//!    expressions — the left one is the model's closed form, the right one the claim with every
//!    sum written out — and their difference is expanded. `0` proves the claim at those widths.
//!    A nonzero difference is inconclusive (identities between transcendental functions are not
//!    applied), so the numbers decide.
//! 2. **Numeric**: both sides at random parameter draws and several widths (every symbolic
//!    width of the spec takes several values); the generic `sigma` becomes a random smooth
//!    function per draw, so a claim about σ must hold for all of them. The largest relative
//!    discrepancy decides: VERIFIED or REFUTED.
//!
//! A refuted claim comes with a counterexample and a diagram analysis: the discrepancy
//! (claim − model) is fitted, over fresh draws, by the contributions of the order's diagram
//! topologies; small rational multiples identify what the claim misses (−1: a missing
//! diagram, +1: a diagram counted twice — often a missing symmetry factor, −2: a flipped sign).

pub mod parse;

use std::collections::BTreeMap;

use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

pub use parse::{parse_claim, Claim, Index, Lhs, LhsKind, Term};

use crate::budget::MAX_CLAIM_ORDER;
use crate::diagrams::Topology;
use crate::dsl::{Span, Width};
use crate::error::{Error, Result};
use crate::export::diagrams::index_term;
use crate::export::output_name;
use crate::model::{Activation, Builtin, Model, Network};
use crate::numeric::attribution::attribute_one;
use crate::numeric::{Basis, Expander, Options as NumericOptions};

/// Options of [`check`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Random draws per width assignment.
    pub draws: usize,
    pub seed: u64,
    /// Largest relative discrepancy still counted as equal.
    pub tolerance: f64,
    /// Try the symbolic stage first (needs the `symbolic` feature).
    pub symbolic: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            draws: 8,
            seed: 1,
            tolerance: 1e-8,
            symbolic: true,
        }
    }
}

/// The claim's right side, resolved against a model: names bound to layers and parameters,
/// every summation variable with the width it runs over.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    Num(f64, String),
    /// A coordinate of the expansion point (`x2`, or `x[i]` in a sum).
    Point(Ix),
    Pi,
    /// W^(layer) (`bias` false, indices row, column) or b^(layer); layer 1-based.
    Param {
        layer: usize,
        bias: bool,
        idx: Vec<Ix>,
    },
    Neg(Box<Rhs>),
    Add(Box<Rhs>, Box<Rhs>),
    Sub(Box<Rhs>, Box<Rhs>),
    Mul(Box<Rhs>, Box<Rhs>),
    Div(Box<Rhs>, Box<Rhs>),
    Pow(Box<Rhs>, Box<Rhs>),
    /// f_layer^(k)(arg), the activation of a layer of the model.
    Act {
        layer: usize,
        k: usize,
        arg: Box<Rhs>,
    },
    /// A built-in activation the model does not use, k-th derivative.
    Builtin {
        b: Builtin,
        k: usize,
        arg: Box<Rhs>,
    },
    /// exp, log, sin, cos, sqrt, erf.
    Func(String, Box<Rhs>),
    /// Σ_{slot = 1..n_width} body.
    Sum {
        slot: usize,
        width: usize,
        body: Box<Rhs>,
    },
}

/// A neuron index: 0-based literal, or a summation slot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ix {
    Lit(usize),
    Slot(usize),
}

/// A claim ready to evaluate.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub claim: Claim,
    pub rhs: Rhs,
    /// Number of summation slots.
    pub slots: usize,
    /// Smallest value each width n_0..n_L must have for the claim to make sense.
    pub min_widths: Vec<usize>,
    /// Sorted 0-based input positions with repetition (the numeric engine's multi-index).
    pub alpha: Vec<u32>,
}

/// Functions of the claim language that are not activations.
const ELEMENTARY: &[&str] = &["exp", "log", "sin", "cos", "sqrt", "erf"];

/// Bind the claim's names to the model. Errors point at the claim's text.
pub fn resolve(model: &Model, claim: &Claim) -> Result<Resolved> {
    let widths = model.widths();
    let layers = model.layers.len();
    let mut min_widths = vec![1usize; layers + 1];
    let err = |span: Span, msg: String, help: Option<String>| -> Error {
        Error::Spec(Box::new(claim.error(span, msg, help)))
    };
    // left side
    let lhs = &claim.lhs;
    let n0_needed = lhs.alpha.iter().rposition(|&a| a > 0).map_or(1, |i| i + 1);
    min_widths[0] = min_widths[0].max(n0_needed);
    if let Some(p) = &lhs.at {
        if p.len() > 1 {
            min_widths[0] = min_widths[0].max(p.len());
        }
    }
    min_widths[layers] = min_widths[layers].max(lhs.output + 1);
    if lhs.order() == 0 && lhs.kind == LhsKind::Derivative {
        return Err(err(lhs.span, "a derivative of order 0".into(), None));
    }
    let mut r = Resolver {
        model,
        claim,
        scope: vec![],
        slot_width: vec![],
        min_widths: &mut min_widths,
    };
    let rhs = r.term(&claim.rhs)?;
    let slots = r.slot_width.len();
    // fixed widths must accommodate every literal index
    for (w, (need, have)) in min_widths.iter().zip(&widths).enumerate() {
        if let Width::Fixed(n) = have {
            if need > n {
                let what = if w == 0 {
                    "inputs".to_string()
                } else if w == layers {
                    "outputs".to_string()
                } else {
                    format!("neurons in layer {w}")
                };
                return Err(err(
                    (0, claim.text.len()),
                    format!("the claim needs {need} {what}, the model has {n}"),
                    Some("indices are 1-based".into()),
                ));
            }
        }
    }
    let mut alpha: Vec<u32> = Vec::new();
    for (i, &a) in lhs.alpha.iter().enumerate() {
        alpha.extend(std::iter::repeat_n(i as u32, a as usize));
    }
    Ok(Resolved {
        claim: claim.clone(),
        rhs,
        slots,
        min_widths,
        alpha,
    })
}

struct Resolver<'a> {
    model: &'a Model,
    claim: &'a Claim,
    /// (name, slot), innermost last
    scope: Vec<(String, usize)>,
    /// width position each slot runs over (once known) and where that was decided
    slot_width: Vec<Option<(usize, Span)>>,
    min_widths: &'a mut Vec<usize>,
}

impl Resolver<'_> {
    fn err(&self, span: Span, msg: impl Into<String>, help: Option<String>) -> Error {
        Error::Spec(Box::new(self.claim.error(span, msg, help)))
    }

    fn param_names(&self) -> String {
        self.model
            .layers
            .iter()
            .map(|l| format!("{}[i,j], {}[i]", l.weight, l.bias))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn term(&mut self, t: &Term) -> Result<Rhs> {
        let b = |x: Rhs| Box::new(x);
        Ok(match t {
            Term::Num(v, s) => Rhs::Num(*v, s.clone()),
            Term::Neg(a) => Rhs::Neg(b(self.term(a)?)),
            Term::Add(x, y) => Rhs::Add(b(self.term(x)?), b(self.term(y)?)),
            Term::Sub(x, y) => Rhs::Sub(b(self.term(x)?), b(self.term(y)?)),
            Term::Mul(x, y) => Rhs::Mul(b(self.term(x)?), b(self.term(y)?)),
            Term::Div(x, y) => Rhs::Div(b(self.term(x)?), b(self.term(y)?)),
            Term::Pow(x, y) => Rhs::Pow(b(self.term(x)?), b(self.term(y)?)),
            Term::Var(name, span) => self.var(name, *span)?,
            Term::Param(name, idx, span) => self.param(name, idx, *span)?,
            Term::Call(name, primes, args, span) => self.call(name, *primes, args, *span)?,
            Term::Sum(var, body, span) => {
                let slot = self.slot_width.len();
                self.slot_width.push(None);
                self.scope.push((var.clone(), slot));
                let body = self.term(body)?;
                self.scope.pop();
                let Some((width, _)) = self.slot_width[slot] else {
                    return Err(self.err(
                        *span,
                        format!("cannot tell which neurons `{var}` runs over"),
                        Some(format!(
                            "use `{var}` as an index of a weight or bias, e.g. `b1[{var}]`"
                        )),
                    ));
                };
                Rhs::Sum {
                    slot,
                    width,
                    body: b(body),
                }
            }
        })
    }

    fn var(&self, name: &str, span: Span) -> Result<Rhs> {
        if name == "pi" {
            return Ok(Rhs::Pi);
        }
        if let Some(i) = name.strip_prefix('x').and_then(|s| s.parse::<usize>().ok()) {
            if i >= 1 {
                if let Width::Fixed(n) = self.model.input {
                    if i > n {
                        return Err(self.err(
                            span,
                            format!("the model has {n} inputs; there is no `{name}`"),
                            None,
                        ));
                    }
                }
                return Ok(Rhs::Point(Ix::Lit(i - 1)));
            }
        }
        if self.scope.iter().any(|(v, _)| v == name) {
            return Err(self.err(
                span,
                format!("`{name}` is a neuron index; it can only index a weight or bias"),
                None,
            ));
        }
        let is_param = self
            .model
            .layers
            .iter()
            .any(|l| l.weight == name || l.bias == name);
        Err(self.err(
            span,
            if is_param {
                format!("the parameter `{name}` needs its indices")
            } else {
                format!("unknown name `{name}`")
            },
            Some(if is_param {
                format!(
                    "`{name}` needs its indices, e.g. `{name}[1,j]` (parameters: {})",
                    self.param_names()
                )
            } else {
                format!(
                    "a claim may use the parameters {}, the point's coordinates x1, x2, …, and pi",
                    self.param_names()
                )
            }),
        ))
    }

    fn param(&mut self, name: &str, idx: &[Index], span: Span) -> Result<Rhs> {
        if name == "x" {
            if idx.len() != 1 {
                return Err(self.err(span, "the point `x[i]` takes one index", None));
            }
            return Ok(Rhs::Point(self.index(name, &idx[0], 0, span)?));
        }
        let Some((l, layer)) = self
            .model
            .layers
            .iter()
            .enumerate()
            .find(|(_, l)| l.weight == name || l.bias == name)
        else {
            return Err(self.err(
                span,
                format!("`{name}` is not a parameter of model `{}`", self.model.name),
                Some(format!("parameters: {}", self.param_names())),
            ));
        };
        let layer_no = l + 1;
        let bias = layer.bias == name;
        let arity = if bias { 1 } else { 2 };
        if idx.len() != arity {
            return Err(self.err(
                span,
                format!("`{name}` takes {arity} index(es), got {}", idx.len()),
                Some(if bias {
                    format!("`{name}[i]`")
                } else {
                    format!("`{name}[i,j]`: row i (layer {layer_no}), column j (layer {l})")
                }),
            ));
        }
        let mut out = Vec::new();
        for (pos, ix) in idx.iter().enumerate() {
            // the width this index position runs over: rows n_l, columns n_{l-1}
            let w = if pos == 0 { layer_no } else { layer_no - 1 };
            out.push(self.index(name, ix, w, span)?);
        }
        Ok(Rhs::Param {
            layer: layer_no,
            bias,
            idx: out,
        })
    }

    /// One index of `name`, which runs over the neurons of width position `w`.
    fn index(&mut self, name: &str, ix: &Index, w: usize, span: Span) -> Result<Ix> {
        Ok(match ix {
            Index::Lit(0) => {
                return Err(self.err(
                    span,
                    format!("indices are 1-based: `{name}` has index 0"),
                    None,
                ))
            }
            Index::Lit(i) => {
                self.min_widths[w] = self.min_widths[w].max(*i);
                Ix::Lit(i - 1)
            }
            Index::Var(v) => {
                let Some(&(_, slot)) = self.scope.iter().rev().find(|(n, _)| n == v) else {
                    return Err(self.err(
                        span,
                        format!("index `{v}` of `{name}` is not summed over"),
                        Some(format!("wrap the term in `sum({v}, …)`, or give a number")),
                    ));
                };
                match self.slot_width[slot] {
                    None => self.slot_width[slot] = Some((w, span)),
                    Some((w0, s0)) if w0 != w => {
                        let first = &self.claim.text[s0.0..s0.1];
                        return Err(self.err(
                                span,
                                format!("`{v}` runs over the {} neurons of layer {w} here but over those of layer {w0} in `{first}`", width_name(self.model, w)),
                                Some("use a separate summation variable for each layer".into()),
                            ));
                    }
                    _ => {}
                }
                Ix::Slot(slot)
            }
        })
    }

    fn call(&mut self, name: &str, primes: usize, args: &[Term], span: Span) -> Result<Rhs> {
        if args.len() != 1 {
            return Err(self.err(
                span,
                format!("`{name}` takes one argument, got {}", args.len()),
                None,
            ));
        }
        let arg = Box::new(self.term(&args[0])?);
        // name, `dK name`, `d name` or `name'''`
        let mut candidates: Vec<(String, usize)> = vec![(name.to_string(), primes)];
        if primes == 0 {
            if let Some(rest) = name.strip_prefix('d') {
                let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                let base = &rest[digits.len()..];
                let k = if digits.is_empty() {
                    1
                } else {
                    digits.parse().unwrap_or(usize::MAX)
                };
                if !base.is_empty() {
                    candidates.push((base.to_string(), k));
                }
            }
        }
        if let Some((_, k)) = candidates.iter().find(|(_, k)| *k > MAX_CLAIM_ORDER) {
            return Err(self.err(
                span,
                format!(
                    "a derivative of order {} of an activation; the largest a claim may use is {MAX_CLAIM_ORDER}",
                    if *k == usize::MAX { "beyond 2^64".to_string() } else { k.to_string() }
                ),
                None,
            ));
        }
        for (base, k) in &candidates {
            if let Some(l) = self
                .model
                .layers
                .iter()
                .position(|l| l.activation.as_ref().is_some_and(|a| a.name() == base))
            {
                return Ok(Rhs::Act {
                    layer: l + 1,
                    k: *k,
                    arg,
                });
            }
            if let Some(b) = Builtin::from_name(base) {
                return Ok(Rhs::Builtin { b, k: *k, arg });
            }
        }
        if primes == 0 && ELEMENTARY.contains(&name) {
            return Ok(Rhs::Func(name.to_string(), arg));
        }
        let acts: Vec<String> = self
            .model
            .layers
            .iter()
            .filter_map(|l| l.activation.as_ref().map(|a| a.name().to_string()))
            .collect();
        Err(self.err(
            span,
            format!("unknown function `{name}{}`", "'".repeat(primes)),
            Some(format!(
                "activations and their derivatives: {a}(u), d{a}(u), d2{a}(u) or {a}''(u) (the model's: {}); also exp, log, sin, cos, sqrt, erf",
                acts.join(", "),
                a = acts.first().map_or("tanh", |s| s.as_str())
            )),
        ))
    }
}

fn width_name(model: &Model, w: usize) -> String {
    match &model.widths()[w] {
        Width::Fixed(n) => n.to_string(),
        Width::Symbol(s) => s.clone(),
    }
}

/// Width assignments to test: the spec's numbers, and for each symbolic width several values
/// (at least what the claim needs), varied independently across the assignments.
pub fn width_sets(model: &Model, min_widths: &[usize]) -> Vec<Vec<usize>> {
    let widths = model.widths();
    let mut symbols: Vec<String> = vec![];
    for w in &widths {
        if let Width::Symbol(s) = w {
            if !symbols.contains(s) {
                symbols.push(s.clone());
            }
        }
    }
    if symbols.is_empty() {
        return vec![model.fixed_widths().expect("all fixed")];
    }
    // a symbol shared by several positions needs the largest of their minima
    let base: BTreeMap<&String, usize> = symbols
        .iter()
        .map(|s| {
            let m = widths
                .iter()
                .zip(min_widths)
                .filter(|(w, _)| matches!(w, Width::Symbol(t) if t == s))
                .map(|(_, m)| *m)
                .max()
                .unwrap_or(1);
            (s, m)
        })
        .collect();
    (0..3)
        .map(|k| {
            widths
                .iter()
                .map(|w| match w {
                    Width::Fixed(n) => *n,
                    Width::Symbol(s) => {
                        let i = symbols.iter().position(|t| t == s).unwrap();
                        base[s] + (k + i) % 3
                    }
                })
                .collect()
        })
        .collect()
}

/// A random network of the model at the given widths. The generic σ becomes one random smooth
/// function (shared by every σ layer); its body is returned for the report.
fn random_network(model: &Model, widths: &[usize], rng: &mut StdRng) -> (Network, Option<String>) {
    let sigma = model
        .layers
        .iter()
        .any(|l| l.activation == Some(Activation::Sigma))
        .then(|| {
            let c = |rng: &mut StdRng, lo: f64, hi: f64| -> f64 {
                let v: f64 = rng.random_range(lo..hi);
                (v * 1000.0).round() / 1000.0
            };
            format!(
                "tanh({}*z + {}) + {}*sin(z) + {}*z^2",
                c(rng, 0.6, 1.4),
                c(rng, -0.5, 0.5),
                c(rng, 0.2, 0.8),
                c(rng, -0.3, 0.3)
            )
        });
    let sigma_act = sigma.as_ref().map(|body| Activation::Custom {
        name: "sigma".into(),
        body: crate::dsl::parse_spec("<sigma>", &format!("let f = {body}"))
            .expect("the random σ parses")
            .lets[0]
            .value
            .clone(),
    });
    let mut weights = vec![];
    let mut biases = vec![];
    for l in 1..widths.len() {
        let scale = 1.5 / (widths[l - 1] as f64).sqrt();
        weights.push(Array2::from_shape_fn((widths[l], widths[l - 1]), |_| {
            rng.random_range(-1.0..1.0) * scale
        }));
        biases.push(Array1::from_shape_fn(widths[l], |_| {
            rng.random_range(-0.8..0.8)
        }));
    }
    let activations = model
        .layers
        .iter()
        .map(|l| match &l.activation {
            Some(Activation::Sigma) => sigma_act.clone(),
            a => a.clone(),
        })
        .collect();
    (
        Network {
            name: model.name.clone(),
            weights,
            biases,
            activations,
        },
        sigma,
    )
}

/// Value of the right side on a network at x0.
pub fn eval_rhs(rhs: &Rhs, net: &Network, x0: &[f64]) -> Result<f64> {
    let mut env = vec![0usize; 64];
    eval(rhs, net, x0, &mut env)
}

fn eval(t: &Rhs, net: &Network, x0: &[f64], env: &mut Vec<usize>) -> Result<f64> {
    Ok(match t {
        Rhs::Num(v, _) => *v,
        Rhs::Pi => std::f64::consts::PI,
        Rhs::Point(i) => {
            x0[match i {
                Ix::Lit(i) => *i,
                Ix::Slot(s) => env[*s],
            }]
        }
        Rhs::Param { layer, bias, idx } => {
            let ix = |k: usize| match idx[k] {
                Ix::Lit(i) => i,
                Ix::Slot(s) => env[s],
            };
            if *bias {
                net.biases[layer - 1][ix(0)]
            } else {
                net.weights[layer - 1][[ix(0), ix(1)]]
            }
        }
        Rhs::Neg(a) => -eval(a, net, x0, env)?,
        Rhs::Add(a, b) => eval(a, net, x0, env)? + eval(b, net, x0, env)?,
        Rhs::Sub(a, b) => eval(a, net, x0, env)? - eval(b, net, x0, env)?,
        Rhs::Mul(a, b) => eval(a, net, x0, env)? * eval(b, net, x0, env)?,
        Rhs::Div(a, b) => eval(a, net, x0, env)? / eval(b, net, x0, env)?,
        Rhs::Pow(a, b) => {
            let (x, y) = (eval(a, net, x0, env)?, eval(b, net, x0, env)?);
            if y.fract() == 0.0 && y.abs() < 64.0 {
                x.powi(y as i32)
            } else {
                x.powf(y)
            }
        }
        Rhs::Act { layer, k, arg } => {
            let u = eval(arg, net, x0, env)?;
            match &net.activations[layer - 1] {
                Some(a) => a.derivatives(u, *k)?[*k],
                None => unreachable!("named activations belong to layers that have one"),
            }
        }
        Rhs::Builtin { b, k, arg } => {
            let u = eval(arg, net, x0, env)?;
            Activation::Builtin(*b).derivatives(u, *k)?[*k]
        }
        Rhs::Func(f, arg) => {
            let u = eval(arg, net, x0, env)?;
            match f.as_str() {
                "exp" => u.exp(),
                "log" => u.ln(),
                "sin" => u.sin(),
                "cos" => u.cos(),
                "sqrt" => u.sqrt(),
                _ => libm::erf(u),
            }
        }
        Rhs::Sum { slot, width, body } => {
            let n = if *width == 0 {
                net.inputs()
            } else {
                net.weights[width - 1].nrows()
            };
            if env.len() <= *slot {
                env.resize(slot + 1, 0);
            }
            let mut acc = 0.0;
            for j in 0..n {
                env[*slot] = j;
                acc += eval(body, net, x0, env)?;
            }
            acc
        }
    })
}

/// The left side on a network: the numeric engine's coefficient (times α! for a derivative).
fn eval_lhs(r: &Resolved, net: &Network, x0: &[f64]) -> Result<f64> {
    let n = r.alpha.len();
    let ex = Expander::new(
        net,
        &NumericOptions {
            order: n,
            ..Default::default()
        },
    )?;
    let c = ex
        .expand(x0)?
        .get(&ex.basis, r.claim.lhs.output, &r.alpha)
        .expect("the monomial is in the basis");
    Ok(c * lhs_factor(r))
}

fn lhs_factor(r: &Resolved) -> f64 {
    match r.claim.lhs.kind {
        LhsKind::Derivative => Basis::alpha_factorial(&r.alpha),
        LhsKind::Taylor => 1.0,
    }
}

/// The expansion point at the given input width.
fn point(r: &Resolved, inputs: usize) -> Vec<f64> {
    match &r.claim.lhs.at {
        None => vec![0.0; inputs],
        Some(p) if p.len() == 1 => vec![p[0]; inputs],
        Some(p) => {
            let mut v = p.clone();
            v.resize(inputs, 0.0);
            v
        }
    }
}

/// What the symbolic stage found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SymbolicOutcome {
    /// The expanded difference is 0 at these widths.
    Proved { widths: Vec<usize> },
    /// The difference does not expand to 0 (identities are not applied): the numbers decide.
    Nonzero { widths: Vec<usize>, terms: usize },
    /// Not attempted or not possible, and why.
    Skipped { reason: String },
}

/// One parameter of a counterexample.
#[derive(Debug, Clone, Serialize)]
pub struct ParamValues {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

/// Parameter values where the two sides differ.
#[derive(Debug, Clone, Serialize)]
pub struct Counterexample {
    pub widths: Vec<usize>,
    pub point: Vec<f64>,
    pub parameters: Vec<ParamValues>,
    /// The random σ of this draw, if the model has the generic `sigma`.
    pub sigma: Option<String>,
    /// The model's value (left side) and the claim's (right side).
    pub left: f64,
    pub right: f64,
}

/// One diagram whose multiple in the claim is not 1.
#[derive(Debug, Clone, Serialize)]
pub struct DiagramMismatch {
    /// Index form of the topology's contribution (text and LaTeX), symmetry factor included.
    pub text: String,
    pub latex: String,
    /// How many times the claim contains this contribution (1 would be right).
    pub claim_multiple: String,
    pub kind: String,
}

/// The discrepancy written as a combination of the order's diagrams.
#[derive(Debug, Clone, Serialize)]
pub struct DiagramAnalysis {
    /// Whether the discrepancy is (numerically) such a combination.
    pub explained: bool,
    pub mismatches: Vec<DiagramMismatch>,
    /// Every topology of the order (text), for reference.
    pub topologies: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Verified,
    Refuted,
}

/// The outcome of checking one claim.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub claim: String,
    pub origin: String,
    pub verdict: Verdict,
    pub symbolic: SymbolicOutcome,
    /// Width assignments n_0..n_L the numbers were drawn at.
    pub widths: Vec<Vec<usize>>,
    pub draws: usize,
    pub max_relative_discrepancy: f64,
    pub tolerance: f64,
    pub counterexample: Option<Counterexample>,
    pub diagrams: Option<DiagramAnalysis>,
}

/// Check one claim against a model.
pub fn check(model: &Model, claim: &Claim, opts: &Options) -> Result<Report> {
    if !(opts.tolerance.is_finite() && opts.tolerance >= 0.0) {
        // a NaN tolerance made every comparison false: a false claim was VERIFIED
        return Err(Error::invalid(
            format!(
                "the tolerance {} is not a finite number ≥ 0",
                opts.tolerance
            ),
            "give the largest relative discrepancy to accept, e.g. --tolerance 1e-8",
        ));
    }
    let r = resolve(model, claim)?;
    let sets = width_sets(model, &r.min_widths);
    check_budget(&r, &sets, opts)?;
    let symbolic = symbolic_stage(model, &r, &sets[0], opts);
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut worst: Option<(f64, Network, Option<String>, Vec<f64>, f64, f64)> = None;
    let mut draws = 0;
    let mut max_rel: f64 = 0.0;
    for w in &sets {
        for _ in 0..opts.draws {
            let (net, sigma) = random_network(model, w, &mut rng);
            let x0 = point(&r, w[0]);
            let left = eval_lhs(&r, &net, &x0)?;
            let right = eval_rhs(&r.rhs, &net, &x0)?;
            let rel = relative(left, right);
            draws += 1;
            if rel > max_rel || worst.is_none() {
                max_rel = max_rel.max(rel);
                worst = Some((rel, net, sigma, x0, left, right));
            }
        }
    }
    let refuted = max_rel > opts.tolerance;
    let (counterexample, diagrams) = match (&worst, refuted) {
        (Some((_, net, sigma, x0, left, right)), true) => {
            let cx = counterexample(model, net, sigma.clone(), x0, *left, *right);
            // the diagram analysis is extra: beyond the budget the verdict stands without it
            let an = match analyse(model, &r, &net.widths(), opts.seed ^ 0x5eed) {
                Err(Error::TooLarge { .. }) => None,
                other => other?,
            };
            (Some(cx), an)
        }
        _ => (None, None),
    };
    Ok(Report {
        claim: claim.text.trim().to_string(),
        origin: claim.origin.clone(),
        verdict: if refuted {
            Verdict::Refuted
        } else {
            Verdict::Verified
        },
        symbolic,
        widths: sets,
        draws,
        max_relative_discrepancy: max_rel,
        tolerance: opts.tolerance,
        counterexample,
        diagrams,
    })
}

/// Refuse before the first draw what the budget does not allow: the random networks of every
/// width set in memory, and draws × width sets expansions of the claim's order.
fn check_budget(r: &Resolved, sets: &[Vec<usize>], opts: &Options) -> Result<()> {
    let n = r.alpha.len();
    let mut per_draw = 0.0;
    let mut bytes: f64 = 0.0;
    for w in sets {
        let params: f64 = w.windows(2).map(|p| p[0] as f64 * p[1] as f64).sum();
        let neurons: f64 = w.iter().skip(1).map(|&x| x as f64).sum();
        bytes = bytes.max(params * 8.0 * 2.0);
        let expand = crate::numeric::basis::predicted_work(
            w[0],
            n,
            neurons as usize,
            params.min(usize::MAX as f64) as usize,
        );
        crate::budget::memory(
            format!("the order-{n} expansion at widths {w:?}"),
            crate::numeric::basis::predicted_bytes(w[0], n, w.iter().copied().max().unwrap_or(1))
                .unwrap_or(f64::INFINITY),
            crate::budget::DEFAULT_MEMORY_LIMIT,
            "lower the claim's order",
        )?;
        per_draw += expand + params * (r.slots as f64 + 1.0);
    }
    crate::budget::memory(
        "the random networks of the claim's widths",
        bytes,
        crate::budget::DEFAULT_MEMORY_LIMIT,
        "use smaller indices in the claim",
    )?;
    crate::budget::work(
        format!("{} draws at {} width set(s)", opts.draws, sets.len()),
        opts.draws as f64 * per_draw,
        "lower --draws or the claim's order",
    )
}

/// |a − b| / max(|a|, |b|), with an absolute floor so that two rounding-level zeros agree.
fn relative(a: f64, b: f64) -> f64 {
    if !(a.is_finite() && b.is_finite()) {
        return if a == b { 0.0 } else { f64::INFINITY };
    }
    (a - b).abs() / a.abs().max(b.abs()).max(1e-12)
}

#[cfg(feature = "symbolic")]
fn symbolic_stage(
    model: &Model,
    r: &Resolved,
    widths: &[usize],
    opts: &Options,
) -> SymbolicOutcome {
    if !opts.symbolic {
        return SymbolicOutcome::Skipped {
            reason: "not asked for (--numeric-only)".into(),
        };
    }
    let x0 = point(r, widths[0]);
    match crate::symbolic::check_claim(model, widths, &x0, r) {
        Ok(Some(0)) => SymbolicOutcome::Proved {
            widths: widths.to_vec(),
        },
        Ok(Some(terms)) => SymbolicOutcome::Nonzero {
            widths: widths.to_vec(),
            terms,
        },
        Ok(None) => SymbolicOutcome::Skipped {
            reason: "the claim uses a function the closed forms do not have".into(),
        },
        Err(e) => SymbolicOutcome::Skipped {
            reason: e.to_string(),
        },
    }
}

#[cfg(not(feature = "symbolic"))]
fn symbolic_stage(_: &Model, _: &Resolved, _: &[usize], _: &Options) -> SymbolicOutcome {
    SymbolicOutcome::Skipped {
        reason: "feynn was built without the `symbolic` feature".into(),
    }
}

fn counterexample(
    model: &Model,
    net: &Network,
    sigma: Option<String>,
    x0: &[f64],
    left: f64,
    right: f64,
) -> Counterexample {
    let mut parameters = vec![];
    for (l, layer) in model.layers.iter().enumerate() {
        let w = &net.weights[l];
        parameters.push(ParamValues {
            name: layer.weight.clone(),
            shape: w.shape().to_vec(),
            values: w.iter().copied().collect(),
        });
        parameters.push(ParamValues {
            name: layer.bias.clone(),
            shape: vec![net.biases[l].len()],
            values: net.biases[l].to_vec(),
        });
    }
    Counterexample {
        widths: net.widths(),
        point: x0.to_vec(),
        parameters,
        sigma,
        left,
        right,
    }
}

/// Fit claim − model over fresh draws by the contributions of the order's topologies.
fn analyse(
    model: &Model,
    r: &Resolved,
    widths: &[usize],
    seed: u64,
) -> Result<Option<DiagramAnalysis>> {
    let n = r.alpha.len();
    if n == 0 {
        return Ok(None);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut rows: Vec<Vec<f64>> = vec![];
    let mut rhs: Vec<f64> = vec![];
    let mut topos: Vec<Topology> = vec![];
    let factor = lhs_factor(r);
    let mut draws = 0;
    loop {
        let (net, _) = random_network(model, widths, &mut rng);
        let x0 = point(r, widths[0]);
        let parts = attribute_one(&net, &x0, &r.alpha, r.claim.lhs.output)?;
        let right = eval_rhs(&r.rhs, &net, &x0)?;
        let left: f64 = parts.iter().map(|(_, v)| v).sum::<f64>() * factor;
        rows.push(parts.iter().map(|(_, v)| v * factor).collect());
        rhs.push(right - left);
        if topos.is_empty() {
            topos = parts.into_iter().map(|(t, _)| t).collect();
        }
        draws += 1;
        if draws >= topos.len() + 6 {
            break;
        }
    }
    let m = topos.len();
    let a = nalgebra::DMatrix::from_fn(rows.len(), m, |i, j| rows[i][j]);
    let b = nalgebra::DVector::from_vec(rhs.clone());
    // scale columns so that vanishing diagrams (e.g. f'' = 0) do not spoil the fit
    let norms: Vec<f64> = (0..m).map(|j| a.column(j).norm()).collect();
    let big = norms.iter().cloned().fold(0.0, f64::max);
    let keep: Vec<usize> = (0..m)
        .filter(|&j| norms[j] > 1e-12 * big.max(1e-300))
        .collect();
    let scaled = nalgebra::DMatrix::from_fn(rows.len(), keep.len(), |i, k| {
        a[(i, keep[k])] / norms[keep[k]]
    });
    let svd = scaled.svd(true, true);
    let sol = match svd.solve(&b, 1e-10) {
        Ok(s) => s,
        Err(_) => return Ok(None),
    };
    let mut c = vec![0.0; m];
    for (k, &j) in keep.iter().enumerate() {
        c[j] = sol[k] / norms[j];
    }
    let rounded: Vec<f64> = c.iter().map(|&x| simple_fraction(x).0).collect();
    let fit = &a * nalgebra::DVector::from_vec(rounded.clone());
    let resid = (&fit - &b).norm();
    let explained = resid <= 1e-6 * b.norm().max(1e-300);
    let output_layer = model.layers.len();
    let out_name = output_name(r.claim.lhs.output, *widths.last().unwrap());
    let mismatches = topos
        .iter()
        .zip(&rounded)
        .filter(|(_, c)| c.abs() > 1e-9)
        .map(|(t, &c)| {
            let term = index_term(t, output_layer, &out_name);
            let (_, frac) = simple_fraction(1.0 + c);
            let kind = match 1.0 + c {
                x if x.abs() < 1e-9 => "missing".to_string(),
                x if (x + 1.0).abs() < 1e-9 => "sign flipped".to_string(),
                x if (x - 2.0).abs() < 1e-9 => {
                    "counted twice (a symmetry factor 1/2 missing?)".to_string()
                }
                x if x > 1.0 => "in excess".to_string(),
                _ => "partly missing".to_string(),
            };
            DiagramMismatch {
                text: term.text(),
                latex: term.latex(),
                claim_multiple: frac,
                kind,
            }
        })
        .collect();
    Ok(Some(DiagramAnalysis {
        explained,
        mismatches,
        topologies: m,
    }))
}

/// The nearest fraction p/q with q ≤ 24 when within 1e-6, else the number itself.
fn simple_fraction(x: f64) -> (f64, String) {
    for q in 1..=24i64 {
        let p = (x * q as f64).round();
        if (p / q as f64 - x).abs() <= 1e-6 * x.abs().max(1.0) {
            let v = p / q as f64;
            return (
                v,
                if q == 1 {
                    format!("{p}")
                } else {
                    format!("{p}/{q}")
                },
            );
        }
    }
    (x, format!("{x:.6}"))
}

impl Report {
    /// Human-readable report.
    pub fn text(&self) -> String {
        let mut s = format!("claim ({}): {}\n", self.origin, self.claim);
        let w = |v: &[usize]| {
            v.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join("-")
        };
        match &self.symbolic {
            SymbolicOutcome::Proved { widths } => s += &format!(
                "  symbolic: the difference expands to 0 at widths {}\n",
                w(widths)
            ),
            SymbolicOutcome::Nonzero { widths, terms } => s += &format!(
                "  symbolic: inconclusive — the difference does not expand to 0 at widths {} ({terms} terms; identities such as tanh' = 1 - tanh^2 are applied, others are not)\n",
                w(widths)
            ),
            SymbolicOutcome::Skipped { reason } => s += &format!("  symbolic: skipped — {reason}\n"),
        }
        s += &format!(
            "  numeric: {} random draws at widths {}; largest relative discrepancy {:.3e} (tolerance {:.0e})\n",
            self.draws,
            self.widths.iter().map(|v| w(v)).collect::<Vec<_>>().join(", "),
            self.max_relative_discrepancy,
            self.tolerance
        );
        if let Some(c) = &self.counterexample {
            let x0 = if c.point.iter().all(|&v| v == 0.0) {
                "0".to_string()
            } else {
                format!("{:?}", c.point)
            };
            s += &format!("  counterexample at widths {}, x0 = {x0}:\n", w(&c.widths));
            s += &format!(
                "    model (left)  = {:.15e}\n    claim (right) = {:.15e}\n",
                c.left, c.right
            );
            if let Some(sig) = &c.sigma {
                s += &format!("    sigma(z) = {sig}\n");
            }
            for p in &c.parameters {
                let shown: Vec<String> = p
                    .values
                    .iter()
                    .take(12)
                    .map(|v| format!("{v:.6}"))
                    .collect();
                let more = if p.values.len() > 12 { ", …" } else { "" };
                s += &format!(
                    "    {} {:?} = [{}{more}]\n",
                    p.name,
                    p.shape,
                    shown.join(", ")
                );
            }
        }
        if let Some(d) = &self.diagrams {
            if d.explained && !d.mismatches.is_empty() {
                let plural = if d.topologies == 1 { "y" } else { "ies" };
                s += &format!(
                    "  diagrams (of the {} topolog{plural} of this order):\n",
                    d.topologies
                );
                for m in &d.mismatches {
                    s += &format!(
                        "    {}: the claim has {} × {}\n      LaTeX: {}\n",
                        m.kind, m.claim_multiple, m.text, m.latex
                    );
                }
            } else {
                s += "  diagrams: the discrepancy is not a combination of this order's diagrams (a wrong index, parameter or activation, or a term of another order?)\n";
            }
        }
        s += match self.verdict {
            Verdict::Verified => "VERIFIED\n",
            Verdict::Refuted => "REFUTED\n",
        };
        s
    }
}

/// Read claims: one per non-empty line of a file; `#` or `//` start comments. Diagnostics
/// give the file's line and column.
pub fn parse_claim_file(path: &str, text: &str) -> Result<Vec<Claim>> {
    let mut out = vec![];
    for (i, line) in text.lines().enumerate() {
        let body = line.split("//").next().unwrap_or("");
        let body = body.split('#').next().unwrap_or("");
        if body.trim().is_empty() {
            continue;
        }
        // pad with the lines before it, so that spans carry the file's line numbers
        let padded = format!("{}{body}", "\n".repeat(i));
        out.push(parse_claim(path, &padded).map_err(Error::Spec)?);
    }
    if out.is_empty() {
        return Err(Error::invalid(
            format!("{path} holds no claims"),
            "one claim per line: `d2y/dx1dx2 = …`",
        ));
    }
    Ok(out)
}
