//! Training a model spec on a data set with candle (feature `train`, CPU).
//!
//! The network is built from the spec's layers as candle variables named with the spec's tensor
//! names (PyTorch `nn.Sequential` names by default), trained with AdamW on the mean squared
//! error, and written as f64 safetensors that `feynn taylor` reads directly.
//!
//! * **Scaling.** Inputs are standardised per feature and the target by its mean and spread, for
//!   the optimiser only. Both affine maps are folded into the first and last layer before saving,
//!   so the saved network takes raw inputs and returns raw targets.
//! * **Determinism.** Initialisation (Glorot-uniform weights, zero biases), the train/validation
//!   split and the batch order come from one ChaCha8 generator seeded with `seed`; candle's own
//!   (unseeded) generator is never used. One run gives the same file on the same platform.
//! * **Early stopping.** The validation loss is checked every epoch; the best weights are kept,
//!   and training stops after `patience` epochs without improvement.
//! * **Schedule.** Cosine decay of the learning rate from `lr` to `lr_end` (default), or the
//!   step decay of PyTorch's `StepLR` (×γ every k epochs), the EFNN paper's schedule.
//! * **Regularisation.** AdamW's decoupled weight decay, and/or a coupled L2 penalty added to
//!   the loss (PyTorch `Adam(weight_decay=w)`, i.e. the gradient gains w·θ: the paper's).
//!
//! The [`Trainable`] trait is the seam for other model kinds (e.g. EFNN specs later): it only
//! needs parameters, a forward pass on a batch, and the export of the parameters by name.

use std::collections::BTreeMap;
use std::time::Instant;

/// The tensor library the trainer runs on (for callers that take gradients themselves, e.g. tests).
pub use candle_core;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use feynn::random::Rng as SeededRng;
use ndarray::{Array1, Array2};
use rand::seq::SliceRandom;
use rand::Rng;

use crate::data::Dataset;
use feynn::error::{Error, Result};
use feynn::model::activation::Builtin;
use feynn::model::weights;
use feynn::model::{Activation, Model};

pub(crate) fn cerr(e: candle_core::Error) -> Error {
    Error::invalid(
        format!("training failed in candle: {e}"),
        "this is a bug; please report it",
    )
}

/// How the learning rate moves over the epochs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum Schedule {
    /// Cosine decay from `lr` to `lr_end` over the epochs.
    Cosine,
    /// `lr · gamma^⌊epoch / every⌋` (PyTorch `StepLR`); `lr_end` is not used.
    Step { every: usize, gamma: f64 },
}

impl Schedule {
    /// The learning rate of `epoch` (0-based) of `epochs`.
    pub fn rate(self, lr: f64, lr_end: f64, epoch: usize, epochs: usize) -> f64 {
        match self {
            Schedule::Cosine => {
                let frac = epoch as f64 / epochs.max(2) as f64;
                lr_end + 0.5 * (lr - lr_end) * (1.0 + (std::f64::consts::PI * frac).cos())
            }
            Schedule::Step { every, gamma } => lr * gamma.powi((epoch / every.max(1)) as i32),
        }
    }
}

/// Settings of a training run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Maximum number of passes over the training set.
    pub epochs: usize,
    pub batch: usize,
    /// Initial learning rate (cosine decay to `lr_end`).
    pub lr: f64,
    pub lr_end: f64,
    /// AdamW weight decay (decoupled).
    pub weight_decay: f64,
    /// The learning-rate schedule.
    pub schedule: Schedule,
    /// Coupled L2: (l2/2)·Σθ² is added to the loss, so the gradient gains l2·θ (PyTorch's
    /// `Adam(weight_decay = l2)`); 0 for none. The loss is the MSE of the *standardised*
    /// target, so PyTorch's weight_decay w on the raw target's MSE corresponds to l2 = w/σ_y²
    /// (Adam is invariant to the loss's overall scale).
    pub l2: f64,
    /// Fraction of the samples held out for validation (early stopping).
    pub val_fraction: f64,
    /// Stop after this many epochs without a better validation loss.
    pub patience: usize,
    pub seed: u64,
    /// Show a progress bar with the losses (on stderr).
    pub progress: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            epochs: 400,
            batch: 128,
            lr: 3e-3,
            lr_end: 3e-5,
            weight_decay: 0.0,
            val_fraction: 0.1,
            patience: 60,
            seed: 0,
            progress: false,
            schedule: Schedule::Cosine,
            l2: 0.0,
        }
    }
}

