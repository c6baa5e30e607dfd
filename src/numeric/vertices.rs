//! Vertex factors: the Taylor coefficients σ^(k)(z0)/k! of an activation at a pre-activation,
//! without allocating, for the per-neuron loops of the plans.
//!
//! tanh and sigmoid follow their Riccati equations (t' = 1 − t², s' = s − s²) order by order;
//! every other activation goes through [`Activation::taylor_coefficients`] (the exact jet
//! recurrences of its expression).

use crate::error::Result;
use crate::model::{Activation, Builtin};

/// Writes σ^(k)(z0)/k! for k = 0..out.len() into `out`.
pub fn taylor_into(act: &Activation, z0: f64, out: &mut [f64]) -> Result<()> {
    let n = out.len();
    if n == 0 {
        return Ok(());
    }
    match act {
        Activation::Builtin(Builtin::Tanh) => riccati(z0.tanh(), out, |g, m| {
            (m == 0) as u8 as f64 - (0..=m).map(|i| g[i] * g[m - i]).sum::<f64>()
        }),
        Activation::Builtin(Builtin::Sigmoid) => {
            riccati(crate::model::jet::sigmoid(z0), out, |g, m| {
                g[m] - (0..=m).map(|i| g[i] * g[m - i]).sum::<f64>()
            })
        }
        Activation::Builtin(Builtin::Identity) => {
            out.iter_mut().for_each(|v| *v = 0.0);
            out[0] = z0;
            if n > 1 {
                out[1] = 1.0;
            }
        }
        _ => {
            let c = act.taylor_coefficients(z0, n - 1)?;
            out.copy_from_slice(&c);
        }
    }
    Ok(())
}

/// g' = P(g) along z = z0 + t: g_k = P_{k−1}/k, where `rhs(g, m)` is coefficient m of P(g)
/// (needs g_0..g_m).
fn riccati(g0: f64, g: &mut [f64], rhs: impl Fn(&[f64], usize) -> f64) {
    g[0] = g0;
    for k in 1..g.len() {
        g[k] = rhs(g, k - 1) / k as f64;
    }
}

/// Writes σ^(k)(z0) (derivatives, not divided by k!) for k = 0..out.len().
pub fn derivatives_into(act: &Activation, z0: f64, out: &mut [f64]) -> Result<()> {
    if let (Activation::Builtin(Builtin::Tanh), 1..=4) = (act, out.len()) {
        // the diagram plan's forward pass (k ≤ 3) per neuron and point: polynomials in t
        // (σ′ = 1 − t², σ″ = −2tσ′, σ‴ = (6t² − 2)σ′), not the general recurrence
        let t = z0.tanh();
        let s = 1.0 - t * t;
        let all = [t, s, -2.0 * t * s, (6.0 * t * t - 2.0) * s];
        out.copy_from_slice(&all[..out.len()]);
        return Ok(());
    }
    taylor_into(act, z0, out)?;
    let mut fact = 1.0;
    for (k, v) in out.iter_mut().enumerate().skip(1) {
        fact *= k as f64;
        *v *= fact;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derivatives (the closed forms for tanh, the recurrences scaled by k! otherwise)
    /// agree with the expression jets.
    #[test]
    fn derivatives_match_the_jets() {
        for b in Builtin::ALL {
            let act = Activation::Builtin(b);
            for z in [-1.3, -0.2, 0.0, 0.7, 2.1] {
                let zj = crate::model::jet::Jet::variable(z, 3);
                let slow = crate::model::jet::eval_jet(&act.body().unwrap(), 3, &|v| {
                    (v == "z").then(|| zj.clone())
                })
                .unwrap()
                .0;
                for len in 1..=4 {
                    let mut fast = vec![0.0; len];
                    derivatives_into(&act, z, &mut fast).unwrap();
                    let mut fact = 1.0;
                    for k in 0..len {
                        fact *= k.max(1) as f64;
                        let want = slow[k] * fact;
                        assert!(
                            (fast[k] - want).abs() <= 1e-13 * (1.0 + want.abs()),
                            "{} at {z}, k = {k} of {len}: {} vs {want}",
                            b.name(),
                            fast[k]
                        );
                    }
                }
            }
        }
    }

    /// The allocation-free recurrences agree with the expression jets.
    #[test]
    fn recurrences_match_the_jets() {
        for b in Builtin::ALL {
            let act = Activation::Builtin(b);
            for z in [-1.3, -0.2, 0.0, 0.7, 2.1] {
                let mut fast = [0.0; 8];
                taylor_into(&act, z, &mut fast).unwrap();
                let body = act.body().unwrap();
                let zj = crate::model::jet::Jet::variable(z, 7);
                let slow =
                    crate::model::jet::eval_jet(&body, 7, &|v| (v == "z").then(|| zj.clone()))
                        .unwrap()
                        .0;
                for k in 0..8 {
                    assert!(
                        (fast[k] - slow[k]).abs() <= 1e-13 * (1.0 + slow[k].abs()),
                        "{} at {z}, k = {k}: {} vs {}",
                        b.name(),
                        fast[k],
                        slow[k]
                    );
                }
            }
        }
    }
}
