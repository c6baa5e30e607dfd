//! Born terms of every order for step potentials, exactly (theory notes §3.3).
//!
//! Expanding the zero-energy variable-phase equation a'(r) = U(r)(r − a(r))² order by order in U,
//! a = Σ_n a_n, gives
//!
//! ```text
//! a_n'(r) = U(r) [ δ_{n1} r² − 2 r a_{n−1}(r) + Σ_{p=1}^{n−2} a_p(r) a_{n−1−p}(r) ],   a_n(0) = 0
//! ```
//!
//! and a₀⁽ⁿ⁾ = a_n(R). On a step U is constant, so every a_n is a polynomial there; the recursion
//! integrates those polynomials step by step. The arithmetic is generic ([`Field`]): with
//! [`BigRational`] the Born terms are exact fractions, with `f64` the same recursion is a fast
//! evaluator (used for the third-order Taylor coefficients of 64-step potentials).

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

/// The arithmetic the recursion needs: a field with integers in it.
pub trait Field:
    Clone
    + Zero
    + One
    + PartialEq
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
{
    /// The integer `i` in this field.
    fn int(i: i64) -> Self;
}

impl Field for f64 {
    fn int(i: i64) -> f64 {
        i as f64
    }
}

impl Field for BigRational {
    fn int(i: i64) -> BigRational {
        BigRational::from_integer(BigInt::from(i))
    }
}

/// Polynomial in the local variable s (coefficients, lowest degree first).
type Poly<T> = Vec<T>;

fn add_into<T: Field>(acc: &mut Poly<T>, p: &[T], factor: &T) {
    if acc.len() < p.len() {
        acc.resize(p.len(), T::zero());
    }
    for (a, c) in acc.iter_mut().zip(p) {
        *a = a.clone() + factor.clone() * c.clone();
    }
}

fn mul<T: Field>(p: &[T], q: &[T]) -> Poly<T> {
    if p.is_empty() || q.is_empty() {
        return vec![];
    }
    let mut out = vec![T::zero(); p.len() + q.len() - 1];
    for (i, a) in p.iter().enumerate() {
        if a.is_zero() {
            continue;
        }
        for (j, b) in q.iter().enumerate() {
            out[i + j] = out[i + j].clone() + a.clone() * b.clone();
        }
    }
    out
}

fn eval<T: Field>(p: &[T], s: &T) -> T {
    p.iter()
        .rev()
        .fold(T::zero(), |acc, c| acc * s.clone() + c.clone())
}

/// The Born terms a₀⁽¹⁾ … a₀⁽ᵒʳᵈᵉʳ⁾ of the step potential `u` = [U_1..U_N] on N steps of width
/// `delta` (R = N·Δ), in the arithmetic of `T`.
///
/// Each a_n is written on a step as a polynomial in s = r − r_{k−1} (not in r itself, which keeps
/// the `f64` version well conditioned); free steps (U = 0) leave every a_n unchanged and cost
/// nothing, so sparse potentials are cheap.
pub fn born_terms<T: Field>(u: &[T], delta: &T, order: usize) -> Vec<T> {
    let mut at = vec![T::zero(); order + 1]; // a_n at the left edge of the current step; [0] unused
    for (k, un) in u.iter().enumerate() {
        if un.is_zero() {
            continue;
        }
        let r0 = T::int(k as i64) * delta.clone();
        let r: Poly<T> = vec![r0, T::one()]; // r = r0 + s
        let r2 = mul(&r, &r);
        let mut polys: Vec<Poly<T>> = vec![vec![]; order + 1];
        for n in 1..=order {
            // integrand of a_n' / U
            let mut f: Poly<T> = vec![];
            if n == 1 {
                add_into(&mut f, &r2, &T::one());
            } else {
                add_into(&mut f, &mul(&r, &polys[n - 1]), &T::int(-2));
                for p in 1..=n.saturating_sub(2) {
                    add_into(&mut f, &mul(&polys[p], &polys[n - 1 - p]), &T::one());
                }
            }
            // a_n(s) = a_n(0) + U ∫_0^s f
            let mut a: Poly<T> = vec![at[n].clone()];
            for (d, c) in f.iter().enumerate() {
                a.push(un.clone() * c.clone() / T::int(d as i64 + 1));
            }
            polys[n] = a;
        }
        for n in 1..=order {
            at[n] = eval(&polys[n], delta);
        }
    }
    at.split_off(1)
}

