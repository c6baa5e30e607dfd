//! `feynn reports` (issue 17): the book's study figures and tables are drawn again from the
//! committed reports, byte for byte.
//!
//! * `--check` on the committed book exits 0: every file the manifest (`book/src/reports.json`)
//!   lists is what its report draws;
//! * a copy of a report with one number changed makes `--check` exit 1 and name the table and the
//!   figure drawn from it; drawing them again (no `--check`) repairs them;
//! * drawing is deterministic (twice the same bytes), and bad input (a missing report, an output
//!   the kind does not have) exits 2.

use std::path::{Path, PathBuf};
use std::process::Command;

fn feynn(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_feynn"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn book() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../book/src")
        .canonicalize()
        .unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("feynn-reports-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn committed_figures_and_tables_match_their_reports() {
    let manifest = book().join("reports.json");
    let (code, out, err) = feynn(&["reports", "--check", manifest.to_str().unwrap()], &book());
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("files match their"), "{out}");
}

/// A temporary copy of the transfer study's report and files with its manifest.
fn transfer_copy(name: &str) -> PathBuf {
    let d = tmp(name);
    let src = book().join("efnn/transfer");
    for f in ["transfer.json", "transfer.md", "error-vs-size.svg"] {
        std::fs::copy(src.join(f), d.join(f)).unwrap();
    }
    std::fs::write(
        d.join("reports.json"),
        r#"{"reports": [{"report": "transfer.json", "kind": "efnn-transfer",
            "outputs": {"table": "transfer.md", "error-vs-size": "error-vs-size.svg"}}]}"#,
    )
    .unwrap();
    d
}

#[test]
fn a_changed_number_is_named_and_drawn_again() {
    let d = transfer_copy("changed");
    let (code, _, err) = feynn(&["reports", "--check", "reports.json"], &d);
    assert_eq!(code, 0, "{err}");
    // one number of the report: the relative error at the first lattice size
    let p = d.join("transfer.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    let x = &mut v["rows"][0]["metrics"]["relative"];
    *x = serde_json::json!(x.as_f64().unwrap() * 1.5);
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let before = std::fs::read(d.join("transfer.md")).unwrap();
    let (code, _, err) = feynn(&["reports", "--check", "reports.json"], &d);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("transfer.md: differs"), "{err}");
    assert!(err.contains("error-vs-size.svg: differs"), "{err}");
    // --check writes nothing
    assert_eq!(std::fs::read(d.join("transfer.md")).unwrap(), before);
    // drawing them again makes the check pass, with the changed number in the table
    let (code, out, err) = feynn(&["reports", "reports.json"], &d);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("wrote") && out.contains("transfer.md"),
        "{out}"
    );
    let (code, _, err) = feynn(&["reports", "--check", "reports.json"], &d);
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(d.join("transfer.md")).unwrap();
    assert!(md.contains("| 6 | 60 | 6.92e-3 |"), "{md}");
    // a deleted file is named as missing
    std::fs::remove_file(d.join("error-vs-size.svg")).unwrap();
    let (code, _, err) = feynn(&["reports", "--check", "reports.json"], &d);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("error-vs-size.svg: missing"), "{err}");
}

#[test]
fn drawing_is_deterministic() {
    let m = feynn_studies::reports::Manifest::load(&book().join("reports.json")).unwrap();
    let a = feynn_studies::reports::render(&m).unwrap();
    let b = feynn_studies::reports::render(&m).unwrap();
    assert!(a.len() >= 10, "{} files", a.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.path, y.path);
        assert!(
            x.text == y.text,
            "{} differs between two drawings",
            x.path.display()
        );
    }
}

#[test]
fn bad_input_exits_2() {
    let d = transfer_copy("bad");
    std::fs::remove_file(d.join("transfer.json")).unwrap();
    let (code, _, err) = feynn(&["reports", "--check", "reports.json"], &d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("transfer.json"), "{err}");
    // an output the kind does not have
    std::fs::write(
        d.join("other.json"),
        r#"{"reports": [{"report": "transfer.json", "kind": "efnn-transfer",
            "outputs": {"hessian": "h.svg"}}]}"#,
    )
    .unwrap();
    let (code, _, err) = feynn(&["reports", "--check", "other.json"], &d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no output `hessian`"), "{err}");
    // a report of another kind than the manifest says
    std::fs::copy(
        book().join("efnn/transfer/transfer.json"),
        d.join("transfer.json"),
    )
    .unwrap();
    std::fs::write(
        d.join("wrong.json"),
        r#"{"reports": [{"report": "transfer.json", "kind": "born-seeds",
            "outputs": {"table": "t.md"}}]}"#,
    )
    .unwrap();
    let (code, _, err) = feynn(&["reports", "--check", "wrong.json"], &d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a born-seeds report"), "{err}");
    // no manifest
    let (code, _, _) = feynn(&["reports", "--check", "absent.json"], &d);
    assert_eq!(code, 2);
}
