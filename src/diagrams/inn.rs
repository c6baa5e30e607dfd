//! Diagrams of the INN action, layer by layer (theory note `inn-action.md` §3.6).
//!
//! Layer l builds the action of its input from the action A^(k) of its output in two steps:
//! the nonlinearity (each leg of a vertex A^(k) passes **straight**, factor g = φ'(h0), or
//! **branches** into r legs with the same index, factor c_r = φ^(r)(h0)/r!; for h + αh² that is
//! one **fork**, factor α), plus the local **log-det vertices**, the coefficients of
//! −ln(φ'(h0+v)/g) (for quad: (1/n)(−2α/g)^n); then the affine map puts a **W-line** on every leg.
//!
//! A diagram of output order m is a source order k and the branch sizes r_1 + … + r_k = m
//! (a partition of m into k parts ≤ deg φ), or the log-det vertex. Its multiplicity in the
//! A-convention (no 1/k!) is k!/Π(repeats)! — C(k, s) for s forks; in the labelled
//! S-convention (S^(m) = m! A^(m), Faà di Bruno) it is m!/(Π r_j! Π(repeats)!), which for s forks
//! is m!/((k−s)! s! 2^s). Counts for one quad layer: 2, 3, 5, 11 labelled and 2, 3, 3, 4 shapes at
//! orders 1–4.

use num_bigint::BigUint;
use num_traits::One;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

/// One diagram of a layer's action update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InnDiagram {
    /// The layer (0 = the one acting on the data).
    pub layer: usize,
    /// Output order m (legs on the layer's input side).
    pub order: usize,
    /// Source vertex order k (None for the log-det vertex).
    pub source: Option<usize>,
    /// Branch size of each leg of the source vertex, descending (1 = straight, 2 = fork).
    pub branches: Vec<usize>,
    /// Multiplicity in the A-convention: k!/Π(repeats)! (C(k, s) for s forks); 1 for log-det.
    /// Exact: these exceed 64 bits from order 21 on.
    #[serde(serialize_with = "big_json")]
    pub multiplicity: BigUint,
    /// Labelled diagrams in the S-convention: m!/(Π r_j! Π(repeats)!); 1 for log-det.
    #[serde(serialize_with = "big_json")]
    pub labelled: BigUint,
}

/// A count as a JSON number when it fits 64 bits, else as an exact decimal string.
pub fn big_json<S: serde::Serializer>(n: &BigUint, s: S) -> Result<S::Ok, S::Error> {
    match u64::try_from(n) {
        Ok(v) => s.serialize_u64(v),
        Err(_) => s.serialize_str(&n.to_string()),
    }
}

fn factorial(n: usize) -> BigUint {
    (1..=n as u64).map(BigUint::from).product()
}

fn repeats_factorial(b: &[usize]) -> BigUint {
    let mut out = BigUint::one();
    let mut i = 0;
    while i < b.len() {
        let mut j = i;
        while j < b.len() && b[j] == b[i] {
            j += 1;
        }
        out *= factorial(j - i);
        i = j;
    }
    out
}

/// Refuse layer diagrams of order `m` (all orders 1..=m when `all_orders`, as `--count` lists
/// them) whose listing would exceed the memory or work budget: each diagram costs a few exact
/// factorials of up to m! (m·log₂m bits).
pub fn budget(m: usize, degree: usize, all_orders: bool) -> crate::Result<()> {
    let mf = m as f64;
    let deg = degree.max(1).min(m.max(1)) as f64;
    // at least one diagram per order, each costing at least its order
    crate::budget::work(
        format!("the layer diagrams of order {m}"),
        mf * deg + if all_orders { mf * mf / 2.0 } else { mf },
        "lower --order",
    )?;
    crate::budget::memory(
        format!("the partition table of order {m}"),
        mf * 8.0,
        crate::budget::DEFAULT_MEMORY_LIMIT,
        "lower --order",
    )?;
    let shapes = |k: usize| shape_count(k, degree);
    let per = |k: usize| {
        let kf = k as f64;
        kf * (1.0 + kf * kf.max(2.0).log2() / 64.0)
    };
    let (count, ops) = if all_orders {
        let table = shape_table(m, degree);
        (1..=m).fold((0.0, 0.0), |(c, o), k| {
            let s = table[k] + if degree >= 2 { 1.0 } else { 0.0 };
            (c + s, o + s * per(k))
        })
    } else {
        (shapes(m), shapes(m) * per(m))
    };
    crate::budget::memory(
        format!("the {count:.3e} layer diagrams up to order {m}"),
        count * (64.0 + 8.0 * mf),
        crate::budget::DEFAULT_MEMORY_LIMIT,
        "lower --order",
    )?;
    crate::budget::work(
        format!("the {count:.3e} layer diagrams up to order {m}"),
        ops,
        "lower --order",
    )
}

