//! Renderings of the layer diagrams of invertible networks ([`crate::numeric::inn_layers`]).

use crate::numeric::cumulants::CumulantComparison;
use crate::numeric::inn_layers::{LayerCount, LayerListing, LayerRow};

/// `layer L order m: N labelled diagrams, S shapes`, one line per row.
pub fn layer_counts_text(rows: &[LayerCount]) -> String {
    rows.iter()
        .map(|r| {
            format!(
                "layer {} order {}: {} labelled diagrams, {} shapes\n",
                r.layer, r.order, r.labelled, r.shapes
            )
        })
        .collect()
}

/// `{"model": …, "counts": [{"layer", "order", "labelled", "shapes"}, …]}`.
pub fn layer_counts_json(model: &str, rows: &[LayerCount]) -> String {
    serde_json::to_string(&serde_json::json!({"model": model, "counts": rows})).unwrap() + "\n"
}

fn all_rows(l: &LayerListing) -> impl Iterator<Item = &LayerRow> {
    l.layers.iter().flat_map(|s| &s.rows)
}

/// `{"model": …, "order": m, "diagrams": [rows of every layer]}`.
pub fn layer_listing_json(l: &LayerListing) -> String {
    let rows: Vec<&LayerRow> = all_rows(l).collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "model": l.model, "order": l.order, "diagrams": rows
    }))
    .unwrap()
        + "\n"
}

/// Graphviz DOT, one graph per diagram.
pub fn layer_listing_dot(l: &LayerListing) -> String {
    all_rows(l)
        .enumerate()
        .map(|(i, r)| r.diagram.dot(&format!("l{}_d{}", r.diagram.layer, i + 1)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// TikZ, one picture per diagram.
pub fn layer_listing_tikz(l: &LayerListing) -> String {
    all_rows(l)
        .map(|r| {
            format!(
                "% layer {}: {}\n{}",
                r.diagram.layer,
                r.text,
                r.diagram.tikz()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text table: per layer its diagrams with multiplicity, labelled count, and with numbers
/// the norm and share of each.
pub fn layer_listing_text(l: &LayerListing) -> String {
    let mut s = String::new();
    for sec in &l.layers {
        s += &format!(
            "inn {} layer {} ({}), order {}: {} diagram shapes, {} labelled (S-convention){}\n",
            l.model,
            sec.layer,
            sec.kind,
            l.order,
            sec.shapes,
            sec.labelled,
            if l.with_norms {
                "; ‖·‖ = Frobenius norm of the contribution to A^(m) of the layer's input"
            } else {
                ""
            }
        );
        s += "   #  mult  labelled  diagram\n";
        let total: f64 = sec.rows.iter().filter_map(|r| r.norm).sum();
        for (i, r) in sec.rows.iter().enumerate() {
            s += &format!(
                "{:>4}  {:>4}  {:>8}  {:<56}",
                i + 1,
                r.diagram.multiplicity,
                r.diagram.labelled,
                r.text
            );
            if let Some(nm) = r.norm {
                s += &format!(
                    "  ‖·‖ {nm:.3e}{}",
                    if r.group_norm { " (source group)" } else { "" }
                );
                if total > 0.0 {
                    s += &format!("  {:5.1}%", 100.0 * nm / total);
                }
            }
            s += "\n";
        }
    }
    s
}

/// The text report of `feynn cumulants`: κ1 of model and data, and per order the differences.
pub fn cumulants_text(r: &CumulantComparison) -> String {
    let mut s = format!(
        "inn {}: cumulants of {} model samples (seed {}) vs {} data points ({})\n",
        r.name, r.model.points, r.seed, r.data.points, r.data_name
    );
    let show = |v: &[f64]| {
        v.iter()
            .take(8)
            .map(|x| format!("{x:+.4}"))
            .collect::<Vec<_>>()
            .join(" ")
            + if v.len() > 8 { " …" } else { "" }
    };
    s += &format!(
        "  κ1 model: {}\n  κ1 data:  {}\n",
        show(&r.model.k1),
        show(&r.data.k1)
    );
    for d in &r.differences {
        s += &format!(
            "  κ{}: max |model − data| = {:.4e}, ‖model − data‖/‖data‖ = {:.4e}\n",
            d.order, d.max_abs, d.relative
        );
    }
    s += "  (sampling error of κ_k scales as 1/√M for M points on either side)\n";
    s
}
