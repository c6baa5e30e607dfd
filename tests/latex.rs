//! The LaTeX documents of every example spec compile with pdflatex (Debian's texlive-latex-base,
//! texlive-latex-recommended and texlive-pictures; `.ci/run` installs them).

use std::path::{Path, PathBuf};
use std::process::Command;

fn specs(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            specs(&p, out);
        } else if p.extension().is_some_and(|x| x == "fnn") {
            out.push(p);
        }
    }
}

fn pdflatex(dir: &Path, tex: &str) {
    let out = Command::new("pdflatex")
        .args(["-interaction=nonstopmode", "-halt-on-error", tex])
        .current_dir(dir)
        .output()
        .expect("pdflatex is needed for this test: apt-get install texlive-latex-base texlive-latex-recommended texlive-pictures");
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{tex} does not compile:\n{}",
        &log[log.len().saturating_sub(3000)..]
    );
}

#[test]
fn every_example_document_compiles() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let mut all = vec![];
    specs(&root.join("examples"), &mut all);
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    for spec in all {
        for m in feynn::model::load_spec_file(&spec).unwrap() {
            let tex = format!("doc{n}.tex");
            n += 1;
            let out = Command::new(env!("CARGO_BIN_EXE_feynn"))
                .args([
                    "latex",
                    spec.to_str().unwrap(),
                    "--model",
                    &m.name,
                    "--order",
                    "3",
                    "-o",
                ])
                .arg(dir.path().join(&tex))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                spec.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            pdflatex(dir.path(), &tex);
        }
    }
    assert!(n >= 5);
}

#[test]
fn a_fragment_pastes_into_a_paper() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_feynn"))
        .args([
            "latex",
            "examples/born/born.fnn",
            "--order",
            "2",
            "--fragment",
        ])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(out.status.success());
    let frag = String::from_utf8(out.stdout).unwrap();
    assert!(!frag.contains("\\documentclass") && frag.contains("\\section"));
    let paper = format!("\\documentclass{{article}}\n\\usepackage{{amsmath,amssymb,tikz}}\n\\begin{{document}}\nOur network:\n{frag}\n\\end{{document}}\n");
    std::fs::write(dir.path().join("paper.tex"), paper).unwrap();
    pdflatex(dir.path(), "paper.tex");
}

/// `--expanded` adds every coefficient in the weights and biases (Symbolica), broken into lines
/// that fit the page; the document still compiles. (The only test here that runs Symbolica.)
#[cfg(feature = "symbolic")]
#[test]
fn expanded_closed_forms_compile() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let dir = tempfile::tempdir().unwrap();
    let tex = dir.path().join("expanded.tex");
    let out = Command::new(env!("CARGO_BIN_EXE_feynn"))
        .args([
            "latex",
            "examples/symbolic/two_layer.fnn",
            "--order",
            "2",
            "--expanded",
            "-o",
        ])
        .arg(&tex)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = std::fs::read_to_string(&tex).unwrap();
    assert!(doc.contains("\\section{Expanded closed forms}"));
    // c_{x_1 x_2} is there, in the parameters, broken over several lines
    let mixed = doc
        .find("c_{x_{1} x_{2}} &=")
        .expect("the mixed coefficient");
    let next = doc[mixed..]
        .find("\\\\\nc_")
        .map_or(doc.len(), |e| mixed + e);
    assert!(
        doc[mixed..next].matches("\\quad").count() >= 3,
        "broken into lines"
    );
    assert!(doc.contains("{W^{(1)}_{1,2}}"), "parameters in LaTeX");
    let longest = doc.lines().map(|l| l.len()).max().unwrap();
    assert!(longest < 2000, "a line of {longest} characters");
    pdflatex(dir.path(), "expanded.tex");
}

/// The TikZ pictures of the INN layer diagrams and the LaTeX of the INN action compile.
#[test]
fn inn_tikz_and_latex_compile() {
    let dir = tempfile::tempdir().unwrap();
    let feynn = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_feynn"))
            .args(args)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let mut doc = String::from(
        "\\documentclass{article}\n\\usepackage{tikz}\n\\usepackage{amsmath}\n\\begin{document}\n",
    );
    for l in ["0", "1"] {
        doc += &feynn(&[
            "diagrams",
            "examples/inn/flow.fnn",
            "--layer",
            l,
            "--order",
            "4",
            "--format",
            "tikz",
        ]);
    }
    doc += &feynn(&[
        "action",
        "examples/inn/flow.fnn",
        "--model",
        "t2",
        "--format",
        "latex",
    ]);
    doc += "\\end{document}\n";
    std::fs::write(dir.path().join("inn.tex"), doc).unwrap();
    pdflatex(dir.path(), "inn.tex");
}
