//! Writing a spec for a checkpoint: PyTorch `nn.Sequential(Linear, Act, …, Linear)` state dicts
//! (`0.weight` [out,in], `0.bias`, `2.weight`, …, any common prefix) and JSON layer lists.

use std::path::Path;

use super::activation::Builtin;
use super::weights::TensorStore;
use crate::error::{Error, Result};

/// Words of the spec language that cannot name a model.
const KEYWORDS: &[&str] = &[
    "model",
    "layer",
    "input",
    "output",
    "weights",
    "bind",
    "let",
    "activation",
    "params",
    "dim",
    "param",
];

/// Whether `name` can name a model in a spec (an identifier, not a keyword).
pub fn is_model_name(name: &str) -> bool {
    let mut c = name.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        && !KEYWORDS.contains(&name)
}

/// A model name from a file stem: other characters become `_`, a leading digit gets `m_`, and
/// a keyword (`model.safetensors`, `input.npz`) gets `_net`, so the spec always parses.
pub fn model_name_from_stem(stem: &str) -> String {
    let clean: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let clean = if clean.is_empty() {
        "net".to_string()
    } else if clean.starts_with(|c: char| c.is_ascii_digit()) {
        format!("m_{clean}")
    } else {
        clean
    };
    if KEYWORDS.contains(&clean.as_str()) {
        format!("{clean}_net")
    } else {
        clean
    }
}

/// The linear layers found in a store: (weight name, bias name, [out, in]) in order.
pub fn linear_layers(store: &TensorStore) -> Result<Vec<(String, String, [usize; 2])>> {
    let mut found: Vec<(u64, String, String)> = Vec::new();
    for name in store.tensors.keys() {
        let Some(stem) = name.strip_suffix(".weight") else {
            continue;
        };
        let (prefix, idx) = match stem.rsplit_once('.') {
            Some((p, i)) => (format!("{p}."), i),
            None => (String::new(), stem),
        };
        if let Ok(k) = idx.parse::<u64>() {
            found.push((k, name.clone(), format!("{prefix}{idx}.bias")));
        }
    }
    found.sort();
    // a bias whose weight is missing would silently drop a layer
    for name in store.tensors.keys() {
        let Some(stem) = name.strip_suffix(".bias") else {
            continue;
        };
        let idx = stem.rsplit_once('.').map_or(stem, |(_, i)| i);
        if idx.parse::<u64>().is_ok() && !store.tensors.contains_key(&format!("{stem}.weight")) {
            return Err(Error::Weights {
                path: store.path.clone(),
                message: format!(
                    "`{name}` has no `{stem}.weight`: a linear layer's weight is missing"
                ),
                help: "the checkpoint is incomplete; save the whole state_dict again".into(),
            });
        }
    }
    if found.is_empty() {
        let names: Vec<&str> = store.tensors.keys().map(|s| s.as_str()).take(10).collect();
        return Err(Error::Weights {
            path: store.path.clone(),
            message: "no `N.weight` tensors (nn.Sequential linear layers) found".into(),
            help: format!(
                "the file holds: {}; write the spec by hand with `bind` lines",
                names.join(", ")
            ),
        });
    }
    let mut layers = Vec::new();
    let mut prev: Option<usize> = None;
    for (_, w, b) in found {
        let t = &store.tensors[&w];
        if t.shape.len() != 2 {
            return Err(Error::Shape {
                path: store.path.clone(),
                tensor: w,
                expected: "[out, in]".into(),
                found: format!("{:?}", t.shape),
            });
        }
        let (o, i) = (t.shape[0], t.shape[1]);
        if let Some(p) = prev {
            if p != i {
                return Err(Error::Shape {
                    path: store.path.clone(),
                    tensor: w,
                    expected: format!("[{o}, {p}] (input = previous layer's output)"),
                    found: format!("{:?}", t.shape),
                });
            }
        }
        match store.tensors.get(&b) {
            Some(bt) if bt.shape == vec![o] => {}
            Some(bt) => {
                return Err(Error::Shape {
                    path: store.path.clone(),
                    tensor: b,
                    expected: format!("[{o}]"),
                    found: format!("{:?}", bt.shape),
                })
            }
            None => {
                return Err(Error::Weights {
                    path: store.path.clone(),
                    message: format!("`{w}` has no bias `{b}`"),
                    help: "feynn expects Linear layers with bias=True".into(),
                })
            }
        }
        prev = Some(o);
        layers.push((w, b, [o, i]));
    }
    Ok(layers)
}

