use std::path::PathBuf;
use std::process::ExitCode;

use feynn::export::latex;
use feynn::export::TaylorJson;
use feynn::model::weights::TensorStore;
use feynn::model::Network;
use feynn::numeric::{Expander, Options};
use feynn::Result;

use super::OutArg;

#[derive(clap::Args)]
pub struct Args {
    /// The model spec (.fnn).
    spec: PathBuf,
    #[arg(long)]
    model: Option<String>,
    /// Weights for the table of numeric coefficients (default: the spec's `weights` line;
    /// without weights the document has no numbers).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Leave the numbers out even if the spec names weights.
    #[arg(long)]
    no_numbers: bool,
    /// Highest order of the diagrams and Taylor terms.
    #[arg(long, default_value_t = 3)]
    order: usize,
    /// Expansion point for the numbers (comma-separated; default the origin).
    #[arg(long, allow_hyphen_values = true)]
    at: Option<String>,
    /// Only the sections, for pasting into a paper (no preamble, no \begin{document}).
    #[arg(long)]
    fragment: bool,
    /// Rows per order in the tables of numbers.
    #[arg(long, default_value_t = 20)]
    max_rows: usize,
    #[command(flatten)]
    out: OutArg,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let model = feynn::model::load_model(&a.spec, a.model.as_deref())?;
    let weights = if a.no_numbers {
        None
    } else {
        a.weights.clone().or_else(|| model.weights_file.clone())
    };
    let numbers = match weights {
        Some(w) => {
            let net = Network::from_store(&model, &TensorStore::load(&w)?)?;
            let ex = Expander::new(
                &net,
                &Options {
                    order: a.order,
                    ..Default::default()
                },
            )?;
            let x0 = super::taylor::parse_point(a.at.as_deref(), net.inputs())?;
            Some(TaylorJson::from_expansion(
                &model.name,
                &ex.expand(&x0)?,
                ex.monomials(),
            ))
        }
        None => None,
    };
    let text = if a.fragment {
        latex::body(&model, a.order, numbers.as_ref(), a.max_rows)?
    } else {
        latex::document(&model, a.order, numbers.as_ref(), a.max_rows)?
    };
    a.out.write(&text)?;
    Ok(ExitCode::SUCCESS)
}
