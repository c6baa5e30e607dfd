//! Shared helpers of the integration tests: random reference networks with their own forward
//! pass (over plain f64 or the nested duals of [`dual`]), multi-index bookkeeping and tolerant
//! comparisons. Nothing here calls the library's forward pass, jets or Taylor propagation; the
//! library is only used to *build* the object under test (spec parsing, `Network::from_store`).

#![allow(dead_code)]

pub mod dual;

use std::collections::BTreeMap;

use dual::{Scalar, D4};
use feynn::model::weights::{Tensor, TensorStore};
use feynn::model::Network;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Activations of the reference networks, evaluated by the test's own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Tanh,
    Sigmoid,
    Softplus,
    Silu,
    Gelu,
    Sin,
    Identity,
    /// User activation `quad(z) = z + 0.3*z^2` (spec-defined).
    Quad,
    /// User activation `lse(z) = log(1+exp(z))` (spec-defined).
    LogOnePlusExp,
    /// Inline activation `(z + 0.3*z^2)` written in the layer line itself.
    InlineQuad,
    /// Inline expression number k of [`EXPRESSIONS`], exercising every DSL function.
    Expr(usize),
}

/// Inline activations in the DSL, with the test's own evaluation of each.
pub const EXPRESSIONS: [&str; 6] = [
    "(sqrt(1 + z^2))",
    "(z/(1 + z^2))",
    "(cos(z)*exp(-z^2/2))",
    "(erf(z) + 0.1*sigmoid(z) - softplus(-z) + tanh(z)*sin(z))",
    "((3 + tanh(z))^(-2))",
    "((2 + sin(z))^1.5 - log(2 + cos(z)))",
];

fn eval_expression<T: Scalar>(k: usize, z: &T) -> T {
    let one = T::cst(1.0);
    match k {
        0 => (one + z.powi(2)).sqrt(),
        1 => z.clone() / (one + z.powi(2)),
        2 => z.cos() * (-z.powi(2)).scale(0.5).exp(),
        3 => z.erf() + z.sigmoid().scale(0.1) - (-z.clone()).softplus() + z.tanh() * z.sin(),
        4 => one / z.tanh().add_cst(3.0).powi(2),
        5 => (z.sin().add_cst(2.0).ln().scale(1.5)).exp() - z.cos().add_cst(2.0).ln(),
        _ => unreachable!(),
    }
}

pub const BUILTINS: [Act; 7] = [
    Act::Tanh,
    Act::Sigmoid,
    Act::Softplus,
    Act::Silu,
    Act::Gelu,
    Act::Sin,
    Act::Identity,
];

impl Act {
    pub fn apply<T: Scalar>(self, z: &T) -> T {
        match self {
            Act::Tanh => z.tanh(),
            Act::Sigmoid => z.sigmoid(),
            Act::Softplus => z.softplus(),
            Act::Silu => z.clone() * z.sigmoid(),
            // exact GELU: z Φ(z) = z (1 + erf(z/√2)) / 2
            Act::Gelu => {
                z.clone()
                    * z.scale(std::f64::consts::FRAC_1_SQRT_2)
                        .erf()
                        .add_cst(1.0)
                        .scale(0.5)
            }
            Act::Sin => z.sin(),
            Act::Identity => z.clone(),
            Act::Quad | Act::InlineQuad => z.clone() + z.powi(2).scale(0.3),
            Act::LogOnePlusExp => z.exp().add_cst(1.0).ln(),
            Act::Expr(k) => eval_expression(k, z),
        }
    }
    /// How the activation is written in a spec's layer line.
    pub fn spec_ref(self) -> &'static str {
        match self {
            Act::Tanh => "tanh",
            Act::Sigmoid => "sigmoid",
            Act::Softplus => "softplus",
            Act::Silu => "silu",
            Act::Gelu => "gelu",
            Act::Sin => "sin",
            Act::Identity => "identity",
            Act::Quad => "quad",
            Act::LogOnePlusExp => "lse",
            Act::InlineQuad => "(z + 0.3*z^2)",
            Act::Expr(k) => EXPRESSIONS[k],
        }
    }
}

/// User activation definitions every reference spec carries.
pub const USER_ACTIVATIONS: &str =
    "activation quad(u) = u + c3*u^2\nlet c3 = 0.3\nactivation lse(z) = log(1+exp(z))\n";

#[derive(Debug, Clone)]
pub struct RefLayer {
    /// [out][in], as PyTorch.
    pub w: Vec<Vec<f64>>,
    pub b: Vec<f64>,
    pub act: Option<Act>,
}

/// A reference MLP: z^(l) = W^(l) a^(l-1) + b^(l), a^(l) = f_l(z^(l)).
#[derive(Debug, Clone)]
pub struct RefNet {
    pub inputs: usize,
    pub layers: Vec<RefLayer>,
}

/// A value exactly representable as f32 (so that f32 files hold the same network).
fn f32_exact(v: f64) -> f64 {
    v as f32 as f64
}

