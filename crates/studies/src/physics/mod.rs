//! Physics targets: the S-wave scattering length of step potentials and its Born series.
//!
//! This is the ground truth for the "MLP perturbation theory" application (theory notes §3): an
//! MLP trained on pairs (U, a₀(U)) should have Taylor coefficients at U = 0 that approximate the
//! Born terms computed here.
//!
//! # Conventions
//!
//! * Units ħ²/(2μ) = 1, so U(r) = 2μV(r)/ħ² has units 1/length².
//! * A step potential on N equal steps of [0, R]: r_n = nΔ, Δ = R/N, U(r) = U_n on (r_{n−1}, r_n],
//!   given as the slice `u = [U_1, …, U_N]` (index 0 holds U_1). U = 0 for r > R.
//! * Zero-energy radial equation u'' = U u, u(0) = 0, u'(0) = 1; for r ≥ R, u ∝ (r − a₀), so
//!   a₀ = R − u(R)/u'(R).
//! * Sign: a repulsive potential gives a₀ > 0 (hard sphere: a₀ = R), a weak attraction a₀ < 0.
//!   First Born term a₀⁽¹⁾ = ∫ r² U dr.
//!
//! # Contents
//!
//! * [`scattering_length`]: exact a₀ by transfer matrices (§3.4), accurate to rounding also for
//!   tiny potentials (no cancellation in R − u/u').
//! * [`transfer_matrix`]: the (u, u') matrix of one step.
//! * [`bound_states`], [`is_shallow_attractive`], [`unitary_scale`]: the number of bound states
//!   (Sturm node count), the "shallow attractive" filter and the distance to the unitary limit.
//! * [`midpoint_sample`]: discretise a continuous U(r).
//! * [`born`]: the first- and second-order Born terms g_n and K_mn in closed form.
//! * [`series`]: the Born terms of every order for step potentials, exactly (rational
//!   recursion), and the exact third-order Taylor coefficients.
//! * [`smooth`]: smooth potentials: a₀ from the variable-phase equation and the Born terms by
//!   quadrature (adaptive RK4 with an error estimate).
//! * [`families`]: random shallow attractive potentials for training data.
//! * [`spins`], [`double_exchange`]: the EFNN benchmark systems (3-spin infinite-range model,
//!   double-exchange model on a torus by exact diagonalisation).
//! * [`lattice`], [`mcmc`]: φ³+φ⁴ lattice theories (exact action tensors, coupling fit) and a
//!   Hamiltonian Monte Carlo sampler with autocorrelation diagnostics (learning interacting
//!   theories with INNs).

pub mod born;
pub mod double_exchange;
pub mod families;
pub mod lattice;
pub mod mcmc;
pub mod series;
pub mod smooth;
pub mod spins;

/// C(z), S(z), E(z) for z = U Δ²: C = cos/cosh(√|z|), S = sin(x)/x or sinh(x)/x with x = √|z|, and
/// E = (C − S)/z. All three are entire functions of z,
/// C = Σ z^k/(2k)!, S = Σ z^k/(2k+1)!, E = Σ z^k·2(k+1)/(2k+3)!,
/// summed as series for |z| < 1 (so kΔ → 0 and U = 0 are exact: C = S = 1, E = 1/3).
fn step_functions(z: f64) -> (f64, f64, f64) {
    if z.abs() < 1.0 {
        // 14 terms: the last one is below 1/(27)! ~ 1e-28 relative.
        let (mut c, mut s, mut e) = (0.0, 0.0, 0.0);
        let mut zk = 1.0; // z^k
        let mut fact = 1.0; // (2k)!
        for k in 0..14 {
            let f1 = fact * (2 * k + 1) as f64; // (2k+1)!
            let f3 = f1 * ((2 * k + 2) * (2 * k + 3)) as f64; // (2k+3)!
            c += zk / fact;
            s += zk / f1;
            e += zk * (2 * (k + 1)) as f64 / f3;
            zk *= z;
            fact = f1 * (2 * k + 2) as f64;
        }
        (c, s, e)
    } else {
        let x = z.abs().sqrt();
        let (c, s) = if z < 0.0 {
            (x.cos(), x.sin() / x)
        } else {
            (x.cosh(), x.sinh() / x)
        };
        (c, s, (c - s) / z)
    }
}

