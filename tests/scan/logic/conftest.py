"""Shared by the logic-check tests: scan one source file, read what it expects.

A case is a Python source; each line that must be reported ends with a
``# L00N`` comment (the rule id without ``RP-``), every other line must
stay clean.  The scan
is the real one the gate runs (``ramparts.scan.logic.run`` over a tree read
by ``load_tree``), so a missing finding and a false positive both fail.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from ramparts.scan import logic
from ramparts.scan.findings import Finding
from ramparts.scan.source import load_tree

_EXPECT = re.compile(r"#\s*(L\d{3})\b")

Scan = Callable[[str], tuple[set[tuple[str, int]], set[tuple[str, int]], list[Finding]]]


def expected(source: str) -> set[tuple[str, int]]:
    return {(f"RP-{m.group(1)}", n) for n, line in enumerate(source.splitlines(), start=1)
            for m in _EXPECT.finditer(line)}


@pytest.fixture
def scan(tmp_path: Path) -> Scan:
    """``scan(code)`` -> (found (rule, line) pairs, expected pairs, the findings)."""
    def run(code: str) -> tuple[set[tuple[str, int]], set[tuple[str, int]], list[Finding]]:
        source = textwrap.dedent(code).lstrip("\n")
        (tmp_path / "app.py").write_text(source)
        findings = logic.run(load_tree(tmp_path))
        return {(f.rule_id, f.line) for f in findings}, expected(source), findings
    return run
