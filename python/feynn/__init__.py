"""feynn — Feynman rules for neural networks, from Python.

Load a model (a spec file, spec text, a state dict or a PyTorch ``nn.Sequential``), then ask
for its Taylor coefficients (numbers), diagrams, closed forms (SymPy) and LaTeX::

    import feynn
    m = feynn.load("examples/born/born.fnn")
    t = m.taylor(2)                      # c_α = ∂^α y / α! at the origin
    t.coefficients()[(0, 1)]             # the coefficient of x0·x1
    t.tensor(2)                          # the Hessian, shape (64, 64)
    m.taylor(1, at=points)               # a batch: points of shape (P, 64)

The numbers come from the Rust library (weights are bound once per model; each call runs
without the GIL). Errors are :class:`feynn.Error` subclasses (``feynn.errors``).
"""

from __future__ import annotations

import os
import re
from fractions import Fraction

import numpy as np

from . import _feynn, errors
from .errors import (
    ActivationError,
    Error,
    FileError,
    InputError,
    InternalError,
    ShapeError,
    SpecError,
    TooLarge,
    Unavailable,
    UnsupportedModule,
    WeightsError,
)

__version__ = _feynn.__version__
DEFAULT_MEMORY_LIMIT = 8.0 * 1024**3

Taylor = _feynn.Taylor
Plan = _feynn.Plan

__all__ = [
    "load",
    "parse",
    "from_state_dict",
    "from_torch",
    "export_torch",
    "Model",
    "Taylor",
    "Plan",
    "Diagram",
    "Diagrams",
    "ClosedForms",
    "CheckReport",
    "ActionResult",
    "has_symbolic",
    "builtin_activations",
] + errors.__all__


def has_symbolic() -> bool:
    """Whether closed forms (Symbolica, the ``symbolic`` feature) are built in."""
    return _feynn.has_symbolic()


def builtin_activations() -> list:
    """The activation names feynn knows without a definition."""
    return _feynn.builtin_activations()


# ------------------------------------------------------------------------------------------
# Arrays in


def _is_torch_tensor(x) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def _array(x, what="the point"):
    """float64 ndarray of x (numpy, list, scalar or torch tensor), without copying when it is one."""
    if x is None:
        return None
    if _is_torch_tensor(x):
        x = x.detach().cpu().numpy()
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InputError(f"{what} is not an array of numbers ({e})") from None
    return a


def _tensors(mapping, what="the state dict"):
    """{name: float64 ndarray} of a mapping of numpy arrays or torch tensors (others passed as
    they are, so that the library can name their dtype)."""
    if not hasattr(mapping, "items"):
        raise InputError(f"{what} must be a mapping of names to arrays, got {type(mapping).__name__}")
    out = {}
    for k, v in mapping.items():
        if not isinstance(k, str):
            raise InputError(f"{what}: tensor names must be strings, got {k!r}")
        if _is_torch_tensor(v):
            v = v.detach().cpu()
            if v.is_floating_point():
                v = v.double().numpy()
            else:
                out[k] = v.numpy()
                continue
        a = np.asarray(v)
        if a.dtype.kind == "f":
            a = a.astype(np.float64, copy=False)
        out[k] = a
    return out


def _weights_args(weights):
    if weights is None:
        return None, None
    if isinstance(weights, (str, os.PathLike)):
        return os.fspath(weights), None
    return None, _tensors(weights, "weights")


# ------------------------------------------------------------------------------------------
# Constructors


def load(path, weights=None, model=None) -> "Model":
    """A model from a spec file (an MLP ``model``, an ``inn`` or an ``efnn``; by ``model`` name or
    the first). ``weights``: a file (.safetensors, .npz, .json) or a state dict, instead of the
    spec's ``weights`` line."""
    wp, t = _weights_args(weights)
    return Model(_feynn.Core.load(os.fspath(path), wp, t, model))


def parse(text, weights=None, model=None, base=None) -> "Model":
    """A model from spec text; a relative ``weights`` line resolves against ``base`` (default:
    the working directory)."""
    if not isinstance(text, str):
        raise InputError(f"spec text must be a string, got {type(text).__name__}")
    wp, t = _weights_args(weights)
    return Model(_feynn.Core.parse(text, wp, t, model, None if base is None else os.fspath(base)))


_INN_NAME = re.compile(r"^(.*?)(\d+)\.(weight|bias|alpha|beta)$")


