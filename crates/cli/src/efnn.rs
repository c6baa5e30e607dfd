//! `feynn efnn …`: data of the EFNN benchmark systems, evaluation, coupling readout, studies.

use std::path::PathBuf;
use std::process::ExitCode;

use feynn::{Error, Result};
use feynn_studies::data::Dataset;
use feynn_studies::efnn::{datasets, eval};

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
    /// Learned 1-, 2-, 3-body couplings of a fully connected network, compared with the J_ijk
    /// stored in a 3-spin data set: the exact expansions over all 2^L configurations of 0/1 spins
    /// (`--route mobius`, the default, or `walsh`), Taylor coefficients of the network at a point
    /// (`--route taylor`), or all three.
    Couplings(CouplingsArgs),
    /// Train EFNN, DNN, ResNet and DenseNet on the 3-spin model (`--system three-spin`, 0/1
    /// spins) or its continuous variant (`--system continuous`), compare, read the couplings
    /// (needs the `train` feature).
    Compare(StudyArgs),
    /// Train a convolutional EFNN on a small torus and evaluate it unchanged on larger ones
    /// (needs the `train` feature).
    Transfer(StudyArgs),
    /// The double-exchange headline at the paper's scale: train at N = 10, evaluate at 20, 30,
    /// 40 next to the convolutional DNN/ResNet/DenseNet and the effective model, time ED
    /// (needs the `train` feature).
    Scale(ScaleArgs),
}

/// Options of `feynn efnn scale` (defaults: the chapter's run; `--quick`: the tests').
#[derive(clap::Args)]
pub struct ScaleArgs {
    #[arg(long)]
    pub quick: bool,
    /// Folder for scale.json, scale.md and error-vs-size.svg.
    #[arg(
        long = "out-dir",
        alias = "output",
        short_alias = 'o',
        value_name = "DIR",
        default_value = "efnn-scale"
    )]
    pub output: PathBuf,
    /// Lattice size N of the training configurations.
    #[arg(long)]
    pub train_size: Option<usize>,
    /// Training configurations (10 % held out).
    #[arg(long)]
    pub train_samples: Option<usize>,
    /// Test sizes, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub sizes: Vec<usize>,
    /// Test configurations per size, comma-separated (one per size).
    #[arg(long, value_delimiter = ',')]
    pub test_samples: Vec<usize>,
    /// EFNN channels C (the baselines get the channel count closest to its parameter count).
    #[arg(long)]
    pub channels: Option<usize>,
    /// EFNN depth n.
    #[arg(long)]
    pub depth: Option<usize>,
    /// Kernel size of every convolution, odd (default 3; the paper's is 5).
    #[arg(long)]
    pub kernel: Option<usize>,
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Mini-batch size (default 50).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Initial learning rate (AdamW, cosine decay to lr/100; default 3e-3).
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Only the EFNN and the effective model.
    #[arg(long)]
    pub no_baselines: bool,
    /// Train only these networks, comma-separated (efnn, dnn, resnet, densenet): a study split
    /// over runs that share the training and test configurations.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    #[arg(long)]
    pub quiet: bool,
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
    #[command(flatten)]
    pub m: crate::ModelArgs,
    /// A data set of `feynn efnn data`.
    #[arg(long)]
    pub data: PathBuf,
    /// Use only the rows from this index on (the paper's no-shuffle test split of 20,000
    /// samples is `--test-from 16000`, after training with `--max-samples 16000`).
    #[arg(long, default_value_t = 0)]
    pub test_from: usize,
    #[arg(long, value_enum, default_value = "text")]
    pub format: EvalFormat,
    /// Old spelling of `--format json`.
    #[arg(long, hide = true)]
    pub json: bool,
    #[command(flatten)]
    pub out: crate::OutArg,
}

/// Renderings of `efnn eval` and `efnn couplings`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalFormat {
    Text,
    Json,
}

/// How `feynn efnn couplings` reads the couplings.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Route {
    /// Exact multilinear expansion in the 0/1 spins (Möbius inversion): ∂_A of the multilinear
    /// extension at s = 0. Needs 0/1 spins, L ≤ 24.
    Mobius,
    /// Exact Walsh–Fourier expansion in σ = 2s − 1: ∂_A of the multilinear extension at the
    /// centre s = ½ (learned J = −8 w_ijk). Needs 0/1 spins, L ≤ 24.
    Walsh,
    /// Taylor coefficients ∂_i∂_j∂_k E of the network at the expansion point (`--at`), any spins.
    Taylor,
    /// All three (mobius and walsh only for 0/1 spins), and the correlations between them.
    All,
}

/// The point of the Taylor route.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum At {
    /// s = 0.
    Zero,
    /// The mean configuration of the data set.
    Mean,
}

#[derive(clap::Args)]
pub struct CouplingsArgs {
    #[command(flatten)]
    pub eval: EvalArgs,
    /// mobius or walsh: exact expansions on 0/1 spins; taylor: derivatives at `--at`; all.
    #[arg(long, value_enum, default_value = "mobius")]
    pub route: Route,
    /// The expansion point of the Taylor route.
    #[arg(long, value_enum, default_value = "zero")]
    pub at: At,
}

