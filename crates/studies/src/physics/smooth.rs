//! Smooth potentials: exact a₀ from the zero-energy variable-phase (Calogero) equation and the
//! Born terms of every order by quadrature (theory notes §3.3).
//!
//! ```text
//! a'(r)   = U(r) (r − a(r))²,   a(0) = 0,   a₀ = a(R)
//! a_n'(r) = U(r) [ δ_{n1} r² − 2 r a_{n−1} + Σ_{p=1}^{n−2} a_p a_{n−1−p} ],   a_n(0) = 0
//! ```
//!
//! Both are integrated by classical RK4 with step doubling: each step of size h is also taken as
//! two steps of h/2, the difference (÷15) estimates the local error of the finer result, the step
//! is accepted when that estimate is below `tol · h/R` (so the global error estimate stays below
//! about `tol`), and the finer result is Richardson-extrapolated (fifth order). The accepted
//! estimates are summed into [`Integration::error`]. Known jumps of U (e.g. step edges) are passed
//! as `breaks`, so the integrator never steps across a discontinuity.

use feynn::error::{Error, Result};

/// The result of an adaptive integration.
#[derive(Debug, Clone, PartialEq)]
pub struct Integration {
    /// The state at r = R: [a₀] for [`scattering_length`], [a₀⁽¹⁾, …] for [`born_terms`].
    pub values: Vec<f64>,
    /// The sum of the accepted local error estimates (an estimate of the global error).
    pub error: f64,
    /// Accepted steps.
    pub steps: usize,
}

/// One RK4 step. U is sampled strictly inside the segment `seg` (a nudge of 1e-13·|seg|), so that
/// a jump at a segment edge is always seen from the correct side.
/// The right-hand side y' = f(r, y), written into the last argument.
type Rhs<'a> = dyn Fn(f64, &[f64], &mut [f64]) + 'a;

