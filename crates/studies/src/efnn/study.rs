//! The benchmark studies of the EFNN chapter (feature `train`): the architecture comparison on
//! the 3-spin model (0/1 spins) or its continuous-spin variant with the coupling readout (walsh
//! and Taylor routes), and the size transfer of the convolutional EFNN on the double-exchange
//! model. Both write a JSON report, Markdown tables and SVG figures.

use std::path::Path;
use std::time::Instant;

use super::bench::{metrics, Metrics};
use super::datasets;
use super::forward::EfnnNet;
use super::readout::{compare, compare_walsh, correlation, CouplingReport, Expansion};
use super::spec::{Arch, EfnnSpec, Geometry};
use super::taylor::{compare_taylor, TaylorExpansion, TaylorReport};
use super::train::EfnnTrainable;
use crate::data::Dataset;
use crate::physics::double_exchange::DoubleExchange;
use crate::physics::spins::{SpinValues, ThreeSpin};
use crate::reports::efnn as reports;
use crate::train::{train, Config};
use feynn::error::{Error, Result};

/// Settings of the 3-spin comparison.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CompareSettings {
    /// s ∈ {0, 1} (false, the "3-spin" benchmark) or s ~ U(−1, 1) (true, the code's
    /// "Heisenberg" benchmark).
    pub continuous: bool,
    pub samples: usize,
    pub widths: Vec<usize>,
    pub depths: Vec<usize>,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub seed: u64,
}

impl CompareSettings {
    /// The settings of the chapter's run, or of `--quick` (tests), for 0/1 spins.
    pub fn new(quick: bool) -> CompareSettings {
        if quick {
            CompareSettings {
                continuous: false,
                samples: 1500,
                widths: vec![15],
                depths: vec![1, 2],
                epochs: 25,
                batch: 100,
                lr: 3e-3,
                seed: 17,
            }
        } else {
            CompareSettings {
                continuous: false,
                samples: 6000,
                widths: vec![15, 30],
                depths: vec![1, 2, 3],
                epochs: 120,
                batch: 100,
                lr: 3e-3,
                seed: 17,
            }
        }
    }

    /// The same settings on continuous spins s ~ U(−1, 1).
    pub fn continuous(quick: bool) -> CompareSettings {
        CompareSettings {
            continuous: true,
            ..CompareSettings::new(quick)
        }
    }
}

/// One trained model of a comparison.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub arch: Arch,
    pub width: usize,
    pub depth: usize,
    pub parameters: usize,
    pub test: Metrics,
    pub epochs_run: usize,
    pub seconds: f64,
}

fn cfg(s: &CompareSettings, progress: bool) -> Config {
    Config {
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
    }
}

fn split(d: &Dataset, train_fraction: f64) -> (Dataset, Dataset) {
    let n = d.len();
    let k = (n as f64 * train_fraction).round() as usize;
    (
        d.select(&(0..k).collect::<Vec<_>>()),
        d.select(&(k..n).collect::<Vec<_>>()),
    )
}

fn train_net(
    spec: &EfnnSpec,
    data: &Dataset,
    c: &Config,
) -> Result<(EfnnNet, crate::train::Report)> {
    let t = EfnnTrainable { spec: spec.clone() };
    t.check_inputs(data.inputs.ncols())?;
    let (w, rep) = train(&t, data, c, false)?;
    Ok((EfnnNet::new(spec.clone(), w)?, rep))
}

/// The Taylor readouts of one network: at s = 0 and at the training data's mean configuration.
fn taylor_pair(
    net: &EfnnNet,
    model: &ThreeSpin,
    mean: &[f64],
) -> Result<(TaylorReport, TaylorReport, f64)> {
    let t0 = Instant::now();
    let zero = compare_taylor(
        &TaylorExpansion::of_net(net, &vec![0.0; mean.len()], 3)?,
        model,
    )?;
    let at_mean = compare_taylor(&TaylorExpansion::of_net(net, mean, 3)?, model)?;
    Ok((zero, at_mean, t0.elapsed().as_secs_f64() / 2.0))
}

