//! Diagrams as text, JSON, Graphviz DOT, TikZ and SVG; the index form itself is
//! [`crate::diagrams::index`].

use petgraph::dot::{Config, Dot};
use serde::Serialize;

pub use crate::diagrams::index::{index_term, Factor, IndexTerm};
use crate::diagrams::listing::{DiagramCounts, DiagramListing};
use crate::diagrams::{GraphNode, Node};

/// One diagram in `feynn diagrams --format json`.
#[derive(Serialize)]
pub struct DiagramJson {
    /// Compact tree text, e.g. `[2](x1,[1](x2,x3))`.
    pub tree: String,
    /// Number of internal vertices.
    pub vertices: usize,
    /// |Aut| (symmetry factor 1/|Aut|); absent for labelled diagrams (weight 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automorphisms: Option<String>,
    /// The symmetry factor 1/|Aut|; absent for labelled diagrams.
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
                GraphNode::Input { slot } => format!("label=\"x{}\", shape=plaintext", slot + 1),
            }
        )
    );
    format!("digraph \"{title}\" {{\n    rankdir=BT;\n{body}}}\n")
}

/// What a drawn node is.
#[derive(Debug, Clone, PartialEq)]
pub enum Drawn {
    /// An input leaf, with its 0-based input slot.
    Leaf(usize),
    /// An activation vertex, with its layer.
    Vertex(usize),
    /// The output y.
    Output,
}

/// A layer-aligned layout: inputs at y = 0, each vertex at its layer's height, the output on top;
/// leaves spaced by 1, each vertex centred over its children. Edges go child → parent.
pub struct Layout {
    /// Every node: (x, y, what it is).
    pub nodes: Vec<(f64, f64, Drawn)>,
    /// Edges (child, parent) as node indices.
    pub edges: Vec<(usize, usize)>,
    /// Index of the top node (the output, or the output vertex).
    pub top: usize,
    /// Number of leaves (the layout's width).
    pub leaves: usize,
}

/// Lay out a diagram `tree` whose output is at layer `output_layer`.
pub fn layout(tree: &Node, output_layer: usize) -> Layout {
    fn place(n: &Node, l: &mut Layout) -> usize {
        match n {
            Node::Leaf(s) => {
                l.nodes.push((l.leaves as f64, 0.0, Drawn::Leaf(*s)));
                l.leaves += 1;
                l.nodes.len() - 1
            }
            Node::Vertex { layer, children } => {
                let ids: Vec<usize> = children.iter().map(|c| place(c, l)).collect();
                let x = ids.iter().map(|&i| l.nodes[i].0).sum::<f64>() / ids.len() as f64;
                l.nodes.push((x, *layer as f64, Drawn::Vertex(*layer)));
                let me = l.nodes.len() - 1;
                l.edges.extend(ids.into_iter().map(|i| (i, me)));
                me
            }
        }
    }
    let mut l = Layout {
        nodes: vec![],
        edges: vec![],
        top: 0,
        leaves: 0,
    };
    let root = place(tree, &mut l);
    l.top = if tree.layer() == output_layer {
        root
    } else {
        let x = l.nodes[root].0;
        l.nodes.push((x, output_layer as f64 + 0.6, Drawn::Output));
        l.edges.push((root, l.nodes.len() - 1));
        l.nodes.len() - 1
    };
    l
}

