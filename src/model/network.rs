//! A numeric MLP: a [`Model`] bound to weights.

use ndarray::{Array1, Array2};

use super::weights::{Tensor, TensorStore};
use super::{Activation, Model};
use crate::dsl::Width;
use crate::error::{Error, Result};

/// An MLP with numeric weights: the [`crate::model::Model`] bound to a weights file.
#[derive(Debug, Clone)]
pub struct Network {
    /// Model name.
    pub name: String,
    /// W^(l), shape [n_l, n_{l-1}], l = 1..L (index l-1).
    pub weights: Vec<Array2<f64>>,
    /// b^(l), length n_l, l = 1..L (index l-1).
    pub biases: Vec<Array1<f64>>,
    /// Activation of layer l (None: linear; only the output may be linear).
    pub activations: Vec<Option<Activation>>,
}

impl Network {
    /// Bind a model to the tensors of a store, checking names, shapes and finiteness.
    /// Symbolic widths take the size found in the file.
    pub fn from_store(model: &Model, store: &TensorStore) -> Result<Network> {
        let mut prev: Option<usize> = match &model.input {
            Width::Fixed(n) => Some(*n),
            Width::Symbol(_) => None,
        };
        let (mut weights, mut biases) = (vec![], vec![]);
        for layer in &model.layers {
            let w = fetch(store, &layer.weight_tensor, &layer.weight)?;
            let out = match &layer.width {
                Width::Fixed(n) => Some(*n),
                Width::Symbol(_) => None,
            };
            let expect = |o: Option<usize>, p: Option<usize>| {
                format!(
                    "[{}, {}]",
                    o.map_or("?".into(), |v| v.to_string()),
                    p.map_or("?".into(), |v| v.to_string())
                )
            };
            let ok = w.shape.len() == 2
                && out.is_none_or(|o| o == w.shape[0])
                && prev.is_none_or(|p| p == w.shape[1]);
            if !ok {
                return Err(Error::Shape {
                    path: store.path.clone(),
                    tensor: layer.weight_tensor.clone(),
                    expected: expect(out, prev),
                    found: format!("{:?}", w.shape),
                });
            }
            let (rows, cols) = (w.shape[0], w.shape[1]);
            let b = fetch(store, &layer.bias_tensor, &layer.bias)?;
            if b.shape != vec![rows] {
                return Err(Error::Shape {
                    path: store.path.clone(),
                    tensor: layer.bias_tensor.clone(),
                    expected: format!("[{rows}]"),
                    found: format!("{:?}", b.shape),
                });
            }
            for (t, name) in [(w, &layer.weight_tensor), (b, &layer.bias_tensor)] {
                if let Some(pos) = t.data.iter().position(|v| !v.is_finite()) {
                    return Err(Error::NonFinite {
                        path: store.path.clone(),
                        tensor: name.to_string(),
                        message: format!(
                            "tensor `{name}` holds a non-finite value ({}) at flat position {pos}",
                            t.data[pos]
                        ),
                        help: "NaN or Inf weights usually mean the training diverged".into(),
                    });
                }
            }
            weights
                .push(Array2::from_shape_vec((rows, cols), w.data.clone()).expect("shape checked"));
            biases.push(Array1::from_vec(b.data.clone()));
            prev = Some(rows);
        }
        Ok(Network {
            name: model.name.clone(),
            weights,
            biases,
            activations: model.layers.iter().map(|l| l.activation.clone()).collect(),
        })
    }

    /// Input dimension d.
    pub fn inputs(&self) -> usize {
        self.weights[0].ncols()
    }
    /// Number of outputs.
    pub fn outputs(&self) -> usize {
        self.weights.last().unwrap().nrows()
    }
    /// Widths n_0..n_L.
    pub fn widths(&self) -> Vec<usize> {
        std::iter::once(self.inputs())
            .chain(self.weights.iter().map(|w| w.nrows()))
            .collect()
    }
    /// H, the number of hidden layers (L - 1).
    pub fn hidden_layers(&self) -> usize {
        self.weights.len() - 1
    }

    /// Plain forward pass: y(x).
    pub fn forward(&self, x: &[f64]) -> Result<Vec<f64>> {
        let mut a = Array1::from_vec(x.to_vec());
        for l in 0..self.weights.len() {
            let z = self.weights[l].dot(&a) + &self.biases[l];
            a = match &self.activations[l] {
                None => z,
                Some(act) => z
                    .iter()
                    .map(|&v| act.derivatives(v, 0).map(|d| d[0]))
                    .collect::<Result<Vec<_>>>()?
                    .into(),
            };
        }
        Ok(a.to_vec())
    }
}

fn fetch<'a>(store: &'a TensorStore, tensor: &str, param: &str) -> Result<&'a Tensor> {
    if let Some(dtype) = store.skipped.get(tensor) {
        return Err(Error::MissingTensor {
            path: store.path.clone(),
            tensor: tensor.to_string(),
            message: format!("tensor `{tensor}` (parameter {param}) has dtype {dtype}"),
            help: "weights must be floating point (f64, f32, bf16 or f16)".into(),
        });
    }
    store.get(tensor).ok_or_else(|| {
        let names: Vec<&str> = store.tensors.keys().map(|s| s.as_str()).take(12).collect();
        Error::MissingTensor {
            path: store.path.clone(),
            tensor: tensor.to_string(),
            message: format!("tensor `{tensor}` (parameter {param}) is missing"),
            help: format!(
                "the file holds: {}; map names with `bind {param} = \"NAME\"` in the spec",
                names.join(", ")
            ),
        }
    })
}
