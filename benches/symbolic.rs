//! Closed forms with Symbolica: the order-3 expanded closed form of a width-3 net with two
//! hidden layers of the generic activation σ (`input 3 layer 3 sigma layer 3 sigma output 1`),
//! by each route. Symbolica runs on the library's one worker thread (restricted mode allows one
//! Symbolica thread per user): do not run this next to another process that uses Symbolica.
//!
//! `cargo bench --bench symbolic`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use feynn::model::parse_models;
use feynn::symbolic::{closed_forms, compare_routes, Options, Route};

fn bench(c: &mut Criterion) {
    let model = parse_models(
        "bench.fnn",
        "model m { input 3 layer 3 sigma layer 3 sigma output 1 }",
        None,
    )
    .unwrap()
    .remove(0);
    let mut g = c.benchmark_group("symbolic closed form, width 3, 2 hidden sigma layers, order 3");
    for (name, route) in [("diagrams", Route::Diagrams), ("series", Route::Series)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let cf = closed_forms(
                    black_box(&model),
                    3,
                    None,
                    &Options {
                        route,
                        ..Default::default()
                    },
                )
                .unwrap();
                black_box(cf.outputs[0].coefficients.len())
            })
        });
    }
    g.bench_function("both routes and their difference", |b| {
        b.iter(|| black_box(compare_routes(black_box(&model), 3, None).unwrap().len()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
