#!/usr/bin/env python3
"""feynn's expanded closed forms against SymPy (issue 15; not part of the test suite).

The workload: every Taylor coefficient c_alpha = d^alpha y / alpha! at x0 = 0, |alpha| <= N, of

    model m { input 3 layer 3 sigma layer 3 sigma output 1 }

in closed form: y = sum_j W3_1_j s2(sum_k W2_j_k s1(sum_i W1_k_i x_i + b1_k) + b2_j) + b3_1 with a
generic activation per layer (SymPy `Function`), every weight a symbol, and each coefficient
expanded (`expand`) after the derivatives are taken and x = 0 substituted. SymPy reuses the
derivative of alpha - e_i for alpha (one `diff` per coefficient, not |alpha|), which is the fastest
plain use of `diff`, `subs`, `expand`.

Both sides are timed as whole processes (interpreter or binary start, the algebra, writing the
result to a file), best of 10 runs for feynn and of `--repeat` (3) for SymPy (fewer once its
runs took two minutes), and
the table gives feynn / SymPy speed per order.
The script also checks that both sides agree: it evaluates SymPy's coefficients and feynn's
(`--format json` with weights) at the same random weights with tanh as the activation.

    pip install sympy
    python3 benches/peers/sympy_closed_forms.py --feynn target/release/feynn [--orders 3,4,5]

Run it where no other process uses Symbolica (restricted mode allows one Symbolica thread per user).
"""

import argparse
import itertools
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time

SPEC = "model m { input 3 layer 3 sigma layer 3 sigma output 1 }\n"
D, WIDTH = 3, 3


def sympy_coefficients(order):
    """The expanded closed forms by SymPy: {alpha (tuple of counts): expression}."""
    import sympy as sp

    x = sp.symbols(f"x1:{D + 1}")
    w1 = [[sp.Symbol(f"W1_{k}_{i}") for i in range(1, D + 1)] for k in range(1, WIDTH + 1)]
    w2 = [[sp.Symbol(f"W2_{j}_{k}") for k in range(1, WIDTH + 1)] for j in range(1, WIDTH + 1)]
    w3 = [sp.Symbol(f"W3_1_{j}") for j in range(1, WIDTH + 1)]
    b1 = [sp.Symbol(f"b1_{k}") for k in range(1, WIDTH + 1)]
    b2 = [sp.Symbol(f"b2_{j}") for j in range(1, WIDTH + 1)]
    b3 = sp.Symbol("b3_1")
    s1, s2 = sp.Function("sigma1"), sp.Function("sigma2")
    h1 = [s1(sum(w1[k][i] * x[i] for i in range(D)) + b1[k]) for k in range(WIDTH)]
    h2 = [s2(sum(w2[j][k] * h1[k] for k in range(WIDTH)) + b2[j]) for j in range(WIDTH)]
    y = sum(w3[j] * h2[j] for j in range(WIDTH)) + b3
    at0 = {xi: 0 for xi in x}
    derivs = {(0,) * D: y}
    out = {(0,) * D: sp.expand(y.subs(at0))}
    for n in range(1, order + 1):
        for combo in itertools.combinations_with_replacement(range(D), n):
            alpha = tuple(combo.count(i) for i in range(D))
            i = combo[-1]
            prev = list(alpha)
            prev[i] -= 1
            dy = sp.diff(derivs[tuple(prev)], x[i])
            derivs[alpha] = dy
            fact = math.prod(math.factorial(a) for a in alpha)
            out[alpha] = sp.expand(dy.subs(at0) / fact)
    return out


def sympy_values(order, weights):
    """SymPy's coefficients evaluated at the weights with tanh as the activation."""
    import sympy as sp

    exprs = sympy_coefficients(order)
    subs = {sp.Symbol(k): v for k, v in weights.items()}
    tanh = sp.Lambda(sp.Symbol("u"), sp.tanh(sp.Symbol("u")))
    vals = {}
    for alpha, e in exprs.items():
        e = e.replace(sp.Function("sigma1"), tanh).replace(sp.Function("sigma2"), tanh)
        e = e.doit().subs(subs)
        vals[alpha] = float(sp.N(e, 30))
    return vals


