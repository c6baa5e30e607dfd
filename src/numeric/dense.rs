//! The diagram plan: Taylor coefficients to order 3 as contractions of dense matrices.
//!
//! The Feynman rules of the theory notes (§2.2–2.3) make every diagram of order ≤ 3 a product
//! of dense matrices: the external legs are the Jacobians J_l = ∂z^(l)/∂x = D^(l,0) (one GEMM per
//! layer), the vertices are the activation-derivative vectors σ_l^(k)(z^(l)), and the line to the
//! output is the gradient g_l = ∂y_o/∂a^(l) (reverse mode). Per output o:
//!
//! * order 1 (one line): ∂_a y = Σ_j (∂y/∂z^(1))_j W^(1)_{ja};
//! * order 2 (one vertex): H_ab = Σ_l Σ_j g_{l,j} σ_l''(z_j) J_l[j,a] J_l[j,b], accumulated for
//!   a ≤ b only (a blocked `syrk`);
//! * order 3, the star (one cubic vertex) and the exchange (two quadratic vertices on a
//!   propagator D^(l,m)):
//!   T_abc = Σ_m Σ_j [ g σ''' J_a J_b J_c + σ''_m (K_a J_b J_c + J_a K_b J_c + J_a J_b K_c) ]_{m,j},
//!   where K_m = Σ_{l>m} D^(l,m)ᵀ diag(g_l σ_l'') J_l carries the upper vertex down to layer m:
//!   K_m = W^(m+1)ᵀ [diag(g σ'')_{m+1} J_{m+1} + diag(σ'_{m+1}) K_{m+1}], one GEMM per layer.
//!   The sum over neurons is the inner dimension of one GEMM whose rows are the sorted pairs
//!   (b ≤ c) and whose columns are a ≤ b, blocked so that only sorted triples are computed.
//!
//! Points are computed in batches (matrix–matrix work across points): the forward pass, the
//! gradients and the Jacobians J_{l+1} = W_{l+1} [diag(σ'_l(x_p)) J_l(x_p)]_p are one GEMM per
//! layer for all points of a chunk. (A table of the first layer's products W_1[j,a] W_1[j,b],
//! which would make that vertex one GEMM across points, was measured slower: `matrixmultiply`
//! repacks the whole table on every call.)
//!
//! Only sorted multi-indices are produced, in the [`Basis`](super::Basis) order, as
//! c_α = ∂^α y / α!. Every product runs on `ndarray`'s GEMM (the `matrixmultiply` crate; see
//! book/src/performance.md for the measurement against `gemm`/faer).

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView1, ArrayView2, Axis};

use crate::error::{Error, Result};
use crate::model::Network;

/// Rows (first indices a) per block of the symmetric accumulations.
const BLOCK: usize = 16;

/// Entries of one layer's Jacobians for a chunk of points, [n_l, P·d]: the points per chunk
/// follow from it (~1 MiB, so that a layer's legs and their scaled copy stay in L2 cache).
const CHUNK_ENTRIES: usize = 1 << 17;

/// Points per chunk of a batch for `net` (1 to 64).
pub fn chunk_points(net: &Network) -> usize {
    let d = net.inputs().max(1);
    let widest = net.widths().into_iter().skip(1).max().unwrap_or(1).max(1);
    (CHUNK_ENTRIES / (widest * d)).clamp(1, 64)
}

/// The diagram plan for one network and order.
#[derive(Debug, Clone)]
pub struct Dense {
    order: usize,
}

impl Dense {
    /// The plan for `net` at `order` (≤ 3).
    pub fn new(_net: &Network, order: usize) -> Dense {
        assert!(order <= 3, "the dense plan covers orders 0..=3");
        Dense { order }
    }

    /// The coefficients of all outputs at every point, `[outputs, C(d+order, order)]` each, in
    /// basis order; the points go through in chunks of [`chunk_points`].
    pub fn expand_batch(&self, net: &Network, points: &[Vec<f64>]) -> Result<Vec<Array2<f64>>> {
        let mut out = Vec::with_capacity(points.len());
        for chunk in points.chunks(chunk_points(net)) {
            out.extend(self.expand_chunk(net, chunk)?);
        }
        Ok(out)
    }

