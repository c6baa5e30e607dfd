//! The jet plan: univariate Taylor series along directions, and exact interpolation of the
//! mixed coefficients (the idea of Griewank, Utke & Walther, Math. Comp. 69 (2000)).
//!
//! Along a direction s the network restricted to the line, t ↦ y(x0 + t s), has the univariate
//! Taylor coefficients y_k(s) = P_k(s), where P_k(h) = Σ_{|α|=k} c_α h^α is the degree-k part of
//! the multivariate expansion. Taking for s every multi-index i with |i| = N (r = C(d+N−1, N)
//! directions), P_N is fixed by its values through the Lagrange basis of that lattice,
//! L_i(h) = Π_m Π_{t<i_m} (h_m − t·σ(h)/N)/(i_m − t), σ(h) = Σ_m h_m (homogeneous of degree N,
//! 1 at h = i, 0 at the other lattice points). A lower degree k < N is recovered the same way
//! from Q = P_k σ^{N−k} (Q(i) = N^{N−k} P_k(i)) and an exact division by σ^{N−k}. The weights
//! are computed once per (d, N); per point the work is dense: one GEMM per layer over all
//! directions and coefficients, and a univariate Horner rule per neuron that runs across the
//! directions (contiguous, so it vectorises).

use std::collections::HashMap;

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array1, Array2, ArrayViewMut2, Axis};

use super::basis::count_monomials;
use super::scratch::{give_buffer, take_buffer};
use crate::error::Result;
use crate::model::Network;

/// Up to this many rows a matrix product runs as row axpys instead of a GEMM (which packs its
/// whole right operand).
const FEW: usize = 4;

/// Directional coefficients interpolated together: ~1 MiB of them.
const CHUNK_ENTRIES: usize = 1 << 17;

/// Whether the jet plan takes a request: few enough directions and weights to precompute.
pub fn supported(d: usize, order: usize) -> bool {
    let (Some(m), Some(r)) = (
        count_monomials(d, order),
        count_monomials(d, order).zip(count_monomials(d, order.saturating_sub(1))),
    ) else {
        return false;
    };
    let r = r.0 - r.1;
    (1..=8).contains(&order) && d >= 1 && m <= 4096 && r <= 1024
}

/// Exponent vectors (length d) of all monomials of degree exactly k, in the basis order
/// (lexicographic on the sorted index lists).
fn exponents(d: usize, k: usize) -> Vec<Vec<u8>> {
    fn rec(d: usize, k: usize, start: usize, cur: &mut Vec<u8>, out: &mut Vec<Vec<u8>>) {
        if k == 0 {
            out.push(cur.clone());
            return;
        }
        for i in start..d {
            cur[i] += 1;
            rec(d, k - 1, i, cur, out);
            cur[i] -= 1;
        }
    }
    let mut out = Vec::new();
    rec(d, k, 0, &mut vec![0; d], &mut out);
    out
}

/// Precomputed directions and interpolation weights for (d, N).
#[derive(Debug, Clone)]
pub struct Jets {
    d: usize,
    order: usize,
    /// [d, r]: direction i in column i.
    dirs: Array2<f64>,
    /// Per degree k = 1..=N (index k−1): [r, m_k], c_α = Σ_i y_k(i) w[i, α].
    weights: Vec<Array2<f64>>,
}