/// p[j], j ≤ m: partitions of j into parts ≤ degree (coin-change recurrence), saturating.
fn shape_table(m: usize, degree: usize) -> Vec<f64> {
    let degree = degree.max(1).min(m.max(1));
    let mut p = vec![0f64; m + 1];
    p[0] = 1.0;
    for part in 1..=degree {
        for j in part..=m {
            p[j] += p[j - part];
        }
    }
    p
}

/// Number of shapes `layer_diagrams(_, m, degree)` returns (partitions of m into parts ≤ degree,
/// plus the log-det vertex), saturating, without listing them: for the budget.
pub fn shape_count(m: usize, degree: usize) -> f64 {
    shape_table(m, degree)[m] + if degree >= 2 { 1.0 } else { 0.0 }
}

/// Partitions of m into k parts, each between 1 and `pmax`, descending.
fn partitions(m: usize, k: usize, pmax: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return if m == 0 { vec![vec![]] } else { vec![] };
    }
    let mut out = Vec::new();
    for first in (1..=pmax.min(m)).rev() {
        for mut rest in partitions(m - first, k - 1, first) {
            let mut v = vec![first];
            v.append(&mut rest);
            out.push(v);
        }
    }
    out
}

/// The diagrams of order m for a layer whose φ has degree `degree` (2 for quad, 1 for linear).
/// Layers with degree ≥ 2 also have the log-det vertex.
pub fn layer_diagrams(layer: usize, m: usize, degree: usize) -> Vec<InnDiagram> {
    let mut out = Vec::new();
    if m == 0 {
        return out;
    }
    let degree = degree.max(1);
    for k in (m.div_ceil(degree)..=m).rev() {
        for b in partitions(m, k, degree) {
            let rep = repeats_factorial(&b);
            let rprod: BigUint = b.iter().map(|&r| factorial(r)).product();
            out.push(InnDiagram {
                layer,
                order: m,
                source: Some(k),
                multiplicity: factorial(k) / &rep,
                labelled: factorial(m) / (rprod * rep),
                branches: b,
            });
        }
    }
    if degree >= 2 {
        out.push(InnDiagram {
            layer,
            order: m,
            source: None,
            branches: vec![],
            multiplicity: BigUint::one(),
            labelled: BigUint::one(),
        });
    }
    out
}

/// (labelled diagrams, distinct shapes) of order m for one layer of φ-degree `degree`.
pub fn layer_counts(m: usize, degree: usize) -> (BigUint, usize) {
    let d = layer_diagrams(0, m, degree);
    (d.iter().map(|x| &x.labelled).sum(), d.len())
}

impl InnDiagram {
    /// Number of forks (branches of size 2).
    pub fn forks(&self) -> usize {
        self.branches.iter().filter(|&&r| r == 2).count()
    }

    /// A one-line description: `A^(3) · 1 fork (α) · 2 straight (g) · W⁴`.
    pub fn text(&self) -> String {
        match self.source {
            None => format!(
                "log-det vertex (1/{0})(−2α/g)^{0} δ_{{i…i}} · W^{0}",
                self.order
            ),
            Some(k) => {
                let straight = self.branches.iter().filter(|&&r| r == 1).count();
                let mut parts = vec![format!("A^({k})")];
                if straight > 0 {
                    parts.push(format!("{straight} straight (g)"));
                }
                let forks = self.forks();
                if forks > 0 {
                    parts.push(format!(
                        "{forks} fork{} (α)",
                        if forks == 1 { "" } else { "s" }
                    ));
                }
                for r in self.branches.iter().filter(|&&r| r > 2) {
                    parts.push(format!("1 {r}-branch (φ^({r})/{r}!)"));
                }
                parts.push(format!("W^{}", self.order));
                parts.join(" · ")
            }
        }
    }

    /// The diagram as a petgraph graph: the vertex, branch points, external legs (input-side
    /// neurons after their W-line). Edge labels: "g", "α"/"c_r" (into a branch point), "W".
    pub fn graph(&self) -> DiGraph<String, String> {
        let mut g = DiGraph::new();
        let mut leg = 0;
        let mut add_leg = |g: &mut DiGraph<String, String>, from: NodeIndex, label: &str| {
            let mid = g.add_node(format!("h{leg}"));
            g.add_edge(from, mid, label.to_string());
            let ext = g.add_node(format!("x{leg}"));
            g.add_edge(mid, ext, "W".into());
            leg += 1;
        };
        match self.source {
            None => {
                let v = g.add_node(format!("logdet{}", self.order));
                for _ in 0..self.order {
                    add_leg(&mut g, v, "δ");
                }
            }
            Some(k) => {
                let v = g.add_node(format!("A{k}"));
                for &r in &self.branches {
                    if r == 1 {
                        add_leg(&mut g, v, "g");
                    } else {
                        let b = g.add_node(if r == 2 {
                            "fork".into()
                        } else {
                            format!("branch{r}")
                        });
                        g.add_edge(v, b, if r == 2 { "α".into() } else { format!("c{r}") });
                        for _ in 0..r {
                            add_leg(&mut g, b, "δ");
                        }
                    }
                }
            }
        }
        g
    }

