//! The INN action S = −ln p against truth from outside the recursion:
//!
//! * golden vectors T1, T2 of theory note `inn-action.md` §4 (to 1e-12; T1 also as exact rationals);
//! * random networks (several N, depths, α, polynomial nonlinearities) against the Taylor
//!   expansion of the exact change-of-variables log-density, differentiated here with the
//!   test's own nested dual numbers (tests/common/dual.rs) — no library code on that route;
//! * α = 0: a Gaussian action A^(2) = ½WᵀW, nothing above order 2;
//! * log-det off, K = 2^{L+1}: the polynomial equals ½|f(x)|² exactly, at far points, in exact
//!   rational arithmetic computed by the test's own forward pass;
//! * the planned `f64` kernels (what `action` runs in floating point) against the generic
//!   recursion in exact rationals on dyadic networks, and in `f64` on many random ones.

mod common;

use common::dual::{Scalar as DualScalar, D4};
use feynn::model::inn::{parse_inns, Inn, InnLayer};
use feynn::numeric::action::{action, action_reference, sorted_indices, ActionOptions};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const T1: &str =
    "inn t1 {\n dim 1\n layer quad\n param W0 = [[1]]\n param b0 = [0]\n param alpha0 = 1/10\n}";

const T2: &str = r#"
// theory note §4, T2: layer 0 acts on x first
inn t2 {
  dim 2
  layer quad
  layer quad
  param W0 = [[1, 1/2], [0, 1]]
  param b0 = [1/10, -1/10]
  param alpha0 = [1/10, 1/10]
  param W1 = [[1, 0], [-1/2, 1]]
  param b1 = [0, 1/5]
  param alpha1 = 1/20
}
"#;

fn r(a: i64, b: i64) -> BigRational {
    BigRational::new(BigInt::from(a), BigInt::from(b))
}

fn opts(order: usize) -> ActionOptions {
    ActionOptions {
        order,
        ..Default::default()
    }
}

#[test]
fn golden_t1_in_floats_and_exact_rationals() {
    let spec = &parse_inns("t1.fnn", T1, None).unwrap()[0];
    let a = action(&spec.resolve::<f64>(None).unwrap(), &[0.0], &opts(4)).unwrap();
    let want = [0.918938533205, -0.2, 0.52, 73.0 / 750.0, 27.0 / 5000.0];
    assert!((a.a0() - want[0]).abs() < 1e-12, "A0 {}", a.a0());
    for k in 1..=4 {
        let got = *a.entry(&vec![0; k]);
        assert!((got - want[k]).abs() < 1e-12, "A{k}: {got} vs {}", want[k]);
    }
    let e = action(
        &spec.resolve::<BigRational>(None).unwrap(),
        &[BigRational::zero()],
        &opts(4),
    )
    .unwrap();
    let exact = [r(-1, 5), r(13, 25), r(73, 750), r(27, 5000)];
    for k in 1..=4 {
        assert_eq!(e.entry(&vec![0; k]), &exact[k - 1], "A{k}");
    }
    // A0's rational part is ½z0² = 0 at x0 = 0, its constant ½ ln 2π
    assert!(e.tensors[0][0].is_zero());
    assert!((e.log_const - 0.5 * (2.0 * std::f64::consts::PI).ln()).abs() < 1e-15);
}

