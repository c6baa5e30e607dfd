//! `feynn check`: hand-derived formulas (written here from the Feynman rules of the theory
//! notes §2.4–2.5, not from the library) must be VERIFIED, plausible wrong ones REFUTED with the
//! right diagram named. Library calls use the Symbolica worker thread of this process; the CLI
//! runs here use `--numeric-only`, so that no second process touches Symbolica.

use std::process::Command;

use feynn::check::{self, parse_claim, Options, SymbolicOutcome, Verdict};
use feynn::model::{parse_models, Model};

fn model(src: &str) -> Model {
    parse_models("test.fnn", src, None)
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0)
}

fn run(m: &Model, claim: &str) -> check::Report {
    let c = parse_claim("--claim", claim).unwrap_or_else(|e| panic!("{e}"));
    check::check(m, &c, &Options::default()).unwrap_or_else(|e| panic!("{claim}: {e:?}"))
}

fn verified(m: &Model, claim: &str) -> check::Report {
    let r = run(m, claim);
    assert_eq!(r.verdict, Verdict::Verified, "{}", r.text());
    assert!(r.max_relative_discrepancy < 1e-9, "{}", r.text());
    r
}

fn refuted(m: &Model, claim: &str) -> check::Report {
    let r = run(m, claim);
    assert_eq!(r.verdict, Verdict::Refuted, "{}", r.text());
    assert!(r.counterexample.is_some());
    r
}

/// With Symbolica: the closed forms proved the claim.
fn assert_proved(r: &check::Report) {
    if cfg!(feature = "symbolic") {
        assert!(
            matches!(r.symbolic, SymbolicOutcome::Proved { .. }),
            "{}",
            r.text()
        );
    }
}

/// The diagram analysis explains the discrepancy by exactly one diagram.
fn single_mismatch(r: &check::Report) -> &check::DiagramAnalysis {
    let d = r.diagrams.as_ref().expect("analysis");
    assert!(d.explained, "{}", r.text());
    assert_eq!(d.mismatches.len(), 1, "{}", r.text());
    d
}

const ONE_HIDDEN: &str = "model one { input n0  layer n1 sigma  output 1 }";
const TWO_HIDDEN: &str = "model two { input 2  layer 3 tanh  layer 2 tanh  output 1 }";
const TWO_HIDDEN_1D: &str = "model two { input 1  layer 3 tanh  layer 2 sigmoid  output 1 }";

#[test]
fn gradient_of_one_hidden_layer_at_any_width() {
    let m = model(ONE_HIDDEN);
    let r = verified(&m, "dy/dx2 = sum(j, W2[1,j]*dsigma(b1[j])*W1[j,2])");
    // several widths were drawn, and none is below what the claim needs (x2: two inputs)
    assert!(r.widths.len() >= 3, "{:?}", r.widths);
    assert!(r.widths.iter().all(|w| w[0] >= 2));
    assert!(
        r.widths
            .iter()
            .map(|w| w[1])
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            >= 2
    );
}

#[test]
fn one_hidden_layer_formula_at_every_order() {
    // ∂^α y = Σ_j W2[1,j] σ^(|α|)(b1[j]) Π_i W1[j,i]^α_i, one diagram per order (§2.5)
    let m = model(ONE_HIDDEN);
    for alpha in [
        vec![1u32],
        vec![2],
        vec![1, 1],
        vec![0, 3],
        vec![2, 1, 1],
        vec![1, 0, 2, 2],
    ] {
        let n: u32 = alpha.iter().sum();
        let dxs: String = alpha
            .iter()
            .enumerate()
            .filter(|(_, a)| **a > 0)
            .map(|(i, a)| {
                if *a == 1 {
                    format!("dx{}", i + 1)
                } else {
                    format!("dx{}^{a}", i + 1)
                }
            })
            .collect();
        let legs: String = alpha
            .iter()
            .enumerate()
            .filter(|(_, a)| **a > 0)
            .map(|(i, a)| format!("*W1[j,{}]^{a}", i + 1))
            .collect();
        let deriv = if n == 1 {
            "d".to_string()
        } else {
            format!("d{n}")
        };
        verified(
            &m,
            &format!("{deriv}y/{dxs} = sum(j, W2[1,j]*d{n}sigma(b1[j]){legs})"),
        );
        // the Taylor coefficient carries 1/α!
        let fact: u32 = alpha.iter().map(|&a| (1..=a).product::<u32>()).product();
        let exps = alpha
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(",");
        verified(
            &m,
            &format!("taylor(y, [{exps}]) = 1/{fact}*sum(j, W2[1,j]*d{n}sigma(b1[j]){legs})"),
        );
    }
}

