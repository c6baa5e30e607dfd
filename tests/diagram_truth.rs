//! Diagrams against truth from outside the library.
//!
//! (a) Labelled diagrams, valued by `Propagators::diagram_value`, sum to ∂^α y (dual numbers).
//! (b) The per-topology attribution of every order sums to the coefficients.
//! (c) Unlabelled topologies weighted 1/|Aut|, contracted with a displacement h by the test's
//!     own code from the propagator matrices and vertex vectors, give the Taylor polynomial.
//!     The propagators and vertices themselves are checked against dual-number Jacobians.
//! (d) Diagram counts against known integer sequences (Bell numbers, OEIS A000258, A000307,
//!     integer partitions) and against an independent Stirling-number composition.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use common::dual::{Dual, Scalar, D4};
use common::*;
use feynn::diagrams::{for_each_labelled, labelled_counts, unlabelled, unlabelled_counts, Node};
use feynn::numeric::attribution::attribute;
use feynn::numeric::{Expander, Options, Propagators};
use num_bigint::BigUint;

fn labelled_list(n: usize, h: usize, out: bool) -> Vec<Node> {
    let mut v = Vec::new();
    for_each_labelled(n, h, out, |d| {
        v.push(d.clone());
        ControlFlow::Continue(())
    });
    v
}

/// The networks the diagram tests run on: H = 1, 2, 3, with and without output activation.
fn nets() -> Vec<(String, RefNet, Vec<f64>)> {
    let mut v = Vec::new();
    type Case = (u64, usize, Vec<(usize, Act)>, Option<Act>);
    let cases: [Case; 6] = [
        (201, 3, vec![(4, Act::Tanh)], None),
        (202, 2, vec![(3, Act::Softplus), (4, Act::Gelu)], None),
        (
            203,
            3,
            vec![(3, Act::Sin), (2, Act::Silu), (4, Act::Tanh)],
            None,
        ),
        (204, 2, vec![(3, Act::Tanh)], Some(Act::Sigmoid)),
        (
            205,
            3,
            vec![(4, Act::Quad), (3, Act::Sigmoid)],
            Some(Act::Sigmoid),
        ),
        (
            206,
            2,
            vec![(2, Act::LogOnePlusExp), (3, Act::Tanh), (2, Act::Gelu)],
            Some(Act::Tanh),
        ),
    ];
    for (seed, d, hidden, out) in cases {
        let r = RefNet::random(seed, d, &hidden, 2, out);
        let x0 = random_vec(seed + 1, d, 0.7);
        v.push((
            format!("seed {seed} H={} out_act={}", hidden.len(), out.is_some()),
            r,
            x0,
        ));
    }
    v
}

#[test]
fn labelled_diagrams_sum_to_the_derivatives() {
    for (label, r, x0) in nets() {
        let net = r.network();
        let props = Propagators::new(&net, &x0, 4).unwrap();
        for n in 1..=4 {
            let diagrams = labelled_list(n, r.hidden_layers(), r.output_activation());
            let alphas = multi_indices(r.inputs, n);
            let truth: Vec<Vec<f64>> = alphas.iter().map(|a| r.derivative(&x0, a)).collect();
            for o in 0..r.outputs() {
                let want: Vec<f64> = truth.iter().map(|t| t[o]).collect();
                let got: Vec<f64> = alphas
                    .iter()
                    .map(|a| diagrams.iter().map(|d| props.diagram_value(d, o, a)).sum())
                    .collect();
                let scale = max_abs(&want).max(1e-300);
                assert_close_scaled(
                    &got,
                    &want,
                    1e-10,
                    scale,
                    &format!("{label}: Σ labelled diagrams, order {n}, output {o}"),
                );
            }
        }
    }
}

