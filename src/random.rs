//! The one seeded random-number generator of feynn and its normal draws.
//!
//! Every stochastic part of the workspace — INN sampling, the random parameter draws of
//! [`crate::check`], the studies' HMC momenta, data sets and initialisations — draws from
//! [`Rng`] seeded by [`seeded`], so a seed means the same stream everywhere and on every
//! platform (ChaCha8 is portable; `StdRng` promises neither).

use rand::SeedableRng;
use rand_distr::Distribution;

/// The seeded generator used everywhere: ChaCha with 8 rounds (fast, portable, reproducible).
pub type Rng = rand_chacha::ChaCha8Rng;

/// A generator seeded with `seed`.
pub fn seeded(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// One draw of N(0, 1) (`rand_distr`'s ziggurat sampler).
pub fn standard_normal(rng: &mut impl rand::Rng) -> f64 {
    rand_distr::StandardNormal.sample(rng)
}