/// The 3-spin comparison: every architecture × width × depth trained on the first 80 % of
/// `samples` configurations (L = 15, J ~ N(1, 2²), seed `seed`; 0/1 spins, or U(−1, 1) spins if
/// `s.continuous`) and tested on the rest; then the couplings of the best network of each
/// architecture read out: on 0/1 spins by the exact expansions (Möbius, anchored at s = 0, and
/// Walsh–Fourier, at the centre) and by the Taylor route at s = 0 and at the mean configuration,
/// on continuous spins by the Taylor route.
/// Writes `compare.json`, `compare.md`, `error-vs-depth.svg`, `couplings.svg` (and, for 0/1
/// spins, `couplings-taylor.svg`) into `out`.
pub fn compare_three_spin(
    s: &CompareSettings,
    out: &Path,
    progress: bool,
) -> Result<serde_json::Value> {
    std::fs::create_dir_all(out).map_err(|e| Error::Io {
        path: out.display().to_string(),
        source: e,
    })?;
    let model = ThreeSpin::random(
        reports::THREE_SPIN_SITES,
        reports::THREE_SPIN_MEAN,
        reports::THREE_SPIN_STD,
        s.seed,
    );
    let values = if s.continuous {
        SpinValues::Continuous
    } else {
        SpinValues::Binary
    };
    let data = datasets::three_spin(&model, values, s.samples, s.seed, false);
    let (tr, te) = split(&data, 0.8);
    let train_mean = tr.targets.mean().unwrap();
    let spin_mean = tr.inputs.mean_axis(ndarray::Axis(0)).unwrap().to_vec();
    let (rows, best) = train_grid(s, &tr, &te, train_mean, progress)?;
    let readouts = if s.continuous {
        readout_continuous(&best, &model, &spin_mean)?
    } else {
        readout_binary(&best, &model, &spin_mean)?
    };
    let report = serde_json::json!({"settings": s, "train_mean": train_mean,
        "spin_mean": spin_mean, "rows": rows, "readout": readouts,
        "true_couplings": model.couplings,
        "provenance": crate::provenance::Provenance::now()});
    write(
        out,
        "compare.json",
        &serde_json::to_string_pretty(&report).unwrap(),
    )?;
    // the tables and figures are drawn from the report, as `feynn reports` draws them again
    let mut files = vec![
        ("tables", "compare.md"),
        ("error-vs-depth", "error-vs-depth.svg"),
        ("couplings", "couplings.svg"),
    ];
    if !s.continuous {
        files.push(("couplings-taylor", "couplings-taylor.svg"));
    }
    for (output, file) in files {
        write(out, file, &reports::compare(&report, output)?)?;
    }
    Ok(report)
}

/// The network of one architecture with the lowest test RMSE, the one whose couplings are read
/// out.
struct Best {
    arch: Arch,
    rmse: f64,
    net: EfnnNet,
}

/// Trains the width × depth × architecture grid on `tr`, tests on `te`; returns a row per
/// network (in grid order) and the best network of each architecture (in order of appearance).
fn train_grid(
    s: &CompareSettings,
    tr: &Dataset,
    te: &Dataset,
    train_mean: f64,
    progress: bool,
) -> Result<(Vec<Row>, Vec<Best>)> {
    let c = cfg(s, progress);
    let mut rows = vec![];
    let mut best: Vec<Best> = vec![];
    for &w in &s.widths {
        for &d in &s.depths {
            for arch in Arch::ALL {
                let (row, net) = train_one(arch, w, d, &c, tr, te, train_mean)?;
                let rmse = row.test.rmse;
                match best.iter_mut().find(|b| b.arch == arch) {
                    Some(b) if b.rmse <= rmse => {}
                    Some(b) => *b = Best { arch, rmse, net },
                    None => best.push(Best { arch, rmse, net }),
                }
                rows.push(row);
            }
        }
    }
    Ok((rows, best))
}

