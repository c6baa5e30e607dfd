//! Validated EFNN specs and their parameter layout.

use std::path::{Path, PathBuf};

use feynn::dsl::{EfnnAst, SpecFile};
use feynn::error::{Error, Result};

/// The architecture family (theory note §2.1–2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Effective-field layers F_i and quasi-particle layers S_i = g_i(S0) ⊙ F_i.
    Efnn,
    /// The same blocks without re-injection of S0 or products.
    Dnn,
    /// Residual blocks S_{i+1} = S_i + f_i(S_i).
    ResNet,
    /// Dense concatenation of all earlier features.
    DenseNet,
}

impl Arch {
    /// The spec spelling.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Efnn => "efnn",
            Arch::Dnn => "dnn",
            Arch::ResNet => "resnet",
            Arch::DenseNet => "densenet",
        }
    }
    /// Parse a spec spelling.
    pub fn parse(s: &str) -> Option<Arch> {
        Some(match s {
            "efnn" => Arch::Efnn,
            "dnn" => Arch::Dnn,
            "resnet" => Arch::ResNet,
            "densenet" => Arch::DenseNet,
            _ => return None,
        })
    }
    /// All four, in the order of the comparison tables.
    pub const ALL: [Arch; 4] = [Arch::Efnn, Arch::Dnn, Arch::ResNet, Arch::DenseNet];
}

/// Fully connected on L inputs, or convolutional on 3-component spins on an N×N torus (any N).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Geometry {
    /// `input L`, `width M` (DenseNet: growth rate).
    Dense { inputs: usize, width: usize },
    /// `input lattice`, `channels C`, `kernel k` (odd; circular padding k/2).
    Conv { channels: usize, kernel: usize },
}

/// A validated `efnn` block.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EfnnSpec {
    pub name: String,
    pub arch: Arch,
    pub geometry: Geometry,
    /// Number n of field–particle levels (blocks).
    pub depth: usize,
    /// The `weights` file, relative to the spec's folder.
    pub weights_file: Option<PathBuf>,
}

/// Name and shape of one parameter tensor.
pub type ParamShape = (String, Vec<usize>);

impl EfnnSpec {
    /// A spec without a spec file (used by the benchmark drivers).
    pub fn new(name: &str, arch: Arch, geometry: Geometry, depth: usize) -> Result<EfnnSpec> {
        let bad = |m: String| Err(Error::invalid(m, "see book/src/efnn.md for the spec"));
        if depth == 0 {
            return bad("an EFNN needs depth ≥ 1".into());
        }
        match geometry {
            Geometry::Dense { inputs, width } if inputs == 0 || width == 0 => {
                return bad("input size and width must be at least 1".into())
            }
            Geometry::Conv { channels, kernel } if channels == 0 || kernel % 2 == 0 => {
                return bad(format!(
                    "need channels ≥ 1 and an odd kernel (got {channels} channels, kernel {kernel})"
                ))
            }
            _ => {}
        }
        let spec = EfnnSpec {
            name: name.into(),
            arch,
            geometry,
            depth,
            weights_file: None,
        };
        spec.check_size()?;
        Ok(spec)
    }

