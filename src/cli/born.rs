//! `feynn born data` and `feynn born iterate`: the Born-series study (issue 5).

use std::path::PathBuf;
use std::process::ExitCode;

use feynn::born::{generate, DataSettings};
use feynn::physics::families::Family;
use feynn::{Error, Result};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// Generate shallow attractive step potentials and their exact a0 as .npz.
    Data(DataArgs),
    /// The iterative NN perturbation theory: train, expand at U = 0, eliminate, retrain.
    Iterate(IterateArgs),
}

#[derive(clap::Args)]
pub struct DataArgs {
    /// N, the number of equal steps of [0, R].
    #[arg(long, default_value_t = 64)]
    pub steps: usize,
    /// R, the range of the potentials (units ħ²/2μ = 1).
    #[arg(long, default_value_t = 1.0)]
    pub range: f64,
    #[arg(long, default_value_t = 20000)]
    pub samples: usize,
    /// Potential families, comma-separated: steps, gaussian, yukawa, square, mix (or all).
    #[arg(long, default_value = "all", value_delimiter = ',')]
    pub family: Vec<String>,
    /// Largest depth as a fraction of each shape's unitary-limit depth, in (0, 1).
    #[arg(long, default_value_t = 0.5)]
    pub depth: f64,
    /// The depth fraction is depth·u^POWER, u uniform: 1 is uniform, 2 puts more potentials near U = 0.
    #[arg(long, default_value_t = 1.0)]
    pub depth_power: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The .npz file to write.
    #[arg(short = 'o', long = "output", default_value = "born-data.npz")]
    pub output: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(clap::Args)]
pub struct IterateArgs {
    /// A data file of `feynn born data`.
    #[arg(long)]
    pub data: PathBuf,
    /// Number of networks: 1, 2 (the paper) or 3 (third Born order).
    #[arg(long, default_value_t = 2)]
    pub iterations: usize,
    /// What to subtract after iteration 1: the learned leading order or the exact first Born term.
    #[arg(long, value_enum, default_value = "learned")]
    pub subtract: SubtractArg,
    /// Hidden widths, comma-separated.
    #[arg(long, default_value = "16,16", value_delimiter = ',')]
    pub hidden: Vec<usize>,
    #[arg(long, default_value = "tanh")]
    pub activation: String,
    /// Maximum epochs per network.
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    #[arg(long, default_value_t = 1e-2)]
    pub lr: f64,
    /// Final learning rate of the cosine schedule (default lr/100).
    #[arg(long)]
    pub lr_end: Option<f64>,
    /// AdamW weight decay (decoupled) of network 1. It removes the first-layer weights that the
    /// data do not constrain, whose random initial values otherwise show up as noise in the
    /// gradient at U = 0.
    #[arg(long, default_value_t = 1e-2)]
    pub weight_decay: f64,
    /// AdamW weight decay of networks 2 and 3 (the residual networks, which carry the Hessian).
    #[arg(long, default_value_t = 1e-2)]
    pub residual_weight_decay: f64,
    /// Early-stopping patience (epochs).
    #[arg(long)]
    pub patience: Option<usize>,
    /// Fraction of the data held out for the final comparison.
    #[arg(long, default_value_t = 0.1)]
    pub test_fraction: f64,
    /// Use at most this many samples of the file.
    #[arg(long)]
    pub max_samples: Option<usize>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A small, fast run (the tests use it): 6000 samples, 500 epochs, and the gradient claim
    /// checked at 50 % instead of 10 % (a direction check, not the few-percent figure).
    #[arg(long)]
    pub quick: bool,
    /// Write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write born-gradient.svg and born-hessian.svg into DIR.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Save the networks (born.fnn, born-1.safetensors, …) into DIR.
    #[arg(long, value_name = "DIR")]
    pub save: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum SubtractArg {
    Learned,
    Exact,
}

pub fn run(a: Args) -> Result<ExitCode> {
    match a.command {
        Sub::Data(d) => data(d),
        Sub::Iterate(i) => iterate(i),
    }
}

fn data(a: DataArgs) -> Result<ExitCode> {
    let families: Vec<Family> = if a.family.iter().any(|f| f == "all") {
        Family::ALL.to_vec()
    } else {
        a.family
            .iter()
            .map(|f| {
                Family::parse(f.trim()).ok_or_else(|| {
                    Error::invalid(
                        format!("unknown potential family `{f}`"),
                        "families: steps, gaussian, yukawa, square, mix, all",
                    )
                })
            })
            .collect::<Result<_>>()?
    };
    let s = DataSettings {
        steps: a.steps,
        range: a.range,
        samples: a.samples,
        families,
        depth: a.depth,
        depth_power: a.depth_power,
        seed: a.seed,
    };
    let bar = (!a.quiet).then(|| {
        let b = indicatif::ProgressBar::new(a.samples as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} potentials",
            )
            .unwrap()
            .progress_chars("=> "),
        );
        b
    });
    let tick = || {
        if let Some(b) = &bar {
            b.inc(1)
        }
    };
    let d = generate(&s, &tick)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    d.write(&a.output)?;
    let mean = d.targets.mean().unwrap();
    let min = d.targets.iter().cloned().fold(f64::INFINITY, f64::min);
    eprintln!(
        "wrote {}: {} potentials on {} steps of [0, {}]; a0 in [{min:.4}, 0], mean {mean:.4}",
        a.output.display(),
        d.len(),
        a.steps,
        a.range
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "train"))]
fn iterate(_: IterateArgs) -> Result<ExitCode> {
    Err(Error::invalid(
        "`feynn born iterate` trains networks, and this feynn was built without training",
        "build with `--features train`",
    ))
}