impl Jets {
    /// Directions and weights for d inputs and order N.
    pub fn new(d: usize, order: usize) -> Jets {
        let n = order;
        let lattice = exponents(d, n);
        let r = lattice.len();
        let mut dirs = Array2::<f64>::zeros((d, r));
        for (c, i) in lattice.iter().enumerate() {
            for m in 0..d {
                dirs[[m, c]] = i[m] as f64;
            }
        }
        let top = exponents(d, n);
        // Lagrange basis polynomials, as coefficient vectors over the degree-N monomials
        let lagrange: Vec<Vec<f64>> = lattice.iter().map(|i| lagrange(d, n, i)).collect();
        let mut weights = Vec::with_capacity(n);
        for k in 1..=n {
            let target = exponents(d, k);
            let mut w = Array2::<f64>::zeros((r, target.len()));
            let scale = (n as f64).powi((n - k) as i32);
            for (col, l) in lagrange.iter().enumerate() {
                // Q = N^{N−k} L_i, then divide by σ^{N−k} down to degree k
                let mut q: HashMap<Vec<u8>, f64> = top
                    .iter()
                    .zip(l)
                    .filter(|(_, v)| **v != 0.0)
                    .map(|(e, v)| (e.clone(), v * scale))
                    .collect();
                for deg in (k..n).rev() {
                    q = divide_by_sum(d, deg, &q);
                }
                for (a, e) in target.iter().enumerate() {
                    w[[col, a]] = q.get(e).copied().unwrap_or(0.0);
                }
            }
            weights.push(w);
        }
        Jets {
            d,
            order,
            dirs,
            weights,
        }
    }

    /// Number of directions r.
    pub fn directions(&self) -> usize {
        self.dirs.ncols()
    }

    /// Coefficients of every output at `x0`, `[outputs, C(d+N, N)]` in basis order.
    pub fn expand(&self, net: &Network, x0: &[f64]) -> Result<Array2<f64>> {
        Ok(self
            .expand_batch(net, std::slice::from_ref(&x0.to_vec()))?
            .pop()
            .expect("one point"))
    }

    /// Points whose directional coefficients are interpolated together (one GEMM per degree
    /// over the chunk's rows): ~1 MiB of them.
    pub fn chunk_points(&self, net: &Network) -> usize {
        let per_point = net.outputs().max(1) * self.order * self.directions();
        (CHUNK_ENTRIES / per_point.max(1)).clamp(1, 256)
    }

    /// [`Jets::expand`] at many points: the directions run point by point, the interpolation
    /// to the mixed coefficients runs for a chunk of points at once, one matrix product per
    /// degree (per point it streamed all r × m_k weights for a few rows of products).
    pub fn expand_batch(&self, net: &Network, points: &[Vec<f64>]) -> Result<Vec<Array2<f64>>> {
        let (n, r) = (self.order, self.directions());
        let outs = net.outputs();
        let m = count_monomials(self.d, n).expect("checked by supported") as usize;
        let mut result = Vec::with_capacity(points.len());
        for chunk in points.chunks(self.chunk_points(net)) {
            let rows = chunk.len() * outs;
            let mut y = take_buffer(rows, n * r);
            let mut coef = Array2::<f64>::zeros((rows, m));
            for (p, x0) in chunk.iter().enumerate() {
                let value =
                    self.directional(net, x0, y.slice_mut(s![p * outs..(p + 1) * outs, ..]))?;
                coef.slice_mut(s![p * outs..(p + 1) * outs, 0])
                    .assign(&value);
            }
            let mut col = 1;
            for k in 1..=n {
                let w = &self.weights[k - 1];
                let yk = y.slice(s![.., (k - 1) * r..k * r]);
                let mut dst = coef.slice_mut(s![.., col..col + w.ncols()]);
                if rows <= FEW {
                    // a few rows of products: axpys over the rows of the weights (a GEMM would
                    // pack all r × m_k weights for them)
                    for (o, mut dr) in dst.rows_mut().into_iter().enumerate() {
                        for (i, wi) in w.rows().into_iter().enumerate() {
                            let dr = dr.as_slice_mut().expect("a row of a standard layout");
                            axpy(yk[[o, i]], wi.to_slice().expect("a row"), dr);
                        }
                    }
                } else {
                    general_mat_mul(1.0, &yk, w, 0.0, &mut dst);
                }
                col += w.ncols();
            }
            give_buffer(y);
            for p in 0..chunk.len() {
                result.push(coef.slice(s![p * outs..(p + 1) * outs, ..]).to_owned());
            }
        }
        Ok(result)
    }

