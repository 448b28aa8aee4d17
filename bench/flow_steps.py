"""What one step of gradient flow costs at the field's large sizes: the explicit path
(Dormand-Prince, six gradients per step) and the stiff path (RODAS4: one Jacobian, one
factorization of the n x n capacitance matrix, six solves), on the seeded sparse-recovery
problems of bench/scaling.py (Gaussian X, n = d/10, 10-sparse theta*, two layers from
u = sqrt(2) 0.01, v = 0).

Each (size, integrator) runs in a fresh interpreter with the `ddln` package: its
`on_step` callback time-stamps every accepted step, and the process is stopped as soon as
the steps asked for are done (the run's post-flow checks are not timed). Reported: the
set-up time (call to the first step: the dynamics and the integrator's start), the
median and mean wall time of an accepted step (a rejected attempt's time counts in the
step after it) and the peak memory (VmHWM) of the process. Writes bench/FLOW-STEPS.md and bench/FLOW-STEPS.json.

Usage: bench/.venv/bin/python bench/flow_steps.py [--python .venv/bin/python]
       [--sizes 10000 30000 100000] [--explicit-steps 8] [--stiff-steps 3]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from scaling import K, SCALE, write_problem  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# Runs one flow, printing a JSON line at the initial point and after each accepted step;
# the parent stops the process once it has the steps it wants.
DRIVER = r"""
import json, sys, time
import numpy as np
import ddln
X = np.load(sys.argv[1]); y = np.load(sys.argv[2]); U0 = np.load(sys.argv[3])
start = time.perf_counter()
def on_step(t, loss):
    print(json.dumps({"wall": time.perf_counter() - start, "t": t}), flush=True)
ddln.gradient_flow(X, y, U0, t_end=1e7, integrator=sys.argv[4], on_step=on_step)
"""


def vm_hwm_mb(pid):
    """Peak resident memory of a live process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(python, driver, pdir, integrator, steps, budget):
    """Step times of one run: a dict, or the reason it has none."""
    args = [python, str(driver), *(str(pdir / f) for f in ("X.npy", "y.npy", "U0.npy")),
            integrator]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    walls, peak = [], float("nan")
    try:
        for line in proc.stdout:
            walls.append(json.loads(line)["wall"])
            peak = vm_hwm_mb(proc.pid)
            if len(walls) > steps:
                break
            if walls[-1] > budget:
                return "budget"
        else:
            return f"the run ended after {max(len(walls) - 1, 0)} steps (exit {proc.wait()})"
    finally:
        proc.kill()
        proc.wait()
    # walls[0] is the initial point; each later entry ends one accepted step (the time of
    # a rejected attempt counts in the step that follows it).
    step_times = [b - a for a, b in zip(walls, walls[1:])]
    return {
        "setup_s": walls[0],
        "steps": steps,
        "median_step_s": statistics.median(step_times),
        "mean_step_s": statistics.fmean(step_times),
        "peak_mb": peak,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=str(ROOT / ".venv/bin/python"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 30000, 100000])
    ap.add_argument("--explicit-steps", type=int, default=8)
    ap.add_argument("--stiff-steps", type=int, default=3)
    ap.add_argument("--budget", type=float, default=900.0, help="seconds per run")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        driver = Path(tmp) / "driver.py"
        driver.write_text(DRIVER)
        for d in args.sizes:
            pdir, n, _ = write_problem(tmp, d)
            row = {"n": n, "d": d, "x_mb": n * d * 8 / 1e6}
            for name, integrator, steps in (("explicit", "dopri5", args.explicit_steps),
                                            ("stiff", "rodas", args.stiff_steps)):
                row[name] = measure(args.python, driver, pdir, integrator, steps, args.budget)
            rows.append(row)
            print(json.dumps(row), flush=True)
            for f in pdir.iterdir():
                f.unlink()
    threads = os.cpu_count()
    out = {"threads": threads, "rows": rows, "explicit_steps": args.explicit_steps,
           "stiff_steps": args.stiff_steps}
    (ROOT / "bench" / "FLOW-STEPS.json").write_text(json.dumps(out, indent=2))

    def cell(v):
        if not isinstance(v, dict):
            return v
        return (f"{v['median_step_s']:.3g} s (mean {v['mean_step_s']:.3g} s over {v['steps']}); "
                f"set-up {v['setup_s']:.3g} s; {v['peak_mb']:.0f} MB")

    lines = [
        "# The cost of one flow step at large sizes",
        "",
        f"Seeded sparse recovery (Gaussian X, n = d/10, {K}-sparse theta*), two layers from",
        f"u = sqrt(2) {SCALE}, v = 0 (the reduced dynamics); {threads} threads. Median wall time",
        "(and mean) of an accepted step, time-stamped by the Python package's `on_step` callback;",
        "a rejected attempt's time counts in the step after it; set-up is",
        "the time from the call to the first step; peak memory is the process's VmHWM (it",
        "includes numpy's X). `bench/.venv/bin/python bench/flow_steps.py`.",
        "",
        "| n x d | X | explicit (Dormand-Prince: 6 gradients) | stiff (RODAS4: Jacobian, n x n factorization, 6 solves) |",
        "|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['n']} x {r['d']} | {r['x_mb']:.0f} MB | {cell(r['explicit'])} | {cell(r['stiff'])} |")
    (ROOT / "bench" / "FLOW-STEPS.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
