//! The experiments of "Learning interacting theories from data": one learning run
//! ([`learn`]: samples → INN fit → action at the data mean → comparison with the true action and
//! of the model's cumulants with the data's) and the depth × sample-count sweep ([`sweep`]).

use std::time::Instant;

use ndarray::{s, Array2, Axis};
use serde::Serialize;

use super::fit::{fit_inn, FitReport, InnArch, LayerKind};
use super::{compare_orders, OrderError};
use crate::physics::lattice::{fit_couplings, LatticeTheory, COUPLING_NAMES};
use crate::train::Config;
use feynn::error::Result;
use feynn::model::inn::Inn;
use feynn::numeric::action::{action, ActionOptions};
use feynn::numeric::cumulants::{compare, cumulants, Cumulants, Diff};

/// Settings of one learning run.
#[derive(Debug, Clone)]
pub struct LearnConfig {
    pub depth: usize,
    pub kind: LayerKind,
    pub train: Config,
    /// Points drawn from the trained model for its cumulants.
    pub model_samples: usize,
    pub branch_penalty: f64,
}

/// The user's training options of a learning run; [`LearnConfig::new`] fills in the defaults.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Number of INN layers.
    pub depth: usize,
    /// The layer nonlinearity.
    pub kind: LayerKind,
    /// Maximum epochs (default 300, quick 100).
    pub epochs: Option<usize>,
    /// Minibatch size.
    pub batch: usize,
    /// Initial learning rate (cosine schedule down to lr/100).
    pub lr: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Early-stopping patience (default epochs/2 + 10: the held-out likelihood is noisy).
    pub patience: Option<usize>,
    /// Weight of the invertible-branch penalty.
    pub branch_penalty: f64,
    /// Points drawn from the trained model for its cumulants (at most 20,000 when quick).
    pub model_samples: usize,
}

impl LearnConfig {
    /// The settings of a run from the user's options (`quick`: the small defaults the tests use).
    pub fn new(t: &TrainOptions, quick: bool, seed: u64, progress: bool) -> LearnConfig {
        let epochs = t.epochs.unwrap_or(if quick { 100 } else { 300 });
        LearnConfig {
            depth: t.depth,
            kind: t.kind,
            train: Config {
                epochs,
                batch: t.batch,
                lr: t.lr,
                lr_end: t.lr * 1e-2,
                weight_decay: t.weight_decay,
                val_fraction: 0.1,
                patience: t.patience.unwrap_or(epochs / 2 + 10),
                seed,
                progress,
                schedule: crate::train::Schedule::Cosine,
                l2: 0.0,
            },
            model_samples: if quick {
                t.model_samples.min(20_000)
            } else {
                t.model_samples
            },
            branch_penalty: t.branch_penalty,
        }
    }
}

/// A coupling, true and learned (projected onto the theory's operators).
#[derive(Debug, Clone, Serialize)]
pub struct Coupling {
    pub name: String,
    pub truth: f64,
    pub learned: f64,
}

/// The outcome of one learning run.
#[derive(Debug, Clone, Serialize)]
pub struct LearnResult {
    pub theory: Option<LatticeTheory>,
    pub depth: usize,
    pub kind: LayerKind,
    pub samples: usize,
    pub fit: FitReport,
    /// The expansion point: the data mean.
    pub point: Vec<f64>,
    /// Learned vs true action tensors, orders 1–4 (empty without a true theory).
    pub orders: Vec<OrderError>,
    pub couplings: Vec<Coupling>,
    /// Model (sampled) vs data cumulants, and two halves of the data against each other (the
    /// sampling noise of the comparison).
    pub cumulants: Vec<Diff>,
    pub cumulants_noise: Vec<Diff>,
    pub model_samples: usize,
    /// Latent draws without a pre-image while sampling the model (density defect).
    pub model_rejected: usize,
    pub seconds: f64,
    /// A^(2) learned and true (N×N), A^(4)_{iijj} learned and true, for the figures (written
    /// as `{name, rows}`; `feynn reports` draws the figures from them).
    #[serde(serialize_with = "named_matrices")]
    pub matrices: Vec<(String, Array2<f64>)>,
    /// (data, model) pairs of the κ2 and κ3 entries with sorted indices, for the scatter plot.
    pub cumulant_pairs: Vec<(f64, f64)>,
}

