//! Using feynn as a library: parse a spec, bind weights, expand, count and list diagrams.
//!
//! `cargo run --example api`

use feynn::diagrams::{labelled_counts, unlabelled};
use feynn::export::diagrams::index_term;
use feynn::model::weights::TensorStore;
use feynn::model::{load_model, Network};
use feynn::numeric::{Expander, Options};

fn main() -> feynn::Result<()> {
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/specs/features.fnn");
    let model = load_model(&spec, Some("small"))?;
    let store = TensorStore::load(
        model
            .weights_file
            .as_ref()
            .expect("the spec names its weights"),
    )?;
    let net = Network::from_store(&model, &store)?;

    // All Taylor coefficients to order 3 at x0 = (0.1, -0.2).
    let ex = Expander::new(
        &net,
        &Options {
            order: 3,
            ..Default::default()
        },
    )?;
    let e = ex.expand(&[0.1, -0.2])?;
    for (m, c) in ex.monomials().iter().zip(e.coefficients.row(0)) {
        println!("c{m:?} = {c:+.10}");
    }
    // The check any user can do: the constant term is the network's value.
    let y = net.forward(&[0.1, -0.2])?;
    assert!((y[0] - e.coefficients[[0, 0]]).abs() < 1e-14);

    // Diagrams of order 3 with two hidden layers.
    let h = model.hidden_layers();
    println!(
        "order 3: {} labelled diagrams",
        labelled_counts(3, h, false)[3]
    );
    for t in unlabelled(3, h, false) {
        println!(
            "  {:<24} {}",
            t.tree.text(),
            index_term(&t, model.layers.len(), "o").text()
        );
    }
    Ok(())
}
