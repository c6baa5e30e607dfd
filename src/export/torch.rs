//! PyTorch modules for MLP and INN specs (`feynn export torch`, `m.to_torch()` in Python); the
//! EFNN module and the dispatch over a spec file's models are `feynn_studies::torch`.
//!
//! The generated Python module defines one `nn.Module` class whose `state_dict` names are the
//! names feynn reads: an MLP is an `nn.Sequential(Linear, act, …, Linear)` (`0.weight`, `0.bias`,
//! `2.weight`, …, as `feynn import` expects), an invertible network an `nn.Sequential` of
//! layers with `{l}.weight`, `{l}.bias`, `{l}.alpha`, `{l}.beta` (as `feynn import --kind inn`),
//! and a fully connected EFNN the blocks `f0.0.weight`, `g1.2.bias`, … and the buffers
//! `scale.x_mean`, `scale.x_std`, `scale.y` of `feynn_studies::efnn`. Train it with PyTorch (any
//! device, `torch.distributed`), save the `state_dict` (safetensors, or `.npz` of numpy
//! arrays), and read it back with the same spec.
//!
//! The module also has a `build(weights=WEIGHTS)` function that creates the network in float64
//! and loads a weights file (.safetensors, .npz or feynn's .json).

use crate::dsl::Expr;
use crate::error::{Error, Result};
use crate::model::inn::{InnSpec, Phi};
use crate::model::{Activation, Builtin, Model};

/// The Python expression of a built-in activation module.
fn builtin_module(b: Builtin) -> &'static str {
    match b {
        Builtin::Tanh => "nn.Tanh()",
        Builtin::Sigmoid => "nn.Sigmoid()",
        Builtin::Softplus => "nn.Softplus()",
        Builtin::Silu => "nn.SiLU()",
        // feynn's gelu is the exact erf form, PyTorch's default
        Builtin::Gelu => "nn.GELU()",
        Builtin::Sin => "Sin()",
        Builtin::Identity => "nn.Identity()",
    }
}

/// A spec expression in `z` as a torch expression.
pub fn torch_expr(e: &Expr) -> Result<String> {
    Ok(match e {
        Expr::Num(v, _) => format!("{v:?}"),
        Expr::Var(v) if v == "z" => "z".into(),
        Expr::Var(v) => {
            return Err(Error::invalid(
                format!("the activation uses the free name `{v}`"),
                "define it with `let` so that the activation is a function of z alone",
            ))
        }
        Expr::Neg(a) => format!("(-{})", torch_expr(a)?),
        Expr::Add(a, b) => format!("({} + {})", torch_expr(a)?, torch_expr(b)?),
        Expr::Sub(a, b) => format!("({} - {})", torch_expr(a)?, torch_expr(b)?),
        Expr::Mul(a, b) => format!("({} * {})", torch_expr(a)?, torch_expr(b)?),
        Expr::Div(a, b) => format!("({} / {})", torch_expr(a)?, torch_expr(b)?),
        Expr::Pow(a, b) => format!("({} ** {})", torch_expr(a)?, torch_expr(b)?),
        Expr::Call(f, args) => {
            let a = args
                .iter()
                .map(torch_expr)
                .collect::<Result<Vec<_>>>()?
                .join(", ");
            let a = if matches!(args.first(), Some(Expr::Num(..))) {
                format!("torch.as_tensor({a}, dtype=torch.float64)")
            } else {
                a
            };
            match f.as_str() {
                "softplus" => format!("F.softplus({a})"),
                "exp" | "log" | "sin" | "cos" | "tanh" | "sigmoid" | "erf" | "sqrt" => {
                    format!("torch.{f}({a})")
                }
                other => {
                    return Err(Error::invalid(
                        format!("no torch function for `{other}`"),
                        "use the functions of the spec language",
                    ))
                }
            }
        }
    })
}

/// The imports every generated module starts with.
pub const HEADER: &str = "import math\n\nimport numpy as np\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n";

/// A Python class name (CamelCase) for a model name.
pub fn class_name(name: &str) -> String {
    let mut s: String = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "Net");
    }
    s
}

/// The loader shared by every generated module: a weights file into a state_dict of tensors.
pub const LOADER: &str = r#"

