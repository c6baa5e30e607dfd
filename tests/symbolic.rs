//! Closed forms (feature `symbolic`). Every Symbolica call goes through the library's one
//! worker thread, so these tests may run on parallel threads; never run two test processes
//! that use Symbolica at the same time (restricted mode allows one Symbolica thread per user).
#![cfg(feature = "symbolic")]

use std::collections::BTreeMap;
use std::process::Command;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use feynn::diagrams::unlabelled;
use feynn::export::closed_form::report;
use feynn::export::TaylorSeries;
use feynn::model::weights::{Tensor, TensorStore};
use feynn::model::{parse_models, Model, Network};
use feynn::numeric::{Expander, Options as NumericOptions};
use feynn::symbolic::{
    self, compare_routes, evaluate_closed_forms, index_forms, ClosedForms, Options, Route, Style,
};
use feynn::Error;

fn model(src: &str) -> Model {
    parse_models("test.fnn", src, None)
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0)
}

/// Random weights (fixed seed) for a model with concrete widths, scaled to keep
/// pre-activations moderate.
fn random_store(m: &Model, seed: u64) -> TensorStore {
    let mut rng = StdRng::seed_from_u64(seed);
    let widths = m.fixed_widths().unwrap();
    let mut store = TensorStore {
        path: "<random>".into(),
        ..Default::default()
    };
    for (l, layer) in m.layers.iter().enumerate() {
        let (rows, cols) = (widths[l + 1], widths[l]);
        let scale = 1.0 / (cols as f64).sqrt();
        let w: Vec<f64> = (0..rows * cols)
            .map(|_| rng.random_range(-1.0..1.0) * scale)
            .collect();
        let b: Vec<f64> = (0..rows).map(|_| rng.random_range(-0.5..0.5)).collect();
        store.tensors.insert(
            layer.weight_tensor.clone(),
            Tensor {
                shape: vec![rows, cols],
                data: w,
            },
        );
        store.tensors.insert(
            layer.bias_tensor.clone(),
            Tensor {
                shape: vec![rows],
                data: b,
            },
        );
    }
    store
}

fn assert_routes_agree(src: &str, order: usize, x0: Option<&[f64]>) {
    let m = model(src);
    let checks = compare_routes(&m, order, x0).unwrap_or_else(|e| panic!("{src}: {e}"));
    let widths = m.fixed_widths().unwrap();
    let d = widths[0];
    let outputs = *widths.last().unwrap();
    // every coefficient of every output is checked
    let monomials: usize = (0..=order).map(|n| binom(d + n - 1, n)).sum();
    assert_eq!(checks.len(), outputs * monomials, "{src}");
    for c in &checks {
        assert_eq!(
            c.difference, "0",
            "{src} order {order}: output {} c{:?}: (i) - (ii) = {}",
            c.output, c.index, c.difference
        );
    }
    // and the comparison is not vacuous: the first-order coefficients are nonzero
    assert!(
        checks
            .iter()
            .filter(|c| c.index.len() == 1)
            .all(|c| c.terms > 0),
        "{src}: a gradient coefficient is 0"
    );
    assert!(
        checks.iter().any(|c| c.index.len() == order && c.terms > 0),
        "{src}: top order is trivial"
    );
}