/// The Born terms of every order up to `order` as exact fractions, for a step potential with
/// rational heights `u` on [0, `range`].
pub fn born_terms_exact(u: &[BigRational], range: &BigRational, order: usize) -> Vec<BigRational> {
    assert!(!u.is_empty(), "a step potential needs at least one step");
    let delta = range.clone() / BigRational::int(u.len() as i64);
    born_terms(u, &delta, order)
}

/// The Born terms up to `order` of the step potential `u` on [0, `range`], in `f64`.
pub fn born_terms_f64(u: &[f64], range: f64, order: usize) -> Vec<f64> {
    assert!(!u.is_empty(), "a step potential needs at least one step");
    born_terms(u, &(range / u.len() as f64), order)
}

/// An `f64` as the exact fraction it stores (every finite float is a dyadic rational).
///
/// # Panics
/// If `x` is not finite.
pub fn exact(x: f64) -> BigRational {
    BigRational::from_float(x).expect("a finite number")
}

/// The Taylor coefficients c_α of the n-th Born term, a₀⁽ⁿ⁾(U) = Σ_{|α| = n} c_α U^α, for the
/// sorted multi-index `alpha` (0-based step indices, length n ≤ 3), on N = `steps` steps of
/// [0, `range`]. These are the exact Taylor coefficients of a₀ at U = 0 (c_α = ∂^α a₀/α!).
///
/// The n-th Born term is a homogeneous form of degree n, so its coefficients follow from values
/// on sparse potentials (polarisation): with p(t) = a₀⁽ⁿ⁾(Σ_s t_s e_s) over the distinct indices,
/// * (i): p(1);
/// * (i, j): p(1, 1) − p(1, 0) − p(0, 1);
/// * (i, i, j): (p(1, 1) + p(−1, 1))/2 − p(0, 1), and (i, j, j) symmetrically;
/// * (i, j, k): inclusion–exclusion over the 7 non-empty subsets.
///
/// Each value costs a few sparse steps of [`born_terms`].
///
/// # Panics
/// If `alpha` is empty, longer than 3, unsorted or out of range.
pub fn monomial_coefficient(alpha: &[u32], steps: usize, range: f64) -> f64 {
    let n = alpha.len();
    assert!((1..=3).contains(&n), "orders 1 to 3");
    assert!(alpha.windows(2).all(|w| w[0] <= w[1]) && (alpha[n - 1] as usize) < steps);
    let delta = range / steps as f64;
    let p = |pairs: &[(u32, f64)]| -> f64 {
        // only the steps up to the last nonzero one matter
        let last = pairs.iter().map(|(i, _)| *i as usize).max().unwrap();
        let mut u = vec![0.0; last + 1];
        for (i, t) in pairs {
            u[*i as usize] += t;
        }
        born_terms(&u, &delta, n)[n - 1]
    };
    let mut d = alpha.to_vec();
    d.dedup();
    match (n, d.len()) {
        (_, 1) => p(&[(d[0], 1.0)]),
        (2, 2) => p(&[(d[0], 1.0), (d[1], 1.0)]) - p(&[(d[0], 1.0)]) - p(&[(d[1], 1.0)]),
        (3, 2) => {
            // the repeated index goes first
            let (i, j) = if alpha[0] == alpha[1] {
                (d[0], d[1])
            } else {
                (d[1], d[0])
            };
            (p(&[(i, 1.0), (j, 1.0)]) + p(&[(i, -1.0), (j, 1.0)])) / 2.0 - p(&[(j, 1.0)])
        }
        _ => {
            let (i, j, k) = (d[0], d[1], d[2]);
            p(&[(i, 1.0), (j, 1.0), (k, 1.0)])
                - p(&[(i, 1.0), (j, 1.0)])
                - p(&[(i, 1.0), (k, 1.0)])
                - p(&[(j, 1.0), (k, 1.0)])
                + p(&[(i, 1.0)])
                + p(&[(j, 1.0)])
                + p(&[(k, 1.0)])
        }
    }
}
