use std::path::{Path, PathBuf};
use std::process::ExitCode;

use feynn::export::{taylor_latex, taylor_text, TaylorSeries};
use feynn::model::weights::TensorStore;
use feynn::model::{Model, Network};
use feynn::numeric::{attribution, plan, Expander, Options, Plan};
use feynn::{Error, Result};

use super::OutArg;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Format {
    Text,
    Json,
    Latex,
    Sympy,
    Mathematica,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub m: crate::ModelArgs,
    /// Highest order N: every coefficient with |α| ≤ N.
    #[arg(long, default_value_t = 2)]
    pub order: usize,
    /// Expansion point, comma-separated (default: the origin).
    #[arg(long, allow_hyphen_values = true, conflicts_with = "at_file")]
    pub at: Option<String>,
    /// Many expansion points: .npy [points, inputs] or .csv (one point a row); all cores.
    #[arg(long)]
    pub at_file: Option<PathBuf>,
    /// Output format: text (the largest coefficients of each order), json (every coefficient),
    /// latex (the Taylor polynomial); sympy and mathematica need --symbolic.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Closed forms (Symbolica): index form for any width, expanded for concrete widths.
    #[arg(long)]
    pub symbolic: bool,
    /// With text output: list the diagrams of each order and their share of the coefficients.
    #[arg(long)]
    pub diagrams: bool,
    /// Rows per order in text output.
    #[arg(long, default_value_t = 12)]
    pub max_rows: usize,
    /// Refuse expansions predicted to need more memory than this (bytes, or 8G, 512M, …).
    #[arg(long, default_value_t = feynn::numeric::DEFAULT_MEMORY_LIMIT, value_parser = feynn::budget::parse_bytes)]
    pub memory_limit: f64,
    /// The engine: auto (the cost model's choice), diagrams (dense contractions, orders ≤ 3),
    /// jets (directional Taylor series, few inputs) or series (multivariate Taylor mode).
    #[arg(long, default_value = "auto", value_parser = ["auto", "diagrams", "jets", "series"])]
    pub plan: String,
    /// Print each plan's predicted flops and memory per point and the choice; compute nothing.
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub out: OutArg,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let model = feynn::model::load_model(&a.m.spec, a.m.model.as_deref())?;
    let weights = a.m.weights.clone().or_else(|| model.weights_file.clone());
    if a.symbolic {
        return symbolic(&a, &model, weights.as_deref());
    }
    if matches!(a.format, Format::Sympy | Format::Mathematica) {
        return Err(Error::invalid(
            "--format sympy/mathematica export closed forms",
            "add --symbolic",
        ));
    }
    let Some(wpath) = weights else {
        return Err(Error::invalid(
            format!("model `{}` has no weights, so there are no numbers to compute", model.name),
            "give --weights FILE (or a `weights \"FILE\"` line in the spec), or ask for closed forms with --symbolic",
        ));
    };
    let net = Network::from_store(&model, &TensorStore::load(&wpath)?)?;
    let wanted = Plan::from_name(&a.plan).expect("clap checked the name");
    if a.explain {
        a.out
            .write(&plan::explain(&net, a.order, wanted, a.memory_limit))?;
        return Ok(ExitCode::SUCCESS);
    }
    let expander = Expander::with_plan(
        &net,
        &Options {
            order: a.order,
            memory_limit: a.memory_limit,
        },
        wanted,
    )?;
    let points = match &a.at_file {
        Some(f) => feynn::points::read_points(f, net.inputs())?,
        None => vec![feynn::points::parse_point(a.at.as_deref(), net.inputs())?],
    };
    let expansions = expander.expand_many(&points)?;
    let results: Vec<TaylorSeries> = expansions
        .iter()
        .map(|e| TaylorSeries::from_expansion(&model.name, e, expander.monomials()))
        .collect();
    let text = match a.format {
        Format::Json if a.at_file.is_some() => serde_json::to_string(&results).unwrap() + "\n",
        Format::Json => serde_json::to_string(&results[0]).unwrap() + "\n",
        Format::Latex => results
            .iter()
            .map(|r| taylor_latex(r, 24))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => {
            let mut s = String::new();
            for (r, p) in results.iter().zip(&points) {
                s += &taylor_text(r, a.max_rows);
                if a.diagrams {
                    s += &diagram_table(&net, p, a.order, &expander)?;
                }
            }
            s
        }
    };
    a.out.write(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn diagram_table(net: &Network, x0: &[f64], order: usize, ex: &Expander) -> Result<String> {
    let l = net.weights.len();
    // every order's attribution, predicted before the first one starts
    let mut total = 0.0;
    for n in 1..=order {
        let coefficients = feynn::budget::binomial_f64(net.inputs() - 1 + n, n);
        total += attribution::attribution_work(net, n, coefficients)? * net.outputs() as f64;
    }
    feynn::budget::work(
        format!("attributing the coefficients of orders 1–{order} to diagrams"),
        total,
        "lower --order, or leave out --diagrams",
    )?;
    let mut s = String::from("diagrams (topologies with symmetry factor 1/|Aut|; share = ‖contribution‖/Σ‖contributions‖ over the order's coefficients):\n");
    for o in 0..net.outputs() {
        for n in 1..=order {
            let parts = attribution::attribute(net, x0, n, &ex.basis, o)?;
            let norms: Vec<f64> = parts
                .iter()
                .map(|(_, c)| c.iter().map(|v| v * v).sum::<f64>().sqrt())
                .collect();
            let total: f64 = norms.iter().sum();
            s += &format!(
                "{} order {n}: {} topolog{}\n",
                feynn::export::output_name(o, net.outputs()),
                parts.len(),
                if parts.len() == 1 { "y" } else { "ies" }
            );
            for ((t, _), nm) in parts.iter().zip(&norms) {
                let term = feynn::export::diagrams::index_term(t, l, "o");
                s += &format!(
                    "  {:<22} share {:>6.2}%  ‖·‖ {:.3e}   {}\n",
                    t.tree.text(),
                    if total > 0.0 { 100.0 * nm / total } else { 0.0 },
                    nm,
                    term.text()
                );
            }
        }
    }
    Ok(s)
}

#[cfg(feature = "symbolic")]
fn symbolic(a: &Args, model: &Model, weights: Option<&Path>) -> Result<ExitCode> {
    let store = match weights {
        Some(w) => Some(TensorStore::load(w)?),
        None => None,
    };
    let fmt = match a.format {
        Format::Latex => feynn::symbolic::Style::Latex,
        Format::Mathematica => feynn::symbolic::Style::Mathematica,
        Format::Json => feynn::symbolic::Style::Json,
        Format::Sympy => feynn::symbolic::Style::Sympy,
        Format::Text => feynn::symbolic::Style::Text,
    };
    if a.at_file.is_some() {
        return Err(Error::invalid("--symbolic takes one expansion point", "give it with --at (closed forms hold at any point; numbers at many points come without --symbolic)"));
    }
    // the number of inputs: from the spec, or from the weights for a symbolic input width
    let inputs = match (&model.input, &store) {
        (feynn::dsl::Width::Fixed(d), _) => Some(*d),
        (_, Some(s)) => Some(Network::from_store(model, s)?.inputs()),
        _ => None,
    };
    let x0 = match (inputs, &store, a.at.as_deref()) {
        (Some(d), Some(_), at) | (Some(d), None, at @ Some(_)) => {
            Some(feynn::points::parse_point(at, d)?)
        }
        _ => None,
    };
    let text = feynn::export::closed_form::report(model, a.order, store.as_ref(), x0, fmt)?;
    a.out.write(&text)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "symbolic"))]
fn symbolic(_: &Args, _: &Model, _: Option<&Path>) -> Result<ExitCode> {
    Err(Error::invalid(
        "this feynn was built without closed forms",
        "rebuild with the default `symbolic` feature",
    ))
}
