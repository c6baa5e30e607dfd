//! The index form of a diagram: its value as a product of propagators D^(l,m), external legs
//! D^(l,0) and vertices f_l^(k), with one summation index per vertex (theory note §2).

use num_bigint::BigUint;
use num_traits::One;

use super::{Node, Topology};

/// One factor of a diagram's value in index form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Factor {
    /// D^(to,from)_{row,col}: a line from a vertex in layer `from` into one in `to`.
    Prop {
        /// Layer of the upper vertex.
        to: usize,
        /// Layer of the lower vertex.
        from: usize,
        /// Row index name.
        row: String,
        /// Column index name.
        col: String,
    },
    /// (D^(to,0) h)_{row}: an external leg contracted with the displacement h.
    Leg {
        /// Layer the leg enters.
        to: usize,
        /// Row index name.
        row: String,
    },
    /// f_layer^(k)(z^(layer)_{idx}).
    Vertex {
        /// Layer of the vertex (1-based).
        layer: usize,
        /// Derivative order k (number of incoming lines).
        k: usize,
        /// Neuron index name.
        idx: String,
    },
}

/// A topology's contribution to the order-n Taylor term: (1/aut) Σ_{sums} Π factors.
#[derive(Debug, Clone)]
pub struct IndexTerm {
    /// |Aut|, the inverse symmetry factor.
    pub aut: BigUint,
    /// Names of the summed indices.
    pub sums: Vec<String>,
    /// The factors of the product.
    pub factors: Vec<Factor>,
}

/// Index form of a topology; `output` is the output index name (`o`), L the output layer.
pub fn index_term(t: &Topology, output_layer: usize, output: &str) -> IndexTerm {
    let mut term = IndexTerm {
        aut: t.automorphisms.clone(),
        sums: vec![],
        factors: vec![],
    };
    fn walk(n: &Node, parent: usize, pidx: &str, term: &mut IndexTerm) {
        match n {
            Node::Leaf(_) => term.factors.push(Factor::Leg {
                to: parent,
                row: pidx.to_string(),
            }),
            Node::Vertex { layer, children } => {
                let j = format!("j{}", term.sums.len() + 1);
                term.sums.push(j.clone());
                term.factors.push(Factor::Prop {
                    to: parent,
                    from: *layer,
                    row: pidx.to_string(),
                    col: j.clone(),
                });
                term.factors.push(Factor::Vertex {
                    layer: *layer,
                    k: children.len(),
                    idx: j.clone(),
                });
                for c in children {
                    walk(c, *layer, &j, term);
                }
            }
        }
    }
    match &t.tree {
        // output activation: the root vertex is the output neuron itself
        Node::Vertex { layer, children } if *layer == output_layer => {
            term.factors.push(Factor::Vertex {
                layer: *layer,
                k: children.len(),
                idx: output.to_string(),
            });
            for c in children {
                walk(c, *layer, output, &mut term);
            }
        }
        root => walk(root, output_layer, output, &mut term),
    }
    term
}

fn primes(k: usize) -> String {
    match k {
        1 => "'".into(),
        2 => "''".into(),
        3 => "'''".into(),
        k => format!("^({k})"),
    }
}

/// How [`IndexTerm::render`] spells each piece.
struct Spelling<'a> {
    prop: &'a dyn Fn(usize, usize, &str, &str) -> String,
    vertex: &'a dyn Fn(usize, usize, &str) -> String,
    leg: &'a dyn Fn(usize, &str) -> String,
    power: &'a dyn Fn(&str, usize) -> String,
    prefix: &'a dyn Fn(&BigUint) -> String,
    sums: &'a dyn Fn(&[String]) -> String,
    times: &'a str,
}

