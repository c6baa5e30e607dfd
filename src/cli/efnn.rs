//! `feynn efnn …`: data of the EFNN benchmark systems, evaluation, coupling readout, studies.

use std::path::PathBuf;
use std::process::ExitCode;

use feynn::data::Dataset;
use feynn::efnn::{datasets, EfnnSpec};
use feynn::physics::double_exchange::DoubleExchange;
use feynn::physics::spins::{SpinValues, ThreeSpin};
use feynn::{Error, Result};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// Generate a data set (.npz: `inputs`, `targets`, `metadata`).
    Data(DataArgs),
    /// Evaluate a trained efnn spec on a data set: the paper's relative error and the honest ones.
    Eval(EvalArgs),
    /// Learned 1-, 2-, 3-body couplings of a network of 0/1 spins (exact multilinear expansion),
    /// compared with the J_ijk stored in a 3-spin data set.
    Couplings(EvalArgs),
    /// Train EFNN, DNN, ResNet and DenseNet on the 3-spin model, compare, read the couplings
    /// (needs the `train` feature).
    Compare(StudyArgs),
    /// Train a convolutional EFNN on a small torus and evaluate it unchanged on larger ones
    /// (needs the `train` feature).
    Transfer(StudyArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum System {
    /// Classical 3-spin infinite-range model, s ∈ {0, 1}.
    ThreeSpin,
    /// The same Hamiltonian with s ~ U(−1, 1) (the code's "Heisenberg" benchmark).
    Continuous,
    /// Quantum double-exchange model on an N×N torus (exact diagonalisation).
    DoubleExchange,
}

#[derive(clap::Args)]
pub struct DataArgs {
    #[arg(value_enum)]
    pub system: System,
    #[arg(long, default_value_t = 20000)]
    pub samples: usize,
    /// Number of spins L (3-spin models).
    #[arg(long, default_value_t = 15)]
    pub sites: usize,
    /// Lattice size N (double exchange).
    #[arg(long, default_value_t = 10)]
    pub size: usize,
    /// Seed of the couplings and configurations.
    #[arg(long, default_value_t = 17)]
    pub seed: u64,
    /// The .npz file to write.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// The spec with the `efnn` block.
    pub spec: PathBuf,
    /// Which efnn block (default: the first).
    #[arg(long)]
    pub model: Option<String>,
    /// Weights (default: the spec's `weights` file).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// A data set of `feynn efnn data`.
    #[arg(long)]
    pub data: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct StudyArgs {
    /// Small settings (seconds to a minute; what the tests run).
    #[arg(long)]
    pub quick: bool,
    /// Folder for the JSON report, Markdown tables and SVG figures.
    #[arg(short = 'o', long = "output", default_value = "efnn-study")]
    pub output: PathBuf,
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    match a.command {
        Sub::Data(d) => data(d),
        Sub::Eval(e) => eval(e, false),
        Sub::Couplings(e) => eval(e, true),
        Sub::Compare(s) => study(s, true),
        Sub::Transfer(s) => study(s, false),
    }
}

fn data(a: DataArgs) -> Result<ExitCode> {
    if a.samples == 0 {
        return Err(Error::invalid(
            "--samples must be at least 1",
            "e.g. --samples 20000",
        ));
    }
    let t0 = std::time::Instant::now();
    let d = match a.system {
        System::ThreeSpin | System::Continuous => {
            if a.sites < 3 {
                return Err(Error::invalid(
                    format!("--sites {} has no triplet", a.sites),
                    "use L ≥ 3",
                ));
            }
            let m = ThreeSpin::random(a.sites, 1.0, 2.0, a.seed);
            let v = if matches!(a.system, System::ThreeSpin) {
                SpinValues::Binary
            } else {
                SpinValues::Continuous
            };
            datasets::three_spin(&m, v, a.samples, a.seed, !a.quiet)
        }
        System::DoubleExchange => {
            if a.size < 2 || a.size > 64 {
                return Err(Error::invalid(
                    format!("--size {} is out of range", a.size),
                    "use 2 ≤ N ≤ 64 (the matrix is 2N² × 2N²)",
                ));
            }
            datasets::double_exchange(&DoubleExchange::paper(a.size), a.samples, a.seed, !a.quiet)
        }
    };
    d.write(&a.output)?;
    let mean = d.targets.mean().unwrap();
    let std = d.targets.std(0.0);
    eprintln!(
        "wrote {}: {} samples, E mean {mean:.4}, std {std:.4}, {:.1} s",
        a.output.display(),
        d.len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn load(a: &EvalArgs) -> Result<(feynn::efnn::forward::EfnnNet, Dataset)> {
    let spec: EfnnSpec = feynn::efnn::load_efnn(&a.spec, a.model.as_deref())?.ok_or_else(|| {
        Error::invalid(
            format!("{} has no `efnn` block", a.spec.display()),
            "see book/src/efnn.md for the spec",
        )
    })?;
    let w = a
        .weights
        .clone()
        .or_else(|| spec.weights_file.clone())
        .ok_or_else(|| {
            Error::invalid(
                format!("efnn `{}` names no weights file", spec.name),
                "give --weights FILE",
            )
        })?;
    let net = feynn::efnn::forward::EfnnNet::load(spec, &w)?;
    Ok((net, Dataset::read(&a.data)?))
}

fn eval(a: EvalArgs, couplings: bool) -> Result<ExitCode> {
    let (net, d) = load(&a)?;
    if couplings {
        let meta = d
            .metadata
            .as_deref()
            .and_then(datasets::three_spin_from_metadata)
            .ok_or_else(|| {
                Error::invalid(
                    format!("{} holds no 3-spin couplings", a.data.display()),
                    "use a data set of `feynn efnn data three-spin`",
                )
            })?;
        if d.inputs.iter().any(|v| *v != 0.0 && *v != 1.0) {
            return Err(Error::invalid(
                "the spins are not 0/1",
                "the multilinear readout is for `three-spin` (binary) data",
            ));
        }
        let e = feynn::efnn::readout::Expansion::of(meta.sites, |x| net.energies(x))?;
        let rep = feynn::efnn::readout::compare(&e, &meta);
        if a.json {
            println!("{}", serde_json::to_string(&rep).unwrap());
        } else {
            println!(
                "3-body: correlation(J_learned, J) = {:.4}, ‖J_learned − J‖/‖J‖ = {:.4}",
                rep.correlation, rep.relative_error
            );
            for (k, rms, c) in &rep.rms_by_order {
                println!("order {k:2}: RMS coefficient {rms:.4e} ({c} terms)");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let pred = net.energies(&d.inputs)?;
    let sites = if net.spec.is_conv() {
        (d.inputs.ncols() / 3) as f64
    } else {
        d.inputs.ncols() as f64
    };
    let m = feynn::efnn::bench::metrics(
        pred.as_slice().unwrap(),
        d.targets.as_slice().unwrap(),
        d.targets.mean().unwrap(),
        sites,
    );
    if a.json {
        println!("{}", serde_json::to_string(&m).unwrap());
    } else {
        println!("{} samples: RMSE {:.4e}, relative {:.4e} (mean predictor {:.4e}), RMSE per site {:.4e}, RMSE/std {:.4}", d.len(), m.rmse, m.relative, m.mean_relative, m.rmse_per_site, m.rmse_over_std);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "train"))]
fn study(_: StudyArgs, _: bool) -> Result<ExitCode> {
    Err(Error::invalid(
        "the EFNN studies train networks, and this feynn was built without training",
        "build with `--features train`",
    ))
}

#[cfg(feature = "train")]
fn study(a: StudyArgs, compare: bool) -> Result<ExitCode> {
    use feynn::efnn::study;
    let t0 = std::time::Instant::now();
    if compare {
        study::compare_three_spin(&study::CompareSettings::new(a.quick), &a.output, !a.quiet)?;
    } else {
        study::size_transfer(&study::TransferSettings::new(a.quick), &a.output, !a.quiet)?;
    }
    eprintln!(
        "wrote {} in {:.0} s",
        a.output.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
