//! Weights I/O: one random network written in every supported format (safetensors f64/f32/
//! f16/bf16, .npz f64/f32, JSON), written by the test with the format crates directly, read back
//! through `TensorStore::load` + `Network::from_store`; custom tensor names, symbolic widths,
//! and `import::spec_for` round trips.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use feynn::model::weights::{write_safetensors, Tensor, TensorStore};
use feynn::model::{import::spec_for, load_spec_file, parse_models, Network};
use feynn::numeric::{Expander, Options};
use ndarray::{Array1, Array2};
use safetensors::tensor::{Dtype, TensorView};

fn reference() -> RefNet {
    // Non-square matrices everywhere, so a transposed W cannot bind by accident.
    RefNet::random(301, 3, &[(5, Act::Tanh), (4, Act::Gelu)], 2, None)
}

/// All coefficients to order 3 at a fixed point.
fn coefficients(net: &Network) -> Array2<f64> {
    let ex = Expander::new(
        net,
        &Options {
            order: 3,
            ..Options::default()
        },
    )
    .unwrap();
    ex.expand(&vec![0.25; net.inputs()]).unwrap().coefficients
}

/// The network's parameters are exactly the reference's (W as [out, in]).
fn assert_same_params(net: &Network, r: &RefNet, label: &str) {
    assert_eq!(net.weights.len(), r.layers.len(), "{label}");
    for (l, layer) in r.layers.iter().enumerate() {
        let w = Array2::from_shape_vec(
            (layer.w.len(), layer.w[0].len()),
            layer.w.iter().flatten().copied().collect(),
        )
        .unwrap();
        assert_eq!(net.weights[l], w, "{label}: W{}", l + 1);
        assert_eq!(
            net.biases[l],
            Array1::from_vec(layer.b.clone()),
            "{label}: b{}",
            l + 1
        );
    }
}

/// JSON files are known to be read with 1-ulp errors (see `json_weights_are_read_exactly`);
/// everything else about them is checked up to that.
fn is_json(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "json")
}

fn assert_params_within_an_ulp(net: &Network, r: &RefNet, label: &str) {
    assert_eq!(net.weights.len(), r.layers.len(), "{label}");
    for (l, layer) in r.layers.iter().enumerate() {
        assert_eq!(
            net.weights[l].dim(),
            (layer.w.len(), layer.w[0].len()),
            "{label}: W{} shape",
            l + 1
        );
        let got = net.weights[l].iter().chain(net.biases[l].iter());
        let want = layer.w.iter().flatten().chain(layer.b.iter());
        for (g, w) in got.zip(want) {
            assert!(
                (g - w).abs() <= 2.3e-16 * w.abs(),
                "{label}: layer {}: {g:e} vs {w:e}",
                l + 1
            );
        }
    }
}

fn assert_coefficients_close(got: &Array2<f64>, want: &Array2<f64>, label: &str) {
    assert_eq!(got.dim(), want.dim(), "{label}");
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-13 * scale,
            "{label}: coefficient {g:e} vs {w:e}"
        );
    }
}

