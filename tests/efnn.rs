//! EFNN: the benchmark systems against independent values, the architectures against direct
//! evaluations of their definitions, the coupling readout against planted polynomials.

use std::collections::BTreeMap;
use std::process::Command;

use feynn_studies::efnn::forward::EfnnNet;
use feynn_studies::efnn::readout::{compare, mobius, Expansion};
use feynn_studies::efnn::{Arch, EfnnSpec, Geometry};
use feynn_studies::physics::double_exchange::{uniform_direction, uniform_spins, DoubleExchange};
use feynn_studies::physics::spins::{stream_rng, SpinValues, ThreeSpin};
use ndarray::Array2;
use rand::{Rng, SeedableRng};

const BIN: &str = env!("CARGO_BIN_EXE_feynn");

#[test]
fn ferromagnet_and_neel_golden_energies() {
    // Theory note §3.3: numpy eigh of the authors' Γ.
    let de = DoubleExchange::paper(10);
    let fm = de.energy(&uniform_direction(10, [0.0, 0.0, 1.0]));
    assert!((fm - -67.711774).abs() < 1e-6, "{fm}");
    // Any uniform direction: global spin rotations leave the spectrum unchanged.
    let fm_x = de.energy(&uniform_direction(10, [0.3, -0.8, 0.5]));
    assert!((fm_x - -67.711774).abs() < 1e-6, "{fm_x}");
    let mut neel = uniform_direction(10, [0.0, 0.0, 1.0]);
    for r in 0..100 {
        if (r % 10 + r / 10) % 2 == 1 {
            neel[200 + r] = -1.0;
        }
    }
    let e = de.energy(&neel);
    assert!((e - -10.610596).abs() < 1e-6, "{e}");
}

#[test]
fn uniform_spins_give_two_shifted_tight_binding_bands() {
    // ε = −2t(cos kx + cos ky) ∓ J/2 − μ, k = 2πm/N: the closed form, at N = 2, 3, 4.
    for n in [2usize, 3, 4] {
        let de = DoubleExchange {
            n,
            t: 1.3,
            j: 5.0,
            mu: -0.7,
            temp: 0.2,
        };
        let got = de.eigenvalues(&uniform_direction(n, [1.0, 2.0, -2.0]));
        let mut want = vec![];
        for mx in 0..n {
            for my in 0..n {
                let k = |m: usize| 2.0 * std::f64::consts::PI * m as f64 / n as f64;
                let band = -2.0 * de.t * (k(mx).cos() + k(my).cos());
                want.push(band - de.j / 2.0 - de.mu);
                want.push(band + de.j / 2.0 - de.mu);
            }
        }
        want.sort_by(f64::total_cmp);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-10, "N={n}: {got:?} vs {want:?}");
        }
    }
}

#[test]
fn random_spin_hamiltonian_is_hermitian_and_obeys_sum_rules() {
    let mut rng = stream_rng(5, 0);
    let de = DoubleExchange::paper(3);
    let s = uniform_spins(3, &mut rng);
    for r in 0..9 {
        let len = (s[r].powi(2) + s[9 + r].powi(2) + s[18 + r].powi(2)).sqrt();
        assert!((len - 1.0).abs() < 1e-12);
    }
    let g = de.hamiltonian(&s);
    assert!((&g - g.adjoint()).norm() < 1e-14);
    let eps = de.eigenvalues(&s);
    // Tr Γ = −2N²μ; Tr Γ² = ‖Γ‖_F² = Σ over the entries, built here from the model:
    // diagonal (J/2 Sᶻ ± …)² and hopping 4·2N² t² + 2N²·(J/2)²|S|² off the spin blocks.
    let tr: f64 = eps.iter().sum();
    assert!((tr - -2.0 * 9.0 * de.mu).abs() < 1e-9, "{tr}");
    let tr2: f64 = eps.iter().map(|e| e * e).sum();
    let h = de.j / 2.0;
    let mut want = 0.0;
    for r in 0..9 {
        let sz = s[18 + r];
        want += (-h * sz - de.mu).powi(2) + (h * sz - de.mu).powi(2);
        want += 2.0 * h * h * (s[r].powi(2) + s[9 + r].powi(2));
    }
    want += 2.0 * 9.0 * 4.0 * de.t * de.t; // 4 neighbours per site, both spin blocks
    assert!((tr2 - want).abs() < 1e-8 * want, "{tr2} vs {want}");
    // The grand potential of the spectrum, summed naively (no overflow at these scales).
    let naive: f64 = -de.temp
        * eps
            .iter()
            .map(|e| (1.0 + (-e / de.temp).exp()).ln())
            .sum::<f64>();
    assert!((de.energy(&s) - naive).abs() < 1e-9);
}

