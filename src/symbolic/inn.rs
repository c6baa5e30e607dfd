//! Closed forms of the INN action (Symbolica thread only), by a route independent of the
//! numeric re-centred recursion: the exact change-of-variables log-density
//!
//! ```text
//! S(x) = ½|f(x)|² + (N/2) ln 2π − Σ_l ln|det W^l| − Σ_l Σ_i ln φ'_{l,i}(h^l_i(x))
//! ```
//!
//! expanded directly as a truncated series in the displacement δ = x − x0: every layer is pushed
//! through as homogeneous parts of degree 0..K in δ, and ln φ'(h0 + Δ) = ln φ'(h0) + Σ_n
//! (−1)^{n+1} u^n/n with u = (φ'(h0+Δ) − φ'(h0))/φ'(h0). Parameters are symbols: `W0_i_j`,
//! `b0_i`, `alpha0_i` (per neuron; a per-layer α is the case of equal entries), named after the
//! spec's parameters, 1-based indices; a nonzero point enters as `p_1 … p_N`.

use std::collections::{BTreeSet, HashMap};

use symbolica::atom::{Atom, AtomCore};
use symbolica::try_parse;

use super::routes::{poly_mul, Poly};
use super::{on_symbolica_thread, print, syms, ClosedForm, Style};
use crate::error::{Error, Result};
use crate::model::inn::{InnSpec, Phi};
use crate::numeric::multi_index::sorted_indices as monomials_of_degree;

/// Refuse closed forms of more than this many monomials (all orders together).
pub const MAX_INN_COEFFICIENTS: usize = 400;

/// The action's coefficients in closed form: monomial coefficients of S(x0 + δ), |α| ≤ order.
#[derive(Debug, Clone, PartialEq)]
pub struct InnClosedForms {
    /// Model name.
    pub model: String,
    /// Truncation order.
    pub order: usize,
    /// Dimension N.
    pub dim: usize,
    /// The expansion point x0, when it is not the origin.
    pub point: Option<Vec<f64>>,
    /// In the monomial order of `feynn action` (graded, lexicographic within a degree).
    pub coefficients: Vec<ClosedForm>,
    /// Names of the parameter and point symbols the expressions use.
    pub symbols: BTreeSet<String>,
}

fn rational_atom(r: &num_rational::BigRational) -> Atom {
    try_parse!(&format!("({})/({})", r.numer(), r.denom())).expect("a rational parses")
}

/// φ as ascending coefficients, φ' likewise, in symbols for neuron i of layer l.
fn phi_coeffs(phi: &Phi, alpha: &str, beta: &str, i: usize) -> Vec<Atom> {
    match phi {
        Phi::Linear => vec![Atom::num(0), Atom::num(1)],
        Phi::Quad => vec![
            Atom::num(0),
            Atom::num(1),
            Atom::var(syms::param(alpha, &[i + 1])),
        ],
        Phi::Cubic => vec![
            Atom::num(0),
            Atom::num(1),
            Atom::var(syms::param(alpha, &[i + 1])),
            Atom::var(syms::param(beta, &[i + 1])),
        ],
        Phi::Poly { coeffs, .. } => coeffs.iter().map(rational_atom).collect(),
    }
}

/// p(h) for a polynomial with ascending coefficients c and a series h (by Horner).
fn poly_of(c: &[Atom], h: &Poly) -> Poly {
    let order = h.len() - 1;
    let mut acc = vec![Atom::num(0); order + 1];
    for coeff in c.iter().rev() {
        acc = poly_mul(h, &acc);
        acc[0] = (&acc[0] + coeff).expand();
    }
    acc
}

fn det(m: &[Vec<Atom>]) -> Atom {
    let n = m.len();
    if n == 1 {
        return m[0][0].clone();
    }
    // Laplace expansion along the first row: small N only (the caller limits N)
    let mut terms = vec![];
    for j in 0..n {
        let minor: Vec<Vec<Atom>> = m[1..]
            .iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .filter(|(k, _)| *k != j)
                    .map(|(_, a)| a.clone())
                    .collect()
            })
            .collect();
        let t = &m[0][j] * &det(&minor);
        terms.push(if j % 2 == 0 { t } else { -t });
    }
    Atom::add_many(terms.iter()).expand()
}

