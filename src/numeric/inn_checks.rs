//! Diagnostics of an INN action (theory note §3.7–3.8): the invertible branch over a data set,
//! the radius of convergence of the log-det series, and whether the truncated top-order part is
//! positive (normalisable). Each finding is a number plus, where it fails, a warning text.

use serde::Serialize;

use crate::model::inn::{poly_deriv, poly_roots, Inn};
use crate::numeric::action::{sorted_indices, Action};

/// The branch condition φ' > 0 (1 + 2αh > 0 for quad) over data points.
#[derive(Debug, Clone, Serialize)]
pub struct DataBranch {
    /// Number of data points checked.
    pub points: usize,
    /// Points with φ'(h) of the wrong sign (or zero) in some layer: outside the model's support.
    pub outside: usize,
    /// Per layer, the smallest φ'(h)·sign(φ'(0)) over all points and neurons.
    pub min_slope: Vec<f64>,
    /// First offending point (row), if any.
    pub first_outside: Option<usize>,
}

/// Everything `feynn action` reports besides the coefficients.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostics {
    /// Per layer, min over neurons of φ'(h0)·sign(φ'(0)) at the expansion point.
    pub slope_at_point: Vec<f64>,
    /// Per layer, the radius of convergence in h of the log-det series (min over neurons):
    /// the distance from h0 to the nearest complex zero of φ' (|g/2α| for quad).
    pub logdet_radius_h: Vec<f64>,
    /// The same, mapped to the data through the linearised network: the series converges for
    /// |δ| below about this (a first-order estimate, not a bound).
    pub logdet_radius_x: f64,
    /// min over sampled unit vectors u of A^(K)·u^K (K even); None for odd K.
    pub top_order_min: Option<f64>,
    /// The branch check over data points, when data are given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<DataBranch>,
    /// Warnings in words (branch violations, slow convergence).
    pub warnings: Vec<String>,
}

/// Check the branch condition over data points (rows of length N).
pub fn data_branch(inn: &Inn<f64>, points: &[Vec<f64>]) -> DataBranch {
    let mut min_slope = vec![f64::INFINITY; inn.layers.len()];
    let mut outside = 0;
    let mut first = None;
    for (p, x) in points.iter().enumerate() {
        let f = inn.forward(x);
        let mut bad = false;
        for (l, s) in f.slope.iter().enumerate() {
            for (i, v) in s.iter().enumerate() {
                let v = v * inn.branch_sign(l, i);
                min_slope[l] = min_slope[l].min(v);
                bad |= v.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater);
                // NaN counts as outside
            }
        }
        if bad {
            outside += 1;
            first.get_or_insert(p);
        }
    }
    DataBranch {
        points: points.len(),
        outside,
        min_slope,
        first_outside: first,
    }
}

