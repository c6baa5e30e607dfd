//! The files of a Born-series run: the JSON report, the figures and the trained networks.

use std::path::{Path, PathBuf};

use super::{spec_text, IterateReport, IterateSettings};
use feynn::{Error, Result};

/// Where a run's files go; each is optional. [`Artifacts::in_dir`] puts all of them in one
/// folder (`report.json`, `born-gradient.svg`, `born-hessian.svg`, `born.fnn`,
/// `born-K.safetensors`).
#[derive(Debug, Clone, Default)]
pub struct Artifacts {
    /// The report as JSON.
    pub report: Option<PathBuf>,
    /// Folder for born-gradient.svg and born-hessian.svg.
    pub plots: Option<PathBuf>,
    /// Folder for the networks (born.fnn, born-1.safetensors, …).
    pub networks: Option<PathBuf>,
}

impl Artifacts {
    /// Everything in `dir`.
    pub fn in_dir(dir: &Path) -> Artifacts {
        Artifacts {
            report: Some(dir.join("report.json")),
            plots: Some(dir.to_path_buf()),
            networks: Some(dir.to_path_buf()),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.display().to_string(),
        source: e,
    }
}

/// Write the files of `rep` that `to` asks for (`_range`, the potentials' range R, is the
/// report's own `range`).
pub fn write_artifacts(
    rep: &IterateReport,
    s: &IterateSettings,
    _range: f64,
    to: &Artifacts,
) -> Result<()> {
    for dir in [&to.plots, &to.networks].into_iter().flatten() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    if let Some(p) = &to.report {
        if let Some(parent) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let text = serde_json::to_string_pretty(rep).unwrap() + "\n";
        std::fs::write(p, text).map_err(io(p))?;
    }
    if let Some(dir) = &to.plots {
        // drawn from the report itself, as `feynn reports` draws them again
        let report = serde_json::to_value(rep).expect("numbers and strings");
        for (output, file) in [
            ("gradient", "born-gradient.svg"),
            ("hessian", "born-hessian.svg"),
        ] {
            let svg = crate::reports::born::iterate(&report, output)?;
            crate::plot::write_text(&dir.join(file), &svg)?;
        }
    }
    if let Some(dir) = &to.networks {
        let spec = spec_text("born", rep.steps, &s.hidden, &s.activation);
        let p = dir.join("born.fnn");
        std::fs::write(&p, spec).map_err(io(&p))?;
        for st in &rep.stages {
            feynn::model::weights::write_safetensors(
                &dir.join(format!("born-{}.safetensors", st.iteration)),
                &st.weights,
            )?;
        }
    }
    Ok(())
}
