//! The diagram plan: Taylor coefficients to order 3 as contractions of dense matrices.
//!
//! The Feynman rules of the theory notes (§2.2–2.3) make every diagram of order ≤ 3 a product
//! of dense matrices: the external legs are the Jacobians J_l = ∂z^(l)/∂x = D^(l,0) (one GEMM per
//! layer), the vertices are the activation-derivative vectors σ_l^(k)(z^(l)), and the line to the
//! output is the gradient g_l = ∂y_o/∂a^(l) (reverse mode). Per output o:
//!
//! * order 1 (one line): ∂_a y = Σ_j (∂y/∂z^(1))_j W^(1)_{ja};
//! * order 2 (one vertex): H_ab = Σ_l Σ_j g_{l,j} σ_l''(z_j) J_l[j,a] J_l[j,b], accumulated for
//!   a ≤ b only (a `syrk` in register tiles);
//! * order 3, the star (one cubic vertex) and the exchange (two quadratic vertices on a
//!   propagator D^(l,m)):
//!   T_abc = Σ_m Σ_j [ g σ''' J_a J_b J_c + σ''_m (K_a J_b J_c + J_a K_b J_c + J_a J_b K_c) ]_{m,j},
//!   where K_m = Σ_{l>m} D^(l,m)ᵀ diag(g_l σ_l'') J_l carries the upper vertex down to layer m:
//!   K_m = W^(m+1)ᵀ [diag(g σ'')_{m+1} J_{m+1} + diag(σ'_{m+1}) K_{m+1}], one GEMM per layer.
//!   The sum over neurons is the inner dimension of one GEMM whose rows are the sorted pairs
//!   (b ≤ c) and whose columns are a ≤ b, blocked so that only sorted triples are computed.
//!
//! Points are computed in batches (matrix–matrix work across points): the forward pass and the
//! gradients are one GEMM per layer for all points of a chunk. The Jacobians
//! J_{l+1}(x_p) = W_{l+1} diag(σ'_l(x_p)) J_l(x_p) and the Hessian's upper triangle are
//! products with a diagonal in the middle, computed point by point in AVX-512 register tiles
//! on matrices stored in column panels of 16 ([`pack_new`]): no packing per call, the diagonal
//! applied on the fly, only the tiles the triangle needs. (A table of the first layer's products
//! W_1[j,a] W_1[j,b], which would make that vertex one GEMM across points, was measured slower:
//! `matrixmultiply` repacks the whole table on every call.)
//!
//! Only sorted multi-indices are produced, in the [`Basis`](super::Basis) order, as
//! c_α = ∂^α y / α!. The other products run on `ndarray`'s GEMM (the `matrixmultiply` crate,
//! also the route for the tiles' work on CPUs without AVX-512; see book/src/performance.md).

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView1, ArrayView2, Axis, ShapeBuilder};

use super::contractions::{contractions, Contraction};
use super::scratch::{give_buffer, take_buffer};
use crate::error::{Error, Result};
use crate::model::Network;

/// Rows (first indices a) per block of the symmetric accumulations.
const BLOCK: usize = 16;

/// The fewest inputs for which the degree-3 block runs in register tiles
/// ([`third_order_panels`]); below, the sorted-pair GEMM ([`third_order`]).
const TILES3_MIN_INPUTS: usize = 32;

/// The points per chunk follow from P·6·n_widest ≤ this (~1 MiB of a chunk's forward
/// derivatives, gradients and vertex weights): the chunk batches the forward and gradient
/// products across its points; the Jacobians are formed point by point.
const CHUNK_ENTRIES: usize = 1 << 17;

/// Points per chunk of a batch for `net` (1 to 64).
pub fn chunk_points(net: &Network) -> usize {
    let widest = net.widths().into_iter().skip(1).max().unwrap_or(1).max(1);
    (CHUNK_ENTRIES / (6 * widest)).clamp(1, 64)
}

/// The diagram plan for one network and order.
#[derive(Debug, Clone)]
pub struct Dense {
    order: usize,
    /// At order ≥ 2: W_1 and then W_lᵀ (l ≥ 2) in column panels, the register tiles' operands
    /// (packed once here: per chunk they cost a single point ~10 % more).
    panels: Vec<Vec<f64>>,
    /// At order 3 with AVX-512: W_l (l ≥ 2; empty for l = 1) in column panels, for the
    /// register-tile route of the degree-3 block ([`third_order_panels`]); empty otherwise.
    weight_panels: Vec<Vec<f64>>,
    /// The shapes of the network's diagrams to this order ([`contractions`]), one contraction
    /// each.
    shapes: Vec<Contraction>,
}

