#![cfg(feature = "train")]
//! Training with candle (`feynn train`) against known targets: a quadratic whose gradient and
//! Hessian at 0 are known, recovered through feynn's Taylor engine from the written weights.

use std::path::Path;
use std::process::Command;

use feynn::model::weights::{write_safetensors, TensorStore};
use feynn::model::{load_model, Network};
use feynn::numeric::{Expander, Options};
use feynn_studies::data::Dataset;
use feynn_studies::train::{train, Config, Mlp};
use ndarray::{Array1, Array2};

const GRAD: [f64; 3] = [0.8, -0.5, 0.3];
const HESS: [[f64; 3]; 3] = [[-0.6, 0.2, 0.0], [0.2, 0.4, -0.3], [0.0, -0.3, 0.2]];

/// y = 0.1 + g·x + ½ xᵀHx on x uniform in [−1, 1]³ (own xorshift generator).
fn quadratic_data(n: usize) -> Dataset {
    let mut s = 0x1234_5678_9abc_def1u64;
    let mut u = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        2.0 * ((s >> 11) as f64 / (1u64 << 53) as f64) - 1.0
    };
    let x = Array2::from_shape_fn((n, 3), |_| u());
    let y = Array1::from_iter(x.rows().into_iter().map(|r| {
        let mut v = 0.1;
        for i in 0..3 {
            v += GRAD[i] * r[i];
            for j in 0..3 {
                v += 0.5 * HESS[i][j] * r[i] * r[j];
            }
        }
        v
    }));
    Dataset {
        inputs: x,
        targets: y,
        extra: Default::default(),
        metadata: None,
    }
}

fn spec(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("q.fnn");
    std::fs::write(
        &p,
        "model q {\n input 3\n layer 12 tanh\n output 1\n weights \"q.safetensors\"\n}\n",
    )
    .unwrap();
    p
}

fn cfg(seed: u64) -> Config {
    Config {
        epochs: 300,
        batch: 64,
        lr: 1e-2,
        lr_end: 1e-4,
        patience: 300,
        seed,
        ..Config::default()
    }
}

fn taylor(net: &Network) -> (f64, Vec<f64>, [[f64; 3]; 3]) {
    let ex = Expander::new(
        net,
        &Options {
            order: 2,
            ..Options::default()
        },
    )
    .unwrap();
    let e = ex.expand(&[0.0; 3]).unwrap();
    let g = (0..3).map(|i| e.get(&ex.basis, 0, &[i]).unwrap()).collect();
    let mut h = [[0.0; 3]; 3];
    for i in 0..3u32 {
        for j in 0..3u32 {
            let c = e.get(&ex.basis, 0, &[i, j]).unwrap();
            h[i as usize][j as usize] = if i == j { 2.0 * c } else { c };
        }
    }
    (e.coefficients[[0, 0]], g, h)
}