#[test]
fn closed_forms_prove_claims_at_concrete_widths() {
    let m = model(TWO_HIDDEN);
    let r = verified(&m, "dy/dx1 = sum(k, W3[1,k]*dtanh(b2[k] + sum(j, W2[k,j]*tanh(b1[j])))*sum(j, W2[k,j]*dtanh(b1[j])*W1[j,1]))");
    if cfg!(feature = "symbolic") {
        assert_eq!(
            r.symbolic,
            SymbolicOutcome::Proved {
                widths: vec![2, 3, 2, 1]
            },
            "{}",
            r.text()
        );
    }
}

/// z2_k at x = 0, and D^(2,0)_{k,i}, spelled out.
const Z2: &str = "(b2[k] + sum(j, W2[k,j]*tanh(b1[j])))";

fn d20(i: usize) -> String {
    format!("sum(j, W2[k,j]*dtanh(b1[j])*W1[j,{i}])")
}

#[test]
fn hessian_of_two_hidden_layers() {
    let m = model(TWO_HIDDEN);
    // H_ab = Σ_k W3 f2''(z2) D20_a D20_b  +  Σ_k W3 f2'(z2) Σ_j W2 f1''(b1) W1_a W1_b
    let vertex2 = format!("sum(k, W3[1,k]*d2tanh{Z2}*{}*{})", d20(1), d20(2));
    let vertex1 =
        format!("sum(k, W3[1,k]*dtanh{Z2}*sum(j, W2[k,j]*d2tanh(b1[j])*W1[j,1]*W1[j,2]))");
    let r = verified(&m, &format!("d2y/dx1dx2 = {vertex2} + {vertex1}"));
    assert_proved(&r);
    // a sign error in the second diagram: the analysis says which
    let r = refuted(&m, &format!("d2y/dx1dx2 = {vertex2} - {vertex1}"));
    let d = single_mismatch(&r);
    assert_eq!(d.mismatches[0].kind, "sign flipped");
    assert_eq!(d.mismatches[0].claim_multiple, "-1");
    // layer-1 vertex: its index form has f1''
    assert!(d.mismatches[0].text.contains("f1''"), "{}", r.text());
    assert!(r.text().contains("REFUTED"));
}

#[test]
fn a_missing_symmetry_factor_is_refuted() {
    let m = model(ONE_HIDDEN);
    // c_(2) = ½ Σ_j W2 σ'' W1², written without the ½
    let r = refuted(
        &m,
        "taylor(y, [2]) = sum(j, W2[1,j]*d2sigma(b1[j])*W1[j,1]^2)",
    );
    let d = r.diagrams.as_ref().expect("analysis");
    assert!(d.explained);
    assert_eq!(d.mismatches.len(), 1);
    assert_eq!(d.mismatches[0].claim_multiple, "2");
    assert!(
        d.mismatches[0].kind.contains("symmetry factor"),
        "{}",
        r.text()
    );
    // the claim at a nonzero point must use the point: here it does not (z = b1, not b1 + W1 x)
    let r = refuted(
        &m,
        "dy/dx1 at x=0.3 = sum(j, W2[1,j]*dsigma(b1[j])*W1[j,1])",
    );
    assert!(r.max_relative_discrepancy > 1e-3);
    verified(
        &m,
        "dy/dx1 at x=0.3 = sum(j, W2[1,j]*dsigma(b1[j] + sum(i, W1[j,i]*x[i]))*W1[j,1])",
    );
}

