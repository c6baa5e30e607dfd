//! The Born study over several seeds (issue 17): the claims of one run ("H₂ closer to −2K than
//! H₁") lie inside the scatter of network initialisations and data splits, so `feynn born
//! iterate --seeds K` repeats the run with seeds s, s+1, …, s+K−1 and reports mean, standard
//! deviation and standard error of each error, and whether H₁ − H₂ > 0 holds with significance
//! (paired over seeds: mean difference more than three standard errors above zero).

use serde::Serialize;

use super::iterate::{default_patience, iterate, IterateReport, IterateSettings};
use crate::data::Dataset;
use crate::provenance::Provenance;
use feynn::error::{Error, Result};

/// Mean, sample standard deviation and standard error of the mean of K values.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Sample standard deviation (K − 1 in the denominator; 0 for one value).
    pub std: f64,
    /// Standard error of the mean, std/√K.
    pub se: f64,
}

impl Summary {
    /// The summary of `values` (at least one).
    pub fn of(values: &[f64]) -> Summary {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        Summary {
            n,
            mean,
            std: var.sqrt(),
            se: var.sqrt() / (n as f64).sqrt(),
        }
    }
}

/// The figures of one seed's run.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SeedRow {
    /// The seed (network initialisation, data split, minibatches).
    pub seed: u64,
    /// ‖∇y₁ − g‖/‖g‖ after iteration 1.
    pub gradient_error: f64,
    /// ‖H₁ − (−2K)‖/‖2K‖: network 1's Hessian (not meant to learn it).
    pub h1: f64,
    /// ‖H₂ − (−2K)‖/‖2K‖: network 2's Hessian (meant to learn the second Born term).
    pub h2: Option<f64>,
    /// Network 3's third-order error, with three iterations.
    pub third_order: Option<f64>,
    /// Held-out RMS error of the proxy vs exact a₀, and of the first Born term.
    pub proxy_vs_a0: f64,
    /// Held-out RMS error of the first Born term vs exact a₀.
    pub born1_vs_a0: f64,
    /// Wall time of the run.
    pub seconds: f64,
}

impl SeedRow {
    fn of(seed: u64, r: &IterateReport) -> SeedRow {
        SeedRow {
            seed,
            gradient_error: r.stages[0].gradient_error,
            h1: r.stages[0].hessian_error,
            h2: r.stages.get(1).map(|s| s.hessian_error),
            third_order: r.stages.get(2).and_then(|s| s.third_order_error),
            proxy_vs_a0: r.heldout.proxy_vs_a0,
            born1_vs_a0: r.heldout.born1_vs_a0,
            seconds: r.seconds,
        }
    }
}

/// The report of a multi-seed run.
#[derive(Debug, Clone, Serialize)]
pub struct SeedsReport {
    /// The settings (the `seed` field is the first seed).
    pub settings: IterateSettings,
    /// The settings of the data file (`feynn born data`: samples, depth, `both_signs`, seed…);
    /// null when the file records none.
    pub data: serde_json::Value,
    /// Training potentials of each run.
    pub train_samples: usize,
    /// One row per seed.
    pub runs: Vec<SeedRow>,
    /// Over the seeds: gradient error, H₁, H₂, H₁ − H₂ (paired), third order, proxy.
    pub gradient_error: Summary,
    /// H₁ over the seeds.
    pub h1: Summary,
    /// H₂ over the seeds (with two or more iterations).
    pub h2: Option<Summary>,
    /// H₁ − H₂ per seed, summarised.
    pub h1_minus_h2: Option<Summary>,
    /// (mean of H₁ − H₂) / its standard error.
    pub t_statistic: Option<f64>,
    /// H₁ − H₂ > 3 standard errors (and at least two seeds).
    pub h2_better_significant: bool,
    /// The third-order error over the seeds (three iterations).
    pub third_order: Option<Summary>,
    /// The proxy's held-out error vs exact a₀ over the seeds.
    pub proxy_vs_a0: Summary,
    /// Version, machine and start time.
    pub provenance: Provenance,
    /// Wall time of all runs.
    pub seconds: f64,
}

