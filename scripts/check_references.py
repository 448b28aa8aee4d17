#!/usr/bin/env python3
"""Check that the repository's references to its own files point at files that exist.

Scans the text files of the repository (extensions .rs .py .pyi .md .toml .sh) for

(a) Markdown links whose target is not a URL (http, https, mailto) nor an in-page
    anchor; the target is resolved relative to the folder of the file that contains the
    link, after dropping any anchor (the part from the first hash sign);
(b) bare mentions of a Markdown file: a path-like token that ends in the extension
    ".md"; it is resolved relative to the folder of the file, then relative to the
    repository root, and it resolves if either exists. In a layout listing, a line that
    starts with a folder name (`docs/   what the folder holds`), the token may also be
    relative to that folder.

Every reference that does not resolve is printed as `path:line: missing reference to X`,
followed by one line `N passed, M failed`. The exit status is 1 when M > 0.

Skipped folders: .git, target, .venv, bench/.venv, node_modules, __pycache__ and any
folder that holds a pyvenv.cfg (a Python virtual environment). Python 3.11 standard
library only; run it from anywhere: `python3 scripts/check_references.py`.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EXTENSIONS = {".rs", ".py", ".pyi", ".md", ".toml", ".sh"}
SKIP_NAMES = {".git", "target", ".venv", "node_modules", "__pycache__"}
SKIP_PATHS = {Path("bench") / ".venv"}

# [text](target "optional title"); the text may hold nested brackets one level deep.
LINK = re.compile(r"\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s<>]+)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
# A path-like token ending in the Markdown extension.
BARE_MD = re.compile(r"[A-Za-z0-9_./-]+\.md\b")
# URLs (their path part is not a repository path).
URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s)\]>\"'`]*|\bmailto:[^\s)\]>\"'`]*|\bwww\.[^\s)\]>\"'`]*")
EXTERNAL = ("http://", "https://", "mailto:", "ftp://", "file://")


def skipped_dir(path: Path) -> bool:
    """Whether the folder `path` (absolute) is left out of the walk."""
    if path.name in SKIP_NAMES:
        return True
    rel = path.relative_to(ROOT)
    if rel in SKIP_PATHS:
        return True
    return (path / "pyvenv.cfg").is_file()


def text_files():
    """The files to scan, in a stable order."""
    for folder, dirs, files in os.walk(ROOT):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not skipped_dir(here / d))
        for name in sorted(files):
            path = here / name
            if path.suffix in EXTENSIONS and path.is_file():
                yield path


def looks_like_file(target: str, markdown: bool) -> bool:
    """Whether a link target names a repository file (not a URL, anchor or code path)."""
    if target.startswith("#") or target.lower().startswith(EXTERNAL):
        return False
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target) and "://" in target:
        return False
    if markdown:
        return True
    # Outside Markdown, `[a](b)` is often code (an index then a call) or a rustdoc
    # intra-doc link (`crate::module::Item`): only path-looking targets count.
    if "::" in target:
        return False
    return "/" in target or bool(re.search(r"\.[A-Za-z0-9]+$", target))


def resolves(base: Path, target: str, root_too: bool) -> bool:
    """Whether `target` names an existing file or folder from `base` (or the root)."""
    if target.startswith("/"):
        candidates = [ROOT / target.lstrip("/")]
    else:
        candidates = [base / target]
        if root_too:
            candidates.append(ROOT / target)
    return any(c.exists() for c in candidates)


LISTED_FOLDER = re.compile(r"^\s*([A-Za-z0-9_.-][A-Za-z0-9_./-]*/)\s")


def listed_folder(line: str) -> Path | None:
    """The folder a layout-listing line starts with (`docs/   ...`), if it exists."""
    m = LISTED_FOLDER.match(line)
    if not m:
        return None
    folder = ROOT / m.group(1)
    return folder if folder.is_dir() else None


def check_file(path: Path, failures: list[str]) -> int:
    """Checks one file; appends its failures and returns how many references resolved."""
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return 0
    rel = path.relative_to(ROOT).as_posix()
    base = path.parent
    markdown = path.suffix == ".md"
    passed = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        covered: list[tuple[int, int]] = []
        for m in URL.finditer(line):
            covered.append(m.span())
        for m in LINK.finditer(line):
            raw = m.group(1)
            covered.append(m.span(1))
            if not looks_like_file(raw, markdown):
                continue
            target = raw.split("#", 1)[0]
            if not target:
                continue
            if resolves(base, target, root_too=False):
                passed += 1
            else:
                failures.append(f"{rel}:{lineno}: missing reference to {target}")
        for m in BARE_MD.finditer(line):
            start, end = m.span()
            if any(a <= start < b or a < end <= b for a, b in covered):
                continue
            token = m.group(0)
            # A token glued to a URL scheme or a word ("foo://x.md", "a:b.md") is not a path.
            if start > 0 and line[start - 1] in ":@\\":
                continue
            folder = listed_folder(line)
            if resolves(base, token, root_too=True) or (
                folder is not None and resolves(folder, token, root_too=False)
            ):
                passed += 1
            else:
                failures.append(f"{rel}:{lineno}: missing reference to {token}")
    return passed


def main() -> int:
    failures: list[str] = []
    passed = 0
    for path in text_files():
        passed += check_file(path, failures)
    for line in failures:
        print(line)
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
