//! Hamiltonian Monte Carlo for densities p ∝ e^{−S(x)} with a gradient, with the diagnostics a
//! data set of samples needs: acceptance rate, integrated autocorrelation time, effective sample
//! size, and thinning to (nearly) independent samples.
//!
//! * **Warm-up** (Hoffman & Gelman 2014, §3.2; the scheme Stan uses, simplified): the step size is
//!   tuned by dual averaging towards a target acceptance rate; the first half of the warm-up
//!   also collects the per-coordinate variance, which becomes the diagonal inverse mass matrix
//!   of the second half (step size tuned again) and of the production run.
//! * **Trajectories** have a jittered number of leapfrog steps (uniform in [n/2, n], n = path
//!   length / step size), which avoids periodic orbits on near-Gaussian targets.
//! * **Thinning**: a pilot run estimates the integrated autocorrelation time τ of the
//!   observables x_i, x_i², the mean field Σx_i/N and S; the chain is thinned by ⌈τ_max⌉, and τ
//!   and the effective sample size are measured again on the thinned output.
//! * **Reproducible**: one ChaCha8 generator seeded with `seed` drives everything.

use std::time::Instant;

use feynn::random::Rng as SeededRng;
use rand::Rng;
use serde::Serialize;

use feynn::error::{Error, Result};
use feynn::random::standard_normal as normal;

/// A density p ∝ e^{−S(x)} that HMC can sample.
pub trait Target {
    /// Dimension N.
    fn dim(&self) -> usize;
    /// S(x), with ∇S(x) written into `grad`.
    fn energy_grad(&self, x: &[f64], grad: &mut [f64]) -> f64;
}

/// A lattice theory with its bond list built once (the sampler's target).
pub struct LatticeTarget<'a> {
    pub theory: &'a super::lattice::LatticeTheory,
    bonds: Vec<(usize, usize)>,
}

impl<'a> LatticeTarget<'a> {
    pub fn new(theory: &'a super::lattice::LatticeTheory) -> Self {
        LatticeTarget {
            theory,
            bonds: theory.bonds(),
        }
    }
}

impl Target for LatticeTarget<'_> {
    fn dim(&self) -> usize {
        self.theory.sites()
    }
    fn energy_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.theory.action_grad(&self.bonds, x, grad)
    }
}

/// Settings of a sampling run.
#[derive(Debug, Clone, Serialize)]
pub struct HmcConfig {
    /// Samples to return (after thinning).
    pub samples: usize,
    /// Warm-up iterations (step size and mass adaptation), discarded.
    pub warmup: usize,
    /// Keep every `thin`-th iteration; `None`: ⌈τ_max⌉ from a pilot run.
    pub thin: Option<usize>,
    /// Iterations of the pilot run that sets the thinning.
    pub pilot: usize,
    /// Trajectory length in units of the (mass-scaled) coordinates.
    pub path_length: f64,
    /// Target acceptance rate of the step-size adaptation.
    pub target_accept: f64,
    pub seed: u64,
    /// Show a progress bar (stderr).
    #[serde(skip)]
    pub progress: bool,
}

impl Default for HmcConfig {
    fn default() -> Self {
        HmcConfig {
            samples: 10_000,
            warmup: 1000,
            thin: None,
            pilot: 2000,
            path_length: 2.0,
            target_accept: 0.8,
            seed: 0,
            progress: false,
        }
    }
}

/// What a sampling run did.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostics {
    /// Acceptance rate of the production run.
    pub acceptance: f64,
    pub step_size: f64,
    /// Maximum number of leapfrog steps per trajectory.
    pub leapfrog_steps: usize,
    /// Diagonal inverse mass matrix (≈ the per-coordinate variance).
    pub inverse_mass: Vec<f64>,
    /// τ_int of the slowest observable in the pilot run (in iterations), and its name.
    pub tau_pilot: f64,
    pub tau_pilot_observable: String,
    pub thin: usize,
    /// τ_int of the slowest observable of the thinned output (in returned samples) and its name.
    pub tau: f64,
    pub tau_observable: String,
    /// Effective sample size of the returned samples: samples / τ.
    pub ess: f64,
    /// All HMC iterations run (warm-up, pilot, production) and gradient evaluations.
    pub iterations: usize,
    pub gradient_evaluations: usize,
    pub seconds: f64,
}