#[test]
fn labelled_diagrams_orders_5_and_6_match_the_expansion() {
    // Beyond the dual oracle's order 4: diagrams against the Taylor-mode coefficients, which
    // the numeric tests tie to the duals at orders ≤ 4.
    for (label, r, x0) in nets().into_iter().filter(|(_, r, _)| r.inputs == 2) {
        let net = r.network();
        let props = Propagators::new(&net, &x0, 6).unwrap();
        let ex = Expander::new(
            &net,
            &Options {
                order: 6,
                ..Options::default()
            },
        )
        .unwrap();
        let e = ex.expand(&x0).unwrap();
        for n in 5..=6 {
            let diagrams = labelled_list(n, r.hidden_layers(), r.output_activation());
            for o in 0..r.outputs() {
                let alphas = multi_indices(2, n);
                let want: Vec<f64> = alphas
                    .iter()
                    .map(|a| e.get(&ex.basis, o, a).unwrap() * alpha_factorial(a))
                    .collect();
                let got: Vec<f64> = alphas
                    .iter()
                    .map(|a| diagrams.iter().map(|d| props.diagram_value(d, o, a)).sum())
                    .collect();
                assert_close_scaled(
                    &got,
                    &want,
                    1e-10,
                    max_abs(&want).max(1e-300),
                    &format!("{label}: order {n} output {o}"),
                );
            }
        }
    }
}

#[test]
fn propagators_and_vertices_are_jacobians_and_activation_derivatives() {
    for (label, r, x0) in nets() {
        let net = r.network();
        let props = Propagators::new(&net, &x0, 4).unwrap();
        let big_l = r.layers.len();
        assert_eq!(props.layers, big_l);
        // Plain forward pass: a^(m) at x0 and z^(l).
        let zs = r.pre_activations_from(0, &x0);
        let act_of = |l: usize, z: f64| -> f64 { r.layers[l - 1].act.map_or(z, |a| a.apply(&z)) };
        for m in 0..big_l {
            let a_m: Vec<f64> = if m == 0 {
                x0.clone()
            } else {
                zs[m - 1].iter().map(|&z| act_of(m, z)).collect()
            };
            for j in 0..a_m.len() {
                // Seed a^(m)_j: every z^(l), l > m, carries ∂z^(l)/∂a^(m)_j in its ε part.
                let a: Vec<Dual<f64>> = a_m
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| Dual::var(v, &[(k == j) as u8 as f64]))
                    .collect();
                let z = r.pre_activations_from(m, &a);
                for l in m + 1..=big_l {
                    let dlm = &props.d[l][m];
                    assert_eq!(
                        dlm.shape(),
                        [r.layers[l - 1].b.len(), a_m.len()],
                        "{label}: shape of D^({l},{m})"
                    );
                    for k in 0..dlm.nrows() {
                        let want = z[l - m - 1][k].part(&[true]);
                        let got = dlm[[k, j]];
                        assert!(
                            (got - want).abs() <= 1e-12 * (1.0 + want.abs()),
                            "{label}: D^({l},{m})[{k},{j}] = {got}, want {want}"
                        );
                    }
                }
            }
        }
        // Vertices: v[l][k] = f_l^(k)(z^(l)).
        for l in 1..=big_l {
            let Some(act) = r.layers[l - 1].act else {
                continue;
            };
            for (j, &z) in zs[l - 1].iter().enumerate() {
                for k in 0..=4 {
                    let dirs: Vec<f64> = (0..4).map(|s| (s < k) as u8 as f64).collect();
                    let mask: Vec<bool> = (0..4).map(|s| s < k).collect();
                    let want = act.apply(&D4::var(z, &dirs)).part(&mask);
                    let got = props.v[l][k][j];
                    assert!(
                        (got - want).abs() <= 1e-12 * (1.0 + want.abs()),
                        "{label}: f_{l}^({k})(z_{j}) = {got}, want {want}"
                    );
                }
            }
        }
    }
}

