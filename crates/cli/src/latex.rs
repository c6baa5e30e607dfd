use std::process::ExitCode;

use feynn::export::latex;
use feynn::export::TaylorSeries;
use feynn::model::weights::TensorStore;
use feynn::model::Network;
use feynn::numeric::{Expander, Options};
use feynn::Result;

use super::OutArg;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub m: crate::ModelArgs,
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
    /// Add every coefficient's expanded closed form in the weights and biases (Symbolica; needs
    /// concrete widths or weights; use -o, since Symbolica's banner goes to stdout).
    #[arg(long)]
    expanded: bool,
    /// Rows per order in the tables of numbers.
    #[arg(long, default_value_t = 20)]
    max_rows: usize,
    #[command(flatten)]
    out: OutArg,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let model = feynn::model::load_model(&a.m.spec, a.m.model.as_deref())?;
    let weights = if a.no_numbers {
        None
    } else {
        a.m.weights.clone().or_else(|| model.weights_file.clone())
    };
    let numbers = match &weights {
        Some(w) => {
            let net = Network::from_store(&model, &TensorStore::load(w)?)?;
            let ex = Expander::new(
                &net,
                &Options {
                    order: a.order,
                    ..Default::default()
                },
            )?;
            let x0 = feynn::points::parse_point(a.at.as_deref(), net.inputs())?;
            Some(TaylorSeries::from_expansion(
                &model.name,
                &ex.expand(&x0)?,
                ex.monomials(),
            ))
        }
        None => None,
    };
    let expanded = if a.expanded {
        Some(expanded(&model, &a, weights.as_deref())?)
    } else {
        None
    };
    let contents = latex::Contents {
        numbers: numbers.as_ref(),
        expanded: expanded.as_ref(),
        max_rows: a.max_rows,
    };
    let text = if a.fragment {
        latex::body(&model, a.order, &contents)?
    } else {
        latex::document(&model, a.order, &contents)?
    };
    a.out.write(&text)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "symbolic")]
fn expanded(
    model: &feynn::model::Model,
    a: &Args,
    weights: Option<&std::path::Path>,
) -> Result<latex::ExpandedTex> {
    use feynn::symbolic::{closed_forms_for, net_spec, Options as SymOptions, Style};
    let widths = match model.fixed_widths() {
        Some(w) => w,
        None => match weights {
            Some(w) => Network::from_store(model, &TensorStore::load(w)?)?.widths(),
            None => {
                return Err(feynn::Error::invalid(
                    "expanded closed forms need a number for every width",
                    "give the widths in the spec, or weights",
                ))
            }
        },
    };
    let x0 = feynn::points::parse_point(a.at.as_deref(), widths[0])?;
    let spec = net_spec(model, Some(&widths), Some(&x0))?;
    let forms = closed_forms_for(
        model,
        &spec,
        a.order,
        Some(&x0),
        &SymOptions {
            style: Style::Latex,
            // a document, not a data file: a few pages of formulas at most
            max_terms: 20_000.0,
            ..Default::default()
        },
    )?;
    Ok(latex::ExpandedTex {
        widths,
        outputs: forms
            .outputs
            .into_iter()
            .map(|o| {
                (
                    o.name,
                    o.coefficients
                        .into_iter()
                        .map(|c| (c.index, c.expr))
                        .collect(),
                )
            })
            .collect(),
    })
}

#[cfg(not(feature = "symbolic"))]
fn expanded(
    _: &feynn::model::Model,
    _: &Args,
    _: Option<&std::path::Path>,
) -> Result<latex::ExpandedTex> {
    Err(feynn::Error::invalid(
        "--expanded needs Symbolica",
        "build feynn with the default feature `symbolic`",
    ))
}
