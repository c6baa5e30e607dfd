//! Learning an interacting theory with the library (book chapter "Learning interacting theories"):
//! sample a φ³+φ⁴ ring by HMC, train a cubic INN by maximum likelihood, read its action at the data
//! mean, and compare couplings and cumulants with the truth.
//!
//! ```text
//! cargo run --release --features train --example learn_theory
//! ```

#[cfg(feature = "train")]
fn main() -> feynn::Result<()> {
    use feynn_studies::physics::mcmc::HmcConfig;
    use feynn_studies::theory::fit::LayerKind;
    use feynn_studies::theory::study::{checks, learn, table, LearnConfig};

    // the unimodal preset on a ring of 4 sites: m² = 1, κ = 0.5, g = 0.8, λ = 1.2
    let theory = feynn_studies::theory::preset("unimodal", vec![4])?;
    let (x, diag) = feynn_studies::theory::sample(
        &theory,
        &HmcConfig {
            samples: 8000,
            seed: 7,
            ..HmcConfig::default()
        },
    )?;
    println!(
        "HMC: acceptance {:.2}, thinning {}, ESS {:.0} of {} samples",
        diag.acceptance,
        diag.thin,
        diag.ess,
        x.nrows()
    );
    let cfg = LearnConfig {
        depth: 2,
        kind: LayerKind::Cubic,
        train: feynn_studies::train::Config {
            epochs: 150,
            batch: 256,
            lr: 1e-2,
            lr_end: 1e-4,
            weight_decay: 1e-4,
            val_fraction: 0.1,
            patience: 150,
            seed: 7,
            progress: false,
            schedule: feynn_studies::train::Schedule::Cosine,
            l2: 0.0,
        },
        model_samples: 20_000,
        branch_penalty: 10.0,
    };
    let (result, _network, _tensors) = learn(&x, Some(&theory), &cfg)?;
    print!("{}", table(&result, &checks(&result, true)));
    Ok(())
}

#[cfg(not(feature = "train"))]
fn main() {
    eprintln!("this example trains a network: run it with `--features train`");
}