#[test]
fn recovers_gradient_and_hessian_of_a_quadratic() {
    let dir = tempfile::tempdir().unwrap();
    let model = load_model(&spec(dir.path()), None).unwrap();
    let data = quadratic_data(1500);
    let mlp = Mlp::new(&model, 3).unwrap();
    let (w, rep) = train(&mlp, &data, &cfg(3), false).unwrap();
    println!("{rep:?}");
    assert!(rep.val_rmse < 5e-3, "validation RMSE {}", rep.val_rmse);
    // Written and read back the way `feynn taylor` does.
    let path = dir.path().join("q.safetensors");
    write_safetensors(&path, &w).unwrap();
    let net = Network::from_store(&model, &TensorStore::load(&path).unwrap()).unwrap();
    let (c0, g, h) = taylor(&net);
    println!("c0 {c0}, g {g:?}, H {h:?}");
    assert!((c0 - 0.1).abs() < 0.01, "{c0}");
    let gerr = (0..3).map(|i| (g[i] - GRAD[i]).powi(2)).sum::<f64>().sqrt();
    assert!(gerr < 0.03, "gradient error {gerr}");
    let herr: f64 = (0..3)
        .flat_map(|i| (0..3).map(move |j| (i, j)))
        .map(|(i, j)| (h[i][j] - HESS[i][j]).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(herr < 0.1, "Hessian error {herr}");
    // The same seed gives the same weights; another seed does not.
    let (w2, _) = train(&mlp, &data, &cfg(3), false).unwrap();
    assert_eq!(w, w2);
    let (w3, _) = train(
        &mlp,
        &data,
        &Config {
            epochs: 2,
            ..cfg(4)
        },
        false,
    )
    .unwrap();
    assert_ne!(w, w3);
}

#[test]
fn a_linear_model_cannot_fit_the_curvature() {
    // The check above can fail: a network without hidden nonlinearity learns the gradient but
    // has zero Hessian, and misses the data by the quadratic part.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lin.fnn");
    std::fs::write(
        &p,
        "model lin {\n input 3\n layer 4 identity\n output 1\n}\n",
    )
    .unwrap();
    let model = load_model(&p, None).unwrap();
    let (w, rep) = train(
        &Mlp::new(&model, 3).unwrap(),
        &quadratic_data(1500),
        &cfg(3),
        false,
    )
    .unwrap();
    assert!(rep.val_rmse > 0.05, "{}", rep.val_rmse);
    let store = TensorStore {
        path: "x".into(),
        tensors: w,
        ..Default::default()
    };
    let (_, _, h) = taylor(&Network::from_store(&model, &store).unwrap());
    assert!(h.iter().flatten().all(|v| v.abs() < 1e-12));
}

fn feynn(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_feynn"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn cli_train_writes_weights_that_taylor_reads() {
    let dir = tempfile::tempdir().unwrap();
    spec(dir.path());
    quadratic_data(1500)
        .write(&dir.path().join("q.npz"))
        .unwrap();
    let out = feynn(
        &[
            "train", "q.fnn", "--data", "q.npz", "--epochs", "300", "--lr", "1e-2", "--batch",
            "64", "--seed", "3", "--quiet", "--json",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rep: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rep["val_rmse"].as_f64().unwrap() < 5e-3);
    let out = feynn(
        &["taylor", "q.fnn", "--order", "1", "--format", "json"],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    // the gradient is in the JSON: find 0.8, −0.5, 0.3 within 0.03
    let nums: Vec<f64> = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
        .filter_map(|s| s.parse().ok())
        .collect();
    for g in GRAD {
        assert!(nums.iter().any(|x| (x - g).abs() < 0.03), "{g} not in {v}");
    }
}

#[test]
fn bad_training_input_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    spec(dir.path());
    // `targets` missing
    let d = quadratic_data(10);
    let mut npz =
        ndarray_npy::NpzWriter::new(std::fs::File::create(dir.path().join("bad.npz")).unwrap());
    npz.add_array("inputs", &d.inputs).unwrap();
    npz.finish().unwrap();
    let out = feynn(
        &["train", "q.fnn", "--data", "bad.npz", "--quiet"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`targets` is missing"));
    // 4 features for a 3-input spec
    let d4 = Dataset {
        inputs: Array2::zeros((10, 4)),
        ..quadratic_data(10)
    };
    d4.write(&dir.path().join("d4.npz")).unwrap();
    let out = feynn(
        &["train", "q.fnn", "--data", "d4.npz", "--quiet"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 inputs, the data 4 features"));
    // no such file
    let out = feynn(
        &["train", "q.fnn", "--data", "nope.npz", "--quiet"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_coupled_l2_penalty_shrinks_the_weights_and_the_step_schedule_steps() {
    use feynn_studies::train::Schedule;
    let dir = tempfile::tempdir().unwrap();
    let model = load_model(&spec(dir.path()), None).unwrap();
    let data = quadratic_data(600);
    let mlp = Mlp::new(&model, 3).unwrap();
    let norm = |l2: f64| {
        let c = Config {
            epochs: 60,
            patience: 60,
            l2,
            ..cfg(5)
        };
        let (w, _) = train(&mlp, &data, &c, false).unwrap();
        w.values()
            .flat_map(|t| t.data.iter())
            .map(|v| v * v)
            .sum::<f64>()
    };
    let (free, penalised) = (norm(0.0), norm(0.1));
    assert!(
        penalised < 0.7 * free,
        "Σθ² {penalised} with L2 vs {free} without"
    );
    // StepLR: lr·γ^⌊epoch/k⌋ (PyTorch's definition), cosine from lr to lr_end
    let s = Schedule::Step {
        every: 400,
        gamma: 0.5,
    };
    assert_eq!(s.rate(1e-3, 0.0, 399, 8000), 1e-3);
    assert_eq!(s.rate(1e-3, 0.0, 400, 8000), 5e-4);
    assert_eq!(s.rate(1e-3, 0.0, 1200, 8000), 1.25e-4);
    assert_eq!(Schedule::Cosine.rate(1e-3, 1e-5, 0, 100), 1e-3);
    assert!((Schedule::Cosine.rate(1e-3, 1e-5, 50, 100) - 0.505e-3).abs() < 1e-15);
    // the CLI refuses a malformed schedule before training
    data.write(&dir.path().join("q.npz")).unwrap();
    for bad in ["step:0:0.5", "step:10:1.5", "linear", "step:10"] {
        let o = Command::new(env!("CARGO_BIN_EXE_feynn"))
            .args([
                "train",
                "q.fnn",
                "--data",
                "q.npz",
                "--epochs",
                "1",
                "--schedule",
                bad,
            ])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("--schedule"), "{bad}: {err}");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_feynn"))
        .args([
            "train", "q.fnn", "--data", "q.npz", "--epochs", "2", "--quiet",
        ])
        .args([
            "--schedule",
            "step:1:0.5",
            "--l2",
            "0.01",
            "-o",
            "s.safetensors",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