/// One cell of the grid: a dense network of width `w` and depth `d`, trained and tested.
fn train_one(
    arch: Arch,
    w: usize,
    d: usize,
    c: &Config,
    tr: &Dataset,
    te: &Dataset,
    train_mean: f64,
) -> Result<(Row, EfnnNet)> {
    let spec = EfnnSpec::new(
        &format!("{}_{w}_{d}", arch.name()),
        arch,
        Geometry::Dense {
            inputs: 15,
            width: w,
        },
        d,
    )?;
    if c.progress {
        eprintln!(
            "{} M={w} n={d} ({} parameters)",
            arch.name(),
            spec.parameter_count()
        );
    }
    let (net, rep) = train_net(&spec, tr, c)?;
    let pred = net.energies(&te.inputs)?;
    let m = metrics(
        pred.as_slice().unwrap(),
        te.targets.as_slice().unwrap(),
        train_mean,
        15.0,
    );
    let row = Row {
        arch,
        width: w,
        depth: d,
        parameters: spec.parameter_count(),
        test: m,
        epochs_run: rep.epochs_run,
        seconds: rep.seconds,
    };
    Ok((row, net))
}

/// The coupling readout on continuous spins: only the Taylor route applies off the cube.
/// Returns the JSON per architecture.
fn readout_continuous(
    best: &[Best],
    model: &ThreeSpin,
    spin_mean: &[f64],
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut readouts = serde_json::Map::new();
    for Best { arch, net, .. } in best {
        let (zero, at_mean, taylor_secs) = taylor_pair(net, model, spin_mean)?;
        readouts.insert(
            arch.name().into(),
            serde_json::json!({"taylor_zero": zero, "taylor_mean": at_mean,
                "taylor_seconds": taylor_secs, "width": net.spec.geometry, "depth": net.spec.depth}),
        );
    }
    Ok(readouts)
}

/// Every readout of one network of 0/1 spins: the exact expansions (Möbius at s = 0, Walsh at
/// the centre) and the Taylor route at the same two points, so the routes can be checked
/// against each other.
struct BinaryReadout {
    moebius: CouplingReport,
    /// Seconds of the exact expansion and its Möbius comparison.
    seconds: f64,
    walsh: CouplingReport,
    zero: TaylorReport,
    at_mean: TaylorReport,
    taylor_seconds: f64,
    /// corr(Walsh, Taylor at the mean): two routes to the derivatives near the cube's centre.
    between: f64,
}

impl BinaryReadout {
    fn of(net: &EfnnNet, model: &ThreeSpin, spin_mean: &[f64]) -> Result<BinaryReadout> {
        let (zero, at_mean, taylor_seconds) = taylor_pair(net, model, spin_mean)?;
        let t0 = Instant::now();
        let e = Expansion::of(15, |x| net.energies(x))?;
        let moebius = compare(&e, model);
        let seconds = t0.elapsed().as_secs_f64();
        let walsh = compare_walsh(&e, model);
        let between = correlation(&walsh.learned, &at_mean.report.learned);
        Ok(BinaryReadout {
            moebius,
            seconds,
            walsh,
            zero,
            at_mean,
            taylor_seconds,
            between,
        })
    }

    fn to_json(&self, net: &EfnnNet) -> serde_json::Value {
        serde_json::json!({"report": self.moebius, "seconds": self.seconds, "walsh": self.walsh,
            "taylor_zero": self.zero, "taylor_mean": self.at_mean,
            "taylor_seconds": self.taylor_seconds,
            "correlation_walsh_taylor_mean": self.between,
            "width": net.spec.geometry, "depth": net.spec.depth})
    }
}

/// The coupling readout on 0/1 spins: every route for the best network of each architecture.
/// Returns the JSON per architecture.
fn readout_binary(
    best: &[Best],
    model: &ThreeSpin,
    spin_mean: &[f64],
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut readouts = serde_json::Map::new();
    for Best { arch, net, .. } in best {
        let r = BinaryReadout::of(net, model, spin_mean)?;
        readouts.insert(arch.name().into(), r.to_json(net));
    }
    Ok(readouts)
}

