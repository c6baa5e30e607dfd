//! Redraw the Born-study figures from networks saved by `feynn born iterate --save DIR`:
//!
//! ```text
//! cargo run --no-default-features --example born_figures -- DIR OUT_DIR
//! ```
//!
//! Loads DIR/born.fnn with DIR/born-1.safetensors and DIR/born-2.safetensors as ordinary feynn
//! models, expands both at U = 0 with the Taylor engine, and writes OUT_DIR/born-gradient.svg
//! (learned vs exact g_n) and OUT_DIR/born-hessian.svg (H₁, H₂, −2K), printing the errors.

use std::path::PathBuf;

use feynn::model::weights::TensorStore;
use feynn::model::{load_model, Network};
use feynn::numeric::{Expander, Options};
use feynn_studies::born::rel_err;
use feynn_studies::physics::born;
use ndarray::Array2;

fn main() -> feynn::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (dir, out) = match args.as_slice() {
        [_, d, o] => (PathBuf::from(d), PathBuf::from(o)),
        _ => {
            eprintln!("usage: born_figures DIR OUT_DIR");
            std::process::exit(2);
        }
    };
    let model = load_model(&dir.join("born.fnn"), None)?;
    let mut grads = vec![];
    let mut hess = vec![];
    for k in 1..=2 {
        let net = Network::from_store(
            &model,
            &TensorStore::load(&dir.join(format!("born-{k}.safetensors")))?,
        )?;
        let ex = Expander::new(
            &net,
            &Options {
                order: 2,
                ..Options::default()
            },
        )?;
        let n = net.inputs();
        let e = ex.expand(&vec![0.0; n])?;
        let g: Vec<f64> = (0..n)
            .map(|i| e.get(&ex.basis, 0, &[i as u32]).unwrap())
            .collect();
        let h = Array2::from_shape_fn((n, n), |(i, j)| {
            let c = e.get(&ex.basis, 0, &[i as u32, j as u32]).unwrap();
            if i == j {
                2.0 * c
            } else {
                c
            }
        });
        grads.push(g);
        hess.push(h);
    }
    let n = grads[0].len();
    let g = born::first_order(n, 1.0);
    let h = born::hessian(n, 1.0);
    println!("gradient error (network 1): {:.4}", rel_err(&grads[0], &g));
    for (k, m) in hess.iter().enumerate() {
        println!(
            "Hessian error (network {}): {:.4}",
            k + 1,
            rel_err(m.as_slice().unwrap(), h.as_slice().unwrap())
        );
    }
    feynn_studies::plot::gradient_plot(
        &out.join("born-gradient.svg"),
        &g,
        &[("network 1", &grads[0])],
    )?;
    feynn_studies::plot::heatmaps(
        &out.join("born-hessian.svg"),
        &[
            ("H1 (network 1)", &hess[0]),
            ("H2 (network 2)", &hess[1]),
            ("exact −2K", &h),
        ],
    )?;
    Ok(())
}