impl Dense {
    /// The plan for `net` at `order`: one contraction per diagram shape that
    /// [`crate::diagrams::unlabelled`] lists for the network to this order. Panics above
    /// [`MAX_ORDER`](super::contractions::MAX_ORDER), where the plan is not available
    /// ([`super::plan::estimates`]).
    pub fn new(net: &Network, order: usize) -> Dense {
        let out_act = net.activations.last().is_some_and(|a| a.is_some());
        let shapes = contractions(order, net.hidden_layers(), out_act)
            .expect("the dense plan covers orders 0..=3");
        let panels = if order >= 2 {
            (0..net.weights.len())
                .map(|l| match l {
                    0 => pack_new(net.weights[0].view()),
                    _ => pack_new(net.weights[l].t()),
                })
                .collect()
        } else {
            Vec::new()
        };
        // the tiles' rounding (rows to 8, columns from the panel of b) costs 1.1–1.3× the sorted
        // triples' GEMM flops from d = 32 on but 1.4–3.6× below; measured, the tiles took half
        // the GEMM route's time at d = 64 and 1.2× its time at d = 16
        let weight_panels = if order >= 3 && avx512() && net.inputs() >= TILES3_MIN_INPUTS {
            (0..net.weights.len())
                .map(|l| match l {
                    0 => Vec::new(),
                    _ => pack_new(net.weights[l].view()),
                })
                .collect()
        } else {
            Vec::new()
        };
        Dense {
            order,
            panels,
            weight_panels,
            shapes,
        }
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
        let tiles3 = !self.weight_panels.is_empty();
        let shapes3 = Shapes3 {
            star: self.shapes.contains(&Contraction::Star3),
            exchange: self.shapes.contains(&Contraction::Exchange3),
        };
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
        // one zeroed array each (`vec![a; np]` copied the first one np times)
        let mut coefs: Vec<Array2<f64>> = (0..np).map(|_| Array2::zeros((outs, m))).collect();
        // the layers that carry vertices: those with an activation (the output layer too when
        // it has one)
        let vertex: Vec<usize> = (0..nl).filter(|&l| fw.nonlinear[l]).collect();
        // per output: g[l] = ∂y_o/∂a^(l) at every point, [P, n_l] (reverse mode, one GEMM per
        // layer); continued through W_1 it gives the gradient ∂y_o/∂x
        let mut adjoints: Vec<Vec<Array2<f64>>> = Vec::with_capacity(outs);
        for o in 0..outs {
            for (p, c) in coefs.iter_mut().enumerate() {
                c[[o, 0]] = fw.der[nl - 1][0][[p, o]];
            }
            if order == 0 {
                continue;
            }
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
            adjoints.push(g);
        }
        let Some(&top) = vertex.last() else {
            // no vertex: the network is linear, the gradient is all
            return Ok(coefs);
        };
        if order < 2 {
            return Ok(coefs);
        }
        // the Hessian's vertex weights g σ'' per output and vertex layer, [P, n_l]
        let weights: Vec<Vec<Option<Array2<f64>>>> = adjoints
            .iter()
            .map(|g| {
                (0..nl)
                    .map(|l| vertex.contains(&l).then(|| &g[l] * &fw.der[l][2]))
                    .collect()
            })
            .collect();
        // Point by point: the Jacobians J_l(x_p) = W_l diag(σ'_(l−1)) J_(l−1) in column panels
        // (on recycled buffers, J_1 = W_1), then every output's blocks while they are in cache
        // (formed for the whole chunk first, they went to L3 and back: ~6 % of the Hessian row)
        let mut jac: Vec<Option<Array2<f64>>> = (0..nl)
            .map(|l| {
                (l >= 1 && l <= top).then(|| take_buffer(1, packed_len(net.weights[l].nrows(), d)))
            })
            .collect();
        let mut h = vec![0.0; d * d];
        for p in 0..np {
            for l in 1..=top {
                let (done, rest) = jac.split_at_mut(l);
                let below = match &done[l - 1] {
                    None => &self.panels[0][..],
                    Some(j) => j.as_slice().expect("standard layout"),
                };
                let out = rest[0].as_mut().expect("taken above");
                scaled_product(
                    &self.panels[l],
                    net.weights[l].nrows(),
                    fw.der[l - 1][1].row(p).to_slice().expect("standard layout"),
                    below,
                    d,
                    out.as_slice_mut().expect("standard layout"),
                );
            }
            let panel_leg = |l: usize| -> &[f64] {
                match &jac[l] {
                    Some(j) => j.as_slice().expect("standard layout"),
                    None => &self.panels[0][..],
                }
            };
            // the plain layout for the order-3 route without AVX-512 (J_1 = W_1 is read in
            // place)
            let plain: Vec<Option<Array2<f64>>> = if order >= 3 && !tiles3 {
                jac.iter()
                    .enumerate()
                    .map(|(l, j)| {
                        j.as_ref().filter(|_| vertex.contains(&l)).map(|j| {
                            unpack(
                                j.as_slice().expect("standard layout"),
                                net.weights[l].nrows(),
                                d,
                            )
                        })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            // the point's activation derivatives, shared by the outputs
            let der: Vec<[ArrayView1<f64>; 4]> = fw
                .der
                .iter()
                .map(|dl| std::array::from_fn(|k| dl[k].row(p)))
                .collect();
            let c = &mut coefs[p];
            for o in 0..outs {
                // Hessian: Σ_l J_lᵀ diag(g σ'') J_l over the upper triangle, in coefficient order
                if self.shapes.contains(&Contraction::Vertex2) {
                    let legs: Vec<PLeg> = vertex
                        .iter()
                        .map(|&l| {
                            let x = panel_leg(l);
                            let c = weights[o][l].as_ref().expect("a vertex layer").row(p);
                            PLeg {
                                x,
                                y: x,
                                c: c.to_slice().expect("standard layout"),
                            }
                        })
                        .collect();
                    upper_sandwich(&legs, d, &mut h);
                    // row a of the upper triangle is the run of pairs (a, a..d)
                    let mut row = c.slice_mut(s![o, 1 + d..1 + d + p2]);
                    let row = row
                        .as_slice_mut()
                        .expect("a row of a standard-layout array");
                    let mut col = 0;
                    for a in 0..d {
                        let run = &h[a * d + a..(a + 1) * d];
                        row[col..col + d - a].copy_from_slice(run);
                        row[col] *= 0.5;
                        col += d - a;
                    }
                }
                if order == 2 {
                    continue;
                }
                let gp: Vec<ArrayView1<f64>> = adjoints[o].iter().map(|gl| gl.row(p)).collect();
                #[cfg(target_arch = "x86_64")]
                if tiles3 {
                    let jp: Vec<Option<&[f64]>> = (0..nl)
                        .map(|l| vertex.contains(&l).then(|| panel_leg(l)))
                        .collect();
                    let mut row = c.slice_mut(s![o, 1 + d + p2..]);
                    let dst = row
                        .as_slice_mut()
                        .expect("a row of a standard-layout array");
                    // SAFETY: tiles3 is set only where AVX-512F was detected (Dense::new)
                    unsafe {
                        third_order_panels(
                            net,
                            &self.weight_panels,
                            &jp,
                            &der,
                            &gp,
                            &vertex,
                            shapes3,
                            d,
                            dst,
                        )
                    };
                    continue;
                }
                let legs: Vec<Option<ArrayView2<f64>>> = (0..nl)
                    .map(|l| match l {
                        0 => vertex.contains(&0).then(|| net.weights[0].view()),
                        _ => plain[l].as_ref().map(|j| j.view()),
                    })
                    .collect();
                third_order(
                    net,
                    &legs,
                    &der,
                    &gp,
                    &vertex,
                    shapes3,
                    d,
                    c.slice_mut(s![o, 1 + d + p2..]),
                );
            }
        }
        jac.into_iter().flatten().for_each(give_buffer);
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
    Ok(Forward { der, nonlinear })
}

/// Width of the column panels: a [k, cols] matrix is stored panel by panel, each panel the
/// k rows of 16 columns (zero-padded), so that the register tiles ([`panel_tiles`]) stream
/// contiguous memory; with rows of the plain layout 512 B or more apart they ran at half the
/// rate (the rows of a tile fall into few cache sets and do not stay in L1).
const PW: usize = 16;

/// Entries of a [k, cols] matrix in column panels.
fn packed_len(k: usize, cols: usize) -> usize {
    cols.div_ceil(PW) * k * PW
}

/// `src` [k, cols] in column panels: entry (r, c) at (c / 16)·16k + 16r + c % 16.
fn pack_new(src: ArrayView2<f64>) -> Vec<f64> {
    let (k, cols) = src.dim();
    let mut dst = vec![0.0; packed_len(k, cols)];
    if k == 0 {
        return dst;
    }
    for (q, panel) in dst.chunks_exact_mut(k * PW).enumerate() {
        for (r, row) in panel.chunks_exact_mut(PW).enumerate() {
            for (j, v) in row.iter_mut().enumerate().take(cols.saturating_sub(q * PW)) {
                *v = src[[r, q * PW + j]];
            }
        }
    }
    dst
}

/// The plain [k, cols] matrix of column panels.
fn unpack(src: &[f64], k: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_fn((k, cols), |(r, c)| src[(c / PW) * k * PW + r * PW + c % PW])
}

/// One term of Σ_k c_k x[k, i] y[k, b]: x and y [k, ·] in column panels, k = c.len().
struct PLeg<'a> {
    x: &'a [f64],
    y: &'a [f64],
    c: &'a [f64],
}

/// One term of Σ_k c_k x[k, a] x[k, b] in the plain layout (rows `stride` apart), for
/// [`upper_gemm`].
struct Leg<'a> {
    x: &'a [f64],
    stride: usize,
    c: &'a [f64],
}

/// h[a·d + b] = Σ_legs Σ_k c_k x[k, a] x[k, b] for a ≤ b (x = y in every leg; entries below
/// the diagonal are partly written too, and meaningless). With AVX-512 a rank-k update of the
/// upper triangle in register tiles ([`panel_tiles`]); elsewhere `matrixmultiply`
/// ([`upper_gemm`]: four small GEMMs per leg, each repacking its operands, at about half the
/// rate on the Hessian row).
fn upper_sandwich(legs: &[PLeg], d: usize, h: &mut [f64]) {
    assert_eq!(h.len(), d * d);
    for leg in legs {
        assert!(leg.x.len() == packed_len(leg.c.len(), d) && leg.y.len() == leg.x.len());
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            for a0 in (0..d).step_by(8) {
                let mut store = |q: usize, tile: &[[f64; PW]; 8]| {
                    for (i, row) in tile.iter().enumerate().take(d - a0) {
                        let b0 = q * PW;
                        let nb = PW.min(d - b0);
                        h[(a0 + i) * d + b0..(a0 + i) * d + b0 + nb].copy_from_slice(&row[..nb]);
                    }
                };
                // SAFETY: the target feature was detected on this CPU; the legs hold d
                // columns in panels (checked above), so rows a0..a0 + 8 and panels below
                // d.div_ceil(16) exist
                unsafe { panel_tiles::<true, true>(legs, a0, a0 / PW..d.div_ceil(PW), &mut store) };
            }
            return;
        }
    }
    let plain: Vec<(Array2<f64>, &[f64])> = legs
        .iter()
        .map(|l| (unpack(l.x, l.c.len(), d), l.c))
        .collect();
    let legs: Vec<Leg> = plain
        .iter()
        .map(|(x, c)| Leg {
            x: x.as_slice().expect("standard layout"),
            stride: d,
            c,
        })
        .collect();
    upper_gemm(&legs, d, h)
}

/// [`upper_sandwich`] by `matrixmultiply` on the plain layout: per leg the scaled copy c ⊙ x,
/// then the upper triangle of xᵀ (c ⊙ x) in row blocks of [`BLOCK`].
fn upper_gemm(legs: &[Leg], d: usize, h: &mut [f64]) {
    let mut out = ndarray::ArrayViewMut2::from_shape((d, d), h).expect("d × d");
    out.fill(0.0);
    for leg in legs {
        let n = leg.c.len();
        if n == 0 {
            continue;
        }
        let x = ArrayView2::from_shape(
            (n, d).strides((leg.stride, 1)),
            &leg.x[..(n - 1) * leg.stride + d],
        )
        .expect("rows within the slice");
        let mut y = x.to_owned();
        for (mut row, &c) in y.rows_mut().into_iter().zip(leg.c) {
            row *= c;
        }
        let mut r0 = 0;
        while r0 < d {
            let r1 = (r0 + BLOCK).min(d);
            let lhs = x.slice(s![.., r0..r1]).reversed_axes();
            let rhs = y.slice(s![.., r0..]);
            let mut dst = out.slice_mut(s![r0..r1, r0..]);
            general_mat_mul(1.0, &lhs, &rhs, 1.0, &mut dst);
            r0 = r1;
        }
    }
}

/// out = xᵀ diag(c) y for x [k, m] and y [k, d] in column panels (k = c.len()), out [m, d] in
/// column panels: J_{l+1} = W_{l+1} diag(σ'_l) J_l with x = W_{l+1}ᵀ. With AVX-512 the register
/// tiles of [`upper_sandwich`] (`matrixmultiply` repacked W_{l+1} and a scaled copy for every
/// point); elsewhere `matrixmultiply` ([`scaled_product_gemm`]) on the plain layout.
fn scaled_product(x: &[f64], m: usize, c: &[f64], y: &[f64], d: usize, out: &mut [f64]) {
    let k = c.len();
    assert!(x.len() == packed_len(k, m) && y.len() == packed_len(k, d));
    assert_eq!(out.len(), packed_len(m, d));
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            let leg = [PLeg { x, y, c }];
            // SAFETY: the target feature was detected on this CPU; x holds m columns and y d
            // columns in panels (checked above)
            unsafe { panel_product::<true>(&leg, m, d, out) };
            return;
        }
    }
    let plain = scaled_product_gemm(&unpack(x, k, m), c, &unpack(y, k, d));
    out.copy_from_slice(&pack_new(plain.view()));
}

