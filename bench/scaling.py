"""How ddln's implicit bias, baselines and flows scale with the problem size, next to
SciPy's HiGHS on the same basis-pursuit LP and SciPy's best ODE method on the flow.

Seeded sparse recovery: Gaussian X (n x d, n = d/10), a 10-sparse theta*, y = X theta*,
two layers from the field's init at scale 0.01 (u = sqrt(2) 0.01, v = 0). For each d: wall time and peak memory
(max RSS of the process) of

* `ddln bias --no-baselines` (the predictor alone) and `ddln bias` (with min-L1, min-L2
  and the small-init limit);
* `ddln train` (gradient flow, default settings: the fast path) to a loss of 1e-12 ||y||^2;
* SciPy `linprog(method="highs")` on basis pursuit (primal: theta = p - m, p, m >= 0);
* SciPy `solve_ivp` (LSODA, rtol 1e-6) on the same flow in the reduced variable;

each under a time budget (a row says when it ran out). The fitted growth exponent of
each column is the least-squares slope of log time against log d. Writes
bench/SCALING.md and bench/SCALING.json.

With --predictor-only --sizes 100000 it measures the predictor alone at the sizes given
(n = 10^4, d = 10^5: 8 GB of X) and writes bench/SCALING-large.md and .json instead.

Usage: bench/.venv/bin/python bench/scaling.py --cli target/release/ddln [--quick]
       [--max-d 30000] [--budget 300] [--sizes D ...] [--predictor-only]
"""

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCALE = 0.01
K = 10


def problem(d, seed=0):
    n = d // 10
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    star = np.zeros(d)
    star[rng.choice(d, K, replace=False)] = rng.normal(size=K)
    return X, X @ star


def write_problem(tmp, d):
    """Writes problem(d) and the init to tmp/d{d}/ (X.npy, y.npy, U0.npy), keeping
    nothing of X in this process (the measured ones get the memory: 8 GB at d = 10^5).
    Returns (that folder, n, y)."""
    X, y = problem(d)
    n = X.shape[0]
    pdir = Path(tmp) / f"d{d}"
    pdir.mkdir()
    np.save(pdir / "X.npy", X)
    np.save(pdir / "y.npy", y)
    del X
    np.save(pdir / "U0.npy", np.vstack([np.full(d, math.sqrt(2) * SCALE), np.zeros(d)]))
    return pdir, n, y


# Runs argv[1:] as its only child and prints that child's peak RSS (KiB) last on stderr
# (what /usr/bin/time -f %M gives, without needing it installed).
# Also prints the child's wall time, so the wrapper's own start-up is not counted.
PEAK_WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "r = subprocess.run(sys.argv[1:])\n"
    "t = time.perf_counter() - t\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, t, file=sys.stderr)\n"
    "sys.exit(r.returncode)\n"
)


def measured(cmd, budget, env=None):
    """Runs cmd (peak memory by PEAK_WRAPPER), again up to twice more while a run takes under 2 s
    (the fastest counts); returns (seconds, peak MB, stdout) or None past the budget."""
    best = None
    for _ in range(3):
        r = measured_once(cmd, budget, env)
        if r is None:
            return best
        best = r if best is None or r[0] < best[0] else best
        if r[0] >= 2.0:
            break
    return best


def measured_once(cmd, budget, env=None):
    """One run of cmd: (seconds, peak MB, stdout), None past the budget."""
    # Its own process group: on timeout the whole group goes (not just the wrapper).
    proc = subprocess.Popen([sys.executable, "-c", PEAK_WRAPPER] + cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=budget)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None
    out = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr[-2000:]}")
    peak_kb, wall = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(peak_kb) / 1e3, out.stdout


def highs_basis_pursuit(x_path, y_path, budget):
    code = (
        "import numpy as np, time, scipy.optimize as so\n"
        f"X = np.load({str(x_path)!r}); y = np.load({str(y_path)!r}); n, d = X.shape\n"
        "t = time.perf_counter()\n"
        "r = so.linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None), method='highs')\n"
        "assert r.status == 0, r.message\n"
        "print(time.perf_counter() - t)\n"
    )
    return measured([sys.executable, "-c", code], budget)


def lsoda_flow(x_path, y_path, budget, loss_tol):
    """The same two-layer flow, integrated by SciPy on the layers, to the same loss."""
    code = (
        "import numpy as np, time\n"
        "from scipy.integrate import solve_ivp\n"
        f"X = np.load({str(x_path)!r}); y = np.load({str(y_path)!r}); U0 = np.load({str(x_path.parent / 'U0.npy')!r})\n"
        "n, d = X.shape\n"
        "def f(t, w):\n"
        "    u, v = w[:d], w[d:]\n"
        "    g = 2.0 * X.T @ (X @ (u * v) - y)\n"
        "    return np.concatenate([-g * v, -g * u])\n"
        "def done(t, w):\n"
        "    r = X @ (w[:d] * w[d:]) - y\n"
        f"    return r @ r - {loss_tol!r}\n"
        "done.terminal = True\n"
        "t = time.perf_counter()\n"
        "s = solve_ivp(f, (0, 1e6), U0.ravel(), method='LSODA', rtol=1e-6, atol=1e-12, events=done)\n"
        "assert s.status == 1, s.message\n"
        "print(time.perf_counter() - t)\n"
    )
    return measured([sys.executable, "-c", code], budget)