/// The spec text for a checkpoint.
pub fn spec_for(
    store: &TensorStore,
    weights: &Path,
    name: &str,
    activation: Option<&str>,
    output_activation: Option<&str>,
    spec_dir: Option<&Path>,
) -> Result<String> {
    let layers = linear_layers(store)?;
    let hidden = layers.len() - 1;
    let acts: Vec<String> = match activation {
        Some(list) => {
            let v: Vec<String> = list.split(',').map(|s| s.trim().to_string()).collect();
            if v.len() == 1 {
                vec![v[0].clone(); hidden]
            } else if v.len() == hidden {
                v
            } else {
                return Err(Error::invalid(
                    format!(
                        "--activation lists {} names, the checkpoint has {hidden} hidden layers",
                        v.len()
                    ),
                    "give one name for all hidden layers or one per hidden layer",
                ));
            }
        }
        None => match (0..hidden)
            .map(|l| store.activations.get(&l).cloned())
            .collect::<Option<Vec<String>>>()
        {
            Some(v) => v,
            None => {
                let missing: Vec<String> = (0..hidden)
                    .filter(|l| !store.activations.contains_key(l))
                    .map(|l| (l + 1).to_string())
                    .collect();
                return Err(Error::invalid(
                    format!(
                        "the checkpoint does not say which activation hidden layer(s) {} use",
                        missing.join(", ")
                    ),
                    "give --activation tanh (or a comma-separated list, one per hidden layer)",
                ));
            }
        },
    };
    // A JSON file may name the output's activation; the flag wins.
    let output_activation: Option<String> = output_activation
        .map(str::to_string)
        .or_else(|| store.activations.get(&hidden).cloned())
        .filter(|a| !matches!(a.as_str(), "linear" | "none" | "identity"));
    let acts: Vec<String> = acts
        .into_iter()
        .map(|a| if a == "linear" { "identity".into() } else { a })
        .collect();
    let output_activation = output_activation.as_deref();
    for a in acts.iter().chain(
        output_activation
            .iter()
            .map(|s| *s)
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .iter(),
    ) {
        if Builtin::from_name(a).is_none() {
            let known: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
            return Err(Error::invalid(
                format!("unknown activation `{a}`"),
                format!("built-ins: {}", known.join(", ")),
            ));
        }
    }
    let wpath = relative_to(weights, spec_dir);
    let mut s = format!(
        "// written by `feynn import` from {}\nmodel {name} {{\n  input {}\n",
        weights.display(),
        layers[0].2[1]
    );
    for (l, (_, _, shape)) in layers.iter().enumerate() {
        if l < hidden {
            s += &format!("  layer {} {}\n", shape[0], acts[l]);
        } else {
            s += &format!(
                "  output {}{}\n",
                shape[0],
                output_activation
                    .map(|a| format!(" {a}"))
                    .unwrap_or_default()
            );
        }
    }
    s += &format!("  weights \"{wpath}\"\n");
    let binds: Vec<String> = layers
        .iter()
        .enumerate()
        .flat_map(|(l, (w, b, _))| {
            let k = l + 1;
            let mut v = vec![];
            if *w != format!("{}.weight", 2 * l) {
                v.push(format!("W{k} = \"{w}\""));
            }
            if *b != format!("{}.bias", 2 * l) {
                v.push(format!("b{k} = \"{b}\""));
            }
            v
        })
        .collect();
    if !binds.is_empty() {
        s += &format!("  bind {}\n", binds.join(", "));
    }
    s += "}\n";
    Ok(s)
}

fn relative_to(p: &Path, dir: Option<&Path>) -> String {
    let abs = |x: &Path| std::fs::canonicalize(x).unwrap_or_else(|_| x.to_path_buf());
    let target = abs(p);
    let base = abs(dir
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new(".")));
    match target.strip_prefix(&base) {
        Ok(r) => r.display().to_string(),
        Err(_) => target.display().to_string(),
    }
}

/// A spec for an invertible network saved as `{l}.weight` `[N, N]`, `{l}.bias` `[N]` and, for
/// quadratic layers, `{l}.alpha` (`[]`, `[1]` or `[N]`), and cubic layers also `{l}.beta`; l = 0,
/// 1, … from the data side. Layers without an alpha tensor become `layer linear`.
pub fn inn_spec_for(
    store: &TensorStore,
    weights: &Path,
    name: &str,
    spec_dir: Option<&Path>,
) -> Result<String> {
    let mut l = 0;
    let mut kinds = Vec::new();
    let mut n = None;
    while let Some(w) = store.get(&format!("{l}.weight")) {
        let nn = *n.get_or_insert(w.shape.first().copied().unwrap_or(0));
        if w.shape != [nn, nn] {
            return Err(Error::Shape {
                path: store.path.clone(),
                tensor: format!("{l}.weight"),
                expected: format!("[{nn}, {nn}] (inn layers are square, N → N)"),
                found: format!("{:?}", w.shape),
            });
        }
        match store.get(&format!("{l}.bias")) {
            Some(b) if b.shape == [nn] => {}
            Some(b) => {
                return Err(Error::Shape {
                    path: store.path.clone(),
                    tensor: format!("{l}.bias"),
                    expected: format!("[{nn}]"),
                    found: format!("{:?}", b.shape),
                })
            }
            None => {
                return Err(Error::Weights {
                    path: store.path.clone(),
                    message: format!("no tensor `{l}.bias`"),
                    help:
                        "an inn layer needs `{l}.weight`, `{l}.bias` and, for h + αh², `{l}.alpha`"
                            .into(),
                })
            }
        }
        kinds.push(
            match (
                store.get(&format!("{l}.alpha")).is_some(),
                store.get(&format!("{l}.beta")).is_some(),
            ) {
                (true, true) => "cubic",
                (true, false) => "quad",
                _ => "linear",
            },
        );
        l += 1;
    }
    let Some(n) = n else {
        return Err(Error::Weights {
            path: store.path.clone(),
            message: "no inn layers (no tensor `0.weight`)".into(),
            help: format!(
                "--kind inn expects `0.weight`, `0.bias`, `0.alpha`, `1.weight`, …; the file has: {}",
                store.tensors.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        });
    };
    let mut s = format!(
        "// written by `feynn import --kind inn` from {}\n// layers act data -> latent; the latent is standard normal\ninn {name} {{\n  dim {n}\n",
        weights.display()
    );
    for k in kinds {
        s += &format!("  layer {k}\n");
    }
    s += &format!("  weights \"{}\"\n}}\n", relative_to(weights, spec_dir));
    Ok(s)
}
