//! Taylor coefficients against truth from outside the library.
//!
//! The reference is the test's own forward pass over nested dual numbers (tests/common/dual.rs):
//! four nested infinitesimals, one per derivative slot, give every mixed derivative ∂^α y up to
//! order 4 exactly (to rounding). The library's `numeric::Expander` must satisfy
//! c_α · α! = ∂^α y for every sorted multi-index α of order 0..=4. A second, cruder route —
//! central finite differences in plain f64 — checks orders 1 and 2.

mod common;

use common::dual::{Dual, Scalar, D4};
use common::*;
use feynn::numeric::{Expander, Options};

const REL: f64 = 1e-10;
const MAX_ORDER: usize = 4;

/// Check every coefficient of orders 0..=4 of `r` against the dual-number derivatives at `x0`.
fn check_against_duals(r: &RefNet, x0: &[f64], label: &str) {
    let net = r.network();
    let ex = Expander::new(
        &net,
        &Options {
            order: MAX_ORDER,
            ..Options::default()
        },
    )
    .unwrap();
    let e = ex.expand(x0).unwrap();
    let outs = r.outputs();
    assert_eq!(e.coefficients.nrows(), outs);
    // Every sorted multi-index of degree ≤ 4 is a column, and nothing else is.
    let expected_columns: usize = (0..=MAX_ORDER)
        .map(|n| multi_indices(r.inputs, n).len())
        .sum();
    assert_eq!(
        ex.monomials().len(),
        expected_columns,
        "{label}: number of columns"
    );
    // Truth: ∂^α y for every α, per order.
    let mut truth: Vec<Vec<(Vec<u32>, Vec<f64>)>> = Vec::new();
    for n in 0..=MAX_ORDER {
        truth.push(
            multi_indices(r.inputs, n)
                .into_iter()
                .map(|a| {
                    let d = r.derivative(x0, &a);
                    (a, d)
                })
                .collect(),
        );
    }
    let global: f64 = truth
        .iter()
        .flatten()
        .map(|(_, d)| max_abs(d))
        .fold(0.0, f64::max);
    for o in 0..outs {
        for (n, per) in truth.iter().enumerate() {
            let want: Vec<f64> = per.iter().map(|(_, d)| d[o]).collect();
            let got: Vec<f64> = per
                .iter()
                .map(|(a, _)| {
                    let c = e
                        .get(&ex.basis, o, a)
                        .unwrap_or_else(|| panic!("{label}: no column for {a:?}"));
                    c * alpha_factorial(a)
                })
                .collect();
            // Scale: the largest derivative of this order (floor: 1e-4 of the largest overall,
            // for orders that vanish identically, e.g. identity activations).
            let scale = max_abs(&want).max(1e-4 * global).max(1e-300);
            assert_close_scaled(
                &got,
                &want,
                REL,
                scale,
                &format!(
                    "{label} output {o} order {n} indices {:?}",
                    per.iter().map(|(a, _)| a.clone()).collect::<Vec<_>>()
                ),
            );
        }
    }
}

