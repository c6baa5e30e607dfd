//! Hostile input (issue 14): the `feynn` binary on every class of input that used to panic,
//! abort, overflow the stack, hang or answer wrongly. Each run happens under an address-space
//! limit (`ulimit -v`, 4 GiB), so an unchecked allocation fails the test by a signal or an
//! abort instead of swapping; every run must end with exit code 0, 1 or 2 — never a signal —
//! and refusals (exit 2) must say what is wrong. Numeric only (no `--symbolic`, claims checked
//! with `--numeric-only`), so nothing here runs Symbolica.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;
use feynn::model::weights::{write_safetensors, Tensor};

const BIN: &str = env!("CARGO_BIN_EXE_feynn");

/// Address-space limit of every run, KiB.
const ULIMIT_KB: u64 = 4 * 1024 * 1024;

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("sh");
    // `timeout` only keeps a regression from hanging CI; nothing asserts on time.
    c.arg("-c")
        .arg(format!(
            "ulimit -v {ULIMIT_KB} && exec timeout -s KILL 600 \"$0\" \"$@\""
        ))
        .arg(BIN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "0");
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("the binary runs")
}

/// stderr with miette's box drawing removed and whitespace collapsed.
fn message(o: &Output) -> String {
    let s = String::from_utf8_lossy(&o.stderr);
    s.lines()
        .map(|l| {
            l.trim_start()
                .trim_start_matches(['│', '·', '╭', '╰', '─', '┬', '×'])
                .trim()
        })
        .flat_map(|l| l.split_whitespace())
        .collect::<Vec<_>>()
        .join(" ")
}

#[track_caller]
fn no_crash(args: &[&str], o: &Output) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code().is_some(),
        "feynn {args:?} ended by a signal ({:?}):\n{err}",
        o.status
    );
    assert!(!err.contains("panicked"), "feynn {args:?} panicked:\n{err}");
    assert!(
        !err.contains("memory allocation") && !err.contains("overflowed its stack"),
        "feynn {args:?} aborted:\n{err}"
    );
}

/// Must be refused: exit 2 and a message containing every one of `says`.
#[track_caller]
fn refused(dir: &Path, args: &[&str], says: &[&str]) -> String {
    let o = run(dir, args);
    no_crash(args, &o);
    let m = message(&o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "feynn {args:?} should exit 2; stdout:\n{}\nstderr:\n{m}",
        String::from_utf8_lossy(&o.stdout)
    );
    for s in says {
        assert!(
            m.contains(s),
            "feynn {args:?}: the message lacks `{s}`:\n{m}"
        );
    }
    m
}

