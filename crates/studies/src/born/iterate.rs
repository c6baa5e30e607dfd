//! Iterative neural-network perturbation theory (seed 000): network 1 on the data, each
//! further network on the residual; gradient and Hessian read back and compared with the
//! exact Born terms.

use std::time::Instant;

use ndarray::{Array1, Array2, Axis};
use rand::seq::SliceRandom;

use super::rel_err;
use crate::data::Dataset;
use crate::physics::{born, series};
use crate::train::{self, Config, Mlp};
use feynn::error::{Error, Result};
use feynn::model::weights::TensorStore;
use feynn::model::{Model, Network};
use feynn::numeric::{attribution, Expander, Options};

/// What is subtracted from the targets after iteration 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Subtract {
    /// The learned leading order c₀ + g^NN·U (the paper's scheme as reconstructed).
    Learned,
    /// The exact first Born term Σ g_n U_n.
    Exact,
}

/// The early-stopping patience `feynn born iterate` uses unless `--patience` is given.
pub fn default_patience(epochs: usize) -> usize {
    epochs / 4 + 10
}

/// Settings of the iterative scheme.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IterateSettings {
    /// 1 to 3 networks.
    pub iterations: usize,
    pub subtract: Subtract,
    /// Hidden widths of every network (tanh).
    pub hidden: Vec<usize>,
    pub activation: String,
    /// Fraction of the data held out for the final comparison (never trained on).
    pub test_fraction: f64,
    #[serde(skip)]
    pub train: Config,
    /// Training settings, for the record.
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub lr_end: f64,
    /// AdamW weight decay of network 1 (`train.weight_decay` is ignored).
    pub weight_decay: f64,
    /// AdamW weight decay of networks 2 and 3, which learn the small curvature of the
    /// residual.
    pub residual_weight_decay: f64,
    /// Early-stopping patience in epochs (`train.patience`, for the record; equal to `epochs`:
    /// no early stop).
    pub patience: usize,
    pub seed: u64,
    /// The gradient claim holds if ‖∇y − g‖/‖g‖ is below this after iteration 1.
    pub gradient_tolerance: f64,
}

/// One trained network and its Taylor data at U = 0.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Stage {
    pub iteration: usize,
    pub target: String,
    pub training: train::Report,
    /// y(0).
    pub c0: f64,
    pub gradient: Vec<f64>,
    /// N × N, written by rows (the report holds it since issue 17, for the figure).
    #[serde(serialize_with = "matrix_rows")]
    pub hessian: Array2<f64>,
    /// ‖∇y(0) − g‖/‖g‖.
    pub gradient_error: f64,
    /// ‖H − (−2K)‖_F/‖2K‖_F.
    pub hessian_error: f64,
    /// ‖∇y(0)‖/‖g‖ (should be ≈ 0 after the leading order is eliminated).
    pub gradient_norm_ratio: f64,
    /// For iteration 3: relative L2 error of the third-order coefficients c_α (|α| = 3)
    /// against the exact third Born term.
    pub third_order_error: Option<f64>,
    /// Per-diagram attribution of the Hessian at U = 0: (topology, share of Σ|contribution|).
    pub hessian_diagrams: Vec<(String, f64)>,
    #[serde(skip)]
    pub weights: std::collections::BTreeMap<String, feynn::model::weights::Tensor>,
}

/// A matrix as a list of its rows.
fn matrix_rows<S: serde::Serializer>(
    m: &Array2<f64>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(m.nrows()))?;
    for r in m.rows() {
        seq.serialize_element(&r.to_vec())?;
    }
    seq.end()
}

/// Errors of approximations of a₀ on the held-out potentials (RMS).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Heldout {
    pub samples: usize,
    /// RMS of a₀ itself (scale).
    pub a0_rms: f64,
    /// vs exact a₀: first Born term, first + second Born terms, the proxy, network 1.
    pub born1_vs_a0: f64,
    pub born12_vs_a0: f64,
    pub proxy_vs_a0: f64,
    pub net1_vs_a0: f64,
    /// vs the true second-order Born approximation a⁽¹⁾ + a⁽²⁾: first Born term, learned
    /// linear term c₀ + g·U, the proxy.
    pub born1_vs_born12: f64,
    pub linear_vs_born12: f64,
    pub proxy_vs_born12: f64,
    /// With a third iteration: the third-order proxy vs exact a₀ and vs a⁽¹⁾ + a⁽²⁾ + a⁽³⁾.
    pub proxy3_vs_a0: Option<f64>,
    pub proxy3_vs_born123: Option<f64>,
    pub born123_vs_a0: Option<f64>,
}

