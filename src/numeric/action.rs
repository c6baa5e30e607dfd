//! The action S(x) = −ln p(x) of an invertible network as a polynomial to order K, from the
//! weights, by the re-centred layer recursion of theory note `inn-action.md` §3.4.
//!
//! Around the forward image of the expansion point every map sends expansion point to
//! expansion point, so truncating at K never drops a contribution to orders ≤ K: the result is
//! the exact Taylor polynomial of −ln p at x0 (not an approximation of it). Two steps per layer,
//! latent side first:
//!
//! * **step A** (nonlinearity): u_i = φ(h0_i + v_i) − φ(h0_i) = Σ_r c_{i,r} v_i^r is substituted
//!   into the incoming action, and the log-det series −ln(φ'(h0+v)/φ'(h0)) is added;
//! * **step B** (affine map): v = W u', a mode product with W on every leg (the bias drops out).
//!
//! Tensors are dense and fully symmetric, `A^(k)` with N^k entries and *no* 1/k!
//! (S(x0+δ) = Σ_k A^(k)_{i1…ik} δ_{i1}⋯δ_{ik}). The arithmetic is generic over [`Scalar`]:
//! `f64`, or `BigRational` for exact results from rational weights. The transcendental part of
//! A^(0) (N/2 ln 2π − Σ ln|det W| − Σ ln|φ'(h0)|) is kept apart as an `f64`.

use crate::error::{human_bytes, Error, Result};
use crate::model::inn::{det, poly_deriv, Inn, InnLayer, Scalar};

/// Options of the action recursion.
#[derive(Debug, Clone)]
pub struct ActionOptions {
    /// Truncation order K.
    pub order: usize,
    /// Include the log-determinant series (switch off to get ½|f(x)|² alone).
    pub logdet: bool,
    /// Refuse, before allocating, when the tensors are predicted to need more bytes than this.
    pub memory_limit: f64,
    /// Keep the action of every layer's output (needed by the layer diagrams).
    pub keep_stages: bool,
}

impl Default for ActionOptions {
    fn default() -> Self {
        ActionOptions {
            order: 4,
            logdet: true,
            memory_limit: super::DEFAULT_MEMORY_LIMIT,
            keep_stages: false,
        }
    }
}

/// The re-centred data of one layer at the expansion point.
#[derive(Debug, Clone)]
pub struct LayerPoint<T> {
    /// Pre-activations h0 = W y0 + b.
    pub h0: Vec<T>,
    /// Per neuron, c_r = φ^(r)(h0)/r! for r = 0..=K+1 (c_1 = g = φ'(h0)).
    pub c: Vec<Vec<T>>,
    /// Per neuron, the coefficients of −ln(φ'(h0+v)/φ'(h0)) in v, n = 0..=K (n = 0 is 0).
    pub logdet: Vec<Vec<T>>,
}

impl<T: Scalar> LayerPoint<T> {
    /// g_i = φ'(h0_i).
    pub fn g(&self) -> Vec<T> {
        self.c.iter().map(|c| c[1].clone()).collect()
    }
}

/// A truncated action: dense symmetric tensors A^(0..=K).
#[derive(Debug, Clone)]
pub struct Action<T> {
    /// Dimension N.
    pub n: usize,
    /// Truncation order K.
    pub order: usize,
    /// Expansion point x0 (length N).
    pub point: Vec<T>,
    /// `tensors[k]`: A^(k), N^k entries, row-major (`tensors[0][0]`: the rational part of A^(0)).
    pub tensors: Vec<Vec<T>>,
    /// The transcendental part of A^(0): N/2 ln 2π − Σ_l ln|det W^l| − Σ_{l,i} ln|g^l_i|.
    pub log_const: f64,
    /// The arguments of the logarithms in `log_const`: it equals N/2 ln 2π − Σ ln|arg| (the
    /// determinants of W and the slopes g; exact for `BigRational`, for closed-form output).
    pub log_args: Vec<T>,
    /// Per layer l = 0..L−1 (data side first), the expansion data.
    pub layers: Vec<LayerPoint<T>>,
    /// With `keep_stages`: `stages[l]` is the action of y^l (l = L: latent), around y0^l.
    pub stages: Option<Vec<Vec<Vec<T>>>>,
}

