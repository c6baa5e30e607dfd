//! Activations: the built-ins, the generic symbolic σ, and user expressions in `z`.

use super::jet::{eval_jet, Jet};
use crate::dsl::Expr;
use crate::error::{Error, Result};

/// A built-in activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// tanh(z).
    Tanh,
    /// The logistic sigmoid 1/(1 + e^(−z)).
    Sigmoid,
    /// softplus ln(1 + e^z).
    Softplus,
    /// SiLU z·sigmoid(z).
    Silu,
    /// GELU in its exact (erf) form: z Φ(z).
    Gelu,
    /// sin(z).
    Sin,
    /// The identity z.
    Identity,
}

impl Builtin {
    /// Every built-in.
    pub const ALL: [Builtin; 7] = [
        Builtin::Tanh,
        Builtin::Sigmoid,
        Builtin::Softplus,
        Builtin::Silu,
        Builtin::Gelu,
        Builtin::Sin,
        Builtin::Identity,
    ];

    /// The built-in called `n` (`tanh`, `gelu`, …).
    pub fn from_name(n: &str) -> Option<Builtin> {
        Builtin::ALL.iter().copied().find(|b| b.name() == n)
    }
    /// Its name in the DSL.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Tanh => "tanh",
            Builtin::Sigmoid => "sigmoid",
            Builtin::Softplus => "softplus",
            Builtin::Silu => "silu",
            Builtin::Gelu => "gelu",
            Builtin::Sin => "sin",
            Builtin::Identity => "identity",
        }
    }
    /// The defining expression in `z`.
    pub fn body(self) -> &'static str {
        match self {
            Builtin::Tanh => "tanh(z)",
            Builtin::Sigmoid => "sigmoid(z)",
            Builtin::Softplus => "softplus(z)",
            Builtin::Silu => "z*sigmoid(z)",
            Builtin::Gelu => "z*(1 + erf(z/sqrt(2)))/2",
            Builtin::Sin => "sin(z)",
            Builtin::Identity => "z",
        }
    }
}

/// A layer's activation.
#[derive(Debug, Clone, PartialEq)]
pub enum Activation {
    /// A built-in.
    Builtin(Builtin),
    /// A generic activation: its derivatives stay symbols σ^(k); no numeric value.
    Sigma,
    /// A user activation; `body` is an expression in `z` with constants substituted.
    Custom {
        /// Its name.
        name: String,
        /// The defining expression.
        body: Expr,
    },
}

impl Activation {
    /// Its name in the DSL (`sigma` for the generic one).
    pub fn name(&self) -> &str {
        match self {
            Activation::Builtin(b) => b.name(),
            Activation::Sigma => "sigma",
            Activation::Custom { name, .. } => name,
        }
    }

    /// The defining expression in `z` (None for the generic σ).
    pub fn body(&self) -> Option<Expr> {
        match self {
            Activation::Builtin(b) => Some(
                crate::dsl::parse_spec("<builtin>", &format!("let f = {}", b.body()))
                    .expect("built-in bodies parse")
                    .lets[0]
                    .value
                    .clone(),
            ),
            Activation::Sigma => None,
            Activation::Custom { body, .. } => Some(body.clone()),
        }
    }

    /// Taylor coefficients f^(k)(z0)/k!, k = 0..=n (exact recurrences on the expression).
    pub fn taylor_coefficients(&self, z0: f64, n: usize) -> Result<Vec<f64>> {
        if let Activation::Builtin(b) = self {
            // straight to the jet recurrences (parsing the body per neuron dominated small
            // networks); the same jet operations the body would evaluate
            let z = Jet::variable(z0, n);
            return Ok(match b {
                Builtin::Tanh => z.tanh(),
                Builtin::Sigmoid => z.sigmoid(),
                Builtin::Softplus => z.softplus(),
                Builtin::Silu => z.mul(&z.sigmoid()),
                Builtin::Gelu => z
                    .mul(
                        &z.scale(std::f64::consts::FRAC_1_SQRT_2)
                            .erf()
                            .add(&Jet::constant(1.0, n)),
                    )
                    .scale(0.5),
                Builtin::Sin => z.sin_cos().0,
                Builtin::Identity => z,
            }
            .0);
        }
        let body = self.body().ok_or_else(|| {
            Error::invalid(
                "the generic activation `sigma` has no numeric value",
                "numbers need a concrete activation (tanh, sigmoid, ...); use --symbolic for σ^(k) closed forms",
            )
        })?;
        let zj = Jet::variable(z0, n);
        let jet = eval_jet(&body, n, &|v| (v == "z").then(|| zj.clone())).map_err(|v| {
            Error::invalid(
                format!(
                    "activation `{}` uses `{v}`, which has no value",
                    self.name()
                ),
                format!("give it one with `let {v} = ...` in the spec"),
            )
        })?;
        Ok(jet.0)
    }

    /// f(z0), f'(z0), …, f^(n)(z0).
    pub fn derivatives(&self, z0: f64, n: usize) -> Result<Vec<f64>> {
        let mut fact = 1.0;
        Ok(self
            .taylor_coefficients(z0, n)?
            .into_iter()
            .enumerate()
            .map(|(k, c)| {
                if k > 0 {
                    fact *= k as f64;
                }
                c * fact
            })
            .collect())
    }

