//! Binding a parsed claim to a model: names to layers and parameters, every summation variable
//! to the width it runs over, and the least widths the claim needs.

use super::parse::{Claim, Index, LhsKind, Term};
use crate::budget::MAX_CLAIM_ORDER;
use crate::dsl::{Span, Width};
use crate::error::{Error, Result};
use crate::model::{Builtin, Model};

/// The claim's right side, resolved against a model: names bound to layers and parameters,
/// every summation variable with the width it runs over.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// A number with its source text.
    Num(f64, String),
    /// A coordinate of the expansion point (`x2`, or `x[i]` in a sum).
    Point(Ix),
    /// The constant π.
    Pi,
    /// W^(layer) (`bias` false, indices row, column) or b^(layer); layer 1-based.
    Param {
        /// Layer l (1-based).
        layer: usize,
        /// Whether this is the bias b^(l) rather than W^(l).
        bias: bool,
        /// Neuron indices (row, column for W).
        idx: Vec<Ix>,
    },
    /// −a.
    Neg(Box<Rhs>),
    /// a + b.
    Add(Box<Rhs>, Box<Rhs>),
    /// a − b.
    Sub(Box<Rhs>, Box<Rhs>),
    /// a · b.
    Mul(Box<Rhs>, Box<Rhs>),
    /// a / b.
    Div(Box<Rhs>, Box<Rhs>),
    /// a ^ b.
    Pow(Box<Rhs>, Box<Rhs>),
    /// f_layer^(k)(arg), the activation of a layer of the model.
    Act {
        /// Layer l (1-based).
        layer: usize,
        /// Derivative order k.
        k: usize,
        /// The argument.
        arg: Box<Rhs>,
    },
    /// A built-in activation the model does not use, k-th derivative.
    Builtin {
        /// The built-in.
        b: Builtin,
        /// Derivative order k.
        k: usize,
        /// The argument.
        arg: Box<Rhs>,
    },
    /// exp, log, sin, cos, sqrt, erf.
    Func(String, Box<Rhs>),
    /// Σ_{slot = 1..n_width} body.
    Sum {
        /// The summation slot.
        slot: usize,
        /// Layer l whose width n_l the sum runs over.
        width: usize,
        /// The summand.
        body: Box<Rhs>,
    },
}

/// A neuron index: 0-based literal, or a summation slot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ix {
    /// A fixed index (0-based).
    Lit(usize),
    /// A summation slot.
    Slot(usize),
}

/// A claim ready to evaluate.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The claim as parsed.
    pub claim: Claim,
    /// Its right side, resolved.
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