/// out = Σ_legs xᵀ diag(c) y (with SCALE; without, Σ xᵀ y) in register tiles: x [k, m] and
/// y [k, d] in column panels per leg, out [m, d] in column panels.
///
/// # Safety
/// The CPU must have AVX-512F; every leg's x holds m columns and its y d columns in panels of
/// c.len() rows.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn panel_product<const SCALE: bool>(legs: &[PLeg], m: usize, d: usize, out: &mut [f64]) {
    for i0 in (0..m).step_by(8) {
        // tile (i0.., panel q) is rows i0..i0 + 8 of out's panel q: contiguous
        let mut store = |q: usize, tile: &[[f64; PW]; 8]| {
            let base = q * m * PW + i0 * PW;
            for (i, row) in tile.iter().enumerate().take(m - i0) {
                out[base + i * PW..base + (i + 1) * PW].copy_from_slice(row);
            }
        };
        // SAFETY: AVX-512F (the caller's contract); rows i0 < m and the panels of d columns
        // exist in every leg
        unsafe { panel_tiles::<SCALE, false>(legs, i0, 0..d.div_ceil(PW), &mut store) };
    }
}

/// xᵀ diag(c) y by `matrixmultiply` ([`scaled_product`] elsewhere than AVX-512).
fn scaled_product_gemm(x: &Array2<f64>, c: &[f64], y: &Array2<f64>) -> Array2<f64> {
    let mut sy = y.clone();
    for (mut row, &c) in sy.rows_mut().into_iter().zip(c) {
        row *= c;
    }
    x.t().dot(&sy)
}

