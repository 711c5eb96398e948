"""Scan small apps written into a temporary directory with the real taint engine."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from ramparts.scan import taint
from ramparts.scan.findings import Finding
from ramparts.scan.source import load_tree

Scan = Callable[..., set[tuple[str, int]]]


def scan_files(root: Path, files: dict[str, str],
               handlers: dict[str, set[str]] | None = None) -> list[Finding]:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return taint.run(load_tree(root), handlers)


@pytest.fixture
def scan(tmp_path: Path) -> Scan:
    """``scan(code)`` -> {(rule id, line)} for one file ``app.py`` (lines count from 1)."""

    def run(code: str, handlers: dict[str, set[str]] | None = None,
            **extra: str) -> set[tuple[str, int]]:
        files = {"app.py": code, **{k.replace("__", "/") + ".py": v for k, v in extra.items()}}
        return {(f.rule_id, f.line) for f in scan_files(tmp_path, files, handlers)}

    return run