fn named_matrices<S: serde::Serializer>(
    m: &[(String, Array2<f64>)],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(m.len()))?;
    for (name, a) in m {
        seq.serialize_element(&crate::reports::theory::NamedMatrix::of(name, a))?;
    }
    seq.end()
}

impl LearnConfig {
    /// The settings as a report records them.
    pub fn record(&self) -> serde_json::Value {
        let t = &self.train;
        serde_json::json!({
            "depth": self.depth,
            "layer": self.kind.keyword(),
            "epochs": t.epochs,
            "batch": t.batch,
            "lr": t.lr,
            "lr_end": t.lr_end,
            "weight_decay": t.weight_decay,
            "val_fraction": t.val_fraction,
            "patience": t.patience,
            "seed": t.seed,
            "model_samples": self.model_samples,
            "branch_penalty": self.branch_penalty,
        })
    }
}

/// Train a network of `cfg.depth` layers on `x` (samples × N) and compare its action at the data
/// mean with `theory` (if known) and its cumulants with the data's.
pub fn learn(
    x: &Array2<f64>,
    theory: Option<&LatticeTheory>,
    cfg: &LearnConfig,
) -> Result<(
    LearnResult,
    Inn<f64>,
    std::collections::BTreeMap<String, feynn::model::weights::Tensor>,
)> {
    let t0 = Instant::now();
    let n = x.ncols();
    let arch = InnArch {
        dim: n,
        depth: cfg.depth,
        kind: cfg.kind,
        branch_penalty: cfg.branch_penalty,
    };
    let (inn, tensors, fit) = fit_inn(x, &arch, &cfg.train)?;
    let mean = x.mean_axis(Axis(0)).unwrap().to_vec();
    let act = action(
        &inn,
        &mean,
        &ActionOptions {
            order: 4,
            ..ActionOptions::default()
        },
    )?;
    let learned = &act.tensors;
    let (orders, couplings, matrices) = match theory {
        Some(t) => {
            let truth = t.tensors(&mean);
            let fitted = fit_couplings(&t.shape, &mean, learned)?;
            let couplings = COUPLING_NAMES
                .iter()
                .zip([t.m2, t.kappa, t.g, t.lambda])
                .zip(fitted)
                .map(|((name, truth), learned)| Coupling {
                    name: name.to_string(),
                    truth,
                    learned,
                })
                .collect();
            let mats = vec![
                (
                    "learned A2".into(),
                    Array2::from_shape_vec((n, n), learned[2].clone()).unwrap(),
                ),
                (
                    "true A2".into(),
                    Array2::from_shape_vec((n, n), truth[2].clone()).unwrap(),
                ),
                ("learned A4_iijj".into(), iijj(&learned[4], n)),
                ("true A4_iijj".into(), iijj(&truth[4], n)),
            ];
            (compare_orders(n, learned, &truth), couplings, mats)
        }
        None => (
            vec![],
            vec![],
            vec![(
                "learned A2".into(),
                Array2::from_shape_vec((n, n), learned[2].clone()).unwrap(),
            )],
        ),
    };
    // cumulants: model samples vs data; the data's two halves give the noise floor
    let rows: Vec<Vec<f64>> = x.rows().into_iter().map(|r| r.to_vec()).collect();
    let data_c = cumulants(&rows, n).unwrap();
    let (pts, rejected) = inn.sample(cfg.model_samples, cfg.train.seed ^ 0x5eed);
    let model_c = cumulants(&pts, n).unwrap();
    let half = x.nrows() / 2;
    let first: Vec<Vec<f64>> = x
        .slice(s![..half, ..])
        .rows()
        .into_iter()
        .map(|r| r.to_vec())
        .collect();
    let second: Vec<Vec<f64>> = x
        .slice(s![half.., ..])
        .rows()
        .into_iter()
        .map(|r| r.to_vec())
        .collect();
    let noise = compare(
        &cumulants(&first, n).unwrap(),
        &cumulants(&second, n).unwrap(),
    );
    let pairs = cumulant_pairs(&model_c, &data_c);
    Ok((
        LearnResult {
            theory: theory.cloned(),
            depth: cfg.depth,
            kind: cfg.kind,
            samples: x.nrows(),
            fit,
            point: mean,
            orders,
            couplings,
            cumulants: compare(&model_c, &data_c),
            cumulants_noise: noise,
            model_samples: pts.len(),
            model_rejected: rejected,
            seconds: t0.elapsed().as_secs_f64(),
            matrices,
            cumulant_pairs: pairs,
        },
        inn,
        tensors,
    ))
}

