//! `feynn theory sample | learn | sweep | grid`: learning interacting lattice theories with
//! invertible networks (issues 7 and 17).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use feynn::{Error, Result};
use feynn_studies::physics::lattice::{parse_shape, LatticeTheory};
use feynn_studies::physics::mcmc::HmcConfig;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// Sample a φ³+φ⁴ lattice theory by HMC (acceptance, autocorrelation time, ESS) into .npz.
    Sample(SampleArgs),
    /// Sample (or read) data, train an INN by maximum likelihood, read back its action at the data
    /// mean and compare it with the true action; compare cumulants κ1–κ3 of model and data.
    Learn(LearnArgs),
    /// The depth × sample-count sweep: errors of the learned action in a heat map.
    Sweep(SweepArgs),
    /// The broad unimodal class: coupling sets × lattices × seeds × depths, learned vs true
    /// couplings with the seeds' spread (grid.json, grid.md, grid-couplings.svg).
    Grid(GridArgs),
}

/// The theory: a preset, optionally with couplings overridden.
#[derive(clap::Args, Clone)]
pub struct TheoryArgs {
    /// unimodal (m²=1, κ=0.5, g=0.8, λ=1.2), bimodal (m²=−1, κ=0.2, g=0, λ=3) or gaussian
    /// (m²=1, κ=0.5, g=λ=0).
    #[arg(long, default_value = "unimodal")]
    pub theory: String,
    /// Lattice: `L` (periodic ring) or `LXxLY` (torus).
    #[arg(long, default_value = "8")]
    pub lattice: String,
    #[arg(long, allow_hyphen_values = true)]
    pub m2: Option<f64>,
    #[arg(long, allow_hyphen_values = true)]
    pub kappa: Option<f64>,
    #[arg(long, allow_hyphen_values = true)]
    pub g: Option<f64>,
    #[arg(long, allow_hyphen_values = true)]
    pub lambda: Option<f64>,
}

impl TheoryArgs {
    fn theory(&self) -> Result<LatticeTheory> {
        let p = feynn_studies::theory::preset(&self.theory, parse_shape(&self.lattice)?)?;
        LatticeTheory::new(
            p.shape,
            self.m2.unwrap_or(p.m2),
            self.kappa.unwrap_or(p.kappa),
            self.g.unwrap_or(p.g),
            self.lambda.unwrap_or(p.lambda),
        )
    }
    #[cfg(feature = "train")]
    fn overridden(&self) -> bool {
        self.m2.is_some() || self.kappa.is_some() || self.g.is_some() || self.lambda.is_some()
    }
}

/// Sampler settings.
#[derive(clap::Args, Clone)]
pub struct HmcArgs {
    /// Warm-up iterations (step size and mass adaptation).
    #[arg(long, default_value_t = 1000)]
    pub warmup: usize,
    /// Keep every THIN-th iteration (default: ⌈τ_int⌉ from a pilot run).
    #[arg(long)]
    pub thin: Option<usize>,
    /// Target acceptance rate of the step-size adaptation.
    #[arg(long, default_value_t = 0.8)]
    pub target_accept: f64,
}

impl HmcArgs {
    fn config(&self, samples: usize, seed: u64, progress: bool) -> HmcConfig {
        HmcConfig {
            samples,
            warmup: self.warmup,
            thin: self.thin,
            target_accept: self.target_accept,
            seed,
            progress,
            ..HmcConfig::default()
        }
    }
}

