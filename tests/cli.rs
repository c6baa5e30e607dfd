//! The `feynn` binary, run as a user would: output schemas, agreement with the library and the
//! dual-number oracle, `--at`/`--at-file`, `diagrams --count`, `import` round trips, and bad
//! input (exit code 2, a clear message, never a panic). Never uses `--symbolic`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use feynn::model::weights::{write_safetensors, Tensor};
use feynn::numeric::{Expander, Options};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_feynn");

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr with miette's wrapping undone: box-drawing gutters dropped, whitespace collapsed.
fn message(o: &Output) -> String {
    let s = String::from_utf8_lossy(&o.stderr);
    let words: Vec<&str> = s
        .lines()
        .map(|l| {
            l.trim_start()
                .trim_start_matches(['│', '·', '╭', '╰', '─', '┬', '×'])
                .trim()
        })
        .flat_map(|l| l.split_whitespace())
        .collect();
    words.join(" ")
}

#[track_caller]
fn ok(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    assert!(
        o.status.success(),
        "feynn {args:?} failed ({:?}):\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    stdout(&o)
}

/// Runs a command that must be refused: exit code 2, no panic, a message. Returns the message.
#[track_caller]
fn bad(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "feynn {args:?} panicked:\n{err}");
    assert_eq!(
        o.status.code(),
        Some(2),
        "feynn {args:?} should exit 2; stdout:\n{}\nstderr:\n{err}",
        stdout(&o)
    );
    assert!(!err.trim().is_empty(), "feynn {args:?}: no message");
    message(&o)
}

/// A temp dir with `m.fnn` (3 inputs, 2 hidden layers, 2 outputs) and `w.safetensors`.
struct Fixture {
    dir: tempfile::TempDir,
    r: RefNet,
}

