//! Cross-checking hand derivations: `feynn check SPEC --claim "LHS = RHS"`.
//!
//! The left side names a derivative or Taylor coefficient of the model; the right side is the
//! user's formula in the spec's parameters, with sums over neuron indices
//! ([`crate::claim`] has the language). The check runs in two stages:
//!
//! 1. **Symbolic** (feature `symbolic`, concrete widths): both sides become Symbolica
//!    expressions — the left one is the model's closed form, the right one the claim with every
//!    sum written out — and their difference is expanded. `0` proves the claim at those widths.
//!    A nonzero difference is inconclusive (identities between transcendental functions are not
//!    applied), so the numbers decide.
//! 2. **Numeric**: both sides at random parameter draws and several widths (every symbolic
//!    width of the spec takes several values); the generic `sigma` becomes a random smooth
//!    function per draw, so a claim about σ must hold for all of them. The largest relative
//!    discrepancy decides: VERIFIED or REFUTED.
//!
//! A refuted claim comes with a counterexample and a diagram analysis: the discrepancy
//! (claim − model) is fitted, over fresh draws, by the contributions of the order's diagram
//! topologies; small rational multiples identify what the claim misses (−1: a missing
//! diagram, +1: a diagram counted twice — often a missing symmetry factor, −2: a flipped sign).

mod analysis;
mod draws;
mod eval;
mod report;

use serde::Serialize;

pub use crate::claim::{
    parse_claim, parse_claim_file, resolve, Claim, Index, Ix, Lhs, LhsKind, Resolved, Rhs, Term,
};
pub use draws::width_sets;
pub use eval::eval_rhs;

use crate::error::{Error, Result};
use crate::model::{Model, Network};
use analysis::{analyse, counterexample};
use draws::{point, random_network};
use eval::eval_lhs;

/// Options of [`check`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Random draws per width assignment.
    pub draws: usize,
    /// Seed of the random draws (parameters, point, σ).
    pub seed: u64,
    /// Largest relative discrepancy still counted as equal.
    pub tolerance: f64,
    /// Try the symbolic stage first (needs the `symbolic` feature).
    pub symbolic: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            draws: 8,
            seed: 1,
            tolerance: 1e-8,
            symbolic: true,
        }
    }
}
/// What the symbolic stage found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SymbolicOutcome {
    /// The expanded difference is 0 at these widths.
    Proved {
        /// Width assignment n_0..n_L of the attempt.
        widths: Vec<usize>,
    },
    /// The difference does not expand to 0 (identities are not applied): the numbers decide.
    Nonzero {
        /// Width assignment n_0..n_L of the attempt.
        widths: Vec<usize>,
        /// Number of terms in the expanded difference.
        terms: usize,
    },
    /// Not attempted or not possible, and why.
    Skipped {
        /// Why, in words.
        reason: String,
    },
}

/// One parameter of a counterexample.
#[derive(Debug, Clone, Serialize)]
pub struct ParamValues {
    /// Parameter name, as in the spec.
    pub name: String,
    /// Tensor shape (row-major).
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub values: Vec<f64>,
}

/// Parameter values where the two sides differ.
#[derive(Debug, Clone, Serialize)]
pub struct Counterexample {
    /// Width assignment n_0..n_L of the draw.
    pub widths: Vec<usize>,
    /// Expansion point x (x1…xd).
    pub point: Vec<f64>,
    /// The drawn parameters.
    pub parameters: Vec<ParamValues>,
    /// The random σ of this draw, if the model has the generic `sigma`.
    pub sigma: Option<String>,
    /// The model's value (left side) and the claim's (right side).
    pub left: f64,
    /// The claim's value (right side).
    pub right: f64,
}

/// One diagram whose multiple in the claim is not 1.
#[derive(Debug, Clone, Serialize)]
pub struct DiagramMismatch {
    /// Index form of the topology's contribution (text and LaTeX), symmetry factor included.
    pub text: String,
    /// The same in LaTeX.
    pub latex: String,
    /// How many times the claim contains this contribution (1 would be right).
    pub claim_multiple: String,
    /// The mismatch in words: missing, sign flipped, counted twice, in excess, partly missing.
    pub kind: String,
}

/// The discrepancy written as a combination of the order's diagrams.
#[derive(Debug, Clone, Serialize)]
pub struct DiagramAnalysis {
    /// Whether the discrepancy is (numerically) such a combination.
    pub explained: bool,
    /// Diagrams whose multiple in the claim is not 1.
    pub mismatches: Vec<DiagramMismatch>,
    /// Every topology of the order (text), for reference.
    pub topologies: usize,
}

/// Whether the claim holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// The claim agrees with the model (symbolically or at every draw).
    Verified,
    /// The claim differs from the model (a counterexample is given).
    Refuted,
}

/// The outcome of checking one claim.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The claim's text.
    pub claim: String,
    /// Where the claim comes from (`--claim`, `claims.txt:3`).
    pub origin: String,
    /// Verified or refuted.
    pub verdict: Verdict,
    /// What the symbolic stage found.
    pub symbolic: SymbolicOutcome,
    /// Width assignments n_0..n_L the numbers were drawn at.
    pub widths: Vec<Vec<usize>>,
    /// Random draws per width assignment.
    pub draws: usize,
    /// Largest relative discrepancy between the two sides over all draws.
    pub max_relative_discrepancy: f64,
    /// The tolerance used (see [`Options::tolerance`]).
    pub tolerance: f64,
    /// A draw where the sides differ, if refuted.
    pub counterexample: Option<Counterexample>,
    /// The discrepancy as a combination of diagrams, if refuted and analysed.
    pub diagrams: Option<DiagramAnalysis>,
}