/// Run every check. `action` must be the f64 action of `inn`.
pub fn diagnose(inn: &Inn<f64>, action: &Action<f64>, data: Option<&[Vec<f64>]>) -> Diagnostics {
    let n = inn.n;
    let mut warnings = Vec::new();
    let mut slope_at_point = Vec::new();
    let mut radius_h = Vec::new();
    let mut radius_x = f64::INFINITY;
    // J = ∂h^l/∂x at x0, built layer by layer: J_l = W^l diag(g^{l−1}) J_{l−1}
    let mut j_prev: Option<Vec<f64>> = None;
    for (l, (layer, lp)) in inn.layers.iter().zip(&action.layers).enumerate() {
        let g = lp.g();
        slope_at_point.push(
            g.iter()
                .enumerate()
                .map(|(i, v)| v * inn.branch_sign(l, i))
                .fold(f64::INFINITY, f64::min),
        );
        let jac: Vec<f64> = match &j_prev {
            None => layer.w.clone(),
            Some(jp) => {
                let mut out = vec![0.0; n * n];
                for i in 0..n {
                    for k in 0..n {
                        let f = layer.w[i * n + k] * action.layers[l - 1].c[k][1];
                        for j in 0..n {
                            out[i * n + j] += f * jp[k * n + j];
                        }
                    }
                }
                out
            }
        };
        let mut rmin = f64::INFINITY;
        for i in 0..n {
            // zeros of φ'(h0 + v) in v: roots of φ' shifted by h0
            let d = poly_deriv(&layer.phi[i]);
            let h0 = lp.h0[i];
            let r = poly_roots(&d)
                .into_iter()
                .map(|(re, im)| ((re - h0).powi(2) + im * im).sqrt())
                .fold(f64::INFINITY, f64::min);
            rmin = rmin.min(r);
            let row: f64 = (0..n).map(|j| jac[i * n + j].powi(2)).sum::<f64>().sqrt();
            if row > 0.0 {
                radius_x = radius_x.min(r / row);
            }
        }
        radius_h.push(rmin);
        j_prev = Some(jac);
    }
    let k = action.order;
    let top_order_min = if k >= 2 && k.is_multiple_of(2) {
        let m = top_min(&action.tensors[k], n, k);
        if m <= 0.0 {
            warnings.push(format!(
                "the truncated top order A^({k}) is not positive (A^({k})·u^{k} = {m:.3e} for some unit u): the order-{k} polynomial is not normalisable; add a normalising diagonal term ε Σ x_i^{k} or expand to a higher even order"
            ));
        }
        Some(m)
    } else {
        if k % 2 == 1 {
            warnings.push(format!(
                "the top order {k} is odd: the truncated polynomial is unbounded below, so e^(−S) is not normalisable (use an even --order for a normalisable action)"
            ));
        }
        None
    };
    if radius_x.is_finite() {
        // the polynomial is a local description: say how local
        if radius_x < 0.5 {
            warnings.push(format!(
                "the log-det series converges only for |δ| ≲ {radius_x:.3} around the expansion point (nearest zero of φ'): the polynomial describes the model locally"
            ));
        }
    }
    let data = data.map(|pts| {
        let db = data_branch(inn, pts);
        if db.outside > 0 {
            warnings.push(format!(
                "{} of {} data points lie outside the invertible branch (φ'(h) ≤ 0 in some layer; first: row {}): the model gives them zero density",
                db.outside,
                db.points,
                db.first_outside.unwrap()
            ));
        }
        db
    });
    Diagnostics {
        slope_at_point,
        logdet_radius_h: radius_h,
        logdet_radius_x: radius_x,
        top_order_min,
        data,
        warnings,
    }
}

/// min over unit vectors of A·u^k: coordinate axes, pair diagonals and seeded random directions
/// (an upper bound of the true minimum: a negative value proves non-positivity).
pub fn top_min(t: &[f64], n: usize, k: usize) -> f64 {
    let terms: Vec<(Vec<u32>, f64)> = sorted_indices(n, k)
        .into_iter()
        .map(|idx| {
            let c = t[crate::numeric::action::flat(&idx, n)]
                * crate::numeric::action::multinomial(&idx) as f64;
            (idx, c)
        })
        .filter(|(_, c)| *c != 0.0)
        .collect();
    let eval = |u: &[f64]| -> f64 {
        terms
            .iter()
            .map(|(idx, c)| c * idx.iter().map(|&i| u[i as usize]).product::<f64>())
            .sum()
    };
    let mut best = f64::INFINITY;
    let mut dirs: Vec<Vec<f64>> = Vec::new();
    for i in 0..n {
        let mut u = vec![0.0; n];
        u[i] = 1.0;
        dirs.push(u);
        for j in i + 1..n {
            for s in [1.0, -1.0] {
                let mut u = vec![0.0; n];
                u[i] = std::f64::consts::FRAC_1_SQRT_2;
                u[j] = s * std::f64::consts::FRAC_1_SQRT_2;
                dirs.push(u);
            }
        }
    }
    // a small deterministic generator: no runtime dependency on `rand` for a diagnostic
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    // keep the search near 2·10⁸ term evaluations for large N
    let random = (2e8 / (terms.len().max(1) * n) as f64).clamp(50.0, 2000.0) as usize;
    for _ in 0..random {
        let u: Vec<f64> = (0..n).map(|_| next()).collect();
        let norm = u.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            dirs.push(u.iter().map(|v| v / norm).collect());
        }
    }
    for u in &dirs {
        best = best.min(eval(u));
    }
    best
}
