//! Size prediction of the expanded closed forms, before anything runs (no Symbolica).
//!
//! The bound mirrors the diagram route with term counts in place of expressions: a sum adds
//! counts, a product multiplies them, a function call is one term. It ignores cancellation and
//! merging, so it over-estimates; it is used to refuse requests that would not finish.

use crate::diagrams::{unlabelled, Node};
use crate::dsl::Expr;
use crate::model::Activation;

use super::net::NetSpec;

/// Upper bound on the expanded terms of an expression in `z` with `z` itself `tz` terms.
fn expr_terms(e: &Expr, tz: f64) -> f64 {
    match e {
        Expr::Num(..) => 1.0,
        Expr::Var(v) if v == "z" => tz,
        Expr::Var(_) => 1.0,
        Expr::Neg(a) => expr_terms(a, tz),
        Expr::Add(a, b) | Expr::Sub(a, b) => expr_terms(a, tz) + expr_terms(b, tz),
        Expr::Mul(a, b) => expr_terms(a, tz) * expr_terms(b, tz),
        // a denominator stays one factor
        Expr::Div(a, _) => expr_terms(a, tz),
        Expr::Pow(a, b) => match **b {
            Expr::Num(p, _) if p >= 1.0 && p.fract() == 0.0 => {
                multiset(expr_terms(a, tz), p as usize)
            }
            _ => 1.0,
        },
        Expr::Call(..) => 1.0,
    }
}

fn parse_expr(src: &str) -> Option<Expr> {
    crate::dsl::parse_spec("<closed form>", &format!("let f = {src}"))
        .ok()
        .map(|f| f.lets[0].value.clone())
}

/// Terms of f^(k)(u) for an argument of `tu` terms.
fn act_terms(act: &Activation, k: usize, tu: f64) -> f64 {
    match act {
        Activation::Sigma => 1.0,
        Activation::Builtin(_) => act
            .derivative_closed_form(k)
            .and_then(|s| parse_expr(&s))
            .map_or(tu, |e| expr_terms(&e, tu)),
        Activation::Custom { body, .. } => deriv_terms(body, tu, k)[k],
    }
}

/// C(x+m-1, m): products of m factors drawn with repetition from x distinct terms.
fn multiset(x: f64, m: usize) -> f64 {
    (0..m).map(|i| (x + i as f64) / (i + 1) as f64).product()
}

/// Upper bounds on the expanded terms of e, e', …, e^(kmax) (derivatives in `z`): sums add,
/// products follow Leibniz, a function of an inner expression follows Faà di Bruno (every
/// derivative of a function is one term).
fn deriv_terms(e: &Expr, tz: f64, kmax: usize) -> Vec<f64> {
    let zero = || vec![0.0; kmax + 1];
    let leibniz = |a: &[f64], b: &[f64]| -> Vec<f64> {
        (0..=kmax)
            .map(|k| (0..=k).map(|i| a[i] * b[k - i]).sum())
            .collect()
    };
    let compose = |inner: &[f64]| -> Vec<f64> {
        // Σ over integer partitions λ of k of the distinct products of inner parts: set
        // partitions of one block type give identical terms, and m equal parts of x terms
        // give C(x+m-1, m) distinct products
        let mut p = vec![0.0; kmax + 1];
        p[0] = 1.0;
        for j in 1..=kmax {
            let prev = p.clone();
            for n in j..=kmax {
                p[n] = (0..=n / j)
                    .map(|m| prev[n - m * j] * multiset(inner[j], m))
                    .sum();
            }
        }
        p
    };
    match e {
        Expr::Num(..) => {
            let mut v = zero();
            v[0] = 1.0;
            v
        }
        Expr::Var(x) if x == "z" => {
            let mut v = zero();
            v[0] = tz;
            if kmax >= 1 {
                v[1] = 1.0;
            }
            v
        }
        Expr::Var(_) => deriv_terms(&Expr::Num(1.0, "1".into()), tz, kmax),
        Expr::Neg(a) => deriv_terms(a, tz, kmax),
        Expr::Add(a, b) | Expr::Sub(a, b) => deriv_terms(a, tz, kmax)
            .iter()
            .zip(deriv_terms(b, tz, kmax))
            .map(|(x, y)| x + y)
            .collect(),
        Expr::Mul(a, b) => leibniz(&deriv_terms(a, tz, kmax), &deriv_terms(b, tz, kmax)),
        // a/b = a · g(b), g one function term
        Expr::Div(a, b) => leibniz(
            &deriv_terms(a, tz, kmax),
            &compose(&deriv_terms(b, tz, kmax)),
        ),
        Expr::Pow(a, b) => match **b {
            Expr::Num(p, _) if (1.0..=16.0).contains(&p) && p.fract() == 0.0 => {
                let da = deriv_terms(a, tz, kmax);
                let mut acc = da.clone();
                for _ in 1..p as usize {
                    acc = leibniz(&acc, &da);
                }
                // a sum to the p-th power has C(T+p-1, p) distinct products, not T^p
                acc[0] = multiset(da[0], p as usize);
                acc
            }
            _ => compose(&deriv_terms(a, tz, kmax)),
        },
        Expr::Call(_, args) => compose(&deriv_terms(&args[0], tz, kmax)),
    }
}

