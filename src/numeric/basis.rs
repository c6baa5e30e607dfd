//! Monomials h^α of degree ≤ N in d variables, written as sorted index lists with
//! repetition (`[0,0,2]` is h0²·h2), and the truncated product table between them.

use std::collections::HashMap;

use crate::error::{human_bytes, Error, Result};

/// The graded basis: degree 0 (`[]`), then degree 1, …, each degree in lexicographic order.
#[derive(Debug, Clone)]
pub struct Basis {
    /// Number of inputs d.
    pub d: usize,
    /// Highest total degree.
    pub order: usize,
    /// The monomials as 0-based sorted multi-indices, in basis order.
    pub monomials: Vec<Vec<u32>>,
    index: HashMap<Vec<u32>, u32>,
    /// For each non-constant monomial a: the pairs (b, a·b) with b non-constant and deg(a·b) ≤ N.
    pub products: Vec<Vec<(u32, u32)>>,
    /// `upto[k]`: number of monomials of degree ≤ k (the basis is graded).
    pub upto: Vec<usize>,
}

/// Number of monomials of degree ≤ n in d variables: C(d+n, n), or None on overflow.
pub fn count_monomials(d: usize, n: usize) -> Option<u128> {
    binomial(d.checked_add(n)?, n)
}

/// C(a, k) in min(k, a − k) checked steps, or None on overflow.
fn binomial(a: usize, k: usize) -> Option<u128> {
    let k = k.min(a - k);
    let top = (a - k) as u128;
    let mut c: u128 = 1;
    for i in 1..=k as u128 {
        // c·(top+i) is divisible by i: c = C(top+i-1, i-1)
        c = c.checked_mul(top + i)? / i;
    }
    Some(c)
}

/// Number of (a, b) product pairs the table holds: pairs of non-constant monomials with
/// deg a + deg b ≤ n, Σ_{i≥1} C(d−1+i, i)(C(d+n−i, n−i) − 1) = C(2d+n, n) − 2·C(d+n, n) + 1
/// (a Vandermonde convolution), in O(min(n, d)) checked steps.
fn count_products(d: usize, n: usize) -> Option<u128> {
    if d == 0 {
        return Some(0);
    }
    let all = binomial(d.checked_mul(2)?.checked_add(n)?, n)?;
    let m = count_monomials(d, n)?;
    Some(all.checked_add(1)? - m - m)
}

/// Predicted multiply-adds of one expansion of a network with `neurons` neurons and `params`
/// weights: every neuron's activation polynomial takes `n` truncated products, every weight
/// one pass over the monomials.
pub fn predicted_work(d: usize, n: usize, neurons: usize, params: usize) -> f64 {
    let m = count_monomials(d, n).map_or(f64::INFINITY, |c| c as f64);
    let p = count_products(d, n).map_or(f64::INFINITY, |c| c as f64);
    // measured: about 8 ns per truncated product term in a debug-profile (opt-level 1) build
    8.0 * (neurons as f64 * n as f64 * (p + m) + params as f64 * m)
}

/// Predicted bytes to expand a network of maximal width `w` to order n in d inputs.
pub fn predicted_bytes(d: usize, n: usize, w: usize) -> Option<f64> {
    let m = count_monomials(d, n)? as f64;
    let p = count_products(d, n)? as f64;
    Some(m * 8.0 * (2.0 * w as f64 + 4.0) + m * 40.0 + p * 8.0)
}

