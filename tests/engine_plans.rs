//! Every plan of the numeric engine (diagrams, jets, series) against the nested-dual oracle
//! (tests/common/dual.rs, one dual level per derivative slot) and against each other, to 1e-12
//! relative (to the degree's largest coefficient, floored at 1e-3 of the output's largest), on
//! 210 random networks: every built-in activation, 1–4 hidden layers, orders 1–6,
//! nonzero points, one to three outputs, with and without an output activation.

mod common;

use common::*;
use feynn::numeric::{Expander, Options, Plan};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const REL: f64 = 1e-12;
const NETWORKS: u64 = 210;

/// A random network of the sweep: seed → (network, point, order).
fn case(seed: u64) -> (RefNet, Vec<f64>, usize) {
    let mut rng = StdRng::seed_from_u64(0xfe11 + seed);
    let order = 1 + (seed % 6) as usize;
    let act = BUILTINS[(seed / 6 % 7) as usize];
    let depth = 1 + (seed / 42 % 4) as usize;
    // inputs: few at high order (the oracle differentiates each multi-index separately)
    let inputs = match order {
        1..=3 => rng.random_range(1..=4),
        4 => rng.random_range(1..=3),
        _ => rng.random_range(1..=2),
    };
    let hidden: Vec<(usize, Act)> = (0..depth).map(|_| (rng.random_range(2..=5), act)).collect();
    let outputs = rng.random_range(1..=3);
    // every third network has an output activation (another built-in)
    let out_act = (seed % 3 == 0).then(|| BUILTINS[(seed / 3 % 7) as usize]);
    let net = RefNet::random(seed, inputs, &hidden, outputs, out_act);
    // nonzero points, away from the origin in every coordinate
    let x0: Vec<f64> = (0..inputs)
        .map(|_| {
            let v: f64 = rng.random_range(0.15..0.9);
            if rng.random::<bool>() {
                v
            } else {
                -v
            }
        })
        .collect();
    (net, x0, order)
}

/// Coefficients of one plan, or None where the plan does not take the request.
fn coefficients(
    net: &feynn::model::Network,
    order: usize,
    plan: Plan,
    x0: &[f64],
) -> Option<(Vec<Vec<u32>>, ndarray::Array2<f64>)> {
    let opts = Options {
        order,
        ..Options::default()
    };
    let ex = match Expander::with_plan(net, &opts, plan) {
        Ok(ex) => ex,
        Err(e) => {
            assert!(
                plan == Plan::Diagrams && order > 3,
                "plan {plan} refused order {order}: {e}"
            );
            return None;
        }
    };
    assert_eq!(ex.plan(), plan);
    Some((ex.monomials().to_vec(), ex.expand(x0).unwrap().coefficients))
}

#[test]
fn every_plan_matches_the_dual_oracle_and_the_others() {
    let mut compared = [0usize; 3];
    for seed in 0..NETWORKS {
        let (r, x0, order) = case(seed);
        let net = r.network();
        let label = format!(
            "seed {seed}: {} inputs, {} hidden, {} outputs, order {order}",
            r.inputs,
            r.hidden_layers(),
            r.outputs()
        );
        // truth per multi-index, per degree: ∂^α y / α!
        let monos: Vec<Vec<u32>> = (0..=order)
            .flat_map(|n| multi_indices(r.inputs, n))
            .collect();
        let truth: Vec<Vec<f64>> = monos
            .iter()
            .map(|a| {
                let f = alpha_factorial(a);
                r.derivative_any(&x0, a).iter().map(|v| v / f).collect()
            })
            .collect();
        let mut results = Vec::new();
        for (p, plan) in [Plan::Diagrams, Plan::Jets, Plan::Series]
            .into_iter()
            .enumerate()
        {
            if let Some((cols, c)) = coefficients(&net, order, plan, &x0) {
                assert_eq!(cols, monos, "{label}: plan {plan} columns");
                compared[p] += 1;
                results.push((plan, c));
            }
        }
        assert!(results.len() >= 2, "{label}: at least two plans");
        for o in 0..r.outputs() {
            for n in 0..=order {
                let idx: Vec<usize> = (0..monos.len()).filter(|&i| monos[i].len() == n).collect();
                let want: Vec<f64> = idx.iter().map(|&i| truth[i][o]).collect();
                // scale: the degree's largest coefficient, floored at 1e-3 of the output's
                // largest one (degrees that nearly cancel, or vanish for identity layers, carry
                // the rounding of the larger degrees they are computed with)
                let global = truth.iter().map(|t| t[o].abs()).fold(0.0, f64::max);
                let scale = max_abs(&want).max(1e-3 * global).max(1e-300);
                for (plan, c) in &results {
                    let got: Vec<f64> = idx.iter().map(|&i| c[[o, i]]).collect();
                    assert_close_scaled(
                        &got,
                        &want,
                        REL,
                        scale,
                        &format!("{label}: plan {plan} vs oracle, output {o} degree {n}"),
                    );
                }
                let (p0, c0) = &results[0];
                for (plan, c) in &results[1..] {
                    let a: Vec<f64> = idx.iter().map(|&i| c0[[o, i]]).collect();
                    let b: Vec<f64> = idx.iter().map(|&i| c[[o, i]]).collect();
                    assert_close_scaled(
                        &b,
                        &a,
                        REL,
                        scale,
                        &format!("{label}: plan {plan} vs {p0}, output {o} degree {n}"),
                    );
                }
            }
        }
    }
    // the sweep exercised every plan on many networks
    assert!(compared.iter().all(|&c| c >= 60), "{compared:?}");
}

