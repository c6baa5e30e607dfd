use std::ops::ControlFlow;
use std::process::ExitCode;

use feynn::diagrams::{for_each_labelled, labelled_counts, unlabelled, unlabelled_counts};
use feynn::export::diagrams::{dot, index_term, DiagramJson};
use feynn::{Error, Result};
use num_bigint::BigUint;

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
    if is_inn(&a) {
        return run_inn(a);
    }
    let model = feynn::model::load_model(&a.m.spec, a.m.model.as_deref())?;
    let h = model.hidden_layers();
    let out_act = model.output_activation().is_some();
    feynn::diagrams::count::counts_budget(a.order, h, feynn::budget::DEFAULT_MEMORY_LIMIT)?;
    let lab = labelled_counts(a.order, h, out_act)[a.order].clone();
    let unl = unlabelled_counts(a.order, h, out_act)[a.order].clone();
    if a.count {
        let text = match a.format {
            Format::Json => {
                #[derive(serde::Serialize)]
                struct Counts {
                    order: usize,
                    hidden_layers: usize,
                    output_activation: bool,
                    labelled: serde_json::Value,
                    unlabelled: serde_json::Value,
                }
                let c = Counts { order: a.order, hidden_layers: h, output_activation: out_act, labelled: num_json(&lab), unlabelled: num_json(&unl) };
                serde_json::to_string(&c).unwrap() + "\n"
            }
            _ => format!("order {} with {h} hidden layer(s): {lab} labelled diagrams, {unl} unlabelled topologies\n", a.order),
        };
        a.out.write(&text)?;
        return Ok(ExitCode::SUCCESS);
    }
    let n = if a.labelled { &lab } else { &unl };
    if *n > BigUint::from(a.max_diagrams) {
        return Err(Error::TooLarge {
            what: format!(
                "enumerating the order-{} diagrams ({n} {})",
                a.order,
                if a.labelled { "labelled" } else { "topologies" }
            ),
            predicted: format!("{n} diagrams"),
            limit: format!("{} (--max-diagrams)", a.max_diagrams),
            help: "use --count to count them, or raise --max-diagrams".into(),
        });
    }
    if a.labelled {
        feynn::budget::work(
            format!("enumerating the labelled diagrams of order {}", a.order),
            feynn::diagrams::labelled_enumeration_work(a.order),
            "the enumeration visits every set partition of the slots; lower --order, or use --count",
        )?;
    }
    let l = model.layers.len();
    let mut items: Vec<(feynn::diagrams::Node, Option<BigUint>)> = Vec::new();
    if a.labelled {
        for_each_labelled(a.order, h, out_act, |d| {
            items.push((d.clone(), None));
            ControlFlow::Continue(())
        });
    } else {
        items = unlabelled(a.order, h, out_act)
            .into_iter()
            .map(|t| (t.tree, Some(t.automorphisms)))
            .collect();
    }
    let text = match a.format {
        Format::Json => {
            let ds: Vec<DiagramJson> = items
                .iter()
                .map(|(t, aut)| DiagramJson {
                    tree: t.text(),
                    vertices: t.vertices(),
                    automorphisms: aut.as_ref().map(|x| x.to_string()),
                    symmetry_factor: aut.as_ref().map(|x| format!("1/{x}")),
                    index_form: aut.as_ref().map(|x| {
                        index_term(
                            &feynn::diagrams::Topology {
                                tree: t.clone(),
                                automorphisms: x.clone(),
                            },
                            l,
                            "o",
                        )
                        .text()
                    }),
                })
                .collect();
            serde_json::to_string_pretty(&serde_json::json!({"order": a.order, "hidden_layers": h, "kind": if a.labelled { "labelled" } else { "unlabelled" }, "diagrams": ds})).unwrap() + "\n"
        }
        Format::Svg => {
            let Some(base) = &a.out.output else {
                return Err(Error::invalid(
                    "--format svg writes one file per diagram",
                    "give -o NAME.svg; the files are NAME-1.svg, NAME-2.svg, …",
                ));
            };
            let stem = base.with_extension("");
            for (i, (t, aut)) in items.iter().enumerate() {
                let label = aut
                    .as_ref()
                    .filter(|x| **x > BigUint::from(1u32))
                    .map(|x| format!("1/{x}"))
                    .unwrap_or_default();
                let path = std::path::PathBuf::from(format!("{}-{}.svg", stem.display(), i + 1));
                std::fs::write(&path, feynn::export::diagrams::svg(t, l, &label)).map_err(|e| {
                    Error::Write {
                        path: path.display().to_string(),
                        source: e,
                    }
                })?;
            }
            eprintln!("wrote {} SVG file(s) {}-N.svg", items.len(), stem.display());
            return Ok(ExitCode::SUCCESS);
        }
        Format::Tikz => items
            .iter()
            .map(|(t, aut)| {
                let label = aut
                    .as_ref()
                    .filter(|x| **x > BigUint::from(1u32))
                    .map(|x| format!("1/{x}"))
                    .unwrap_or_default();
                feynn::export::diagrams::tikz(t, l, &label)
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Format::Dot => items
            .iter()
            .enumerate()
            .map(|(i, (t, _))| dot(t, l, &format!("d{i}")))
            .collect::<Vec<_>>()
            .join("\n"),
        Format::Text => {
            let mut s = format!(
                "order {} with {h} hidden layer(s): {lab} labelled diagrams, {unl} unlabelled topologies\n",
                a.order
            );
            for (i, (t, aut)) in items.iter().enumerate() {
                match aut {
                    Some(x) => {
                        let term = index_term(
                            &feynn::diagrams::Topology {
                                tree: t.clone(),
                                automorphisms: x.clone(),
                            },
                            l,
                            "o",
                        );
                        s += &format!(
                            "{:>4}  1/{:<4} {:<28} {}\n",
                            i + 1,
                            x,
                            t.text(),
                            term.text()
                        );
                    }
                    None => s += &format!("{:>4}  {}\n", i + 1, t.text()),
                }
            }
            s
        }
    };
    a.out.write(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Counts as JSON numbers when they fit in u64, else as strings (exact).
fn num_json(n: &BigUint) -> serde_json::Value {
    match u64::try_from(n) {
        Ok(v) => v.into(),
        Err(_) => n.to_string().into(),
    }
}

/// An `inn` model is meant when --layer is given, when --model names an inn, or when the file
/// defines inn models and no MLP.
fn is_inn(a: &Args) -> bool {
    if a.layer.is_some() {
        return true;
    }
    let Ok(src) = std::fs::read_to_string(&a.m.spec) else {
        return false;
    };
    let Ok(f) = feynn::dsl::parse_spec("", &src) else {
        return false;
    };
    match &a.m.model {
        Some(n) => f.inns.iter().any(|m| &m.name == n) && !f.models.iter().any(|m| &m.name == n),
        None => f.models.is_empty() && !f.inns.is_empty(),
    }
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