#[test]
fn attribution_sums_to_the_coefficients() {
    for (label, r, x0) in nets() {
        let net = r.network();
        let ex = Expander::new(
            &net,
            &Options {
                order: 5,
                ..Options::default()
            },
        )
        .unwrap();
        let e = ex.expand(&x0).unwrap();
        for n in 1..=5 {
            let alphas: Vec<Vec<u32>> = ex
                .basis
                .monomials
                .iter()
                .filter(|m| m.len() == n)
                .cloned()
                .collect();
            for o in 0..r.outputs() {
                let parts = attribute(&net, &x0, n, &ex.basis, o).unwrap();
                let topos = unlabelled(n, r.hidden_layers(), r.output_activation());
                assert_eq!(parts.len(), topos.len(), "{label}: one part per topology");
                for ((t, c), u) in parts.iter().zip(&topos) {
                    assert_eq!(t, u, "{label}: attribution follows `unlabelled` order");
                    assert_eq!(c.len(), alphas.len());
                }
                let got: Vec<f64> = (0..alphas.len())
                    .map(|k| parts.iter().map(|(_, c)| c[k]).sum())
                    .collect();
                // Against the expansion, and for n ≤ 4 against the duals.
                let want: Vec<f64> = alphas
                    .iter()
                    .map(|a| e.get(&ex.basis, o, a).unwrap())
                    .collect();
                assert_close_scaled(
                    &got,
                    &want,
                    1e-10,
                    max_abs(&want).max(1e-300),
                    &format!("{label}: attribution order {n} output {o}"),
                );
                if n <= 4 {
                    let truth: Vec<f64> = alphas
                        .iter()
                        .map(|a| r.derivative(&x0, a)[o] / alpha_factorial(a))
                        .collect();
                    assert_close_scaled(
                        &got,
                        &truth,
                        1e-10,
                        max_abs(&truth).max(1e-300),
                        &format!("{label}: attribution vs duals order {n} output {o}"),
                    );
                }
                // Each topology's share, contracted with h, is its own 1/|Aut| · value_T(h).
                let props = Propagators::new(&net, &x0, n).unwrap();
                let h = random_vec(n as u64, r.inputs, 0.5);
                for (t, c) in &parts {
                    let poly: f64 = alphas.iter().zip(c).map(|(a, v)| v * monomial(&h, a)).sum();
                    let direct = topology_value(&props, &t.tree, o, &h)
                        / num_traits::ToPrimitive::to_f64(&t.automorphisms).unwrap();
                    assert!(
                        (poly - direct).abs() <= 1e-10 * (1.0 + direct.abs()),
                        "{label}: topology {} order {n}: {poly} vs {direct}",
                        t.tree.text()
                    );
                }
            }
        }
    }
}

// ---- the test's own contraction of a diagram with h (Propagators used as plain matrices) ----

fn mat_vec(m: &ndarray::Array2<f64>, v: &[f64]) -> Vec<f64> {
    (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|j| m[[i, j]] * v[j]).sum())
        .collect()
}

/// The vector over the neurons of layer `parent` that the line from `node` carries.
fn line_into(p: &Propagators, node: &Node, parent: usize, h: &[f64]) -> Vec<f64> {
    match node {
        Node::Leaf(_) => mat_vec(&p.d[parent][0], h),
        Node::Vertex { layer, .. } => mat_vec(&p.d[parent][*layer], &vertex_vector(p, node, h)),
    }
}

/// f_m^(k)(z^(m)) ⊙ Π_children (line from the child into m).
fn vertex_vector(p: &Propagators, node: &Node, h: &[f64]) -> Vec<f64> {
    let Node::Vertex { layer, children } = node else {
        panic!("not a vertex")
    };
    let mut acc: Vec<f64> = p.v[*layer][children.len()].to_vec();
    for c in children {
        for (a, l) in acc.iter_mut().zip(line_into(p, c, *layer, h)) {
            *a *= l;
        }
    }
    acc
}