/// A batch of points (Expander::expand_batch: the diagram plan's chunks across points) and
/// expand_many give every point's coefficients as single calls do (which the sweep above checks
/// against the oracle), on every plan, the first point being the sweep's.
#[test]
fn batches_match_single_points() {
    for seed in (0..NETWORKS).step_by(5) {
        let (r, x0, order) = case(seed);
        let net = r.network();
        let opts = Options {
            order,
            ..Options::default()
        };
        let mut rng = StdRng::seed_from_u64(0xba7c + seed);
        // a chunk holds at most 64 points: 70 cross a chunk boundary
        let points: Vec<Vec<f64>> = (0..70)
            .map(|i| {
                if i == 0 {
                    x0.clone()
                } else {
                    (0..r.inputs).map(|_| rng.random_range(-0.9..0.9)).collect()
                }
            })
            .collect();
        for plan in [Plan::Diagrams, Plan::Jets, Plan::Series] {
            let Ok(ex) = Expander::with_plan(&net, &opts, plan) else {
                continue;
            };
            let batch = ex.expand_batch(&points).unwrap();
            let many = ex.expand_many(&points).unwrap();
            assert_eq!(batch.len(), points.len());
            for (i, p) in points.iter().enumerate() {
                let one = ex.expand(p).unwrap().coefficients;
                let scale = one.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
                for (b, label) in [(&batch[i], "batch"), (&many[i], "many")] {
                    assert_eq!(&b.point, p);
                    assert_close_scaled(
                        b.coefficients.as_slice().unwrap(),
                        one.as_slice().unwrap(),
                        REL,
                        scale,
                        &format!("seed {seed}, plan {plan}, point {i}: {label} vs single"),
                    );
                }
            }
        }
    }
}

/// The diagram plan's Hessian at many inputs (its upper-triangle kernel has full register
/// tiles from d = 16 on, edge tiles where d is not a multiple of them; the sweep above stays at
/// d ≤ 4) against the series plan, an independent route, on batches of points (the legs of a
/// chunk are read in place), to 1e-12 relative: orders 2 and 3, one to three hidden layers,
/// one or two outputs, with and without an output activation.
#[test]
fn wide_inputs_diagram_hessian_matches_series() {
    for (seed, inputs) in [16usize, 17, 23, 33, 40, 64].into_iter().enumerate() {
        let seed = seed as u64;
        let mut rng = StdRng::seed_from_u64(0x4e55 + seed);
        let act = BUILTINS[(seed % 7) as usize];
        let depth = 1 + (seed % 3) as usize;
        let hidden: Vec<(usize, Act)> = (0..depth)
            .map(|_| (rng.random_range(5..=40), act))
            .collect();
        let outputs = 1 + (seed % 2) as usize;
        let out_act = (seed % 2 == 1).then(|| BUILTINS[((seed + 3) % 7) as usize]);
        let r = RefNet::random(0x4e55 + seed, inputs, &hidden, outputs, out_act);
        let net = r.network();
        let points: Vec<Vec<f64>> = (0..5)
            .map(|_| (0..inputs).map(|_| rng.random_range(-0.9..0.9)).collect())
            .collect();
        let order = if inputs <= 40 { 3 } else { 2 };
        against_series(
            &net,
            order,
            Plan::Diagrams,
            &points,
            false,
            &format!("d = {inputs}, order {order}"),
        );
    }
}

