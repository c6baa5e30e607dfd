//! # feynn — Feynman rules for neural networks
//!
//! Taylor coefficients of multilayer perceptrons to any order, as diagrams (propagators and
//! vertices), in closed form and as numbers. The data flow is the module order:
//!
//! `dsl` (spec text) → `model` (validated MLP, weights) → `diagrams` (petgraph) →
//! `symbolic` (Symbolica closed forms, optional feature) | `numeric` (ndarray) → `export`.
//!
//! `physics` holds the ground truth of the Born-series application: the exact S-wave scattering
//! length of step potentials and its first two Born terms in closed form.
//!
//! `check` cross-checks hand-derived formulas against the model (symbolically, then at random
//! parameter draws), naming the diagrams a wrong formula misses.
//!
//! `efnn` holds effective field neural networks and their baselines (specs, one architecture
//! over ndarray and candle backends, the coupling readout, the benchmark studies); the benchmark
//! systems themselves are in `physics::spins` and `physics::double_exchange`.
//!
//! `theory` learns interacting lattice theories with invertible networks: HMC samples
//! (`physics::lattice`, `physics::mcmc`), maximum-likelihood INN training, and the learned action
//! read back with the exact recursion and compared with the truth.
//!
//! The CLI (`src/main.rs`, `src/cli/`) is a thin layer over this library.

pub mod born;
pub mod budget;
pub mod check;
pub mod data;
pub mod diagrams;
pub mod dsl;
pub mod efnn;
pub mod error;
pub mod export;
pub mod model;
pub mod numeric;
pub mod physics;
pub mod plot;
#[cfg(feature = "symbolic")]
pub mod symbolic;
pub mod theory;
#[cfg(feature = "train")]
pub mod train;

pub use error::{Error, Result};
