//! Every example doubles as a test: each spec in examples/ parses, and the runnable ones run.

use std::path::Path;
use std::process::Command;

fn feynn(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_feynn"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn specs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            specs(&p, out);
        } else if p.extension().is_some_and(|x| x == "fnn") {
            out.push(p);
        }
    }
}

#[test]
fn every_example_spec_is_valid() {
    let mut all = vec![];
    specs(
        &Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("examples"),
        &mut all,
    );
    assert!(!all.is_empty());
    for p in all {
        let models =
            feynn::model::load_spec_file(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        for m in models {
            if let Some(w) = &m.weights_file {
                assert!(
                    w.exists(),
                    "{}: weights {} missing",
                    p.display(),
                    w.display()
                );
                let store = feynn::model::weights::TensorStore::load(w).unwrap();
                feynn::model::Network::from_store(&m, &store).unwrap();
            }
        }
    }
}

#[test]
fn every_inn_example_resolves_its_parameters() {
    let mut all = vec![];
    specs(
        &Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("examples"),
        &mut all,
    );
    let mut inns = 0;
    for p in all {
        for name in feynn::dsl::parse_spec("", &std::fs::read_to_string(&p).unwrap())
            .unwrap()
            .inns
            .iter()
            .map(|m| m.name.clone())
        {
            let m = feynn::model::inn::load_inn(&p, Some(&name)).unwrap();
            let store = m
                .weights_file
                .as_ref()
                .map(|w| feynn::model::weights::TensorStore::load(w).unwrap());
            m.resolve::<f64>(store.as_ref())
                .unwrap_or_else(|e| panic!("{}: {name}: {e}", p.display()));
            inns += 1;
        }
    }
    assert!(inns >= 2);
}

#[test]
fn learned_theory_example_reads_back_its_couplings() {
    // examples/theory/unimodal.fnn was trained on samples of m² = 1, κ = 0.5, g = 0.8, λ = 1.2;
    // its action at the data mean must give λ = 24 A4[i,i,i,i] and κ = −2 A2[i,i+1] back
    let at = "-0.157443,-0.158125,-0.159188,-0.148054,-0.147838,-0.160052,-0.157740,-0.156435";
    let out =
        std::env::temp_dir().join(format!("feynn-theory-example-{}.json", std::process::id()));
    let (code, _, err) = feynn(&[
        "action",
        "examples/theory/unimodal.fnn",
        "--order",
        "4",
        "--tensor",
        "a",
        "--at",
        at,
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let entry = |idx: &[u64]| -> f64 {
        j["outputs"][0]["coefficients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["index"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap())
                    .collect::<Vec<_>>()
                    == idx
            })
            .unwrap_or_else(|| panic!("no entry {idx:?}"))["value"]
            .as_f64()
            .unwrap()
    };
    let lambda = (0..8).map(|i| 24.0 * entry(&[i, i, i, i])).sum::<f64>() / 8.0;
    let kappa = (0..7).map(|i| -2.0 * entry(&[i, i + 1])).sum::<f64>() / 7.0;
    assert!((lambda - 1.2).abs() < 0.12, "λ read back as {lambda}");
    assert!((kappa - 0.5).abs() < 0.05, "κ read back as {kappa}");
}

#[test]
fn inn_example_runs_as_in_the_book() {
    let (code, out, err) = feynn(&[
        "action",
        "examples/inn/flow.fnn",
        "--model",
        "t2",
        "--max-rows",
        "3",
    ]);
    assert_eq!(code, 0, "{err}");
    // golden T2 (theory note §4): A0 and the monomial coefficient 2·A2[0,1]
    assert!(out.contains("+1.829624236697e0"), "{out}");
    assert!(out.contains("x1*x2  +1.841214694074e-1"), "{out}");
    let (code, out, err) = feynn(&[
        "diagrams",
        "examples/inn/flow.fnn",
        "--layer",
        "1",
        "--order",
        "3",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("3 diagram shapes, 5 labelled"), "{out}");
    let (code, _, err) = feynn(&["action", "examples/inn/flow.fnn"]);
    assert_eq!(code, 0);
    assert!(err.contains("A^(4) is not positive"), "{err}");
}

#[test]
fn features_example_expands_and_counts() {
    let (code, out, err) = feynn(&[
        "taylor",
        "examples/specs/features.fnn",
        "--order",
        "3",
        "--at",
        "0.1,-0.2",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["model"], "small");
    assert_eq!(
        v["outputs"][0]["coefficients"].as_array().unwrap().len(),
        10
    ); // C(2+3,3)
    let (code, out, err) = feynn(&[
        "diagrams",
        "examples/specs/features.fnn",
        "--model",
        "deep",
        "--order",
        "12",
        "--count",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["hidden_layers"], 6);
    assert_eq!(v["order"], 12);
}

#[test]
fn born_claims_are_verified() {
    // numbers only: the symbolic stage is exercised in tests/check.rs, in-process
    let (code, out, err) = feynn(&[
        "check",
        "examples/born/born.fnn",
        "--claim-file",
        "examples/claims/born.claims",
        "--numeric-only",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3 of 3 claims verified"), "{out}");
}
