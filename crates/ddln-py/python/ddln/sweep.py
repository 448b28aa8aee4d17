"""Sweeps: a grid of runs from one config into a resumable folder, with one table.

``ddln.sweep(config, out=...)`` takes the same config as ``ddln sweep --config``: a run
spec plus a ``sweep`` table of axes, as a TOML file or as a dict with the same keys::

    table = ddln.sweep({
        "data": {"kind": "sparse", "n": 40, "d": 100, "k": 5, "seed": 0},
        "init": {"kind": "recipe", "depth": 2, "scale": 0.1, "seed": 1},
        "sweep": {"tasks": ["bias"], "init.scale": {"logspace": [-3, 1, 9]},
                  "init.depth": [2, 3]},
    }, out="atlas")
    table["init.scale"], table["dist_l1"], table["status"]

The result is the folder's table as a dict of numpy arrays (one per column; numbers
with NaN for empty cells, text as str arrays): ``pandas.DataFrame(table)`` makes a
data frame. The same table is in ``out/table.parquet`` and ``out/table.csv``.

Backends: ``"local"`` (default: all cores of this machine) and ``"ray"`` (a Ray cluster:
``address="auto"`` joins the running one, ``None`` starts a local one). Every row is
computed by the same Rust code, so both give the same table bit for bit (``wall_s``
aside, the one timing column). A rerun with the same config continues where the last
one stopped; a different config into the same folder is refused.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import tomllib
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from . import _ddln

__all__ = ["sweep"]

BACKENDS = ("local", "ray")


def _config_json(config: Mapping[str, Any] | str | os.PathLike[str]) -> tuple[str, str]:
    """The config as JSON text and the folder its relative paths are relative to."""
    if isinstance(config, Mapping):
        return json.dumps(config), os.getcwd()
    path = Path(config)
    try:
        text = path.read_text()
    except OSError as e:
        raise _ddln.DdlnError(f"cannot read the config {path}: {e}") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise _ddln.DdlnError(f"invalid config {path}: {e}") from None
    return json.dumps(table), str(path.resolve().parent)


def _arrays(table: dict[str, list]) -> dict[str, np.ndarray]:
    return {name: np.asarray(values) for name, values in table.items()}


def sweep(
    config: Mapping[str, Any] | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    backend: str = "local",
    address: str | None = None,
    threads: int | None = None,
    retry_failed: bool = False,
    batch_size: int | None = None,
    progress: bool = False,
) -> dict[str, np.ndarray]:
    """Runs (or resumes) the sweep of ``config`` into the folder ``out``; returns its table.

    ``threads``: local worker threads (default all cores). ``batch_size``: jobs per Ray
    task (default: about eight batches per worker). ``retry_failed``: compute again the
    committed rows that did not succeed. ``progress``: print the rows done and an ETA on
    stderr. The summary of the run is in ``out/summary.json``.
    """
    if backend not in BACKENDS:
        raise _ddln.DdlnError(
            f"invalid value for `backend`: {backend!r}; expected one of {', '.join(BACKENDS)}"
        )
    if threads is not None and threads < 1:
        raise _ddln.DdlnError(f"invalid value for `threads`: {threads}; need at least 1")
    text, base = _config_json(config)
    out = os.fspath(out)
    if backend == "local":
        if address is not None:
            raise _ddln.DdlnError("invalid value for `address`: it is for backend='ray'")
        _, table = _ddln._sweep_local(text, base, out, threads or 0, retry_failed, progress)
        return _arrays(table)
    return _arrays(_run_ray(text, base, out, address, retry_failed, batch_size, progress))


def _evaluate_batch(config_json: str, base_dir: str, out: str, jobs: list[int]) -> list[str]:
    return _ddln._sweep_evaluate(config_json, base_dir, out, jobs)


def _run_ray(
    text: str,
    base: str,
    out: str,
    address: str | None,
    retry_failed: bool,
    batch_size: int | None,
    progress: bool,
) -> dict[str, list]:
    try:
        import ray
    except ImportError:
        raise _ddln.DdlnError(
            "backend='ray' needs the package `ray` (pip install ray); or use backend='local'"
        ) from None
    start = time.monotonic()
    session = _ddln.SweepSession(text, base, out, retry_failed)
    pending = session.pending()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    stopped = False
    try:
        workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        size = batch_size or max(1, math.ceil(len(pending) / (8 * workers)))
        remote = ray.remote(num_cpus=1)(_evaluate_batch)
        refs = [
            remote.remote(text, base, out, pending[k : k + size])
            for k in range(0, len(pending), size)
        ]
        done, last = 0, time.monotonic()
        try:
            while refs:
                ready, refs = ray.wait(refs, num_returns=1)
                for lines in ray.get(ready):
                    session.commit(lines)
                    done += len(lines)
                if progress and (time.monotonic() - last >= 1.0 or not refs):
                    last = time.monotonic()
                    rate = done / max(last - start, 1e-9)
                    print(
                        f"ddln.sweep: {done}/{len(pending)} rows, ETA {(len(pending) - done) / rate:.0f} s",
                        file=sys.stderr,
                    )
        except KeyboardInterrupt:
            stopped = True
            for ref in refs:
                ray.cancel(ref)
            session.finish("ray", workers, time.monotonic() - start, True)
            raise
        session.finish("ray", workers, time.monotonic() - start, stopped)
        return session.table()
    finally:
        if started_here:
            ray.shutdown()