impl RefNet {
    /// Random weights (scaled by 1/√fan_in) and biases, all f32-representable.
    pub fn random(
        seed: u64,
        inputs: usize,
        hidden: &[(usize, Act)],
        outputs: usize,
        out_act: Option<Act>,
    ) -> RefNet {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut layers = Vec::new();
        let mut prev = inputs;
        let shapes: Vec<(usize, Option<Act>)> = hidden
            .iter()
            .map(|&(n, a)| (n, Some(a)))
            .chain(std::iter::once((outputs, out_act)))
            .collect();
        for (n, act) in shapes {
            let s = 1.6 / (prev as f64).sqrt();
            let w = (0..n)
                .map(|_| {
                    (0..prev)
                        .map(|_| f32_exact(rng.random_range(-s..s)))
                        .collect()
                })
                .collect();
            let b = (0..n)
                .map(|_| f32_exact(rng.random_range(-0.6..0.6)))
                .collect();
            layers.push(RefLayer { w, b, act });
            prev = n;
        }
        RefNet { inputs, layers }
    }

    pub fn outputs(&self) -> usize {
        self.layers.last().unwrap().b.len()
    }
    pub fn hidden_layers(&self) -> usize {
        self.layers.len() - 1
    }
    pub fn output_activation(&self) -> bool {
        self.layers.last().unwrap().act.is_some()
    }

    /// The test's own forward pass over any scalar type.
    pub fn forward<T: Scalar>(&self, x: &[T]) -> Vec<T> {
        self.pre_activations_from(0, x)
            .pop()
            .map(|z| self.activate(self.layers.len(), z))
            .unwrap()
    }

    fn activate<T: Scalar>(&self, l: usize, z: Vec<T>) -> Vec<T> {
        match self.layers[l - 1].act {
            Some(a) => z.iter().map(|v| a.apply(v)).collect(),
            None => z,
        }
    }

    /// Starting from a^(m) = `a`, the pre-activations z^(l) for l = m+1..=L.
    pub fn pre_activations_from<T: Scalar>(&self, m: usize, a: &[T]) -> Vec<Vec<T>> {
        let mut a: Vec<T> = a.to_vec();
        let mut out = Vec::new();
        for l in m + 1..=self.layers.len() {
            let layer = &self.layers[l - 1];
            assert_eq!(layer.w[0].len(), a.len());
            let z: Vec<T> = layer
                .w
                .iter()
                .zip(&layer.b)
                .map(|(row, &bias)| {
                    row.iter().zip(&a).fold(T::cst(bias), |acc, (&wij, aj)| {
                        acc + T::cst(wij) * aj.clone()
                    })
                })
                .collect();
            out.push(z.clone());
            if l < self.layers.len() {
                a = self.activate(l, z);
            }
        }
        out
    }

    /// ∂^α y_o(x0) for every output, |α| ≤ 4, by seeding one dual level per slot.
    pub fn derivative(&self, x0: &[f64], alpha: &[u32]) -> Vec<f64> {
        assert!(alpha.len() <= 4);
        let x: Vec<D4> = (0..self.inputs)
            .map(|i| {
                let dirs: Vec<f64> = (0..4)
                    .map(|s| {
                        if s < alpha.len() && alpha[s] as usize == i {
                            1.0
                        } else {
                            0.0
                        }
                    })
                    .collect();
                D4::var(x0[i], &dirs)
            })
            .collect();
        let mask: Vec<bool> = (0..4).map(|s| s < alpha.len()).collect();
        self.forward(&x).iter().map(|y| y.part(&mask)).collect()
    }

    /// ∂^α y_o(x0) for every output, |α| ≤ 6, with exactly |α| nested dual levels.
    pub fn derivative_any(&self, x0: &[f64], alpha: &[u32]) -> Vec<f64> {
        fn run<T: Scalar>(net: &RefNet, x0: &[f64], alpha: &[u32]) -> Vec<f64> {
            let n = alpha.len();
            let x: Vec<T> = (0..net.inputs)
                .map(|i| {
                    let dirs: Vec<f64> = (0..n)
                        .map(|s| if alpha[s] as usize == i { 1.0 } else { 0.0 })
                        .collect();
                    T::var(x0[i], &dirs)
                })
                .collect();
            let mask = vec![true; n];
            net.forward(&x).iter().map(|y| y.part(&mask)).collect()
        }
        use dual::{D1, D2, D3, D5, D6};
        match alpha.len() {
            0 => self.eval(x0),
            1 => run::<D1>(self, x0, alpha),
            2 => run::<D2>(self, x0, alpha),
            3 => run::<D3>(self, x0, alpha),
            4 => run::<D4>(self, x0, alpha),
            5 => run::<D5>(self, x0, alpha),
            6 => run::<D6>(self, x0, alpha),
            n => panic!("order {n} > 6"),
        }
    }