/// value_T(h, …, h) for output o.
fn topology_value(p: &Propagators, tree: &Node, o: usize, h: &[f64]) -> f64 {
    match tree {
        Node::Vertex { layer, .. } if *layer == p.layers => vertex_vector(p, tree, h)[o],
        _ => line_into(p, tree, p.layers, h)[o],
    }
}

#[test]
fn topologies_with_symmetry_factors_give_the_taylor_polynomial() {
    for (label, r, x0) in nets() {
        let net = r.network();
        // the series plan: this sum nearly cancels at order 5 for some networks (|Σ| ~ 1e-11),
        // below the jets plan's rounding relative to its coefficients
        let ex = Expander::with_plan(
            &net,
            &Options {
                order: 6,
                ..Options::default()
            },
            feynn::numeric::Plan::Series,
        )
        .unwrap();
        let e = ex.expand(&x0).unwrap();
        let props = Propagators::new(&net, &x0, 6).unwrap();
        let h = random_vec(99, r.inputs, 0.6);
        for n in 1..=6 {
            let topos = unlabelled(n, r.hidden_layers(), r.output_activation());
            for o in 0..r.outputs() {
                let got: f64 = topos
                    .iter()
                    .map(|t| {
                        topology_value(&props, &t.tree, o, &h)
                            / num_traits::ToPrimitive::to_f64(&t.automorphisms).unwrap()
                    })
                    .sum();
                // Truth: (1/n!) dⁿ/dtⁿ y(x0 + t h) from the duals (n ≤ 4), and Σ_{|α|=n} c_α h^α.
                let poly: f64 = multi_indices(r.inputs, n)
                    .iter()
                    .map(|a| e.get(&ex.basis, o, a).unwrap() * monomial(&h, a))
                    .sum();
                let scale = poly.abs().max(1e-12);
                assert!(
                    (got - poly).abs() <= 1e-10 * scale,
                    "{label}: order {n} output {o}: topologies {got} vs Taylor polynomial {poly}"
                );
                if n <= 4 {
                    let want = r.directional(&x0, &h, n)[o] / factorial(n);
                    assert!(
                        (got - want).abs() <= 1e-10 * want.abs().max(1e-12),
                        "{label}: order {n} output {o}: topologies {got} vs duals {want}"
                    );
                }
            }
        }
    }
}

// ---- counts ----

fn big(v: &[BigUint]) -> Vec<u128> {
    v.iter().map(|x| x.to_string().parse().unwrap()).collect()
}

const BELL: [u128; 12] = [
    1, 2, 5, 15, 52, 203, 877, 4140, 21147, 115975, 678570, 4213597,
];
const A000258: [u128; 10] = [1, 3, 12, 60, 358, 2471, 19302, 167894, 1606137, 16733779];
const A000307: [u128; 9] = [1, 4, 22, 154, 1304, 12915, 146115, 1855570, 26097835];
/// Integer partitions p(1..12).
const PARTITIONS: [u128; 12] = [1, 2, 3, 5, 7, 11, 15, 22, 30, 42, 56, 77];

#[test]
fn labelled_counts_are_known_sequences() {
    assert_eq!(big(&labelled_counts(12, 1, false))[1..], [1; 12]);
    assert_eq!(big(&labelled_counts(12, 2, false))[1..], BELL);
    assert_eq!(big(&labelled_counts(10, 3, false))[1..], A000258);
    assert_eq!(big(&labelled_counts(9, 4, false))[1..], A000307);
    // An output activation adds one composition: H = 1 with σ_out counts like H = 2.
    assert_eq!(big(&labelled_counts(12, 1, true))[1..], BELL);
    assert_eq!(big(&labelled_counts(10, 2, true))[1..], A000258);
    assert_eq!(big(&labelled_counts(9, 3, true))[1..], A000307);
}

