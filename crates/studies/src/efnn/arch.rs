//! The architectures of theory note §2, written once over a small set of tensor operations.
//!
//! A [`Backend`] holds the parameters (by name) and implements the operations on its own tensor
//! type: ndarray for inference ([`super::forward`]), candle for training. Shapes: fully connected
//! activations are [batch, features]; lattice activations are [batch, channels, N, N].

use super::spec::{Arch, EfnnSpec, Geometry};
use feynn::error::Result;

/// The operations the architectures need. `prefix` names a parameter group: `linear`/`conv`
/// read `{prefix}.weight` and `{prefix}.bias`, `bilinear` reads `{prefix}.w0` and `{prefix}.w1`.
pub trait Backend {
    /// An activation tensor.
    type T: Clone;
    /// x Wᵀ + b on [batch, in].
    fn linear(&self, x: &Self::T, prefix: &str) -> Result<Self::T>;
    /// Circular 2-D convolution with bias (cross-correlation, padding k/2 wrapped around the
    /// torus) on [batch, cin, N, N].
    fn conv(&self, x: &Self::T, prefix: &str) -> Result<Self::T>;
    /// The O(3)-invariant layer Φ^c = Σ_a (W0^c ⋆ S^a)(W1^c ⋆ S^a) on spins [batch, 3, N, N],
    /// with the 1→C kernels W0, W1 shared by the three components.
    fn bilinear(&self, x: &Self::T, prefix: &str) -> Result<Self::T>;
    fn tanh(&self, x: &Self::T) -> Result<Self::T>;
    fn mul(&self, a: &Self::T, b: &Self::T) -> Result<Self::T>;
    fn add(&self, a: &Self::T, b: &Self::T) -> Result<Self::T>;
    /// Concatenate along axis 1 (features or channels).
    fn cat(&self, xs: &[Self::T]) -> Result<Self::T>;
    /// Sum over every axis but the batch: [batch, …] → [batch].
    fn sum(&self, x: &Self::T) -> Result<Self::T>;
}

/// Linear → tanh → Linear (or conv → tanh → conv): the blocks f_i, g_i, h_i.
fn block<B: Backend>(b: &B, x: &B::T, name: &str, conv: bool) -> Result<B::T> {
    let (p0, p2) = (format!("{name}.0"), format!("{name}.2"));
    if conv {
        let z = b.tanh(&b.conv(x, &p0)?)?;
        b.conv(&z, &p2)
    } else {
        let z = b.tanh(&b.linear(x, &p0)?)?;
        b.linear(&z, &p2)
    }
}

/// The network's raw output (before the output scaling) for a batch of inputs: [batch, L] for
/// fully connected models (already standardised), [batch, 3, N, N] for convolutional ones.
pub fn network<B: Backend>(spec: &EfnnSpec, b: &B, s0: &B::T) -> Result<B::T> {
    let n = spec.depth;
    match spec.geometry {
        Geometry::Dense { width, inputs } => match spec.arch {
            Arch::Efnn => {
                // S_i = g_i(S0) ⊙ f_{i−1}(S_{i−1}), E = Σ S_n
                let mut s = s0.clone();
                for i in 1..=n {
                    let f = block(b, &s, &format!("f{}", i - 1), false)?;
                    let g = block(b, s0, &format!("g{i}"), false)?;
                    s = b.mul(&g, &f)?;
                }
                b.sum(&s)
            }
            Arch::Dnn => {
                let mut s = s0.clone();
                for i in 1..=n {
                    let f = block(b, &s, &format!("f{}", i - 1), false)?;
                    s = block(b, &f, &format!("h{i}"), false)?;
                }
                b.sum(&s)
            }
            Arch::ResNet => {
                let p = if width != inputs {
                    b.linear(s0, "proj")?
                } else {
                    s0.clone()
                };
                let mut s = b.add(&p, &block(b, s0, "f0", false)?)?;
                for i in 1..n {
                    s = b.add(&s, &block(b, &s, &format!("f{i}"), false)?)?;
                }
                b.sum(&s)
            }
            Arch::DenseNet => {
                let mut feats = vec![s0.clone()];
                for i in 1..=n {
                    let x = b.cat(&feats)?;
                    feats.push(block(b, &x, &format!("f{i}"), false)?);
                }
                b.sum(&b.cat(&feats)?)
            }
        },
        Geometry::Conv { .. } => {
            let out = match spec.arch {
                Arch::Efnn => {
                    let mut s = b.bilinear(s0, "phi0")?;
                    for i in 1..=n {
                        let f = block(b, &s, &format!("f{}", i - 1), true)?;
                        let t = b.bilinear(s0, &format!("t{i}"))?;
                        let g = block(b, &t, &format!("g{i}"), true)?;
                        s = b.mul(&f, &g)?;
                    }
                    s
                }
                Arch::Dnn => {
                    let mut s = b.bilinear(s0, "phi0")?;
                    for i in 0..n {
                        let f = block(b, &s, &format!("f{i}"), true)?;
                        s = block(b, &f, &format!("h{}", i + 1), true)?;
                    }
                    s
                }
                Arch::ResNet => {
                    let phi = b.bilinear(s0, "phi0")?;
                    let mut s = b.add(&b.bilinear(s0, "t1")?, &block(b, &phi, "f0", true)?)?;
                    for i in 1..n {
                        s = b.add(&s, &block(b, &s, &format!("f{i}"), true)?)?;
                    }
                    s
                }
                Arch::DenseNet => {
                    let phi = b.bilinear(s0, "phi0")?;
                    let mut feats = vec![b.bilinear(s0, "t1")?, block(b, &phi, "f1", true)?];
                    for i in 1..n {
                        let x = b.cat(&feats)?;
                        feats.push(block(b, &x, &format!("f{}", i + 1), true)?);
                    }
                    b.cat(&feats)?
                }
            };
            b.sum(&b.conv(&out, "head")?)
        }
    }
}
