//! `feynn sample` (draws through the inverse network) and `feynn cumulants` (κ1–κ3 of the model
//! against a data file).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use feynn::model::inn::Inn;
use feynn::{Error, Result};

use super::OutArg;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum SampleFormat {
    Csv,
    /// A float64 [M, N] .npy (needs -o FILE).
    Npy,
}

#[derive(clap::Args)]
pub struct SampleArgs {
    #[command(flatten)]
    pub m: crate::ModelArgs,
    /// Number of points.
    #[arg(short = 'n', long = "samples", default_value_t = 1000)]
    pub samples: usize,
    /// Seed of the generator (the same seed gives the same points).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: SampleFormat,
    #[command(flatten)]
    pub out: OutArg,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum CumFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct CumulantArgs {
    #[command(flatten)]
    pub m: crate::ModelArgs,
    /// Data points: .csv (one point a row), .npy [M, N] or .npz (array `x`, `data` or the first).
    #[arg(long)]
    pub data: PathBuf,
    /// Model samples to draw.
    #[arg(short = 'n', long = "samples", default_value_t = 100_000)]
    pub samples: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Exit with code 1 if a relative (Frobenius) difference exceeds this.
    #[arg(long)]
    pub tolerance: Option<f64>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: CumFormat,
    #[command(flatten)]
    pub out: OutArg,
}

fn load_f64(spec: &Path, model: Option<&str>, weights: Option<&Path>) -> Result<Inn<f64>> {
    let (m, store) = feynn::model::inn::load_with_weights(spec, model, weights)?;
    m.resolve(store.as_ref())
}

pub fn run_sample(a: SampleArgs) -> Result<ExitCode> {
    let inn = load_f64(&a.m.spec, a.m.model.as_deref(), a.m.weights.as_deref())?;
    let (pts, notes) = feynn::numeric::cumulants::draw(&inn, a.samples, a.seed)?;
    for n in notes {
        eprintln!("{n}");
    }
    match a.format {
        SampleFormat::Csv => {
            let mut s = (0..inn.n)
                .map(|i| format!("x{}", i + 1))
                .collect::<Vec<_>>()
                .join(",")
                + "\n";
            for p in &pts {
                s += &p
                    .iter()
                    .map(|v| format!("{v:e}"))
                    .collect::<Vec<_>>()
                    .join(",");
                s.push('\n');
            }
            a.out.write(&s)?;
        }
        SampleFormat::Npy => {
            let Some(path) = &a.out.output else {
                return Err(Error::invalid(
                    "--format npy writes a binary file",
                    "add -o FILE.npy",
                ));
            };
            let arr = ndarray::Array2::from_shape_vec((pts.len(), inn.n), pts.concat()).unwrap();
            ndarray_npy::write_npy(path, &arr).map_err(|e| {
                Error::invalid(
                    format!("cannot write {}: {e}", path.display()),
                    "check the folder exists and is writable",
                )
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_cumulants(a: CumulantArgs) -> Result<ExitCode> {
    if let Some(t) = a.tolerance {
        if !(t.is_finite() && t >= 0.0) {
            return Err(Error::invalid(
                format!("--tolerance {t} is not a finite number ≥ 0"),
                "give the largest relative difference to accept, e.g. --tolerance 0.05",
            ));
        }
    }
    use feynn::numeric::cumulants::compare_with_data;
    let inn = load_f64(&a.m.spec, a.m.model.as_deref(), a.m.weights.as_deref())?;
    let data = feynn::points::read_data(&a.data, inn.n)?;
    let r = compare_with_data(
        &inn,
        &data,
        &a.data.display().to_string(),
        a.samples,
        a.seed,
    )?;
    for w in &r.warnings {
        eprintln!("{w}");
    }
    let text = match a.format {
        CumFormat::Json => serde_json::to_string(&r).unwrap() + "\n",
        CumFormat::Text => feynn::export::inn::cumulants_text(&r),
    };
    a.out.write(&text)?;
    if let Some(t) = a.tolerance {
        if let Some(d) = r.differences.iter().find(|d| !(d.relative <= t)) {
            eprintln!(
                "check failed: κ{} differs by {:.3e} (relative), above --tolerance {t}",
                d.order, d.relative
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}