/// A^(4)_{iijj} as an N×N matrix (the diagonal is A^(4)_{iiii}).
fn iijj(a4: &[f64], n: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, n), |(i, j)| a4[((i * n + i) * n + j) * n + j])
}

/// (data, model) pairs of κ2 and κ3 entries with sorted indices, for the scatter plot.
fn cumulant_pairs(model: &Cumulants, data: &Cumulants) -> Vec<(f64, f64)> {
    let n = data.n;
    let mut out = vec![];
    for i in 0..n {
        for j in i..n {
            out.push((data.k2[i * n + j], model.k2[i * n + j]));
            for k in j..n {
                let f = (i * n + j) * n + k;
                out.push((data.k3[f], model.k3[f]));
            }
        }
    }
    out
}

/// One cell of the sweep.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SweepCell {
    /// The seed of the HMC samples and of the training.
    pub seed: u64,
    pub depth: usize,
    pub samples: usize,
    /// Relative Frobenius errors of A^(2), A^(3), A^(4).
    pub a2: f64,
    pub a3: f64,
    pub a4: f64,
    /// Relative error of the fitted (g, λ): |Δ| / |(g, λ)|.
    pub couplings: f64,
    pub val_nll: f64,
    pub seconds: f64,
}

/// Refuse an empty sweep, a depth 0 or a sample count below 10 (before anything is sampled).
pub fn check_sweep(depths: &[usize], sample_counts: &[usize]) -> Result<()> {
    if depths.is_empty()
        || sample_counts.is_empty()
        || depths.contains(&0)
        || sample_counts.iter().any(|&m| m < 10)
    {
        return Err(feynn::Error::invalid(
            "empty or invalid sweep",
            "give --depths and --sample-counts as comma-separated positive numbers (≥ 10 samples)",
        ));
    }
    Ok(())
}

/// Train every (depth, sample count) combination on nested subsets of `x` (the first M rows)
/// and collect the errors against `theory`.
pub fn sweep(
    x: &Array2<f64>,
    theory: &LatticeTheory,
    depths: &[usize],
    sample_counts: &[usize],
    cfg: &LearnConfig,
    mut on_cell: impl FnMut(&SweepCell),
) -> Result<Vec<SweepCell>> {
    check_sweep(depths, sample_counts)?;
    let mut out = vec![];
    for &m in sample_counts {
        let sub = x.slice(s![..m.min(x.nrows()), ..]).to_owned();
        for &depth in depths {
            // small sets give few optimiser steps per epoch: at least 3000 steps in all
            let steps_per_epoch = (sub.nrows() as f64 * (1.0 - cfg.train.val_fraction)
                / cfg.train.batch as f64)
                .ceil()
                .max(1.0) as usize;
            let mut train = cfg.train.clone();
            train.epochs = train.epochs.max(3000usize.div_ceil(steps_per_epoch));
            let c = LearnConfig {
                depth,
                train,
                ..cfg.clone()
            };
            let (r, _, _) = learn(&sub, Some(theory), &c)?;
            let err = |k: usize| {
                r.orders
                    .iter()
                    .find(|o| o.order == k)
                    .map_or(f64::NAN, |o| o.relative)
            };
            let (g, l) = (&r.couplings[2], &r.couplings[3]);
            let cell = SweepCell {
                seed: cfg.train.seed,
                depth,
                samples: sub.nrows(),
                a2: err(2),
                a3: err(3),
                a4: err(4),
                couplings: ((g.learned - g.truth).powi(2) + (l.learned - l.truth).powi(2)).sqrt()
                    / (g.truth.powi(2) + l.truth.powi(2)).sqrt().max(1e-300),
                val_nll: r.fit.val_nll,
                seconds: r.seconds,
            };
            on_cell(&cell);
            out.push(cell);
        }
    }
    Ok(out)
}

/// One pass/fail criterion of a learning run.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub value: f64,
    pub limit: f64,
    pub pass: bool,
}

