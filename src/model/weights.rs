//! Reading trained weights: safetensors, `.npz`, and JSON (`{"layers":[{"W":…,"b":…,"act":…}]}`).
//!
//! Every format becomes a [`TensorStore`]: tensor name → shape and f64 values. JSON layers are
//! exposed under PyTorch `nn.Sequential` names (`0.weight`, `0.bias`, `2.weight`, …) so that one
//! default binding serves all three formats.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};

/// A dense tensor, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Shape (PyTorch order; a matrix W is [rows, columns]).
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f64>,
}

/// The tensors of a weights file, by name.
#[derive(Debug, Clone, Default)]
pub struct TensorStore {
    /// Path of the file read.
    pub path: String,
    /// Floating-point tensors by name (e.g. `0.weight`).
    pub tensors: BTreeMap<String, Tensor>,
    /// Per-layer activations named in a JSON file (layer index → name), used by `feynn import`.
    pub activations: BTreeMap<usize, String>,
    /// Tensors that are not floating point (e.g. BatchNorm's `num_batches_tracked`), with their
    /// dtype: skipped, and named in the error if a parameter asks for one.
    pub skipped: BTreeMap<String, String>,
}

fn werr(path: &Path, message: impl Into<String>, help: impl Into<String>) -> Error {
    Error::Weights {
        path: path.display().to_string(),
        message: message.into(),
        help: help.into(),
    }
}

impl TensorStore {
    /// Read a weights file; the format follows the extension (.safetensors, .npz, .json).
    pub fn load(path: &Path) -> Result<TensorStore> {
        let bytes = std::fs::read(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        Self::from_bytes(path, &bytes)
    }

    /// Parse the bytes of a weights file named `path` (the extension picks the format).
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<TensorStore> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut store = match ext.as_str() {
            "safetensors" | "st" => read_safetensors(path, bytes)?,
            "npz" => read_npz(path, bytes)?,
            "json" => read_json(path, bytes)?,
            _ => {
                return Err(werr(
                    path,
                    format!("unknown weights format `.{ext}`"),
                    "use .safetensors, .npz or .json",
                ))
            }
        };
        store.path = path.display().to_string();
        Ok(store)
    }

    /// The tensor called `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.tensors.get(name)
    }
}

