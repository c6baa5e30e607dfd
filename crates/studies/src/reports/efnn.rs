//! The EFNN chapter's figures and tables from its reports: `efnn-compare` (`compare.json`),
//! `efnn-transfer` (`transfer.json`), `efnn-scale` (`scale.json`) and `efnn-runs` (an index of
//! single runs). The studies (`efnn::study`) write their files through these functions.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Deserialize;

use super::{nan_or, unknown, view, Kind};
use crate::efnn::plots;
use crate::physics::spins::triplets;
use feynn::error::{Error, Result};

/// The 3-spin model of the comparison: L spins, J_ijk ~ N(mean, std²) from the settings' seed.
pub const THREE_SPIN_SITES: usize = 15;
/// Mean of the couplings J_ijk.
pub const THREE_SPIN_MEAN: f64 = 1.0;
/// Standard deviation of the couplings J_ijk.
pub const THREE_SPIN_STD: f64 = 2.0;

/// A number that may be NaN (written as `null`).
#[derive(Deserialize, Clone, Copy)]
#[serde(transparent)]
struct N(#[serde(deserialize_with = "nan_or")] f64);

#[derive(Deserialize)]
struct Settings {
    continuous: bool,
    widths: Vec<usize>,
    seed: u64,
}

#[derive(Deserialize)]
struct Metrics {
    #[serde(deserialize_with = "nan_or")]
    relative: f64,
    #[serde(deserialize_with = "nan_or")]
    rmse: f64,
    #[serde(deserialize_with = "nan_or")]
    rmse_over_std: f64,
    #[serde(deserialize_with = "nan_or")]
    mean_relative: f64,
    #[serde(deserialize_with = "nan_or")]
    mean_rmse: f64,
    #[serde(default, deserialize_with = "nan_or")]
    rmse_per_site: f64,
}

#[derive(Deserialize)]
struct Row {
    arch: String,
    width: usize,
    depth: usize,
    parameters: usize,
    test: Metrics,
    seconds: f64,
}

#[derive(Deserialize)]
struct Coupling {
    #[serde(deserialize_with = "nan_or")]
    correlation: f64,
    #[serde(deserialize_with = "nan_or")]
    scale: f64,
    #[serde(deserialize_with = "nan_or")]
    relative_error: f64,
    learned: Vec<N>,
    rms_by_order: Vec<(u32, N, usize)>,
}

impl Coupling {
    fn rms(&self, k: usize) -> f64 {
        self.rms_by_order.get(k).map_or(f64::NAN, |o| o.1 .0)
    }
}

#[derive(Deserialize)]
struct Taylor {
    #[serde(flatten)]
    report: Coupling,
    rms_repeated_by_order: Vec<(u32, N, usize)>,
}

impl Taylor {
    /// The RMS of the repeated-index coefficients of degrees 2 and 3.
    fn repeated(&self) -> (f64, f64) {
        let get = |k: usize| {
            self.rms_repeated_by_order
                .get(k)
                .map_or(f64::NAN, |o| o.1 .0)
        };
        (get(0), get(1))
    }
}

#[derive(Deserialize)]
struct Readout {
    /// The Möbius route (0/1 spins).
    #[serde(default)]
    report: Option<Coupling>,
    #[serde(default)]
    walsh: Option<Coupling>,
    taylor_zero: Taylor,
    taylor_mean: Taylor,
    #[serde(default)]
    correlation_walsh_taylor_mean: Option<N>,
    width: serde_json::Value,
    depth: usize,
}

impl Readout {
    /// `ARCH (M=width, n=depth)`, the row label of a best network.
    fn label(&self, arch: &str) -> String {
        let w = self.width["Dense"]["width"].as_u64().unwrap_or(0);
        format!("{arch} (M={w}, n={})", self.depth)
    }

    fn moebius(&self) -> Result<(&Coupling, &Coupling, f64)> {
        match (
            &self.report,
            &self.walsh,
            self.correlation_walsh_taylor_mean,
        ) {
            (Some(m), Some(w), Some(b)) => Ok((m, w, b.0)),
            _ => Err(Error::invalid(
                "a 0/1-spin readout without its exact (Möbius, Walsh) routes",
                "the report is damaged or not of 0/1 spins",
            )),
        }
    }
}

/// J_ijk of the 3-spin model of `seed` as the studies drew them until 2026-11-24 (commit
/// 48f7425): ChaCha8 stream 0 of the seed and one Box–Muller draw per triplet. Comparisons run
/// before that commit (the book's, whose reports do not record J) used these couplings; the
/// current `ThreeSpin::random` draws other ones (rand_distr's ziggurat sampler), which is why
/// reports now hold `true_couplings`.
pub fn legacy_couplings(seed: u64) -> Vec<f64> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(0);
    triplets(THREE_SPIN_SITES)
        .iter()
        .map(|_| {
            // 1 − u ∈ (0, 1] keeps the logarithm finite
            let u1: f64 = 1.0 - rng.random::<f64>();
            let u2: f64 = rng.random::<f64>();
            let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            THREE_SPIN_MEAN + THREE_SPIN_STD * z
        })
        .collect()
}

