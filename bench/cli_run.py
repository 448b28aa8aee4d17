"""One `ddln train` process on a saved bench problem, with the defaults (no integrator or
dynamics flag), timed from its start to its exit: start-up, reading the .npy inputs, the
run, every diagnostic and every output (summary, trajectory, config, inputs, plots).

    python bench/cli_run.py DDLN_BIN PROBLEM_DIR RTOL

prints one JSON line like bench_flow's: theta at the 11 recorded times, work counters and
the wall time (best of up to 3 processes)."""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def main():
    binary, pdir, rtol = sys.argv[1], sys.argv[2], float(sys.argv[3])
    meta = json.load(open(os.path.join(pdir, "meta.json")))
    best, result = float("inf"), None
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "run")
            cmd = [binary, "train", "--x", os.path.join(pdir, "X.npy"), "--y", os.path.join(pdir, "y.npy"),
                   "--init", os.path.join(pdir, "init.npy"), "--t-end", repr(meta["t_end"]),
                   "--n-record", "11", "--rtol", repr(rtol), "--atol", repr(rtol * 1e-3),
                   "--out", out, "--quiet"]
            start = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - start
            if done.returncode != 0:
                print(done.stderr[-400:], file=sys.stderr)
                sys.exit(1)
            if wall < best:
                summary = json.load(open(os.path.join(out, "summary.json")))
                theta = np.load(os.path.join(out, "trajectory.npz"))["theta"]
                stats = summary["stats"]
                best, result = wall, {
                    "theta": theta.tolist(), "grad_evals": stats["grad_evals"], "steps": stats["steps"],
                    "jacobian_evals": stats["jacobian_evals"], "factorizations": stats["factorizations"],
                    "solver": summary["solver"],
                }
        if best > 2.0:
            break
    result["time"] = best
    print(json.dumps(result))


if __name__ == "__main__":
    main()
