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
//! Only sorted multi-indices are produced, in the [`Basis`](super::Basis) order, as
//! c_α = ∂^α y / α!. Every product runs on `ndarray`'s GEMM (the `matrixmultiply` crate; see
//! book/src/performance.md for the measurement against `gemm`/faer).

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array1, Array2, ArrayView2, Axis};

use crate::error::{Error, Result};
use crate::model::Network;

/// Rows (first indices a) per block of the symmetric accumulations.
const BLOCK: usize = 16;

/// Values at the point of one layer: the activation derivatives σ^(k)(z), k = 0..=3
/// (σ' = 1, σ'' = σ''' = 0 for a linear layer).
struct Layer {
    /// `der[k][j]` = σ^(k)(z_j).
    der: [Array1<f64>; 4],
    /// The layer has an activation.
    nonlinear: bool,
}

/// Forward quantities shared by all outputs: per layer the derivative vectors and the
/// Jacobians J_l = ∂z^(l)/∂x, shape [n_l, d].
struct Forward {
    layers: Vec<Layer>,
    jac: Vec<Array2<f64>>,
}

fn forward(net: &Network, x0: &[f64], order: usize) -> Result<Forward> {
    let nl = net.weights.len();
    let mut layers = Vec::with_capacity(nl);
    let mut jac: Vec<Array2<f64>> = Vec::with_capacity(nl);
    let mut a = Array1::from_vec(x0.to_vec());
    let kmax = order.clamp(1, 3);
    for l in 0..nl {
        let w = &net.weights[l];
        let z = w.dot(&a) + &net.biases[l];
        let n = z.len();
        let mut der: [Array1<f64>; 4] = std::array::from_fn(|_| Array1::zeros(n));
        let nonlinear = net.activations[l].is_some();
        match &net.activations[l] {
            Some(act) => {
                let mut c = [0.0; 4];
                for (j, &zj) in z.iter().enumerate() {
                    super::vertices::derivatives_into(act, zj, &mut c[..=kmax])?;
                    for (k, ck) in c[..=kmax].iter().enumerate() {
                        if !ck.is_finite() {
                            return Err(Error::invalid(
                                format!("a non-finite activation derivative appeared in layer {} (pre-activation {zj})", l + 1),
                                "the activation or its derivatives overflow at this point",
                            ));
                        }
                        der[k][j] = *ck;
                    }
                }
            }
            None => {
                der[0].assign(&z);
                der[1].fill(1.0);
            }
        }
        if order >= 1 {
            // J_1 = W_1; J_{l+1} = W_{l+1} diag(σ'_l) J_l
            let j = if l == 0 {
                w.clone()
            } else {
                let prev: &Layer = &layers[l - 1];
                let scaled = &jac[l - 1] * &prev.der[1].view().insert_axis(Axis(1));
                w.dot(&scaled)
            };
            jac.push(j);
        }
        a = der[0].clone();
        layers.push(Layer { der, nonlinear });
    }
    Ok(Forward { layers, jac })
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

/// The Taylor coefficients of all outputs to order ≤ 3 at `x0`, in basis order (graded,
/// lexicographic within a degree), as `[outputs, C(d+order, order)]`.
pub fn expand(net: &Network, x0: &[f64], order: usize) -> Result<Array2<f64>> {
    assert!(order <= 3, "the dense plan covers orders 0..=3");
    let d = net.inputs();
    let outs = net.outputs();
    let nl = net.weights.len();
    let fw = forward(net, x0, order)?;
    let p2 = d * (d + 1) / 2;
    let m = 1
        + if order >= 1 { d } else { 0 }
        + if order >= 2 { p2 } else { 0 }
        + if order >= 3 {
            d * (d + 1) * (d + 2) / 6
        } else {
            0
        };
    let mut coef = Array2::<f64>::zeros((outs, m));
    let out_act = net.activations[nl - 1].is_some();
    for o in 0..outs {
        coef[[o, 0]] = fw.layers[nl - 1].der[0][o];
        if order == 0 {
            continue;
        }
        // g_l = ∂y_o/∂a^(l) for l = 1..L (index l-1); g_L = e_o.
        let mut g: Vec<Array1<f64>> = vec![Array1::zeros(0); nl];
        let mut top = Array1::<f64>::zeros(outs);
        top[o] = 1.0;
        g[nl - 1] = top;
        for l in (0..nl - 1).rev() {
            let gz = &g[l + 1] * &fw.layers[l + 1].der[1];
            g[l] = net.weights[l + 1].t().dot(&gz);
        }
        // gradient: J_Lᵀ (g_L ⊙ σ'_L)
        let gz_top = &g[nl - 1] * &fw.layers[nl - 1].der[1];
        let grad = fw.jac[nl - 1].t().dot(&gz_top);
        coef.slice_mut(s![o, 1..1 + d]).assign(&grad);
        if order == 1 {
            continue;
        }
        // the layers that carry vertices: hidden layers with an activation, and the output
        // layer when it has one
        let vertex_layers: Vec<usize> = (0..nl)
            .filter(|&l| fw.layers[l].nonlinear && (l < nl - 1 || out_act))
            .collect();
        // Hessian: Σ_l J_lᵀ diag(g σ'') J_l over the upper triangle
        // (one GEMM over the stacked layers: the neurons of all vertex layers are its inner
        // dimension)
        let inner: usize = vertex_layers.iter().map(|&l| fw.jac[l].nrows()).sum();
        let mut x = Array2::<f64>::zeros((inner, d));
        let mut y = Array2::<f64>::zeros((inner, d));
        let mut k0 = 0;
        for &l in &vertex_layers {
            let n = fw.jac[l].nrows();
            let w = &g[l] * &fw.layers[l].der[2];
            x.slice_mut(s![k0..k0 + n, ..]).assign(&fw.jac[l]);
            y.slice_mut(s![k0..k0 + n, ..])
                .assign(&(&fw.jac[l] * &w.view().insert_axis(Axis(1))));
            k0 += n;
        }
        let mut h = Array2::<f64>::zeros((d, d));
        upper_at_b(x.view(), y.view(), &mut h);
        let mut col = 1 + d;
        for a in 0..d {
            for b in a..d {
                coef[[o, col]] = if a == b { 0.5 * h[[a, a]] } else { h[[a, b]] };
                col += 1;
            }
        }
        if order == 2 {
            continue;
        }
        third_order(
            net,
            &fw,
            &g,
            &vertex_layers,
            d,
            coef.slice_mut(s![o, col..]),
        );
    }
    Ok(coef)
}

/// The degree-3 block of one output (sorted triples in lexicographic order), as c = T/α!.
fn third_order(
    net: &Network,
    fw: &Forward,
    g: &[Array1<f64>],
    vertex_layers: &[usize],
    d: usize,
    mut dst: ndarray::ArrayViewMut1<f64>,
) {
    let nl = net.weights.len();
    // K_m = W_{m+1}ᵀ [diag(g σ'')_{m+1} J_{m+1} + diag(σ'_{m+1}) K_{m+1}], K_L = 0.
    let mut kmat: Vec<Option<Array2<f64>>> = vec![None; nl];
    for l in (1..nl).rev() {
        let lay = &fw.layers[l];
        let mut bracket: Option<Array2<f64>> = None;
        if vertex_layers.contains(&l) {
            let w = &g[l] * &lay.der[2];
            bracket = Some(&fw.jac[l] * &w.view().insert_axis(Axis(1)));
        }
        if let Some(k) = &kmat[l] {
            let sk = k * &lay.der[1].view().insert_axis(Axis(1));
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
        let n = fw.layers[m].der[0].len();
        inner += n * if kmat[m].is_some() { 2 } else { 1 };
    }
    if inner == 0 {
        return;
    }
    let mut left = Array2::<f64>::zeros((inner, d)); // [k, a]
    let mut right = Array2::<f64>::zeros((p2, inner)); // [pair (b,c), k]
    let mut k0 = 0;
    for &m in vertex_layers {
        let lay = &fw.layers[m];
        let n = lay.der[0].len();
        let jt = fw.jac[m].t(); // [d, n]
        let u = &g[m] * &lay.der[3];
        let v = &lay.der[2];
        {
            let mut l = left.slice_mut(s![k0..k0 + n, ..]);
            l.assign(&(&fw.jac[m] * &u.view().insert_axis(Axis(1))));
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
                .assign(&(&fw.jac[m] * &v.view().insert_axis(Axis(1))));
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