impl Basis {
    /// Build the basis, refusing (before allocating) when it would exceed `limit_bytes`.
    pub fn new(d: usize, order: usize, width: usize, limit_bytes: f64) -> Result<Basis> {
        let predicted = predicted_bytes(d, order, width).unwrap_or(f64::INFINITY);
        let limit_bytes = crate::budget::effective_memory_limit(limit_bytes);
        if predicted > limit_bytes {
            return Err(Error::TooLarge {
                what: format!(
                    "the order-{order} Taylor tensor of a {d}-input network (width {width})"
                ),
                predicted: human_bytes(predicted),
                limit: human_bytes(limit_bytes),
                help: format!(
                    "{} monomials; lower --order, expand in fewer inputs, or raise --memory-limit",
                    count_monomials(d, order).map_or("too many".into(), |c| c.to_string())
                ),
            });
        }
        let mut basis = Basis::layout(d, order);
        let mut products = vec![vec![]; basis.monomials.len()];
        for (a, ma) in basis.monomials.iter().enumerate().skip(1) {
            for (b, mb) in basis.monomials.iter().enumerate().skip(1) {
                if ma.len() + mb.len() > order {
                    break; // graded order: later b have higher degree
                }
                let mut m: Vec<u32> = ma.iter().chain(mb).copied().collect();
                m.sort_unstable();
                products[a].push((b as u32, basis.index[&m]));
            }
        }
        basis.products = products;
        Ok(basis)
    }

    /// The monomials and their index without the product table (the plans that never
    /// multiply series: diagrams, jets). The caller has checked the memory prediction.
    pub fn layout(d: usize, order: usize) -> Basis {
        let monomials = super::multi_index::graded_monomials(d, order);
        let index: HashMap<Vec<u32>, u32> = monomials
            .iter()
            .enumerate()
            .map(|(i, m)| (m.clone(), i as u32))
            .collect();
        let upto = (0..=order)
            .map(|k| monomials.iter().take_while(|m| m.len() <= k).count())
            .collect();
        Basis {
            d,
            order,
            products: vec![],
            monomials,
            index,
            upto,
        }
    }

    /// Whether the product table is present ([`Basis::new`]; [`Basis::layout`] has none).
    pub fn has_products(&self) -> bool {
        self.order < 2 || !self.products.is_empty()
    }

    /// Number of monomials.
    pub fn len(&self) -> usize {
        self.monomials.len()
    }
    /// Whether the basis has no monomials.
    pub fn is_empty(&self) -> bool {
        self.monomials.is_empty()
    }
    /// Position of the monomial `m` (0-based sorted multi-index) in the basis.
    pub fn index_of(&self, m: &[u32]) -> Option<usize> {
        self.index.get(m).map(|&i| i as usize)
    }
    /// α! = Π (multiplicity of each index)!
    pub fn alpha_factorial(m: &[u32]) -> f64 {
        super::multi_index::alpha_factorial_f64(m)
    }

    /// out = p · q truncated at degree `max_deg` (entries above it are set to 0), for p
    /// without constant term.
    pub fn mul_into(&self, p: &[f64], q: &[f64], out: &mut [f64], max_deg: usize) {
        assert!(
            self.has_products(),
            "series products need Basis::new (the layout has no product table)"
        );
        let end = self.upto[max_deg.min(self.order)];
        let q0 = q[0];
        out[0] = 0.0;
        for i in 1..end {
            out[i] = p[i] * q0;
        }
        out[end..].iter_mut().for_each(|v| *v = 0.0);
        for (a, pairs) in self.products.iter().enumerate().take(end).skip(1) {
            let pa = p[a];
            if pa == 0.0 {
                continue;
            }
            // pairs are in graded order of b, so the product's degree never decreases
            for &(b, c) in pairs {
                if c as usize >= end {
                    break;
                }
                out[c as usize] += pa * q[b as usize];
            }
        }
    }
}

/// Scratch space of [`Basis::compose`], reused across the neurons of a layer.
#[derive(Debug, Clone)]
pub struct ComposeBuffers {
    p: Vec<f64>,
    acc: Vec<f64>,
    scratch: Vec<f64>,
}

impl ComposeBuffers {
    /// Buffers for series of `len` coefficients (the basis length).
    pub fn new(len: usize) -> ComposeBuffers {
        ComposeBuffers {
            p: vec![0.0; len],
            acc: vec![0.0; len],
            scratch: vec![0.0; len],
        }
    }
}