#[derive(Deserialize)]
struct Compare {
    settings: Settings,
    rows: Vec<Row>,
    readout: BTreeMap<String, Readout>,
    /// J_ijk of the model (in reports since issue 17).
    #[serde(default)]
    true_couplings: Option<Vec<f64>>,
}

impl Compare {
    /// The readouts in the order of the architectures' first rows.
    fn readouts(&self) -> Vec<(&str, &Readout)> {
        let mut out: Vec<(&str, &Readout)> = vec![];
        for r in &self.rows {
            if out.iter().all(|(a, _)| *a != r.arch) {
                if let Some(x) = self.readout.get(&r.arch) {
                    out.push((r.arch.as_str(), x));
                }
            }
        }
        out
    }

    /// The true couplings: the report's, or (older reports, which lack them) the couplings
    /// drawn as the studies drew them then ([`legacy_couplings`]).
    fn truth(&self) -> Vec<f64> {
        self.true_couplings
            .clone()
            .unwrap_or_else(|| legacy_couplings(self.settings.seed))
    }

    fn efnn(&self) -> Result<&Readout> {
        self.readout.get("efnn").ok_or_else(|| {
            Error::invalid(
                "the report has no EFNN readout",
                "the coupling figures show the best EFNN",
            )
        })
    }
}

/// An `efnn-compare` report's output: `tables` (`compare.md`), `error-vs-depth`, `couplings`
/// and, on 0/1 spins, `couplings-taylor`.
pub fn compare(report: &serde_json::Value, output: &str) -> Result<String> {
    let r: Compare = view(report, "efnn-compare")?;
    match output {
        "tables" => compare_tables(&r),
        "error-vs-depth" => error_vs_depth(&r),
        "couplings" => {
            let e = r.efnn()?;
            if r.settings.continuous {
                let z = &e.taylor_zero.report;
                scatter(
                    &format!(
                        "Taylor at s=0 vs true J_ijk (EFNN, corr {:.3})",
                        z.correlation
                    ),
                    "learned J_ijk = −∂³E/∂s_i∂s_j∂s_k",
                    &r.truth(),
                    &z.learned,
                )
            } else {
                let (m, _, _) = e.moebius()?;
                scatter(
                    &format!("learned vs true J_ijk (EFNN, corr {:.3})", m.correlation),
                    "learned J_ijk = −c_ijk",
                    &r.truth(),
                    &m.learned,
                )
            }
        }
        "couplings-taylor" if !r.settings.continuous => {
            let t = &r.efnn()?.taylor_mean.report;
            scatter(
                &format!(
                    "Taylor at the mean vs true J_ijk (EFNN, corr {:.3})",
                    t.correlation
                ),
                "learned J_ijk = −∂³E/∂s_i∂s_j∂s_k",
                &r.truth(),
                &t.learned,
            )
        }
        "couplings-taylor" => Err(Error::invalid(
            "continuous spins have no `couplings-taylor` figure",
            "their `couplings` figure is the Taylor route",
        )),
        _ => Err(unknown(Kind::EfnnCompare, output)),
    }
}

fn scatter(title: &str, ydesc: &str, truth: &[f64], learned: &[N]) -> Result<String> {
    if truth.len() != learned.len() {
        return Err(Error::invalid(
            format!(
                "{} learned couplings against {} true ones",
                learned.len(),
                truth.len()
            ),
            "the report does not belong to the model its settings define",
        ));
    }
    let pts: Vec<(f64, f64)> = truth.iter().zip(learned).map(|(t, l)| (*t, l.0)).collect();
    plots::scatter_svg(title, "true J_ijk", ydesc, &pts)
}

