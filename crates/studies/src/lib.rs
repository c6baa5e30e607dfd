//! # feynn-studies — the three reproductions built on the core library `feynn`
//!
//! The core crate reads networks (spec → model → diagrams → symbolic | numeric → export); this
//! crate holds what the studies need on top of it, and nothing of it flows back into the core:
//!
//! * [`physics`]: the ground truth — exact S-wave scattering lengths and Born terms, potential
//!   families, spin models, the double-exchange model, φ³+φ⁴ lattice theories and their HMC
//!   sampler.
//! * [`data`]: (inputs, targets) data sets in `.npz`.
//! * [`train`] (feature `train`, candle on the CPU): fitting a spec to data.
//! * [`born`]: the Born-series study (seed 000): data of shallow potentials, iterative NN
//!   perturbation theory.
//! * [`theory`]: learning interacting theories with invertible networks (seed 001).
//! * [`efnn`]: effective field neural networks and their baselines (seed 002).
//! * [`plot`]: SVG figures (plotters).
//! * [`torch`]: a spec file's model as a PyTorch module (`feynn export torch`).
//! * [`provenance`]: the version, machine and time a study report records.
//! * [`reports`]: the book's figures and tables drawn again from the committed reports
//!   (`feynn reports`).
//! * [`progress`]: progress of long work as a callback (the CLI draws it).

pub mod born;
pub mod data;
pub mod efnn;
pub mod physics;
pub mod plot;
pub mod progress;
pub mod provenance;
pub mod reports;
pub mod theory;
pub mod torch;
#[cfg(feature = "train")]
pub mod train;