/// The paper's claims as pass/fail.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Claims {
    /// Iteration 1: gradient within `gradient_tolerance` of g_n.
    pub gradient_learned: bool,
    pub gradient_tolerance: f64,
    /// Iteration 1: H₁ does not match −2K (relative error > 0.5).
    pub h1_not_learned: bool,
    /// H₂ closer to −2K than H₁.
    pub h2_better_than_h1: bool,
    /// The proxy beats the first Born term on held-out potentials (vs exact a₀).
    pub proxy_beats_born1: bool,
}

impl Claims {
    pub fn all(&self) -> bool {
        self.gradient_learned
            && self.h1_not_learned
            && self.h2_better_than_h1
            && self.proxy_beats_born1
    }
}

/// The result of [`iterate`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct IterateReport {
    pub settings: IterateSettings,
    pub steps: usize,
    pub range: f64,
    pub train_samples: usize,
    pub stages: Vec<Stage>,
    pub heldout: Heldout,
    pub claims: Claims,
    pub seconds: f64,
    /// Version, machine and start time of the run.
    pub provenance: crate::provenance::Provenance,
}

/// The spec text of the networks: N inputs, the hidden widths, one linear output.
pub fn spec_text(name: &str, steps: usize, hidden: &[usize], activation: &str) -> String {
    let mut s = format!("model {name} {{\n  input {steps}\n");
    for w in hidden {
        s += &format!("  layer {w} {activation}\n");
    }
    s + "  output 1\n}\n"
}

fn model(steps: usize, s: &IterateSettings) -> Result<Model> {
    let text = spec_text("born", steps, &s.hidden, &s.activation);
    Ok(feynn::model::parse_models("<born iterate>", &text, None)?.remove(0))
}

fn network(
    model: &Model,
    w: &std::collections::BTreeMap<String, feynn::model::weights::Tensor>,
) -> Result<Network> {
    let store = TensorStore {
        path: "<trained>".into(),
        tensors: w.clone(),
        ..Default::default()
    };
    Network::from_store(model, &store)
}

/// c0, gradient and Hessian of output 0 at U = 0 (and the expander, for more).
fn taylor2(net: &Network) -> Result<(f64, Vec<f64>, Array2<f64>)> {
    let ex = Expander::new(
        net,
        &Options {
            order: 2,
            ..Options::default()
        },
    )?;
    let n = net.inputs();
    let e = ex.expand(&vec![0.0; n])?;
    let grad = (0..n)
        .map(|i| e.get(&ex.basis, 0, &[i as u32]).unwrap())
        .collect();
    let h = Array2::from_shape_fn((n, n), |(i, j)| {
        let c = e.get(&ex.basis, 0, &[i as u32, j as u32]).unwrap();
        // c_α = ∂^α y/α!: the diagonal carries 1/2
        if i == j {
            2.0 * c
        } else {
            c
        }
    });
    Ok((e.coefficients[[0, 0]], grad, h))
}

fn hessian_diagrams(net: &Network) -> Result<Vec<(String, f64)>> {
    let ex = Expander::new(
        net,
        &Options {
            order: 2,
            ..Options::default()
        },
    )?;
    let parts = attribution::attribute(net, &vec![0.0; net.inputs()], 2, &ex.basis, 0)?;
    let norms: Vec<f64> = parts
        .iter()
        .map(|(_, v)| v.iter().map(|x| x.abs()).sum())
        .collect();
    let total: f64 = norms.iter().sum::<f64>().max(1e-300);
    Ok(parts
        .iter()
        .zip(norms)
        .map(|(t, n)| (t.0.tree.text(), n / total))
        .collect())
}

fn rms(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    ((a - b).mapv(|v| v * v).sum() / a.len() as f64).sqrt()
}

