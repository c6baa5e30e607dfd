//! PyTorch modules of spec files (`feynn export torch`, `m.to_torch()` in Python): the model of
//! a file dispatched to `feynn::export::torch` (MLP, INN) or to the fully connected EFNN module
//! written here.

use crate::efnn::spec::{Arch, EfnnSpec, Geometry};
use feynn::error::{Error, Result};
use feynn::export::torch::{build_fn, class_name, inn_module, mlp_module, HEADER, LOADER};

/// The Python module of a fully connected EFNN (or one of its baselines).
pub fn efnn_module(spec: &EfnnSpec, weights: Option<&str>, text: Option<&str>) -> Result<String> {
    let Geometry::Dense {
        inputs: l,
        width: m,
    } = spec.geometry
    else {
        return Err(Error::invalid(
            format!(
                "efnn `{}` is convolutional: only fully connected EFNNs are exported to PyTorch",
                spec.name
            ),
            "export a model with `input L width M`",
        ));
    };
    let class = class_name(&spec.name);
    let n = spec.depth;
    let mut init = Vec::new();
    let mut blk = |name: String, fan_in: usize| {
        init.push(format!("        self.{name} = block({fan_in}, {m})"))
    };
    let body: String = match spec.arch {
        Arch::Efnn => {
            blk("f0".into(), l);
            for i in 1..n {
                blk(format!("f{i}"), m);
            }
            for i in 1..=n {
                blk(format!("g{i}"), l);
            }
            format!("        s = s0\n        for i in range(1, {n} + 1):\n            s = getattr(self, f\"g{{i}}\")(s0) * getattr(self, f\"f{{i - 1}}\")(s)\n        return s.sum(1)\n")
        }
        Arch::Dnn => {
            blk("f0".into(), l);
            for i in 1..n {
                blk(format!("f{i}"), m);
            }
            for i in 1..=n {
                blk(format!("h{i}"), m);
            }
            format!("        s = s0\n        for i in range(1, {n} + 1):\n            s = getattr(self, f\"h{{i}}\")(getattr(self, f\"f{{i - 1}}\")(s))\n        return s.sum(1)\n")
        }
        Arch::ResNet => {
            let proj = m != l;
            blk("f0".into(), l);
            for i in 1..n {
                blk(format!("f{i}"), m);
            }
            if proj {
                init.push(format!("        self.proj = nn.Linear({l}, {m})"));
            }
            format!(
                "        p = {}\n        s = p + self.f0(s0)\n        for i in range(1, {n}):\n            s = s + getattr(self, f\"f{{i}}\")(s)\n        return s.sum(1)\n",
                if proj { "self.proj(s0)" } else { "s0" }
            )
        }
        Arch::DenseNet => {
            for i in 1..=n {
                blk(format!("f{i}"), l + (i - 1) * m);
            }
            format!("        feats = [s0]\n        for i in range(1, {n} + 1):\n            feats.append(getattr(self, f\"f{{i}}\")(torch.cat(feats, 1)))\n        return torch.cat(feats, 1).sum(1)\n")
        }
    };
    Ok(format!(
        r#""""PyTorch module for the feynn efnn `{name}` (arch {arch}; written by feynn; state_dict names as feynn reads them)."""
{HEADER}
def block(fan_in, width):
    """Linear -> tanh -> Linear (names `.0.weight`, `.2.weight`)."""
    return nn.Sequential(nn.Linear(fan_in, width), nn.Tanh(), nn.Linear(width, width))


class Scale(nn.Module):
    """Input standardisation (x - x_mean) / x_std and output scaling y[0] * raw + y[1]."""

    def __init__(self, inputs):
        super().__init__()
        self.register_buffer("x_mean", torch.zeros(inputs))
        self.register_buffer("x_std", torch.ones(inputs))
        self.register_buffer("y", torch.tensor([1.0, 0.0]))


class {class}(nn.Module):
    """E(s) of {l} inputs, width {m}, depth {n}."""

    def __init__(self):
        super().__init__()
{init}
        self.scale = Scale({l})

    def raw(self, s0):
{body}
    def forward(self, s):
        s0 = (s - self.scale.x_mean) / self.scale.x_std
        return self.scale.y[0] * self.raw(s0) + self.scale.y[1]
{LOADER}{}"#,
        build_fn(&class, &spec.name, weights, text),
        name = spec.name,
        arch = spec.arch.name(),
        init = init.join("\n"),
    ))
}

