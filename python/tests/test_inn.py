"""Invertible networks: the action S = −ln p against mpmath, exact arithmetic, sampling."""

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

import feynn
from conftest import EXAMPLES, close, mp_derivative, multiplicities

mpmath.mp.dps = 40


def mp_action(sd, kinds, n):
    """S(x) = ½|f(x)|² + N/2 ln 2π − Σ ln|det W| − Σ ln|φ'(h)| in mpmath, from the weights."""

    def S(x):
        y = [mpmath.mpf(v) for v in x]
        s = mpmath.mpf(0)
        for l, kind in enumerate(kinds):
            W = mpmath.matrix([[float(v) for v in row] for row in sd[f"{l}.weight"]])
            b = sd[f"{l}.bias"]
            h = [sum((W[i, j] * y[j] for j in range(n)), mpmath.mpf(float(b[i]))) for i in range(n)]
            a = sd.get(f"{l}.alpha", np.zeros(n)) * np.ones(n)
            be = sd.get(f"{l}.beta", np.zeros(n)) * np.ones(n)
            if kind == "linear":
                a, be = np.zeros(n), np.zeros(n)
            y = [h[i] + float(a[i]) * h[i] ** 2 + float(be[i]) * h[i] ** 3 for i in range(n)]
            s -= mpmath.log(abs(mpmath.det(W)))
            for i in range(n):
                s -= mpmath.log(abs(1 + 2 * float(a[i]) * h[i] + 3 * float(be[i]) * h[i] ** 2))
        return s + sum(v * v for v in y) / 2 + n * mpmath.log(2 * mpmath.pi) / 2

    return S


def test_action_matches_mpmath_derivatives():
    rng = np.random.default_rng(8)
    n, kinds = 2, ["quad", "cubic", "linear"]
    sd = {}
    for l, k in enumerate(kinds):
        sd[f"{l}.weight"] = np.eye(n) + rng.normal(0, 0.3, (n, n))
        sd[f"{l}.bias"] = rng.normal(0, 0.1, n)
        if k != "linear":
            sd[f"{l}.alpha"] = rng.normal(0, 0.1, n)
        if k == "cubic":
            sd[f"{l}.beta"] = np.full(n, 0.15)
    m = feynn.from_state_dict(sd, kind="inn")
    x0 = np.array([0.2, -0.1])
    order = 4
    a = m.action(order, at=x0)
    S = mp_action(sd, kinds, n)
    got = a.coefficients()
    assert len(got) == math.comb(n + order, order)
    for k in range(order + 1):
        want = {}
        for idx in (i for i in got if len(i) == k):
            al = multiplicities(idx, n)
            want[idx] = float(mp_derivative(S, x0, al) / math.prod(math.factorial(v) for v in al))
        scale = max(abs(v) for v in want.values())
        for idx, w in want.items():
            assert close(got[idx], w, scale), (idx, got[idx], w)
    # the constant is −ln p at the point, and tensor(k) is ∂^k S
    assert got[()] == pytest.approx(-float(m.log_prob(x0)), rel=1e-13)
    T2 = a.tensor(2)
    assert T2[0, 1] == pytest.approx(got[(0, 1)], rel=1e-15)
    assert T2[1, 1] == pytest.approx(2 * got[(1, 1)], rel=1e-15)
    # a batch of points equals the points one by one
    pts = rng.normal(0, 0.1, (3, n))
    ab = m.action(3, at=pts)
    for p in range(3):
        np.testing.assert_array_equal(ab.values[p], m.action(3, at=pts[p]).values)


def test_exact_action_of_rational_parameters():
    m = feynn.load(EXAMPLES / "inn" / "flow.fnn", model="t2")
    a = m.action(3, exact=True)
    ex = a.exact_coefficients()
    fl = a.coefficients()
    for idx, q in ex.items():
        assert isinstance(q, Fraction)
        if idx:
            assert float(q) == pytest.approx(fl[idx], rel=1e-13, abs=1e-15)
    # the parameters are decimals: every exact coefficient above the constant is a rational
    # number, not the binary float it rounds to
    assert any(q.denominator % 5 == 0 for q in ex.values())
    with pytest.raises(feynn.InputError):
        m.action(2).exact_coefficients()


def test_sample_is_seeded_and_on_the_branch():
    m = feynn.load(EXAMPLES / "inn" / "flow.fnn")
    s1, s2, s3 = m.sample(200, seed=4), m.sample(200, seed=4), m.sample(200, seed=5)
    assert s1.shape == (200, 3)
    np.testing.assert_array_equal(s1, s2)
    assert not np.array_equal(s1, s3)
    lp = m.log_prob(s1)
    assert np.isfinite(lp).all()
    # samples are pre-images: the forward map takes them back to finite latent points
    assert np.isfinite(m.forward(s1)).all()
