//! Numbers: Taylor coefficients of a trained network at a point, to any order.
//!
//! Taylor-mode propagation (theory notes §2.8): every neuron carries the truncated polynomial
//! z(x0 + h) in h over the sorted multi-indices of degree ≤ N; a linear layer is one matrix
//! product, an activation is f(z0 + p) = Σ_k f^(k)(z0)/k! p^k evaluated by Horner's rule. This
//! sums exactly all diagrams of every order at once. Symbolica is never touched here.

pub mod action;
pub(crate) mod action_fast;
pub mod action_series;
pub mod attribution;
pub mod basis;
pub mod contractions;
pub mod cumulants;
pub mod dense;
pub mod inn_checks;
pub mod inn_layers;
pub mod jets;
pub mod multi_index;
pub mod plan;
pub mod propagators;
pub(crate) mod scratch;
pub mod series;
pub mod vertices;

use ndarray::{s, Array1, Array2, Axis};
use rayon::prelude::*;

pub use basis::Basis;
pub use plan::{Estimate, Plan};
pub use propagators::Propagators;
pub use series::TaylorSeries;

use crate::error::{Error, Result};
use crate::model::Network;

/// Default memory ceiling for one expansion (bytes); see [`crate::budget`].
pub const DEFAULT_MEMORY_LIMIT: f64 = crate::budget::DEFAULT_MEMORY_LIMIT;

/// The Taylor coefficients c_α = ∂^α y(x0)/α! of every output, |α| ≤ order.
#[derive(Debug, Clone)]
pub struct Expansion {
    /// Expansion point x0 (x1…xd).
    pub point: Vec<f64>,
    /// Highest total degree |α|.
    pub order: usize,
    /// Shape [outputs, monomials]; columns follow `monomials`.
    pub coefficients: Array2<f64>,
}

/// Options of an expansion.
#[derive(Debug, Clone)]
pub struct Options {
    /// Highest total degree |α| to expand to.
    pub order: usize,
    /// Memory ceiling in bytes; larger requests fail with `Error::TooLarge`.
    pub memory_limit: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            order: 2,
            memory_limit: DEFAULT_MEMORY_LIMIT,
        }
    }
}

/// Expands networks; holds the basis so that many points share it, and the plan (engine)
/// the cost model chose for this network and order ([`plan`]).
pub struct Expander<'a> {
    /// The network being expanded.
    pub net: &'a Network,
    /// Monomial basis and per-width jet tables, shared by all points.
    pub basis: Basis,
    estimate: Estimate,
    jets: Option<jets::Jets>,
    dense: Option<dense::Dense>,
}