/// Bytes the recursion is predicted to need for N, K and a scalar of `elem` bytes (four
/// tensor sets of Σ_k N^k entries: current, step A output, mode-product buffers).
pub fn predicted_action_bytes(n: usize, order: usize, elem: usize) -> Option<f64> {
    let mut total: u128 = 0;
    let mut p: u128 = 1;
    for _ in 0..=order {
        total = total.checked_add(p)?;
        p = p.checked_mul(n as u128)?;
    }
    Some(total as f64 * 4.0 * elem as f64)
}

/// Number of entries N^k, if it fits.
fn pow_checked(n: usize, k: usize) -> Option<usize> {
    (0..k).try_fold(1usize, |acc, _| acc.checked_mul(n))
}

use super::multi_index::groups;
pub use super::multi_index::{flat, graded_monomials, multinomial, sorted_indices};

/// For every flat position of an order-k tensor: the flat position of its sorted index list
/// and the number of orderings of that list. Built once per order and reused by every layer
/// (decoding and sorting N^k index lists per layer dominated the run time).
#[derive(Debug, Clone)]
pub struct SymLayout {
    /// Flat position of the sorted index list.
    pub sorted: Vec<usize>,
    /// Number of distinct orderings of the index list.
    pub orderings: Vec<u64>,
}

impl SymLayout {
    /// The layout of order-k tensors in dimension n.
    pub fn new(n: usize, k: usize) -> SymLayout {
        let len = pow_checked(n, k).unwrap_or(0);
        let mut sorted = Vec::with_capacity(len);
        let mut orderings = Vec::with_capacity(len);
        let mut idx = vec![0u32; k];
        let mut s = vec![0u32; k];
        for f in 0..len {
            let mut r = f;
            for p in (0..k).rev() {
                idx[p] = (r % n) as u32;
                r /= n;
            }
            s.copy_from_slice(&idx);
            s.sort_unstable();
            sorted.push(flat(&s, n));
            orderings.push(multinomial(&s));
        }
        SymLayout { sorted, orderings }
    }
}

/// Fill a dense symmetric tensor from monomial coefficients held at sorted positions:
/// A[perm] = c[sorted] / (number of orderings).
fn monomials_to_tensor<T: Scalar>(c: &[T], lay: &SymLayout) -> Vec<T> {
    lay.sorted
        .iter()
        .zip(&lay.orderings)
        .map(|(&s, &o)| {
            let v = &c[s];
            if v.is_zero() {
                T::zero()
            } else {
                v.clone() / T::from_int(o as i64)
            }
        })
        .collect()
}

/// Coefficients of p(v)^m truncated to degree K (p without constant term).
fn powers<T: Scalar>(p: &[T], order: usize) -> Vec<Vec<T>> {
    let mut out = vec![vec![T::zero(); order + 1]];
    out[0][0] = T::one();
    for m in 1..=order {
        let prev = &out[m - 1];
        let mut cur = vec![T::zero(); order + 1];
        for (a, x) in prev.iter().enumerate() {
            if x.is_zero() {
                continue;
            }
            for (r, y) in p.iter().enumerate().skip(1) {
                if a + r > order {
                    break;
                }
                cur[a + r] = cur[a + r].clone() + x.clone() * y.clone();
            }
        }
        out.push(cur);
    }
    out
}

