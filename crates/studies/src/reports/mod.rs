//! Figures and tables from study reports (issue 17): every committed figure and generated table
//! of the book is drawn again from its committed JSON report, with no training and no sampling,
//! by `feynn reports` (and checked against the committed files by `feynn reports --check`).
//!
//! A **manifest** (JSON; the book's is `book/src/reports.json`) lists the reports, each with its
//! kind and the files drawn from it, paths relative to the manifest's folder:
//!
//! ```json
//! { "reports": [
//!     { "report": "born-report.json", "kind": "born-iterate",
//!       "outputs": { "gradient": "img/born-gradient.svg", "tables": "born-report.md" } } ] }
//! ```
//!
//! The output names each kind knows ([`Kind::outputs`]); an output left out is not drawn:
//!
//! | kind | the report | outputs |
//! |---|---|---|
//! | `born-iterate` | `feynn born iterate --json` | `gradient`, `hessian` (needs the Hessians, in reports since issue 17), `tables` |
//! | `born-seeds` | `feynn born iterate --seeds K` (`seeds.json`) | `table` |
//! | `efnn-compare` | `feynn efnn compare` (`compare.json`) | `tables`, `error-vs-depth`, `couplings`, `couplings-taylor` (0/1 spins) |
//! | `efnn-transfer` | `feynn efnn transfer` (`transfer.json`) | `table`, `error-vs-size` |
//! | `efnn-scale` | `feynn efnn scale` (`scale.json`) | `table`, `error-vs-size` |
//! | `efnn-runs` | an index of single runs (`feynn train`, `efnn eval`, `efnn couplings` JSON beside it) | `table` |
//! | `theory-learn` | `feynn theory learn --out-dir` (`learn.json`) | `a2`, `a4`, `cumulants` |
//! | `theory-sweep` | `feynn theory sweep --out-dir` (`sweep.json`) | `table`, `a3`, `a4`, `couplings` |
//! | `theory-grid` | `feynn theory grid --out-dir` (`grid.json`) | `table`, `couplings` |
//!
//! The studies draw their own figures and tables through the same functions, so a study run and
//! a later `feynn reports` give the same bytes. Reports written before provenance was recorded
//! (version, machine, settings) are accepted: rendering reads only what the figures need.

pub mod born;
pub mod efnn;
pub mod theory;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use feynn::error::{Error, Result};

/// What a report is, and so how its figures and tables are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// One run of `feynn born iterate` (the report of `--json`, `report.json` of `--out-dir`).
    BornIterate,
    /// `feynn born iterate --seeds K` (`seeds.json`).
    BornSeeds,
    /// `feynn efnn compare` (`compare.json`), 0/1 or continuous spins.
    EfnnCompare,
    /// `feynn efnn transfer` (`transfer.json`).
    EfnnTransfer,
    /// `feynn efnn scale` (`scale.json`).
    EfnnScale,
    /// An index of single runs side by side: per column a label and the JSON reports of
    /// `feynn train --format json`, `feynn efnn eval --format json` and `feynn efnn couplings
    /// --format json` (paths relative to the index), drawn as one table ([`efnn::runs`]).
    EfnnRuns,
    /// `feynn theory learn` (`learn.json`).
    TheoryLearn,
    /// `feynn theory sweep` (`sweep.json`).
    TheorySweep,
    /// `feynn theory grid` (`grid.json`).
    TheoryGrid,
}

impl Kind {
    /// The manifest spelling.
    pub fn name(self) -> &'static str {
        match self {
            Kind::BornIterate => "born-iterate",
            Kind::BornSeeds => "born-seeds",
            Kind::EfnnCompare => "efnn-compare",
            Kind::EfnnTransfer => "efnn-transfer",
            Kind::EfnnScale => "efnn-scale",
            Kind::EfnnRuns => "efnn-runs",
            Kind::TheoryLearn => "theory-learn",
            Kind::TheorySweep => "theory-sweep",
            Kind::TheoryGrid => "theory-grid",
        }
    }

    /// The outputs this kind can draw.
    pub fn outputs(self) -> &'static [&'static str] {
        match self {
            Kind::BornIterate => &["gradient", "hessian", "tables"],
            Kind::BornSeeds => &["table"],
            Kind::EfnnCompare => &["tables", "error-vs-depth", "couplings", "couplings-taylor"],
            Kind::EfnnTransfer => &["table", "error-vs-size"],
            Kind::EfnnScale => &["table", "error-vs-size"],
            Kind::EfnnRuns => &["table"],
            Kind::TheoryLearn => &["a2", "a4", "cumulants"],
            Kind::TheorySweep => &["table", "a3", "a4", "couplings"],
            Kind::TheoryGrid => &["table", "couplings"],
        }
    }

    /// Draw `output` from `report` (the parsed JSON; `dir` is its folder, where an index's
    /// reports are read).
    pub fn render(self, report: &serde_json::Value, dir: &Path, output: &str) -> Result<String> {
        match self {
            Kind::BornIterate => born::iterate(report, output),
            Kind::BornSeeds => born::seeds(report, output),
            Kind::EfnnCompare => efnn::compare(report, output),
            Kind::EfnnTransfer => efnn::transfer(report, output),
            Kind::EfnnScale => efnn::scale(report, output),
            Kind::EfnnRuns => efnn::runs(report, dir, output),
            Kind::TheoryLearn => theory::learn(report, output),
            Kind::TheorySweep => theory::sweep(report, output),
            Kind::TheoryGrid => theory::grid(report, output),
        }
    }
}

