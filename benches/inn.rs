//! The INN action recursion (theory note §3.4): order 4, N = 16, depth 8, every order 0…4 as
//! dense symmetric tensors. The figure is quoted in book/src/inn.md and book/src/performance.md.
//!
//! `cargo bench --no-default-features --bench inn` runs it under criterion. With `FEYNN_TABLE=1`
//! in the environment it instead prints one JSON line for `benches/peers/jax_inn.py`, which
//! builds the same network (the xorshift generator below) and times JAX beside it: the median
//! and best time of `FEYNN_REPS` calls (default 21) after the first call (which builds the
//! (N, K) plan; timed apart), the same for [`action_reference`] — the generic recursion the
//! `f64` route used before its planned kernels — with the largest difference between the two,
//! A^(0) and the per-order sums Σ A^(k) over all N^k entries. `FEYNN_REFERENCE=0` runs the
//! generic recursion once only (for a profiler).

use std::time::Instant;

use criterion::{criterion_group, Criterion};
use feynn::model::inn::{Inn, InnLayer};
use feynn::numeric::action::{action, action_reference, ActionOptions};

const N: usize = 16;
const DEPTH: usize = 8;
const ORDER: usize = 4;

/// A deterministic network near the identity (|W − I| ≤ 0.2, |b| ≤ 0.1, |α| ≤ 0.1); per layer
/// W (row-major), then b, then α per neuron — the peer script repeats the draws.
fn network(n: usize, depth: usize) -> Inn<f64> {
    let mut s: u64 = 12345;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let layers = (0..depth)
        .map(|_| InnLayer {
            w: (0..n * n)
                .map(|k| if k / n == k % n { 1.0 } else { 0.0 } + 0.2 * next())
                .collect(),
            b: (0..n).map(|_| 0.1 * next()).collect(),
            phi: (0..n).map(|_| vec![0.0, 1.0, 0.1 * next()]).collect(),
        })
        .collect();
    Inn {
        name: "bench".into(),
        n,
        layers,
    }
}

fn opts() -> ActionOptions {
    ActionOptions {
        order: ORDER,
        ..Default::default()
    }
}

fn inn_action(c: &mut Criterion) {
    let inn = network(N, DEPTH);
    let x0 = vec![0.0; N];
    let opts = opts();
    c.bench_function("inn action order 4, N=16, depth 8", |b| {
        b.iter(|| action(&inn, &x0, &opts).unwrap())
    });
}

/// One JSON line for the peer script.
fn table() {
    let reps: usize = std::env::var("FEYNN_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(21);
    let inn = network(N, DEPTH);
    let x0 = vec![0.0; N];
    let opts = opts();
    // the first call builds the (N, K) plan that later calls reuse
    let t = Instant::now();
    let act = action(&inn, &x0, &opts).unwrap();
    let first = t.elapsed().as_secs_f64();
    let time = |reps: usize, f: &dyn Fn()| {
        let mut ts: Vec<f64> = (0..reps.max(1))
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect();
        ts.sort_by(f64::total_cmp);
        ts
    };
    let ts = time(reps, &|| {
        std::hint::black_box(action(&inn, &x0, &opts).unwrap());
    });
    // the generic recursion (the f64 route before the planned kernels), for before/after
    let reference = action_reference(&inn, &x0, &opts).unwrap();
    // FEYNN_REFERENCE=0: time the planned route alone (for a profiler)
    let reps_ref = if std::env::var("FEYNN_REFERENCE").is_ok_and(|v| v == "0") {
        1
    } else {
        reps
    };
    let rs = time(reps_ref, &|| {
        std::hint::black_box(action_reference(&inn, &x0, &opts).unwrap());
    });
    // per order, the largest difference relative to the largest entry
    let max_rel = act
        .tensors
        .iter()
        .zip(&reference.tensors)
        .map(|(a, b)| {
            let scale = b.iter().fold(0.0, |m: f64, v| m.max(v.abs())).max(1e-300);
            a.iter()
                .zip(b)
                .fold(0.0, |m: f64, (x, y)| m.max((x - y).abs() / scale))
        })
        .fold(0.0, f64::max);
    let sums: Vec<f64> = act.tensors.iter().map(|t| t.iter().sum()).collect();
    println!(
        "{}",
        serde_json::json!({
            "row": format!("order {ORDER}, N = {N}, depth {DEPTH}"),
            "n": N,
            "depth": DEPTH,
            "order": ORDER,
            "median_s": ts[ts.len() / 2],
            "best_s": ts[0],
            "first_s": first,
            "reps": ts.len(),
            "reference_median_s": rs[rs.len() / 2],
            "reference_best_s": rs[0],
            "reference_max_rel_diff": max_rel,
            "a0": act.a0(),
            "sums": sums,
        })
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = inn_action
}

fn main() {
    if std::env::var_os("FEYNN_TABLE").is_some() {
        table();
    } else {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
}
