use std::path::PathBuf;
use std::process::ExitCode;

use feynn::check::{self, Options, Verdict};
use feynn::{Error, Result};

use super::{out, outln, OutArg};

#[derive(clap::Args)]
pub struct Args {
    /// The model spec (.fnn).
    spec: PathBuf,
    #[arg(long)]
    model: Option<String>,
    /// A claim `LEFT = RIGHT`, e.g. "d2y/dx1dx2 = sum(j, W2[1,j]*d2tanh(b1[j])*W1[j,1]*W1[j,2])";
    /// may be given several times.
    #[arg(long, allow_hyphen_values = true)]
    claim: Vec<String>,
    /// A file with one claim per line (`#` or `//` comments).
    #[arg(long)]
    claim_file: Option<PathBuf>,
    /// Random parameter draws per width assignment.
    #[arg(long, default_value_t = 8)]
    draws: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Largest relative discrepancy counted as equality.
    #[arg(long, default_value_t = 1e-8)]
    tolerance: f64,
    /// Skip the symbolic stage (Symbolica); decide with the numbers only.
    #[arg(long)]
    numeric_only: bool,
    /// Write the reports as JSON to FILE (the text goes to stdout as always).
    #[command(flatten)]
    out: OutArg,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let model = feynn::model::load_model(&a.spec, a.model.as_deref())?;
    let mut claims = Vec::new();
    for c in &a.claim {
        claims.push(check::parse_claim("--claim", c).map_err(Error::Spec)?);
    }
    if let Some(f) = &a.claim_file {
        let text = std::fs::read_to_string(f).map_err(|e| Error::Io {
            path: f.display().to_string(),
            source: e,
        })?;
        claims.extend(check::parse_claim_file(&f.display().to_string(), &text)?);
    }
    if claims.is_empty() {
        return Err(Error::invalid(
            "no claim to check",
            "give --claim \"d2y/dx1dx2 = ...\" or --claim-file FILE",
        ));
    }
    let opts = Options {
        draws: a.draws.max(1),
        seed: a.seed,
        tolerance: a.tolerance,
        symbolic: !a.numeric_only,
    };
    // resolve every claim first, so that a malformed one fails before any work
    for c in &claims {
        check::resolve(&model, c)?;
    }
    let mut reports = Vec::new();
    for c in &claims {
        let r = check::check(&model, c, &opts)?;
        out!("{}", r.text())?;
        reports.push(r);
    }
    let refuted = reports
        .iter()
        .filter(|r| r.verdict == Verdict::Refuted)
        .count();
    if reports.len() > 1 {
        outln!(
            "{} of {} claims verified",
            reports.len() - refuted,
            reports.len()
        )?;
    }
    if a.out.output.is_some() {
        let json = serde_json::to_string_pretty(
            &serde_json::json!({ "model": model.name, "claims": reports }),
        )
        .expect("reports serialise");
        a.out.write(&(json + "\n"))?;
    }
    Ok(if refuted > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