#[derive(clap::Args)]
pub struct SampleArgs {
    #[command(flatten)]
    pub theory: TheoryArgs,
    #[command(flatten)]
    pub hmc: HmcArgs,
    /// Samples to write (after thinning).
    #[arg(short = 'n', long, default_value_t = 10000)]
    pub samples: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The .npz file to write (inputs = samples, targets = S, metadata = theory + diagnostics).
    #[arg(short = 'o', long = "output", default_value = "theory-samples.npz")]
    pub output: PathBuf,
    /// The rendering of the sampler diagnostics on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::born::ReportFormat,
    /// Old spelling: write the sampler diagnostics as JSON to FILE.
    #[arg(long, value_name = "FILE", hide = true)]
    pub json: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Number of layers of the INN.
    #[arg(long, default_value_t = 2)]
    pub depth: usize,
    /// Layer nonlinearity: quad (h + αh², the paper's; invertible on a branch) or cubic
    /// (h + αh² + βh³ with α² < 3β: invertible everywhere).
    #[arg(long, value_enum, default_value = "cubic")]
    pub layer: LayerArg,
    /// Maximum epochs (default 300, quick 100).
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    #[arg(long, default_value_t = 1e-2)]
    pub lr: f64,
    #[arg(long, default_value_t = 1e-4)]
    pub weight_decay: f64,
    /// Early-stopping patience in epochs (default: epochs/2 + 10; the held-out likelihood is noisy).
    #[arg(long)]
    pub patience: Option<usize>,
    /// Weight of the invertible-branch penalty.
    #[arg(long, default_value_t = 10.0)]
    pub branch_penalty: f64,
    /// Points drawn from the trained model for its cumulants.
    #[arg(long, default_value_t = 100_000)]
    pub model_samples: usize,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum LayerArg {
    Quad,
    Cubic,
}

#[derive(clap::Args)]
pub struct LearnArgs {
    #[command(flatten)]
    pub theory: TheoryArgs,
    #[command(flatten)]
    pub hmc: HmcArgs,
    #[command(flatten)]
    pub train: TrainArgs,
    /// Samples of `feynn theory sample` (its theory is used unless couplings are given here);
    /// without it the theory is sampled first.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Samples to draw (without --data); with --data, use at most this many.
    #[arg(short = 'n', long)]
    pub samples: Option<usize>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write learn.json, the figures and the learned network (learned.fnn, .safetensors) here.
    #[arg(long = "out-dir", alias = "out", value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A small, fast run (the tests use it): N = 4 ring, 4000 samples, 100 epochs.
    #[arg(long)]
    pub quick: bool,
    #[arg(long)]
    pub quiet: bool,
}

#[derive(clap::Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub theory: TheoryArgs,
    #[command(flatten)]
    pub hmc: HmcArgs,
    #[command(flatten)]
    pub train: TrainArgs,
    /// Network depths.
    #[arg(long, default_value = "1,2,4,8", value_delimiter = ',')]
    pub depths: Vec<usize>,
    /// Sample counts (nested subsets of one HMC run).
    #[arg(
        long = "sample-counts",
        default_value = "1000,10000,100000",
        value_delimiter = ','
    )]
    pub sample_counts: Vec<usize>,
    /// The first seed; `--seeds K` runs seeds SEED … SEED+K−1 (each its own HMC samples).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of seeds: every cell is trained K times and reported as mean ± sd.
    #[arg(long, default_value_t = 1)]
    pub seeds: u64,
    /// Train nothing: merge these sweep.json reports (e.g. one process per seed) into --out-dir.
    #[arg(long, value_delimiter = ',', value_name = "FILE,…")]
    pub merge: Vec<std::path::PathBuf>,
    /// Write sweep.json, sweep.md and the heat maps (of the seed means) here.
    #[arg(long = "out-dir", alias = "out", value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A small, fast run: N = 4 ring, depths 1,2, samples 1000,4000, 60 epochs.
    #[arg(long)]
    pub quick: bool,
    #[arg(long)]
    pub quiet: bool,
}