/// The test error against depth at the largest width, one line per architecture (RMSE on
/// continuous spins, relative error on 0/1 spins, as in the table).
fn error_vs_depth(r: &Compare) -> Result<String> {
    let continuous = r.settings.continuous;
    let wmax = r.settings.widths.iter().copied().max().unwrap_or(0);
    let mut archs: Vec<&str> = vec![];
    for row in &r.rows {
        if !archs.contains(&row.arch.as_str()) {
            archs.push(&row.arch);
        }
    }
    let series: Vec<(String, Vec<(f64, f64)>)> = archs
        .iter()
        .map(|a| {
            (
                format!("{a} (M={wmax})"),
                r.rows
                    .iter()
                    .filter(|x| x.arch == *a && x.width == wmax)
                    .map(|x| {
                        let e = if continuous {
                            x.test.rmse
                        } else {
                            x.test.relative
                        };
                        (x.depth as f64, e)
                    })
                    .collect(),
            )
        })
        .collect();
    let (title, ydesc) = if continuous {
        ("continuous 3-spin model: test RMSE vs depth", "RMSE")
    } else {
        (
            "3-spin model: test relative error vs depth",
            "√MSE / |mean E|",
        )
    };
    plots::lines_svg(title, "depth n", ydesc, &series)
}

/// `compare.md`: the test errors (anchor `errors`), then the readout tables (anchors `moebius`
/// and `routes` on 0/1 spins, `taylor` on continuous spins).
fn compare_tables(r: &Compare) -> Result<String> {
    let mut md = String::from("<!-- ANCHOR: errors -->\n");
    md += &results_table(&r.rows, r.settings.continuous)?;
    md += "<!-- ANCHOR_END: errors -->\n\n";
    if r.settings.continuous {
        md += "<!-- ANCHOR: taylor -->\n";
        md += "| best of arch | Taylor at 0: corr(J_learned, J) | scale | ‖J_learned − J‖/‖J‖ | at mean: corr | scale | RMS c_i | RMS c_ij | RMS c_ijk | RMS repeated-index, degree 2 / 3 |\n";
        md += "|---|---|---|---|---|---|---|---|---|---|\n";
        for (arch, x) in r.readouts() {
            let z = &x.taylor_zero.report;
            let (d2, d3) = x.taylor_zero.repeated();
            let _ = writeln!(
                md,
                "| {} | {:.4} | {:.3} | {:.4} | {:.4} | {:.3} | {:.3} | {:.3} | {:.3} | {d2:.3} / {d3:.3} |",
                x.label(arch),
                z.correlation,
                z.scale,
                z.relative_error,
                x.taylor_mean.report.correlation,
                x.taylor_mean.report.scale,
                z.rms(1),
                z.rms(2),
                z.rms(3),
            );
        }
        md += "<!-- ANCHOR_END: taylor -->\n";
    } else {
        md += "<!-- ANCHOR: moebius -->\n";
        md += "| best of arch | 3-body corr(J_learned, J) | ‖J_learned − J‖/‖J‖ | RMS 1-body | RMS 2-body | RMS 3-body | RMS ≥4-body (max) |\n";
        md += "|---|---|---|---|---|---|---|\n";
        let mut routes = String::from(
            "<!-- ANCHOR: routes -->\n| best of arch | route | corr(J_learned, J) | scale | ‖J_learned − J‖/‖J‖ |\n|---|---|---|---|---|\n",
        );
        for (arch, x) in r.readouts() {
            let label = x.label(arch);
            let (m, walsh, between) = x.moebius()?;
            let higher = m
                .rms_by_order
                .iter()
                .filter(|o| o.0 >= 4)
                .map(|o| o.1 .0)
                .fold(0.0, f64::max);
            let _ = writeln!(
                md,
                "| {label} | {:.4} | {:.4} | {:.3} | {:.3} | {:.3} | {:.3} |",
                m.correlation,
                m.relative_error,
                m.rms(1),
                m.rms(2),
                m.rms(3),
                higher
            );
            for (route, c) in [
                ("Möbius (exact, s = 0)", m),
                ("Taylor at s = 0", &x.taylor_zero.report),
                ("Walsh (exact, s = ½)", walsh),
                ("Taylor at the mean", &x.taylor_mean.report),
            ] {
                let _ = writeln!(
                    routes,
                    "| {label} | {route} | {:.4} | {:.3} | {:.4} |",
                    c.correlation, c.scale, c.relative_error,
                );
            }
            let (d2, d3) = x.taylor_mean.repeated();
            let _ = writeln!(
                routes,
                "| {label} | corr(Walsh, Taylor at the mean); RMS repeated-index degree 2 / 3 (at the mean) | {between:.4} | {d2:.3} / {d3:.3} | |",
            );
        }
        md += "<!-- ANCHOR_END: moebius -->\n\n";
        md += &routes;
        md += "<!-- ANCHOR_END: routes -->\n";
    }
    Ok(md)
}