/// What a training run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub epochs_run: usize,
    pub best_epoch: usize,
    pub stopped_early: bool,
    /// MSE of the standardised target at the best epoch.
    pub train_loss: f64,
    pub val_loss: f64,
    /// RMSE of the raw target on the validation set (the saved network).
    pub val_rmse: f64,
    pub train_samples: usize,
    pub val_samples: usize,
    pub seconds: f64,
}

/// A model kind that candle can train.
pub trait Trainable {
    /// Fresh parameters (named, in a fixed order) from the generator.
    fn init(&self, inputs: usize, rng: &mut SeededRng) -> Result<Vec<(String, Var)>>;
    /// The forward pass on a batch [batch, inputs] → [batch].
    fn forward(&self, params: &[(String, Var)], x: &Tensor) -> candle_core::Result<Tensor>;
    /// The trained parameters as named tensors, with the standardisation x' = (x − μ)/σ_x,
    /// y = σ_y y' + μ_y folded in.
    fn export(
        &self,
        params: &[(String, Var)],
        scale: &Scaling,
    ) -> Result<BTreeMap<String, weights::Tensor>>;
    /// Whether the inputs are standardised per feature before `forward` (default yes). A model
    /// whose weights are shared across features (a convolution over lattice sites) returns false:
    /// per-feature scaling would break its translation invariance and size independence.
    fn standardise_inputs(&self) -> bool {
        true
    }
}

/// The affine standardisation of inputs and target.
#[derive(Debug, Clone)]
pub struct Scaling {
    /// Per-feature mean and spread of the inputs (0 and 1 when the model does not standardise).
    pub x_mean: Array1<f64>,
    pub x_std: Array1<f64>,
    pub y_mean: f64,
    pub y_std: f64,
}

impl Scaling {
    fn fit(x: &Array2<f64>, y: &Array1<f64>) -> Scaling {
        let x_mean = x.mean_axis(ndarray::Axis(0)).unwrap();
        // a constant feature keeps scale 1 (nothing to learn there)
        let x_std = x
            .std_axis(ndarray::Axis(0), 0.0)
            .mapv(|s| if s > 1e-300 { s } else { 1.0 });
        let y_mean = y.mean().unwrap();
        let s = y.std(0.0);
        Scaling {
            x_mean,
            x_std,
            y_mean,
            y_std: if s > 1e-300 { s } else { 1.0 },
        }
    }
}

/// An MLP spec: every layer `W a + b` then the layer's activation.
pub struct Mlp<'a> {
    pub model: &'a Model,
    widths: Vec<usize>,
}