/// Closed forms of the action of `spec` to `order` at `x0`, in `style`.
pub fn inn_closed_forms(
    spec: &InnSpec,
    order: usize,
    x0: &[f64],
    style: Style,
) -> Result<InnClosedForms> {
    let n = spec.dim;
    let count: usize = (0..=order).map(|d| monomials_of_degree(n, d).len()).sum();
    // the expanded forms grow very fast with depth and order (2 layers, N = 2, order 4 already
    // takes minutes): refuse beyond what stays interactive
    let layers = spec.layers.len();
    if count > MAX_INN_COEFFICIENTS || n > 3 || layers > 2 || order > 4 {
        return Err(Error::TooLarge {
            what: format!(
                "closed forms of the order-{order} action of {layers} layers in {n} dimensions"
            ),
            predicted: format!("{count} coefficients"),
            limit: format!(
                "N ≤ 3, at most 2 layers, order ≤ 4, {MAX_INN_COEFFICIENTS} coefficients"
            ),
            help: "lower --order; the numbers (without --symbolic) work at any size".into(),
        });
    }
    if x0.len() != n {
        return Err(Error::invalid(
            format!(
                "the expansion point has {} coordinates, the network {n}",
                x0.len()
            ),
            "give one value per dimension",
        ));
    }
    let point = x0.iter().any(|v| *v != 0.0).then(|| x0.to_vec());
    let spec2 = spec.clone();
    let (coefficients, symbols) =
        on_symbolica_thread(move || -> Result<(Vec<ClosedForm>, BTreeSet<String>)> {
            let forms = expand_action(&spec2, order, point.is_some());
            let mut symbols = BTreeSet::new();
            let mut printer = print::Printer::new(style);
            let coefficients = forms
                .into_iter()
                .map(|(index, atom)| {
                    for s in atom.get_all_symbols(false) {
                        if s != symbolica::atom::Symbol::PI && s != symbolica::atom::Symbol::E {
                            symbols.insert(s.get_stripped_name().to_string());
                        }
                    }
                    ClosedForm {
                        index,
                        expr: printer.print(&atom),
                        terms: atom.nterms(),
                    }
                })
                .collect();
            Ok((coefficients, symbols))
        })?;
    Ok(InnClosedForms {
        model: spec.name.clone(),
        order,
        dim: n,
        point: x0.iter().any(|v| *v != 0.0).then(|| x0.to_vec()),
        coefficients,
        symbols,
    })
}

/// (multi-index, coefficient) for every |α| ≤ order (Symbolica thread).
fn expand_action(spec: &InnSpec, order: usize, point: bool) -> Vec<(Vec<u32>, Atom)> {
    let n = spec.dim;
    let k = order.max(2);
    let d: Vec<Atom> = (0..n)
        .map(|i| Atom::var(syms::internal(&format!("feynn_d_{i}"))))
        .collect();
    let zero = || Atom::num(0);
    let mut y: Vec<Poly> = (0..n)
        .map(|i| {
            let mut p = vec![zero(); k + 1];
            if point {
                p[0] = Atom::var(syms::param("p", &[i + 1]));
            }
            p[1] = d[i].clone();
            p
        })
        .collect();
    let mut s = vec![zero(); k + 1];
    let half_ln_2pi = try_parse!("log(2*pi)/2").expect("parses");
    s[0] = &half_ln_2pi * &Atom::num(n as i64);
    for layer in &spec.layers {
        let w: Vec<Vec<Atom>> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| Atom::var(syms::param(&layer.weight, &[i + 1, j + 1])))
                    .collect()
            })
            .collect();
        // − ln|det W| = −½ ln(det W)²
        let dw = det(&w);
        s[0] = (&s[0]
            - &(try_parse!("log(feynn_z^2)/2")
                .expect("parses")
                .replace(Atom::var(syms::special(|sp| sp.z)))
                .with(dw)))
            .expand();
        let mut next = Vec::with_capacity(n);
        for i in 0..n {
            let b = Atom::var(syms::param(&layer.bias, &[i + 1]));
            let h: Poly = (0..=k)
                .map(|deg| {
                    let lin = Atom::add_many(w[i].iter().zip(&y).map(|(wij, yj)| wij * &yj[deg]));
                    if deg == 0 { lin + &b } else { lin }.expand()
                })
                .collect();
            let c = phi_coeffs(&layer.phi, &layer.alpha, &layer.beta, i);
            next.push(poly_of(&c, &h));
            // ln φ'(h): φ' coefficients
            let dc: Vec<Atom> = c
                .iter()
                .enumerate()
                .skip(1)
                .map(|(r, a)| (a * &Atom::num(r as i64)).expand())
                .collect();
            let g = poly_of(&dc, &h);
            let g0 = g[0].clone();
            let mut u = g.clone();
            u[0] = zero();
            let inv = Atom::num(1) / &g0;
            let u: Poly = u.iter().map(|t| (t * &inv).expand()).collect();
            // ln(1 + u) = Σ_m (−1)^{m+1} u^m / m, u of degree ≥ 1: m ≤ K suffices
            let mut um = u.clone();
            let mut ln = vec![zero(); k + 1];
            ln[0] = try_parse!("log(feynn_z)")
                .expect("parses")
                .replace(Atom::var(syms::special(|sp| sp.z)))
                .with(g0);
            for m in 1..=k {
                let coef = Atom::num((if m % 2 == 1 { 1i64 } else { -1 }, m as i64));
                for deg in 1..=k {
                    ln[deg] = (&ln[deg] + &(&um[deg] * &coef)).expand();
                }
                um = poly_mul(&um, &u);
            }
            for deg in 0..=k {
                s[deg] = (&s[deg] - &ln[deg]).expand();
            }
        }
        y = next;
    }
    // ½ |z|²
    for zi in &y {
        let sq = poly_mul(zi, zi);
        for deg in 0..=k {
            s[deg] = (&s[deg] + &(&sq[deg] * &Atom::num((1i64, 2i64)))).expand();
        }
    }
    let mut out = vec![];
    for (deg, part) in s.iter().enumerate().take(order + 1) {
        let alphas = monomials_of_degree(n, deg);
        let mut table: HashMap<Atom, Atom> = HashMap::new();
        if deg == 0 {
            table.insert(Atom::num(1), part.clone());
        } else {
            for (mono, c) in part.coefficient_list::<u16>(&d) {
                table.insert(mono, c);
            }
        }
        for alpha in alphas {
            let mono = Atom::mul_many(alpha.iter().map(|&i| &d[i as usize]));
            let key = if deg == 0 { Atom::num(1) } else { mono };
            out.push((alpha, table.remove(&key).unwrap_or_else(zero)));
        }
    }
    out
}