/// The re-centred coefficients of one layer at input y0; checks the invertible branch.
pub fn layer_point<T: Scalar>(
    layer: &InnLayer<T>,
    l: usize,
    y0: &[T],
    order: usize,
) -> Result<LayerPoint<T>> {
    let n = y0.len();
    let h0: Vec<T> = (0..n)
        .map(|i| {
            (0..n).fold(layer.b[i].clone(), |acc, j| {
                acc + layer.w[i * n + j].clone() * y0[j].clone()
            })
        })
        .collect();
    let mut c = Vec::with_capacity(n);
    let mut logdet = Vec::with_capacity(n);
    for i in 0..n {
        // c_r = Σ_{q≥r} C(q,r) a_q h0^{q−r}: repeated differentiation of φ at h0, divided by r!
        let mut d = layer.phi[i].clone();
        let mut ci = vec![T::zero(); order + 2];
        let mut fact = T::one();
        for (r, slot) in ci.iter_mut().enumerate() {
            if r > 0 {
                d = poly_deriv(&d);
                fact = fact * T::from_int(r as i64);
            }
            *slot = crate::model::inn::poly_eval(&d, &h0[i]) / fact.clone();
        }
        let g = ci[1].clone();
        let slope0 = layer.phi[i][1].clone();
        if g.is_zero() || (g.is_positive() != slope0.is_positive()) {
            return Err(Error::invalid(
                format!(
                    "layer {l}, neuron {i}: φ'(h) = {} at h0 = {} — the expansion point is off the invertible branch (φ' must keep the sign of φ'(0) = {})",
                    g.to_f64(),
                    h0[i].to_f64(),
                    slope0.to_f64()
                ),
                "for h + α h² the branch is 1 + 2αh > 0; choose another --at, or check α and the bias",
            ));
        }
        // −ln(1 + w), w(v) = Σ_{r≥1} (r+1) c_{r+1}/g v^r, as Σ_m (−1)^m w^m/m truncated at K
        let mut w = vec![T::zero(); order + 1];
        for r in 1..=order {
            w[r] = ci[r + 1].clone() * T::from_int(r as i64 + 1) / g.clone();
        }
        let wp = powers(&w, order);
        let mut ld = vec![T::zero(); order + 1];
        for (m, p) in wp.iter().enumerate().skip(1) {
            let s = if m % 2 == 0 { T::one() } else { -T::one() } / T::from_int(m as i64);
            for r in 1..=order {
                ld[r] = ld[r].clone() + s.clone() * p[r].clone();
            }
        }
        c.push(ci);
        logdet.push(ld);
    }
    Ok(LayerPoint { h0, c, logdet })
}

/// Step A, optionally restricted to the contributions from source order `src` to output order
/// `dst` (the layer diagrams), without (`with_logdet = false`) or with the log-det series.
/// Returns monomial coefficients held at sorted positions of dense N^m arrays.
pub fn step_a_monomials<T: Scalar>(
    a: &[Vec<T>],
    lp: &LayerPoint<T>,
    n: usize,
    order: usize,
    only: Option<(usize, usize)>,
    with_logdet: bool,
) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = (0..=order)
        .map(|m| vec![T::zero(); pow_checked(n, m).unwrap_or(0)])
        .collect();
    // per neuron, (u_i(v))^m for m ≤ K
    let pw: Vec<Vec<Vec<T>>> = lp.c.iter().map(|c| powers(c, order)).collect();
    for (k, ak) in a.iter().enumerate().take(order + 1) {
        if only.is_some_and(|(s, _)| s != k) {
            continue;
        }
        for idx in sorted_indices(n, k) {
            let v = &ak[flat(&idx, n)];
            if v.is_zero() {
                continue;
            }
            let coef = v.clone() * T::from_int(multinomial(&idx) as i64);
            let gs = groups(&idx);
            distribute(
                &gs,
                0,
                k,
                coef,
                &mut Vec::new(),
                &pw,
                order,
                only,
                &mut out,
                n,
            );
        }
    }
    if with_logdet && only.is_none() {
        for (i, ld) in lp.logdet.iter().enumerate() {
            for (m, v) in ld.iter().enumerate().skip(1) {
                let idx = vec![i as u32; m];
                let f = flat(&idx, n);
                out[m][f] = out[m][f].clone() + v.clone();
            }
        }
    }
    out
}