impl IndexTerm {
    /// The factors spelled one by one, identical external legs gathered into powers (the legs
    /// come last, in order of first appearance).
    pub fn grouped_factors(
        &self,
        prop: &dyn Fn(usize, usize, &str, &str) -> String,
        vertex: &dyn Fn(usize, usize, &str) -> String,
        leg: &dyn Fn(usize, &str) -> String,
        power: &dyn Fn(&str, usize) -> String,
    ) -> Vec<String> {
        let mut parts: Vec<String> = Vec::new();
        let mut legs: Vec<(String, usize)> = Vec::new();
        for f in &self.factors {
            match f {
                Factor::Prop { to, from, row, col } => parts.push(prop(*to, *from, row, col)),
                Factor::Vertex { layer, k, idx } => parts.push(vertex(*layer, *k, idx)),
                Factor::Leg { to, row } => {
                    let s = leg(*to, row);
                    match legs.iter_mut().find(|(x, _)| *x == s) {
                        Some((_, c)) => *c += 1,
                        None => legs.push((s, 1)),
                    }
                }
            }
        }
        parts.extend(
            legs.into_iter()
                .map(|(s, c)| if c == 1 { s } else { power(&s, c) }),
        );
        parts
    }

    fn render(&self, sp: &Spelling) -> String {
        let parts = self.grouped_factors(sp.prop, sp.vertex, sp.leg, sp.power);
        let pre = if self.aut.is_one() {
            String::new()
        } else {
            (sp.prefix)(&self.aut)
        };
        let sums = if self.sums.is_empty() {
            String::new()
        } else {
            (sp.sums)(&self.sums)
        };
        format!("{pre}{sums}{}", parts.join(sp.times))
    }

    /// `1/2 * sum_{j1} D(3,1)[o,j1] * f1''(z1[j1]) * (D(1,0)h)[j1]^2`
    pub fn text(&self) -> String {
        self.render(&Spelling {
            prop: &|to, from, row, col| format!("D({to},{from})[{row},{col}]"),
            vertex: &|layer, k, idx| format!("f{layer}{}(z{layer}[{idx}])", primes(k)),
            leg: &|to, row| format!("(D({to},0)h)[{row}]"),
            power: &|s, c| format!("{s}^{c}"),
            prefix: &|aut| format!("1/{aut} * "),
            sums: &|s| format!("sum_{{{}}} ", s.join(",")),
            times: " * ",
        })
    }

    /// `\frac{1}{2}\sum_{j_1} D^{(3,1)}_{o j_1} \sigma_1''(z^{(1)}_{j_1}) (D^{(1,0)}h)_{j_1}^{2}`
    pub fn latex(&self) -> String {
        self.latex_parts().join("\\, ")
    }

    /// The LaTeX factors one by one (the prefactor and sums stay with the first), for breaking
    /// long terms over lines.
    pub fn latex_parts(&self) -> Vec<String> {
        fn ix(s: &str) -> String {
            match s.strip_prefix('j') {
                Some(n) => format!("j_{{{n}}}"),
                None => s.to_string(),
            }
        }
        self.render(&Spelling {
            prop: &|to, from, row, col| format!("D^{{({to},{from})}}_{{{} {}}}", ix(row), ix(col)),
            vertex: &|layer, k, idx| {
                let d = match k {
                    1 => "'".to_string(),
                    2 => "''".to_string(),
                    k => format!("^{{({k})}}"),
                };
                format!(
                    "\\sigma_{{{layer}}}{d}\\big(z^{{({layer})}}_{{{}}}\\big)",
                    ix(idx)
                )
            },
            leg: &|to, row| format!("\\big(D^{{({to},0)}}h\\big)_{{{}}}", ix(row)),
            power: &|s, c| format!("{s}^{{{c}}}"),
            prefix: &|aut| format!("\\frac{{1}}{{{aut}}}"),
            sums: &|s| {
                format!(
                    "\\sum_{{{}}} ",
                    s.iter().map(|x| ix(x)).collect::<Vec<_>>().join(",")
                )
            },
            times: "\u{1}",
        })
        .split('\u{1}')
        .map(str::to_string)
        .collect()
    }
}
