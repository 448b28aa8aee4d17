#!/usr/bin/env bash
# Every check of the project: format, lints, Rust tests, Python tests, and the main job
# on its smallest setting. Installs what it needs (a Python venv in .venv).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace
if [ -f scripts/test-python.sh ]; then
  echo "== python tests"
  bash scripts/test-python.sh
fi
if [ -f crates/ddln-cli/src/main.rs ] && grep -q reproduce crates/ddln-cli/src/main.rs; then
  echo "== ddln reproduce --quick"
  out=$(mktemp -d)
  bash scripts/reproduce.sh "$out" --quick --quiet
  test -s "$out/summary.json"
fi