def from_state_dict(sd, activation="tanh", output_activation=None, kind="mlp", name="net") -> "Model":
    """A model from a mapping of names to numpy arrays or torch tensors.

    ``kind="mlp"``: ``nn.Sequential`` names (``0.weight``, ``0.bias``, ``2.weight``, …, any common
    prefix), ``activation`` one name for every hidden layer or a list with one per hidden layer,
    ``output_activation`` None (linear) or a name. ``kind="inn"``: an invertible network's
    ``{l}.weight``, ``{l}.bias``, ``{l}.alpha`` (quad) and ``{l}.beta`` (cubic).
    The spec written for it (as ``feynn import`` writes it) is ``m.spec``.
    """
    tensors = _tensors(sd)
    if kind == "inn":
        prefixes = {m.group(1) for m in map(_INN_NAME.match, tensors) if m}
        if len(prefixes) == 1:
            (p,) = prefixes
            tensors = {k[len(p):] if k.startswith(p) else k: v for k, v in tensors.items()}
        return Model(_feynn.Core.from_tensors(tensors, "inn", None, None, name))
    if isinstance(activation, str):
        activation = [activation]
    elif activation is not None:
        activation = list(activation)
        if not all(isinstance(a, str) for a in activation):
            raise InputError("activation must be a name or a list of names")
    return Model(_feynn.Core.from_tensors(tensors, kind, activation, output_activation, name))


def export_torch(spec, model=None) -> str:
    """The Python source of a PyTorch module for a spec (a file path or spec text): what
    ``feynn export torch SPEC`` writes. No weights are needed; the module's ``build()`` loads
    the spec's weights file if it names one."""
    if isinstance(spec, os.PathLike) or (isinstance(spec, str) and "{" not in spec):
        path = os.fspath(spec)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            err = FileError(f"cannot read {path}: {e}")
            err.path = path
            raise err from None
        return _feynn.torch_module_source(text, path, os.path.dirname(path) or ".", model)
    return _feynn.torch_module_source(spec, "<spec>", ".", model)


def from_torch(module) -> "Model":
    """A model from a PyTorch module: an ``nn.Sequential`` of ``Linear`` layers (with bias) and
    supported activation modules (Tanh, Sigmoid, Softplus, SiLU, GELU, Identity; Dropout is
    skipped), or a module written by ``feynn export torch`` / ``Model.to_torch()``.
    Raises :class:`UnsupportedModule` (a ValueError) naming the first module it cannot read."""
    from ._torch import module_to_model

    return module_to_model(module)


# ------------------------------------------------------------------------------------------
# Results


class Diagram:
    """One unlabelled topology of order n: ``tree``, ``automorphisms`` (|Aut|; the symmetry
    factor is ``symmetry_factor`` = 1/|Aut|), ``index_form`` (text), ``latex``, ``svg``."""

    __slots__ = ("order", "tree", "automorphisms", "vertices", "index_form", "latex", "svg")

    def __init__(self, d):
        for k in self.__slots__:
            setattr(self, k, d[k])

    @property
    def symmetry_factor(self) -> Fraction:
        return Fraction(1, self.automorphisms)

    def _repr_svg_(self):
        return self.svg

    def _repr_latex_(self):
        return f"${self.latex}$"

    def __repr__(self):
        return f"<Diagram order {self.order} {self.tree} 1/{self.automorphisms}: {self.index_form}>"


class Diagrams(list):
    """The topologies of one order (a list of :class:`Diagram`), shown as a table in Jupyter."""

    def _repr_html_(self):
        rows = "".join(
            f"<tr><td>{d.svg}</td><td><code>{d.tree}</code></td><td>1/{d.automorphisms}</td>"
            f"<td>${d.latex}$</td></tr>"
            for d in self
        )
        return (
            "<table><tr><th>diagram</th><th>tree</th><th>symmetry factor</th><th>index form</th></tr>"
            f"{rows}</table>"
        )