    fn expand_chunk(&self, net: &Network, pts: &[Vec<f64>]) -> Result<Vec<Array2<f64>>> {
        let order = self.order;
        let d = net.inputs();
        let outs = net.outputs();
        let nl = net.weights.len();
        let np = pts.len();
        let fw = forward(net, pts, order)?;
        let p2 = d * (d + 1) / 2;
        let m = 1
            + if order >= 1 { d } else { 0 }
            + if order >= 2 { p2 } else { 0 }
            + if order >= 3 {
                d * (d + 1) * (d + 2) / 6
            } else {
                0
            };
        let mut coefs = vec![Array2::<f64>::zeros((outs, m)); np];
        // the layers that carry vertices: those with an activation (the output layer too when
        // it has one)
        let vertex: Vec<usize> = (0..nl).filter(|&l| fw.nonlinear[l]).collect();
        let leg = |l: usize, p: usize| -> ArrayView2<f64> {
            match &fw.jac[l] {
                Some(j) => j.slice(s![.., p * d..(p + 1) * d]),
                None => net.weights[0].view(),
            }
        };
        let mut h = Array2::<f64>::zeros((d, d));
        let widest = net.widths().into_iter().max().unwrap_or(1);
        let mut scaled = Array2::<f64>::zeros((widest, d));
        for o in 0..outs {
            for (p, c) in coefs.iter_mut().enumerate() {
                c[[o, 0]] = fw.der[nl - 1][0][[p, o]];
            }
            if order == 0 {
                continue;
            }
            // g[l] = ∂y_o/∂a^(l) at every point, [P, n_l] (reverse mode, one GEMM per layer);
            // continued through W_1 it gives the gradient ∂y_o/∂x
            let mut g: Vec<Array2<f64>> = vec![Array2::zeros((0, 0)); nl];
            let mut top = Array2::<f64>::zeros((np, outs));
            top.column_mut(o).fill(1.0);
            let mut gz = &top * &fw.der[nl - 1][1];
            g[nl - 1] = top;
            for l in (0..nl).rev() {
                let w = &net.weights[l];
                let mut below = Array2::<f64>::zeros((np, w.ncols()));
                general_mat_mul(1.0, &gz, w, 0.0, &mut below);
                if l == 0 {
                    for (p, c) in coefs.iter_mut().enumerate() {
                        c.slice_mut(s![o, 1..1 + d]).assign(&below.row(p));
                    }
                } else {
                    gz = &below * &fw.der[l - 1][1];
                    g[l - 1] = below;
                }
            }
            if order == 1 {
                continue;
            }
            // Hessian: Σ_l J_lᵀ diag(g σ'') J_l over the upper triangle, in coefficient order
            let mut hc = Array2::<f64>::zeros((np, p2));
            let weights: Vec<Option<Array2<f64>>> = (0..nl)
                .map(|l| vertex.contains(&l).then(|| &g[l] * &fw.der[l][2]))
                .collect();
            if !vertex.is_empty() {
                for p in 0..np {
                    h.fill(0.0);
                    for &l in &vertex {
                        let j = leg(l, p);
                        let w = weights[l].as_ref().expect("a vertex layer").row(p);
                        let n = j.nrows();
                        let mut y = scaled.slice_mut(s![..n, ..]);
                        ndarray::Zip::from(y.rows_mut())
                            .and(j.rows())
                            .and(&w)
                            .for_each(|mut y, j, &w| {
                                ndarray::Zip::from(&mut y)
                                    .and(&j)
                                    .for_each(|y, &j| *y = w * j)
                            });
                        upper_at_b(j, y.view(), &mut h);
                    }
                    let mut row = hc.row_mut(p);
                    let mut col = 0;
                    for a in 0..d {
                        row[col] += 0.5 * h[[a, a]];
                        col += 1;
                        for b in a + 1..d {
                            row[col] += h[[a, b]];
                            col += 1;
                        }
                    }
                }
            }
            for (p, c) in coefs.iter_mut().enumerate() {
                c.slice_mut(s![o, 1 + d..1 + d + p2]).assign(&hc.row(p));
            }
            if order == 2 {
                continue;
            }
            for (p, c) in coefs.iter_mut().enumerate() {
                let legs: Vec<Option<ArrayView2<f64>>> = (0..nl)
                    .map(|l| vertex.contains(&l).then(|| leg(l, p)))
                    .collect();
                let der: Vec<[ArrayView1<f64>; 4]> = fw
                    .der
                    .iter()
                    .map(|dl| std::array::from_fn(|k| dl[k].row(p)))
                    .collect();
                let gp: Vec<ArrayView1<f64>> = g.iter().map(|gl| gl.row(p)).collect();
                third_order(
                    net,
                    &legs,
                    &der,
                    &gp,
                    &vertex,
                    d,
                    c.slice_mut(s![o, 1 + d + p2..]),
                );
            }
        }
        Ok(coefs)
    }
}

/// Forward quantities of a chunk of points, shared by all outputs.
struct Forward {
    /// `der[l][k][p, j]` = σ_l^(k)(z_j) at point p, k = 0..=3 (σ' = 1 and the higher
    /// derivatives 0 for a linear layer).
    der: Vec<[Array2<f64>; 4]>,
    /// The layer has an activation.
    nonlinear: Vec<bool>,
    /// The Jacobians J_l = ∂z^(l)/∂x of all points, [n_l, P·d] (point p in columns p·d..),
    /// up to the last layer with a vertex (order ≥ 2); `None` for the first layer (J_1 = W_1)
    /// and above.
    jac: Vec<Option<Array2<f64>>>,
}