    /// The univariate Taylor coefficients y_k(s), k = 1..=N, of every output along every
    /// direction at `x0` into `out` [outputs, N·r] (degree k in columns (k−1)·r..k·r); returns
    /// the outputs' values.
    ///
    /// Two regroupings of the sum keep the layer products small. **Degree 1 is linear in s**:
    /// z^(l)_1(s) = J_l s with the layer's Jacobian J_l = ∂z^(l)/∂x, formed once per point
    /// (n_l × d) instead of a product over n_(l−1) rows per direction. **The top degree N enters
    /// every later layer only linearly** (through σ′ z_N), so it is not pushed through the
    /// products: each layer forms only its nonlinear top-degree part R_l (the Horner terms from
    /// degrees < N, with z_N set to 0), and the adjoint G_l = ∂y/∂a^(l) (linearised at x0)
    /// carries it to the output, y_N = Σ_l G_l R_l — reverse mode for the largest block, as in
    /// the series engine. The products run on degrees 2..N−1 only (none at all for N ≤ 2).
    fn directional(
        &self,
        net: &Network,
        x0: &[f64],
        mut out: ArrayViewMut2<f64>,
    ) -> Result<Array1<f64>> {
        let (n, r) = (self.order, self.directions());
        let cols = n * r;
        let nl = net.weights.len();
        // the point itself: σ^(k)/k! per neuron ([n_l, N+1]; identity: z0, 1, 0, …)
        let mut a0 = Array1::from_vec(x0.to_vec());
        let mut taylor: Vec<Array2<f64>> = Vec::with_capacity(nl);
        for l in 0..nl {
            let z0 = net.weights[l].dot(&a0) + &net.biases[l];
            let mut c = Array2::<f64>::zeros((z0.len(), n + 1));
            match &net.activations[l] {
                Some(act) => {
                    for (j, mut row) in c.rows_mut().into_iter().enumerate() {
                        let row = row.as_slice_mut().expect("standard layout");
                        super::vertices::taylor_into(act, z0[j], row)?;
                    }
                }
                None => {
                    c.column_mut(0).assign(&z0);
                    c.column_mut(1).fill(1.0);
                }
            }
            a0 = c.column(0).to_owned();
            taylor.push(c);
        }
        // J_l = W_l diag(σ′_(l−1)) J_(l−1), J_0 = W_0: degree 1 along every direction
        let mut jac: Vec<Array2<f64>> = Vec::with_capacity(nl);
        for l in 0..nl {
            let j = match jac.last() {
                None => net.weights[0].clone(),
                Some(below) => {
                    let scaled = below * &taylor[l - 1].column(1).insert_axis(Axis(1));
                    net.weights[l].dot(&scaled)
                }
            };
            jac.push(j);
        }
        let outs = a0.len();
        if n == 1 {
            // y_1(s) = σ′_L J_L s: the hidden layers need no directions at all
            general_mat_mul(
                1.0,
                &(&jac[nl - 1] * &taylor[nl - 1].column(1).insert_axis(Axis(1))),
                &self.dirs,
                0.0,
                &mut out,
            );
            return Ok(a0);
        }
        // G_l = ∂y/∂a^(l) at x0: G_L = 1, G_(l−1) = G_l diag(σ′_l) W_l (hidden layers with a
        // vertex only: a linear layer has no nonlinear part to carry)
        let mut adjoint: Vec<Option<Array2<f64>>> = vec![None; nl];
        let mut g = Array2::<f64>::eye(outs);
        for l in (1..nl).rev() {
            g = (&g * &taylor[l].column(1)).dot(&net.weights[l]);
            if net.activations[l - 1].is_some() {
                adjoint[l - 1] = Some(g.clone());
            }
        }
        // Σ_(l<L) G_l R_l, the top degree's hidden-layer part
        let mut top = Array2::<f64>::zeros((outs, r));
        // the generic Horner rule's work rows (orders above 6), shared by the neurons
        let (mut acc, mut next) = if n > 6 {
            (vec![0.0; cols], vec![0.0; cols])
        } else {
            (Vec::new(), Vec::new())
        };
        let mut a = take_buffer(0, cols);
        for l in 0..nl {
            let w = &net.weights[l];
            let mut z = take_buffer(w.nrows(), cols);
            general_mat_mul(1.0, &jac[l], &self.dirs, 0.0, &mut z.slice_mut(s![.., ..r]));
            if n >= 3 {
                // degrees 2..N−1 from the layer below (none on the input line)
                let mut mid = z.slice_mut(s![.., r..(n - 1) * r]);
                let below = a.slice(s![.., r..(n - 1) * r]);
                if l == 0 {
                    zero_rows(mid);
                } else if w.nrows() <= FEW {
                    // a handful of rows (the output layer): row axpys; a GEMM would pack all of
                    // `a` for as few products
                    zero_rows(mid.view_mut());
                    for (mut zr, wr) in mid.rows_mut().into_iter().zip(w.rows()) {
                        let zr = zr.as_slice_mut().expect("a row of a standard layout");
                        for (j, &wj) in wr.iter().enumerate() {
                            axpy(wj, below.row(j).to_slice().expect("a row"), zr);
                        }
                    }
                } else {
                    general_mat_mul(1.0, w, &below, 0.0, &mut mid);
                }
            }
            // degree N: only the nonlinear part is formed here
            zero_rows(z.slice_mut(s![.., (n - 1) * r..]));
            if net.activations[l].is_some() {
                for (j, mut row) in z.axis_iter_mut(Axis(0)).enumerate() {
                    let c = taylor[l].row(j);
                    let c = c.as_slice().expect("standard layout");
                    let p = row.as_slice_mut().expect("standard layout");
                    if l == 0 {
                        // the input line: z = z0 + t·J_0 s, so σ's coefficients are c_k p_1^k
                        powers(c, p, n, r);
                        continue;
                    }
                    match n {
                        2 => horner_lanes::<2>(c, p, r),
                        3 => horner_lanes::<3>(c, p, r),
                        4 => horner_lanes::<4>(c, p, r),
                        5 => horner_lanes::<5>(c, p, r),
                        6 => horner_lanes::<6>(c, p, r),
                        _ => horner(c, p, &mut acc, &mut next, n, r),
                    }
                }
            }
            if let Some(g) = &adjoint[l] {
                let rl = z.slice(s![.., (n - 1) * r..]);
                if outs <= FEW {
                    for (mut tr, gr) in top.rows_mut().into_iter().zip(g.rows()) {
                        let tr = tr.as_slice_mut().expect("a row of a standard layout");
                        for (j, &gj) in gr.iter().enumerate() {
                            axpy(gj, rl.row(j).to_slice().expect("a row"), tr);
                        }
                    }
                } else {
                    general_mat_mul(1.0, g, &rl, 1.0, &mut top);
                }
            }
            give_buffer(std::mem::replace(&mut a, z));
        }
        out.assign(&a);
        let mut last = out.slice_mut(s![.., (n - 1) * r..]);
        last += &top;
        give_buffer(a);
        Ok(a0)
    }
}

