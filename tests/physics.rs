//! Physics against independent truth: golden values of theory notes §5, closed forms of the
//! square well, the closed-form g_n and K_mn, and agreement between the three routes (transfer
//! matrices, variable-phase ODE, Born series).

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

use feynn_studies::physics::families::{sample, sample_scaled, sample_with_power, Family, Scaling};
use feynn_studies::physics::{self, born, series, smooth};

fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// xorshift64, so that the tests do not share the library's generator.
fn uniforms(mut s: u64) -> impl FnMut() -> f64 {
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn two_step_born_terms_are_the_golden_fractions() {
    let t = series::born_terms_exact(&[q(-1, 2), q(-1, 1)], &BigRational::one(), 4);
    assert_eq!(
        t,
        vec![q(-5, 16), q(-11, 96), q(-13663, 322560), q(-9097, 580608)]
    );
    let t = series::born_terms_exact(&[q(-1, 1), q(-2, 1)], &BigRational::one(), 3);
    assert_eq!(t, vec![q(-5, 8), q(-11, 24), q(-13663, 40320)]);
    // Partial sums creep towards the exact a0 = −0.4943079223 (§5).
    let f = series::born_terms_f64(&[-0.5, -1.0], 1.0, 40);
    let mut s = 0.0;
    let sums: Vec<f64> = f
        .iter()
        .map(|t| {
            s += t;
            s
        })
        .collect();
    for (got, want) in sums.iter().zip([-0.3125, -0.42708, -0.46944, -0.48511]) {
        assert!(close(*got, want, 5e-6), "{got} vs {want}");
    }
    assert!(close(sums[39], -0.4943079223, 1e-9), "{}", sums[39]);
}

#[test]
fn square_well_series_is_the_taylor_series_of_r_minus_tan_kr_over_k() {
    // a0 = R − tan(kR)/k with U0 = −k²: coefficients of U0^n R^{2n+1} are
    // 1/3, −2/15, 17/315, −62/2835, 1382/155925 (tan series), for any U0 and R, on any number of
    // equal steps.
    let coeff = [
        q(1, 3),
        q(-2, 15),
        q(17, 315),
        q(-62, 2835),
        q(1382, 155925),
    ];
    for (u0, r, steps) in [
        (q(-1, 1), q(1, 1), 1),
        (q(-3, 7), q(5, 4), 3),
        (q(2, 1), q(1, 2), 5),
    ] {
        let u = vec![u0.clone(); steps];
        let t = series::born_terms_exact(&u, &r, 5);
        for (n, c) in coeff.iter().enumerate() {
            let p = (n + 1) as i32;
            let want = c
                * num_traits::pow(u0.clone(), p as usize)
                * num_traits::pow(r.clone(), 2 * p as usize + 1);
            assert_eq!(t[n], want, "order {p}, U0 = {u0}, R = {r}, {steps} steps");
        }
    }
}

#[test]
fn exact_recursion_reproduces_the_closed_form_g_and_k() {
    let n = 8;
    let g = born::first_order_exact(n);
    let to_big = |r: num_rational::Ratio<i128>| {
        BigRational::new(BigInt::from(*r.numer()), BigInt::from(*r.denom()))
    };
    let e = |i: usize| {
        let mut u = vec![BigRational::zero(); n];
        u[i] = BigRational::one();
        u
    };
    for i in 0..n {
        let t = series::born_terms_exact(&e(i), &BigRational::one(), 2);
        assert_eq!(t[0], to_big(g[i]));
        // a^(2)(e_i) = −K_ii
        assert_eq!(t[1], -to_big(born::k_exact(n, i + 1, i + 1)));
        for j in i + 1..n {
            let mut u = e(i);
            u[j] = BigRational::one();
            let t2 = series::born_terms_exact(&u, &BigRational::one(), 2)[1].clone();
            // a^(2)(e_i + e_j) = −K_ii − K_jj − 2K_ij
            let want = -(to_big(born::k_exact(n, i + 1, i + 1))
                + to_big(born::k_exact(n, j + 1, j + 1))
                + to_big(born::k_exact(n, i + 1, j + 1)) * BigRational::from_integer(2.into()));
            assert_eq!(t2, want, "({i}, {j})");
        }
    }
}

#[test]
fn born_series_sums_to_the_exact_a0_for_weak_potentials() {
    let mut rnd = uniforms(0xabcdef12345);
    for _ in 0..5 {
        // |U| R² ≤ 0.8, well inside the radius of convergence (π²/4 for the deepest square well)
        let u: Vec<f64> = (0..16).map(|_| -0.8 * rnd()).collect();
        let exact = physics::scattering_length(&u, 1.0);
        let terms = series::born_terms_f64(&u, 1.0, 30);
        let sum: f64 = terms.iter().sum();
        assert!(close(sum, exact, 1e-13), "{sum} vs {exact}");
        // The f64 recursion agrees with the rational one on the same (dyadic) inputs.
        let ex: Vec<BigRational> = u.iter().map(|v| series::exact(*v)).collect();
        let t3 = series::born_terms_exact(&ex, &BigRational::one(), 3);
        for k in 0..3 {
            let r = t3[k].clone();
            let f = r.numer().to_string().parse::<f64>().unwrap()
                / r.denom().to_string().parse::<f64>().unwrap();
            assert!(
                close(terms[k], f, 1e-15 * f.abs().max(1e-300) * 10.0),
                "order {}: {} vs {f}",
                k + 1,
                terms[k]
            );
        }
        // and with the closed-form first and second orders
        assert!(close(terms[0], born::first_order_term(&u, 1.0), 1e-15));
        assert!(close(terms[1], born::second_order_term(&u, 1.0), 1e-15));
    }
}

#[test]
fn variable_phase_agrees_with_transfer_matrices_on_step_potentials() {
    let mut rnd = uniforms(77);
    for range in [1.0, 1.3] {
        // mixed signs, no bound state (a(r) of the variable-phase equation would pass a pole)
        let u: Vec<f64> = (0..12).map(|_| 2.2 * rnd() - 1.4).collect();
        assert_eq!(physics::bound_states(&u, range), 0);
        let exact = physics::scattering_length(&u, range);
        let (f, breaks) = smooth::step_function(&u, range);
        let vp = smooth::scattering_length(f, range, &breaks, 1e-11).unwrap();
        let err = (vp.values[0] - exact).abs();
        assert!(err < 1e-9, "{} vs {exact}", vp.values[0]);
        // The error estimate is honest within an order of magnitude.
        assert!(
            err <= 10.0 * vp.error + 1e-13,
            "error {err:e}, estimate {:e}",
            vp.error
        );
    }
    // With the step edges as breaks: the golden two-step value; without them the integrator
    // shrinks its steps at the jump and still converges.
    let u = [-0.5, -1.0];
    let (f, breaks) = smooth::step_function(&u, 1.0);
    let vp = smooth::scattering_length(&f, 1.0, &breaks, 1e-10).unwrap();
    assert!(close(vp.values[0], -0.4943079223, 1e-9));
    let vp = smooth::scattering_length(&f, 1.0, &[], 1e-10).unwrap();
    assert!(close(vp.values[0], -0.4943079223, 1e-8), "{}", vp.values[0]);
}

#[test]
fn variable_phase_square_well_and_gaussian() {
    let vp = smooth::scattering_length(|_| -1.0, 1.0, &[], 1e-12).unwrap();
    assert!(
        close(vp.values[0], 1.0 - 1f64.tan(), 1e-11),
        "{}",
        vp.values[0]
    );
    let k = 2f64.sqrt();
    let vp = smooth::scattering_length(|_| 2.0, 1.0, &[], 1e-12).unwrap();
    assert!(close(vp.values[0], 1.0 - k.tanh() / k, 1e-11));
    // §5: the Gaussian −2 exp(−(r/0.4)²) cut at R = 1: −0.0636260, and the step discretisation
    // converges to it.
    let gauss = |r: f64| -2.0 * (-(r / 0.4f64).powi(2)).exp();
    let vp = smooth::scattering_length(gauss, 1.0, &[], 1e-12).unwrap();
    assert!(close(vp.values[0], -0.0636260, 5e-8), "{}", vp.values[0]);
    let steps = physics::scattering_length(&physics::midpoint_sample(gauss, 4096, 1.0), 1.0);
    assert!(close(vp.values[0], steps, 1e-8));
    // A bound state on the way makes a(r) diverge: an error, not a number.
    assert!(smooth::scattering_length(|_| -10.0, 1.0, &[], 1e-10).is_err());
}

#[test]
fn born_terms_by_quadrature() {
    // Square well U0 = −1 on [0, 1]: −1/3, −2/15, −17/315, −62/2835.
    let b = smooth::born_terms(|_| -1.0, 1.0, 4, &[], 1e-13).unwrap();
    for (got, want) in b
        .values
        .iter()
        .zip([-1.0 / 3.0, -2.0 / 15.0, -17.0 / 315.0, -62.0 / 2835.0])
    {
        assert!(close(*got, want, 1e-12), "{got} vs {want}");
    }
    // Two steps: the exact fractions.
    let (f, breaks) = smooth::step_function(&[-0.5, -1.0], 1.0);
    let b = smooth::born_terms(f, 1.0, 3, &breaks, 1e-13).unwrap();
    for (got, want) in b
        .values
        .iter()
        .zip([-5.0 / 16.0, -11.0 / 96.0, -13663.0 / 322560.0])
    {
        assert!(close(*got, want, 1e-12), "{got} vs {want}");
    }
    // A weak Gaussian: the Born series sums to the variable-phase a0.
    let g = |r: f64| -0.6 * (-(r / 0.5f64).powi(2)).exp();
    let b = smooth::born_terms(g, 1.0, 25, &[], 1e-13).unwrap();
    let vp = smooth::scattering_length(g, 1.0, &[], 1e-13).unwrap();
    assert!(close(b.values.iter().sum::<f64>(), vp.values[0], 1e-11));
}

#[test]
fn third_order_coefficients() {
    // One step on [0, 1]: the chain integral 17/315 (times U³).
    assert!(close(
        series::monomial_coefficient(&[0, 0, 0], 1, 1.0),
        17.0 / 315.0,
        1e-15
    ));
    // The cubic form at U = (1, …, 1) is the square well's third term: Σ_α c_α = 17/315, and
    // at U = (1, 2, 3, 4)/4 it is the exact third Born term of that potential.
    let n = 4;
    let u: Vec<f64> = (1..=n).map(|i| i as f64 / 4.0).collect();
    let (mut all, mut at_u) = (0.0, 0.0);
    for i in 0..n as u32 {
        for j in i..n as u32 {
            for k in j..n as u32 {
                let c = series::monomial_coefficient(&[i, j, k], n, 1.0);
                all += c;
                at_u += c * u[i as usize] * u[j as usize] * u[k as usize];
            }
        }
    }
    assert!(close(all, 17.0 / 315.0, 1e-14), "{all}");
    let ex: Vec<BigRational> = u.iter().map(|v| series::exact(*v)).collect();
    let t3 = series::born_terms_exact(&ex, &BigRational::one(), 3)[2].clone();
    let t3 = t3.numer().to_string().parse::<f64>().unwrap()
        / t3.denom().to_string().parse::<f64>().unwrap();
    assert!(close(at_u, t3, 1e-14), "{at_u} vs {t3}");
    // Orders 1 and 2 through the same route: g_n, −K_nn and −2K_mn.
    let k = born::k_matrix(n, 1.0);
    assert!(close(
        series::monomial_coefficient(&[2], n, 1.0),
        born::first_order(n, 1.0)[2],
        1e-16
    ));
    assert!(close(
        series::monomial_coefficient(&[1, 1], n, 1.0),
        -k[[1, 1]],
        1e-16
    ));
    assert!(close(
        series::monomial_coefficient(&[0, 3], n, 1.0),
        -2.0 * k[[0, 3]],
        1e-16
    ));
}

#[test]
fn families_give_shallow_attractive_potentials_reproducibly() {
    for fam in Family::ALL {
        for i in 0..20u64 {
            let (u, f) = sample(&[fam], 64, 1.0, 0.6, 9, i);
            assert_eq!(f, fam);
            assert_eq!(u.len(), 64);
            assert!(physics::is_shallow_attractive(&u, 1.0), "{fam:?}");
            assert!(physics::scattering_length(&u, 1.0) <= 0.0);
            // depth knob: at most 0.6 of the unitary limit
            let l = physics::unitary_scale(&u, 1.0).unwrap();
            assert!(l > 1.0 / 0.6 - 1e-9, "{fam:?}: λ* = {l}");
            assert_eq!(sample(&[fam], 64, 1.0, 0.6, 9, i).0, u, "not reproducible");
        }
        assert_ne!(
            sample(&[fam], 64, 1.0, 0.6, 9, 0).0,
            sample(&[fam], 64, 1.0, 0.6, 10, 0).0
        );
    }
    assert_eq!(Family::parse("yukawa"), Some(Family::Yukawa));
    assert_eq!(Family::parse("nope"), None);
}

#[test]
fn depth_power_keeps_the_shapes_and_favours_shallow_potentials() {
    // power 1 is the uniform fraction of `sample`; power 2 draws the same shapes at the depth
    // fraction u² ≤ u, so every potential is the power-1 one scaled by u ∈ [0, 1)
    let (mut a0_1, mut a0_2) = (0.0, 0.0);
    for i in 0..50u64 {
        let fams = &Family::ALL;
        let (u1, _) = sample(fams, 64, 1.0, 0.5, 3, i);
        assert_eq!(sample_with_power(fams, 64, 1.0, 0.5, 1.0, 3, i).0, u1);
        let (u2, f) = sample_with_power(fams, 64, 1.0, 0.5, 2.0, 3, i);
        assert!(physics::is_shallow_attractive(&u2, 1.0), "{f:?}");
        let k = (0..64)
            .max_by(|&a, &b| u1[a].abs().total_cmp(&u1[b].abs()))
            .unwrap();
        let ratio = u2[k] / u1[k];
        assert!((0.0..=1.0).contains(&ratio), "{f:?}: ratio {ratio}");
        assert!(u2
            .iter()
            .zip(&u1)
            .all(|(b, a)| (b - ratio * a).abs() <= 1e-12 * a.abs()));
        a0_1 += physics::scattering_length(&u1, 1.0);
        a0_2 += physics::scattering_length(&u2, 1.0);
    }
    assert!(
        a0_2 > a0_1,
        "power 2 should give shallower potentials: {a0_2} vs {a0_1}"
    );
}

#[test]
fn both_signs_flips_half_the_potentials_and_keeps_the_born_series_convergent() {
    // without the coin the potentials are those of sample_with_power; with it, each potential
    // is attractive and shallow, or repulsive (U ≥ 0, a₀ > 0); about half are repulsive, and a
    // repulsive one's a₀ is the Born series evaluated on the other side of U = 0: its first two
    // terms alternate in sign against the attractive twin (g·U flips, −UᵀKU does not)
    let fams = &Family::ALL;
    let scaling = |both_signs| Scaling {
        depth: 0.5,
        power: 1.0,
        both_signs,
    };
    let mut repulsive = 0;
    for i in 0..200u64 {
        let (u, f) = sample_scaled(fams, 32, 1.0, scaling(false), 5, i);
        assert_eq!(
            (u.clone(), f),
            sample_with_power(fams, 32, 1.0, 0.5, 1.0, 5, i)
        );
        let (v, _) = sample_scaled(fams, 32, 1.0, scaling(true), 5, i);
        if v.iter().all(|x| *x >= 0.0) && v.iter().any(|x| *x > 0.0) {
            repulsive += 1;
            let a = physics::scattering_length(&v, 1.0);
            assert!(a > 0.0, "a repulsive potential has a0 > 0, got {a}");
            let mirror: Vec<f64> = v.iter().map(|x| -x).collect();
            let b = physics::scattering_length(&mirror, 1.0);
            // a0(U) + a0(−U) = 2·(even orders) = 2·(−UᵀKU + …): small and negative
            let g = physics::born::first_order(32, 1.0);
            let born1: f64 = v.iter().zip(&g).map(|(x, y)| x * y).sum();
            assert!(
                (a - b - 2.0 * born1).abs() < 0.5 * (a - b).abs(),
                "{a} {b} {born1}"
            );
        } else {
            assert!(physics::is_shallow_attractive(&v, 1.0));
        }
    }
    assert!(
        (70..=130).contains(&repulsive),
        "{repulsive} of 200 repulsive"
    );
}
