"""Taylor coefficients and derivative tensors against mpmath (40 digits), batches, JSON."""

import itertools
import json
import math
import threading

import mpmath
import numpy as np
import pytest

import feynn
from conftest import (
    EXAMPLES,
    close,
    mp_derivative,
    mp_forward,
    multiplicities,
    random_mlp,
)

mpmath.mp.dps = 40

CASES = [
    # widths, hidden activations, output activation, order
    ([2, 4, 1], ["tanh"], None, 4),
    ([3, 4, 3, 2], ["sigmoid", "silu"], None, 3),
    ([2, 3, 3, 1], ["gelu", "softplus"], "tanh", 3),
    ([3, 5, 1], ["sin"], "sigmoid", 3),
]


@pytest.mark.parametrize("widths,acts,out_act,order", CASES)
def test_coefficients_match_mpmath_derivatives(widths, acts, out_act, order):
    rng = np.random.default_rng(sum(widths) + order)
    sd = random_mlp(rng, widths)
    m = feynn.from_state_dict(sd, activation=acts, output_activation=out_act)
    x0 = rng.normal(0, 0.5, widths[0])
    t = m.taylor(order, at=x0)
    d = widths[0]
    for o in range(widths[-1]):
        got = t.coefficients(o)
        # every monomial of degree ≤ order, and nothing else
        assert len(got) == math.comb(d + order, order)
        f = lambda xs: mp_forward(sd, acts, xs, out_act)[o]
        for k in range(order + 1):
            idx_k = [i for i in got if len(i) == k]
            assert idx_k == sorted(itertools.combinations_with_replacement(range(d), k))
            want = {}
            for idx in idx_k:
                alpha = multiplicities(idx, d)
                fact = math.prod(math.factorial(a) for a in alpha)
                want[idx] = float(mp_derivative(f, x0, alpha) / fact)
            scale = max(abs(v) for v in want.values())
            for idx in idx_k:
                assert close(got[idx], want[idx], scale), (o, idx, got[idx], want[idx])


def test_tensor_is_the_symmetric_derivative():
    rng = np.random.default_rng(7)
    widths, acts = [3, 4, 4, 1], ["tanh", "silu"]
    sd = random_mlp(rng, widths)
    m = feynn.from_state_dict(sd, activation=acts)
    x0 = rng.normal(0, 0.5, 3)
    t = m.taylor(3, at=x0)
    f = lambda xs: mp_forward(sd, acts, xs)[0]
    assert t.tensor(0).shape == ()
    assert float(t.tensor(0)) == pytest.approx(float(f(list(x0))), rel=1e-13)
    for k in (1, 2, 3):
        T = t.tensor(k)
        assert T.shape == (3,) * k
        scale = np.abs(T).max()
        for idx in itertools.product(range(3), repeat=k):
            want = float(mp_derivative(f, x0, multiplicities(idx, 3)))
            assert close(T[idx], want, scale), (idx, T[idx], want)
    # no 1/k!: T[i,i] = 2 c_(i,i)
    c = t.coefficients()
    assert t.tensor(2)[1, 1] == pytest.approx(2 * c[(1, 1)], rel=1e-15)
    assert t.tensor(3)[2, 0, 2] == pytest.approx(2 * c[(0, 2, 2)], rel=1e-15)


def test_batch_equals_per_point():
    rng = np.random.default_rng(3)
    sd = random_mlp(rng, [3, 5, 4, 2])
    m = feynn.from_state_dict(sd, activation=["tanh", "gelu"])
    pts = rng.normal(0, 1, (7, 3))
    tb = m.taylor(3, at=pts)
    assert tb.is_batch and tb.values.shape == (7, 2, math.comb(6, 3))
    for p in range(7):
        t1 = m.taylor(3, at=pts[p])
        np.testing.assert_array_equal(tb.values[p], t1.values)
        for o in range(2):
            np.testing.assert_array_equal(tb.tensor(2, o)[p], t1.tensor(2, o))
            cb, c1 = tb.coefficients(o), t1.coefficients(o)
            assert all(cb[k][p] == c1[k] for k in c1)
    assert json.loads(tb.to_json())[4]["point"] == list(pts[4])


def test_forward_and_constant_term_and_json_schema():
    m = feynn.load(EXAMPLES / "born" / "born.fnn")
    assert (m.kind, m.inputs, m.outputs, m.widths) == ("mlp", 64, 1, [64, 16, 16, 1])
    x = np.linspace(-0.1, 0.1, 64)
    t = m.taylor(2, at=x)
    assert t.coefficients()[()] == pytest.approx(m.forward(x)[0], rel=1e-14)
    doc = json.loads(t.to_json())
    assert doc["model"] == "born" and doc["order"] == 2 and doc["inputs"] == 64
    assert doc["point"] == list(x)
    coeffs = doc["outputs"][0]["coefficients"]
    assert len(coeffs) == math.comb(66, 2) == 2145
    c = t.coefficients()
    assert all(c[tuple(e["index"])] == e["value"] for e in coeffs)
    # the Hessian is symmetric and is 2 c on the diagonal
    H = t.tensor(2)
    np.testing.assert_array_equal(H, H.T)
    assert H[5, 5] == 2 * c[(5, 5)]


def test_plans_are_reused_and_threads_agree():
    rng = np.random.default_rng(11)
    sd = random_mlp(rng, [4, 8, 8, 1])
    m = feynn.from_state_dict(sd)
    p = m.plan(3)
    assert p.order == 3 and p.size == math.comb(7, 3)
    pts = rng.normal(0, 1, (16, 4))
    want = [m.taylor(3, at=x, plan=p).values for x in pts]
    out = [None] * 16

    def work(i):
        for _ in range(20):
            out[i] = m.taylor(3, at=pts[i]).values

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for a, b in zip(out, want):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(feynn.InputError, match="plan is for order 3"):
        m.taylor(2, plan=p)


def test_torch_tensors_and_lists_are_accepted():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    sd = random_mlp(rng, [2, 3, 1])
    m = feynn.from_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    m2 = feynn.from_state_dict(sd)
    np.testing.assert_array_equal(
        m.taylor(2, at=torch.tensor([0.1, 0.2], dtype=torch.float64)).values, m2.taylor(2, at=[0.1, 0.2]).values
    )


def test_every_engine_plan_agrees_with_the_series_engine():
    """The plans of the engine (dense diagrams, directional jets, the multivariate series) are
    independent routes; on a random network they agree to 1e-12 relative."""
    rng = np.random.default_rng(7)
    sd = random_mlp(rng, [3, 5, 4, 2])
    m = feynn.from_state_dict(sd, activation="tanh")
    x = np.array([0.2, -0.4, 0.1])
    for order in (2, 3):
        ref = m.taylor(order, at=x, plan="series").values
        for engine in ("diagrams", "jets", "auto"):
            got = m.taylor(order, at=x, plan=engine).values
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert m.plan(3, engine="jets").engine == "jets"
    with pytest.raises(feynn.InputError, match="unknown plan"):
        m.taylor(2, plan="fastest")
