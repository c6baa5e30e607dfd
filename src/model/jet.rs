//! Univariate truncated Taylor series ("jets"): c[k] = f^(k)(z0)/k!.
//!
//! Used to get derivatives of any order of every activation, built-in or user-defined,
//! from one mechanism: evaluate the activation's expression on the jet z0 + t.

use crate::dsl::Expr;

/// A jet truncated at order n: `self.0[k]` = f^(k)(z0)/k!, k = 0..=n.
#[derive(Debug, Clone, PartialEq)]
pub struct Jet(pub Vec<f64>);

impl Jet {
    /// The constant v as a jet of order n.
    pub fn constant(v: f64, n: usize) -> Jet {
        let mut c = vec![0.0; n + 1];
        c[0] = v;
        Jet(c)
    }
    /// The identity jet z0 + t.
    pub fn variable(z0: f64, n: usize) -> Jet {
        let mut j = Jet::constant(z0, n);
        if n > 0 {
            j.0[1] = 1.0;
        }
        j
    }
    fn n(&self) -> usize {
        self.0.len() - 1
    }
    /// Whether every coefficient above the value is 0.
    pub fn is_constant(&self) -> bool {
        self.0[1..].iter().all(|&c| c == 0.0)
    }
    /// Sum of two jets of the same order.
    pub fn add(&self, o: &Jet) -> Jet {
        Jet(self.0.iter().zip(&o.0).map(|(a, b)| a + b).collect())
    }
    /// Difference of two jets.
    pub fn sub(&self, o: &Jet) -> Jet {
        Jet(self.0.iter().zip(&o.0).map(|(a, b)| a - b).collect())
    }
    /// Negation.
    pub fn neg(&self) -> Jet {
        Jet(self.0.iter().map(|a| -a).collect())
    }
    /// Multiplication by the scalar s.
    pub fn scale(&self, s: f64) -> Jet {
        Jet(self.0.iter().map(|a| a * s).collect())
    }
    /// Product (Cauchy product, truncated).
    pub fn mul(&self, o: &Jet) -> Jet {
        let n = self.n();
        Jet((0..=n)
            .map(|k| (0..=k).map(|i| self.0[i] * o.0[k - i]).sum())
            .collect())
    }
    /// Quotient; the divisor's value `o.0[0]` must be nonzero.
    pub fn div(&self, o: &Jet) -> Jet {
        let n = self.n();
        let mut c = vec![0.0; n + 1];
        for k in 0..=n {
            let s: f64 = (1..=k).map(|j| o.0[j] * c[k - j]).sum();
            c[k] = (self.0[k] - s) / o.0[0];
        }
        Jet(c)
    }
    /// g = ∫ f'(a) da given the jet of f'(a): g_k = (1/k) Σ_j j a_j d_{k-j}.
    fn integrate(&self, g0: f64, deriv: &Jet) -> Jet {
        let n = self.n();
        let mut c = vec![0.0; n + 1];
        c[0] = g0;
        for k in 1..=n {
            c[k] = (1..=k)
                .map(|j| j as f64 * self.0[j] * deriv.0[k - j])
                .sum::<f64>()
                / k as f64;
        }
        Jet(c)
    }
    /// exp of the jet.
    pub fn exp(&self) -> Jet {
        let n = self.n();
        let mut c = vec![0.0; n + 1];
        c[0] = self.0[0].exp();
        for k in 1..=n {
            c[k] = (1..=k)
                .map(|j| j as f64 * self.0[j] * c[k - j])
                .sum::<f64>()
                / k as f64;
        }
        Jet(c)
    }
    /// Natural logarithm (value must be positive).
    pub fn ln(&self) -> Jet {
        let inv = Jet::constant(1.0, self.n()).div(self);
        self.integrate(self.0[0].ln(), &inv)
    }
    /// sin and cos of the jet, together.
    pub fn sin_cos(&self) -> (Jet, Jet) {
        let n = self.n();
        let (mut s, mut c) = (vec![0.0; n + 1], vec![0.0; n + 1]);
        s[0] = self.0[0].sin();
        c[0] = self.0[0].cos();
        for k in 1..=n {
            let kf = k as f64;
            s[k] = (1..=k)
                .map(|j| j as f64 * self.0[j] * c[k - j])
                .sum::<f64>()
                / kf;
            c[k] = -(1..=k)
                .map(|j| j as f64 * self.0[j] * s[k - j])
                .sum::<f64>()
                / kf;
        }
        (Jet(s), Jet(c))
    }
    /// Solve g' = P(g) a' order by order, P a polynomial in g given as a closure on the partial jet.
    fn ode(&self, g0: f64, rhs: impl Fn(&[f64], usize) -> f64) -> Jet {
        let n = self.n();
        let mut g = vec![0.0; n + 1];
        g[0] = g0;
        // d[m] = coefficient m of P(g), computable once g_0..g_m are known.
        let mut d = vec![0.0; n + 1];
        for k in 1..=n {
            d[k - 1] = rhs(&g, k - 1);
            g[k] = (1..=k)
                .map(|j| j as f64 * self.0[j] * d[k - j])
                .sum::<f64>()
                / k as f64;
        }
        Jet(g)
    }
    /// tanh of the jet.
    pub fn tanh(&self) -> Jet {
        // t' = (1 - t²) a'
        self.ode(self.0[0].tanh(), |t, m| {
            (m == 0) as u8 as f64 - (0..=m).map(|i| t[i] * t[m - i]).sum::<f64>()
        })
    }
    /// Logistic sigmoid 1/(1 + e^(−a)) of the jet.
    pub fn sigmoid(&self) -> Jet {
        // s' = (s - s²) a'
        self.ode(sigmoid(self.0[0]), |s, m| {
            s[m] - (0..=m).map(|i| s[i] * s[m - i]).sum::<f64>()
        })
    }
    /// softplus ln(1 + e^a) of the jet.
    pub fn softplus(&self) -> Jet {
        self.integrate(crate::dsl::expr::softplus(self.0[0]), &self.sigmoid())
    }
    /// Error function erf of the jet.
    pub fn erf(&self) -> Jet {
        let g = self
            .mul(self)
            .neg()
            .exp()
            .scale(std::f64::consts::FRAC_2_SQRT_PI);
        self.integrate(libm::erf(self.0[0]), &g)
    }
    /// Square root (value must be positive).
    pub fn sqrt(&self) -> Jet {
        let n = self.n();
        let mut r = vec![0.0; n + 1];
        r[0] = self.0[0].sqrt();
        for k in 1..=n {
            let s: f64 = (1..k).map(|j| r[j] * r[k - j]).sum();
            r[k] = (self.0[k] - s) / (2.0 * r[0]);
        }
        Jet(r)
    }
    /// Integer power a^e, by repeated squaring.
    pub fn powi(&self, mut e: u64) -> Jet {
        let mut base = self.clone();
        let mut acc = Jet::constant(1.0, self.n());
        while e > 0 {
            if e & 1 == 1 {
                acc = acc.mul(&base);
            }
            base = base.mul(&base);
            e >>= 1;
        }
        acc
    }
    /// Power a^e with a jet exponent: exact for integer constants |e| ≤ 64, else exp(e ln a).
    pub fn pow(&self, e: &Jet) -> Jet {
        if e.is_constant() {
            let p = e.0[0];
            if p.fract() == 0.0 && p.abs() <= 64.0 {
                let r = self.powi(p.abs() as u64);
                return if p < 0.0 {
                    Jet::constant(1.0, self.n()).div(&r)
                } else {
                    r
                };
            }
        }
        e.mul(&self.ln()).exp()
    }
}