/// σ(z0 + t·p_1) = Σ_k c_k p_1^k t^k along every direction: `p` holds degree 1 (block 0) and
/// gets degrees 1..=N (the input layer, where the pre-activation is linear in t).
fn powers(c: &[f64], p: &mut [f64], n: usize, r: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the target feature was detected on this CPU
        return unsafe { powers_avx512(c, p, n, r) };
    }
    powers_body(c, p, n, r)
}

/// [`powers`] compiled for AVX-512 (the crate's baseline is SSE2).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn powers_avx512(c: &[f64], p: &mut [f64], n: usize, r: usize) {
    powers_body(c, p, n, r)
}

#[inline(always)]
fn powers_body(c: &[f64], p: &mut [f64], n: usize, r: usize) {
    // the plain powers first (block k = block k−1 · p_1), then the factors c_k
    for k in 2..=n {
        let (done, cur) = p.split_at_mut((k - 1) * r);
        let (p1, prev) = (&done[..r], &done[(k - 2) * r..]);
        for ((v, &a), &b) in cur[..r].iter_mut().zip(prev).zip(p1) {
            *v = a * b;
        }
    }
    for k in 1..=n {
        let ck = c[k];
        p[(k - 1) * r..k * r].iter_mut().for_each(|v| *v *= ck);
    }
}

