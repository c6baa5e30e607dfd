//! Per-diagram attribution: how much each topology contributes to each Taylor coefficient.
//!
//! c_α = (1/α!) Σ_{labelled diagrams d} value_d(slots = α); grouping the labelled diagrams by
//! their unlabelled shape splits every coefficient into the contributions of the topologies.

use std::collections::HashMap;
use std::ops::ControlFlow;

use super::{Basis, Propagators};
use crate::diagrams::{for_each_labelled, unlabelled, Node, Topology};
use crate::error::Result;
use crate::model::Network;

/// Refuse an attribution of order n that would enumerate more labelled diagrams than the work
/// budget allows (`taylor --order 15 --diagrams` on a 3-5-5-2 net meant 1.4·10⁹ diagrams for
/// each of 136 coefficients: hours, with no progress output). `coefficients`: how many
/// coefficients each diagram is evaluated at.
pub fn attribution_budget(net: &Network, n: usize, coefficients: f64) -> Result<()> {
    let ops = attribution_work(net, n, coefficients)?;
    let lab = crate::diagrams::labelled_counts(n, net.hidden_layers(), out_act(net))[n].to_string();
    crate::budget::work(
        format!("attributing the order-{n} coefficients to diagrams ({lab} labelled diagrams)"),
        ops,
        "lower --order, or leave out --diagrams",
    )
}

/// The predicted operations of [`attribute`] at order n (after checking the memory the
/// topologies need).
pub fn attribution_work(net: &Network, n: usize, coefficients: f64) -> Result<f64> {
    use num_traits::ToPrimitive;
    let out_act = out_act(net);
    let h = net.hidden_layers();
    crate::diagrams::count::counts_budget(n, h, crate::budget::DEFAULT_MEMORY_LIMIT)?;
    let lab = crate::diagrams::labelled_counts(n, h, out_act)[n]
        .to_f64()
        .unwrap_or(f64::INFINITY);
    let topos = crate::diagrams::unlabelled_counts(n, h, out_act)[n]
        .to_f64()
        .unwrap_or(f64::INFINITY);
    crate::budget::memory(
        format!("the order-{n} topologies of {h} hidden layer(s)"),
        topos * (64.0 * n as f64 + 8.0 * coefficients),
        crate::budget::DEFAULT_MEMORY_LIMIT,
        "lower --order",
    )?;
    Ok(lab * coefficients.max(1.0) * (n as f64 + 1.0)
        + crate::diagrams::labelled_enumeration_work(n))
}

fn out_act(net: &Network) -> bool {
    net.activations.last().map(|a| a.is_some()).unwrap_or(false)
}

/// For one order n and output o: each topology with its contribution to every coefficient of
/// degree n (in basis order, restricted to degree n).
pub fn attribute(
    net: &Network,
    x0: &[f64],
    n: usize,
    basis: &Basis,
    o: usize,
) -> Result<Vec<(Topology, Vec<f64>)>> {
    let props = Propagators::new(net, x0, n)?;
    let out_act = net.activations.last().map(|a| a.is_some()).unwrap_or(false);
    let h = net.hidden_layers();
    let monos: Vec<&Vec<u32>> = basis.monomials.iter().filter(|m| m.len() == n).collect();
    attribution_budget(net, n, monos.len() as f64)?;
    let topos = unlabelled(n, h, out_act);
    let pos: HashMap<Node, usize> = topos
        .iter()
        .enumerate()
        .map(|(i, t)| (t.tree.shape(), i))
        .collect();
    let mut contrib = vec![vec![0.0; monos.len()]; topos.len()];
    for_each_labelled(n, h, out_act, |d| {
        let t = pos[&d.shape()];
        for (k, m) in monos.iter().enumerate() {
            contrib[t][k] += props.diagram_value(d, o, m) / Basis::alpha_factorial(m);
        }
        ControlFlow::Continue(())
    });
    Ok(topos.into_iter().zip(contrib).collect())
}

/// Each topology's contribution to the single coefficient c_α (`alpha` sorted input positions
/// with repetition, |α| = n ≥ 1) of output o: the labelled diagrams of one monomial only.
pub fn attribute_one(
    net: &Network,
    x0: &[f64],
    alpha: &[u32],
    o: usize,
) -> Result<Vec<(Topology, f64)>> {
    let n = alpha.len();
    attribution_budget(net, n, 1.0)?;
    let props = Propagators::new(net, x0, n)?;
    let out_act = net.activations.last().map(|a| a.is_some()).unwrap_or(false);
    let topos = unlabelled(n, net.hidden_layers(), out_act);
    let pos: HashMap<Node, usize> = topos
        .iter()
        .enumerate()
        .map(|(i, t)| (t.tree.shape(), i))
        .collect();
    let mut contrib = vec![0.0; topos.len()];
    let inv = 1.0 / Basis::alpha_factorial(alpha);
    for_each_labelled(n, net.hidden_layers(), out_act, |d| {
        contrib[pos[&d.shape()]] += props.diagram_value(d, o, alpha) * inv;
        ControlFlow::Continue(())
    });
    Ok(topos.into_iter().zip(contrib).collect())
}