/// Independent route: (e^x − 1)^{∘H} composed from the inside, F_H(n) = Σ_k S(n,k) F_{H-1}(k)
/// with Stirling numbers of the second kind (the library composes from the outside).
fn stirling_composition(n: usize, h: usize) -> Vec<u128> {
    let mut s = vec![vec![0u128; n + 1]; n + 1];
    s[0][0] = 1;
    for i in 1..=n {
        for k in 1..=i {
            s[i][k] = k as u128 * s[i - 1][k] + s[i - 1][k - 1];
        }
    }
    let mut f: Vec<u128> = (0..=n).map(|k| (k == 1) as u128).collect();
    for _ in 0..h {
        f = (0..=n)
            .map(|m| (1..=m).map(|k| s[m][k] * f[k]).sum())
            .collect();
    }
    f
}

#[test]
fn order_12_with_6_hidden_layers_is_instant_and_right() {
    let t = Instant::now();
    let lab = labelled_counts(12, 6, false);
    let unl = unlabelled_counts(12, 6, false);
    let lab_out = labelled_counts(12, 6, true);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "counting took {:?}",
        t.elapsed()
    );
    assert_eq!(big(&lab), stirling_composition(12, 6));
    assert_eq!(big(&lab)[12], 22_310_563_733_864);
    assert_eq!(big(&lab_out), stirling_composition(12, 7));
    assert!(unl[12] > BigUint::from(0u32) && unl[12] < lab[12]);
    for h in 1..=6 {
        assert_eq!(
            big(&labelled_counts(12, h, false)),
            stirling_composition(12, h),
            "H = {h}"
        );
    }
    // Big orders stay exact (no overflow): order 40 with 8 hidden layers.
    let t = Instant::now();
    let c = labelled_counts(40, 8, false);
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(c[40].bits() > 128);
}

#[test]
fn unlabelled_counts_with_two_hidden_layers_are_integer_partitions() {
    assert_eq!(big(&unlabelled_counts(12, 2, false))[1..], PARTITIONS);
    // Theory table: H = 3 gives 3, 6, 14, 27 at n = 2..5.
    assert_eq!(big(&unlabelled_counts(5, 3, false))[2..], [3, 6, 14, 27]);
    // One hidden layer: exactly one diagram at every order.
    assert_eq!(big(&unlabelled_counts(12, 1, false))[1..], [1; 12]);
}

/// The test's own canonical form of a tree (labelled or not): children sorted by their form.
fn canon(n: &Node, keep_slots: bool) -> String {
    match n {
        Node::Leaf(s) => {
            if keep_slots {
                format!("x{s}")
            } else {
                "x".into()
            }
        }
        Node::Vertex { layer, children } => {
            let mut c: Vec<String> = children.iter().map(|c| canon(c, keep_slots)).collect();
            c.sort();
            format!("{layer}({})", c.join(","))
        }
    }
}

/// Checks the rules of §2.4 on one labelled diagram; returns its leaves.
fn check_rules(
    d: &Node,
    hidden: usize,
    out: bool,
    is_root: bool,
    parent_layer: usize,
    leaves: &mut Vec<usize>,
) {
    match d {
        Node::Leaf(s) => leaves.push(*s),
        Node::Vertex { layer, children } => {
            assert!(
                *layer >= 1 && *layer < parent_layer,
                "layer {layer} under parent {parent_layer}: {}",
                d.text()
            );
            let root_vertex = is_root && out;
            if root_vertex {
                assert_eq!(*layer, hidden + 1, "output-activation root sits in layer L");
                assert!(!children.is_empty());
            } else {
                assert!(
                    *layer <= hidden,
                    "vertex above the hidden layers: {}",
                    d.text()
                );
                assert!(
                    children.len() >= 2,
                    "vertex with {} children: {}",
                    children.len(),
                    d.text()
                );
            }
            for c in children {
                check_rules(c, hidden, out, false, *layer, leaves);
            }
        }
    }
}