/// The Markdown table of the test errors, closed by the predict-the-mean baseline. On continuous
/// spins |mean E| ≈ 0, so the relative error is left out and the RMSE reported, as in the paper
/// (theory note §3.2).
fn results_table(rows: &[Row], continuous: bool) -> Result<String> {
    let mut md = String::new();
    let m0 = &rows
        .first()
        .ok_or_else(|| Error::invalid("the report has no trained network", "rows is empty"))?
        .test;
    // RMSE/std(E) of the mean predictor: the test std is RMSE / (RMSE/std) of any row.
    let mean_over_std = m0.mean_rmse / (m0.rmse / m0.rmse_over_std);
    if continuous {
        md += "| arch | M | n | parameters | test RMSE | RMSE/std(E) | train s |\n";
        md += "|---|---|---|---|---|---|---|\n";
        for r in rows {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {:.4} | {:.4} | {:.0} |",
                r.arch,
                r.width,
                r.depth,
                r.parameters,
                r.test.rmse,
                r.test.rmse_over_std,
                r.seconds
            );
        }
        let _ = writeln!(
            md,
            "| mean predictor | – | – | 1 | {:.4} | {:.4} | – |",
            m0.mean_rmse, mean_over_std
        );
    } else {
        md += "| arch | M | n | parameters | rel. error √MSE/|mean E| | RMSE | RMSE/std(E) | train s |\n";
        md += "|---|---|---|---|---|---|---|---|\n";
        for r in rows {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {:.4} | {:.3} | {:.4} | {:.0} |",
                r.arch,
                r.width,
                r.depth,
                r.parameters,
                r.test.relative,
                r.test.rmse,
                r.test.rmse_over_std,
                r.seconds
            );
        }
        let _ = writeln!(
            md,
            "| mean predictor | – | – | 1 | {:.4} | {:.3} | {:.4} | – |",
            m0.mean_relative, m0.mean_rmse, mean_over_std
        );
    }
    Ok(md)
}

#[derive(Deserialize)]
struct TransferSettings {
    train_size: usize,
    test_samples: usize,
}

#[derive(Deserialize)]
struct TransferRow {
    n: usize,
    metrics: Metrics,
    ed_seconds: f64,
    efnn_seconds: f64,
}

#[derive(Deserialize)]
struct Transfer {
    settings: TransferSettings,
    rows: Vec<TransferRow>,
}

/// An `efnn-transfer` report's output: `table` (`transfer.md`) or `error-vs-size`.
pub fn transfer(report: &serde_json::Value, output: &str) -> Result<String> {
    let r: Transfer = view(report, "efnn-transfer")?;
    match output {
        "table" => {
            let mut md = String::from("| N | samples | rel. error | mean-predictor rel. error | RMSE per site | RMSE/std(E) | ED s/config | EFNN s/config |\n|---|---|---|---|---|---|---|---|\n");
            for row in &r.rows {
                let m = &row.metrics;
                let _ = writeln!(
                    md,
                    "| {} | {} | {:.2e} | {:.2e} | {:.2e} | {:.3} | {:.2e} | {:.2e} |",
                    row.n,
                    r.settings.test_samples,
                    m.relative,
                    m.mean_relative,
                    m.rmse_per_site,
                    m.rmse_over_std,
                    row.ed_seconds,
                    row.efnn_seconds
                );
            }
            Ok(md)
        }
        "error-vs-size" => {
            let get = |f: &dyn Fn(&Metrics) -> f64| -> Vec<(f64, f64)> {
                r.rows.iter().map(|x| (x.n as f64, f(&x.metrics))).collect()
            };
            plots::lines_svg(
                &format!(
                    "double exchange: EFNN trained at N={}, evaluated at N",
                    r.settings.train_size
                ),
                "N",
                "error",
                &[
                    ("EFNN √MSE/|mean E|".into(), get(&|m| m.relative)),
                    (
                        "mean predictor √MSE/|mean E|".into(),
                        get(&|m| m.mean_relative),
                    ),
                    ("EFNN RMSE/std(E)".into(), get(&|m| m.rmse_over_std)),
                    ("EFNN RMSE per site".into(), get(&|m| m.rmse_per_site)),
                ],
            )
        }
        _ => Err(unknown(Kind::EfnnTransfer, output)),
    }
}