/// Predicted number of expanded terms of all coefficients of orders 0..=order.
#[allow(clippy::needless_range_loop)] // layer-indexed tables read clearest with indices
pub fn predicted_terms(spec: &NetSpec, order: usize) -> f64 {
    let l_count = spec.layers();
    let w = &spec.widths;
    // terms of z^(l) and of the vertex values f_l^(k)(z^(l))
    let mut tz = vec![0.0; l_count + 1];
    // terms of one input coordinate a^(0)_i at the point: p_i, or nothing at the origin
    let mut ta = if spec.point_symbols { 1.0 } else { 0.0 };
    let maxk = order.max(1);
    let mut tv = vec![vec![1.0; maxk + 1]; l_count + 1];
    for l in 1..=l_count {
        tz[l] = w[l - 1] as f64 * ta + 1.0;
        match &spec.activations[l - 1] {
            Some(a) => {
                for (k, t) in tv[l].iter_mut().enumerate() {
                    *t = act_terms(a, k, tz[l]);
                }
                ta = tv[l][0];
            }
            None => ta = tz[l],
        }
    }
    // terms of one entry of D^(l,m)
    let mut tp = vec![vec![1.0; l_count + 1]; l_count + 1];
    for l in 1..=l_count {
        for m in 0..l.saturating_sub(1) {
            tp[l][m] = w[l - 1] as f64 * tv[l - 1][1] * tp[l - 1][m];
        }
    }
    fn line(n: &Node, parent: usize, w: &[usize], tp: &[Vec<f64>], tv: &[Vec<f64>]) -> f64 {
        match n {
            Node::Leaf(_) => tp[parent][0],
            Node::Vertex { layer, .. } => {
                w[*layer] as f64 * tp[parent][*layer] * vertex(n, w, tp, tv)
            }
        }
    }
    fn vertex(n: &Node, w: &[usize], tp: &[Vec<f64>], tv: &[Vec<f64>]) -> f64 {
        let Node::Vertex { layer, children } = n else {
            unreachable!()
        };
        let k = children.len().min(tv[*layer].len() - 1);
        tv[*layer][k]
            * children
                .iter()
                .map(|c| line(c, *layer, w, tp, tv))
                .product::<f64>()
    }
    let outputs = spec.outputs() as f64;
    let mut total = outputs * ta;
    let d = spec.inputs() as f64;
    let mut monomials = 1.0;
    for n in 1..=order {
        // number of sorted multi-indices of degree n: C(d+n-1, n)
        monomials = monomials * (d + n as f64 - 1.0) / n as f64;
        let fact: f64 = (1..=n).map(|k| k as f64).product();
        let per: f64 = unlabelled(n, l_count - 1, spec.output_activation())
            .iter()
            .map(|t| {
                let labellings = fact
                    / num_traits::ToPrimitive::to_f64(&t.automorphisms).unwrap_or(f64::INFINITY);
                let v = match &t.tree {
                    Node::Vertex { layer, .. } if *layer == l_count => vertex(&t.tree, w, &tp, &tv),
                    other => line(other, l_count, w, &tp, &tv),
                };
                labellings * v
            })
            .sum();
        total += outputs * monomials * per;
    }
    total
}

/// Number of coefficients (all outputs, |α| ≤ order).
pub fn coefficient_count(spec: &NetSpec, order: usize) -> f64 {
    let d = spec.inputs() as f64;
    let mut m = 1.0;
    let mut total = 1.0;
    for n in 1..=order {
        m = m * (d + n as f64 - 1.0) / n as f64;
        total += m;
    }
    total * spec.outputs() as f64
}