impl<'a> Mlp<'a> {
    /// Check that every activation can be trained and every width is known (a symbolic input
    /// width takes the data's feature count).
    pub fn new(model: &'a Model, inputs: usize) -> Result<Mlp<'a>> {
        use feynn::dsl::Width;
        match &model.input {
            Width::Fixed(n) if *n != inputs => {
                return Err(Error::invalid(
                    format!(
                        "model `{}` has {n} inputs, the data {inputs} features",
                        model.name
                    ),
                    "use a spec whose `input` matches the data",
                ))
            }
            _ => {}
        }
        let mut widths = vec![inputs];
        for (l, layer) in model.layers.iter().enumerate() {
            match &layer.width {
                Width::Fixed(n) => widths.push(*n),
                Width::Symbol(s) => {
                    return Err(Error::invalid(
                        format!("layer {} has the symbolic width `{s}`", l + 1),
                        "give concrete widths to train",
                    ))
                }
            }
            if let Some(a) = &layer.activation {
                if !matches!(a, Activation::Builtin(_)) {
                    return Err(Error::invalid(
                        format!("layer {} uses the activation `{}`, which cannot be trained", l + 1, a.name()),
                        "training supports the built-in activations (tanh, sigmoid, softplus, silu, gelu, sin, identity)",
                    ));
                }
            }
        }
        if *widths.last().unwrap() != 1 {
            return Err(Error::invalid(
                format!(
                    "model `{}` has {} outputs; training fits one target",
                    model.name,
                    widths.last().unwrap()
                ),
                "use a spec with `output 1`",
            ));
        }
        Ok(Mlp { model, widths })
    }
}

fn activate(a: &Option<Activation>, z: Tensor) -> candle_core::Result<Tensor> {
    let Some(Activation::Builtin(b)) = a else {
        return Ok(z);
    };
    match b {
        Builtin::Tanh => z.tanh(),
        // σ(z) = (1 + tanh(z/2))/2: stable and differentiable with core ops
        Builtin::Sigmoid => z.affine(0.5, 0.0)?.tanh()?.affine(0.5, 0.5),
        // softplus(z) = relu(z) + log(1 + e^{−|z|})
        Builtin::Softplus => z.relu()? + z.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?,
        Builtin::Silu => {
            let s = z.affine(0.5, 0.0)?.tanh()?.affine(0.5, 0.5)?;
            z * s
        }
        Builtin::Gelu => z.gelu_erf(),
        Builtin::Sin => z.sin(),
        Builtin::Identity => Ok(z),
    }
}

impl Trainable for Mlp<'_> {
    fn init(&self, _inputs: usize, rng: &mut SeededRng) -> Result<Vec<(String, Var)>> {
        let mut out = vec![];
        for (l, layer) in self.model.layers.iter().enumerate() {
            let (fan_in, fan_out) = (self.widths[l], self.widths[l + 1]);
            let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
            let w: Vec<f64> = (0..fan_in * fan_out)
                .map(|_| rng.random_range(-bound..bound))
                .collect();
            let w = Tensor::from_vec(w, (fan_out, fan_in), &Device::Cpu).map_err(cerr)?;
            let b = Tensor::zeros(fan_out, DType::F64, &Device::Cpu).map_err(cerr)?;
            out.push((
                layer.weight_tensor.clone(),
                Var::from_tensor(&w).map_err(cerr)?,
            ));
            out.push((
                layer.bias_tensor.clone(),
                Var::from_tensor(&b).map_err(cerr)?,
            ));
        }
        Ok(out)
    }

    fn forward(&self, params: &[(String, Var)], x: &Tensor) -> candle_core::Result<Tensor> {
        let mut a = x.clone();
        for (l, layer) in self.model.layers.iter().enumerate() {
            let (w, b) = (params[2 * l].1.as_tensor(), params[2 * l + 1].1.as_tensor());
            let z = a.matmul(&w.t()?)?.broadcast_add(b)?;
            a = activate(&layer.activation, z)?;
        }
        a.squeeze(1)
    }

    fn export(
        &self,
        params: &[(String, Var)],
        s: &Scaling,
    ) -> Result<BTreeMap<String, weights::Tensor>> {
        let layers = self.model.layers.len();
        let mut out = BTreeMap::new();
        for l in 0..layers {
            let w = params[2 * l].1.as_tensor().to_vec2::<f64>().map_err(cerr)?;
            let b = params[2 * l + 1]
                .1
                .as_tensor()
                .to_vec1::<f64>()
                .map_err(cerr)?;
            let (rows, cols) = (w.len(), w[0].len());
            let mut w = Array2::from_shape_fn((rows, cols), |(i, j)| w[i][j]);
            let mut b = Array1::from_vec(b);
            if l == 0 {
                // W (x − μ)/σ + b = (W/σ) x + (b − W μ/σ)
                for j in 0..cols {
                    w.column_mut(j).mapv_inplace(|v| v / s.x_std[j]);
                }
                b = &b - &w.dot(&s.x_mean);
            }
            if l == layers - 1 {
                // y = σ_y y' + μ_y; the output layer is linear only if it has no activation
                w *= s.y_std;
                b *= s.y_std;
                b[0] += s.y_mean;
            }
            out.insert(
                params[2 * l].0.clone(),
                weights::Tensor {
                    shape: vec![rows, cols],
                    data: w.iter().copied().collect(),
                },
            );
            out.insert(
                params[2 * l + 1].0.clone(),
                weights::Tensor {
                    shape: vec![rows],
                    data: b.to_vec(),
                },
            );
        }
        Ok(out)
    }
}

