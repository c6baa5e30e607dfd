//! `feynn train SPEC --data FILE`: fit a model spec to (inputs, targets) with candle.

use std::path::PathBuf;
use std::process::ExitCode;

use feynn::Result;

#[derive(clap::Args)]
pub struct Args {
    /// The model spec (.fnn); its tensor names are used in the weights file.
    pub spec: PathBuf,
    /// Which model of the file (default: the first).
    #[arg(long)]
    pub model: Option<String>,
    /// Training data (.npz with `inputs` [samples, features] and `targets` [samples]).
    #[arg(long)]
    pub data: PathBuf,
    /// Where to write the weights (.safetensors); default: the spec's `weights` file.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    #[arg(long, default_value_t = 400)]
    pub epochs: usize,
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// Initial learning rate (AdamW; cosine decay to lr/100).
    #[arg(long, default_value_t = 3e-3)]
    pub lr: f64,
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Learning-rate schedule: `cosine` (to lr/100) or `step:K:GAMMA` (×GAMMA every K epochs,
    /// PyTorch's StepLR; the EFNN paper's 3-spin EFNNs use step:100:0.9, its baselines and its
    /// continuous-spin runs step:400:0.891).
    #[arg(long, default_value = "cosine")]
    pub schedule: String,
    /// Coupled L2 penalty: the gradient gains L2·θ (PyTorch `Adam(weight_decay=L2)`); use with
    /// `--weight-decay 0`. The loss is the MSE of the standardised target: PyTorch's w on the
    /// raw target's MSE is L2 = w/σ_y² here (the EFNN paper's 10⁻²: 4.3·10⁻⁶ for its 3-spin data).
    #[arg(long, default_value_t = 0.0)]
    pub l2: f64,
    /// Fraction of the samples held out for validation and early stopping.
    #[arg(long, default_value_t = 0.1)]
    pub val_fraction: f64,
    /// Stop after this many epochs without a better validation loss.
    #[arg(long, default_value_t = 60)]
    pub patience: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Use at most this many samples (the first ones).
    #[arg(long)]
    pub max_samples: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// The rendering of the training report on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::born::ReportFormat,
    /// Old spelling of `--format json`.
    #[arg(long, hide = true)]
    pub json: bool,
}

#[cfg(not(feature = "train"))]
pub fn run(_: Args) -> Result<ExitCode> {
    Err(feynn::Error::invalid(
        "`feynn train` needs the training library, and this feynn was built without it",
        "build with `--features train`",
    ))
}

#[cfg(feature = "train")]
pub fn run(a: Args) -> Result<ExitCode> {
    use feynn::Error;
    use feynn_studies::train::{train, Mlp};

    if let Some(spec) = feynn_studies::efnn::load_efnn(&a.spec, a.model.as_deref())? {
        return train_efnn(spec, &a);
    }
    let model = feynn::model::load_model(&a.spec, a.model.as_deref())?;
    let out = a
        .output
        .clone()
        .or_else(|| model.weights_file.clone())
        .ok_or_else(|| {
            Error::invalid(
                format!("model `{}` names no weights file", model.name),
                "give -o FILE.safetensors",
            )
        })?;
    let data = read_data(&a)?;
    let mlp = Mlp::new(&model, data.inputs.ncols())?;
    let cfg = config(&a)?;
    let (w, rep) = train(&mlp, &data, &cfg, model.output_activation().is_some())?;
    finish(&a, &out, &w, &rep)
}

#[cfg(feature = "train")]
fn read_data(a: &Args) -> Result<feynn_studies::data::Dataset> {
    let mut data = feynn_studies::data::Dataset::read(&a.data)?;
    if let Some(m) = a.max_samples {
        if m < data.len() {
            data = data.select(&(0..m).collect::<Vec<_>>());
        }
    }
    Ok(data)
}

/// `cosine` or `step:K:GAMMA`.
#[cfg(feature = "train")]
fn schedule(text: &str) -> Result<feynn_studies::train::Schedule> {
    use feynn_studies::train::Schedule;
    if text == "cosine" {
        return Ok(Schedule::Cosine);
    }
    let bad = || {
        feynn::Error::invalid(
            format!("--schedule `{text}`"),
            "use `cosine` or `step:K:GAMMA` with K ≥ 1 epochs and 0 < GAMMA ≤ 1, e.g. step:400:0.891",
        )
    };
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        ["step", k, g] => {
            let every: usize = k.parse().map_err(|_| bad())?;
            let gamma: f64 = g.parse().map_err(|_| bad())?;
            if every == 0 || !(gamma > 0.0 && gamma <= 1.0) {
                return Err(bad());
            }
            Ok(Schedule::Step { every, gamma })
        }
        _ => Err(bad()),
    }
}

#[cfg(feature = "train")]
fn config(a: &Args) -> Result<feynn_studies::train::Config> {
    if !(a.l2 >= 0.0 && a.l2.is_finite()) {
        return Err(feynn::Error::invalid(
            format!("--l2 {}", a.l2),
            "give a finite, non-negative penalty",
        ));
    }
    Ok(feynn_studies::train::Config {
        epochs: a.epochs,
        batch: a.batch,
        lr: a.lr,
        lr_end: a.lr * 1e-2,
        weight_decay: a.weight_decay,
        val_fraction: a.val_fraction,
        patience: a.patience,
        seed: a.seed,
        progress: !a.quiet,
        schedule: schedule(&a.schedule)?,
        l2: a.l2,
    })
}

/// Train an `efnn` block (fully connected or lattice) with the same trainer.
#[cfg(feature = "train")]
fn train_efnn(spec: feynn_studies::efnn::EfnnSpec, a: &Args) -> Result<ExitCode> {
    use feynn_studies::efnn::train::EfnnTrainable;
    let out = a
        .output
        .clone()
        .or_else(|| spec.weights_file.clone())
        .ok_or_else(|| {
            feynn::Error::invalid(
                format!("efnn `{}` names no weights file", spec.name),
                "give -o FILE.safetensors",
            )
        })?;
    let data = read_data(a)?;
    let t = EfnnTrainable { spec };
    t.check_inputs(data.inputs.ncols())?;
    let (w, rep) = feynn_studies::train::train(&t, &data, &config(a)?, false)?;
    finish(a, &out, &w, &rep)
}

#[cfg(feature = "train")]
fn finish(
    a: &Args,
    out: &std::path::Path,
    w: &std::collections::BTreeMap<String, feynn::model::weights::Tensor>,
    rep: &feynn_studies::train::Report,
) -> Result<ExitCode> {
    feynn::model::weights::write_safetensors(out, w)?;
    if a.json || a.format == crate::born::ReportFormat::Json {
        crate::stdout_write(&(serde_json::to_string(rep).unwrap() + "\n"))?;
    }
    eprintln!(
        "wrote {}: {} epochs (best {}), validation RMSE {:.3e}, {:.1} s",
        out.display(),
        rep.epochs_run,
        rep.best_epoch,
        rep.val_rmse,
        rep.seconds
    );
    Ok(ExitCode::SUCCESS)
}
