//! The first two Born terms of a₀ for step potentials, in closed form (theory notes §3.4).
//!
//! With r_n = nΔ, Δ = R/N and 1-based step indices n = 1..N (index n − 1 in the returned
//! vectors and matrices):
//!
//! ```text
//! a₀ = Σ_n g_n U_n − Σ_{m,n} K_mn U_m U_n + O(U³)
//! g_n  = (r_n³ − r_{n−1}³)/3 = Δ³ (3n² − 3n + 1)/3,                    Σ g_n = R³/3
//! K_mn = (r_m³ − r_{m−1}³)/3 · (r_n² − r_{n−1}²)/2 = Δ⁵ (3m² − 3m + 1)(2n − 1)/6   (m < n, K symmetric)
//! K_nn = (2/3)[(b⁵ − a⁵)/5 − a³(b² − a²)/2] = Δ⁵ P_n/45,  a = r_{n−1}, b = r_n,
//!        P_n = 6(n⁵ − (n−1)⁵) − 15 (n−1)³ (2n − 1),                   Σ K_mn = 2R⁵/15
//! ```
//!
//! so the gradient of a₀ at U = 0 is g and the Hessian is −2K. The integer forms are evaluated
//! exactly (no cancellation in K_nn), then scaled by Δ³ or Δ⁵.

use ndarray::Array2;
use num_rational::Ratio;

/// 3n² − 3n + 1 = n³ − (n−1)³.
fn cube_diff(n: i128) -> i128 {
    3 * n * n - 3 * n + 1
}

/// 45·K_nn/Δ⁵.
fn p_diag(n: i128) -> i128 {
    let m = n - 1;
    6 * (n.pow(5) - m.pow(5)) - 15 * m.pow(3) * (2 * n - 1)
}

/// K_mn/Δ⁵ as an exact fraction (1-based m, n).
fn k_unit(m: i128, n: i128) -> Ratio<i128> {
    let (m, n) = (m.min(n), m.max(n));
    if m == n {
        Ratio::new(p_diag(n), 45)
    } else {
        Ratio::new(cube_diff(m) * (2 * n - 1), 6)
    }
}

fn to_f64(r: Ratio<i128>) -> f64 {
    *r.numer() as f64 / *r.denom() as f64
}

/// The first-order Born weights g_n = ∂a₀/∂U_n at U = 0, n = 1..`steps`, for range `range`.
pub fn first_order(steps: usize, range: f64) -> Vec<f64> {
    let d = range / steps as f64;
    (1..=steps as i128)
        .map(|n| d.powi(3) * cube_diff(n) as f64 / 3.0)
        .collect()
}

/// g_n for R = 1 as exact fractions: (3n² − 3n + 1)/(3N³).
pub fn first_order_exact(steps: usize) -> Vec<Ratio<i128>> {
    let n3 = (steps as i128).pow(3);
    (1..=steps as i128)
        .map(|n| Ratio::new(cube_diff(n), 3 * n3))
        .collect()
}

/// The symmetric second-order kernel K (N × N): a₀⁽²⁾ = −Σ K_mn U_m U_n.
pub fn k_matrix(steps: usize, range: f64) -> Array2<f64> {
    let d5 = (range / steps as f64).powi(5);
    Array2::from_shape_fn((steps, steps), |(i, j)| {
        d5 * to_f64(k_unit(i as i128 + 1, j as i128 + 1))
    })
}

/// K_mn for R = 1 as an exact fraction (1-based m, n).
pub fn k_exact(steps: usize, m: usize, n: usize) -> Ratio<i128> {
    assert!(
        (1..=steps).contains(&m) && (1..=steps).contains(&n),
        "indices are 1-based, 1..=N"
    );
    k_unit(m as i128, n as i128) / (steps as i128).pow(5)
}

/// The Hessian of a₀ at U = 0: ∂²a₀/∂U_m∂U_n = −2 K_mn.
pub fn hessian(steps: usize, range: f64) -> Array2<f64> {
    k_matrix(steps, range) * -2.0
}

/// The first Born term a₀⁽¹⁾ = Σ g_n U_n of the step potential `u` on [0, `range`].
pub fn first_order_term(u: &[f64], range: f64) -> f64 {
    first_order(u.len(), range)
        .iter()
        .zip(u)
        .map(|(g, v)| g * v)
        .sum()
}

