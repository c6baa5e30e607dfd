//! Effective field neural networks (EFNNs, seed paper 002) and the baselines DNN, ResNet and
//! DenseNet of the same sizes, fully connected or convolutional (theory note `efnn.md` §2).
//!
//! * [`spec`]: the `efnn NAME { … }` blocks of a spec file, validated, with their parameter
//!   layout (names and shapes, PyTorch-style `f0.0.weight`).
//! * [`arch`]: the architectures, written once over the [`arch::Backend`] operations, so that the
//!   ndarray forward pass ([`forward`]) and the candle one used for training (`train`, feature
//!   `train`) run the same continued function.
//! * [`forward`]: inference with ndarray (f64) from a weights file.
//! * [`readout`]: the learned couplings of a network of 0/1 spins by the exact multilinear
//!   (Möbius) expansion over all 2^L configurations (the "walsh" route).
//! * [`taylor`]: the learned couplings as Taylor coefficients at a point (any spins), through
//!   the same architectures on truncated multivariate series (the "taylor" route).
//! * [`eval`]: a trained spec against a data set (loading, metrics).
//! * [`effective`]: the effective-model baseline of the double-exchange benchmark (linear
//!   regression on translation-invariant spin invariants).
//! * [`scale`] (its `run` needs feature `train`): the double-exchange study at the paper's scale — train at
//!   N = 10, evaluate at 20–40 next to the baselines, time ED.
//! * [`bench`]: the error metrics of the paper and the honest ones (RMSE per site, RMSE/std,
//!   the predict-the-mean baseline).

pub mod arch;
pub mod bench;
pub mod couplings;
pub mod datasets;
pub mod effective;
pub mod eval;
pub mod forward;
pub mod plots;
pub mod readout;
pub mod scale;
pub mod spec;
#[cfg(feature = "train")]
pub mod study;
pub mod taylor;
#[cfg(feature = "train")]
pub mod train;

pub use spec::{load_efnn, Arch, EfnnSpec, Geometry};
