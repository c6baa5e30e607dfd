//! The HMC sampler of `feynn theory sample`: 10,000 samples of the unimodal φ³+φ⁴ preset on a
//! 16-site ring (warm-up 1000, pilot 2000, thinning fixed at 4 so that every run does the same
//! work). The figure is quoted in book/src/theory.md and book/src/performance.md.

use criterion::{criterion_group, criterion_main, Criterion};
use feynn_studies::physics::mcmc::{hmc, HmcConfig, LatticeTarget};

fn bench(c: &mut Criterion) {
    let theory = feynn_studies::theory::preset("unimodal", vec![16]).unwrap();
    let cfg = HmcConfig {
        samples: 10_000,
        thin: Some(4),
        seed: 1,
        ..HmcConfig::default()
    };
    let mut g = c.benchmark_group("theory");
    g.sample_size(10);
    g.bench_function("HMC 10,000 samples, N = 16 ring, thin 4", |b| {
        b.iter(|| {
            hmc(&LatticeTarget::new(&theory), None, &cfg)
                .unwrap()
                .0
                .len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
