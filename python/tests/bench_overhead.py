"""Import time of `import feynn` and per-call overhead against the CLI.

    python3 python/tests/bench_overhead.py [path/to/feynn-cli]

Not a test (pytest does not collect it); the numbers go into book/src/python.md."""

import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from conftest import EXAMPLES, cli_binary  # noqa: E402


def median_time(f, n):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    code = "import time; t = time.perf_counter(); import feynn; print(time.perf_counter() - t)"
    imports = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout) for _ in range(7)]
    base = [float(subprocess.run([sys.executable, "-c", code.replace("feynn", "numpy")], capture_output=True, text=True, check=True).stdout) for _ in range(7)]
    print(f"import feynn: {statistics.median(imports) * 1e3:.1f} ms (of which numpy alone: {statistics.median(base) * 1e3:.1f} ms)")

    import feynn

    born = feynn.load(EXAMPLES / "born" / "born.fnn")
    tiny_spec = "model tiny { input 2 layer 3 tanh output 1 }"
    rng = np.random.default_rng(0)
    sd = {"0.weight": rng.normal(size=(3, 2)), "0.bias": rng.normal(size=3),
          "2.weight": rng.normal(size=(1, 3)), "2.bias": rng.normal(size=1)}
    tiny = feynn.parse(tiny_spec, weights=sd)
    x2 = np.array([0.1, -0.2])
    xb = np.zeros(64)
    rows = []
    for label, m, order, x in [("tiny 2-3-1, order 1", tiny, 1, x2), ("born 64-16-16-1, order 2", born, 2, xb),
                               ("born 64-16-16-1, order 3", born, 3, xb)]:
        m.taylor(order, at=x)  # the basis of the order is built once
        n = 2000 if m is tiny else (200 if order == 2 else 5)
        call = median_time(lambda: m.taylor(order, at=x), n)
        full = median_time(lambda: m.taylor(order, at=x).coefficients(), max(n // 10, 3))
        rows.append((label, call, full))
        print(f"{label}: taylor() {call * 1e6:.1f} µs, taylor().coefficients() {full * 1e6:.1f} µs")
    fwd = median_time(lambda: tiny.forward(x2), 5000)
    print(f"tiny forward(): {fwd * 1e6:.2f} µs")

    cli = sys.argv[1] if len(sys.argv) > 1 else cli_binary()
    if cli:
        with tempfile.TemporaryDirectory() as d:
            np.savez(os.path.join(d, "w.npz"), **sd)
            spec = os.path.join(d, "tiny.fnn")
            open(spec, "w").write(tiny_spec.replace("output 1", 'output 1 weights "w.npz"'))
            for label, args in [("tiny 2-3-1, order 1", [spec, "--order", "1", "--at", "0.1,-0.2"]),
                                ("born 64-16-16-1, order 2", [str(EXAMPLES / "born" / "born.fnn"), "--order", "2"]),
                                ("born 64-16-16-1, order 3", [str(EXAMPLES / "born" / "born.fnn"), "--order", "3"])]:
                out = os.path.join(d, "o.json")
                t = median_time(lambda: subprocess.run([cli, "taylor", *args, "--format", "json", "-o", out], check=True, capture_output=True), 5)
                print(f"{label}: CLI `feynn taylor --format json` {t * 1e3:.1f} ms")
    else:
        print("no CLI binary found (build it with `cargo build` or pass its path)")


if __name__ == "__main__":
    main()
