#!/usr/bin/env bash
# The main job: build ddln and reproduce the paper's figures into a folder (default
# ./paper) with a summary. Extra arguments go to `ddln reproduce` (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
out="paper"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then out="$1"; shift; fi
cargo build --release -q -p ddln-cli
./target/release/ddln reproduce --out "$out" "$@"
echo "figures and summary in $out/ (summary.txt, summary.json)"