/// A TikZ picture of one diagram, layer-aligned: inputs at the bottom (y = 0), each vertex at its
/// layer's height, the output on top; `label` goes beside it (e.g. the symmetry factor).
pub fn tikz(tree: &Node, output_layer: usize, label: &str) -> String {
    let l = layout(tree, output_layer);
    let mut s = String::from(
        "\\begin{tikzpicture}[x=0.7cm,y=0.8cm,baseline=(current bounding box.center)]\n",
    );
    for (i, (x, y, kind)) in l.nodes.iter().enumerate() {
        s += &match kind {
            Drawn::Leaf(slot) => format!("\\node[font=\\scriptsize] (n{i}) at ({x:.2},{y:.2}) {{$x_{{{}}}$}};\n", slot + 1),
            Drawn::Vertex(layer) => format!("\\node[circle,fill=black,inner sep=1.6pt,label={{[font=\\tiny]right:{layer}}}] (n{i}) at ({x:.2},{y:.2}) {{}};\n"),
            Drawn::Output => format!("\\node[font=\\scriptsize] (n{i}) at ({x:.2},{y:.2}) {{$y$}};\n"),
        };
    }
    for (a, b) in &l.edges {
        s += &format!("\\draw (n{a}) -- (n{b});\n");
    }
    if !label.is_empty() {
        s += &format!(
            "\\node[font=\\scriptsize,anchor=west] at ({:.2},{:.2}) {{${label}$}};\n",
            (l.leaves as f64).max(1.0),
            l.nodes[l.top].1 / 2.0
        );
    }
    s += "\\end{tikzpicture}";
    s
}

