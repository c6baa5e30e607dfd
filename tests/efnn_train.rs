//! EFNN training (feature `train`): the candle forward pass equals the ndarray one on the same
//! weights, `feynn train` accepts efnn specs, and the quick studies run end to end.
#![cfg(feature = "train")]

use std::process::Command;

use feynn_studies::efnn::forward::EfnnNet;
use feynn_studies::efnn::train::{vars_from, EfnnTrainable};
use feynn_studies::efnn::{Arch, EfnnSpec, Geometry};
use ndarray::Array2;
use rand::{Rng, SeedableRng};

const BIN: &str = env!("CARGO_BIN_EXE_feynn");

/// Run feynn in `dir`, assert success, return its stdout.
fn run_in(dir: &std::path::Path, args: &[&str]) -> String {
    let o = Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[test]
fn candle_and_ndarray_forward_passes_agree() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    for arch in Arch::ALL {
        for geometry in [
            Geometry::Dense {
                inputs: 6,
                width: 5,
            },
            Geometry::Conv {
                channels: 2,
                kernel: 3,
            },
            Geometry::Conv {
                channels: 3,
                kernel: 5,
            },
        ] {
            for depth in [1, 3] {
                let spec = EfnnSpec::new("t", arch, geometry, depth).unwrap();
                let net = EfnnNet::random(spec.clone(), &mut rng);
                // lattices of 2, 3 and 4 sites a side: a 5×5 kernel wraps more than once on 2×2
                let n = 2
                    + depth % 3
                    + usize::from(matches!(geometry, Geometry::Conv { kernel: 5, .. }));
                let features = if spec.is_conv() { 3 * n * n } else { 6 };
                let x = Array2::from_shape_fn((4, features), |_| rng.random_range(-1.0..1.0));
                let nd = net.energies(&x).unwrap();
                let t = EfnnTrainable { spec: spec.clone() };
                let vars = vars_from(&net.tensors, &spec).unwrap();
                let cd = t.raw_forward(&vars, &x).unwrap();
                for (a, b) in nd.iter().zip(&cd) {
                    assert!(
                        (a - b).abs() < 1e-10 * a.abs().max(1.0),
                        "{arch:?} {geometry:?} n={depth}: {a} vs {b}"
                    );
                }
            }
        }
    }
}

/// The candle gradients (what training follows) against central differences of the ndarray
/// forward pass, for every convolutional architecture on a 3×3 torus with a 3×3 and a 5×5 kernel.
#[test]
fn candle_gradients_match_finite_differences_of_the_ndarray_pass() {
    use feynn_studies::train::candle_core::{Device, Tensor};
    use feynn_studies::train::Trainable;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for arch in Arch::ALL {
        for kernel in [3, 5] {
            let geometry = Geometry::Conv {
                channels: 2,
                kernel,
            };
            let spec = EfnnSpec::new("t", arch, geometry, 2).unwrap();
            let mut net = EfnnNet::random(spec.clone(), &mut rng);
            let x = Array2::from_shape_fn((3, 27), |_| rng.random_range(-1.0..1.0));
            let t = EfnnTrainable { spec: spec.clone() };
            let vars = vars_from(&net.tensors, &spec).unwrap();
            let xt = Tensor::from_vec(x.iter().copied().collect(), (3, 27), &Device::Cpu).unwrap();
            let loss = t.forward(&vars, &xt).unwrap().sum_all().unwrap();
            let grads = loss.backward().unwrap();
            for (name, var) in &vars {
                let g: Vec<f64> = grads
                    .get(var.as_tensor())
                    .unwrap_or_else(|| panic!("{arch:?} k={kernel}: no gradient for {name}"))
                    .flatten_all()
                    .unwrap()
                    .to_vec1()
                    .unwrap();
                // a few entries of every tensor, spread over it
                let len = g.len();
                for e in [0, len / 2, len - 1] {
                    let h = 1e-5;
                    let mut at = |d: f64| {
                        net.tensors.get_mut(name).unwrap().data[e] += d;
                        let v = net.energies(&x).unwrap().sum();
                        net.tensors.get_mut(name).unwrap().data[e] -= d;
                        v
                    };
                    let fd = (at(h) - at(-h)) / (2.0 * h);
                    assert!(
                        (fd - g[e]).abs() < 1e-6 * fd.abs().max(1.0),
                        "{arch:?} k={kernel} {name}[{e}]: candle {} vs finite differences {fd}",
                        g[e]
                    );
                }
            }
        }
    }
}

