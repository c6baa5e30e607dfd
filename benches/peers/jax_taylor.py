#!/usr/bin/env python3
"""feynn against JAX on the workloads of issue 15 (not part of the test suite).

Builds the same networks as benches/engine.rs (its 64-bit LCG), times JAX on CPU in float64
after JIT (median of repeats, one point) with

  * fwd-over-rev: jacfwd^(N-1)(jacrev(f)), the top-degree derivative tensor only (a lower
    bound: the lower degrees are not returned);
  * nested jacfwd: jacfwd^N(f), the same tensor;
  * jet: jax.experimental.jet along all C(d+N-1, N) lattice directions (vmap), every degree,
    followed by the interpolation to the mixed coefficients (one matrix product per degree);

and runs `FEYNN_TABLE=1 cargo bench --bench engine` for feynn's per-point times (one thread,
64-point batch), checks that both sides see the same network (Σ_{|α|=N} c_α at the first point
against Σ T / N!), and prints the table.

    python3 -m venv /work/jaxenv && /work/jaxenv/bin/pip install "jax[cpu]"
    /work/jaxenv/bin/python benches/peers/jax_taylor.py [--skip-feynn FILE] [--rows 0,1,...]

A method is skipped on a row when its predicted memory or time is out of reach (the script says
so). Set JAX_THREADS=1 to pin XLA to one thread.
"""

import argparse
import itertools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

if os.environ.get("JAX_THREADS") == "1":
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    )

import numpy as np
import jax
import jax.numpy as jnp
from jax.experimental import jet

jax.config.update("jax_enable_x64", True)

ROWS = [
    ("hessian 64-128-128-1", [64, 128, 128, 1], 2),
    ("order 4 d=8 3x32", [8, 32, 32, 32, 1], 4),
    ("order 6 d=2 3x32", [2, 32, 32, 32, 1], 6),
    ("order 3 d=16 2x64", [16, 64, 64, 1], 3),
    ("order 3 64-128-128-1", [64, 128, 128, 1], 3),
]

MASK = (1 << 64) - 1


class Lcg:
    def __init__(self, seed):
        self.s = seed

    def next(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) & MASK
        return ((self.s >> 11) / float(1 << 53) - 0.5) * 2.0


def network(widths):
    rng = Lcg(0x2545F4914F6CDD1D)
    params = []
    for l in range(1, len(widths)):
        scale = 1.0 / math.sqrt(widths[l - 1])
        w = np.array([rng.next() * scale for _ in range(widths[l] * widths[l - 1])])
        b = np.array([rng.next() * 0.1 for _ in range(widths[l])])
        params.append((jnp.asarray(w.reshape(widths[l], widths[l - 1])), jnp.asarray(b)))
    return params


def points(d):
    rng = Lcg(7)
    return np.array([[0.5 * rng.next() for _ in range(d)] for _ in range(64)])


def forward(params):
    def f(x):
        a = x
        for i, (w, b) in enumerate(params):
            z = w @ a + b
            a = jnp.tanh(z) if i < len(params) - 1 else z
        return a[0]

    return f


def lattice(d, n):
    """All multi-indices i with |i| = n, as rows."""
    out = []
    for c in itertools.combinations_with_replacement(range(d), n):
        e = [0] * d
        for k in c:
            e[k] += 1
        out.append(e)
    return np.array(out, dtype=float)


def interpolation(d, n):
    """Per degree k: weights [r, m_k] with c_α = Σ_i y_k(i) w[i, α] (least squares, setup only)."""
    dirs = lattice(d, n)
    ws = []
    for k in range(1, n + 1):
        monos = lattice(d, k)  # exponents
        v = np.prod(dirs[:, None, :] ** monos[None, :, :], axis=2)  # [r, m_k]
        ws.append(jnp.asarray(np.linalg.pinv(v).T))  # [r, m_k]
    return jnp.asarray(dirs), ws


def timeit(fn, x, reps, budget_s=20.0):
    jax.block_until_ready(fn(x))  # compile
    t0 = time.perf_counter()
    jax.block_until_ready(fn(x))
    once = time.perf_counter() - t0
    reps = max(3, min(reps, int(budget_s / max(once, 1e-9))))
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(x))
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), ts