fn forward(net: &Network, pts: &[Vec<f64>], order: usize) -> Result<Forward> {
    let nl = net.weights.len();
    let d = net.inputs();
    let np = pts.len();
    let kmax = order.clamp(1, 3);
    let mut a = Array2::<f64>::zeros((np, d));
    for (p, x) in pts.iter().enumerate() {
        a.row_mut(p).assign(&ArrayView1::from(x.as_slice()));
    }
    let mut der = Vec::with_capacity(nl);
    let mut nonlinear = Vec::with_capacity(nl);
    for l in 0..nl {
        let w = &net.weights[l];
        let n = w.nrows();
        let mut z = Array2::<f64>::zeros((np, n));
        general_mat_mul(1.0, &a, &w.t(), 0.0, &mut z);
        z += &net.biases[l];
        let mut dl: [Array2<f64>; 4] = std::array::from_fn(|_| Array2::zeros((np, n)));
        match &net.activations[l] {
            Some(act) => {
                let mut c = [0.0; 4];
                for ((p, j), &zj) in z.indexed_iter() {
                    super::vertices::derivatives_into(act, zj, &mut c[..=kmax])?;
                    for (k, ck) in c[..=kmax].iter().enumerate() {
                        if !ck.is_finite() {
                            return Err(Error::invalid(
                                format!("a non-finite activation derivative appeared in layer {} (pre-activation {zj})", l + 1),
                                "the activation or its derivatives overflow at this point",
                            ));
                        }
                        dl[k][[p, j]] = *ck;
                    }
                }
            }
            None => {
                dl[0].assign(&z);
                dl[1].fill(1.0);
            }
        }
        nonlinear.push(net.activations[l].is_some());
        a = dl[0].clone();
        der.push(dl);
    }
    // J_{l+1} = W_{l+1} [diag(σ'_l(x_p)) J_l(x_p)]_p: one GEMM for all points of the chunk
    let mut jac: Vec<Option<Array2<f64>>> = vec![None; nl];
    let top = (0..nl).rev().find(|&l| nonlinear[l]);
    if let (true, Some(top)) = (order >= 2, top) {
        for l in 1..=top {
            let prev = net.weights[l - 1].nrows();
            let mut b = Array2::<f64>::zeros((prev, np * d));
            let s1 = &der[l - 1][1];
            for (j, mut brow) in b.axis_iter_mut(Axis(0)).enumerate() {
                let brow = brow.as_slice_mut().expect("standard layout");
                for p in 0..np {
                    let f = s1[[p, j]];
                    let dst = &mut brow[p * d..(p + 1) * d];
                    match &jac[l - 1] {
                        None => {
                            for (x, &y) in dst.iter_mut().zip(net.weights[0].row(j)) {
                                *x = f * y;
                            }
                        }
                        Some(jp) => {
                            let src = jp.row(j);
                            let src = &src.as_slice().expect("standard layout")[p * d..(p + 1) * d];
                            for (x, &y) in dst.iter_mut().zip(src) {
                                *x = f * y;
                            }
                        }
                    }
                }
            }
            let mut jl = Array2::<f64>::zeros((net.weights[l].nrows(), np * d));
            general_mat_mul(1.0, &net.weights[l], &b, 0.0, &mut jl);
            jac[l] = Some(jl);
        }
    }
    Ok(Forward {
        der,
        nonlinear,
        jac,
    })
}

/// `out[rows, cols] += aᵀ[rows, :] · b[:, cols]` for `a` [k, m], `b` [k, n], in row blocks of
/// [`BLOCK`], only for cols ≥ the block's first row: the upper triangle (a ≤ b) of aᵀ b.
fn upper_at_b(a: ArrayView2<f64>, b: ArrayView2<f64>, out: &mut Array2<f64>) {
    let m = a.ncols();
    let mut r0 = 0;
    while r0 < m {
        let r1 = (r0 + BLOCK).min(m);
        let lhs = a.slice(s![.., r0..r1]).reversed_axes();
        let rhs = b.slice(s![.., r0..]);
        let mut dst = out.slice_mut(s![r0..r1, r0..]);
        general_mat_mul(1.0, &lhs, &rhs, 1.0, &mut dst);
        r0 = r1;
    }
}