impl Basis {
    /// Replace the truncated series `row` = z0 + p(h) (z0 = `row[0]`) by f(z0 + p) =
    /// Σ_k c_k p^k, given `c[k]` = f^(k)(z0)/k! for k = 0..=order (Horner's rule). The product
    /// acc·p is truncated at degree order − k at step k: acc_k is multiplied by p k more times, so
    /// degrees above that never matter.
    pub fn compose(&self, c: &[f64], row: &mut [f64], buf: &mut ComposeBuffers) {
        let n = self.order;
        debug_assert!(c.len() > n, "need c_0..c_order");
        let ComposeBuffers { p, acc, scratch } = buf;
        p.iter_mut().zip(row.iter()).for_each(|(d, s)| *d = *s);
        p[0] = 0.0;
        acc.iter_mut().for_each(|v| *v = 0.0);
        acc[0] = c[n];
        for k in (0..n).rev() {
            self.mul_into(p, acc, scratch, n - k);
            std::mem::swap(acc, scratch);
            acc[0] += c[k];
        }
        row.iter_mut().zip(acc.iter()).for_each(|(d, s)| *d = *s);
    }

    /// The product a·b of two series, truncated at the basis order.
    pub fn mul_series(&self, a: &[f64], b: &[f64]) -> Vec<f64> {
        let mut p = a.to_vec();
        p[0] = 0.0;
        let mut out = vec![0.0; self.len()];
        self.mul_into(&p, b, &mut out, self.order);
        for (o, bv) in out.iter_mut().zip(b) {
            *o += a[0] * bv;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_binomials() {
        let b = Basis::new(64, 2, 1, 1e12).unwrap();
        assert_eq!(b.len(), 1 + 64 + 2080);
        assert_eq!(
            count_monomials(64, 3).unwrap() - count_monomials(64, 2).unwrap(),
            45760
        );
        assert_eq!(b.monomials[65], vec![0, 0]);
        assert_eq!(Basis::alpha_factorial(&[0, 0, 2, 2, 2]), 12.0);
    }

    #[test]
    fn product_counts_match_the_table() {
        // truth: the product table Basis::new builds pair by pair
        for d in 1..5 {
            for n in 0..7 {
                let b = Basis::new(d, n, 1, 1e12).unwrap();
                let built: usize = b.products.iter().map(Vec::len).sum();
                assert_eq!(count_products(d, n), Some(built as u128), "d={d} n={n}");
                assert_eq!(count_monomials(d, n), Some(b.len() as u128));
            }
        }
        // huge requests are answered at once, without overflow
        assert_eq!(count_monomials(1, 100_000_000_000), Some(100_000_000_001));
        assert_eq!(count_monomials(64, usize::MAX), None);
        assert!(predicted_bytes(3, 1_000_000_000_000, 5).unwrap_or(f64::INFINITY) > 1e15);
    }

    #[test]
    fn product_matches_direct_expansion() {
        // (h0 + 2 h1)·(1 + h0 h1) = h0 + 2h1 + h0²h1 + 2h0h1² truncated at order 3
        let b = Basis::new(2, 3, 1, 1e12).unwrap();
        let mut p = vec![0.0; b.len()];
        p[b.index_of(&[0]).unwrap()] = 1.0;
        p[b.index_of(&[1]).unwrap()] = 2.0;
        let mut q = vec![0.0; b.len()];
        q[0] = 1.0;
        q[b.index_of(&[0, 1]).unwrap()] = 1.0;
        let mut out = vec![0.0; b.len()];
        b.mul_into(&p, &q, &mut out, 3);
        assert_eq!(out[b.index_of(&[0, 0, 1]).unwrap()], 1.0);
        assert_eq!(out[b.index_of(&[0, 1, 1]).unwrap()], 2.0);
        assert_eq!(out[b.index_of(&[1]).unwrap()], 2.0);
        assert_eq!(out.iter().sum::<f64>(), 6.0);
    }

    #[test]
    fn refuses_before_allocating() {
        let e = Basis::new(1000, 8, 100, 1e9).unwrap_err();
        assert!(e.to_string().starts_with("refused:"), "{e}");
    }
}
