//! `feynn diagrams`: the diagrams of an MLP order (`feynn::diagrams::listing`) or the layer
//! diagrams of an INN action (`feynn::numeric::inn_layers`), rendered by `feynn::export`.

use std::process::ExitCode;

use feynn::diagrams::listing;
use feynn::export::diagrams as render;
use feynn::{Error, Result};

use super::OutArg;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Format {
    Text,
    Json,
    Dot,
    /// One SVG picture per diagram: `-o d.svg` writes d-1.svg, d-2.svg, …
    Svg,
    /// TikZ pictures (one per diagram).
    Tikz,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    m: crate::ModelArgs,
    /// Derivative order n (for an `inn` model: the action order m).
    #[arg(long)]
    order: usize,
    /// `inn` models: the layer (0 = acting on the data) whose action update to list
    /// (default: every layer).
    #[arg(long)]
    layer: Option<usize>,
    /// `inn` models: expansion point (default: the origin).
    #[arg(long, allow_hyphen_values = true)]
    at: Option<String>,
    /// Only count (no enumeration; instant at any order).
    #[arg(long)]
    count: bool,
    /// List labelled diagrams (leaves = derivative slots, weight 1) instead of unlabelled
    /// topologies with symmetry factors.
    #[arg(long)]
    labelled: bool,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Refuse to enumerate more diagrams than this.
    #[arg(long, default_value_t = 100_000)]
    max_diagrams: u64,
    #[command(flatten)]
    out: OutArg,
}

pub fn run(a: Args) -> Result<ExitCode> {
    if a.layer.is_some() || feynn::model::inn::names_inn(&a.m.spec, a.m.model.as_deref()) {
        return run_inn(a);
    }
    let model = feynn::model::load_model(&a.m.spec, a.m.model.as_deref())?;
    let (h, out_act) = (model.hidden_layers(), model.output_activation().is_some());
    if a.count {
        let c = listing::counts(a.order, h, out_act)?;
        a.out.write(&match a.format {
            Format::Json => render::counts_json(&c),
            _ => render::counts_text(&c),
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let l = listing::list(a.order, h, out_act, a.labelled, a.max_diagrams)?;
    let text = match a.format {
        Format::Json => render::listing_json(&l),
        Format::Dot => render::listing_dot(&l),
        Format::Tikz => render::listing_tikz(&l),
        Format::Text => render::listing_text(&l),
        Format::Svg => {
            let Some(base) = &a.out.output else {
                return Err(Error::invalid(
                    "--format svg writes one file per diagram",
                    "give -o NAME.svg; the files are NAME-1.svg, NAME-2.svg, …",
                ));
            };
            let stem = base.with_extension("");
            let svgs = render::listing_svgs(&l);
            for (i, svg) in svgs.iter().enumerate() {
                let path = std::path::PathBuf::from(format!("{}-{}.svg", stem.display(), i + 1));
                std::fs::write(&path, svg).map_err(|e| Error::Write {
                    path: path.display().to_string(),
                    source: e,
                })?;
            }
            eprintln!("wrote {} SVG file(s) {}-N.svg", svgs.len(), stem.display());
            return Ok(ExitCode::SUCCESS);
        }
    };
    a.out.write(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn run_inn(a: Args) -> Result<ExitCode> {
    use feynn::export::inn as render;
    use feynn::numeric::inn_layers::{layer_count_table, layer_listing};
    let (spec, store) = feynn::model::inn::load_with_weights(
        &a.m.spec,
        a.m.model.as_deref(),
        a.m.weights.as_deref(),
    )?;
    let text = if a.count {
        let rows = layer_count_table(&spec, a.layer, a.order)?;
        match a.format {
            Format::Json => render::layer_counts_json(&spec.name, &rows),
            _ => render::layer_counts_text(&rows),
        }
    } else {
        let l = layer_listing(&spec, store.as_ref(), a.layer, a.order, a.at.as_deref())?;
        match a.format {
            Format::Json => render::layer_listing_json(&l),
            Format::Dot => render::layer_listing_dot(&l),
            Format::Tikz => render::layer_listing_tikz(&l),
            Format::Text => render::layer_listing_text(&l),
            Format::Svg => {
                return Err(Error::invalid(
                    "--format svg is for MLP diagrams",
                    "for inn layer diagrams use --format tikz, dot, text or json",
                ))
            }
        }
    };
    a.out.write(&text)?;
    Ok(ExitCode::SUCCESS)
}
