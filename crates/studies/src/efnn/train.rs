//! Training EFNN specs with the candle trainer of [`crate::train`] (feature `train`).
//!
//! [`EfnnTrainable`] implements [`Trainable`]: the architecture of [`super::arch`] over candle
//! tensors, PyTorch-default initialisation from the trainer's seeded generator, and an export
//! that adds the scaling tensors of [`super::forward`] (`scale.x_mean`, `scale.x_std`,
//! `scale.y`). Lattice models see raw spins (no per-feature standardisation) and store the target
//! shift per site, so the trained network runs unchanged at any N.

use std::collections::{BTreeMap, HashMap};

use candle_core::{Device, Tensor, Var};
use feynn::random::Rng as SeededRng;

use super::arch::{network, Backend};
use super::forward::init_tensors;
use super::spec::{EfnnSpec, Geometry};
use crate::train::{Scaling, Trainable};
use feynn::error::{Error, Result};
use feynn::model::weights;

fn cerr(e: candle_core::Error) -> Error {
    Error::invalid(
        format!("EFNN training failed in candle: {e}"),
        "this is a bug; please report it",
    )
}

/// The candle side of an EFNN spec (a lattice model takes N from the data's row length).
pub struct EfnnTrainable {
    pub spec: EfnnSpec,
}

/// The parameters of one forward pass, by name.
pub struct CandleNet<'a> {
    params: HashMap<&'a str, &'a Tensor>,
}

impl<'a> CandleNet<'a> {
    /// Wrap named tensors.
    pub fn new(params: &'a [(String, Var)]) -> CandleNet<'a> {
        CandleNet {
            params: params
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_tensor()))
                .collect(),
        }
    }
    fn p(&self, name: &str) -> Result<&Tensor> {
        self.params.get(name).copied().ok_or_else(|| {
            Error::invalid(
                format!("no parameter `{name}`"),
                "this is a bug; please report it",
            )
        })
    }
}

/// Wrap around the torus: pad dimension `dim` by p on each side with the opposite edge (tiling
/// the lattice first, so a kernel wider than the lattice wraps more than once, as on a torus).
fn circular_pad(x: &Tensor, dim: usize, p: usize) -> candle_core::Result<Tensor> {
    if p == 0 {
        return Ok(x.clone());
    }
    let n = x.dim(dim)?;
    let reps = p.div_ceil(n);
    let tiled = vec![x.clone(); 2 * reps + 1];
    Tensor::cat(&tiled, dim)?.narrow(dim, reps * n - p, n + 2 * p)
}

fn conv_circ(x: &Tensor, w: &Tensor) -> candle_core::Result<Tensor> {
    let p = w.dim(3)? / 2;
    let xp = circular_pad(&circular_pad(x, 2, p)?, 3, p)?;
    xp.conv2d(w, 0, 1, 1, 1)
}

impl Backend for CandleNet<'_> {
    type T = Tensor;

    fn linear(&self, x: &Tensor, prefix: &str) -> Result<Tensor> {
        let w = self.p(&format!("{prefix}.weight"))?;
        let b = self.p(&format!("{prefix}.bias"))?;
        x.matmul(&w.t().map_err(cerr)?)
            .and_then(|y| y.broadcast_add(b))
            .map_err(cerr)
    }
    fn conv(&self, x: &Tensor, prefix: &str) -> Result<Tensor> {
        let w = self.p(&format!("{prefix}.weight"))?;
        let b = self.p(&format!("{prefix}.bias"))?;
        let c = b.dim(0).map_err(cerr)?;
        conv_circ(x, w)
            .and_then(|y| y.broadcast_add(&b.reshape((1, c, 1, 1))?))
            .map_err(cerr)
    }
    fn bilinear(&self, x: &Tensor, prefix: &str) -> Result<Tensor> {
        let w0 = self.p(&format!("{prefix}.w0"))?;
        let w1 = self.p(&format!("{prefix}.w1"))?;
        let f = || -> candle_core::Result<Tensor> {
            let (b, a, n, m) = x.dims4()?;
            let c = w0.dim(0)?;
            let xs = x.reshape((b * a, 1, n, m))?;
            let p = conv_circ(&xs, w0)?.reshape((b, a, c, n, m))?;
            let q = conv_circ(&xs, w1)?.reshape((b, a, c, n, m))?;
            (p * q)?.sum(1)
        };
        f().map_err(cerr)
    }
    fn tanh(&self, x: &Tensor) -> Result<Tensor> {
        x.tanh().map_err(cerr)
    }
    fn mul(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        (a * b).map_err(cerr)
    }
    fn add(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        (a + b).map_err(cerr)
    }
    fn cat(&self, xs: &[Tensor]) -> Result<Tensor> {
        Tensor::cat(xs, 1).map_err(cerr)
    }
    fn sum(&self, x: &Tensor) -> Result<Tensor> {
        x.flatten_from(1).and_then(|y| y.sum(1)).map_err(cerr)
    }
}