/// Choose the output degree d_j ≥ m_j of every index group; multiply the power coefficients.
#[allow(clippy::too_many_arguments)]
fn distribute<T: Scalar>(
    gs: &[(u32, usize)],
    j: usize,
    deg: usize,
    coef: T,
    chosen: &mut Vec<usize>,
    pw: &[Vec<Vec<T>>],
    order: usize,
    only: Option<(usize, usize)>,
    out: &mut [Vec<T>],
    n: usize,
) {
    if j == gs.len() {
        if only.is_some_and(|(_, d)| d != deg) {
            return;
        }
        let mut idx = Vec::with_capacity(deg);
        for (g, &d) in gs.iter().zip(chosen.iter()) {
            idx.extend(std::iter::repeat_n(g.0, d));
        }
        let f = flat(&idx, n);
        out[deg][f] = out[deg][f].clone() + coef;
        return;
    }
    let (i, m) = gs[j];
    let base = deg; // degree so far counts the remaining groups at their minimum
    for d in m..=order {
        let extra = d - m;
        if base + extra > order {
            break;
        }
        let p = &pw[i as usize][m][d];
        if p.is_zero() {
            continue;
        }
        chosen.push(d);
        distribute(
            gs,
            j + 1,
            base + extra,
            coef.clone() * p.clone(),
            chosen,
            pw,
            order,
            only,
            out,
            n,
        );
        chosen.pop();
    }
}

/// Monomial coefficients (sorted positions) → dense symmetric tensors.
pub fn to_tensors<T: Scalar>(c: &[Vec<T>], layouts: &[SymLayout]) -> Vec<Vec<T>> {
    c.iter()
        .zip(layouts)
        .map(|(ck, lay)| monomials_to_tensor(ck, lay))
        .collect()
}

/// Step B: every leg of A^(k) gets a W-line, A'_{j…} = Σ_{i…} A_{i…} W_{i1 j1}⋯W_{ik jk}:
/// k mode products, each viewing the tensor as [outer, N, stride].
pub fn step_b<T: Scalar>(t: &[T], w: &[T], n: usize, k: usize) -> Vec<T> {
    let mut cur = t.to_vec();
    for p in 0..k {
        let stride = pow_checked(n, k - 1 - p).unwrap();
        let outer = pow_checked(n, p).unwrap();
        let mut next = vec![T::zero(); cur.len()];
        for o in 0..outer {
            let base = o * n * stride;
            for i in 0..n {
                let src = &cur[base + i * stride..base + (i + 1) * stride];
                if src.iter().all(|v| v.is_zero()) {
                    continue;
                }
                let wrow = &w[i * n..(i + 1) * n];
                if stride == 1 {
                    // the last mode: a row times W, j innermost and contiguous
                    let v = &src[0];
                    for (slot, wij) in next[base..base + n].iter_mut().zip(wrow) {
                        *slot = slot.clone() + v.clone() * wij.clone();
                    }
                } else {
                    for (j, wij) in wrow.iter().enumerate() {
                        if wij.is_zero() {
                            continue;
                        }
                        let dst = &mut next[base + j * stride..base + (j + 1) * stride];
                        for (slot, v) in dst.iter_mut().zip(src) {
                            *slot = slot.clone() + v.clone() * wij.clone();
                        }
                    }
                }
            }
        }
        cur = next;
    }
    cur
}

/// The forward pass of the expansion point: per layer the re-centred data, and z0.
pub fn expansion_points<T: Scalar>(
    inn: &Inn<T>,
    x0: &[T],
    order: usize,
) -> Result<(Vec<LayerPoint<T>>, Vec<Vec<T>>)> {
    let mut y = x0.to_vec();
    let mut ys = vec![y.clone()];
    let mut lps = Vec::new();
    for (l, layer) in inn.layers.iter().enumerate() {
        let lp = layer_point(layer, l, &y, order)?;
        y = (0..inn.n)
            .map(|i| crate::model::inn::poly_eval(&layer.phi[i], &lp.h0[i]))
            .collect();
        ys.push(y.clone());
        lps.push(lp);
    }
    Ok((lps, ys))
}

