//! The two independent routes to the expanded closed forms (Symbolica thread only).
//!
//! (i) Diagrams: symbolic propagators D^(l,m) and vertices f_m^(k)(z^(m)), summed over the
//!     labelled diagrams of each order: c_α = (1/α!) Σ_d value_d(slots = α).
//! (ii) Series: the network is pushed through truncated polynomials in the displacement h
//!     (homogeneous parts of degree 0..N), with f(z0 + p) = Σ_k f^(k)(z0)/k! p^k; the
//!     coefficient of h^α is read off. No diagram is involved.
//!
//! Both routes work with vertex symbols V_{l,j,k} = f_l^(k)(z^(l)_j(x0)) (see [`SymNet::v`]),
//! so that their algebra stays polynomial; [`SymNet::substitute`] puts the closed forms in.

use std::collections::HashMap;
use std::ops::ControlFlow;

use symbolica::atom::{Atom, AtomCore};

use super::net::SymNet;
use super::syms;
use crate::diagrams::{for_each_labelled, Node};
use crate::numeric::multi_index::{alpha_factorial, sorted_indices as monomials_of_degree};

/// Sorted multi-indices of degree `n` in `d` variables, lexicographic (the order of
/// [`crate::numeric::Basis`]).

/// Coefficients of one order: for each output, (α, c_α) in monomial order.
pub type Coefficients = Vec<Vec<(Vec<u32>, Atom)>>;

/// Route (i): diagram sums.
pub struct DiagramRoute<'a> {
    net: &'a SymNet,
    /// d[l][m] = D^(l,m) (n_l × n_m), 0 ≤ m < l ≤ L
    d: Vec<Vec<Vec<Vec<Atom>>>>,
    /// v[l][k][j] = f_l^(k)(z^(l)_j)
    v: Vec<Vec<Vec<Atom>>>,
    /// y(x0)
    y0: Vec<Atom>,
}

fn matmul(a: &[Vec<Atom>], b: &[Vec<Atom>]) -> Vec<Vec<Atom>> {
    let cols = b.first().map_or(0, |r| r.len());
    a.iter()
        .map(|row| {
            (0..cols)
                .map(|j| Atom::add_many(row.iter().zip(b).map(|(x, brow)| x * &brow[j])).expand())
                .collect()
        })
        .collect()
}