/// For rows i0..i0 + 8 (i0 a multiple of 8) and each panel q of y in `panels`, the tile
/// t[i][j] = Σ_legs Σ_k c_k x[k, i0 + i] y[k, 16q + j], handed to `store(q, &t)`: 8 × 16
/// held in 16 AVX-512 registers over every leg's rows (y's row a vector pair, x's entries
/// broadcast), both read as contiguous panel rows. Without SCALE the c_k are not applied
/// (only their count is read); with TRI the tiles are those of an upper triangle (rows i0.. from
/// the panel holding i0), and the half panel below its diagonal is skipped.
///
/// # Safety
/// The CPU must have AVX-512F; every leg's x must hold the panel of column i0 and its y the
/// panels in `panels`, for its c.len() rows.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn panel_tiles<const SCALE: bool, const TRI: bool>(
    legs: &[PLeg],
    i0: usize,
    panels: std::ops::Range<usize>,
    store: &mut impl FnMut(usize, &[[f64; PW]; 8]),
) {
    use std::arch::x86_64::*;
    const MR: usize = 8;
    let first = panels.start;
    // with SCALE, x's 8 columns i0.. scaled by c once per call into a small buffer (rows 8
    // apart, in L1): scaling y per tile cost two multiplications per row and tile (~10 %), and
    // a scaled copy of y went to L2 and back (~6 % of the Hessian row)
    let scaled = SCALE.then(|| {
        let mut buf = take_buffer(1, legs.iter().map(|l| l.c.len() * MR).sum());
        let dst = buf.as_slice_mut().expect("standard layout");
        let mut off = 0;
        for leg in legs {
            let k = leg.c.len();
            for (r, &cr) in leg.c.iter().enumerate() {
                // SAFETY: row r < k of the panel holding column i0, 8 entries from i0 % 16
                // (within the panel's 16); dst holds 8 entries per row of every leg
                unsafe {
                    let x =
                        _mm512_loadu_pd(leg.x.as_ptr().add((i0 / PW) * k * PW + i0 % PW + r * PW));
                    _mm512_storeu_pd(
                        dst.as_mut_ptr().add(off + r * MR),
                        _mm512_mul_pd(_mm512_set1_pd(cr), x),
                    );
                }
            }
            off += k * MR;
        }
        buf
    });
    for q in panels {
        let mut acc = [_mm512_setzero_pd(); 2 * MR];
        // on the diagonal of an upper triangle (TRI: the Hessian) with rows i0 = 16q + 8..,
        // the panel's first 8 columns lie below it: only the second half is computed
        let half = TRI && q == first && i0 % PW == 8;
        let mut off = 0;
        for leg in legs {
            let k = leg.c.len();
            // x's rows: the scaled buffer (8 apart) or the panel itself (16 apart)
            // SAFETY: the panels exist (the caller's contract); the buffer holds k rows
            let (xp, xstride, yp) = unsafe {
                match &scaled {
                    Some(b) => (b.as_ptr().add(off), MR, leg.y.as_ptr().add(q * k * PW)),
                    None => (
                        leg.x.as_ptr().add((i0 / PW) * k * PW + i0 % PW),
                        PW,
                        leg.y.as_ptr().add(q * k * PW),
                    ),
                }
            };
            off += k * MR;
            for r in 0..k {
                // SAFETY: row r < k of both panels
                unsafe {
                    let xr = xp.add(r * xstride);
                    let yr = yp.add(r * PW);
                    let y1 = _mm512_loadu_pd(yr.add(8));
                    if half {
                        for i in 0..MR {
                            let xi = _mm512_set1_pd(*xr.add(i));
                            acc[2 * i + 1] = _mm512_fmadd_pd(xi, y1, acc[2 * i + 1]);
                        }
                        continue;
                    }
                    let y0 = _mm512_loadu_pd(yr);
                    for i in 0..MR {
                        let xi = _mm512_set1_pd(*xr.add(i));
                        acc[2 * i] = _mm512_fmadd_pd(xi, y0, acc[2 * i]);
                        acc[2 * i + 1] = _mm512_fmadd_pd(xi, y1, acc[2 * i + 1]);
                    }
                }
            }
        }
        let mut tile = [[0.0f64; PW]; MR];
        for (i, row) in tile.iter_mut().enumerate() {
            // SAFETY: row holds 16 entries
            unsafe {
                _mm512_storeu_pd(row.as_mut_ptr(), acc[2 * i]);
                _mm512_storeu_pd(row.as_mut_ptr().add(8), acc[2 * i + 1]);
            }
        }
        store(q, &tile);
    }
    if let Some(b) = scaled {
        give_buffer(b);
    }
}