/// The second Born term a₀⁽²⁾ = −Σ K_mn U_m U_n of the step potential `u` on [0, `range`].
pub fn second_order_term(u: &[f64], range: f64) -> f64 {
    let k = k_matrix(u.len(), range);
    let v = ndarray::ArrayView1::from(u);
    -v.dot(&k.dot(&v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::scattering_length;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn first_order_golden_values() {
        let g = first_order(64, 1.0);
        assert!(close(g[0], 1.0 / 786432.0, 1e-15));
        assert!(close(g[31], 2977.0 / 786432.0, 1e-15));
        assert!(close(g[63], 12097.0 / 786432.0, 1e-15));
        assert!(close(g.iter().sum::<f64>(), 1.0 / 3.0, 1e-14));
        let ge = first_order_exact(64);
        assert_eq!(ge[0], Ratio::new(1, 786432));
        assert_eq!(ge[31], Ratio::new(2977, 786432));
        assert_eq!(ge[63], Ratio::new(12097, 786432));
        assert_eq!(ge.iter().sum::<Ratio<i128>>(), Ratio::new(1, 3));
        // Range scaling R³.
        assert!(close(
            first_order(64, 2.0).iter().sum::<f64>(),
            8.0 / 3.0,
            1e-14
        ));
    }

    #[test]
    fn hessian_golden_values() {
        let h = hessian(64, 1.0);
        // 1-based (m, n) from the notes → 0-based indices.
        let at = |m: usize, n: usize| h[[m - 1, n - 1]];
        assert!(close(at(1, 1), -2.48353e-10, 2e-6), "{}", at(1, 1));
        assert!(close(at(1, 64), -3.94260e-8, 2e-6));
        assert!(close(at(64, 1), -3.94260e-8, 2e-6));
        assert!(close(at(32, 32), -5.79155e-5, 2e-6));
        assert!(close(at(32, 64), -1.173712e-4, 1e-6));
        assert!(close(at(64, 64), -4.756844e-4, 1e-6));
        let k = k_matrix(64, 1.0);
        assert!(close(k.sum(), 2.0 / 15.0, 1e-13));
        assert_eq!(k, k.t());
        let total: Ratio<i128> = (1..=64)
            .flat_map(|m| (1..=64).map(move |n| k_exact(64, m, n)))
            .sum();
        assert_eq!(total, Ratio::new(2, 15));
        // K_nn from the closed form with r's agrees with the integer form.
        let d = 1.0 / 64.0f64;
        let (a, b) = (31.0 * d, 32.0 * d);
        let knn = 2.0 / 3.0 * ((b.powi(5) - a.powi(5)) / 5.0 - a.powi(3) * (b * b - a * a) / 2.0);
        assert!(close(k[[31, 31]], knn, 1e-11));
        // Range scaling R⁵.
        assert!(close(k_matrix(8, 0.5).sum(), 2.0 / 15.0 / 32.0, 1e-13));
    }

    #[test]
    fn square_well_series() {
        // a0 = U0R³/3 − 2U0²R⁵/15 + …: one step is the square well.
        assert!(close(first_order_term(&[-1.0], 1.0), -1.0 / 3.0, 1e-15));
        assert!(close(second_order_term(&[-1.0], 1.0), -2.0 / 15.0, 1e-15));
        // Two steps (−0.5, −1.0): Born terms −5/16, −11/96 (theory notes §5).
        assert!(close(
            first_order_term(&[-0.5, -1.0], 1.0),
            -5.0 / 16.0,
            1e-15
        ));
        assert!(close(
            second_order_term(&[-0.5, -1.0], 1.0),
            -11.0 / 96.0,
            1e-15
        ));
        assert!(close(
            second_order_term(&[-1.0, -2.0], 1.0),
            -11.0 / 24.0,
            1e-15
        ));
    }

    /// An independent route: the λ-expansion of the exact a₀ (transfer matrices) reproduces the
    /// closed-form g and K: (a₀(λU) − λ g·U)/λ² → −Σ K_mn U_m U_n as λ → 0.
    #[test]
    fn lambda_expansion_of_the_exact_a0() {
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..5 {
            let u: Vec<f64> = (0..8).map(|_| -2.0 * next()).collect();
            let first = first_order_term(&u, 1.0);
            let second = second_order_term(&u, 1.0);
            // Gradient: a0(λU)/λ → g·U.
            let l = 1e-7;
            let a = scattering_length(&u.iter().map(|v| l * v).collect::<Vec<_>>(), 1.0);
            assert!(close(a / l, first, 1e-6), "{} vs {first}", a / l);
            for (l, tol) in [(1e-2, 3e-2), (1e-3, 3e-3), (1e-4, 3e-4)] {
                let a = scattering_length(&u.iter().map(|v| l * v).collect::<Vec<_>>(), 1.0);
                let est = (a - l * first) / (l * l);
                assert!(close(est, second, tol), "λ = {l}: {est} vs {second}");
            }
            // The symmetric difference cancels the λ³ term: O(λ²) agreement.
            let l = 1e-3;
            let ap = scattering_length(&u.iter().map(|v| l * v).collect::<Vec<_>>(), 1.0);
            let am = scattering_length(&u.iter().map(|v| -l * v).collect::<Vec<_>>(), 1.0);
            let est = (ap + am) / (2.0 * l * l);
            assert!(close(est, second, 1e-5), "symmetric: {est} vs {second}");
        }
    }
}
