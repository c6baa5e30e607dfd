//! Training EFNN specs with the candle trainer of [`crate::train`] (feature `train`).
//!
//! [`EfnnTrainable`] implements [`Trainable`]: the architecture of [`super::arch`] over candle
//! tensors, PyTorch-default initialisation from the trainer's seeded generator, and an export
//! that adds the scaling tensors of [`super::forward`] (`scale.x_mean`, `scale.x_std`,
//! `scale.y`). Lattice models see raw spins (no per-feature standardisation) and store the target
//! shift per site, so the trained network runs unchanged at any N.

use std::cell::RefCell;
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

/// The parameters of one forward pass, by name, and the torus gathers its convolutions share.
pub struct CandleNet<'a> {
    params: HashMap<&'a str, &'a Tensor>,
    /// [`torus_gather`] per (N, k): every convolution of a pass on one lattice reads the same.
    gathers: RefCell<HashMap<(usize, usize), Tensor>>,
}

impl<'a> CandleNet<'a> {
    /// Wrap named tensors.
    pub fn new(params: &'a [(String, Var)]) -> CandleNet<'a> {
        CandleNet {
            params: params
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_tensor()))
                .collect(),
            gathers: RefCell::new(HashMap::new()),
        }
    }
    /// The gather of an N×N torus through a k×k kernel, built once per pass.
    fn gather(&self, n: usize, k: usize) -> candle_core::Result<Tensor> {
        if let Some(t) = self.gathers.borrow().get(&(n, k)) {
            return Ok(t.clone());
        }
        let t = torus_gather(n, k)?;
        self.gathers.borrow_mut().insert((n, k), t.clone());
        Ok(t)
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

/// The sites each output site reads on an N×N torus through a k×k kernel, row-major per site:
/// entry (s·k² + a·k + b) is the site ((i + a − k/2) mod N, (j + b − k/2) mod N) for s = (i, j)
/// — PyTorch's cross-correlation after circular padding (a kernel wider than the lattice wraps
/// more than once, as on a torus).
fn torus_gather(n: usize, k: usize) -> candle_core::Result<Tensor> {
    let p = (k / 2) as i64;
    let n_i = n as i64;
    let mut idx = Vec::with_capacity(n * n * k * k);
    for i in 0..n_i {
        for j in 0..n_i {
            for a in 0..k as i64 {
                for b in 0..k as i64 {
                    let r = (i + a - p).rem_euclid(n_i);
                    let c = (j + b - p).rem_euclid(n_i);
                    idx.push((r * n_i + c) as u32);
                }
            }
        }
    }
    Tensor::from_vec(idx, n * n * k * k, &Device::Cpu)
}

/// Circular convolution in the channels-last layout [B, S, Cin] → [B, S, Cout] (S = N² sites):
/// one gather of every site's k×k neighbourhood (im2col, [B·S, k²·Cin]) and one matrix product
/// with the kernel as a [k²·Cin, Cout] matrix. Its backward is a scatter-add and two products;
/// candle's `conv2d` backward took ~50 % of a training step on 3-channel lattices (its weight
/// gradient is a convolution with the batch as channels).
fn conv_lattice(net: &CandleNet, x: &Tensor, w: &Tensor) -> candle_core::Result<Tensor> {
    let (b, s, cin) = x.dims3()?;
    let (cout, _, k, _) = w.dims4()?;
    let n = (s as f64).sqrt().round() as usize;
    let cols = x
        .index_select(&net.gather(n, k)?, 1)?
        .reshape((b * s, k * k * cin))?;
    let wm = w.permute((2, 3, 1, 0))?.reshape((k * k * cin, cout))?;
    cols.matmul(&wm)?.reshape((b, s, cout))
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
        conv_lattice(self, x, w)
            .and_then(|y| y.broadcast_add(b))
            .map_err(cerr)
    }
    fn bilinear(&self, x: &Tensor, prefix: &str) -> Result<Tensor> {
        let w0 = self.p(&format!("{prefix}.w0"))?;
        let w1 = self.p(&format!("{prefix}.w1"))?;
        // x is [B, 3, S] (component-major, as the data): each spin component goes through both
        // one-channel kernels in one product, then φ = Σ_a (w0 ∗ S^a)(w1 ∗ S^a), channels last.
        let f = || -> candle_core::Result<Tensor> {
            let (b, a, s) = x.dims3()?;
            let c = w0.dim(0)?;
            let w = Tensor::cat(&[w0, w1], 0)?;
            let pq =
                conv_lattice(self, &x.reshape((b * a, s, 1))?, &w)?.reshape((b, a, s, 2 * c))?;
            let p = pq.narrow(3, 0, c)?;
            let q = pq.narrow(3, c, c)?;
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
        // features or channels are the last dimension in both layouts ([B, F], [B, S, C])
        let last = xs.first().map_or(1, |x| x.rank().saturating_sub(1));
        Tensor::cat(xs, last).map_err(cerr)
    }
    fn sum(&self, x: &Tensor) -> Result<Tensor> {
        x.flatten_from(1).and_then(|y| y.sum(1)).map_err(cerr)
    }
}

impl EfnnTrainable {
    /// The batch as the network's input shape: [B, L], or [B, 3, N²] for lattices (the
    /// bilinear layers make the channels-last [B, N², C] that the convolutions keep).
    fn shape_input(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self.spec.geometry {
            Geometry::Dense { .. } => Ok(x.clone()),
            Geometry::Conv { .. } => {
                let (b, f) = x.dims2()?;
                x.reshape((b, 3, f / 3))
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
