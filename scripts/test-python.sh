#!/usr/bin/env bash
# Builds the Python package `ddln` (crates/ddln-py) into a virtual environment and runs
# its pytest suite. Needs only python3 (>= 3.11) with venv/pip, a Rust toolchain, and
# network access to PyPI and crates.io; installs nothing outside ./.venv.
#
#   scripts/test-python.sh            # build (release) + pytest
#   PYTHON=python3.12 scripts/test-python.sh
#   scripts/test-python.sh -k flow    # extra arguments go to pytest
#
# The CLI binary is built too (debug, target/debug/ddln; override with DDLN_BIN): the
# tests compare Python runs with the CLI's bit for bit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
venv="$root/.venv"

if [ ! -x "$venv/bin/python" ]; then
    echo "==> creating $venv"
    "$python" -m venv "$venv"
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"

# scipy: HiGHS, the independent LP of the baseline tests; pyarrow: reads the sweep's
# Parquet table; ray: the sweep's cluster backend (its test starts a local cluster).
echo "==> installing the build and test tools (maturin, pytest, numpy, scipy, pyarrow, ray)"
python -m pip install --quiet --disable-pip-version-check --upgrade pip
python -m pip install --quiet --disable-pip-version-check maturin pytest numpy scipy pyarrow ray

# The dev profile (core crate at opt-level 2, dependencies at 3: see Cargo.toml) shares
# its compiled dependencies with `cargo test`; a release wheel is `maturin build --release`.
echo "==> building and installing ddln"
maturin develop -m crates/ddln-py/Cargo.toml

# The CLI binary exactly as `cargo test --workspace` builds it (same profile and
# features, so after `cargo test` this is a no-op).
echo "==> building the CLI (target/debug/ddln) for the CLI-identity tests"
cargo test --workspace --no-run -q
export DDLN_BIN="${DDLN_BIN:-$root/target/debug/ddln}"

echo "==> pytest"
python -m pytest crates/ddln-py/tests -q "$@"
