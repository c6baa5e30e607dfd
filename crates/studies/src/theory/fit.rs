//! Maximum-likelihood training of an invertible network (`quad` layers, theory note
//! `inn-action.md` §3.1) on samples, with candle (feature `train`).
//!
//! The loss is the exact negative log-likelihood per sample,
//!
//! ```text
//! −ln p(x) = ½|f(x)|² + (N/2) ln 2π − Σ_l ln|det W^l| − Σ_{l,i} ln(1 + 2 α_{l,i} h^l_i(x)),
//! ```
//!
//! with three choices that keep it exact and cheap:
//!
//! * **W = L·U** (Glow's LU parametrisation, permutation fixed to 1): L unit lower triangular, U
//!   upper triangular with diagonal e^{s}, so ln|det W| = Σ s and W is invertible by
//!   construction.
//! * **The invertible branch** 1 + 2αh > 0 is kept on the data by the likelihood itself (its
//!   −ln(1 + 2αh) is a barrier). The logarithm is taken of max(1 + 2αh, τ), τ = 10⁻³, so that a
//!   point an optimiser step throws across the barrier cannot make the loss NaN, and the penalty
//!   `branch_penalty · Σ relu(τ − (1 + 2αh))` pushes such a point back. τ is kept tiny on
//!   purpose: data of a network with a branch edge (a planted INN) lie arbitrarily close to
//!   1 + 2αh = 0, and a larger margin would bias the fit away from the edge. After training,
//!   the points off the branch are counted (train and held-out) and reported.
//! * **Standardised data**: the network sees (x − μ)/σ per coordinate; the affine map is folded
//!   into the first layer on export (W⁰ ↦ W⁰ diag(1/σ), b⁰ ↦ b⁰ − W⁰ μ/σ), which changes ln|det W⁰|
//!   by −Σ ln σ: the exported network is the density of the raw data.
//!
//! Initialisation: L = U = 1 plus small noise, b = 0, α small (the identity map, a Gaussian);
//! weight decay pulls towards it. Training stops when the held-out likelihood has not improved for
//! `patience` epochs, and keeps the last epoch's weights if its held-out NLL is within one standard
//! error (√(N/2)/√n_val nats, at least 0.01) of the best (`train::optimise`): with few parameters and many samples the held-out likelihood of
//! nearly converged epochs differs by less than its noise, and the cosine-decayed last epoch is the
//! most converged; a fit that overfits or diverges late is rolled back to its best epoch.

use std::collections::BTreeMap;
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var, D};
use ndarray::{Array1, Array2, Axis};
use rand::Rng;
use serde::Serialize;

use crate::train::{cerr, optimise, split, to_tensor, Config};
use feynn::error::{Error, Result};
use feynn::model::inn::{Inn, InnLayer};
use feynn::model::weights;

/// The nonlinearity of every layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerKind {
    /// h + αh² (the paper's reconstruction; invertible on the branch 1 + 2αh > 0).
    Quad,
    /// h + αh² + βh³ with β > 0 and α² < 3β: φ' > 0 everywhere, invertible on all of ℝ.
    Cubic,
}

impl LayerKind {
    /// The DSL keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            LayerKind::Quad => "quad",
            LayerKind::Cubic => "cubic",
        }
    }
}

/// The architecture to fit: `depth` layers of one kind, α (and β) per neuron.
#[derive(Debug, Clone, Serialize)]
pub struct InnArch {
    pub dim: usize,
    pub depth: usize,
    pub kind: LayerKind,
    /// Weight of the branch penalty (see the module docs).
    pub branch_penalty: f64,
}

/// What a fit did.
#[derive(Debug, Clone, Serialize)]
pub struct FitReport {
    pub epochs_run: usize,
    /// The epoch of the lowest held-out NLL, and whether the last epoch was kept instead.
    pub best_epoch: usize,
    pub kept_last: bool,
    pub stopped_early: bool,
    /// Mean negative log-likelihood per sample of the raw data (nats), train and held-out.
    pub train_nll: f64,
    pub val_nll: f64,
    pub train_samples: usize,
    pub val_samples: usize,
    /// Points with 1 + 2αh ≤ 0 in some layer (zero model density), train and held-out.
    pub train_off_branch: usize,
    pub val_off_branch: usize,
    pub seconds: f64,
}