#[derive(clap::Args)]
pub struct GridArgs {
    #[command(flatten)]
    pub hmc: HmcArgs,
    #[command(flatten)]
    pub train: TrainArgs,
    /// Coupling sets `m2,kappa,g,lambda;…` (default: the `unimodal` preset and seven variations,
    /// three of them near the bimodal boundary; see the book).
    #[arg(long, allow_hyphen_values = true)]
    pub sets: Option<String>,
    /// Only these of the default sets, by name (comma-separated; `--sets` replaces them instead).
    #[arg(long, value_delimiter = ',', conflicts_with = "sets")]
    pub only: Vec<String>,
    /// Lattices: `L` (ring) or `LXxLY` (torus), comma-separated.
    #[arg(long, default_value = "8,4x4", value_delimiter = ',')]
    pub lattices: Vec<String>,
    /// Network depths.
    #[arg(long, default_value = "2,4", value_delimiter = ',')]
    pub depths: Vec<usize>,
    /// The first seed; seeds SEED … SEED+K−1 each draw their own HMC samples.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of seeds K.
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// HMC samples per (set, lattice, seed); 10 % are held out.
    #[arg(short = 'n', long, default_value_t = 20_000)]
    pub samples: usize,
    /// Write grid.json, grid.md and grid-couplings.svg here.
    #[arg(long = "out-dir", alias = "out", value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Train nothing: merge these grid.json reports (e.g. of parallel processes) into one.
    #[arg(long, value_delimiter = ',', value_name = "FILE,…")]
    pub merge: Vec<PathBuf>,
    /// A small, fast run (the tests use it): two sets, N = 4 ring, depth 1, two seeds, 2000
    /// samples, 40 epochs.
    #[arg(long)]
    pub quick: bool,
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    match a.command {
        Sub::Sample(s) => sample(s),
        Sub::Learn(l) => learn(l),
        Sub::Sweep(s) => sweep(s),
        Sub::Grid(g) => grid(g),
    }
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Write {
        path: path.display().to_string(),
        source: e,
    }
}

fn sample(a: SampleArgs) -> Result<ExitCode> {
    let t = a.theory.theory()?;
    let cfg = a.hmc.config(a.samples, a.seed, !a.quiet);
    let (x, d) = feynn_studies::theory::sample(&t, &cfg)?;
    feynn_studies::theory::write_samples(&a.output, &t, &x, &cfg, &d)?;
    eprintln!(
        "wrote {}: {} samples of the N = {} lattice theory m² = {}, κ = {}, g = {}, λ = {}",
        a.output.display(),
        x.nrows(),
        t.sites(),
        t.m2,
        t.kappa,
        t.g,
        t.lambda
    );
    crate::stdout_write(&match a.format {
        crate::born::ReportFormat::Text => d.text() + "\n",
        crate::born::ReportFormat::Json => serde_json::to_string_pretty(&d).unwrap() + "\n",
    })?;
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_string_pretty(&d).unwrap() + "\n")
            .map_err(write_error(p))?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "train"))]
fn learn(_: LearnArgs) -> Result<ExitCode> {
    Err(no_train())
}

#[cfg(not(feature = "train"))]
fn sweep(_: SweepArgs) -> Result<ExitCode> {
    Err(no_train())
}

#[cfg(not(feature = "train"))]
fn grid(_: GridArgs) -> Result<ExitCode> {
    Err(no_train())
}

#[cfg(not(feature = "train"))]
fn no_train() -> Error {
    Error::invalid(
        "this command trains networks, and this feynn was built without training",
        "build with `--features train`",
    )
}

#[cfg(feature = "train")]
fn learn_config(
    t: &TrainArgs,
    quick: bool,
    seed: u64,
    quiet: bool,
) -> feynn_studies::theory::study::LearnConfig {
    use feynn_studies::theory::{fit::LayerKind, study};
    let options = study::TrainOptions {
        depth: t.depth,
        kind: match t.layer {
            LayerArg::Quad => LayerKind::Quad,
            LayerArg::Cubic => LayerKind::Cubic,
        },
        epochs: t.epochs,
        batch: t.batch,
        lr: t.lr,
        weight_decay: t.weight_decay,
        patience: t.patience,
        branch_penalty: t.branch_penalty,
        model_samples: t.model_samples,
    };
    study::LearnConfig::new(&options, quick, seed, !quiet)
}

/// The theory and its samples: from --data, or sampled now (diagnostics on stderr).
#[cfg(feature = "train")]
fn obtain(
    theory: &TheoryArgs,
    hmc: &HmcArgs,
    data: Option<&Path>,
    samples: usize,
    seed: u64,
    quiet: bool,
) -> Result<(ndarray::Array2<f64>, Option<LatticeTheory>)> {
    let cfg = hmc.config(samples, seed, !quiet);
    let (x, t, d) =
        feynn_studies::theory::obtain(data, samples, theory.theory(), theory.overridden(), &cfg)?;
    if let (Some(d), false) = (d, quiet) {
        eprintln!("{}", d.text());
    }
    Ok((x, t))
}

