//! Which engine computes a request: the cost model behind `feynn taylor --plan` and `--explain`.
//!
//! Every plan predicts its arithmetic (flops, a fused multiply–add counted as 2) and its peak
//! memory from the widths, the number of inputs d, the order N and the number of outputs, before
//! anything is allocated. `auto` takes the cheapest plan that fits the memory limit, weighting
//! scalar, index-driven arithmetic ([`Plan::Series`]' product table) as [`SCALAR_PENALTY`] times
//! as expensive as GEMM arithmetic (measured on the development machine: ~35 GFLOP/s in GEMM,
//! 2–5 GFLOP/s in the product-table loops).

use std::fmt;

use super::basis::{count_monomials, predicted_bytes};
use crate::error::{human_bytes, Error, Result};
use crate::model::Network;

/// Cost of one scalar, table-driven flop relative to one GEMM flop.
pub const SCALAR_PENALTY: f64 = 8.0;

/// An engine for the Taylor coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plan {
    /// Let the cost model choose.
    Auto,
    /// Diagrams as dense contractions (orders ≤ 3): [`super::dense`].
    Diagrams,
    /// Univariate Taylor propagation along directions with exact interpolation: [`super::jets`].
    Jets,
    /// Multivariate truncated series through every layer (the original engine).
    Series,
}

impl Plan {
    /// The concrete plans, in the order `--explain` lists them.
    pub const CONCRETE: [Plan; 3] = [Plan::Diagrams, Plan::Jets, Plan::Series];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Plan::Auto => "auto",
            Plan::Diagrams => "diagrams",
            Plan::Jets => "jets",
            Plan::Series => "series",
        }
    }

    /// Parse a command-line name.
    pub fn from_name(s: &str) -> Option<Plan> {
        [Plan::Auto, Plan::Diagrams, Plan::Jets, Plan::Series]
            .into_iter()
            .find(|p| p.name() == s)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The prediction of one plan for one point.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// The plan.
    pub plan: Plan,
    /// Whether the plan can compute this request at all (the diagram plan stops at order 3).
    pub available: bool,
    /// Dense (GEMM-shaped) flops per point.
    pub gemm_flops: f64,
    /// Scalar, index-driven flops per point.
    pub scalar_flops: f64,
    /// Peak bytes (per worker thread).
    pub bytes: f64,
}

impl Estimate {
    /// All flops per point.
    pub fn flops(&self) -> f64 {
        self.gemm_flops + self.scalar_flops
    }
    /// The figure `auto` minimises: GEMM flops plus penalised scalar flops.
    pub fn cost(&self) -> f64 {
        self.gemm_flops + SCALAR_PENALTY * self.scalar_flops
    }
}

/// Bytes of the monomial list and its index (no product table).
pub fn layout_bytes(d: usize, order: usize) -> f64 {
    count_monomials(d, order).map_or(f64::INFINITY, |m| m as f64 * (72.0 + 8.0 * order as f64))
}

/// The widths n_0 = d, n_1, …, n_L and the layers with an activation.
fn shape(net: &Network) -> (Vec<f64>, Vec<bool>) {
    let w: Vec<f64> = net.widths().into_iter().map(|v| v as f64).collect();
    let act = net.activations.iter().map(|a| a.is_some()).collect();
    (w, act)
}