def load_weights(path):
    """A weights file (.safetensors, .npz, or feynn's .json) as a dict of float64 tensors."""
    path = str(path)
    if path.endswith(".safetensors") or path.endswith(".st"):
        from safetensors.numpy import load_file
        arrays = load_file(path)
    elif path.endswith(".npz"):
        with np.load(path) as f:
            arrays = {k: f[k] for k in f.files}
    elif path.endswith(".json"):
        import json
        with open(path) as f:
            layers = json.load(f)
        inn = layers.get("kind") == "inn"
        arrays = {}
        for l, layer in enumerate(layers["layers"]):
            k = l if inn else 2 * l
            arrays[f"{k}.weight"] = np.asarray(layer.get("W", layer.get("weight")), dtype=float)
            arrays[f"{k}.bias"] = np.asarray(layer.get("b", layer.get("bias")), dtype=float)
            for p in ("alpha", "beta"):
                if p in layer:
                    arrays[f"{k}.{p}"] = np.asarray(layer[p], dtype=float)
    else:
        raise ValueError(f"unknown weights format: {path} (use .safetensors, .npz or .json)")
    return {k: torch.as_tensor(np.asarray(v, dtype=np.float64)) for k, v in arrays.items()}
"#;

/// A Python string literal (double quotes; escapes for backslash, quotes and control
/// characters; everything else verbatim, so the file stays readable).
pub fn python_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out += "\\\\",
            '"' => out += "\\\"",
            '\n' => out += "\\n",
            '\r' => out += "\\r",
            '\t' => out += "\\t",
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out += &format!("\\x{:02x}", c as u32),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The module's tail: `FEYNN_SPEC`, `MODEL`, `WEIGHTS` and `build(weights=WEIGHTS)`.
pub fn build_fn(class: &str, name: &str, weights: Option<&str>, spec: Option<&str>) -> String {
    format!(
        "\n\n# The feynn spec this module was written for (feynn.from_torch reads it back).\nFEYNN_SPEC = {}\n{class}.feynn_spec = FEYNN_SPEC\n{class}.feynn_name = {}\nMODEL = {class}\nWEIGHTS = {}\n\n\ndef build(weights=WEIGHTS):\n    \"\"\"The network in float64, with the weights of `weights` (a file or a state_dict) if given.\"\"\"\n    net = {class}().double()\n    if weights is not None:\n        sd = load_weights(weights) if isinstance(weights, (str, bytes)) or hasattr(weights, \"__fspath__\") else weights\n        net.load_state_dict(sd, strict=False)\n    return net\n",
        spec.map_or("None".into(), python_str),
        python_str(name),
        weights.map_or("None".into(), python_str)
    )
}

/// The Python module of an MLP with concrete widths n_0..n_L (from the spec or from weights).
pub fn mlp_module(
    model: &Model,
    widths: &[usize],
    weights: Option<&str>,
    spec: Option<&str>,
) -> Result<String> {
    if widths.len() != model.layers.len() + 1 {
        return Err(Error::invalid(
            format!(
                "{} widths for a model of {} layers",
                widths.len(),
                model.layers.len()
            ),
            "give n_0 .. n_L",
        ));
    }
    let class = class_name(&model.name);
    let mut extra = String::new();
    let mut mods = Vec::new();
    let mut uses_sin = false;
    for (l, layer) in model.layers.iter().enumerate() {
        mods.push(format!("nn.Linear({}, {})", widths[l], widths[l + 1]));
        if let Some(act) = &layer.activation {
            mods.push(match act {
                Activation::Builtin(b) => {
                    uses_sin |= *b == Builtin::Sin;
                    builtin_module(*b).to_string()
                }
                Activation::Custom { name, body } => {
                    let cls = format!("Act{}", class_name(name));
                    if !extra.contains(&format!("class {cls}(")) {
                        extra += &format!(
                            "\n\nclass {cls}(nn.Module):\n    \"\"\"The spec's activation `{name}`.\"\"\"\n\n    def forward(self, z):\n        return {}\n",
                            torch_expr(body)?
                        );
                    }
                    format!("{cls}()")
                }
                Activation::Sigma => {
                    return Err(Error::invalid(
                        format!("layer {} has the generic activation `sigma`", l + 1),
                        "a PyTorch module needs a concrete activation (tanh, silu, … or your own)",
                    ))
                }
            });
        } else if l + 1 < model.layers.len() {
            mods.push("nn.Identity()".into());
        }
    }
    if uses_sin {
        extra = format!(
            "\n\nclass Sin(nn.Module):\n    def forward(self, z):\n        return torch.sin(z)\n{extra}"
        );
    }
    let body: Vec<String> = mods.iter().map(|m| format!("            {m},")).collect();
    Ok(format!(
        "\"\"\"PyTorch module for the feynn model `{name}` (written by feynn; state_dict names as `feynn import` reads them).\"\"\"\n{HEADER}{extra}\n\nclass {class}(nn.Sequential):\n    \"\"\"{arch}\"\"\"\n\n    def __init__(self):\n        super().__init__(\n{}\n        )\n{LOADER}{}",
        body.join("\n"),
        build_fn(&class, &model.name, weights, spec),
        name = model.name,
        arch = widths
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join(" -> "),
    ))
}