/// The degree-3 block of one output (sorted triples in lexicographic order), as c = T/α!.
fn third_order(
    net: &Network,
    jac: &[Option<ArrayView2<f64>>],
    der: &[[ArrayView1<f64>; 4]],
    g: &[ArrayView1<f64>],
    vertex_layers: &[usize],
    d: usize,
    mut dst: ndarray::ArrayViewMut1<f64>,
) {
    let nl = net.weights.len();
    // K_m = W_{m+1}ᵀ [diag(g σ'')_{m+1} J_{m+1} + diag(σ'_{m+1}) K_{m+1}], K_L = 0.
    let mut kmat: Vec<Option<Array2<f64>>> = vec![None; nl];
    for l in (1..nl).rev() {
        let mut bracket: Option<Array2<f64>> = None;
        if vertex_layers.contains(&l) {
            let w = &g[l] * &der[l][2];
            let j = jac[l].expect("a vertex layer");
            bracket = Some(&j * &w.view().insert_axis(Axis(1)));
        }
        if let Some(k) = &kmat[l] {
            let sk = k * &der[l][1].insert_axis(Axis(1));
            bracket = Some(match bracket {
                Some(b) => b + &sk,
                None => sk,
            });
        }
        if let Some(b) = &bracket {
            kmat[l - 1] = Some(net.weights[l].t().dot(b));
        }
    }
    // Stack the inner dimension: per vertex layer m, block A (n_m rows):
    //   left u J + σ'' K, right J_b J_c; and where K_m ≠ 0, block B: left σ'' J, right
    //   K_b J_c + J_b K_c.
    let p2 = d * (d + 1) / 2;
    let mut inner = 0;
    for &m in vertex_layers {
        let n = der[m][0].len();
        inner += n * if kmat[m].is_some() { 2 } else { 1 };
    }
    if inner == 0 {
        return;
    }
    let mut left = Array2::<f64>::zeros((inner, d)); // [k, a]
    let mut right = Array2::<f64>::zeros((p2, inner)); // [pair (b,c), k]
    let mut k0 = 0;
    for &m in vertex_layers {
        let n = der[m][0].len();
        let jm = jac[m].expect("a vertex layer");
        let jt = jm.t(); // [d, n]
        let u = &g[m] * &der[m][3];
        let v = &der[m][2];
        {
            let mut l = left.slice_mut(s![k0..k0 + n, ..]);
            l.assign(&(&jm * &u.view().insert_axis(Axis(1))));
            if let Some(k) = &kmat[m] {
                l.scaled_add(1.0, &(k * &v.view().insert_axis(Axis(1))));
            }
        }
        let mut row = 0;
        for b in 0..d {
            let jb = jt.row(b);
            for c in b..d {
                let jc = jt.row(c);
                let mut r = right.slice_mut(s![row, k0..k0 + n]);
                ndarray::Zip::from(&mut r)
                    .and(&jb)
                    .and(&jc)
                    .for_each(|r, &x, &y| *r = x * y);
                row += 1;
            }
        }
        k0 += n;
        if let Some(k) = &kmat[m] {
            left.slice_mut(s![k0..k0 + n, ..])
                .assign(&(&jm * &v.view().insert_axis(Axis(1))));
            let kt = k.t();
            let mut row = 0;
            for b in 0..d {
                let (jb, kb) = (jt.row(b), kt.row(b));
                for c in b..d {
                    let (jc, kc) = (jt.row(c), kt.row(c));
                    let mut r = right.slice_mut(s![row, k0..k0 + n]);
                    ndarray::Zip::from(&mut r)
                        .and(&jb)
                        .and(&kb)
                        .and(&jc)
                        .and(&kc)
                        .for_each(|r, &jb, &kb, &jc, &kc| *r = kb * jc + jb * kc);
                    row += 1;
                }
            }
            k0 += n;
        }
    }
    // out[pair (b,c), a] for a ≤ b: rows of pairs with b in [b0, b1) need columns a < b1.
    let mut out = Array2::<f64>::zeros((p2, d));
    let mut b0 = 0;
    while b0 < d {
        let b1 = (b0 + BLOCK).min(d);
        let (r0, r1) = (pair_start(d, b0), pair_start(d, b1));
        let mut dst = out.slice_mut(s![r0..r1, ..b1]);
        general_mat_mul(
            1.0,
            &right.slice(s![r0..r1, ..]),
            &left.slice(s![.., ..b1]),
            0.0,
            &mut dst,
        );
        b0 = b1;
    }
    let mut i = 0;
    for a in 0..d {
        for b in a..d {
            let rb = pair_start(d, b);
            for c in b..d {
                let t = out[[rb + c - b, a]];
                let fact = match (a == b, b == c) {
                    (true, true) => 6.0,
                    (false, false) => 1.0,
                    _ => 2.0,
                };
                dst[i] = t / fact;
                i += 1;
            }
        }
    }
}

/// Row of the first sorted pair (b, ·): Σ_{b' < b} (d − b').
fn pair_start(d: usize, b: usize) -> usize {
    b * d - b * b.saturating_sub(1) / 2
}
