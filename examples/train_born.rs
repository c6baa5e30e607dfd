//! Train a small MLP on the S-wave scattering length of shallow attractive step potentials and
//! write it as a feynn model: `examples/born/born.fnn` + `examples/born/born.safetensors`.
//!
//! ```text
//! cargo run --release --example train_born            # seed 2024
//! cargo run --release --example train_born -- 7       # another seed
//! ```
//!
//! **A stand-in trainer**, kept because it made the committed `examples/born/born.safetensors`;
//! new training goes through `feynn train` (feature `train`). Plain mini-batch Adam with hand-written backpropagation on ndarray, just
//! enough to produce a reasonable 64 → 16 → 16 → 1 tanh network for the README's main job. The
//! project's real trainer (candle-based `feynn train`) comes with a later issue.
//!
//! Everything is deterministic from the seed (a SplitMix64 generator written out below, no
//! threads, no platform-dependent randomness):
//!
//! 1. **Data.** 16000 training and 2000 validation potentials on N = 64 equal steps of [0, R],
//!    R = 1, ħ²/2μ = 1. A shape S ≤ 0 is drawn with equal odds from five families (sums of 1–3
//!    Gaussians; 1–2 square wells, discretised by overlap; exponentials e^{−r/b}, optionally plus
//!    a surface-peaked e^{−(R−r)/b}; independent random depths per step; a random mix of the first
//!    three), then scaled to U = f·λ*·S with f uniform in [0, F_MAX], where λ* is the unitary-limit
//!    scale of the shape ([`feynn_studies::physics::unitary_scale`]): the Born series of a₀ converges for
//!    f < 1, and f ≤ F_MAX = 0.5 keeps every potential "shallow". Potentials with a bound state or
//!    a₀ > 0 are rejected (none should be). The target is the exact a₀
//!    ([`feynn_studies::physics::scattering_length`]).
//! 2. **Training.** Inputs are standardised per step and the target by its mean and spread for
//!    the optimiser only; the scalings are folded into the first and last layer before saving, so
//!    the saved network maps raw U directly to a₀.
//! 3. **Checks.** The saved files are loaded back through `feynn::model`, the validation error is
//!    recomputed from them, and the network's gradient and Hessian at U = 0 (feynn's Taylor-mode
//!    numerics) are compared with the exact Born terms g_n and −2K_mn.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use feynn::model::weights::{write_safetensors, Tensor, TensorStore};
use feynn::model::Network;
use feynn::numeric::{Expander, Options};
use feynn_studies::physics::{self, born};
use ndarray::{Array1, Array2, Axis};

const STEPS: usize = 64;
const RANGE: f64 = 1.0;
const F_MAX: f64 = 0.5;
const N_TRAIN: usize = 16000;
const N_VAL: usize = 2000;
const HIDDEN: usize = 16;
const EPOCHS: usize = 2400;
const BATCH: usize = 100;
const LR_START: f64 = 3e-3;
const LR_END: f64 = 3e-5;

const SPEC: &str = r#"// 64-step potential U -> S-wave scattering length a0 (R = 1, hbar^2/2mu = 1)
model born {
  input 64
  layer 16 tanh
  layer 16 tanh
  output 1
  weights "born.safetensors"
}
"#;

/// SplitMix64: tiny, deterministic on every platform.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize
    }
    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// Step midpoints r_n − Δ/2.
fn midpoints() -> Vec<f64> {
    let d = RANGE / STEPS as f64;
    (0..STEPS).map(|i| (i as f64 + 0.5) * d).collect()
}

fn gaussians(rng: &mut Rng) -> Vec<f64> {
    let mut s = vec![0.0; STEPS];
    for _ in 0..1 + rng.below(3) {
        let (a, c, w) = (
            rng.range(0.2, 1.0),
            rng.range(0.15, 1.0),
            rng.range(0.08, 0.5),
        );
        for (v, r) in s.iter_mut().zip(midpoints()) {
            *v -= a * (-((r - c) / w).powi(2)).exp();
        }
    }
    s
}

fn wells(rng: &mut Rng) -> Vec<f64> {
    let d = RANGE / STEPS as f64;
    let mut s = vec![0.0; STEPS];
    for _ in 0..1 + rng.below(2) {
        let a = rng.range(0.3, 1.0);
        let lo = rng.range(0.0, 0.8);
        let hi = rng.range(lo + 0.1, RANGE);
        for (i, v) in s.iter_mut().enumerate() {
            // The fraction of step i inside [lo, hi].
            let overlap = ((i as f64 + 1.0) * d).min(hi) - (i as f64 * d).max(lo);
            *v -= a * overlap.max(0.0) / d;
        }
    }
    s
}

