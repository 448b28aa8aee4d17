"""Calling overhead of the Python binding: a 1000-step gradient descent on a 10 x 8
problem from Python against the same run through the Rust core (`ddln::train`, the call
the binding makes), on the same arrays. Printed, not asserted (timings are noisy).

    .venv/bin/python bench/python_overhead.py [repeats]

Also checks that both runs end on bit-identical numbers.
"""

import pathlib
import struct
import subprocess
import sys
import time

import numpy as np

import ddln

ROOT = pathlib.Path(__file__).resolve().parent.parent


def bits(x: float) -> str:
    return struct.pack(">d", x).hex()


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    out = subprocess.run(
        ["cargo", "run", "--release", "-q", "-p", "ddln", "--example", "gd_timing", "--", str(repeats)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    rust = dict(kv.split("=") for kv in out.split())

    X, y = ddln.data.gaussian(10, 8, seed=0)
    U0 = ddln.init.scaled(depth=4, d=8, scale=0.5, zero_first=True, seed=1)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run = ddln.gradient_descent(X, y, U0, lr=1e-3, steps=1000, record_every=10)
        times.append(time.perf_counter() - start)
    py_us = 1e6 * float(np.median(times))
    rust_us = float(rust["median_us"])
    same = (bits(run.final_loss) == rust["final_loss"]
            and ",".join(bits(float(v)) for v in run.final_theta) == rust["final_theta"])
    print(f"1000-step GD, 10 x 8, L = 4, median of {repeats}:")
    print(f"  Rust core (ddln::train) : {rust_us:9.1f} us")
    print(f"  Python (ddln.gradient_descent): {py_us:9.1f} us")
    print(f"  ratio Python / Rust      : {py_us / rust_us:9.2f}  (acceptance: <= 2)")
    print(f"  bit-identical results    : {same}")


if __name__ == "__main__":
    main()