/// The transfer matrix of one step of width `delta` and height `u_n`, acting on (u, u'):
///
/// * U_n = −k² < 0: [[cos kΔ, sin(kΔ)/k], [−k sin kΔ, cos kΔ]]
/// * U_n = +κ² > 0: [[cosh κΔ, sinh(κΔ)/κ], [κ sinh κΔ, cosh κΔ]]
/// * U_n = 0: the free matrix [[1, Δ], [0, 1]] (exactly)
///
/// All three are [[C, Δ·S], [U_n·Δ·S, C]] with C, S entire in z = U_n Δ² (power series near
/// z = 0, so there is no 0/0 as kΔ → 0).
pub fn transfer_matrix(u_n: f64, delta: f64) -> [[f64; 2]; 2] {
    if u_n == 0.0 {
        return [[1.0, delta], [0.0, 1.0]];
    }
    let (c, s, _) = step_functions(u_n * delta * delta);
    [[c, delta * s], [u_n * delta * s, c]]
}

fn check(u: &[f64], range: f64) -> f64 {
    assert!(!u.is_empty(), "a step potential needs at least one step");
    assert!(
        range > 0.0 && range.is_finite(),
        "the range R must be positive and finite, got {range}"
    );
    range / u.len() as f64
}

/// The exact S-wave scattering length a₀ of the step potential `u` = [U_1..U_N] on [0, `range`].
///
/// Propagates the zero-energy solution with the transfer matrices of [`transfer_matrix`], written
/// in the variables (w, u') with w = r u' − u, so that a₀ = w(R)/u'(R) directly. Across a step
/// starting at r = r_{n−1}:
///
/// ```text
/// w  ← [C − U Δ S (r + Δ)] w + U Δ [S r (r + Δ) + Δ² E] u'
/// u' ← C u' + U Δ S (r u' − w)
/// ```
///
/// (E = (C − S)/(U Δ²), see [`transfer_matrix`]). Every change of w is proportional to U, so a₀ is
/// accurate to rounding relative to itself even when a₀ ≪ R (no cancellation in R − u/u'); this
/// matters for finite-difference checks of the Born terms. The pair is renormalised on every step,
/// so strongly repulsive potentials do not overflow.
///
/// Returns ±∞ (or a huge value) at the unitary limit u'(R) = 0 and NaN if `u` holds NaN.
///
/// # Panics
/// If `u` is empty or `range` is not positive and finite.
pub fn scattering_length(u: &[f64], range: f64) -> f64 {
    let delta = check(u, range);
    let (mut w, mut up) = (0.0f64, 1.0f64);
    for (i, &un) in u.iter().enumerate() {
        if un == 0.0 {
            continue; // the free step leaves w and u' unchanged
        }
        let r = i as f64 * delta;
        let (c, s, e) = step_functions(un * delta * delta);
        let uds = un * delta * s;
        let w_new = (c - uds * (r + delta)) * w
            + un * delta * (s * r * (r + delta) + delta * delta * e) * up;
        let up_new = c * up + uds * (r * up - w);
        let norm = w_new.abs().max(up_new.abs());
        if norm > 0.0 && norm.is_finite() {
            (w, up) = (w_new / norm, up_new / norm);
        } else {
            (w, up) = (w_new, up_new);
        }
    }
    w / up
}

/// The zero-energy solution (u(R), u'(R)) from u(0) = 0, u'(0) = 1 by plain products of
/// [`transfer_matrix`], up to a positive factor (the pair is renormalised against overflow), and
/// the number of nodes of u in (0, R].
fn propagate(u: &[f64], delta: f64) -> (f64, f64, usize) {
    let (mut y, mut yp) = (0.0f64, 1.0f64);
    let mut nodes = 0usize;
    for &un in u {
        let m = transfer_matrix(un, delta);
        let (y1, yp1) = (m[0][0] * y + m[0][1] * yp, m[1][0] * y + m[1][1] * yp);
        if un < 0.0 {
            // Prüfer phase: k u = ρ sin θ, u' = ρ cos θ, and θ advances by exactly kΔ.
            let k = (-un).sqrt();
            let t0 = (k * y).atan2(yp);
            let t1 = t0 + k * delta;
            let pi = std::f64::consts::PI;
            nodes += ((t1 / pi).floor() - (t0 / pi).floor()).max(0.0) as usize;
        } else if y != 0.0 && (y1 == 0.0 || (y1 < 0.0) != (y < 0.0)) {
            // u'' = U u with U ≥ 0 has at most one zero per step.
            nodes += 1;
        }
        let norm = y1.abs().max(yp1.abs());
        (y, yp) = if norm > 0.0 && norm.is_finite() {
            (y1 / norm, yp1 / norm)
        } else {
            (y1, yp1)
        };
    }
    (y, yp, nodes)
}