#[derive(clap::Args)]
pub struct StudyArgs {
    /// Small settings (seconds to a minute; what the tests run).
    #[arg(long)]
    pub quick: bool,
    /// Folder for the JSON report, Markdown tables and SVG figures.
    #[arg(
        long = "out-dir",
        alias = "output",
        short_alias = 'o',
        value_name = "DIR",
        default_value = "efnn-study"
    )]
    pub output: PathBuf,
    /// The system of `compare`: three-spin (default) or continuous; `transfer` runs
    /// double-exchange.
    #[arg(long, value_enum)]
    pub system: Option<System>,
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    match a.command {
        Sub::Data(d) => data(d),
        Sub::Eval(e) => run_eval(e),
        Sub::Couplings(c) => couplings(c),
        Sub::Compare(s) => study(s, true),
        Sub::Transfer(s) => study(s, false),
        Sub::Scale(s) => scale(s),
    }
}

fn data(a: DataArgs) -> Result<ExitCode> {
    let t0 = std::time::Instant::now();
    let d = datasets::generate(&datasets::DataRequest {
        system: match a.system {
            System::ThreeSpin => datasets::System::ThreeSpin,
            System::Continuous => datasets::System::Continuous,
            System::DoubleExchange => datasets::System::DoubleExchange,
        },
        samples: a.samples,
        sites: a.sites,
        size: a.size,
        seed: a.seed,
        progress: !a.quiet,
    })?;
    d.write(&a.output)?;
    eprintln!(
        "wrote {}: {} samples, E mean {:.4}, std {:.4}, {:.1} s",
        a.output.display(),
        d.len(),
        d.targets.mean().unwrap_or(f64::NAN),
        d.targets.std(0.0),
        t0.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn load(a: &EvalArgs) -> Result<(feynn_studies::efnn::forward::EfnnNet, Dataset)> {
    eval::load(
        &a.m.spec,
        a.m.model.as_deref(),
        a.m.weights.as_deref(),
        &a.data,
        a.test_from,
    )
}

fn json(a: &EvalArgs) -> bool {
    a.json || a.format == EvalFormat::Json
}

fn run_eval(a: EvalArgs) -> Result<ExitCode> {
    let (net, d) = load(&a)?;
    let m = eval::evaluate(&net, &d)?;
    a.out.write(&if json(&a) {
        serde_json::to_string(&m).expect("numbers") + "\n"
    } else {
        eval::metrics_text(&m, d.len())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn couplings(c: CouplingsArgs) -> Result<ExitCode> {
    use feynn_studies::efnn::couplings::{read_couplings, At as LibAt, Route as LibRoute};
    let a = &c.eval;
    let (net, d) = load(a)?;
    let route = match c.route {
        Route::Mobius => LibRoute::Mobius,
        Route::Walsh => LibRoute::Walsh,
        Route::Taylor => LibRoute::Taylor,
        Route::All => LibRoute::All,
    };
    let at = match c.at {
        At::Zero => LibAt::Zero,
        At::Mean => LibAt::Mean,
    };
    let r = read_couplings(&net, &d, &a.data.display().to_string(), route, at)?;
    a.out.write(&if json(a) {
        serde_json::to_string(&r.to_json()).expect("numbers") + "\n"
    } else {
        r.text()
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "train"))]
fn study(_: StudyArgs, _: bool) -> Result<ExitCode> {
    Err(Error::invalid(
        "the EFNN studies train networks, and this feynn was built without training",
        "build with `--features train`",
    ))
}

#[cfg(not(feature = "train"))]
fn scale(_: ScaleArgs) -> Result<ExitCode> {
    Err(Error::invalid(
        "the EFNN studies train networks, and this feynn was built without training",
        "build with `--features train`",
    ))
}

#[cfg(feature = "train")]
fn scale(a: ScaleArgs) -> Result<ExitCode> {
    use feynn_studies::efnn::scale;
    let mut s = scale::ScaleSettings::new(a.quick);
    if let Some(v) = a.train_size {
        s.train_size = v;
    }
    if let Some(v) = a.train_samples {
        s.train_samples = v;
    }
    if !a.sizes.is_empty() {
        s.sizes = a.sizes;
    }
    if !a.test_samples.is_empty() {
        s.test_samples = a.test_samples;
    }
    if let Some(v) = a.channels {
        s.channels = v;
    }
    if let Some(v) = a.depth {
        s.depth = v;
    }
    if let Some(v) = a.kernel {
        s.kernel = v;
    }
    if let Some(v) = a.epochs {
        s.epochs = v;
    }
    if let Some(v) = a.batch {
        s.batch = v;
    }
    if let Some(v) = a.lr {
        s.lr = v;
    }
    if let Some(v) = a.seed {
        s.seed = v;
    }
    s.baselines = !a.no_baselines;
    s.only = a.only;
    let r = scale::run(&s, &a.output, !a.quiet)?;
    crate::stdout_write(&scale::markdown(&r))?;
    eprintln!("wrote {} in {:.0} s", a.output.display(), r.seconds);
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "train")]
fn study(a: StudyArgs, compare: bool) -> Result<ExitCode> {
    use feynn_studies::efnn::study;
    let t0 = std::time::Instant::now();
    match (compare, a.system) {
        (true, Some(System::DoubleExchange)) => {
            return Err(Error::invalid(
                "`compare` runs the 3-spin systems",
                "use `--system three-spin` or `--system continuous`; the lattice study is `feynn efnn transfer`",
            ))
        }
        (false, Some(System::ThreeSpin | System::Continuous)) => {
            return Err(Error::invalid(
                "`transfer` runs the double-exchange model",
                "leave out --system, or use `feynn efnn compare` for the 3-spin systems",
            ))
        }
        _ => {}
    }
    if compare {
        let settings = if matches!(a.system, Some(System::Continuous)) {
            study::CompareSettings::continuous(a.quick)
        } else {
            study::CompareSettings::new(a.quick)
        };
        study::compare_three_spin(&settings, &a.output, !a.quiet)?;
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
