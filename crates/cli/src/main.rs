//! The `feynn` command line: a thin layer over the core library `feynn` and the studies crate
//! `feynn-studies`. Exit codes: 0 ok, 1 a check failed, 2 bad input.

mod action;
mod born;
mod check;
mod diagrams;
mod efnn;
mod export;
mod import;
mod latex;
mod progress;
mod reports;
mod sample;
mod taylor;
mod theory;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "feynn",
    version,
    about = "Feynman rules for neural networks: Taylor coefficients of MLPs as diagrams, closed forms and numbers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Taylor coefficients of a model at a point: numbers (with weights) and/or closed forms.
    Taylor(taylor::Args),
    /// Enumerate or count the diagrams of a derivative order.
    Diagrams(diagrams::Args),
    /// A LaTeX document: the model, its Feynman rules, the diagrams in TikZ, the Taylor terms.
    Latex(latex::Args),
    /// Check a hand-derived formula for a derivative or Taylor coefficient: VERIFIED (exit 0) or
    /// REFUTED (exit 1, with a counterexample and the diagrams the formula misses).
    Check(check::Args),
    /// Write a spec for a PyTorch nn.Sequential checkpoint (safetensors, npz) or JSON weights.
    Import(import::Args),
    /// A spec's model in another framework: `export torch` writes a PyTorch module.
    Export(export::Args),
    /// The action S = −ln p of an invertible network (`inn` model) to order K, from its weights.
    Action(action::Args),
    /// Draw points from an `inn` model through its inverse network.
    Sample(sample::SampleArgs),
    /// Compare the cumulants κ1–κ3 of an `inn` model (sampled) with those of a data file.
    Cumulants(sample::CumulantArgs),
    /// Train a model spec on (inputs, targets) from .npz (needs the `train` feature).
    Train(train::Args),
    /// The Born-series study: data of shallow potentials, iterative NN perturbation theory.
    Born(born::Args),
    /// Effective field neural networks: benchmark data, evaluation, learned couplings, studies.
    Efnn(efnn::Args),
    /// Learning interacting theories: HMC samples of φ³+φ⁴ lattice theories, INN training,
    /// the learned action compared with the true one.
    Theory(theory::Args),
    /// Draw the book's study figures and tables again from their committed reports (a manifest
    /// lists them); `--check` compares instead of writing (exit 1 if a file differs).
    Reports(reports::Args),
}

/// The model a command reads: the spec file, which of its models, and the weights.
#[derive(clap::Args, Clone, Debug)]
pub struct ModelArgs {
    /// The model spec (.fnn).
    pub spec: PathBuf,
    /// Which model of the file (default: the first).
    #[arg(long)]
    pub model: Option<String>,
    /// Weights (.safetensors, .npz, .json; PyTorch names); default: the spec's `weights` line.
    /// Not needed for closed forms, or for an `inn` whose parameters all have `param` lines.
    #[arg(long)]
    pub weights: Option<PathBuf>,
}

/// Where machine-readable output goes: `-o FILE`, or stdout.
#[derive(clap::Args, Clone, Debug)]
pub struct OutArg {
    /// Write the result to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl OutArg {
    pub fn write(&self, text: &str) -> feynn::Result<()> {
        match &self.output {
            Some(p) => std::fs::write(p, text).map_err(|e| feynn::Error::Write {
                path: p.display().to_string(),
                source: e,
            }),
            None => stdout_write(text),
        }
    }
}

/// Set once stdout turned out to be a closed pipe: later output is skipped.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Write to stdout. A closed pipe (`| head`) ends the output quietly; any other write error
/// (`> /dev/full`) is an error naming stdout, so the command exits non-zero.
pub fn stdout_write(text: &str) -> feynn::Result<()> {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(feynn::Error::Write {
            path: "standard output".into(),
            source: e,
        }),
    }
}

/// `println!` through [`stdout_write`]: evaluates to `feynn::Result<()>`.
macro_rules! outln {
    ($($t:tt)*) => {
        super::stdout_write(&format!("{}\n", format_args!($($t)*)))
    };
}
/// `print!` through [`stdout_write`].
macro_rules! out {
    ($($t:tt)*) => {
        super::stdout_write(&format!($($t)*))
    };
}
pub(crate) use {out, outln};

fn main() -> ExitCode {
    // before any thread exists: it writes the environment
    #[cfg(feature = "train")]
    feynn_studies::train::prepare_process();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    progress::install();
    let result = match cli.command {
        Command::Taylor(a) => taylor::run(a),
        Command::Diagrams(a) => diagrams::run(a),
        Command::Import(a) => import::run(a),
        Command::Export(a) => export::run(a),
        Command::Latex(a) => latex::run(a),
        Command::Check(a) => check::run(a),
        Command::Action(a) => action::run(a),
        Command::Sample(a) => sample::run_sample(a),
        Command::Cumulants(a) => sample::run_cumulants(a),
        Command::Train(a) => train::run(a),
        Command::Born(a) => born::run(a),
        Command::Efnn(a) => efnn::run(a),
        Command::Theory(a) => theory::run(a),
        Command::Reports(a) => reports::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            ExitCode::from(2)
        }
    }
}
