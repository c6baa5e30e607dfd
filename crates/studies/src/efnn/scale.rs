//! The double-exchange headline at the paper's scale (issue 17): train at N = `train_size`
//! (the paper: 10), evaluate unchanged on larger tori (the paper: up to 40), next to the
//! convolutional DNN, ResNet and DenseNet at about the EFNN's parameter count and the effective
//! model ([`super::effective`]), with the measured time per configuration of ED and of each
//! model at every size.
//!
//! Every model sees the same training configurations and the same test configurations per
//! size (fresh seeds). The relative error is the paper's √MSE / |mean E| with the mean of the
//! evaluated energies; RMSE/std(E) is the size-independent one (see the chapter).

use std::fmt::Write as _;
use std::path::Path;
#[cfg(feature = "train")]
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::bench::Metrics;
use super::plots;
use crate::provenance::Provenance;
use feynn::error::{Error, Result};
#[cfg(feature = "train")]
use {
    super::bench::metrics,
    super::datasets,
    super::effective::{self, EffectiveModel},
    super::forward::EfnnNet,
    super::spec::{Arch, EfnnSpec, Geometry},
    super::train::EfnnTrainable,
    crate::physics::double_exchange::DoubleExchange,
    crate::train::{train, Config},
};

/// Settings of the scale study.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScaleSettings {
    /// Lattice size of the training configurations.
    pub train_size: usize,
    /// Training configurations (10 % of them held out for early stopping).
    pub train_samples: usize,
    /// Test lattice sizes and the number of configurations at each.
    pub sizes: Vec<usize>,
    pub test_samples: Vec<usize>,
    /// EFNN channels C, kernel, depth n.
    pub channels: usize,
    pub kernel: usize,
    pub depth: usize,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub seed: u64,
    /// Train the convolutional DNN, ResNet and DenseNet (channels matched to the EFNN's
    /// parameter count).
    pub baselines: bool,
    /// Train only these networks (spec spellings: efnn, dnn, resnet, densenet; empty: all that
    /// `baselines` asks for). Lets a long study be split over runs that share the test sets.
    #[serde(default)]
    pub only: Vec<String>,
    /// Fit the effective model.
    pub effective: bool,
}

impl ScaleSettings {
    /// `--quick` (the tests) or the chapter's run.
    pub fn new(quick: bool) -> ScaleSettings {
        if quick {
            ScaleSettings {
                train_size: 4,
                train_samples: 200,
                sizes: vec![4, 6],
                test_samples: vec![20, 10],
                channels: 2,
                kernel: 3,
                depth: 1,
                epochs: 4,
                batch: 50,
                lr: 3e-3,
                seed: 100,
                baselines: true,
                only: vec![],
                effective: true,
            }
        } else {
            ScaleSettings {
                train_size: 10,
                train_samples: 2000,
                sizes: vec![10, 20, 30, 40],
                test_samples: vec![60, 20, 6, 3],
                channels: 3,
                kernel: 3,
                depth: 2,
                epochs: 60,
                batch: 50,
                lr: 3e-3,
                seed: 100,
                baselines: true,
                only: vec![],
                effective: true,
            }
        }
    }

    /// Refuse settings that cannot run (before any diagonalisation).
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid(m, "see `feynn efnn scale --help`"));
        if self.sizes.is_empty() || self.sizes.len() != self.test_samples.len() {
            return bad(format!(
                "{} sizes and {} test-sample counts: give one count per size",
                self.sizes.len(),
                self.test_samples.len()
            ));
        }
        if self.train_size < 2 || self.sizes.iter().any(|&n| n < 2) {
            return bad("lattice sizes must be at least 2".into());
        }
        if self.sizes.iter().any(|&n| n > 64) || self.train_size > 64 {
            return bad("lattice sizes above 64 (ED of a 2N²×2N² matrix) are refused".into());
        }
        if let Some(o) = self
            .only
            .iter()
            .find(|o| super::spec::Arch::parse(o).is_none())
        {
            return bad(format!(
                "--only {o}: not a network (efnn, dnn, resnet, densenet)"
            ));
        }
        // the spec's own checks (odd kernel, channels ≥ 1, depth), before any diagonalisation
        super::spec::EfnnSpec::new(
            "efnn",
            super::spec::Arch::Efnn,
            super::spec::Geometry::Conv {
                channels: self.channels,
                kernel: self.kernel,
            },
            self.depth,
        )?;
        if self.batch == 0 || !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!(
                "batch {} and learning rate {}: give a batch of at least 1 and a positive learning rate",
                self.batch, self.lr
            ));
        }
        if self.test_samples.contains(&0) || self.train_samples < 10 || self.epochs == 0 {
            return bad(
                "at least 10 training configurations, 1 test configuration per size and 1 epoch"
                    .into(),
            );
        }
        Ok(())
    }
}

/// One trained (or fitted) model of the study.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScaleModel {
    pub name: String,
    pub parameters: usize,
    pub train_seconds: f64,
    /// RMSE of the energy on the held-out 10 % of the training configurations (NaN for the
    /// effective model, which is fitted on all of them).
    #[serde(deserialize_with = "crate::reports::nan_or")]
    pub val_rmse: f64,
}

