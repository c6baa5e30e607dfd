#!/usr/bin/env python3
"""feynn's INN action against JAX (issue 15, item 5a; not part of the test suite).

Builds the same invertible network as benches/inn.rs (its xorshift generator: N = 16, depth 8,
layers y ↦ φ(W y + b) with φ_i(h) = h + α_i h², data x = y⁰ → latent z = y⁸) and the exact
change-of-variables action

    S(x) = −ln p(x) = ½|z(x)|² + N/2 ln 2π − Σ_l ln|det W_l| − Σ_{l,i} ln|φ_i'(h_i^l(x))|,

then times JAX on CPU in float64 after JIT (median of repeats) for the order-4 derivative
tensor ∂⁴S(x0) at x0 = 0 (16⁴ entries; the lower orders are not returned, so this is a lower
bound for JAX):

  * nested jacfwd: jacfwd⁴(S);
  * fwd-over-rev: jacfwd³(jacrev(S));
  * jet (with --jet): jax.experimental.jet along all C(N+3, 4) = 3,876 lattice directions
    (vmap), every degree, then the interpolation to the mixed coefficients (one matrix product
    per degree; the least-squares setup is not timed).

It runs `FEYNN_TABLE=1 cargo bench --no-default-features --bench inn` for feynn's time (one
thread, median of repeats, all orders 0..4), checks that both sides computed the same thing
(A⁽⁰⁾ and Σ A⁽ᵏ⁾ over all N^k entries against Σ ∂ᵏS / k! for k = 1..4, to 1e-8 relative) and
prints the table:

    /work/jaxenv/bin/python benches/peers/jax_inn.py [--skip-feynn FILE] [--jet] [--reps 11]

Set JAX_THREADS=1 to pin XLA to one thread.
"""

import argparse
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jax_taylor import interpolation, lattice  # noqa: E402  (directions and their weights)
from jax_taylor import timeit as jax_taylor_timeit  # noqa: E402

jax.config.update("jax_enable_x64", True)

N, DEPTH, ORDER = 16, 8, 4
MASK = (1 << 64) - 1


class XorShift:
    """benches/inn.rs's generator: xorshift64 (13, 7, 17), seed 12345, uniform in [−1, 1)."""

    def __init__(self, seed):
        self.s = seed

    def next(self):
        s = self.s
        s ^= (s << 13) & MASK
        s ^= s >> 7
        s ^= (s << 17) & MASK
        self.s = s
        return (s >> 11) / float(1 << 53) * 2.0 - 1.0


