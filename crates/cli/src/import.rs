use std::path::PathBuf;
use std::process::ExitCode;

use feynn::model::weights::TensorStore;
use feynn::Result;

use super::OutArg;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum Kind {
    Mlp,
    Inn,
}

#[derive(clap::Args)]
pub struct Args {
    /// A state dict of nn.Sequential(Linear, Act, …, Linear): .safetensors or .npz with
    /// `0.weight`, `0.bias`, `2.weight`, …; or JSON {"layers":[{"W":…,"b":…,"act":…}]}.
    weights: PathBuf,
    /// Hidden activation: one name for all hidden layers, or a comma-separated list.
    #[arg(long)]
    activation: Option<String>,
    /// Activation on the output (default: linear).
    #[arg(long)]
    output_activation: Option<String>,
    /// What the weights describe: an MLP (nn.Sequential) or an invertible network (`inn`:
    /// tensors `{l}.weight`, `{l}.bias`, `{l}.alpha`).
    #[arg(long, value_enum, default_value = "mlp")]
    kind: Kind,
    /// Model name (default: the file stem).
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    out: OutArg,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let store = TensorStore::load(&a.weights)?;
    let name = match &a.name {
        Some(n) if !feynn::model::import::is_model_name(n) => {
            return Err(feynn::Error::invalid(
                format!("--name `{n}` cannot name a model"),
                "a name starts with a letter or `_`, has only letters, digits and `_`, and is not a keyword (model, layer, input, output, …)",
            ))
        }
        Some(n) => n.clone(),
        None => feynn::model::import::model_name_from_stem(
            a.weights
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("net"),
        ),
    };
    let spec_dir = a
        .out
        .output
        .as_ref()
        .and_then(|p| p.parent().map(|d| d.to_path_buf()));
    let text = if a.kind == Kind::Inn {
        feynn::model::import::inn_spec_for(&store, &a.weights, &name, spec_dir.as_deref())?
    } else {
        feynn::model::import::spec_for(
            &store,
            &a.weights,
            &name,
            a.activation.as_deref(),
            a.output_activation.as_deref(),
            spec_dir.as_deref(),
        )?
    };
    a.out.write(&text)?;
    if let Some(p) = &a.out.output {
        eprintln!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