/// Run the iterative NN perturbation theory on a data set of `feynn born data`.
///
/// `range` is R of the data (from its metadata). `log` receives one line per stage.
pub fn iterate(
    data: &Dataset,
    range: f64,
    s: &IterateSettings,
    log: &dyn Fn(&str),
) -> Result<IterateReport> {
    let t0 = Instant::now();
    let provenance = crate::provenance::Provenance::now();
    if !(1..=3).contains(&s.iterations) {
        return Err(Error::invalid(
            format!("--iterations {} is out of range", s.iterations),
            "use 1, 2 or 3",
        ));
    }
    for key in ["born1", "born2"] {
        if !data.extra.contains_key(key) {
            return Err(Error::invalid(
                format!("the data set has no array `{key}`"),
                "generate it with `feynn born data`",
            ));
        }
    }
    let n = data.inputs.ncols();
    let g = born::first_order(n, range);
    let h_exact = born::hessian(n, range);
    let h_exact_flat: Vec<f64> = h_exact.iter().copied().collect();

    // held-out split, independent of the training split inside `train`
    let mut idx: Vec<usize> = (0..data.len()).collect();
    idx.shuffle(&mut feynn::random::seeded(s.seed ^ 0x7e57));
    let n_test = ((data.len() as f64 * s.test_fraction).round() as usize).clamp(1, data.len() - 2);
    let test = data.select(&idx[..n_test]);
    let pool = data.select(&idx[n_test..]);
    let spec = model(n, s)?;
    let mlp = Mlp::new(&spec, n)?;

    let mut stages: Vec<Stage> = vec![];
    let mut targets = pool.targets.clone();
    for it in 1..=s.iterations {
        let target = match (it, s.subtract) {
            (1, _) => "a0".to_string(),
            (2, Subtract::Learned) => "a0 − (c0 + g1·U)".into(),
            (2, Subtract::Exact) => "a0 − Σ g_n U_n".into(),
            _ => "previous residual − (c0 + g·U + ½UᵀH U) of network 2".into(),
        };
        log(&format!("iteration {it}: training on {target}"));
        let d = Dataset {
            targets: targets.clone(),
            ..pool.clone()
        };
        let mut cfg = s.train.clone();
        cfg.seed = s.seed.wrapping_add(it as u64);
        cfg.weight_decay = if it == 1 {
            s.weight_decay
        } else {
            s.residual_weight_decay
        };
        let (w, rep) = train::train(&mlp, &d, &cfg, false)?;
        let net = network(&spec, &w)?;
        let (c0, grad, h) = taylor2(&net)?;
        let third = if it == 3 {
            Some(third_order_error(&net, range)?)
        } else {
            None
        };
        let st = Stage {
            iteration: it,
            target,
            gradient_error: rel_err(&grad, &g),
            hessian_error: rel_err(h.as_slice().unwrap(), &h_exact_flat),
            gradient_norm_ratio: grad.iter().map(|v| v * v).sum::<f64>().sqrt()
                / g.iter().map(|v| v * v).sum::<f64>().sqrt(),
            third_order_error: third,
            hessian_diagrams: hessian_diagrams(&net)?,
            training: rep,
            c0,
            gradient: grad,
            hessian: h,
            weights: w,
        };
        log(&format!(
            "  {} epochs in {:.1} s, validation RMSE {:.2e}; gradient error {:.4}, Hessian error {:.4}",
            st.training.epochs_run, st.training.seconds, st.training.val_rmse, st.gradient_error, st.hessian_error
        ));
        // eliminate what this network learned at the order it is responsible for
        let x = &pool.inputs;
        targets = match it {
            1 => match s.subtract {
                Subtract::Learned => {
                    &targets - &(x.dot(&Array1::from(st.gradient.clone())) + st.c0)
                }
                Subtract::Exact => &targets - &pool.extra["born1"],
            },
            _ => {
                let lin = x.dot(&Array1::from(st.gradient.clone())) + st.c0;
                let quad = Array1::from_iter(
                    x.rows()
                        .into_iter()
                        .map(|u| 0.5 * u.dot(&st.hessian.dot(&u))),
                );
                &targets - &lin - &quad
            }
        };
        stages.push(st);
    }

    // held-out comparison
    let x = &test.inputs;
    let a0 = &test.targets;
    let b1 = &test.extra["born1"];
    let b12 = b1 + &test.extra["born2"];
    let s1 = &stages[0];
    let linear = x.dot(&Array1::from(s1.gradient.clone())) + s1.c0;
    let lead = match s.subtract {
        Subtract::Learned => linear.clone(),
        Subtract::Exact => b1.clone(),
    };
    let net1 = network(&spec, &s1.weights)?;
    let net1_pred = Array1::from_iter(
        x.rows()
            .into_iter()
            .map(|u| net1.forward(u.as_slice().unwrap()).unwrap()[0]),
    );
    let quad =
        |h: &Array2<f64>| Array1::from_iter(x.rows().into_iter().map(|u| 0.5 * u.dot(&h.dot(&u))));
    let proxy = if s.iterations >= 2 {
        &lead + &quad(&stages[1].hessian)
    } else {
        linear.clone()
    };
    let (mut p3a, mut p3b, mut b123a) = (None, None, None);
    if s.iterations >= 3 {
        let net3 = network(&spec, &stages[2].weights)?;
        let cubic = cubic_part(&net3, x)?;
        let proxy3 = &proxy + &cubic;
        let b3 = Array1::from_iter(
            x.rows()
                .into_iter()
                .map(|u| series::born_terms_f64(u.as_slice().unwrap(), range, 3)[2]),
        );
        let b123 = &b12 + &b3;
        p3a = Some(rms(&proxy3, a0));
        p3b = Some(rms(&proxy3, &b123));
        b123a = Some(rms(&b123, a0));
    }
    let heldout = Heldout {
        samples: test.len(),
        a0_rms: (a0.mapv(|v| v * v).sum() / a0.len() as f64).sqrt(),
        born1_vs_a0: rms(b1, a0),
        born12_vs_a0: rms(&b12, a0),
        proxy_vs_a0: rms(&proxy, a0),
        net1_vs_a0: rms(&net1_pred, a0),
        born1_vs_born12: rms(b1, &b12),
        linear_vs_born12: rms(&linear, &b12),
        proxy_vs_born12: rms(&proxy, &b12),
        proxy3_vs_a0: p3a,
        proxy3_vs_born123: p3b,
        born123_vs_a0: b123a,
    };
    let tol = s.gradient_tolerance;
    let claims = Claims {
        gradient_learned: stages[0].gradient_error < tol,
        gradient_tolerance: tol,
        h1_not_learned: stages[0].hessian_error > 0.5,
        h2_better_than_h1: stages
            .get(1)
            .is_some_and(|s2| s2.hessian_error < stages[0].hessian_error),
        proxy_beats_born1: heldout.proxy_vs_a0 < heldout.born1_vs_a0,
    };
    Ok(IterateReport {
        settings: s.clone(),
        steps: n,
        range,
        train_samples: pool.len(),
        stages,
        heldout,
        claims,
        seconds: t0.elapsed().as_secs_f64(),
        provenance,
    })
}