/// A standalone SVG picture of one diagram (same layout as [`tikz`]; no LaTeX needed).
pub fn svg(tree: &Node, output_layer: usize, label: &str) -> String {
    let l = layout(tree, output_layer);
    let (sx, sy, pad) = (40.0, 50.0, 24.0);
    let ymax = l.nodes.iter().map(|n| n.1).fold(0.0, f64::max);
    let width = (l.leaves.max(1) as f64 - 1.0) * sx + 2.0 * pad + 70.0;
    let height = ymax * sy + 2.0 * pad;
    let px = |x: f64| pad + x * sx;
    let py = |y: f64| pad + (ymax - y) * sy;
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" font-family=\"serif\" font-size=\"13\">\n");
    for (a, b) in &l.edges {
        let (na, nb) = (&l.nodes[*a], &l.nodes[*b]);
        s += &format!(
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"black\"/>\n",
            px(na.0),
            py(na.1),
            px(nb.0),
            py(nb.1)
        );
    }
    for (x, y, kind) in &l.nodes {
        s += &match kind {
            Drawn::Leaf(slot) => format!("<rect x=\"{:.1}\" y=\"{:.1}\" width=\"22\" height=\"16\" fill=\"white\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">x{}</text>\n", px(*x) - 11.0, py(*y) - 6.0, px(*x), py(*y) + 8.0, slot + 1),
            Drawn::Vertex(layer) => format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"black\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">{layer}</text>\n", px(*x), py(*y), px(*x) + 6.0, py(*y) + 4.0),
            Drawn::Output => format!("<rect x=\"{:.1}\" y=\"{:.1}\" width=\"16\" height=\"16\" fill=\"white\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">y</text>\n", px(*x) - 8.0, py(*y) - 10.0, px(*x), py(*y) + 4.0),
        };
    }
    if !label.is_empty() {
        s += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\">{label}</text>\n",
            width - 60.0,
            height / 2.0
        );
    }
    s += "</svg>\n";
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagrams::unlabelled;

    #[test]
    fn ladder_index_form() {
        // H = 2, order 3: the ladder [2]([1](x1,x2),x3) has |Aut| = 2.
        let t = unlabelled(3, 2, false)
            .into_iter()
            .find(|t| t.tree.text() == "[2]([1](x1,x2),x3)")
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

    #[test]
    fn svg_draws_every_leaf_vertex_and_line() {
        // (topologies, output layer L, whether the output is a separate node)
        let families = [
            (unlabelled(4, 3, false), 4, 1),
            (unlabelled(3, 2, true), 3, 0),
        ];
        for (topos, l, out_node) in families {
            for t in topos {
                let svg = svg(&t.tree, l, "1/2");
                let (v, n) = (t.tree.vertices(), t.tree.order());
                assert_eq!(svg.matches("<circle").count(), v, "{}", t.tree.text());
                // texts: leaves, vertex layer numbers, the output (if separate), the label
                assert_eq!(
                    svg.matches("<text").count(),
                    n + v + out_node + 1,
                    "{}",
                    t.tree.text()
                );
                // a tree on V nodes has V − 1 lines
                assert_eq!(
                    svg.matches("<line").count(),
                    n + v + out_node - 1,
                    "{}",
                    t.tree.text()
                );
                assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
            }
        }
    }
}

/// Counts as JSON numbers when they fit in u64, else as strings (exact).
fn num_json(n: &num_bigint::BigUint) -> serde_json::Value {
    match u64::try_from(n) {
        Ok(v) => v.into(),
        Err(_) => n.to_string().into(),
    }
}

/// The one-line summary of an order's counts.
pub fn counts_text(c: &DiagramCounts) -> String {
    format!(
        "order {} with {} hidden layer(s): {} labelled diagrams, {} unlabelled topologies\n",
        c.order, c.hidden_layers, c.labelled, c.unlabelled
    )
}

/// The counts as JSON (exact: numbers beyond u64 as strings).
pub fn counts_json(c: &DiagramCounts) -> String {
    #[derive(Serialize)]
    struct Counts {
        order: usize,
        hidden_layers: usize,
        output_activation: bool,
        labelled: serde_json::Value,
        unlabelled: serde_json::Value,
    }
    let c = Counts {
        order: c.order,
        hidden_layers: c.hidden_layers,
        output_activation: c.output_activation,
        labelled: num_json(&c.labelled),
        unlabelled: num_json(&c.unlabelled),
    };
    serde_json::to_string(&c).expect("JSON of numbers and strings") + "\n"
}

/// The listing as text: the counts, then one numbered row per diagram (with its symmetry
/// factor and index form for a topology).
pub fn listing_text(l: &DiagramListing) -> String {
    let mut s = counts_text(&l.counts);
    for (i, d) in l.diagrams.iter().enumerate() {
        match (d.topology(), &d.automorphisms) {
            (Some(t), Some(x)) => {
                let term = index_term(&t, l.output_layer, "o");
                s += &format!(
                    "{:>4}  1/{:<4} {:<28} {}\n",
                    i + 1,
                    x,
                    d.tree.text(),
                    term.text()
                );
            }
            _ => s += &format!("{:>4}  {}\n", i + 1, d.tree.text()),
        }
    }
    s
}

/// The listing as JSON (the `DiagramJson` objects under `diagrams`).
pub fn listing_json(l: &DiagramListing) -> String {
    let ds: Vec<DiagramJson> = l
        .diagrams
        .iter()
        .map(|d| DiagramJson {
            tree: d.tree.text(),
            vertices: d.tree.vertices(),
            automorphisms: d.automorphisms.as_ref().map(|x| x.to_string()),
            symmetry_factor: d.automorphisms.as_ref().map(|x| format!("1/{x}")),
            index_form: d
                .topology()
                .map(|t| index_term(&t, l.output_layer, "o").text()),
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "order": l.counts.order,
        "hidden_layers": l.counts.hidden_layers,
        "kind": if l.labelled { "labelled" } else { "unlabelled" },
        "diagrams": ds,
    }))
    .expect("JSON of strings and numbers")
        + "\n"
}

/// One Graphviz digraph per diagram, named d0, d1, ….
pub fn listing_dot(l: &DiagramListing) -> String {
    let parts: Vec<String> = l
        .diagrams
        .iter()
        .enumerate()
        .map(|(i, d)| dot(&d.tree, l.output_layer, &format!("d{i}")))
        .collect();
    parts.join("\n")
}

/// One TikZ picture per diagram, labelled with its symmetry factor.
pub fn listing_tikz(l: &DiagramListing) -> String {
    let parts: Vec<String> = l
        .diagrams
        .iter()
        .map(|d| tikz(&d.tree, l.output_layer, &d.factor_label()))
        .collect();
    parts.join("\n")
}

/// One SVG document per diagram, in the listing's order.
pub fn listing_svgs(l: &DiagramListing) -> Vec<String> {
    l.diagrams
        .iter()
        .map(|d| svg(&d.tree, l.output_layer, &d.factor_label()))
        .collect()
}
