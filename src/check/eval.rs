//! Both sides of a claim as numbers on one network at one point.

use crate::claim::{Ix, LhsKind, Resolved, Rhs};
use crate::error::Result;
use crate::model::{Activation, Network};
use crate::numeric::Basis;
use crate::numeric::{Expander, Options as NumericOptions};

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
pub(super) fn eval_lhs(r: &Resolved, net: &Network, x0: &[f64]) -> Result<f64> {
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

pub(super) fn lhs_factor(r: &Resolved) -> f64 {
    match r.claim.lhs.kind {
        LhsKind::Derivative => Basis::alpha_factorial(&r.alpha),
        LhsKind::Taylor => 1.0,
    }
}