/// The Python module for the model `name` (default: the first) of spec text: an MLP `model`
/// (every width concrete), an `inn` or a fully connected `efnn`. Its `WEIGHTS` is the spec's
/// `weights` file (resolved against `base`), its `FEYNN_SPEC` the spec text.
pub fn module_for_spec(
    path: &str,
    source: &str,
    base: Option<&std::path::Path>,
    name: Option<&str>,
) -> Result<String> {
    let file = feynn::dsl::parse_spec(path, source)?;
    let has = |names: Vec<&str>| match name {
        Some(n) => names.contains(&n),
        None => !names.is_empty(),
    };
    // absolute, so that the module finds the file from any working directory
    let shown = |p: &std::path::PathBuf| {
        std::fs::canonicalize(p)
            .unwrap_or_else(|_| p.clone())
            .display()
            .to_string()
    };
    if has(file.models.iter().map(|m| m.name.as_str()).collect()) {
        let models = feynn::model::parse_models(path, source, base)?;
        let model = feynn::model::select_model(models, name, path)?;
        let widths = model.fixed_widths().ok_or_else(|| {
            Error::invalid(
                format!("model `{}` has symbolic widths", model.name),
                "a PyTorch module needs a number for every width",
            )
        })?;
        let w = model.weights_file.as_ref().map(shown);
        return mlp_module(&model, &widths, w.as_deref(), Some(source));
    }
    if has(file.inns.iter().map(|m| m.name.as_str()).collect()) {
        let inns = feynn::model::inn::parse_inns(path, source, base)?;
        let spec = inns
            .into_iter()
            .find(|m| name.is_none_or(|n| m.name == n))
            .expect("found above");
        let w = spec.weights_file.as_ref().map(shown);
        return inn_module(&spec, w.as_deref(), Some(source));
    }
    let ast = file
        .efnns
        .iter()
        .find(|m| name.is_none_or(|n| m.name == n))
        .ok_or_else(|| match name {
            Some(n) => Error::invalid(
                format!("{path} has no model `{n}`"),
                "name a `model`, `inn` or `efnn` of the file",
            ),
            None => Error::invalid(format!("{path} defines no model"), "add a `model` block"),
        })?;
    let spec = EfnnSpec::from_ast(&file, ast, base)?;
    let w = spec.weights_file.as_ref().map(shown);
    efnn_module(&spec, w.as_deref(), Some(source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlp_module_has_sequential_layers_and_the_spec() {
        let src = "model born { input 4 layer 3 tanh layer 3 sin output 1 sigmoid }";
        let py = module_for_spec("t.fnn", src, None, None).unwrap();
        for want in [
            "class Born(nn.Sequential)",
            "nn.Linear(4, 3),\n            nn.Tanh(),\n            nn.Linear(3, 3),\n            Sin(),\n            nn.Linear(3, 1),\n            nn.Sigmoid(),",
            "FEYNN_SPEC = \"model born { input 4",
            "WEIGHTS = None",
        ] {
            assert!(py.contains(want), "{want} not in\n{py}");
        }
    }

    #[test]
    fn refusals_name_the_reason() {
        let e = module_for_spec(
            "t.fnn",
            "model m { input d layer 3 tanh output 1 }",
            None,
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("symbolic widths"), "{e}");
        let e = module_for_spec(
            "t.fnn",
            "model m { input 2 layer 3 sigma output 1 }",
            None,
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("generic activation"), "{e}");
        let src = "efnn c { arch efnn input lattice channels 2 kernel 3 depth 1 }";
        let e = module_for_spec("t.fnn", src, None, None).unwrap_err();
        assert!(e.to_string().contains("convolutional"), "{e}");
    }

    #[test]
    fn python_strings_escape_quotes_and_newlines() {
        assert_eq!(
            feynn::export::torch::python_str("a\"b\\c\nd→"),
            "\"a\\\"b\\\\c\\nd→\""
        );
    }
}