/// One model at one size.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScaleResult {
    pub model: String,
    pub metrics: Metrics,
    /// Wall time per configuration of the model's forward pass (batched).
    pub seconds_per_config: f64,
    /// ED time per configuration over the model's.
    pub speedup: f64,
}

/// One test size.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScaleRow {
    pub n: usize,
    pub samples: usize,
    pub mean_energy: f64,
    /// Wall time per configuration of the exact diagonalisation (rayon over the cores).
    pub ed_seconds: f64,
    pub results: Vec<ScaleResult>,
}

/// The report: `scale.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScaleReport {
    pub kind: String,
    pub provenance: Provenance,
    pub settings: ScaleSettings,
    pub data_seconds: f64,
    pub models: Vec<ScaleModel>,
    pub rows: Vec<ScaleRow>,
    pub seconds: f64,
}

#[cfg(feature = "train")]
enum Model {
    Net(EfnnNet),
    Effective(EffectiveModel),
}

#[cfg(feature = "train")]
impl Model {
    fn energies(&self, x: &ndarray::Array2<f64>) -> Result<Vec<f64>> {
        match self {
            Model::Net(n) => Ok(n.energies(x)?.to_vec()),
            Model::Effective(e) => e.energies(x),
        }
    }
}

#[cfg(feature = "train")]
fn conv(name: &str, arch: Arch, channels: usize, s: &ScaleSettings) -> Result<EfnnSpec> {
    EfnnSpec::new(
        name,
        arch,
        Geometry::Conv {
            channels,
            kernel: s.kernel,
        },
        s.depth,
    )
}

#[cfg(feature = "train")]
/// The channel count of `arch` whose parameter count is closest to `target`.
fn matched(arch: Arch, target: usize, s: &ScaleSettings) -> Result<EfnnSpec> {
    let mut best: Option<EfnnSpec> = None;
    for c in 1..=4 * s.channels.max(1) {
        let spec = conv("baseline", arch, c, s)?;
        let closer = best.as_ref().is_none_or(|b| {
            spec.parameter_count().abs_diff(target) < b.parameter_count().abs_diff(target)
        });
        if closer {
            best = Some(spec);
        }
    }
    Ok(best.expect("at least one channel count"))
}

#[cfg(feature = "train")]
/// Run the study and write `scale.json`, `scale.md`, `error-vs-size.svg` into `out`, and the
/// trained networks: `models.fnn` (their specs) and `efnn.safetensors`, `dnn.safetensors`, ….
pub fn run(s: &ScaleSettings, out: &Path, progress: bool) -> Result<ScaleReport> {
    s.check()?;
    std::fs::create_dir_all(out).map_err(|e| Error::Write {
        path: out.display().to_string(),
        source: e,
    })?;
    let provenance = Provenance::now();
    let t0 = Instant::now();
    let data = datasets::double_exchange(
        &DoubleExchange::paper(s.train_size),
        s.train_samples,
        s.seed,
        progress,
    );
    let data_seconds = t0.elapsed().as_secs_f64();
    let efnn = conv("efnn", Arch::Efnn, s.channels, s)?;
    let mut specs = vec![("EFNN".to_string(), efnn.clone())];
    if s.baselines || !s.only.is_empty() {
        for (name, arch) in [
            ("DNN", Arch::Dnn),
            ("ResNet", Arch::ResNet),
            ("DenseNet", Arch::DenseNet),
        ] {
            specs.push((name.into(), matched(arch, efnn.parameter_count(), s)?));
        }
    }
    if !s.only.is_empty() {
        specs.retain(|(_, spec)| s.only.iter().any(|o| o == spec.arch.name()));
    }
    let c = Config {
        epochs: s.epochs,
        batch: s.batch,
        lr: s.lr,
        lr_end: s.lr * 1e-2,
        weight_decay: 0.0,
        val_fraction: 0.1,
        patience: s.epochs,
        seed: s.seed,
        progress,
        schedule: crate::train::Schedule::Cosine,
        l2: 0.0,
    };
    let mut models: Vec<(ScaleModel, Model)> = vec![];
    // the trained networks, so that `feynn efnn eval out/models.fnn --model dnn --data …` runs
    // them again on other configurations
    let mut fnn = String::from(
        "// The networks of `feynn efnn scale`, trained at N = train_size; weights beside this file.\n",
    );
    for (name, spec) in &specs {
        let t = Instant::now();
        let trainable = EfnnTrainable { spec: spec.clone() };
        trainable.check_inputs(data.inputs.ncols())?;
        let (w, rep) = train(&trainable, &data, &c, false)?;
        let slug = spec.arch.name();
        feynn::model::weights::write_safetensors(&out.join(format!("{slug}.safetensors")), &w)?;
        let _ = writeln!(
            fnn,
            "efnn {slug} {{ arch {slug} input lattice channels {} kernel {} depth {} weights \"{slug}.safetensors\" }}",
            channels_of(spec),
            s.kernel,
            s.depth
        );
        models.push((
            ScaleModel {
                name: format!("{name} (C = {})", channels_of(spec)),
                parameters: spec.parameter_count(),
                train_seconds: t.elapsed().as_secs_f64(),
                val_rmse: rep.val_rmse,
            },
            Model::Net(EfnnNet::new(spec.clone(), w)?),
        ));
    }
    crate::plot::write_text(&out.join("models.fnn"), &fnn)?;
    if s.effective {
        let t = Instant::now();
        let m = EffectiveModel::fit(&data.inputs, data.targets.as_slice().expect("contiguous"))?;
        models.push((
            ScaleModel {
                name: "effective model".into(),
                parameters: effective::FEATURES,
                train_seconds: t.elapsed().as_secs_f64(),
                val_rmse: f64::NAN,
            },
            Model::Effective(m),
        ));
    }
    let mut rows = vec![];
    for (&n, &k) in s.sizes.iter().zip(&s.test_samples) {
        let t = Instant::now();
        // fresh configurations at every N, a seed apart from the training ones
        let test = datasets::double_exchange(
            &DoubleExchange::paper(n),
            k,
            s.seed + 1_000_000 + n as u64,
            progress,
        );
        let ed = t.elapsed().as_secs_f64() / k as f64;
        let truth = test.targets.as_slice().expect("contiguous");
        let mean = truth.iter().sum::<f64>() / k as f64;
        let mut results = vec![];
        for (info, model) in &models {
            let t = Instant::now();
            let pred = model.energies(&test.inputs)?;
            let secs = t.elapsed().as_secs_f64() / k as f64;
            results.push(ScaleResult {
                model: info.name.clone(),
                metrics: metrics(&pred, truth, mean, (n * n) as f64),
                seconds_per_config: secs,
                speedup: ed / secs.max(1e-12),
            });
        }
        rows.push(ScaleRow {
            n,
            samples: k,
            mean_energy: mean,
            ed_seconds: ed,
            results,
        });
    }
    let report = ScaleReport {
        kind: "efnn-scale".into(),
        provenance,
        settings: s.clone(),
        data_seconds,
        models: models.into_iter().map(|(m, _)| m).collect(),
        rows,
        seconds: t0.elapsed().as_secs_f64(),
    };
    write_report(out, &report)?;
    Ok(report)
}