impl<'a> Expander<'a> {
    /// An expander with the plan chosen by the cost model.
    pub fn new(net: &'a Network, opts: &Options) -> Result<Expander<'a>> {
        Self::with_plan(net, opts, Plan::Auto)
    }

    /// An expander on a given plan (`Plan::Auto`: the cost model's choice). Refuses before
    /// allocating when the plan's predicted memory exceeds `opts.memory_limit`.
    pub fn with_plan(net: &'a Network, opts: &Options, plan: Plan) -> Result<Expander<'a>> {
        Self::with_plan_reusing(net, opts, plan, None)
    }

    /// As [`Expander::with_plan`], reusing the basis of an earlier expander of the same input
    /// count and order ([`Expander::into_basis`]) instead of building it again: the product
    /// table of the series plan is the costly part of a small expansion. A basis that does not
    /// fit (other d or order, or no product table where the plan needs one) is rebuilt.
    pub fn with_plan_reusing(
        net: &'a Network,
        opts: &Options,
        plan: Plan,
        basis: Option<Basis>,
    ) -> Result<Expander<'a>> {
        // A concrete activation is needed everywhere (the generic σ has no numbers).
        for a in net.activations.iter().flatten() {
            a.derivatives(0.0, 0)?;
        }
        // every plan writes all C(d+N, N) coefficients of every output: refuse before the cost
        // model (whose estimates loop over the order) when they alone would not fit
        let coefficients = basis::count_monomials(net.inputs(), opts.order)
            .map_or(f64::INFINITY, |c| c as f64)
            * net.outputs() as f64;
        crate::budget::memory(
            format!(
                "the order-{} expansion of a {}-input network ({coefficients:.3e} Taylor coefficients)",
                opts.order,
                net.inputs()
            ),
            // the coefficients, their monomial index and the plan's working copies
            coefficients * 8.0 * 4.0,
            opts.memory_limit,
            "lower --order, or expand in fewer inputs",
        )?;
        let estimate = plan::choose(net, opts.order, plan, opts.memory_limit)?;
        let width = net.widths().into_iter().max().unwrap_or(1);
        // the work budget of the chosen plan, before anything is allocated
        let work = match estimate.plan {
            Plan::Series => {
                let widths = net.widths();
                let neurons: usize = widths.iter().skip(1).sum();
                let params: usize = widths.windows(2).map(|w| w[0] * w[1]).sum();
                basis::predicted_work(net.inputs(), opts.order, neurons, params)
            }
            _ => estimate.flops(),
        };
        crate::budget::work(
            format!(
                "the order-{} expansion of a {}-input network ({:?} plan)",
                opts.order,
                net.inputs(),
                estimate.plan
            ),
            work,
            "lower --order, or expand in fewer inputs",
        )?;
        let series = estimate.plan == Plan::Series;
        let reusable = basis.filter(|b| {
            b.d == net.inputs() && b.order == opts.order && (!series || b.has_products())
        });
        let basis = match (reusable, series) {
            (Some(b), _) => b,
            (None, true) => Basis::new(net.inputs(), opts.order, width, opts.memory_limit)?,
            (None, false) => Basis::layout(net.inputs(), opts.order),
        };
        let jets = match estimate.plan {
            Plan::Jets => Some(jets::Jets::new(net.inputs(), opts.order)),
            _ => None,
        };
        let dense = match estimate.plan {
            Plan::Diagrams => Some(dense::Dense::new(net, opts.order)),
            _ => None,
        };
        Ok(Expander {
            net,
            basis,
            estimate,
            jets,
            dense,
        })
    }

    /// The expander's basis, to be reused by [`Expander::with_plan_reusing`].
    pub fn into_basis(self) -> Basis {
        self.basis
    }

    /// The concrete plan this expander runs.
    pub fn plan(&self) -> Plan {
        self.estimate.plan
    }

    /// The cost model's prediction for the plan this expander runs.
    pub fn estimate(&self) -> &Estimate {
        &self.estimate
    }

    /// Multi-indices of the columns.
    pub fn monomials(&self) -> &[Vec<u32>] {
        &self.basis.monomials
    }

    /// Expand at x0.
    pub fn expand(&self, x0: &[f64]) -> Result<Expansion> {
        self.check_point(x0)?;
        let coefficients = match self.estimate.plan {
            Plan::Diagrams => self
                .dense
                .as_ref()
                .expect("built with the plan")
                .expand_batch(self.net, &[x0.to_vec()])?
                .pop()
                .expect("one point"),
            Plan::Jets => self
                .jets
                .as_ref()
                .expect("built with the plan")
                .expand(self.net, x0)?,
            _ => self.expand_series(x0)?,
        };
        self.expansion(x0, coefficients)
    }

    /// Expand at many points on the calling thread, as one batch: the diagram plan runs the
    /// points of a chunk together (the per-point matrix–vector products become matrix–matrix
    /// products across points, [`dense::Dense::expand_batch`]), the jet plan interpolates a
    /// chunk's directional coefficients in one product per degree
    /// ([`jets::Jets::expand_batch`]); the series plan goes point by point. Results in input
    /// order; the same numbers as [`Expander::expand`] per point.
    pub fn expand_batch(&self, points: &[Vec<f64>]) -> Result<Vec<Expansion>> {
        for x in points {
            self.check_point(x)?;
        }
        match self.estimate.plan {
            Plan::Diagrams | Plan::Jets => {
                let coefs = match self.estimate.plan {
                    Plan::Diagrams => self
                        .dense
                        .as_ref()
                        .expect("built with the plan")
                        .expand_batch(self.net, points)?,
                    _ => self
                        .jets
                        .as_ref()
                        .expect("built with the plan")
                        .expand_batch(self.net, points)?,
                };
                points
                    .iter()
                    .zip(coefs)
                    .map(|(x, c)| self.expansion(x, c))
                    .collect()
            }
            _ => points.iter().map(|x| self.expand(x)).collect(),
        }
    }

    /// Points that [`Expander::expand_batch`] runs together on this plan.
    pub fn batch_points(&self) -> usize {
        match self.estimate.plan {
            Plan::Diagrams => dense::chunk_points(self.net),
            Plan::Jets => self
                .jets
                .as_ref()
                .expect("built with the plan")
                .chunk_points(self.net),
            _ => 1,
        }
    }

    fn check_point(&self, x0: &[f64]) -> Result<()> {
        let d = self.net.inputs();
        if x0.len() != d {
            return Err(Error::invalid(
                format!(
                    "the expansion point has {} coordinates, the network {d} inputs",
                    x0.len()
                ),
                "give one value per input with --at",
            ));
        }
        if let Some(i) = x0.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(
                format!("coordinate {i} of the expansion point is not finite"),
                "use finite numbers",
            ));
        }
        Ok(())
    }

    fn expansion(&self, x0: &[f64], coefficients: Array2<f64>) -> Result<Expansion> {
        // in blocks without an early exit, so that the test vectorises
        let finite = match coefficients.as_slice() {
            Some(all) => all
                .chunks(64)
                .all(|b| b.iter().fold(true, |ok, v| ok & v.is_finite())),
            None => coefficients.iter().all(|v| v.is_finite()),
        };
        if !finite {
            return Err(Error::invalid(
                "a non-finite Taylor coefficient appeared",
                "the activation or its derivatives overflow at this point",
            ));
        }
        Ok(Expansion {
            point: x0.to_vec(),
            order: self.basis.order,
            coefficients,
        })
    }

    /// The multivariate series engine (always available; the tests' independent route).
    fn expand_series(&self, x0: &[f64]) -> Result<Array2<f64>> {
        let net = self.net;
        let (d, m, n) = (net.inputs(), self.basis.len(), self.basis.order);
        // Degrees below the top one (N) are propagated forward through every layer (Taylor
        // mode). The top-degree block enters every later layer only linearly, through f'·z_N, so
        // it is not pushed through the matrix products: each hidden layer's nonlinear top-degree
        // source R_l (the Horner terms built from lower degrees) is carried to the output layer by
        // the propagator D^(L,l) = ∂z^(L)/∂a^(l) instead — reverse mode for the largest block.
        // z^(L)_N = Σ_l D^(L,l) R_l. This is exact; it only regroups the sum.
        let layers = net.weights.len();
        let low = if n >= 2 { self.basis.upto[n - 1] } else { m };
        let mut a = Array2::<f64>::zeros((0, m));
        let mut sources: Vec<Array2<f64>> = Vec::new(); // R_l, [n_l, m - low]
        let mut fprime: Vec<Array1<f64>> = Vec::new(); // f'_l(z^(l)(x0))
        for l in 0..layers {
            let w = &net.weights[l];
            let mut z = Array2::<f64>::zeros((w.nrows(), m));
            if l == 0 {
                // a^(0)(h) = x0 + h: z^(1) = (W x0 + b) + W h needs no product over the basis.
                z.column_mut(0)
                    .assign(&(w.dot(&ndarray::ArrayView1::from(x0)) + &net.biases[0]));
                if n >= 1 {
                    for i in 0..d {
                        z.column_mut(1 + i).assign(&w.column(i));
                    }
                }
            } else {
                z.slice_mut(s![.., ..low])
                    .assign(&w.dot(&a.slice(s![.., ..low])));
                z.column_mut(0).scaled_add(1.0, &net.biases[l]);
                if low < m && l == layers - 1 {
                    // the output layer collects the top degree from every hidden layer
                    let mut top = z.slice_mut(s![.., low..]);
                    let mut prop = w.clone(); // D^(L,L-1)
                    for k in (0..sources.len()).rev() {
                        top += &prop.dot(&sources[k]);
                        if k > 0 {
                            // D^(L,k) = D^(L,k+1) diag(f'_{k+1}) W^(k+1)   (0-based k: layer k+1)
                            prop = (&prop * &fprime[k].view().insert_axis(Axis(0)))
                                .dot(&net.weights[k]);
                        }
                    }
                }
            }
            if let Some(act) = &net.activations[l] {
                // Horner in place, row by row, with buffers shared by the layer's neurons.
                let mut buf = basis::ComposeBuffers::new(m);
                let mut fp = Array1::<f64>::zeros(z.nrows());
                let mut c = vec![0.0; n + 1];
                for (j, mut row) in z.axis_iter_mut(Axis(0)).enumerate() {
                    let z0 = row[0];
                    vertices::taylor_into(act, z0, &mut c)?;
                    fp[j] = if n >= 1 { c[1] } else { 0.0 };
                    let row = row.as_slice_mut().expect("rows of a standard-layout array");
                    self.basis.compose(&c, row, &mut buf);
                    if !row.iter().all(|v| v.is_finite()) {
                        return Err(Error::invalid(
                            format!("a non-finite Taylor coefficient appeared in layer {} (pre-activation {z0})", l + 1),
                            "the activation or its derivatives overflow at this point",
                        ));
                    }
                }
                if l < layers - 1 && low < m {
                    sources.push(z.slice(s![.., low..]).to_owned());
                    fprime.push(fp);
                }
            }
            a = z;
        }
        Ok(a)
    }

    /// Expand at many points on all cores, in batches ([`Expander::expand_batch`]) split
    /// across the threads; results in input order.
    pub fn expand_many(&self, points: &[Vec<f64>]) -> Result<Vec<Expansion>> {
        let threads = rayon::current_num_threads().max(1);
        let size = self
            .batch_points()
            .min(points.len().div_ceil(threads))
            .max(1);
        let parts: Vec<Vec<Expansion>> = points
            .par_chunks(size)
            .map(|c| self.expand_batch(c))
            .collect::<Result<_>>()?;
        Ok(parts.into_iter().flatten().collect())
    }
}

impl Expansion {
    /// The coefficient of output `o` for the sorted multi-index `alpha`.
    pub fn get(&self, basis: &Basis, o: usize, alpha: &[u32]) -> Option<f64> {
        let mut a = alpha.to_vec();
        a.sort_unstable();
        basis.index_of(&a).map(|i| self.coefficients[[o, i]])
    }
}