pub(crate) fn to_tensor(x: &Array2<f64>) -> Result<Tensor> {
    Tensor::from_vec(
        x.as_standard_layout().iter().copied().collect::<Vec<_>>(),
        (x.nrows(), x.ncols()),
        &Device::Cpu,
    )
    .map_err(cerr)
}

/// Prepare the process for training; call it at the start of `main`, before any thread is
/// spawned (it writes the environment). Two settings, measured on the 3-channel lattice models
/// (8,000 10×10 configurations, batch 1,000, gather convolutions, one thread: 11.6 s an epoch
/// with glibc's defaults, 4 s with these):
///
/// - candle asks for its thread count before every matrix product and, unless
///   `RAYON_NUM_THREADS` is set, reads `/proc/cpuinfo` for it (98,520 reads in 20 s of
///   training with two threads). This sets `RAYON_NUM_THREADS` to candle's own default
///   (physical cores) unless the user set it.
/// - A training step allocates and frees tensors of tens of MB. glibc returns such blocks to the
///   kernel at every free (mmap above a threshold, heap trimming), so every step paid page faults
///   on fresh zeroed pages (~50 % of the time). Blocks up to 32 MiB now come from the heap and up
///   to 1 GiB of freed heap is kept for reuse.
pub fn prepare_process() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let n = candle_core::utils::get_num_threads();
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocator parameters; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