/// Predicted operations (≈ ns) of the planned `f64` route ([`action`] in `f64`): per layer and
/// order k the symmetric mode products touch Σ_p C(N+k−p−1, k−p)·C(N+p−1, p)·N ≤
/// C(N+k−1, k)·N·2^k entries (one multiply-add each), and the (N, K) plan is built once with
/// ~k index operations per sorted entry and input. Measured on N = 16, depth 8, order 4: 1.9 ms
/// (10 ms with the plan) against 14 ms predicted, so the prediction errs on the safe side.
pub fn predicted_planned_action_work(n: usize, order: usize, layers: usize) -> f64 {
    let nf = n as f64;
    let lf = layers.max(1) as f64;
    let mut total = 0.0;
    let mut sorted = 1.0; // C(N+k−1, k)
    for k in 1..=order {
        let kf = k as f64;
        sorted *= (nf + kf - 1.0) / kf;
        total += sorted * nf * 2f64.powi(k as i32) * lf + sorted * nf * kf * 20.0;
        if !total.is_finite() {
            return f64::INFINITY;
        }
    }
    total
}

/// Predicted operations (≈ ns) of the generic recursion ([`action`] in exact rationals,
/// [`action_reference`]), fitted to measured runs: the tensors hold N^k entries, each layer
/// touches them with O(k²) work per entry; exact rationals cost more per operation as numerators
/// and denominators grow — with the order, the depth and the `bits` of the parameters (floats
/// read from a file are 50-bit fractions, `1/10` is 5 bits). The planned `f64` route has
/// [`predicted_planned_action_work`].
pub fn predicted_action_work(n: usize, order: usize, layers: usize, bits: Option<u64>) -> f64 {
    let nf = n as f64;
    let lf = layers.max(1) as f64;
    let mut total = 0.0;
    for k in 1..=order {
        let kf = k as f64;
        let mut per = nf.powi(k as i32) * nf * lf * kf * kf * 2.0;
        if let Some(b) = bits {
            // measured: t2 (5-bit fractions) and flow (f32 weights) within a factor 3
            per *= 1500.0 * (1.0 + kf * lf * b as f64 / 32.0);
        }
        total += per * 1.5;
        if !total.is_finite() {
            return f64::INFINITY;
        }
    }
    total
}

/// The action of `inn` around `x0` to order K (theory §3.4). In `f64` the layers run on
/// kernels planned once per (N, K) (step A as a term list on sorted multi-indices, step B as
/// GEMMs); other scalars (exact rationals) take the generic recursion, [`action_reference`].
pub fn action<T: Scalar>(inn: &Inn<T>, x0: &[T], opts: &ActionOptions) -> Result<Action<T>> {
    action_with(inn, x0, opts, true)
}

/// The action by the generic recursion in any scalar, also for `f64`: the slower route the
/// planned `f64` kernels are tested against.
pub fn action_reference<T: Scalar>(
    inn: &Inn<T>,
    x0: &[T],
    opts: &ActionOptions,
) -> Result<Action<T>> {
    action_with(inn, x0, opts, false)
}

/// `x` as a `B` when `A` and `B` are the same type (the `f64` route of generic code).
fn same_ref<A: 'static, B: 'static>(x: &A) -> &B {
    (x as &dyn std::any::Any).downcast_ref::<B>().unwrap()
}

/// `x` as a `B` when `A` and `B` are the same type.
fn same<A: 'static, B: 'static>(x: A) -> B {
    let b: Box<dyn std::any::Any> = Box::new(x);
    *b.downcast::<B>().unwrap()
}

