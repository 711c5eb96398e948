"""The enclosing def/class of a code finding: part of its id (see ``Finding.id``).

Without it, an accepted line copied into another function (an admin-only
helper's line pasted into a public handler) would carry the same id and be
covered by the old acceptance.  Identical lines in the same function still
share an id: the scope is the finest unit that survives unrelated edits.

The text a code finding's id is taken from is its whole statement when that
statement is wrapped over several lines (``db.execute(\n "SELECT ..." + q\n)``):
keyed on the first line only, an accepted finding would stay accepted
whatever its arguments became.  A one-line statement keeps the line's text,
so ids of unchanged one-line code do not change.  The walks are iterative:
a file nested too deep for a recursive walk (RP-G004) must not crash here.
"""

from __future__ import annotations

import ast
from bisect import bisect_right

from ramparts.scan.findings import Finding
from ramparts.scan.source import SourceTree

MODULE = "<module>"
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_CODE_FAMILIES = ("sast", "taint", "logic")  # their fingerprint text starts with the line


def assign(tree: SourceTree, findings: list[Finding]) -> None:
    """Set ``scope`` on every finding in a parsed Python file (gate findings excepted).

    Code findings on a statement wrapped over several lines also have that
    statement's whole text put in place of the line in their fingerprint.
    """
    spans: dict[str, list[tuple[int, int, str]] | None] = {}
    statements: dict[str, dict[int, tuple[int, int]]] = {}
    for f in findings:
        if f.family == "gate":
            continue
        if f.path not in spans:
            sf = tree.get(f.path)
            parsed = sf.tree if sf is not None else None
            spans[f.path] = _spans(parsed) if parsed is not None else None
            statements[f.path] = _wrapped_statements(parsed) if parsed is not None else {}
        found = spans[f.path]
        if found is not None:  # a parsed Python file; other files keep no scope
            f.scope = _innermost(found, f.line)
            wrapped = statements[f.path].get(f.line)
            sf = tree.get(f.path)
            if wrapped is not None and sf is not None and f.family in _CODE_FAMILIES:
                _widen(f, sf.line(f.line), [sf.line(n) for n in range(wrapped[0], wrapped[1] + 1)])


def _widen(f: Finding, line: str, lines: list[str]) -> None:
    """Replace the flagged line in ``f``'s fingerprint text by its whole statement."""
    text = f.fingerprint_text
    if text == line or text.startswith(line + "\x1f"):
        f.fingerprint_text = "\n".join(lines) + text[len(line) :]


def _wrapped_statements(module: ast.Module) -> dict[int, tuple[int, int]]:
    """line -> (first, last) line of the innermost statement over several lines holding it.

    For a compound statement (``if``, ``with``, ``def`` ...) only its header
    counts: its body's statements are their own.
    """
    out: dict[int, tuple[int, int]] = {}
    stack: list[ast.AST] = [module]
    while stack:  # parents before children: an inner statement overwrites its parent's lines
        node = stack.pop()
        if isinstance(node, ast.stmt):
            first, last = node.lineno, node.end_lineno or node.lineno
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                last = max(first, body[0].lineno - 1)  # the header only
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    first = min([first, *(d.lineno for d in node.decorator_list)])
            if last > first:
                for n in range(first, last + 1):
                    out[n] = (first, last)
            else:
                for n in range(first, last + 1):
                    out.pop(n, None)  # a one-line statement inside a wrapped one is its own
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return out


def _spans(module: ast.Module) -> list[tuple[int, int, str]]:
    """(first line, last line, qualname) of every def/class, sorted by first line."""
    out: list[tuple[int, int, str]] = []
    stack: list[tuple[ast.AST, str]] = [(module, "")]
    while stack:  # iterative: a 1,500-term expression must not exhaust the stack
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _SCOPES):
                name = f"{prefix}{child.name}"
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                out.append((first, child.end_lineno or child.lineno, name))
                stack.append((child, name + "."))
            else:
                stack.append((child, prefix))
    out.sort()
    return out


def _innermost(spans: list[tuple[int, int, str]], line: int) -> str:
    best = MODULE
    for first, last, name in spans[: bisect_right(spans, (line, 1 << 30, ""))]:
        if first <= line <= last:
            best = name  # later starts inside an earlier span are nested deeper
    return best