/// The Python module of an invertible network (data → latent), with `log_prob(x)`, the exact
/// log-density by the change of variables, and `inverse(z)` is left to feynn.
pub fn inn_module(spec: &InnSpec, weights: Option<&str>, text: Option<&str>) -> Result<String> {
    let class = class_name(&spec.name);
    let n = spec.dim;
    let mut layers = Vec::new();
    for ls in &spec.layers {
        layers.push(match &ls.phi {
            Phi::Linear => format!("InnLayer({n}, \"linear\")"),
            Phi::Quad => format!("InnLayer({n}, \"quad\")"),
            Phi::Cubic => format!("InnLayer({n}, \"cubic\")"),
            Phi::Poly { coeffs, .. } => {
                let c: Vec<String> = coeffs
                    .iter()
                    .map(|q| {
                        let f = num_traits::ToPrimitive::to_f64(q).unwrap_or(f64::NAN);
                        format!("{f:?}")
                    })
                    .collect();
                format!("InnLayer({n}, [{}])", c.join(", "))
            }
        });
    }
    let body: Vec<String> = layers.iter().map(|m| format!("            {m},")).collect();
    Ok(format!(
        r#""""PyTorch module for the feynn inn `{name}` (written by feynn; state_dict names as `feynn import --kind inn` reads them)."""
{HEADER}
class InnLayer(nn.Module):
    """h = W y + b, then y'_i = phi(h_i): `quad` h + alpha h^2, `cubic` h + alpha h^2 + beta h^3
    (alpha, beta per neuron), `linear` h, or a fixed polynomial (ascending coefficients)."""

    def __init__(self, n, kind):
        super().__init__()
        self.n = n
        self.kind = kind
        self.weight = nn.Parameter(torch.eye(n))
        self.bias = nn.Parameter(torch.zeros(n))
        if kind in ("quad", "cubic"):
            self.alpha = nn.Parameter(torch.zeros(n))
        if kind == "cubic":
            self.beta = nn.Parameter(torch.full((n,), 0.1))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # feynn accepts alpha and beta per layer ([] or [1]) or per neuron ([N])
        for p in ("alpha", "beta"):
            k = prefix + p
            if k in state_dict and state_dict[k].numel() == 1 and self.n != 1:
                state_dict[k] = state_dict[k].reshape(()).expand(self.n).clone()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def coefficients(self):
        """Per neuron the ascending coefficients of phi, shape [n, degree + 1]."""
        one = torch.ones(self.n, dtype=self.weight.dtype, device=self.weight.device)
        zero = torch.zeros_like(one)
        if self.kind == "linear":
            return torch.stack([zero, one], 1)
        if self.kind == "quad":
            return torch.stack([zero, one, self.alpha], 1)
        if self.kind == "cubic":
            return torch.stack([zero, one, self.alpha, self.beta], 1)
        c = torch.as_tensor(self.kind, dtype=self.weight.dtype, device=self.weight.device)
        return c.unsqueeze(0).expand(self.n, -1)

    def forward(self, y):
        h = y @ self.weight.T + self.bias
        c = self.coefficients()
        out = torch.zeros_like(h)
        for r in range(c.shape[1] - 1, -1, -1):
            out = out * h + c[:, r]
        return out

    def log_abs_slope(self, y):
        """(phi(h), sum_i ln|phi'(h_i)|) for a batch y."""
        h = y @ self.weight.T + self.bias
        c = self.coefficients()
        out = torch.zeros_like(h)
        d = torch.zeros_like(h)
        for r in range(c.shape[1] - 1, -1, -1):
            out = out * h + c[:, r]
            if r >= 1:
                d = d * h + r * c[:, r]
        return out, torch.log(torch.abs(d)).sum(-1)


class {class}(nn.Sequential):
    """An invertible network of dimension {n}, data -> latent; the latent is standard normal."""

    def __init__(self):
        super().__init__(
{body}
        )

    def log_prob(self, x):
        """ln p(x) = ln N(f(x); 0, I) + sum_l (ln|det W_l| + sum_i ln|phi'(h_i)|), exact."""
        y = x
        logdet = torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)
        for layer in self:
            y, slope = layer.log_abs_slope(y)
            logdet = logdet + slope + torch.linalg.slogdet(layer.weight)[1]
        n = x.shape[-1]
        return -0.5 * (y * y).sum(-1) - 0.5 * n * math.log(2 * math.pi) + logdet

    def action(self, x):
        """S(x) = -ln p(x)."""
        return -self.log_prob(x)
{LOADER}{}"#,
        build_fn(&class, &spec.name, weights, text),
        name = spec.name,
        body = body.join("\n"),
    ))
}
