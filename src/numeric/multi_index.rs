//! Multi-indices: sorted lists of 0-based input positions with repetition (`[0, 0, 2]` is
//! x1²·x3), the one representation of monomials, tensor entries and derivatives in feynn — the
//! enumeration in graded order (the order of `feynn taylor`'s JSON), flat tensor positions,
//! multinomials and α!.

/// Every sorted multi-index of degree `k` in `n` variables, lexicographic.
pub fn sorted_indices(n: usize, k: usize) -> Vec<Vec<u32>> {
    let mut out = vec![vec![]];
    for _ in 0..k {
        let mut next = Vec::new();
        for m in &out {
            let last = m.last().copied().unwrap_or(0);
            for i in last..n as u32 {
                let mut v = m.clone();
                v.push(i);
                next.push(v);
            }
        }
        out = next;
    }
    out
}

/// The graded monomial list of degree ≤ K (the order of `feynn taylor`'s JSON).
pub fn graded_monomials(n: usize, order: usize) -> Vec<Vec<u32>> {
    (0..=order).flat_map(|k| sorted_indices(n, k)).collect()
}

/// Flat row-major position of an index list.
pub fn flat(idx: &[u32], n: usize) -> usize {
    idx.iter().fold(0usize, |acc, &i| acc * n + i as usize)
}

/// k!/Π m_i! for a sorted index list (the number of its orderings).
pub fn multinomial(idx: &[u32]) -> u64 {
    let mut out: u64 = 1;
    let mut run = 0u64;
    for (p, w) in idx.iter().enumerate() {
        if p > 0 && idx[p - 1] == *w {
            run += 1;
        } else {
            run = 1;
        }
        // multiply by (p+1)/run, kept integral by the binomial identity
        out = out * (p as u64 + 1) / run;
    }
    out
}

/// (index, multiplicity) groups of a sorted index list.
pub fn groups(idx: &[u32]) -> Vec<(u32, usize)> {
    let mut g: Vec<(u32, usize)> = Vec::new();
    for &i in idx {
        match g.last_mut() {
            Some((j, m)) if *j == i => *m += 1,
            _ => g.push((i, 1)),
        }
    }
    g
}

/// α! = Π (multiplicity of each index)! for a sorted multi-index.
pub fn alpha_factorial(alpha: &[u32]) -> u64 {
    let mut f = 1u64;
    let mut run = 0u64;
    for (i, a) in alpha.iter().enumerate() {
        run = if i > 0 && alpha[i - 1] == *a {
            run + 1
        } else {
            1
        };
        f *= run;
    }
    f
}

/// α! in floating point (no overflow for high orders: 21! already exceeds `u64`).
pub fn alpha_factorial_f64(alpha: &[u32]) -> f64 {
    let mut f = 1.0;
    let mut run = 1.0;
    for w in alpha.windows(2) {
        if w[0] == w[1] {
            run += 1.0;
            f *= run;
        } else {
            run = 1.0;
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_binomials() {
        // C(n + k − 1, k) sorted multi-indices of degree k in n variables
        assert_eq!(sorted_indices(3, 2).len(), 6);
        assert_eq!(sorted_indices(4, 3).len(), 20);
        assert_eq!(graded_monomials(2, 3).len(), 10);
    }

    #[test]
    fn factorials_agree() {
        for a in [vec![], vec![0, 0, 1], vec![1, 1, 1, 2, 2], vec![3; 6]] {
            assert_eq!(alpha_factorial(&a) as f64, alpha_factorial_f64(&a));
        }
        assert_eq!(alpha_factorial(&[2, 2, 2, 5, 5]), 12);
    }
}
