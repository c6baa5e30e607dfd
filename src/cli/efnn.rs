//! `feynn efnn …`: data of the EFNN benchmark systems, evaluation, coupling readout, studies.

use std::path::PathBuf;
use std::process::ExitCode;

use feynn::data::Dataset;
use feynn::efnn::{datasets, EfnnSpec};
use feynn::physics::double_exchange::DoubleExchange;
use feynn::physics::spins::{SpinValues, ThreeSpin};
use feynn::{Error, Result};

use super::outln;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// Generate a data set (.npz: `inputs`, `targets`, `metadata`).
    Data(DataArgs),
    /// Evaluate a trained efnn spec on a data set: the paper's relative error and the honest ones.
    Eval(EvalArgs),
    /// Learned 1-, 2-, 3-body couplings of a fully connected network, compared with the J_ijk
    /// stored in a 3-spin data set: the exact expansions over all 2^L configurations of 0/1 spins
    /// (`--route mobius`, the default, or `walsh`), Taylor coefficients of the network at a point
    /// (`--route taylor`), or all three.
    Couplings(CouplingsArgs),
    /// Train EFNN, DNN, ResNet and DenseNet on the 3-spin model (`--system three-spin`, 0/1
    /// spins) or its continuous variant (`--system continuous`), compare, read the couplings
    /// (needs the `train` feature).
    Compare(StudyArgs),
    /// Train a convolutional EFNN on a small torus and evaluate it unchanged on larger ones
    /// (needs the `train` feature).
    Transfer(StudyArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum System {
    /// Classical 3-spin infinite-range model, s ∈ {0, 1}.
    ThreeSpin,
    /// The same Hamiltonian with s ~ U(−1, 1) (the code's "Heisenberg" benchmark).
    Continuous,
    /// Quantum double-exchange model on an N×N torus (exact diagonalisation).
    DoubleExchange,
}

#[derive(clap::Args)]
pub struct DataArgs {
    #[arg(value_enum)]
    pub system: System,
    #[arg(long, default_value_t = 20000)]
    pub samples: usize,
    /// Number of spins L (3-spin models).
    #[arg(long, default_value_t = 15)]
    pub sites: usize,
    /// Lattice size N (double exchange).
    #[arg(long, default_value_t = 10)]
    pub size: usize,
    /// Seed of the couplings and configurations.
    #[arg(long, default_value_t = 17)]
    pub seed: u64,
    /// The .npz file to write.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// The spec with the `efnn` block.
    pub spec: PathBuf,
    /// Which efnn block (default: the first).
    #[arg(long)]
    pub model: Option<String>,
    /// Weights (default: the spec's `weights` file).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// A data set of `feynn efnn data`.
    #[arg(long)]
    pub data: PathBuf,
    /// Use only the rows from this index on (the paper's no-shuffle test split of 20,000
    /// samples is `--test-from 16000`, after training with `--max-samples 16000`).
    #[arg(long, default_value_t = 0)]
    pub test_from: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// How `feynn efnn couplings` reads the couplings.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Route {
    /// Exact multilinear expansion in the 0/1 spins (Möbius inversion): ∂_A of the multilinear
    /// extension at s = 0. Needs 0/1 spins, L ≤ 24.
    Mobius,
    /// Exact Walsh–Fourier expansion in σ = 2s − 1: ∂_A of the multilinear extension at the
    /// centre s = ½ (learned J = −8 w_ijk). Needs 0/1 spins, L ≤ 24.
    Walsh,
    /// Taylor coefficients ∂_i∂_j∂_k E of the network at the expansion point (`--at`), any spins.
    Taylor,
    /// All three (mobius and walsh only for 0/1 spins), and the correlations between them.
    All,
}

/// The point of the Taylor route.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum At {
    /// s = 0.
    Zero,
    /// The mean configuration of the data set.
    Mean,
}