#[cfg(feature = "train")]
fn learn(mut a: LearnArgs) -> Result<ExitCode> {
    use feynn_studies::theory::study;
    if a.quick && a.theory.lattice == "8" {
        a.theory.lattice = "4".into();
    }
    let samples = a.samples.unwrap_or(if a.quick { 4000 } else { 20_000 });
    let (x, theory) = obtain(
        &a.theory,
        &a.hmc,
        a.data.as_deref(),
        if a.data.is_some() {
            a.samples.unwrap_or(usize::MAX)
        } else {
            samples
        },
        a.seed,
        a.quiet,
    )?;
    let cfg = learn_config(&a.train, a.quick, a.seed, a.quiet);
    let (r, _inn, tensors) = study::learn(&x, theory.as_ref(), &cfg)?;
    let checks = feynn_studies::theory::study::checks(&r, a.quick);
    crate::stdout_write(&feynn_studies::theory::study::table(&r, &checks))?;
    if let Some(dir) = &a.out {
        feynn_studies::theory::artifacts::write_learn(dir, &r, &checks, &tensors, &cfg, x.ncols())?;
    }
    Ok(if checks.iter().all(|c| c.pass) {
        ExitCode::SUCCESS
    } else {
        eprintln!("not every check holds (see the table)");
        ExitCode::from(1)
    })
}

