//! A network with symbolic parameters (Symbolica thread only): W^(l), b^(l) as symbols, the
//! activations as derivative templates f^(k)(z), and the pre-activations at the expansion point.

use std::collections::HashMap;

use symbolica::atom::{Atom, AtomCore, AtomView, Symbol};
use symbolica::{parse, try_parse};

use super::syms::{self, Special};
use crate::dsl::Expr;
use crate::error::{Error, Result};
use crate::model::Activation;

/// What the symbolic layer needs to know about a model (plain data, sent to the worker).
#[derive(Debug, Clone)]
pub struct NetSpec {
    /// n_0 .. n_L
    pub widths: Vec<usize>,
    /// Symbol names of W^(l), l = 1..L (index l-1).
    pub weight_names: Vec<String>,
    /// Symbol names of b^(l), l = 1..L (index l-1).
    pub bias_names: Vec<String>,
    /// Activation of layer l (index l-1; None: linear).
    pub activations: Vec<Option<Activation>>,
    /// Some(point) with a nonzero coordinate: the point enters as symbols p_1..p_d.
    pub point_symbols: bool,
}

impl NetSpec {
    /// L, the number of affine layers.
    pub fn layers(&self) -> usize {
        self.widths.len() - 1
    }
    /// Input dimension n_0 = d.
    pub fn inputs(&self) -> usize {
        self.widths[0]
    }
    /// Number of outputs n_L.
    pub fn outputs(&self) -> usize {
        *self.widths.last().unwrap()
    }
    /// Whether the output layer has an activation.
    pub fn output_activation(&self) -> bool {
        self.activations.last().is_some_and(|a| a.is_some())
    }
}

/// How f^(k) of one layer is built.
enum Template {
    /// f^(0..=K)(z) as expressions in `z`: built-in closed forms, or a custom body
    /// differentiated by Symbolica.
    InZ(Vec<Atom>),
    /// The generic σ of layer l, or a custom activation Symbolica cannot differentiate:
    /// dsigma(l, k, u).
    Generic(usize),
}

/// A network with Symbolica atoms for its parameters, point and activation derivatives.
pub struct SymNet {
    /// The plain-data description it was built from.
    pub spec: NetSpec,
    /// w[l-1][i][j] = W^(l)_{i+1, j+1}
    pub w: Vec<Vec<Vec<Atom>>>,
    /// b[l-1][i] = b^(l)_{i+1}.
    pub b: Vec<Vec<Atom>>,
    /// a^(0) at the expansion point: 0 or p_i.
    pub x0: Vec<Atom>,
    templates: Vec<Option<Template>>,
    z: Symbol,
    dsigma: Symbol,
    /// vsym[l-1][j][k]: the vertex symbol V_{l,j,k} standing for f_l^(k)(z^(l)_j(x0))
    vsym: Vec<Vec<Vec<Symbol>>>,
    /// its value: the closed form, nesting the pre-activations of the layers below
    values: HashMap<Symbol, Atom>,
    /// Every value is a monomial (no sum outside function arguments), so substitution keeps
    /// an expanded polynomial expanded.
    monomial_values: bool,
}

/// An expression in DSL syntax with exact rational numbers (`0.25` becomes `1/4`).
pub fn expr_source(e: &Expr) -> String {
    fn go(e: &Expr) -> String {
        match e {
            Expr::Num(v, text) => rational_text(text).unwrap_or_else(|| format!("{v:e}")),
            Expr::Var(v) if v == "z" => syms::Z.to_string(),
            Expr::Var(v) => v.clone(),
            Expr::Neg(a) => format!("(-({}))", go(a)),
            Expr::Add(a, b) => format!("(({})+({}))", go(a), go(b)),
            Expr::Sub(a, b) => format!("(({})-({}))", go(a), go(b)),
            Expr::Mul(a, b) => format!("(({})*({}))", go(a), go(b)),
            Expr::Div(a, b) => format!("(({})/({}))", go(a), go(b)),
            Expr::Pow(a, b) => format!("(({})^({}))", go(a), go(b)),
            Expr::Call(f, args) => {
                format!("{f}({})", args.iter().map(go).collect::<Vec<_>>().join(","))
            }
        }
    }
    go(e)
}

