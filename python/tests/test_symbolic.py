"""Diagrams, LaTeX, closed forms (Symbolica) and claim checks.

Closed forms and the symbolic stage of `check` run Symbolica: unlicensed, one Symbolica thread
per user at a time, so CI runs this suite under `flock /tmp/symbolica.lock`."""

import math
import re
from fractions import Fraction

import numpy as np
import pytest

import feynn
from conftest import EXAMPLES, random_mlp

needs_symbolic = pytest.mark.skipif(not feynn.has_symbolic(), reason="built without Symbolica")


def test_diagrams_of_born():
    m = feynn.load(EXAMPLES / "born" / "born.fnn")
    # order 2: one two-leg vertex per hidden layer (README), each with symmetry factor 1/2
    d2 = m.diagrams(2)
    assert len(d2) == 2 and all(d.symmetry_factor == Fraction(1, 2) for d in d2)
    counts = m.diagram_counts(4)
    for n in range(1, 5):
        ds = m.diagrams(n)
        assert len(ds) == counts["unlabelled"][n]
        # labelled diagrams: each topology stands for n!/|Aut| labellings
        assert sum(Fraction(math.factorial(n), d.automorphisms) for d in ds) == counts["labelled"][n]
        for d in ds:
            assert d.svg.startswith("<svg") and d._repr_svg_() == d.svg
            assert d.index_form and d.latex
    assert "<table>" in d2._repr_html_()
    with pytest.raises(feynn.TooLarge):
        m.diagrams(12, max_diagrams=10)


def test_latex_document():
    m = feynn.load(EXAMPLES / "born" / "born.fnn")
    doc = m.latex(2)
    assert doc.startswith("\\documentclass") and doc.rstrip().endswith("\\end{document}")
    body = m.latex(2, fragment=True)
    assert "\\documentclass" not in body and body in doc


@needs_symbolic
def test_closed_forms_evaluate_to_the_numbers():
    sympy = pytest.importorskip("sympy")
    rng = np.random.default_rng(6)
    sd = random_mlp(rng, [2, 2, 2, 1])
    m = feynn.from_state_dict(sd, activation=["tanh", "sigmoid"])
    x0 = np.array([0.3, -0.1])
    cf = m.closed_form(2, at=x0)
    assert cf.widths == [2, 2, 2, 1]
    forms = cf.coefficients()
    assert all(isinstance(e, sympy.Expr) for e in forms.values())
    assert {s.name for e in forms.values() for s in e.free_symbols} <= set(cf.symbols)
    values = cf.evaluate()
    t = m.taylor(2, at=x0).coefficients()
    assert values.keys() == t.keys()
    for k, v in values.items():
        assert abs(v - t[k]) <= 1e-10 * max(abs(t[k]), 1e-3), (k, v, t[k])
    assert "aligned" in cf._repr_latex_()


@needs_symbolic
def test_closed_forms_without_weights_are_in_the_parameters():
    m = feynn.load(EXAMPLES / "symbolic" / "two_layer.fnn")
    cf = m.closed_form(1)
    assert cf.symbols == {}
    s = cf.strings()
    assert set(s) == {(), (0,), (1,)}
    assert re.search(r"W1_\d_1", s[(0,)]) and "sigma" in s[(0,)]


def test_check_verifies_and_refutes():
    m = feynn.load(EXAMPLES / "born" / "born.fnn")
    claims = [
        line
        for line in (EXAMPLES / "claims" / "born.claims").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    r = m.check(claims[0], draws=2, symbolic=feynn.has_symbolic())
    assert r.verified and bool(r) and r.counterexample is None
    # forget the 1/2! of a diagonal coefficient: refuted, with a counterexample and the analysis
    wrong = claims[2].replace("taylor(y, [0,0,2]) = 1/2*", "taylor(y, [0,0,2]) = ").replace("+ 1/2*", "+ ")
    r = m.check(wrong, draws=2, symbolic=False)
    assert not r.verified and r.counterexample is not None
    assert r.max_relative_discrepancy > 0.1
    assert r.diagrams is not None and r.diagrams["mismatches"]
    assert "REFUTED" in repr(r)
