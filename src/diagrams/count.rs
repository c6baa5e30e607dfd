//! Counting diagrams without enumerating them (theory notes §2.6–2.7).
//!
//! Labelled diagrams of order n with H hidden layers: n!·[xⁿ] g^{∘H}(x), g(x) = eˣ − 1, computed on
//! exponential-generating-function coefficients with exact big integers. Unlabelled topologies:
//! A_m(n), trees whose top lies below layer m, satisfy A_{m+1} = A_m + (E[A_m] − A_m) on n ≥ 2,
//! where E is the Euler (multiset) transform.

use num_bigint::BigUint;
use num_traits::{One, Zero};

/// Refuse, before anything is allocated, counts whose big-integer tables would not fit the
/// memory budget or take longer than the work budget. The binomial table holds about n²/2
/// numbers of up to n bits (n³/48 bytes plus headers); every one of the H + 1 transforms takes
/// about n² products of numbers of up to n·log₂n bits.
pub fn counts_budget(n: usize, hidden: usize, memory_limit: f64) -> crate::Result<()> {
    let nf = n as f64;
    let bits = nf * nf.max(2.0).log2();
    crate::budget::memory(
        format!("counting the order-{n} diagrams (exact big-integer tables)"),
        nf.powi(3) / 32.0 + nf * nf * 32.0,
        memory_limit,
        "lower --order",
    )?;
    crate::budget::work(
        format!("counting the order-{n} diagrams of {hidden} hidden layer(s)"),
        (hidden as f64 + 2.0) * nf * nf * (1.0 + bits / 64.0),
        "lower --order",
    )
}

fn binomials(n: usize) -> Vec<Vec<BigUint>> {
    let mut c = vec![vec![BigUint::zero(); n + 1]; n + 1];
    for i in 0..=n {
        c[i][0] = BigUint::one();
        for j in 1..=i {
            c[i][j] = &c[i - 1][j - 1]
                + if j < i {
                    c[i - 1][j].clone()
                } else {
                    BigUint::zero()
                };
        }
    }
    c
}

/// e.g.f. coefficients f_k = k![x^k]F of exp(F) − 1, given those of F (f_0 = 0).
fn exp_minus_one(f: &[BigUint]) -> Vec<BigUint> {
    let n = f.len() - 1;
    let c = binomials(n);
    let mut g = vec![BigUint::zero(); n + 1];
    g[0] = BigUint::one();
    for m in 1..=n {
        // G' = F'G  ⇒  g_m = Σ_{k=1}^{m} C(m-1, k-1) f_k g_{m-k}
        let mut s = BigUint::zero();
        for k in 1..=m {
            s += &c[m - 1][k - 1] * &f[k] * &g[m - k];
        }
        g[m] = s;
    }
    g[0] = BigUint::zero();
    g
}

/// Labelled diagrams of orders 0..=n; with an output activation the root is one more vertex.
pub fn labelled_counts(n: usize, hidden: usize, output_activation: bool) -> Vec<BigUint> {
    let mut f = vec![BigUint::zero(); n + 1];
    if n >= 1 {
        f[1] = BigUint::one();
    }
    for _ in 0..hidden + output_activation as usize {
        f = exp_minus_one(&f);
    }
    f
}

/// Euler transform: number of multisets of total size n from a class with a_k objects of size k.
fn euler(a: &[BigUint]) -> Vec<BigUint> {
    let n = a.len() - 1;
    let mut c = vec![BigUint::zero(); n + 1];
    for k in 1..=n {
        for dv in 1..=k {
            if k % dv == 0 {
                c[k] += &a[dv] * BigUint::from(dv);
            }
        }
    }
    let mut b = vec![BigUint::zero(); n + 1];
    b[0] = BigUint::one();
    for m in 1..=n {
        let mut s = BigUint::zero();
        for k in 1..=m {
            s += &c[k] * &b[m - k];
        }
        b[m] = s / BigUint::from(m);
    }
    b
}

/// Unlabelled topologies (layer labels kept) of orders 0..=n.
pub fn unlabelled_counts(n: usize, hidden: usize, output_activation: bool) -> Vec<BigUint> {
    // a = A_m: trees below layer m; A_1 is the bare leaf.
    let mut a = vec![BigUint::zero(); n + 1];
    if n >= 1 {
        a[1] = BigUint::one();
    }
    for _ in 0..hidden {
        let e = euler(&a);
        // A_{m+1}(k) = A_m(k) + (E[A_m](k) − A_m(k)) = E[A_m](k) for k ≥ 2: the new trees are the
        // multisets of ≥ 2 subtrees below layer m.
        for k in 2..=n {
            a[k] = e[k].clone();
        }
    }
    if output_activation {
        let mut e = euler(&a);
        e[0] = BigUint::zero();
        return e;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(v: &[BigUint]) -> Vec<u64> {
        v.iter().map(|x| x.to_string().parse().unwrap()).collect()
    }

    #[test]
    fn labelled_counts_match_the_theory_table() {
        assert_eq!(u(&labelled_counts(7, 1, false))[1..], [1, 1, 1, 1, 1, 1, 1]);
        assert_eq!(
            u(&labelled_counts(7, 2, false))[1..],
            [1, 2, 5, 15, 52, 203, 877]
        );
        assert_eq!(
            u(&labelled_counts(7, 3, false))[1..],
            [1, 3, 12, 60, 358, 2471, 19302]
        );
        assert_eq!(
            u(&labelled_counts(7, 4, false))[1..],
            [1, 4, 22, 154, 1304, 12915, 146115]
        );
    }

    #[test]
    fn unlabelled_counts_match_the_theory_table() {
        assert_eq!(u(&unlabelled_counts(5, 2, false))[2..], [2, 3, 5, 7]);
        assert_eq!(u(&unlabelled_counts(5, 3, false))[2..], [3, 6, 14, 27]);
    }

    #[test]
    fn order_and_hidden_formulas() {
        // order 2 has H diagrams, order 3 has H + 3·C(H,2)
        for h in 1..8u64 {
            let c = u(&labelled_counts(3, h as usize, false));
            assert_eq!(c[2], h);
            assert_eq!(c[3], h + 3 * h * (h - 1) / 2);
        }
    }
}