/// Logistic sigmoid 1/(1 + e^(−x)), without overflow for large |x|.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Evaluate `expr` on jets; variables come from `lookup` (the activation variable maps to a
/// non-constant jet, parameters to constants). `Err(name)` for an unbound variable or function.
pub fn eval_jet(
    expr: &Expr,
    n: usize,
    lookup: &dyn Fn(&str) -> Option<Jet>,
) -> Result<Jet, String> {
    let r = |e: &Expr| eval_jet(e, n, lookup);
    Ok(match expr {
        Expr::Num(v, _) => Jet::constant(*v, n),
        Expr::Var(v) => lookup(v).ok_or_else(|| v.clone())?,
        Expr::Neg(a) => r(a)?.neg(),
        Expr::Add(a, b) => r(a)?.add(&r(b)?),
        Expr::Sub(a, b) => r(a)?.sub(&r(b)?),
        Expr::Mul(a, b) => r(a)?.mul(&r(b)?),
        Expr::Div(a, b) => r(a)?.div(&r(b)?),
        Expr::Pow(a, b) => r(a)?.pow(&r(b)?),
        Expr::Call(f, args) => {
            let x = r(&args[0])?;
            match f.as_str() {
                "exp" => x.exp(),
                "log" => x.ln(),
                "sin" => x.sin_cos().0,
                "cos" => x.sin_cos().1,
                "tanh" => x.tanh(),
                "sigmoid" => x.sigmoid(),
                "softplus" => x.softplus(),
                "erf" => x.erf(),
                "sqrt" => x.sqrt(),
                _ => return Err(f.clone()),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + b.abs())
    }

    #[test]
    fn tanh_derivatives_match_closed_forms() {
        let z = 0.37;
        let j = Jet::variable(z, 4).tanh();
        let t: f64 = z.tanh();
        // tanh' = 1-t², tanh'' = -2t(1-t²), tanh''' = (1-t²)(6t²-2); c_k = f^(k)/k!
        assert!(close(j.0[1], 1.0 - t * t));
        assert!(close(j.0[2] * 2.0, -2.0 * t * (1.0 - t * t)));
        assert!(close(j.0[3] * 6.0, (1.0 - t * t) * (6.0 * t * t - 2.0)));
    }

    #[test]
    fn exp_log_sqrt_roundtrip() {
        let x = Jet::variable(0.8, 6);
        let y = x.exp().ln();
        for k in 0..=6 {
            assert!(close(y.0[k], x.0[k]), "{k}: {:?}", y.0);
        }
        let s = x.sqrt().mul(&x.sqrt());
        for k in 0..=6 {
            assert!(close(s.0[k], x.0[k]));
        }
    }

    #[test]
    fn sin_series_at_zero() {
        // sin t = t - t³/6 + t⁵/120
        let s = Jet::variable(0.0, 5).sin_cos().0;
        assert!(close(s.0[3], -1.0 / 6.0) && close(s.0[5], 1.0 / 120.0) && s.0[4].abs() < 1e-15);
    }

    #[test]
    fn erf_series_at_zero() {
        // erf t = 2/√π (t - t³/3 + t⁵/10)
        let e = Jet::variable(0.0, 5).erf();
        let c = std::f64::consts::FRAC_2_SQRT_PI;
        assert!(close(e.0[1], c) && close(e.0[3], -c / 3.0) && close(e.0[5], c / 10.0));
    }
}