#[test]
fn feynn_train_fits_an_efnn_spec_better_than_the_mean() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| run_in(d, args);
    run(&[
        "efnn",
        "data",
        "three-spin",
        "--samples",
        "1200",
        "--quiet",
        "-o",
        "d.npz",
    ]);
    std::fs::write(
        d.join("m.fnn"),
        "efnn m { arch efnn input 15 width 15 depth 2 weights \"m.safetensors\" }\n",
    )
    .unwrap();
    run(&[
        "train", "m.fnn", "--data", "d.npz", "--epochs", "40", "--batch", "64", "--quiet",
        "--seed", "1",
    ]);
    let json = run(&["efnn", "eval", "m.fnn", "--data", "d.npz", "--json"]);
    let m: serde_json::Value = serde_json::from_str(&json).unwrap();
    let (rel, mean_rel) = (
        m["relative"].as_f64().unwrap(),
        m["mean_relative"].as_f64().unwrap(),
    );
    assert!(
        rel < 0.5 * mean_rel,
        "EFNN {rel} vs mean predictor {mean_rel}"
    );
    let c = run(&["efnn", "couplings", "m.fnn", "--data", "d.npz", "--json"]);
    let c: serde_json::Value = serde_json::from_str(&c).unwrap();
    assert!(c["correlation"].as_f64().unwrap() > 0.0);
}