fn action_with<T: Scalar>(
    inn: &Inn<T>,
    x0: &[T],
    opts: &ActionOptions,
    fast: bool,
) -> Result<Action<T>> {
    let n = inn.n;
    let order = opts.order;
    if x0.len() != n {
        return Err(Error::invalid(
            format!(
                "the expansion point has {} values, the network dimension is {n}",
                x0.len()
            ),
            "give one value per dimension",
        ));
    }
    let elem = std::mem::size_of::<T>().max(8) + if std::mem::size_of::<T>() > 8 { 64 } else { 0 };
    let predicted = predicted_action_bytes(n, order, elem).unwrap_or(f64::INFINITY);
    let memory_limit = crate::budget::effective_memory_limit(opts.memory_limit);
    if !predicted.is_finite() || predicted > memory_limit {
        return Err(Error::TooLarge {
            what: format!("the order-{order} action tensors of an N = {n} network"),
            predicted: human_bytes(predicted),
            limit: human_bytes(memory_limit),
            help: format!(
                "dense symmetric tensors hold Σ_k N^k entries (N^{order} = {} at the top order); lower --order or raise --memory-limit",
                pow_checked(n, order).map_or("too many".into(), |v| v.to_string())
            ),
        });
    }
    let exact = std::mem::size_of::<T>() > 8;
    let bits = exact.then(|| {
        inn.layers
            .iter()
            .flat_map(|l| l.w.iter().chain(&l.b).chain(l.phi.iter().flatten()))
            .chain(x0)
            .map(Scalar::bits)
            .max()
            .unwrap_or(1)
            .max(1)
    });
    crate::budget::work(
        format!(
            "the order-{order} action of an N = {n} network with {} layers{}",
            inn.layers.len(),
            if exact { " in exact rationals" } else { "" }
        ),
        if fast && bits.is_none() {
            predicted_planned_action_work(n, order, inn.layers.len())
        } else {
            predicted_action_work(n, order, inn.layers.len(), bits)
        },
        if exact {
            "lower --order, or drop --exact (exact rationals grow with every order)"
        } else {
            "lower --order"
        },
    )?;
    let (lps, ys) = expansion_points(inn, x0, order)?;
    let z0 = ys.last().unwrap();
    // latent: ½|z0 + u|² (+ N/2 ln 2π in log_const)
    let half = T::one() / T::from_int(2);
    let plan = (fast && n > 0 && std::any::TypeId::of::<T>() == std::any::TypeId::of::<f64>())
        .then(|| super::action_fast::Plan::get(n, order));
    // the planned route reads only the latent orders ≤ 2 (the rest are zero): the dense
    // higher orders are not allocated unless they are kept as the first stage
    let dense_to = if plan.is_some() && !opts.keep_stages {
        2
    } else {
        order
    };
    let mut a: Vec<Vec<T>> = (0..=order)
        .map(|k| {
            let len = if k <= dense_to {
                pow_checked(n, k).unwrap()
            } else {
                0
            };
            vec![T::zero(); len]
        })
        .collect();
    a[0][0] = z0.iter().fold(T::zero(), |s, v| s + v.clone() * v.clone()) * half.clone();
    if order >= 1 {
        a[1].clone_from(z0);
    }
    if order >= 2 {
        for i in 0..n {
            a[2][i * n + i] = half.clone();
        }
    }
    let mut log_const = 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
    let mut log_args = Vec::new();
    let mut stages = opts.keep_stages.then(|| vec![a.clone()]);
    let layouts: Vec<SymLayout> = if plan.is_some() {
        Vec::new()
    } else {
        (0..=order).map(|k| SymLayout::new(n, k)).collect()
    };
    // the planned route keeps the sorted entries between layers (`T` is `f64` there)
    let mut planned = plan.as_ref().map(|p| {
        let a64: &Vec<Vec<f64>> = same_ref(&a);
        (p.to_sorted(a64), p.scratch())
    });
    for (l, layer) in inn.layers.iter().enumerate().rev() {
        let lp = &lps[l];
        if opts.logdet {
            log_const -= lp.g().iter().map(|g| g.to_f64().abs().ln()).sum::<f64>();
            log_args.extend(lp.g());
        }
        let d = det(&layer.w, n);
        if d.is_zero() {
            return Err(Error::invalid(
                format!("layer {l}: the weight matrix is singular (det W = 0), so the network is not invertible"),
                "an inn layer needs an invertible square W",
            ));
        }
        if opts.logdet {
            log_const -= d.to_f64().abs().ln();
            log_args.push(d);
        }
        if let (Some(p), Some((sorted, scratch))) = (&plan, planned.as_mut()) {
            *sorted = p.layer(
                sorted,
                same_ref(lp),
                same_ref::<_, Vec<f64>>(&layer.w),
                opts.logdet,
                scratch,
            );
            if let Some(s) = stages.as_mut() {
                s.push(same(p.to_dense(sorted)));
            }
            continue;
        }
        a = to_tensors(
            &step_a_monomials(&a, lp, n, order, None, opts.logdet),
            &layouts,
        )
        .iter()
        .enumerate()
        .map(|(k, t)| {
            if k == 0 {
                t.clone()
            } else {
                step_b(t, &layer.w, n, k)
            }
        })
        .collect();
        if let Some(s) = stages.as_mut() {
            s.push(a.clone());
        }
    }
    if let (Some(p), Some((sorted, scratch))) = (&plan, planned) {
        a = same(p.to_dense(&sorted));
        super::action_fast::Plan::recycle(scratch);
    }
    if let Some(s) = stages.as_mut() {
        s.reverse();
    }
    Ok(Action {
        n,
        order,
        point: x0.to_vec(),
        tensors: a,
        log_const,
        log_args,
        layers: lps,
        stages,
    })
}