    /// d^n/dt^n y_o(x0 + t h) at t = 0, n ≤ 4: every dual level seeded with h.
    pub fn directional(&self, x0: &[f64], h: &[f64], n: usize) -> Vec<f64> {
        assert!(n <= 4);
        let x: Vec<D4> = (0..self.inputs)
            .map(|i| {
                let dirs: Vec<f64> = (0..4).map(|s| if s < n { h[i] } else { 0.0 }).collect();
                D4::var(x0[i], &dirs)
            })
            .collect();
        let mask: Vec<bool> = (0..4).map(|s| s < n).collect();
        self.forward(&x).iter().map(|y| y.part(&mask)).collect()
    }

    /// Plain f64 forward pass.
    pub fn eval(&self, x: &[f64]) -> Vec<f64> {
        self.forward(x)
    }

    /// The spec text of this network (default tensor names), model `name`.
    pub fn spec(&self, name: &str) -> String {
        let mut s = String::from(USER_ACTIVATIONS);
        s += &format!("model {name} {{\n  input {}\n", self.inputs);
        for (l, layer) in self.layers.iter().enumerate() {
            let n = layer.b.len();
            if l + 1 < self.layers.len() {
                s += &format!("  layer {n} {}\n", layer.act.unwrap().spec_ref());
            } else {
                s += &format!(
                    "  output {n}{}\n",
                    layer
                        .act
                        .map(|a| format!(" {}", a.spec_ref()))
                        .unwrap_or_default()
                );
            }
        }
        s + "}\n"
    }

    /// The tensors under PyTorch `nn.Sequential` names `{2l}.weight`, `{2l}.bias`, with a
    /// `prefix` and an index `stride` (2 = Linear, Act; 3 = Linear, Act, Dropout).
    pub fn tensors_named(&self, prefix: &str, stride: usize) -> BTreeMap<String, Tensor> {
        let mut t = BTreeMap::new();
        for (l, layer) in self.layers.iter().enumerate() {
            let k = stride * l;
            t.insert(
                format!("{prefix}{k}.weight"),
                Tensor {
                    shape: vec![layer.w.len(), layer.w[0].len()],
                    data: layer.w.iter().flatten().copied().collect(),
                },
            );
            t.insert(
                format!("{prefix}{k}.bias"),
                Tensor {
                    shape: vec![layer.b.len()],
                    data: layer.b.clone(),
                },
            );
        }
        t
    }

    pub fn tensors(&self) -> BTreeMap<String, Tensor> {
        self.tensors_named("", 2)
    }

    pub fn store(&self) -> TensorStore {
        TensorStore {
            path: "<memory>".into(),
            tensors: self.tensors(),
            ..Default::default()
        }
    }

    /// The library's network, built the way the CLI builds it: spec text → model → bind.
    pub fn network(&self) -> Network {
        let models = feynn::model::parse_models("ref.fnn", &self.spec("ref"), None)
            .unwrap_or_else(|e| panic!("reference spec must parse: {e}\n{}", self.spec("ref")));
        Network::from_store(&models[0], &self.store()).expect("reference weights bind")
    }
}

/// All sorted multi-indices of degree exactly n in d variables, lexicographic.
pub fn multi_indices(d: usize, n: usize) -> Vec<Vec<u32>> {
    fn rec(d: u32, n: usize, start: u32, cur: &mut Vec<u32>, out: &mut Vec<Vec<u32>>) {
        if cur.len() == n {
            out.push(cur.clone());
            return;
        }
        for i in start..d {
            cur.push(i);
            rec(d, n, i, cur, out);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    rec(d as u32, n, 0, &mut Vec::new(), &mut out);
    out
}

/// α! = Π_i (multiplicity of i)!
pub fn alpha_factorial(alpha: &[u32]) -> f64 {
    let mut counts: BTreeMap<u32, u32> = BTreeMap::new();
    for &i in alpha {
        *counts.entry(i).or_default() += 1;
    }
    counts
        .values()
        .map(|&c| (1..=c).map(f64::from).product::<f64>())
        .product()
}

/// h^α.
pub fn monomial(h: &[f64], alpha: &[u32]) -> f64 {
    alpha.iter().map(|&i| h[i as usize]).product()
}

pub fn factorial(n: usize) -> f64 {
    (1..=n).map(|k| k as f64).product()
}

/// Deterministic pseudo-random vector in [-r, r].
pub fn random_vec(seed: u64, n: usize, r: f64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-r..r)).collect()
}

/// Compare `got` with `want` elementwise, with tolerance `rel` times `scale`.
#[track_caller]
pub fn assert_close_scaled(got: &[f64], want: &[f64], rel: f64, scale: f64, context: &str) {
    assert_eq!(got.len(), want.len(), "{context}: lengths differ");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(g.is_finite(), "{context}[{k}]: got non-finite {g}");
        let err = (g - w).abs();
        assert!(err <= rel * scale, "{context}[{k}]: got {g:.17e}, want {w:.17e}, |diff| {err:.3e} > {rel:.0e} × scale {scale:.3e}");
    }
}

/// Largest magnitude of a slice.
pub fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}
