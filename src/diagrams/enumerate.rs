//! Enumeration of labelled diagrams (set-partition recursion, §2.4) and unlabelled topologies.

use num_bigint::BigUint;
use std::collections::HashMap;
use std::ops::ControlFlow;

use super::Node;

/// Visit every set partition of `items` into blocks (blocks in order of their first element),
/// streamed: memory O(n²) instead of all Bell(n) partitions at once (order 14 held 1.9·10⁸ of
/// them, 16 GB).
fn for_each_set_partition(
    items: &[usize],
    f: &mut dyn FnMut(&[Vec<usize>]) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let Some((&first, rest)) = items.split_first() else {
        return f(&[]);
    };
    for_each_set_partition(rest, &mut |p: &[Vec<usize>]| {
        // `first` opens a new block, or joins an existing one.
        let mut q: Vec<Vec<usize>> = Vec::with_capacity(p.len() + 1);
        q.push(vec![first]);
        q.extend(p.iter().cloned());
        f(&q)?;
        for i in 0..p.len() {
            let mut q = p.to_vec();
            q[i].insert(0, first);
            q.sort_by_key(|b| b[0]);
            f(&q)?;
        }
        ControlFlow::Continue(())
    })
}

/// Predicted operations of enumerating the labelled diagrams of order n: the recursion visits
/// every set partition of every subset of the n slots, Σ_k C(n,k)·Bell(k) = Bell(n+1), whatever
/// the number of diagrams (saturating).
pub fn labelled_enumeration_work(n: usize) -> f64 {
    // Bell triangle up to Bell(n+1)
    let mut row = vec![1.0f64];
    for _ in 0..=n {
        let mut next = vec![*row.last().unwrap()];
        for v in &row {
            let x = next.last().unwrap() + v;
            next.push(x);
        }
        row = next;
        if !row[0].is_finite() {
            return f64::INFINITY;
        }
    }
    // measured: about 300 ns per visited partition (cloned blocks, memo look-ups)
    row[0] * (n as f64 + 1.0) * 300.0
}

struct Labelled {
    memo: HashMap<(Vec<usize>, usize), Vec<Node>>,
}

impl Labelled {
    /// Subdiagrams on leaf set `s` whose top lies strictly below layer `below`.
    fn below(&mut self, s: &[usize], below: usize) -> Vec<Node> {
        if s.len() == 1 {
            return vec![Node::Leaf(s[0])];
        }
        let key = (s.to_vec(), below);
        if let Some(v) = self.memo.get(&key) {
            return v.clone();
        }
        let mut out = Vec::new();
        for layer in 1..below {
            out.extend(self.at(s, layer, 2));
        }
        self.memo.insert(key, out.clone());
        out
    }

    /// Diagrams on `s` with the top vertex in `layer`, taking at least `min_legs` lines.
    fn at(&mut self, s: &[usize], layer: usize, min_legs: usize) -> Vec<Node> {
        let mut out = Vec::new();
        let _ = self.each_at(s, layer, min_legs, &mut |d| {
            out.push(d);
            ControlFlow::Continue(())
        });
        out
    }

    /// Stream the diagrams of [`Self::at`]: a vertex over every set partition of `s` into at
    /// least `min_legs` blocks, with every combination of the blocks' subdiagrams.
    fn each_at(
        &mut self,
        s: &[usize],
        layer: usize,
        min_legs: usize,
        f: &mut dyn FnMut(Node) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        for_each_set_partition(s, &mut |p: &[Vec<usize>]| {
            if p.len() < min_legs {
                return ControlFlow::Continue(());
            }
            let options: Vec<Vec<Node>> = p.iter().map(|b| self.below(b, layer)).collect();
            if options.iter().any(|o| o.is_empty()) {
                return ControlFlow::Continue(());
            }
            // Odometer over the Cartesian product of the options.
            let mut idx = vec![0usize; options.len()];
            loop {
                f(Node::Vertex {
                    layer,
                    children: idx
                        .iter()
                        .zip(&options)
                        .map(|(&i, o)| o[i].clone())
                        .collect(),
                })?;
                let mut k = 0;
                while k < idx.len() {
                    idx[k] += 1;
                    if idx[k] < options[k].len() {
                        break;
                    }
                    idx[k] = 0;
                    k += 1;
                }
                if k == idx.len() {
                    break;
                }
            }
            ControlFlow::Continue(())
        })
    }
}

/// Visit every labelled diagram of order `n` (leaves = slots 0..n). Callers check the count
/// first ([`super::labelled_counts`]): subdiagrams are memoised, the top level is streamed.
pub fn for_each_labelled(
    n: usize,
    hidden: usize,
    output_activation: bool,
    mut f: impl FnMut(&Node) -> ControlFlow<()>,
) {
    if n == 0 {
        return;
    }
    let slots: Vec<usize> = (0..n).collect();
    let mut gen = Labelled {
        memo: HashMap::new(),
    };
    let top_layer = hidden + 1;
    let mut visit = |d: Node| f(&d);
    if output_activation {
        // the output neuron is a vertex taking k ≥ 1 lines
        let _ = gen.each_at(&slots, top_layer, 1, &mut visit);
    } else if n == 1 {
        let _ = visit(Node::Leaf(0));
    } else {
        for layer in 1..top_layer {
            if gen.each_at(&slots, layer, 2, &mut visit).is_break() {
                return;
            }
        }
    }
}

/// An unlabelled topology with its symmetry factor 1/|Aut|.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// The tree, slots numbered in depth-first order.
    pub tree: Node,
    /// |Aut|, exact; the symmetry factor is 1/|Aut| (beyond 128 bits from order 35 on).
    pub automorphisms: BigUint,
}