/// An `efnn-scale` report's output: `table` (`scale.md`) or `error-vs-size`, drawn by the
/// study's own [`crate::efnn::scale::markdown`] and [`crate::efnn::scale::figure`].
pub fn scale(report: &serde_json::Value, output: &str) -> Result<String> {
    let r: crate::efnn::scale::ScaleReport = view(report, "efnn-scale")?;
    match output {
        "table" => Ok(crate::efnn::scale::markdown(&r)),
        "error-vs-size" => crate::efnn::scale::figure(&r),
        _ => Err(unknown(Kind::EfnnScale, output)),
    }
}

/// One column of an `efnn-runs` index: a label and the run's reports (paths relative to the
/// index; `train` may be absent where the training log was not kept).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunColumn {
    label: String,
    #[serde(default)]
    train: Option<String>,
    eval: String,
    couplings: String,
}

/// An `efnn-runs` index (its `kind` and `comment` are for the reader and the manifest).
#[derive(Deserialize)]
struct RunsIndex {
    columns: Vec<RunColumn>,
}

/// What the table reads from `feynn train --format json`.
#[derive(Deserialize)]
struct TrainLog {
    best_epoch: usize,
    epochs_run: usize,
    seconds: f64,
}

/// What the table reads from `feynn efnn eval --format json`.
#[derive(Deserialize)]
struct EvalLog {
    relative: f64,
    rmse: f64,
    rmse_over_std: f64,
}

/// One readout route of `feynn efnn couplings --format json`.
#[derive(Deserialize, Clone, Copy)]
struct RouteLog {
    correlation: f64,
    relative_error: f64,
}

/// `efnn couplings --route all` (three routes) or one route (`--route taylor`, the only one for
/// continuous spins): the routes it does not have are drawn as "–".
#[derive(Deserialize)]
struct CouplingsLog {
    mobius: Option<RouteLog>,
    walsh: Option<RouteLog>,
    taylor: Option<RouteLog>,
    route: Option<String>,
    #[serde(flatten)]
    single: Option<RouteLog>,
}

impl CouplingsLog {
    /// Möbius, Walsh, Taylor, each if present.
    fn routes(self) -> [Option<RouteLog>; 3] {
        let single = |name: &str| match (&self.route, &self.single) {
            (Some(r), Some(l)) if r == name => Some(*l),
            _ => None,
        };
        let (m, w, t) = (single("mobius"), single("walsh"), single("taylor"));
        [self.mobius.or(m), self.walsh.or(w), self.taylor.or(t)]
    }
}

fn read_json<T: serde::de::DeserializeOwned>(dir: &std::path::Path, file: &str) -> Result<T> {
    let path = dir.join(file);
    let value = super::read_report(&path)?;
    T::deserialize(&value).map_err(|e| {
        Error::invalid(
            format!("{}: {e}", path.display()),
            "an efnn-runs column names the JSON reports of feynn train, efnn eval and efnn couplings",
        )
    })
}

/// `v` as m·10ᵉ with three significant digits: `1.32·10⁻²`.
fn dot_sci(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let e = v.abs().log10().floor() as i32;
    let m = v / 10f64.powi(e);
    // rounding can carry the mantissa to 10.0
    let (m, e) = if format!("{m:.2}").trim_start_matches('-').starts_with("10") {
        (m / 10.0, e + 1)
    } else {
        (m, e)
    };
    const SUP: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let digits: String = e
        .unsigned_abs()
        .to_string()
        .chars()
        .map(|c| SUP[c.to_digit(10).expect("a digit") as usize])
        .collect();
    let sign = if e < 0 { "⁻" } else { "" };
    format!("{m:.2}·10{sign}{digits}").replace('-', "−")
}