def best_time(cmd, repeat, budget=120.0):
    """Best of `repeat` whole-process runs; stops repeating once the runs took `budget` seconds."""
    best, spent, runs = math.inf, 0.0, 0
    while runs < repeat and (runs == 0 or spent < budget):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dt = time.perf_counter() - t
        best, spent, runs = min(best, dt), spent + dt, runs + 1
    return best, runs


def check(feynn, order, tmp):
    """Both sides' coefficients at random weights (tanh) agree to 1e-9 relative."""
    import random

    rnd = random.Random(7)
    weights = {}
    tensors = {}
    for name, rows, cols in [("W1", WIDTH, D), ("W2", WIDTH, WIDTH), ("W3", 1, WIDTH)]:
        m = [[rnd.uniform(-1, 1) for _ in range(cols)] for _ in range(rows)]
        tensors[name] = m
        for r in range(rows):
            for c in range(cols):
                weights[f"{name}_{r + 1}_{c + 1}"] = m[r][c]
    for name, n in [("b1", WIDTH), ("b2", WIDTH), ("b3", 1)]:
        v = [rnd.uniform(-0.5, 0.5) for _ in range(n)]
        tensors[name] = v
        for r in range(n):
            weights[f"{name}_{r + 1}"] = v[r]
    spec = os.path.join(tmp, "tanh.fnn")
    with open(spec, "w") as f:
        f.write("model m { input 3 layer 3 tanh layer 3 tanh output 1 }\n")
    wfile = os.path.join(tmp, "w.json")
    # feynn's JSON weights: {"layers": [{"W": [out, in], "b": [...]}, ...]}
    layers = [{"W": tensors[f"W{l}"], "b": tensors[f"b{l}"]} for l in (1, 2, 3)]
    with open(wfile, "w") as f:
        json.dump({"layers": layers}, f)
    res = subprocess.run(
        [feynn, "taylor", spec, "--weights", wfile, "--order", str(order), "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    )
    text = res.stdout[res.stdout.index("{"):]
    ours = {}
    for c in json.loads(text)["outputs"][0]["coefficients"]:
        alpha = tuple(c["index"].count(i) for i in range(D))
        ours[alpha] = c["value"]
    theirs = sympy_values(order, weights)
    worst = max(abs(ours[a] - theirs[a]) / max(1e-12, abs(theirs[a])) for a in theirs)
    return len(theirs) == len(ours), worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feynn", default="target/release/feynn")
    ap.add_argument("--orders", default="3,4,5")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many SymPy runs")
    ap.add_argument("--feynn-repeat", type=int, default=10, help="best of this many feynn runs")
    ap.add_argument("--sympy-only", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.sympy_only is not None:
        # the timed SymPy process: build, differentiate, expand, write
        out = sympy_coefficients(a.sympy_only)
        with open(os.devnull, "w") as f:
            for alpha, e in out.items():
                f.write(f"{alpha} = {e}\n")
        return
    import sympy

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}, "
        f"sympy {sympy.__version__}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        spec = os.path.join(tmp, "m.fnn")
        with open(spec, "w") as f:
            f.write(SPEC)
        for order in [int(o) for o in a.orders.split(",")]:
            same, worst = check(a.feynn, min(order, 3), tmp)
            ours, _ = best_time(
                [a.feynn, "taylor", spec, "--order", str(order), "--symbolic", "--format", "sympy",
                 "-o", os.path.join(tmp, "out.py")],
                a.feynn_repeat,
            )
            theirs, n = best_time([sys.executable, __file__, "--sympy-only", str(order)], a.repeat)
            rows.append((order, theirs, ours, same and worst < 1e-9, worst))
            print(
                f"  order {order}: sympy {theirs:.3f} s (best of {n}), feynn {ours * 1e3:.1f} ms, "
                f"agree {same} ({worst:.1e})",
                flush=True,
            )
    print()
    print("| order | SymPy (diff, subs, expand) | feynn --symbolic | feynn / SymPy speed | same coefficients |")
    print("|---|---|---|---|---|")
    for order, theirs, ours, ok, worst in rows:
        print(f"| {order} | {theirs:.2f} s | {ours * 1e3:.1f} ms | {theirs / ours:.0f}× | {'yes' if ok else 'NO'} ({worst:.0e}) |")


if __name__ == "__main__":
    main()