/// y += a·x, in AVX-512 where the CPU has it (the crate's baseline is SSE2: the row updates
/// of the output layer, the adjoints and the single-point interpolation ran two lanes wide).
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the target feature was detected on this CPU
        return unsafe { axpy_avx512(a, x, y) };
    }
    axpy_body(a, x, y)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn axpy_avx512(a: f64, x: &[f64], y: &mut [f64]) {
    axpy_body(a, x, y)
}

#[inline(always)]
fn axpy_body(a: f64, x: &[f64], y: &mut [f64]) {
    assert_eq!(x.len(), y.len());
    for (v, &w) in y.iter_mut().zip(x) {
        *v += a * w;
    }
}

/// Zeroes a block row by row (`fill` on a strided view ran element by element).
fn zero_rows(mut block: ndarray::ArrayViewMut2<f64>) {
    for mut row in block.rows_mut() {
        row.as_slice_mut()
            .expect("a row of a standard layout")
            .fill(0.0);
    }
}

/// f(z0 + p(t)) = Σ_q c_q p^q along every direction at once: `p` holds degrees 1..=N
/// (block k−1 of r directions), replaced by the result's degrees 1..=N.
fn horner(c: &[f64], p: &mut [f64], acc: &mut [f64], next: &mut [f64], n: usize, r: usize) {
    // acc = c_N; then acc ← c_q + acc·p truncated at degree N − q (acc's constant is c-only)
    let mut acc0 = c[n];
    for q in (0..n).rev() {
        let top = n - q;
        // next_k = Σ_{i=0}^{k−1} acc_i p_{k−i}, acc_0 the scalar acc0
        for k in 1..=top {
            let dst = &mut next[(k - 1) * r..k * r];
            let pk = &p[(k - 1) * r..k * r];
            for (d, &pv) in dst.iter_mut().zip(pk) {
                *d = acc0 * pv;
            }
            for i in 1..k {
                let ai = &acc[(i - 1) * r..i * r];
                let pki = &p[(k - i - 1) * r..(k - i) * r];
                for ((d, &av), &pv) in dst.iter_mut().zip(ai).zip(pki) {
                    *d += av * pv;
                }
            }
        }
        acc[..top * r].copy_from_slice(&next[..top * r]);
        acc0 = c[q];
    }
    p.copy_from_slice(&acc[..n * r]);
}

/// [`horner`] for a fixed order N, eight directions at a time with every degree in registers:
/// one pass over `p` instead of one per (Horner step, degree), so it is bound by the
/// multiply–adds, not by loads and stores. The crate is built for baseline x86-64 (SSE2), so
/// the loop is compiled again with AVX-512 or AVX2 and fused multiply–adds, taken where the CPU
/// has them (detected at run time).
fn horner_lanes<const N: usize>(c: &[f64], p: &mut [f64], r: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the target features were detected on this CPU
            return unsafe { horner_avx512::<N>(c, p, r) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the target features were detected on this CPU
            return unsafe { horner_avx2::<N>(c, p, r) };
        }
    }
    horner_lanes_body::<N, false, 8>(c, p, r)
}

