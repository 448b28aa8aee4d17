#!/usr/bin/env bash
# The main job: build ddln and reproduce the paper's figures into a folder (default
# ./paper) with a summary. Extra arguments go to `ddln reproduce` (e.g. --quick).
# DDLN_PROFILE=test reuses the binary that `cargo test` builds (CI); default release.
set -euo pipefail
cd "$(dirname "$0")/.."
out="paper"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then out="$1"; shift; fi
profile="${DDLN_PROFILE:-release}"
cargo build --profile "$profile" -q -p ddln-cli
case "$profile" in
  release) bin=target/release/ddln ;;
  dev|test) bin=target/debug/ddln ;;
  *) bin="target/$profile/ddln" ;;
esac
"$bin" reproduce --out "$out" "$@"
echo "figures and summary in $out/ (summary.txt, summary.json)"