/// An `efnn-runs` index's output: `table` (the runs side by side: the test errors, the training
/// log and the three-body couplings read by the three routes).
pub fn runs(report: &serde_json::Value, dir: &std::path::Path, output: &str) -> Result<String> {
    if output != "table" {
        return Err(unknown(Kind::EfnnRuns, output));
    }
    let index: RunsIndex = view(report, "efnn-runs")?;
    if index.columns.is_empty() {
        return Err(Error::invalid(
            "the index has no columns",
            "an efnn-runs index lists at least one run",
        ));
    }
    let mut rows: Vec<(String, Vec<String>)> = [
        "relative error √MSE/\\|mean E\\|",
        "test RMSE",
        "RMSE/std(E)",
        "best epoch (by training loss) / epochs run",
        "training time (wall)",
        "3-body corr(J_learned, J): Möbius / Walsh / Taylor at mean",
        "‖J_learned − J‖/‖J‖: Möbius / Walsh / Taylor at mean",
    ]
    .iter()
    .map(|r| (r.to_string(), vec![]))
    .collect();
    for c in &index.columns {
        let eval: EvalLog = read_json(dir, &c.eval)?;
        let couplings: CouplingsLog = read_json(dir, &c.couplings)?;
        let train: Option<TrainLog> = c.train.as_deref().map(|t| read_json(dir, t)).transpose()?;
        let routes = couplings.routes();
        let per_route = |f: &dyn Fn(&RouteLog) -> String| {
            routes
                .iter()
                .map(|r| r.as_ref().map_or("–".into(), f))
                .collect::<Vec<_>>()
                .join(" / ")
        };
        let cells = [
            dot_sci(eval.relative),
            format!("{:.3}", eval.rmse),
            format!("{:.4}", eval.rmse_over_std),
            train.as_ref().map_or("–".into(), |t| {
                format!("{} / {}", t.best_epoch, t.epochs_run)
            }),
            train
                .as_ref()
                .map_or("–".into(), |t| format!("{:.0} s", t.seconds)),
            per_route(&|r| format!("{:.4}", r.correlation)),
            per_route(&|r| format!("{:.3}", r.relative_error)),
        ];
        for (row, cell) in rows.iter_mut().zip(cells) {
            row.1.push(cell);
        }
    }
    let mut out = String::new();
    let labels: Vec<&str> = index.columns.iter().map(|c| c.label.as_str()).collect();
    let _ = writeln!(out, "| quantity | {} |", labels.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(labels.len()));
    for (name, cells) in rows {
        let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
    }
    Ok(out)
}

#[cfg(test)]
mod runs_tests {
    use super::{dot_sci, CouplingsLog};

    #[test]
    fn couplings_of_all_routes_or_one() {
        let r = |c: f64| serde_json::json!({"correlation": c, "relative_error": 1.0 - c});
        let all: CouplingsLog = serde_json::from_value(
            serde_json::json!({"mobius": r(0.1), "walsh": r(0.2), "taylor": r(0.3)}),
        )
        .unwrap();
        let got = all.routes().map(|x| x.map(|l| l.correlation));
        assert_eq!(got, [Some(0.1), Some(0.2), Some(0.3)]);
        let mut one = r(0.9);
        one["route"] = "taylor".into();
        one["learned"] = serde_json::json!([1.0, 2.0]);
        let one: CouplingsLog = serde_json::from_value(one).unwrap();
        let got = one.routes().map(|x| x.map(|l| l.correlation));
        assert_eq!(got, [None, None, Some(0.9)]);
    }

    #[test]
    fn dot_sci_writes_three_digits_and_superscripts() {
        assert_eq!(dot_sci(0.01318), "1.32·10⁻²");
        assert_eq!(dot_sci(0.0014589), "1.46·10⁻³");
        assert_eq!(dot_sci(0.009996), "1.00·10⁻²");
        assert_eq!(dot_sci(123.4), "1.23·10²");
        assert_eq!(dot_sci(-0.5), "−5.00·10⁻¹");
    }
}
