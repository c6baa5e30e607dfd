//! Random shallow attractive step potentials for training data (issue 5).
//!
//! A *shape* S ≤ 0 is drawn from a [`Family`], then scaled to U = f·λ*·S with f uniform in
//! [0, depth), where λ* = [`super::unitary_scale`] is the depth at which the shape first binds (the
//! Born radius of convergence of a₀(λS)). With depth < 1 every potential is shallow: U ≤ 0, no
//! bound state, hence a₀ ≤ 0; [`sample`] checks that with [`super::is_shallow_attractive`] and
//! draws again in the (rounding-level) case it fails.
//!
//! Every sample has its own ChaCha8 stream (seed, stream = sample index), so a data set is the
//! same whatever the number of threads.

use feynn::random::Rng as SeededRng;
use rand::Rng;

use super::{is_shallow_attractive, midpoint_sample, unitary_scale};

/// A family of potential shapes (all ≤ 0 on [0, R], expressed with x = r/R).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Independent uniform depths on every step: constrains every input direction.
    Steps,
    /// A sum of 1–3 Gaussians (centres 0–R, widths 0.08–0.5 R).
    Gaussian,
    /// Yukawa-like −e^{−x/b}/(x + c), b ∈ [0.15, 1], softened at the origin by c ∈ [0.05, 0.3].
    Yukawa,
    /// 1–2 square wells, discretised by overlap.
    Square,
    /// A random positive combination of the three smooth families and a Woods–Saxon edge.
    Mix,
}

impl Family {
    /// Every family, in code order ([`Family::code`]).
    pub const ALL: [Family; 5] = [
        Family::Steps,
        Family::Gaussian,
        Family::Yukawa,
        Family::Square,
        Family::Mix,
    ];

    /// The name used on the command line and in data files.
    pub fn name(self) -> &'static str {
        match self {
            Family::Steps => "steps",
            Family::Gaussian => "gaussian",
            Family::Yukawa => "yukawa",
            Family::Square => "square",
            Family::Mix => "mix",
        }
    }

    /// The integer stored in the `family` array of a data file (index in [`Family::ALL`]).
    pub fn code(self) -> i64 {
        Family::ALL.iter().position(|f| *f == self).unwrap() as i64
    }

    /// Parse a name of [`Family::name`].
    pub fn parse(s: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == s)
    }

    /// A list of family names (`all` for every family), or an error naming the unknown one.
    pub fn parse_list(names: &[String]) -> feynn::Result<Vec<Family>> {
        if names.iter().any(|f| f.trim() == "all") {
            return Ok(Family::ALL.to_vec());
        }
        names
            .iter()
            .map(|f| {
                Family::parse(f.trim()).ok_or_else(|| {
                    feynn::Error::invalid(
                        format!("unknown potential family `{f}`"),
                        "families: steps, gaussian, yukawa, square, mix, all",
                    )
                })
            })
            .collect()
    }
}

fn gaussians(rng: &mut SeededRng) -> impl Fn(f64) -> f64 {
    let k = rng.random_range(1..=3);
    let parts: Vec<(f64, f64, f64)> = (0..k)
        .map(|_| {
            (
                rng.random_range(0.2..1.0),
                rng.random_range(0.0..1.0),
                rng.random_range(0.08..0.5),
            )
        })
        .collect();
    move |x| {
        -parts
            .iter()
            .map(|(a, c, w)| a * (-((x - c) / w).powi(2)).exp())
            .sum::<f64>()
    }
}

fn yukawa(rng: &mut SeededRng) -> impl Fn(f64) -> f64 {
    let b = rng.random_range(0.15..1.0);
    let c = rng.random_range(0.05..0.3);
    move |x: f64| -(-x / b).exp() / (x + c)
}

fn wells(rng: &mut SeededRng, steps: usize) -> Vec<f64> {
    let k = rng.random_range(1..=2);
    let mut s = vec![0.0; steps];
    for _ in 0..k {
        let a = rng.random_range(0.3..1.0);
        let lo = rng.random_range(0.0..0.8);
        let hi = (lo + rng.random_range(0.1..1.0f64)).min(1.0);
        for (i, v) in s.iter_mut().enumerate() {
            // overlap of [i/N, (i+1)/N] with [lo, hi], as a fraction of the step
            let (l, h) = (i as f64 / steps as f64, (i + 1) as f64 / steps as f64);
            let o = (h.min(hi) - l.max(lo)).max(0.0) * steps as f64;
            *v -= a * o;
        }
    }
    s
}