/// Predictions of every concrete plan for `net` at order `order`.
pub fn estimates(net: &Network, order: usize) -> Vec<Estimate> {
    let (w, act) = shape(net);
    let nl = w.len() - 1;
    let d = w[0];
    let outs = w[nl];
    let n = order as f64;
    let m = count_monomials(w[0] as usize, order).map_or(f64::INFINITY, |c| c as f64);
    let per_degree = |k: usize| -> f64 {
        if k == 0 {
            return 1.0;
        }
        match (
            count_monomials(w[0] as usize, k),
            count_monomials(w[0] as usize, k - 1),
        ) {
            (Some(a), Some(b)) => (a - b) as f64,
            _ => f64::INFINITY,
        }
    };
    let layout = layout_bytes(w[0] as usize, order);
    let widest = w.iter().cloned().fold(0.0, f64::max);
    let vertex: Vec<usize> = (1..=nl)
        .filter(|&l| act[l - 1] && (l < nl || act[nl - 1]))
        .collect();
    let vertex_neurons: f64 = vertex.iter().map(|&l| w[l]).sum();

    // diagrams: J_l by GEMM; per output the syrk of the Hessian and, at order 3, the K
    // recursion and the sorted-triple GEMM
    let diagrams = {
        let jac: f64 = (2..=nl).map(|l| 2.0 * w[l] * w[l - 1] * d).sum();
        let mut per_out = 0.0;
        let p2 = d * (d + 1.0) / 2.0;
        if order >= 2 {
            // blocked upper triangle: about d(d + 8)/2 entries per neuron
            per_out += 2.0 * vertex_neurons * d * (d + 8.0) / 2.0;
        }
        let mut bytes = 8.0 * (w.iter().skip(1).map(|x| x * d).sum::<f64>() + outs * m);
        bytes += 8.0 * d * d;
        // a chunk of points runs together: the derivative and gradient vectors and the
        // coefficients (the Jacobians, counted above, are formed per point)
        let chunk = super::dense::chunk_points(net) as f64;
        let neurons: f64 = w.iter().skip(1).sum();
        bytes += 8.0 * chunk * (6.0 * neurons + outs * m);
        if order >= 3 {
            per_out += (1..nl).map(|l| 2.0 * w[l + 1] * w[l] * d).sum::<f64>();
            let inner = 2.0 * vertex_neurons;
            let triples = per_degree(3) + p2 * 4.0; // with the block waste
            per_out += 2.0 * inner * triples + 3.0 * inner * p2;
            bytes += 8.0 * (inner * p2 + inner * d + p2 * d);
            bytes += 8.0 * w.iter().skip(1).map(|x| x * d).sum::<f64>();
        }
        Estimate {
            plan: Plan::Diagrams,
            // one contraction per diagram shape the network has to this order
            available: super::contractions::contractions(order, nl - 1, act[nl - 1]).is_some(),
            gemm_flops: jac + outs * per_out,
            scalar_flops: 0.0,
            bytes: bytes + layout,
        }
    };

    // jets: r = C(d+N-1, N) directions, N coefficients each, through every layer; degree 1
    // by the Jacobians, degrees 2..N−1 by the layer products, degree N by the adjoints
    let jets = {
        let r = per_degree(order).max(1.0);
        let cols = n * r;
        let lin: f64 = (2..=nl)
            .map(|l| 2.0 * w[l] * (w[l - 1] * (n - 2.0).max(0.0) * r + w[l - 1] * d))
            .sum::<f64>()
            + (1..=nl).map(|l| 2.0 * w[l] * d * r).sum::<f64>()
            + (1..nl)
                .map(|l| 2.0 * outs * (w[l] * r + w[l] * w[l + 1]))
                .sum::<f64>();
        let neurons: f64 = (1..=nl).filter(|&l| act[l - 1]).map(|l| w[l]).sum();
        let compose = neurons * r * (n * n * n / 3.0 + n * n);
        let interp = 2.0 * outs * m * r;
        Estimate {
            plan: Plan::Jets,
            available: super::jets::supported(w[0] as usize, order),
            // the Horner rule runs across the directions (contiguous, vectorised): GEMM-class
            gemm_flops: lin + interp + compose,
            scalar_flops: 0.0,
            bytes: layout + 8.0 * (2.0 * widest * (cols + 1.0) + m * r + outs * m),
        }
    };

    // series: degrees < N forward through the products, the top degree by the propagators,
    // Horner with the product table in every activation
    let series = {
        let top = if order >= 2 { per_degree(order) } else { 0.0 };
        let low = m - top;
        let lin: f64 = (2..=nl).map(|l| 2.0 * w[l] * w[l - 1] * low).sum::<f64>()
            + (1..nl).map(|l| 2.0 * outs * w[l] * top).sum::<f64>();
        let neurons: f64 = (1..=nl).filter(|&l| act[l - 1]).map(|l| w[l]).sum();
        // Horner step k multiplies series truncated at degree N − k: pairs up to that degree
        let pairs_upto = |s: usize| -> f64 {
            let mut t = 0.0;
            for i in 1..=s {
                for j in 1..=s - i {
                    t += per_degree(i) * per_degree(j);
                }
            }
            t
        };
        // exact for the orders anyone runs; beyond, the bound N·(m − 1)² (the loops are O(N³))
        let horner: f64 = if order <= 200 {
            (1..=order).map(pairs_upto).sum()
        } else {
            n * (m - 1.0).powi(2)
        };
        Estimate {
            plan: Plan::Series,
            available: true,
            gemm_flops: lin,
            scalar_flops: 2.0 * neurons * horner,
            bytes: predicted_bytes(w[0] as usize, order, widest as usize).unwrap_or(f64::INFINITY),
        }
    };
    vec![diagrams, jets, series]
}

