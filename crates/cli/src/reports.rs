//! `feynn reports`: draw the book's study figures and tables again from the committed reports
//! (`feynn_studies::reports`), or check that the committed files match them.

use std::path::PathBuf;
use std::process::ExitCode;

use super::outln;
use feynn::Result;
use feynn_studies::reports::{self, Manifest, Mismatch};

#[derive(clap::Args)]
pub struct Args {
    /// The manifest: which report draws which file (JSON; paths relative to its folder).
    #[arg(default_value = "book/src/reports.json")]
    pub manifest: PathBuf,
    /// Write nothing: compare every drawn file with the committed one and name each that
    /// differs (exit 1 if any differs).
    #[arg(long)]
    pub check: bool,
    /// Print nothing but errors and differences.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let m = Manifest::load(&a.manifest)?;
    let files = reports::render(&m)?;
    if !a.check {
        reports::write(&files)?;
        if !a.quiet {
            for f in &files {
                outln!("wrote {} (from {})", f.path.display(), f.report.display())?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let bad = reports::check(&files);
    for (f, why) in &bad {
        match why {
            Mismatch::Missing => eprintln!(
                "{}: missing (drawn from {})",
                f.path.display(),
                f.report.display()
            ),
            Mismatch::Differs { line } => eprintln!(
                "{}: differs from what {} draws (first at line {line})",
                f.path.display(),
                f.report.display()
            ),
        }
    }
    if bad.is_empty() {
        if !a.quiet {
            outln!(
                "{} files match their {} reports",
                files.len(),
                m.reports.len()
            )?;
        }
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "{} of {} files differ from their reports; `feynn reports {}` draws them again",
            bad.len(),
            files.len(),
            a.manifest.display()
        );
        Ok(ExitCode::from(1))
    }
}
