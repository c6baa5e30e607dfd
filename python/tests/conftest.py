"""Shared helpers: random networks as state dicts, and an independent high-precision route
(mpmath forward passes and derivatives) to check the library's numbers against."""

import os
import pathlib

import mpmath
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# mpmath versions of feynn's built-in activations (book/src/dsl.md)
MP_ACT = {
    "tanh": mpmath.tanh,
    "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z)),
    "softplus": lambda z: mpmath.log(1 + mpmath.exp(z)),
    "silu": lambda z: z / (1 + mpmath.exp(-z)),
    "gelu": lambda z: z * (1 + mpmath.erf(z / mpmath.sqrt(2))) / 2,
    "sin": mpmath.sin,
    "identity": lambda z: z,
}


def random_mlp(rng, widths, scale=0.8):
    """nn.Sequential state dict {0.weight, 0.bias, 2.weight, ...} of float64 numpy arrays."""
    sd = {}
    for l in range(len(widths) - 1):
        sd[f"{2 * l}.weight"] = rng.normal(0, scale, (widths[l + 1], widths[l]))
        sd[f"{2 * l}.bias"] = rng.normal(0, 0.3, widths[l + 1])
    return sd


def mp_forward(sd, acts, x, out_act=None):
    """y(x) in mpmath from the same weights (hidden activations `acts`, one per hidden layer)."""
    layers = len(sd) // 2
    a = [mpmath.mpf(v) for v in x]
    for l in range(layers):
        w, b = sd[f"{2 * l}.weight"], sd[f"{2 * l}.bias"]
        z = [sum((mpmath.mpf(float(w[i, j])) * a[j] for j in range(len(a))), mpmath.mpf(float(b[i]))) for i in range(w.shape[0])]
        f = MP_ACT[acts[l]] if l < layers - 1 else (MP_ACT[out_act] if out_act else None)
        a = [f(v) for v in z] if f else z
    return a


def mp_derivative(f, x0, alpha):
    """∂^alpha f at x0 (alpha a multiplicity vector), by mpmath's high-precision differences."""
    return mpmath.diff(lambda *xs: f(list(xs)), [mpmath.mpf(v) for v in x0], tuple(alpha))


def multiplicities(index, d):
    m = [0] * d
    for i in index:
        m[i] += 1
    return m


def close(a, b, scale, rel=1e-10):
    """|a − b| ≤ rel · max(|b|, scale): relative, with the order's largest coefficient as the
    floor so that a coefficient that cancels to ~0 is judged against the terms it came from."""
    return abs(a - b) <= rel * max(abs(b), scale)


def cli_binary():
    """The feynn CLI built by `cargo build` (for the comparisons with the CLI), or None."""
    cand = [os.environ.get("FEYNN_CLI")]
    target = os.environ.get("CARGO_TARGET_DIR")
    for t in [target, str(ROOT / "target"), os.path.expanduser("~/.cache/feynn-target")]:
        if t:
            cand += [os.path.join(t, "debug", "feynn"), os.path.join(t, "release", "feynn")]
    for c in cand:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