fn rk4_step(f: &Rhs, seg: (f64, f64), r: f64, y: &[f64], h: f64) -> Vec<f64> {
    let eps = 1e-13 * (seg.1 - seg.0);
    let at = |x: f64| x.clamp(seg.0 + eps, seg.1 - eps);
    let f = |x: f64, y: &[f64], dy: &mut [f64]| f(at(x), y, dy);
    let n = y.len();
    let (mut k1, mut k2, mut k3, mut k4) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut t = vec![0.0; n];
    f(r, y, &mut k1);
    for i in 0..n {
        t[i] = y[i] + 0.5 * h * k1[i];
    }
    f(r + 0.5 * h, &t, &mut k2);
    for i in 0..n {
        t[i] = y[i] + 0.5 * h * k2[i];
    }
    f(r + 0.5 * h, &t, &mut k3);
    for i in 0..n {
        t[i] = y[i] + h * k3[i];
    }
    f(r + h, &t, &mut k4);
    (0..n)
        .map(|i| y[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
        .collect()
}

/// Integrate y' = f(r, y) from 0 to `range`, y(0) = `y0`, with adaptive step-doubling RK4.
fn integrate(f: &Rhs, y0: Vec<f64>, range: f64, breaks: &[f64], tol: f64) -> Result<Integration> {
    if !(range > 0.0 && range.is_finite()) {
        return Err(Error::invalid(
            format!("the range R must be positive and finite, got {range}"),
            "give R > 0",
        ));
    }
    if tol.is_nan() || tol <= 0.0 {
        return Err(Error::invalid(
            format!("the tolerance must be positive, got {tol}"),
            "give e.g. 1e-10",
        ));
    }
    let mut edges: Vec<f64> = breaks
        .iter()
        .copied()
        .filter(|b| *b > 0.0 && *b < range)
        .collect();
    edges.push(range);
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    let (mut y, mut r, mut err, mut steps) = (y0, 0.0f64, 0.0f64, 0usize);
    let mut h = range / 64.0;
    let h_min = range * 1e-12;
    let mut forced = 0usize;
    for &end in &edges {
        let seg = (r, end);
        while r < end {
            let step = h.min(end - r);
            let full = rk4_step(f, seg, r, &y, step);
            let half = rk4_step(f, seg, r, &y, step / 2.0);
            let fine = rk4_step(f, seg, r + step / 2.0, &half, step / 2.0);
            let est = full
                .iter()
                .zip(&fine)
                .map(|(a, b)| (b - a).abs() / 15.0)
                .fold(0.0, f64::max);
            if !est.is_finite() || fine.iter().any(|v| !v.is_finite()) {
                return Err(Error::invalid(
                    format!("the variable-phase solution diverged at r = {r}"),
                    "a₀(r) passes a pole when the potential binds a state; use the transfer matrices (step potentials) or a shallower potential",
                ));
            }
            // the floor keeps rounding noise in the estimate from forcing ever smaller steps
            let scale = fine.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            let allowed = (tol * step / range).max(64.0 * f64::EPSILON * scale);
            if est > allowed && step <= h_min {
                forced += 1;
                if forced > 100 {
                    return Err(Error::invalid(
                        format!("the integration cannot reach the tolerance near r = {r}"),
                        "a(r) has a pole there (a bound state appears), or U jumps at a radius not listed in the breaks",
                    ));
                }
            }
            if est <= allowed || step <= h_min {
                y = fine
                    .iter()
                    .zip(&full)
                    .map(|(b, a)| b + (b - a) / 15.0)
                    .collect();
                r = if step == end - r { end } else { r + step };
                err += est;
                steps += 1;
                // grow gently, by the fifth-order error law
                let grow = if est > 0.0 {
                    0.9 * (allowed / est).powf(0.2)
                } else {
                    2.0
                };
                h = step * grow.clamp(0.2, 2.0);
            } else {
                h = step * (0.9 * (allowed / est).powf(0.2)).clamp(0.1, 0.9);
            }
        }
    }
    Ok(Integration {
        values: y,
        error: err,
        steps,
    })
}

/// The exact a₀ of a potential U(r) on [0, `range`] (U = 0 beyond) from the variable-phase
/// equation, to an estimated absolute error `tol`. `breaks` lists the radii where U jumps.
///
/// Fails (instead of returning nonsense) when a(r) diverges, which happens when the potential
/// cut at some r binds a state with zero energy on the way.
pub fn scattering_length(
    u: impl Fn(f64) -> f64,
    range: f64,
    breaks: &[f64],
    tol: f64,
) -> Result<Integration> {
    let f = |r: f64, y: &[f64], dy: &mut [f64]| {
        let d = r - y[0];
        dy[0] = u(r) * d * d;
    };
    integrate(&f, vec![0.0], range, breaks, tol)
}

/// The Born terms a₀⁽¹⁾ … a₀⁽ᵒʳᵈᵉʳ⁾ of a potential U(r) on [0, `range`], by integrating the
/// order-by-order recursion (a quadrature of the nested Born integrals), to an estimated absolute
/// error `tol` per order.
pub fn born_terms(
    u: impl Fn(f64) -> f64,
    range: f64,
    order: usize,
    breaks: &[f64],
    tol: f64,
) -> Result<Integration> {
    let f = |r: f64, y: &[f64], dy: &mut [f64]| {
        let v = u(r);
        for n in 0..y.len() {
            // y[n] holds a_{n+1}
            let mut s = if n == 0 { r * r } else { -2.0 * r * y[n - 1] };
            for p in 0..n.saturating_sub(1) {
                s += y[p] * y[n - 2 - p];
            }
            dy[n] = v * s;
        }
    };
    integrate(&f, vec![0.0; order], range, breaks, tol)
}

/// A step potential as a function of r (U_n on (r_{n−1}, r_n]) together with its step edges, for
/// the smooth-potential routines.
pub fn step_function(u: &[f64], range: f64) -> (impl Fn(f64) -> f64 + '_, Vec<f64>) {
    let n = u.len();
    let delta = range / n as f64;
    let f = move |r: f64| {
        // the integrator samples strictly inside a segment, so the edge rule is moot
        let i = ((r / delta).floor() as usize).min(n - 1);
        u[i]
    };
    (f, (1..n).map(|i| i as f64 * delta).collect())
}
