//! Diagram counting and enumeration.

use std::ops::ControlFlow;

use criterion::{criterion_group, criterion_main, Criterion};
use feynn::diagrams::{for_each_labelled, labelled_counts, unlabelled, unlabelled_counts};

fn bench(c: &mut Criterion) {
    c.bench_function("count order 12, H=6 (labelled + unlabelled)", |b| {
        b.iter(|| {
            (
                labelled_counts(12, 6, false),
                unlabelled_counts(12, 6, false),
            )
        })
    });
    c.bench_function("enumerate labelled order 6, H=3 (2471 diagrams)", |b| {
        b.iter(|| {
            let mut n = 0;
            for_each_labelled(6, 3, false, |_| {
                n += 1;
                ControlFlow::Continue(())
            });
            n
        })
    });
    c.bench_function("enumerate labelled order 7, H=4 (146115 diagrams)", |b| {
        b.iter(|| {
            let mut n = 0;
            for_each_labelled(7, 4, false, |_| {
                n += 1;
                ControlFlow::Continue(())
            });
            n
        })
    });
    c.bench_function("enumerate topologies order 8, H=4", |b| {
        b.iter(|| unlabelled(8, 4, false).len())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