/// Train `model` on `data` and return its weights (raw scale, spec tensor names) and a report.
///
/// Fails with a clear message if the output layer has an activation (the target scaling could not
/// be folded into it), if the data are too few for the split, or if the loss diverges.
pub fn train(
    model: &dyn Trainable,
    data: &Dataset,
    cfg: &Config,
    has_output_activation: bool,
) -> Result<(BTreeMap<String, weights::Tensor>, Report)> {
    if has_output_activation {
        return Err(Error::invalid(
            "the output layer has an activation; training needs a linear output",
            "write `output 1` without an activation",
        ));
    }
    let t0 = Instant::now();
    let mut rng = feynn::random::seeded(cfg.seed);
    let (val_idx, train_idx) = split(data.len(), cfg, &mut rng)?;
    let (val_idx, train_idx) = (val_idx.as_slice(), train_idx.as_slice());
    let n_val = val_idx.len();
    let train_set = data.select(train_idx);
    let mut scale = Scaling::fit(&train_set.inputs, &train_set.targets);
    if !model.standardise_inputs() {
        scale.x_mean.fill(0.0);
        scale.x_std.fill(1.0);
    }
    let standardise = |d: &Dataset| -> (Array2<f64>, Array1<f64>) {
        let x = (&d.inputs - &s_row(&scale.x_mean)) / &s_row(&scale.x_std);
        let y = (&d.targets - scale.y_mean) / scale.y_std;
        (x, y)
    };
    let (xt, yt) = standardise(&train_set);
    let xt_t = to_tensor(&xt)?;
    let yt_t = Tensor::from_vec(yt.to_vec(), yt.len(), &Device::Cpu).map_err(cerr)?;
    let val = (n_val > 0).then(|| standardise(&data.select(val_idx)));
    let val_t = match &val {
        Some((x, y)) => Some((
            to_tensor(x)?,
            Tensor::from_vec(y.to_vec(), y.len(), &Device::Cpu).map_err(cerr)?,
        )),
        None => None,
    };

    let params = model.init(xt.ncols(), &mut rng)?;
    let vars: Vec<Var> = params.iter().map(|(_, v)| v.clone()).collect();
    let mse = |x: &Tensor, y: &Tensor| -> candle_core::Result<Tensor> {
        (model.forward(&params, x)? - y)?.sqr()?.mean_all()
    };
    let fit = optimise(
        &vars,
        train_idx.len(),
        cfg,
        &mut rng,
        |ix| {
            let xb = xt_t.index_select(ix, 0)?;
            let yb = yt_t.index_select(ix, 0)?;
            mse(&xb, &yb)
        },
        |train_loss| match &val_t {
            Some((x, y)) => mse(x, y)?.to_scalar::<f64>(),
            None => Ok(train_loss),
        },
        None,
    )?;
    let (epochs_run, best_epoch, best_train, best) =
        (fit.epochs_run, fit.best_epoch, fit.train_loss, fit.val_loss);
    let tensors = model.export(&params, &scale)?;
    // The validation RMSE of the raw target (best weights, scaling undone).
    let val_rmse = match &val {
        Some(_) => {
            let vd = data.select(val_idx);
            let pred = model
                .forward(
                    &params,
                    &to_tensor(&((&vd.inputs - &s_row(&scale.x_mean)) / &s_row(&scale.x_std)))?,
                )
                .and_then(|t| t.to_vec1::<f64>())
                .map_err(cerr)?;
            let se: f64 = pred
                .iter()
                .zip(vd.targets.iter())
                .map(|(p, t)| (p * scale.y_std + scale.y_mean - t).powi(2))
                .sum();
            (se / vd.len() as f64).sqrt()
        }
        None => (best * scale.y_std * scale.y_std).sqrt(),
    };
    Ok((
        tensors,
        Report {
            epochs_run,
            best_epoch,
            stopped_early: epochs_run < cfg.epochs,
            train_loss: best_train,
            val_loss: best,
            val_rmse,
            train_samples: train_idx.len(),
            val_samples: n_val,
            seconds: t0.elapsed().as_secs_f64(),
        },
    ))
}

/// Check the settings and split `rows` shuffled row indices into (validation, training).
pub(crate) fn split(
    rows: usize,
    cfg: &Config,
    rng: &mut SeededRng,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(cfg.val_fraction >= 0.0 && cfg.val_fraction < 1.0) || cfg.batch == 0 || cfg.epochs == 0 {
        return Err(Error::invalid(
            "training settings out of range",
            "need 0 ≤ validation fraction < 1, batch ≥ 1, epochs ≥ 1",
        ));
    }
    let mut idx: Vec<usize> = (0..rows).collect();
    idx.shuffle(rng);
    let n_val = ((rows as f64 * cfg.val_fraction).round() as usize).min(rows.saturating_sub(1));
    let train = idx.split_off(n_val);
    if train.len() < 2 {
        return Err(Error::invalid(
            format!("{rows} samples are too few to train on"),
            "give more samples",
        ));
    }
    Ok((idx, train))
}

/// The outcome of [`optimise`]: the losses of the epoch whose values the variables hold.
pub(crate) struct Optimised {
    pub epochs_run: usize,
    pub best_epoch: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    /// Whether the last epoch was kept (else the best one).
    pub kept_last: bool,
}

