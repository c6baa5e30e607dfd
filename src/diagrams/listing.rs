//! The diagrams of one order of an MLP as a result: counts, and the enumerated diagrams
//! (unlabelled topologies with their symmetry factors, or labelled diagrams of weight 1).
//! Rendered by [`crate::export::diagrams`]; `feynn diagrams` is this plus a rendering.

use std::ops::ControlFlow;

use num_bigint::BigUint;

use super::{for_each_labelled, labelled_counts, unlabelled, unlabelled_counts, Node, Topology};
use crate::{Error, Result};

/// The diagram counts of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagramCounts {
    /// Derivative order n.
    pub order: usize,
    /// Hidden layers H.
    pub hidden_layers: usize,
    /// Whether the output has an activation (a root vertex in layer H + 1).
    pub output_activation: bool,
    /// Labelled diagrams (leaves = derivative slots), exact.
    pub labelled: BigUint,
    /// Unlabelled topologies, exact.
    pub unlabelled: BigUint,
}

/// One listed diagram: its tree and, for an unlabelled topology, |Aut|.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedDiagram {
    /// The tree (leaves numbered by slot).
    pub tree: Node,
    /// |Aut| of an unlabelled topology (symmetry factor 1/|Aut|); `None` for a labelled diagram.
    pub automorphisms: Option<BigUint>,
}

impl ListedDiagram {
    /// The topology with its symmetry factor, for an unlabelled diagram.
    pub fn topology(&self) -> Option<Topology> {
        self.automorphisms.as_ref().map(|a| Topology {
            tree: self.tree.clone(),
            automorphisms: a.clone(),
        })
    }

    /// `1/|Aut|` when it is not 1 (the label drawn beside a picture), else empty.
    pub fn factor_label(&self) -> String {
        self.automorphisms
            .as_ref()
            .filter(|x| **x > BigUint::from(1u32))
            .map(|x| format!("1/{x}"))
            .unwrap_or_default()
    }
}

/// The enumerated diagrams of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagramListing {
    /// The counts of the order (the listing has `labelled` or `unlabelled` of them).
    pub counts: DiagramCounts,
    /// Labelled diagrams (true) or unlabelled topologies (false).
    pub labelled: bool,
    /// The output layer L = H + 1 (where the lines end).
    pub output_layer: usize,
    /// The diagrams.
    pub diagrams: Vec<ListedDiagram>,
}

/// Count the diagrams of order `order` of a network with `hidden` hidden layers, refusing
/// (before any table is built) what would not fit the memory or work budget.
pub fn counts(order: usize, hidden: usize, output_activation: bool) -> Result<DiagramCounts> {
    super::count::counts_budget(order, hidden, crate::budget::DEFAULT_MEMORY_LIMIT)?;
    Ok(DiagramCounts {
        order,
        hidden_layers: hidden,
        output_activation,
        labelled: labelled_counts(order, hidden, output_activation).swap_remove(order),
        unlabelled: unlabelled_counts(order, hidden, output_activation).swap_remove(order),
    })
}

/// Enumerate the diagrams of order `order`: unlabelled topologies with symmetry factors, or
/// (`labelled`) every labelled diagram. Refused with the exact count when there are more than
/// `max_diagrams`, and with the predicted work when the labelled enumeration would not end.
pub fn list(
    order: usize,
    hidden: usize,
    output_activation: bool,
    labelled: bool,
    max_diagrams: u64,
) -> Result<DiagramListing> {
    let counts = counts(order, hidden, output_activation)?;
    let n = if labelled {
        &counts.labelled
    } else {
        &counts.unlabelled
    };
    if *n > BigUint::from(max_diagrams) {
        return Err(Error::TooLarge {
            what: format!(
                "enumerating the order-{order} diagrams ({n} {})",
                if labelled { "labelled" } else { "topologies" }
            ),
            predicted: format!("{n} diagrams"),
            limit: format!("{max_diagrams} (--max-diagrams)"),
            help: "use --count to count them, or raise --max-diagrams".into(),
        });
    }
    let diagrams = if labelled {
        crate::budget::work(
            format!("enumerating the labelled diagrams of order {order}"),
            super::labelled_enumeration_work(order),
            "the enumeration visits every set partition of the slots; lower --order, or use --count",
        )?;
        let mut items = Vec::new();
        for_each_labelled(order, hidden, output_activation, |d| {
            items.push(ListedDiagram {
                tree: d.clone(),
                automorphisms: None,
            });
            ControlFlow::Continue(())
        });
        items
    } else {
        unlabelled(order, hidden, output_activation)
            .into_iter()
            .map(|t| ListedDiagram {
                tree: t.tree,
                automorphisms: Some(t.automorphisms),
            })
            .collect()
    };
    Ok(DiagramListing {
        counts,
        labelled,
        output_layer: hidden + 1,
        diagrams,
    })
}
