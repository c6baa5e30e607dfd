//! The symbolic stage of `feynn check` (Symbolica thread only): the claim's right side with
//! every sum written out, minus the model's closed form, expanded.

use symbolica::atom::{Atom, AtomCore};
use symbolica::try_parse;

use super::net::{rational_text, SymNet};
use super::routes::DiagramRoute;
use super::{net_spec, on_symbolica_thread, predicted_terms, syms, MAX_TERMS};
use crate::claim::{Ix, LhsKind, Resolved, Rhs};
use crate::error::{Error, Result};
use crate::model::{Activation, Model};
use crate::numeric::Basis;

/// Number of terms of (claim − model) expanded at the given widths: `Some(0)` proves the claim
/// there; `None` when the right side cannot be written in Symbolica's terms.
pub fn check_claim(
    model: &Model,
    widths: &[usize],
    x0: &[f64],
    r: &Resolved,
) -> Result<Option<usize>> {
    let spec = net_spec(model, Some(widths), Some(x0))?;
    let n = r.alpha.len();
    // one coefficient's share of the order's predicted terms
    let monomials = (1..=n).fold(1.0, |m, k| m * (spec.inputs() + k - 1) as f64 / k as f64);
    let one = (predicted_terms(&spec, n)
        - if n > 0 {
            predicted_terms(&spec, n - 1)
        } else {
            0.0
        })
        / (monomials * spec.outputs() as f64);
    if one.is_nan() || one > MAX_TERMS {
        return Err(Error::TooLarge {
            what: format!("the closed form of one order-{n} coefficient"),
            predicted: format!("{one:.3e} terms"),
            limit: format!("{MAX_TERMS:.0} terms"),
            help: "the numeric check does not need it".into(),
        });
    }
    let (rhs, alpha, output) = (r.rhs.clone(), r.alpha.clone(), r.claim.lhs.output);
    let factor = match r.claim.lhs.kind {
        LhsKind::Derivative => Basis::alpha_factorial(&r.alpha) as i64,
        LhsKind::Taylor => 1,
    };
    let max_k = n.max(max_derivative(&rhs)).max(1);
    on_symbolica_thread(move || -> Result<Option<usize>> {
        let snet = SymNet::new(&spec, max_k)?;
        let route = DiagramRoute::new(&snet, n);
        let c = if n == 0 {
            route.order_zero()[output][0].1.clone()
        } else {
            route.coefficient(&alpha).swap_remove(output)
        };
        let left = snet.substitute(&(c * &Atom::num(factor)));
        let mut env = vec![0usize; 64];
        let Some(right) = build(&rhs, &snet, &mut env) else {
            return Ok(None);
        };
        let diff =
            syms::special(|sp| super::net::elementary(&(&left - &right).expand(), sp)).expand();
        Ok(Some(if diff.is_zero() {
            0
        } else {
            diff.nterms().max(1)
        }))
    })
}

fn max_derivative(t: &Rhs) -> usize {
    match t {
        Rhs::Act { k, arg, .. } | Rhs::Builtin { k, arg, .. } => (*k).max(max_derivative(arg)),
        Rhs::Neg(a) | Rhs::Func(_, a) => max_derivative(a),
        Rhs::Sum { body, .. } => max_derivative(body),
        Rhs::Add(a, b) | Rhs::Sub(a, b) | Rhs::Mul(a, b) | Rhs::Div(a, b) | Rhs::Pow(a, b) => {
            max_derivative(a).max(max_derivative(b))
        }
        _ => 0,
    }
}

/// `template(feynn_z)` with feynn_z replaced by `arg`.
fn apply(template: &str, arg: &Atom) -> Option<Atom> {
    let t = try_parse!(template).ok()?;
    Some(
        t.replace(Atom::var(syms::special(|sp| sp.z)))
            .with(arg.clone()),
    )
}

fn build(t: &Rhs, net: &SymNet, env: &mut Vec<usize>) -> Option<Atom> {
    Some(match t {
        Rhs::Num(v, text) => match rational_text(text) {
            Some(r) => try_parse!(&r).ok()?,
            None => try_parse!(&format!("{v:e}")).ok()?,
        },
        Rhs::Pi => Atom::var(symbolica::atom::Symbol::PI),
        Rhs::Point(i) => net.x0[match i {
            Ix::Lit(i) => *i,
            Ix::Slot(s) => env[*s],
        }]
        .clone(),
        Rhs::Param { layer, bias, idx } => {
            let ix = |k: usize| match idx[k] {
                Ix::Lit(i) => i,
                Ix::Slot(s) => env[s],
            };
            if *bias {
                net.b[layer - 1][ix(0)].clone()
            } else {
                net.w[layer - 1][ix(0)][ix(1)].clone()
            }
        }
        Rhs::Neg(a) => -build(a, net, env)?,
        Rhs::Add(a, b) => build(a, net, env)? + build(b, net, env)?,
        Rhs::Sub(a, b) => build(a, net, env)? - build(b, net, env)?,
        Rhs::Mul(a, b) => build(a, net, env)? * build(b, net, env)?,
        Rhs::Div(a, b) => build(a, net, env)? / build(b, net, env)?,
        Rhs::Pow(a, b) => {
            let (x, y) = (build(a, net, env)?, build(b, net, env)?);
            let w = syms::internal("feynn_w");
            let t = try_parse!(&format!("{}^feynn_w", syms::Z)).ok()?;
            t.replace(Atom::var(syms::special(|sp| sp.z)))
                .with(x)
                .replace(Atom::var(w))
                .with(y)
        }
        Rhs::Act { layer, k, arg } => {
            let u = build(arg, net, env)?;
            net.act(*layer, *k, &u)
        }
        Rhs::Builtin { b, k, arg } => {
            let u = build(arg, net, env)?;
            let cf = Activation::Builtin(*b).derivative_closed_form(*k)?;
            apply(&cf.replace('z', syms::Z), &u)?.expand()
        }
        Rhs::Func(f, arg) => {
            let u = build(arg, net, env)?;
            apply(&format!("{f}({})", syms::Z), &u)?
        }
        Rhs::Sum { slot, width, body } => {
            let n = net.spec.widths[*width];
            if env.len() <= *slot {
                env.resize(slot + 1, 0);
            }
            let mut terms = Vec::with_capacity(n);
            for j in 0..n {
                env[*slot] = j;
                terms.push(build(body, net, env)?);
            }
            Atom::add_many(terms.iter())
        }
    })
}