/// The order-3 shapes present among the network's diagrams.
#[derive(Debug, Clone, Copy)]
struct Shapes3 {
    /// The star (one cubic vertex).
    star: bool,
    /// The exchange (two quadratic vertices on a propagator).
    exchange: bool,
}

impl Shapes3 {
    /// 1 with the star, 0 without (its term u = g σ‴ is dropped).
    fn star_factor(&self) -> f64 {
        if self.star {
            1.0
        } else {
            0.0
        }
    }
}

/// The degree-3 block of one output (sorted triples in lexicographic order), as c = T/α!.
#[allow(clippy::too_many_arguments)]
fn third_order(
    net: &Network,
    jac: &[Option<ArrayView2<f64>>],
    der: &[[ArrayView1<f64>; 4]],
    g: &[ArrayView1<f64>],
    vertex_layers: &[usize],
    shapes: Shapes3,
    d: usize,
    mut dst: ndarray::ArrayViewMut1<f64>,
) {
    let nl = net.weights.len();
    // K_m = W_{m+1}ᵀ [diag(g σ'')_{m+1} J_{m+1} + diag(σ'_{m+1}) K_{m+1}], K_L = 0.
    let mut kmat: Vec<Option<Array2<f64>>> = vec![None; nl];
    for l in (1..nl).rev().filter(|_| shapes.exchange) {
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
        let u = shapes.star_factor() * (&g[m] * &der[m][3]);
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

/// The CPU has AVX-512F (the register tiles' instruction set).
fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The degree-3 block of one output at one point in register tiles (AVX-512), as c = T/α!.
///
/// The sum of [`third_order`] taken one middle index b at a time: for a ≤ b ≤ c,
/// T_abc = Σ_m Σ_k x_b[k, a] J_m[k, c] + x'_b[k, a] K_m[k, c] with the rows scaled by column b,
/// x_b = J_m[·, b] ⊙ (u J_m + v K_m) + K_m[·, b] ⊙ v J_m and x'_b = J_m[·, b] ⊙ v J_m
/// (u = g σ‴, v = σ″). So no table of sorted pairs is built (6 MB at d = 64, filled by strided
/// gathers): per b the tiles read the legs straight from the Jacobians' column panels, rows
/// a ≤ b, panels from the one holding column b.
///
/// # Safety
/// The CPU must have AVX-512F; `jac[m]` holds J_m in column panels ([`pack_new`], n_m × d) for
/// every vertex layer m, `weight_panels[l]` holds W_l (l ≥ 1) in column panels.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn third_order_panels(
    net: &Network,
    weight_panels: &[Vec<f64>],
    jac: &[Option<&[f64]>],
    der: &[[ArrayView1<f64>; 4]],
    g: &[ArrayView1<f64>],
    vertex_layers: &[usize],
    shapes: Shapes3,
    d: usize,
    dst: &mut [f64],
) {
    let nl = net.weights.len();
    let width = |l: usize| net.weights[l].nrows();
    let to_vec = |v: ArrayView1<f64>| v.iter().copied().collect::<Vec<f64>>();
    // K_{l-1} = W_lᵀ [diag(g σ'')_l J_l + diag(σ'_l) K_l], K_L = 0, in column panels
    let mut kmat: Vec<Option<Vec<f64>>> = vec![None; nl];
    for l in (1..nl).rev().filter(|_| shapes.exchange) {
        let w = to_vec((&g[l] * &der[l][2]).view());
        let s1 = to_vec(der[l][1]);
        let mut legs = Vec::new();
        if vertex_layers.contains(&l) {
            let y = jac[l].expect("a vertex layer");
            legs.push(PLeg {
                x: &weight_panels[l],
                y,
                c: &w,
            });
        }
        if let Some(k) = &kmat[l] {
            legs.push(PLeg {
                x: &weight_panels[l],
                y: k,
                c: &s1,
            });
        }
        if legs.is_empty() {
            continue;
        }
        let m = width(l - 1);
        let mut out = vec![0.0; packed_len(m, d)];
        // SAFETY: AVX-512F (the caller's contract); x = W_l holds n_{l-1} columns, the y's d
        // columns, all in panels of n_l rows
        unsafe { panel_product::<true>(&legs, m, d, &mut out) };
        kmat[l - 1] = Some(out);
    }
    // per vertex layer: J, K, u J + v K (la) and v J (lb), all [n, d] in panels, and the
    // legs' row-scaled copies x1 (of la and lb) and x2 (of lb)
    struct Layer<'a> {
        n: usize,
        j: &'a [f64],
        k: Option<&'a [f64]>,
        la: Vec<f64>,
        lb: Vec<f64>,
        x1: Vec<f64>,
        x2: Vec<f64>,
        ones: Vec<f64>,
    }
    let mut layers: Vec<Layer> = Vec::new();
    for &m in vertex_layers {
        let n = width(m);
        let j = jac[m].expect("a vertex layer");
        let k = kmat[m].as_deref();
        let (u, v) = (shapes.star_factor() * (&g[m] * &der[m][3]), der[m][2]);
        let len = packed_len(n, d);
        let mut la = vec![0.0; len];
        let mut lb = vec![0.0; if k.is_some() { len } else { 0 }];
        for (q, panel) in la.chunks_exact_mut(n * PW).enumerate() {
            for (r, row) in panel.chunks_exact_mut(PW).enumerate() {
                let at = q * n * PW + r * PW;
                let jr = &j[at..at + PW];
                match k {
                    Some(k) => {
                        let kr = &k[at..at + PW];
                        for t in 0..PW {
                            row[t] = u[r] * jr[t] + v[r] * kr[t];
                            lb[at + t] = v[r] * jr[t];
                        }
                    }
                    None => (0..PW).for_each(|t| row[t] = u[r] * jr[t]),
                }
            }
        }
        layers.push(Layer {
            n,
            j,
            k,
            la,
            lb,
            x1: vec![0.0; len],
            x2: vec![0.0; if k.is_some() { len } else { 0 }],
            ones: vec![1.0; n],
        });
    }
    if layers.is_empty() {
        return;
    }
    // first entry of each a among the sorted triples
    let mut start = Vec::with_capacity(d);
    let mut acc = 0;
    for a in 0..d {
        start.push(acc);
        acc += (d - a) * (d - a + 1) / 2;
    }
    debug_assert_eq!(acc, dst.len());
    for b in 0..d {
        let (qb, tb) = (b / PW, b % PW);
        for ly in layers.iter_mut() {
            let Layer {
                n,
                j,
                k,
                la,
                lb,
                x1,
                x2,
                ..
            } = ly;
            let n = *n;
            // rows of panels 0..=qb (the columns a ≤ b), scaled by column b of J and K; rows
            // as fixed-size arrays, so that each is one vector operation
            let rows = (qb + 1) * n;
            let col = |m: &[f64], r: usize| m[qb * n * PW + r * PW + tb];
            let x1r = x1[..rows * PW].chunks_exact_mut(PW);
            match k {
                Some(k) => {
                    let x2r = x2[..rows * PW].chunks_exact_mut(PW);
                    let lar = la[..rows * PW].chunks_exact(PW);
                    let lbr = lb[..rows * PW].chunks_exact(PW);
                    for (i, (((x1, x2), la), lb)) in x1r.zip(x2r).zip(lar).zip(lbr).enumerate() {
                        let (jb, kb) = (col(j, i % n), col(k, i % n));
                        for t in 0..PW {
                            x1[t] = jb * la[t] + kb * lb[t];
                            x2[t] = jb * lb[t];
                        }
                    }
                }
                None => {
                    for (i, (x1, la)) in x1r.zip(la[..rows * PW].chunks_exact(PW)).enumerate() {
                        let jb = col(j, i % n);
                        for t in 0..PW {
                            x1[t] = jb * la[t];
                        }
                    }
                }
            }
        }
        let mut legs = Vec::with_capacity(2 * layers.len());
        for ly in &layers {
            legs.push(PLeg {
                x: &ly.x1,
                y: ly.j,
                c: &ly.ones,
            });
            if let Some(k) = ly.k {
                legs.push(PLeg {
                    x: &ly.x2,
                    y: k,
                    c: &ly.ones,
                });
            }
        }
        // panel by panel of y, every row tile against it: the panel's rows (over the legs) stay
        // in cache while the row tiles' x stream by
        for (q, i0) in (qb..d.div_ceil(PW)).flat_map(|q| (0..=b).step_by(8).map(move |i0| (q, i0)))
        {
            let mut store = |q: usize, tile: &[[f64; PW]; 8]| {
                let (c0, c1) = ((q * PW).max(b), (q * PW + PW).min(d));
                for (i, row) in tile.iter().enumerate().take(b + 1 - i0) {
                    let a = i0 + i;
                    // (a, b, c) sits at start[a] + pair_start(d − a, b − a) + c − b
                    let base = start[a] + pair_start(d - a, b - a) - b;
                    dst[base + c0..base + c1].copy_from_slice(&row[c0 - q * PW..c1 - q * PW]);
                }
            };
            // SAFETY: AVX-512F (the caller's contract); the x's hold panels 0..=b/16 (rows
            // i0 ≤ b), the y's (J_m, K_m) d columns in panels
            unsafe { panel_tiles::<false, false>(&legs, i0, q..q + 1, &mut store) };
        }
        // c_α = T/α!: (a, b, b) with a < b and (b, b, c) with c > b halve, (b, b, b) a sixth
        for a in 0..b {
            dst[start[a] + pair_start(d - a, b - a)] *= 0.5;
        }
        let base = start[b];
        dst[base] /= 6.0;
        for v in &mut dst[base + 1..base + d - b] {
            *v *= 0.5;
        }
    }
}