#[test]
fn golden_t2_to_1e_12_in_floats_and_rationals() {
    let spec = &parse_inns("t2.fnn", T2, None).unwrap()[0];
    let want: &[(&[u32], f64)] = &[
        (&[0], -0.167679203259),
        (&[1], -0.33556330316),
        (&[0, 0], 0.696460458658),
        (&[0, 1], 0.0920607347037),
        (&[1, 1], 0.426156105014),
        (&[0, 0, 0], 0.176363385088),
        (&[0, 0, 1], 0.0841641584074),
        (&[0, 1, 1], -0.00180624034395),
        (&[1, 1, 1], 0.100826508302),
        (&[0, 0, 0, 0], 0.0220323047896),
        (&[0, 0, 0, 1], 0.0127218771646),
        (&[0, 0, 1, 1], 0.00612851598662),
        (&[0, 1, 1, 1], -0.00194918125011),
        (&[1, 1, 1, 1], 0.0130115995983),
    ];
    let f = action(&spec.resolve::<f64>(None).unwrap(), &[0.0, 0.0], &opts(4)).unwrap();
    let e = action(
        &spec.resolve::<BigRational>(None).unwrap(),
        &[BigRational::zero(), BigRational::zero()],
        &opts(4),
    )
    .unwrap();
    assert!((f.a0() - 1.829624236697).abs() < 1e-12, "A0 {}", f.a0());
    assert!(
        (e.a0() - 1.829624236697).abs() < 1e-12,
        "exact A0 {}",
        e.a0()
    );
    for (idx, v) in want {
        let got = *f.entry(idx);
        // the golden digits are given to 12 significant figures
        assert!((got - v).abs() < 1e-12, "A{idx:?}: {got} vs {v}");
        let ex = num_traits::ToPrimitive::to_f64(e.entry(idx)).unwrap();
        assert!((ex - v).abs() < 1e-12, "exact A{idx:?}: {ex} vs {v}");
        // symmetry: every ordering of the index holds the same value
        let mut rev = idx.to_vec();
        rev.reverse();
        assert_eq!(e.entry(&rev), e.entry(idx));
    }
}

/// A random network: (W row-major, b, per-neuron polynomial φ).
type Layer = (Vec<f64>, Vec<f64>, Vec<Vec<f64>>);

fn random_layers(rng: &mut StdRng, n: usize, depth: usize, amax: f64, cubic: bool) -> Vec<Layer> {
    (0..depth)
        .map(|l| {
            let w: Vec<f64> = (0..n * n)
                .map(|k| {
                    let diag = if k / n == k % n { 1.0 } else { 0.0 };
                    diag + rng.random_range(-0.4..0.4)
                })
                .collect();
            let b: Vec<f64> = (0..n).map(|_| rng.random_range(-0.3..0.3)).collect();
            let phi = (0..n)
                .map(|_| {
                    if cubic && l % 2 == 1 {
                        // h + a h^2 + c h^3 with φ' > 0 near 0
                        vec![
                            0.0,
                            rng.random_range(0.8..1.2),
                            rng.random_range(-amax..amax),
                            rng.random_range(0.0..amax / 2.0),
                        ]
                    } else {
                        vec![0.0, 1.0, rng.random_range(-amax..amax)]
                    }
                })
                .collect();
            (w, b, phi)
        })
        .collect()
}

fn to_inn(layers: &[Layer], n: usize) -> Inn<f64> {
    Inn {
        name: "rand".into(),
        n,
        layers: layers
            .iter()
            .map(|(w, b, phi)| InnLayer {
                w: w.clone(),
                b: b.clone(),
                phi: phi.clone(),
            })
            .collect(),
    }
}

/// ln|det W| by the test's own elimination (no pivoting needed: W is near the identity).
fn ln_abs_det(w: &[f64], n: usize) -> f64 {
    let mut m = w.to_vec();
    let mut s = 0.0;
    for c in 0..n {
        let p = m[c * n + c];
        s += p.abs().ln();
        for r in c + 1..n {
            let f = m[r * n + c] / p;
            for k in c..n {
                m[r * n + k] -= f * m[c * n + k];
            }
        }
    }
    s
}

/// The exact change-of-variables action, S = ½|f(x)|² + N/2 ln 2π − Σ ln|det W| − Σ ln φ'(h),
/// over any dual scalar.
fn exact_action<D: DualScalar>(layers: &[Layer], x: Vec<D>, logdet: bool) -> D {
    let n = x.len();
    let mut y = x;
    let mut s = D::cst(0.0);
    for (w, b, phi) in layers {
        let h: Vec<D> = (0..n)
            .map(|i| {
                (0..n).fold(D::cst(b[i]), |acc, j| {
                    acc + D::cst(w[i * n + j]) * y[j].clone()
                })
            })
            .collect();
        let mut ny = Vec::with_capacity(n);
        for i in 0..n {
            let mut val = D::cst(0.0);
            let mut slope = D::cst(0.0);
            for (p, &a) in phi[i].iter().enumerate() {
                if a == 0.0 {
                    continue;
                }
                val = val + h[i].powi(p as i32).scale(a);
                if p > 0 {
                    slope = slope + h[i].powi(p as i32 - 1).scale(a * p as f64);
                }
            }
            if logdet {
                s = s - slope.ln();
            }
            ny.push(val);
        }
        if logdet {
            s = s.add_cst(-ln_abs_det(w, n));
        }
        y = ny;
    }
    let half_z2 = y
        .iter()
        .fold(D::cst(0.0), |acc, v| acc + v.clone() * v.clone())
        .scale(0.5);
    let c = if logdet {
        0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
    } else {
        0.0
    };
    s + half_z2.add_cst(c)
}