    /// The k-th derivative in closed form in terms of `z`, for the built-ins
    /// (tanh' = 1 - tanh(z)^2, …). Syntax shared by the DSL, SymPy and Symbolica.
    pub fn derivative_closed_form(&self, k: usize) -> Option<String> {
        let b = match self {
            Activation::Builtin(b) => *b,
            _ => return None,
        };
        let s = "sigmoid(z)";
        Some(match b {
            Builtin::Tanh => poly_string(&tanh_poly(k), "tanh(z)"),
            Builtin::Sigmoid => poly_string(&sigmoid_poly(k), s),
            Builtin::Softplus if k == 0 => "softplus(z)".into(),
            Builtin::Softplus => poly_string(&sigmoid_poly(k - 1), s),
            Builtin::Silu if k == 0 => format!("z*{s}"),
            Builtin::Silu => format!(
                "z*({}) + {k}*({})",
                poly_string(&sigmoid_poly(k), s),
                poly_string(&sigmoid_poly(k - 1), s)
            ),
            Builtin::Gelu => {
                // gelu = z Φ(z); Φ^(j) = (-1)^(j-1) He_{j-1}(z) φ(z) for j ≥ 1.
                let phi_d = |j: usize| -> String {
                    if j == 0 {
                        "(1 + erf(z/sqrt(2)))/2".into()
                    } else {
                        let sign = if (j - 1) % 2 == 0 { "" } else { "-" };
                        format!(
                            "{sign}({})*exp(-z^2/2)/sqrt(2*pi)",
                            poly_string(&hermite_he(j - 1), "z")
                        )
                    }
                };
                if k == 0 {
                    format!("z*{}", phi_d(0))
                } else {
                    format!("z*{} + {k}*{}", phi_d(k), phi_d(k - 1))
                }
            }
            Builtin::Sin => ["sin(z)", "cos(z)", "-sin(z)", "-cos(z)"][k % 4].into(),
            Builtin::Identity => ["z", "1", "0"][k.min(2)].into(),
        })
    }
}

/// Coefficients (ascending powers of t) of tanh^(k) as a polynomial in t = tanh: P' · (1 - t²).
pub fn tanh_poly(k: usize) -> Vec<i64> {
    chain_poly(k, &[1, 0, -1])
}

/// Coefficients of sigmoid^(k) as a polynomial in s = sigmoid: P' · (s - s²).
pub fn sigmoid_poly(k: usize) -> Vec<i64> {
    chain_poly(k, &[0, 1, -1])
}

fn chain_poly(k: usize, q: &[i64]) -> Vec<i64> {
    let mut p = vec![0, 1];
    for _ in 0..k {
        let dp: Vec<i64> = (1..p.len()).map(|i| i as i64 * p[i]).collect();
        let mut next = vec![0i64; dp.len() + q.len()];
        for (i, a) in dp.iter().enumerate() {
            for (j, b) in q.iter().enumerate() {
                next[i + j] += a * b;
            }
        }
        while next.len() > 1 && *next.last().unwrap() == 0 {
            next.pop();
        }
        p = next;
    }
    p
}

/// Probabilists' Hermite polynomial He_n: He_{n+1} = x He_n - n He_{n-1}.
pub fn hermite_he(n: usize) -> Vec<i64> {
    let (mut a, mut b) = (vec![1i64], vec![0i64, 1]);
    if n == 0 {
        return a;
    }
    for m in 1..n {
        let mut c = vec![0i64; m + 2];
        for (i, v) in b.iter().enumerate() {
            c[i + 1] += v;
        }
        for (i, v) in a.iter().enumerate() {
            c[i] -= m as i64 * v;
        }
        a = b;
        b = c;
    }
    b
}

fn poly_string(c: &[i64], var: &str) -> String {
    let mut terms = Vec::new();
    for (i, &v) in c.iter().enumerate() {
        if v == 0 {
            continue;
        }
        let mono = match i {
            0 => String::new(),
            1 => var.to_string(),
            _ => format!("{var}^{i}"),
        };
        terms.push(match (v, mono.is_empty()) {
            (v, true) => format!("{v}"),
            (1, false) => mono,
            (-1, false) => format!("-{mono}"),
            (v, false) => format!("{v}*{mono}"),
        });
    }
    if terms.is_empty() {
        "0".into()
    } else {
        terms.join(" + ").replace("+ -", "- ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_polynomials() {
        assert_eq!(tanh_poly(1), vec![1, 0, -1]);
        assert_eq!(tanh_poly(2), vec![0, -2, 0, 2]);
        assert_eq!(sigmoid_poly(1), vec![0, 1, -1]);
        assert_eq!(hermite_he(3), vec![0, -3, 0, 1]);
        assert_eq!(
            Activation::Builtin(Builtin::Tanh)
                .derivative_closed_form(1)
                .unwrap(),
            "1 - tanh(z)^2"
        );
    }

    #[test]
    fn closed_forms_agree_with_jets() {
        // Evaluate each closed form with the DSL evaluator against the jet derivatives.
        for b in Builtin::ALL {
            let act = Activation::Builtin(b);
            let z0 = 0.43;
            let d = act.derivatives(z0, 5).unwrap();
            for (k, dk) in d.iter().enumerate() {
                let src = act
                    .derivative_closed_form(k)
                    .unwrap()
                    .replace("pi", &format!("{}", std::f64::consts::PI));
                let e = crate::dsl::parse_spec("t", &format!("let f = {src}"))
                    .unwrap()
                    .lets[0]
                    .value
                    .clone();
                let v = e.eval(&|n| (n == "z").then_some(z0)).unwrap();
                assert!(
                    (v - dk).abs() < 1e-12 * (1.0 + v.abs()),
                    "{} k={k}: {v} vs {dk}",
                    b.name()
                );
            }
        }
    }
}
