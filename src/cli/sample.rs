//! `feynn sample` (draws through the inverse network) and `feynn cumulants` (κ1–κ3 of the model
//! against a data file).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use feynn::model::inn::Inn;
use feynn::numeric::cumulants::{compare, cumulants, Cumulants, Diff};
use feynn::{Error, Result};
use serde::Serialize;

use super::OutArg;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum SampleFormat {
    Csv,
    /// A float64 [M, N] .npy (needs -o FILE).
    Npy,
}

#[derive(clap::Args)]
pub struct SampleArgs {
    /// The spec (.fnn) with an `inn` model.
    pub spec: PathBuf,
    #[arg(long)]
    pub model: Option<String>,
    /// Weights (default: the spec's `weights` line).
    #[arg(long)]
    pub weights: Option<PathBuf>,
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
    /// The spec (.fnn) with an `inn` model.
    pub spec: PathBuf,
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub weights: Option<PathBuf>,
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
    let (m, store) = super::action::load(spec, model, weights)?;
    m.resolve(store.as_ref())
}

fn draw(inn: &Inn<f64>, m: usize, seed: u64) -> Result<Vec<Vec<f64>>> {
    if m == 0 {
        return Err(Error::invalid(
            "-n 0: nothing to draw",
            "give the number of points, e.g. -n 1000",
        ));
    }
    let (mf, nf) = (m as f64, inn.n as f64);
    // the points, their copy for the output, and the text of a CSV (≤ 26 bytes a value)
    feynn::budget::memory(
        format!("{m} samples of {} variables", inn.n),
        mf * nf * (8.0 + 8.0 + 26.0) + mf * 24.0,
        feynn::budget::DEFAULT_MEMORY_LIMIT,
        "lower -n",
    )?;
    feynn::budget::work(
        format!("{m} samples through {} inverse layers", inn.layers.len()),
        mf * (inn.layers.len() as f64) * nf * nf * 20.0,
        "lower -n",
    )?;
    for (l, layer) in inn.layers.iter().enumerate() {
        if feynn::model::inn::det(&layer.w, inn.n) == 0.0 {
            return Err(Error::invalid(
                format!(
                    "layer {l}: the weight matrix is singular, so the network cannot be inverted"
                ),
                "an inn layer needs an invertible square W",
            ));
        }
    }
    let (pts, rejected) = inn.sample(m, seed);
    if pts.len() < m {
        return Err(Error::invalid(
            format!("inn `{}`: {rejected} latent draws had no pre-image and only {} of {m} points were found", inn.name, pts.len()),
            "the invertible branch (1 + 2αh > 0) holds almost none of the latent mass; check α and the biases",
        ));
    }
    if rejected > 0 {
        eprintln!(
            "note: {rejected} latent draws had no pre-image (density defect, {:.3}% of draws) and were redrawn",
            100.0 * rejected as f64 / (rejected + m) as f64
        );
    }
    Ok(pts)
}

