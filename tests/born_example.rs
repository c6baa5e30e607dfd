//! The trained Born example (`examples/born/`, made by `cargo run --release --example train_born`):
//! the spec and weights load, the network reproduces the exact scattering length on fresh shallow
//! attractive potentials, and its gradient at U = 0 follows the first Born term g_n.

use std::path::PathBuf;

use feynn::model::weights::TensorStore;
use feynn::model::{load_model, Network};
use feynn::numeric::{Expander, Options};
use feynn_studies::physics::{self, born};

const STEPS: usize = 64;

/// Tolerances for the committed weights. The example reports a validation RMSE of 6.8e-4 (max
/// 1.1e-2); these fresh potentials give an RMS error of 7.9e-4, every error below 11 % of its
/// tolerance. The bounds leave a margin of about 6× for a retrained network while still failing
/// a badly trained one (the spread of a0 here is 0.19: predicting the mean gives an RMS of 0.19).
/// Per potential: |network − a0| ≤ TOL_ABS + TOL_REL·|a0|.
const TOL_ABS: f64 = 0.01;
const TOL_REL: f64 = 0.02;
/// Bound on the root-mean-square error over all fresh potentials.
const TOL_RMS: f64 = 0.005;

fn network() -> Network {
    let spec =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("examples/born/born.fnn");
    let model = load_model(&spec, None).expect("examples/born/born.fnn parses");
    assert_eq!(model.fixed_widths(), Some(vec![64, 16, 16, 1]));
    let weights = model
        .weights_file
        .clone()
        .expect("the spec names its weights");
    Network::from_store(
        &model,
        &TensorStore::load(&weights).expect("born.safetensors loads"),
    )
    .expect("weights fit the spec")
}

/// xorshift64*, independent of the example's generator and seed.
struct Rng(u64);
impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Fresh shallow attractive potentials: a Gaussian, a square well, an exponential and
/// a Woods–Saxon-like shape, each at a random fraction 0.05–0.5 of its unitary-limit depth.
fn fresh_potentials() -> Vec<Vec<f64>> {
    let mut rng = Rng(0x5eed_b0a1_2025_0001);
    let mut out = Vec::new();
    for i in 0..24 {
        let (p, q) = (rng.uniform(), rng.uniform());
        let shape: Vec<f64> = match i % 4 {
            0 => physics::midpoint_sample(
                |r| -(-((r - 0.3 - 0.6 * p) / (0.12 + 0.3 * q)).powi(2)).exp(),
                STEPS,
                1.0,
            ),
            1 => {
                physics::midpoint_sample(|r| if r < 0.4 + 0.6 * p { -1.0 } else { 0.0 }, STEPS, 1.0)
            }
            2 => physics::midpoint_sample(|r| -(-r / (0.3 + p)).exp(), STEPS, 1.0),
            _ => physics::midpoint_sample(
                |r| -1.0 / (1.0 + ((r - 0.4 - 0.4 * p) / (0.05 + 0.1 * q)).exp()),
                STEPS,
                1.0,
            ),
        };
        let lstar =
            physics::unitary_scale(&shape, 1.0).expect("attractive shapes bind at some depth");
        let f = 0.05 + 0.45 * rng.uniform();
        let u: Vec<f64> = shape.iter().map(|v| f * lstar * v).collect();
        assert!(physics::is_shallow_attractive(&u, 1.0));
        out.push(u);
    }
    out
}

/// RMS error over the fresh potentials, the worst ratio |error|/(TOL_ABS + TOL_REL·|a0|), and the
/// spread (standard deviation) of the exact a0.
fn fit(net: &Network) -> (f64, f64, f64) {
    let pots = fresh_potentials();
    let exact: Vec<f64> = pots
        .iter()
        .map(|u| physics::scattering_length(u, 1.0))
        .collect();
    let pred: Vec<f64> = pots.iter().map(|u| net.forward(u).unwrap()[0]).collect();
    let n = pots.len() as f64;
    let rms = (pred
        .iter()
        .zip(&exact)
        .map(|(y, a)| (y - a).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    let worst = pred
        .iter()
        .zip(&exact)
        .map(|(y, a)| (y - a).abs() / (TOL_ABS + TOL_REL * a.abs()))
        .fold(0.0, f64::max);
    let mean = exact.iter().sum::<f64>() / n;
    let spread = (exact.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n).sqrt();
    (rms, worst, spread)
}

/// The network's gradient at U = 0 (feynn's Taylor-mode numerics), its Pearson correlation with
/// g_n, its sum and y(0).
fn gradient(net: &Network) -> (f64, f64, f64) {
    let ex = Expander::new(
        net,
        &Options {
            order: 1,
            ..Options::default()
        },
    )
    .unwrap();
    let e = ex.expand(&[0.0; STEPS]).unwrap();
    let grad: Vec<f64> = (0..STEPS)
        .map(|i| e.get(&ex.basis, 0, &[i as u32]).unwrap())
        .collect();
    let g = born::first_order(STEPS, 1.0);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mg, mn) = (mean(&g), mean(&grad));
    let cov: f64 = g.iter().zip(&grad).map(|(a, b)| (a - mg) * (b - mn)).sum();
    let var = |v: &[f64], m: f64| v.iter().map(|a| (a - m).powi(2)).sum::<f64>();
    (
        cov / (var(&g, mg) * var(&grad, mn)).sqrt(),
        grad.iter().sum(),
        e.coefficients[[0, 0]],
    )
}

#[test]
fn reproduces_the_scattering_length_of_fresh_shallow_potentials() {
    let (rms, worst, spread) = fit(&network());
    println!("fresh potentials: RMS error {rms:.3e}, worst error/tolerance {worst:.3}, spread of a0 {spread:.3}");
    assert!(
        worst <= 1.0,
        "an error exceeds TOL_ABS + TOL_REL·|a0| by a factor {worst:.3}"
    );
    assert!(rms <= TOL_RMS, "RMS error {rms:.4}");
    // Much better than predicting the mean.
    assert!(
        rms < 0.2 * spread,
        "RMS error {rms:.4} vs spread of a0 {spread:.4}"
    );
}

#[test]
fn gradient_at_zero_follows_the_first_born_term() {
    let (corr, sum, y0) = gradient(&network());
    println!("gradient at U = 0: correlation with g_n {corr:.4}, sum {sum:.4} (exact 1/3), y(0) = {y0:.2e}");
    assert!(
        corr > 0.9,
        "correlation of the learned gradient with g_n: {corr:.4}"
    );
    // The total weight Σ ∂a0/∂U_n = R³/3 within 20 %.
    assert!(
        (sum - 1.0 / 3.0).abs() < 0.2 / 3.0,
        "Σ gradient = {sum:.4}, exact 1/3"
    );
    assert!(y0.abs() < 0.02, "y(0) = {y0}");
}

/// The checks above can fail: the same weights with the input order reversed (U_64..U_1, a
/// plausible wiring mistake) miss both.
#[test]
fn a_miswired_network_fails_the_checks() {
    let mut net = network();
    net.weights[0].invert_axis(ndarray::Axis(1));
    let (rms, worst, _) = fit(&net);
    let (corr, _, _) = gradient(&net);
    println!("reversed inputs: RMS error {rms:.3e}, worst error/tolerance {worst:.3}, gradient correlation {corr:.4}");
    assert!(
        worst > 1.0 && rms > TOL_RMS,
        "the a0 check would not notice reversed inputs"
    );
    assert!(
        corr < 0.9,
        "the gradient check would not notice reversed inputs"
    );
}
