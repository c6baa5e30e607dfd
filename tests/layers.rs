//! The layers of the core crate, enforced: a module may import only modules of a lower layer
//! (the crate graph already keeps the studies and the CLI out of the core), and the core's
//! manifest names no command-line, progress-bar, plotting or training dependency.
//!
//! The order is the data flow `dsl → model → diagrams → symbolic | numeric → export`, with the
//! shared vocabulary (errors, notation, random draws) at the bottom and `check` on top.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// (module, layer): a module may import modules of a strictly lower layer only.
const LAYERS: &[(&str, u32)] = &[
    ("error", 0),
    ("budget", 1),
    ("notation", 1),
    ("random", 1),
    ("dsl", 2),
    ("model", 3),
    ("points", 3),
    ("diagrams", 4),
    ("claim", 5),
    ("numeric", 6),
    ("symbolic", 7),
    ("export", 8),
    ("check", 9),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`src/model/inn.rs` → `model`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_string())
}

/// Every `crate::NAME` a file mentions outside comments, with `use crate::{a, b}` groups.
fn imports(text: &str) -> Vec<String> {
    let mut out = vec![];
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                for item in group.split([',', '}']) {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        out.push(name);
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn no_module_imports_a_higher_layer() {
    let layer: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let src = root().join("src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    let mut bad = vec![];
    for f in &files {
        let Some(m) = module_of(&src, f) else {
            continue;
        };
        if m == "lib" {
            continue;
        }
        let Some(&own) = layer.get(m.as_str()) else {
            bad.push(format!(
                "{}: module `{m}` has no layer in tests/layers.rs",
                f.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        for name in imports(&text) {
            if name == m || name == "Error" || name == "Result" {
                continue;
            }
            match layer.get(name.as_str()) {
                Some(&l) if l < own => {}
                Some(&l) => bad.push(format!(
                    "{}: `{m}` (layer {own}) imports `{name}` (layer {l})",
                    f.display()
                )),
                None => bad.push(format!("{}: unknown module crate::{name}", f.display())),
            }
        }
    }
    assert!(
        bad.is_empty(),
        "upward or sideways imports:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_scanner_sees_imports() {
    // the check above must be able to fail
    let v = imports(
        "use crate::{export::x, model::Model};\nlet a = crate::numeric::f(); // crate::check",
    );
    assert_eq!(v, ["export", "model", "numeric"]);
}

/// The names in the `[dependencies]` table of a manifest.
fn dependency_names(manifest: &str) -> Vec<String> {
    let deps = manifest
        .split("\n[dependencies]\n")
        .nth(1)
        .expect("a [dependencies] table")
        .split("\n[")
        .next()
        .unwrap();
    deps.lines()
        .filter_map(|l| l.split('=').next())
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .collect()
}

/// The studies report progress through a callback and leave argument parsing to the CLI.
#[test]
fn studies_manifest_has_no_cli_or_progress_bar_dependencies() {
    let manifest = std::fs::read_to_string(root().join("crates/studies/Cargo.toml")).unwrap();
    let names = dependency_names(&manifest);
    assert!(
        names.iter().any(|n| n.starts_with("feynn")),
        "parsed: {names:?}"
    );
    for forbidden in ["clap", "clap.workspace", "indicatif", "indicatif.workspace"] {
        assert!(
            !names.iter().any(|n| n == forbidden),
            "the studies crate depends on {forbidden}"
        );
    }
}

#[test]
fn core_manifest_has_no_front_end_dependencies() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let deps = manifest
        .split("\n[dependencies]\n")
        .nth(1)
        .expect("a [dependencies] table")
        .split("\n[")
        .next()
        .unwrap();
    let names: Vec<&str> = deps
        .lines()
        .filter_map(|l| l.split('=').next())
        .map(str::trim)
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .collect();
    assert!(names.contains(&"ndarray"), "parsed the table: {names:?}");
    for forbidden in [
        "clap",
        "indicatif",
        "plotters",
        "candle-core",
        "candle-nn",
        "feynn-studies",
    ] {
        assert!(
            !names.contains(&forbidden),
            "the core crate depends on {forbidden}"
        );
    }
}