pub fn run_sample(a: SampleArgs) -> Result<ExitCode> {
    let inn = load_f64(&a.spec, a.model.as_deref(), a.weights.as_deref())?;
    let pts = draw(&inn, a.samples, a.seed)?;
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

#[derive(Serialize)]
struct CumJson {
    model: Cumulants,
    data: Cumulants,
    differences: Vec<Diff>,
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
    let inn = load_f64(&a.spec, a.model.as_deref(), a.weights.as_deref())?;
    let bytes = 8.0 * (inn.n as f64).powi(3) * 2.0;
    if bytes > 2.0 * 1024.0 * 1024.0 * 1024.0 {
        return Err(Error::TooLarge {
            what: format!("third cumulants of N = {} variables", inn.n),
            predicted: feynn::error::human_bytes(bytes),
            limit: "2.0 GiB".into(),
            help: "κ3 has N³ entries; compare a subset of the variables".into(),
        });
    }
    let data = read_data(&a.data, inn.n)?;
    // data the model cannot produce (off the invertible branch) make the comparison one-sided
    let db = feynn::numeric::inn_checks::data_branch(&inn, &data);
    if db.outside > 0 {
        eprintln!(
            "warning: {} of {} data points lie outside the invertible branch (first: row {}); the model gives them zero density",
            db.outside,
            db.points,
            db.first_outside.unwrap_or(0)
        );
    }
    let dc = cumulants(&data, inn.n).ok_or_else(|| {
        Error::invalid(
            format!("{}: no data points", a.data.display()),
            "one point per row",
        )
    })?;
    let pts = draw(&inn, a.samples, a.seed)?;
    let mc = cumulants(&pts, inn.n).unwrap();
    let diffs = compare(&mc, &dc);
    let text = match a.format {
        CumFormat::Json => {
            serde_json::to_string(&CumJson {
                model: mc,
                data: dc,
                differences: diffs.clone(),
            })
            .unwrap()
                + "\n"
        }
        CumFormat::Text => {
            let mut s = format!(
                "inn {}: cumulants of {} model samples (seed {}) vs {} data points ({})\n",
                inn.name,
                a.samples,
                a.seed,
                data.len(),
                a.data.display()
            );
            let show = |v: &[f64]| {
                v.iter()
                    .take(8)
                    .map(|x| format!("{x:+.4}"))
                    .collect::<Vec<_>>()
                    .join(" ")
                    + if v.len() > 8 { " …" } else { "" }
            };
            s += &format!(
                "  κ1 model: {}\n  κ1 data:  {}\n",
                show(&mc.k1),
                show(&dc.k1)
            );
            for d in &diffs {
                s += &format!(
                    "  κ{}: max |model − data| = {:.4e}, ‖model − data‖/‖data‖ = {:.4e}\n",
                    d.order, d.max_abs, d.relative
                );
            }
            s += "  (sampling error of κ_k scales as 1/√M for M points on either side)\n";
            s
        }
    };
    a.out.write(&text)?;
    if let Some(t) = a.tolerance {
        if let Some(d) = diffs.iter().find(|d| d.relative > t) {
            eprintln!(
                "check failed: κ{} differs by {:.3e} (relative), above --tolerance {t}",
                d.order, d.relative
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Data points from .csv, .npy or .npz (array `x`, `data`, or the only/first one), N columns.
pub(crate) fn read_data(path: &Path, n: usize) -> Result<Vec<Vec<f64>>> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext != "npz" {
        return super::taylor::read_points(path, n);
    }
    feynn::budget::check_npz_file(path, feynn::budget::DEFAULT_MEMORY_LIMIT)?;
    let f = std::fs::File::open(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let bad = |e: String| {
        Error::invalid(
            format!("{}: {e}", path.display()),
            "save the data with numpy.savez(path, x=X.astype('float64')), X of shape [points, N]",
        )
    };
    let mut npz =
        ndarray_npy::NpzReader::new(f).map_err(|e| bad(format!("not a valid .npz ({e})")))?;
    let names = npz
        .names()
        .map_err(|e| bad(format!("cannot list arrays ({e})")))?;
    let pick = ["x.npy", "data.npy", "x", "data"]
        .iter()
        .find_map(|c| names.iter().find(|n| n == c))
        .or(names.first())
        .cloned()
        .ok_or_else(|| bad("the archive holds no array".into()))?;
    let arr: ndarray::Array2<f64> = npz
        .by_name(&pick)
        .map_err(|e| bad(format!("array `{pick}` is not a 2-d float64 array ({e})")))?;
    if arr.ncols() != n {
        return Err(Error::Shape {
            path: path.display().to_string(),
            tensor: pick,
            expected: format!("[points, {n}]"),
            found: format!("{:?}", arr.shape()),
        });
    }
    let rows: Vec<Vec<f64>> = arr.rows().into_iter().map(|r| r.to_vec()).collect();
    if let Some(i) = rows.iter().position(|r| r.iter().any(|v| !v.is_finite())) {
        return Err(bad(format!("row {i} has a non-finite value")));
    }
    Ok(rows)
}
