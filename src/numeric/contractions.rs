//! The diagram shapes the dense plan ([`super::dense`]) contracts, read off the topologies that
//! [`crate::diagrams::unlabelled`] enumerates for the network: the plan evaluates the diagrams
//! the diagram layer lists, one matrix contraction per shape, and is unavailable for an order
//! whose list holds a shape it has no contraction for.
//!
//! A topology is reduced to its skeleton: layers and slots dropped, and a vertex with a single
//! line removed (with an output activation the root takes one line: f′ on the output, which the
//! gradient g already carries). At orders ≤ 3 the skeletons are the line, the quadratic vertex,
//! the cubic star and the exchange of two quadratic vertices; order 4 adds shapes (a quartic
//! star, chains of three vertices, …) with no contraction here, and the jets or the series
//! engine take it.

use crate::diagrams::{unlabelled, Node};

/// A diagram shape and the contraction that evaluates all its diagrams at once (summed over
/// the layers of its vertices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Contraction {
    /// One line from an input to the output: the gradient ∂y/∂x by reverse mode.
    Line,
    /// One vertex with two legs: Σ_l J_lᵀ diag(g_l σ_l″) J_l.
    Vertex2,
    /// One vertex with three legs (the star): Σ_l g_l σ_l‴ J_l J_l J_l.
    Star3,
    /// Two quadratic vertices joined by a propagator (the exchange): Σ_m σ_m″ K_m J_m J_m,
    /// with K_m the upper vertex carried down to layer m.
    Exchange3,
}

/// The highest order whose shapes all have a contraction.
pub const MAX_ORDER: usize = 3;

impl Contraction {
    /// The contraction of a topology's tree, if there is one.
    pub fn of(tree: &Node) -> Option<Contraction> {
        let leaf = Node::Leaf(0);
        let vertex = |children: Vec<Node>| Node::Vertex { layer: 0, children };
        let s = skeleton(tree);
        if s == leaf {
            Some(Contraction::Line)
        } else if s == vertex(vec![leaf.clone(), leaf.clone()]) {
            Some(Contraction::Vertex2)
        } else if s == vertex(vec![leaf.clone(), leaf.clone(), leaf.clone()]) {
            Some(Contraction::Star3)
        } else if s == vertex(vec![vertex(vec![leaf.clone(), leaf.clone()]), leaf]) {
            Some(Contraction::Exchange3)
        } else {
            None
        }
    }
}

/// The tree without layers, slots and one-line vertices, children in canonical order.
fn skeleton(n: &Node) -> Node {
    match n {
        Node::Leaf(_) => Node::Leaf(0),
        Node::Vertex { children, .. } if children.len() == 1 => skeleton(&children[0]),
        Node::Vertex { children, .. } => {
            let mut c: Vec<Node> = children.iter().map(skeleton).collect();
            c.sort_unstable_by(|a, b| b.cmp(a));
            Node::Vertex {
                layer: 0,
                children: c,
            }
        }
    }
}

/// The contractions the topologies of orders 1..=`order` need, for a network with `hidden`
/// hidden layers (and an activation on the output when `output_activation`), in order and
/// without repeats; `None` when some topology has none (every order above [`MAX_ORDER`], which
/// is not enumerated).
pub fn contractions(
    order: usize,
    hidden: usize,
    output_activation: bool,
) -> Option<Vec<Contraction>> {
    if order > MAX_ORDER {
        return None;
    }
    // a diagram of order n has at most n − 1 vertices, each in its own layer at most: any
    // n − 1 hidden layers show every shape (and a deep network does not enumerate ~H² trees)
    let hidden = hidden.min(order);
    let mut out = Vec::new();
    for n in 1..=order {
        for t in unlabelled(n, hidden, output_activation) {
            out.push(Contraction::of(&t.tree)?);
        }
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Contraction::*;

    /// The shapes follow from the layers: one hidden layer has no exchange (its two vertices
    /// need two layers), an output activation adds vertices in the output layer.
    #[test]
    fn shapes_per_depth() {
        assert_eq!(contractions(1, 1, false), Some(vec![Line]));
        assert_eq!(contractions(2, 1, false), Some(vec![Line, Vertex2]));
        assert_eq!(contractions(3, 1, false), Some(vec![Line, Vertex2, Star3]));
        assert_eq!(
            contractions(3, 2, false),
            Some(vec![Line, Vertex2, Star3, Exchange3])
        );
        // the output vertex and one hidden layer make two layers of vertices
        assert_eq!(
            contractions(3, 1, true),
            Some(vec![Line, Vertex2, Star3, Exchange3])
        );
        // no hidden layer and no output activation: a linear map, lines only
        assert_eq!(contractions(3, 0, false), Some(vec![Line]));
        // deep networks have the same shapes (and are not enumerated tree by tree)
        assert_eq!(contractions(3, 100_000, true), contractions(3, 2, false));
    }

    /// Order 4 holds shapes without a contraction (the quartic star, the chain of three
    /// vertices), so the plan is unavailable there even when its list would be short.
    #[test]
    fn order_four_has_other_shapes() {
        assert_eq!(contractions(4, 3, false), None);
        let others = unlabelled(4, 3, false)
            .iter()
            .filter(|t| Contraction::of(&t.tree).is_none())
            .count();
        assert!(others > 0);
    }
}