#[test]
fn dual_numbers_know_calculus() {
    // The oracle itself, against derivatives known in closed form.
    let x = 0.37_f64;
    let all = [true; 4];
    let d4 = |f: &dyn Fn(&D4) -> D4| f(&D4::var(x, &[1.0; 4])).part(&all);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-13 * (1.0 + b.abs());
    assert!(close(d4(&|z| z.sin()), x.sin()));
    assert!(close(d4(&|z| z.cos()), x.cos()));
    assert!(close(d4(&|z| z.exp()), x.exp()));
    assert!(close(d4(&|z| z.powi(5)), 120.0 * x));
    assert!(close(d4(&|z| z.ln()), -6.0 / x.powi(4)));
    // sqrt: d⁴ x^{1/2} = (1/2)(-1/2)(-3/2)(-5/2) x^{-7/2}
    assert!(close(d4(&|z| z.sqrt()), -15.0 / 16.0 * x.powf(-3.5)));
    // tanh'''' = 16 t - 40 t³ + 24 t⁵ (apply P ↦ (1-t²)·P'(t) four times to P = t)
    let t = x.tanh();
    let p4 = 16.0 * t - 40.0 * t.powi(3) + 24.0 * t.powi(5);
    assert!(
        close(d4(&|z| z.tanh()), p4),
        "{} vs {p4}",
        d4(&|z| z.tanh())
    );
    let s = 1.0 / (1.0 + (-x).exp());
    // σ'''' = σ(1-σ)(1 - 14σ + 36σ² - 24σ³)
    assert!(close(
        d4(&|z| z.sigmoid()),
        s * (1.0 - s) * (1.0 - 14.0 * s + 36.0 * s * s - 24.0 * s.powi(3))
    ));
    // softplus' = σ, so softplus'''' = σ''' = σ(1-σ)(1 - 6σ + 6σ²)
    assert!(close(
        d4(&|z| z.softplus()),
        s * (1.0 - s) * (1.0 - 6.0 * s + 6.0 * s * s)
    ));
    // erf'''' = (2/√π) d³ e^{-x²} = (2/√π)(-8x³ + 12x) e^{-x²}
    let c = std::f64::consts::FRAC_2_SQRT_PI;
    assert!(close(
        d4(&|z| z.erf()),
        c * (-8.0 * x.powi(3) + 12.0 * x) * (-x * x).exp()
    ));
    // Mixed: ∂⁴(x0 x1 x2 x3) = 1, ∂_0∂_0∂_1 (x0² x1 e^{x1}) = 2 (1 + x1) e^{x1}
    let v = [0.3, -0.7, 1.1, 0.2];
    let xs: Vec<D4> = (0..4)
        .map(|i| {
            D4::var(
                v[i],
                &(0..4).map(|s| (s == i) as u8 as f64).collect::<Vec<_>>(),
            )
        })
        .collect();
    let prod = xs[0] * xs[1] * xs[2] * xs[3];
    assert_eq!(prod.part(&all), 1.0);
    let seeds = [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]];
    let a = D4::var(v[0], &seeds[0]);
    let b = D4::var(v[1], &seeds[1]);
    let f = a * a * b * b.exp();
    assert!(close(
        f.part(&[true, true, true, false]),
        2.0 * (1.0 + v[1]) * v[1].exp()
    ));
    // Division: d/dx (1/x) = -1/x² with one level.
    let q = Dual::<f64>::cst(1.0) / Dual::<f64>::var(x, &[1.0]);
    assert!(close(q.part(&[true]), -1.0 / (x * x)));
    // libm erf value
    assert!(close(libm::erf(0.5), 0.520_499_877_813_046_5));
}

#[test]
fn every_builtin_activation_orders_0_to_4() {
    // Several shapes per activation: depth 1–3 hidden layers, widths 1–6, inputs 1–4.
    let shapes: [(usize, &[usize], usize); 4] = [
        (1, &[3], 1),
        (2, &[5, 4], 1),
        (3, &[1, 6, 2], 2),
        (4, &[6], 1),
    ];
    for (ai, act) in BUILTINS.iter().enumerate() {
        for (si, (d, widths, outs)) in shapes.iter().enumerate() {
            let hidden: Vec<(usize, Act)> = widths.iter().map(|&w| (w, *act)).collect();
            let seed = 100 * ai as u64 + si as u64;
            let r = RefNet::random(seed, *d, &hidden, *outs, None);
            let x0 = random_vec(seed + 7, *d, 0.8);
            check_against_duals(&r, &x0, &format!("{:?} d={d} widths={widths:?}", act));
        }
    }
}

#[test]
fn mixed_activations_per_layer_and_expansion_at_origin() {
    let r = RefNet::random(
        11,
        3,
        &[(4, Act::Gelu), (3, Act::Sin), (5, Act::Softplus)],
        2,
        None,
    );
    check_against_duals(&r, &[0.0, 0.0, 0.0], "gelu/sin/softplus at 0");
    check_against_duals(&r, &[0.9, -1.3, 0.25], "gelu/sin/softplus at x0");
    let r = RefNet::random(12, 2, &[(6, Act::Silu), (2, Act::Tanh)], 1, None);
    check_against_duals(&r, &[-0.4, 1.7], "silu/tanh");
}

#[test]
fn user_activations_from_the_spec() {
    // `quad(u) = u + c3*u^2` with a `let` constant, `lse(z) = log(1+exp(z))`, and an inline
    // activation `(z + 0.3*z^2)` in the layer line.
    let r = RefNet::random(21, 3, &[(4, Act::Quad), (3, Act::LogOnePlusExp)], 1, None);
    check_against_duals(&r, &[0.2, -0.5, 0.8], "quad/lse");
    let r = RefNet::random(
        22,
        2,
        &[
            (5, Act::LogOnePlusExp),
            (4, Act::InlineQuad),
            (3, Act::Tanh),
        ],
        2,
        None,
    );
    check_against_duals(&r, &[-0.6, 0.35], "lse/inline/tanh");
    let r = RefNet::random(23, 4, &[(2, Act::Quad)], 1, None);
    check_against_duals(&r, &[0.1, 0.2, -0.3, 0.4], "quad one layer");
}