    /// Validate a parsed block; errors point at the offending statement.
    pub fn from_ast(file: &SpecFile, m: &EfnnAst, base: Option<&Path>) -> Result<EfnnSpec> {
        let err = |span, msg: String, help: &str| -> Error {
            Error::Spec(Box::new(file.error(span, msg, Some(help.into()))))
        };
        let arch = match &m.arch {
            None => Arch::Efnn,
            Some((a, s)) => Arch::parse(a).ok_or_else(|| {
                err(
                    *s,
                    format!("unknown architecture `{a}`"),
                    "use efnn, dnn, resnet or densenet",
                )
            })?,
        };
        let Some((input, _)) = m.input else {
            return Err(err(
                m.span,
                format!("efnn `{}` has no `input`", m.name),
                "add `input 15` (fully connected) or `input lattice` (convolutional)",
            ));
        };
        let get = |key: &str| -> Result<Option<(usize, (usize, usize))>> {
            let hits: Vec<_> = m.sizes.iter().filter(|(k, _, _)| k == key).collect();
            if hits.len() > 1 {
                return Err(err(
                    hits[1].2,
                    format!("`{key}` is given twice"),
                    "keep one",
                ));
            }
            Ok(hits.first().map(|(_, v, s)| (*v, *s)))
        };
        let (width, channels, kernel, depth) = (
            get("width")?,
            get("channels")?,
            get("kernel")?,
            get("depth")?,
        );
        let depth = match depth {
            Some((0, s)) => {
                return Err(err(s, "depth must be at least 1".into(), "e.g. `depth 2`"))
            }
            Some((d, _)) => d,
            None => {
                return Err(err(
                    m.span,
                    format!("efnn `{}` has no `depth`", m.name),
                    "add e.g. `depth 2` (the number of field–particle levels)",
                ))
            }
        };
        let geometry = match input {
            Some(l) => {
                if let Some((_, s)) = channels.or(kernel) {
                    return Err(err(
                        s,
                        "`channels` and `kernel` belong to convolutional models".into(),
                        "use `width M` with `input L`, or `input lattice`",
                    ));
                }
                let w = match width {
                    Some((0, s)) => {
                        return Err(err(s, "width must be at least 1".into(), "e.g. `width 30`"))
                    }
                    Some((w, _)) => w,
                    None => {
                        return Err(err(
                            m.span,
                            format!("efnn `{}` has no `width`", m.name),
                            "add e.g. `width 30`",
                        ))
                    }
                };
                if l == 0 {
                    return Err(err(
                        m.span,
                        "input size must be at least 1".into(),
                        "e.g. `input 15`",
                    ));
                }
                Geometry::Dense {
                    inputs: l,
                    width: w,
                }
            }
            None => {
                if let Some((_, s)) = width {
                    return Err(err(
                        s,
                        "`width` belongs to fully connected models".into(),
                        "use `channels C` with `input lattice`",
                    ));
                }
                let c = match channels {
                    Some((0, s)) => {
                        return Err(err(
                            s,
                            "channels must be at least 1".into(),
                            "e.g. `channels 3`",
                        ))
                    }
                    Some((c, _)) => c,
                    None => {
                        return Err(err(
                            m.span,
                            format!("efnn `{}` has no `channels`", m.name),
                            "add e.g. `channels 3`",
                        ))
                    }
                };
                let k = match kernel {
                    Some((k, s)) if k % 2 == 0 => {
                        return Err(err(
                            s,
                            format!("kernel {k} is even"),
                            "circular padding k/2 needs an odd kernel, e.g. 3 or 5",
                        ))
                    }
                    Some((k, _)) => k,
                    None => 5,
                };
                Geometry::Conv {
                    channels: c,
                    kernel: k,
                }
            }
        };
        let weights_file = m.weights.as_ref().map(|(p, _)| match base {
            Some(dir) if Path::new(p).is_relative() => dir.join(p),
            _ => PathBuf::from(p),
        });
        let spec = EfnnSpec {
            name: m.name.clone(),
            arch,
            geometry,
            depth,
            weights_file,
        };
        spec.check_size()?;
        Ok(spec)
    }

    /// Refuse sizes (depth, width, channels, kernel come from the spec) whose parameters would
    /// not fit the memory budget, before any list of them is built.
    pub fn check_size(&self) -> Result<()> {
        let n = self.depth as f64;
        let params = match self.geometry {
            Geometry::Dense { inputs, width } => {
                let (l, m) = (inputs as f64, width as f64);
                let fan_in = match self.arch {
                    Arch::DenseNet => l + n * m,
                    _ => l.max(m),
                };
                2.0 * n * m * (fan_in + m + 2.0)
            }
            Geometry::Conv { channels, kernel } => {
                let (c, k) = (channels as f64, kernel as f64);
                4.0 * n * (c * c * k * k + c * k + c)
            }
        };
        feynn::budget::memory(
            format!(
                "efnn `{}` of depth {} ({params:.3e} parameters)",
                self.name, self.depth
            ),
            params * 8.0 * 3.0 + n * 8.0 * 96.0,
            feynn::budget::DEFAULT_MEMORY_LIMIT,
            "lower depth, width or channels",
        )
    }

    /// Whether the model is convolutional (size-independent).
    pub fn is_conv(&self) -> bool {
        matches!(self.geometry, Geometry::Conv { .. })
    }

