//! # feynn — Feynman rules for neural networks
//!
//! Taylor coefficients of multilayer perceptrons to any order, as diagrams (propagators and
//! vertices), in closed form and as numbers. The data flow is the module order:
//!
//! `dsl` (spec text) → `model` (validated MLP, weights) → `diagrams` (petgraph) →
//! `symbolic` (Symbolica closed forms, optional feature) | `numeric` (ndarray) → `export`.
//!
//! `check` cross-checks hand-derived formulas against the model (symbolically, then at random
//! parameter draws), naming the diagrams a wrong formula misses.
//!
//! This crate is the core of a workspace: the studies (physics ground truth, the Born-series,
//! INN-learning and EFNN reproductions, training, plots) are the crate `feynn-studies`
//! (`crates/studies`) and the command line is the crate `feynn-cli` (`crates/cli`, binary
//! `feynn`). Both depend on this crate, never the other way round; this crate has no
//! command-line, progress-bar, plotting or training dependencies.

#![warn(missing_docs)]

pub mod budget;
pub mod check;
pub mod claim;
pub mod diagrams;
pub mod dsl;
pub mod error;
pub mod export;
pub mod model;
pub mod notation;
pub mod numeric;
pub mod points;
pub mod random;
#[cfg(feature = "symbolic")]
pub mod symbolic;

pub use error::{Error, ErrorKind, Result};