/// The closed forms evaluated at a network's parameters (Symbolica's evaluator), in the order of
/// [`InnClosedForms::coefficients`]: the independent route the tests compare with the recursion.
pub fn evaluate_inn_closed_forms(
    spec: &InnSpec,
    inn: &crate::model::inn::Inn<f64>,
    order: usize,
    x0: &[f64],
) -> Result<Vec<(Vec<u32>, f64)>> {
    let n = spec.dim;
    let mut values: HashMap<String, f64> = HashMap::new();
    for (l, (ls, layer)) in spec.layers.iter().zip(&inn.layers).enumerate() {
        let _ = l;
        for i in 0..n {
            for j in 0..n {
                values.insert(
                    format!("{}_{}_{}", ls.weight, i + 1, j + 1),
                    layer.w[i * n + j],
                );
            }
            values.insert(format!("{}_{}", ls.bias, i + 1), layer.b[i]);
            if ls.uses_alpha() {
                values.insert(
                    format!("{}_{}", ls.alpha, i + 1),
                    layer.phi[i].get(2).copied().unwrap_or(0.0),
                );
            }
            if ls.phi == Phi::Cubic {
                values.insert(
                    format!("{}_{}", ls.beta, i + 1),
                    layer.phi[i].get(3).copied().unwrap_or(0.0),
                );
            }
        }
    }
    for (i, v) in x0.iter().enumerate() {
        values.insert(format!("p_{}", i + 1), *v);
    }
    let point = x0.iter().any(|v| *v != 0.0);
    let spec2 = spec.clone();
    on_symbolica_thread(move || -> Result<Vec<(Vec<u32>, f64)>> {
        let forms = expand_action(&spec2, order, point);
        let mut out = vec![];
        for (index, atom) in forms {
            let mut map: HashMap<Atom, f64> = HashMap::new();
            for s in atom.get_all_symbols(false) {
                if let Some(v) = values.get(s.get_stripped_name()) {
                    map.insert(Atom::var(s), *v);
                }
            }
            let v = atom.evaluate(&map).map_err(|e| {
                Error::invalid(
                    format!("cannot evaluate the closed form of {index:?}: {e:?}"),
                    "a parameter has no value",
                )
            })?;
            out.push((index, v));
        }
        Ok(out)
    })
}