    /// Graphviz DOT of [`Self::graph`].
    pub fn dot(&self, name: &str) -> String {
        let g = self.graph();
        let mut s = format!("graph {name} {{\n  label=\"{}\";\n", self.text());
        for i in g.node_indices() {
            let w = &g[i];
            // external legs by name, vertices circled, inner points (W-line ends, forks) as dots
            let attrs = if w.starts_with('x') {
                format!("label=\"{w}\", shape=plaintext")
            } else if w.starts_with('h') || w.starts_with("fork") || w.starts_with("branch") {
                "label=\"\", shape=point".to_string()
            } else {
                format!("label=\"{w}\", shape=circle")
            };
            s += &format!("  n{} [{attrs}];\n", i.index());
        }
        for e in g.edge_indices() {
            let (a, b) = g.edge_endpoints(e).unwrap();
            s += &format!("  n{} -- n{} [label=\"{}\"];\n", a.index(), b.index(), g[e]);
        }
        s + "}\n"
    }

    /// A TikZ picture: the vertex on the left, legs fanning out to the right (forks as dots),
    /// each leg ending in a W-line (dashed) to the input side.
    pub fn tikz(&self) -> String {
        let m = self.order.max(1) as f64;
        let mut s = String::from("\\begin{tikzpicture}[baseline=(v)]\n");
        let label = match self.source {
            None => format!("\\ell^{{({})}}", self.order),
            Some(k) => format!("A^{{({k})}}"),
        };
        s += &format!("  \\node[circle,draw,inner sep=1pt] (v) at (0,0) {{${label}$}};\n");
        let mut slot = 0usize;
        let y = |slot: usize| 0.5 * (m - 1.0) - 0.5 * slot as f64;
        let branches: Vec<usize> = match self.source {
            None => vec![1; self.order],
            Some(_) => self.branches.clone(),
        };
        for (j, &r) in branches.iter().enumerate() {
            if r == 1 {
                let yy = y(slot);
                s += &format!(
                    "  \\draw (v) -- (1.6,{yy:.2}) node[right]{{}};\n  \\draw[dashed] (1.6,{yy:.2}) -- node[above]{{\\tiny $W$}} (2.6,{yy:.2}) node[right]{{\\tiny $j_{{{}}}$}};\n",
                    slot + 1
                );
                slot += 1;
            } else {
                let yc: f64 = (0..r).map(|t| y(slot + t)).sum::<f64>() / r as f64;
                s += &format!(
                    "  \\fill (1.0,{yc:.2}) circle (1.5pt) coordinate (f{j});\n  \\draw (v) -- (f{j});\n"
                );
                for _ in 0..r {
                    let yy = y(slot);
                    s += &format!(
                        "  \\draw (f{j}) -- (1.6,{yy:.2});\n  \\draw[dashed] (1.6,{yy:.2}) -- node[above]{{\\tiny $W$}} (2.6,{yy:.2}) node[right]{{\\tiny $j_{{{}}}$}};\n",
                        slot + 1
                    );
                    slot += 1;
                }
            }
        }
        s + "\\end{tikzpicture}\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_complete() {
        assert_eq!(partitions(4, 2, 2), vec![vec![2, 2]]);
        assert_eq!(partitions(4, 2, 3), vec![vec![3, 1], vec![2, 2]]);
        assert_eq!(partitions(3, 3, 2), vec![vec![1, 1, 1]]);
    }

    #[test]
    fn quad_layer_counts_are_involution_numbers_at_any_order() {
        // OEIS A000085: a(n) = a(n-1) + (n-1) a(n-2); one quad layer has a(m) labelled
        // diagrams plus the log-det vertex. u64 overflowed from order 21 on and panicked at 66.
        let mut inv = vec![BigUint::one(), BigUint::one()];
        for n in 2..=90usize {
            let next = &inv[n - 1] + BigUint::from(n - 1) * &inv[n - 2];
            inv.push(next);
        }
        assert_eq!(inv[21].to_string(), "119952692896");
        for m in [1, 2, 5, 20, 21, 22, 40, 66, 90] {
            let (lab, shapes) = layer_counts(m, 2);
            assert_eq!(lab, &inv[m] + 1u32, "order {m}");
            assert_eq!(shapes as f64, shape_count(m, 2), "order {m}");
        }
        assert_eq!(shape_count(10, 3), layer_diagrams(0, 10, 3).len() as f64);
    }

    #[test]
    fn graph_has_one_w_line_per_leg() {
        for d in layer_diagrams(0, 4, 2) {
            let g = d.graph();
            let w = g.edge_indices().filter(|&e| g[e] == "W").count();
            assert_eq!(w, 4, "{}", d.text());
        }
    }
}