impl EfnnTrainable {
    /// The batch as the network's input shape: [B, L] or [B, 3, N, N].
    fn shape_input(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self.spec.geometry {
            Geometry::Dense { .. } => Ok(x.clone()),
            Geometry::Conv { .. } => {
                let (b, f) = x.dims2()?;
                let n = ((f / 3) as f64).sqrt().round() as usize;
                x.reshape((b, 3, n, n))
            }
        }
    }

    /// Check the data's feature count against the spec.
    pub fn check_inputs(&self, inputs: usize) -> Result<()> {
        match self.spec.geometry {
            Geometry::Dense { inputs: l, .. } if l != inputs => Err(Error::invalid(
                format!(
                    "efnn `{}` has {l} inputs, the data {inputs} features",
                    self.spec.name
                ),
                "use a spec whose `input` matches the data",
            )),
            Geometry::Conv { .. } => {
                let n = ((inputs / 3) as f64).sqrt().round() as usize;
                if n == 0 || 3 * n * n != inputs {
                    return Err(Error::invalid(
                        format!("{inputs} features are not the 3·N² spin components of a lattice"),
                        "train lattice models on `feynn efnn data double-exchange` output",
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Evaluate the candle forward pass on raw inputs with the given parameters (no scaling):
    /// the network's raw output, for comparisons with the ndarray pass.
    pub fn raw_forward(
        &self,
        params: &[(String, Var)],
        x: &ndarray::Array2<f64>,
    ) -> Result<Vec<f64>> {
        let t = Tensor::from_vec(
            x.as_standard_layout().iter().copied().collect::<Vec<_>>(),
            (x.nrows(), x.ncols()),
            &Device::Cpu,
        )
        .map_err(cerr)?;
        self.forward(params, &t)
            .and_then(|y| y.to_vec1::<f64>())
            .map_err(cerr)
    }
}

/// Candle variables from named f64 tensors.
pub fn vars_from(
    tensors: &BTreeMap<String, weights::Tensor>,
    spec: &EfnnSpec,
) -> Result<Vec<(String, Var)>> {
    spec.parameters()
        .into_iter()
        .map(|(name, shape)| {
            let t = &tensors[&name];
            let v = Tensor::from_vec(t.data.clone(), shape, &Device::Cpu)
                .and_then(|t| Var::from_tensor(&t))
                .map_err(cerr)?;
            Ok((name, v))
        })
        .collect()
}

impl Trainable for EfnnTrainable {
    fn init(&self, inputs: usize, rng: &mut SeededRng) -> Result<Vec<(String, Var)>> {
        self.check_inputs(inputs)?;
        vars_from(&init_tensors(&self.spec, rng), &self.spec)
    }

    fn forward(&self, params: &[(String, Var)], x: &Tensor) -> candle_core::Result<Tensor> {
        let net = CandleNet::new(params);
        let x = self.shape_input(x)?;
        network(&self.spec, &net, &x).map_err(|e| candle_core::Error::Msg(e.to_string()))
    }

    fn export(
        &self,
        params: &[(String, Var)],
        s: &Scaling,
    ) -> Result<BTreeMap<String, weights::Tensor>> {
        let mut out = BTreeMap::new();
        for (name, v) in params {
            let t = v.as_tensor();
            let data = t
                .flatten_all()
                .and_then(|f| f.to_vec1::<f64>())
                .map_err(cerr)?;
            out.insert(
                name.clone(),
                weights::Tensor {
                    shape: t.dims().to_vec(),
                    data,
                },
            );
        }
        let sites = match self.spec.geometry {
            Geometry::Dense { .. } => {
                let vec = |a: &ndarray::Array1<f64>| weights::Tensor {
                    shape: vec![a.len()],
                    data: a.to_vec(),
                };
                out.insert("scale.x_mean".into(), vec(&s.x_mean));
                out.insert("scale.x_std".into(), vec(&s.x_std));
                1.0
            }
            // the trainer's target shift is per configuration of the training size
            Geometry::Conv { .. } => (s.x_mean.len() / 3) as f64,
        };
        out.insert(
            "scale.y".into(),
            weights::Tensor {
                shape: vec![2],
                data: vec![s.y_std, s.y_mean / sites],
            },
        );
        Ok(out)
    }

    fn standardise_inputs(&self) -> bool {
        !self.spec.is_conv()
    }
}