class ClosedForms:
    """Expanded closed forms of the coefficients c_α (SymPy syntax, from Symbolica).

    ``coefficients(output=0)`` maps each sorted index tuple to a SymPy expression (a string
    when SymPy is not installed); ``symbols`` holds the value of every parameter symbol of a
    model with weights, so ``evaluate()`` gives numbers to compare with ``taylor``.
    """

    def __init__(self, outputs, symbols, widths, order):
        self._outputs = outputs
        self.symbols = dict(symbols)
        self.widths = list(widths)
        self.order = order

    @property
    def output_names(self):
        return [name for name, _ in self._outputs]

    def strings(self, output=0) -> dict:
        return {tuple(i): e for i, e, _ in self._outputs[output][1]}

    def terms(self, output=0) -> dict:
        return {tuple(i): n for i, _, n in self._outputs[output][1]}

    def coefficients(self, output=0) -> dict:
        try:
            from sympy.parsing.sympy_parser import parse_expr
        except ImportError:
            return self.strings(output)
        return {k: parse_expr(v) for k, v in self.strings(output).items()}

    def evaluate(self, output=0, digits=30) -> dict:
        """Each closed form at the model's weights (SymPy, ``digits`` significant digits)."""
        import sympy

        subs = {sympy.Symbol(k): sympy.Float(v, digits) for k, v in self.symbols.items()}
        return {k: float(sympy.N(e.subs(subs), digits)) for k, e in self.coefficients(output).items()}

    def _repr_latex_(self):
        try:
            import sympy
        except ImportError:
            return None
        lines = []
        for idx, e in list(self.coefficients(0).items())[:12]:
            lines.append(rf"c_{{{','.join(map(str, idx))}}} &= {sympy.latex(e)}")
        return "$$\\begin{aligned}" + r"\\".join(lines) + "\\end{aligned}$$"

    def __repr__(self):
        n = sum(len(c) for _, c in self._outputs)
        return f"<feynn ClosedForms: order {self.order}, widths {self.widths}, {n} coefficient(s)>"


class CheckReport:
    """The verdict on a hand-derived claim: ``verified``, ``counterexample`` (dict or None),
    ``diagrams`` (the analysis of a refuted claim: which diagrams it misses), ``report`` (the
    full JSON report as a dict) and ``text``."""

    def __init__(self, js, text):
        import json

        self.report = json.loads(js)
        self.text = text

    @property
    def verified(self) -> bool:
        return self.report["verdict"] == "VERIFIED"

    @property
    def counterexample(self):
        return self.report.get("counterexample")

    @property
    def diagrams(self):
        return self.report.get("diagrams")

    @property
    def max_relative_discrepancy(self) -> float:
        return self.report["max_relative_discrepancy"]

    def __bool__(self):
        return self.verified

    def __repr__(self):
        return self.text

    def _repr_html_(self):
        import html

        colour = "green" if self.verified else "crimson"
        return f"<pre style='color:{colour}'>{html.escape(self.text)}</pre>"


class ActionResult:
    """The action S = −ln p of an invertible network as a :class:`Taylor` result (one output,
    ``S``; ``tensor(k)`` is ∂^k S), plus ``exact_coefficients()`` (Fractions; the constant's
    rational part, without the logarithms) when computed with ``exact=True``."""

    def __init__(self, taylor):
        self._t = taylor

    def __getattr__(self, name):
        return getattr(self._t, name)

    def exact_coefficients(self):
        d = self._t.exact_strings()
        if d is None:
            raise InputError("computed without exact=True")
        return {k: Fraction(v.replace(" ", "")) for k, v in d.items()}

    def _repr_latex_(self):
        return self._t._repr_latex_()

    def __repr__(self):
        return repr(self._t).replace("Taylor", "action")

    def __str__(self):
        return str(self._t)


# ------------------------------------------------------------------------------------------
# The model