def slope(ds, ts):
    pts = [(math.log(d), math.log(t)) for d, t in zip(ds, ts) if t is not None]
    if len(pts) < 2:
        return None
    x, y = np.array(pts).T
    return float(np.polyfit(x, y, 1)[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=str(ROOT / "target/release/ddln"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--max-d", type=int, default=30000)
    ap.add_argument("--budget", type=float, default=300.0, help="seconds per measurement")
    ap.add_argument("--sizes", type=int, nargs="+", help="these d instead of the default ladder")
    ap.add_argument("--predictor-only", action="store_true",
                    help="only the predictor (the sizes where the rest cannot finish)")
    args = ap.parse_args()
    sizes = [500, 1000] if args.quick else [d for d in (1000, 3000, 10000, 30000, 100000) if d <= args.max_d]
    sizes = args.sizes or sizes
    threads = os.cpu_count()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in sizes:
            pdir, n, y = write_problem(tmp, d)
            src = ["--x", str(pdir / "X.npy"), "--y", str(pdir / "y.npy"), "--init", str(pdir / "U0.npy")]
            loss_tol = 1e-12 * float(y @ y)
            row = {"n": n, "d": d}
            r = measured([args.cli, "bias", *src, "--no-baselines", "--json"], args.budget)
            row["predictor"] = r and {"s": r[0], "peak_mb": r[1], "status": json.loads(r[2])["status"],
                                      "cg_iterations": json.loads(r[2])["cg_iterations"]}
            if args.predictor_only:
                rows.append(row | {c: "not run" for c in ("bias_all", "flow", "highs_bp", "lsoda_flow")})
                print(json.dumps(rows[-1]), flush=True)
                continue
            r = measured([args.cli, "bias", *src, "--json"], args.budget)
            row["bias_all"] = r and {"s": r[0], "peak_mb": r[1]}
            r = measured([args.cli, "train", *src, "--t-end", "1e7", "--loss-tol", repr(loss_tol),
                          "--summary-only", "--quiet", "--json", "--out", str(pdir / "run")], args.budget)
            row["flow"] = r and {"s": r[0], "peak_mb": r[1], "status": json.loads(r[2])["status"]}
            r = highs_basis_pursuit(pdir / "X.npy", pdir / "y.npy", args.budget)
            row["highs_bp"] = r and {"s": float(r[2]), "peak_mb": r[1]}
            r = lsoda_flow(pdir / "X.npy", pdir / "y.npy", args.budget, loss_tol) if d <= 10000 else None
            row["lsoda_flow"] = r and {"s": float(r[2]), "peak_mb": r[1]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    cols = ["predictor", "bias_all", "flow", "highs_bp", "lsoda_flow"]
    seconds = lambda v: v["s"] if isinstance(v, dict) else None
    fits = {c: slope([r["d"] for r in rows], [seconds(r[c]) for r in rows]) for c in cols}
    out = {"sizes": sizes, "threads": threads, "budget_s": args.budget, "rows": rows,
           "growth_exponents": fits, "quick": args.quick}
    name = "SCALING-quick" if args.quick else "SCALING-large" if args.predictor_only else "SCALING"
    (ROOT / "bench" / f"{name}.json").write_text(json.dumps(out, indent=2))
    cell = lambda v: ("budget" if v is None else v if isinstance(v, str)
                      else f"{v['s']:.3g} s, {v['peak_mb']:.0f} MB")
    lines = [
        "# Scaling with the problem size",
        "",
        f"Seeded sparse recovery (Gaussian X, n = d/10, {K}-sparse theta*), two layers from",
        f"u = sqrt(2) {SCALE}, v = 0; {threads} threads; budget {args.budget:.0f} s per cell",
        "(\"budget\": it did not finish). Wall time (the fastest of up to 3 runs for runs under",
        "2 s; the solvers' own time for SciPy) and peak memory (max RSS).",
        "`bench/.venv/bin/python bench/scaling.py" + (" --quick" if args.quick else "")
        + (f" --predictor-only --sizes {' '.join(map(str, sizes))} --budget {args.budget:.0f}"
           if args.predictor_only else "") + "`.",
        "",
        "| n x d | predictor | `ddln bias` (all baselines) | flow (`ddln train` to loss 1e-12 y.y) | HiGHS basis pursuit | SciPy LSODA flow |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['n']} x {r['d']} | " + " | ".join(cell(r[c]) for c in cols) + " |")
    fit = lambda v: "—" if v is None else f"{v:.2f}"
    lines += ["", "Growth exponent (time ~ d^p, least squares over the sizes that finished): "
              + ", ".join(f"{c} {fit(fits[c])}" for c in cols) + "."]
    (ROOT / "bench" / f"{name}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