/// The concrete plan for a request: `wanted` unless it is `Auto`, else the cheapest available
/// plan within `memory_limit`. Refuses (before allocating) with the prediction when the chosen
/// plan would exceed the limit.
pub fn choose(net: &Network, order: usize, wanted: Plan, memory_limit: f64) -> Result<Estimate> {
    let all = estimates(net, order);
    let pick = match wanted {
        Plan::Auto => all
            .iter()
            .filter(|e| e.available && e.bytes <= memory_limit)
            .min_by(|a, b| a.cost().total_cmp(&b.cost()))
            .or_else(|| {
                all.iter()
                    .filter(|e| e.available)
                    .min_by(|a, b| a.bytes.total_cmp(&b.bytes))
            })
            .cloned()
            .expect("the series plan is always available"),
        p => {
            let e = all.iter().find(|e| e.plan == p).cloned().unwrap();
            if !e.available {
                return Err(Error::invalid(
                    format!(
                        "the {p} plan cannot compute order {order} for {} inputs",
                        net.inputs()
                    ),
                    match p {
                        Plan::Diagrams => {
                            "the diagram plan covers orders ≤ 3; use --plan auto, jets or series"
                        }
                        _ => "use --plan auto or series",
                    },
                ));
            }
            e
        }
    };
    if pick.bytes > memory_limit {
        let d = net.inputs();
        let width = net.widths().into_iter().max().unwrap_or(1);
        return Err(Error::TooLarge {
            what: format!(
                "the order-{order} Taylor tensor of a {d}-input network (width {width}, plan {})",
                pick.plan
            ),
            predicted: human_bytes(pick.bytes),
            limit: human_bytes(memory_limit),
            help: format!(
                "{} monomials; lower --order, expand in fewer inputs, or raise --memory-limit",
                count_monomials(d, order).map_or("too many".into(), |c| c.to_string())
            ),
        });
    }
    Ok(pick)
}

/// The `--explain` table: every plan's predicted flops and memory per point, and the choice.
pub fn explain(net: &Network, order: usize, wanted: Plan, memory_limit: f64) -> String {
    let widths: Vec<String> = net.widths().iter().map(|w| w.to_string()).collect();
    let mut s = format!(
        "network {} ({} outputs), order {order}: {} coefficients per output\n",
        widths.join(" → "),
        net.outputs(),
        count_monomials(net.inputs(), order).map_or("too many".into(), |c| c.to_string())
    );
    s += "plan       available  flops/point   (GEMM        scalar)      memory       cost\n";
    for e in estimates(net, order) {
        s += &format!(
            "{:<10} {:<10} {:<13.3e} ({:<11.3e}  {:<11.3e}) {:<12} {:.3e}\n",
            e.plan.name(),
            if e.available { "yes" } else { "no" },
            e.flops(),
            e.gemm_flops,
            e.scalar_flops,
            human_bytes(e.bytes),
            e.cost()
        );
    }
    s += &match choose(net, order, wanted, memory_limit) {
        Ok(e) if wanted == Plan::Auto => format!("chosen: {} (cheapest that fits)\n", e.plan),
        Ok(e) => format!("chosen: {} (--plan)\n", e.plan),
        Err(e) => format!("refused: {e}\n"),
    };
    s
}