/// Check one claim against a model.
pub fn check(model: &Model, claim: &Claim, opts: &Options) -> Result<Report> {
    if !(opts.tolerance.is_finite() && opts.tolerance >= 0.0) {
        // a NaN tolerance made every comparison false: a false claim was VERIFIED
        return Err(Error::invalid(
            format!(
                "the tolerance {} is not a finite number ≥ 0",
                opts.tolerance
            ),
            "give the largest relative discrepancy to accept, e.g. --tolerance 1e-8",
        ));
    }
    let r = resolve(model, claim)?;
    let sets = width_sets(model, &r.min_widths);
    check_budget(&r, &sets, opts)?;
    let symbolic = symbolic_stage(model, &r, &sets[0], opts);
    let mut rng = crate::random::seeded(opts.seed);
    let mut worst: Option<(f64, Network, Option<String>, Vec<f64>, f64, f64)> = None;
    let mut draws = 0;
    let mut max_rel: f64 = 0.0;
    for w in &sets {
        for _ in 0..opts.draws {
            let (net, sigma) = random_network(model, w, &mut rng);
            let x0 = point(&r, w[0]);
            let left = eval_lhs(&r, &net, &x0)?;
            let right = eval_rhs(&r.rhs, &net, &x0)?;
            let rel = relative(left, right);
            draws += 1;
            if rel > max_rel || worst.is_none() {
                max_rel = max_rel.max(rel);
                worst = Some((rel, net, sigma, x0, left, right));
            }
        }
    }
    let refuted = max_rel > opts.tolerance;
    let (counterexample, diagrams) = match (&worst, refuted) {
        (Some((_, net, sigma, x0, left, right)), true) => {
            let cx = counterexample(model, net, sigma.clone(), x0, *left, *right);
            // the diagram analysis is extra: beyond the budget the verdict stands without it
            let an = match analyse(model, &r, &net.widths(), opts.seed ^ 0x5eed) {
                Err(Error::TooLarge { .. }) => None,
                other => other?,
            };
            (Some(cx), an)
        }
        _ => (None, None),
    };
    Ok(Report {
        claim: claim.text.trim().to_string(),
        origin: claim.origin.clone(),
        verdict: if refuted {
            Verdict::Refuted
        } else {
            Verdict::Verified
        },
        symbolic,
        widths: sets,
        draws,
        max_relative_discrepancy: max_rel,
        tolerance: opts.tolerance,
        counterexample,
        diagrams,
    })
}

/// Refuse before the first draw what the budget does not allow: the random networks of every
/// width set in memory, and draws × width sets expansions of the claim's order.
fn check_budget(r: &Resolved, sets: &[Vec<usize>], opts: &Options) -> Result<()> {
    let n = r.alpha.len();
    let mut per_draw = 0.0;
    let mut bytes: f64 = 0.0;
    for w in sets {
        let params: f64 = w.windows(2).map(|p| p[0] as f64 * p[1] as f64).sum();
        let neurons: f64 = w.iter().skip(1).map(|&x| x as f64).sum();
        bytes = bytes.max(params * 8.0 * 2.0);
        let expand = crate::numeric::basis::predicted_work(
            w[0],
            n,
            neurons as usize,
            params.min(usize::MAX as f64) as usize,
        );
        crate::budget::memory(
            format!("the order-{n} expansion at widths {w:?}"),
            crate::numeric::basis::predicted_bytes(w[0], n, w.iter().copied().max().unwrap_or(1))
                .unwrap_or(f64::INFINITY),
            crate::budget::DEFAULT_MEMORY_LIMIT,
            "lower the claim's order",
        )?;
        per_draw += expand + params * (r.slots as f64 + 1.0);
    }
    crate::budget::memory(
        "the random networks of the claim's widths",
        bytes,
        crate::budget::DEFAULT_MEMORY_LIMIT,
        "use smaller indices in the claim",
    )?;
    crate::budget::work(
        format!("{} draws at {} width set(s)", opts.draws, sets.len()),
        opts.draws as f64 * per_draw,
        "lower --draws or the claim's order",
    )
}

/// |a − b| / max(|a|, |b|), with an absolute floor so that two rounding-level zeros agree.
fn relative(a: f64, b: f64) -> f64 {
    if !(a.is_finite() && b.is_finite()) {
        return if a == b { 0.0 } else { f64::INFINITY };
    }
    (a - b).abs() / a.abs().max(b.abs()).max(1e-12)
}

#[cfg(feature = "symbolic")]
fn symbolic_stage(
    model: &Model,
    r: &Resolved,
    widths: &[usize],
    opts: &Options,
) -> SymbolicOutcome {
    if !opts.symbolic {
        return SymbolicOutcome::Skipped {
            reason: "not asked for (--numeric-only)".into(),
        };
    }
    let x0 = point(r, widths[0]);
    match crate::symbolic::check_claim(model, widths, &x0, r) {
        Ok(Some(0)) => SymbolicOutcome::Proved {
            widths: widths.to_vec(),
        },
        Ok(Some(terms)) => SymbolicOutcome::Nonzero {
            widths: widths.to_vec(),
            terms,
        },
        Ok(None) => SymbolicOutcome::Skipped {
            reason: "the claim uses a function the closed forms do not have".into(),
        },
        Err(e) => SymbolicOutcome::Skipped {
            reason: e.to_string(),
        },
    }
}

#[cfg(not(feature = "symbolic"))]
fn symbolic_stage(_: &Model, _: &Resolved, _: &[usize], _: &Options) -> SymbolicOutcome {
    SymbolicOutcome::Skipped {
        reason: "feynn was built without the `symbolic` feature".into(),
    }
}