/// The report as a text table.
pub fn table(r: &IterateReport) -> String {
    let mut s = format!(
        "Born study: N = {}, R = {}, {} training potentials, {} held out; subtract {:?}; hidden {:?} {}; weight decay {} (network 1), {} (residual networks); {:.1} s\n\n",
        r.steps, r.range, r.train_samples, r.heldout.samples, r.settings.subtract, r.settings.hidden, r.settings.activation, r.settings.weight_decay, r.settings.residual_weight_decay, r.seconds
    );
    s += "| network | target | epochs | val. RMSE | y(0) | ‖∇y−g‖/‖g‖ | ‖∇y‖/‖g‖ | ‖H−(−2K)‖/‖2K‖ | 3rd order |\n|---|---|---|---|---|---|---|---|---|\n";
    for st in &r.stages {
        s += &format!(
            "| {} | {} | {} | {:.2e} | {:.1e} | {:.4} | {:.4} | {:.4} | {} |\n",
            st.iteration,
            st.target,
            st.training.epochs_run,
            st.training.val_rmse,
            st.c0,
            st.gradient_error,
            st.gradient_norm_ratio,
            st.hessian_error,
            st.third_order_error
                .map_or("–".into(), |e| format!("{e:.4}"))
        );
    }
    let h = &r.heldout;
    s += &format!("\nheld-out potentials ({}), RMS errors (RMS of a0: {:.4}):\n\n| approximation | vs exact a0 | vs a0(1)+a0(2) |\n|---|---|---|\n", h.samples, h.a0_rms);
    s += &format!(
        "| first Born term a0(1) | {:.3e} | {:.3e} |\n",
        h.born1_vs_a0, h.born1_vs_born12
    );
    s += &format!(
        "| learned linear c0 + g·U | – | {:.3e} |\n",
        h.linear_vs_born12
    );
    s += &format!(
        "| true 2nd-order Born a0(1)+a0(2) | {:.3e} | 0 |\n",
        h.born12_vs_a0
    );
    s += &format!(
        "| **proxy {} + ½UᵀH₂U** | {:.3e} | {:.3e} |\n",
        match r.settings.subtract {
            Subtract::Learned => "c0 + g·U",
            Subtract::Exact => "a0(1)",
        },
        h.proxy_vs_a0,
        h.proxy_vs_born12
    );
    if let (Some(a), Some(b), Some(c)) = (h.proxy3_vs_a0, h.proxy3_vs_born123, h.born123_vs_a0) {
        s += &format!("| true 3rd-order Born a0(1..3) | {c:.3e} | – |\n| proxy + cubic of network 3 | {a:.3e} | {b:.3e} (vs a0(1..3)) |\n");
    }
    s += &format!("| network 1 itself | {:.3e} | – |\n", h.net1_vs_a0);
    if let Some(st) = r.stages.get(1) {
        s += "\nwhich diagrams carry H₂ (share of Σ|contribution| at U = 0):\n";
        for (t, share) in &st.hessian_diagrams {
            s += &format!("  {t}: {:.1} %\n", 100.0 * share);
        }
    }
    let c = &r.claims;
    let mark = |b: bool| if b { "yes" } else { "NO" };
    s += &format!(
        "\nclaims: gradient within {:.0} % of g_n after iteration 1: {}; H₁ not ≈ −2K: {}; H₂ closer to −2K than H₁: {}; proxy beats a0(1) on held-out data: {}\n",
        100.0 * c.gradient_tolerance,
        mark(c.gradient_learned),
        mark(c.h1_not_learned),
        mark(c.h2_better_than_h1),
        mark(c.proxy_beats_born1)
    );
    s
}