/// With 32 vector registers and many directions, sixteen at a time (two independent Horner
/// chains in flight: one group of eight was bound by the chain's FMA latency) while every
/// degree still fits in registers (N ≤ 6); with few directions a second group would be padding.
///
/// Written on AVX-512 vector types (arrays of `__m512d`, masked loads and stores at the
/// tail): the same loop on `[f64; 16]` arrays was kept on the stack by the compiler, every
/// step a store and a reload (the Horner rule was a third of the order-4 row).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn horner_avx512<const N: usize>(c: &[f64], p: &mut [f64], r: usize) {
    use std::arch::x86_64::*;
    if r < 32 || N > 6 {
        return horner_lanes_body::<N, true, 8>(c, p, r);
    }
    let mask = |n: usize| -> __mmask8 { ((1u32 << n.min(8)) - 1) as __mmask8 };
    let mut i0 = 0;
    while i0 < r {
        let len = (r - i0).min(16);
        let masks = [mask(len), mask(len.saturating_sub(8))];
        let mut pv = [[_mm512_setzero_pd(); 2]; N];
        for (k, pk) in pv.iter_mut().enumerate() {
            for (h, v) in pk.iter_mut().enumerate() {
                // SAFETY: lanes i0 + 8h + j < r of block k (the mask), within p
                *v = unsafe { _mm512_maskz_loadu_pd(masks[h], p.as_ptr().add(k * r + i0 + 8 * h)) };
            }
        }
        let mut acc = [[_mm512_setzero_pd(); 2]; N];
        let mut acc0 = c[N];
        // constant trip counts with the triangle as conditions, unrolled by the compiler
        for qq in 0..N {
            let q = N - 1 - qq;
            // in place, highest degree first: degree k reads only the lower degrees i < k
            for kk in 0..N {
                let k = N - kk;
                if k > N - q {
                    continue;
                }
                let a = _mm512_set1_pd(acc0);
                let mut v = [
                    _mm512_mul_pd(a, pv[k - 1][0]),
                    _mm512_mul_pd(a, pv[k - 1][1]),
                ];
                for i in 1..N {
                    if i >= k {
                        break;
                    }
                    for h in 0..2 {
                        v[h] = _mm512_fmadd_pd(acc[i - 1][h], pv[k - i - 1][h], v[h]);
                    }
                }
                acc[k - 1] = v;
            }
            acc0 = c[q];
        }
        for (k, ak) in acc.iter().enumerate() {
            for (h, v) in ak.iter().enumerate() {
                // SAFETY: as the loads
                unsafe {
                    _mm512_mask_storeu_pd(p.as_mut_ptr().add(k * r + i0 + 8 * h), masks[h], *v)
                };
            }
        }
        i0 += 16;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn horner_avx2<const N: usize>(c: &[f64], p: &mut [f64], r: usize) {
    horner_lanes_body::<N, true, 8>(c, p, r)
}

/// The body of [`horner_lanes`]; `FUSED`: multiply–adds as `mul_add` (only where the CPU has
/// FMA: elsewhere `mul_add` is a library call).
#[inline(always)]
fn horner_lanes_body<const N: usize, const FUSED: bool, const L: usize>(
    c: &[f64],
    p: &mut [f64],
    r: usize,
) {
    let mut i0 = 0;
    while i0 < r {
        let len = L.min(r - i0);
        // pv[k][l] = degree k + 1 along direction i0 + l
        let mut pv = [[0.0f64; L]; N];
        for (k, row) in pv.iter_mut().enumerate() {
            let src = &p[k * r + i0..k * r + i0 + len];
            // fixed-length copies (moves in registers) for full groups, memcpy for the tail
            match <&[f64; L]>::try_from(src) {
                Ok(full) => *row = *full,
                Err(_) => row[..len].copy_from_slice(src),
            }
        }
        let mut acc = [[0.0f64; L]; N];
        let mut acc0 = c[N];
        // constant trip counts with the triangle as conditions, so that the compiler unrolls
        // every loop and keeps `acc` in registers
        for qq in 0..N {
            let q = N - 1 - qq;
            // in place, highest degree first: degree k reads only the lower degrees i < k
            for kk in 0..N {
                let k = N - kk;
                if k > N - q {
                    continue;
                }
                let mut v = [0.0f64; L];
                for l in 0..L {
                    v[l] = acc0 * pv[k - 1][l];
                }
                for i in 1..N {
                    if i >= k {
                        break;
                    }
                    for l in 0..L {
                        v[l] = if FUSED {
                            acc[i - 1][l].mul_add(pv[k - i - 1][l], v[l])
                        } else {
                            v[l] + acc[i - 1][l] * pv[k - i - 1][l]
                        };
                    }
                }
                acc[k - 1] = v;
            }
            acc0 = c[q];
        }
        for (k, row) in acc.iter().enumerate() {
            let dst = &mut p[k * r + i0..k * r + i0 + len];
            match <&mut [f64; L]>::try_from(&mut *dst) {
                Ok(full) => *full = *row,
                Err(_) => dst.copy_from_slice(&row[..len]),
            }
        }
        i0 += L;
    }
}

/// The Lagrange polynomial of lattice point `i` (|i| = N) over the degree-N exponents
/// ([`exponents`] order).
fn lagrange(d: usize, n: usize, i: &[u8]) -> Vec<f64> {
    // product of linear forms h_m − (t/N) σ(h), divided by (i_m − t)
    let mut poly: HashMap<Vec<u8>, f64> = HashMap::from([(vec![0u8; d], 1.0)]);
    for m in 0..d {
        for t in 0..i[m] as usize {
            let denom = (i[m] as usize - t) as f64;
            let mut form = vec![-(t as f64) / n as f64 / denom; d];
            form[m] += 1.0 / denom;
            let mut out: HashMap<Vec<u8>, f64> = HashMap::new();
            for (e, v) in &poly {
                for (q, &f) in form.iter().enumerate() {
                    if f == 0.0 {
                        continue;
                    }
                    let mut e2 = e.clone();
                    e2[q] += 1;
                    *out.entry(e2).or_insert(0.0) += v * f;
                }
            }
            poly = out;
        }
    }
    exponents(d, n)
        .iter()
        .map(|e| poly.get(e).copied().unwrap_or(0.0))
        .collect()
}

/// P with P·σ = Q for a homogeneous Q of degree `deg` + 1 divisible by σ = Σ_m h_m:
/// P_e = Q_{e+e_0} − Σ_{m≥1, e_m≥1} P_{e+e_0−e_m}, in decreasing order of e_0.
fn divide_by_sum(d: usize, deg: usize, q: &HashMap<Vec<u8>, f64>) -> HashMap<Vec<u8>, f64> {
    let mut targets = exponents(d, deg);
    targets.sort_by(|a, b| b[0].cmp(&a[0]));
    let mut p: HashMap<Vec<u8>, f64> = HashMap::new();
    for e in targets {
        let mut up = e.clone();
        up[0] += 1;
        let mut v = q.get(&up).copied().unwrap_or(0.0);
        for m in 1..d {
            if e[m] >= 1 {
                let mut f = up.clone();
                f[m] -= 1;
                v -= p.get(&f).copied().unwrap_or(0.0);
            }
        }
        if v != 0.0 {
            p.insert(e, v);
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The weights reproduce a known polynomial from its values along the directions.
    #[test]
    fn interpolation_recovers_every_degree() {
        for (d, n) in [(1, 4), (2, 6), (3, 4), (4, 3)] {
            let j = Jets::new(d, n);
            for k in 1..=n {
                let target = exponents(d, k);
                let c: Vec<f64> = (0..target.len())
                    .map(|t| ((t * 7 + k) % 11) as f64 / 3.0 - 1.5)
                    .collect();
                for (a, _) in target.iter().enumerate() {
                    let got: f64 = (0..j.directions())
                        .map(|col| {
                            let h: Vec<f64> = (0..d).map(|m| j.dirs[[m, col]]).collect();
                            let pk: f64 = target
                                .iter()
                                .zip(&c)
                                .map(|(e, cv)| {
                                    cv * e
                                        .iter()
                                        .zip(&h)
                                        .map(|(&p, hv)| hv.powi(p as i32))
                                        .product::<f64>()
                                })
                                .sum();
                            pk * j.weights[k - 1][[col, a]]
                        })
                        .sum();
                    assert!(
                        (got - c[a]).abs() < 1e-11 * (1.0 + c[a].abs()),
                        "d={d} N={n} k={k} α#{a}: {got} vs {}",
                        c[a]
                    );
                }
            }
        }
    }

    #[test]
    fn exponents_follow_the_basis_order() {
        // [0,0],[0,1],[1,1] for d = 2, k = 2 as exponent vectors
        assert_eq!(exponents(2, 2), vec![vec![2, 0], vec![1, 1], vec![0, 2]]);
    }
}
