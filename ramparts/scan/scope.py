"""The enclosing def/class of a code finding: part of its id (see ``Finding.id``).

Without it, an accepted line copied into another function (an admin-only
helper's line pasted into a public handler) would carry the same id and be
covered by the old acceptance.  Identical lines in the same function still
share an id: the scope is the finest unit that survives unrelated edits.
"""

from __future__ import annotations

import ast
from bisect import bisect_right

from ramparts.scan.findings import Finding
from ramparts.scan.source import SourceTree

MODULE = "<module>"
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def assign(tree: SourceTree, findings: list[Finding]) -> None:
    """Set ``scope`` on every finding in a parsed Python file (gate findings excepted)."""
    spans: dict[str, list[tuple[int, int, str]] | None] = {}
    for f in findings:
        if f.family == "gate":
            continue
        if f.path not in spans:
            sf = tree.get(f.path)
            spans[f.path] = _spans(sf.tree) if sf is not None and sf.tree is not None else None
        found = spans[f.path]
        if found is not None:  # a parsed Python file; other files keep no scope
            f.scope = _innermost(found, f.line)


def _spans(module: ast.Module) -> list[tuple[int, int, str]]:
    """(first line, last line, qualname) of every def/class, sorted by first line."""
    out: list[tuple[int, int, str]] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _SCOPES):
                name = f"{prefix}{child.name}"
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                out.append((first, child.end_lineno or child.lineno, name))
                walk(child, name + ".")
            else:
                walk(child, prefix)

    walk(module, "")
    out.sort()
    return out


def _innermost(spans: list[tuple[int, int, str]], line: int) -> str:
    best = MODULE
    for first, last, name in spans[: bisect_right(spans, (line, 1 << 30, ""))]:
        if first <= line <= last:
            best = name  # later starts inside an earlier span are nested deeper
    return best