#[test]
fn every_dsl_function_in_inline_activations() {
    // sqrt, /, cos, exp, erf, sigmoid, softplus, tanh, sin, log, integer and real powers.
    for (k, expr) in EXPRESSIONS.iter().enumerate() {
        let r = RefNet::random(
            500 + k as u64,
            2,
            &[(3, Act::Expr(k)), (2, Act::Tanh)],
            1,
            None,
        );
        check_against_duals(&r, &[0.4, -0.3], expr);
        // also as the output activation
        let r = RefNet::random(600 + k as u64, 2, &[(3, Act::Sin)], 1, Some(Act::Expr(k)));
        check_against_duals(&r, &[-0.2, 0.5], &format!("output {expr}"));
    }
}

#[test]
fn orders_0_and_1() {
    let r = RefNet::random(
        91,
        3,
        &[(4, Act::Tanh), (3, Act::Gelu)],
        2,
        Some(Act::Sigmoid),
    );
    let net = r.network();
    let x0 = [0.1, 0.5, -0.2];
    for order in [0, 1] {
        let ex = Expander::new(
            &net,
            &Options {
                order,
                ..Options::default()
            },
        )
        .unwrap();
        let e = ex.expand(&x0).unwrap();
        assert_eq!(ex.monomials().len(), if order == 0 { 1 } else { 4 });
        for a in (0..=order).flat_map(|n| multi_indices(3, n)) {
            let want = r.derivative(&x0, &a);
            for (o, w) in want.iter().enumerate() {
                let got = e.get(&ex.basis, o, &a).unwrap();
                assert!(
                    (got - w).abs() <= 1e-13 * w.abs().max(1e-3),
                    "order {order} {a:?}: {got} vs {w}"
                );
            }
        }
    }
}

#[test]
fn output_activation() {
    for (seed, hidden) in [
        (31u64, vec![(3, Act::Tanh)]),
        (32, vec![(4, Act::Softplus), (3, Act::Gelu)]),
        (33, vec![(2, Act::Sin), (5, Act::Quad), (3, Act::Sigmoid)]),
    ] {
        let r = RefNet::random(seed, 3, &hidden, 1, Some(Act::Sigmoid));
        check_against_duals(
            &r,
            &[0.5, -0.2, 0.9],
            &format!("sigmoid output, seed {seed}"),
        );
    }
    // Two outputs with a tanh output activation.
    let r = RefNet::random(34, 2, &[(4, Act::Silu)], 2, Some(Act::Tanh));
    check_against_duals(&r, &[0.3, 0.3], "tanh output, 2 outputs");
}

#[test]
fn large_preactivations_stay_accurate() {
    // Big weights push sigmoid/softplus/tanh into saturation, where naive formulas lose digits.
    let mut r = RefNet::random(
        41,
        2,
        &[(4, Act::Softplus), (3, Act::Sigmoid)],
        1,
        Some(Act::Sigmoid),
    );
    for l in &mut r.layers {
        for row in &mut l.w {
            for v in row.iter_mut() {
                *v *= 6.0;
            }
        }
    }
    check_against_duals(&r, &[0.7, -0.9], "saturated");
}

#[test]
fn library_forward_and_order_zero_match_plain_evaluation() {
    let r = RefNet::random(
        51,
        3,
        &[(5, Act::Gelu), (4, Act::Tanh)],
        2,
        Some(Act::Sigmoid),
    );
    let net = r.network();
    for seed in 0..5 {
        let x = random_vec(seed, 3, 2.0);
        let want = r.eval(&x);
        let got = net.forward(&x).unwrap();
        assert_close_scaled(
            &got,
            &want,
            1e-13,
            max_abs(&want).max(1e-300),
            "Network::forward",
        );
    }
}