/// Run [`iterate`] for `seeds` consecutive seeds from `s.seed` and summarise.
pub fn iterate_seeds(
    data: &Dataset,
    range: f64,
    s: &IterateSettings,
    seeds: usize,
    log: &dyn Fn(&str),
) -> Result<SeedsReport> {
    if seeds == 0 || seeds > 10_000 {
        return Err(Error::invalid(
            format!("--seeds {seeds} is out of range"),
            "use 1 ≤ K ≤ 10000",
        ));
    }
    let provenance = Provenance::now();
    let t0 = std::time::Instant::now();
    let mut runs = Vec::with_capacity(seeds);
    let mut train_samples = 0;
    for k in 0..seeds as u64 {
        let seed = s.seed.wrapping_add(k);
        let mut sk = s.clone();
        sk.seed = seed;
        sk.train.seed = seed;
        log(&format!("seed {seed} ({} of {seeds})", k + 1));
        let r = iterate(data, range, &sk, log)?;
        train_samples = r.train_samples;
        runs.push(SeedRow::of(seed, &r));
    }
    Ok(summarise(
        s.clone(),
        data_settings(data),
        train_samples,
        runs,
        provenance,
        t0.elapsed().as_secs_f64(),
    ))
}

/// The settings recorded in a data file's metadata (null if none).
pub fn data_settings(data: &Dataset) -> serde_json::Value {
    data.metadata
        .as_deref()
        .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
        .map_or(serde_json::Value::Null, |m| m["settings"].clone())
}

/// The report of `runs` (one row per seed): every summary and the significance test.
fn summarise(
    settings: IterateSettings,
    data: serde_json::Value,
    train_samples: usize,
    runs: Vec<SeedRow>,
    provenance: Provenance,
    seconds: f64,
) -> SeedsReport {
    let col = |f: &dyn Fn(&SeedRow) -> Option<f64>| -> Option<Summary> {
        let v: Vec<f64> = runs.iter().filter_map(f).collect();
        (v.len() == runs.len()).then(|| Summary::of(&v))
    };
    let h1_minus_h2 = col(&|r| r.h2.map(|h2| r.h1 - h2));
    let t_statistic = h1_minus_h2.filter(|d| d.n > 1).map(|d| {
        if d.se > 0.0 {
            d.mean / d.se
        } else {
            f64::INFINITY * d.mean.signum()
        }
    });
    SeedsReport {
        settings,
        data,
        train_samples,
        gradient_error: col(&|r| Some(r.gradient_error)).expect("every run"),
        h1: col(&|r| Some(r.h1)).expect("every run"),
        h2: col(&|r| r.h2),
        h1_minus_h2,
        t_statistic,
        h2_better_significant: t_statistic.is_some_and(|t| t > 3.0),
        third_order: col(&|r| r.third_order),
        proxy_vs_a0: col(&|r| Some(r.proxy_vs_a0)).expect("every run"),
        runs,
        provenance,
        seconds,
    }
}

/// Merge the `seeds.json` reports of runs made in separate processes (e.g. seeds 1–5 and 6–10
/// on the two cores) into one report, as if one `--seeds` run had made them: the runs are
/// concatenated in seed order and every summary is computed again. `settings` are this
/// invocation's and `data` its data file; every file must have been made with the same settings
/// (all but the first seed), the same data (where the file records it) and the same number of
/// training potentials, and no seed may appear twice.
pub fn merge_seeds(
    settings: &IterateSettings,
    data: &Dataset,
    files: &[std::path::PathBuf],
) -> Result<SeedsReport> {
    let data = data_settings(data);
    let bad = |f: &std::path::Path, m: String| {
        Error::invalid(
            format!("{}: {m}", f.display()),
            "give seeds.json files of `feynn born iterate --seeds K --out-dir DIR` made with the settings of this command",
        )
    };
    let mut want = serde_json::to_value(settings).expect("settings serialise");
    want["seed"] = serde_json::Value::Null;
    let (mut runs, mut train, mut seconds) = (Vec::new(), None, 0.0);
    let mut provenance = None;
    for f in files {
        let v = crate::reports::read_report(f)?;
        let mut got = v["settings"].clone();
        got["seed"] = serde_json::Value::Null;
        // files from before the patience was recorded were made with the default
        if got.get("patience").is_none() {
            if let Some(epochs) = got["epochs"].as_u64() {
                got["patience"] = default_patience(epochs as usize).into();
            }
        }
        if got != want {
            return Err(bad(
                f,
                "made with other settings than this command's".into(),
            ));
        }
        if !v["data"].is_null() && v["data"] != data {
            return Err(bad(f, "made on another data file than --data".into()));
        }
        let n = v["train_samples"].as_u64().map(|n| n as usize);
        if n.is_none() || (train.is_some() && train != n) {
            return Err(bad(
                f,
                "a different or missing number of training potentials".into(),
            ));
        }
        train = n;
        let rows: Vec<SeedRow> = serde_json::from_value(v["runs"].clone())
            .map_err(|e| bad(f, format!("no runs: {e}")))?;
        seconds += v["seconds"].as_f64().unwrap_or(0.0);
        if provenance.is_none() {
            provenance = serde_json::from_value(v["provenance"].clone()).ok();
        }
        runs.extend(rows);
    }
    runs.sort_by_key(|r| r.seed);
    if runs.is_empty() {
        return Err(Error::invalid(
            "no runs to merge",
            "give one or more seeds.json files",
        ));
    }
    if runs.windows(2).any(|w| w[0].seed == w[1].seed) {
        return Err(Error::invalid(
            "a seed appears in more than one file",
            "merge runs of disjoint seeds (--seed 1 --seeds 5 and --seed 6 --seeds 5)",
        ));
    }
    let mut settings = settings.clone();
    settings.seed = runs[0].seed;
    Ok(summarise(
        settings,
        data,
        train.unwrap_or(0),
        runs,
        provenance.unwrap_or_else(Provenance::now),
        seconds,
    ))
}