fn read_safetensors(path: &Path, bytes: &[u8]) -> Result<TensorStore> {
    use safetensors::{Dtype, SafeTensors};
    let st = SafeTensors::deserialize(bytes).map_err(|e| {
        werr(
            path,
            format!("not a valid safetensors file ({e})"),
            "the file may be truncated; save it again with safetensors.torch.save_file",
        )
    })?;
    let mut store = TensorStore::default();
    for (name, view) in st.tensors() {
        let raw = view.data();
        let data: Vec<f64> = match view.dtype() {
            Dtype::F64 => raw
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            Dtype::F32 => raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
            Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16) as f64)
                .collect(),
            Dtype::F16 => raw
                .chunks_exact(2)
                .map(|c| f16_to_f64(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
            other => {
                return Err(werr(
                    path,
                    format!("tensor `{name}` has dtype {other:?}"),
                    "weights must be floating point (f64, f32, bf16 or f16)",
                ));
            }
        };
        store.tensors.insert(
            name.to_string(),
            Tensor {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    Ok(store)
}

fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f64;
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

fn read_npz(path: &Path, bytes: &[u8]) -> Result<TensorStore> {
    use ndarray::ArrayD;
    use ndarray_npy::NpzReader;
    // declared shapes against the bytes present and the budget, before anything is allocated
    crate::budget::check_npz(
        &path.display().to_string(),
        std::io::Cursor::new(bytes),
        crate::budget::DEFAULT_MEMORY_LIMIT,
    )?;
    let mut npz = NpzReader::new(std::io::Cursor::new(bytes)).map_err(|e| {
        werr(
            path,
            format!("not a valid .npz archive ({e})"),
            "the file may be truncated; save it again with numpy.savez",
        )
    })?;
    let names = npz.names().map_err(|e| {
        werr(
            path,
            format!("cannot list arrays ({e})"),
            "the archive may be damaged",
        )
    })?;
    let mut store = TensorStore::default();
    for n in names {
        let key = n.strip_suffix(".npy").unwrap_or(&n).to_string();
        let arr: ArrayD<f64> = match npz.by_name::<ndarray::OwnedRepr<f64>, ndarray::IxDyn>(&n) {
            Ok(a) => a,
            Err(_) => npz
                .by_name::<ndarray::OwnedRepr<f32>, ndarray::IxDyn>(&n)
                .map_err(|e| {
                    werr(
                        path,
                        format!("array `{key}` cannot be read as f64 or f32 ({e})"),
                        "store weights as float64 or float32",
                    )
                })?
                .mapv(|v| v as f64),
        };
        let shape = arr.shape().to_vec();
        let data = arr.as_standard_layout().iter().copied().collect();
        store.tensors.insert(key, Tensor { shape, data });
    }
    Ok(store)
}

fn read_json(path: &Path, bytes: &[u8]) -> Result<TensorStore> {
    #[derive(serde::Deserialize)]
    struct Layer {
        #[serde(rename = "W", alias = "w", alias = "weight")]
        w: Vec<Vec<f64>>,
        #[serde(alias = "bias")]
        b: Vec<f64>,
        #[serde(default)]
        act: Option<String>,
        /// INN layers: α of h + αh² (+ βh³), a number or one per neuron.
        #[serde(default)]
        alpha: Option<Alpha>,
        /// INN `cubic` layers: β of h + αh² + βh³.
        #[serde(default)]
        beta: Option<Alpha>,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Alpha {
        One(f64),
        Many(Vec<f64>),
    }
    #[derive(serde::Deserialize)]
    struct File {
        layers: Vec<Layer>,
        /// `"inn"`: layers are named `{l}.weight`, `{l}.bias`, `{l}.alpha` (l = 0, 1, …) as an
        /// invertible network's; otherwise `nn.Sequential` names `{2l}.weight`, `{2l}.bias`.
        #[serde(default)]
        kind: Option<String>,
    }
    // serde_json rejects NaN literals; the message names the position.
    let f: File = serde_json::from_slice(bytes).map_err(|e| {
        // NaN and Infinity are not JSON numbers; say so rather than "expected value"
        if e.is_syntax() && e.line() > 0 {
            let text = String::from_utf8_lossy(bytes);
            let at = text
                .lines()
                .nth(e.line() - 1)
                .and_then(|l| l.get(e.column().saturating_sub(1)..))
                .unwrap_or("");
            let word = at.trim_start_matches(['-', '+']);
            if ["NaN", "nan", "Infinity", "inf"].iter().any(|w| word.starts_with(w)) {
                return werr(
                    path,
                    format!(
                        "a weight is {} (line {}, column {}): weights must be finite numbers",
                        at.chars()
                            .take_while(|c| c.is_alphabetic() || *c == '-' || *c == '+')
                            .collect::<String>(),
                        e.line(),
                        e.column()
                    ),
                    "the checkpoint holds non-finite weights (a diverged training run?); export finite weights",
                );
            }
        }
        werr(path, format!("not a valid JSON weights file ({e})"), r#"expected {"layers":[{"W":[[...]],"b":[...],"act":"tanh"}, ...]} with W as [out, in]"#)
    })?;
    let mut store = TensorStore::default();
    let inn = f.kind.as_deref() == Some("inn");
    for (l, layer) in f.layers.into_iter().enumerate() {
        let rows = layer.w.len();
        let cols = layer.w.first().map_or(0, |r| r.len());
        if let Some((i, r)) = layer.w.iter().enumerate().find(|(_, r)| r.len() != cols) {
            return Err(werr(
                path,
                format!(
                    "layer {l}: row {i} of W has {} entries, row 0 has {cols}",
                    r.len()
                ),
                "W must be a rectangular [out, in] matrix",
            ));
        }
        let name = if inn { l } else { 2 * l };
        for (key, a) in [("alpha", layer.alpha), ("beta", layer.beta)] {
            if let Some(a) = a {
                let (shape, data) = match a {
                    Alpha::One(v) => (vec![], vec![v]),
                    Alpha::Many(v) => (vec![v.len()], v),
                };
                store
                    .tensors
                    .insert(format!("{name}.{key}"), Tensor { shape, data });
            }
        }
        store.tensors.insert(
            format!("{name}.weight"),
            Tensor {
                shape: vec![rows, cols],
                data: layer.w.into_iter().flatten().collect(),
            },
        );
        store.tensors.insert(
            format!("{name}.bias"),
            Tensor {
                shape: vec![layer.b.len()],
                data: layer.b,
            },
        );
        if let Some(a) = layer.act {
            store.activations.insert(l, a);
        }
    }
    Ok(store)
}

/// Write tensors as safetensors (f64), e.g. for examples and tests.
pub fn write_safetensors(path: &Path, tensors: &BTreeMap<String, Tensor>) -> Result<()> {
    use safetensors::tensor::{Dtype, TensorView};
    let bufs: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(k, t)| {
            (
                k.clone(),
                t.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                t.shape.clone(),
            )
        })
        .collect();
    let views: Vec<(String, TensorView)> = bufs
        .iter()
        .map(|(k, b, s)| {
            (
                k.clone(),
                TensorView::new(Dtype::F64, s.clone(), b).expect("consistent tensor"),
            )
        })
        .collect();
    let bytes = safetensors::serialize(views, None)
        .map_err(|e| Error::invalid(format!("cannot serialise tensors: {e}"), ""))?;
    std::fs::write(path, bytes).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })
}