fn binom(n: usize, k: usize) -> usize {
    (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
}

#[test]
fn routes_agree_one_hidden_layer() {
    assert_routes_agree("model m { input 1 layer 1 sigma output 1 }", 3, None);
    assert_routes_agree("model m { input 2 layer 3 tanh output 1 }", 3, None);
    assert_routes_agree("model m { input 3 layer 2 sigma output 2 }", 2, None);
}

#[test]
fn routes_agree_two_hidden_layers() {
    assert_routes_agree(
        "model m { input 2 layer 2 sigma layer 2 tanh output 1 }",
        3,
        None,
    );
    assert_routes_agree(
        "model m { input 2 layer 3 tanh layer 2 tanh output 1 }",
        2,
        None,
    );
    assert_routes_agree(
        "model m { input 1 layer 2 sigma layer 1 sigma output 1 }",
        3,
        None,
    );
}

#[test]
fn routes_agree_three_hidden_layers() {
    assert_routes_agree(
        "model m { input 1 layer 2 sigma layer 2 sigma layer 2 sigma output 1 }",
        3,
        None,
    );
    assert_routes_agree(
        "model m { input 2 layer 2 tanh layer 1 sigma layer 2 tanh output 1 }",
        2,
        None,
    );
}

#[test]
fn routes_agree_with_an_output_activation() {
    assert_routes_agree("model m { input 2 layer 2 sigma output 1 tanh }", 3, None);
    assert_routes_agree(
        "model m { input 1 layer 2 tanh layer 2 sigma output 2 sigma }",
        3,
        None,
    );
    assert_routes_agree(
        "model m { input 2 layer 1 sigma layer 1 sigma layer 1 tanh output 1 sigma }",
        3,
        None,
    );
}

#[test]
fn routes_agree_away_from_the_origin() {
    assert_routes_agree(
        "model m { input 2 layer 2 tanh layer 2 sigma output 1 }",
        2,
        Some(&[0.3, -0.7]),
    );
    assert_routes_agree(
        "model m { input 1 layer 2 sigma output 1 tanh }",
        3,
        Some(&[1.5]),
    );
}

#[test]
fn routes_agree_for_custom_and_builtin_activations() {
    assert_routes_agree(
        "activation quad(u) = u + 0.25*u^2\nmodel m { input 2 layer 2 quad layer 2 silu output 1 }",
        3,
        None,
    );
    assert_routes_agree(
        "model m { input 2 layer 2 gelu layer 2 sigmoid output 1 softplus }",
        2,
        None,
    );
}

/// Closed forms evaluated at random weights equal the Taylor-mode numbers.
fn assert_matches_numbers(src: &str, order: usize, x0: &[f64], seed: u64) {
    let m = model(src);
    let net = Network::from_store(&m, &random_store(&m, seed)).unwrap();
    let ex = Expander::new(
        &net,
        &NumericOptions {
            order,
            ..Default::default()
        },
    )
    .unwrap();
    let e = ex.expand(x0).unwrap();
    for route in [Route::Diagrams, Route::Series] {
        let vals = evaluate_closed_forms(&m, &net, order, x0, route)
            .unwrap_or_else(|err| panic!("{src}: {err}"));
        for (o, list) in vals.iter().enumerate() {
            assert_eq!(list.len(), ex.monomials().len());
            for (index, v) in list {
                let want = e.get(&ex.basis, o, index).unwrap();
                let tol = 1e-10 * want.abs().max(1e-3);
                assert!((v - want).abs() <= tol, "{src} {route:?} x0={x0:?}: output {o} c{index:?} closed form {v} vs numeric {want}");
            }
        }
    }
}

#[test]
fn closed_forms_equal_the_numbers_for_every_builtin() {
    for (i, act) in ["tanh", "sigmoid", "softplus", "silu", "gelu", "sin"]
        .iter()
        .enumerate()
    {
        let seed = 7 + i as u64;
        assert_matches_numbers(
            &format!("model m {{ input 2 layer 3 {act} output 1 }}"),
            3,
            &[0.0, 0.0],
            seed,
        );
        assert_matches_numbers(
            &format!("model m {{ input 2 layer 2 {act} layer 2 {act} output 2 }}"),
            3,
            &[0.0, 0.0],
            seed,
        );
        assert_matches_numbers(
            &format!("model m {{ input 2 layer 2 {act} output 1 {act} }}"),
            2,
            &[0.2, -0.4],
            seed,
        );
    }
}

#[test]
fn closed_forms_equal_the_numbers_for_mixed_and_custom_activations() {
    assert_matches_numbers(
        "model m { input 2 layer 2 gelu layer 3 sin layer 2 tanh output 1 }",
        2,
        &[0.1, 0.3],
        3,
    );
    let src = "activation soft(z) = z*sigmoid(z) + 0.1*tanh(z)^2\nmodel m { input 2 layer 2 soft layer 2 (exp(-z^2/2)) output 1 }";
    assert_matches_numbers(src, 3, &[0.0, 0.0], 4);
    assert_matches_numbers(src, 2, &[0.5, -0.25], 5);
}

#[test]
fn tanh_closed_form_at_the_origin_reads_as_expected() {
    // one hidden layer: c_i = Σ_j W2_1_j tanh'(b1_j) W1_j_i with tanh' = 1 - tanh²
    let m = model("model m { input 1 layer 1 tanh output 1 }");
    let cf = symbolic::closed_forms(&m, 2, None, &Options::default()).unwrap();
    let c: Vec<&str> = cf.outputs[0]
        .coefficients
        .iter()
        .map(|c| c.expr.as_str())
        .collect();
    assert_eq!(c[0], "W2_1_1*tanh(b1_1) + b2_1");
    assert_eq!(c[1], "W1_1_1*W2_1_1 - W1_1_1*W2_1_1*tanh(b1_1)^2");
    assert_eq!(
        c[2],
        "-W1_1_1^2*W2_1_1*tanh(b1_1) + W1_1_1^2*W2_1_1*tanh(b1_1)^3"
    );
    assert_eq!(
        cf.symbols.iter().cloned().collect::<Vec<_>>(),
        ["W1_1_1", "W2_1_1", "b1_1", "b2_1"]
    );
    // deeper layers nest the pre-activation
    let m = model("model m { input 1 layer 1 tanh layer 1 tanh output 1 }");
    let cf = symbolic::closed_forms(&m, 0, None, &Options::default()).unwrap();
    assert_eq!(
        cf.outputs[0].coefficients[0].expr,
        "W3_1_1*tanh(W2_1_1*tanh(b1_1) + b2_1) + b3_1"
    );
}

#[test]
fn generic_sigma_keeps_derivative_symbols() {
    let m = model("model m { input 1 layer 1 sigma output 1 }");
    let cf = symbolic::closed_forms(&m, 2, None, &Options::default()).unwrap();
    let c: Vec<&str> = cf.outputs[0]
        .coefficients
        .iter()
        .map(|c| c.expr.as_str())
        .collect();
    assert_eq!(c[1], "W1_1_1*W2_1_1*dsigma(1, 1, b1_1)");
    assert_eq!(c[2], "W1_1_1^2*W2_1_1*dsigma(1, 2, b1_1)/2");
    let mma = symbolic::closed_forms(
        &m,
        2,
        None,
        &Options {
            style: Style::Mathematica,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        mma.outputs[0].coefficients[2].expr,
        "W1[1,1]^2 W2[1,1] Derivative[2][sigma1][b1[1]]/2"
    );
}

#[test]
fn mathematica_and_latex_spellings() {
    let m = model("model m { input 2 layer 2 tanh layer 2 sigmoid output 1 softplus }");
    let mma = symbolic::closed_forms(
        &m,
        2,
        None,
        &Options {
            style: Style::Mathematica,
            ..Default::default()
        },
    )
    .unwrap();
    for c in &mma.outputs[0].coefficients {
        let e = &c.expr;
        assert!(
            !e.contains('_') && !e.contains("Subscript") && !e.contains('`'),
            "not Wolfram Language: {e}"
        );
        assert!(
            e.contains("Tanh[") && e.contains("LogisticSigmoid[") && e.contains("W1[")
                || c.index.is_empty(),
            "{e}"
        );
        assert_eq!(e.matches('[').count(), e.matches(']').count(), "{e}");
        assert_eq!(e.matches('(').count(), e.matches(')').count(), "{e}");
    }
    assert!(
        mma.outputs[0].coefficients[0]
            .expr
            .starts_with("Log[1 + Exp["),
        "{}",
        mma.outputs[0].coefficients[0].expr
    );
    let tex = symbolic::closed_forms(
        &m,
        1,
        None,
        &Options {
            style: Style::Latex,
            ..Default::default()
        },
    )
    .unwrap();
    let e = &tex.outputs[0].coefficients[1].expr;
    assert!(
        e.contains("{W^{(1)}_{1,1}}")
            && e.contains("\\tanh\\!\\left(")
            && e.contains("\\operatorname{sigmoid}"),
        "{e}"
    );
    assert_eq!(e.matches('{').count(), e.matches('}').count(), "{e}");
}

#[test]
fn index_form_orders_zero_and_one() {
    let m = model("model m { input n0 layer n1 tanh layer n2 tanh output 1 }");
    let f = index_forms(&m, 3, Style::Text);
    assert_eq!(f[0].sum(), "y[o](x0)");
    assert_eq!(f[1].terms.len(), 1);
    assert_eq!(f[1].terms[0].expr, "(D(3,0)h)[o]");
    for (n, form) in f.iter().enumerate().skip(1) {
        assert_eq!(form.terms.len(), unlabelled(n, 2, false).len());
    }
    let s = index_forms(&m, 2, Style::Sympy);
    assert_eq!(s[0].sum(), "y(o)");
    assert_eq!(s[1].sum(), "Dh(3, o)");
    assert_eq!(
        s[2].terms[0].expr,
        "Rational(1, 2)*Sum(D(3, 1, o, j1)*dsigma(1, 2, z(1, j1))*Dh(1, j1)**2, (j1, 1, n1))"
    );
    let w = index_forms(&m, 2, Style::Mathematica);
    assert_eq!(
        w[2].terms[1].expr,
        "1/2 Sum[Dp[3, 2, o, j1] Derivative[2][sigma2][z[2, j1]] Dh[2, j1]^2, {j1, 1, n2}]"
    );
    // with an output activation the first order is σ_L'(z_L) times the line
    let m = model("model m { input 2 layer 2 tanh output 1 sigmoid }");
    let f = index_forms(&m, 1, Style::Text);
    assert_eq!(f[1].sum(), "f2'(z2[o]) * (D(2,0)h)[o]");
}

#[test]
fn symbolic_widths_give_the_index_form_only() {
    let m = model("model m { input d layer n tanh output 1 }");
    let r = report(&m, 2, None, None, Style::Text).unwrap();
    assert!(
        r.contains("T_2 = 1/2 * sum_{j1} D(2,1)[o,j1] * f1''(z1[j1]) * (D(1,0)h)[j1]^2"),
        "{r}"
    );
    assert!(r.contains("need a number for every width"), "{r}");
    let e = symbolic::closed_forms(&m, 2, None, &Options::default()).unwrap_err();
    assert!(e.to_string().contains("symbolic width"), "{e}");
}

#[test]
fn report_styles_carry_both_forms() {
    let m = model("model m { input 2 layer 2 sigma layer 2 tanh output 1 }");
    let text = report(&m, 2, None, None, Style::Text).unwrap();
    assert!(
        text.contains("T_1 = (D(3,0)h)[o]") && text.contains("c[x1*x2] = "),
        "{text}"
    );
    let tex = report(&m, 2, None, None, Style::Latex).unwrap();
    assert!(
        tex.contains("\\begin{align*}") && tex.contains("c^{y}_{x_{1} x_{2}} &= "),
        "{tex}"
    );
    let py = report(&m, 2, None, None, Style::Sympy).unwrap();
    assert!(
        py.contains("T_1 = Dh(3, o)") && py.contains("c_y_0_1 = "),
        "{py}"
    );
    let wl = report(&m, 2, None, None, Style::Mathematica).unwrap();
    assert!(
        wl.contains("T[1] = Dh[3, o];") && wl.contains("c[\"y\", {0, 1}] = "),
        "{wl}"
    );
    // many coefficients: the expanded part is left out, with the reason
    let big = model("model m { input 6 layer 2 tanh output 1 }");
    let r = report(&big, 4, None, None, Style::Text).unwrap();
    assert!(
        r.contains("expanded closed forms left out: 210 coefficients"),
        "{r}"
    );
}

#[test]
fn oversized_requests_are_refused_before_running() {
    let m = model("model m { input 4 layer 16 gelu layer 16 gelu layer 16 gelu output 4 }");
    let t = std::time::Instant::now();
    let e = symbolic::closed_forms(&m, 4, None, &Options::default()).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    assert!(
        t.elapsed().as_secs_f64() < 5.0,
        "the refusal took {:?}",
        t.elapsed()
    );
    let e = symbolic::closed_forms(
        &model("model m { input 1 layer 1 sigma output 1 }"),
        3,
        None,
        &Options {
            max_terms: 2.0,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    // too many labelled diagrams for the diagram route
    let deep = model("model m { input 1 layer 1 sigma layer 1 sigma layer 1 sigma layer 1 sigma layer 1 sigma layer 1 sigma output 1 }");
    let e = symbolic::closed_forms(&deep, 12, None, &Options::default()).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
}

#[test]
fn parallel_callers_share_the_one_symbolica_thread() {
    let handles: Vec<_> = (0..6)
        .map(|i| {
            std::thread::spawn(move || {
                let m = model(&format!(
                    "model m {{ input 2 layer {} tanh output 1 }}",
                    1 + i % 3
                ));
                symbolic::closed_forms(&m, 2, None, &Options::default()).unwrap()
            })
        })
        .collect();
    let results: Vec<ClosedForms> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.iter().all(|r| r.outputs[0].coefficients.len() == 6));
}

/// The JSON closed forms, parsed and evaluated by SymPy from the `symbols` values, equal `value`.
#[test]
fn json_closed_forms_evaluate_in_sympy_to_the_values() {
    let probe = Command::new("python3")
        .args(["-c", "import sympy; print(sympy.__version__)"])
        .output();
    match &probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!("this test needs SymPy: `python3 -c 'import sympy'` failed ({}); install it with `pip install sympy`", String::from_utf8_lossy(&o.stderr).trim()),
        Err(e) => panic!("this test needs python3 with SymPy, but python3 cannot be run ({e}); install Python 3 and `pip install sympy`"),
    }
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("model m { input 2 layer 2 tanh layer 2 sigmoid output 1 }", 3, vec![0.0, 0.0]),
        ("model m { input 2 layer 3 softplus output 2 silu }", 2, vec![0.3, -0.2]),
        ("model m { input 1 layer 2 gelu layer 1 sin output 1 }", 3, vec![0.0]),
        ("activation soft(z) = z*sigmoid(z) + 0.1*tanh(z)^2\nmodel m { input 2 layer 2 soft output 1 }", 2, vec![0.0, 0.0]),
    ];
    let mut files = Vec::new();
    for (k, (src, order, x0)) in cases.iter().enumerate() {
        let m = model(src);
        let store = random_store(&m, 40 + k as u64);
        let text = report(&m, *order, Some(&store), Some(x0.clone()), Style::Json).unwrap();
        let json: TaylorSeries = serde_json::from_str(&text).unwrap();
        assert!(
            json.outputs
                .iter()
                .flat_map(|o| &o.coefficients)
                .all(|c| c.expr.is_some()),
            "{text}"
        );
        let symbols = json.symbols.as_ref().expect("symbols");
        assert!(!symbols.is_empty());
        if x0.iter().any(|v| *v != 0.0) {
            assert_eq!(symbols["p_1"], x0[0]);
        }
        let path = dir.path().join(format!("case{k}.json"));
        std::fs::write(&path, &text).unwrap();
        files.push(path);
    }
    // index forms must parse too
    let m =
        model("model m { input n0 layer n1 tanh layer n2 sigma layer n3 tanh output 1 sigmoid }");
    let idx: Vec<String> = index_forms(&m, 3, Style::Sympy)
        .iter()
        .map(|f| f.sum())
        .collect();
    let idx_path = dir.path().join("index.json");
    std::fs::write(&idx_path, serde_json::to_string(&idx).unwrap()).unwrap();
    let script = r#"
import json, sys
import sympy
from sympy.parsing.sympy_parser import parse_expr
checked = 0
for path in sys.argv[2:]:
    data = json.load(open(path))
    subs = {sympy.Symbol(k): sympy.Float(v, 30) for k, v in data["symbols"].items()}
    for out in data["outputs"]:
        for c in out["coefficients"]:
            e = parse_expr(c["expr"])
            free = e.free_symbols - set(subs)
            assert not free, (path, c["index"], free)
            v = float(sympy.N(e.subs(subs), 30))
            want = c["value"]
            assert abs(v - want) <= 1e-9 * max(1.0, abs(want)), (path, c["index"], v, want, c["expr"])
            checked += 1
for s in json.load(open(sys.argv[1])):
    parse_expr(s)
print("checked", checked)
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&idx_path)
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "SymPy check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let msg = String::from_utf8_lossy(&out.stdout);
    let checked: usize = msg.trim().trim_start_matches("checked ").parse().unwrap();
    assert_eq!(checked, 10 + 2 * 6 + 4 + 6, "{msg}");
}