/// The report as text: one row per seed, then mean ± std (± standard error) and the verdict.
pub fn seeds_table(r: &SeedsReport) -> String {
    let opt = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.4}"));
    let mut s = format!(
        "Born study over {} seeds (from {}): {} training potentials each; hidden {:?} {}; subtract {:?}; {:.0} s\n\n",
        r.runs.len(),
        r.settings.seed,
        r.train_samples,
        r.settings.hidden,
        r.settings.activation,
        r.settings.subtract,
        r.seconds
    );
    s += "| seed | ‖∇y−g‖/‖g‖ | H₁ error | H₂ error | 3rd order | proxy vs a0 | a0(1) vs a0 | s |\n|---|---|---|---|---|---|---|---|\n";
    for row in &r.runs {
        s += &format!(
            "| {} | {:.4} | {:.4} | {} | {} | {:.3e} | {:.3e} | {:.0} |\n",
            row.seed,
            row.gradient_error,
            row.h1,
            opt(row.h2),
            opt(row.third_order),
            row.proxy_vs_a0,
            row.born1_vs_a0,
            row.seconds
        );
    }
    let line = |name: &str, m: &Summary| {
        format!(
            "{name}: {:.4} ± {:.4} (standard error {:.4}, {} seeds)\n",
            m.mean, m.std, m.se, m.n
        )
    };
    s += "\n";
    s += &line("gradient error", &r.gradient_error);
    s += &line("H₁ error", &r.h1);
    if let Some(h2) = &r.h2 {
        s += &line("H₂ error", h2);
    }
    if let Some(d) = &r.h1_minus_h2 {
        s += &line("H₁ − H₂ (paired)", d);
    }
    if let Some(t) = &r.third_order {
        s += &line("third-order error", t);
    }
    s += &line("proxy vs a0 (held out)", &r.proxy_vs_a0);
    s += &match r.t_statistic {
        Some(t) => format!(
            "H₂ closer to −2K than H₁ with significance (mean difference > 3 standard errors): {} (t = {t:.2})\n",
            if r.h2_better_significant { "yes" } else { "NO" }
        ),
        None => "H₂ closer to −2K than H₁ with significance: not testable (needs ≥ 2 seeds and ≥ 2 iterations)\n".into(),
    };
    s
}