/// The degree-3 monomials of `net`'s Taylor expansion at 0 and their coefficients.
fn cubic_coefficients(net: &Network) -> Result<Vec<(Vec<u32>, f64)>> {
    let ex = Expander::new(
        net,
        &Options {
            order: 3,
            ..Options::default()
        },
    )?;
    let e = ex.expand(&vec![0.0; net.inputs()])?;
    Ok(ex
        .monomials()
        .iter()
        .enumerate()
        .filter(|(_, m)| m.len() == 3)
        .map(|(i, m)| (m.clone(), e.coefficients[[0, i]]))
        .collect())
}

/// The degree-3 Taylor polynomial of `net` at 0 evaluated at every row of `x`.
fn cubic_part(net: &Network, x: &Array2<f64>) -> Result<Array1<f64>> {
    let monos = cubic_coefficients(net)?;
    Ok(Array1::from_iter(x.axis_iter(Axis(0)).map(|u| {
        monos
            .iter()
            .map(|(m, c)| c * m.iter().map(|k| u[*k as usize]).product::<f64>())
            .sum()
    })))
}

/// Relative L2 error of the degree-3 coefficients of `net` at 0 against the exact third Born
/// term's coefficients ([`series::monomial_coefficient`]).
fn third_order_error(net: &Network, range: f64) -> Result<f64> {
    let (learned, exact): (Vec<f64>, Vec<f64>) = cubic_coefficients(net)?
        .into_iter()
        .map(|(m, c)| (c, series::monomial_coefficient(&m, net.inputs(), range)))
        .unzip();
    Ok(rel_err(&learned, &exact))
}
