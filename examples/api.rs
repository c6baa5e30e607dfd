//! Using feynn as a library: the numbers (Taylor coefficients), the diagrams and the contractions
//! the diagram plan reads off them, closed forms, the action of an invertible network, and a
//! hand-derived formula checked against the model.
//!
//! `cargo run --example api`

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

    // Diagrams of order 3: counts and the topologies with symmetry factors and index forms,
    // rendered by `export`.
    let listing = feynn::diagrams::listing::list(
        3,
        model.hidden_layers(),
        model.output_activation().is_some(),
        false,
        1000,
    )?;
    assert_eq!(
        listing.diagrams.len().to_string(),
        listing.counts.unlabelled.to_string()
    );
    print!("{}", feynn::export::diagrams::listing_text(&listing));

    // The diagram plan evaluates one matrix contraction per diagram shape of this list (line,
    // quadratic vertex, cubic star, exchange); order 4 has shapes without one, so there the
    // plan is unavailable and `auto` takes the jets or the series engine.
    use feynn::numeric::contractions::contractions;
    let shapes = contractions(
        3,
        model.hidden_layers(),
        model.output_activation().is_some(),
    );
    println!("order-3 contractions of the diagram plan: {shapes:?}");
    assert!(contractions(4, model.hidden_layers(), false).is_none());

    // Closed forms: the expanded Taylor coefficients of a σ → tanh network with two inputs.
    #[cfg(feature = "symbolic")]
    {
        use feynn::symbolic::{closed_forms, Options as SymOptions};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let two = load_model(&root.join("examples/symbolic/two_layer.fnn"), None)?;
        let forms = closed_forms(&two, 1, None, &SymOptions::default())?;
        for c in &forms.outputs[0].coefficients {
            println!(
                "closed form c{:?} = {} ({} terms)",
                c.index, c.expr, c.terms
            );
        }
    }

    // The action S = −ln p of an invertible network to order 4 at the origin.
    let flow = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/inn/flow.fnn");
    let (spec, store) = feynn::model::inn::load_with_weights(&flow, None, None)?;
    let req = feynn::numeric::action_series::ActionRequest {
        order: 4,
        at: None,
        convention: feynn::numeric::action_series::Convention::Minus,
        tensor: feynn::numeric::action_series::TensorConvention::A,
        exact: false,
        logdet: true,
        data: None,
        memory_limit: feynn::numeric::DEFAULT_MEMORY_LIMIT,
    };
    let act = feynn::numeric::action_series::action_series(&spec, store.as_ref(), &req)?;
    print!("{}", feynn::export::action::action_text(&act, 3));

    // A hand-derived formula for the gradient of a one-hidden-layer network, checked at random
    // parameter draws and several widths (and proved symbolically when Symbolica is built in).
    let general = load_model(&spec_path(), Some("general"))?;
    let claim = feynn::check::parse_claim(
        "claim", "dy/dx1 = sum(k, W3[1,k]*dsigma(b2[k] + sum(j, W2[k,j]*sigma(b1[j])))*sum(j, W2[k,j]*dsigma(b1[j])*W1[j,1]))",
    )?;
    let report = feynn::check::check(&general, &claim, &feynn::check::Options::default())?;
    print!("{}", report.text());
    Ok(())
}

fn spec_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/specs/features.fnn")
}