/// Row of the first sorted pair (b, ·): Σ_{b' < b} (d − b').
fn pair_start(d: usize, b: usize) -> usize {
    b * d - b * b.saturating_sub(1) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        }
    }

    /// Column panels round-trip, zero-padded.
    #[test]
    fn panels_round_trip() {
        let mut next = lcg(5);
        for (k, cols) in [(1, 1), (3, 16), (7, 17), (5, 40)] {
            let a = Array2::from_shape_fn((k, cols), |_| next());
            let p = pack_new(a.view());
            assert_eq!(p.len(), packed_len(k, cols));
            assert_eq!(unpack(&p, k, cols), a);
            let padded: f64 = (0..p.len())
                .filter(|i| (i / (k * PW)) * PW + i % PW >= cols)
                .map(|i| p[i].abs())
                .sum();
            assert_eq!(padded, 0.0);
        }
    }

    /// The upper-triangle kernel (AVX-512 where the CPU has it) and the GEMM route agree with
    /// the plain sum Σ_legs Σ_k c_k x[k, a] x[k, b] for a ≤ b, at widths with and without
    /// edge tiles (the GEMM route also with rows wider apart than d).
    #[test]
    fn upper_sandwich_matches_the_plain_sum() {
        let mut next = lcg(0x9e3779b97f4a7c15);
        for d in [1, 3, 8, 15, 16, 17, 24, 31, 40, 64, 67] {
            let shapes = [(7, d), (33, d + 5), (20, 3 * d)]; // (rows, stride)
            let data: Vec<(Vec<f64>, Vec<f64>, usize)> = shapes
                .iter()
                .map(|&(n, stride)| {
                    let x = (0..(n - 1) * stride + d).map(|_| next()).collect();
                    let c = (0..n).map(|_| next()).collect();
                    (x, c, stride)
                })
                .collect();
            let legs: Vec<Leg> = data
                .iter()
                .map(|(x, c, stride)| Leg {
                    x,
                    stride: *stride,
                    c,
                })
                .collect();
            let mut want = vec![0.0; d * d];
            for leg in &legs {
                for (k, &c) in leg.c.iter().enumerate() {
                    for a in 0..d {
                        for b in a..d {
                            want[a * d + b] +=
                                c * leg.x[k * leg.stride + a] * leg.x[k * leg.stride + b];
                        }
                    }
                }
            }
            let packed: Vec<Vec<f64>> = legs
                .iter()
                .map(|l| {
                    let n = l.c.len();
                    let plain = ArrayView2::from_shape(
                        (n, d).strides((l.stride, 1)),
                        &l.x[..(n - 1) * l.stride + d],
                    )
                    .unwrap();
                    pack_new(plain)
                })
                .collect();
            let plegs: Vec<PLeg> = packed
                .iter()
                .zip(&legs)
                .map(|(x, l)| PLeg { x, y: x, c: l.c })
                .collect();
            let mut fast = vec![f64::NAN; d * d];
            upper_sandwich(&plegs, d, &mut fast);
            let mut gemm = vec![f64::NAN; d * d];
            upper_gemm(&legs, d, &mut gemm);
            let scale = want.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
            for a in 0..d {
                for b in a..d {
                    let w = want[a * d + b];
                    for (got, route) in [(fast[a * d + b], "kernel"), (gemm[a * d + b], "gemm")] {
                        assert!(
                            (got - w).abs() <= 1e-13 * scale,
                            "d = {d}, ({a}, {b}), {route}: {got} vs {w}"
                        );
                    }
                }
            }
        }
    }

    /// xᵀ diag(c) y in column panels: the register tiles (AVX-512 where the CPU has it) and the
    /// `matrixmultiply` route against the plain sum, with edge tiles in both dimensions.
    #[test]
    fn scaled_product_matches_the_plain_sum() {
        let mut next = lcg(0x243f6a8885a308d3);
        for (k, m, d) in [
            (1, 1, 1),
            (5, 8, 16),
            (7, 13, 17),
            (33, 24, 40),
            (20, 128, 64),
        ] {
            let x = Array2::from_shape_fn((k, m), |_| next());
            let y = Array2::from_shape_fn((k, d), |_| next());
            let c: Vec<f64> = (0..k).map(|_| next()).collect();
            let want = Array2::from_shape_fn((m, d), |(i, b)| {
                (0..k).map(|r| c[r] * x[[r, i]] * y[[r, b]]).sum::<f64>()
            });
            let mut out = vec![f64::NAN; packed_len(m, d)];
            scaled_product(&pack_new(x.view()), m, &c, &pack_new(y.view()), d, &mut out);
            let fast = unpack(&out, m, d);
            let gemm = scaled_product_gemm(&x, &c, &y);
            let scale = want.iter().fold(1e-300f64, |s, v| s.max(v.abs()));
            for got in [&fast, &gemm] {
                for ((i, b), g) in got.indexed_iter() {
                    let w = want[[i, b]];
                    assert!(
                        (g - w).abs() <= 1e-13 * scale,
                        "({k}, {m}, {d}) [{i}, {b}]: {g} vs {w}"
                    );
                }
            }
            // the padding of the packed output stays zero
            let pad: f64 = (0..out.len())
                .filter(|i| (i / (m * PW)) * PW + i % PW >= d)
                .map(|i| out[i].abs())
                .sum();
            assert_eq!(pad, 0.0);
        }
    }
}