#[test]
fn sphere_sampling_is_uniform() {
    // Uniform on the sphere: ⟨Sᶻ⟩ = 0, ⟨(Sᶻ)²⟩ = 1/3, and Sᶻ is uniform on [−1, 1] (the θ ~ U(0, π)
    // sampler of the reference code would give ⟨(Sᶻ)²⟩ = 1/2).
    let mut rng = stream_rng(1, 0);
    let s = uniform_spins(100, &mut rng);
    let z = &s[20000..];
    let m2 = z.iter().map(|v| v * v).sum::<f64>() / z.len() as f64;
    let below = z.iter().filter(|v| **v < -0.5).count() as f64 / z.len() as f64;
    assert!((m2 - 1.0 / 3.0).abs() < 0.01, "{m2}");
    assert!((below - 0.25).abs() < 0.015, "{below}");
}

#[test]
fn three_spin_energy_of_hand_computed_configurations() {
    let m = ThreeSpin {
        sites: 4,
        triplets: feynn_studies::physics::spins::triplets(4),
        couplings: vec![1.0, 2.0, 3.0, 4.0],
    };
    // triplets: 012, 013, 023, 123
    assert_eq!(m.triplets, vec![[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]);
    assert_eq!(m.energy(&[1.0, 1.0, 1.0, 1.0]), -10.0);
    assert_eq!(m.energy(&[1.0, 1.0, 0.0, 1.0]), -2.0);
    assert_eq!(m.energy(&[0.0, 1.0, 1.0, 1.0]), -4.0);
    assert_eq!(m.energy(&[1.0, 1.0, 0.0, 0.0]), 0.0);
    assert_eq!(
        m.energy(&[0.5, -1.0, 2.0, 1.0]),
        -(1.0 * -1.0 + 2.0 * -0.5 + 3.0 * 1.0 + 4.0 * -2.0)
    );
}

/// `feynn efnn data ARGS --quiet -o FILE`, which must succeed.
fn write_data(args: &[&str], file: &std::path::Path) {
    let out = Command::new(BIN)
        .args(["efnn", "data"])
        .args(args)
        .args(["--quiet", "-o"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn three_spin_data_recomputed_and_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("d.npz");
    write_data(&["three-spin", "--samples", "300", "--seed", "3"], &f);
    let d = feynn_studies::data::Dataset::read(&f).unwrap();
    assert_eq!(d.inputs.dim(), (300, 15));
    let meta: serde_json::Value = serde_json::from_str(d.metadata.as_deref().unwrap()).unwrap();
    let j: Vec<f64> = serde_json::from_value(meta["couplings"].clone()).unwrap();
    assert_eq!(j.len(), 455);
    // J ~ N(1, 2²): sample mean and spread
    let mean = j.iter().sum::<f64>() / 455.0;
    let sd = (j.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 455.0).sqrt();
    assert!(
        (mean - 1.0).abs() < 0.3 && (sd - 2.0).abs() < 0.3,
        "{mean} {sd}"
    );
    // Every label recomputed by a plain triple loop over i < j < k (lexicographic).
    for (row, e) in d.inputs.rows().into_iter().zip(d.targets.iter()) {
        assert!(row.iter().all(|v| *v == 0.0 || *v == 1.0));
        let (mut t, mut want) = (0, 0.0);
        for a in 0..15 {
            for b in a + 1..15 {
                for c in b + 1..15 {
                    want -= j[t] * row[a] * row[b] * row[c];
                    t += 1;
                }
            }
        }
        assert!((want - e).abs() < 1e-12);
    }
    // The same seed gives the same set; the library draws the same couplings.
    let m = ThreeSpin::random(15, 1.0, 2.0, 3);
    assert_eq!(m.couplings, j);
    let again = feynn_studies::efnn::datasets::three_spin(&m, SpinValues::Binary, 300, 3, false);
    assert_eq!(again.inputs, d.inputs);
    let cont = feynn_studies::efnn::datasets::three_spin(&m, SpinValues::Continuous, 50, 3, false);
    assert!(cont.inputs.iter().all(|v| (-1.0..1.0).contains(v)));
    assert!((cont.targets[7] - m.energy(cont.inputs.row(7).as_slice().unwrap())).abs() < 1e-12);
}

#[test]
fn double_exchange_data_cli() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("de.npz");
    write_data(&["double-exchange", "--size", "3", "--samples", "4"], &f);
    let d = feynn_studies::data::Dataset::read(&f).unwrap();
    assert_eq!(d.inputs.dim(), (4, 27));
    let de = DoubleExchange::paper(3);
    for (row, e) in d.inputs.rows().into_iter().zip(d.targets.iter()) {
        assert!((de.energy(row.as_slice().unwrap()) - e).abs() < 1e-10);
    }
    // Bad input: exit code 2 with a message, no panic.
    let bad = Command::new(BIN)
        .args(["efnn", "data", "double-exchange", "--size", "1", "-o"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--size 1"));
}

#[test]
fn mobius_recovers_a_planted_polynomial_exactly() {
    // f(s) = 0.5 − 2 s0 + 3 s1 s4 − 1.25 s0 s2 s3 + 0.75 s1 s2 s3 s4 s5 on {0,1}^6
    let f = |s: &[f64]| {
        0.5 - 2.0 * s[0] + 3.0 * s[1] * s[4] - 1.25 * s[0] * s[2] * s[3]
            + 0.75 * s[1] * s[2] * s[3] * s[4] * s[5]
    };
    let e = Expansion::of(6, |x| {
        Ok(x.rows()
            .into_iter()
            .map(|r| f(r.as_slice().unwrap()))
            .collect())
    })
    .unwrap();
    let mut want = vec![0.0; 64];
    want[0] = 0.5;
    want[0b1] = -2.0;
    want[0b10010] = 3.0;
    want[0b1101] = -1.25;
    want[0b111110] = 0.75;
    assert_eq!(e.coefficients, want);
    assert_eq!(e.coefficient(&[4, 1]), 3.0);
    // In-place inversion of a hand-made table: f = s0 s1 has values [0, 0, 0, 1].
    let mut v = vec![0.0, 0.0, 0.0, 1.0];
    mobius(&mut v);
    assert_eq!(v, vec![0.0, 0.0, 0.0, 1.0]);
    let mut v = vec![1.0, 1.0, 1.0, 1.0];
    mobius(&mut v);
    assert_eq!(v, vec![1.0, 0.0, 0.0, 0.0]);
}

#[test]
fn readout_of_the_true_energy_recovers_the_couplings() {
    let m = ThreeSpin::random(10, 1.0, 2.0, 9);
    let e = Expansion::of(10, |x| {
        Ok(x.rows()
            .into_iter()
            .map(|r| m.energy(r.as_slice().unwrap()))
            .collect())
    })
    .unwrap();
    let rep = compare(&e, &m);
    assert!(rep.relative_error < 1e-12, "{}", rep.relative_error);
    assert!((rep.correlation - 1.0).abs() < 1e-12);
    for (k, rms, _) in &rep.rms_by_order {
        if *k != 3 {
            assert!(*rms < 1e-12, "order {k}: {rms}");
        }
    }
    // A wrong coupling set is caught.
    let mut wrong = m.clone();
    wrong.couplings[5] += 1.0;
    assert!(compare(&e, &wrong).relative_error > 1e-3);
    // The Walsh–Fourier route: −8 w_ijk = J_ijk; 2^k w_A vanishes above order 3 (pure 3-body)
    let w = feynn_studies::efnn::readout::compare_walsh(&e, &m);
    assert!(w.relative_error < 1e-12, "{}", w.relative_error);
    for (k, rms, _) in &w.rms_by_order {
        if *k > 3 {
            assert!(*rms < 1e-12, "order {k}: {rms}");
        }
    }
    assert!(feynn_studies::efnn::readout::compare_walsh(&e, &wrong).relative_error > 1e-3);
}

fn dense(arch: Arch, l: usize, w: usize, n: usize) -> EfnnSpec {
    EfnnSpec::new(
        "t",
        arch,
        Geometry::Dense {
            inputs: l,
            width: w,
        },
        n,
    )
    .unwrap()
}

#[test]
fn parameter_counts_match_the_theory_note_table() {
    // Theory note §5.4 (computed there from the PyTorch layer definitions).
    let fc = [
        (15, 1, [960, 960, 480, 480]),
        (60, 1, [9240, 11940, 5580, 4620]),
        (150, 1, [50100, 70350, 27450, 25050]),
        (15, 3, [2880, 2880, 1440, 2115]),
        (60, 3, [33120, 41220, 20220, 24660]),
        (150, 3, [190800, 251550, 118050, 142650]),
    ];
    for (m, n, counts) in fc {
        for (a, c) in Arch::ALL.iter().zip(counts) {
            assert_eq!(
                dense(*a, 15, m, n).parameter_count(),
                c,
                "{a:?} M={m} n={n}"
            );
        }
    }
    let conv = [
        (3, 1, [1288, 1138, 832, 907]),
        (3, 2, [2350, 2050, 1288, 1663]),
        (3, 3, [3412, 2962, 1744, 2644]),
        (9, 3, [26434, 25084, 13330, 20080]),
    ];
    for (c, n, counts) in conv {
        for (a, want) in Arch::ALL.iter().zip(counts) {
            let s = EfnnSpec::new(
                "t",
                *a,
                Geometry::Conv {
                    channels: c,
                    kernel: 5,
                },
                n,
            )
            .unwrap();
            assert_eq!(s.parameter_count(), want, "{a:?} C={c} n={n}");
        }
    }
}

fn mat(net: &EfnnNet, name: &str) -> Array2<f64> {
    let t = &net.tensors[name];
    Array2::from_shape_vec((t.shape[0], t.shape[1]), t.data.clone()).unwrap()
}

#[test]
fn dense_efnn_is_its_continued_function() {
    // E = 1ᵀ[g_n(S0) ⊙ f_{n−1}(… g_1(S0) ⊙ f_0(S0))], each block Linear → tanh → Linear,
    // evaluated here with explicit loops over neurons.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    for n in 1..=3 {
        let net = EfnnNet::random(dense(Arch::Efnn, 5, 7, n), &mut rng);
        let mlp = |name: &str, x: &[f64]| -> Vec<f64> {
            let (w0, w2) = (
                mat(&net, &format!("{name}.0.weight")),
                mat(&net, &format!("{name}.2.weight")),
            );
            let (b0, b2) = (
                &net.tensors[&format!("{name}.0.bias")].data,
                &net.tensors[&format!("{name}.2.bias")].data,
            );
            let h: Vec<f64> = (0..w0.nrows())
                .map(|i| (b0[i] + (0..x.len()).map(|j| w0[[i, j]] * x[j]).sum::<f64>()).tanh())
                .collect();
            (0..w2.nrows())
                .map(|i| b2[i] + (0..h.len()).map(|j| w2[[i, j]] * h[j]).sum::<f64>())
                .collect()
        };
        let x = Array2::from_shape_fn((6, 5), |_| rng.random_range(-1.0..1.0));
        let got = net.energies(&x).unwrap();
        for (r, row) in x.rows().into_iter().enumerate() {
            let s0 = row.to_vec();
            let mut s = s0.clone();
            for i in 1..=n {
                let f = mlp(&format!("f{}", i - 1), &s);
                let g = mlp(&format!("g{i}"), &s0);
                s = f.iter().zip(&g).map(|(a, b)| a * b).collect();
            }
            let want: f64 = s.iter().sum();
            assert!((got[r] - want).abs() < 1e-12, "n={n}: {} vs {want}", got[r]);
        }
    }
}

fn rotate(spins: &[f64], n: usize, dx: usize, dy: usize) -> Vec<f64> {
    let s = n * n;
    let mut out = vec![0.0; 3 * s];
    for a in 0..3 {
        for y in 0..n {
            for x in 0..n {
                out[a * s + ((y + dy) % n) * n + (x + dx) % n] = spins[a * s + y * n + x];
            }
        }
    }
    out
}

#[test]
fn lattice_models_are_translation_and_rotation_invariant_and_extensive() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
    for arch in Arch::ALL {
        let spec = EfnnSpec::new(
            "t",
            arch,
            Geometry::Conv {
                channels: 2,
                kernel: 3,
            },
            2,
        )
        .unwrap();
        let net = EfnnNet::random(spec, &mut rng);
        for n in [4usize, 5] {
            let s = uniform_spins(n, &mut rng);
            let shifted = rotate(&s, n, 1, 3);
            // a global O(3) rotation: z ↦ −z, (x, y) ↦ (y, −x) is orthogonal
            let sites = n * n;
            let mut rot = s.clone();
            for r in 0..sites {
                rot[r] = s[sites + r];
                rot[sites + r] = -s[r];
                rot[2 * sites + r] = -s[2 * sites + r];
            }
            let x =
                Array2::from_shape_vec((3, 3 * sites), [s.clone(), shifted, rot].concat()).unwrap();
            let e = net.energies(&x).unwrap();
            assert!(
                (e[0] - e[1]).abs() < 1e-10 * e[0].abs().max(1.0),
                "{arch:?} N={n} translation: {e}"
            );
            assert!(
                (e[0] - e[2]).abs() < 1e-10 * e[0].abs().max(1.0),
                "{arch:?} N={n} rotation: {e}"
            );
        }
        // A uniform configuration: every site sees the same neighbourhood, so E ∝ N².
        let e4 = net
            .energies(
                &Array2::from_shape_vec((1, 48), uniform_direction(4, [0.0, 0.6, 0.8])).unwrap(),
            )
            .unwrap()[0];
        let e6 = net
            .energies(
                &Array2::from_shape_vec((1, 108), uniform_direction(6, [0.0, 0.6, 0.8])).unwrap(),
            )
            .unwrap()[0];
        assert!(
            (e6 / 36.0 - e4 / 16.0).abs() < 1e-10 * e4.abs().max(1.0),
            "{arch:?}: {e4} {e6}"
        );
    }
}

#[test]
fn efnn_specs_parse_and_report_errors_with_locations() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.fnn");
    std::fs::write(&p, "efnn a { arch dnn input 15 width 30 depth 2 }\nefnn b {\n  input lattice\n  channels 3\n  depth 3\n  weights \"b.safetensors\"\n}\n").unwrap();
    let all = feynn_studies::efnn::spec::load_efnns(&p).unwrap();
    assert_eq!(all[0].arch, Arch::Dnn);
    assert_eq!(
        all[0].geometry,
        Geometry::Dense {
            inputs: 15,
            width: 30
        }
    );
    assert_eq!(
        all[1].geometry,
        Geometry::Conv {
            channels: 3,
            kernel: 5
        }
    );
    assert_eq!(
        all[1].weights_file.as_deref(),
        Some(dir.path().join("b.safetensors").as_path())
    );
    // an unknown block name is an error naming the blocks there
    let out = Command::new(BIN)
        .args(["efnn", "eval"])
        .arg(&p)
        .args(["--model", "nope", "--data", "x.npz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("efnn models there: a, b"));
    for (text, needle) in [
        (
            "efnn a {\n  arch cnn\n  input 15 width 3 depth 1 }",
            "m.fnn:2:3",
        ),
        ("efnn a {\n  input 15\n  channels 3 depth 1 }", "m.fnn:3:3"),
        (
            "efnn a { input lattice channels 3\n kernel 4 depth 1 }",
            "kernel 4 is even",
        ),
        ("efnn a { input 15 width 3 }", "no `depth`"),
        ("efnn a { input 15 width 3 depth 1 depth 2 }", "given twice"),
    ] {
        std::fs::write(&p, text).unwrap();
        let out = Command::new(BIN)
            .args(["efnn", "eval"])
            .arg(&p)
            .args(["--data", "x.npz"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{text}: {err}");
    }
}

#[test]
fn weights_of_another_spec_are_refused() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let net = EfnnNet::random(dense(Arch::Efnn, 15, 8, 2), &mut rng);
    let other = dense(Arch::Efnn, 15, 9, 2);
    assert!(EfnnNet::new(other, net.tensors.clone()).is_err());
    let mut t: BTreeMap<_, _> = net.tensors.clone();
    t.remove("g2.2.bias");
    let err = EfnnNet::new(dense(Arch::Efnn, 15, 8, 2), t).unwrap_err();
    assert!(err.to_string().contains("g2.2.bias"));
    // wrong input width at evaluation
    assert!(net.energies(&Array2::zeros((2, 14))).is_err());
}

// ---------------------------------------------------------------------------------------------
// The Taylor route (src/efnn/taylor.rs)

use feynn_studies::efnn::taylor::{compare_taylor, three_spin_series, TaylorExpansion};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn taylor_route_recovers_the_planted_couplings_at_any_point() {
    // The true energy −Σ J_ijk s_i s_j s_k is cubic and multilinear: its mixed third derivatives
    // are −J_ijk at every point; the lower ones follow from the couplings by hand (loops below,
    // not series arithmetic), and nothing has a repeated index.
    let l = 8;
    let m = ThreeSpin::random(l, 1.0, 2.0, 21);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let random: Vec<f64> = (0..l).map(|_| rng.random_range(-1.0..1.0)).collect();
    for point in [vec![0.0; l], vec![0.5; l], random] {
        let e = TaylorExpansion::of(&point, 3, 1, |b, s| Ok(three_spin_series(&m, b, &s))).unwrap();
        assert!(close(e.coefficients[0], m.energy(&point), 1e-12));
        let mut c1 = vec![0.0; l];
        let mut c2 = vec![vec![0.0; l]; l];
        for ([i, j, k], jv) in m.triplets.iter().zip(&m.couplings) {
            let (i, j, k) = (*i, *j, *k);
            assert!(close(e.get(&[k, i, j]).unwrap(), -jv, 1e-12));
            c2[i][j] -= jv * point[k];
            c2[i][k] -= jv * point[j];
            c2[j][k] -= jv * point[i];
            c1[i] -= jv * point[j] * point[k];
            c1[j] -= jv * point[i] * point[k];
            c1[k] -= jv * point[i] * point[j];
        }
        for i in 0..l {
            assert!(close(e.get(&[i]).unwrap(), c1[i], 1e-12), "c_{i}");
            for (j, want) in c2[i].iter().enumerate().skip(i + 1) {
                assert!(close(e.get(&[i, j]).unwrap(), *want, 1e-12), "c_{i}{j}");
            }
        }
        let ((_, _), (rep2, _)) = e.rms_of_degree(2);
        let ((_, _), (rep3, _)) = e.rms_of_degree(3);
        assert_eq!((rep2, rep3), (0.0, 0.0));
        let r = compare_taylor(&e, &m).unwrap();
        assert!(r.report.relative_error < 1e-12);
        assert!((r.report.correlation - 1.0).abs() < 1e-12);
        assert_eq!(r.couplings.c3.len(), 56);
        let mut wrong = m.clone();
        wrong.couplings[5] += 1.0;
        assert!(compare_taylor(&e, &wrong).unwrap().report.relative_error > 1e-3);
    }
}

/// The Taylor expansion to order 3 at `point` of Σ c_A Π_{i∈A} s_i, by series products.
fn expand_terms(terms: &[(Vec<usize>, f64)], point: &[f64]) -> TaylorExpansion {
    TaylorExpansion::of(point, 3, 1, |b, s| {
        let mut out = vec![0.0; b.len()];
        for (a, c) in terms {
            let mut p = vec![0.0; b.len()];
            p[0] = *c;
            for &i in a {
                p = b.mul_series(&p, &s.row(i).to_vec());
            }
            out.iter_mut().zip(&p).for_each(|(o, v)| *o += v);
        }
        Ok(out)
    })
    .unwrap()
}

#[test]
fn taylor_and_walsh_routes_agree_on_a_multilinear_polynomial() {
    // A planted multilinear polynomial with 0- to 4-body terms on 6 spins. The exact (walsh)
    // expansion gives its coefficients c_A; the Taylor route at s0 must give the mixed
    // derivatives ∂_A E(s0) = Σ_{B ⊇ A} c_B Π_{l ∈ B∖A} s0_l, including the 4-body term's share.
    let terms: Vec<(Vec<usize>, f64)> = vec![
        (vec![], 0.5),
        (vec![0], -2.0),
        (vec![1, 4], 3.0),
        (vec![0, 2, 3], -1.25),
        (vec![1, 2, 5], 0.5),
        (vec![1, 2, 4, 5], 0.75),
    ];
    let eval = |s: &[f64]| -> f64 {
        terms
            .iter()
            .map(|(a, c)| c * a.iter().map(|&i| s[i]).product::<f64>())
            .sum()
    };
    let walsh = Expansion::of(6, |x| {
        Ok(x.rows()
            .into_iter()
            .map(|r| eval(r.as_slice().unwrap()))
            .collect())
    })
    .unwrap();
    let point = [0.3, -0.7, 0.5, 1.0, 0.2, -0.4];
    let e = expand_terms(&terms, &point);
    for mask in 0usize..64 {
        let a: Vec<usize> = (0..6).filter(|i| mask >> i & 1 == 1).collect();
        if a.len() > 3 {
            continue;
        }
        let want: f64 = (0usize..64)
            .filter(|b| b & mask == mask)
            .map(|b| {
                walsh.coefficients[b]
                    * (0..6)
                        .filter(|i| (b & !mask) >> i & 1 == 1)
                        .map(|i| point[i])
                        .product::<f64>()
            })
            .sum();
        assert!(close(e.get(&a).unwrap(), want, 1e-12), "{a:?}");
    }
    // The Walsh–Fourier coefficients: by definition, w_A = 2^−L Σ_s f(s) Π_{i∈A} (2s_i − 1)
    // (a direct sum, not the transform under test), and 2^|A| w_A = Taylor derivative at ½.
    let w = walsh.walsh();
    assert_eq!(w.len(), 64);
    for (mask, wv) in w.iter().enumerate() {
        let direct: f64 = (0usize..64)
            .map(|c| {
                let s: Vec<f64> = (0..6).map(|i| (c >> i & 1) as f64).collect();
                let sign: f64 = (0..6)
                    .filter(|i| mask >> i & 1 == 1)
                    .map(|i| 2.0 * s[i] - 1.0)
                    .product();
                eval(&s) * sign
            })
            .sum::<f64>()
            / 64.0;
        assert!(close(*wv, direct, 1e-13), "w[{mask:b}]");
    }
    let half = expand_terms(&terms, &[0.5; 6]);
    assert!(close(
        half.get(&[1, 2, 5]).unwrap(),
        8.0 * w[0b100110],
        1e-13
    ));
    assert!(close(half.get(&[1, 4]).unwrap(), 4.0 * w[0b10010], 1e-13));
    // at s0 = 0 the Taylor coefficients are the Möbius ones
    let e0 = expand_terms(&terms, &[0.0; 6]);
    assert_eq!(e0.get(&[1, 2, 5]).unwrap(), walsh.coefficient(&[1, 2, 5]));
    assert_eq!(e0.get(&[4, 1]).unwrap(), 3.0);
}

/// ∂^α E at `point` by tensor-product central differences with step h (error O(h²)).
fn finite_difference(net: &EfnnNet, point: &[f64], alpha: &[usize], h: f64) -> f64 {
    // stencils (offset in units of h, weight) for the 1st, 2nd, 3rd derivative
    let stencil = |m: usize| -> Vec<(f64, f64)> {
        match m {
            1 => vec![(1.0, 0.5), (-1.0, -0.5)],
            2 => vec![(1.0, 1.0), (0.0, -2.0), (-1.0, 1.0)],
            3 => vec![(2.0, 0.5), (1.0, -1.0), (-1.0, 1.0), (-2.0, -0.5)],
            _ => unreachable!(),
        }
    };
    let mut vars: Vec<(usize, usize)> = vec![];
    for &i in alpha {
        match vars.iter_mut().find(|v| v.0 == i) {
            Some(v) => v.1 += 1,
            None => vars.push((i, 1)),
        }
    }
    let mut pts: Vec<(Vec<f64>, f64)> = vec![(point.to_vec(), 1.0)];
    for (i, m) in vars {
        pts = pts
            .into_iter()
            .flat_map(|(p, w)| {
                stencil(m).into_iter().map(move |(o, sw)| {
                    let mut q = p.clone();
                    q[i] += o * h;
                    (q, w * sw)
                })
            })
            .collect();
    }
    let x = Array2::from_shape_fn((pts.len(), point.len()), |(r, c)| pts[r].0[c]);
    let e = net.energies(&x).unwrap();
    e.iter().zip(&pts).map(|(v, p)| v * p.1).sum::<f64>() / h.powi(alpha.len() as i32)
}

#[test]
fn taylor_route_matches_finite_differences_of_the_forward_pass() {
    // Independent truth: the ndarray forward pass (f64) differentiated numerically, Richardson-
    // extrapolated (4 D(h/2) − D(h))/3, for every coefficient of order ≤ 3, every fully
    // connected architecture, depths 1 and 2, with input standardisation and output scaling.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
    let l = 4;
    for arch in Arch::ALL {
        for depth in [1, 2] {
            let mut net = EfnnNet::random(dense(arch, l, 5, depth), &mut rng);
            let mut vec = |name: &str, data: Vec<f64>| {
                net.tensors.insert(
                    name.into(),
                    feynn::model::weights::Tensor {
                        shape: vec![data.len()],
                        data,
                    },
                );
            };
            vec("scale.x_mean", (0..l).map(|i| 0.1 * i as f64).collect());
            vec(
                "scale.x_std",
                (0..l).map(|i| 0.5 + 0.2 * i as f64).collect(),
            );
            vec("scale.y", vec![3.0, -1.5]);
            let point: Vec<f64> = (0..l).map(|_| rng.random_range(-1.0..1.0)).collect();
            let e = TaylorExpansion::of_net(&net, &point, 3).unwrap();
            let scale = e.coefficients.iter().fold(1.0f64, |a, v| a.max(v.abs()));
            for (m, c) in e.basis.monomials.iter().zip(&e.coefficients).skip(1) {
                let alpha: Vec<usize> = m.iter().map(|&i| i as usize).collect();
                let h = 0.02;
                let d = (4.0 * finite_difference(&net, &point, &alpha, h / 2.0)
                    - finite_difference(&net, &point, &alpha, h))
                    / 3.0;
                let fact = feynn::numeric::Basis::alpha_factorial(m);
                assert!(
                    (c - d / fact).abs() < 1e-6 * scale,
                    "{arch:?} n={depth} α={m:?}: taylor {c} vs finite differences {}",
                    d / fact
                );
            }
            let x = Array2::from_shape_vec((1, l), point.clone()).unwrap();
            assert!((e.coefficients[0] - net.energies(&x).unwrap()[0]).abs() < 1e-12 * scale);
        }
    }
}

#[test]
fn taylor_route_refuses_lattice_models_and_bad_points() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    let conv = EfnnSpec::new(
        "c",
        Arch::Efnn,
        Geometry::Conv {
            channels: 2,
            kernel: 3,
        },
        1,
    )
    .unwrap();
    let net = EfnnNet::random(conv, &mut rng);
    assert!(TaylorExpansion::of_net(&net, &[0.0; 12], 3)
        .unwrap_err()
        .to_string()
        .contains("fully connected"));
    let net = EfnnNet::random(dense(Arch::Dnn, 4, 3, 1), &mut rng);
    assert!(TaylorExpansion::of_net(&net, &[0.0; 3], 3).is_err());
    assert!(TaylorExpansion::of_net(&net, &[0.0, f64::NAN, 0.0, 0.0], 3).is_err());
}

#[test]
fn couplings_cli_both_routes() {
    // A random EFNN on 6 spins, written to safetensors; the CLI's two routes equal the library's.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let net = EfnnNet::random(dense(Arch::Efnn, 6, 4, 2), &mut rng);
    feynn::model::weights::write_safetensors(&d.join("m.safetensors"), &net.tensors).unwrap();
    std::fs::write(
        d.join("m.fnn"),
        "efnn m { arch efnn input 6 width 4 depth 2 weights \"m.safetensors\" }\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .current_dir(d)
            .args(args)
            .output()
            .unwrap()
    };
    for (sys, file) in [("three-spin", "b.npz"), ("continuous", "c.npz")] {
        let o = run(&[
            "efnn",
            "data",
            sys,
            "--sites",
            "6",
            "--samples",
            "40",
            "--quiet",
            "-o",
            file,
        ]);
        assert!(o.status.success());
    }
    let o = run(&[
        "efnn",
        "couplings",
        "m.fnn",
        "--data",
        "b.npz",
        "--route",
        "all",
        "--at",
        "mean",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let data = feynn_studies::data::Dataset::read(&d.join("b.npz")).unwrap();
    let mean = data.inputs.mean_axis(ndarray::Axis(0)).unwrap().to_vec();
    let e = TaylorExpansion::of_net(&net, &mean, 3).unwrap();
    let c3 = v["taylor"]["couplings"]["c3"].as_array().unwrap();
    assert_eq!(c3.len(), 20);
    assert!((c3[7].as_f64().unwrap() - e.get(&[0, 3, 4]).unwrap()).abs() < 1e-12);
    let w = Expansion::of(6, |x| net.energies(x)).unwrap();
    let lm = v["mobius"]["learned"].as_array().unwrap();
    assert!((lm[7].as_f64().unwrap() + w.coefficient(&[0, 3, 4])).abs() < 1e-12);
    let lw = v["walsh"]["learned"].as_array().unwrap();
    assert!((lw[7].as_f64().unwrap() + 8.0 * w.walsh()[0b11001]).abs() < 1e-12);
    for pair in ["mobius-walsh", "mobius-taylor", "walsh-taylor"] {
        assert!(v["correlation_between_routes"][pair]
            .as_f64()
            .unwrap()
            .is_finite());
    }
    // continuous spins: taylor works, walsh is refused with exit code 2
    let o = run(&[
        "efnn",
        "couplings",
        "m.fnn",
        "--data",
        "c.npz",
        "--route",
        "taylor",
        "--json",
    ]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["route"], "taylor");
    assert!(v["correlation"].as_f64().unwrap().is_finite());
    for route in ["mobius", "walsh"] {
        let o = run(&[
            "efnn",
            "couplings",
            "m.fnn",
            "--data",
            "c.npz",
            "--route",
            route,
        ]);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("not 0/1"));
    }
    // --route all on continuous spins: the Taylor route alone
    let o = run(&[
        "efnn",
        "couplings",
        "m.fnn",
        "--data",
        "c.npz",
        "--route",
        "all",
        "--json",
    ]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["walsh"].is_null() && v["taylor"]["correlation"].is_f64());
    let o = run(&[
        "efnn",
        "couplings",
        "m.fnn",
        "--data",
        "b.npz",
        "--route",
        "sideways",
    ]);
    assert_eq!(o.status.code(), Some(2));
    // eval on the last rows only (the paper's test split), and an index past the end
    let o = run(&[
        "efnn",
        "eval",
        "m.fnn",
        "--data",
        "b.npz",
        "--test-from",
        "30",
        "--json",
    ]);
    assert!(o.status.success());
    let o = run(&[
        "efnn",
        "eval",
        "m.fnn",
        "--data",
        "b.npz",
        "--test-from",
        "40",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--test-from 40"));
}

#[test]
fn paper_length_example_has_the_theory_note_sizes() {
    let specs = feynn_studies::efnn::spec::load_efnns(std::path::Path::new(concat!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../.."),
        "/examples/efnn/paper_length.fnn"
    )))
    .unwrap();
    let counts: Vec<usize> = specs.iter().map(|s| s.parameter_count()).collect();
    // §5.4's table: EFNN M=15 n=1 960, M=150 n=3 190,800, M=15 n=3 2,880, M=60 n=1 9,240; DNN
    // M=150 n=3 251,550; M=30 n=1, 2, 3 from its formula n(LM+M²+2M) + (LM+M²+2M) + 2(n−1)(M²+M)
    assert_eq!(
        counts,
        vec![960, 6090, 190_800, 251_550, 2880, 2820, 9360, 9240]
    );
}