impl Diagnostics {
    /// One line: acceptance, step size, thinning, τ_int, ESS and time.
    pub fn text(&self) -> String {
        format!(
            "HMC: acceptance {:.3}, step size {:.3}, ≤ {} leapfrog steps; pilot τ_int {:.2} ({}) → thin {}; \
             returned samples: τ_int {:.2} ({}), ESS {:.0}; {} iterations, {:.1} s",
            self.acceptance,
            self.step_size,
            self.leapfrog_steps,
            self.tau_pilot,
            self.tau_pilot_observable,
            self.thin,
            self.tau,
            self.tau_observable,
            self.ess,
            self.iterations,
            self.seconds
        )
    }
}

struct Chain<'a, T: Target> {
    target: &'a T,
    x: Vec<f64>,
    grad: Vec<f64>,
    energy: f64,
    inv_mass: Vec<f64>,
    rng: SeededRng,
    gradients: usize,
}

impl<T: Target> Chain<'_, T> {
    /// One HMC transition with step size `eps` and at most `steps` leapfrog steps; returns the
    /// acceptance probability.
    fn step(&mut self, eps: f64, steps: usize) -> f64 {
        let n = self.x.len();
        let p0: Vec<f64> = (0..n)
            .map(|i| normal(&mut self.rng) / self.inv_mass[i].sqrt())
            .collect();
        let kinetic =
            |p: &[f64], m: &[f64]| 0.5 * p.iter().zip(m).map(|(p, m)| m * p * p).sum::<f64>();
        let h0 = self.energy + kinetic(&p0, &self.inv_mass);
        let l = self
            .rng
            .random_range(steps.div_ceil(2).max(1)..=steps.max(1));
        let (mut x, mut p, mut g) = (self.x.clone(), p0, self.grad.clone());
        let mut e = self.energy;
        for _ in 0..l {
            for i in 0..n {
                p[i] -= 0.5 * eps * g[i];
                x[i] += eps * self.inv_mass[i] * p[i];
            }
            e = self.target.energy_grad(&x, &mut g);
            self.gradients += 1;
            if !e.is_finite() {
                break;
            }
            for i in 0..n {
                p[i] -= 0.5 * eps * g[i];
            }
        }
        let h1 = e + kinetic(&p, &self.inv_mass);
        let accept = if h1.is_finite() {
            (h0 - h1).exp().min(1.0)
        } else {
            0.0
        };
        if self.rng.random::<f64>() < accept {
            self.x = x;
            self.grad = g;
            self.energy = e;
        }
        accept
    }
}

/// Dual averaging of the log step size (Hoffman & Gelman 2014, Algorithm 5).
struct DualAveraging {
    mu: f64,
    h_bar: f64,
    log_eps: f64,
    log_eps_bar: f64,
    t: f64,
    delta: f64,
}

impl DualAveraging {
    fn new(eps0: f64, delta: f64) -> Self {
        DualAveraging {
            mu: (10.0 * eps0).ln(),
            h_bar: 0.0,
            log_eps: eps0.ln(),
            log_eps_bar: 0.0,
            t: 0.0,
            delta,
        }
    }
    fn update(&mut self, accept: f64) -> f64 {
        let (gamma, t0, kappa) = (0.05, 10.0, 0.75);
        self.t += 1.0;
        let w = 1.0 / (self.t + t0);
        self.h_bar = (1.0 - w) * self.h_bar + w * (self.delta - accept);
        self.log_eps = self.mu - self.t.sqrt() / gamma * self.h_bar;
        let eta = self.t.powf(-kappa);
        self.log_eps_bar = eta * self.log_eps + (1.0 - eta) * self.log_eps_bar;
        self.log_eps.exp()
    }
    fn final_eps(&self) -> f64 {
        self.log_eps_bar.exp()
    }
}