/// ∂^k S at x0 along the sorted index list (k ≤ 4), by four nested duals.
fn derivative(layers: &[Layer], x0: &[f64], idx: &[u32], logdet: bool) -> f64 {
    let x: Vec<D4> = (0..x0.len())
        .map(|j| {
            let dirs: Vec<f64> = (0..4)
                .map(|r| {
                    if r < idx.len() && idx[r] as usize == j {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect();
            D4::var(x0[j], &dirs)
        })
        .collect();
    let mask: Vec<bool> = (0..4).map(|r| r < idx.len()).collect();
    exact_action(layers, x, logdet).part(&mask)
}

fn factorial(k: usize) -> f64 {
    (1..=k).map(|v| v as f64).product()
}

#[test]
fn random_networks_match_the_dual_number_taylor_expansion() {
    let mut rng = StdRng::seed_from_u64(4);
    let mut checked = 0;
    for &(n, depth, amax, cubic) in &[
        (1, 1, 0.3, false),
        (2, 3, 0.15, false),
        (3, 2, 0.25, true),
        (4, 4, 0.1, true),
        (3, 5, 0.2, false),
    ] {
        let layers = random_layers(&mut rng, n, depth, amax, cubic);
        let inn = to_inn(&layers, n);
        let x0: Vec<f64> = (0..n).map(|_| rng.random_range(-0.3..0.3)).collect();
        let a = action(&inn, &x0, &opts(4)).unwrap();
        for k in 0..=4 {
            for idx in sorted_indices(n, k) {
                let want = derivative(&layers, &x0, &idx, true) / factorial(k);
                let got = if k == 0 { a.a0() } else { *a.entry(&idx) };
                let scale = want.abs().max(1e-3);
                assert!(
                    (got - want).abs() <= 1e-9 * scale,
                    "N={n} L={depth} A{idx:?}: recursion {got:e}, duals {want:e}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 5 + 15 + 35 + 70 + 35);
}

#[test]
fn alpha_zero_is_gaussian_with_half_wtw() {
    let mut rng = StdRng::seed_from_u64(7);
    let n = 3;
    let mut layers = random_layers(&mut rng, n, 1, 0.1, false);
    for p in &mut layers[0].2 {
        p[2] = 0.0;
    }
    let (w, b, _) = layers[0].clone();
    let x0 = [0.2, -0.1, 0.3];
    let a = action(&to_inn(&layers, n), &x0, &opts(4)).unwrap();
    for i in 0..n {
        for j in 0..n {
            let wtw: f64 = (0..n).map(|k| w[k * n + i] * w[k * n + j]).sum();
            assert!((a.entry(&[i as u32, j as u32]) - 0.5 * wtw).abs() < 1e-14);
        }
        // A^(1) = Wᵀ(W x0 + b)
        let z: Vec<f64> = (0..n)
            .map(|k| b[k] + (0..n).map(|j| w[k * n + j] * x0[j]).sum::<f64>())
            .collect();
        let a1: f64 = (0..n).map(|k| w[k * n + i] * z[k]).sum();
        assert!((a.entry(&[i as u32]) - a1).abs() < 1e-14);
    }
    assert!(a.tensors[3].iter().chain(&a.tensors[4]).all(|v| *v == 0.0));
}

/// Exact forward pass of the test: ½|f(x)|² for rational parameters.
fn half_f2_exact(
    layers: &[(Vec<BigRational>, Vec<BigRational>, BigRational)],
    x: &[BigRational],
) -> BigRational {
    let n = x.len();
    let mut y = x.to_vec();
    for (w, b, a) in layers {
        y = (0..n)
            .map(|i| {
                let h = (0..n).fold(b[i].clone(), |acc, j| acc + &w[i * n + j] * &y[j]);
                &h + a * &h * &h
            })
            .collect();
    }
    y.iter().fold(BigRational::zero(), |s, v| s + v * v) / BigRational::from_integer(2.into())
}

#[test]
fn without_logdet_order_2_to_the_l_plus_1_is_half_f_squared_exactly() {
    let spec = &parse_inns("t2.fnn", T2, None).unwrap()[0];
    let inn = spec.resolve::<BigRational>(None).unwrap();
    let layers: Vec<_> = inn
        .layers
        .iter()
        .map(|l| (l.w.clone(), l.b.clone(), l.phi[0][2].clone()))
        .collect();
    // per-layer α in T2 is the same for both neurons, which `layers` above relies on
    assert!(inn.layers.iter().all(|l| l.phi[0] == l.phi[1]));
    let x0 = [r(1, 3), r(-1, 7)];
    let o = ActionOptions {
        order: 8,
        logdet: false,
        ..Default::default()
    };
    let a = action(&inn, &x0, &o).unwrap();
    assert_eq!(a.log_const, 0.5 * 2.0 * (2.0 * std::f64::consts::PI).ln());
    for x in [
        [r(5, 2), r(-3, 1)],
        [r(-7, 4), r(11, 5)],
        [r(0, 1), r(1, 1)],
    ] {
        let d: Vec<BigRational> = (0..2).map(|i| &x[i] - &x0[i]).collect();
        let mut poly = BigRational::zero();
        for k in 0..=8 {
            for idx in sorted_indices(2, k) {
                let mono = idx
                    .iter()
                    .fold(BigRational::one(), |p, &i| p * &d[i as usize]);
                poly += a.monomial_coefficient(&idx) * mono;
            }
        }
        assert_eq!(poly, half_f2_exact(&layers, &x));
    }
}

#[test]
fn float_and_rational_recursions_agree_on_rational_weights() {
    let src = "inn m {\n dim 3\n layer quad\n layer (h - h^2/8 + h^3/30)\n layer linear\n \
        param W0 = [[1, 1/3, 0], [-1/4, 1, 1/5], [0, 1/2, 1]]\n param b0 = [1/10, 0, -1/5]\n \
        param alpha0 = [1/8, -1/10, 1/6]\n param W1 = [[1, 0, 1/7], [0, 2, 0], [1/3, 0, 1]]\n \
        param b1 = [0, 1/9, 0]\n param W2 = [[1, 1, 0], [0, 1, 1], [0, 0, 1]]\n param b2 = [1, 2, 3]\n}";
    let spec = &parse_inns("m.fnn", src, None).unwrap()[0];
    let x0f = [0.25, -0.5, 0.125];
    let x0e = [r(1, 4), r(-1, 2), r(1, 8)];
    let f = action(&spec.resolve::<f64>(None).unwrap(), &x0f, &opts(4)).unwrap();
    let e = action(&spec.resolve::<BigRational>(None).unwrap(), &x0e, &opts(4)).unwrap();
    for k in 1..=4 {
        for idx in sorted_indices(3, k) {
            let ex = num_traits::ToPrimitive::to_f64(e.entry(&idx)).unwrap();
            let got = *f.entry(&idx);
            assert!(
                (got - ex).abs() <= 1e-12 * ex.abs().max(1.0),
                "{idx:?}: {got} vs {ex}"
            );
        }
    }
    assert!((f.a0() - e.a0()).abs() < 1e-12);
}

#[test]
fn expansion_point_off_the_branch_is_an_error() {
    let spec = &parse_inns("t1.fnn", T1, None).unwrap()[0];
    // 1 + 2αh = 0 at h = −5
    let e = action(&spec.resolve::<f64>(None).unwrap(), &[-6.0], &opts(4)).unwrap_err();
    assert!(e.to_string().contains("off the invertible branch"), "{e}");
}

/// Round to a multiple of 2⁻¹⁰, so that the float and the rational network are the same.
fn dyadic(v: f64) -> f64 {
    (v * 1024.0).round() / 1024.0
}

/// |got − want| ≤ tol · max(|want|, floor · the largest |entry| of the order): entries far
/// below the largest come from cancellations, where both routes round differently.
fn assert_tensors_close(
    got: &[Vec<f64>],
    want: &[Vec<f64>],
    tol: f64,
    floor: f64,
    what: &str,
) -> usize {
    let mut checked = 0;
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), w.len(), "{what}: A^({k}) sizes");
        let top = w.iter().fold(0.0, |m: f64, v| m.max(v.abs()));
        for (f, (x, y)) in g.iter().zip(w).enumerate() {
            assert!(
                (x - y).abs() <= tol * y.abs().max(floor * top),
                "{what}: A^({k}) at flat {f}: planned {x:e}, reference {y:e}"
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn planned_f64_kernels_match_exact_rationals_on_dyadic_networks() {
    let mut rng = StdRng::seed_from_u64(15);
    for &(n, depth, order, cubic) in &[
        (1, 3, 5, true),
        (2, 2, 5, false),
        (3, 2, 4, true),
        (2, 4, 3, true),
        (4, 1, 5, false),
        (3, 3, 2, false),
        (5, 2, 1, true),
    ] {
        let mut layers = random_layers(&mut rng, n, depth, 0.2, cubic);
        for (w, b, phi) in &mut layers {
            for v in w
                .iter_mut()
                .chain(b.iter_mut())
                .chain(phi.iter_mut().flatten())
            {
                *v = dyadic(*v);
            }
        }
        let x0: Vec<f64> = (0..n)
            .map(|_| dyadic(rng.random_range(-0.2..0.2)))
            .collect();
        let inn = to_inn(&layers, n);
        let exact = Inn::<BigRational> {
            name: "rand".into(),
            n,
            layers: inn
                .layers
                .iter()
                .map(|l| {
                    let q = |v: &f64| BigRational::from_float(*v).unwrap();
                    InnLayer {
                        w: l.w.iter().map(q).collect(),
                        b: l.b.iter().map(q).collect(),
                        phi: l.phi.iter().map(|p| p.iter().map(q).collect()).collect(),
                    }
                })
                .collect(),
        };
        let x0e: Vec<BigRational> = x0
            .iter()
            .map(|v| BigRational::from_float(*v).unwrap())
            .collect();
        let f = action(&inn, &x0, &opts(order)).unwrap();
        let e = action(&exact, &x0e, &opts(order)).unwrap();
        let want: Vec<Vec<f64>> = e
            .tensors
            .iter()
            .map(|t| {
                t.iter()
                    .map(|v| num_traits::ToPrimitive::to_f64(v).unwrap())
                    .collect()
            })
            .collect();
        // against exact values: 1e-12 relative down to a millionth of the largest entry
        assert_tensors_close(
            &f.tensors,
            &want,
            1e-12,
            1e-6,
            &format!("N={n} L={depth} K={order}"),
        );
        assert!((f.log_const - e.log_const).abs() <= 1e-12 * e.log_const.abs().max(1.0));
    }
}

#[test]
fn planned_f64_kernels_match_the_generic_recursion_on_random_networks() {
    let mut rng = StdRng::seed_from_u64(51);
    let mut checked = 0;
    let mut cases = 0;
    for n in 1..=6usize {
        for depth in 1..=5 {
            for order in 1..=5 {
                // the generic recursion is slow at N^5: keep the dense tensors small
                if n.pow(order as u32) > 8000 {
                    continue;
                }
                let cubic = rng.random_range(0..2) == 1;
                let layers = random_layers(&mut rng, n, depth, 0.25, cubic);
                let inn = to_inn(&layers, n);
                let x0: Vec<f64> = (0..n).map(|_| rng.random_range(-0.3..0.3)).collect();
                let logdet = rng.random_range(0..4) != 0;
                let o = ActionOptions {
                    order,
                    logdet,
                    keep_stages: true,
                    ..Default::default()
                };
                let what = format!("N={n} L={depth} K={order} logdet={logdet}");
                let f = action(&inn, &x0, &o).unwrap();
                let r = action_reference(&inn, &x0, &o).unwrap();
                // both routes round: 1e-12 relative down to a thousandth of the largest entry
                // both routes round: 1e-12 relative down to a thousandth of the largest entry
                checked += assert_tensors_close(&f.tensors, &r.tensors, 1e-12, 1e-3, &what);
                assert_eq!(f.log_const, r.log_const, "{what}");
                // the layer diagrams read the stages: the same on both routes
                let (fs, rs) = (f.stages.unwrap(), r.stages.unwrap());
                assert_eq!(fs.len(), depth + 1);
                for (l, (a, b)) in fs.iter().zip(&rs).enumerate() {
                    assert_tensors_close(a, b, 1e-12, 1e-3, &format!("{what} stage {l}"));
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 6 * 5 * 5);
    assert!(checked > 90_000, "{checked}");
}