/// `plan` against the series plan (an independent route) at `points`, to [`REL`]: the batch,
/// and with `singles` also one call per point.
fn against_series(
    net: &feynn::model::Network,
    order: usize,
    plan: Plan,
    points: &[Vec<f64>],
    singles: bool,
    context: &str,
) {
    let opts = Options {
        order,
        ..Options::default()
    };
    let ex = Expander::with_plan(net, &opts, plan).unwrap();
    let series = Expander::with_plan(net, &opts, Plan::Series).unwrap();
    let batch = ex.expand_batch(points).unwrap();
    for (i, p) in points.iter().enumerate() {
        let want = series.expand(p).unwrap().coefficients;
        let scale = want.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
        let mut got = vec![(batch[i].coefficients.clone(), "batch")];
        if singles {
            got.push((ex.expand(p).unwrap().coefficients, "single"));
        }
        for (g, label) in got {
            assert_close_scaled(
                g.as_slice().unwrap(),
                want.as_slice().unwrap(),
                REL,
                scale,
                &format!("{context}, point {i}: {plan} ({label}) vs series"),
            );
        }
    }
}

#[test]
fn the_cost_model_picks_dense_contractions_for_wide_low_order() {
    let wide = RefNet::random(1, 64, &[(128, Act::Tanh), (128, Act::Tanh)], 1, None).network();
    let ex = Expander::new(
        &wide,
        &Options {
            order: 2,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(ex.plan(), Plan::Diagrams);
    let ex = Expander::new(
        &wide,
        &Options {
            order: 3,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(ex.plan(), Plan::Diagrams);
    // few inputs, high order: the diagram plan does not take it, the choice is the cheaper
    // of jets and series
    let narrow = RefNet::random(2, 2, &[(32, Act::Tanh); 3], 1, None).network();
    let ex = Expander::new(
        &narrow,
        &Options {
            order: 6,
            ..Options::default()
        },
    )
    .unwrap();
    assert_ne!(ex.plan(), Plan::Diagrams);
    let est = feynn::numeric::plan::estimates(&narrow, 6);
    let cheapest = est
        .iter()
        .filter(|e| e.available)
        .min_by(|a, b| a.cost().total_cmp(&b.cost()))
        .unwrap();
    assert_eq!(ex.plan(), cheapest.plan);
    let text = feynn::numeric::plan::explain(&narrow, 6, Plan::Auto, 1e9);
    assert!(text.contains("diagrams   no"), "{text}");
    assert!(
        text.contains(&format!("chosen: {}", cheapest.plan)),
        "{text}"
    );
}

#[test]
fn every_plan_refuses_over_the_memory_limit_before_allocating() {
    let net = RefNet::random(3, 64, &[(128, Act::Tanh)], 1, None).network();
    for plan in [Plan::Auto, Plan::Diagrams, Plan::Series] {
        let e = Expander::with_plan(
            &net,
            &Options {
                order: 3,
                memory_limit: 1e5,
            },
            plan,
        )
        .err()
        .unwrap_or_else(|| panic!("plan {plan} accepted a 100 kB limit"));
        assert!(e.to_string().starts_with("refused:"), "{plan}: {e}");
    }
    // the diagram plan stops at order 3
    let e = Expander::with_plan(
        &net,
        &Options {
            order: 4,
            ..Options::default()
        },
        Plan::Diagrams,
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("cannot compute order 4"), "{e}");
}

/// The jet plan where the sweep above does not reach: five to seven outputs (the adjoints'
/// and the interpolation's matrix products instead of row updates), orders 7 and 8 (the
/// generic Horner rule), hidden layers without an activation between ones with, and batches
/// that interpolate many points at once — against the series plan, to 1e-12 relative.
#[test]
fn jets_match_series_with_many_outputs_and_high_orders() {
    for seed in 0..24u64 {
        let mut rng = StdRng::seed_from_u64(0x1e75 + seed);
        let order = 1 + (seed % 8) as usize;
        let inputs = if order >= 5 { 2 } else { 3 };
        let depth = 1 + (seed % 3) as usize;
        let hidden: Vec<(usize, Act)> = (0..depth)
            .map(|l| {
                // the middle of three layers is linear in every other network
                let act = if depth == 3 && l == 1 && seed % 2 == 0 {
                    Act::Identity
                } else {
                    BUILTINS[((seed + l as u64) % 6) as usize]
                };
                (rng.random_range(3..=6), act)
            })
            .collect();
        let outputs = rng.random_range(5..=7);
        let out_act = (seed % 3 == 1).then_some(Act::Tanh);
        let r = RefNet::random(0x1e75 + seed, inputs, &hidden, outputs, out_act);
        let net = r.network();
        let points: Vec<Vec<f64>> = (0..9)
            .map(|_| (0..inputs).map(|_| rng.random_range(-0.9..0.9)).collect())
            .collect();
        against_series(
            &net,
            order,
            Plan::Jets,
            &points,
            true,
            &format!("seed {seed}, order {order}, {outputs} outputs"),
        );
    }
}
