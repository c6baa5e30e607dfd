//! Propagators D^(l,m) and vertices f_m^(k)(z^(m)) at a point (theory notes §2.2–2.3), and the
//! numeric value of a diagram built from them.

use ndarray::{Array1, Array2};

use crate::diagrams::Node;
use crate::error::Result;
use crate::model::Network;

/// Propagators D^(l,m) and activation derivatives of a network at a point: the Feynman rules' numbers.
pub struct Propagators {
    /// L, the number of affine layers.
    pub layers: usize,
    /// `d[l][m]` = D^(l,m) = ∂z^(l)/∂a^(m), shape [n_l, n_m], for 0 ≤ m < l ≤ L.
    pub d: Vec<Vec<Array2<f64>>>,
    /// `v[l][k]` = f_l^(k)(z^(l)) as a vector over neurons, l = 1..L (output only with an
    /// output activation), k = 0..=order.
    pub v: Vec<Vec<Array1<f64>>>,
}

impl Propagators {
    /// The propagators of `net` at the point `x0` (x1…xd), activation derivatives up to `order`.
    pub fn new(net: &Network, x0: &[f64], order: usize) -> Result<Propagators> {
        let layers = net.weights.len();
        let mut v: Vec<Vec<Array1<f64>>> = vec![vec![]; layers + 1];
        let mut a = Array1::from_vec(x0.to_vec());
        for l in 1..=layers {
            let z = net.weights[l - 1].dot(&a) + &net.biases[l - 1];
            match &net.activations[l - 1] {
                Some(act) => {
                    let per: Vec<Vec<f64>> = z
                        .iter()
                        .map(|&zj| act.derivatives(zj, order.max(1)))
                        .collect::<Result<_>>()?;
                    v[l] = (0..=order.max(1))
                        .map(|k| per.iter().map(|p| p[k]).collect())
                        .collect();
                    a = v[l][0].clone();
                }
                None => a = z,
            }
        }
        let mut d: Vec<Vec<Array2<f64>>> = vec![vec![]; layers + 1];
        for l in 1..=layers {
            for m in 0..l {
                let dm = if m + 1 == l {
                    net.weights[l - 1].clone()
                } else {
                    // D^(l,m) = W^(l) diag(f'(z^(l-1))) D^(l-1,m)
                    let scaled = &d[l - 1][m] * &v[l - 1][1].view().insert_axis(ndarray::Axis(1));
                    net.weights[l - 1].dot(&scaled)
                };
                d[l].push(dm);
            }
        }
        Ok(Propagators { layers, d, v })
    }

    /// Value of a diagram for output `o`, leaf s carrying input index `slots[s]`.
    /// With an output activation the root is a vertex in layer L.
    pub fn diagram_value(&self, root: &Node, o: usize, slots: &[u32]) -> f64 {
        let l = self.layers;
        match root {
            Node::Vertex { layer, .. } if *layer == l => self.vertex_vector(root, slots)[o],
            _ => self.line_into(root, l, slots)[o],
        }
    }

    /// The vector over neurons of layer `parent` of the subdiagram `node` attached below it.
    fn line_into(&self, node: &Node, parent: usize, slots: &[u32]) -> Array1<f64> {
        match node {
            Node::Leaf(s) => self.d[parent][0].column(slots[*s] as usize).to_owned(),
            Node::Vertex { layer, .. } => {
                self.d[parent][*layer].dot(&self.vertex_vector(node, slots))
            }
        }
    }

    /// V^(m)_{·,k} ⊙ Π_children (line from child into m).
    fn vertex_vector(&self, node: &Node, slots: &[u32]) -> Array1<f64> {
        let Node::Vertex { layer, children } = node else {
            unreachable!()
        };
        let mut acc = self.v[*layer][children.len()].clone();
        for c in children {
            acc *= &self.line_into(c, *layer, slots);
        }
        acc
    }
}