#[cfg(feature = "train")]
fn iterate(a: IterateArgs) -> Result<ExitCode> {
    use feynn::born::{IterateSettings, Subtract};
    use feynn::data::Dataset;

    let mut data = Dataset::read(&a.data)?;
    let range = feynn::born::range_of(&data).unwrap_or(1.0);
    let max = a.max_samples.or(a.quick.then_some(6000));
    if let Some(m) = max {
        if m < data.len() {
            data = data.select(&(0..m).collect::<Vec<_>>());
        }
    }
    let epochs = a.epochs.unwrap_or(if a.quick { 500 } else { 1500 });
    let cfg = feynn::train::Config {
        epochs,
        batch: a.batch,
        lr: a.lr,
        lr_end: a.lr_end.unwrap_or(a.lr * 1e-2),
        weight_decay: a.weight_decay,
        val_fraction: 0.1,
        patience: a.patience.unwrap_or(epochs / 4 + 10),
        seed: a.seed,
        progress: !a.quiet,
    };
    let s = IterateSettings {
        iterations: a.iterations,
        subtract: match a.subtract {
            SubtractArg::Learned => Subtract::Learned,
            SubtractArg::Exact => Subtract::Exact,
        },
        hidden: a.hidden.clone(),
        activation: a.activation.clone(),
        test_fraction: a.test_fraction,
        epochs,
        batch: a.batch,
        lr: a.lr,
        lr_end: cfg.lr_end,
        weight_decay: a.weight_decay,
        residual_weight_decay: a.residual_weight_decay,
        seed: a.seed,
        gradient_tolerance: if a.quick { 0.5 } else { 0.1 },
        train: cfg,
    };
    let quiet = a.quiet;
    let log = move |m: &str| {
        if !quiet {
            eprintln!("{m}")
        }
    };
    let rep = feynn::born::iterate(&data, range, &s, &log)?;
    print!("{}", feynn::born::table(&rep));
    if let Some(p) = &a.json {
        let text = serde_json::to_string_pretty(&rep).unwrap() + "\n";
        std::fs::write(p, text).map_err(|e| Error::Io {
            path: p.display().to_string(),
            source: e,
        })?;
    }
    if let Some(dir) = &a.plots {
        let g = feynn::physics::born::first_order(rep.steps, range);
        let learned: Vec<(String, &[f64])> = rep
            .stages
            .iter()
            .take(1)
            .map(|st| (format!("network {}", st.iteration), st.gradient.as_slice()))
            .collect();
        let refs: Vec<(&str, &[f64])> = learned.iter().map(|(l, v)| (l.as_str(), *v)).collect();
        feynn::plot::gradient_plot(&dir.join("born-gradient.svg"), &g, &refs)?;
        let exact = feynn::physics::born::hessian(rep.steps, range);
        let mut mats: Vec<(String, &ndarray::Array2<f64>)> = rep
            .stages
            .iter()
            .take(2)
            .map(|st| {
                (
                    format!("H{} (network {})", st.iteration, st.iteration),
                    &st.hessian,
                )
            })
            .collect();
        mats.push(("exact −2K".into(), &exact));
        let refs: Vec<(&str, &ndarray::Array2<f64>)> =
            mats.iter().map(|(l, m)| (l.as_str(), *m)).collect();
        feynn::plot::heatmaps(&dir.join("born-hessian.svg"), &refs)?;
    }
    if let Some(dir) = &a.save {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io {
            path: dir.display().to_string(),
            source: e,
        })?;
        let spec = feynn::born::spec_text("born", rep.steps, &s.hidden, &s.activation);
        std::fs::write(dir.join("born.fnn"), spec).map_err(|e| Error::Io {
            path: dir.display().to_string(),
            source: e,
        })?;
        for st in &rep.stages {
            feynn::model::weights::write_safetensors(
                &dir.join(format!("born-{}.safetensors", st.iteration)),
                &st.weights,
            )?;
        }
    }
    Ok(if rep.claims.all() {
        ExitCode::SUCCESS
    } else {
        eprintln!("not every claim holds (see the table)");
        ExitCode::from(1)
    })
}