/// Must succeed (exit 0); returns stdout.
#[track_caller]
fn fine(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    no_crash(args, &o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "feynn {args:?} failed:\n{}",
        message(&o)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A folder with a 2-3-1 tanh net `m.fnn` + weights, a 3-5-5-2 net `big.fnn`, and the
/// example INN and EFNN specs.
struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        let dir = tempfile::tempdir().unwrap();
        let r = RefNet::random(7, 2, &[(3, Act::Tanh)], 1, None);
        write_safetensors(&dir.path().join("w.safetensors"), &r.tensors()).unwrap();
        let spec = r.spec("m").trim_end().trim_end_matches('}').to_string()
            + "  weights \"w.safetensors\"\n}\n";
        std::fs::write(dir.path().join("m.fnn"), spec).unwrap();
        let r = RefNet::random(8, 3, &[(5, Act::Tanh), (5, Act::Tanh)], 2, None);
        write_safetensors(&dir.path().join("big.safetensors"), &r.tensors()).unwrap();
        let spec = r.spec("big").trim_end().trim_end_matches('}').to_string()
            + "  weights \"big.safetensors\"\n}\n";
        std::fs::write(dir.path().join("big.fnn"), spec).unwrap();
        let ex = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("examples");
        for f in ["inn/flow.fnn", "inn/flow.safetensors"] {
            std::fs::copy(
                ex.join(f),
                dir.path().join(Path::new(f).file_name().unwrap()),
            )
            .unwrap();
        }
        Dir { dir }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// A float64 .npy whose header declares `shape` but holds only `data` bytes.
fn npy(shape: &str, data: usize) -> Vec<u8> {
    let mut h = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((h.len() as u16).to_le_bytes());
    v.extend(h.as_bytes());
    v.extend(vec![0u8; data]);
    v
}

/// A stored (uncompressed) .npz holding `members` (name, .npy bytes).
fn npz(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

// ---- 1. sizes from input, allocated unchecked --------------------------------------------

#[test]
fn sizes_from_arguments_are_refused_with_a_prediction() {
    let d = Dir::new();
    let p = d.path();
    refused(
        p,
        &["diagrams", "m.fnn", "--order", "100000", "--count"],
        &["refused", "order-100000"],
    );
    refused(p, &["taylor", "m.fnn", "--order", "100000"], &["refused"]);
    refused(
        p,
        &["taylor", "m.fnn", "--order", "18446744073709551615"],
        &["refused"],
    );
    refused(
        p,
        &["sample", "flow.fnn", "-n", "1000000000000"],
        &["refused", "samples"],
    );
    refused(
        p,
        &["sample", "flow.fnn", "-n", "18446744073709551615"],
        &["refused"],
    );
    refused(
        p,
        &[
            "cumulants",
            "flow.fnn",
            "--data",
            "flow.fnn",
            "-n",
            "18446744073709551615",
        ],
        &[],
    );
    refused(
        p,
        &[
            "check",
            "m.fnn",
            "--numeric-only",
            "--claim",
            "dy/dx1 = 0",
            "--draws",
            "18446744073709551615",
        ],
        &["refused", "draws"],
    );
    refused(
        p,
        &[
            "diagrams",
            "flow.fnn",
            "--layer",
            "0",
            "--order",
            "1000000000",
            "--count",
        ],
        &["refused"],
    );
    refused(
        p,
        &["action", "flow.fnn", "--order", "100000"],
        &["refused"],
    );
    refused(
        p,
        &["action", "flow.fnn", "--exact", "--order", "9"],
        &["refused", "exact"],
    );
    refused(
        p,
        &[
            "action", "flow.fnn", "--model", "t2", "--exact", "--order", "40",
        ],
        &["refused"],
    );
    // the limit accepts units
    refused(
        p,
        &["taylor", "big.fnn", "--order", "6", "--memory-limit", "1K"],
        &["refused", "1.0 KiB"],
    );
    fine(
        p,
        &["taylor", "m.fnn", "--order", "2", "--memory-limit", "8G"],
    );
    refused(
        p,
        &["taylor", "m.fnn", "--memory-limit", "8X"],
        &["unknown unit"],
    );
}

#[test]
fn file_headers_declaring_huge_arrays_are_refused_before_loading() {
    let d = Dir::new();
    let p = d.path();
    d.write("rows.npy", npy("(1000000000000, 2)", 64));
    refused(
        p,
        &["taylor", "m.fnn", "--at-file", "rows.npy"],
        &["rows.npy", "[1000000000000, 2]", "only 64.0 B"],
    );
    d.write("rows3.npy", npy("(1000000000000, 3)", 64));
    refused(
        p,
        &["action", "flow.fnn", "--data", "rows3.npy"],
        &["rows3.npy"],
    );
    refused(
        p,
        &["cumulants", "flow.fnn", "--data", "rows3.npy", "-n", "10"],
        &["rows3.npy"],
    );
    d.write("rows.npz", npz(&[("x.npy", npy("(1000000000000, 3)", 64))]));
    refused(
        p,
        &["cumulants", "flow.fnn", "--data", "rows.npz", "-n", "10"],
        &["rows.npz"],
    );
    // a header length field of 4 GiB
    let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
    v2.extend(u32::MAX.to_le_bytes());
    d.write("hdr.npy", v2);
    refused(p, &["taylor", "m.fnn", "--at-file", "hdr.npy"], &["header"]);
    // efnn eval reads a data set
    d.write("e.fnn", "efnn e { arch efnn input 3 width 4 depth 1 }\n");
    d.write(
        "data.npz",
        npz(&[
            ("inputs.npy", npy("(1000000000000, 3)", 64)),
            ("targets.npy", npy("(1000000000000,)", 64)),
        ]),
    );
    refused(
        p,
        &[
            "efnn",
            "eval",
            "e.fnn",
            "--weights",
            "w.safetensors",
            "--data",
            "data.npz",
        ],
        &["data.npz"],
    );
    // an efnn of depth 10⁹
    d.write(
        "deep.fnn",
        "efnn e { arch efnn input 3 width 4 depth 1000000000 }\n",
    );
    refused(
        p,
        &[
            "efnn",
            "eval",
            "deep.fnn",
            "--weights",
            "w.safetensors",
            "--data",
            "data.npz",
        ],
        &["refused", "depth 1000000000"],
    );
}

#[test]
fn sizes_in_claims_and_specs_are_bounded() {
    let d = Dir::new();
    let p = d.path();
    refused(
        p,
        &[
            "check",
            "m.fnn",
            "--numeric-only",
            "--claim",
            "taylor(y, [18446744073709551615,1]) = 0",
        ],
        &["--claim:1:"],
    );
    refused(
        p,
        &[
            "check",
            "m.fnn",
            "--numeric-only",
            "--claim",
            "dy/dx1 = d99999999999999999999999tanh(b1[1])",
        ],
        &["order"],
    );
    refused(
        p,
        &[
            "check",
            "m.fnn",
            "--numeric-only",
            "--claim",
            "dy/dx1 = W1[99999999999999999999999,1]",
        ],
        &["index"],
    );
    // a 20th derivative of a 2-3-1 net is decided (refuted: it is not zero), not run away with
    let o = run(
        p,
        &[
            "check",
            "m.fnn",
            "--numeric-only",
            "--claim",
            "d20y/dx1^20 = 0",
        ],
    );
    no_crash(&["check"], &o);
    assert_eq!(o.status.code(), Some(1), "{}", message(&o));
    // 32 doubling lets the model never uses cost nothing; using one is refused at the use
    let mut lets = String::from("let a0 = 1\n");
    for k in 1..=32 {
        lets += &format!("let a{k} = a{} + a{}\n", k - 1, k - 1);
    }
    d.write(
        "lets.fnn",
        format!("{lets}model m {{ input 2 layer 3 tanh output 1 }}\n"),
    );
    fine(p, &["diagrams", "lets.fnn", "--order", "3", "--count"]);
    d.write(
        "lets2.fnn",
        format!("{lets}model m {{ input 2 layer 3 (z + a32*z^2) output 1 }}\n"),
    );
    refused(
        p,
        &["diagrams", "lets2.fnn", "--order", "3", "--count"],
        &["lets2.fnn:34:", "a32"],
    );
    // 1,200 chained lets resolve at once
    let mut chain = String::from("let c0 = 0.001\n");
    for k in 1..=1200 {
        chain += &format!("let c{k} = c{} * 1\n", k - 1);
    }
    d.write(
        "chain.fnn",
        format!("{chain}model m {{ input 2 layer 3 tanh output 1 }}\n"),
    );
    fine(p, &["diagrams", "chain.fnn", "--order", "2", "--count"]);
}

// ---- 2. silent wrong answers ----------------------------------------------------------------

#[test]
fn nan_tolerances_and_points_are_refused() {
    let d = Dir::new();
    let p = d.path();
    // a false claim must never be VERIFIED
    refused(
        p,
        &[
            "check",
            "m.fnn",
            "--numeric-only",
            "--claim",
            "dy/dx1 = 12345",
            "--tolerance",
            "nan",
        ],
        &["tolerance"],
    );
    let o = run(
        p,
        &[
            "check",
            "m.fnn",
            "--numeric-only",
            "--claim",
            "dy/dx1 = 12345",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", message(&o));
    refused(
        p,
        &[
            "cumulants",
            "flow.fnn",
            "--data",
            "flow.fnn",
            "--tolerance",
            "nan",
        ],
        &["tolerance"],
    );
    refused(
        p,
        &["action", "flow.fnn", "--at", "nan"],
        &["`nan` is not finite"],
    );
    refused(
        p,
        &["taylor", "m.fnn", "--at", "inf,0"],
        &["`inf` is not finite"],
    );
}

#[test]
fn counts_beyond_64_and_128_bits_are_exact() {
    let d = Dir::new();
    let p = d.path();
    // one quad layer: the involution number (OEIS A000085) plus the log-det vertex
    let out = fine(
        p,
        &[
            "diagrams", "flow.fnn", "--layer", "0", "--order", "21", "--count",
        ],
    );
    assert!(out.contains("order 21: 119952692897 labelled"), "{out}");
    let out = fine(
        p,
        &[
            "diagrams", "flow.fnn", "--layer", "0", "--order", "66", "--count",
        ],
    );
    assert!(out.contains("order 66:"), "{out}");
    // one hidden layer: the order-35 star has |Aut| = 35!, beyond u128
    let out = fine(
        p,
        &["diagrams", "m.fnn", "--order", "35", "--format", "json"],
    );
    assert!(
        out.contains("10333147966386144929666651337523200000000"),
        "{out}"
    );
}

// ---- 3. stack overflows ---------------------------------------------------------------------

#[test]
fn long_flat_expressions_are_refused_not_overflowed() {
    let d = Dir::new();
    let p = d.path();
    let model = "model m { input 2 layer 3 tanh output 1 }\n";
    let sum = vec!["1"; 40_000].join(" + ");
    d.write("sum.fnn", format!("let a = {sum}\n{model}"));
    refused(
        p,
        &["diagrams", "sum.fnn", "--order", "2", "--count"],
        &["sum.fnn:1:", "nests"],
    );
    d.write(
        "neg.fnn",
        format!("let a = {}1\n{model}", "-".repeat(20_000)),
    );
    refused(
        p,
        &["diagrams", "neg.fnn", "--order", "2", "--count"],
        &["nests"],
    );
    d.write(
        "pow.fnn",
        format!("let a = {}\n{model}", vec!["1"; 20_000].join("^")),
    );
    refused(
        p,
        &["diagrams", "pow.fnn", "--order", "2", "--count"],
        &["nests"],
    );
    d.write(
        "par.fnn",
        format!("let a = {}1\n{model}", "(".repeat(100_000)),
    );
    refused(
        p,
        &["diagrams", "par.fnn", "--order", "2", "--count"],
        &["nest"],
    );
    d.write(
        "list.fnn",
        format!(
            "inn f {{ dim 1 layer linear param W0 = {}1 }}\n",
            "[".repeat(100_000)
        ),
    );
    refused(p, &["action", "list.fnn"], &["nest"]);
    // claims (in files: one argument may not exceed 128 kB)
    d.write(
        "sum.claims",
        format!("dy/dx1 = {}\n", vec!["W1[1,1]"; 40_000].join(" + ")),
    );
    d.write("neg.claims", format!("dy/dx1 = {}1\n", "-".repeat(20_000)));
    d.write(
        "pow.claims",
        format!("dy/dx1 = {}\n", vec!["2"; 20_000].join("^")),
    );
    d.write("par.claims", format!("dy/dx1 = {}1\n", "(".repeat(100_000)));
    for f in ["sum.claims", "neg.claims", "pow.claims", "par.claims"] {
        refused(
            p,
            &["check", "m.fnn", "--numeric-only", "--claim-file", f],
            &[f, "nest"],
        );
    }
    // a 200-term sum is fine
    let ok = vec!["0.001*z"; 200].join(" + ");
    d.write(
        "ok.fnn",
        format!("model m {{ input 2 layer 3 ({ok}) output 1 }}\n"),
    );
    fine(p, &["diagrams", "ok.fnn", "--order", "2", "--count"]);
}

// ---- 4. panics ------------------------------------------------------------------------------

#[test]
fn errors_on_very_long_lines_have_a_location_and_no_snippet() {
    let d = Dir::new();
    let p = d.path();
    // the error sits at column 70,001 (miette's renderer panicked beyond 65,536)
    let long = format!(
        "let a = 1{} $\nmodel m {{ input 2 layer 3 tanh output 1 }}\n",
        " ".repeat(70_000)
    );
    d.write("long.fnn", long);
    refused(
        p,
        &["diagrams", "long.fnn", "--order", "2", "--count"],
        &["long.fnn:1:70011"],
    );
    d.write(
        "long.claims",
        format!("dy/dx1 = 1{} $\n", " ".repeat(70_000)),
    );
    refused(
        p,
        &[
            "check",
            "m.fnn",
            "--numeric-only",
            "--claim-file",
            "long.claims",
        ],
        &["long.claims:1:70012"],
    );
    // a short line still gets its snippet
    d.write("short.fnn", "model m { input 2 layer 3 tahn output 1 }\n");
    let m = refused(
        p,
        &["diagrams", "short.fnn", "--order", "2"],
        &["short.fnn:1:27", "did you mean `tanh`"],
    );
    assert!(m.contains("here"), "{m}");
}

#[test]
fn closed_pipes_end_quietly_and_full_disks_fail_loudly() {
    let d = Dir::new();
    let p = d.path();
    let args = [
        "check",
        "m.fnn",
        "--numeric-only",
        "--claim",
        "dy/dx1 = 0",
        "--claim",
        "dy/dx2 = 0",
    ];
    let mut child = command(p, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader is gone before anything is written
    let o = child.wait_with_output().unwrap();
    no_crash(&args, &o);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{:?}: {}",
        o.status,
        message(&o)
    );
    assert!(
        o.stderr.is_empty() || !message(&o).contains("failed printing"),
        "{}",
        message(&o)
    );
    // > /dev/full
    if Path::new("/dev/full").exists() {
        for args in [
            &["check", "m.fnn", "--numeric-only", "--claim", "dy/dx1 = 0"][..],
            &["taylor", "m.fnn"][..],
            &["diagrams", "m.fnn", "--order", "3", "--count"][..],
        ] {
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap();
            let o = command(p, args).stdout(full).output().unwrap();
            no_crash(args, &o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", message(&o));
            assert!(
                message(&o).contains("cannot write standard output"),
                "{}",
                message(&o)
            );
        }
    }
    refused(
        p,
        &["taylor", "m.fnn", "-o", "no/such/dir/out.txt"],
        &["cannot write no/such/dir/out.txt"],
    );
}

// ---- 5. hangs -------------------------------------------------------------------------------

#[test]
fn unclosed_sums_and_exact_actions_answer_at_once() {
    let d = Dir::new();
    let p = d.path();
    // each unclosed `sum(j, ` used to double the parse time
    let claim = format!("dy/dx1 = {}", "sum(j, ".repeat(60));
    refused(
        p,
        &["check", "m.fnn", "--numeric-only", "--claim", &claim],
        &["--claim:1:"],
    );
    // a 15th order with diagrams on a 3-5-5-2 net: ~10⁹ labelled diagrams per coefficient
    refused(
        p,
        &["taylor", "big.fnn", "--order", "15", "--diagrams"],
        &["refused", "diagrams"],
    );
    // the small orders still work
    let out = fine(p, &["taylor", "big.fnn", "--order", "3", "--diagrams"]);
    assert!(out.contains("order 3"), "{out}");
    fine(
        p,
        &[
            "action", "flow.fnn", "--model", "t2", "--exact", "--order", "4",
        ],
    );
}

// ---- 6. misleading or silent ------------------------------------------------------------------

#[test]
fn misleading_inputs_get_precise_messages() {
    let d = Dir::new();
    let p = d.path();
    d.write("big.fnn.inn", "");
    d.write(
        "inf.fnn",
        "inn f { dim 1 layer linear param W0 = [[1e400]] param b0 = [0] }\n",
    );
    refused(
        p,
        &["action", "inf.fnn"],
        &["inf.fnn:1:", "1e400", "out of range"],
    );
    d.write("words.csv", "a,b\nc,d\n");
    refused(
        p,
        &["taylor", "m.fnn", "--at-file", "words.csv"],
        &["words.csv"],
    );
    d.write("empty.csv", "");
    refused(
        p,
        &["taylor", "m.fnn", "--at-file", "empty.csv"],
        &["empty.csv", "no points"],
    );
    d.write(
        "self.fnn",
        "let a = a\nmodel m { input 2 layer 3 (z + a*z^2) output 1 }\n",
    );
    refused(
        p,
        &["diagrams", "self.fnn", "--order", "2"],
        &["self.fnn:1:1", "refers to itself"],
    );
    // an orphan bias: `2.weight` missing
    let mut t = std::collections::BTreeMap::new();
    t.insert(
        "0.weight".to_string(),
        Tensor {
            shape: vec![3, 2],
            data: vec![0.1; 6],
        },
    );
    t.insert(
        "0.bias".to_string(),
        Tensor {
            shape: vec![3],
            data: vec![0.1; 3],
        },
    );
    t.insert(
        "2.bias".to_string(),
        Tensor {
            shape: vec![1],
            data: vec![0.1],
        },
    );
    write_safetensors(&p.join("orphan.safetensors"), &t).unwrap();
    refused(
        p,
        &["import", "orphan.safetensors", "--activation", "tanh"],
        &["2.bias", "2.weight"],
    );
}

// ---- 7. a newcomer's first hour ---------------------------------------------------------------

#[test]
fn import_names_models_that_parse() {
    let d = Dir::new();
    let p = d.path();
    for stem in ["model", "input", "2 layer's net", "weights"] {
        std::fs::copy(
            p.join("w.safetensors"),
            p.join(format!("{stem}.safetensors")),
        )
        .unwrap();
        let spec = format!("{stem}.fnn");
        fine(
            p,
            &[
                "import",
                &format!("{stem}.safetensors"),
                "--activation",
                "tanh",
                "-o",
                &spec,
            ],
        );
        let out = fine(p, &["taylor", &spec, "--order", "1"]);
        assert!(out.contains("order 1"), "{out}");
    }
    refused(
        p,
        &[
            "import",
            "w.safetensors",
            "--activation",
            "tanh",
            "--name",
            "model",
        ],
        &["--name `model`"],
    );
}

#[test]
fn nan_in_json_weights_is_named_as_nan() {
    let d = Dir::new();
    let p = d.path();
    d.write(
        "nan.json",
        "{\"layers\": [{\"W\": [[0.1, NaN]], \"b\": [0.0], \"act\": \"tanh\"},\n {\"W\": [[1.0]], \"b\": [0.0]}]}\n",
    );
    refused(
        p,
        &["taylor", "m.fnn", "--weights", "nan.json"],
        &["NaN", "line 1", "finite"],
    );
}