#[test]
fn enumerated_diagrams_are_valid_distinct_and_counted_right() {
    for h in 1..=4 {
        for out in [false, true] {
            let max_n = match (h, out) {
                (1, _) => 8,
                (2, false) => 8,
                (2, true) | (3, false) => 7,
                _ => 6,
            };
            for n in 1..=max_n {
                let ds = labelled_list(n, h, out);
                assert_eq!(
                    BigUint::from(ds.len()),
                    labelled_counts(n, h, out)[n],
                    "labelled count n={n} H={h} out={out}"
                );
                let mut seen = HashSet::new();
                let mut classes: BTreeMap<String, u128> = BTreeMap::new();
                for d in &ds {
                    let mut leaves = Vec::new();
                    check_rules(d, h, out, true, h + 2, &mut leaves);
                    leaves.sort_unstable();
                    assert_eq!(
                        leaves,
                        (0..n).collect::<Vec<_>>(),
                        "every slot once: {}",
                        d.text()
                    );
                    assert!(
                        seen.insert(canon(d, true)),
                        "duplicate labelled diagram {}",
                        d.text()
                    );
                    *classes.entry(canon(d, false)).or_default() += 1;
                }
                // Unlabelled topologies: as many as shape classes; |Aut| = n!/class size.
                let topos = unlabelled(n, h, out);
                assert_eq!(
                    topos.len(),
                    classes.len(),
                    "unlabelled n={n} H={h} out={out}"
                );
                assert_eq!(BigUint::from(topos.len()), unlabelled_counts(n, h, out)[n]);
                let nf: u128 = (1..=n as u128).product();
                let mut by_shape: HashMap<String, u128> = HashMap::new();
                for t in &topos {
                    assert!(
                        by_shape
                            .insert(
                                canon(&t.tree, false),
                                u128::try_from(&t.automorphisms).unwrap()
                            )
                            .is_none(),
                        "duplicate topology {}",
                        t.tree.text()
                    );
                }
                for (shape, size) in &classes {
                    let aut = by_shape
                        .get(shape)
                        .unwrap_or_else(|| panic!("shape {shape} has no topology"));
                    assert_eq!(nf / size, *aut, "|Aut| of {shape}");
                    assert_eq!(nf % size, 0);
                }
            }
        }
    }
    // Enumeration reproduces the known sequences directly, too.
    let counts: Vec<u128> = (1..=8)
        .map(|n| labelled_list(n, 2, false).len() as u128)
        .collect();
    assert_eq!(counts, BELL[..8]);
    let counts: Vec<u128> = (1..=7)
        .map(|n| labelled_list(n, 3, false).len() as u128)
        .collect();
    assert_eq!(counts, A000258[..7]);
    let counts: Vec<u128> = (1..=10)
        .map(|n| unlabelled(n, 2, false).len() as u128)
        .collect();
    assert_eq!(counts, PARTITIONS[..10]);
}

#[test]
fn theory_examples_of_symmetry_factors() {
    // §2.7, H = 3, n = 3: a 3-leg vertex gives 1/6; a 2-leg vertex holding a leaf and a 2-leg
    // sub-vertex gives 1/2. Order 2: one topology per hidden layer, each 1/2.
    for t in unlabelled(3, 3, false) {
        let Node::Vertex { children, .. } = &t.tree else {
            panic!()
        };
        assert_eq!(
            t.automorphisms,
            BigUint::from(if children.len() == 3 { 6u32 } else { 2 }),
            "{}",
            t.tree.text()
        );
    }
    let two = unlabelled(2, 5, false);
    assert_eq!(two.len(), 5);
    assert!(two.iter().all(|t| t.automorphisms == BigUint::from(2u32)));
    // Order 1: the bare line (no vertex), or with an output activation one 1-leg root vertex.
    assert_eq!(unlabelled(1, 3, false).len(), 1);
    assert!(matches!(unlabelled(1, 3, false)[0].tree, Node::Leaf(_)));
    let one = unlabelled(1, 3, true);
    assert_eq!(one.len(), 1);
    assert!(matches!(&one[0].tree, Node::Vertex { layer: 4, children } if children.len() == 1));
}