/// The integrated autocorrelation time τ = 1 + 2 Σ_t ρ(t) of a series, with Sokal's automatic
/// window (the smallest W with W ≥ 5 τ(W)); 1 for a constant series.
pub fn integrated_autocorrelation(series: &[f64]) -> f64 {
    let n = series.len();
    if n < 4 {
        return 1.0;
    }
    let mean = series.iter().sum::<f64>() / n as f64;
    let d: Vec<f64> = series.iter().map(|v| v - mean).collect();
    let var = d.iter().map(|v| v * v).sum::<f64>() / n as f64;
    if var <= 0.0 {
        return 1.0;
    }
    let mut tau = 1.0;
    for t in 1..n / 2 {
        let c: f64 = d[..n - t]
            .iter()
            .zip(&d[t..])
            .map(|(a, b)| a * b)
            .sum::<f64>()
            / n as f64;
        tau += 2.0 * c / var;
        if t as f64 >= 5.0 * tau {
            break;
        }
    }
    tau.max(1.0 / n as f64)
}

/// The slowest observable of a chain: (τ, name) over x_i, x_i², the mean field and S.
pub fn slowest_observable(chain: &[Vec<f64>], energies: &[f64]) -> (f64, String) {
    let n = chain.first().map_or(0, |x| x.len());
    let mut best = (integrated_autocorrelation(energies), "S".to_string());
    let mut consider = |s: Vec<f64>, name: String| {
        let t = integrated_autocorrelation(&s);
        if t > best.0 {
            best = (t, name);
        }
    };
    consider(
        chain
            .iter()
            .map(|x| x.iter().sum::<f64>() / n as f64)
            .collect(),
        "mean field".into(),
    );
    for i in 0..n {
        consider(chain.iter().map(|x| x[i]).collect(), format!("x{}", i + 1));
        consider(
            chain.iter().map(|x| x[i] * x[i]).collect(),
            format!("x{}²", i + 1),
        );
    }
    best
}

