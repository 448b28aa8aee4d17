#!/usr/bin/env bash
# Every check of the project: format, lints, Rust tests, Python tests, the benchmark
# harness and the main job on their smallest settings. Installs what it needs (.venv,
# bench/.venv).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== references to repository files resolve"
python3 scripts/check_references.py
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace
echo "== python tests"
bash scripts/test-python.sh
echo "== benchmark harness on its smallest sizes (keeps every path working; no timing claims)"
BENCH_BIN=./target/debug/examples/bench_flow BENCH_CLI=./target/debug/ddln bash bench/run --quick
echo "== main job: ddln reproduce --quick (the binary cargo test built)"
out=$(mktemp -d)
./target/debug/ddln reproduce --quick --quiet --out "$out"
grep -q '"all_claims_hold": true' "$out/summary.json"
echo "all checks passed"
