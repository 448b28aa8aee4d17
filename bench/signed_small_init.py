"""The signed power model u^L - v^L at small init: the small-init dynamics (z per
coordinate, plateaus skipped) against the ODE on (u, v), side by side, on a seeded
sparse-recovery problem (40 x 100, 5-sparse theta*, u = v = alpha), to 30 units of the
depth's time 1 / (L (L-2) alpha^(L-2)). The layers are held to 1e-12 alpha absolutely so
that both runs are accurate; the table gives each whole `ddln train --summary-only`
process (best of 3), its steps, and the largest difference of the two final thetas.

    python bench/signed_small_init.py --cli target/release/ddln [--quick]

writes bench/SIGNED-SMALL-INIT.md and .json (--quick: -quick suffix, two points)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

BUDGET_S = 60.0


def run(cli, power, alpha, dynamics):
    t_end = 30.0 / (power * (power - 2) * alpha ** (power - 2))
    best, summary = float("inf"), None
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "run")
            cmd = [cli, "train", "--preset", "power", "--power", str(power), "--alpha", repr(alpha),
                   "--n", "40", "--d", "100", "--k", "5", "--seed", "3", "--t-end", repr(t_end),
                   "--dynamics", dynamics, "--atol", repr(1e-12 * alpha), "--summary-only",
                   "--quiet", "--out", out]
            start = time.perf_counter()
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=BUDGET_S)
            except subprocess.TimeoutExpired:
                return None
            wall = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"{' '.join(cmd)}: {done.stderr[-400:]}")
            if wall < best:
                best, summary = wall, json.load(open(os.path.join(out, "summary.json")))
        if best > 5.0:
            break
    return {"wall_s": best, "steps": summary["stats"]["steps"], "theta": summary["final_theta"],
            "dynamics": summary["solver"]["dynamics"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    points = [(3, 1e-2), (4, 1e-3)] if args.quick else [
        (p, a) for a in (1e-1, 1e-2, 1e-3, 1e-5) for p in (3, 4)]
    rows = []
    for power, alpha in points:
        fast = run(args.cli, power, alpha, "small_init")
        plain = run(args.cli, power, alpha, "layers")
        diff = None
        if plain is not None:
            diff = float(np.max(np.abs(np.array(fast["theta"]) - np.array(plain["theta"]))))
        rows.append({"power": power, "alpha": alpha, "small_init": fast, "layers": plain,
                     "theta_difference": diff})
        layers = "> budget" if plain is None else "%.3f s" % plain["wall_s"]
        print(f"L={power} alpha={alpha:g}: small_init {fast['wall_s']:.3f} s, layers {layers}",
              file=sys.stderr)
    suffix = "-quick" if args.quick else ""
    here = os.path.dirname(os.path.abspath(__file__))
    for row in rows:
        for key in ("small_init", "layers"):
            if row[key] is not None:
                row[key].pop("theta")
    with open(os.path.join(here, f"SIGNED-SMALL-INIT{suffix}.json"), "w") as f:
        json.dump(rows, f, indent=1)
    lines = [
        "# u^L - v^L at small init: small-init dynamics against the ODE on (u, v)",
        "",
        "Written by `python bench/signed_small_init.py --cli target/release/ddln"
        + (" --quick" if args.quick else "") + "`. Seeded sparse recovery (40 x 100, 5-sparse theta*),",
        "u = v = alpha, t_end = 30 / (L (L-2) alpha^(L-2)), default rtol 1e-10, atol 1e-12 alpha.",
        "Wall time: the whole `ddln train --summary-only` process, best of 3.",
        "",
        "| L | alpha | small_init (s) | steps | layers (s) | steps | layers / small_init | largest theta difference |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        f, p = r["small_init"], r["layers"]
        plain = f"> {BUDGET_S:.0f} | |" if p is None else f"{p['wall_s']:.3f} | {p['steps']}"
        ratio = f"> {BUDGET_S / f['wall_s']:.1f}" if p is None else f"{p['wall_s'] / f['wall_s']:.2f}"
        diff = "" if r["theta_difference"] is None else f"{r['theta_difference']:.1e}"
        lines.append(f"| {r['power']} | {r['alpha']:g} | {f['wall_s']:.3f} | {f['steps']} | {plain} | {ratio} | {diff} |")
    with open(os.path.join(here, f"SIGNED-SMALL-INIT{suffix}.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