#[cfg(feature = "train")]
fn sweep(mut a: SweepArgs) -> Result<ExitCode> {
    if !a.merge.is_empty() {
        let dir = a.out.as_deref().ok_or_else(|| {
            Error::invalid(
                "--merge writes a report",
                "give --out-dir DIR for the merged sweep",
            )
        })?;
        let cells = feynn_studies::theory::artifacts::merge_sweeps(dir, &a.merge)?;
        crate::stdout_write(&feynn_studies::theory::artifacts::sweep_markdown(
            &feynn_studies::theory::artifacts::sweep_summary(&cells),
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    if a.quick {
        if a.theory.lattice == "8" {
            a.theory.lattice = "4".into();
        }
        if a.depths == [1, 2, 4, 8] {
            a.depths = vec![1, 2];
        }
        if a.sample_counts == [1000, 10000, 100000] {
            a.sample_counts = vec![1000, 4000];
        }
    }
    feynn_studies::theory::study::check_sweep(&a.depths, &a.sample_counts)?;
    if a.seeds == 0 {
        return Err(Error::invalid("--seeds 0", "give at least one seed"));
    }
    let max = a.sample_counts.iter().copied().max().unwrap_or(10);
    let mut t = a.train;
    if a.quick && t.epochs.is_none() {
        t.epochs = Some(60);
    }
    crate::stdout_write(
        "seed  depth  samples     A2 err   A3 err   A4 err  (g,λ) err   val NLL    time\n",
    )?;
    let mut cells = vec![];
    let mut sampled = None;
    for seed in a.seed..a.seed.saturating_add(a.seeds) {
        let (x, theory) = obtain(&a.theory, &a.hmc, None, max, seed, a.quiet)?;
        let theory = theory.expect("sampled");
        let cfg = learn_config(&t, a.quick, seed, a.quiet);
        cells.extend(feynn_studies::theory::study::sweep(
            &x,
            &theory,
            &a.depths,
            &a.sample_counts,
            &cfg,
            |c| {
                // a progress row: a closed pipe is ignored here, the artifacts still get written
                let _ = crate::stdout_write(&format!(
                    "{:>4} {:>6} {:>8} {:>10.4} {:>8.4} {:>8.4} {:>10.4} {:>9.4} {:>6.1}s\n",
                    c.seed, c.depth, c.samples, c.a2, c.a3, c.a4, c.couplings, c.val_nll, c.seconds
                ));
            },
        )?);
        sampled = Some((theory, x.nrows()));
    }
    let (theory, available) = sampled.expect("at least one seed");
    if a.seeds > 1 {
        crate::stdout_write(&format!(
            "\nmean ± sd over {} seeds:\n{}",
            a.seeds,
            feynn_studies::theory::artifacts::sweep_markdown(
                &feynn_studies::theory::artifacts::sweep_summary(&cells)
            )
        ))?;
    }
    if let Some(dir) = &a.out {
        feynn_studies::theory::artifacts::write_sweep(
            dir,
            &theory,
            &cells,
            &a.depths,
            &a.sample_counts,
            available,
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "train")]
fn grid(mut a: GridArgs) -> Result<ExitCode> {
    use feynn_studies::theory::grid;
    if !a.merge.is_empty() {
        let reports = a
            .merge
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).map_err(|e| Error::Io {
                    path: p.display().to_string(),
                    source: e,
                })?;
                serde_json::from_str::<grid::GridReport>(&text).map_err(|e| {
                    Error::invalid(
                        format!("{}: not a grid report: {e}", p.display()),
                        "give grid.json files written by `feynn theory grid`",
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let report = grid::merge(reports)?;
        crate::stdout_write(&grid::markdown(&report.cells))?;
        if let Some(dir) = &a.out {
            feynn_studies::theory::artifacts::write_grid(dir, &report)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut sets = match &a.sets {
        Some(text) => grid::parse_sets(text)?,
        None => grid::default_sets(),
    };
    if !a.only.is_empty() {
        if let Some(name) = a.only.iter().find(|n| !sets.iter().any(|s| &s.name == *n)) {
            return Err(Error::invalid(
                format!("no default coupling set `{name}`"),
                format!(
                    "the default sets are {}",
                    sets.iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        sets.retain(|s| a.only.contains(&s.name));
    }
    if a.quick {
        sets.truncate(2);
        if a.lattices == ["8", "4x4"] {
            a.lattices = vec!["4".into()];
        }
        if a.depths == [2, 4] {
            a.depths = vec![1];
        }
        if a.seeds == 3 {
            a.seeds = 2;
        }
        if a.samples == 20_000 {
            a.samples = 2000;
        }
        a.train.epochs.get_or_insert(40);
    }
    if a.seeds == 0 {
        return Err(Error::invalid("--seeds 0", "give at least one seed"));
    }
    let lattices = a
        .lattices
        .iter()
        .map(|l| parse_shape(l))
        .collect::<Result<Vec<_>>>()?;
    let cfg = learn_config(&a.train, a.quick, a.seed, a.quiet);
    let settings = grid::GridSettings {
        sets,
        lattices,
        depths: a.depths.clone(),
        seeds: (a.seed..a.seed.saturating_add(a.seeds)).collect(),
        samples: a.samples,
        epochs: cfg.train.epochs,
        batch: cfg.train.batch,
        lr: cfg.train.lr,
        layer: cfg.kind.keyword().to_string(),
        model_samples: cfg.model_samples,
    };
    grid::check_grid(&settings)?;
    let hmc = a.hmc.config(a.samples, a.seed, false);
    crate::stdout_write(
        "set          lattice seed depth      m²       κ       g       λ   A2 err  A4 err  checks  time\n",
    )?;
    let report = grid::run(&settings, &hmc, &cfg, |r| {
        let _ = crate::stdout_write(&format!(
            "{:<12} {:>7} {:>4} {:>5} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>8.4} {:>7.4}  {:<6} {:>4.0}s\n",
            r.set,
            r.lattice,
            r.seed,
            r.depth,
            r.learned[0],
            r.learned[1],
            r.learned[2],
            r.learned[3],
            r.a2,
            r.a4,
            if r.pass { "ok" } else { "FAIL" },
            r.seconds
        ));
    })?;
    crate::stdout_write(&format!(
        "\nmean ± sd over {} seeds:\n{}",
        a.seeds,
        grid::markdown(&report.cells)
    ))?;
    if let Some(dir) = &a.out {
        feynn_studies::theory::artifacts::write_grid(dir, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}