/// The criteria of the paper's findings: the model's cumulants κ2, κ3 match the data's (always);
/// for a unimodal theory also A^(2) and the couplings g, λ (quick runs: limits twice as loose).
pub fn checks(r: &LearnResult, quick: bool) -> Vec<Check> {
    let loose = if quick { 2.0 } else { 1.0 };
    let mut out = vec![];
    let mut push = |name: String, value: f64, limit: f64| {
        out.push(Check {
            pass: value <= limit,
            name,
            value,
            limit,
        })
    };
    for k in 1..=3usize {
        let get = |v: &[Diff]| {
            v.iter()
                .find(|d| d.order == k)
                .map_or(f64::NAN, |d| d.scaled)
        };
        let noise = get(&r.cumulants_noise);
        push(
            format!("κ{k} model vs data, ‖Δκ{k}‖/‖κ2‖^{k}/2 (limit max(0.05, 2 × the data halves' {noise:.4}))"),
            get(&r.cumulants),
            loose * f64::max(0.05, 2.0 * noise),
        );
    }
    if r.theory.as_ref().is_some_and(|t| t.unimodal_site()) {
        if let Some(o) = r.orders.iter().find(|o| o.order == 2) {
            push(
                "A^(2) relative error (unimodal theory)".into(),
                o.relative,
                0.15 * loose,
            );
        }
        for c in r
            .couplings
            .iter()
            .filter(|c| c.name == "g" || c.name == "lambda")
        {
            if c.truth != 0.0 {
                push(
                    format!("coupling {} relative error (unimodal theory)", c.name),
                    (c.learned - c.truth).abs() / c.truth.abs(),
                    0.3 * loose,
                );
            }
        }
    }
    out
}

/// The report of a learning run as a text table.
pub fn table(r: &LearnResult, checks: &[Check]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let n = r.point.len();
    if let Some(t) = &r.theory {
        let shape = t
            .shape
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join("x");
        let _ = writeln!(
            s,
            "theory: lattice {shape} (N = {n}), m² = {}, κ = {}, g = {}, λ = {} ({})",
            t.m2,
            t.kappa,
            t.g,
            t.lambda,
            if t.unimodal_site() {
                "unimodal"
            } else {
                "not unimodal"
            }
        );
    }
    let f = &r.fit;
    let _ = writeln!(
        s,
        "INN: depth {} ({}), {} train / {} held-out samples, {} epochs (held-out minimum at {}; {} kept), NLL {:.4} / {:.4} nats, off-branch points {} / {}, {:.1} s",
        r.depth, r.kind.keyword(), f.train_samples, f.val_samples, f.epochs_run, f.best_epoch,
        if f.kept_last { "the last" } else { "that one" }, f.train_nll, f.val_nll,
        f.train_off_branch, f.val_off_branch, f.seconds
    );
    if !r.orders.is_empty() {
        let _ = writeln!(
            s,
            "\naction at the data mean, learned vs true (relative Frobenius errors):"
        );
        let _ = writeln!(s, "  order   all      diagonal  off-diagonal  ‖A_true‖");
        for o in &r.orders {
            let _ = writeln!(
                s,
                "  A^({})  {:<8.4} {:<9.4} {:<13.4} {:.4}",
                o.order, o.relative, o.diagonal, o.off_diagonal, o.true_norm
            );
        }
        let _ = writeln!(
            s,
            "\ncouplings (learned tensors projected onto m², κ, g, λ):"
        );
        for c in &r.couplings {
            let _ = writeln!(
                s,
                "  {:<7} true {:>8.4}   learned {:>8.4}",
                c.name, c.truth, c.learned
            );
        }
    }
    let _ = writeln!(
        s,
        "\ncumulants, {} model samples ({} latent draws without pre-image) vs {} data points:",
        r.model_samples, r.model_rejected, r.samples
    );
    let _ = writeln!(
        s,
        "  order  ‖Δ‖/‖κ2‖^(k/2)  data halves   relative   max |Δ|"
    );
    for (d, z) in r.cumulants.iter().zip(&r.cumulants_noise) {
        let _ = writeln!(
            s,
            "  κ{}     {:<14.4} {:<13.4} {:<10.4} {:.3e}",
            d.order, d.scaled, z.scaled, d.relative, d.max_abs
        );
    }
    let _ = writeln!(s, "\nchecks:");
    for c in checks {
        let _ = writeln!(
            s,
            "  [{}] {}: {:.4} (limit {:.4})",
            if c.pass { "ok" } else { "FAIL" },
            c.name,
            c.value,
            c.limit
        );
    }
    let _ = writeln!(s, "total {:.1} s", r.seconds);
    s
}
