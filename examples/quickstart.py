"""Quick start: the paper's Figure 4 through the Python API.

Three 6-layer networks (L = 6) on L(theta) = ||X theta - y||^2 with X (10 x 8) and y
Gaussian (seeded). Each starts with a zero first layer; the other layers are random
(blue), then 1.4x and 1.8x those values (orange, green). Theorem 2 bounds the gap by
exp(-2 sigma mu t) (L(theta(0)) - L*), with sigma = min_i prod_{k != 1} u_i^k(0)^2 here:
larger inits have a larger sigma and converge faster.

    python examples/quickstart.py [OUT_DIR]      # writes OUT_DIR/fig4.png (default: .)

matplotlib is optional: without it the script prints log(L - L*) as a table instead.
"""

import argparse
import pathlib

import numpy as np

import ddln

FACTORS = (1.0, 1.4, 1.8)
COLORS = ("tab:blue", "tab:orange", "tab:green")


# The seeds, horizon and tolerances of `ddln reproduce`'s figure4 (the same runs).
DATA_SEED, INIT_SEED = 3, 4


def figure4_runs(t_end: float = 100.0, n_record: int = 2001):
    X, y = ddln.data.gaussian(10, 8, seed=DATA_SEED)
    U0 = ddln.init.scaled(depth=6, d=8, scale=1.0, zero_first=True, seed=INIT_SEED)
    runs = []
    for factor in FACTORS:
        run = ddln.gradient_flow(X, y, factor * U0, t_end=t_end, n_record=n_record, rtol=1e-11, atol=1e-14)
        assert run.success, run.message
        runs.append(run)
    return runs


def log_gap(run) -> np.ndarray:
    """log(L(theta(t)) - L*), NaN once the gap is at rounding level (<= 1e-13 L(theta(0)))."""
    rate = run.diagnostics["rate"]
    gap = run.loss - rate["l_star"]
    floor = 1e-13 * run.loss[0]
    return np.where(gap > floor, np.log(np.maximum(gap, floor)), np.nan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default=".", help="folder for fig4.png (created if missing)")
    args = parser.parse_args()
    out = pathlib.Path(args.out)

    runs = figure4_runs()
    for factor, run in zip(FACTORS, runs):
        rate = run.diagnostics["rate"]
        print(
            f"x{factor}: sigma = {rate['sigma']:.3e}, mu = {rate['mu']:.3e}, "
            f"guaranteed rate 2 sigma mu = {rate['rate']:.3e}, measured late rate = "
            f"{rate['measured_rate'] if rate['measured_rate'] is not None else float('nan'):.3e}, "
            f"bound holds: {rate['holds']}, {run.stats['steps']} steps"
        )
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\nmatplotlib is not installed; log(L - L*) at a few times:")
        print(f"{'t':>8}" + "".join(f"{'x' + str(f):>12}" for f in FACTORS))
        t = runs[0].t
        for k in range(0, len(t), len(t) // 16):
            print(f"{t[k]:8.2f}" + "".join(f"{log_gap(r)[k]:12.4f}" for r in runs))
        return

    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for factor, color, run in zip(FACTORS, COLORS, runs):
        label = "random layers" if factor == 1.0 else f"{factor} x random layers"
        ax.plot(run.t, log_gap(run), color=color, label=label)
    ax.set_xlabel("t")
    ax.set_ylabel(r"$\log(\mathcal{L}(\theta(t)) - \mathcal{L}^*)$")
    ax.set_title("Figure 4: L = 6, X 10 x 8, first layer zero at init")
    ax.legend()
    fig.tight_layout()
    path = out / "fig4.png"
    fig.savefig(path, dpi=150)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