impl<'a> DiagramRoute<'a> {
    /// The diagram route for `net` up to `order`.
    pub fn new(net: &'a SymNet, order: usize) -> DiagramRoute<'a> {
        let l_count = net.spec.layers();
        let mut v: Vec<Vec<Vec<Atom>>> = vec![vec![]; l_count + 1];
        for (l, vl) in v.iter_mut().enumerate().skip(1) {
            if net.has_act(l) {
                *vl = (0..=order.max(1))
                    .map(|k| (0..net.spec.widths[l]).map(|j| net.v(l, j, k)).collect())
                    .collect();
            }
        }
        // y(x0): the output vertex value, or the affine output of the last hidden layer
        let y0 = if net.has_act(l_count) {
            v[l_count][0].clone()
        } else {
            let a: Vec<Atom> = if l_count == 1 {
                net.x0.clone()
            } else {
                v[l_count - 1][0].clone()
            };
            net.w[l_count - 1]
                .iter()
                .zip(&net.b[l_count - 1])
                .map(|(row, b)| {
                    (Atom::add_many(row.iter().zip(&a).map(|(w, x)| w * x)) + b).expand()
                })
                .collect()
        };
        let mut d: Vec<Vec<Vec<Vec<Atom>>>> = vec![vec![]; l_count + 1];
        for l in 1..=l_count {
            for m in 0..l {
                let dm = if m + 1 == l {
                    net.w[l - 1].clone()
                } else {
                    // D^(l,m) = W^(l) diag(f'_{l-1}(z^(l-1))) D^(l-1,m)
                    let scaled: Vec<Vec<Atom>> = d[l - 1][m]
                        .iter()
                        .zip(&v[l - 1][1])
                        .map(|(row, fp)| row.iter().map(|x| x * fp).collect())
                        .collect();
                    matmul(&net.w[l - 1], &scaled)
                };
                d[l].push(dm);
            }
        }
        DiagramRoute { net, d, v, y0 }
    }

    /// All coefficients of order n (n ≥ 1) from the labelled diagrams.
    pub fn order(&self, n: usize) -> Coefficients {
        let spec = &self.net.spec;
        let mut diagrams: Vec<Node> = Vec::new();
        for_each_labelled(n, spec.layers() - 1, spec.output_activation(), |d| {
            diagrams.push(d.clone());
            ControlFlow::Continue(())
        });
        let alphas = monomials_of_degree(spec.inputs(), n);
        let mut out: Coefficients = vec![Vec::with_capacity(alphas.len()); spec.outputs()];
        for alpha in &alphas {
            for (o, c) in self.sum_diagrams(&diagrams, alpha).into_iter().enumerate() {
                out[o].push((alpha.clone(), c));
            }
        }
        out
    }

    /// c_α of every output for one sorted multi-index (|α| ≥ 1).
    pub fn coefficient(&self, alpha: &[u32]) -> Vec<Atom> {
        let spec = &self.net.spec;
        let mut diagrams: Vec<Node> = Vec::new();
        for_each_labelled(
            alpha.len(),
            spec.layers() - 1,
            spec.output_activation(),
            |d| {
                diagrams.push(d.clone());
                ControlFlow::Continue(())
            },
        );
        self.sum_diagrams(&diagrams, alpha)
    }

    fn sum_diagrams(&self, diagrams: &[Node], alpha: &[u32]) -> Vec<Atom> {
        let outputs = self.net.spec.outputs();
        let mut sums: Vec<Vec<Atom>> = vec![Vec::with_capacity(diagrams.len()); outputs];
        for d in diagrams {
            for (o, v) in self.root_vector(d, alpha).into_iter().enumerate() {
                sums[o].push(v);
            }
        }
        let inv = Atom::num((1i64, alpha_factorial(alpha) as i64));
        sums.into_iter()
            .map(|terms| (Atom::add_many(terms.iter()) * &inv).expand())
            .collect()
    }

    /// The order-0 coefficients: the outputs at the expansion point.
    pub fn order_zero(&self) -> Coefficients {
        self.y0.iter().map(|y| vec![(vec![], y.clone())]).collect()
    }

    fn root_vector(&self, root: &Node, slots: &[u32]) -> Vec<Atom> {
        let l = self.net.spec.layers();
        match root {
            Node::Vertex { layer, .. } if *layer == l => self.vertex_vector(root, slots),
            _ => self.line_into(root, l, slots),
        }
    }

    /// The vector over neurons of layer `parent` of the subdiagram `node` attached below it.
    fn line_into(&self, node: &Node, parent: usize, slots: &[u32]) -> Vec<Atom> {
        match node {
            Node::Leaf(s) => self.d[parent][0]
                .iter()
                .map(|row| row[slots[*s] as usize].clone())
                .collect(),
            Node::Vertex { layer, .. } => {
                let vv = self.vertex_vector(node, slots);
                self.d[parent][*layer]
                    .iter()
                    .map(|row| Atom::add_many(row.iter().zip(&vv).map(|(x, y)| x * y)))
                    .collect()
            }
        }
    }

    /// f^(k)(z^(m)) ⊙ Π_children (line from child into m).
    fn vertex_vector(&self, node: &Node, slots: &[u32]) -> Vec<Atom> {
        let Node::Vertex { layer, children } = node else {
            unreachable!()
        };
        let mut acc = self.v[*layer][children.len()].clone();
        for c in children {
            let line = self.line_into(c, *layer, slots);
            for (a, x) in acc.iter_mut().zip(&line) {
                *a = &*a * x;
            }
        }
        acc
    }
}

/// A truncated polynomial in h: homogeneous parts of degree 0..=N, each expanded.
pub(super) type Poly = Vec<Atom>;

pub(super) fn poly_mul(p: &Poly, q: &Poly) -> Poly {
    let n = p.len() - 1;
    (0..=n)
        .map(|deg| {
            Atom::add_many(
                (0..=deg)
                    .filter(|i| !p[*i].is_zero() && !q[deg - i].is_zero())
                    .map(|i| &p[i] * &q[deg - i]),
            )
            .expand()
        })
        .collect()
}

/// Route (ii): the truncated series of every output, all orders at once.
pub struct SeriesRoute {
    /// y[o][n]: homogeneous part of degree n of output o
    y: Vec<Poly>,
    h: Vec<Atom>,
}

impl SeriesRoute {
    /// The series route for `net` up to `order`.
    pub fn new(net: &SymNet, order: usize) -> SeriesRoute {
        let d = net.spec.inputs();
        let h: Vec<Atom> = (0..d)
            .map(|i| Atom::var(syms::internal(&format!("feynn_h_{i}"))))
            .collect();
        let zero = || Atom::num(0);
        // a^(0)(h) = x0 + h
        let mut a: Vec<Poly> = (0..d)
            .map(|i| {
                let mut p = vec![zero(); order + 1];
                p[0] = net.x0[i].clone();
                if order >= 1 {
                    p[1] = h[i].clone();
                }
                p
            })
            .collect();
        for l in 1..=net.spec.layers() {
            let z: Vec<Poly> = net.w[l - 1]
                .iter()
                .zip(&net.b[l - 1])
                .map(|(row, b)| {
                    (0..=order)
                        .map(|deg| {
                            let lin =
                                Atom::add_many(row.iter().zip(&a).map(|(w, ai)| w * &ai[deg]));
                            if deg == 0 { lin + b } else { lin }.expand()
                        })
                        .collect()
                })
                .collect();
            a = if net.has_act(l) {
                z.iter()
                    .enumerate()
                    .map(|(j, zp)| {
                        // f(z0 + p) by Horner: acc = c_N; acc = c_k + p·acc, c_k = f^(k)(z0)/k!
                        let mut p = zp.clone();
                        p[0] = zero();
                        let c = |k: usize| net.v(l, j, k) * Atom::num((1i64, factorial(k)));
                        let mut acc = vec![zero(); order + 1];
                        acc[0] = c(order);
                        for k in (0..order).rev() {
                            acc = poly_mul(&p, &acc);
                            acc[0] = (&acc[0] + c(k)).expand();
                        }
                        acc
                    })
                    .collect()
            } else {
                z
            };
        }
        SeriesRoute { y: a, h }
    }

    /// The coefficients of order n, read off the degree-n parts.
    pub fn order(&self, n: usize) -> Coefficients {
        let alphas = monomials_of_degree(self.h.len(), n);
        self.y
            .iter()
            .map(|poly| {
                let part = &poly[n];
                let mut table: HashMap<Atom, Atom> = HashMap::new();
                if n == 0 {
                    table.insert(Atom::num(1), part.clone());
                } else {
                    for (k, v) in part.coefficient_list::<u16>(&self.h) {
                        table.insert(k, v);
                    }
                }
                let found: Vec<(Vec<u32>, Atom)> = alphas
                    .iter()
                    .map(|alpha| {
                        let mono = Atom::mul_many(alpha.iter().map(|&i| &self.h[i as usize]));
                        let c = table.remove(&mono).unwrap_or_else(|| Atom::num(0));
                        (alpha.clone(), c)
                    })
                    .collect();
                assert!(
                    table.values().all(|v| v.is_zero()),
                    "series route: monomials of the wrong degree: {:?}",
                    table.keys().map(|k| k.to_string()).collect::<Vec<_>>()
                );
                found
            })
            .collect()
    }
}

fn factorial(k: usize) -> i64 {
    (1..=k as i64).product()
}
