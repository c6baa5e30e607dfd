//! Inference with ndarray: an [`EfnnNet`] is a spec plus its tensors and output scaling.
//!
//! Scaling tensors (written by the trainer, not trainable): `scale.x_mean` and `scale.x_std`
//! ([L], fully connected only) standardise the inputs, x' = (x − μ)/σ; `scale.y` = [a, b] maps the
//! network output to the energy, E = a·net(x') + b·sites (sites = 1 fully connected, N² on a
//! lattice, so a lattice model stays extensive at every N). Missing scaling tensors mean the
//! identity.

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{s, Array1, Array2, Array4, ArrayD, Axis, Ix2, Ix4, IxDyn};
use rand::Rng;

use super::arch::{network, Backend};
use super::spec::{EfnnSpec, Geometry};
use feynn::error::{Error, Result};
use feynn::model::weights::{Tensor, TensorStore};

/// A spec with its weights, ready to evaluate.
#[derive(Debug, Clone)]
pub struct EfnnNet {
    pub spec: EfnnSpec,
    pub tensors: BTreeMap<String, Tensor>,
}

fn shape_err(name: &str, want: &[usize], got: &[usize]) -> Error {
    Error::invalid(
        format!("tensor `{name}` has shape {got:?}, the spec needs {want:?}"),
        "the weights were written for another spec (width, depth, channels or kernel)",
    )
}

/// PyTorch's default initialisation: weights and biases U(±1/√fan_in), fan_in = the product of
/// all but the first dimension of the weight (the bilinear kernels: k²).
pub fn init_tensors(spec: &EfnnSpec, rng: &mut impl Rng) -> BTreeMap<String, Tensor> {
    let params = spec.parameters();
    let mut out = BTreeMap::new();
    for (name, shape) in &params {
        let fan_in: usize = if name.ends_with(".bias") {
            let w = name.trim_end_matches(".bias").to_string() + ".weight";
            let ws = &params.iter().find(|(n, _)| *n == w).unwrap().1;
            ws[1..].iter().product()
        } else {
            shape[1..].iter().product()
        };
        let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
        let len: usize = shape.iter().product();
        let data = (0..len).map(|_| rng.random_range(-bound..bound)).collect();
        out.insert(
            name.clone(),
            Tensor {
                shape: shape.clone(),
                data,
            },
        );
    }
    out
}

impl EfnnNet {
    /// Check that every parameter is present with the right shape (extra tensors are ignored).
    pub fn new(spec: EfnnSpec, tensors: BTreeMap<String, Tensor>) -> Result<EfnnNet> {
        for (name, shape) in spec.parameters() {
            match tensors.get(&name) {
                None => {
                    return Err(Error::invalid(
                        format!("the weights have no tensor `{name}`"),
                        "the weights were written for another spec; train with `feynn train SPEC`",
                    ))
                }
                Some(t) if t.shape != shape => return Err(shape_err(&name, &shape, &t.shape)),
                _ => {}
            }
        }
        if let Geometry::Dense { inputs, .. } = spec.geometry {
            for k in ["scale.x_mean", "scale.x_std"] {
                if let Some(t) = tensors.get(k) {
                    if t.shape != [inputs] {
                        return Err(shape_err(k, &[inputs], &t.shape));
                    }
                }
            }
        }
        if let Some(t) = tensors.get("scale.y") {
            if t.shape != [2] {
                return Err(shape_err("scale.y", &[2], &t.shape));
            }
        }
        Ok(EfnnNet { spec, tensors })
    }

    /// Read the weights file (safetensors, npz or JSON).
    pub fn load(spec: EfnnSpec, path: &Path) -> Result<EfnnNet> {
        let store = TensorStore::load(path)?;
        EfnnNet::new(spec, store.tensors)
    }

    /// Random weights (PyTorch default initialisation), no scaling.
    pub fn random(spec: EfnnSpec, rng: &mut impl Rng) -> EfnnNet {
        let t = init_tensors(&spec, rng);
        EfnnNet { spec, tensors: t }
    }

    /// The tensor `name` as an ndarray.
    pub(crate) fn arr(&self, name: &str) -> Result<ArrayD<f64>> {
        let t = self.tensors.get(name).ok_or_else(|| {
            Error::invalid(
                format!("no tensor `{name}`"),
                "the weights do not fit the spec",
            )
        })?;
        Ok(ArrayD::from_shape_vec(IxDyn(&t.shape), t.data.clone()).expect("shape checked"))
    }

    /// The lattice size N of rows with 3N² entries, or the error.
    pub fn lattice_size(&self, features: usize) -> Result<usize> {
        let n = ((features / 3) as f64).sqrt().round() as usize;
        if n == 0 || 3 * n * n != features {
            return Err(Error::invalid(
                format!("{features} features are not 3·N² spin components"),
                "lattice data hold [Sx, Sy, Sz] of an N×N torus per row (`feynn efnn data double-exchange`)",
            ));
        }
        Ok(n)
    }

