//! The text of a check report.

use super::*;

impl Report {
    /// Human-readable report.
    pub fn text(&self) -> String {
        let mut s = format!("claim ({}): {}\n", self.origin, self.claim);
        let w = |v: &[usize]| {
            v.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join("-")
        };
        match &self.symbolic {
            SymbolicOutcome::Proved { widths } => s += &format!(
                "  symbolic: the difference expands to 0 at widths {}\n",
                w(widths)
            ),
            SymbolicOutcome::Nonzero { widths, terms } => s += &format!(
                "  symbolic: inconclusive — the difference does not expand to 0 at widths {} ({terms} terms; identities such as tanh' = 1 - tanh^2 are applied, others are not)\n",
                w(widths)
            ),
            SymbolicOutcome::Skipped { reason } => s += &format!("  symbolic: skipped — {reason}\n"),
        }
        s += &format!(
            "  numeric: {} random draws at widths {}; largest relative discrepancy {:.3e} (tolerance {:.0e})\n",
            self.draws,
            self.widths.iter().map(|v| w(v)).collect::<Vec<_>>().join(", "),
            self.max_relative_discrepancy,
            self.tolerance
        );
        if let Some(c) = &self.counterexample {
            let x0 = if c.point.iter().all(|&v| v == 0.0) {
                "0".to_string()
            } else {
                format!("{:?}", c.point)
            };
            s += &format!("  counterexample at widths {}, x0 = {x0}:\n", w(&c.widths));
            s += &format!(
                "    model (left)  = {:.15e}\n    claim (right) = {:.15e}\n",
                c.left, c.right
            );
            if let Some(sig) = &c.sigma {
                s += &format!("    sigma(z) = {sig}\n");
            }
            for p in &c.parameters {
                let shown: Vec<String> = p
                    .values
                    .iter()
                    .take(12)
                    .map(|v| format!("{v:.6}"))
                    .collect();
                let more = if p.values.len() > 12 { ", …" } else { "" };
                s += &format!(
                    "    {} {:?} = [{}{more}]\n",
                    p.name,
                    p.shape,
                    shown.join(", ")
                );
            }
        }
        if let Some(d) = &self.diagrams {
            if d.explained && !d.mismatches.is_empty() {
                let plural = if d.topologies == 1 { "y" } else { "ies" };
                s += &format!(
                    "  diagrams (of the {} topolog{plural} of this order):\n",
                    d.topologies
                );
                for m in &d.mismatches {
                    s += &format!(
                        "    {}: the claim has {} × {}\n      LaTeX: {}\n",
                        m.kind, m.claim_multiple, m.text, m.latex
                    );
                }
            } else {
                s += "  diagrams: the discrepancy is not a combination of this order's diagrams (a wrong index, parameter or activation, or a term of another order?)\n";
            }
        }
        s += match self.verdict {
            Verdict::Verified => "VERIFIED\n",
            Verdict::Refuted => "REFUTED\n",
        };
        s
    }
}
