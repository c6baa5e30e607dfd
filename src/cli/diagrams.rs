use std::ops::ControlFlow;
use std::path::PathBuf;
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
    /// The model spec (.fnn).
    spec: PathBuf,
    /// Which model of the file (default: the first).
    #[arg(long)]
    model: Option<String>,
    /// Derivative order n (for an `inn` model: the action order m).
    #[arg(long)]
    order: usize,
    /// `inn` models: the layer (0 = acting on the data) whose action update to list
    /// (default: every layer).
    #[arg(long)]
    layer: Option<usize>,
    /// `inn` models: weights, for the tensor norm each diagram contributes.
    #[arg(long)]
    weights: Option<PathBuf>,
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
    let model = feynn::model::load_model(&a.spec, a.model.as_deref())?;
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
    let Ok(src) = std::fs::read_to_string(&a.spec) else {
        return false;
    };
    let Ok(f) = feynn::dsl::parse_spec("", &src) else {
        return false;
    };
    match &a.model {
        Some(n) => f.inns.iter().any(|m| &m.name == n) && !f.models.iter().any(|m| &m.name == n),
        None => f.models.is_empty() && !f.inns.is_empty(),
    }
}

fn run_inn(a: Args) -> Result<ExitCode> {
    use feynn::diagrams::inn::{layer_counts, layer_diagrams, InnDiagram};
    use feynn::model::inn::Phi;
    let (spec, store) = super::action::load(&a.spec, a.model.as_deref(), a.weights.as_deref())?;
    let nl = spec.layers.len();
    let layers: Vec<usize> = match a.layer {
        Some(l) if l >= nl => {
            return Err(Error::invalid(
                format!(
                    "inn `{}` has layers 0..{} — there is no layer {l}",
                    spec.name,
                    nl - 1
                ),
                "layer 0 acts on the data; the last layer produces the latent variable",
            ))
        }
        Some(l) => vec![l],
        None => (0..nl).collect(),
    };
    if a.order == 0 {
        return Err(Error::invalid(
            "--order 0 has no diagrams",
            "give the action order m ≥ 1",
        ));
    }
    let degree = |l: usize| match &spec.layers[l].phi {
        Phi::Quad => 2,
        Phi::Cubic => 3,
        Phi::Linear => 1,
        Phi::Poly { coeffs, .. } => coeffs.len() - 1,
    };
    for &l in &layers {
        feynn::diagrams::inn::budget(a.order, degree(l), a.count)?;
    }
    if a.count {
        let mut rows = Vec::new();
        let mut s = String::new();
        for &l in &layers {
            for m in 1..=a.order {
                let (lab, shapes) = layer_counts(m, degree(l));
                s += &format!("layer {l} order {m}: {lab} labelled diagrams, {shapes} shapes\n");
                rows.push(
                    serde_json::json!({"layer": l, "order": m, "labelled": num_json(&lab), "shapes": shapes}),
                );
            }
        }
        let text = match a.format {
            Format::Json => {
                serde_json::to_string(&serde_json::json!({"model": spec.name, "counts": rows}))
                    .unwrap()
                    + "\n"
            }
            _ => s,
        };
        a.out.write(&text)?;
        return Ok(ExitCode::SUCCESS);
    }
    // Norms need numbers: a weights file or every parameter inline.
    let numbers = store.is_some() || !spec.inline.is_empty();
    let act = if numbers {
        let inn: feynn::model::inn::Inn<f64> = spec.resolve(store.as_ref())?;
        let x0 = super::taylor::parse_point(a.at.as_deref(), inn.n)?;
        let opts = feynn::numeric::action::ActionOptions {
            order: a.order,
            keep_stages: true,
            ..Default::default()
        };
        let act = feynn::numeric::action::action(&inn, &x0, &opts)?;
        Some((inn, act))
    } else {
        None
    };
    #[derive(serde::Serialize)]
    struct Row {
        #[serde(flatten)]
        d: InnDiagram,
        text: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        norm: Option<f64>,
        /// the norm is shared by all shapes from the same source order
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        group_norm: bool,
    }
    let mut rows: Vec<Row> = Vec::new();
    for &l in &layers {
        let ds = layer_diagrams(l, a.order, degree(l));
        for d in ds {
            let group = d.source.is_some()
                && layer_diagrams(l, a.order, degree(l))
                    .iter()
                    .filter(|x| x.source == d.source)
                    .count()
                    > 1;
            let norm = match &act {
                Some((inn, act)) => {
                    let t =
                        feynn::numeric::action::layer_contribution(inn, act, l, d.source, a.order)?;
                    Some(t.iter().map(|v| v * v).sum::<f64>().sqrt())
                }
                None => None,
            };
            rows.push(Row {
                text: d.text(),
                d,
                norm,
                group_norm: group,
            });
        }
    }
    let text = match a.format {
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "model": spec.name, "order": a.order, "diagrams": rows
            }))
            .unwrap()
                + "\n"
        }
        Format::Dot => rows
            .iter()
            .enumerate()
            .map(|(i, r)| r.d.dot(&format!("l{}_d{}", r.d.layer, i + 1)))
            .collect::<Vec<_>>()
            .join("\n"),
        Format::Tikz => rows
            .iter()
            .map(|r| format!("% layer {}: {}\n{}", r.d.layer, r.text, r.d.tikz()))
            .collect::<Vec<_>>()
            .join("\n"),
        Format::Svg => {
            return Err(Error::invalid(
                "--format svg is for MLP diagrams",
                "for inn layer diagrams use --format tikz, dot, text or json",
            ))
        }
        Format::Text => {
            let mut s = String::new();
            for &l in &layers {
                let (lab, shapes) = layer_counts(a.order, degree(l));
                s += &format!(
                    "inn {} layer {l} ({}), order {}: {shapes} diagram shapes, {lab} labelled (S-convention){}\n",
                    spec.name,
                    match &spec.layers[l].phi {
                        Phi::Quad => "h + αh²".to_string(),
                        Phi::Cubic => "h + αh² + βh³".to_string(),
                        Phi::Linear => "linear".to_string(),
                        Phi::Poly { name, .. } => format!("polynomial {name}"),
                    },
                    a.order,
                    if act.is_some() { "; ‖·‖ = Frobenius norm of the contribution to A^(m) of the layer's input" } else { "" }
                );
                s += "   #  mult  labelled  diagram\n";
                let total: f64 = rows
                    .iter()
                    .filter(|r| r.d.layer == l)
                    .filter_map(|r| r.norm)
                    .sum();
                for (i, r) in rows.iter().filter(|r| r.d.layer == l).enumerate() {
                    s += &format!(
                        "{:>4}  {:>4}  {:>8}  {:<56}",
                        i + 1,
                        r.d.multiplicity,
                        r.d.labelled,
                        r.text
                    );
                    if let Some(nm) = r.norm {
                        s += &format!(
                            "  ‖·‖ {nm:.3e}{}",
                            if r.group_norm { " (source group)" } else { "" }
                        );
                        if total > 0.0 {
                            s += &format!("  {:5.1}%", 100.0 * nm / total);
                        }
                    }
                    s += "\n";
                }
            }
            s
        }
    };
    a.out.write(&text)?;
    Ok(ExitCode::SUCCESS)
}