#[test]
fn quick_studies_write_their_reports() {
    let dir = tempfile::tempdir().unwrap();
    for (cmd, files) in [
        (
            "compare",
            [
                "compare.json",
                "compare.md",
                "error-vs-depth.svg",
                "couplings.svg",
            ],
        ),
        (
            "transfer",
            [
                "transfer.json",
                "transfer.md",
                "error-vs-size.svg",
                "transfer.json",
            ],
        ),
    ] {
        let out = dir.path().join(cmd);
        let o = Command::new(BIN)
            .args(["efnn", cmd, "--quick", "--quiet", "-o"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        for f in files {
            assert!(out.join(f).exists(), "{cmd}: {f}");
        }
    }
    // 0/1 spins: both readout routes are in the report and in the tables
    let c: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("compare/compare.json")).unwrap(),
    )
    .unwrap();
    for arch in ["efnn", "dnn", "resnet", "densenet"] {
        let r = &c["readout"][arch];
        assert!(r["report"]["correlation"].as_f64().unwrap().is_finite());
        assert!(r["taylor_mean"]["correlation"]
            .as_f64()
            .unwrap()
            .is_finite());
        assert_eq!(
            r["taylor_zero"]["couplings"]["c3"]
                .as_array()
                .unwrap()
                .len(),
            455
        );
    }
    assert!(dir.path().join("compare/couplings-taylor.svg").exists());
    let md = std::fs::read_to_string(dir.path().join("compare/compare.md")).unwrap();
    assert!(md.contains("Taylor at the mean") && md.contains("Walsh (exact"));
    // continuous spins: RMSE table and the Taylor readout, for all four architectures
    let out = dir.path().join("continuous");
    let o = Command::new(BIN)
        .args([
            "efnn",
            "compare",
            "--system",
            "continuous",
            "--quick",
            "--quiet",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    assert_eq!(c["settings"]["continuous"], true);
    let rows = c["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 8);
    // finite errors everywhere; in quick mode (25 epochs) only the best network beats the mean
    let ratios: Vec<f64> = rows
        .iter()
        .map(|r| r["test"]["rmse_over_std"].as_f64().unwrap())
        .collect();
    assert!(ratios.iter().all(|v| v.is_finite()));
    assert!(
        ratios.iter().cloned().fold(f64::MAX, f64::min) < 0.9,
        "{ratios:?}"
    );
    assert!(c["readout"]["efnn"]["taylor_zero"]["correlation"]
        .as_f64()
        .unwrap()
        .is_finite());
    assert!(out.join("couplings.svg").exists());
    // the lattice system is refused by `compare`, before any training
    let o = Command::new(BIN)
        .args(["efnn", "compare", "--system", "double-exchange", "--quick"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let t: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("transfer/transfer.json")).unwrap(),
    )
    .unwrap();
    // the trained lattice model runs at a size it never saw, with finite errors
    let rows = t["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r["metrics"]["rmse"].as_f64().unwrap().is_finite()));
}

#[test]
fn quick_scale_study_compares_every_model_at_every_size() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scale");
    let o = Command::new(BIN)
        .args(["efnn", "scale", "--quick", "--quiet", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in ["scale.json", "scale.md", "error-vs-size.svg"] {
        assert!(out.join(f).exists(), "{f}");
    }
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("scale.json")).unwrap()).unwrap();
    assert_eq!(r["kind"], "efnn-scale");
    assert!(r["provenance"]["feynn_version"].is_string());
    let models = r["models"].as_array().unwrap();
    // EFNN, the three convolutional baselines at about its size, the effective model
    assert_eq!(models.len(), 5);
    let efnn = models[0]["parameters"].as_f64().unwrap();
    for m in &models[1..4] {
        let p = m["parameters"].as_f64().unwrap();
        assert!(p > 0.5 * efnn && p < 2.0 * efnn, "{m}");
    }
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert!(row["ed_seconds"].as_f64().unwrap() > 0.0);
        let res = row["results"].as_array().unwrap();
        assert_eq!(res.len(), 5);
        assert!(res
            .iter()
            .all(|x| x["metrics"]["rmse"].as_f64().unwrap().is_finite()));
    }
    // `feynn reports` draws the same table and figure from the report alone
    std::fs::write(
        dir.path().join("m.json"),
        r#"{"reports": [{"report": "scale/scale.json", "kind": "efnn-scale",
            "outputs": {"table": "scale/scale.md", "error-vs-size": "scale/error-vs-size.svg"}}]}"#,
    )
    .unwrap();
    let o = Command::new(BIN)
        .args(["reports", "--check"])
        .arg(dir.path().join("m.json"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    // the saved networks give the report's errors again on the same test configurations (the
    // first size's: N = 4, 20 configurations, seed 100 + 1,000,000 + N)
    let run = |args: &[&str]| run_in(dir.path(), args);
    run(&[
        "efnn",
        "data",
        "double-exchange",
        "--size",
        "4",
        "--samples",
        "20",
        "--seed",
        "1000104",
        "--quiet",
        "-o",
        "t4.npz",
    ]);
    for (k, name) in ["efnn", "dnn", "resnet", "densenet"].iter().enumerate() {
        let e: serde_json::Value = serde_json::from_str(&run(&[
            "efnn",
            "eval",
            "scale/models.fnn",
            "--model",
            name,
            "--data",
            "t4.npz",
            "--format",
            "json",
        ]))
        .unwrap();
        let want = rows[0]["results"][k]["metrics"]["rmse"].as_f64().unwrap();
        let got = e["rmse"].as_f64().unwrap();
        assert!((got - want).abs() < 1e-9 * want, "{name}: {got} vs {want}");
    }
    // --only trains just the named networks (the baselines matched to the EFNN's size as before)
    let o = Command::new(BIN)
        .args([
            "efnn",
            "scale",
            "--quick",
            "--quiet",
            "--only",
            "dnn,resnet",
            "-o",
        ])
        .arg(dir.path().join("only"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("only/scale.json")).unwrap())
            .unwrap();
    let names: Vec<&str> = r2["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names[0].starts_with("DNN") && names[1].starts_with("ResNet"),
        "{names:?}"
    );
    assert_eq!(r2["models"][0]["parameters"], r["models"][1]["parameters"]);
    // one test count per size, sizes ED can handle: refused before any work
    for bad in [
        vec![
            "efnn",
            "scale",
            "--quick",
            "--sizes",
            "4,6",
            "--test-samples",
            "5",
        ],
        vec![
            "efnn",
            "scale",
            "--quick",
            "--sizes",
            "100",
            "--test-samples",
            "1",
        ],
        vec!["efnn", "scale", "--quick", "--kernel", "4"],
        vec!["efnn", "scale", "--quick", "--batch", "0"],
        vec!["efnn", "scale", "--quick", "--lr=0"],
        vec!["efnn", "scale", "--quick", "--only", "mlp"],
    ] {
        let o = Command::new(BIN).args(&bad).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
    }
}
