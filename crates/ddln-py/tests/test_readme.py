"""Every Python snippet of the READMEs runs: the blocks of each file are executed in
order in one namespace, and every Run they leave ended successfully (no divergence, no
exhausted budget)."""

import re
from pathlib import Path

import pytest

import ddln

ROOT = Path(__file__).resolve().parents[3]
READMES = [ROOT / "README.md", ROOT / "crates" / "ddln-py" / "README.md"]


def _blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize("path", READMES, ids=lambda p: str(p.relative_to(ROOT)))
def test_readme_python_snippets_run(path):
    blocks = _blocks(path)
    assert blocks, f"no python block in {path}"
    namespace = {}
    for code in blocks:
        exec(compile(code, str(path), "exec"), namespace)
    runs = [v for v in namespace.values() if isinstance(v, ddln.Run)]
    assert runs, "the snippets create runs"
    for run in runs:
        assert run.success, (run.status, run.message)


def test_quickstart_draws_the_reproduce_figure4(tmp_path):
    """examples/quickstart.py runs the same setup as `ddln reproduce`'s figure4 (its
    seeds and settings, compared with the CLI's own output when a binary is given) and
    larger inits converge faster there."""
    import importlib.util
    import json
    import os
    import subprocess

    spec = importlib.util.spec_from_file_location("quickstart", ROOT / "examples" / "quickstart.py")
    quickstart = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quickstart)
    runs = quickstart.figure4_runs(n_record=401)
    rates = [r.diagnostics["rate"]["measured_rate"] for r in runs]
    assert all(r.success for r in runs) and rates[0] < rates[1] < rates[2], rates
    binary = os.environ.get("DDLN_BIN")
    if binary:
        out = tmp_path / "paper"
        subprocess.run([binary, "reproduce", "--quick", "--quiet", "--only", "figure4", "--out", str(out)],
                       check=True, capture_output=True)
        summary = json.loads((out / "summary.json").read_text())
        details = summary["experiments"][0]["outcome"]["details"]
        assert (details["data_seed"], details["init_seed"]) == (quickstart.DATA_SEED, quickstart.INIT_SEED)
        # Same inits and data: the same sigma and L* bit for bit.
        for r, row in zip(runs, details["runs"]):
            assert r.diagnostics["rate"]["sigma"] == row["sigma"]
            assert r.diagnostics["rate"]["l_star"] == row["l_star"]