struct Layer {
    l: Var,
    u: Var,
    s: Var,
    b: Var,
    a: Var,
    /// Cubic layers: β = e^c, and α = 0.98 √(3β) tanh(a).
    c: Option<Var>,
}

struct Masks {
    lower: Tensor,
    upper: Tensor,
    eye: Tensor,
}

impl Masks {
    fn new(n: usize) -> candle_core::Result<Masks> {
        let m = |f: &dyn Fn(usize, usize) -> bool| {
            let v: Vec<f64> = (0..n * n)
                .map(|k| if f(k / n, k % n) { 1.0 } else { 0.0 })
                .collect();
            Tensor::from_vec(v, (n, n), &Device::Cpu)
        };
        Ok(Masks {
            lower: m(&|i, j| i > j)?,
            upper: m(&|i, j| i < j)?,
            eye: m(&|i, j| i == j)?,
        })
    }
}

impl Layer {
    /// W = (1 + strict-lower(L)) · (strict-upper(U) + diag e^s).
    fn weight(&self, m: &Masks) -> candle_core::Result<Tensor> {
        let lo = (self.l.as_tensor() * &m.lower)? + &m.eye;
        let up = (self.u.as_tensor() * &m.upper)?
            + m.eye
                .broadcast_mul(&self.s.as_tensor().exp()?.unsqueeze(0)?)?;
        lo?.matmul(&up?)
    }

    /// (α, β) as [1, N] rows (β = 0 for quad layers).
    fn coefficients(&self) -> candle_core::Result<(Tensor, Option<Tensor>)> {
        match &self.c {
            None => Ok((self.a.as_tensor().unsqueeze(0)?, None)),
            Some(c) => {
                let beta = c.as_tensor().exp()?;
                let alpha =
                    ((beta.affine(3.0, 0.0)?.sqrt()? * self.a.as_tensor().tanh()?)? * 0.98)?;
                Ok((alpha.unsqueeze(0)?, Some(beta.unsqueeze(0)?)))
            }
        }
    }
}

/// Per-sample −ln p (standardised coordinates, without the N/2 ln 2π) and the branch penalty.
fn nll_rows(
    layers: &[Layer],
    m: &Masks,
    x: &Tensor,
) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
    let mut y = x.clone();
    let rows = x.dim(0)?;
    let mut log_g = Tensor::zeros(rows, DType::F64, &Device::Cpu)?;
    let mut penalty = Tensor::zeros(rows, DType::F64, &Device::Cpu)?;
    let mut min_g = Tensor::ones(rows, DType::F64, &Device::Cpu)?.affine(0.0, f64::INFINITY)?;
    let mut log_det = Tensor::zeros((), DType::F64, &Device::Cpu)?;
    for layer in layers {
        let w = layer.weight(m)?;
        let h = y.matmul(&w.t()?)?.broadcast_add(layer.b.as_tensor())?;
        let (a, beta) = layer.coefficients()?;
        let h2 = h.sqr()?;
        let mut g = h.broadcast_mul(&a.affine(2.0, 0.0)?)?.affine(1.0, 1.0)?;
        if let Some(be) = &beta {
            g = (g + h2.broadcast_mul(&be.affine(3.0, 0.0)?)?)?;
        }
        // ln max(g, τ) and relu(τ − g), τ = 1e-3
        let g_safe = (g.affine(1.0, -1e-3)?.relu()? + 1e-3)?;
        log_g = (log_g + g_safe.log()?.sum(D::Minus1)?)?;
        penalty = (penalty + g.affine(-1.0, 1e-3)?.relu()?.sum(D::Minus1)?)?;
        min_g = min_g.minimum(&g.min(D::Minus1)?)?;
        log_det = (log_det + layer.s.as_tensor().sum_all()?)?;
        y = (&h + h2.broadcast_mul(&a)?)?;
        if let Some(be) = &beta {
            y = (y + (h2 * &h)?.broadcast_mul(be)?)?;
        }
    }
    let nll = ((y.sqr()?.sum(D::Minus1)? * 0.5)? - log_g)?.broadcast_sub(&log_det)?;
    Ok((nll, penalty, min_g))
}