/// The number of S-wave bound states of the step potential: the number of nodes of the zero-energy
/// solution in (0, ∞) (Sturm oscillation theorem). Inside the range the nodes are counted with
/// the Prüfer phase on attractive steps; outside, u = u(R) + u'(R)(r − R) has a node iff
/// u(R)·u'(R) < 0 (i.e. a₀ > R). A zero-energy resonance (u'(R) = 0) is not counted.
///
/// # Panics
/// If `u` is empty or `range` is not positive and finite.
pub fn bound_states(u: &[f64], range: f64) -> usize {
    let delta = check(u, range);
    let (y, yp, nodes) = propagate(u, delta);
    nodes + usize::from(y * yp < 0.0)
}

/// Whether `u` is a *shallow attractive* potential: finite, U_n ≤ 0 everywhere, not identically
/// zero, and without a bound state.
///
/// For U ≤ 0 with no bound state, u is positive and concave on (0, R] with u'(R) > 0, hence
/// u(R) ≥ R u'(R) and a₀ ≤ 0 (theory notes §3.5). The converse of "no bound state ⇒ a₀ ≤ 0" does
/// **not** hold for deep wells: a square well with kR ∈ (4.4934, 3π/2) has one bound state and
/// a₀ < 0. So the filter counts nodes ([`bound_states`]) rather than only testing the sign of a₀.
///
/// # Panics
/// If `u` is empty or `range` is not positive and finite.
pub fn is_shallow_attractive(u: &[f64], range: f64) -> bool {
    u.iter().all(|v| v.is_finite() && *v <= 0.0)
        && u.iter().any(|v| *v < 0.0)
        && bound_states(u, range) == 0
}

