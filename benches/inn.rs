//! The INN action recursion (theory note §3.4): order 4, N = 16, depth 8, dense symmetric
//! tensors. The figure is quoted in book/src/inn.md and book/src/performance.md.

use criterion::{criterion_group, criterion_main, Criterion};
use feynn::model::inn::{Inn, InnLayer};
use feynn::numeric::action::{action, ActionOptions};

/// A deterministic network near the identity (|W − I| ≤ 0.2, |b| ≤ 0.1, |α| ≤ 0.1).
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

fn inn_action(c: &mut Criterion) {
    let inn = network(16, 8);
    let x0 = vec![0.0; 16];
    let opts = ActionOptions {
        order: 4,
        ..Default::default()
    };
    c.bench_function("inn action order 4, N=16, depth 8", |b| {
        b.iter(|| action(&inn, &x0, &opts).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = inn_action
}
criterion_main!(benches);