/// The contribution of one group of layer diagrams to the order-m action of layer l's input
/// (after the W-lines): from source order `source` (all branchings of A^(k) into m legs), or
/// the log-det vertex (`None`). Needs an action computed with `keep_stages`.
pub fn layer_contribution<T: Scalar>(
    inn: &Inn<T>,
    act: &Action<T>,
    l: usize,
    source: Option<usize>,
    m: usize,
) -> Result<Vec<T>> {
    let stages = act.stages.as_ref().ok_or_else(|| {
        Error::invalid(
            "layer contributions need the action of every layer",
            "compute the action with keep_stages = true",
        )
    })?;
    if l >= inn.layers.len() || m == 0 || m > act.order {
        return Err(Error::invalid(
            format!(
                "no layer {l} / order {m}: the network has layers 0..{} and the action orders 1..={}",
                inn.layers.len().saturating_sub(1),
                act.order
            ),
            "choose --layer below the number of layers and --order between 1 and the action order",
        ));
    }
    let n = act.n;
    let lp = &act.layers[l];
    let mono = match source {
        Some(k) => step_a_monomials(&stages[l + 1], lp, n, act.order, Some((k, m)), false),
        None => {
            let mut out: Vec<Vec<T>> = (0..=act.order)
                .map(|k| vec![T::zero(); pow_checked(n, k).unwrap()])
                .collect();
            for (i, ld) in lp.logdet.iter().enumerate() {
                let f = flat(&vec![i as u32; m], n);
                out[m][f] = ld[m].clone();
            }
            out
        }
    };
    let t = monomials_to_tensor(&mono[m], &SymLayout::new(n, m));
    Ok(step_b(&t, &inn.layers[l].w, n, m))
}

impl<T: Scalar> Action<T> {
    /// A^(k) at an index list (any order of indices).
    pub fn entry(&self, idx: &[u32]) -> &T {
        &self.tensors[idx.len()][flat(idx, self.n)]
    }

    /// A^(0) as a float, the transcendental constants included.
    pub fn a0(&self) -> f64 {
        self.tensors[0][0].to_f64() + self.log_const
    }

    /// The coefficient of the monomial δ^idx (sorted) in S(x0 + δ): (orderings) · A^(k).
    pub fn monomial_coefficient(&self, idx: &[u32]) -> T {
        self.entry(idx).clone() * T::from_int(multinomial(idx) as i64)
    }

    /// The graded monomials of degree ≤ K.
    pub fn monomials(&self) -> Vec<Vec<u32>> {
        graded_monomials(self.n, self.order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multinomials() {
        assert_eq!(multinomial(&[]), 1);
        assert_eq!(multinomial(&[0, 0, 1]), 3);
        assert_eq!(multinomial(&[0, 1, 2, 3]), 24);
        assert_eq!(multinomial(&[1, 1, 2, 2]), 6);
        assert_eq!(multinomial(&[0, 0, 0, 0]), 1);
    }

    #[test]
    fn oversized_requests_are_refused_before_allocation() {
        let inn = Inn::<f64> {
            name: "big".into(),
            n: 1000,
            layers: vec![],
        };
        let e = action(&inn, &vec![0.0; 1000], &ActionOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("refused: the order-4 action tensors"),
            "{e}"
        );
    }
}
