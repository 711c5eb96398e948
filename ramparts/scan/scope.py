"""The enclosing def/class of a code finding: part of its id (see ``Finding.id``).

Without it, an accepted line copied into another function (an admin-only
helper's line pasted into a public handler) would carry the same id and be
covered by the old acceptance.  Identical lines in the same function still
share an id: the scope is the finest unit that survives unrelated edits.

The text a code finding's id is taken from is its whole statement when that
statement is wrapped over several lines (``db.execute(\n "SELECT ..." + q\n)``):
keyed on the first line only, an accepted finding would stay accepted
whatever its arguments became.  A one-line statement keeps the line's text,
so ids of unchanged one-line code do not change.

A file's spans and wrapped statements depend on its content only, so with a
result cache (``cache.py``) they are kept per content: a rescan whose findings
all come from the cache then needs no file's tree at all.  The span walk
follows statement lists only and the statement walk is iterative: a file nested
too deep for a recursive walk (RP-G004) must not crash here.
"""

from __future__ import annotations

import ast
import sys
from bisect import bisect_right
from functools import cache
from typing import Any

from ramparts.scan import pyparse
from ramparts.scan.cache import ScanCache, digest_name, source_digest
from ramparts.scan.findings import Finding
from ramparts.scan.source import SourceFile, SourceTree

MODULE = "<module>"
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_BLOCKS = ("body", "orelse", "finalbody")  # the statement lists of compound statements
_CODE_FAMILIES = ("sast", "taint", "logic")  # their fingerprint text starts with the line

Layout = tuple[list[tuple[int, int, str]], dict[int, tuple[int, int]]]


def assign(tree: SourceTree, findings: list[Finding], cache: ScanCache | None = None) -> None:
    """Set ``scope`` on every finding in a parsed Python file (gate findings excepted).

    Code findings on a statement wrapped over several lines also have that
    statement's whole text put in place of the line in their fingerprint.
    """
    layouts: dict[str, Layout | None] = {}
    files = {sf.rel: sf for sf in tree.files}
    for f in findings:
        if f.family == "gate":
            continue
        sf = files.get(f.path)
        if f.path not in layouts:
            layouts[f.path] = _cached_layout(sf, cache) if sf is not None and sf.parses else None
        layout = layouts[f.path]
        if layout is None or sf is None:  # a parsed Python file; other files keep no scope
            continue
        spans, wrapped_lines = layout
        f.scope = _innermost(spans, f.line)
        wrapped = wrapped_lines.get(f.line)
        if wrapped is not None and f.family in _CODE_FAMILIES:
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


@cache
def _version() -> str:
    major, minor = sys.version_info[:2]
    return f"python{major}.{minor}|" + source_digest(
        pyparse, "ramparts.scan.newer_syntax", sys.modules[__name__]
    )


def _cached_layout(sf: SourceFile, cache: ScanCache | None) -> Layout:
    name = digest_name("scope", _version(), sf.rel, sf.digest) if cache is not None else ""
    if cache is not None:
        hit = cache.get(name)
        if isinstance(hit, dict) and _spans_well_formed(hit.get("spans")) and _ints_well_formed(
            hit.get("wrapped")
        ):
            spans = [(first, last, qualname) for first, last, qualname in hit["spans"]]
            wrapped = {int(line): (first, last) for line, first, last in hit["wrapped"]}
            return spans, wrapped
    assert sf.tree is not None
    spans = _spans(sf.tree)
    wrapped = _wrapped_statements(sf.tree)
    if cache is not None:
        rows = [[line, first, last] for line, (first, last) in sorted(wrapped.items())]
        cache.put(name, {"spans": spans, "wrapped": rows})
    return spans, wrapped


def _spans_well_formed(entry: Any) -> bool:
    return isinstance(entry, list) and all(
        isinstance(s, list)
        and len(s) == 3
        and isinstance(s[0], int)
        and isinstance(s[1], int)
        and isinstance(s[2], str)
        for s in entry
    )


def _ints_well_formed(entry: Any) -> bool:
    return isinstance(entry, list) and all(
        isinstance(s, list) and len(s) == 3 and all(type(n) is int for n in s) for s in entry
    )


def _spans(module: ast.Module) -> list[tuple[int, int, str]]:
    """(first line, last line, qualname) of every def/class, sorted by first line."""
    out: list[tuple[int, int, str]] = []

    # a def or class is a statement, so only statement lists can hold one: expressions
    # (most of a tree's nodes) are never walked
    def walk(stmts: list[ast.stmt], prefix: str) -> None:
        for child in stmts:
            if isinstance(child, _SCOPES):
                name = f"{prefix}{child.name}"
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                out.append((first, child.end_lineno or child.lineno, name))
                walk(child.body, name + ".")
                continue
            for block in _BLOCKS:
                inner = getattr(child, block, None)
                if isinstance(inner, list):
                    walk(inner, prefix)
            for part in (*getattr(child, "handlers", ()), *getattr(child, "cases", ())):
                walk(part.body, prefix)

    walk(module.body, "")
    out.sort()
    return out


def _innermost(spans: list[tuple[int, int, str]], line: int) -> str:
    best = MODULE
    for first, last, name in spans[: bisect_right(spans, (line, 1 << 30, ""))]:
        if first <= line <= last:
            best = name  # later starts inside an earlier span are nested deeper
    return best