fn exponentials(rng: &mut Rng) -> Vec<f64> {
    let (a, b) = (rng.range(0.3, 1.0), rng.range(0.2, 1.5));
    let surface = if rng.uniform() < 0.3 {
        rng.range(0.1, 0.6)
    } else {
        0.0
    };
    let bs = rng.range(0.05, 0.3);
    midpoints()
        .into_iter()
        .map(|r| -a * (-r / b).exp() - surface * (-(RANGE - r) / bs).exp())
        .collect()
}

/// Independent uniform depths on every step: a rough family that spans all 64 input directions
/// (the smooth families alone leave most directions of U unconstrained, and the learned gradient
/// at U = 0 is then much worse; see examples/born/README.md).
fn random_steps(rng: &mut Rng) -> Vec<f64> {
    (0..STEPS).map(|_| -rng.uniform()).collect()
}

/// A shallow attractive potential and its exact a₀.
fn sample(rng: &mut Rng) -> (Vec<f64>, f64) {
    loop {
        let shape = match rng.below(5) {
            0 => gaussians(rng),
            1 => wells(rng),
            2 => exponentials(rng),
            3 => random_steps(rng),
            _ => {
                let (g, w, e) = (gaussians(rng), wells(rng), exponentials(rng));
                let (x, y, z) = (rng.uniform(), rng.uniform(), rng.uniform());
                (0..STEPS).map(|i| x * g[i] + y * w[i] + z * e[i]).collect()
            }
        };
        let Some(lstar) = physics::unitary_scale(&shape, RANGE) else {
            continue;
        };
        let f = rng.range(0.0, F_MAX);
        let u: Vec<f64> = shape.iter().map(|v| f * lstar * v).collect();
        if !physics::is_shallow_attractive(&u, RANGE) {
            continue;
        }
        let a0 = physics::scattering_length(&u, RANGE);
        if a0 > 0.0 || !a0.is_finite() {
            continue;
        }
        return (u, a0);
    }
}

/// The 64 → 16 → 16 → 1 tanh MLP, PyTorch layout W [out, in].
#[derive(Clone)]
struct Mlp {
    w: [Array2<f64>; 3],
    b: [Array1<f64>; 3],
}

struct Adam {
    m: Mlp,
    v: Mlp,
    t: i32,
}

impl Mlp {
    fn new(rng: &mut Rng) -> Mlp {
        let sizes = [(HIDDEN, STEPS), (HIDDEN, HIDDEN), (1, HIDDEN)];
        let w = sizes.map(|(o, i)| {
            let s = (1.0 / i as f64).sqrt();
            Array2::from_shape_fn((o, i), |_| s * rng.normal())
        });
        let b = sizes.map(|(o, _)| Array1::zeros(o));
        Mlp { w, b }
    }

    fn zeros_like(&self) -> Mlp {
        Mlp {
            w: self.w.clone().map(|a| a * 0.0),
            b: self.b.clone().map(|a| a * 0.0),
        }
    }

    /// Outputs [B] and the hidden activations of a batch x [B, 64].
    fn forward(&self, x: &Array2<f64>) -> (Array1<f64>, Array2<f64>, Array2<f64>) {
        let a1 = (x.dot(&self.w[0].t()) + &self.b[0]).mapv(f64::tanh);
        let a2 = (a1.dot(&self.w[1].t()) + &self.b[1]).mapv(f64::tanh);
        let y = a2.dot(&self.w[2].t()).column(0).to_owned() + self.b[2][0];
        (y, a1, a2)
    }

    /// Mean squared error of the batch and its gradient.
    fn loss_grad(&self, x: &Array2<f64>, t: &Array1<f64>) -> (f64, Mlp) {
        let n = x.nrows() as f64;
        let (y, a1, a2) = self.forward(x);
        let r = &y - t;
        let loss = r.mapv(|v| v * v).sum() / n;
        let dy = (r * (2.0 / n)).insert_axis(Axis(1)); // [B, 1]
        let gw3 = dy.t().dot(&a2);
        let gb3 = dy.sum_axis(Axis(0));
        let dz2 = dy.dot(&self.w[2]) * a2.mapv(|a| 1.0 - a * a);
        let gw2 = dz2.t().dot(&a1);
        let gb2 = dz2.sum_axis(Axis(0));
        let dz1 = dz2.dot(&self.w[1]) * a1.mapv(|a| 1.0 - a * a);
        let gw1 = dz1.t().dot(x);
        let gb1 = dz1.sum_axis(Axis(0));
        (
            loss,
            Mlp {
                w: [gw1, gw2, gw3],
                b: [gb1, gb2, gb3],
            },
        )
    }