/// The shape of one potential of `family` on N = `steps` steps (not yet scaled; entries ≤ 0, not
/// all zero).
pub fn shape(family: Family, steps: usize, rng: &mut SeededRng) -> Vec<f64> {
    let on_grid = |f: &dyn Fn(f64) -> f64| midpoint_sample(f, steps, 1.0);
    match family {
        Family::Steps => (0..steps).map(|_| -rng.random_range(0.0..1.0)).collect(),
        Family::Gaussian => on_grid(&gaussians(rng)),
        Family::Yukawa => on_grid(&yukawa(rng)),
        Family::Square => wells(rng, steps),
        Family::Mix => {
            let g = on_grid(&gaussians(rng));
            let y = on_grid(&yukawa(rng));
            let w = wells(rng, steps);
            let edge = rng.random_range(0.3..0.9);
            let skin = rng.random_range(0.03..0.15);
            let ws = on_grid(&|x: f64| -1.0 / (1.0 + ((x - edge) / skin).exp()));
            let c: Vec<f64> = (0..4).map(|_| rng.random_range(0.0..1.0)).collect();
            // normalise each part by its largest depth so no part dominates by construction
            let norm = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(1e-300);
            let (ng, ny, nw, ns) = (norm(&g), norm(&y), norm(&w), norm(&ws));
            (0..steps)
                .map(|i| c[0] * g[i] / ng + c[1] * y[i] / ny + c[2] * w[i] / nw + c[3] * ws[i] / ns)
                .collect()
        }
    }
}

/// One shallow attractive potential: sample `index` of the data set with this `seed`, from the
/// family `families[index % len]`, scaled to a uniform fraction in [0, `depth`) of its unitary
/// limit. Returns the potential and its family.
///
/// # Panics
/// If `families` is empty or `depth` is not in (0, 1).
pub fn sample(
    families: &[Family],
    steps: usize,
    range: f64,
    depth: f64,
    seed: u64,
    index: u64,
) -> (Vec<f64>, Family) {
    sample_with_power(families, steps, range, depth, 1.0, seed, index)
}

/// [`sample`] with the depth fraction drawn as `depth`·u^`power`, u uniform in [0, 1): power 1 is
/// the uniform fraction of [`sample`] (the same potentials), power p > 1 puts more potentials
/// near U = 0 (density ∝ f^{1/p − 1}), where the Taylor coefficients at U = 0 are decided.
///
/// # Panics
/// If `families` is empty, `depth` is not in (0, 1) or `power` is not positive.
pub fn sample_with_power(
    families: &[Family],
    steps: usize,
    range: f64,
    depth: f64,
    power: f64,
    seed: u64,
    index: u64,
) -> (Vec<f64>, Family) {
    let scaling = Scaling {
        depth,
        power,
        both_signs: false,
    };
    sample_scaled(families, steps, range, scaling, seed, index)
}

/// How a shape S ≤ 0 is scaled to a potential U = f·λ*·S (λ* the shape's unitary-limit depth).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scaling {
    /// The largest |f|, in (0, 1).
    pub depth: f64,
    /// |f| = depth·u^power, u uniform in [0, 1).
    pub power: f64,
    /// f < 0 (a repulsive potential U = |f|·λ*·|S| ≥ 0) for half of the potentials, chosen by a
    /// fair coin. The Born series of a₀(λS) converges for |λ| < λ* on both sides (its only
    /// singularities are the bound-state thresholds λ_k ≥ λ* > 0), so these potentials are as
    /// "shallow" as the attractive ones, and U = 0 lies inside the data instead of at a corner.
    pub both_signs: bool,
}

/// [`sample_with_power`] with the sign option of [`Scaling`]. With `both_signs` false it returns
/// exactly the potentials of [`sample_with_power`] (the coin is not drawn).
///
/// # Panics
/// If `families` is empty, `depth` is not in (0, 1) or `power` is not positive.
pub fn sample_scaled(
    families: &[Family],
    steps: usize,
    range: f64,
    scaling: Scaling,
    seed: u64,
    index: u64,
) -> (Vec<f64>, Family) {
    let Scaling {
        depth,
        power,
        both_signs,
    } = scaling;
    assert!(!families.is_empty() && depth > 0.0 && depth < 1.0 && power > 0.0);
    let mut rng = feynn::random::seeded(seed);
    rng.set_stream(index);
    let family = families[(index % families.len() as u64) as usize];
    loop {
        let s = shape(family, steps, &mut rng);
        if s.iter().all(|v| *v == 0.0) {
            continue;
        }
        let Some(lstar) = unitary_scale(&s, range) else {
            continue;
        };
        let u: f64 = rng.random_range(0.0..1.0);
        let f = depth * if power == 1.0 { u } else { u.powf(power) };
        if both_signs && rng.random_bool(0.5) {
            // repulsive: no bound state for any strength, so no check is needed
            return (s.iter().map(|v| -f * lstar * v).collect(), family);
        }
        let u: Vec<f64> = s.iter().map(|v| f * lstar * v).collect();
        if is_shallow_attractive(&u, range) {
            return (u, family);
        }
    }
}
