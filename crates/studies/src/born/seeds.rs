//! The Born study over several seeds (issue 17): the claims of one run ("H₂ closer to −2K than
//! H₁") lie inside the scatter of network initialisations and data splits, so `feynn born
//! iterate --seeds K` repeats the run with seeds s, s+1, …, s+K−1 and reports mean, standard
//! deviation and standard error of each error, and whether H₁ − H₂ > 0 holds with significance
//! (paired over seeds: mean difference more than three standard errors above zero).

use serde::Serialize;

use super::iterate::{iterate, IterateReport, IterateSettings};
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
#[derive(Debug, Clone, Serialize)]
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
    Ok(SeedsReport {
        settings: s.clone(),
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
        seconds: t0.elapsed().as_secs_f64(),
    })
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