#[derive(clap::Args)]
pub struct CouplingsArgs {
    #[command(flatten)]
    pub eval: EvalArgs,
    /// mobius or walsh: exact expansions on 0/1 spins; taylor: derivatives at `--at`; all.
    #[arg(long, value_enum, default_value = "mobius")]
    pub route: Route,
    /// The expansion point of the Taylor route.
    #[arg(long, value_enum, default_value = "zero")]
    pub at: At,
}

#[derive(clap::Args)]
pub struct StudyArgs {
    /// Small settings (seconds to a minute; what the tests run).
    #[arg(long)]
    pub quick: bool,
    /// Folder for the JSON report, Markdown tables and SVG figures.
    #[arg(short = 'o', long = "output", default_value = "efnn-study")]
    pub output: PathBuf,
    /// The system of `compare`: three-spin (default) or continuous; `transfer` runs
    /// double-exchange.
    #[arg(long, value_enum)]
    pub system: Option<System>,
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    match a.command {
        Sub::Data(d) => data(d),
        Sub::Eval(e) => eval(e),
        Sub::Couplings(c) => couplings(c),
        Sub::Compare(s) => study(s, true),
        Sub::Transfer(s) => study(s, false),
    }
}

fn data(a: DataArgs) -> Result<ExitCode> {
    if a.samples == 0 {
        return Err(Error::invalid(
            "--samples must be at least 1",
            "e.g. --samples 20000",
        ));
    }
    let t0 = std::time::Instant::now();
    let d = match a.system {
        System::ThreeSpin | System::Continuous => {
            if a.sites < 3 {
                return Err(Error::invalid(
                    format!("--sites {} has no triplet", a.sites),
                    "use L ≥ 3",
                ));
            }
            let m = ThreeSpin::random(a.sites, 1.0, 2.0, a.seed);
            let v = if matches!(a.system, System::ThreeSpin) {
                SpinValues::Binary
            } else {
                SpinValues::Continuous
            };
            datasets::three_spin(&m, v, a.samples, a.seed, !a.quiet)
        }
        System::DoubleExchange => {
            if a.size < 2 || a.size > 64 {
                return Err(Error::invalid(
                    format!("--size {} is out of range", a.size),
                    "use 2 ≤ N ≤ 64 (the matrix is 2N² × 2N²)",
                ));
            }
            datasets::double_exchange(&DoubleExchange::paper(a.size), a.samples, a.seed, !a.quiet)
        }
    };
    d.write(&a.output)?;
    let mean = d.targets.mean().unwrap();
    let std = d.targets.std(0.0);
    eprintln!(
        "wrote {}: {} samples, E mean {mean:.4}, std {std:.4}, {:.1} s",
        a.output.display(),
        d.len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn load(a: &EvalArgs) -> Result<(feynn::efnn::forward::EfnnNet, Dataset)> {
    let spec: EfnnSpec = feynn::efnn::load_efnn(&a.spec, a.model.as_deref())?.ok_or_else(|| {
        Error::invalid(
            format!("{} has no `efnn` block", a.spec.display()),
            "see book/src/efnn.md for the spec",
        )
    })?;
    let w = a
        .weights
        .clone()
        .or_else(|| spec.weights_file.clone())
        .ok_or_else(|| {
            Error::invalid(
                format!("efnn `{}` names no weights file", spec.name),
                "give --weights FILE",
            )
        })?;
    let d = Dataset::read(&a.data)?;
    let net = feynn::efnn::forward::EfnnNet::load(spec, &w)?;
    if a.test_from >= d.len() {
        return Err(Error::invalid(
            format!(
                "--test-from {} leaves no rows of the {} in {}",
                a.test_from,
                d.len(),
                a.data.display()
            ),
            "use a smaller index",
        ));
    }
    let d = if a.test_from > 0 {
        d.select(&(a.test_from..d.len()).collect::<Vec<_>>())
    } else {
        d
    };
    Ok((net, d))
}

fn eval(a: EvalArgs) -> Result<ExitCode> {
    let (net, d) = load(&a)?;
    let pred = net.energies(&d.inputs)?;
    let sites = if net.spec.is_conv() {
        (d.inputs.ncols() / 3) as f64
    } else {
        d.inputs.ncols() as f64
    };
    let m = feynn::efnn::bench::metrics(
        pred.as_slice().unwrap(),
        d.targets.as_slice().unwrap(),
        d.targets.mean().unwrap(),
        sites,
    );
    if a.json {
        outln!("{}", serde_json::to_string(&m).unwrap())?;
    } else {
        outln!("{} samples: RMSE {:.4e}, relative {:.4e} (mean predictor {:.4e}), RMSE per site {:.4e}, RMSE/std {:.4}", d.len(), m.rmse, m.relative, m.mean_relative, m.rmse_per_site, m.rmse_over_std)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn couplings(c: CouplingsArgs) -> Result<ExitCode> {
    use feynn::efnn::readout::{compare, compare_walsh, correlation, Expansion};
    use feynn::efnn::taylor::{compare_taylor, TaylorExpansion};
    let a = &c.eval;
    let (net, d) = load(a)?;
    let meta = d
        .metadata
        .as_deref()
        .and_then(datasets::three_spin_from_metadata)
        .ok_or_else(|| {
            Error::invalid(
                format!("{} holds no 3-spin couplings", a.data.display()),
                "use a data set of `feynn efnn data three-spin` or `continuous`",
            )
        })?;
    if d.is_empty() {
        return Err(Error::invalid(
            format!("{} holds no configurations", a.data.display()),
            "use a data set of `feynn efnn data`",
        ));
    }
    let inputs = match net.spec.geometry {
        feynn::efnn::Geometry::Dense { inputs, .. } => inputs,
        feynn::efnn::Geometry::Conv { .. } => {
            return Err(Error::invalid(
                format!("efnn `{}` is a lattice model", net.spec.name),
                "couplings are read from fully connected models of the 3-spin systems",
            ))
        }
    };
    if meta.sites != inputs
        || d.inputs.ncols() != inputs
        || meta.triplets.iter().flatten().any(|&i| i >= inputs)
    {
        return Err(Error::invalid(
            format!(
                "the data hold {} spins ({} features), the model {inputs} inputs",
                meta.sites,
                d.inputs.ncols()
            ),
            "use the data set the model was trained on",
        ));
    }
    let binary = d.inputs.iter().all(|v| *v == 0.0 || *v == 1.0);
    let exact = match c.route {
        Route::Mobius | Route::Walsh if !binary => {
            return Err(Error::invalid(
                "the spins are not 0/1",
                "the exact (mobius, walsh) readouts are for `three-spin` (binary) data; use --route taylor",
            ))
        }
        Route::Mobius | Route::Walsh => Some(Expansion::of(meta.sites, |x| net.energies(x))?),
        Route::All if binary => Some(Expansion::of(meta.sites, |x| net.energies(x))?),
        _ => None,
    };
    let mobius = match c.route {
        Route::Mobius | Route::All => exact.as_ref().map(|e| compare(e, &meta)),
        _ => None,
    };
    let walsh = match c.route {
        Route::Walsh | Route::All => exact.as_ref().map(|e| compare_walsh(e, &meta)),
        _ => None,
    };
    let at = match c.at {
        At::Zero => "zero",
        At::Mean => "mean",
    };
    let taylor = if matches!(c.route, Route::Taylor | Route::All) {
        let point = match c.at {
            At::Zero => vec![0.0; inputs],
            At::Mean => d.inputs.mean_axis(ndarray::Axis(0)).unwrap().to_vec(),
        };
        let e = TaylorExpansion::of_net(&net, &point, 3)?;
        Some(compare_taylor(&e, &meta)?)
    } else {
        None
    };
    let learned: Vec<(&str, &Vec<f64>)> = [
        ("mobius", mobius.as_ref().map(|r| &r.learned)),
        ("walsh", walsh.as_ref().map(|r| &r.learned)),
        ("taylor", taylor.as_ref().map(|r| &r.report.learned)),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let mut between = vec![];
    for (i, (a, la)) in learned.iter().enumerate() {
        for (b, lb) in &learned[i + 1..] {
            between.push((format!("{a}-{b}"), correlation(la, lb)));
        }
    }
    if a.json {
        let v = match c.route {
            Route::Mobius => serde_json::to_value(mobius.as_ref().unwrap()).unwrap(),
            Route::Walsh => serde_json::to_value(walsh.as_ref().unwrap()).unwrap(),
            Route::Taylor => {
                let mut v = serde_json::to_value(taylor.as_ref().unwrap()).unwrap();
                v["route"] = "taylor".into();
                v["at"] = at.into();
                v
            }
            Route::All => serde_json::json!({
                "mobius": mobius,
                "walsh": walsh,
                "taylor": taylor,
                "at": at,
                "correlation_between_routes": between.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            }),
        };
        outln!("{}", serde_json::to_string(&v).unwrap())?;
        return Ok(ExitCode::SUCCESS);
    }
    for (name, rep, what) in [
        (
            "mobius",
            &mobius,
            "exact expansion in 0/1 spins: derivatives of the multilinear extension at s = 0",
        ),
        (
            "walsh",
            &walsh,
            "exact expansion in ±1 spins: derivatives of the multilinear extension at s = ½",
        ),
    ] {
        if let Some(rep) = rep {
            outln!("{name} ({what}):")?;
            outln!(
                "  3-body: correlation(J_learned, J) = {:.4}, ‖J_learned − J‖/‖J‖ = {:.4}",
                rep.correlation,
                rep.relative_error
            )?;
            for (k, rms, n) in rep.rms_by_order.iter().take(6) {
                outln!("  order {k:2}: RMS coefficient {rms:.4e} ({n} terms)")?;
            }
        }
    }
    if let Some(t) = &taylor {
        let rep = &t.report;
        outln!("taylor (derivatives of the network at s = {at}, order 3):")?;
        outln!(
            "  3-body: correlation(J_learned, J) = {:.4}, ‖J_learned − J‖/‖J‖ = {:.4}",
            rep.correlation,
            rep.relative_error
        )?;
        for (k, rms, n) in &rep.rms_by_order {
            outln!("  degree {k}, distinct indices: RMS {rms:.4e} ({n} terms)")?;
        }
        for (k, rms, n) in &t.rms_repeated_by_order {
            outln!("  degree {k}, repeated index:   RMS {rms:.4e} ({n} terms)")?;
        }
    }
    for (pair, r) in &between {
        outln!("correlation of the learned J_ijk, {pair}: {r:.4}")?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "train"))]
fn study(_: StudyArgs, _: bool) -> Result<ExitCode> {
    Err(Error::invalid(
        "the EFNN studies train networks, and this feynn was built without training",
        "build with `--features train`",
    ))
}

#[cfg(feature = "train")]
fn study(a: StudyArgs, compare: bool) -> Result<ExitCode> {
    use feynn::efnn::study;
    let t0 = std::time::Instant::now();
    match (compare, a.system) {
        (true, Some(System::DoubleExchange)) => {
            return Err(Error::invalid(
                "`compare` runs the 3-spin systems",
                "use `--system three-spin` or `--system continuous`; the lattice study is `feynn efnn transfer`",
            ))
        }
        (false, Some(System::ThreeSpin | System::Continuous)) => {
            return Err(Error::invalid(
                "`transfer` runs the double-exchange model",
                "leave out --system, or use `feynn efnn compare` for the 3-spin systems",
            ))
        }
        _ => {}
    }
    if compare {
        let settings = if matches!(a.system, Some(System::Continuous)) {
            study::CompareSettings::continuous(a.quick)
        } else {
            study::CompareSettings::new(a.quick)
        };
        study::compare_three_spin(&settings, &a.output, !a.quiet)?;
    } else {
        study::size_transfer(&study::TransferSettings::new(a.quick), &a.output, !a.quiet)?;
    }
    eprintln!(
        "wrote {} in {:.0} s",
        a.output.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