#[test]
fn expand_many_equals_expand_and_unsorted_get() {
    let r = RefNet::random(61, 3, &[(4, Act::Tanh), (4, Act::Silu)], 1, None);
    let net = r.network();
    let ex = Expander::new(
        &net,
        &Options {
            order: 3,
            ..Options::default()
        },
    )
    .unwrap();
    let pts: Vec<Vec<f64>> = (0..6).map(|s| random_vec(s, 3, 1.0)).collect();
    let many = ex.expand_many(&pts).unwrap();
    for (p, e) in pts.iter().zip(&many) {
        let one = ex.expand(p).unwrap();
        assert_eq!(one.coefficients, e.coefficients);
        assert_eq!(&e.point, p);
    }
    // `get` sorts its multi-index: [2,0,0] is the same monomial as [0,0,2].
    let e = &many[0];
    assert_eq!(
        e.get(&ex.basis, 0, &[2, 0, 0]),
        e.get(&ex.basis, 0, &[0, 0, 2])
    );
    assert!(
        e.get(&ex.basis, 0, &[0, 0, 0, 0]).is_none(),
        "order 4 is above the expansion order"
    );
    // Wrong dimension of the point is an error, not a panic.
    assert!(ex.expand(&[0.0, 0.0]).is_err());
    assert!(ex.expand(&[0.0, f64::NAN, 0.0]).is_err());
}

#[test]
fn higher_orders_agree_with_directional_derivatives() {
    // Orders 5 and 6 have no dual oracle here; check order ≤ 4 of a 6th-order expansion still
    // equals the order-4 expansion (truncation must not leak between orders) and the
    // directional derivatives of the duals.
    let r = RefNet::random(
        71,
        2,
        &[(3, Act::Tanh), (3, Act::Sigmoid)],
        1,
        Some(Act::Sigmoid),
    );
    let net = r.network();
    let x0 = [0.2, -0.4];
    let e6 = Expander::new(
        &net,
        &Options {
            order: 6,
            ..Options::default()
        },
    )
    .unwrap();
    let e4 = Expander::new(
        &net,
        &Options {
            order: 4,
            ..Options::default()
        },
    )
    .unwrap();
    let (c6, c4) = (e6.expand(&x0).unwrap(), e4.expand(&x0).unwrap());
    for a in (0..=4).flat_map(|n| multi_indices(2, n)) {
        let (v6, v4) = (
            c6.get(&e6.basis, 0, &a).unwrap(),
            c4.get(&e4.basis, 0, &a).unwrap(),
        );
        assert!(
            (v6 - v4).abs() <= 1e-14 * (1.0 + v4.abs()),
            "{a:?}: {v6} vs {v4}"
        );
    }
    let h = [0.7, -0.3];
    for n in 1..=4 {
        let want = r.directional(&x0, &h, n)[0] / factorial(n);
        let got: f64 = multi_indices(2, n)
            .iter()
            .map(|a| c6.get(&e6.basis, 0, a).unwrap() * monomial(&h, a))
            .sum();
        assert!(
            (got - want).abs() <= 1e-10 * want.abs().max(1e-8),
            "order {n}: {got} vs {want}"
        );
    }
}

#[test]
fn finite_differences_orders_1_and_2() {
    // A second route in plain f64: central differences of the test's own forward pass.
    let r = RefNet::random(
        81,
        3,
        &[(5, Act::Tanh), (4, Act::Softplus)],
        1,
        Some(Act::Sigmoid),
    );
    let net = r.network();
    let x0 = [0.3, -0.6, 0.45];
    let ex = Expander::new(
        &net,
        &Options {
            order: 2,
            ..Options::default()
        },
    )
    .unwrap();
    let e = ex.expand(&x0).unwrap();
    let f = |x: &[f64]| r.eval(x)[0];
    let shift = |i: usize, di: f64, j: usize, dj: f64| {
        let mut x = x0.to_vec();
        x[i] += di;
        x[j] += dj;
        x
    };
    let h1 = 1e-5;
    for i in 0..3 {
        let fd = (f(&shift(i, h1, i, 0.0)) - f(&shift(i, -h1, i, 0.0))) / (2.0 * h1);
        let c = e.get(&ex.basis, 0, &[i as u32]).unwrap();
        assert!((c - fd).abs() < 1e-7, "∂_{i}: {c} vs fd {fd}");
    }
    let h2 = 1e-3;
    for i in 0..3 {
        for j in i..3 {
            let fd = if i == j {
                (f(&shift(i, h2, i, 0.0)) - 2.0 * f(&x0) + f(&shift(i, -h2, i, 0.0))) / (h2 * h2)
            } else {
                (f(&shift(i, h2, j, h2)) - f(&shift(i, h2, j, -h2)) - f(&shift(i, -h2, j, h2))
                    + f(&shift(i, -h2, j, -h2)))
                    / (4.0 * h2 * h2)
            };
            let c = e.get(&ex.basis, 0, &[i as u32, j as u32]).unwrap()
                * if i == j { 2.0 } else { 1.0 };
            assert!((c - fd).abs() < 1e-5, "∂_{i}∂_{j}: {c} vs fd {fd}");
        }
    }
}
