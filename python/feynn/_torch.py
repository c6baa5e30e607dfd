"""The bridge to PyTorch: ``from_torch`` and ``Model.to_torch``."""

from __future__ import annotations

import types

from .errors import InternalError, Unavailable, UnsupportedModule


def _torch():
    try:
        import torch
    except ImportError:
        raise Unavailable("PyTorch is not installed (pip install torch)") from None
    return torch


def _activation_name(mod, nn):
    """The feynn name of an activation module, or None."""
    if isinstance(mod, nn.Tanh):
        return "tanh"
    if isinstance(mod, nn.Sigmoid):
        return "sigmoid"
    if isinstance(mod, nn.SiLU):
        return "silu"
    if isinstance(mod, nn.Identity):
        return "identity"
    if isinstance(mod, nn.GELU) and getattr(mod, "approximate", "none") == "none":
        return "gelu"
    if isinstance(mod, nn.Softplus) and mod.beta == 1:
        return "softplus"
    # a module feynn wrote for `sin`
    if type(mod).__name__ == "Sin" and not list(mod.parameters()):
        return "sin"
    return None


def module_to_model(module):
    from . import from_state_dict, parse

    torch = _torch()
    nn = torch.nn
    if not isinstance(module, nn.Module):
        raise UnsupportedModule(f"from_torch takes a torch.nn.Module, got {type(module).__name__}")
    # a module written by feynn (export torch / to_torch) carries its spec
    spec = getattr(module, "feynn_spec", None)
    if spec is not None and (not isinstance(module, nn.Sequential) or _is_inn(module)):
        return parse(spec, weights=module.state_dict(), model=getattr(module, "feynn_name", None))
    if not isinstance(module, nn.Sequential):
        e = UnsupportedModule(
            f"from_torch reads an nn.Sequential of Linear and activation modules, got {type(module).__name__}"
        )
        e.module = type(module).__name__
        raise e
    linears, acts = [], []
    pending = None  # the activation after the last Linear
    for i, (name, mod) in enumerate(module.named_children()):
        if isinstance(mod, nn.Linear):
            if mod.bias is None:
                e = UnsupportedModule(f"module {name} (Linear without bias): feynn needs bias=True")
                e.index, e.module = i, "Linear(bias=False)"
                raise e
            if linears:
                acts.append(pending or "identity")
            linears.append(mod)
            pending = None
            continue
        if isinstance(mod, nn.Dropout):
            continue  # the identity in evaluation
        a = _activation_name(mod, nn)
        if a is None or not linears or pending is not None:
            why = (
                "two activations in a row"
                if a is not None and pending is not None
                else "an activation before the first Linear"
                if a is not None
                else "not a supported module (Linear, Tanh, Sigmoid, Softplus, SiLU, GELU, Identity)"
            )
            e = UnsupportedModule(f"module {name} ({mod!r}) is {why}" if a is None else f"module {name} ({mod!r}): {why}")
            e.index, e.module = i, type(mod).__name__
            raise e
        pending = a
    if not linears:
        raise UnsupportedModule("the Sequential holds no Linear layer")
    sd = {}
    for l, lin in enumerate(linears):
        sd[f"{2 * l}.weight"] = lin.weight
        sd[f"{2 * l}.bias"] = lin.bias
    out = None if pending in (None, "identity") else pending
    hidden = acts if acts else None
    return from_state_dict(sd, activation=hidden, output_activation=out, name=getattr(module, "feynn_name", "net") or "net")


def _is_inn(module):
    return hasattr(module, "log_prob")


def model_to_module(model):
    torch = _torch()
    src = model.torch_source()
    mod = types.ModuleType(f"feynn_torch_{model.name}")
    mod.__dict__["__file__"] = f"<feynn torch module for {model.name}>"
    exec(compile(src, mod.__file__, "exec"), mod.__dict__)
    net = mod.MODEL().double()
    sd = {k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()}
    missing, unexpected = net.load_state_dict(sd, strict=False)
    # efnn scale buffers are optional in feynn (absent: no scaling; the module's defaults agree)
    missing = [k for k in missing if not k.startswith("scale.")]
    if missing or unexpected:
        raise InternalError(f"the torch module's names do not match feynn's: missing {missing}, unexpected {unexpected}")
    return net