/// Write `seeds.json` (the report) into `dir`, creating it.
pub fn write_seeds(dir: &std::path::Path, r: &SeedsReport) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        path: dir.display().to_string(),
        source: e,
    })?;
    let p = dir.join("seeds.json");
    let json = serde_json::to_string_pretty(r).expect("numbers and strings") + "\n";
    std::fs::write(&p, json).map_err(|e| Error::Write {
        path: p.display().to_string(),
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> IterateSettings {
        IterateSettings {
            iterations: 2,
            subtract: super::super::iterate::Subtract::Learned,
            hidden: vec![16, 16],
            activation: "tanh".into(),
            test_fraction: 0.1,
            train: crate::train::Config::default(),
            epochs: 1500,
            batch: 128,
            lr: 1e-2,
            lr_end: 1e-4,
            weight_decay: 1e-2,
            residual_weight_decay: 1e-2,
            patience: 385,
            seed: 1,
            gradient_tolerance: 0.1,
        }
    }

    fn data(both: bool) -> Dataset {
        Dataset {
            inputs: ndarray::Array2::zeros((1, 1)),
            targets: ndarray::Array1::zeros(1),
            extra: Default::default(),
            metadata: Some(
                serde_json::json!({"settings": {"samples": 1, "both_signs": both}}).to_string(),
            ),
        }
    }

    fn row(seed: u64, h1: f64, h2: f64) -> SeedRow {
        SeedRow {
            seed,
            gradient_error: 0.01 * seed as f64,
            h1,
            h2: Some(h2),
            third_order: None,
            proxy_vs_a0: 0.1,
            born1_vs_a0: 0.2,
            seconds: 10.0,
        }
    }

    fn write(
        dir: &std::path::Path,
        name: &str,
        s: &IterateSettings,
        rows: Vec<SeedRow>,
    ) -> std::path::PathBuf {
        let r = summarise(
            s.clone(),
            data_settings(&data(true)),
            100,
            rows,
            Provenance::now(),
            10.0,
        );
        let sub = dir.join(name);
        write_seeds(&sub, &r).unwrap();
        sub.join("seeds.json")
    }

    #[test]
    fn merged_reports_equal_one_run_over_all_seeds() {
        let dir = tempfile::tempdir().unwrap();
        let rows_a = vec![row(1, 0.5, 0.2), row(2, 0.6, 0.25), row(3, 0.4, 0.3)];
        let rows_b = vec![row(4, 0.55, 0.2), row(5, 0.45, 0.22)];
        let mut sb = settings();
        sb.seed = 4;
        let a = write(dir.path(), "a", &settings(), rows_a.clone());
        let b = write(dir.path(), "b", &sb, rows_b.clone());
        // in either order, the merge is the report of all five rows
        let m = merge_seeds(&settings(), &data(true), &[b.clone(), a.clone()]).unwrap();
        let all: Vec<SeedRow> = rows_a.into_iter().chain(rows_b).collect();
        let d: Vec<f64> = all.iter().map(|r| r.h1 - r.h2.unwrap()).collect();
        let mean = d.iter().sum::<f64>() / 5.0;
        let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
        assert_eq!(
            m.runs.iter().map(|r| r.seed).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(m.settings.seed, 1);
        let t = m.t_statistic.unwrap();
        assert!((t - mean / (sd / 5f64.sqrt())).abs() < 1e-12, "{t}");
        assert_eq!(m.h2_better_significant, t > 3.0);
        assert!((m.h2.unwrap().mean - 0.234).abs() < 1e-12);
        assert_eq!(m.seconds, 20.0);
        // other settings, other data, a seed twice: refused
        let mut other = settings();
        other.epochs = 10;
        let e = merge_seeds(&other, &data(true), &[a.clone()]).unwrap_err();
        assert!(e.to_string().contains("other settings"), "{e}");
        let e = merge_seeds(&settings(), &data(false), &[a.clone()]).unwrap_err();
        assert!(e.to_string().contains("another data file"), "{e}");
        let e = merge_seeds(&settings(), &data(true), &[a.clone(), a]).unwrap_err();
        assert!(e.to_string().contains("more than one file"), "{e}");
        let e = merge_seeds(&settings(), &data(true), &[dir.path().join("nope.json")]);
        assert!(e.is_err());
    }

    /// A seeds.json from before the patience was recorded merges with a run at the default
    /// patience (what it was made with), not with one at another patience.
    #[test]
    fn files_without_the_patience_were_made_with_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let old = write(dir.path(), "old", &settings(), vec![row(1, 0.5, 0.2)]);
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&old).unwrap()).unwrap();
        v["settings"].as_object_mut().unwrap().remove("patience");
        std::fs::write(&old, v.to_string()).unwrap();
        assert_eq!(settings().patience, default_patience(settings().epochs));
        merge_seeds(&settings(), &data(true), std::slice::from_ref(&old)).unwrap();
        let mut longer = settings();
        longer.patience = longer.epochs;
        let e = merge_seeds(&longer, &data(true), &[old]).unwrap_err();
        assert!(e.to_string().contains("other settings"), "{e}");
    }
}