/// Writes `text` to `dir/name`; a failure is an [`Error::Write`] naming the file.
fn write(dir: &Path, name: &str, text: &str) -> Result<()> {
    let p = dir.join(name);
    std::fs::write(&p, text).map_err(|e| Error::Write {
        path: p.display().to_string(),
        source: e,
    })
}

/// Settings of the size transfer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TransferSettings {
    pub train_size: usize,
    pub train_samples: usize,
    pub sizes: Vec<usize>,
    pub test_samples: usize,
    pub channels: usize,
    pub kernel: usize,
    pub depth: usize,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub seed: u64,
}

impl TransferSettings {
    /// The chapter's run, or `--quick`.
    pub fn new(quick: bool) -> TransferSettings {
        if quick {
            TransferSettings {
                train_size: 4,
                train_samples: 300,
                sizes: vec![4, 6],
                test_samples: 20,
                channels: 2,
                kernel: 3,
                depth: 1,
                epochs: 15,
                batch: 50,
                lr: 3e-3,
                seed: 100,
            }
        } else {
            TransferSettings {
                train_size: 6,
                train_samples: 2000,
                sizes: vec![6, 8, 10, 12, 16],
                test_samples: 60,
                channels: 3,
                kernel: 3,
                depth: 2,
                epochs: 60,
                batch: 50,
                lr: 3e-3,
                seed: 100,
            }
        }
    }
}

/// Train a convolutional EFNN at N = `train_size`, evaluate it unchanged at every N of `sizes`
/// on fresh configurations; time ED and the network per configuration. Writes `transfer.json`,
/// `transfer.md`, `error-vs-size.svg` into `out`.
pub fn size_transfer(
    s: &TransferSettings,
    out: &Path,
    progress: bool,
) -> Result<serde_json::Value> {
    std::fs::create_dir_all(out).map_err(|e| Error::Io {
        path: out.display().to_string(),
        source: e,
    })?;
    let t0 = Instant::now();
    let data = datasets::double_exchange(
        &DoubleExchange::paper(s.train_size),
        s.train_samples,
        s.seed,
        progress,
    );
    let gen_seconds = t0.elapsed().as_secs_f64();
    let spec = EfnnSpec::new(
        "dex",
        Arch::Efnn,
        Geometry::Conv {
            channels: s.channels,
            kernel: s.kernel,
        },
        s.depth,
    )?;
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
    let (net, rep) = train_net(&spec, &data, &c)?;
    let mut rows = vec![];
    for &n in &s.sizes {
        let de = DoubleExchange::paper(n);
        let t = Instant::now();
        // a different seed from training: fresh configurations at every N
        let test = datasets::double_exchange(&de, s.test_samples, s.seed + 1_000_000, false);
        let ed = t.elapsed().as_secs_f64() / s.test_samples as f64;
        let t = Instant::now();
        let pred = net.energies(&test.inputs)?;
        let nn = t.elapsed().as_secs_f64() / s.test_samples as f64;
        let mean = test.targets.mean().unwrap();
        let m = metrics(
            pred.as_slice().unwrap(),
            test.targets.as_slice().unwrap(),
            mean,
            (n * n) as f64,
        );
        rows.push(serde_json::json!({"n": n, "metrics": m, "ed_seconds": ed, "efnn_seconds": nn, "mean_energy": mean}));
    }
    let report = serde_json::json!({"settings": s, "parameters": spec.parameter_count(), "train": rep,
        "data_seconds": gen_seconds, "rows": rows,
        "provenance": crate::provenance::Provenance::now()});
    write(
        out,
        "transfer.json",
        &serde_json::to_string_pretty(&report).unwrap(),
    )?;
    // drawn from the report, as `feynn reports` draws them again
    write(out, "transfer.md", &reports::transfer(&report, "table")?)?;
    write(
        out,
        "error-vs-size.svg",
        &reports::transfer(&report, "error-vs-size")?,
    )?;
    Ok(report)
}
