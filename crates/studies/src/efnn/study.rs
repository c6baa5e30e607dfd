//! The benchmark studies of the EFNN chapter (feature `train`): the architecture comparison on
//! the 3-spin model (0/1 spins) or its continuous-spin variant with the coupling readout (walsh
//! and Taylor routes), and the size transfer of the convolutional EFNN on the double-exchange
//! model. Both write a JSON report, Markdown tables and SVG figures.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use super::bench::{metrics, Metrics};
use super::datasets;
use super::forward::EfnnNet;
use super::plots;
use super::readout::{compare, compare_walsh, correlation, Expansion};
use super::spec::{Arch, EfnnSpec, Geometry};
use super::taylor::{compare_taylor, TaylorExpansion, TaylorReport};
use super::train::EfnnTrainable;
use crate::data::Dataset;
use crate::physics::double_exchange::DoubleExchange;
use crate::physics::spins::{SpinValues, ThreeSpin};
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
    let model = ThreeSpin::random(15, 1.0, 2.0, s.seed);
    let values = if s.continuous {
        SpinValues::Continuous
    } else {
        SpinValues::Binary
    };
    let data = datasets::three_spin(&model, values, s.samples, s.seed, false);
    let (tr, te) = split(&data, 0.8);
    let train_mean = tr.targets.mean().unwrap();
    let spin_mean = tr.inputs.mean_axis(ndarray::Axis(0)).unwrap().to_vec();
    let mut rows = vec![];
    let mut best: Vec<(Arch, f64, EfnnNet)> = vec![];
    for &w in &s.widths {
        for &d in &s.depths {
            for arch in Arch::ALL {
                let spec = EfnnSpec::new(
                    &format!("{}_{w}_{d}", arch.name()),
                    arch,
                    Geometry::Dense {
                        inputs: 15,
                        width: w,
                    },
                    d,
                )?;
                if progress {
                    eprintln!(
                        "{} M={w} n={d} ({} parameters)",
                        arch.name(),
                        spec.parameter_count()
                    );
                }
                let (net, rep) = train_net(&spec, &tr, &cfg(s, progress))?;
                let pred = net.energies(&te.inputs)?;
                let m = metrics(
                    pred.as_slice().unwrap(),
                    te.targets.as_slice().unwrap(),
                    train_mean,
                    15.0,
                );
                match best.iter_mut().find(|b| b.0 == arch) {
                    Some(b) if b.1 <= m.rmse => {}
                    Some(b) => *b = (arch, m.rmse, net),
                    None => best.push((arch, m.rmse, net)),
                }
                rows.push(Row {
                    arch,
                    width: w,
                    depth: d,
                    parameters: spec.parameter_count(),
                    test: m,
                    epochs_run: rep.epochs_run,
                    seconds: rep.seconds,
                });
            }
        }
    }
    let mut md = String::new();
    let m0 = &rows[0].test;
    if s.continuous {
        // |mean E| ≈ 0 here, so the paper reports the RMSE (theory note §3.2).
        writeln!(
            md,
            "| arch | M | n | parameters | test RMSE | RMSE/std(E) | train s |"
        )
        .unwrap();
        writeln!(md, "|---|---|---|---|---|---|---|").unwrap();
        for r in &rows {
            writeln!(
                md,
                "| {} | {} | {} | {} | {:.4} | {:.4} | {:.0} |",
                r.arch.name(),
                r.width,
                r.depth,
                r.parameters,
                r.test.rmse,
                r.test.rmse_over_std,
                r.seconds
            )
            .unwrap();
        }
        writeln!(
            md,
            "| mean predictor | – | – | 1 | {:.4} | {:.4} | – |",
            m0.mean_rmse,
            m0.mean_rmse / (m0.rmse / m0.rmse_over_std)
        )
        .unwrap();
    } else {
        writeln!(
            md,
            "| arch | M | n | parameters | rel. error √MSE/|mean E| | RMSE | RMSE/std(E) | train s |"
        )
        .unwrap();
        writeln!(md, "|---|---|---|---|---|---|---|---|").unwrap();
        for r in &rows {
            writeln!(
                md,
                "| {} | {} | {} | {} | {:.4} | {:.3} | {:.4} | {:.0} |",
                r.arch.name(),
                r.width,
                r.depth,
                r.parameters,
                r.test.relative,
                r.test.rmse,
                r.test.rmse_over_std,
                r.seconds
            )
            .unwrap();
        }
        writeln!(
            md,
            "| mean predictor | – | – | 1 | {:.4} | {:.3} | {:.4} | – |",
            m0.mean_relative,
            m0.mean_rmse,
            m0.mean_rmse / (m0.rmse / m0.rmse_over_std)
        )
        .unwrap();
    }
    writeln!(md).unwrap();
    // Readout of the best network of each architecture.
    let label = |arch: &Arch, net: &EfnnNet| {
        format!(
            "{} (M={}, n={})",
            arch.name(),
            match net.spec.geometry {
                Geometry::Dense { width, .. } => width,
                _ => 0,
            },
            net.spec.depth
        )
    };
    let mut readouts = serde_json::Map::new();
    let mut taylor_md = String::new();
    if s.continuous {
        writeln!(md, "| best of arch | Taylor at 0: corr(J_learned, J) | scale | ‖J_learned − J‖/‖J‖ | at mean: corr | scale | RMS c_i | RMS c_ij | RMS c_ijk | RMS repeated-index, degree 2 / 3 |").unwrap();
        writeln!(md, "|---|---|---|---|---|---|---|---|---|---|").unwrap();
    } else {
        writeln!(md, "| best of arch | 3-body corr(J_learned, J) | ‖J_learned − J‖/‖J‖ | RMS 1-body | RMS 2-body | RMS 3-body | RMS ≥4-body (max) |").unwrap();
        writeln!(md, "|---|---|---|---|---|---|---|").unwrap();
        writeln!(
            taylor_md,
            "| best of arch | route | corr(J_learned, J) | scale | ‖J_learned − J‖/‖J‖ |"
        )
        .unwrap();
        writeln!(taylor_md, "|---|---|---|---|---|").unwrap();
    }
    for (arch, _, net) in &best {
        let (zero, at_mean, taylor_secs) = taylor_pair(net, &model, &spin_mean)?;
        let rep_t = |r: &TaylorReport| (r.rms_repeated_by_order[0].1, r.rms_repeated_by_order[1].1);
        if s.continuous {
            let z = &zero.report;
            writeln!(
                md,
                "| {} | {:.4} | {:.3} | {:.4} | {:.4} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} / {:.3} |",
                label(arch, net),
                z.correlation,
                z.scale,
                z.relative_error,
                at_mean.report.correlation,
                at_mean.report.scale,
                z.rms_by_order[1].1,
                z.rms_by_order[2].1,
                z.rms_by_order[3].1,
                rep_t(&zero).0,
                rep_t(&zero).1,
            )
            .unwrap();
            if *arch == Arch::Efnn {
                coupling_scatter(
                    &out.join("couplings.svg"),
                    &format!(
                        "Taylor at s=0 vs true J_ijk (EFNN, corr {:.3})",
                        z.correlation
                    ),
                    "learned J_ijk = −∂³E/∂s_i∂s_j∂s_k",
                    &model.couplings,
                    &z.learned,
                )?;
            }
            readouts.insert(
                arch.name().into(),
                serde_json::json!({"taylor_zero": zero, "taylor_mean": at_mean,
                    "taylor_seconds": taylor_secs, "width": net.spec.geometry, "depth": net.spec.depth}),
            );
            continue;
        }
        let t0 = Instant::now();
        let e = Expansion::of(15, |x| net.energies(x))?;
        let rep = compare(&e, &model);
        let secs = t0.elapsed().as_secs_f64();
        let higher = rep
            .rms_by_order
            .iter()
            .filter(|o| o.0 >= 4)
            .map(|o| o.1)
            .fold(0.0, f64::max);
        writeln!(
            md,
            "| {} | {:.4} | {:.4} | {:.3} | {:.3} | {:.3} | {:.3} |",
            label(arch, net),
            rep.correlation,
            rep.relative_error,
            rep.rms_by_order[1].1,
            rep.rms_by_order[2].1,
            rep.rms_by_order[3].1,
            higher
        )
        .unwrap();
        let walsh = compare_walsh(&e, &model);
        let between = correlation(&walsh.learned, &at_mean.report.learned);
        for (route, r) in [
            ("Möbius (exact, s = 0)", &rep),
            ("Taylor at s = 0", &zero.report),
            ("Walsh (exact, s = ½)", &walsh),
            ("Taylor at the mean", &at_mean.report),
        ] {
            writeln!(
                taylor_md,
                "| {} | {route} | {:.4} | {:.3} | {:.4} |",
                label(arch, net),
                r.correlation,
                r.scale,
                r.relative_error,
            )
            .unwrap();
        }
        writeln!(
            taylor_md,
            "| {} | corr(Walsh, Taylor at the mean); RMS repeated-index degree 2 / 3 (at the mean) | {between:.4} | {:.3} / {:.3} | |",
            label(arch, net),
            rep_t(&at_mean).0,
            rep_t(&at_mean).1,
        )
        .unwrap();
        if *arch == Arch::Efnn {
            coupling_scatter(
                &out.join("couplings.svg"),
                &format!("learned vs true J_ijk (EFNN, corr {:.3})", rep.correlation),
                "learned J_ijk = −c_ijk",
                &model.couplings,
                &rep.learned,
            )?;
            coupling_scatter(
                &out.join("couplings-taylor.svg"),
                &format!(
                    "Taylor at the mean vs true J_ijk (EFNN, corr {:.3})",
                    at_mean.report.correlation
                ),
                "learned J_ijk = −∂³E/∂s_i∂s_j∂s_k",
                &model.couplings,
                &at_mean.report.learned,
            )?;
        }
        readouts.insert(
            arch.name().into(),
            serde_json::json!({"report": rep, "seconds": secs, "walsh": walsh, "taylor_zero": zero,
                "taylor_mean": at_mean, "taylor_seconds": taylor_secs,
                "correlation_walsh_taylor_mean": between,
                "width": net.spec.geometry, "depth": net.spec.depth}),
        );
    }
    if !s.continuous {
        writeln!(md).unwrap();
        md.push_str(&taylor_md);
    }
    let wmax = *s.widths.iter().max().unwrap();
    let series: Vec<(String, Vec<(f64, f64)>)> = Arch::ALL
        .iter()
        .map(|a| {
            (
                format!("{} (M={wmax})", a.name()),
                rows.iter()
                    .filter(|r| r.arch == *a && r.width == wmax)
                    .map(|r| {
                        (
                            r.depth as f64,
                            if s.continuous {
                                r.test.rmse
                            } else {
                                r.test.relative
                            },
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    if s.continuous {
        plots::lines(
            &out.join("error-vs-depth.svg"),
            "continuous 3-spin model: test RMSE vs depth",
            "depth n",
            "RMSE",
            &series,
        )?;
    } else {
        plots::lines(
            &out.join("error-vs-depth.svg"),
            "3-spin model: test relative error vs depth",
            "depth n",
            "√MSE / |mean E|",
            &series,
        )?;
    }
    let report = serde_json::json!({"settings": s, "train_mean": train_mean,
        "spin_mean": spin_mean, "rows": rows, "readout": readouts});
    write(
        out,
        "compare.json",
        &serde_json::to_string_pretty(&report).unwrap(),
    )?;
    write(out, "compare.md", &md)?;
    Ok(report)
}

fn write(dir: &Path, name: &str, text: &str) -> Result<()> {
    let p = dir.join(name);
    std::fs::write(&p, text).map_err(|e| Error::Io {
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
    };
    let (net, rep) = train_net(&spec, &data, &c)?;
    let mut rows = vec![];
    let mut md = String::new();
    writeln!(md, "| N | samples | rel. error | mean-predictor rel. error | RMSE per site | RMSE/std(E) | ED s/config | EFNN s/config |").unwrap();
    writeln!(md, "|---|---|---|---|---|---|---|---|").unwrap();
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
        writeln!(
            md,
            "| {n} | {} | {:.2e} | {:.2e} | {:.2e} | {:.3} | {:.2e} | {:.2e} |",
            s.test_samples, m.relative, m.mean_relative, m.rmse_per_site, m.rmse_over_std, ed, nn
        )
        .unwrap();
        rows.push(serde_json::json!({"n": n, "metrics": m, "ed_seconds": ed, "efnn_seconds": nn, "mean_energy": mean}));
    }
    let get = |k: &str| -> Vec<(f64, f64)> {
        rows.iter()
            .map(|r| (r["n"].as_f64().unwrap(), r["metrics"][k].as_f64().unwrap()))
            .collect()
    };
    plots::lines(
        &out.join("error-vs-size.svg"),
        &format!(
            "double exchange: EFNN trained at N={}, evaluated at N",
            s.train_size
        ),
        "N",
        "error",
        &[
            ("EFNN √MSE/|mean E|".into(), get("relative")),
            ("mean predictor √MSE/|mean E|".into(), get("mean_relative")),
            ("EFNN RMSE/std(E)".into(), get("rmse_over_std")),
            ("EFNN RMSE per site".into(), get("rmse_per_site")),
        ],
    )?;
    let report = serde_json::json!({"settings": s, "parameters": spec.parameter_count(), "train": rep, "data_seconds": gen_seconds, "rows": rows});
    write(
        out,
        "transfer.json",
        &serde_json::to_string_pretty(&report).unwrap(),
    )?;
    write(out, "transfer.md", &md)?;
    Ok(report)
}

/// Learned against true couplings, one point per triplet.
fn coupling_scatter(
    path: &Path,
    title: &str,
    ydesc: &str,
    truth: &[f64],
    learned: &[f64],
) -> Result<()> {
    let pts: Vec<(f64, f64)> = truth.iter().copied().zip(learned.iter().copied()).collect();
    plots::scatter(path, title, "true J_ijk", ydesc, &pts)
}