    /// The energies of a batch of configurations, one per row (L spins, or 3N² spin components,
    /// component-major). A lattice model runs on any N.
    pub fn energies(&self, inputs: &Array2<f64>) -> Result<Array1<f64>> {
        let b = inputs.nrows();
        let (x, sites) = match self.spec.geometry {
            Geometry::Dense { inputs: l, .. } => {
                if inputs.ncols() != l {
                    return Err(Error::invalid(
                        format!(
                            "the data have {} features, the model {l} inputs",
                            inputs.ncols()
                        ),
                        "use data of the model's system size",
                    ));
                }
                let mut x = inputs.to_owned();
                if let (Some(m), Some(s)) = (
                    self.tensors.get("scale.x_mean"),
                    self.tensors.get("scale.x_std"),
                ) {
                    for mut row in x.rows_mut() {
                        for j in 0..l {
                            row[j] = (row[j] - m.data[j]) / s.data[j];
                        }
                    }
                }
                (x.into_dyn(), 1.0)
            }
            Geometry::Conv { .. } => {
                let n = self.lattice_size(inputs.ncols())?;
                let x = inputs
                    .as_standard_layout()
                    .to_owned()
                    .into_shape_with_order((b, 3, n, n))
                    .expect("row length checked");
                (x.into_dyn(), (n * n) as f64)
            }
        };
        let raw = network(&self.spec, self, &x)?;
        let (a, c) = match self.tensors.get("scale.y") {
            Some(t) => (t.data[0], t.data[1]),
            None => (1.0, 0.0),
        };
        Ok(raw
            .into_dimensionality::<ndarray::Ix1>()
            .expect("sum gives [batch]")
            .mapv(|v| a * v + c * sites))
    }
}

fn as2(x: &ArrayD<f64>) -> ndarray::ArrayView2<'_, f64> {
    x.view()
        .into_dimensionality::<Ix2>()
        .expect("a [batch, features] tensor")
}
fn as4(x: &ArrayD<f64>) -> ndarray::ArrayView4<'_, f64> {
    x.view()
        .into_dimensionality::<Ix4>()
        .expect("a [batch, channels, N, N] tensor")
}

/// Circular cross-correlation: out[b,o,y,x] = Σ_{c,dy,dx} w[o,c,dy,dx] in[b,c,y+dy−p,x+dx−p]
/// (indices mod N, p = k/2), as PyTorch's Conv2d after circular padding.
pub fn circular_conv(x: &ndarray::ArrayView4<f64>, w: &ndarray::ArrayView4<f64>) -> Array4<f64> {
    let (b, cin, n, n2) = x.dim();
    let (cout, cin2, k, _) = w.dim();
    assert_eq!(cin, cin2, "channel mismatch");
    let p = k / 2;
    let mut out = Array4::<f64>::zeros((b, cout, n, n2));
    for bi in 0..b {
        for o in 0..cout {
            let mut plane = out.slice_mut(s![bi, o, .., ..]);
            for c in 0..cin {
                let inp = x.slice(s![bi, c, .., ..]);
                for dy in 0..k {
                    for dx in 0..k {
                        let wv = w[[o, c, dy, dx]];
                        if wv == 0.0 {
                            continue;
                        }
                        for yy in 0..n {
                            let sy = (yy + n * k + dy - p) % n;
                            for xx in 0..n2 {
                                let sx = (xx + n2 * k + dx - p) % n2;
                                plane[[yy, xx]] += wv * inp[[sy, sx]];
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

impl Backend for EfnnNet {
    type T = ArrayD<f64>;

    fn linear(&self, x: &Self::T, prefix: &str) -> Result<Self::T> {
        let w = self.arr(&format!("{prefix}.weight"))?;
        let bias = self.arr(&format!("{prefix}.bias"))?;
        let w = w.into_dimensionality::<Ix2>().expect("2-D weight");
        let y = as2(x).dot(&w.t()) + &bias.into_dimensionality::<ndarray::Ix1>().unwrap();
        Ok(y.into_dyn())
    }

    fn conv(&self, x: &Self::T, prefix: &str) -> Result<Self::T> {
        let w = self.arr(&format!("{prefix}.weight"))?;
        let bias = self.arr(&format!("{prefix}.bias"))?;
        let mut y = circular_conv(&as4(x), &w.view().into_dimensionality::<Ix4>().unwrap());
        for (o, bv) in bias.iter().enumerate() {
            y.slice_mut(s![.., o, .., ..]).mapv_inplace(|v| v + bv);
        }
        Ok(y.into_dyn())
    }

    fn bilinear(&self, x: &Self::T, prefix: &str) -> Result<Self::T> {
        let w0 = self.arr(&format!("{prefix}.w0"))?;
        let w1 = self.arr(&format!("{prefix}.w1"))?;
        let (w0, w1) = (
            w0.view().into_dimensionality::<Ix4>().unwrap().to_owned(),
            w1.view().into_dimensionality::<Ix4>().unwrap().to_owned(),
        );
        let x = as4(x);
        let (b, _, n, _) = x.dim();
        let c = w0.dim().0;
        let mut out = Array4::<f64>::zeros((b, c, n, n));
        for a in 0..3 {
            let xa = x.slice(s![.., a..a + 1, .., ..]);
            let p = circular_conv(&xa, &w0.view());
            let q = circular_conv(&xa, &w1.view());
            out += &(p * q);
        }
        Ok(out.into_dyn())
    }

    fn tanh(&self, x: &Self::T) -> Result<Self::T> {
        Ok(x.mapv(f64::tanh))
    }
    fn mul(&self, a: &Self::T, b: &Self::T) -> Result<Self::T> {
        Ok(a * b)
    }
    fn add(&self, a: &Self::T, b: &Self::T) -> Result<Self::T> {
        Ok(a + b)
    }
    fn cat(&self, xs: &[Self::T]) -> Result<Self::T> {
        let views: Vec<_> = xs.iter().map(|x| x.view()).collect();
        Ok(ndarray::concatenate(Axis(1), &views).expect("same batch and lattice"))
    }
    fn sum(&self, x: &Self::T) -> Result<Self::T> {
        let b = x.shape()[0];
        let flat = x
            .as_standard_layout()
            .to_owned()
            .into_shape_with_order((b, x.len() / b.max(1)))
            .expect("contiguous");
        Ok(flat.sum_axis(Axis(1)).into_dyn())
    }
}
