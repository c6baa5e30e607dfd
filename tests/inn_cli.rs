//! INN commands run as a user would (`feynn action`, `diagrams --layer`, `sample`, `cumulants`,
//! `import --kind inn`), plus the layer diagrams and sampling against outside truth:
//! the count table of theory note §3.6, a brute-force enumeration of labelled Faà di Bruno
//! partitions, and the cumulants of the exact T1 density by quadrature.

use std::path::Path;
use std::process::{Command, Output};

use feynn::diagrams::inn::{layer_counts, layer_diagrams};
use feynn::model::inn::{load_inn, parse_inns, Inn};
use feynn::numeric::action::{action, layer_contribution, ActionOptions};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_feynn");
const FLOW: &str = "examples/inn/flow.fnn";

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn fails(args: &[&str], code: i32) -> String {
    let o = run(args);
    assert_eq!(o.status.code(), Some(code), "{args:?}");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    // undo miette's wrapping for substring checks
    err.split_whitespace()
        .filter(|w| !w.chars().all(|c| "│·╭╰─┬×".contains(c)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn coeff(v: &Value, idx: &[u32]) -> f64 {
    v["outputs"][0]["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["index"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect::<Vec<_>>()
                == idx
        })
        .unwrap_or_else(|| panic!("no coefficient {idx:?}"))["value"]
        .as_f64()
        .unwrap()
}

#[test]
fn action_json_has_the_taylor_schema_and_every_convention() {
    let j = |extra: &[&str]| -> Value {
        let mut args = vec!["action", FLOW, "--model", "t2", "--format", "json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&ok(&args)).unwrap()
    };
    let mono = j(&[]);
    assert_eq!(mono["convention"], "S=-ln p");
    assert_eq!(mono["model"], "t2");
    assert_eq!(mono["order"], 4);
    assert_eq!(mono["inputs"], 2);
    assert_eq!(mono["outputs"][0]["name"], "S");
    assert_eq!(
        mono["outputs"][0]["coefficients"].as_array().unwrap().len(),
        15
    ); // C(2+4, 4)
    let a = j(&["--tensor", "a"]);
    let s = j(&["--tensor", "s"]);
    let plus = j(&["--sign", "plus"]);
    assert_eq!(plus["convention"], "S=+ln p");
    // golden T2 (theory §4): A-convention entries; monomial = orderings · A; S = k! · A
    for (idx, golden, orderings, kfact) in [
        (&[0u32, 1][..], 0.0920607347037, 2.0, 2.0),
        (&[0, 0, 1], 0.0841641584074, 3.0, 6.0),
        (&[0, 0, 1, 1], 0.00612851598662, 6.0, 24.0),
        (&[1], -0.33556330316, 1.0, 1.0),
    ] {
        assert!((coeff(&a, idx) - golden).abs() < 1e-12, "{idx:?}");
        assert!(
            (coeff(&mono, idx) - orderings * golden).abs() < 1e-11,
            "{idx:?}"
        );
        assert!((coeff(&s, idx) - kfact * golden).abs() < 1e-10, "{idx:?}");
        assert_eq!(coeff(&plus, idx), -coeff(&mono, idx));
    }
    assert!((coeff(&mono, &[]) - 1.829624236697).abs() < 1e-12);
    // exact: rationals in `expr`, equal to the floats
    let e = j(&["--exact"]);
    for c in e["outputs"][0]["coefficients"].as_array().unwrap() {
        let expr = c["expr"].as_str().unwrap();
        if c["index"].as_array().unwrap().is_empty() {
            assert!(expr.contains("log(2*pi)"), "{expr}");
            continue;
        }
        let (p, q) = expr.split_once('/').unwrap_or((expr, "1"));
        let v = p.parse::<f64>().unwrap() / q.parse::<f64>().unwrap();
        assert!((v - c["value"].as_f64().unwrap()).abs() < 1e-15 * v.abs().max(1.0));
    }
    // the other formats run
    assert!(ok(&["action", FLOW, "--model", "t2", "--format", "latex"]).contains("\\begin{align*}"));
    let py = ok(&[
        "action", FLOW, "--model", "t2", "--format", "sympy", "--exact",
    ]);
    assert!(
        py.contains("from sympy import *") && py.contains("Rational("),
        "{py}"
    );
}

#[test]
fn cli_action_equals_the_library_at_a_point() {
    let out = ok(&[
        "action",
        FLOW,
        "--order",
        "3",
        "--at",
        "0.1,-0.2,0.05",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let spec = load_inn(
        &Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(FLOW),
        None,
    )
    .unwrap();
    let store =
        feynn::model::weights::TensorStore::load(spec.weights_file.as_ref().unwrap()).unwrap();
    let inn: Inn<f64> = spec.resolve(Some(&store)).unwrap();
    let a = action(
        &inn,
        &[0.1, -0.2, 0.05],
        &ActionOptions {
            order: 3,
            ..Default::default()
        },
    )
    .unwrap();
    for m in a.monomials() {
        let want = if m.is_empty() {
            a.a0()
        } else {
            a.monomial_coefficient(&m)
        };
        assert_eq!(coeff(&v, &m), want, "{m:?}");
    }
    // and the library against the exact log-density: the error of the order-3 polynomial is O(|δ|⁴)
    let at = |d: f64| {
        let x = [0.1 + d, -0.2 - d, 0.05 + 0.5 * d];
        let dx = [d, -d, 0.5 * d];
        let poly: f64 = a
            .monomials()
            .iter()
            .map(|m| {
                let c = if m.is_empty() {
                    a.a0()
                } else {
                    a.monomial_coefficient(m)
                };
                c * m.iter().map(|&i| dx[i as usize]).product::<f64>()
            })
            .sum();
        (inn.exact_action(&x).unwrap() - poly).abs()
    };
    let (e1, e2) = (at(0.02), at(0.01));
    assert!(
        e1 / e2 > 12.0 && e1 / e2 < 20.0,
        "error ratio {} (expected ≈ 16)",
        e1 / e2
    );
}

#[test]
fn bad_input_is_a_clear_error_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let w = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    // off the branch at the expansion point (T2's layer 0: 1 + 2αh > 0 needs h > −5)
    let e = fails(&["action", FLOW, "--model", "t2", "--at", "-7,0"], 2);
    assert!(e.contains("off the invertible branch"), "{e}");
    // a DSL error with file:line:col
    let bad = w("bad.fnn", "inn m {\n  dim 2\n  layer (exp(h))\n}\n");
    let e = fails(&["action", &bad], 2);
    assert!(
        e.contains("bad.fnn:3:9") && e.contains("must be a polynomial"),
        "{e}"
    );
    // a missing tensor, and a wrong shape: named, with expected and found shapes
    let flow_w = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("examples/inn/flow.safetensors");
    let two = w(
        "two.fnn",
        &format!(
            "inn m {{ dim 2 layer quad weights \"{}\" }}",
            flow_w.display()
        ),
    );
    let e = fails(&["action", &two], 2);
    assert!(
        e.contains("`0.weight`") && e.contains("expected shape [2, 2], found [3, 3]"),
        "{e}"
    );
    let four = w(
        "four.fnn",
        &format!(
            "inn m {{ dim 3 layer quad layer quad layer quad layer quad weights \"{}\" }}",
            flow_w.display()
        ),
    );
    let e = fails(&["action", &four], 2);
    assert!(e.contains("no tensor `2.alpha`"), "{e}");
    let e = fails(&["action", &four.replace("four", "nope")], 2);
    assert!(e.contains("cannot read"), "{e}");
    // refused before allocating, with the predicted size
    let e = fails(&["action", FLOW, "--order", "30"], 2);
    assert!(
        e.contains("refused") && e.contains("would need about"),
        "{e}"
    );
    // an MLP spec is not an inn
    let e = fails(&["action", "examples/specs/features.fnn"], 2);
    assert!(e.contains("defines no `inn` model"), "{e}");
    // --at with the wrong length
    let e = fails(&["action", FLOW, "--at", "1,2"], 2);
    assert!(e.contains("--at has 2 values"), "{e}");
}

#[test]
fn diagnostics_warn_and_strict_turns_warnings_into_exit_code_1() {
    // order 3: odd top order → not normalisable
    let o = run(&["action", FLOW, "--model", "t2", "--order", "3"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("top order 3 is odd"));
    fails(
        &["action", FLOW, "--model", "t2", "--order", "3", "--strict"],
        1,
    );
    // T2 at order 4 is positive: no warning, exit 0 even with --strict
    let out = ok(&[
        "action", FLOW, "--model", "t2", "--strict", "--format", "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["diagnostics"]["top_order_min"].as_f64().unwrap() > 0.0);
    // radius of the log-det series of layer 0: |g/(2α)| = 0.98/0.2 at h0 = (0.1, −0.1)
    let r = v["diagnostics"]["logdet_radius_h"][0].as_f64().unwrap();
    assert!((r - 0.98 / 0.2).abs() < 1e-9, "{r}");
    // data outside the branch (h0 < −5 in layer 0 for x0 ≤ −5.1)
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    std::fs::write(&data, "x0,x1\n0.1,0.2\n-7,0\n0,0.3\n").unwrap();
    let out = ok(&[
        "action",
        FLOW,
        "--model",
        "t2",
        "--format",
        "json",
        "--data",
        data.to_str().unwrap(),
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["diagnostics"]["data"]["outside"], 1);
    assert_eq!(v["diagnostics"]["data"]["first_outside"], 1);
    let e = fails(
        &[
            "action",
            FLOW,
            "--model",
            "t2",
            "--strict",
            "--data",
            data.to_str().unwrap(),
        ],
        1,
    );
    assert!(
        e.contains("1 of 3 data points lie outside the invertible branch"),
        "{e}"
    );
}

/// Labelled diagrams by brute force: partitions of m labelled legs into blocks of size ≤ p
/// whose number of blocks k is the source order (one per set partition).
fn set_partitions(m: usize, pmax: usize) -> u64 {
    fn rec(rest: &mut Vec<usize>, pmax: usize) -> u64 {
        let Some(first) = rest.pop() else { return 1 };
        let mut total = 0;
        // blocks containing `first`: choose the other members among `rest`
        let others = rest.clone();
        let n = others.len();
        for mask in 0u32..(1 << n) {
            let size = mask.count_ones() as usize + 1;
            if size > pmax {
                continue;
            }
            let mut remaining: Vec<usize> = (0..n)
                .filter(|i| mask & (1 << i) == 0)
                .map(|i| others[i])
                .collect();
            total += rec(&mut remaining, pmax);
        }
        rest.push(first);
        total
    }
    rec(&mut (0..m).collect(), pmax)
}

#[test]
fn layer_diagram_counts_match_theory_table_and_brute_force() {
    // theory note §3.6: (total labelled, distinct shapes) for orders 1..4 of one quad layer
    let table = [(2u64, 2usize), (3, 3), (5, 3), (11, 4)];
    for (m, want) in (1..=4).zip(table) {
        let (lab, shapes) = layer_counts(m, 2);
        assert_eq!((u64::try_from(&lab).unwrap(), shapes), want, "order {m}");
    }
    // per column of the table at order 4: from k = 4, 3, 2 and the log-det vertex
    let d4 = layer_diagrams(0, 4, 2);
    let cols: Vec<(Option<usize>, u64, u64)> = d4
        .iter()
        .map(|d| {
            (
                d.source,
                u64::try_from(&d.labelled).unwrap(),
                u64::try_from(&d.multiplicity).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        cols,
        vec![
            (Some(4), 1, 1),
            (Some(3), 6, 3),
            (Some(2), 3, 1),
            (None, 1, 1)
        ]
    );
    // labelled counts (without the log-det vertex) = set partitions into blocks of size ≤ p
    for p in [2, 3] {
        for m in 1..=8 {
            let lab: u64 = layer_diagrams(0, m, p)
                .iter()
                .filter(|d| d.source.is_some())
                .map(|d| u64::try_from(&d.labelled).unwrap())
                .sum();
            assert_eq!(lab, set_partitions(m, p), "m={m} p={p}");
        }
    }
    // through the CLI, with norms
    let out = ok(&[
        "diagrams", FLOW, "--layer", "0", "--order", "4", "--format", "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let ds = v["diagrams"].as_array().unwrap();
    assert_eq!(ds.len(), 4);
    assert_eq!(
        ds.iter()
            .map(|d| d["labelled"].as_u64().unwrap())
            .sum::<u64>(),
        11
    );
    assert!(ds.iter().all(|d| d["norm"].as_f64().unwrap() > 0.0));
    let c: Value = serde_json::from_str(&ok(&[
        "diagrams", FLOW, "--order", "4", "--count", "--format", "json",
    ]))
    .unwrap();
    assert_eq!(c["counts"].as_array().unwrap().len(), 12);
    for f in ["dot", "tikz", "text"] {
        assert!(!ok(&["diagrams", FLOW, "--layer", "1", "--order", "3", "--format", f]).is_empty());
    }
    fails(&["diagrams", FLOW, "--layer", "3", "--order", "2"], 2);
}

#[test]
fn layer_contributions_add_up_to_the_layer_update() {
    let spec = &parse_inns(
        "m.fnn",
        "inn m { dim 2 layer quad layer (h + h^2/5 + h^3/10) param W0 = [[1, 0.3], [-0.2, 0.9]] \
         param b0 = [0.1, 0.2] param alpha0 = [0.2, -0.1] param W1 = [[1.1, 0], [0.4, 1]] param b1 = [0, -0.1] }",
        None,
    )
    .unwrap()[0];
    let inn: Inn<f64> = spec.resolve(None).unwrap();
    let o = ActionOptions {
        order: 4,
        keep_stages: true,
        ..Default::default()
    };
    let a = action(&inn, &[0.1, 0.2], &o).unwrap();
    let stages = a.stages.as_ref().unwrap();
    for (l, degree) in [(0usize, 2usize), (1, 3)] {
        for m in 1..=4 {
            let mut sum = vec![0.0; 2usize.pow(m as u32)];
            let mut sources: Vec<Option<usize>> = layer_diagrams(l, m, degree)
                .iter()
                .map(|d| d.source)
                .collect();
            sources.dedup();
            for s in sources {
                for (acc, v) in sum
                    .iter_mut()
                    .zip(layer_contribution(&inn, &a, l, s, m).unwrap())
                {
                    *acc += v;
                }
            }
            for (x, y) in sum.iter().zip(&stages[l][m]) {
                assert!((x - y).abs() < 1e-13, "layer {l} order {m}: {x} vs {y}");
            }
        }
    }
}

/// Cumulants of the exact T1 density p(x) = N(x + αx²)(1 + 2αx) on its branch x > −1/(2α),
/// normalised there, by Simpson quadrature.
fn t1_cumulants(alpha: f64) -> (f64, f64, f64) {
    let (lo, hi, n) = (-0.5 / alpha, 40.0, 400_000usize);
    let h = (hi - lo) / n as f64;
    let p = |x: f64| {
        let z = x + alpha * x * x;
        (-0.5 * z * z).exp() * (1.0 + 2.0 * alpha * x)
    };
    let mut mom = [0.0f64; 4];
    for i in 0..=n {
        let x = lo + i as f64 * h;
        let w = if i == 0 || i == n {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let px = p(x) * w;
        for (k, m) in mom.iter_mut().enumerate() {
            *m += px * x.powi(k as i32);
        }
    }
    let (m1, m2, m3) = (mom[1] / mom[0], mom[2] / mom[0], mom[3] / mom[0]);
    (m1, m2 - m1 * m1, m3 - 3.0 * m1 * m2 + 2.0 * m1.powi(3))
}

#[test]
fn samples_follow_the_exact_density() {
    let spec = &parse_inns(
        "t1",
        "inn t1 { dim 1 layer quad param W0 = [[1]] param b0 = [0] param alpha0 = 0.1 }",
        None,
    )
    .unwrap()[0];
    let inn: Inn<f64> = spec.resolve(None).unwrap();
    let m = 400_000;
    let (pts, rejected) = inn.sample(m, 11);
    assert_eq!(pts.len(), m);
    // the density defect: P(z < −1/(4α) = −2.5) ≈ 0.62 %
    let frac = rejected as f64 / (rejected + m) as f64;
    assert!((frac - 0.00621).abs() < 0.001, "{frac}");
    let c = feynn::numeric::cumulants::cumulants(&pts, 1).unwrap();
    let (k1, k2, k3) = t1_cumulants(0.1);
    // sampling errors: ~√(κ2/M), √(2κ2²/M), √(6κ2³/M) ≈ 1.6e-3, 2.2e-3, 3.9e-3 → 5σ
    assert!((c.k1[0] - k1).abs() < 8e-3, "{} vs {k1}", c.k1[0]);
    assert!((c.k2[0] - k2).abs() < 1.2e-2, "{} vs {k2}", c.k2[0]);
    assert!((c.k3[0] - k3).abs() < 2.5e-2, "{} vs {k3}", c.k3[0]);
    assert!(k3.abs() > 0.1, "the test needs a skewed density: κ3 = {k3}");
}

#[test]
fn sample_and_cumulants_commands() {
    let dir = tempfile::tempdir().unwrap();
    let a = ok(&["sample", FLOW, "-n", "50", "--seed", "3"]);
    assert_eq!(
        a,
        ok(&["sample", FLOW, "-n", "50", "--seed", "3"]),
        "same seed, same points"
    );
    assert_eq!(a.lines().count(), 51);
    let data = dir.path().join("data.csv");
    std::fs::write(&data, ok(&["sample", FLOW, "-n", "40000", "--seed", "1"])).unwrap();
    let d = data.to_str().unwrap();
    let out = ok(&[
        "cumulants",
        FLOW,
        "--data",
        d,
        "-n",
        "40000",
        "--seed",
        "2",
        "--format",
        "json",
        "--tolerance",
        "0.2",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["differences"].as_array().unwrap().len(), 3);
    assert!(v["differences"][1]["relative"].as_f64().unwrap() < 0.05);
    // data from another model (t2 is 2-d: wrong width) and shifted data fail
    let e = fails(&["cumulants", FLOW, "--model", "t2", "--data", d], 2);
    assert!(e.contains("has 3 values, the model 2 inputs"), "{e}");
    let shifted: String = std::fs::read_to_string(&data)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(|v| format!("{}", v.parse::<f64>().unwrap() + 0.5))
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    let sh = dir.path().join("shifted.csv");
    std::fs::write(&sh, shifted).unwrap();
    fails(
        &[
            "cumulants",
            FLOW,
            "--data",
            sh.to_str().unwrap(),
            "-n",
            "20000",
            "--tolerance",
            "0.2",
        ],
        1,
    );
    // npy output
    let npy = dir.path().join("s.npy");
    ok(&[
        "sample",
        FLOW,
        "-n",
        "10",
        "--format",
        "npy",
        "-o",
        npy.to_str().unwrap(),
    ]);
    let arr: ndarray::Array2<f64> = ndarray_npy::read_npy(&npy).unwrap();
    assert_eq!(arr.shape(), &[10, 3]);
}

#[test]
fn json_weights_of_kind_inn_give_golden_t2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t2.json"),
        r#"{"kind":"inn","layers":[
            {"W":[[1,0.5],[0,1]],"b":[0.1,-0.1],"alpha":[0.1,0.1]},
            {"W":[[1,0],[-0.5,1]],"b":[0,0.2],"alpha":0.05}]}"#,
    )
    .unwrap();
    let spec = dir.path().join("t2.fnn");
    std::fs::write(
        &spec,
        "inn t2 { dim 2 layer quad layer quad weights \"t2.json\" }",
    )
    .unwrap();
    let v: Value = serde_json::from_str(&ok(&[
        "action",
        spec.to_str().unwrap(),
        "--format",
        "json",
        "--tensor",
        "a",
    ]))
    .unwrap();
    assert!((coeff(&v, &[]) - 1.829624236697).abs() < 1e-12);
    assert!((coeff(&v, &[0, 1, 1, 1]) - -0.00194918125011).abs() < 1e-12);
    assert!((coeff(&v, &[1, 1, 1]) - 0.100826508302).abs() < 1e-12);
}

#[test]
fn import_kind_inn_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("flow.fnn");
    let w = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("examples/inn/flow.safetensors");
    ok(&[
        "import",
        "--kind",
        "inn",
        w.to_str().unwrap(),
        "-o",
        spec.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&spec).unwrap();
    assert!(
        text.contains("dim 3")
            && text.matches("layer quad").count() == 2
            && text.contains("layer linear"),
        "{text}"
    );
    assert_eq!(
        ok(&["action", spec.to_str().unwrap(), "--format", "json"])
            .replace("\"model\":\"flow\"", ""),
        ok(&["action", FLOW, "--format", "json"]).replace("\"model\":\"flow\"", "")
    );
    let e = fails(
        &["import", "--kind", "inn", "examples/born/born.safetensors"],
        2,
    );
    assert!(
        e.contains("[64, 64] (inn layers are square") || e.contains("inn layers are square"),
        "{e}"
    );
}
