//! Diagrams of MLP Taylor coefficients (theory notes §2.4–2.7).
//!
//! A diagram of order n is a rooted tree: n leaves (the derivative slots), vertices of k ≥ 2
//! children sitting in hidden layers 1..H, every child strictly below its parent. Its value is the
//! product of propagators D^(l,m) on the lines and vertex factors f_m^(k)(z^(m)) (see
//! [`crate::numeric::Propagators`]). Labelled diagrams (leaves = slots) sum to the derivative with
//! weight 1; unlabelled topologies carry the symmetry factor 1/|Aut| of the Taylor coefficient.
//! With an output activation the root is an extra vertex in layer L = H+1 that takes k ≥ 1 lines.
//!
//! Trees are [`Node`]s; [`Node::to_graph`] gives the petgraph graph used for export.

pub mod count;
mod enumerate;
pub mod index;
pub mod inn;
pub mod listing;

pub use count::{labelled_counts, unlabelled_counts};
pub use enumerate::{for_each_labelled, labelled_enumeration_work, unlabelled, Topology};

use petgraph::graph::{DiGraph, NodeIndex};

/// A diagram tree. Leaves carry their slot (0-based); vertices their layer (1-based) and children
/// in a canonical order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// An input leaf with its 0-based slot.
    Leaf(usize),
    /// An activation vertex.
    Vertex {
        /// Layer (1-based).
        layer: usize,
        /// Subtrees, in canonical order.
        children: Vec<Node>,
    },
}

/// A node of the petgraph form of a diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphNode {
    /// The network output.
    Output,
    /// A vertex in `layer` with `legs` incoming lines: f^(legs)(z^(layer)).
    Vertex {
        /// Layer (1-based).
        layer: usize,
        /// Number of incoming lines.
        legs: usize,
    },
    /// An external leg: derivative slot `slot`.
    Input {
        /// Derivative slot (0-based).
        slot: usize,
    },
}

/// A line: the propagator D^(to, from) (from = 0 for an external leg).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Layer the line starts in (0: an input).
    pub from_layer: usize,
    /// Layer the line ends in.
    pub to_layer: usize,
}

impl Node {
    /// Number of leaves (the order).
    pub fn order(&self) -> usize {
        match self {
            Node::Leaf(_) => 1,
            Node::Vertex { children, .. } => children.iter().map(Node::order).sum(),
        }
    }
    /// The node's layer (0 for a leaf).
    pub fn layer(&self) -> usize {
        match self {
            Node::Leaf(_) => 0,
            Node::Vertex { layer, .. } => *layer,
        }
    }
    /// Number of vertices.
    pub fn vertices(&self) -> usize {
        match self {
            Node::Leaf(_) => 0,
            Node::Vertex { children, .. } => 1 + children.iter().map(Node::vertices).sum::<usize>(),
        }
    }
    /// Same tree with slots renumbered 0.. in depth-first order.
    pub fn relabel(&self) -> Node {
        fn go(n: &Node, next: &mut usize) -> Node {
            match n {
                Node::Leaf(_) => {
                    *next += 1;
                    Node::Leaf(*next - 1)
                }
                Node::Vertex { layer, children } => Node::Vertex {
                    layer: *layer,
                    children: children.iter().map(|c| go(c, next)).collect(),
                },
            }
        }
        go(self, &mut 0)
    }
    /// Same tree with every slot set to 0 and children sorted: the unlabelled shape.
    pub fn shape(&self) -> Node {
        match self {
            Node::Leaf(_) => Node::Leaf(0),
            Node::Vertex { layer, children } => {
                let mut c: Vec<Node> = children.iter().map(Node::shape).collect();
                c.sort_unstable_by(|a, b| b.cmp(a));
                Node::Vertex {
                    layer: *layer,
                    children: c,
                }
            }
        }
    }
    /// |Aut|: product over vertices of the factorials of multiplicities of identical subtrees.
    /// Exact: n! for the star of order n, beyond u128 from order 35 on.
    pub fn automorphisms(&self) -> num_bigint::BigUint {
        match self {
            Node::Leaf(_) => num_bigint::BigUint::from(1u32),
            Node::Vertex { children, .. } => {
                let mut shapes: Vec<Node> = children.iter().map(Node::shape).collect();
                shapes.sort_unstable();
                let mut aut: num_bigint::BigUint =
                    children.iter().map(Node::automorphisms).product();
                let mut run = 1u32;
                for w in shapes.windows(2) {
                    if w[0] == w[1] {
                        run += 1;
                        aut *= run;
                    } else {
                        run = 1;
                    }
                }
                aut
            }
        }
    }

    /// Compact text: `[2](x1,[1](x2,x3))` is a vertex in layer 2 with leg x1 and a layer-1
    /// vertex carrying x2 and x3 (leaves are numbered from 1, like the inputs).
    pub fn text(&self) -> String {
        match self {
            Node::Leaf(s) => format!("x{}", s + 1),
            Node::Vertex { layer, children } => format!(
                "[{layer}]({})",
                children
                    .iter()
                    .map(Node::text)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }

    /// The diagram as a petgraph graph, edges pointing from inputs towards the output.
    pub fn to_graph(&self, output_layer: usize) -> DiGraph<GraphNode, Line> {
        let mut g = DiGraph::new();
        let out = g.add_node(GraphNode::Output);
        match self {
            // With an output activation the root vertex sits in the output layer itself.
            Node::Vertex { layer, .. } if *layer == output_layer => {
                let r = self.add_to(&mut g);
                g.add_edge(
                    r,
                    out,
                    Line {
                        from_layer: output_layer,
                        to_layer: output_layer,
                    },
                );
            }
            _ => {
                let r = self.add_to(&mut g);
                g.add_edge(
                    r,
                    out,
                    Line {
                        from_layer: self.layer(),
                        to_layer: output_layer,
                    },
                );
            }
        }
        g
    }

    fn add_to(&self, g: &mut DiGraph<GraphNode, Line>) -> NodeIndex {
        match self {
            Node::Leaf(s) => g.add_node(GraphNode::Input { slot: *s }),
            Node::Vertex { layer, children } => {
                let v = g.add_node(GraphNode::Vertex {
                    layer: *layer,
                    legs: children.len(),
                });
                for c in children {
                    let ci = c.add_to(g);
                    g.add_edge(
                        ci,
                        v,
                        Line {
                            from_layer: c.layer(),
                            to_layer: *layer,
                        },
                    );
                }
                v
            }
        }
    }
}
