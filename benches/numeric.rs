//! Numeric Taylor expansions (targets in book/src/performance.md).

use criterion::{criterion_group, criterion_main, Criterion};
use feynn::model::weights::{Tensor, TensorStore};
use feynn::model::{parse_models, Network};
use feynn::numeric::{Expander, Options};

/// A random tanh MLP with the given widths (deterministic LCG, no extra dependency).
fn network(widths: &[usize]) -> Network {
    let spec = format!(
        "model m {{ input {} {} output {} }}",
        widths[0],
        widths[1..widths.len() - 1]
            .iter()
            .map(|w| format!("layer {w} tanh"))
            .collect::<Vec<_>>()
            .join(" "),
        widths[widths.len() - 1]
    );
    let model = parse_models("bench", &spec, None).unwrap().remove(0);
    let mut state = 0x2545F4914F6CDD1Du64;
    let mut rnd = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0
    };
    let mut store = TensorStore::default();
    for l in 1..widths.len() {
        let scale = 1.0 / (widths[l - 1] as f64).sqrt();
        let w: Vec<f64> = (0..widths[l] * widths[l - 1])
            .map(|_| rnd() * scale)
            .collect();
        let b: Vec<f64> = (0..widths[l]).map(|_| rnd() * 0.1).collect();
        store.tensors.insert(
            format!("{}.weight", 2 * (l - 1)),
            Tensor {
                shape: vec![widths[l], widths[l - 1]],
                data: w,
            },
        );
        store.tensors.insert(
            format!("{}.bias", 2 * (l - 1)),
            Tensor {
                shape: vec![widths[l]],
                data: b,
            },
        );
    }
    Network::from_store(&model, &store).unwrap()
}

fn bench(c: &mut Criterion) {
    let net = network(&[8, 32, 32, 32, 1]);
    let ex = Expander::new(
        &net,
        &Options {
            order: 4,
            ..Default::default()
        },
    )
    .unwrap();
    let x0 = vec![0.1; 8];
    c.bench_function("taylor order 4, d=8, 3x32 tanh (495 coefficients)", |b| {
        b.iter(|| ex.expand(&x0).unwrap())
    });

    let net = network(&[64, 128, 128, 1]);
    let ex = Expander::new(
        &net,
        &Options {
            order: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let x0 = vec![0.0; 64];
    c.bench_function(
        "hessian (order 2), 64-128-128-1 tanh (2145 coefficients)",
        |b| b.iter(|| ex.expand(&x0).unwrap()),
    );

    let ex3 = Expander::new(
        &net,
        &Options {
            order: 3,
            ..Default::default()
        },
    )
    .unwrap();
    c.bench_function(
        "taylor order 3, 64-128-128-1 tanh (47905 coefficients)",
        |b| b.iter(|| ex3.expand(&x0).unwrap()),
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