    fn params_mut(&mut self) -> Vec<&mut f64> {
        let Mlp { w, b } = self;
        w.iter_mut()
            .flat_map(|a| a.iter_mut())
            .chain(b.iter_mut().flat_map(|a| a.iter_mut()))
            .collect()
    }
}

impl Adam {
    fn step(&mut self, net: &mut Mlp, mut grad: Mlp, lr: f64) {
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
        self.t += 1;
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        let ps = net.params_mut();
        let gs = grad.params_mut();
        let ms = self.m.params_mut();
        let vs = self.v.params_mut();
        for (((p, g), m), v) in ps.into_iter().zip(gs).zip(ms).zip(vs) {
            *m = b1 * *m + (1.0 - b1) * *g;
            *v = b2 * *v + (1.0 - b2) * *g * *g;
            *p -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
        }
    }
}

fn rows(data: &[(Vec<f64>, f64)]) -> (Array2<f64>, Array1<f64>) {
    let x = Array2::from_shape_fn((data.len(), STEPS), |(i, j)| data[i].0[j]);
    let t = Array1::from_iter(data.iter().map(|d| d.1));
    (x, t)
}

fn rms(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x * x, n + 1));
    (s / n as f64).sqrt()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let seed: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(2024);
    let mut rng = Rng(seed);

    // 1. Data.
    let data: Vec<(Vec<f64>, f64)> = (0..N_TRAIN + N_VAL).map(|_| sample(&mut rng)).collect();
    let (train, val) = data.split_at(N_TRAIN);
    let (x_raw, t_raw) = rows(train);
    let (xv_raw, tv_raw) = rows(val);
    let a0s: Vec<f64> = data.iter().map(|d| d.1).collect();
    let umin = data
        .iter()
        .flat_map(|d| d.0.iter().copied())
        .fold(0.0, f64::min);
    println!(
        "data: {} train + {} validation shallow attractive potentials (seed {seed}); a0 in [{:.4}, {:.4}], mean {:.4}; min U = {umin:.2} ({:.1} s)",
        N_TRAIN,
        N_VAL,
        a0s.iter().copied().fold(f64::INFINITY, f64::min),
        a0s.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        a0s.iter().sum::<f64>() / a0s.len() as f64,
        start.elapsed().as_secs_f64()
    );

    // Standardisation (optimiser only; folded into the weights below).
    let mu = x_raw.mean_axis(Axis(0)).unwrap();
    let sd = x_raw.std_axis(Axis(0), 0.0).mapv(|s| s.max(1e-8));
    let (ty_mu, ty_sd) = (t_raw.mean().unwrap(), t_raw.std(0.0));
    let x = (&x_raw - &mu) / &sd;
    let t = (&t_raw - ty_mu) / ty_sd;
    let xv = (&xv_raw - &mu) / &sd;

    // 2. Training: mini-batch Adam, cosine-decayed learning rate.
    let mut net = Mlp::new(&mut rng);
    let mut adam = Adam {
        m: net.zeros_like(),
        v: net.zeros_like(),
        t: 0,
    };
    let mut order: Vec<usize> = (0..N_TRAIN).collect();
    let mut last_loss = 0.0;
    for epoch in 0..EPOCHS {
        let lr = LR_END
            + 0.5
                * (LR_START - LR_END)
                * (1.0 + (std::f64::consts::PI * epoch as f64 / EPOCHS as f64).cos());
        for i in (1..N_TRAIN).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let mut sum = 0.0;
        for chunk in order.chunks(BATCH) {
            let xb = x.select(Axis(0), chunk);
            let tb = t.select(Axis(0), chunk);
            let (loss, grad) = net.loss_grad(&xb, &tb);
            sum += loss * chunk.len() as f64;
            adam.step(&mut net, grad, lr);
        }
        last_loss = sum / N_TRAIN as f64;
        if epoch % 250 == 0 || epoch + 1 == EPOCHS {
            let (yv, _, _) = net.forward(&xv);
            let val_rmse = rms(yv.iter().zip(&tv_raw).map(|(y, t)| y * ty_sd + ty_mu - t));
            println!("epoch {epoch:>5}  lr {lr:.2e}  train loss (standardised) {last_loss:.3e}  val RMSE {val_rmse:.3e}  ({:.1} s)", start.elapsed().as_secs_f64());
        }
    }

    // Fold the scalings: U → (U − μ)/σ into layer 1, ỹ → σ_y ỹ + μ_y into layer 3.
    let w1 = &net.w[0] / &sd.view().insert_axis(Axis(0));
    let b1 = &net.b[0] - &w1.dot(&mu);
    let w3 = &net.w[2] * ty_sd;
    let b3 = &net.b[2] * ty_sd + ty_mu;
    let layers = [(w1, b1), (net.w[1].clone(), net.b[1].clone()), (w3, b3)];
    let mut tensors = BTreeMap::new();
    for (l, (w, b)) in layers.iter().enumerate() {
        let w = w.as_standard_layout();
        tensors.insert(
            format!("{}.weight", 2 * l),
            Tensor {
                shape: w.shape().to_vec(),
                data: w.iter().copied().collect(),
            },
        );
        tensors.insert(
            format!("{}.bias", 2 * l),
            Tensor {
                shape: vec![b.len()],
                data: b.to_vec(),
            },
        );
    }
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("examples/born");
    std::fs::create_dir_all(&dir)?;
    write_safetensors(&dir.join("born.safetensors"), &tensors)?;
    std::fs::write(dir.join("born.fnn"), SPEC)?;
    println!(
        "wrote {} and born.fnn",
        dir.join("born.safetensors").display()
    );

    // 3. Checks on the saved model, loaded back through feynn.
    let model = feynn::model::load_model(&dir.join("born.fnn"), None)?;
    let store = TensorStore::load(model.weights_file.as_ref().unwrap())?;
    let saved = Network::from_store(&model, &store)?;
    let err = |set: &[(Vec<f64>, f64)]| -> Result<(f64, f64), feynn::Error> {
        let mut e = Vec::with_capacity(set.len());
        for (u, a0) in set {
            e.push(saved.forward(u)?[0] - a0);
        }
        Ok((
            rms(e.iter().copied()),
            e.iter().fold(0.0f64, |m, v| m.max(v.abs())),
        ))
    };
    let (train_rmse, _) = err(train)?;
    let (val_rmse, val_max) = err(val)?;
    let val_sd = tv_raw.std(0.0);
    let born1 = rms(val
        .iter()
        .map(|(u, a0)| born::first_order_term(u, RANGE) - a0));
    let born2 = rms(val
        .iter()
        .map(|(u, a0)| born::first_order_term(u, RANGE) + born::second_order_term(u, RANGE) - a0));
    println!("final train loss (standardised MSE) {last_loss:.3e}");
    println!("saved network: train RMSE {train_rmse:.3e}, validation RMSE {val_rmse:.3e} (max |err| {val_max:.3e}; std of a0 {val_sd:.3e})");
    println!("for comparison on validation: first-order Born RMSE {born1:.3e}, first+second-order Born RMSE {born2:.3e}");
    println!("y(0) = {:.3e}", saved.forward(&[0.0; STEPS])?[0]);

    let ex = Expander::new(
        &saved,
        &Options {
            order: 2,
            ..Options::default()
        },
    )?;
    let e = ex.expand(&[0.0; STEPS])?;
    let grad: Vec<f64> = (0..STEPS)
        .map(|i| e.get(&ex.basis, 0, &[i as u32]).unwrap())
        .collect();
    let g = born::first_order(STEPS, RANGE);
    let norm = |v: &mut dyn Iterator<Item = f64>| v.map(|x| x * x).sum::<f64>().sqrt();
    let grad_err =
        norm(&mut grad.iter().zip(&g).map(|(a, b)| a - b)) / norm(&mut g.iter().copied());
    let cos = grad.iter().zip(&g).map(|(a, b)| a * b).sum::<f64>()
        / (norm(&mut grad.iter().copied()) * norm(&mut g.iter().copied()));
    println!("gradient at U = 0 vs exact g_n: relative L2 error {grad_err:.4}, cosine {cos:.4}; sum {:.4} (exact 1/3)", grad.iter().sum::<f64>());
    // Hessian: c_[i,j] = H_ij for i ≠ j and H_ii/2 on the diagonal.
    let k = born::k_matrix(STEPS, RANGE);
    let (mut diff, mut refn) = (0.0, 0.0);
    for i in 0..STEPS {
        for j in 0..STEPS {
            let c = e.get(&ex.basis, 0, &[i as u32, j as u32]).unwrap();
            let h = if i == j { 2.0 * c } else { c };
            diff += (h + 2.0 * k[[i, j]]).powi(2);
            refn += (2.0 * k[[i, j]]).powi(2);
        }
    }
    println!("Hessian at U = 0 vs exact -2K: relative Frobenius error {:.3} (not a training target; theory notes §4)", (diff / refn).sqrt());
    println!("total time {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}