/// The unitary-limit scale of a shape: the smallest λ* > 0 at which λ·`shape` binds a state
/// (a₀(λ·shape) → −∞ as λ ↑ λ*), found by bisection on [`bound_states`] to relative precision
/// ~1e-14. None if no λ up to 2^200 binds (e.g. a purely repulsive shape).
///
/// For an attractive shape (every entry ≤ 0) the Born series of a₀(λ·shape) in λ converges
/// exactly for |λ| < λ*, so λ/λ* measures how shallow λ·shape is.
///
/// # Panics
/// If `shape` is empty or `range` is not positive and finite.
pub fn unitary_scale(shape: &[f64], range: f64) -> Option<f64> {
    check(shape, range);
    let binds = |l: f64| {
        let scaled: Vec<f64> = shape.iter().map(|v| l * v).collect();
        bound_states(&scaled, range) > 0
    };
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    let mut tries = 0;
    while !binds(hi) {
        lo = hi;
        hi *= 2.0;
        tries += 1;
        if tries > 200 {
            return None;
        }
    }
    while hi - lo > 1e-14 * hi {
        let mid = 0.5 * (lo + hi);
        if binds(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// Discretise a continuous potential U(r) on N equal steps of [0, `range`] by sampling the
/// midpoints: U_n = U((n − ½)Δ). The a₀ of the steps converges to the continuum a₀ as O(1/N²).
pub fn midpoint_sample(f: impl Fn(f64) -> f64, steps: usize, range: f64) -> Vec<f64> {
    let delta = range / steps as f64;
    (0..steps).map(|i| f((i as f64 + 0.5) * delta)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    /// a₀ the plain way, R − u(R)/u'(R), from products of the (u, u') transfer matrices.
    fn a0_plain(u: &[f64], range: f64) -> f64 {
        let (y, yp, _) = propagate(u, range / u.len() as f64);
        range - y / yp
    }

    #[test]
    fn square_wells_match_the_closed_form_and_golden_values() {
        // U0 = −1, R = 1: a0 = 1 − tan 1.
        let a = scattering_length(&[-1.0], 1.0);
        assert!(close(a, 1.0 - 1f64.tan(), 1e-14), "{a}");
        assert!((a - -0.5574077247).abs() < 1e-10);
        // The same well cut into 64 steps.
        assert!(close(
            scattering_length(&[-1.0; 64], 1.0),
            1.0 - 1f64.tan(),
            1e-12
        ));
        assert!((scattering_length(&[-0.5; 64], 1.0) - -0.2084602421).abs() < 1e-10);
        // Repulsive: R − tanh(κR)/κ; hard-sphere limit a0 → R.
        let k = 2f64.sqrt();
        assert!(close(
            scattering_length(&[2.0; 8], 1.0),
            1.0 - k.tanh() / k,
            1e-12
        ));
        let hard = scattering_length(&[1e6; 16], 1.0);
        assert!((hard - (1.0 - 1e-3)).abs() < 1e-9, "{hard}");
        // Overflow-free for a huge barrier.
        assert!((scattering_length(&[1e8; 1000], 1.0) - (1.0 - 1e-4)).abs() < 1e-9);
    }

    #[test]
    fn two_step_golden_values() {
        assert!((scattering_length(&[-0.5, -1.0], 1.0) - -0.4943079223).abs() < 1e-10);
        assert!((scattering_length(&[-1.0, -2.0], 1.0) - -2.3857600940).abs() < 1e-9);
        // Splitting each step in 32 changes nothing.
        let fine: Vec<f64> = [-1.0, -2.0]
            .iter()
            .flat_map(|&v| std::iter::repeat_n(v, 32))
            .collect();
        assert!(close(
            scattering_length(&fine, 1.0),
            scattering_length(&[-1.0, -2.0], 1.0),
            1e-12
        ));
    }

    #[test]
    fn zero_steps_use_the_free_matrix() {
        assert_eq!(transfer_matrix(0.0, 0.25), [[1.0, 0.25], [0.0, 1.0]]);
        assert_eq!(scattering_length(&[0.0; 10], 2.0), 0.0);
        // A well followed by free space equals the well on its own range (a0 is a property of the
        // exterior line, which starts at the well's edge).
        let mut u = vec![-1.0; 4];
        u.extend([0.0; 4]);
        assert!(close(
            scattering_length(&u, 2.0),
            scattering_length(&[-1.0], 1.0),
            1e-13
        ));
        // Free steps before a well shift nothing away: compare with the plain product.
        let v = [0.0, 0.0, -3.0, 0.0, 1.5, -0.2];
        assert!(close(scattering_length(&v, 1.3), a0_plain(&v, 1.3), 1e-12));
    }

    #[test]
    fn small_k_delta_is_continuous() {
        // Across the series/closed-form switch at |UΔ²| = 1 and down to tiny |U|.
        for z in [0.999999, 1.000001, -0.999999, -1.000001] {
            let (c, s, e) = step_functions(z);
            let x = z.abs().sqrt();
            let (c0, s0) = if z < 0.0 {
                (x.cos(), x.sin() / x)
            } else {
                (x.cosh(), x.sinh() / x)
            };
            assert!(close(c, c0, 1e-14) && close(s, s0, 1e-14) && close(e, (c0 - s0) / z, 1e-12));
        }
        // a0 ≈ g·U for a tiny potential, to full relative precision.
        let u: Vec<f64> = (0..64)
            .map(|i| -1e-12 * (1.0 + (i as f64 * 0.37).sin()))
            .collect();
        let lin: f64 = born::first_order(64, 1.0)
            .iter()
            .zip(&u)
            .map(|(g, v)| g * v)
            .sum();
        assert!(close(scattering_length(&u, 1.0), lin, 1e-11));
        // Positive and negative tiny steps agree with the plain transfer product.
        let v: Vec<f64> = (0..20)
            .map(|i| if i % 2 == 0 { 1e-9 } else { -3e-9 })
            .collect();
        assert!(close(scattering_length(&v, 1.0), a0_plain(&v, 1.0), 1e-6));
    }

    #[test]
    fn agrees_with_plain_transfer_products() {
        let u: Vec<f64> = (0..37)
            .map(|i| 3.0 * (i as f64 * 1.7).sin() - 1.0)
            .collect();
        assert!(close(scattering_length(&u, 1.0), a0_plain(&u, 1.0), 1e-11));
    }

    #[test]
    fn gaussian_midpoint_discretisation() {
        // Theory notes §5: U(r) = −2 exp(−(r/0.4)²), N = 64, midpoint sampling: −0.0636438.
        let u = midpoint_sample(|r| -2.0 * (-(r / 0.4f64).powi(2)).exp(), 64, 1.0);
        assert!((scattering_length(&u, 1.0) - -0.0636438).abs() < 5e-7);
        let u = midpoint_sample(|r| -2.0 * (-(r / 0.4f64).powi(2)).exp(), 1024, 1.0);
        assert!((scattering_length(&u, 1.0) - -0.0636261).abs() < 5e-7);
    }

    #[test]
    fn bound_states_of_square_wells() {
        // U0 = −k²: one bound state per (n − ½)π < kR.
        let pi = std::f64::consts::PI;
        for (k, expect) in [(1.0, 0), (1.5, 0), (1.6, 1), (4.6, 1), (4.8, 2), (10.0, 3)] {
            let u = vec![-k * k; 16];
            assert_eq!(bound_states(&u, 1.0), expect, "kR = {k}");
            assert_eq!(bound_states(&[-k * k], 1.0), expect, "kR = {k}, one step");
        }
        assert!(pi / 2.0 > 1.5 && pi / 2.0 < 1.6);
        assert_eq!(bound_states(&[5.0; 8], 1.0), 0);
        assert_eq!(bound_states(&[0.0; 8], 1.0), 0);
    }

    #[test]
    fn shallow_attractive_means_a0_nonpositive() {
        // No bound state and U ≤ 0 ⇒ a0 ≤ 0 (§3.5), on random attractive potentials of all depths.
        let mut seed = 12345u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut shallow = 0;
        for _ in 0..400 {
            let depth = 12.0 * next();
            let u: Vec<f64> = (0..16).map(|_| -depth * next()).collect();
            let a0 = scattering_length(&u, 1.0);
            if is_shallow_attractive(&u, 1.0) {
                shallow += 1;
                assert!(a0 <= 0.0, "{u:?}: a0 = {a0}");
            }
            // a0 > 0 for U ≤ 0 always means a bound state.
            if a0 > 0.0 {
                assert!(bound_states(&u, 1.0) > 0);
            }
        }
        assert!(shallow > 50 && shallow < 400, "{shallow}");
        // The converse fails for deep wells: kR = 4.6 has one bound state and a0 < 0.
        let deep = [-4.6f64 * 4.6];
        assert!(scattering_length(&deep, 1.0) < 0.0);
        assert_eq!(bound_states(&deep, 1.0), 1);
        assert!(!is_shallow_attractive(&deep, 1.0));
        assert!(is_shallow_attractive(&[-1.0; 4], 1.0));
        assert!(!is_shallow_attractive(&[-1.0, 0.5], 1.0));
        assert!(!is_shallow_attractive(&[0.0; 4], 1.0));
    }

    #[test]
    fn unitary_scale_of_the_square_well() {
        // First bound state of U = −λ on [0, 1] at λ = π²/4; a0 → −∞ just below it.
        let l = unitary_scale(&[-1.0; 8], 1.0).unwrap();
        let pi = std::f64::consts::PI;
        assert!(close(l, pi * pi / 4.0, 1e-12), "{l}");
        assert!(scattering_length(&[-l * 0.999999; 8], 1.0) < -1e5);
        assert!(unitary_scale(&[1.0; 4], 1.0).is_none());
        // Range scaling: U R² is what counts.
        assert!(close(
            unitary_scale(&[-1.0; 8], 2.0).unwrap(),
            pi * pi / 16.0,
            1e-12
        ));
    }
}