#[test]
fn third_order_needs_the_ladder() {
    let m = model(TWO_HIDDEN_1D);
    let z2 = "(b2[k] + sum(j, W2[k,j]*tanh(b1[j])))";
    let d20 = "sum(j, W2[k,j]*dtanh(b1[j])*W1[j,1])";
    // ∂³y/∂x³: 3-leg vertex in layer 2, 3-leg vertex in layer 1, and 3 ladders (§2.5)
    let star2 = format!("sum(k, W3[1,k]*d3sigmoid{z2}*{d20}^3)");
    let star1 = format!("sum(j, sum(k, W3[1,k]*dsigmoid{z2}*W2[k,j])*d3tanh(b1[j])*W1[j,1]^3)");
    let ladder =
        format!("3*sum(k, W3[1,k]*d2sigmoid{z2}*{d20}*sum(j, W2[k,j]*d2tanh(b1[j])*W1[j,1]^2))");
    let r = verified(&m, &format!("d3y/dx1^3 = {star2} + {star1} + {ladder}"));
    assert_proved(&r);
    let r = refuted(&m, &format!("d3y/dx1^3 = {star2} + {star1}"));
    let d = single_mismatch(&r);
    assert_eq!(d.mismatches[0].kind, "missing");
    // the ladder: a layer-2 vertex fed by a layer-1 vertex
    let t = &d.mismatches[0].text;
    assert!(t.contains("f2''") && t.contains("f1''"), "{t}");
    assert!(
        d.mismatches[0].latex.contains("\\sum"),
        "{}",
        d.mismatches[0].latex
    );
    if cfg!(feature = "symbolic") {
        assert!(
            matches!(r.symbolic, SymbolicOutcome::Nonzero { .. }),
            "{}",
            r.text()
        );
    }
}

#[test]
fn malformed_claims_are_errors_with_a_span() {
    let m = model(TWO_HIDDEN);
    let bad = |c: &str| -> String {
        match parse_claim("--claim", c) {
            Err(e) => format!("{}: {}", e.location, e.message),
            Ok(claim) => match check::resolve(&m, &claim) {
                Err(e) => format!("{e}"),
                Ok(_) => panic!("`{c}` should be rejected"),
            },
        }
    };
    assert!(bad("dy/dx1 = W9[1,1]").contains("not a parameter"));
    assert!(bad("dy/dx1 = W1[j,1]").contains("not summed"));
    assert!(bad("dy/dx1 = sum(j, W1[j,j])").contains("runs over"));
    assert!(bad("dy/dx1 = sum(j, W2[1,j]*foo(b1[j]))").contains("unknown function"));
    assert!(bad("dy/dx3 = 0").contains("needs 3 inputs"));
    assert!(bad("dy/dx1 = W1[4,1]").contains("needs 4 neurons in layer 1"));
    assert!(bad("dy/dx1 = W1").contains("needs its indices"));
    let e = bad("d2y/dx1dx2 = sum(j, W2[1,j]*");
    assert!(e.starts_with("--claim:1:29"), "{e}");
}

#[test]
fn claim_files_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("m.fnn");
    std::fs::write(&spec, ONE_HIDDEN).unwrap();
    let claims = dir.path().join("claims.txt");
    std::fs::write(
        &claims,
        "# gradient and curvature\n\
         dy/dx1 = sum(j, W2[1,j]*dsigma(b1[j])*W1[j,1])\n\
         \n\
         d2y/dx1dx2 = sum(j, W2[1,j]*d2sigma(b1[j])*W1[j,1]*W1[j,2])  // mixed\n",
    )
    .unwrap();
    let feynn = env!("CARGO_BIN_EXE_feynn");
    let json = dir.path().join("r.json");
    let out = Command::new(feynn)
        .args([
            "check",
            spec.to_str().unwrap(),
            "--numeric-only",
            "--claim-file",
        ])
        .arg(&claims)
        .arg("-o")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2 of 2 claims verified"), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["claims"].as_array().unwrap().len(), 2);
    assert_eq!(v["claims"][1]["verdict"], "VERIFIED");

    let out = Command::new(feynn)
        .args(["check", spec.to_str().unwrap(), "--numeric-only", "--claim"])
        .arg("dy/dx1 = -sum(j, W2[1,j]*dsigma(b1[j])*W1[j,1])")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("REFUTED") && stdout.contains("sign flipped"),
        "{stdout}"
    );
    assert!(stdout.contains("counterexample"), "{stdout}");

    // malformed: exit 2, file:line:col of the claim file
    std::fs::write(&claims, "dy/dx1 = 0\n\ndy/dx1 = sum(j, W2[1,j]*)\n").unwrap();
    let out = Command::new(feynn)
        .args([
            "check",
            spec.to_str().unwrap(),
            "--numeric-only",
            "--claim-file",
        ])
        .arg(&claims)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("claims.txt:3:"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