/// Fit `arch` to the rows of `data` (samples × N). Returns the network on raw coordinates, its
/// tensors (`{l}.weight`, `{l}.bias`, `{l}.alpha`) and a report.
pub fn fit_inn(
    data: &Array2<f64>,
    arch: &InnArch,
    cfg: &Config,
) -> Result<(Inn<f64>, BTreeMap<String, weights::Tensor>, FitReport)> {
    let n = arch.dim;
    if data.ncols() != n || arch.depth == 0 {
        return Err(Error::invalid(
            format!(
                "the data have {} coordinates, the network dimension is {n} (depth {})",
                data.ncols(),
                arch.depth
            ),
            "give data with one column per site and a depth ≥ 1",
        ));
    }
    let t0 = Instant::now();
    let mut rng = feynn::random::seeded(cfg.seed);
    let (val_idx, train_idx) = split(data.nrows(), cfg, &mut rng)?;
    let (val_idx, train_idx) = (val_idx.as_slice(), train_idx.as_slice());
    let n_val = val_idx.len();
    let train = data.select(Axis(0), train_idx);
    let mu = train.mean_axis(Axis(0)).unwrap();
    let sd = train
        .std_axis(Axis(0), 0.0)
        .mapv(|s| if s > 1e-300 { s } else { 1.0 });
    let standardise =
        |d: &Array2<f64>| (d - &mu.view().insert_axis(Axis(0))) / sd.view().insert_axis(Axis(0));
    let xt = to_tensor(&standardise(&train))?;
    let xv = (n_val > 0)
        .then(|| to_tensor(&standardise(&data.select(Axis(0), val_idx))))
        .transpose()?;

    let masks = Masks::new(n).map_err(cerr)?;
    // small noise around the identity map (a Gaussian); b and s start at 0
    let mut var = |shape: Vec<usize>, scale: f64| -> Result<Var> {
        let len = shape.iter().product();
        let v: Vec<f64> = (0..len)
            .map(|_| {
                if scale > 0.0 {
                    rng.random_range(-scale..scale)
                } else {
                    0.0
                }
            })
            .collect();
        Var::from_vec(v, shape, &Device::Cpu).map_err(cerr)
    };
    let mut layers = vec![];
    for _ in 0..arch.depth {
        layers.push(Layer {
            l: var(vec![n, n], 0.01)?,
            u: var(vec![n, n], 0.01)?,
            s: var(vec![n], 0.0)?,
            b: var(vec![n], 0.0)?,
            a: var(vec![n], 0.02)?,
            c: match arch.kind {
                LayerKind::Quad => None,
                // β = 0.01 (2/L)² at the start: a stack of L cubic maps has degree 3^L, and
                // a 5σ point must not blow up through it before training has begun
                LayerKind::Cubic => Some(
                    var(vec![n], 0.0)?
                        .as_tensor()
                        .affine(1.0, (0.01 * (2.0 / arch.depth.max(2) as f64).powi(2)).ln())
                        .and_then(|t| Var::from_tensor(&t))
                        .map_err(cerr)?,
                ),
            },
        });
    }
    let vars: Vec<Var> = layers
        .iter()
        .flat_map(|l| {
            [
                Some(&l.l),
                Some(&l.u),
                Some(&l.s),
                Some(&l.b),
                Some(&l.a),
                l.c.as_ref(),
            ]
        })
        .flatten()
        .cloned()
        .collect();
    let c = arch.branch_penalty;
    let loss_of = |x: &Tensor| -> candle_core::Result<Tensor> {
        let (nll, pen, _) = nll_rows(&layers, &masks, x)?;
        nll.mean_all()? + (pen.mean_all()? * c)?
    };
    let fit = optimise(
        &vars,
        train_idx.len(),
        cfg,
        &mut rng,
        |ix| loss_of(&xt.index_select(ix, 0)?),
        |train_loss| match &xv {
            Some(x) => loss_of(x)?.to_scalar::<f64>(),
            None => Ok(train_loss),
        },
        // the standard error of a held-out mean NLL, √(N/2)/√n_val (the NLL of a Gaussian has
        // spread √(N/2)): converged epochs differ by less, a late blow-up by far more
        Some(((n as f64 / 2.0) / n_val.max(1) as f64).sqrt().max(0.01)),
    )?;

    // the exact likelihood and branch counts of the best network, raw units
    let const_term =
        0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln() + sd.iter().map(|s| s.ln()).sum::<f64>();
    let stats = |x: &Tensor| -> Result<(f64, usize)> {
        let (nll, _, min_g) = nll_rows(&layers, &masks, x).map_err(cerr)?;
        let off = min_g
            .to_vec1::<f64>()
            .map_err(cerr)?
            .iter()
            .filter(|g| **g <= 0.0)
            .count();
        Ok((
            nll.mean_all()
                .and_then(|t| t.to_scalar::<f64>())
                .map_err(cerr)?
                + const_term,
            off,
        ))
    };
    let (train_nll, train_off) = stats(&xt)?;
    let (val_nll, val_off) = match &xv {
        Some(x) => stats(x)?,
        None => (train_nll, 0),
    };

    // export, with the standardisation folded into layer 0
    let mut tensors = BTreeMap::new();
    let mut inn_layers = vec![];
    for (k, layer) in layers.iter().enumerate() {
        let w = layer
            .weight(&masks)
            .and_then(|t| t.to_vec2::<f64>())
            .map_err(cerr)?;
        let mut w = Array2::from_shape_fn((n, n), |(i, j)| w[i][j]);
        let mut b = Array1::from_vec(layer.b.as_tensor().to_vec1::<f64>().map_err(cerr)?);
        let (a, beta) = layer.coefficients().map_err(cerr)?;
        let a = a
            .squeeze(0)
            .and_then(|t| t.to_vec1::<f64>())
            .map_err(cerr)?;
        let beta = beta
            .map(|t| t.squeeze(0).and_then(|t| t.to_vec1::<f64>()))
            .transpose()
            .map_err(cerr)?;
        if k == 0 {
            for j in 0..n {
                w.column_mut(j).mapv_inplace(|v| v / sd[j]);
            }
            b = &b - &w.dot(&mu);
        }
        let wv: Vec<f64> = w.iter().copied().collect();
        tensors.insert(
            format!("{k}.weight"),
            weights::Tensor {
                shape: vec![n, n],
                data: wv.clone(),
            },
        );
        tensors.insert(
            format!("{k}.bias"),
            weights::Tensor {
                shape: vec![n],
                data: b.to_vec(),
            },
        );
        tensors.insert(
            format!("{k}.alpha"),
            weights::Tensor {
                shape: vec![n],
                data: a.clone(),
            },
        );
        if let Some(beta) = &beta {
            tensors.insert(
                format!("{k}.beta"),
                weights::Tensor {
                    shape: vec![n],
                    data: beta.clone(),
                },
            );
        }
        inn_layers.push(InnLayer {
            w: wv,
            b: b.to_vec(),
            phi: (0..n)
                .map(|i| match &beta {
                    None => vec![0.0, 1.0, a[i]],
                    Some(be) => vec![0.0, 1.0, a[i], be[i]],
                })
                .collect(),
        });
    }
    let inn = Inn {
        name: "learned".into(),
        n,
        layers: inn_layers,
    };
    Ok((
        inn,
        tensors,
        FitReport {
            epochs_run: fit.epochs_run,
            best_epoch: fit.best_epoch,
            kept_last: fit.kept_last,
            stopped_early: fit.epochs_run < cfg.epochs,
            train_nll,
            val_nll,
            train_samples: train_idx.len(),
            val_samples: n_val,
            train_off_branch: train_off,
            val_off_branch: val_off,
            seconds: t0.elapsed().as_secs_f64(),
        },
    ))
}

/// The spec text of a fitted network whose tensors are in `weights_file` (relative to the spec).
pub fn spec_text(name: &str, arch: &InnArch, weights_file: &str, comment: &str) -> String {
    let mut s = format!("// {comment}\ninn {name} {{\n  dim {}\n", arch.dim);
    for _ in 0..arch.depth {
        s += &format!("  layer {}\n", arch.kind.keyword());
    }
    s += &format!("  weights \"{weights_file}\"\n}}\n");
    s
}