impl Fixture {
    fn new() -> Fixture {
        let r = RefNet::random(401, 3, &[(4, Act::Tanh), (3, Act::Gelu)], 2, None);
        Fixture::with(r)
    }
    fn with(r: RefNet) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        write_safetensors(&dir.path().join("w.safetensors"), &r.tensors()).unwrap();
        let spec = r.spec("m").trim_end().trim_end_matches('}').to_string()
            + "  weights \"w.safetensors\"\n}\n";
        std::fs::write(dir.path().join("m.fnn"), spec).unwrap();
        Fixture { dir, r }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

/// Checks one `taylor --format json` result against the schema, the library and the duals.
/// The CLI runs the cost model's plan and the test's library route may run another, so they
/// agree to rounding (1e-12, the bound between plans), not bit for bit.
fn check_taylor_json(v: &Value, r: &RefNet, point: &[f64], order: usize) {
    check_taylor_json_tol(v, r, point, order, 1e-12)
}

/// As [`check_taylor_json`], agreeing with the library to `rel`.
fn check_taylor_json_tol(v: &Value, r: &RefNet, point: &[f64], order: usize, rel: f64) {
    assert_eq!(
        keys(v),
        ["inputs", "model", "order", "outputs", "point"],
        "{v}"
    );
    assert_eq!(v["model"], "m");
    assert_eq!(v["order"].as_u64(), Some(order as u64));
    assert_eq!(v["inputs"].as_u64(), Some(r.inputs as u64));
    let p: Vec<f64> = v["point"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(p, point);
    let outs = v["outputs"].as_array().unwrap();
    assert_eq!(outs.len(), r.outputs());
    let net = r.network();
    let ex = Expander::new(
        &net,
        &Options {
            order,
            ..Options::default()
        },
    )
    .unwrap();
    let e = ex.expand(point).unwrap();
    let all: Vec<Vec<u32>> = (0..=order)
        .flat_map(|n| multi_indices(r.inputs, n))
        .collect();
    for (o, out) in outs.iter().enumerate() {
        assert_eq!(keys(out), ["coefficients", "name"]);
        let name = if r.outputs() == 1 {
            "y".to_string()
        } else {
            format!("y{o}")
        };
        assert_eq!(out["name"], name.as_str());
        let cs = out["coefficients"].as_array().unwrap();
        let mut seen: Vec<Vec<u32>> = Vec::new();
        for c in cs {
            assert_eq!(keys(c), ["index", "value"], "{c}");
            let idx: Vec<u32> = c["index"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_u64().unwrap() as u32)
                .collect();
            let val = c["value"].as_f64().unwrap();
            assert!(
                idx.windows(2).all(|w| w[0] <= w[1]),
                "index not sorted: {idx:?}"
            );
            let lib = e.get(&ex.basis, o, &idx).unwrap();
            assert!(
                (val - lib).abs() <= rel * lib.abs().max(1e-3),
                "{idx:?}: json {val} vs library {lib}"
            );
            if idx.len() <= 4 {
                let truth = r.derivative(point, &idx)[o] / alpha_factorial(&idx);
                assert!(
                    (val - truth).abs() <= 1e-10 * truth.abs().max(1e-3),
                    "{idx:?}: json {val} vs duals {truth}"
                );
            }
            seen.push(idx);
        }
        seen.sort();
        let mut want = all.clone();
        want.sort();
        assert_eq!(
            seen, want,
            "every multi-index of degree ≤ {order} exactly once"
        );
    }
}

#[test]
fn taylor_json_follows_the_schema_and_matches_the_library() {
    let f = Fixture::new();
    let out = ok(
        f.path(),
        &[
            "taylor",
            "m.fnn",
            "--order",
            "3",
            "--at",
            "0.1,-0.2,0.3",
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    check_taylor_json(&v, &f.r, &[0.1, -0.2, 0.3], 3);
    // Default point is the origin; one value is broadcast to every input.
    let v: Value = serde_json::from_str(&ok(
        f.path(),
        &["taylor", "m.fnn", "--order", "2", "--format", "json"],
    ))
    .unwrap();
    check_taylor_json(&v, &f.r, &[0.0; 3], 2);
    let v: Value = serde_json::from_str(&ok(
        f.path(),
        &[
            "taylor", "m.fnn", "--order", "4", "--at", "-0.5", "--format", "json",
        ],
    ))
    .unwrap();
    check_taylor_json(&v, &f.r, &[-0.5; 3], 4);
    // -o writes the same JSON to a file.
    ok(
        f.path(),
        &[
            "taylor",
            "m.fnn",
            "--order",
            "3",
            "--at",
            "0.1,-0.2,0.3",
            "--format",
            "json",
            "-o",
            "out.json",
        ],
    );
    assert_eq!(std::fs::read_to_string(f.file("out.json")).unwrap(), out);
    // Text and LaTeX formats run and mention the model.
    assert!(ok(f.path(), &["taylor", "m.fnn"]).contains("model m"));
    assert!(ok(f.path(), &["taylor", "m.fnn", "--format", "latex"]).contains("\\begin{align*}"));
    assert!(ok(f.path(), &["taylor", "m.fnn", "--diagrams", "--order", "3"]).contains("topolog"));
}

#[test]
fn single_output_is_named_y_and_weights_flag_overrides() {
    let r = RefNet::random(402, 2, &[(3, Act::Softplus)], 1, Some(Act::Sigmoid));
    let f = Fixture::with(r.clone());
    let v: Value = serde_json::from_str(&ok(
        f.path(),
        &[
            "taylor", "m.fnn", "--order", "4", "--at", "0.3,0.7", "--format", "json",
        ],
    ))
    .unwrap();
    check_taylor_json(&v, &r, &[0.3, 0.7], 4);
    // --weights replaces the spec's weights line.
    let other = RefNet::random(403, 2, &[(3, Act::Softplus)], 1, Some(Act::Sigmoid));
    write_safetensors(&f.file("other.safetensors"), &other.tensors()).unwrap();
    let v: Value = serde_json::from_str(&ok(
        f.path(),
        &[
            "taylor",
            "m.fnn",
            "--weights",
            "other.safetensors",
            "--order",
            "2",
            "--at",
            "0.1,0.2",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    check_taylor_json(&v, &other, &[0.1, 0.2], 2);
}

#[test]
fn at_file_csv_and_npy_give_one_result_per_point() {
    let f = Fixture::new();
    let points = vec![
        vec![0.1, 0.2, 0.3],
        vec![-1.0, 0.0, 0.5],
        vec![0.0, 0.0, 0.0],
        vec![2.5, -0.25, 1e-3],
    ];
    let csv = "x0,x1,x2\n".to_string()
        + points
            .iter()
            .map(|p| {
                p.iter()
                    .map(|v| format!("{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect::<Vec<_>>()
            .join("\n")
            .as_str()
        + "\n";
    std::fs::write(f.file("pts.csv"), csv).unwrap();
    let arr = ndarray::Array2::from_shape_vec((4, 3), points.iter().flatten().copied().collect())
        .unwrap();
    ndarray_npy::write_npy(f.file("pts.npy"), &arr).unwrap();
    for file in ["pts.csv", "pts.npy"] {
        let v: Value = serde_json::from_str(&ok(
            f.path(),
            &[
                "taylor",
                "m.fnn",
                "--order",
                "2",
                "--at-file",
                file,
                "--format",
                "json",
            ],
        ))
        .unwrap();
        let results = v
            .as_array()
            .unwrap_or_else(|| panic!("{file}: expected a JSON array, got {v}"));
        assert_eq!(results.len(), points.len(), "{file}");
        for (res, p) in results.iter().zip(&points) {
            check_taylor_json(res, &f.r, p, 2);
        }
    }
    // Text output has one block per point.
    let text = ok(f.path(), &["taylor", "m.fnn", "--at-file", "pts.csv"]);
    assert_eq!(text.matches("model m:").count(), 4, "{text}");
}

#[test]
fn diagrams_count_order_12_with_6_hidden_layers() {
    let r = RefNet::random(404, 2, &[(2, Act::Tanh); 6], 1, None);
    let f = Fixture::with(r);
    let t = std::time::Instant::now();
    let out = ok(
        f.path(),
        &[
            "diagrams", "m.fnn", "--count", "--format", "json", "--order", "12",
        ],
    );
    assert!(t.elapsed().as_secs_f64() < 10.0, "took {:?}", t.elapsed());
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["order"], 12);
    assert_eq!(v["hidden_layers"], 6);
    // n! [x^n] (e^x - 1)^{∘6}, independently computed in diagram_truth.rs.
    assert_eq!(v["labelled"].as_u64(), Some(22_310_563_733_864));
    let unl = feynn::diagrams::unlabelled_counts(12, 6, false)[12].to_string();
    assert_eq!(v["unlabelled"].as_u64().map(|x| x.to_string()), Some(unl));
    for k in ["order", "hidden_layers", "labelled", "unlabelled"] {
        assert!(v.get(k).is_some(), "missing key {k}: {v}");
    }
    // Huge counts stay exact (strings when above u64).
    let v: Value = serde_json::from_str(&ok(
        f.path(),
        &[
            "diagrams", "m.fnn", "--count", "--format", "json", "--order", "40",
        ],
    ))
    .unwrap();
    let lab = feynn::diagrams::labelled_counts(40, 6, false)[40].to_string();
    let got = match &v["labelled"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("{other}"),
    };
    assert_eq!(got, lab);
}

#[test]
fn diagrams_listing_matches_the_counts() {
    let r = RefNet::random(
        405,
        2,
        &[(2, Act::Tanh), (2, Act::Tanh), (2, Act::Tanh)],
        1,
        None,
    );
    let f = Fixture::with(r);
    let v: Value = serde_json::from_str(&ok(
        f.path(),
        &["diagrams", "m.fnn", "--order", "4", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(
        v["diagrams"].as_array().unwrap().len(),
        14,
        "H = 3, n = 4: 14 topologies"
    );
    let v: Value = serde_json::from_str(&ok(
        f.path(),
        &[
            "diagrams",
            "m.fnn",
            "--order",
            "4",
            "--labelled",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert_eq!(
        v["diagrams"].as_array().unwrap().len(),
        60,
        "H = 3, n = 4: A000258(4) = 60"
    );
    assert!(ok(
        f.path(),
        &["diagrams", "m.fnn", "--order", "3", "--format", "dot"]
    )
    .contains("digraph"));
}

#[test]
fn import_round_trips_through_the_cli() {
    let f = Fixture::new();
    let r = &f.r;
    // safetensors with a prefix and Dropout-style indices.
    write_safetensors(&f.file("ckpt.safetensors"), &r.tensors_named("net.", 3)).unwrap();
    // npz
    {
        let file = std::fs::File::create(f.file("ckpt.npz")).unwrap();
        let mut npz = ndarray_npy::NpzWriter::new_compressed(file);
        for (k, t) in r.tensors() {
            npz.add_array(
                k,
                &ndarray::ArrayD::from_shape_vec(t.shape.clone(), t.data.clone()).unwrap(),
            )
            .unwrap();
        }
        npz.finish().unwrap();
    }
    // JSON with activations.
    let layers: Vec<Value> = r
        .layers
        .iter()
        .map(|l| {
            let mut o = serde_json::json!({"W": l.w, "b": l.b});
            if let Some(a) = l.act {
                o["act"] = a.spec_ref().into();
            }
            o
        })
        .collect();
    std::fs::write(
        f.file("ckpt.json"),
        serde_json::json!({ "layers": layers }).to_string(),
    )
    .unwrap();
    let want = serde_json::from_str::<Value>(&ok(
        f.path(),
        &[
            "taylor",
            "m.fnn",
            "--order",
            "3",
            "--at",
            "0.2,0.1,-0.3",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    for (ckpt, extra) in [
        ("ckpt.safetensors", vec!["--activation", "tanh,gelu"]),
        ("ckpt.npz", vec!["--activation", "tanh,gelu"]),
        ("ckpt.json", vec![]),
    ] {
        std::fs::create_dir_all(f.file("specs")).unwrap();
        let spec = format!("specs/{ckpt}.fnn");
        let mut args = vec!["import", ckpt, "--name", "m", "-o", &spec];
        args.extend(extra.iter());
        ok(f.path(), &args);
        let got: Value = serde_json::from_str(&ok(
            f.path(),
            &[
                "taylor",
                &spec,
                "--order",
                "3",
                "--at",
                "0.2,0.1,-0.3",
                "--format",
                "json",
            ],
        ))
        .unwrap();
        if ckpt.ends_with(".json") {
            // up to the JSON reader's last-digit errors (weights_io.rs: json_weights_are_read_exactly)
            check_taylor_json_tol(&got, r, &[0.2, 0.1, -0.3], 3, 1e-13);
        } else {
            assert_eq!(got, want, "{ckpt}");
        }
    }
    // Without -o the spec goes to stdout and names the activation.
    let spec = ok(
        f.path(),
        &["import", "ckpt.safetensors", "--activation", "tanh,gelu"],
    );
    assert!(
        spec.contains("layer 4 tanh") && spec.contains("layer 3 gelu") && spec.contains("output 2"),
        "{spec}"
    );
}

// ---- bad input ----

#[test]
fn syntax_error_names_file_line_and_column() {
    let f = Fixture::new();
    std::fs::write(
        f.file("bad.fnn"),
        "model m {\n  input 3\n  layer 4 tanh\n  output 1 )\n}\n",
    )
    .unwrap();
    let m = bad(f.path(), &["taylor", "bad.fnn"]);
    assert!(m.contains("bad.fnn:4:12"), "{m}");
    std::fs::write(
        f.file("bad2.fnn"),
        "model m {\n  input 3\n  layer 4 tanh\n  output 1\n",
    )
    .unwrap();
    let m = bad(f.path(), &["taylor", "bad2.fnn"]);
    assert!(m.contains("bad2.fnn:"), "{m}");
    // Errors inside activation expressions, too.
    std::fs::write(
        f.file("bad3.fnn"),
        "activation q(z) = z + * 2\nmodel m { input 1 layer 1 q output 1 }\n",
    )
    .unwrap();
    let m = bad(f.path(), &["diagrams", "bad3.fnn", "--order", "2"]);
    assert!(m.contains("bad3.fnn:1:"), "{m}");
}

#[test]
fn hints_point_to_commands_that_exist() {
    // The syntax-error hint says "see `feynn help dsl`": that command must work.
    let f = Fixture::new();
    std::fs::write(
        f.file("bad.fnn"),
        "model m {\n  input 3\n  layer 4 tanh\n  output 1 )\n}\n",
    )
    .unwrap();
    let m = bad(f.path(), &["taylor", "bad.fnn"]);
    if m.contains("feynn help dsl") {
        let o = run(f.path(), &["help", "dsl"]);
        assert!(
            o.status.success(),
            "the hint names `feynn help dsl`, which fails:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn unknown_activation_suggests_the_nearest_name() {
    let f = Fixture::new();
    std::fs::write(
        f.file("a.fnn"),
        "model m {\n  input 3\n  layer 4 tahn\n  output 1\n}\n",
    )
    .unwrap();
    let m = bad(f.path(), &["taylor", "a.fnn"]);
    assert!(
        m.contains("a.fnn:3:11")
            && m.contains("unknown activation `tahn`")
            && m.contains("did you mean `tanh`"),
        "{m}"
    );
    std::fs::write(
        f.file("b.fnn"),
        "model m {\n  input 3\n  layer 4 sigmod\n  output 1\n}\n",
    )
    .unwrap();
    assert!(
        bad(f.path(), &["diagrams", "b.fnn", "--order", "2"]).contains("did you mean `sigmoid`")
    );
    // import's --activation as well.
    let m = bad(
        f.path(),
        &["import", "w.safetensors", "--activation", "tanhh"],
    );
    assert!(m.contains("tanhh"), "{m}");
}

#[test]
fn import_of_json_with_partial_activations_is_refused_not_a_panic() {
    let f = Fixture::new();
    std::fs::write(
        f.file("partial.json"),
        r#"{"layers":[{"W":[[0.1,0.2],[0.2,0.3]],"b":[0,0]},{"W":[[0.1,0.2],[0.2,0.3]],"b":[0,0],"act":"gelu"},{"W":[[1,1]],"b":[0],"act":"sigmoid"}]}"#,
    )
    .unwrap();
    let m = bad(f.path(), &["import", "partial.json"]);
    assert!(m.contains("activation"), "{m}");
}

#[test]
fn wrong_shape_names_the_tensor_and_both_shapes() {
    let f = Fixture::new();
    let spec = std::fs::read_to_string(f.file("m.fnn"))
        .unwrap()
        .replace("layer 3 gelu", "layer 5 gelu");
    std::fs::write(f.file("s.fnn"), spec).unwrap();
    let m = bad(f.path(), &["taylor", "s.fnn"]);
    assert!(
        m.contains("`2.weight`") && m.contains("[5, 4]") && m.contains("[3, 4]"),
        "{m}"
    );
}

#[test]
fn missing_tensor_is_named() {
    let f = Fixture::new();
    let mut t = f.r.tensors();
    t.remove("4.bias");
    write_safetensors(&f.file("w.safetensors"), &t).unwrap();
    let m = bad(f.path(), &["taylor", "m.fnn"]);
    assert!(m.contains("`4.bias`") && m.contains("missing"), "{m}");
}

#[test]
fn non_finite_weights_are_refused() {
    for v in [f64::NAN, f64::INFINITY] {
        let f = Fixture::new();
        let mut t = f.r.tensors();
        t.get_mut("0.weight").unwrap().data[3] = v;
        write_safetensors(&f.file("w.safetensors"), &t).unwrap();
        let m = bad(f.path(), &["taylor", "m.fnn"]);
        assert!(
            m.contains("`0.weight`") && m.contains("non-finite"),
            "{v}: {m}"
        );
    }
}

#[test]
fn truncated_and_unknown_weight_files_are_refused() {
    let f = Fixture::new();
    let st = std::fs::read(f.file("w.safetensors")).unwrap();
    std::fs::write(f.file("cut.safetensors"), &st[..st.len() / 2]).unwrap();
    let m = bad(
        f.path(),
        &["taylor", "m.fnn", "--weights", "cut.safetensors"],
    );
    assert!(m.contains("cut.safetensors"), "{m}");
    {
        let file = std::fs::File::create(f.file("full.npz")).unwrap();
        let mut npz = ndarray_npy::NpzWriter::new_compressed(file);
        for (k, t) in f.r.tensors() {
            npz.add_array(
                k,
                &ndarray::ArrayD::from_shape_vec(t.shape.clone(), t.data.clone()).unwrap(),
            )
            .unwrap();
        }
        npz.finish().unwrap();
    }
    let npz = std::fs::read(f.file("full.npz")).unwrap();
    for cut in [npz.len() / 2, npz.len() - 10] {
        std::fs::write(f.file("cut.npz"), &npz[..cut]).unwrap();
        let m = bad(f.path(), &["taylor", "m.fnn", "--weights", "cut.npz"]);
        assert!(m.contains("cut.npz"), "{m}");
        bad(f.path(), &["import", "cut.npz", "--activation", "tanh"]);
    }
    std::fs::write(f.file("w.pt"), b"\x80\x02}q\x00.").unwrap();
    let m = bad(f.path(), &["taylor", "m.fnn", "--weights", "w.pt"]);
    assert!(m.contains(".pt") && m.contains(".safetensors"), "{m}");
    bad(f.path(), &["import", "w.pt", "--activation", "tanh"]);
}

#[test]
fn expansions_too_large_for_memory_are_refused_up_front() {
    // 1000 inputs at order 8: C(1008, 8) ≈ 2.6e19 monomials.
    let r = RefNet::random(406, 1000, &[(2, Act::Tanh)], 1, None);
    let f = Fixture::with(r);
    let t = std::time::Instant::now();
    let m = bad(f.path(), &["taylor", "m.fnn", "--order", "8"]);
    assert!(
        t.elapsed().as_secs_f64() < 10.0,
        "the refusal must come before any allocation"
    );
    assert!(
        m.contains("refused") && m.contains("order-8") && m.contains("1000-input"),
        "{m}"
    );
    assert!(
        m.contains("TiB") || m.contains("GiB"),
        "names the predicted size: {m}"
    );
    // A lower --memory-limit refuses what the default would allow.
    let m = bad(
        f.path(),
        &["taylor", "m.fnn", "--order", "2", "--memory-limit", "1000"],
    );
    assert!(m.contains("refused") && m.contains("1000.0 B"), "{m}");
}

#[test]
fn enumeration_above_max_diagrams_is_refused() {
    let r = RefNet::random(407, 2, &[(2, Act::Tanh); 3], 1, None);
    let f = Fixture::with(r);
    let m = bad(
        f.path(),
        &[
            "diagrams",
            "m.fnn",
            "--order",
            "8",
            "--labelled",
            "--max-diagrams",
            "1000",
        ],
    );
    assert!(
        m.contains("refused") && m.contains("167894") && m.contains("--max-diagrams"),
        "{m}"
    );
    let topologies = feynn::diagrams::unlabelled_counts(8, 3, false)[8].to_string();
    let below = (topologies.parse::<u64>().unwrap() - 1).to_string();
    let m = bad(
        f.path(),
        &[
            "diagrams",
            "m.fnn",
            "--order",
            "8",
            "--max-diagrams",
            &below,
        ],
    );
    assert!(
        m.contains("refused") && m.contains(&topologies) && m.contains("--count"),
        "{m}"
    );
    // At the limit itself it enumerates.
    ok(
        f.path(),
        &[
            "diagrams",
            "m.fnn",
            "--order",
            "8",
            "--max-diagrams",
            &topologies,
        ],
    );
}

#[test]
fn bad_expansion_points_are_refused() {
    let f = Fixture::new();
    let m = bad(f.path(), &["taylor", "m.fnn", "--at", "0.1,abc,0.3"]);
    assert!(m.contains("`abc` is not a number"), "{m}");
    let m = bad(f.path(), &["taylor", "m.fnn", "--at", "0.1,0.2"]);
    assert!(m.contains("2 values") && m.contains("3 inputs"), "{m}");
    for at in ["nan", "0,inf,0", "1,2,-inf"] {
        let m = bad(f.path(), &["taylor", "m.fnn", "--at", at]);
        assert!(m.contains("not finite"), "{at}: {m}");
    }
    bad(f.path(), &["taylor", "m.fnn", "--at", ""]);
    // --at-file with a ragged row, a bad row, a 1-d .npy, and a missing file.
    std::fs::write(f.file("ragged.csv"), "0,0,0\n1,2\n").unwrap();
    let m = bad(f.path(), &["taylor", "m.fnn", "--at-file", "ragged.csv"]);
    assert!(m.contains("point 1") && m.contains("2 values"), "{m}");
    std::fs::write(f.file("text.csv"), "0,0,0\n1,x,2\n").unwrap();
    let m = bad(f.path(), &["taylor", "m.fnn", "--at-file", "text.csv"]);
    assert!(m.contains("text.csv:2"), "{m}");
    ndarray_npy::write_npy(
        f.file("flat.npy"),
        &ndarray::Array1::from_vec(vec![0.0, 1.0, 2.0]),
    )
    .unwrap();
    bad(f.path(), &["taylor", "m.fnn", "--at-file", "flat.npy"]);
    bad(f.path(), &["taylor", "m.fnn", "--at-file", "none.csv"]);
    // A NaN inside a points file.
    std::fs::write(f.file("nan.csv"), "0,0,0\n0,NaN,0\n").unwrap();
    bad(f.path(), &["taylor", "m.fnn", "--at-file", "nan.csv"]);
}

#[test]
fn missing_files_are_refused() {
    let f = Fixture::new();
    let m = bad(f.path(), &["taylor", "nope.fnn"]);
    assert!(m.contains("nope.fnn"), "{m}");
    let m = bad(
        f.path(),
        &["taylor", "m.fnn", "--weights", "nope.safetensors"],
    );
    assert!(m.contains("nope.safetensors"), "{m}");
    let m = bad(f.path(), &["diagrams", "nope.fnn", "--order", "2"]);
    assert!(m.contains("nope.fnn"), "{m}");
    let m = bad(
        f.path(),
        &["import", "nope.safetensors", "--activation", "tanh"],
    );
    assert!(m.contains("nope.safetensors"), "{m}");
    // The spec's weights line pointing nowhere.
    std::fs::write(
        f.file("w2.fnn"),
        "model m {\n input 3\n layer 4 tanh\n output 1\n weights \"gone.npz\"\n}\n",
    )
    .unwrap();
    let m = bad(f.path(), &["taylor", "w2.fnn"]);
    assert!(m.contains("gone.npz"), "{m}");
    // No weights at all.
    std::fs::write(
        f.file("now.fnn"),
        "model m {\n input 3\n layer 4 tanh\n output 1\n}\n",
    )
    .unwrap();
    assert!(bad(f.path(), &["taylor", "now.fnn"]).contains("no weights"));
    // A model name that the file does not define.
    let m = bad(f.path(), &["taylor", "m.fnn", "--model", "other"]);
    assert!(m.contains("other"), "{m}");
}

#[test]
fn numbers_need_a_concrete_activation_and_finite_values() {
    let f = Fixture::new();
    // The generic σ has no numbers.
    let spec = std::fs::read_to_string(f.file("m.fnn"))
        .unwrap()
        .replace("layer 4 tanh", "layer 4 sigma");
    std::fs::write(f.file("sigma.fnn"), spec).unwrap();
    assert!(bad(f.path(), &["taylor", "sigma.fnn"]).contains("sigma"));
    // An activation that overflows at the point: exp(exp(40 z)).
    let spec = std::fs::read_to_string(f.file("m.fnn"))
        .unwrap()
        .replace("layer 4 tanh", "layer 4 (exp(exp(40*z)))");
    std::fs::write(f.file("big.fnn"), spec).unwrap();
    bad(f.path(), &["taylor", "big.fnn", "--at", "3"]);
    // log of a negative number.
    let spec = std::fs::read_to_string(f.file("m.fnn"))
        .unwrap()
        .replace("layer 4 tanh", "layer 4 (log(z - 100))");
    std::fs::write(f.file("log.fnn"), spec).unwrap();
    bad(f.path(), &["taylor", "log.fnn"]);
    // An activation constant without a value.
    let spec = std::fs::read_to_string(f.file("m.fnn"))
        .unwrap()
        .replace("layer 4 tanh", "layer 4 (z + k*z^2)");
    std::fs::write(f.file("k.fnn"), spec).unwrap();
    let m = bad(f.path(), &["taylor", "k.fnn"]);
    assert!(m.contains("`k`"), "{m}");
    // Closed-form formats without --symbolic.
    assert!(bad(f.path(), &["taylor", "m.fnn", "--format", "sympy"]).contains("--symbolic"));
}

#[test]
fn clap_usage_errors_exit_2_and_help_exits_0() {
    let f = Fixture::new();
    for args in [
        vec!["taylor"],
        vec!["diagrams", "m.fnn"],
        vec!["taylor", "m.fnn", "--bogus"],
        vec!["taylor", "m.fnn", "--order", "two"],
        vec!["taylor", "m.fnn", "--order", "-1"],
        vec!["taylor", "m.fnn", "--format", "yaml"],
        vec!["taylor", "m.fnn", "--at", "0", "--at-file", "p.csv"],
        vec!["frobnicate"],
        vec![],
    ] {
        bad(f.path(), &args);
    }
    for args in [
        vec!["--help"],
        vec!["--version"],
        vec!["taylor", "--help"],
        vec!["help", "diagrams"],
    ] {
        let o = run(f.path(), &args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn stdout_closed_early_is_not_a_panic() {
    // `feynn taylor … | head -1`: a closed pipe must not panic.
    let f = Fixture::new();
    let mut child = Command::new(BIN)
        .args(["taylor", "m.fnn", "--order", "6", "--format", "json"])
        .current_dir(f.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
}

#[test]
fn non_float_tensors_in_a_checkpoint_are_not_a_panic() {
    // A checkpoint with an integer tensor next to the layers (e.g. a step counter) cannot be
    // read as weights: a clear refusal, not a panic.
    let f = Fixture::new();
    let mut bytes_i64 = Vec::new();
    bytes_i64.extend_from_slice(&7i64.to_le_bytes());
    let mut views: Vec<(String, safetensors::tensor::TensorView)> = Vec::new();
    let bufs: Vec<(String, Vec<u8>, Vec<usize>)> =
        f.r.tensors()
            .iter()
            .map(|(k, t): (&String, &Tensor)| {
                (
                    k.clone(),
                    t.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                    t.shape.clone(),
                )
            })
            .collect();
    for (k, b, s) in &bufs {
        views.push((
            k.clone(),
            safetensors::tensor::TensorView::new(safetensors::Dtype::F64, s.clone(), b).unwrap(),
        ));
    }
    views.push((
        "step".into(),
        safetensors::tensor::TensorView::new(safetensors::Dtype::I64, vec![1], &bytes_i64).unwrap(),
    ));
    std::fs::write(
        f.file("int.safetensors"),
        safetensors::serialize(views, None).unwrap(),
    )
    .unwrap();
    let o = run(
        f.path(),
        &["taylor", "m.fnn", "--weights", "int.safetensors"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(2),
        "{err}"
    );
    if o.status.code() == Some(2) {
        assert!(
            message(&o).contains("step"),
            "names the tensor: {}",
            message(&o)
        );
    }
}

/// `feynn export torch`: the module has the spec's layers and names; a refusal for what PyTorch
/// cannot be given; and, where PyTorch is installed, the module's forward pass at a point equals
/// feynn's order-0 coefficient there (the other route is PyTorch's own arithmetic).
#[test]
fn export_torch_writes_a_module_whose_forward_is_feynns() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("born.py");
    let spec = root.join("examples/born/born.fnn");
    ok(
        root,
        &[
            "export",
            "torch",
            spec.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let py = std::fs::read_to_string(&out).unwrap();
    for want in [
        "class Born(nn.Sequential)",
        "nn.Linear(64, 16)",
        "nn.Linear(16, 16)",
        "nn.Linear(16, 1)",
        "born.safetensors",
    ] {
        assert!(py.contains(want), "`{want}` missing from\n{py}");
    }
    std::fs::write(
        dir.path().join("sym.fnn"),
        "model m { input d layer 3 tanh output 1 }",
    )
    .unwrap();
    let e = bad(dir.path(), &["export", "torch", "sym.fnn"]);
    assert!(e.contains("symbolic widths"), "{e}");
    let e = bad(dir.path(), &["export", "torch", "missing.fnn"]);
    assert!(e.contains("missing.fnn"), "{e}");

    let has_torch = Command::new("python3")
        .args(["-c", "import torch, safetensors"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_torch {
        eprintln!(
            "PyTorch or safetensors (Python) not installed: the forward-pass comparison is skipped"
        );
        return;
    }
    let at: Vec<String> = (0..64)
        .map(|i| format!("{:.3}", 0.01 * (i % 7) as f64 - 0.02))
        .collect();
    let at = at.join(",");
    let json: Value = serde_json::from_str(&ok(
        root,
        &[
            "taylor",
            spec.to_str().unwrap(),
            "--order",
            "0",
            "--at",
            &at,
            "--format",
            "json",
        ],
    ))
    .unwrap();
    let feynn_y = json["outputs"][0]["coefficients"][0]["value"]
        .as_f64()
        .unwrap();
    let script = format!(
        "import importlib.util, torch\n\
         s = importlib.util.spec_from_file_location('born_mod', {out:?})\n\
         m = importlib.util.module_from_spec(s); s.loader.exec_module(m)\n\
         net = m.build()\n\
         x = torch.tensor([[{at}]], dtype=torch.float64)\n\
         print(repr(net(x).item()))\n"
    );
    let o = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let torch_y: f64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    assert!(
        (torch_y - feynn_y).abs() <= 1e-12 * (1.0 + feynn_y.abs()),
        "torch {torch_y} vs feynn {feynn_y}"
    );
}
