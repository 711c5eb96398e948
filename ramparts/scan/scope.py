"""The enclosing def/class of a code finding: part of its id (see ``Finding.id``).

Without it, an accepted line copied into another function (an admin-only
helper's line pasted into a public handler) would carry the same id and be
covered by the old acceptance.  Identical lines in the same function still
share an id: the scope is the finest unit that survives unrelated edits.

A file's spans depend on its content only, so with a result cache
(``cache.py``) they are kept per content: a rescan whose findings all come
from the cache then needs no file's tree at all.
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


def assign(tree: SourceTree, findings: list[Finding], cache: ScanCache | None = None) -> None:
    """Set ``scope`` on every finding in a parsed Python file (gate findings excepted)."""
    spans: dict[str, list[tuple[int, int, str]] | None] = {}
    files = {sf.rel: sf for sf in tree.files}
    for f in findings:
        if f.family == "gate":
            continue
        if f.path not in spans:
            sf = files.get(f.path)
            spans[f.path] = _cached_spans(sf, cache) if sf is not None and sf.parses else None
        found = spans[f.path]
        if found is not None:  # a parsed Python file; other files keep no scope
            f.scope = _innermost(found, f.line)


@cache
def _version() -> str:
    major, minor = sys.version_info[:2]
    return f"python{major}.{minor}|" + source_digest(
        pyparse, "ramparts.scan.newer_syntax", sys.modules[__name__]
    )


def _cached_spans(sf: SourceFile, cache: ScanCache | None) -> list[tuple[int, int, str]]:
    name = digest_name("scope", _version(), sf.rel, sf.digest) if cache is not None else ""
    if cache is not None:
        hit = cache.get(name)
        if _spans_well_formed(hit):
            return [(first, last, qualname) for first, last, qualname in hit]
    assert sf.tree is not None
    found = _spans(sf.tree)
    if cache is not None:
        cache.put(name, found)
    return found


def _spans_well_formed(entry: Any) -> bool:
    return isinstance(entry, list) and all(
        isinstance(s, list)
        and len(s) == 3
        and isinstance(s[0], int)
        and isinstance(s[1], int)
        and isinstance(s[2], str)
        for s in entry
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
