use std::path::{Path, PathBuf};
use std::process::ExitCode;

use feynn::export::{taylor_latex, taylor_text, TaylorJson};
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
    /// The model spec (.fnn).
    pub spec: PathBuf,
    /// Which model of the file (default: the first).
    #[arg(long)]
    pub model: Option<String>,
    /// Weights (.safetensors, .npz, .json); default: the spec's `weights` line.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Highest order N: every coefficient with |α| ≤ N.
    #[arg(long, default_value_t = 2)]
    pub order: usize,
    /// Expansion point, comma-separated (default: the origin).
    #[arg(long, allow_hyphen_values = true, conflicts_with = "at_file")]
    pub at: Option<String>,
    /// Many expansion points: .npy [points, inputs] or .csv (one point a row); all cores.
    #[arg(long)]
    pub at_file: Option<PathBuf>,
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
    /// Refuse expansions predicted to need more memory than this many bytes.
    #[arg(long, default_value_t = feynn::numeric::DEFAULT_MEMORY_LIMIT)]
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
    let model = feynn::model::load_model(&a.spec, a.model.as_deref())?;
    let weights = a.weights.clone().or_else(|| model.weights_file.clone());
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
        Some(f) => read_points(f, net.inputs())?,
        None => vec![parse_point(a.at.as_deref(), net.inputs())?],
    };
    let expansions = expander.expand_many(&points)?;
    let results: Vec<TaylorJson> = expansions
        .iter()
        .map(|e| TaylorJson::from_expansion(&model.name, e, expander.monomials()))
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

pub(crate) fn parse_point(at: Option<&str>, d: usize) -> Result<Vec<f64>> {
    let Some(s) = at else { return Ok(vec![0.0; d]) };
    let vals: Vec<f64> = s
        .split(',')
        .map(|v| {
            v.trim().parse::<f64>().map_err(|_| {
                Error::invalid(
                    format!("--at: `{v}` is not a number"),
                    "write the point as comma-separated numbers, e.g. --at 0.1,-0.2,0",
                )
            })
        })
        .collect::<Result<_>>()?;
    if vals.len() == 1 && d > 1 {
        return Ok(vec![vals[0]; d]);
    }
    if vals.len() != d {
        return Err(Error::invalid(
            format!("--at has {} values, the model {d} inputs", vals.len()),
            "give one value per input (or a single value for all)",
        ));
    }
    Ok(vals)
}

pub(crate) fn read_points(path: &Path, d: usize) -> Result<Vec<Vec<f64>>> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let rows: Vec<Vec<f64>> = if ext == "npy" {
        let arr: ndarray::Array2<f64> = ndarray_npy::read_npy(path).map_err(|e| {
            Error::invalid(
                format!("{}: cannot read a 2-d float64 .npy ({e})", path.display()),
                "save points with numpy.save(path, X.astype('float64')) as [points, inputs]",
            )
        })?;
        arr.rows().into_iter().map(|r| r.to_vec()).collect()
    } else {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let parsed: std::result::Result<Vec<f64>, _> = line
                .split([',', ' ', '\t'])
                .filter(|s| !s.is_empty())
                .map(|s| s.trim().parse::<f64>())
                .collect();
            match parsed {
                Ok(r) => rows.push(r),
                Err(_) if i == 0 => continue, // a header
                Err(_) => {
                    return Err(Error::invalid(
                        format!("{}:{}: not a row of numbers", path.display(), i + 1),
                        "one point per line, values separated by commas",
                    ))
                }
            }
        }
        rows
    };
    if let Some((i, j)) = rows
        .iter()
        .enumerate()
        .find_map(|(i, r)| r.iter().position(|v| !v.is_finite()).map(|j| (i, j)))
    {
        return Err(Error::invalid(
            format!(
                "{}: point {i} (0-based row) has a non-finite value in column {j}",
                path.display()
            ),
            "every coordinate must be a finite number",
        ));
    }
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != d) {
        return Err(Error::invalid(
            format!(
                "{}: point {i} has {} values, the model {d} inputs",
                path.display(),
                r.len()
            ),
            "one value per input on each row",
        ));
    }
    Ok(rows)
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
        (Some(d), Some(_), at) | (Some(d), None, at @ Some(_)) => Some(parse_point(at, d)?),
        _ => None,
    };
    let text = feynn::symbolic::report(model, a.order, store.as_ref(), x0, fmt)?;
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