/// The training loop shared by every model kind: AdamW with cosine learning-rate decay over
/// shuffled mini-batches of `n_train` rows, the validation loss after every epoch, early stopping
/// after `cfg.patience` epochs without improvement. The best epoch's values are put back into
/// `vars`, except with `keep_last_within = Some(tol)` when the last epoch's validation loss is
/// within `tol` of the best: maximum-likelihood fits with few parameters, where the held-out loss
/// of nearly converged epochs differs by less than its noise, so that its minimum picks a random,
/// less converged epoch, while a fit that overfits or diverges late is still rolled back.
/// `batch_loss` gets the batch's row indices (u32 tensor); `val_loss` the epoch's mean training
/// loss (to return when there is no validation set).
pub(crate) fn optimise(
    vars: &[Var],
    n_train: usize,
    cfg: &Config,
    rng: &mut SeededRng,
    batch_loss: impl Fn(&Tensor) -> candle_core::Result<Tensor>,
    val_loss: impl Fn(f64) -> candle_core::Result<f64>,
    keep_last_within: Option<f64>,
) -> Result<Optimised> {
    let mut opt = AdamW::new(
        vars.to_vec(),
        ParamsAdamW {
            lr: cfg.lr,
            weight_decay: cfg.weight_decay,
            ..ParamsAdamW::default()
        },
    )
    .map_err(cerr)?;
    let bar = progress_bar(cfg);
    let mut order: Vec<u32> = (0..n_train as u32).collect();
    let (mut best, mut best_epoch, mut best_train) = (f64::INFINITY, 0usize, f64::INFINITY);
    let snapshot = || -> Result<Vec<Tensor>> {
        vars.iter()
            .map(|v| v.as_tensor().copy().map_err(cerr))
            .collect()
    };
    let mut best_params = snapshot()?;
    let mut epochs_run = 0;
    let (mut last_train, mut last_val) = (f64::INFINITY, f64::INFINITY);
    for epoch in 0..cfg.epochs {
        opt.set_learning_rate(cfg.schedule.rate(cfg.lr, cfg.lr_end, epoch, cfg.epochs));
        order.shuffle(rng);
        let mut sum = 0.0;
        for chunk in order.chunks(cfg.batch) {
            let ix = Tensor::from_slice(chunk, chunk.len(), &Device::Cpu).map_err(cerr)?;
            let loss = batch_loss(&ix).map_err(cerr)?;
            sum += loss.to_scalar::<f64>().map_err(cerr)? * chunk.len() as f64;
            let loss = if cfg.l2 > 0.0 {
                // the penalty enters the gradient only; the reported loss stays the data's
                let penalised = || -> candle_core::Result<Tensor> {
                    let mut pen = loss.clone();
                    for v in vars {
                        pen = (pen + (v.as_tensor().sqr()?.sum_all()? * (0.5 * cfg.l2))?)?;
                    }
                    Ok(pen)
                };
                penalised().map_err(cerr)?
            } else {
                loss
            };
            opt.backward_step(&loss).map_err(cerr)?;
        }
        let train_loss = sum / n_train as f64;
        if !train_loss.is_finite() {
            return Err(Error::invalid(
                format!("the training loss diverged at epoch {}", epoch + 1),
                "lower the learning rate (--lr)",
            ));
        }
        let val = val_loss(train_loss).map_err(cerr)?;
        (last_train, last_val) = (train_loss, val);
        epochs_run = epoch + 1;
        if val < best {
            best = val;
            best_epoch = epoch + 1;
            best_train = train_loss;
            best_params = snapshot()?;
        }
        bar.set_position(epochs_run as u64);
        bar.set_message(|| {
            format!("train {train_loss:.3e}  val {val:.3e}  best {best:.3e}@{best_epoch}")
        });
        if epoch + 1 - best_epoch >= cfg.patience {
            break;
        }
    }
    drop(bar);
    if keep_last_within.is_some_and(|tol| last_val.is_finite() && last_val <= best + tol) {
        return Ok(Optimised {
            epochs_run,
            best_epoch,
            train_loss: last_train,
            val_loss: last_val,
            kept_last: true,
        });
    }
    for (v, t) in vars.iter().zip(&best_params) {
        v.set(t).map_err(cerr)?;
    }
    Ok(Optimised {
        epochs_run,
        best_epoch,
        train_loss: best_train,
        val_loss: best,
        kept_last: false,
    })
}

fn s_row(v: &Array1<f64>) -> ndarray::ArrayView2<'_, f64> {
    v.view().insert_axis(ndarray::Axis(0))
}

pub(crate) fn progress_bar(cfg: &Config) -> crate::progress::Progress {
    crate::progress::Progress::start(cfg.epochs as u64, "epoch", cfg.progress)
}
