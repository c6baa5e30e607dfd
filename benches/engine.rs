//! The engine's workloads (issue 15; table in book/src/performance.md): every row on every
//! plan that takes it, one thread, per point from a 64-point batch.
//!
//! `cargo bench --no-default-features --bench engine` runs them under criterion. With
//! `FEYNN_TABLE=1` in the environment it instead prints one JSON line per (row, plan) with the
//! median per-point time (from `Expander::expand_batch` of the 64 points; `single_median_s`:
//! one `expand` call per point) and per-degree checksums, for `benches/peers/jax_taylor.py`,
//! which builds the same networks (the LCG below) and times JAX beside it. `FEYNN_ROW` and
//! `FEYNN_PLAN` keep only the rows / plans whose names contain them; `FEYNN_SCALING` also times
//! the chosen plan through `expand_many` on one and two threads; `FEYNN_REPS` sets the
//! repetitions (7).

use std::time::Instant;

use criterion::{criterion_group, Criterion};
use feynn::model::weights::{Tensor, TensorStore};
use feynn::model::{parse_models, Network};
use feynn::numeric::{Expander, Options, Plan};

/// The benchmark's generator (64-bit LCG; the Python peer script repeats it).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0
    }
}

/// A random tanh MLP with the given widths: per layer W (row-major, scale 1/√fan_in), then b
/// (scale 0.1).
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
    let mut rng = Lcg(0x2545F4914F6CDD1D);
    let mut store = TensorStore::default();
    for l in 1..widths.len() {
        let scale = 1.0 / (widths[l - 1] as f64).sqrt();
        let w: Vec<f64> = (0..widths[l] * widths[l - 1])
            .map(|_| rng.next() * scale)
            .collect();
        let b: Vec<f64> = (0..widths[l]).map(|_| rng.next() * 0.1).collect();
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

/// 64 points with coordinates in [−0.5, 0.5] (seed 7).
fn points(d: usize) -> Vec<Vec<f64>> {
    let mut rng = Lcg(7);
    (0..64)
        .map(|_| (0..d).map(|_| 0.5 * rng.next()).collect())
        .collect()
}

/// The rows: name, widths, order.
const ROWS: [(&str, &[usize], usize); 5] = [
    ("hessian 64-128-128-1", &[64, 128, 128, 1], 2),
    ("order 4 d=8 3x32", &[8, 32, 32, 32, 1], 4),
    ("order 6 d=2 3x32", &[2, 32, 32, 32, 1], 6),
    ("order 3 d=16 2x64", &[16, 64, 64, 1], 3),
    ("order 3 64-128-128-1", &[64, 128, 128, 1], 3),
];

fn plans() -> [Plan; 3] {
    [Plan::Diagrams, Plan::Jets, Plan::Series]
}

fn bench(c: &mut Criterion) {
    for (name, widths, order) in ROWS {
        let net = network(widths);
        let pts = points(widths[0]);
        let opts = Options {
            order,
            ..Default::default()
        };
        let auto = Expander::new(&net, &opts).unwrap().plan();
        for plan in plans() {
            let Ok(ex) = Expander::with_plan(&net, &opts, plan) else {
                continue;
            };
            // the series plan at order 3, d = 64 takes ~0.2 s a point: 4 points
            let take = if plan == Plan::Series && order == 3 && widths[0] == 64 {
                4
            } else {
                pts.len()
            };
            let tag = if plan == auto { " (auto)" } else { "" };
            c.bench_function(&format!("{name} / {plan}{tag} / {take} points"), |b| {
                b.iter(|| std::hint::black_box(ex.expand_batch(&pts[..take]).unwrap()))
            });
        }
    }
}

/// Σ_{|α|=n} c_α per degree n at the first point: what JAX's tensors give as Σ T / n!.
fn checksums(ex: &Expander, p: &[f64]) -> Vec<f64> {
    let e = ex.expand(p).unwrap();
    let mut s = vec![0.0; ex.basis.order + 1];
    for (m, v) in ex.monomials().iter().zip(e.coefficients.row(0)) {
        s[m.len()] += v;
    }
    s
}

fn table() {
    let reps: usize = std::env::var("FEYNN_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    // FEYNN_ROW / FEYNN_PLAN: run only the rows / plans whose name contains the value
    let row_filter = std::env::var("FEYNN_ROW").unwrap_or_default();
    let plan_filter = std::env::var("FEYNN_PLAN").unwrap_or_default();
    for (name, widths, order) in ROWS {
        if !name.contains(&row_filter) {
            continue;
        }
        let net = network(widths);
        let pts = points(widths[0]);
        let opts = Options {
            order,
            ..Default::default()
        };
        let auto = Expander::new(&net, &opts).unwrap().plan();
        for plan in plans() {
            if !plan.name().contains(&plan_filter) {
                continue;
            }
            let Ok(ex) = Expander::with_plan(&net, &opts, plan) else {
                continue;
            };
            let take = if plan == Plan::Series && order == 3 && widths[0] == 64 {
                2
            } else {
                pts.len()
            };
            ex.expand(&pts[0]).unwrap();
            // per point from the batch (Expander::expand_batch, what `--at-file` runs per
            // thread), and from one call per point
            let time = |batch: bool| -> Vec<f64> {
                let mut times: Vec<f64> = (0..reps)
                    .map(|_| {
                        let t = Instant::now();
                        if batch {
                            std::hint::black_box(ex.expand_batch(&pts[..take]).unwrap());
                        } else {
                            for p in &pts[..take] {
                                std::hint::black_box(ex.expand(p).unwrap());
                            }
                        }
                        t.elapsed().as_secs_f64() / take as f64
                    })
                    .collect();
                times.sort_by(f64::total_cmp);
                times
            };
            let times = time(true);
            // only the diagram plan batches; the others run the same calls either way
            let single = if plan == Plan::Diagrams && std::env::var_os("FEYNN_NO_SINGLE").is_none()
            {
                time(false)[reps / 2]
            } else {
                times[times.len() / 2]
            };
            // FEYNN_SCALING: the chosen plan through `expand_many` (what `--at-file` runs) with
            // rayon pools of one and two threads, per point; 2048 points (256 for the slow rows),
            // so that a call takes tens of milliseconds and the pool's wake-up does not count
            if plan == auto && std::env::var_os("FEYNN_SCALING").is_some() {
                let count = if times[times.len() / 2] > 5e-4 {
                    256
                } else {
                    2048
                };
                let many: Vec<Vec<f64>> = pts.iter().cycle().take(count).cloned().collect();
                let per_point = |threads: usize| -> f64 {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    pool.install(|| {
                        std::hint::black_box(ex.expand_many(&many).unwrap());
                        let mut ts: Vec<f64> = (0..reps)
                            .map(|_| {
                                let t = Instant::now();
                                std::hint::black_box(ex.expand_many(&many).unwrap());
                                t.elapsed().as_secs_f64() / many.len() as f64
                            })
                            .collect();
                        ts.sort_by(f64::total_cmp);
                        ts[ts.len() / 2]
                    })
                };
                let (one, two) = (per_point(1), per_point(2));
                println!(
                    "{}",
                    serde_json::json!({
                        "row": name, "plan": plan.name(), "scaling_points": many.len(),
                        "threads_1_s": one, "threads_2_s": two, "speedup": one / two,
                    })
                );
            }
            let e = ex.estimate();
            println!(
                "{}",
                serde_json::json!({
                    "row": name, "plan": plan.name(), "auto": plan == auto,
                    "median_s": times[times.len() / 2], "best_s": times[0],
                    "single_median_s": single,
                    "coefficients": ex.monomials().len(),
                    "predicted_flops": e.flops(), "predicted_bytes": e.bytes,
                    "checksums": checksums(&ex, &pts[0]),
                })
            );
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}

fn main() {
    if std::env::var_os("FEYNN_TABLE").is_some() {
        table();
    } else {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
}