def jax_methods(widths, n):
    params = network(widths)
    f = forward(params)
    d = widths[0]
    methods = {}
    g = jax.jacrev(f)
    for _ in range(n - 1):
        g = jax.jacfwd(g)
    methods["fwd-over-rev"] = jax.jit(g)
    h = f
    for _ in range(n):
        h = jax.jacfwd(h)
    methods["nested jacfwd"] = jax.jit(h)
    r = math.comb(d + n - 1, n)
    if r * n * max(widths) * 8 < 4e9 and r * math.comb(d + n, n) * d < 5e7:
        dirs, ws = interpolation(d, n)

        def along(x, s):
            zeros = [jnp.zeros_like(s)] * (n - 1)
            y0, ys = jet.jet(f, (x,), ((s, *zeros),))
            return jnp.stack(ys)  # [n]: d^k/dt^k, k = 1..n

        def all_coefficients(x):
            ys = jax.vmap(lambda s: along(x, s))(dirs)  # [r, n]
            out = [f(x)[None]]
            for k in range(1, n + 1):
                out.append((ys[:, k - 1] / math.factorial(k)) @ ws[k - 1])
            return jnp.concatenate(out)

        methods["jet"] = jax.jit(all_coefficients)
    return methods, f


def top_checksum(tensor, n):
    return float(np.sum(np.asarray(tensor))) / math.factorial(n)


def run_feynn(args):
    if args.skip_feynn:
        lines = open(args.skip_feynn).read().splitlines()
    else:
        env = dict(os.environ, FEYNN_TABLE="1")
        cmd = ["cargo", "bench", "--no-default-features", "--bench", "engine"]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        lines = out.stdout.splitlines()
    rows = [json.loads(l) for l in lines if l.startswith("{")]
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-feynn", help="read feynn's JSON lines from this file")
    ap.add_argument("--rows", help="comma-separated row numbers (default: all)")
    ap.add_argument("--reps", type=int, default=31)
    args = ap.parse_args()
    which = [int(r) for r in args.rows.split(",")] if args.rows else range(len(ROWS))
    feynn = run_feynn(args)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"python {platform.python_version()}, jax {jax.__version__}, "
          f"XLA threads: {'1' if os.environ.get('JAX_THREADS') == '1' else 'default'}")
    table = []
    for i in which:
        name, widths, n = ROWS[i]
        methods, f = jax_methods(widths, n)
        x = jnp.asarray(points(widths[0])[0])
        res = {}
        for m, fn in methods.items():
            if m != "jet" and widths[0] ** n > 5e6:
                print(f"  {name}: {m} skipped (the {widths[0]}^{n} tensor)", file=sys.stderr)
                continue
            med, _ = timeit(fn, x, args.reps)
            res[m] = med
            if m == "fwd-over-rev":
                check = top_checksum(fn(x), n)
        ours = [r for r in feynn if r["row"] == name]
        auto = next(r for r in ours if r["auto"])
        fast = min(ours, key=lambda r: r["median_s"])
        jax_best = min(res, key=res.get)
        mine = fast["checksums"][n]
        agree = abs(mine - check) <= 1e-9 * max(1.0, abs(check))
        table.append((name, auto["coefficients"], jax_best, res[jax_best], auto, fast, res, agree, mine, check))
        print(f"  {name}: " + ", ".join(f"{k} {v*1e3:.4g} ms" for k, v in res.items())
              + f"; feynn {fast['plan']} {fast['median_s']*1e3:.4g} ms; same network: {agree}", flush=True)
    print()
    print("| workload | coefficients | fastest JAX | feynn (plan) | feynn / JAX speed | other JAX | same network |")
    print("|---|---|---|---|---|---|---|")
    for name, m, jb, jt, auto, fast, res, agree, mine, check in table:
        others = ", ".join(f"{k} {v*1e3:.3g} ms" for k, v in res.items() if k != jb)
        print(f"| {name} | {m:,} | {jt*1e3:.3g} ms ({jb}) | {auto['median_s']*1e3:.3g} ms ({auto['plan']})"
              f" | {jt/auto['median_s']:.2g}× | {others} | {'yes' if agree else f'NO {mine} vs {check}'} |")
    print()
    print("feynn, every plan (median per point, one thread, 64-point batch):")
    for r in feynn:
        print(f"  {r['row']:<24} {r['plan']:<9} {r['median_s']*1e3:9.4f} ms  predicted {r['predicted_flops']:.3g} flops"
              f"{'  (auto)' if r['auto'] else ''}")


if __name__ == "__main__":
    main()