class Model:
    """A feynn model: an MLP (``kind == "mlp"``), an invertible network (``"inn"``) or an EFNN
    (``"efnn"``), with its weights bound once. Methods that do not apply to the kind raise
    :class:`InputError`."""

    __slots__ = ("_core",)

    def __init__(self, core):
        self._core = core

    # ---- description
    name = property(lambda self: self._core.name)
    kind = property(lambda self: self._core.kind)
    spec = property(lambda self: self._core.spec, doc="The spec text (None for a file).")
    inputs = property(lambda self: self._core.inputs)
    outputs = property(lambda self: self._core.outputs)
    widths = property(lambda self: self._core.widths)
    activations = property(lambda self: self._core.activations)
    has_weights = property(lambda self: self._core.has_weights)

    def __repr__(self):
        return repr(self._core)

    # ---- numbers
    def forward(self, x):
        """y(x) for one point (d,) or a batch (P, d); an inn's latent point; an efnn's energy."""
        return self._core.forward(_array(x, "x"))

    __call__ = forward

    def plan(self, order, memory_limit=DEFAULT_MEMORY_LIMIT, engine="auto") -> Plan:
        """A prepared expansion of ``order``: the engine (``"auto"``: the cost model's choice;
        ``"diagrams"``, ``"jets"``, ``"series"``) and its monomial basis, built once (raises
        :class:`TooLarge` if it would not fit ``memory_limit`` bytes). ``taylor`` keeps one per
        order anyway; pass one as ``taylor(order, at, plan=p)``, or a name as ``plan="jets"``."""
        return self._core.plan(int(order), float(memory_limit), str(engine))

    def taylor(self, order, at=None, plan=None, memory_limit=DEFAULT_MEMORY_LIMIT) -> Taylor:
        """Taylor coefficients c_α = ∂^α y/α! with |α| ≤ order at ``at`` (None: the origin;
        shape (d,): one point; (P, d): a batch, computed on all cores). ``plan``: a
        :meth:`plan`, or the name of an engine plan (``"auto"``, ``"diagrams"``, ``"jets"``,
        ``"series"``)."""
        if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
            raise InputError(f"order must be a non-negative integer, got {order!r}")
        if isinstance(plan, str):
            plan = self.plan(order, memory_limit, engine=plan)
        return self._core.taylor(int(order), _array(at), plan, float(memory_limit))

    def state_dict(self) -> dict:
        """The parameters as float64 arrays under the names feynn reads (``0.weight``, …)."""
        return self._core.state_dict()

    # ---- diagrams, closed forms, documents, checks
    def diagrams(self, order, max_diagrams=100_000) -> Diagrams:
        """The unlabelled diagrams (topologies) of ``order`` with symmetry factor, index form,
        LaTeX and SVG."""
        return Diagrams(Diagram(d) for d in self._core.diagrams(int(order), int(max_diagrams)))

    def diagram_counts(self, order) -> dict:
        """{"labelled": [...], "unlabelled": [...]}: counts for every order ≤ ``order``."""
        lab, unl = self._core.diagram_counts(int(order))
        return {"labelled": [int(c) for c in lab], "unlabelled": [int(c) for c in unl]}

    def closed_form(self, order, at=None, max_terms=2.0e6) -> ClosedForms:
        """Expanded closed forms of every c_α, |α| ≤ order, in the parameters (Symbolica; needs
        concrete widths). Symbolica runs unlicensed in restricted mode: one Symbolica thread per
        user at a time, and it prints its banner on stdout."""
        if not has_symbolic():
            raise Unavailable("this feynn was built without closed forms (the `symbolic` feature)")
        outs, symbols, widths = self._core.closed_form(int(order), _array(at), float(max_terms))
        return ClosedForms(outs, symbols, widths, int(order))

    def latex(self, order, at=None, max_rows=20, fragment=False) -> str:
        """The LaTeX document of ``feynn latex``: rules, diagrams and (with weights) numbers."""
        return self._core.latex(int(order), _array(at), int(max_rows), bool(fragment))

    def check(self, claim, draws=8, seed=1, tolerance=1e-8, symbolic=True) -> CheckReport:
        """Check a hand-derived formula, e.g. ``"d2y/dx1dx2 = sum(j, W2[1,j]*d2tanh(b1[j])*…)"``:
        symbolically (Symbolica) when possible, then at random parameter draws."""
        js, text = self._core.check(str(claim), int(draws), int(seed), float(tolerance), bool(symbolic))
        return CheckReport(js, text)

    # ---- invertible networks
    def action(self, order=4, at=None, exact=False, logdet=True) -> ActionResult:
        """The action S = −ln p of an inn to ``order`` at ``at`` (monomial coefficients)."""
        return ActionResult(self._core.action(int(order), _array(at), bool(exact), bool(logdet)))

    def log_prob(self, x):
        """ln p(x) of an inn, exact (NaN off the invertible branch); one point or a batch."""
        return self._core.log_prob(_array(x, "x"))

    def sample(self, n, seed=0):
        """``n`` samples (n, N) of an inn: standard normal latents through the inverse."""
        pts, _rejected = self._core.sample(int(n), int(seed))
        return pts

    # ---- PyTorch
    def torch_source(self, weights=None) -> str:
        """The Python source of a PyTorch module for this model (as ``feynn export torch``)."""
        return self._core.torch_source(weights)

    def to_torch(self):
        """A PyTorch ``nn.Module`` (float64) with this model's weights; its ``state_dict`` names
        are the ones ``from_state_dict`` / ``feynn import`` read."""
        from ._torch import model_to_module

        return model_to_module(self)