/// Draw `cfg.samples` thinned samples of `target` by HMC, starting at `init` (0 if `None`).
pub fn hmc<T: Target>(
    target: &T,
    init: Option<&[f64]>,
    cfg: &HmcConfig,
) -> Result<(Vec<Vec<f64>>, Diagnostics)> {
    let n = target.dim();
    if cfg.samples < 2 || cfg.warmup < 20 || !(0.05..1.0).contains(&cfg.target_accept) {
        return Err(Error::invalid(
            "sampler settings out of range",
            "need ≥ 2 samples, ≥ 20 warm-up iterations and a target acceptance in (0.05, 1)",
        ));
    }
    let t0 = Instant::now();
    let x = init.map_or(vec![0.0; n], |v| v.to_vec());
    let mut grad = vec![0.0; n];
    let energy = target.energy_grad(&x, &mut grad);
    if !energy.is_finite() {
        return Err(Error::invalid(
            "the action is not finite at the starting point",
            "start the chain elsewhere",
        ));
    }
    let mut chain = Chain {
        target,
        x,
        grad,
        energy,
        inv_mass: vec![1.0; n],
        rng: feynn::random::seeded(cfg.seed),
        gradients: 1,
    };
    let bar =
        crate::progress::Progress::start((cfg.warmup + cfg.pilot) as u64, "HMC", cfg.progress);
    let tick = |msg: &'static str| {
        bar.inc(1);
        if !msg.is_empty() {
            bar.set_message(|| msg.to_string());
        }
    };
    let steps_for = |eps: f64| ((cfg.path_length / eps).ceil() as usize).clamp(1, 1000);

    // warm-up, first half: step size with unit mass; variance from its second quarter
    let mut eps = 0.1;
    let half = cfg.warmup / 2;
    let mut da = DualAveraging::new(eps, cfg.target_accept);
    let (mut s1, mut s2, mut cnt) = (vec![0.0; n], vec![0.0; n], 0.0);
    for it in 0..half {
        let a = chain.step(eps, steps_for(eps));
        eps = da.update(a).clamp(1e-6, 10.0);
        if it >= half / 2 {
            for i in 0..n {
                s1[i] += chain.x[i];
                s2[i] += chain.x[i] * chain.x[i];
            }
            cnt += 1.0;
        }
        tick("warm-up");
    }
    if cnt > 1.0 {
        // regularised towards 1e-3 like Stan's, so that a stuck coordinate keeps a usable mass
        for i in 0..n {
            let var = (s2[i] / cnt - (s1[i] / cnt).powi(2)).max(0.0);
            chain.inv_mass[i] = (cnt / (cnt + 5.0)) * var + 1e-3 * 5.0 / (cnt + 5.0);
        }
    }
    // second half: step size again with the new mass
    eps = da.final_eps();
    let mut da = DualAveraging::new(eps, cfg.target_accept);
    for _ in half..cfg.warmup {
        let a = chain.step(eps, steps_for(eps));
        eps = da.update(a).clamp(1e-6, 10.0);
        tick("warm-up");
    }
    let eps = da.final_eps();
    let steps = steps_for(eps);

    // pilot: the autocorrelation time sets the thinning
    let (mut pilot, mut pilot_e) = (vec![], vec![]);
    for _ in 0..cfg.pilot {
        chain.step(eps, steps);
        pilot.push(chain.x.clone());
        pilot_e.push(chain.energy);
        tick("pilot");
    }
    let (tau_pilot, tau_pilot_observable) = if cfg.pilot >= 20 {
        slowest_observable(&pilot, &pilot_e)
    } else {
        (1.0, "none (no pilot run)".into())
    };
    let thin = cfg.thin.unwrap_or(tau_pilot.ceil() as usize).max(1);
    bar.set_length((cfg.warmup + cfg.pilot + cfg.samples * thin) as u64);
    bar.set_message(|| format!("thin {thin} (τ ≈ {tau_pilot:.1})"));

    let (mut out, mut energies) = (Vec::with_capacity(cfg.samples), vec![]);
    let mut acc = 0.0;
    for it in 0..cfg.samples * thin {
        acc += chain.step(eps, steps);
        if (it + 1) % thin == 0 {
            out.push(chain.x.clone());
            energies.push(chain.energy);
        }
        bar.inc(1);
    }
    drop(bar);
    let (tau, tau_observable) = slowest_observable(&out, &energies);
    let iterations = cfg.warmup + cfg.pilot + cfg.samples * thin;
    Ok((
        out,
        Diagnostics {
            acceptance: acc / (cfg.samples * thin) as f64,
            step_size: eps,
            leapfrog_steps: steps,
            inverse_mass: chain.inv_mass.clone(),
            tau_pilot,
            tau_pilot_observable,
            thin,
            tau,
            tau_observable,
            ess: cfg.samples as f64 / tau.max(1.0),
            iterations,
            gradient_evaluations: chain.gradients,
            seconds: t0.elapsed().as_secs_f64(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autocorrelation_of_an_ar1_process() {
        // x_t = a x_{t−1} + noise has τ = (1 + a)/(1 − a) exactly
        let a = 0.8;
        let mut rng = feynn::random::seeded(3);
        let mut x = 0.0;
        let s: Vec<f64> = (0..200_000)
            .map(|_| {
                x = a * x + normal(&mut rng);
                x
            })
            .collect();
        let tau = integrated_autocorrelation(&s);
        assert!((tau - 9.0).abs() < 0.6, "τ = {tau}");
        let white: Vec<f64> = (0..50_000).map(|_| normal(&mut rng)).collect();
        assert!((integrated_autocorrelation(&white) - 1.0).abs() < 0.1);
    }
}
