//! Data sets as `.npz`: `inputs` [samples, features] and `targets` [samples] (or [samples, 1]),
//! float64 or float32, plus optional named arrays (Born terms, family codes, metadata).
//!
//! `feynn born data` writes them, `feynn train` and `feynn born iterate` read them; numpy reads
//! them with `np.load`. The `metadata` array holds UTF-8 JSON bytes (`bytes(f["metadata"])`).

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{Array1, Array2, ArrayD, Ix1, Ix2, IxDyn, OwnedRepr};

use feynn::error::{Error, Result};

/// A data set: inputs, targets and any further float arrays of the file.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub inputs: Array2<f64>,
    pub targets: Array1<f64>,
    /// Other arrays with one entry per sample (e.g. `born1`, `born2`, `family`).
    pub extra: BTreeMap<String, Array1<f64>>,
    /// The `metadata` JSON, if present.
    pub metadata: Option<String>,
}

fn derr(path: &Path, message: impl Into<String>, help: impl Into<String>) -> Error {
    Error::Weights {
        path: path.display().to_string(),
        message: message.into(),
        help: help.into(),
    }
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.targets.len()
    }
    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Read a data set; fails with the missing array's name or the offending shape.
    pub fn read(path: &Path) -> Result<Dataset> {
        use ndarray_npy::NpzReader;
        feynn::budget::check_npz_file(path, feynn::budget::DEFAULT_MEMORY_LIMIT)?;
        let file = std::fs::File::open(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let mut npz = NpzReader::new(file).map_err(|e| {
            derr(
                path,
                format!("not a valid .npz archive ({e})"),
                "write data with `feynn born data` or numpy.savez",
            )
        })?;
        let names = npz.names().map_err(|e| {
            derr(
                path,
                format!("cannot list arrays ({e})"),
                "the archive may be damaged",
            )
        })?;
        let mut arrays: BTreeMap<String, ArrayD<f64>> = BTreeMap::new();
        let mut metadata = None;
        for n in &names {
            let key = n.strip_suffix(".npy").unwrap_or(n).to_string();
            if key == "metadata" {
                if let Ok(b) = npz.by_name::<OwnedRepr<u8>, Ix1>(n) {
                    metadata = String::from_utf8(b.to_vec()).ok();
                }
                continue;
            }
            let arr = if let Ok(a) = npz.by_name::<OwnedRepr<f64>, IxDyn>(n) {
                a
            } else if let Ok(a) = npz.by_name::<OwnedRepr<f32>, IxDyn>(n) {
                a.mapv(f64::from)
            } else if let Ok(a) = npz.by_name::<OwnedRepr<i64>, IxDyn>(n) {
                a.mapv(|v| v as f64)
            } else {
                return Err(derr(
                    path,
                    format!("array `{key}` is not float64, float32 or int64"),
                    "store data as float64",
                ));
            };
            arrays.insert(key, arr);
        }
        let list = || {
            let v: Vec<&str> = names.iter().map(|s| s.trim_end_matches(".npy")).collect();
            format!("the file holds: {}", v.join(", "))
        };
        let inputs = arrays
            .remove("inputs")
            .ok_or_else(|| derr(path, "array `inputs` is missing", list()))?;
        let targets = arrays
            .remove("targets")
            .ok_or_else(|| derr(path, "array `targets` is missing", list()))?;
        let inputs = inputs.into_dimensionality::<Ix2>().map_err(|_| {
            derr(
                path,
                "array `inputs` must be 2-dimensional [samples, features]",
                "reshape it to one row per sample",
            )
        })?;
        let s = inputs.nrows();
        let targets = match targets.shape() {
            [n] if *n == s => targets.into_dimensionality::<Ix1>().unwrap(),
            [n, 1] if *n == s => targets
                .into_shape_with_order(s)
                .unwrap()
                .into_dimensionality::<Ix1>()
                .unwrap(),
            other => {
                return Err(derr(
                    path,
                    format!(
                    "array `targets` has shape {other:?}; expected [{s}] (one per row of `inputs`)"
                ),
                    "one scalar target per sample",
                ))
            }
        };
        if s == 0 || inputs.ncols() == 0 {
            return Err(derr(
                path,
                "the data set is empty",
                "generate samples first",
            ));
        }
        if inputs.iter().chain(targets.iter()).any(|v| !v.is_finite()) {
            return Err(derr(
                path,
                "`inputs` or `targets` hold NaN or Inf",
                "clean the data",
            ));
        }
        let extra = arrays
            .into_iter()
            .filter(|(_, a)| a.shape() == [s])
            .map(|(k, a)| (k, a.into_dimensionality::<Ix1>().unwrap()))
            .collect();
        Ok(Dataset {
            inputs,
            targets,
            extra,
            metadata,
        })
    }

    /// Write as compressed `.npz`: `inputs`, `targets`, the extra arrays and `metadata`.
    pub fn write(&self, path: &Path) -> Result<()> {
        use ndarray_npy::NpzWriter;
        let ioerr = |e: std::io::Error| Error::Io {
            path: path.display().to_string(),
            source: e,
        };
        let file = std::fs::File::create(path).map_err(ioerr)?;
        let mut npz = NpzWriter::new_compressed(file);
        let werr = |e: ndarray_npy::WriteNpzError| {
            Error::invalid(
                format!("cannot write {}: {e}", path.display()),
                "check the path",
            )
        };
        npz.add_array("inputs", &self.inputs).map_err(werr)?;
        npz.add_array("targets", &self.targets).map_err(werr)?;
        for (k, a) in &self.extra {
            npz.add_array(k.as_str(), a).map_err(werr)?;
        }
        if let Some(m) = &self.metadata {
            npz.add_array("metadata", &Array1::from_vec(m.as_bytes().to_vec()))
                .map_err(werr)?;
        }
        npz.finish().map_err(werr)?;
        Ok(())
    }

    /// The rows `idx` as a new data set (extras follow).
    pub fn select(&self, idx: &[usize]) -> Dataset {
        Dataset {
            inputs: self.inputs.select(ndarray::Axis(0), idx),
            targets: self.targets.select(ndarray::Axis(0), idx),
            extra: self
                .extra
                .iter()
                .map(|(k, a)| (k.clone(), a.select(ndarray::Axis(0), idx)))
                .collect(),
            metadata: self.metadata.clone(),
        }
    }
}