#[cfg(feature = "train")]
fn channels_of(spec: &EfnnSpec) -> usize {
    match spec.geometry {
        Geometry::Conv { channels, .. } => channels,
        Geometry::Dense { width, .. } => width,
    }
}

/// Write `scale.json`, `scale.md` and `error-vs-size.svg` of a report.
pub fn write_report(out: &Path, r: &ScaleReport) -> Result<()> {
    let write = |name: &str, text: String| {
        let p = out.join(name);
        std::fs::write(&p, text).map_err(|e| Error::Write {
            path: p.display().to_string(),
            source: e,
        })
    };
    write(
        "scale.json",
        serde_json::to_string_pretty(r).unwrap() + "\n",
    )?;
    write("scale.md", markdown(r))?;
    write("error-vs-size.svg", figure(r)?)
}

/// The relative error against N of every model and of the mean predictor, as SVG text.
pub fn figure(r: &ScaleReport) -> Result<String> {
    let mut series: Vec<(String, Vec<(f64, f64)>)> = r
        .models
        .iter()
        .map(|m| {
            let pts = r
                .rows
                .iter()
                .filter_map(|row| {
                    row.results
                        .iter()
                        .find(|x| x.model == m.name)
                        .map(|x| (row.n as f64, x.metrics.relative))
                })
                .collect();
            (m.name.clone(), pts)
        })
        .collect();
    series.push((
        "mean predictor".into(),
        r.rows
            .iter()
            .filter_map(|row| {
                row.results
                    .first()
                    .map(|x| (row.n as f64, x.metrics.mean_relative))
            })
            .collect(),
    ));
    plots::lines_svg(
        &format!(
            "double exchange: trained at N = {}, evaluated at N (√MSE/|mean E|)",
            r.settings.train_size
        ),
        "N",
        "relative error",
        &series,
    )
}

/// The report's tables as Markdown: the models, then one row per (size, model).
pub fn markdown(r: &ScaleReport) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "| model | parameters | training s | held-out RMSE at N = {} |",
        r.settings.train_size
    );
    let _ = writeln!(md, "|---|---|---|---|");
    for m in &r.models {
        let _ = writeln!(
            md,
            "| {} | {} | {:.0} | {:.3e} |",
            m.name, m.parameters, m.train_seconds, m.val_rmse
        );
    }
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "| N | configs | model | rel. error | mean predictor | RMSE/std(E) | ED s/config | model s/config | speed-up |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
    for row in &r.rows {
        for x in &row.results {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.2e} | {:.2e} | {:.3} | {:.2e} | {:.2e} | {:.0} |",
                row.n,
                row.samples,
                x.model,
                x.metrics.relative,
                x.metrics.mean_relative,
                x.metrics.rmse_over_std,
                row.ed_seconds,
                x.seconds_per_config,
                x.speedup
            );
        }
    }
    md
}
