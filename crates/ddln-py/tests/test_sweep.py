"""ddln.sweep: the table's measures against independent computations (numpy, SciPy's
HiGHS), the same table from a dict, a TOML file, the CLI, and a local Ray cluster (bit
for bit, the timing column aside), and bad configs refused with the setting named."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy.optimize import linprog

import ddln

DDLN_BIN = os.environ.get("DDLN_BIN", "target/debug/ddln")

N, D, K = 15, 30, 2


def config(tasks=("bias",), **sweep):
    axes = {"init.scale": [0.05, 0.5], "init.depth": [2, 3]}
    axes.update(sweep)
    return {
        "data": {"kind": "sparse", "n": N, "d": D, "k": K, "seed": 3},
        "init": {"kind": "recipe", "depth": 2, "scale": 0.1, "zero_first": True,
                 "shape": {"kind": "constant"}, "seed": 1},
        "train": {"method": "flow", "t_end": 2.5e5, "rtol": 1e-10, "atol": 1e-13, "n_record": 25001,
                  "loss_tol": 1e-24},
        "sweep": {"tasks": list(tasks), **axes},
    }


def without_wall(table):
    return {k: v for k, v in table.items() if k != "wall_s"}


def assert_tables_equal(a, b):
    a, b = without_wall(a), without_wall(b)
    assert list(a) == list(b)
    for name in a:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if x.dtype.kind == "f":
            # Bit for bit: same bytes, NaN where either is empty.
            assert x.tobytes() == y.astype(np.float64).tobytes(), name
        else:
            assert list(x) == list(y), name


def min_l1_highs(X, y):
    """Basis pursuit min ||theta||_1 s.t. X theta = y as an LP in (theta+, theta-), by HiGHS."""
    n, d = X.shape
    res = linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None), method="highs")
    assert res.status == 0
    return res.x[:d] - res.x[d:]


def test_bias_measures_against_numpy_and_highs(tmp_path):
    table = ddln.sweep(config(), out=tmp_path / "s")
    X, y, theta_star = ddln.data.sparse_recovery(N, D, K, seed=3, return_theta=True)
    l2 = np.linalg.pinv(X) @ y  # minimum-norm interpolator, independent of the core's SVD
    l1 = min_l1_highs(X, y)
    assert len(table["id"]) == 4
    for i in range(4):
        scale, depth = table["init.scale"][i], table["init.depth"][i]
        U0 = ddln.init.scaled(depth=int(depth), d=D, scale=float(scale), zero_first=True,
                              shape="constant", seed=1)
        theta = ddln.implicit_bias(X, y, U0).theta
        assert table["status"][i] == "Converged"
        assert table["final_loss"][i] == pytest.approx(np.sum((X @ theta - y) ** 2), abs=1e-20)
        assert table["dist_l2"][i] == pytest.approx(np.linalg.norm(theta - l2), rel=1e-9)
        assert table["dist_theta_star"][i] == pytest.approx(np.linalg.norm(theta - theta_star), rel=1e-12)
        # HiGHS solves to ~1e-9; the distance is compared to that absolute accuracy.
        assert abs(table["dist_l1"][i] - np.linalg.norm(theta - l1)) < 1e-7
        assert table["nnz"][i] == np.sum(np.abs(theta) > 1e-6 * np.abs(theta).max())
        # A Gaussian test design: E[test_error] = ||theta - theta*||^2 (closed form); with
        # 1000 samples the mean is within a few percent.
        expected = np.sum((theta - theta_star) ** 2)
        assert table["test_error"][i] == pytest.approx(expected, rel=0.25)
        assert np.isnan(table["grad_evals"][i]) and np.isnan(table["t_loss"][i])


def test_flow_measures_against_the_run_and_its_trajectory(tmp_path):
    cfg = config(tasks=("flow",))
    cfg["sweep"]["trajectories"] = [{"init.depth": 3}]
    table = ddln.sweep(cfg, out=tmp_path / "s")
    X, y = ddln.data.sparse_recovery(N, D, K, seed=3)
    for i in range(4):
        scale, depth = float(table["init.scale"][i]), int(table["init.depth"][i])
        U0 = ddln.init.scaled(depth=depth, d=D, scale=scale, zero_first=True, shape="constant", seed=1)
        run = ddln.gradient_flow(X, y, U0, t_end=2.5e5, rtol=1e-10, atol=1e-13, loss_tol=1e-24, n_record=25001)
        assert table["status"][i] == run.status
        # The residual near 1e-12 is known to roundoff (1e-15 of ||X|| ||theta||).
        residual = np.linalg.norm(X @ run.final_theta - y)
        assert np.sqrt(table["final_loss"][i]) == pytest.approx(residual, rel=1e-6, abs=1e-14)
        assert table["grad_evals"][i] == run.stats["grad_evals"]
        predicted = ddln.implicit_bias(X, y, U0).theta
        rel = np.linalg.norm(run.final_theta - predicted) / np.linalg.norm(predicted)
        assert table["rel_dist_predicted"][i] == pytest.approx(rel, rel=1e-9, abs=1e-15)
        assert table["rel_dist_predicted"][i] < 1e-6  # the flow ends where the predictor says
        path = tmp_path / "s" / "trajectories" / f"{table['id'][i]}.csv"
        assert path.exists() == (depth == 3)
        if depth == 3:
            rows = list(csv.DictReader(open(path)))
            np.testing.assert_array_equal([float(r["t"]) for r in rows], run.t)
            np.testing.assert_array_equal([float(r["loss"]) for r in rows], run.loss)
        # t_loss is the first accepted step with the loss at most 1e-6 of the initial loss:
        # a separate run's dense output is at the level there and above it at 0.9 t_loss.
        level = 1e-6 * run.loss[0]
        t_hit = table["t_loss"][i]
        dense = ddln.gradient_flow(X, y, U0, t_end=t_hit, rtol=1e-10, atol=1e-13,
                                   t_eval=np.array([0.0, 0.9 * t_hit, t_hit]))
        assert dense.loss[1] > level >= dense.loss[2] * (1 - 1e-6)


def test_dict_toml_cli_and_parquet_agree(tmp_path):
    cfg = config(tasks=("bias", "flow"), seeds=2)
    cfg["sweep"]["sample"] = {"flow": 0.5}
    from_dict = ddln.sweep(cfg, out=tmp_path / "dict")
    toml_path = tmp_path / "sweep.toml"
    toml_path.write_text(to_toml(cfg))
    from_toml = ddln.sweep(toml_path, out=tmp_path / "toml", threads=1)
    assert_tables_equal(from_dict, from_toml)
    subprocess.run([DDLN_BIN, "sweep", "--config", str(toml_path), "--out", str(tmp_path / "cli"), "--quiet"],
                   check=True)
    parquet = pq.read_table(tmp_path / "cli" / "table.parquet").to_pydict()
    assert_tables_equal(from_dict, {k: np.array([np.nan if v is None else v for v in col])
                                    for k, col in parquet.items()})
    # Resuming the folder from Python computes nothing and returns the same table.
    again = ddln.sweep(toml_path, out=tmp_path / "cli")
    assert_tables_equal(from_dict, again)
    assert json.loads((tmp_path / "cli" / "summary.json").read_text())["computed"] == 0


def test_ray_cluster_gives_the_local_table(tmp_path):
    import ray

    cfg = config(tasks=("bias", "flow"), seeds=3)
    local = ddln.sweep(cfg, out=tmp_path / "local")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = ddln.sweep(cfg, out=tmp_path / "ray", backend="ray", batch_size=3)
    finally:
        ray.shutdown()
    assert_tables_equal(local, on_ray)
    summary = json.loads((tmp_path / "ray" / "summary.json").read_text())
    assert summary["run"]["backend"] == "ray" and summary["complete"]
    # The CLI's `--backend ray` runs the same driver (here on a local cluster it starts).
    toml_path = tmp_path / "sweep.toml"
    toml_path.write_text(to_toml(cfg))
    env = dict(os.environ, DDLN_PYTHON=sys.executable)
    subprocess.run([DDLN_BIN, "sweep", "--config", str(toml_path), "--out", str(tmp_path / "cli-ray"),
                    "--backend", "ray"], check=True, env=env)
    cli = pq.read_table(tmp_path / "cli-ray" / "table.parquet").to_pydict()
    assert_tables_equal(local, {k: np.array([np.nan if v is None else v for v in col]) for k, col in cli.items()})


def test_bad_configs(tmp_path):
    cfg = config()
    cfg["sweep"]["init.sclae"] = [0.1]
    with pytest.raises(ddln.DdlnError, match="sclae"):
        ddln.sweep(cfg, out=tmp_path / "a")
    assert not (tmp_path / "a").exists()
    with pytest.raises(ddln.DdlnError, match="backend"):
        ddln.sweep(config(), out=tmp_path / "b", backend="spark")
    cfg = config()
    cfg["sweep"]["init.scale"] = [0.1, -0.1]
    with pytest.raises(ddln.DdlnError, match="point 2"):
        ddln.sweep(cfg, out=tmp_path / "c")
    ddln.sweep(config(), out=tmp_path / "d")
    with pytest.raises(ddln.DdlnError, match="different config"):
        ddln.sweep(config(**{"init.depth": [2, 4]}), out=tmp_path / "d")


def to_toml(cfg):
    """A minimal TOML writer for these configs (tables of scalars, lists and inline tables)."""

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{ " + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + " }"

    lines = []
    for section, body in cfg.items():
        lines.append(f"[{section}]")
        lines.extend(f"{json.dumps(k)} = {value(v)}" for k, v in body.items())
    return "\n".join(lines) + "\n"