/// `1.25e-3` → `125/100000`; None if the text is not a plain decimal literal.
pub(crate) fn rational_text(text: &str) -> Option<String> {
    let t = text.trim();
    let (mant, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i64>().ok()?),
        None => (t, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if !(int.chars().all(|c| c.is_ascii_digit()) && frac.chars().all(|c| c.is_ascii_digit()))
        || (int.is_empty() && frac.is_empty())
    {
        return None;
    }
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let scale = exp - frac.len() as i64;
    if scale.abs() > 400 {
        return None;
    }
    Some(if scale >= 0 {
        format!("{digits}{}", "0".repeat(scale as usize))
    } else {
        format!("({digits}/1{})", "0".repeat((-scale) as usize))
    })
}

/// The DSL's sigmoid and softplus in functions Symbolica differentiates and evaluates. A
/// replacement does not look inside what its wildcard matched, so repeat until none is left.
pub fn elementary(a: &Atom, sp: &Special) -> Atom {
    let x_ = syms::internal("x_");
    let mut a = a.clone();
    while a.contains_symbol(sp.sigmoid) || a.contains_symbol(sp.softplus) {
        a = a
            .replace(sp.sigmoid.call(x_))
            .with(parse!("1/(1+exp(-x_))"));
        a = a
            .replace(sp.softplus.call(x_))
            .with(parse!("log(1+exp(x_))"));
    }
    a
}

impl SymNet {
    /// `max_k`: the highest derivative that will be asked for.
    pub fn new(spec: &NetSpec, max_k: usize) -> Result<SymNet> {
        let (z, dsigma) = syms::special(|s| (s.z, s.dsigma));
        let l_count = spec.layers();
        let mut w = Vec::with_capacity(l_count);
        let mut b = Vec::with_capacity(l_count);
        for l in 1..=l_count {
            let (rows, cols) = (spec.widths[l], spec.widths[l - 1]);
            w.push(
                (1..=rows)
                    .map(|i| {
                        (1..=cols)
                            .map(|j| Atom::var(syms::param(&spec.weight_names[l - 1], &[i, j])))
                            .collect()
                    })
                    .collect(),
            );
            b.push(
                (1..=rows)
                    .map(|i| Atom::var(syms::param(&spec.bias_names[l - 1], &[i])))
                    .collect(),
            );
        }
        let x0 = (1..=spec.inputs())
            .map(|i| {
                if spec.point_symbols {
                    Atom::var(syms::param("p", &[i]))
                } else {
                    Atom::num(0)
                }
            })
            .collect();
        let mut templates = Vec::with_capacity(l_count);
        for (l, act) in spec.activations.iter().enumerate() {
            templates.push(match act {
                None => None,
                Some(Activation::Sigma) => Some(Template::Generic(l + 1)),
                Some(a @ Activation::Builtin(_)) => Some(Template::InZ(
                    (0..=max_k)
                        .map(|k| {
                            let cf = a
                                .derivative_closed_form(k)
                                .expect("built-ins have closed forms");
                            // no function name of a closed form contains a `z`
                            try_parse!(cf.replace('z', syms::Z)).expect("closed forms parse")
                        })
                        .collect(),
                )),
                Some(Activation::Custom { name, body }) => {
                    let src = expr_source(body);
                    let atom = try_parse!(&src).map_err(|e| {
                        Error::invalid(
                            format!("activation `{name}`: Symbolica cannot read `{src}` ({e})"),
                            "use the functions of the spec language",
                        )
                    })?;
                    let atom = syms::special(|sp| elementary(&atom, sp));
                    let free: Vec<String> = atom
                        .get_all_symbols(false)
                        .iter()
                        .filter(|s| **s != z && **s != Symbol::PI && **s != Symbol::E)
                        .map(|s| s.get_stripped_name().to_string())
                        .collect();
                    if !free.is_empty() {
                        return Err(Error::invalid(
                            format!(
                                "activation `{name}` uses `{}`, which has no value",
                                free.join("`, `")
                            ),
                            format!("give it one with `let {} = ...` in the spec", free[0]),
                        ));
                    }
                    let mut ts = vec![atom];
                    while ts.len() <= max_k {
                        let next = ts.last().unwrap().derivative(z);
                        ts.push(next);
                    }
                    // Symbolica leaves `der(…)` where it knows no derivative: keep σ^(k) symbols then.
                    if ts.iter().any(|t| t.contains_symbol(Symbol::DERIVATIVE)) {
                        Some(Template::Generic(l + 1))
                    } else {
                        Some(Template::InZ(ts))
                    }
                }
            });
        }
        let mut net = SymNet {
            spec: spec.clone(),
            w,
            b,
            x0,
            templates,
            z,
            dsigma,
            vsym: vec![],
            values: HashMap::new(),
            monomial_values: false,
        };
        net.forward(max_k);
        net.monomial_values = net.values.values().all(|v| is_monomial(v.as_view()));
        Ok(net)
    }

    /// Pre-activations at the expansion point, layer by layer, and the values of the vertex
    /// symbols: V_{l,j,k} = f_l^(k)(z^(l)_j), z^(l) = W^(l) f_{l-1}(z^(l-1)) + b^(l), expanded.
    fn forward(&mut self, max_k: usize) {
        let mut a = self.x0.clone();
        for l in 1..=self.spec.layers() {
            let z: Vec<Atom> = self.w[l - 1]
                .iter()
                .zip(&self.b[l - 1])
                .map(|(row, b)| {
                    (Atom::add_many(row.iter().zip(&a).map(|(w, x)| w * x)) + b).expand()
                })
                .collect();
            if !self.has_act(l) {
                self.vsym.push(vec![]);
                a = z;
                continue;
            }
            let mut layer = Vec::with_capacity(z.len());
            for (j, zj) in z.iter().enumerate() {
                let mut ks = Vec::with_capacity(max_k + 1);
                for k in 0..=max_k {
                    let s = syms::internal(&format!("feynn_v_{l}_{}_{k}", j + 1));
                    self.values.insert(s, self.act(l, k, zj));
                    ks.push(s);
                }
                layer.push(ks);
            }
            a = layer.iter().map(|ks| self.values[&ks[0]].clone()).collect();
            self.vsym.push(layer);
        }
    }

    /// The vertex symbol V_{l,j,k} (layer l 1-based, neuron j 0-based): f_l^(k)(z^(l)_j) at x0.
    pub fn v(&self, l: usize, j: usize, k: usize) -> Atom {
        Atom::var(self.vsym[l - 1][j][k])
    }

    /// Replace every vertex symbol by its closed form, and expand.
    pub fn substitute(&self, a: &Atom) -> Atom {
        let r = a.replace_map(|t, _ctx, out| {
            if let AtomView::Var(v) = t {
                if let Some(val) = self.values.get(&v.get_symbol()) {
                    **out = val.clone();
                }
            }
        });
        // An expanded polynomial stays expanded when its symbols become monomials (the generic
        // σ's values are calls dsigma(l, k, z)); the expand pass then only re-reads every term,
        // about a fifth of the closed forms' run time at order 5.
        if self.monomial_values {
            r
        } else {
            r.expand()
        }
    }

    /// f_l^(k)(arg) (l 1-based), expanded.
    pub fn act(&self, l: usize, k: usize, arg: &Atom) -> Atom {
        match self.templates[l - 1]
            .as_ref()
            .expect("layer has an activation")
        {
            Template::Generic(layer) => self.dsigma.call((*layer as i64, k as i64, arg)),
            Template::InZ(ts) => ts[k].replace(Atom::var(self.z)).with(arg.clone()).expand(),
        }
    }

    /// Whether layer l (1-based) has an activation.
    pub fn has_act(&self, l: usize) -> bool {
        self.templates[l - 1].is_some()
    }
}

/// A product of numbers, symbols, function calls and their numeric powers: no sum that expansion
/// would distribute (sums inside function arguments do not count).
fn is_monomial(v: AtomView<'_>) -> bool {
    match v {
        AtomView::Num(_) | AtomView::Var(_) | AtomView::Fun(_) => true,
        AtomView::Mul(m) => m.iter().all(is_monomial),
        AtomView::Pow(p) => {
            let (base, exp) = p.get_base_exp();
            is_monomial(base) && matches!(exp, AtomView::Num(_))
        }
        AtomView::Add(_) => false,
    }
}
