//! Diagrams as index-form terms, text, JSON, Graphviz DOT and TikZ.

use petgraph::dot::{Config, Dot};
use serde::Serialize;

use crate::diagrams::{GraphNode, Node, Topology};

/// One factor of a diagram's value in index form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Factor {
    /// D^(to,from)_{row,col}: a line from a vertex in layer `from` into one in `to`.
    Prop {
        to: usize,
        from: usize,
        row: String,
        col: String,
    },
    /// (D^(to,0) h)_{row}: an external leg contracted with the displacement h.
    Leg { to: usize, row: String },
    /// f_layer^(k)(z^(layer)_{idx}).
    Vertex { layer: usize, k: usize, idx: String },
}

/// A topology's contribution to the order-n Taylor term: (1/aut) Σ_{sums} Π factors.
#[derive(Debug, Clone)]
pub struct IndexTerm {
    pub aut: u128,
    pub sums: Vec<String>,
    pub factors: Vec<Factor>,
}

/// Index form of a topology; `output` is the output index name (`o`), L the output layer.
pub fn index_term(t: &Topology, output_layer: usize, output: &str) -> IndexTerm {
    let mut term = IndexTerm {
        aut: t.automorphisms,
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
    prefix: &'a dyn Fn(u128) -> String,
    sums: &'a dyn Fn(&[String]) -> String,
    times: &'a str,
}

impl IndexTerm {
    /// Factors in order, repeated legs gathered into powers.
    fn render(&self, sp: &Spelling) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut legs: Vec<(String, usize)> = Vec::new();
        for f in &self.factors {
            match f {
                Factor::Prop { to, from, row, col } => parts.push((sp.prop)(*to, *from, row, col)),
                Factor::Vertex { layer, k, idx } => parts.push((sp.vertex)(*layer, *k, idx)),
                Factor::Leg { to, row } => {
                    let s = (sp.leg)(*to, row);
                    match legs.iter_mut().find(|(x, _)| *x == s) {
                        Some((_, c)) => *c += 1,
                        None => legs.push((s, 1)),
                    }
                }
            }
        }
        parts.extend(
            legs.into_iter()
                .map(|(s, c)| if c == 1 { s } else { (sp.power)(&s, c) }),
        );
        let pre = if self.aut == 1 {
            String::new()
        } else {
            (sp.prefix)(self.aut)
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

#[derive(Serialize)]
pub struct DiagramJson {
    /// Compact tree text, e.g. `[2](x0,[1](x1,x2))`.
    pub tree: String,
    pub vertices: usize,
    /// |Aut| (symmetry factor 1/|Aut|); absent for labelled diagrams (weight 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automorphisms: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symmetry_factor: Option<String>,
    /// Index form (text), for unlabelled topologies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_form: Option<String>,
}

/// Graphviz DOT of one diagram, inputs at the bottom, output at the top.
pub fn dot(tree: &Node, output_layer: usize, title: &str) -> String {
    let g = tree.to_graph(output_layer);
    let body = format!(
        "{:?}",
        Dot::with_attr_getters(
            &g,
            &[
                Config::EdgeNoLabel,
                Config::NodeNoLabel,
                Config::GraphContentOnly
            ],
            &|_, e| format!(
                "label=\"D({},{})\"",
                e.weight().to_layer,
                e.weight().from_layer
            ),
            &|_, (_, n)| match n {
                GraphNode::Output => "label=\"y\", shape=doublecircle".to_string(),
                GraphNode::Vertex { layer, legs } => format!(
                    "label=\"σ{layer}^({legs})\", shape=circle, style=filled, fillcolor=gray85"
                ),
                GraphNode::Input { slot } => format!("label=\"x{slot}\", shape=plaintext"),
            }
        )
    );
    format!("digraph \"{title}\" {{\n    rankdir=BT;\n{body}}}\n")
}

/// A TikZ picture of one diagram, layer-aligned: inputs at the bottom (y = 0), each vertex at its
/// layer's height, the output on top; `label` goes beside it (e.g. the symmetry factor).
pub fn tikz(tree: &Node, output_layer: usize, label: &str) -> String {
    struct P {
        x: f64,
        y: f64,
    }
    let mut nodes: Vec<(P, String)> = Vec::new();
    let mut edges: Vec<(usize, usize)> = Vec::new();
    let mut next_leaf = 0.0;
    fn place(
        n: &Node,
        nodes: &mut Vec<(P, String)>,
        edges: &mut Vec<(usize, usize)>,
        next_leaf: &mut f64,
    ) -> usize {
        match n {
            Node::Leaf(s) => {
                nodes.push((
                    P {
                        x: *next_leaf,
                        y: 0.0,
                    },
                    format!("leaf/x_{{{s}}}"),
                ));
                *next_leaf += 1.0;
                nodes.len() - 1
            }
            Node::Vertex { layer, children } => {
                let ids: Vec<usize> = children
                    .iter()
                    .map(|c| place(c, nodes, edges, next_leaf))
                    .collect();
                let x = ids.iter().map(|&i| nodes[i].0.x).sum::<f64>() / ids.len() as f64;
                nodes.push((
                    P {
                        x,
                        y: *layer as f64,
                    },
                    format!("vertex/{layer}"),
                ));
                let me = nodes.len() - 1;
                edges.extend(ids.into_iter().map(|i| (i, me)));
                me
            }
        }
    }
    let root = place(tree, &mut nodes, &mut edges, &mut next_leaf);
    let top = if tree.layer() == output_layer {
        root
    } else {
        let x = nodes[root].0.x;
        nodes.push((
            P {
                x,
                y: output_layer as f64 + 0.6,
            },
            "out/y".into(),
        ));
        edges.push((root, nodes.len() - 1));
        nodes.len() - 1
    };
    let mut s = String::from(
        "\\begin{tikzpicture}[x=0.7cm,y=0.8cm,baseline=(current bounding box.center)]\n",
    );
    for (i, (p, kind)) in nodes.iter().enumerate() {
        let (k, t) = kind.split_once('/').unwrap();
        let style = match k {
            "leaf" => format!("\\node[font=\\scriptsize] (n{i}) at ({:.2},{:.2}) {{${t}$}};", p.x, p.y),
            "vertex" => format!("\\node[circle,fill=black,inner sep=1.6pt,label={{[font=\\tiny]right:{t}}}] (n{i}) at ({:.2},{:.2}) {{}};", p.x, p.y),
            _ => format!("\\node[font=\\scriptsize] (n{i}) at ({:.2},{:.2}) {{${t}$}};", p.x, p.y),
        };
        s += &style;
        s.push('\n');
    }
    for (a, b) in &edges {
        s += &format!("\\draw (n{a}) -- (n{b});\n");
    }
    if !label.is_empty() {
        s += &format!(
            "\\node[font=\\scriptsize,anchor=west] at ({:.2},{:.2}) {{${label}$}};\n",
            next_leaf.max(1.0),
            nodes[top].0.y / 2.0
        );
    }
    s += "\\end{tikzpicture}";
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagrams::unlabelled;

    #[test]
    fn ladder_index_form() {
        // H = 2, order 3: the ladder [2]([1](x0,x1),x2) has |Aut| = 2.
        let t = unlabelled(3, 2, false)
            .into_iter()
            .find(|t| t.tree.text() == "[2]([1](x0,x1),x2)")
            .unwrap();
        let term = index_term(&t, 3, "o");
        assert_eq!(
            term.text(),
            "1/2 * sum_{j1,j2} D(3,2)[o,j1] * f2''(z2[j1]) * D(2,1)[j1,j2] * f1''(z1[j2]) * (D(1,0)h)[j2]^2 * (D(2,0)h)[j1]"
        );
        assert_eq!(
            term.latex(),
            "\\frac{1}{2}\\sum_{j_{1},j_{2}} D^{(3,2)}_{o j_{1}}\\, \\sigma_{2}''\\big(z^{(2)}_{j_{1}}\\big)\\, D^{(2,1)}_{j_{1} j_{2}}\\, \\sigma_{1}''\\big(z^{(1)}_{j_{2}}\\big)\\, \\big(D^{(1,0)}h\\big)_{j_{2}}^{2}\\, \\big(D^{(2,0)}h\\big)_{j_{1}}"
        );
    }
}