/// One report of a manifest and the files drawn from it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The JSON report, relative to the manifest's folder.
    pub report: PathBuf,
    pub kind: Kind,
    /// Output name (see [`Kind::outputs`]) → file, relative to the manifest's folder.
    pub outputs: BTreeMap<String, PathBuf>,
}

/// A manifest: which reports draw which committed files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Free text for the reader (JSON has no comments).
    #[serde(default)]
    pub comment: Option<String>,
    pub reports: Vec<Entry>,
    /// The manifest's folder: report and output paths are relative to it.
    #[serde(skip)]
    pub dir: PathBuf,
}

fn bad(what: String, help: &str) -> Error {
    Error::invalid(what, help.to_string())
}

impl Manifest {
    /// Read and validate a manifest: known kinds and output names, no file drawn twice.
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let mut m: Manifest = serde_json::from_str(&text).map_err(|e| {
            bad(
                format!("manifest {}: {e}", path.display()),
                "a manifest is {\"reports\": [{\"report\": FILE, \"kind\": KIND, \"outputs\": {NAME: FILE}}]}",
            )
        })?;
        m.dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let mut seen = std::collections::BTreeSet::new();
        for e in &m.reports {
            for (name, file) in &e.outputs {
                if !e.kind.outputs().contains(&name.as_str()) {
                    return Err(bad(
                        format!(
                            "manifest {}: a `{}` report has no output `{name}`",
                            path.display(),
                            e.kind.name()
                        ),
                        &format!("its outputs are {}", e.kind.outputs().join(", ")),
                    ));
                }
                if !seen.insert(file.clone()) {
                    return Err(bad(
                        format!(
                            "manifest {}: {} is drawn twice",
                            path.display(),
                            file.display()
                        ),
                        "each file comes from one report",
                    ));
                }
            }
        }
        Ok(m)
    }
}

/// A file drawn from a report: where it goes and its text.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The file (the manifest's folder joined with the output's path).
    pub path: PathBuf,
    /// The report it comes from.
    pub report: PathBuf,
    pub text: String,
}

/// Read one report (JSON).
pub fn read_report(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    serde_json::from_str(&text).map_err(|e| {
        bad(
            format!("report {}: not JSON: {e}", path.display()),
            "a report is the JSON file a study wrote",
        )
    })
}

/// Draw every output of every report of `m`, in manifest order. A report that is missing or
/// lacks what an output needs is an error naming both.
pub fn render(m: &Manifest) -> Result<Vec<Rendered>> {
    let mut out = vec![];
    for e in &m.reports {
        let report = m.dir.join(&e.report);
        let value = read_report(&report)?;
        for (name, file) in &e.outputs {
            let folder = report.parent().unwrap_or(Path::new("."));
            let text = e.kind.render(&value, folder, name).map_err(|err| {
                bad(
                    format!(
                        "{} ({} `{name}` from {}): {err}",
                        file.display(),
                        e.kind.name(),
                        report.display()
                    ),
                    "the report lacks what this output needs; re-run the study or drop the output",
                )
            })?;
            out.push(Rendered {
                path: m.dir.join(file),
                report: report.clone(),
                text,
            });
        }
    }
    Ok(out)
}

/// Write the drawn files (creating folders).
pub fn write(files: &[Rendered]) -> Result<()> {
    for f in files {
        if let Some(d) = f.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d).map_err(|e| Error::Io {
                path: d.display().to_string(),
                source: e,
            })?;
        }
        crate::plot::write_text(&f.path, &f.text)?;
    }
    Ok(())
}

/// How a committed file differs from what its report draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The file is not there (or cannot be read).
    Missing,
    /// The file differs; the first differing line (1-based).
    Differs { line: usize },
}

/// The files of `files` whose committed text differs from the drawn one.
pub fn check(files: &[Rendered]) -> Vec<(&Rendered, Mismatch)> {
    files
        .iter()
        .filter_map(|f| match std::fs::read_to_string(&f.path) {
            Err(_) => Some((f, Mismatch::Missing)),
            Ok(t) if t == f.text => None,
            Ok(t) => {
                let line = t
                    .lines()
                    .zip(f.text.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| t.lines().count().min(f.text.lines().count()))
                    + 1;
                Some((f, Mismatch::Differs { line }))
            }
        })
        .collect()
}

/// `v` as a number: JSON `null` (how serde writes NaN) is NaN.
pub(crate) fn nan_or<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Deserialise the part of a report an output needs; an error names the kind of report.
pub(crate) fn view<T: serde::de::DeserializeOwned>(
    report: &serde_json::Value,
    what: &str,
) -> Result<T> {
    T::deserialize(report).map_err(|e| {
        bad(
            format!("not a {what} report: {e}"),
            "check the kind given in the manifest",
        )
    })
}

/// An output name the kind does not know (the manifest is checked first; this is for callers
/// of [`Kind::render`]).
pub(crate) fn unknown(kind: Kind, output: &str) -> Error {
    bad(
        format!("a `{}` report has no output `{output}`", kind.name()),
        &format!("its outputs are {}", kind.outputs().join(", ")),
    )
}