    /// The trainable parameters, in a fixed order (PyTorch naming: `f0.0.weight` is the first
    /// Linear/Conv of block f0, `f0.2.*` the second).
    pub fn parameters(&self) -> Vec<ParamShape> {
        let n = self.depth;
        let mut out: Vec<ParamShape> = vec![];
        match self.geometry {
            Geometry::Dense {
                inputs: l,
                width: m,
            } => {
                let block =
                    |out: &mut Vec<ParamShape>, name: String, fan_in: usize, width: usize| {
                        out.push((format!("{name}.0.weight"), vec![width, fan_in]));
                        out.push((format!("{name}.0.bias"), vec![width]));
                        out.push((format!("{name}.2.weight"), vec![width, width]));
                        out.push((format!("{name}.2.bias"), vec![width]));
                    };
                match self.arch {
                    Arch::Efnn => {
                        block(&mut out, "f0".into(), l, m);
                        for i in 1..n {
                            block(&mut out, format!("f{i}"), m, m);
                        }
                        for i in 1..=n {
                            block(&mut out, format!("g{i}"), l, m);
                        }
                    }
                    Arch::Dnn => {
                        block(&mut out, "f0".into(), l, m);
                        for i in 1..n {
                            block(&mut out, format!("f{i}"), m, m);
                        }
                        for i in 1..=n {
                            block(&mut out, format!("h{i}"), m, m);
                        }
                    }
                    Arch::ResNet => {
                        if m != l {
                            out.push(("proj.weight".into(), vec![m, l]));
                            out.push(("proj.bias".into(), vec![m]));
                        }
                        block(&mut out, "f0".into(), l, m);
                        for i in 1..n {
                            block(&mut out, format!("f{i}"), m, m);
                        }
                    }
                    Arch::DenseNet => {
                        for i in 1..=n {
                            block(&mut out, format!("f{i}"), l + (i - 1) * m, m);
                        }
                    }
                }
            }
            Geometry::Conv {
                channels: c,
                kernel: k,
            } => {
                let mut bil = |name: String| {
                    out.push((format!("{name}.w0"), vec![c, 1, k, k]));
                    out.push((format!("{name}.w1"), vec![c, 1, k, k]));
                };
                match self.arch {
                    Arch::Efnn => {
                        bil("phi0".into());
                        for i in 1..=n {
                            bil(format!("t{i}"));
                        }
                    }
                    Arch::Dnn => bil("phi0".into()),
                    Arch::ResNet | Arch::DenseNet => {
                        bil("phi0".into());
                        bil("t1".into());
                    }
                }
                let mut block = |name: String, cin: usize| {
                    out.push((format!("{name}.0.weight"), vec![c, cin, k, k]));
                    out.push((format!("{name}.0.bias"), vec![c]));
                    out.push((format!("{name}.2.weight"), vec![c, c, k, k]));
                    out.push((format!("{name}.2.bias"), vec![c]));
                };
                let head_in = match self.arch {
                    Arch::Efnn => {
                        for i in 0..n {
                            block(format!("f{i}"), c);
                        }
                        for i in 1..=n {
                            block(format!("g{i}"), c);
                        }
                        c
                    }
                    Arch::Dnn => {
                        block("f0".into(), c);
                        block("h1".into(), c);
                        for i in 1..n {
                            block(format!("f{i}"), c);
                            block(format!("h{}", i + 1), c);
                        }
                        c
                    }
                    Arch::ResNet => {
                        for i in 0..n {
                            block(format!("f{i}"), c);
                        }
                        c
                    }
                    Arch::DenseNet => {
                        block("f1".into(), c);
                        for i in 1..n {
                            block(format!("f{}", i + 1), c * (1 + i));
                        }
                        c * (n + 1)
                    }
                };
                out.push(("head.weight".into(), vec![1, head_in, k, k]));
                out.push(("head.bias".into(), vec![1]));
            }
        }
        out
    }

    /// The number of trainable parameters.
    pub fn parameter_count(&self) -> usize {
        self.parameters()
            .iter()
            .map(|(_, s)| s.iter().product::<usize>())
            .sum()
    }
}

fn parse_file(path: &Path) -> Result<SpecFile> {
    let source = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    feynn::dsl::parse_spec(&path.display().to_string(), &source)
        .map_err(|e| Error::Spec(Box::new(e)))
}

/// The `efnn` blocks of a spec file.
pub fn load_efnns(path: &Path) -> Result<Vec<EfnnSpec>> {
    let file = parse_file(path)?;
    let base = path.parent();
    file.efnns
        .iter()
        .map(|m| EfnnSpec::from_ast(&file, m, base))
        .collect()
}

/// One `efnn` block of a spec file, by name or the first. None if the file has no efnn block, or
/// if `name` is one of its MLP `model`s (so callers can fall back to the MLP loader).
pub fn load_efnn(path: &Path, name: Option<&str>) -> Result<Option<EfnnSpec>> {
    let file = parse_file(path)?;
    let base = path.parent();
    let found = match name {
        None => file.efnns.first(),
        Some(n) => file.efnns.iter().find(|m| m.name == n),
    };
    match (found, name) {
        (Some(m), _) => EfnnSpec::from_ast(&file, m, base).map(Some),
        (None, None) => Ok(None),
        (None, Some(n)) if file.efnns.is_empty() || file.models.iter().any(|m| m.name == n) => {
            Ok(None)
        }
        (None, Some(n)) => Err(Error::invalid(
            format!("no efnn `{n}` in {}", path.display()),
            format!(
                "efnn models there: {}",
                file.efnns
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}
