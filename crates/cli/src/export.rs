//! `feynn export torch`: a spec's model as a PyTorch module (`feynn_studies::torch`).

use std::path::PathBuf;
use std::process::ExitCode;

use feynn::{Error, Result};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// A Python module with an `nn.Module` for an MLP, INN or fully connected EFNN spec: its
    /// `state_dict` names are the ones `feynn import` reads, `build()` loads the spec's weights.
    Torch(TorchArgs),
}

#[derive(clap::Args)]
pub struct TorchArgs {
    /// The model spec (.fnn).
    pub spec: PathBuf,
    /// Which model of the file (default: the first).
    #[arg(long)]
    pub model: Option<String>,
    #[command(flatten)]
    pub out: crate::OutArg,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let Sub::Torch(t) = a.command;
    let source = std::fs::read_to_string(&t.spec).map_err(|e| Error::Io {
        path: t.spec.display().to_string(),
        source: e,
    })?;
    let module = feynn_studies::torch::module_for_spec(
        &t.spec.display().to_string(),
        &source,
        t.spec.parent(),
        t.model.as_deref(),
    )?;
    t.out.write(&module)?;
    if let Some(p) = &t.out.output {
        eprintln!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