def network(n, depth):
    """Per layer (W, b, α), drawn in the bench's order: W row-major, then b, then α."""
    rng = XorShift(12345)
    layers = []
    for _ in range(depth):
        w = np.array([(1.0 if k // n == k % n else 0.0) + 0.2 * rng.next() for k in range(n * n)])
        b = np.array([0.1 * rng.next() for _ in range(n)])
        a = np.array([0.1 * rng.next() for _ in range(n)])
        layers.append((w.reshape(n, n), b, a))
    return layers


def action_fn(layers, n):
    """The exact −ln p(x), flow from the data x (layer 0 first) to the latent z."""
    const = 0.5 * n * math.log(2 * math.pi) - sum(np.linalg.slogdet(w)[1] for w, _, _ in layers)
    params = [(jnp.asarray(w), jnp.asarray(b), jnp.asarray(a)) for w, b, a in layers]

    def s(x):
        y = x
        logdet = 0.0
        for w, b, a in params:
            h = w @ y + b
            y = h + a * h * h
            logdet = logdet + jnp.sum(jnp.log(jnp.abs(1.0 + 2.0 * a * h)))
        return 0.5 * jnp.dot(y, y) + const - logdet

    return s


def jet_method(s, d, n):
    dirs, ws = interpolation(d, n)

    def along(x, u):
        zeros = [jnp.zeros_like(u)] * (n - 1)
        _, ys = jet.jet(s, (x,), ((u, *zeros),))
        return jnp.stack(ys)

    def all_coefficients(x):
        ys = jax.vmap(lambda u: along(x, u))(dirs)
        out = [s(x)[None]]
        for k in range(1, n + 1):
            out.append((ys[:, k - 1] / math.factorial(k)) @ ws[k - 1])
        return jnp.concatenate(out)

    return jax.jit(all_coefficients)


def timeit(fn, x, reps, budget_s=30.0):
    """jax_taylor's median timing, plus the first call's time (JIT compilation)."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn(x))  # compile
    compile_s = time.perf_counter() - t0
    med, ts = jax_taylor_timeit(fn, x, reps, budget_s)
    return med, len(ts), compile_s


def run_feynn(args):
    if args.skip_feynn:
        lines = open(args.skip_feynn).read().splitlines()
    else:
        env = dict(os.environ, FEYNN_TABLE="1")
        cmd = ["cargo", "bench", "--no-default-features", "--bench", "inn"]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        lines = out.stdout.splitlines()
    return [json.loads(l) for l in lines if l.startswith("{")][0]


def rel(a, b):
    return abs(a - b) / max(1.0, abs(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-feynn", help="read feynn's JSON line from this file")
    ap.add_argument("--reps", type=int, default=11)
    ap.add_argument("--jet", action="store_true", help="also time jax.experimental.jet")
    args = ap.parse_args()
    feynn = run_feynn(args)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"python {platform.python_version()}, jax {jax.__version__}, "
          f"XLA threads: {'1' if os.environ.get('JAX_THREADS') == '1' else 'default'}", flush=True)
    s = action_fn(network(N, DEPTH), N)
    x = jnp.zeros(N)

    # the check: A^(0) and Σ ∂^k S / k! for k = 1..4 (untimed, derivatives by nested jacfwd)
    g, want = s, [float(s(x))]
    for k in range(1, ORDER + 1):
        g = jax.jacfwd(g)
        want.append(float(jnp.sum(g(x))) / math.factorial(k))
    got = [feynn["a0"]] + feynn["sums"][1:]
    errs = [rel(a, b) for a, b in zip(got, want)]
    same = max(errs) <= 1e-8
    print("check (feynn vs JAX, A0 and Σ A^(k)): "
          + ", ".join(f"k={k}: {a:.12g} vs {b:.12g}" for k, (a, b) in enumerate(zip(got, want)))
          + f"; max rel. difference {max(errs):.2e} -> {'agree' if same else 'DISAGREE'}", flush=True)

    methods = {}
    h = s
    for _ in range(ORDER):
        h = jax.jacfwd(h)
    methods["nested jacfwd"] = jax.jit(h)
    h = jax.jacrev(s)
    for _ in range(ORDER - 1):
        h = jax.jacfwd(h)
    methods["fwd-over-rev"] = jax.jit(h)
    if args.jet:
        t0 = time.perf_counter()
        methods["jet"] = jet_method(s, N, ORDER)
        print(f"  jet: interpolation setup {time.perf_counter() - t0:.1f} s (not timed)", flush=True)
    res = {}
    for m, fn in methods.items():
        med, reps, comp = timeit(fn, x, args.reps)
        res[m] = med
        if m == "jet":
            # the degree-4 monomial coefficients sum to Σ A^(4) over all entries
            c4 = float(np.sum(np.asarray(fn(x))[-len(lattice(N, ORDER)):]))
            print(f"  jet: Σ c_α (|α| = 4) {c4:.12g} vs feynn {feynn['sums'][ORDER]:.12g}"
                  f" (rel. {rel(c4, feynn['sums'][ORDER]):.1e})")
        print(f"  {m}: median {med*1e3:.4g} ms of {reps} (compile {comp:.1f} s)", flush=True)
    ours = feynn["median_s"]
    before = feynn.get("reference_median_s")
    print(f"  feynn: median {ours*1e3:.4g} ms of {feynn['reps']} (best {feynn['best_s']*1e3:.4g} ms; "
          f"first call, which builds the plan, {feynn.get('first_s', float('nan'))*1e3:.4g} ms)")
    if before:
        print(f"  feynn, generic recursion: median {before*1e3:.4g} ms "
              f"(largest difference to the planned route {feynn['reference_max_rel_diff']:.1e} of the largest entry)")
    print()
    print("| workload | method | time | feynn / JAX speed | generic recursion / JAX speed |")
    print("|---|---|---|---|---|")
    row = f"order {ORDER}, N = {N}, depth {DEPTH}"
    for m, t in res.items():
        old = f"{t/before:.3g}×" if before else "—"
        what = "every degree" if m == "jet" else "∂⁴S only"
        print(f"| {row} | JAX {m} ({what}) | {t*1e3:.4g} ms | {t/ours:.3g}× | {old} |")
    print(f"| {row} | feynn (A⁽⁰⁾…A⁽⁴⁾) | {ours*1e3:.4g} ms | — | — |")
    if before:
        print(f"| {row} | feynn, generic recursion (before) | {before*1e3:.4g} ms | — | — |")
    print(f"\nsame result: {'yes' if same else 'NO'} (max rel. difference {max(errs):.1e})")


if __name__ == "__main__":
    main()
