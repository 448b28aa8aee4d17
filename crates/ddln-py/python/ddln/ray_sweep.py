"""``python -m ddln.ray_sweep``: the Ray backend of ``ddln sweep --backend ray``.

The CLI hands its options here (``--config``, ``--out``, ``--address``,
``--retry-failed``, ``--json``); exit codes as the CLI's: 0 done, 1 bad input, 130
stopped (Ctrl-C; rerun to continue).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import _ddln
from .sweep import sweep


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ddln sweep --backend ray")
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--address", default=None)
    parser.add_argument("--retry-failed", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        sweep(args.config, args.out, backend="ray", address=args.address, retry_failed=args.retry_failed)
    except KeyboardInterrupt:
        print("stopped: rerun the same command to continue", file=sys.stderr)
        return 130
    except _ddln.DdlnError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    summary = json.loads((Path(args.out) / "summary.json").read_text())
    if args.json:
        print(json.dumps(summary, indent=2))
    print(
        f"{args.out}: {summary['rows_committed']} of {summary['rows_total']} rows committed "
        f"({summary['computed']} computed now, {summary['resumed']} resumed) in "
        f"{summary['run']['wall_s']:.2f} s on {summary['run']['workers']} ray worker(s); table.csv, table.parquet",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