fn write_safetensors_as(path: &Path, tensors: &BTreeMap<String, Tensor>, dtype: Dtype) {
    let bufs: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(k, t)| {
            let bytes: Vec<u8> = match dtype {
                Dtype::F64 => t.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                Dtype::F32 => t
                    .data
                    .iter()
                    .flat_map(|v| (*v as f32).to_le_bytes())
                    .collect(),
                _ => unreachable!(),
            };
            (k.clone(), bytes, t.shape.clone())
        })
        .collect();
    let views: Vec<(String, TensorView)> = bufs
        .iter()
        .map(|(k, b, s)| (k.clone(), TensorView::new(dtype, s.clone(), b).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

fn write_npz(path: &Path, tensors: &BTreeMap<String, Tensor>, f32: bool, compressed: bool) {
    let file = std::fs::File::create(path).unwrap();
    let mut npz = if compressed {
        ndarray_npy::NpzWriter::new_compressed(file)
    } else {
        ndarray_npy::NpzWriter::new(file)
    };
    for (k, t) in tensors {
        let a = ndarray::ArrayD::from_shape_vec(t.shape.clone(), t.data.clone()).unwrap();
        if f32 {
            npz.add_array(k.as_str(), &a.mapv(|v| v as f32)).unwrap();
        } else {
            npz.add_array(k.as_str(), &a).unwrap();
        }
    }
    npz.finish().unwrap();
}

fn write_json(path: &Path, r: &RefNet) {
    let layers: Vec<serde_json::Value> = r
        .layers
        .iter()
        .map(|l| {
            let mut o = serde_json::json!({"W": l.w, "b": l.b});
            if let Some(a) = l.act {
                o["act"] = a.spec_ref().into();
            }
            o
        })
        .collect();
    std::fs::write(
        path,
        serde_json::to_string_pretty(&serde_json::json!({ "layers": layers })).unwrap(),
    )
    .unwrap();
}

fn model_of(spec: &str) -> feynn::model::Model {
    parse_models("t.fnn", spec, None)
        .unwrap_or_else(|e| panic!("{e}\n{spec}"))
        .remove(0)
}

#[test]
fn every_format_gives_identical_coefficients() {
    let r = reference();
    let want_net = r.network();
    let want = coefficients(&want_net);
    let dir = tempfile::tempdir().unwrap();
    let t = r.tensors();
    let mut files: Vec<PathBuf> = Vec::new();
    let p = dir.path().join("lib.safetensors");
    write_safetensors(&p, &t).unwrap();
    files.push(p);
    for (name, dtype) in [
        ("f64.safetensors", Dtype::F64),
        ("f32.safetensors", Dtype::F32),
    ] {
        let p = dir.path().join(name);
        write_safetensors_as(&p, &t, dtype);
        files.push(p);
    }
    for (name, f32, compressed) in [
        ("f64.npz", false, true),
        ("f32.npz", true, false),
        ("f64plain.npz", false, false),
    ] {
        let p = dir.path().join(name);
        write_npz(&p, &t, f32, compressed);
        files.push(p);
    }
    let p = dir.path().join("w.json");
    write_json(&p, &r);
    files.push(p);
    let model = model_of(&r.spec("m"));
    for f in &files {
        let store = TensorStore::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(store.tensors.len(), 2 * r.layers.len(), "{}", f.display());
        let net =
            Network::from_store(&model, &store).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if is_json(f) {
            assert_params_within_an_ulp(&net, &r, &f.display().to_string());
            assert_coefficients_close(&coefficients(&net), &want, &f.display().to_string());
            continue;
        }
        assert_same_params(&net, &r, &f.display().to_string());
        assert_eq!(
            coefficients(&net),
            want,
            "{}: coefficients differ",
            f.display()
        );
    }
}

#[test]
fn json_weights_are_read_exactly() {
    // JSON writers (Python's json, serde_json) print the shortest decimal that round-trips; a
    // reader must parse it correctly rounded. 0.37620413303375244 is 0x1.813ba8p-2 (an f32
    // value); it must not come back as the neighbouring double 0x1.813ba80000001p-2.
    let v = f64::from_bits(0x3FD8_13BA_8000_0000);
    assert_eq!(format!("{v}"), "0.37620413303375244");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.json");
    std::fs::write(
        &p,
        r#"{"layers":[{"W":[[0.37620413303375244]],"b":[0.37620413303375244]}]}"#,
    )
    .unwrap();
    let s = TensorStore::load(&p).unwrap();
    let got = s.tensors["0.weight"].data[0];
    assert_eq!(
        got.to_bits(),
        v.to_bits(),
        "JSON read {got:?} ({:#x}) for 0.37620413303375244 ({:#x})",
        got.to_bits(),
        v.to_bits()
    );
    // And every parameter of a whole random network, written by serde_json.
    let r = reference();
    write_json(&p, &r);
    let s = TensorStore::load(&p).unwrap();
    let net = Network::from_store(&model_of(&r.spec("m")), &s).unwrap();
    assert_same_params(&net, &r, "json");
}

#[test]
fn half_precision_safetensors_decode_exactly() {
    // Known bit patterns: f16 0x3C00 = 1, 0xC000 = -2, 0x3800 = 0.5, 0x0001 = 2^-24
    // (subnormal), 0x7BFF = 65504; bf16 0x3F80 = 1, 0xC040 = -3, 0x3E00 = 0.125.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("h.safetensors");
    let f16: Vec<u8> = [0x3C00u16, 0xC000, 0x3800, 0x0001, 0x7BFF, 0x8000]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let bf16: Vec<u8> = [0x3F80u16, 0xC040, 0x3E00]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let views = vec![
        (
            "0.weight".to_string(),
            TensorView::new(Dtype::F16, vec![3, 2], &f16).unwrap(),
        ),
        (
            "0.bias".to_string(),
            TensorView::new(Dtype::BF16, vec![3], &bf16).unwrap(),
        ),
    ];
    std::fs::write(&p, safetensors::serialize(views, None).unwrap()).unwrap();
    let s = TensorStore::load(&p).unwrap();
    assert_eq!(
        s.tensors["0.weight"].data,
        vec![1.0, -2.0, 0.5, 2f64.powi(-24), 65504.0, -0.0]
    );
    assert_eq!(s.tensors["0.weight"].shape, vec![3, 2]);
    assert_eq!(s.tensors["0.bias"].data, vec![1.0, -3.0, 0.125]);
}

#[test]
fn custom_tensor_names_with_bind_and_params() {
    let r = reference();
    let mut t = BTreeMap::new();
    for (old, new) in [("0", "encoder.lin"), ("2", "hidden"), ("4", "head")] {
        t.insert(
            format!("{new}.weight"),
            r.tensors()[&format!("{old}.weight")].clone(),
        );
        t.insert(
            format!("{new}.bias"),
            r.tensors()[&format!("{old}.bias")].clone(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("named.safetensors");
    write_safetensors(&p, &t).unwrap();
    let spec = format!(
        "model m {{\n input 3\n layer 5 tanh params(A, a)\n layer 4 gelu\n output 2 params(Out, c)\n weights \"{}\"\n bind A = \"encoder.lin.weight\", a <- \"encoder.lin.bias\"\n bind W2 = \"hidden.weight\", b2 = \"hidden.bias\", Out = \"head.weight\", c = \"head.bias\"\n}}\n",
        p.display()
    );
    let model = model_of(&spec);
    assert_eq!(model.weights_file.as_deref(), Some(p.as_path()));
    let net = Network::from_store(&model, &TensorStore::load(&p).unwrap()).unwrap();
    assert_same_params(&net, &r, "bound names");
    assert_eq!(coefficients(&net), coefficients(&r.network()));
    // Without the binds the default names are missing, and the error says which and how to fix.
    let plain = model_of(&r.spec("m"));
    let e = Network::from_store(&plain, &TensorStore::load(&p).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("`0.weight`") && e.contains("missing"), "{e}");
}

#[test]
fn symbolic_widths_take_their_sizes_from_the_file() {
    let r = reference();
    let model = model_of("model m {\n input d\n layer n1 tanh\n layer n2 gelu\n output k\n}\n");
    assert!(model.fixed_widths().is_none());
    let net = Network::from_store(&model, &r.store()).unwrap();
    assert_eq!(net.widths(), vec![3, 5, 4, 2]);
    assert_same_params(&net, &r, "symbolic widths");
    assert_eq!(coefficients(&net), coefficients(&r.network()));
    // Mixed fixed and symbolic widths are still checked where fixed.
    let bad = model_of("model m {\n input d\n layer 6 tanh\n layer n2 gelu\n output k\n}\n");
    let e = Network::from_store(&bad, &r.store())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("0.weight") && e.contains("[6, ?]") && e.contains("[5, 3]"),
        "{e}"
    );
}

#[test]
fn shape_missing_and_non_finite_errors_name_the_tensor() {
    let r = reference();
    // Wrong width in the spec.
    let m = model_of("model m {\n input 3\n layer 5 tanh\n layer 7 gelu\n output 2\n}\n");
    let e = Network::from_store(&m, &r.store()).unwrap_err().to_string();
    assert!(
        e.contains("`2.weight`") && e.contains("[7, 5]") && e.contains("[4, 5]"),
        "{e}"
    );
    // Wrong input dimension.
    let m = model_of("model m {\n input 4\n layer 5 tanh\n layer 4 gelu\n output 2\n}\n");
    let e = Network::from_store(&m, &r.store()).unwrap_err().to_string();
    assert!(
        e.contains("`0.weight`") && e.contains("[5, 4]") && e.contains("[5, 3]"),
        "{e}"
    );
    // Bias of the wrong length.
    let mut s = r.store();
    s.tensors.insert(
        "2.bias".into(),
        Tensor {
            shape: vec![3],
            data: vec![0.0; 3],
        },
    );
    let e = Network::from_store(&model_of(&r.spec("m")), &s)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`2.bias`") && e.contains("[4]") && e.contains("[3]"),
        "{e}"
    );
    // Missing tensor.
    let mut s = r.store();
    s.tensors.remove("4.bias");
    let e = Network::from_store(&model_of(&r.spec("m")), &s)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`4.bias`") && e.contains("missing"), "{e}");
    // NaN and Inf.
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut s = r.store();
        s.tensors.get_mut("2.weight").unwrap().data[5] = bad;
        let e = Network::from_store(&model_of(&r.spec("m")), &s)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`2.weight`") && e.contains("non-finite") && e.contains("position 5"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn damaged_files_are_errors_not_panics() {
    let r = reference();
    let dir = tempfile::tempdir().unwrap();
    let st = dir.path().join("w.safetensors");
    write_safetensors(&st, &r.tensors()).unwrap();
    let npz = dir.path().join("w.npz");
    write_npz(&npz, &r.tensors(), false, true);
    let json = dir.path().join("w.json");
    write_json(&json, &r);
    for f in [&st, &npz, &json] {
        let bytes = std::fs::read(f).unwrap();
        for cut in [0, 7, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
            let p = dir
                .path()
                .join(format!("cut.{}", f.extension().unwrap().to_str().unwrap()));
            std::fs::write(&p, &bytes[..cut]).unwrap();
            let res = std::panic::catch_unwind(|| {
                TensorStore::load(&p)
                    .map(|s| Network::from_store(&model_of(&r.spec("m")), &s).map(|_| ()))
            });
            match res {
                Err(_) => panic!("{} cut at {cut} of {}: panicked", f.display(), bytes.len()),
                Ok(Ok(Ok(()))) => panic!(
                    "{} cut at {cut} of {}: loaded without error",
                    f.display(),
                    bytes.len()
                ),
                Ok(_) => {}
            }
        }
    }
    let e = TensorStore::load(&dir.path().join("w.pt"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("w.pt"), "{e}");
    std::fs::write(dir.path().join("w.pt"), b"x").unwrap();
    let e = TensorStore::load(&dir.path().join("w.pt"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown weights format") && e.contains(".pt"),
        "{e}"
    );
    // JSON with ragged rows.
    let p = dir.path().join("ragged.json");
    std::fs::write(&p, r#"{"layers":[{"W":[[1,2],[3]],"b":[0,0]}]}"#).unwrap();
    let e = TensorStore::load(&p).unwrap_err().to_string();
    assert!(e.contains("row 1"), "{e}");
}

/// Write the spec from `spec_for` next to the weights, load it as a user would, and compare.
fn import_round_trip(
    r: &RefNet,
    weights: &Path,
    activation: Option<&str>,
    output_activation: Option<&str>,
    label: &str,
) -> String {
    let store = TensorStore::load(weights).unwrap();
    let dir = weights.parent().unwrap();
    let spec = spec_for(
        &store,
        weights,
        "imported",
        activation,
        output_activation,
        Some(dir),
    )
    .unwrap_or_else(|e| panic!("{label}: {e}"));
    let spec_path = dir.join(format!("{label}.fnn"));
    std::fs::write(&spec_path, &spec).unwrap();
    let models = load_spec_file(&spec_path)
        .unwrap_or_else(|e| panic!("{label}: the spec does not parse: {e}\n{spec}"));
    let model = &models[0];
    let wf = model
        .weights_file
        .clone()
        .unwrap_or_else(|| panic!("{label}: no weights line\n{spec}"));
    let net = Network::from_store(model, &TensorStore::load(&wf).unwrap())
        .unwrap_or_else(|e| panic!("{label}: {e}\n{spec}"));
    if is_json(weights) {
        assert_params_within_an_ulp(&net, r, label);
        assert_coefficients_close(&coefficients(&net), &coefficients(&r.network()), label);
    } else {
        assert_same_params(&net, r, label);
        assert_eq!(
            coefficients(&net),
            coefficients(&r.network()),
            "{label}\n{spec}"
        );
    }
    spec
}

#[test]
fn import_spec_round_trips() {
    let r = reference();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Plain nn.Sequential names.
    let p = d.join("plain.safetensors");
    write_safetensors(&p, &r.tensors()).unwrap();
    let spec = import_round_trip(&r, &p, Some("tanh,gelu"), None, "plain");
    assert!(
        !spec.contains("bind"),
        "default names need no bind:\n{spec}"
    );
    // A prefix (`net.0.weight`), and Dropout-style indices 0, 3, 6.
    for (prefix, stride, label) in [
        ("net.", 2, "prefix"),
        ("", 3, "dropout"),
        ("model.net.", 3, "both"),
    ] {
        let p = d.join(format!("{label}.safetensors"));
        write_safetensors(&p, &r.tensors_named(prefix, stride)).unwrap();
        let spec = import_round_trip(&r, &p, Some("tanh,gelu"), None, label);
        assert!(
            spec.contains("bind"),
            "{label}: non-default names need binds:\n{spec}"
        );
    }
    // npz, with and without compression and in f32.
    let p = d.join("w.npz");
    write_npz(&p, &r.tensors_named("net.", 3), false, true);
    import_round_trip(&r, &p, Some("tanh,gelu"), None, "npz");
    let p = d.join("w32.npz");
    write_npz(&p, &r.tensors(), true, false);
    import_round_trip(&r, &p, Some("tanh,gelu"), None, "npz32");
    // JSON carries its activations.
    let p = d.join("w.json");
    write_json(&p, &r);
    import_round_trip(&r, &p, None, None, "json");
    // Output activation.
    let ro = RefNet::random(302, 2, &[(3, Act::Softplus)], 1, Some(Act::Sigmoid));
    let p = d.join("out.safetensors");
    write_safetensors(&p, &ro.tensors()).unwrap();
    let spec = import_round_trip(&ro, &p, Some("softplus"), Some("sigmoid"), "outact");
    assert!(spec.contains("output 1 sigmoid"), "{spec}");
    // More than ten layers: indices 10, 12, … must sort numerically, not as text.
    let deep = RefNet::random(303, 2, &[(3, Act::Tanh); 6], 1, None);
    let p = d.join("deep.safetensors");
    write_safetensors(&p, &deep.tensors()).unwrap();
    import_round_trip(&deep, &p, Some("tanh"), None, "deep");
}

#[test]
fn import_refuses_what_it_cannot_know() {
    let r = reference();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.safetensors");
    write_safetensors(&p, &r.tensors()).unwrap();
    let store = TensorStore::load(&p).unwrap();
    let e = spec_for(&store, &p, "m", None, None, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("activation"), "{e}");
    let e = spec_for(&store, &p, "m", Some("tanh,gelu,sin"), None, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("3") && e.contains("2 hidden"), "{e}");
    let e = spec_for(&store, &p, "m", Some("relu"), None, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("relu"), "{e}");
    // Chained shapes that do not fit.
    let mut t = r.tensors();
    t.insert(
        "2.weight".into(),
        Tensor {
            shape: vec![4, 6],
            data: vec![0.0; 24],
        },
    );
    let e = spec_for(
        &TensorStore {
            tensors: t,
            ..Default::default()
        },
        &p,
        "m",
        Some("tanh"),
        None,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("2.weight") && e.contains("[4, 6]"), "{e}");
}

#[test]
fn import_keeps_the_output_activation_a_json_file_names() {
    // {"layers":[…, {"W":…,"b":…,"act":"sigmoid"}]}: the file says y = σ(z^(L)). An imported
    // spec without it computes a different function, silently.
    let r = RefNet::random(304, 2, &[(3, Act::Tanh)], 1, Some(Act::Sigmoid));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("outact.json");
    write_json(&p, &r);
    let store = TensorStore::load(&p).unwrap();
    let spec = spec_for(&store, &p, "m", None, None, Some(dir.path())).unwrap();
    assert!(
        spec.contains("output 1 sigmoid"),
        "the JSON output activation was dropped:\n{spec}"
    );
}

#[test]
fn import_with_json_activations_on_some_layers_only_is_an_error_not_a_panic() {
    // Acts on hidden layer 2 and the output, none on hidden layer 1: the count check passes
    // (2 ≥ 2 hidden) but layer 0 has no entry.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("partial.json");
    std::fs::write(
        &p,
        r#"{"layers":[{"W":[[0.1,0.2],[0.2,0.3]],"b":[0,0]},{"W":[[0.1,0.2],[0.2,0.3]],"b":[0,0],"act":"gelu"},{"W":[[1,1]],"b":[0],"act":"sigmoid"}]}"#,
    )
    .unwrap();
    let store = TensorStore::load(&p).unwrap();
    let res = std::panic::catch_unwind(|| spec_for(&store, &p, "m", None, None, None));
    match res {
        Err(_) => panic!("spec_for panicked on a JSON file with activations on some layers only"),
        Ok(Ok(spec)) => panic!("a spec was written without knowing layer 1's activation:\n{spec}"),
        Ok(Err(e)) => assert!(e.to_string().contains("activation"), "{e}"),
    }
    // With --activation given, it imports.
    assert!(spec_for(&store, &p, "m", Some("tanh,gelu"), None, None).is_ok());
}