#[test]
fn json_needs_weights_and_symbol_values_match_the_network() {
    let m = model("model m { input 2 layer 2 tanh output 1 }");
    let e = report(&m, 2, None, None, Style::Json).unwrap_err();
    assert!(e.to_string().contains("need weights"), "{e}");
    let store = random_store(&m, 1);
    let net = Network::from_store(&m, &store).unwrap();
    let vals: BTreeMap<String, f64> = symbolic::symbol_values(&m, &net, None);
    assert_eq!(vals["W1_2_1"], net.weights[0][[1, 0]]);
    assert_eq!(vals["b2_1"], net.biases[1][0]);
    assert_eq!(vals.len(), 4 + 2 + 2 + 1);
}

/// INN action closed forms (a direct series of the exact log-density in Symbolica) against the
/// numeric re-centred recursion, at random parameters, with quad, polynomial and linear layers,
/// at the origin and at a nonzero point.
#[test]
fn inn_closed_forms_match_the_recursion() {
    use feynn::model::inn::{parse_inns, Inn};
    use feynn::numeric::action::{action, multinomial, ActionOptions};
    let mut rng = StdRng::seed_from_u64(11);
    fn r(rng: &mut StdRng, s: f64) -> String {
        format!("{:.3}", rng.random_range(-s..s))
    }
    // small on purpose: the expanded forms grow fast with depth and order
    for (dim, layers, order) in [
        (1usize, vec!["quad", "(h + 0.2*h^2 - 0.1*h^3)"], 3),
        (2, vec!["quad"], 3),
        (2, vec!["(h - 0.3*h^2)", "linear"], 2),
    ] {
        let mut src = format!("inn t {{\n dim {dim}\n");
        for (l, phi) in layers.iter().enumerate() {
            src += &format!(" layer {phi}\n");
            let w: Vec<String> = (0..dim)
                .map(|i| {
                    let row: Vec<String> = (0..dim)
                        .map(|j| {
                            if i == j {
                                format!("{:.3}", 1.0 + rng.random_range(-0.3..0.3))
                            } else {
                                r(&mut rng, 0.4)
                            }
                        })
                        .collect();
                    format!("[{}]", row.join(","))
                })
                .collect();
            src += &format!(" param W{l} = [{}]\n", w.join(","));
            let b: Vec<String> = (0..dim).map(|_| r(&mut rng, 0.3)).collect();
            src += &format!(" param b{l} = [{}]\n", b.join(","));
            if *phi == "quad" {
                let a: Vec<String> = (0..dim).map(|_| r(&mut rng, 0.15)).collect();
                src += &format!(" param alpha{l} = [{}]\n", a.join(","));
            }
        }
        src += "}\n";
        let spec = parse_inns("t.fnn", &src, None)
            .unwrap_or_else(|e| panic!("{e}\n{src}"))
            .remove(0);
        let inn: Inn<f64> = spec.resolve(None).unwrap();
        for x0 in [
            vec![0.0; dim],
            (0..dim).map(|i| 0.2 - 0.15 * i as f64).collect(),
        ] {
            let num = action(
                &inn,
                &x0,
                &ActionOptions {
                    order,
                    ..Default::default()
                },
            )
            .unwrap();
            let sym = symbolic::evaluate_inn_closed_forms(&spec, &inn, order, &x0).unwrap();
            assert_eq!(
                sym.len(),
                (0..=order)
                    .map(|k| (0..k).fold(1, |m, j| m * (dim + j) / (j + 1)))
                    .sum::<usize>()
            );
            for (idx, v) in sym {
                let want = if idx.is_empty() {
                    num.a0()
                } else {
                    num.entry(&idx) * multinomial(&idx) as f64
                };
                assert!(
                    (v - want).abs() <= 1e-9 * want.abs().max(1.0),
                    "{src} at {x0:?}: c{idx:?} closed form {v} vs recursion {want}"
                );
            }
        }
    }
    // the closed forms read as SymPy and name the spec's parameters
    let spec = parse_inns("t.fnn", "inn t { dim 2 layer quad }", None)
        .unwrap()
        .remove(0);
    let f = symbolic::inn_closed_forms(&spec, 2, &[0.0, 0.0], Style::Sympy).unwrap();
    assert!(
        f.symbols.contains("W0_1_2")
            && f.symbols.contains("alpha0_1")
            && f.symbols.contains("b0_2"),
        "{:?}",
        f.symbols
    );
    assert_eq!(f.coefficients.len(), 6);
}