struct Unlabelled {
    memo: HashMap<(usize, usize), Vec<Node>>,
}

impl Unlabelled {
    /// Shapes with `n` leaves and top strictly below layer `below`, sorted.
    fn below(&mut self, n: usize, below: usize) -> Vec<Node> {
        if n == 1 {
            return vec![Node::Leaf(0)];
        }
        if let Some(v) = self.memo.get(&(n, below)) {
            return v.clone();
        }
        let mut out = Vec::new();
        for layer in 1..below {
            out.extend(self.at(n, layer, 2));
        }
        out.sort_unstable();
        self.memo.insert((n, below), out.clone());
        out
    }

    /// Shapes with top vertex in `layer` and at least `min_legs` children.
    fn at(&mut self, n: usize, layer: usize, min_legs: usize) -> Vec<Node> {
        // Candidate children: every shape below `layer` with fewer than n leaves (n for a
        // single child only when min_legs = 1), ordered descending; pick non-increasing sequences.
        let mut cands: Vec<Node> = Vec::new();
        for k in 1..=n {
            cands.extend(self.below(k, layer));
        }
        cands.sort_unstable_by(|a, b| b.cmp(a));
        let sizes: Vec<usize> = cands.iter().map(Node::order).collect();
        let mut out = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        fn rec(
            cands: &[Node],
            sizes: &[usize],
            start: usize,
            left: usize,
            min_legs: usize,
            layer: usize,
            stack: &mut Vec<usize>,
            out: &mut Vec<Node>,
        ) {
            if left == 0 {
                if stack.len() >= min_legs {
                    out.push(Node::Vertex {
                        layer,
                        children: stack.iter().map(|&i| cands[i].clone()).collect(),
                    });
                }
                return;
            }
            for i in start..cands.len() {
                if sizes[i] <= left {
                    stack.push(i);
                    rec(
                        cands,
                        sizes,
                        i,
                        left - sizes[i],
                        min_legs,
                        layer,
                        stack,
                        out,
                    );
                    stack.pop();
                }
            }
        }
        rec(&cands, &sizes, 0, n, min_legs, layer, &mut stack, &mut out);
        out
    }
}

/// All unlabelled topologies of order `n` with their symmetry factors.
pub fn unlabelled(n: usize, hidden: usize, output_activation: bool) -> Vec<Topology> {
    if n == 0 {
        return vec![];
    }
    let mut gen = Unlabelled {
        memo: HashMap::new(),
    };
    let shapes = if output_activation {
        gen.at(n, hidden + 1, 1)
    } else {
        gen.below(n, hidden + 1)
    };
    shapes
        .into_iter()
        .map(|s| Topology {
            automorphisms: s.automorphisms(),
            tree: s.relabel(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::count::{labelled_counts, unlabelled_counts};
    use super::*;
    use num_bigint::BigUint;

    fn n_labelled(n: usize, h: usize, out: bool) -> usize {
        let mut c = 0;
        for_each_labelled(n, h, out, |_| {
            c += 1;
            ControlFlow::Continue(())
        });
        c
    }

    #[test]
    fn enumeration_matches_the_generating_functions() {
        for h in 1..=4 {
            for n in 1..=6 {
                for out in [false, true] {
                    let lab = labelled_counts(n, h, out)[n].clone();
                    assert_eq!(
                        BigUint::from(n_labelled(n, h, out)),
                        lab,
                        "labelled n={n} H={h} out={out}"
                    );
                    let un = unlabelled_counts(n, h, out)[n].clone();
                    assert_eq!(
                        BigUint::from(unlabelled(n, h, out).len()),
                        un,
                        "unlabelled n={n} H={h} out={out}"
                    );
                }
            }
        }
    }

    #[test]
    fn symmetry_factors_beyond_128_bits_are_exact() {
        // one hidden layer: the only topology of order 40 is the 40-leg star, |Aut| = 40!
        let t = unlabelled(40, 1, false);
        assert_eq!(t.len(), 1);
        assert_eq!(
            t[0].automorphisms.to_string(),
            "815915283247897734345611269596115894272000000000"
        );
    }

    #[test]
    fn orbit_stabiliser_each_topology_has_n_over_aut_labellings() {
        // Group labelled diagrams by shape: each group has n!/|Aut| members.
        for (n, h) in [(4, 3), (5, 2), (5, 3)] {
            let mut groups: HashMap<Node, u128> = HashMap::new();
            for_each_labelled(n, h, false, |d| {
                *groups.entry(d.shape()).or_default() += 1;
                ControlFlow::Continue(())
            });
            let fact: u128 = (1..=n as u128).product();
            for t in unlabelled(n, h, false) {
                assert_eq!(
                    BigUint::from(groups[&t.tree.shape()]),
                    BigUint::from(fact) / &t.automorphisms,
                    "{}",
                    t.tree.text()
                );
            }
        }
    }

    #[test]
    fn symmetry_factors_of_the_theory_examples() {
        // H = 3, n = 3: a 3-leg vertex has |Aut| = 6; a 2-leg vertex with a leaf and a 2-leg
        // sub-vertex has |Aut| = 2.
        let t = unlabelled(3, 3, false);
        for x in &t {
            match &x.tree {
                Node::Vertex { children, .. } if children.len() == 3 => {
                    assert_eq!(x.automorphisms, BigUint::from(6u32))
                }
                _ => assert_eq!(x.automorphisms, BigUint::from(2u32)),
            }
        }
        assert_eq!(t.len(), 6);
    }
}
