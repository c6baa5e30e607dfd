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

impl IndexTerm {
    /// `1/2 * sum_{j1} D(3,1)[o,j1] * f1''(z1[j1]) * (D(1,0)h)[j1]^2`
    pub fn text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut legs: Vec<(String, usize)> = Vec::new();
        for f in &self.factors {
            match f {
                Factor::Prop { to, from, row, col } => {
                    parts.push(format!("D({to},{from})[{row},{col}]"))
                }
                Factor::Vertex { layer, k, idx } => {
                    parts.push(format!("f{layer}{}(z{layer}[{idx}])", primes(*k)))
                }
                Factor::Leg { to, row } => {
                    let s = format!("(D({to},0)h)[{row}]");
                    match legs.iter_mut().find(|(x, _)| *x == s) {
                        Some((_, c)) => *c += 1,
                        None => legs.push((s, 1)),
                    }
                }
            }
        }
        parts.extend(
            legs.into_iter()
                .map(|(s, c)| if c == 1 { s } else { format!("{s}^{c}") }),
        );
        let pre = if self.aut == 1 {
            String::new()
        } else {
            format!("1/{} * ", self.aut)
        };
        let sums = if self.sums.is_empty() {
            String::new()
        } else {
            format!("sum_{{{}}} ", self.sums.join(","))
        };
        format!("{pre}{sums}{}", parts.join(" * "))
    }

    /// `\frac{1}{2}\sum_{j_1} D^{(3,1)}_{o j_1} \sigma_1''(z^{(1)}_{j_1}) (D^{(1,0)}h)_{j_1}^{2}`
    pub fn latex(&self) -> String {
        let ix = |s: &str| {
            if let Some(n) = s.strip_prefix('j') {
                format!("j_{{{n}}}")
            } else {
                s.to_string()
            }
        };
        let mut parts: Vec<String> = Vec::new();
        let mut legs: Vec<(String, usize)> = Vec::new();
        for f in &self.factors {
            match f {
                Factor::Prop { to, from, row, col } => {
                    parts.push(format!("D^{{({to},{from})}}_{{{} {}}}", ix(row), ix(col)))
                }
                Factor::Vertex { layer, k, idx } => {
                    let d = match k {
                        1 => "'".to_string(),
                        2 => "''".to_string(),
                        k => format!("^{{({k})}}"),
                    };
                    parts.push(format!(
                        "\\sigma_{{{layer}}}{d}\\big(z^{{({layer})}}_{{{}}}\\big)",
                        ix(idx)
                    ))
                }
                Factor::Leg { to, row } => {
                    let s = format!("\\big(D^{{({to},0)}}h\\big)_{{{}}}", ix(row));
                    match legs.iter_mut().find(|(x, _)| *x == s) {
                        Some((_, c)) => *c += 1,
                        None => legs.push((s, 1)),
                    }
                }
            }
        }
        parts.extend(
            legs.into_iter()
                .map(|(s, c)| if c == 1 { s } else { format!("{s}^{{{c}}}") }),
        );
        let pre = if self.aut == 1 {
            String::new()
        } else {
            format!("\\frac{{1}}{{{}}}", self.aut)
        };
        let sums = if self.sums.is_empty() {
            String::new()
        } else {
            format!(
                "\\sum_{{{}}}",
                self.sums
                    .iter()
                    .map(|s| ix(s))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        };
        format!("{pre}{sums} {}", parts.join("\\, "))
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
